"""Reading corpus inputs: files and folders, decompression, byte blocks cut at whitespace, UTF-8.

Inputs are files, folders (every non-hidden file below, recursively, in sorted order) and `-`
for standard input. A file is recognised by its content as well as its name: gzip, bzip2 and xz
by their magic bytes or extension (.gz, .bz2, .xz; .lzma by extension only), and decompressed by
a background thread a few MB ahead (zlib, bz2 and lzma release the GIL), so decompression
overlaps tokenizing. A zip archive (.zip or its magic bytes; text8 ships as one) is read member
by member in name order (hidden members and folders skipped, a newline between members); a
member that is itself compressed, an encrypted one or a damaged archive is a one-line error.
Anything else is read as it is.

Memory never grows with the size of a file. Decompressed text arrives in chunks of CHUNK_SIZE
(4 MiB) and is handed on in blocks of about BLOCK_SIZE (1 MiB: the text scanner measured no
faster with larger ones), each cut just after its last newline, or when it holds no newline
(text8 is one 100M-character line) just after its last ASCII whitespace byte. So no token and
no UTF-8 sequence is ever split between blocks (ASCII bytes never occur inside a multi-byte
UTF-8 sequence), and a line is only split where every tokenizer splits anyway.

Text is UTF-8. Lines are separated by b"\n" only (a trailing "\r" is whitespace to every
tokenizer). With encoding_errors "replace" each undecodable byte becomes one U+FFFD and is
counted in CorpusStats.replaced_bytes; with "strict" the first one is an EmbedkitError naming
the file and the byte's offset in the decompressed stream (decode_utf8).
"""
from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
import queue
import re
import sys
import threading
import zipfile
import zlib
from typing import BinaryIO, Iterator

from embedkit.errors import EmbedkitError

BLOCK_SIZE = 1 << 20          # bytes of text handed on at a time
CHUNK_SIZE = 1 << 22          # bytes of decompressed text read (or decompressed ahead) at a time
RAW_READ_SIZE = 1 << 20       # compressed bytes read at a time
PREFETCH = 2                  # chunks a background thread decompresses ahead (0: no thread)
MAX_TOKEN_BYTES = 1 << 26     # a run of this many bytes without whitespace is not text
_WHITESPACE = (b" ", b"\t", b"\r", b"\x0b", b"\x0c")
_DECODE_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)   # corrupt/truncated streams
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")   # what surrogateescape makes of a bad byte


def resolve_inputs(paths) -> list[str]:
    """None or [] -> the bundled default corpus; otherwise expand_inputs(paths)."""
    if not paths:
        from embedkit.corpora import default_corpus_path
        paths = [str(default_corpus_path())]
    return expand_inputs(paths)


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
            if p in files:       # stdin is read once; a second "-" would count its text twice
                raise EmbedkitError("--corpus: - (standard input) is given twice; it can be read only once")
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
    openers = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
    codec = _codec(path)
    if codec == "zip":
        raise EmbedkitError(f"{path} is a zip archive, which cannot be read here: unpack it first")
    try:
        return openers.get(codec, open)(path, "rb")
    except OSError as e:
        raise EmbedkitError(f"cannot read {path}: {e.strerror or e}") from None


# the temporary files standard input is spooled to while it is read (corpus/prepare.py): messages
# and summaries name them as what the user gave, not as a temporary path
STDIN_SPOOLS: set[str] = set()


def display_name(path: str) -> str:
    return "<stdin>" if path == "-" or path in STDIN_SPOOLS else path


def sniff_codec(head: bytes) -> str | None:
    """"gzip", "bz2", "xz" or "zip" when `head` (a file's first 10 bytes or more) starts with that
    format's magic bytes, else None. bzip2's "BZh" must be followed by a block size digit and a
    block or end-of-stream magic, so a text starting with "BZh" stays text."""
    if head.startswith(b"\x1f\x8b\x08"):
        return "gzip"
    if head[:3] == b"BZh" and head[3:4] in b"123456789" and head[3:4] and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    return None


