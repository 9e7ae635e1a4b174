"""The argument parser every verb uses: one-line errors with suggestions, options and words in any order.

* `Parser.error` prints one line, `embedkit VERB: error: ...; see embedkit VERB --help`, and
  exits with status 2. An unknown option gets close matches among the verb's own options (and
  the embedkit name of a gensim/word2vec/GloVe spelling, embedkit/synonyms.py); an invalid
  choice gets the closest choices.
* `parse_args` hands everything after the verb to the verb's own parser, so the verb reports
  its own unknown options, and parses options and words intermixed (`neighbors V --topn 5 king`
  and `neighbors V king --topn 5` are the same). A verb parser with a `specialize(argv)` method
  (train) may hand over to a parser made for these arguments (the chosen model's).
"""
from __future__ import annotations

import argparse
import difflib
import re
import sys

from embedkit.suggest import did_you_mean
from embedkit.synonyms import foreign_option_hint
from embedkit.synonyms import squash as _squash


class CompactHelpFormatter(argparse.HelpFormatter):
    """`--min-count N (also -minCount, --minCount)`: the value once, other spellings after it."""

    def _format_action_invocation(self, action):
        if len(action.option_strings) < 2 or isinstance(action, argparse._HelpAction):
            return super()._format_action_invocation(action)
        first, *others = action.option_strings
        head = first if action.nargs == 0 else f"{first} {self._format_args(action, self._get_default_metavar_for_optional(action))}"
        return f"{head} (also {', '.join(others)})"


class Parser(argparse.ArgumentParser):
    """argparse with embedkit's one-line errors (see the module doc)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", CompactHelpFormatter)
        super().__init__(*args, **kwargs)

    argv: list[str] = []                              # what parse_args was given (for error())
    unknown_option_notes: dict[str, str] = {}         # flag this parser lacks -> why (another model's option)

    def error(self, message: str):
        message = " ".join(message.split())          # one line, whatever argparse composed
        unknown = self.unknown_options(self.argv)
        if unknown and not message.startswith("unrecognized arguments"):
            message = "unrecognized arguments: " + " ".join(unknown)   # the likelier cause, told first
        message = self._explain(message)
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        sys.exit(2)

    def unknown_options(self, argv: list[str]) -> list[str]:
        """Tokens of argv that look like options but match none of this parser's (exactly, as an
        abbreviation of a --long option, or as a short option with its value attached)."""
        known = self.option_strings() + ["-h", "--help"]
        out = []
        for tok in argv:
            if tok == "--":
                break
            if not tok.startswith("-") or tok == "-" or re.fullmatch(r"-\d[\d.e+-]*", tok):
                continue
            flag = tok.split("=", 1)[0]
            if flag in known or (flag.startswith("--") and any(k.startswith(flag) for k in known)) or \
                    (not flag.startswith("--") and flag[:2] in known):
                continue
            out.append(flag)
        return out

    def _explain(self, message: str) -> str:
        m = re.match(r"unrecognized arguments: (.*)", message)
        if m:
            return self._unrecognized(m.group(1).split())
        m = re.match(r"argument (\S+): invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(3))
            return message + did_you_mean(difflib.get_close_matches(m.group(2), choices, n=2, cutoff=0.5))
        return message

    def option_strings(self) -> list[str]:
        return [s for s in self._option_string_actions if s not in ("-h", "--help")]

    def _unrecognized(self, extras: list[str]) -> str:
        flags = [e.split("=", 1)[0] for e in extras if e.startswith("-") and e != "-"]
        if not flags:
            return f"unexpected argument{'s' if len(extras) > 1 else ''} {' '.join(extras)}"
        parts = []
        for flag in flags:
            parts.append(f"unknown option {flag}" + self.suggest_option(flag))
        return "; ".join(parts)

    def suggest_option(self, flag: str) -> str:
        """'; did you mean --x?', whose option it is, or embedkit's name for a foreign spelling."""
        note = self.unknown_option_notes.get(flag)
        if note:
            return f" ({note})"
        hint = foreign_option_hint(flag, self.option_strings())
        if hint:
            return f" ({hint})"
        options = self.option_strings()
        by_squash = {}
        for o in options:
            by_squash.setdefault(_squash(o), o)
        exact = by_squash.get(_squash(flag))
        if exact:
            return did_you_mean([exact])
        close = difflib.get_close_matches(_squash(flag), list(by_squash), n=3, cutoff=0.6)
        return did_you_mean([by_squash[c] for c in close])


def _subparsers(parser: argparse.ArgumentParser):
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def parse_args(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse `embedkit VERB ...`: the verb's own parser takes the rest, intermixed (see module doc)."""
    sub = _subparsers(parser)
    if sub is None or not argv or argv[0] not in sub.choices:
        return parser.parse_args(argv)                 # --help, no verb, an unknown verb
    verb, verb_parser = argv[0], sub.choices[argv[0]]
    specialize = getattr(verb_parser, "specialize", None)    # train: the chosen model's own parser
    verb_parser = (specialize(argv[1:]) if specialize else None) or verb_parser
    verb_parser.argv = argv[1:]
    if _subparsers(verb_parser) is not None:           # nested verbs (corpora list|fetch)
        args = verb_parser.parse_args(argv[1:])
    else:
        args = verb_parser.parse_intermixed_args(argv[1:])
    setattr(args, sub.dest, verb)
    return args
