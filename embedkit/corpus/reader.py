"""Reading corpus inputs as a stream of byte blocks cut at whitespace.

Inputs are files, folders (every non-hidden file below, recursively, in sorted order) and `-`
for standard input. A file is decompressed by its extension: .gz, .bz2, .xz (also .lzma),
anything else is read as it is. Memory never grows with the size of a file: it is read in blocks
of `block_size` bytes of decompressed data, each cut just after its last newline, or when a
block holds no newline (text8 is one 100M-character line) just after its last ASCII whitespace
byte. So no token and no UTF-8 sequence is ever split between blocks (ASCII bytes never occur
inside a multi-byte UTF-8 sequence), and a line is only ever split where a tokenizer would split
it anyway.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import os
import sys
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

from embedkit.errors import EmbedkitError

BLOCK_SIZE = 1 << 16          # bytes of decompressed text per block: 64 KiB keeps a block's tokens in cache
MAX_TOKEN_BYTES = 1 << 26     # a run of this many bytes without whitespace is not text
_WHITESPACE = (b" ", b"\t", b"\r", b"\x0b", b"\x0c")
_DECODE_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)   # corrupt/truncated streams


def expand_inputs(paths) -> list[str]:
    """Input paths as a flat list of files: a folder becomes every non-hidden file below it
    (recursively, sorted, hidden folders skipped); `-` (stdin) is kept as it is.

    `paths` is one path or a list of them. A missing path, an empty folder or no input at all
    is an EmbedkitError naming it.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise EmbedkitError("--corpus: no input path given")
    files: list[str] = []
    for p in paths:
        p = os.fspath(p)
        if p == "-":
            files.append(p)
        elif os.path.isdir(p):
            found = []
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, n) for n in sorted(names) if not n.startswith("."))
            if not found:
                raise EmbedkitError(f"--corpus: folder {p} contains no files")
            files.extend(sorted(found))
        elif os.path.exists(p):
            files.append(p)
        else:
            raise EmbedkitError(f"--corpus: {p} does not exist")
    return files


def open_binary(path: str) -> BinaryIO:
    """A binary stream of the decompressed bytes of `path` (`-` = stdin), by extension."""
    if path == "-":
        return sys.stdin.buffer
    name = path.lower()
    try:
        if name.endswith(".gz"):
            return gzip.open(path, "rb")
        if name.endswith(".bz2"):
            return bz2.open(path, "rb")
        if name.endswith((".xz", ".lzma")):
            return lzma.open(path, "rb")
        return open(path, "rb")
    except OSError as e:
        raise EmbedkitError(f"cannot read {path}: {e.strerror or e}") from None


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def iter_blocks(path: str, block_size: int = BLOCK_SIZE) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, block): consecutive pieces of the decompressed bytes of `path`, each ending
    just after a newline, or failing one just after an ASCII whitespace byte, or at end of file.
    `offset` is the position of the block's first byte in the decompressed stream. At most one
    partial token (< block_size bytes, or a run of up to MAX_TOKEN_BYTES without whitespace) is
    carried between reads, so memory is O(block_size).
    """
    if block_size < 1:
        raise ValueError("block_size must be >= 1")
    f = open_binary(path)
    offset = 0
    carry = b""
    try:
        while True:
            try:
                data = f.read(block_size)
            except _DECODE_ERRORS as e:
                raise EmbedkitError(f"cannot read {display_name(path)} near decompressed byte "
                                    f"{offset + len(carry):,}: {e}") from None
            if not data:
                break
            data = carry + data if carry else data
            cut = data.rfind(b"\n") + 1
            if not cut:     # any whitespace will do; the last one keeps the carry small
                cut = data.rfind(b" ") + 1 or max(data.rfind(w) for w in _WHITESPACE) + 1
            if not cut:
                if len(data) > MAX_TOKEN_BYTES:
                    raise EmbedkitError(f"{display_name(path)}: no whitespace in {len(data):,} bytes from byte "
                                        f"offset {offset:,}; is this a text file?")
                carry = data
                continue
            if cut == len(data):
                block, carry = data, b""
            else:
                block, carry = data[:cut], data[cut:]
            yield offset, block
            offset += len(block)
        if carry:
            yield offset, carry
    finally:
        if f is not sys.stdin.buffer:
            f.close()