def _codec(path: str) -> str | None:
    """The compression of file `path`: from its extension, else from its first bytes."""
    name = path.lower()
    for ext, codec in ((".gz", "gzip"), (".bz2", "bz2"), (".xz", "xz"), (".lzma", "xz"), (".zip", "zip")):
        if name.endswith(ext):
            return codec
    try:
        with open(path, "rb") as f:
            return sniff_codec(f.read(16))
    except OSError:
        return None            # open_binary / iter_chunks report it


def _hidden_member(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in name.split("/") if part)


def _zip_chunks(path: str, size: int) -> Iterator[bytes]:
    """The members of zip archive `path`, in name order, a newline after any that lacks one."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise EmbedkitError(f"cannot read {path}: not a readable zip archive ({e})") from None
    with archive:
        members = sorted((i for i in archive.infolist() if not i.is_dir() and not _hidden_member(i.filename)),
                         key=lambda i: i.filename)
        if not members:
            raise EmbedkitError(f"{path}: the zip archive holds no file to read")
        for info in members:
            where = f"{path} (member {info.filename})"
            try:
                with archive.open(info) as f:
                    chunk = f.read(size)
                    if sniff_codec(chunk[:16]):
                        raise EmbedkitError(f"{where} is itself compressed ({sniff_codec(chunk[:16])}): unpack the "
                                            "archive and give the files instead")
                    last = b"\n"
                    while chunk:
                        yield chunk
                        last = chunk[-1:]
                        chunk = f.read(size)
                    if last != b"\n":
                        yield b"\n"
            except (RuntimeError, NotImplementedError) as e:     # encrypted; unsupported compression method
                raise EmbedkitError(f"cannot read {where}: {e}") from None
            except _DECODE_ERRORS as e:
                raise EmbedkitError(f"cannot read {where}: {e}") from None


def _decompress(raw: BinaryIO, codec: str, out_size: int) -> Iterator[bytes]:
    """Decompressed bytes of a compressed stream (several members/streams concatenated, as
    gzip -c a b > ab makes), at most out_size bytes per chunk so memory stays bounded even for
    highly compressible input. zlib, bz2 and lzma release the GIL while they work, so this runs
    well in a background thread."""
    d = None          # decompressor of the current member; None between members
    data = b""        # compressed bytes not yet handed to d
    while True:
        if not data:
            data = raw.read(RAW_READ_SIZE)
            if not data:
                break
        if d is None:
            if codec == "gzip" and not data.strip(b"\0"):   # zero padding after the last member
                data = b""
                continue
            d = (zlib.decompressobj(16 + zlib.MAX_WBITS) if codec == "gzip"
                 else bz2.BZ2Decompressor() if codec == "bz2" else lzma.LZMADecompressor())
        if codec == "gzip":
            out = d.decompress(data, out_size)
            data = d.unconsumed_tail
            more = not d.eof and not data and len(out) == out_size    # output may be left inside zlib
        else:
            out = d.decompress(data, out_size)
            data = b""
            more = not d.eof and not d.needs_input
        if out:
            yield out
        while more:
            out = d.decompress(b"", out_size)
            if codec == "gzip":
                data = d.unconsumed_tail
                more = not d.eof and not data and len(out) == out_size
            else:
                more = not d.eof and not d.needs_input
            if out:
                yield out
        if d.eof:
            data, d = d.unused_data, None
    if d is not None:
        raise EOFError("the compressed stream ends before its end-of-stream marker (truncated file?)")


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


_END = object()


def _prefetch(chunks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """Run the `chunks` generator in a background thread, `depth` chunks ahead of the consumer:
    decompression then overlaps tokenizing. Exceptions are re-raised in the consumer; closing
    this generator stops the thread and closes `chunks`."""
    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def work():
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(_END)
        except BaseException as e:      # handed over to the consumer thread
            put(_Failed(e))
        finally:
            chunks.close()

    thread = threading.Thread(target=work, name="embedkit-decompress", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join()


def iter_chunks(path: str, size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Decompressed bytes of `path` in chunks of at most `size` bytes (cut anywhere).
    Compressed files are decompressed by a background thread, PREFETCH chunks ahead."""
    codec = _codec(path) if path != "-" else sniff_codec(_peek_stdin(16))
    if codec == "zip":
        if path == "-":
            raise EmbedkitError("standard input is a zip archive, which cannot be read from a stream: give its path")
        yield from _zip_chunks(path, size)
        return
    if path == "-" and codec is not None:
        chunks = _decompress(sys.stdin.buffer, codec, size)
        yield from (_prefetch(chunks, PREFETCH) if PREFETCH else chunks)
        return
    if codec is None:
        f = open_binary(path)
        try:
            while chunk := f.read(size):
                yield chunk
        finally:
            if f is not sys.stdin.buffer:
                f.close()
        return
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise EmbedkitError(f"cannot read {path}: {e.strerror or e}") from None
    with raw:
        chunks = _decompress(raw, codec, size)
        yield from (_prefetch(chunks, PREFETCH) if PREFETCH else chunks)


