"""`embedkit neighbors` and `embedkit analogy`: query a vectors file or model folder.

    embedkit neighbors vectors.txt king queen --topn 5
    embedkit neighbors vectors.txt             # interactive: words from stdin until EOF
    embedkit analogy vectors.txt man king woman --method 3cosmul     # man is to king as woman is to ?

A word is looked up by Embeddings.resolve: itself, else its case-insensitive match (stated in the
output), else (subword models) its n-grams. An unknown word is reported on stderr with "did you
mean" suggestions and skipped; the other words are answered and the exit status is 1.
"""
from __future__ import annotations

import sys

from embedkit.cli.common import add_vectors_args, load_vectors
from embedkit.errors import EmbedkitError

ANALOGY_ORDER = ("A B C asks 'A is to B as C is to ?' (word2vec C's order: man king woman -> queen), "
                 "answered by the words nearest to B - A + C. fastText's `analogies` reads A - B + C instead: "
                 "its 'berlin germany france' is 'germany berlin france' here.")


def _print_neighbors(header: str, results, out) -> None:
    out.write(f"{header}\n")
    if not results:         # a header alone reads as a failure; say why (on stderr: stdout stays parseable)
        print("  (no candidates: every word the query may return is one of its own words, or beyond "
              "--restrict-vocab)", file=sys.stderr)
    width = max((len(w) for w, _ in results), default=0)
    for rank, (w, score) in enumerate(results, 1):
        out.write(f"  {rank:>3}  {w:<{width}}  {score:.4f}\n")


def _lookup(emb, word: str, args):
    """(key, header) for a query word, or None after reporting it as unknown on stderr."""
    from embedkit.embeddings import UnknownWordError
    from embedkit.suggest import did_you_mean
    try:
        key, how = emb.resolve(word)
    except UnknownWordError as e:
        print(f"embedkit {args.verb}: {e.args[0]} of {args.vectors}{did_you_mean(e.suggestions)}; skipped",
              file=sys.stderr)
        return None
    if how == "case":
        return key, f"{word} -> {key} (case-insensitive match)"
    if how == "subwords":
        return key, f"{word} (not in the vocabulary: built from its character n-grams)"
    return key, word


def _check_counts(args) -> None:
    """--topn and --restrict-vocab, named as flags (the library's own checks name its keywords),
    before the vectors are loaded."""
    if args.topn < 1:
        raise EmbedkitError(f"--topn must be >= 1, got {args.topn}")
    if args.restrict_vocab is not None and args.restrict_vocab < 1:
        raise EmbedkitError(f"--restrict-vocab must be >= 1, got {args.restrict_vocab} (leave it out for all words)")


def cmd_neighbors(args) -> int:
    _check_counts(args)
    emb = load_vectors(args)
    found = [_lookup(emb, w, args) for w in args.words if w != "-"]
    skipped = sum(f is None for f in found)
    found = [f for f in found if f is not None]
    if found:
        results = emb.most_similar_batch([k for k, _ in found], args.topn, args.restrict_vocab)
        for i, ((_, header), res) in enumerate(zip(found, results)):
            if i:
                sys.stdout.write("\n")
            _print_neighbors(header, res, sys.stdout)
    if not args.words or "-" in args.words:
        skipped += _interactive(emb, args)
    return 1 if skipped else 0


def _interactive(emb, args) -> int:
    """Neighbours of each word read from stdin, until EOF; returns how many were skipped."""
    tty = sys.stdin.isatty()
    skipped = 0
    if tty:
        print(f"{len(emb):,} words x {emb.dim} dims loaded; type words (Ctrl-D to quit)", file=sys.stderr)
    while True:
        if tty:
            print("word> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            return skipped
        for w in line.split():
            found = _lookup(emb, w, args)
            if found is None:
                skipped += 1
                continue
            _print_neighbors(found[1], emb.most_similar(found[0], topn=args.topn,
                                                        restrict_vocab=args.restrict_vocab), sys.stdout)
        sys.stdout.flush()


def _answer(emb, words, args) -> bool:
    """Print the answers to one A B C question; False when a word was unknown (reported)."""
    found = [_lookup(emb, w, args) for w in words]
    if any(f is None for f in found):
        return False
    a, b, c = (k for k, _ in found)
    for w, (k, _) in zip(words, found):
        if k != w:
            print(f"embedkit analogy: {w!r} -> {k!r} (case-insensitive match)", file=sys.stderr)
    res = emb.analogy(a, b, c, method=args.method, topn=args.topn, restrict_vocab=args.restrict_vocab)
    _print_neighbors(f"{a} is to {b} as {c} is to ?  ({args.method}: nearest to {b} - {a} + {c})", res,
                     sys.stdout)
    return True


def cmd_analogy(args) -> int:
    _check_counts(args)
    emb = load_vectors(args)
    words = [w for w in args.words if w != "-"]
    if len(words) not in (0, 3):
        raise EmbedkitError(f"analogy takes three words A B C, or none (or -) to read 'A B C' lines from "
                            f"stdin; got {len(words)}: {' '.join(words)}")
    if words:
        if not _answer(emb, words, args):
            return 1
    if not words or "-" in args.words:
        skipped = 0
        for n, line in enumerate(sys.stdin, 1):
            triple = line.split()
            if not triple:
                continue
            if len(triple) != 3:
                print(f"embedkit analogy: stdin line {n}: expected 3 words A B C, got {len(triple)}; skipped",
                      file=sys.stderr)
                skipped += 1
                continue
            skipped += not _answer(emb, triple, args)
            sys.stdout.flush()
        return 1 if skipped else 0
    return 0


EXIT_NOTE = ("Unknown words are reported on stderr (with 'did you mean' suggestions) and skipped; "
             "exit status 1 then, 0 when every word was answered. A word unknown only by its case is "
             "answered with its case-insensitive match, stated in the output.")


def register(sub) -> None:
    from embedkit.embeddings import ANALOGY_METHODS

    p = sub.add_parser("neighbors", help="nearest words by cosine similarity (interactive without WORD)",
                       description="Nearest neighbours of each WORD. With no WORD, or WORD '-', read words "
                                   "from stdin until EOF (interactive exploration without reloading). "
                                   "Options and words may come in any order. " + EXIT_NOTE)
    add_vectors_args(p)
    p.add_argument("words", nargs="*", metavar="WORD", help="query words ('-': read from stdin)")
    p.add_argument("--topn", type=int, default=10, help="neighbours per word (default: 10)")
    p.add_argument("--restrict-vocab", type=int, default=None, metavar="N",
                   help="answer only among the N most frequent words (default: all)")
    p.set_defaults(func=cmd_neighbors)

    p = sub.add_parser("analogy", help="A is to B as C is to ? (man king woman -> queen)",
                       description=ANALOGY_ORDER + " With no words, or '-', reads 'A B C' lines from stdin. "
                                   + EXIT_NOTE)
    add_vectors_args(p)
    p.add_argument("words", nargs="*", metavar="A B C",
                   help="A is to B as C is to ?: the answer is nearest to B - A + C")
    p.add_argument("--method", choices=ANALOGY_METHODS, default="3cosadd",
                   help="3cosadd: cos(x, B-A+C); 3cosmul: Levy & Goldberg 2014 (default: 3cosadd)")
    p.add_argument("--topn", type=int, default=5, help="answers to show (default: 5)")
    p.add_argument("--restrict-vocab", type=int, default=None, metavar="N",
                   help="answer only among the N most frequent words (default: all)")
    p.set_defaults(func=cmd_analogy)
