"""`embedkit train --model skipgram|cbow|fasttext|glove ...`: flags come from the config dataclasses."""
from __future__ import annotations

import argparse
import dataclasses

from embedkit.cli.options import add_config_options
from embedkit.config import CorpusConfig, FastTextConfig, GloVeConfig, Word2VecConfig

_MODEL_CONFIGS = [("word2vec options (--model skipgram|cbow; fasttext shares them)", Word2VecConfig),
                  ("fastText subword options (--model fasttext)", FastTextConfig),
                  ("GloVe options (--model glove)", GloVeConfig)]


def register(sub):
    p = sub.add_parser(
        "train", help="train a model and save vectors.txt + the native model folder",
        description="Train word embeddings. Defaults follow each model's reference tool (word2vec C, fastText, "
                    "Stanford GloVe); a flag shows its default per model family in its help.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", required=True, choices=["skipgram", "cbow", "fasttext", "glove"])
    p.add_argument("--corpus", nargs="+", metavar="PATH",
                   help="files, folders (recursive) or - for stdin; .gz/.bz2/.xz/.xml.bz2 (default: bundled corpus)")
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="output folder")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the encoded-corpus cache")
    p.add_argument("--cooccur", metavar="FILE.npz", help="GloVe: use this co-occurrence matrix (embedkit cooccur output)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_options(p, CorpusConfig, group_title="corpus options")
    seen = {f.name for f in dataclasses.fields(CorpusConfig)}
    for title, cls in _MODEL_CONFIGS:
        fields = [f.name for f in dataclasses.fields(cls) if f.name not in seen]
        add_config_options(p, cls, skip=set(f.name for f in dataclasses.fields(cls)) - set(fields),
                           group_title=title)
        seen.update(fields)
    p.set_defaults(func=run)


def run(args) -> int:
    from embedkit.trainers.api import CORPUS_FIELDS, train

    names = CORPUS_FIELDS | {f.name for _, cls in _MODEL_CONFIGS for f in dataclasses.fields(cls)}
    options = {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}
    emb = train(args.model, args.corpus, output=args.output, quiet=args.quiet, cache=not args.no_cache,
                cooccur=args.cooccur, **options)
    log = emb.training_log
    last = log["epochs"][-1]
    metric = "cost" if "cost" in last else "loss"
    unit = "pair" if "pairs_per_second" in log else "word"
    print(f"trained {args.model}: {len(emb):,} words x {emb.dim} dims in {log['train_seconds']:.1f} s "
          f"({log[unit + 's_per_second']:,.0f} {unit}s/s, {log['train_seconds'] / len(log['epochs']):.1f} s/epoch), "
          f"final {metric} {last[metric]:.6g} -> {args.output}")
    return 0
