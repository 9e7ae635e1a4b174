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
from embedkit.config import CooccurConfig, CorpusConfig, PhrasesConfig

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


CONFIGS = {"vocab": [CorpusConfig()], "cooccur": [CorpusConfig(), CooccurConfig()],
           "phrases": [PhrasesConfig(), CorpusConfig()]}


def _truth(verb, action, configs=None):
    from embedkit.config import effective_default
    for cfg in CONFIGS.get(verb, []) if configs is None else configs:
        if action.dest in {f.name for f in dataclasses.fields(cfg)}:
            return effective_default(cfg, action.dest)
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


def check_parser(verb, parser, configs=None):
    formatter = parser._get_formatter()
    problems = []
    for action in parser._actions:
        if not action.help or action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        text = formatter._expand_help(action)
        printed = DEFAULT.findall(text)
        truth = _truth(verb, action, configs)
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


def train_parser(model):
    parser = build_parser()
    sub = _subparsers(parser)
    return sub.choices["train"].specialize(["--model", model, "--help"])


def test_generic_train_help_lists_the_models_of_the_table():
    from embedkit.trainers.api import MODELS
    (train,) = [p for v, p in verb_parsers() if v == "train"]
    assert check_parser("train", train, [CorpusConfig()]) == []
    model = next(a for a in train._actions if a.dest == "model")
    assert list(model.choices) == list(MODELS)
    assert all(f"{m}:" in train.description for m in MODELS)


@pytest.mark.parametrize("model", ["skipgram", "cbow", "fasttext", "glove", "classifier"])
def test_train_help_of_each_model_states_that_models_defaults(model):
    """The configs embedkit.train(model) builds with no options are the truth, for every option shown."""
    from embedkit.trainers.api import MODELS, make_configs
    assert model in MODELS
    parser = train_parser(model)
    corpus_cfg, model_cfg = make_configs(model, {})
    assert check_parser("train", parser, [corpus_cfg, model_cfg]) == []
    shown = {a.dest for a in parser._actions}
    fields = {f.name for f in dataclasses.fields(model_cfg)}
    assert fields - shown == set(MODELS[model].fixed) | ({"sg_update"} if model == "cbow" else set())


def test_train_help_shows_the_issues_examples(capsys):
    """The issue's report: glove showed --epochs 5 and --window 5, fasttext --sample 0.001 and
    --ns-exponent 0.75, and every default twice."""
    from embedkit.cli import main

    def help_of(model):
        with pytest.raises(SystemExit):
            main(["train", "--model", model, "--help"])
        return " ".join(capsys.readouterr().out.split())

    glove = help_of("glove")
    assert "--epochs EPOCHS (also -epoch, -iter) passes over the non-zero co-occurrences (default: 25)" in glove
    assert "(default: 10)" in glove.rsplit("--window WINDOW", 1)[1][:200] and "--negative" not in glove
    ft = help_of("fasttext")
    assert "(default: 0.0001)" in ft.rsplit("--sample SAMPLE", 1)[1][:120]
    assert "(default: 0.5)" in ft.rsplit("--ns-exponent NS_EXPONENT", 1)[1][:150]
    assert "(default: pair)" in ft.rsplit("--sg-update SG_UPDATE", 1)[1][:400]
    sg, cbow = help_of("skipgram"), help_of("cbow")
    assert "(default: 0.025)" in sg.rsplit("--lr LR", 1)[1][:150] and "(default: 0.05)" in cbow.rsplit("--lr LR", 1)[1][:150]
    assert "--sg-update" in sg and "--sg-update" not in cbow and "--x-max" not in sg
    for text in (glove, ft, sg, cbow):
        assert "(default: None)" not in text
