"""`embedkit VERB ...`: a thin argparse frame.

Each module in this package that defines `register(subparsers)` adds its verbs; the verb's
handler is stored with `set_defaults(func=...)` and receives the parsed args. Handlers hold no
logic beyond turning flags into calls of the library. A verb that writes files declares them
with `set_defaults(outputs=lambda args: [fsutil.Output(...), ...])`; they are checked here
(fsutil.check_outputs) before the handler runs, so no work is done for an output that cannot be
written. EmbedkitError becomes one line on stderr and exit status 2. The words after the verb go to the verb's own parser, options and positional
words intermixed; argparse errors are one line with a hint to --help (cli/parser.py).
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

from embedkit.cli.parser import Parser, parse_args
from embedkit.errors import EmbedkitError
from embedkit.fsutil import check_outputs


def build_parser() -> Parser:
    parser = Parser(prog="embedkit", description="Train and use word embeddings.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parse_args(parser, sys.argv[1:] if argv is None else list(argv))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        outputs = getattr(args, "outputs", None)
        if outputs is not None:
            check_outputs(outputs(args))
        return args.func(args) or 0
    except EmbedkitError as e:
        print(f"embedkit {args.verb}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"embedkit {args.verb}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
