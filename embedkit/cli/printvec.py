"""`embedkit print-word-vectors` and `print-sentence-vectors`: fastText's verbs of the same names.

    echo "king unseenword" | embedkit print-word-vectors model/      # one 'word v1 ... vD' line per word
    embedkit print-sentence-vectors model/ < sentences.txt            # one 'v1 ... vD' line per line

As fastText: words are read from stdin (whitespace-separated) until EOF, or taken from the command
line; a subword model builds unseen words from their n-grams; a word with no vector at all is
printed as zeros (fastText's getWordVector gives zeros) and reported on stderr. A sentence vector
is fastText's for unsupervised models (FastText::getSentenceVector): the mean of the unit vectors
of the tokens that have a non-zero vector, zeros when none has. Values have 5 significant digits
(fastText's precision) unless --precision says otherwise; fastText's trailing space is not written.
"""
from __future__ import annotations

import itertools
import sys

from embedkit.cli.common import add_vectors_args, load_vectors


def _check_precision(args) -> None:
    from embedkit.errors import EmbedkitError
    if not 1 <= args.precision <= 17:
        raise EmbedkitError(f"--precision must be 1..17 significant digits, got {args.precision}")


def _fmt(vector, precision: int) -> str:
    return " ".join(f"{x:.{precision}g}" for x in vector.tolist())


def cmd_print_word_vectors(args) -> int:
    import numpy as np

    _check_precision(args)
    emb = load_vectors(args)
    zeros = np.zeros(emb.dim, np.float32)
    words = [w for w in args.words if w != "-"]
    source = [" ".join(words)] if words else []
    if not words or "-" in args.words:
        source = itertools.chain(source, _stdin_lines())
    unknown = 0
    for line in source:
        for w in line.split():
            try:
                v = emb.get_vector(w)
            except KeyError as e:                      # no suggestions: bulk use would pay for them
                print(f"embedkit print-word-vectors: {e.args[0]}; printed as zeros", file=sys.stderr)
                v, unknown = zeros, unknown + 1
            sys.stdout.write(f"{w} {_fmt(v, args.precision)}\n")
        sys.stdout.flush()
    return 1 if unknown else 0


def _stdin_lines():
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        yield line


def _tokenizer(args):
    """--tokenizer, else the tokenizer the model was trained with (model folders), else whitespace."""
    from pathlib import Path

    from embedkit.corpus.tokenize import get_tokenizer
    from embedkit.formats.native import is_model_dir, read_meta

    name = args.tokenizer
    if name is None and is_model_dir(Path(args.vectors)):
        name = read_meta(args.vectors).get("config", {}).get("corpus", {}).get("tokenizer")
    return get_tokenizer(name or "whitespace")


def cmd_print_sentence_vectors(args) -> int:
    _check_precision(args)
    emb = load_vectors(args)
    tokenize = _tokenizer(args)
    for line in _stdin_lines():
        sys.stdout.write(_fmt(emb.sentence_vector(tokenize(line.rstrip("\n"))), args.precision) + "\n")
        sys.stdout.flush()
    return 0


def register(sub) -> None:
    from embedkit.config import TOKENIZERS

    p = sub.add_parser("print-word-vectors", help="print the vector of each word read from stdin (fastText's verb)",
                       description="Print 'word v1 ... vD' for each word on the command line, or read from "
                                   "stdin (no WORD, or '-') until EOF, as fastText's print-word-vectors. A "
                                   "subword model builds unseen words from their character n-grams; a word "
                                   "without any vector is printed as zeros (as fastText) and reported on "
                                   "stderr, and the exit status is then 1.")
    add_vectors_args(p)
    p.add_argument("words", nargs="*", metavar="WORD", help="words to print ('-' or none: read stdin)")
    p.add_argument("--precision", type=int, default=5, metavar="N",
                   help="significant digits per value (default: 5, as fastText)")
    p.set_defaults(func=cmd_print_word_vectors)

    p = sub.add_parser("print-sentence-vectors", help="print one vector per line of stdin (fastText's verb)",
                       description="For each line of stdin, print 'v1 ... vD': fastText's sentence vector "
                                   "for unsupervised models, the mean of the unit vectors of the line's tokens "
                                   "that have a vector (zeros when none has). Lines are tokenized as the model's "
                                   "corpus was (model folders record their tokenizer), else on whitespace.")
    add_vectors_args(p)
    p.add_argument("--tokenizer", choices=TOKENIZERS, default=None,
                   help="how to split lines (default: the model's own tokenizer, or whitespace for vector files)")
    p.add_argument("--precision", type=int, default=5, metavar="N",
                   help="significant digits per value (default: 5, as fastText)")
    p.set_defaults(func=cmd_print_sentence_vectors)
