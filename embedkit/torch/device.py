"""torch itself and the device: the two things every torch backend needs first."""
from __future__ import annotations

import contextlib

from embedkit.errors import EmbedkitError


def import_torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is installed in the dev environment
        raise EmbedkitError("--backend torch needs PyTorch (pip install torch)") from e
    return torch


def resolve_device(name: str):
    """torch.device for "cpu", "cuda" or "cuda:N"; a one-line error when that GPU is not there."""
    torch = import_torch()
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise EmbedkitError(f"--device {name} was asked for but torch sees no CUDA GPU; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise EmbedkitError(f"--device {name}: torch sees only {torch.cuda.device_count()} CUDA GPU(s)")
    return device


def read_only(array, device):
    """A tensor of a numpy array the backend only reads (the corpus's token ids): a view of it on
    the CPU (no copy of a memory-mapped cached corpus), a copy on a GPU. torch warns on every
    read-only array (a memory-mapped cache is one), for writes that never come here."""
    import warnings
    torch = import_torch()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array).to(device)


@contextlib.contextmanager
def allocating(settings: str, fix: str):
    """embedkit.memory.allocating for torch: its allocators raise RuntimeError (the CPU's "can't
    allocate memory") or torch.OutOfMemoryError (CUDA), not MemoryError."""
    from embedkit.memory import out_of_memory
    try:
        yield
    except RuntimeError as e:
        if "out of memory" not in str(e).lower() and "can't allocate memory" not in str(e):
            raise
        raise out_of_memory(settings, fix, RuntimeError(str(e).strip().splitlines()[0][:200])) from None
