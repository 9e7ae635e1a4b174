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


def test_long_token_is_carried_then_refused(tmp_path, monkeypatch):
    path = write(str(tmp_path / "t.txt"), b"x" * 100 + b" y")
    assert [b for _, b in iter_blocks(path, 8)] == [b"x" * 100 + b" ", b"y"]
    monkeypatch.setattr(reader, "MAX_TOKEN_BYTES", 50)
    with pytest.raises(EmbedkitError, match="no whitespace .* is this a text file"):
        list(iter_blocks(path, 8))


def test_corrupt_compressed_file_is_an_error(tmp_path):
    good = gzip.compress(TEXT * 200)
    path = tmp_path / "bad.txt.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(EmbedkitError, match="bad.txt.gz"):
        list(iter_blocks(str(path), 1024))
    path = tmp_path / "bad.txt.bz2"
    path.write_bytes(b"BZh9 this is not bzip2 data")
    with pytest.raises(EmbedkitError, match="bad.txt.bz2"):
        list(iter_blocks(str(path), 1024))
