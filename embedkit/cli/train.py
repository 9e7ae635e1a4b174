"""`embedkit train --model skipgram|cbow|fasttext|glove ...`: flags come from the config dataclasses."""
from __future__ import annotations

import argparse
import dataclasses
import sys

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
    cooccur = None
    if args.cooccur:
        if args.model != "glove":
            print("embedkit train: error: --cooccur applies to --model glove", file=sys.stderr)
            return 2
        from embedkit.corpus.cooccur import load_cooccur
        cooccur = load_cooccur(args.cooccur)
    emb = train(args.model, args.corpus, output=args.output, quiet=args.quiet, cache=not args.no_cache,
                cooccur=cooccur, **options)
    log = emb.training_log
    last = log.get("epochs", [{}])[-1]
    if "cost" in last:   # GloVe: a pass over the co-occurrences, not over words
        speed, final = f"{log.get('seconds_per_epoch', 0):.1f} s/epoch", f"cost {last['cost']:.6g}"
    else:
        speed, final = f"{log.get('words_per_second', 0):,.0f} words/s", f"loss {last.get('loss', float('nan')):.6g}"
    print(f"trained {args.model}: {len(emb):,} words x {emb.dim} dims in {log.get('train_seconds', 0):.1f} s "
          f"({speed}), final {final} -> {args.output}")
    return 0
