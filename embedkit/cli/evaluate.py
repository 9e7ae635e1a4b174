"""`embedkit evaluate VECTORS`: analogy and word-pair similarity scores in one table.

    embedkit evaluate vectors.txt                                  # all bundled sets, and MEN and RW when found
    embedkit evaluate vectors.txt --restrict-vocab 30000 300000   # word2vec's and gensim's analogy conventions
    embedkit evaluate vectors.txt --analogy my-analogies.txt --similarity men rw.txt --json scores.json
"""
from __future__ import annotations

from embedkit.cli.common import add_vectors_args, file_inputs, file_outputs, load_vectors


def cmd_evaluate(args) -> int:
    from embedkit.config import CLI
    from embedkit.evaluate.report import check_restrictions, evaluate_all, format_table, write_json

    check_restrictions(args.restrict_vocab, args.similarity_restrict_vocab, CLI)    # before loading
    emb = load_vectors(args)
    report = evaluate_all(emb, analogy=args.analogy, similarity=args.similarity,
                          restrict_vocab=args.restrict_vocab, method=args.method,
                          case_fold=args.case_fold, similarity_restrict_vocab=args.similarity_restrict_vocab,
                          eval_dir=args.eval_dir, spelling=CLI)
    print(f"{args.vectors}: {len(emb):,} words x {emb.dim} dims\n")
    print(format_table(report, sections=args.sections))
    if args.json:
        write_json(report, args.json)
    return 0


def register(sub) -> None:
    import argparse

    from embedkit.embeddings import ANALOGY_METHODS
    from embedkit.evaluate.analogy import DEFAULT_RESTRICT_VOCAB

    p = sub.add_parser("evaluate", help="analogy accuracy and word-pair similarity",
                       description="Evaluate vectors on analogy and word-similarity sets. With no --analogy "
                                   "or --similarity, runs every bundled set (Google analogies, WordSim-353, "
                                   "SimLex-999), and MEN and RW when they are found (they are not shipped: "
                                   "`embedkit corpora fetch men rw` downloads them; --eval-dir, $EMBEDKIT_EVAL_DIR, "
                                   "~/.cache/embedkit/eval and ../shared/data/eval beside the repository are "
                                   "searched). A set can be named instead of a path.")
    add_vectors_args(p)
    p.add_argument("--analogy", nargs="+", metavar="FILE", default=None,
                   help="analogy files (': section' lines, then 'a b c d' lines)")
    p.add_argument("--similarity", nargs="+", metavar="FILE", default=None,
                   help="word-pair files ('word1 word2 score', TAB or space separated, '#' comments)")
    p.add_argument("--restrict-vocab", type=int, nargs="+", default=DEFAULT_RESTRICT_VOCAB, metavar="N",
                   help=f"analogies: only the N most frequent words take part; 0 = all; several values give a "
                        f"row each, e.g. 30000 300000 for word2vec's and gensim's conventions "
                        f"(default: {DEFAULT_RESTRICT_VOCAB:,}, as word2vec's compute-accuracy)")
    p.add_argument("--eval-dir", metavar="DIR", default=None,
                   help="folder searched first for the sets that are not shipped (men.txt, rw.txt or "
                        "EN-MEN-TR-3k.txt, EN-RW-STANFORD.txt) (default: none; then $EMBEDKIT_EVAL_DIR, "
                        "~/.cache/embedkit/eval, ../shared/data/eval)")
    p.add_argument("--similarity-restrict-vocab", type=int, default=None, metavar="N",
                   help="word pairs: only the N most frequent words count as known (default: all)")
    p.add_argument("--method", choices=ANALOGY_METHODS, default="3cosadd",
                   help="analogy scoring (default: 3cosadd)")
    p.add_argument("--case-fold", action=argparse.BooleanOptionalAction, default=True,
                   help="match words case-insensitively (default: on)")
    p.add_argument("--sections", action="store_true", help="also show each analogy section")
    p.add_argument("--json", metavar="FILE", help="also write all figures as JSON")
    p.set_defaults(func=cmd_evaluate, outputs=file_outputs("json"),
                   inputs=file_inputs("vectors", "analogy", "similarity"))
