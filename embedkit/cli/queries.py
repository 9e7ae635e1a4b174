"""`embedkit neighbors` and `embedkit analogy`: query a vectors file or model folder.

    embedkit neighbors vectors.txt king queen --topn 5
    embedkit neighbors vectors.txt             # interactive: words from stdin until EOF
    embedkit analogy vectors.txt man king woman --method 3cosmul

Also holds the flags every verb that reads vectors shares (add_vectors_args / load_vectors).
"""
from __future__ import annotations

import sys

from embedkit.errors import EmbedkitError


def add_vectors_args(p, input_flag: str = "--format") -> None:
    """VECTORS positional plus how to read it."""
    from embedkit.io import READ_FORMATS
    p.add_argument("vectors", metavar="VECTORS", help="vectors file (word2vec text/binary, GloVe, .vec; "
                   ".gz/.bz2 ok) or embedkit model folder")
    p.add_argument(input_flag, dest="input_format", choices=READ_FORMATS, default=None,
                   help="format of VECTORS (default: detected)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="read only the first N words")
    p.add_argument("--unicode-errors", choices=("strict", "replace", "ignore"), default="strict",
                   help="undecodable bytes in words: error naming the line/byte, or replace/ignore them")


def load_vectors(args):
    from embedkit.io import load
    return load(args.vectors, format=args.input_format, limit=args.limit, unicode_errors=args.unicode_errors)


def _print_neighbors(word: str, results, out) -> None:
    out.write(f"{word}\n")
    width = max((len(w) for w, _ in results), default=0)
    for rank, (w, score) in enumerate(results, 1):
        out.write(f"  {rank:>3}  {w:<{width}}  {score:.4f}\n")


def _check_query(emb, words, args) -> None:
    """One clear error for the first unknown word or a bad --topn, before any output."""
    from embedkit.embeddings import UnknownWordError
    if args.topn < 1:
        raise EmbedkitError(f"--topn must be >= 1, got {args.topn}")
    for w in words:
        try:
            emb[w]
        except UnknownWordError as e:
            raise EmbedkitError(f"{e} of {args.vectors}") from None


def cmd_neighbors(args) -> int:
    emb = load_vectors(args)
    words = [w for w in args.words if w != "-"]
    _check_query(emb, words, args)
    if words:
        for i, (w, res) in enumerate(zip(words, emb.most_similar_batch(words, args.topn, args.restrict_vocab))):
            if i:
                sys.stdout.write("\n")
            _print_neighbors(w, res, sys.stdout)
    if not args.words or "-" in args.words:
        return _interactive(emb, args)
    return 0


def _interactive(emb, args) -> int:
    """Neighbours of each word read from stdin, until EOF; unknown words are reported and skipped."""
    from embedkit.embeddings import UnknownWordError
    tty = sys.stdin.isatty()
    if tty:
        print(f"{len(emb):,} words x {emb.dim} dims loaded; type words (Ctrl-D to quit)", file=sys.stderr)
    while True:
        if tty:
            print("word> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            return 0
        for w in line.split():
            try:
                res = emb.most_similar(w, topn=args.topn, restrict_vocab=args.restrict_vocab)
            except UnknownWordError as e:
                print(f"embedkit neighbors: {e}", file=sys.stderr)
                continue
            _print_neighbors(w, res, sys.stdout)
        sys.stdout.flush()


def cmd_analogy(args) -> int:
    emb = load_vectors(args)
    _check_query(emb, (args.a, args.b, args.c), args)
    res = emb.analogy(args.a, args.b, args.c, method=args.method, topn=args.topn,
                      restrict_vocab=args.restrict_vocab)
    _print_neighbors(f"{args.a} : {args.b} :: {args.c} : ?  ({args.method})", res, sys.stdout)
    return 0


def register(sub) -> None:
    from embedkit.embeddings import ANALOGY_METHODS

    p = sub.add_parser("neighbors", help="nearest words by cosine similarity (interactive without WORD)",
                       description="Nearest neighbours of each WORD. With no WORD, or WORD '-', read words "
                                   "from stdin until EOF (interactive exploration without reloading).")
    add_vectors_args(p)
    p.add_argument("words", nargs="*", metavar="WORD", help="query words ('-': read from stdin)")
    p.add_argument("--topn", type=int, default=10, help="neighbours per word (default: 10)")
    p.add_argument("--restrict-vocab", type=int, default=None, metavar="N",
                   help="answer only among the N most frequent words (default: all)")
    p.set_defaults(func=cmd_neighbors)

    p = sub.add_parser("analogy", help="a is to b as c is to ?",
                       description="Solve 'A is to B as C is to ?' (e.g. man king woman -> queen).")
    add_vectors_args(p)
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("c", metavar="C")
    p.add_argument("--method", choices=ANALOGY_METHODS, default="3cosadd",
                   help="3cosadd: cos(x, b-a+c); 3cosmul: Levy & Goldberg 2014 (default: 3cosadd)")
    p.add_argument("--topn", type=int, default=5, help="answers to show (default: 5)")
    p.add_argument("--restrict-vocab", type=int, default=None, metavar="N",
                   help="answer only among the N most frequent words (default: all)")
    p.set_defaults(func=cmd_analogy)
