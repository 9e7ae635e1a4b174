"""`embedkit VERB ...`: a thin argparse frame.

Each module in this package that defines `register(subparsers)` adds its verbs; the verb's
handler is stored with `set_defaults(func=...)` and receives the parsed args. VERBS names the
module of each verb, so that `embedkit VERB` imports only VERB's module (and what it uses):
`embedkit train` from a cached corpus loads no text-scan kernels, evaluators, plots or other
verbs' modules (tests/test_footprint.py). `embedkit --help` and an unknown verb import them all. Large C
blocks are served from their own memory maps (memory.map_large_blocks). Handlers hold no
logic beyond turning flags into calls of the library. A verb that writes files declares them
with `set_defaults(outputs=lambda args: [fsutil.Output(...), ...])`, and the files it reads with
`inputs=` (fsutil.Input; cli/common.py file_inputs); they are checked here (fsutil.check_outputs)
before the handler runs, so no work is done for an output that cannot be written, and no output
replaces an input. EmbedkitError, and a MemoryError, become one line on stderr and exit status 2.
SIGINT and SIGTERM unwind the verb (finally blocks remove temporary outputs) and end it with one line
and exit status 130 or 143 (128 + the signal's number), never a traceback. The words after the
verb go to the verb's own parser, options and positional words intermixed; argparse errors are
one line with a hint to --help (cli/parser.py).
"""
from __future__ import annotations

import importlib
import pkgutil
import signal
import sys

from embedkit.cli.parser import Parser, parse_args
from embedkit.errors import EmbedkitError
from embedkit.fsutil import check_outputs
from embedkit.memory import map_large_blocks


# verb -> the module of this package that registers it (a test checks this against the modules)
VERBS = {"analogy": "queries", "cooccur": "cooccur", "corpora": "corpora", "evaluate": "evaluate",
         "export": "export", "neighbors": "queries", "phrases": "phrases", "plot": "plot",
         "predict": "classify", "print-sentence-vectors": "printvec", "print-word-vectors": "printvec",
         "test": "classify", "train": "train", "vocab": "vocab"}


def build_parser(verb: str | None = None) -> Parser:
    """The parser of every verb, or with `verb` (a key of VERBS) of that verb's module only."""
    parser = Parser(prog="embedkit", description="Train and use word embeddings.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    if verb in VERBS:
        names = [VERBS[verb]]
    else:
        names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


# exit status after a signal: 128 + its number, as a shell reports a process the signal ended
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_stopped_by: list[int] = []      # the first stop signal received during main()


def _on_stop_signal(signum, frame):
    """SIGINT/SIGTERM: unwind as KeyboardInterrupt, so every finally block runs and temporary
    outputs (fsutil.atomic_path/atomic_dir, spill folders, stdin spools) are removed. A signal
    that arrives while unwinding is ignored: cleanup is short, and a second Ctrl-C must not
    interrupt it halfway."""
    if _stopped_by:
        return
    _stopped_by.append(signum)
    raise KeyboardInterrupt


def _install_stop_handlers() -> dict:
    previous = {}
    for sig in STOP_SIGNALS:
        try:
            previous[sig] = signal.signal(sig, _on_stop_signal)
        except ValueError:               # not the main thread (embedkit called from a thread): leave them
            pass
    return previous


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    verb = argv[0] if argv and not argv[0].startswith("-") else "?"
    _stopped_by.clear()
    map_large_blocks()                  # the process is embedkit's: large blocks go back when freed
    previous = _install_stop_handlers()
    try:
        parser = build_parser(argv[0] if argv else None)
        args = parse_args(parser, argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        verb = args.verb
        outputs, inputs = getattr(args, "outputs", None), getattr(args, "inputs", None)
        if outputs is not None:
            check_outputs(outputs(args), inputs(args) if inputs is not None else ())
        return args.func(args) or 0
    except EmbedkitError as e:
        print(f"embedkit {verb}: error: {e}", file=sys.stderr)
        return 2
    except MemoryError as e:
        from embedkit.memory import out_of_memory
        print(f"embedkit {verb}: error: {out_of_memory('this run', 'use smaller settings or inputs', e)}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        sig = _stopped_by[0] if _stopped_by else signal.SIGINT
        signal.signal(sig, signal.SIG_IGN)      # nothing more to clean up; the message is the last word
        name = signal.Signals(sig).name
        print(f"embedkit {verb}: stopped by {name}; no partial output was left "
              f"(exit status {128 + sig})", file=sys.stderr)
        return 128 + sig
    except BrokenPipeError:
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
