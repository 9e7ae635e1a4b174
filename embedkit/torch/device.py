"""torch itself and the device: the two things every torch backend needs first."""
from __future__ import annotations

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
