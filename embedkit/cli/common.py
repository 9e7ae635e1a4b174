"""Flags and output declarations that several verbs share, written once.

    add_vectors_args(p) / load_vectors(args)   VECTORS and how to read it (evaluate, export, plot,
                                               neighbors, analogy, print-*-vectors)
    add_corpus_arg(p, *aliases)                --corpus PATH... (train, vocab, cooccur, phrases)
    add_no_cache_arg(p)                        --no-cache
    file_outputs(*dests, cache=False)          set_defaults(outputs=...) for verbs whose outputs
                                               are plain files named by their flags (cli/__init__.py
                                               checks them before any work)
    file_inputs(*dests)                        set_defaults(inputs=...): the files and folders a verb
                                               reads, which no output may replace
"""
from __future__ import annotations


def add_vectors_args(p, input_aliases=("--format",)) -> None:
    """VECTORS positional plus how to read it (--input-format; `input_aliases` also accepted)."""
    from embedkit.io import READ_FORMATS
    p.add_argument("vectors", metavar="VECTORS", help="vectors file (word2vec text/binary, GloVe, fastText .vec/.bin; "
                   ".gz/.bz2 ok) or embedkit model folder")
    p.add_argument("--input-format", *input_aliases, dest="input_format", choices=READ_FORMATS, default=None,
                   help="format of VECTORS (default: detected)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="read only the first N words (default: all)")
    p.add_argument("--unicode-errors", choices=("strict", "replace", "ignore"), default="strict",
                   help="undecodable bytes in words: error naming the line/byte, or replace/ignore them "
                        "(default: strict)")


def load_vectors(args):
    from embedkit.config import CLI
    from embedkit.io import load
    return load(args.vectors, format=args.input_format, limit=args.limit, unicode_errors=args.unicode_errors,
                spelling=CLI)


def add_corpus_arg(p, *aliases) -> None:
    """--corpus PATH... (`aliases`: the reference tools' spellings, -input, -train)."""
    p.add_argument("--corpus", *aliases, nargs="+", metavar="PATH",
                   help="files, folders (recursive) or - for stdin; .gz/.bz2/.xz/.xml.bz2 (default: bundled corpus)")


def add_no_cache_arg(p) -> None:
    p.add_argument("--no-cache", action="store_true", help="do not read or write the encoded-corpus cache")


def file_outputs(*dests: str, cache: bool = False):
    """outputs(args) for set_defaults: the file named by each flag (dest "curves" is --curves; not
    given, or "-" for standard output: skipped), then, with cache=True, the encoded-corpus cache
    unless --no-cache."""
    def outputs(args):
        from embedkit.fsutil import Output, cache_output
        found = [Output(getattr(args, d), "file", "--" + d.replace("_", "-")) for d in dests]
        return found + (cache_output(args) if cache else [])
    return outputs


def file_inputs(*dests: str):
    """inputs(args) for set_defaults: the paths named by each flag (dest "vectors" is the VECTORS
    argument, "corpus" --corpus; a list gives one each; not given, or "-": skipped). A bundled
    name (evaluate --analogy questions-words) that is no file is compared by its path, harmlessly."""
    def inputs(args):
        from embedkit.fsutil import Input
        found = []
        for d in dests:
            value = getattr(args, d, None)
            for path in (value if isinstance(value, (list, tuple)) else [value]):
                if path is not None:
                    found.append(Input(path, "VECTORS" if d == "vectors" else "--" + d.replace("_", "-"),
                                       every_file=d == "corpus"))     # a corpus folder: all its files
        return found
    return inputs
