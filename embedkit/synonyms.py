"""Option names of gensim, word2vec C, fastText and Stanford GloVe, and what embedkit calls them.

Used for hints only: an unknown CLI flag or Python keyword that another tool uses is answered
with embedkit's name ("gensim's vector_size is dim here"). The CLI also *accepts* fastText's own
spellings (-dim, -ws, -epoch, ...): those are the aliases in embedkit/cli/options.py.
Keys are squashed: lower case, without '-' and '_'.
"""
from __future__ import annotations

import re

# squashed foreign name -> (embedkit field, or None when there is no single field; a note or None)
FOREIGN_NAMES: dict[str, tuple[str | None, str | None]] = {
    "vectorsize": ("dim", None), "size": ("dim", None), "dimension": ("dim", None),
    "iter": ("epochs", None), "iterations": ("epochs", None), "epoch": ("epochs", None),
    "maxiter": ("epochs", None), "niter": ("epochs", None),
    "alpha": ("lr", None), "startingalpha": ("lr", None), "learningrate": ("lr", None),
    "minalpha": ("min_lr_ratio", "a fraction of lr, not a rate"),
    "hs": ("objective", "objective='hs' for hierarchical softmax, 'ns' for negative sampling"),
    "loss": ("objective", "'ns' or 'hs'"),
    "sg": (None, "the architecture is the model: 'skipgram' or 'cbow'"),
    "cbow": (None, "the architecture is the model: 'skipgram' or 'cbow'"),
    "workers": ("workers", None), "threads": ("workers", None), "thread": ("workers", None),
    "numthreads": ("workers", None), "njobs": ("workers", None),
    "mincount": ("min_count", None), "vocabmincount": ("min_count", None),
    "maxfinalvocab": ("max_size", None), "maxvocab": ("max_size", None),
    "ws": ("window", None), "windowsize": ("window", None),
    "neg": ("negative", None), "t": ("sample", None), "minn": ("minn", None), "maxn": ("maxn", None),
    "corpusfile": ("corpus", None), "sentences": ("corpus", None), "corpusiterable": ("corpus", None),
    "input": ("corpus", None), "train": ("corpus", None),
    "wordngrams": (None, "embedkit's models use no word n-grams"),
    "lrupdaterate": (None, "the learning rate decays linearly after every batch of words"),
    "shrinkwindows": (None, "the effective window is always drawn from 1..window, as word2vec C"),
    "sortedvocab": (None, "the vocabulary is always sorted by frequency"),
    "computeloss": (None, "the loss is always computed and logged"),
    "binary": (None, "choose the vector format with `embedkit export --to-format` or the file's extension"),
}


def squash(name: str) -> str:
    """--min-count, -minCount, min_count -> mincount."""
    return re.sub(r"[-_]", "", name).lower()


def _lookup(name: str, known: set[str]) -> tuple[str | None, str | None] | None:
    """(embedkit field, note) for a foreign name whose field is among `known` (or that has no field)."""
    entry = FOREIGN_NAMES.get(squash(name))
    if entry is None or (entry[0] is not None and squash(entry[0]) not in known):
        return None
    return entry


def foreign_option_hint(flag: str, options) -> str:
    """For the CLI: 'embedkit calls it --dim' for a flag another tool uses, else ''."""
    flags = {squash(o): o for o in options if o.startswith("--")}
    entry = _lookup(flag, set(flags))
    if entry is None:
        return ""
    field, note = entry
    if field is None:
        return note or ""
    return f"embedkit calls it {flags[squash(field)]}" + (f": {note}" if note else "")


def foreign_keyword_hint(name: str, fields) -> str:
    """For the Python API: "embedkit calls it dim" for a keyword another library uses, else ''."""
    fields = {squash(f): f for f in fields}
    entry = _lookup(name, set(fields))
    if entry is None:
        return ""
    field, note = entry
    if field is None:
        return note or ""
    return f"embedkit calls it {fields[squash(field)]}" + (f" ({note})" if note else "")
