"""What every picture shares: the lazy import of an optional library, a new figure, the atomic write.

matplotlib is used through `matplotlib.figure.Figure` alone, never pyplot: no global figure state,
no GUI backend to pick, safe on a headless machine and in threads.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path

INSTALL_HINT = "pip install 'embedkit[plot]'"
IMAGE_FORMATS = ("png", "svg", "pdf")      # matplotlib writes these without further libraries


def optional_import(module: str, package: str, purpose: str):
    """Import `module` of the optional extra `plot`, or a one-line EmbedkitError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise EmbedkitError(f"{purpose} needs {package}, which is not installed: {INSTALL_HINT}") from None


def image_format(out) -> str:
    """The picture's format, from OUT's extension (png, svg or pdf)."""
    fmt = Path(out).suffix.lower().lstrip(".")
    if fmt not in IMAGE_FORMATS:
        raise EmbedkitError(f"cannot tell the picture format from the name {out}: "
                            f"use one of the extensions {', '.join('.' + f for f in IMAGE_FORMATS)}")
    return fmt


def new_figure(width: float, height: float):
    """A matplotlib Figure of width x height inches (not registered with pyplot)."""
    optional_import("matplotlib", "matplotlib", "drawing a picture")
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig, out, dpi: int = 110) -> None:
    """Write `fig` to `out` atomically (a temporary name beside it, then a rename)."""
    fmt = image_format(out)
    # No metadata: the same figure gives the same bytes (matplotlib otherwise stamps its version/date).
    metadata = {"Software": None} if fmt == "png" else {"Creator": None} if fmt == "svg" else \
        {"Creator": None, "Producer": None, "CreationDate": None}
    try:
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
    except OSError as e:
        raise EmbedkitError(f"cannot write {out}: {e.strerror or e}") from None
