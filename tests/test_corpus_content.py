"""Corpus input recognised by content (corpus/reader.py, corpus/stream.py): compressed files by
their magic bytes whatever their name, zip archives member by member in name order, and a one-line
warning (an error with --encoding-errors strict) for files that are not UTF-8 text."""
from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile

import pytest

from embedkit.config import CorpusConfig
from embedkit.corpus import stream
from embedkit.corpus.count import build_vocab
from embedkit.corpus.reader import iter_chunks, sniff_codec
from embedkit.corpus.stats import CorpusStats
from embedkit.errors import EmbedkitError

TEXT = b"the quick brown fox\njumps over the lazy dog\n" * 50


def _read(path) -> bytes:
    return b"".join(iter_chunks(str(path)))


@pytest.mark.parametrize("compress", [gzip.compress, bz2.compress, lzma.compress], ids=["gzip", "bzip2", "xz"])
def test_compressed_without_extension(tmp_path, compress):
    path = tmp_path / "corpus.txt"
    path.write_bytes(compress(TEXT))
    assert _read(path) == TEXT


def test_text_that_starts_like_bzip2_stays_text(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"BZh is not bzip2\n")
    assert sniff_codec(b"BZh is not bzip2") is None and _read(path) == b"BZh is not bzip2\n"


def test_zip_members_in_name_order(tmp_path):
    path = tmp_path / "text8"            # no extension: recognised by its magic bytes
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("b/second.txt", "beta gamma\n")
        z.writestr("a.txt", "alpha one two")            # no final newline: one is added
        z.writestr(".hidden", "never read")
        z.writestr("__MACOSX/a.txt", "never read")
        z.writestr("b/", "")
    assert _read(path) == b"alpha one two\nbeta gamma\n"
    stats = CorpusStats()
    vocab = build_vocab([str(path)], CorpusConfig(min_count=1, tokenizer="whitespace"), stats)
    assert sorted(vocab.words) == ["alpha", "beta", "gamma", "one", "two"] and stats.lines == 2


@pytest.mark.parametrize("make,words", [
    (lambda z: z.writestr("a.txt.gz", gzip.compress(b"hello\n")), r"member a.txt.gz\) is itself compressed"),
    (lambda z: None, "holds no file"),
], ids=["nested", "empty"])
def test_zip_refused(tmp_path, make, words):
    path = tmp_path / "c.zip"
    with zipfile.ZipFile(path, "w") as z:
        make(z)
    with pytest.raises(EmbedkitError, match=words):
        _read(path)


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"not a zip at all"], ids=["magic", "extension"])
def test_damaged_zip(tmp_path, data):
    path = tmp_path / "c.zip"
    path.write_bytes(data)
    with pytest.raises(EmbedkitError, match="not a readable zip archive"):
        _read(path)


def test_zip_with_bad_crc(tmp_path):
    path = tmp_path / "c.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.txt", "alpha beta gamma\n" * 10)
    data = bytearray(path.read_bytes())
    data[data.index(b"alpha") + 2] ^= 0x20      # a stored byte changes: the CRC check fails
    path.write_bytes(bytes(data))
    with pytest.raises(EmbedkitError, match=r"c.zip \(member a.txt\).*CRC"):
        _read(path)


def _vocab(path, capsys, **cfg):
    stream._warned.clear()
    build_vocab([str(path)], CorpusConfig(min_count=1, **cfg), CorpusStats())
    return capsys.readouterr().err.strip()


def test_binary_file_warned_once_with_counts(tmp_path, capsys):
    path = tmp_path / "c.txt"
    path.write_bytes(bytes(range(256)) * 40)
    err = _vocab(path, capsys)
    assert len(err.splitlines()) == 1
    assert "5,120 undecodable (replaced) and 40 NUL bytes among 10,240" in err and "--encoding-errors strict" in err
    build_vocab([str(path)], CorpusConfig(min_count=1), CorpusStats())
    assert capsys.readouterr().err == "", "once per file and process"
    with pytest.raises(EmbedkitError, match=r"c.txt: NUL byte at byte offset 0"):
        _vocab(path, capsys, encoding_errors="strict")


def test_nul_bytes_warned_even_when_few(tmp_path, capsys):
    path = tmp_path / "c.txt"
    path.write_bytes(TEXT + b"\0\0")
    assert "2 NUL bytes among" in _vocab(path, capsys)
    with pytest.raises(EmbedkitError, match=f"NUL byte at byte offset {len(TEXT):,}"):
        _vocab(path, capsys, encoding_errors="strict")


def test_a_few_bad_bytes_are_not_warned(tmp_path, capsys):
    path = tmp_path / "c.txt"
    path.write_bytes(TEXT + "café\n".encode("latin-1"))        # one undecodable byte in 2,205
    assert _vocab(path, capsys) == ""
    with pytest.raises(EmbedkitError, match="invalid UTF-8"):
        _vocab(path, capsys, encoding_errors="strict")
