"""Input expansion, decompression by extension, and whitespace-cut blocks."""
import bz2
import gzip
import io
import lzma
import os

import pytest

from embedkit.corpus import reader
from embedkit.corpus.reader import expand_inputs, iter_blocks
from embedkit.errors import EmbedkitError

TEXT = ("the quick brown fox\njumps over  the lazy dog\n\n" + "a long line without newline " * 40
        + "\nlast line no newline").encode()
WRITERS = {"": open, ".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def write(path, data: bytes):
    with WRITERS[os.path.splitext(path)[1] if path.endswith((".gz", ".bz2", ".xz")) else ""](path, "wb") as f:
        f.write(data)
    return str(path)


def test_expand_inputs_files_folders_stdin(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("z")
    (tmp_path / "b" / "a.txt").write_text("a")
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / ".hidden.txt").write_text("h")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x").write_text("x")
    got = expand_inputs([tmp_path, "-", tmp_path / "a.txt"])
    assert got == [str(tmp_path / "a.txt"), str(tmp_path / "b" / "a.txt"), str(tmp_path / "b" / "z.txt"),
                   "-", str(tmp_path / "a.txt")]
    assert expand_inputs(str(tmp_path / "a.txt")) == [str(tmp_path / "a.txt")]


def test_expand_inputs_errors_name_the_path(tmp_path):
    with pytest.raises(EmbedkitError, match="nope.txt does not exist"):
        expand_inputs([tmp_path / "nope.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmbedkitError, match="empty contains no files"):
        expand_inputs([tmp_path / "empty"])
    with pytest.raises(EmbedkitError, match="no input"):
        expand_inputs([])
    with pytest.raises(EmbedkitError, match="standard input.*twice"):   # its text would count twice
        expand_inputs(["-", "-"])


@pytest.mark.parametrize("ext", ["", ".gz", ".bz2", ".xz"])
@pytest.mark.parametrize("block_size", [1, 5, 64, 1 << 16])
def test_blocks_reassemble_and_end_at_whitespace(tmp_path, ext, block_size):
    path = write(str(tmp_path / f"c.txt{ext}"), TEXT)
    blocks = list(iter_blocks(path, block_size))
    assert b"".join(b for _, b in blocks) == TEXT
    offsets = [o for o, _ in blocks]
    assert offsets == [sum(len(b) for _, b in blocks[:i]) for i in range(len(blocks))]
    for _, b in blocks[:-1]:
        assert b[-1:] in (b"\n", b" ")
        # a block only ends at a space when it holds no newline
        assert b.endswith(b"\n") or b"\n" not in b


def test_block_cut_never_splits_utf8(tmp_path):
    data = "é ü 東京 😀 ".encode() * 50
    path = write(str(tmp_path / "u.txt"), data)
    for _, b in iter_blocks(path, 3):
        b.decode("utf-8")


def test_stdin(monkeypatch):
    class FakeStdin:
        buffer = io.BytesIO(TEXT)
    monkeypatch.setattr("sys.stdin", FakeStdin)
    assert b"".join(b for _, b in iter_blocks("-", 7)) == TEXT


@pytest.mark.parametrize("chunk_size", [16, 1 << 20])
def test_long_token_is_carried_then_refused(tmp_path, monkeypatch, chunk_size):
    monkeypatch.setattr(reader, "CHUNK_SIZE", chunk_size)
    path = write(str(tmp_path / "t.txt"), b"x" * 100 + b" y")
    assert [b for _, b in iter_blocks(path, 8)] == [b"x" * 100 + b" ", b"y"]
    path = write(str(tmp_path / "t.txt"), b"x" * 100)
    monkeypatch.setattr(reader, "MAX_TOKEN_BYTES", 50)
    with pytest.raises(EmbedkitError, match="no whitespace .* is this a text file"):
        list(iter_blocks(path, 8))


@pytest.mark.parametrize("prefetch", [0, 2])
def test_corrupt_compressed_file_is_an_error(tmp_path, monkeypatch, prefetch):
    monkeypatch.setattr(reader, "PREFETCH", prefetch)
    good = gzip.compress(TEXT * 200)
    path = tmp_path / "bad.txt.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(EmbedkitError, match="bad.txt.gz.*truncated"):
        list(iter_blocks(str(path), 1024))
    path.write_bytes(good + b"garbage after the member")
    with pytest.raises(EmbedkitError, match="bad.txt.gz"):
        list(iter_blocks(str(path), 1024))
    path = tmp_path / "bad.txt.bz2"
    path.write_bytes(b"BZh9 this is not bzip2 data")
    with pytest.raises(EmbedkitError, match="bad.txt.bz2"):
        list(iter_blocks(str(path), 1024))


@pytest.mark.parametrize("ext", [".gz", ".bz2", ".xz"])
@pytest.mark.parametrize("prefetch", [0, 2])
def test_multi_member_padding_and_small_chunks(tmp_path, monkeypatch, ext, prefetch):
    """Concatenated members (cat a.gz b.gz), gzip zero padding, and output chunks far smaller
    than a compressed block (highly compressible input) all decompress exactly."""
    monkeypatch.setattr(reader, "PREFETCH", prefetch)
    monkeypatch.setattr(reader, "CHUNK_SIZE", 1000)
    monkeypatch.setattr(reader, "RAW_READ_SIZE", 37)
    compress = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}[ext]
    part1, part2 = b"a " * 50_000 + b"\n", TEXT
    raw = compress(part1) + compress(part2) + (b"\0" * 1024 if ext == ".gz" else b"")
    path = tmp_path / f"m.txt{ext}"
    path.write_bytes(raw)
    chunks = list(reader.iter_chunks(str(path), 1000))
    assert b"".join(chunks) == part1 + part2 and max(map(len, chunks)) <= 1000
    assert b"".join(b for _, b in iter_blocks(str(path), 100)) == part1 + part2


def test_stopping_early_stops_the_thread(tmp_path):
    import threading
    path = write(str(tmp_path / "big.txt.gz"), b"word " * 2_000_000)
    it = iter_blocks(path, 1000)
    next(it)
    it.close()
    assert not [t for t in threading.enumerate() if t.name == "embedkit-decompress"]


@pytest.mark.parametrize("block_size", [1, 2, 64])
def test_a_byte_order_mark_is_left_out(tmp_path, block_size):
    """U+FEFF at the start of a file is not text: with --tokenizer whitespace it became part of the
    first token. Offsets stay those of the file's bytes."""
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhello world\n")
    blocks = list(iter_blocks(str(path), block_size))
    assert b"".join(b for _, b in blocks) == b"hello world\n" and blocks[0][0] == 3
    path.write_bytes(b"\xef\xbb")                      # too short to be one: kept as it is
    assert b"".join(b for _, b in iter_blocks(str(path), block_size)) == b"\xef\xbb"
    path.write_bytes(b"a \xef\xbb\xbfb\n")             # only at the start
    assert b"".join(b for _, b in iter_blocks(str(path), block_size)) == b"a \xef\xbb\xbfb\n"
