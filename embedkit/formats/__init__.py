"""Vector file formats behind `embedkit.io` (use `embedkit.io.load` / `save` / `save_model`).

    text.py    word2vec text ("V D" header), fastText .vec (same, trailing space), GloVe text (no header)
    binary.py  word2vec binary (header, then `word<SP><D little-endian float32>` records)
    fasttext_bin.py  fastText's .bin model (vocabulary, input rows with n-gram buckets, settings)
    native.py  embedkit's model folder (model.json + vocab.tsv + arrays.npz + ...)
    detect.py  which of these a path holds

Shared here: opening (plain, gzip, bzip2 or xz, recognised by their magic bytes whatever the
name), turning damage found while reading into EmbedkitError, and the checks on words that must
survive a round trip through a whitespace-separated format.
"""
from __future__ import annotations

import bz2
import codecs
import contextlib
import gzip
import lzma
import os
import zlib
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path

UNICODE_ERRORS = ("strict", "replace", "ignore")


MAGIC = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))
# what a damaged or cut compressed stream raises while it is read (gzip.BadGzipFile is an OSError)
READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


def compression_opener(path):
    """gzip.open, bz2.open or lzma.open when the file starts with that format's magic bytes, else open."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError as e:
        raise EmbedkitError(f"cannot read {path}: {e.strerror or e}") from None
    return next((opener for magic, opener in MAGIC if head.startswith(magic)), open)


def open_read(path):
    """Binary file object for `path`, decompressed when it is gzip, bzip2 or xz (by content, not
    name), past a UTF-8 byte order mark at its start; EmbedkitError if unreadable."""
    path = Path(path)
    if path.is_dir():
        raise EmbedkitError(f"{path} is a folder, not a file")
    opener = compression_opener(path)
    try:
        f = opener(path, "rb")
    except READ_ERRORS as e:
        raise EmbedkitError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    try:
        if f.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:     # Windows editors start text with one
            f.seek(0)
        return f
    except READ_ERRORS as e:
        f.close()
        raise EmbedkitError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None


@contextlib.contextmanager
def read_errors(path):
    """Damage met while reading `path` (a cut or corrupt compressed stream, an I/O error) becomes
    one EmbedkitError naming the file."""
    try:
        yield
    except READ_ERRORS as e:
        why = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise EmbedkitError(f"cannot read {path}: the file is damaged or cut short ({why})") from None


@contextlib.contextmanager
def open_write(path):
    """Binary file object writing atomically to `path` (compressed when it ends in .gz / .bz2)."""
    path = Path(path)
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(path.suffix, open)
    try:
        with atomic_path(path) as tmp, opener(tmp, "wb") as f:
            yield f
    except OSError as e:
        raise EmbedkitError(f"cannot write {path}: {e.strerror or e}") from None


# The characters a vectors or vocabulary file's readers split on: ASCII whitespace and NUL, as
# fastText's reader does (C++ >> and its own word reader), gensim splits on " " and word2vec C on
# " ", "\t" and "\n". Other Unicode spaces (U+00A0, U+2009, U+0085, ...) are ordinary characters
# to all of them: fastText's .vec files and its classifier's words contain them.
SEPARATORS = frozenset(" \t\n\r\v\f\0")


def writable_word(word: str) -> bool:
    """A word a whitespace-separated file can hold and read back: non-empty, no SEPARATORS."""
    return bool(word) and SEPARATORS.isdisjoint(word)


def check_words(words, path, fmt: str) -> None:
    """Words written to a whitespace-separated format must be non-empty and free of the
    separators, or the file would not read back as the same vocabulary."""
    for i, w in enumerate(words):
        if not writable_word(w):
            raise EmbedkitError(f"cannot write {fmt} file {os.fspath(path)}: word #{i} {w!r} is empty or "
                                "contains ASCII whitespace, which this format cannot represent")


def check_finite(vectors, path, where) -> None:
    """NaN or infinity in a vectors file is an error naming the row (`where(i)`) and the column:
    such a row makes every cosine with it NaN, so queries and evaluations would quietly go wrong."""
    if vectors.size and not np.isfinite(vectors).all():
        i, j = np.argwhere(~np.isfinite(vectors))[0]
        raise EmbedkitError(f"{path}, {where(int(i))}: value {int(j) + 1} is {vectors[i, j]}, not a finite number")


def bad_utf8(path, line_or_byte: str, err: UnicodeDecodeError) -> EmbedkitError:
    return EmbedkitError(f"{path}, {line_or_byte}: invalid UTF-8 ({err.reason}); "
                         "pass unicode_errors='replace' or 'ignore' (--unicode-errors) to read it anyway")
