"""Generate argparse flags from config dataclasses, so defaults and help live in one place.

ALIASES: other spellings accepted for a field's flag: fastText's (`-dim`, `-ws`, `-epoch`,
`-minCount`, `-neg`, `-thread`, `-minn`, `-maxn`, `-loss`, `-lr`, `-t`, `-bucket`, `-seed`),
word2vec C's (`-size`, `-window`, `-iter`, `-min-count`, `-negative`, `-threads`, `-sample`,
word2phrase's `-threshold`) and `--threads`. They are listed in the README's fastText table.
"""
from __future__ import annotations

import argparse
import dataclasses

from embedkit.config import CLI, condition_text, effective_default, field_type, inapplicable
from embedkit.errors import EmbedkitError


ALIASES: dict[str, tuple[str, ...]] = {
    "dim": ("-dim", "-size"),
    "window": ("-ws", "-window"),
    "epochs": ("-epoch", "-iter"),
    "min_count": ("-minCount", "--minCount", "-min-count"),
    "negative": ("-neg", "-negative"),
    "workers": ("--threads", "-thread", "-threads"),
    "minn": ("-minn",),
    "maxn": ("-maxn",),
    "objective": ("--loss", "-loss"),
    "lr": ("-lr",),
    "sample": ("-t", "-sample"),
    "bucket": ("-bucket",),
    "seed": ("-seed",),
    "threshold": ("-threshold",),
    "word_ngrams": ("-wordNgrams",),
    "label_prefix": ("-label",),
    "pretrained_vectors": ("-pretrainedVectors",),
}


def help_with_default(text: str, default) -> str:
    """`text (default: X)`, once: a help text that already states its default is left as it is."""
    if "(default:" in text:
        return text
    shown = "none" if default is None else ("on" if default is True else "off" if default is False else default)
    return f"{text} (default: {shown})"


def add_config_options(parser: argparse.ArgumentParser, cls, skip=(), group_title=None, instance=None):
    """Add one --flag per field of dataclass `cls` (default None = "not given"). With `instance`
    (a config as a run would make it), the help shows its values as the defaults, and notes when
    an option applies only with other settings (the field's `when`)."""
    group = parser.add_argument_group(group_title or cls.__name__)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        tp = field_type(f)
        text = f.metadata.get("help", "")
        when = f.metadata.get("when", {})
        if when:
            text += "; only with " + " and ".join(condition_text(CLI, k, v) for k, v in when.items())
        default = f.default if instance is None else effective_default(instance, f.name)
        kwargs = {"dest": f.name, "default": None, "help": help_with_default(text, default)}
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = tp
            kwargs["metavar"] = f.name.upper()
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
        group.add_argument("--" + f.name.replace("_", "-"), *ALIASES.get(f.name, ()), **kwargs)


def config_from_args(cls, args: argparse.Namespace, **overrides):
    """Build `cls` from the flags the user gave; missing flags keep the dataclass default. A flag
    that does not apply to the result (its `when` fails, e.g. --phrase-threshold without
    --phrases) is a one-line error, as in train, rather than ignored."""
    values = {}
    for f in dataclasses.fields(cls):
        v = getattr(args, f.name, None)
        if v is not None:
            values[f.name] = v
    given = list(values)
    values.update({k: v for k, v in overrides.items() if v is not None})
    cfg = cls(**values)
    problems = inapplicable(cfg, given)
    if problems:
        raise EmbedkitError("; ".join(problems))
    return cfg
