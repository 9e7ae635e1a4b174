"""Vector file formats behind `embedkit.io` (use `embedkit.io.load` / `save` / `save_model`).

    text.py    word2vec text ("V D" header), fastText .vec (same, trailing space), GloVe text (no header)
    binary.py  word2vec binary (header, then `word<SP><D little-endian float32>` records)
    fasttext_bin.py  fastText's .bin model (vocabulary, input rows with n-gram buckets, settings)
    native.py  embedkit's model folder (model.json + vocab.tsv + arrays.npz + ...)
    detect.py  which of these a path holds

Shared here: opening (plain, .gz or .bz2, by suffix) and the checks on words that must survive
a round trip through a whitespace-separated format.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import os
from pathlib import Path

from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path

UNICODE_ERRORS = ("strict", "replace", "ignore")


def open_read(path):
    """Binary file object for `path`, decompressing .gz / .bz2; EmbedkitError if unreadable."""
    path = Path(path)
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix, open)
    try:
        return opener(path, "rb")
    except OSError as e:
        raise EmbedkitError(f"cannot read {path}: {e.strerror or e}") from None


@contextlib.contextmanager
def open_write(path):
    """Binary file object writing atomically to `path` (compressed when it ends in .gz / .bz2)."""
    path = Path(path)
    opener = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix, open)
    try:
        with atomic_path(path) as tmp, opener(tmp, "wb") as f:
            yield f
    except OSError as e:
        raise EmbedkitError(f"cannot write {path}: {e.strerror or e}") from None


def check_words(words, path, fmt: str) -> None:
    """Words written to a whitespace-separated format must be non-empty and free of whitespace,
    or the file would not read back as the same vocabulary."""
    for i, w in enumerate(words):
        if not w or any(ch.isspace() for ch in w):
            raise EmbedkitError(f"cannot write {fmt} file {os.fspath(path)}: word #{i} {w!r} is empty or "
                                "contains whitespace, which this format cannot represent")


def bad_utf8(path, line_or_byte: str, err: UnicodeDecodeError) -> EmbedkitError:
    return EmbedkitError(f"{path}, {line_or_byte}: invalid UTF-8 ({err.reason}); "
                         "pass unicode_errors='replace' or 'ignore' (--unicode-errors) to read it anyway")
