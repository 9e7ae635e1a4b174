"""`embedkit vocab`: count a corpus, save the vocabulary as TSV, print the summary."""
from __future__ import annotations

import sys
import time

from embedkit.cli.common import add_corpus_arg, file_inputs, file_outputs
from embedkit.cli.options import add_config_options, config_from_args
from embedkit.config import CorpusConfig


def register(sub):
    p = sub.add_parser("vocab", help="build a vocabulary (word counts) and save it as TSV",
                       description="Count the words of a corpus and save word<TAB>count lines, most frequent first.")
    add_corpus_arg(p)
    p.add_argument("--output", "-o", required=True, metavar="VOCAB.tsv",
                   help="where to write the vocabulary; - writes it to stdout (the summary then goes to stderr)")
    add_config_options(p, CorpusConfig, group_title="corpus options")
    p.set_defaults(func=run, outputs=file_outputs("output"), inputs=file_inputs("corpus"))   # "-": stdout, skipped


def run(args) -> int:
    from embedkit.corpus.count import build_vocab
    from embedkit.corpus.reader import resolve_inputs
    from embedkit.corpus.stats import CorpusStats

    cfg = config_from_args(CorpusConfig, args)
    t0 = time.perf_counter()
    files = resolve_inputs(args.corpus)
    stats = CorpusStats()
    if cfg.phrases:                     # the vocabulary of the phrased tokens (prepare_corpus)
        from embedkit.corpus.prepare import prepare_corpus
        corpus = prepare_corpus(files, cfg)
        vocab, stats = corpus.vocab, corpus.stats
    else:
        vocab = build_vocab(files, cfg, stats)
    to_stdout = args.output == "-"
    if to_stdout:
        vocab.write(sys.stdout)
        sys.stdout.flush()
    else:
        vocab.save(args.output)
    print(f"read {stats.describe()}", file=sys.stderr)
    print(f"vocabulary: {vocab.describe()} (min_count {cfg.min_count}) -> {'stdout' if to_stdout else args.output} "
          f"[{time.perf_counter() - t0:.2f} s]", file=sys.stderr if to_stdout else sys.stdout)
    return 0
