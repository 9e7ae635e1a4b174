"""`embedkit corpora list` and `embedkit corpora fetch NAME`: the bundled corpus and downloadable ones."""
from __future__ import annotations

import sys


def register(sub):
    p = sub.add_parser("corpora", help="list the bundled and downloadable corpora, or fetch one",
                       description="The bundled default corpus and a registry of standard corpora "
                                   "(text8, fil9, wikitext-103) and evaluation sets (men, rw) that can be "
                                   "downloaded and checked.")
    verbs = p.add_subparsers(dest="corpora_verb", metavar="ACTION", required=True)

    ls = verbs.add_parser("list", help="show the default corpus and the registry",
                          description="Print the bundled default corpus's path and the registry of downloadable corpora.")
    ls.set_defaults(func=run_list)

    fe = verbs.add_parser("fetch", help="download, verify and unpack a corpus",
                          description="Download a registered corpus, verify its checksum, unpack it and rename "
                                      "the outputs into place (a failed fetch leaves no partial file). An archive "
                                      "already in DIR is used instead of downloading.")
    fe.add_argument("names", nargs="+", metavar="NAME", help="registered corpora or evaluation sets (see `embedkit corpora list`)")
    fe.add_argument("--dest", metavar="DIR", default=None,
                    help="destination folder (default: $EMBEDKIT_CACHE_DIR/corpora, or .../eval for evaluation "
                         "sets; $EMBEDKIT_CACHE_DIR defaults to ~/.cache/embedkit)")
    fe.add_argument("--url", metavar="URL", default=None, help="download from this URL (a mirror) instead of the registry's")
    fe.add_argument("--sha256", metavar="HEX", default=None,
                    help="require this SHA-256 of the archive (replaces the registry's MD5/size checks)")
    fe.add_argument("--keep-archive", action="store_true", help="keep the downloaded archive in DIR")
    fe.set_defaults(func=run_fetch, outputs=fetch_outputs)


def fetch_outputs(args):
    """The destination folders (made when missing, with their parents)."""
    from embedkit.corpora import REGISTRY, default_data_dir
    from embedkit.fsutil import Output
    if args.dest is not None:
        return [Output(args.dest, "dir", "--dest")]
    folders = {str(default_data_dir(REGISTRY[n].folder)) for n in args.names if n in REGISTRY}
    return [Output(f, "dir", "the download folder ($EMBEDKIT_CACHE_DIR)") for f in sorted(folders)]


def run_list(args) -> int:
    import os

    from embedkit.corpora import DEFAULT_CORPUS_ENV, REGISTRY, default_corpus_path, default_data_dir
    from embedkit.errors import EmbedkitError

    try:
        path = default_corpus_path()
        what = f"from {DEFAULT_CORPUS_ENV}" if os.environ.get(DEFAULT_CORPUS_ENV) else \
            "bundled: King James Bible + WordNet 3.0 glosses, 2,269,226 tokens"
        print(f"default   {path} ({path.stat().st_size:,} bytes; {what})")
    except EmbedkitError as e:
        print(f"default   unavailable: {e}")
    print(f"\ndownloadable (embedkit corpora fetch NAME...; default folder {default_data_dir()}, "
          f"evaluation sets {default_data_dir('eval')}):")
    for c in REGISTRY.values():
        print(f"{c.name:<13} {c.description}")
        print(f"{'':<13} {c.url}  [{c.checks()}]")
        print(f"{'':<13} -> {', '.join(o.path for o in c.outputs)}; {c.licence}")
    return 0


def run_fetch(args) -> int:
    from embedkit.corpora import fetch

    from embedkit.corpora import get
    from embedkit.errors import EmbedkitError

    if len(args.names) > 1 and (args.url or args.sha256):
        raise EmbedkitError("--url and --sha256 apply to one archive: fetch one NAME at a time with them")
    for name in args.names:
        get(name)                                      # every name checked before anything is downloaded
    for name in args.names:
        outputs = fetch(name, args.dest, url=args.url, sha256=args.sha256, keep_archive=args.keep_archive,
                        report=lambda msg: print(msg, file=sys.stderr, flush=True))
        for p in outputs:
            print(p)
    return 0
