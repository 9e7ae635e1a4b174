"""`embedkit VERB ...`: a thin argparse frame.

Each module in this package that defines `register(subparsers)` adds its verbs; the verb's
handler is stored with `set_defaults(func=...)` and receives the parsed args. Handlers hold no
logic beyond turning flags into calls of the library. EmbedkitError becomes one line on stderr
and exit status 2.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from embedkit.errors import EmbedkitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="embedkit", description="Train and use word embeddings.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except EmbedkitError as e:
        print(f"embedkit {args.verb}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"embedkit {args.verb}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
