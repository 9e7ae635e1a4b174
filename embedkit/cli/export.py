"""`embedkit export VECTORS --to PATH [--to-format FMT]`: convert vectors between formats.

    embedkit export model/ --to vectors.bin                      # word2vec binary, from the extension
    embedkit export vectors.txt --to glove.txt.gz --to-format glove --limit 100000

The output format comes from --to's extension (.txt word2vec text, .bin word2vec binary, .vec
fastText text; .gz/.bz2 compress) unless --to-format (old spelling --format) names it; a format the
extension contradicts (binary into a .txt) is an error. The input format is --input-format.
"""
from __future__ import annotations

from embedkit.cli.common import add_vectors_args, file_inputs, file_outputs, load_vectors
from embedkit.errors import EmbedkitError


def cmd_export(args) -> int:
    from embedkit.io import EXTENSION_FORMATS, FORMATS, output_format, save

    fmt = output_format(args.to, args.to_format, flag="--to-format")
    if fmt is None:
        exts = ", ".join(f"{e} ({f[0]})" for e, f in EXTENSION_FORMATS.items())
        raise EmbedkitError(f"cannot tell the output format from the name {args.to}: use an extension ({exts}) "
                            f"or --to-format ({', '.join(FORMATS)})")
    emb = load_vectors(args)
    save(emb, args.to, format=fmt)
    how = "" if args.to_format else ", from the extension"
    print(f"wrote {len(emb):,} words x {emb.dim} dims to {args.to} ({fmt}{how})")
    return 0


def register(sub) -> None:
    from embedkit.io import FORMATS

    p = sub.add_parser("export", help="convert vectors to word2vec text/binary, GloVe or .vec",
                       description="Read vectors (any supported format or a model folder) and write them "
                                   "in another format; the output is written atomically. The output format "
                                   "comes from --to's extension (.txt: word2vec-text, .bin: word2vec-binary, "
                                   ".vec: fasttext-vec; .gz/.bz2 compress) unless --to-format names it; "
                                   "a format the extension contradicts is an error.")
    add_vectors_args(p, input_aliases=())
    p.add_argument("--to", required=True, metavar="PATH", help="output file (.gz/.bz2: compressed)")
    p.add_argument("--to-format", "--format", dest="to_format", choices=FORMATS, default=None,
                   help="output format (default: from --to's extension); --format is the old spelling")
    p.set_defaults(func=cmd_export, outputs=file_outputs("to"), inputs=file_inputs("vectors"))
