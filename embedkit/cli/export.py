"""`embedkit export VECTORS --to PATH --format FMT`: convert vectors between formats.

    embedkit export model/ --to vectors.bin --format word2vec-binary
    embedkit export vectors.txt --to glove.txt.gz --format glove --limit 100000
"""
from __future__ import annotations

from embedkit.cli.queries import add_vectors_args, load_vectors


def cmd_export(args) -> int:
    from embedkit.io import save

    emb = load_vectors(args)
    save(emb, args.to, format=args.format)
    print(f"wrote {len(emb):,} words x {emb.dim} dims to {args.to} ({args.format})")
    return 0


def register(sub) -> None:
    from embedkit.io import FORMATS

    p = sub.add_parser("export", help="convert vectors to word2vec text/binary, GloVe or .vec",
                       description="Read vectors (any supported format or a model folder) and write them "
                                   "in another format; the output is written atomically.")
    add_vectors_args(p, input_flag="--input-format")
    p.add_argument("--to", required=True, metavar="PATH", help="output file (.gz/.bz2: compressed)")
    p.add_argument("--format", choices=FORMATS, default="word2vec-text",
                   help="output format (default: word2vec-text)")
    p.set_defaults(func=cmd_export)
