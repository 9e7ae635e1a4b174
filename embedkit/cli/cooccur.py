"""`embedkit cooccur`: count word-word co-occurrences (GloVe's cooccur) and save them."""
from __future__ import annotations

import sys
import time

from embedkit.cli.common import add_corpus_arg, add_no_cache_arg, file_inputs
from embedkit.cli.options import add_config_options, config_from_args
from embedkit.config import CooccurConfig, CorpusConfig


def outputs(args):
    from embedkit.corpus.cooccur import vocab_path_for
    from embedkit.fsutil import Output, cache_output
    found = [*cache_output(args), Output(args.output, "file", "--output"),
             Output(str(vocab_path_for(args.output)), "file", "--output's vocabulary"),
             Output(args.tmpdir, "into", "--tmpdir")]
    if args.glove_binary:
        found += [Output(args.glove_binary, "file", "--glove-binary"),
                  Output(args.glove_binary + ".vocab.txt", "file", "--glove-binary's vocabulary")]
    return found


def register(sub):
    p = sub.add_parser(
        "cooccur", help="count word-word co-occurrences and save a scipy.sparse .npz (and GloVe's binary)",
        description="Count symmetric window co-occurrences as Stanford GloVe's cooccur does (a pair at distance d "
                    "adds 1/d, or 1 with --weighting none; windows stop at line ends, not at cuts of over-long "
                    "lines). Saves a (V, V) CSR matrix in vocabulary order with scipy.sparse.save_npz, the vocabulary "
                    "beside it as COOC.vocab.tsv, and optionally GloVe's binary records.")
    add_corpus_arg(p)
    p.add_argument("--output", "-o", required=True, metavar="COOC.npz",
                   help="where to write the matrix (uncompressed .npz); the vocabulary goes to COOC.vocab.tsv")
    p.add_argument("--glove-binary", metavar="FILE",
                   help="also write Stanford GloVe's binary records (int32 word1, int32 word2, float64 value, "
                        "1-based ids) and FILE.vocab.txt, the vocabulary in GloVe's 'word count' format")
    add_no_cache_arg(p)
    p.add_argument("--tmpdir", metavar="DIR", help="folder for spilled runs when the buffer is full (default: system temp)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_config_options(p, CorpusConfig, group_title="corpus options")
    add_config_options(p, CooccurConfig, group_title="co-occurrence options")
    p.set_defaults(func=run, outputs=outputs, inputs=file_inputs("corpus"))


def run(args) -> int:
    from embedkit.corpus.cooccur import (check_config, count_cooccurrences, save_cooccur, save_glove_binary,
                                         vocab_path_for)
    from embedkit.corpus.prepare import prepare_corpus
    from embedkit.fsutil import atomic_path

    corpus_cfg = config_from_args(CorpusConfig, args)
    cfg = config_from_args(CooccurConfig, args)
    check_config(cfg)               # before reading the corpus
    t0 = time.perf_counter()
    corpus = prepare_corpus(args.corpus, corpus_cfg, cache=not args.no_cache, progress=not args.quiet)
    t1 = time.perf_counter()
    X = count_cooccurrences(corpus, cfg, tmpdir=args.tmpdir, progress=not args.quiet)
    t2 = time.perf_counter()
    save_cooccur(X, args.output, corpus.vocab)
    if args.glove_binary:
        save_glove_binary(X, args.glove_binary)
        with atomic_path(args.glove_binary + ".vocab.txt") as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.writelines(f"{w} {c}\n" for w, c in zip(corpus.vocab.words, corpus.vocab.counts.tolist()))
    stats = getattr(corpus, "stats", None)
    if stats is not None:
        print(f"read {stats.describe()}", file=sys.stderr)
    print(f"co-occurrences: {len(corpus.vocab):,} words, {corpus.n_tokens:,} tokens in vocabulary, "
          f"window {cfg.window} ({cfg.weighting}), {X.nnz:,} non-zeros; corpus {t1 - t0:.2f} s, "
          f"counting {t2 - t1:.2f} s, saving {time.perf_counter() - t2:.2f} s -> {args.output} "
          f"(+ {vocab_path_for(args.output).name})" + (f", {args.glove_binary}" if args.glove_binary else ""))
    return 0
