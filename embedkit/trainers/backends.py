"""The backend table: (model family, backend name) -> the class that runs the family's epochs.

Trainers look their backend up here and never branch on its name. A backend class is built from
the family's task (trainers/tasks.py) and follows the protocol of trainers/runner.py. Entries are
"module:Class" strings, imported only when chosen, so torch is imported only for --backend torch.
"""
from __future__ import annotations

import importlib

from embedkit.errors import EmbedkitError

BACKENDS: dict[tuple[str, str], str] = {
    ("word2vec", "numba"): "embedkit.trainers.word2vec_numba:NumbaWord2Vec",
    ("word2vec", "torch"): "embedkit.torch.word2vec:TorchWord2Vec",
    ("glove", "numba"): "embedkit.trainers.glove_numba:NumbaGloVe",
    ("classifier", "numba"): "embedkit.trainers.word2vec_numba:NumbaWord2Vec",   # the walker's SUPERVISED step
    ("glove", "torch"): "embedkit.torch.glove:TorchGloVe",
}


def backend_class(family: str, backend: str):
    """The backend class of (family, backend); an unknown pair is an error naming what exists."""
    target = BACKENDS.get((family, backend))
    if target is None:
        have = sorted(b for f, b in BACKENDS if f == family)
        raise EmbedkitError(f"--backend {backend} is not available for this model; choose one of {', '.join(have)}")
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def check_backend(family: str, backend: str, device: str) -> None:
    """Before any work: the backend exists and can use `device` (a backend class without
    `check_device` runs on the CPU only)."""
    cls = backend_class(family, backend)
    if hasattr(cls, "check_device"):
        cls.check_device(device)
    elif device != "cpu":
        raise EmbedkitError(f"--device {device} needs --backend torch; --backend {backend} runs on the CPU")


def make_backend(family: str, backend: str, task, chunk: int = 0):
    """The backend object for `task`; chunk > 0: units per worker between two yields to the runner
    (distributed runs sync there, so they ask for smaller chunks than the backend's default)."""
    cls = backend_class(family, backend)
    return cls(task, chunk) if chunk > 0 else cls(task)