def _peek_stdin(n: int) -> bytes:
    """Standard input's first bytes, left in place (b"" when it cannot peek)."""
    try:
        return sys.stdin.buffer.peek(n)[:n]
    except (AttributeError, OSError, ValueError):
        return b""


def iter_blocks(path: str, block_size: int = BLOCK_SIZE) -> Iterator[tuple[int, bytes]]:
    """Yield (offset, block): consecutive pieces of the decompressed bytes of `path` (a UTF-8 byte
    order mark at its start left out) of at most about block_size bytes, each ending just after
    its last newline, or failing one just after an ASCII whitespace byte, or at end of file.
    `offset` is the position of the block's first byte in the decompressed stream. Memory is
    O(CHUNK_SIZE + block_size), plus the length of the longest run without whitespace (at most
    MAX_TOKEN_BYTES: longer is an error).
    """
    if block_size < 1:
        raise ValueError("block_size must be >= 1")
    name = display_name(path)
    offset = 0        # of carry's first byte
    carry = b""       # bytes read but not yet yielded (no whitespace in them, or < block_size)
    chunks = iter_chunks(path, max(block_size, CHUNK_SIZE))
    bom_seen = False  # whether the stream's start has been checked for a byte order mark
    try:
        while True:
            try:
                chunk = next(chunks, None)
            except _DECODE_ERRORS as e:
                raise EmbedkitError(f"cannot read {name} near decompressed byte {offset + len(carry):,}: {e}") from None
            if chunk is None:
                break
            data = carry + chunk if carry else chunk
            if not bom_seen:
                if len(data) < len(codecs.BOM_UTF8) and codecs.BOM_UTF8.startswith(data):
                    carry = data                       # too short to tell yet
                    continue
                bom_seen = True
                if data.startswith(codecs.BOM_UTF8):   # Windows editors write one: it is not text
                    data, offset = data[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
            start = 0
            while len(data) - start >= block_size:
                end = start + block_size
                # any whitespace will do; the last newline keeps lines whole, the last space the carry small
                cut = (data.rfind(b"\n", start, end) + 1 or data.rfind(b" ", start, end) + 1
                       or max(data.rfind(w, start, end) for w in _WHITESPACE) + 1)
                if not cut:       # a token longer than block_size: cut after it, if its end is here
                    found = [i for i in (data.find(w, end) for w in _WHITESPACE + (b"\n",)) if i >= 0]
                    if not found:
                        break
                    cut = min(found) + 1
                yield offset, data[start:cut]
                offset += cut - start
                start = cut
            carry = data[start:] if start else data
            if len(carry) > MAX_TOKEN_BYTES:
                raise EmbedkitError(f"{name}: no whitespace in {len(carry):,} bytes from byte offset {offset:,}; "
                                    f"is this a text file?")
        if carry:
            yield offset, carry
    finally:
        chunks.close()


def decode_utf8(block: bytes, path: str, offset: int, strict: bool, stats) -> str:
    """Decode one block of `path` that starts at decompressed byte `offset`: undecodable bytes
    are replaced (one U+FFFD each, counted in stats.replaced_bytes) or, when strict, the first
    one is an EmbedkitError naming the file and the byte."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as e:
        if strict:
            raise EmbedkitError(
                f"{display_name(path)}: invalid UTF-8 at byte offset {offset + e.start} ({e.reason}); "
                f"--encoding-errors replace replaces and counts such bytes") from None
    text, n_bad = _ESCAPED_BYTE.subn("\ufffd", block.decode("utf-8", "surrogateescape"))
    stats.replaced_bytes += n_bad
    return text
