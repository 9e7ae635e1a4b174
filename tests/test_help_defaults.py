"""Every verb's --help states each option's default once, and the stated default is the one used.

For options generated from a config dataclass the truth is a fresh config instance (for `train`,
the configs that `embedkit.train(model)` builds with no options); for the others it is argparse's
own default. A default of None may be described in words ("all", "detected", "none").
"""
import argparse
import dataclasses
import re

import pytest

from embedkit.cli import build_parser
from embedkit.config import CooccurConfig, CorpusConfig

DEFAULT = re.compile(r"\(default: ([^)]*)\)")


def _subparsers(parser):
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def verb_parsers():
    """(name, parser) of every verb, nested verbs too (corpora list/fetch)."""
    out = []
    for name, p in _subparsers(build_parser()).choices.items():
        nested = _subparsers(p)
        out += [(f"{name} {n}", q) for n, q in nested.choices.items()] if nested else [(name, p)]
    return out


CONFIGS = {"vocab": [CorpusConfig()], "cooccur": [CorpusConfig(), CooccurConfig()]}


def _truth(verb, action):
    for cfg in CONFIGS.get(verb, []):
        if action.dest in {f.name for f in dataclasses.fields(cfg)}:
            return getattr(cfg, action.dest)
    return action.default


def agrees(printed: str, value) -> bool:
    head = re.split(r"[;,]? (as|from|of|or|the)\b", printed)[0].strip()
    if value is None:
        return not re.fullmatch(r"[-+\d.,e]+", head)                    # described in words
    if isinstance(value, bool):
        return head in (("on", "true", "True") if value else ("off", "false", "False"))
    if isinstance(value, (int, float)):
        try:
            return float(head.replace(",", "")) == float(value)
        except ValueError:
            return False
    return head == str(value)


def check_parser(verb, parser):
    formatter = parser._get_formatter()
    problems = []
    for action in parser._actions:
        if not action.help or action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        text = formatter._expand_help(action)
        printed = DEFAULT.findall(text)
        truth = _truth(verb, action)
        name = action.option_strings[0] if action.option_strings else action.dest
        if len(printed) > 1:
            problems.append(f"{verb} {name}: default printed {len(printed)} times: {printed}")
        elif printed and not agrees(printed[0], truth):
            problems.append(f"{verb} {name}: help says {printed[0]!r}, the default is {truth!r}")
        elif not printed and truth not in (None, False) and action.option_strings and action.nargs != 0:
            problems.append(f"{verb} {name}: default {truth!r} is not stated")
    return problems


@pytest.mark.parametrize("verb,parser", [vp for vp in verb_parsers() if vp[0] != "train"], ids=lambda x: str(x)[:20])
def test_each_verb_states_its_true_defaults_once(verb, parser):
    assert check_parser(verb, parser) == []


def test_agrees():
    assert agrees("30,000, as word2vec's compute-accuracy", 30000)
    assert agrees("5, as fastText", 5) and agrees("1e-05", 1e-5) and agrees("on", True)
    assert agrees("all", None) and not agrees("5", None) and not agrees("0.001", 1e-4)
    assert agrees("regex", "regex") and not agrees("word2vec", "glove")
