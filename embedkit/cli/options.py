"""Generate argparse flags from config dataclasses, so defaults and help live in one place."""
from __future__ import annotations

import argparse
import dataclasses
import typing


def _base_type(tp):
    """int / float / str / bool from a (possibly Optional) annotation."""
    if isinstance(tp, str):
        tp = eval(tp, {"Optional": typing.Optional})  # annotations are strings under `from __future__`
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if args else tp


def add_config_options(parser: argparse.ArgumentParser, cls, skip=(), group_title=None):
    """Add one --flag per field of dataclass `cls` (default None = "not given")."""
    group = parser.add_argument_group(group_title or cls.__name__)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        tp = _base_type(f.type)
        kwargs = {"dest": f.name, "default": None,
                  "help": f"{f.metadata.get('help', '')} (default: {f.default})"}
        if tp is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = tp
            kwargs["metavar"] = f.name.upper()
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
        group.add_argument("--" + f.name.replace("_", "-"), **kwargs)


def config_from_args(cls, args: argparse.Namespace, **overrides):
    """Build `cls` from the flags the user gave; missing flags keep the dataclass default."""
    values = {}
    for f in dataclasses.fields(cls):
        v = getattr(args, f.name, None)
        if v is not None:
            values[f.name] = v
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**values)
