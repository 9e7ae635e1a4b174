"""Vector formats: round trips, detection, options, malformed files, native model folders."""
import json
import os

import numpy as np
import pytest

from embedkit import io
from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.formats import native

EXT = {"word2vec-text": "txt", "word2vec-binary": "bin", "glove": "glove.txt", "fasttext-vec": "vec"}


@pytest.fixture(scope="module")
def emb():
    rng = np.random.default_rng(1)
    words = ["the", "of", "Straße", "naïve", "日本", "x" * 50] + [f"w{i}" for i in range(194)]
    vecs = rng.standard_normal((200, 7)).astype(np.float32) * np.float32(10.0) ** rng.integers(-8, 8, (200, 7))
    vecs[3, 2] = 0.0
    vecs[4, 0] = -0.0
    return Embeddings(words, vecs)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", list(EXT))
def test_round_trip_exact_and_detected(tmp_path, emb, fmt):
    path = tmp_path / f"v.{EXT[fmt]}"
    io.save(emb, path, format=fmt)
    assert io.detect_format(path) == fmt
    back = io.load(path)
    assert back.words == emb.words                      # order preserved
    assert np.array_equal(back.vectors, emb.vectors)    # text too: 9 significant digits are exact
    assert np.array_equal(io.load(path, format=fmt).vectors, emb.vectors)


@pytest.mark.parametrize("suffix", [".gz", ".bz2"])
def test_compressed_files(tmp_path, emb, suffix):
    for fmt in ("word2vec-text", "word2vec-binary"):
        path = tmp_path / f"v.{EXT[fmt]}{suffix}"
        io.save(emb, path, format=fmt)
        assert io.detect_format(path) == fmt
        assert np.array_equal(io.load(path).vectors, emb.vectors)


@pytest.mark.parametrize("fmt", list(EXT))
def test_limit(tmp_path, emb, fmt):
    path = tmp_path / f"v.{EXT[fmt]}"
    io.save(emb, path, format=fmt)
    part = io.load(path, limit=5)
    assert part.words == emb.words[:5] and np.array_equal(part.vectors, emb.vectors[:5])
    assert len(io.load(path, limit=10_000)) == 200
    with pytest.raises(EmbedkitError, match="limit"):
        io.load(path, limit=0)


def test_byte_layout_of_every_format(tmp_path):
    """The exact bytes, built by hand. Round trips cannot see a dropped record newline in binary
    files (our reader and gensim's both accept records without one), nor a missing trailing space
    in .vec files; this can. Values are chosen so their float32 bytes include 0x0a and 0x20."""
    words = ["a", "日本"]
    vecs = np.array([[0.5, -1.0, 3.25], [np.frombuffer(b"\n\x20\n\x20", "<f4")[0], 0.0, 1e-3]], np.float32)
    emb = Embeddings(words, vecs)
    paths = {fmt: tmp_path / f"v.{EXT[fmt]}" for fmt in EXT}
    for fmt, path in paths.items():
        io.save(emb, path, format=fmt)
    records = b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + b"\n" for w, v in zip(words, vecs))
    assert paths["word2vec-binary"].read_bytes() == b"2 3\n" + records          # word2vec C's layout
    lines = [f"{w} {' '.join('%.9g' % x for x in v.tolist())}" for w, v in zip(words, vecs)]
    assert lines[0] == "a 0.5 -1 3.25"
    assert paths["word2vec-text"].read_bytes() == ("2 3\n" + "".join(ln + "\n" for ln in lines)).encode()
    assert paths["fasttext-vec"].read_bytes() == ("2 3\n" + "".join(ln + " \n" for ln in lines)).encode()
    assert paths["glove"].read_bytes() == "".join(ln + "\n" for ln in lines).encode()


def test_binary_without_record_newlines_as_gensim_writes(tmp_path):
    vecs = np.arange(6, dtype=np.float32).reshape(3, 2)
    data = b"3 2\n" + b"".join(w + b" " + v.tobytes() for w, v in zip([b"a", b"b", b"c"], vecs))
    e = io.load(_write(tmp_path / "g.bin", data))
    assert e.words == ["a", "b", "c"] and np.array_equal(e.vectors, vecs)


def test_irregular_whitespace_takes_the_slow_path(tmp_path):
    text = "2 3\r\nfoo 1.5\t2  3e-2\r\n\nbar  -1 0 1e3   \r\n"
    e = io.load(_write(tmp_path / "v.txt", text.encode()))
    assert e.words == ["foo", "bar"]
    assert np.array_equal(e.vectors, np.array([[1.5, 2, 0.03], [-1, 0, 1000]], dtype=np.float32))


def test_glove_and_vec_read(tmp_path):
    e = io.load(_write(tmp_path / "g.txt", b"a 1 2\nb 3 4\n"))
    assert io.detect_format(tmp_path / "g.txt") == "glove"
    assert e.words == ["a", "b"] and e.vectors.tolist() == [[1, 2], [3, 4]]
    e = io.load(_write(tmp_path / "f.vec", b"2 2\na 1 2 \nb 3 4 \n"))
    assert io.detect_format(tmp_path / "f.vec") == "fasttext-vec" and e.vectors.tolist() == [[1, 2], [3, 4]]


def test_unicode_errors(tmp_path):
    path = _write(tmp_path / "v.txt", b"2 1\nok 1\nbad\xffword 2\n")
    with pytest.raises(EmbedkitError, match=r"v.txt, line 3: invalid UTF-8"):
        io.load(path)
    assert io.load(path, unicode_errors="replace").words == ["ok", "bad\ufffdword"]
    assert io.load(path, unicode_errors="ignore").words == ["ok", "badword"]
    bpath = _write(tmp_path / "v.bin", b"1 1\nbad\xff " + np.float32(1).tobytes() + b"\n")
    with pytest.raises(EmbedkitError, match=r"v.bin, byte 7: invalid UTF-8"):
        io.load(bpath)
    assert io.load(bpath, unicode_errors="replace").words == ["bad\ufffd"]


@pytest.mark.parametrize("data,message", [
    (b"3 2\na 1 2\nb 3 4\n", r"bad.txt: the header declares 3 words but the file ends after 2 rows"),
    (b"1 2\na 1 2\nb 3 4\n", r"bad.txt, line 3: more rows than the 1 the header declares"),
    (b"2 2\na 1 2\nb 3\n", r"bad.txt, line 3: expected 2 numbers after the word 'b', found 1"),
    (b"2 2\na 1 2\nb 3 4 5\n", r"bad.txt, line 3: expected 2 numbers after the word 'b', found 3"),
    (b"2 2\na 1 2\nb 3 x4\n", r"bad.txt, line 3: value 2 'x4' is not a number"),
    (b"3 2\na 1 2\nb 3 4\na 5 6\n", r"bad.txt, line 4: duplicate word 'a' \(first at line 2\)"),
    (b"2 2 2\na 1 2\n", r"bad.txt, line 1: expected a header"),
    (b"2 two\na 1 2\n", r"bad.txt, line 1: expected a header"),
    (b"2 2\na 1 2 \nb 3 \n", r"bad.txt, line 3: expected 2 numbers"),
    (b"2 2\n 1 2\nb 3 4\n", r"bad.txt, line 2: line starts with whitespace"),
])
def test_malformed_text_names_file_and_line(tmp_path, data, message):
    with pytest.raises(EmbedkitError, match=message):
        io.load(_write(tmp_path / "bad.txt", data), format="word2vec-text")


def test_short_row_compensated_by_long_row_is_still_caught(tmp_path):
    # Same total number of values, so only a per-row check catches it.
    with pytest.raises(EmbedkitError, match=r"line 2: expected 2 numbers.*found 1"):
        io.load(_write(tmp_path / "bad.txt", b"2 2\na 1 \nb 2 3 4\n"))


def test_malformed_glove(tmp_path):
    with pytest.raises(EmbedkitError, match=r"bad.txt, line 2: expected 2 numbers"):
        io.load(_write(tmp_path / "bad.txt", b"a 1 2\nb 3\n"), format="glove")
    with pytest.raises(EmbedkitError, match=r"line 3: duplicate word 'a'"):
        io.load(_write(tmp_path / "bad.txt", b"a 1 2\nb 3 4\na 5 6\n"), format="glove")


def _bin(words, vecs, header=None):
    header = header or f"{len(words)} {vecs.shape[1]}"
    return header.encode() + b"\n" + b"".join(w.encode() + b" " + v.astype("<f4").tobytes() + b"\n"
                                              for w, v in zip(words, vecs))


def test_malformed_binary_names_file_and_byte(tmp_path):
    vecs = np.ones((2, 4), dtype=np.float32)
    data = _bin(["a", "b"], vecs)
    with pytest.raises(EmbedkitError, match=r"bad.bin: truncated at byte 23: the header declares 2 words"):
        io.load(_write(tmp_path / "bad.bin", data[:-5]))
    with pytest.raises(EmbedkitError, match=r"truncated.*header declares 3 words.*only 2 complete"):
        io.load(_write(tmp_path / "bad.bin", _bin(["a", "b"], vecs, header="3 4")))
    with pytest.raises(EmbedkitError, match=r"bad.bin, byte 42: data after the 2 records"):
        io.load(_write(tmp_path / "bad.bin", data + b"c " + vecs[0].tobytes()))
    with pytest.raises(EmbedkitError, match=r"bad.bin, byte 23 \(record 2\): duplicate word 'a' \(first at byte 4"):
        io.load(_write(tmp_path / "bad.bin", _bin(["a", "a"], vecs)))


def test_unreadable_and_undetectable(tmp_path):
    with pytest.raises(EmbedkitError, match="does not exist"):
        io.load(tmp_path / "missing.txt")
    with pytest.raises(EmbedkitError, match="is empty"):
        io.load(_write(tmp_path / "empty.txt", b""))
    with pytest.raises(EmbedkitError, match="cannot tell the format"):
        io.load(_write(tmp_path / "prose.txt", b"hello world\n"))
    with pytest.raises(EmbedkitError, match=r"m.bin: truncated at byte 8"):
        io.load(_write(tmp_path / "m.bin", (793712314).to_bytes(4, "little") + b"\x0c\0\0\0"))
    with pytest.raises(EmbedkitError, match="unknown format"):
        io.load(_write(tmp_path / "v.txt", b"1 1\na 1\n"), format="word2vec")
    with pytest.raises(EmbedkitError, match="not an embedkit model"):
        io.load(tmp_path)


@pytest.mark.parametrize("fmt", list(EXT))
def test_unwritable_words_leave_no_file(tmp_path, fmt):
    e = Embeddings(["ok", "two words"], np.ones((2, 2), np.float32))
    with pytest.raises(EmbedkitError, match="'two words' is empty or contains ASCII whitespace"):
        io.save(e, tmp_path / "out", format=fmt)
    assert os.listdir(tmp_path) == []                    # not even a temp file


@pytest.mark.parametrize("fmt", list(EXT))
def test_unicode_spaces_inside_words_round_trip(tmp_path, fmt):
    """Only ASCII whitespace separates fields (as for fastText, gensim and word2vec C): a fastText
    .vec or classifier word may hold U+00A0, U+2009 or U+0085, and must survive every format."""
    words = ["foo\xa0bar", "a\u2009b", "x\x85y", "\x1cq", "plain"]
    e = Embeddings(words, np.arange(10, dtype=np.float32).reshape(5, 2))
    path = tmp_path / f"v.{EXT[fmt]}"
    io.save(e, path, format=fmt)
    back = io.load(path, format=fmt)
    assert back.words == words and np.array_equal(back.vectors, e.vectors)


def test_save_replaces_atomically(tmp_path, emb):
    path = tmp_path / "v.txt"
    path.write_text("old")
    io.save(emb, path)
    assert io.load(path).words == emb.words and os.listdir(tmp_path) == ["v.txt"]
    with pytest.raises(EmbedkitError, match="unknown output format"):
        io.save(emb, path, format="csv")


# -- native model folders ---------------------------------------------------------------------

def _model(tmp_path, emb, kind="skipgram", **extra):
    counts = np.arange(len(emb), 0, -1) * 10
    e = Embeddings(emb.words, emb.vectors, counts)
    arrays = {"w_in": emb.vectors * 2, "w_out": emb.vectors[:, :3].copy(), **extra}
    io.save_model(tmp_path / "model", e, kind=kind, config={"dim": emb.dim, "window": 5},
                  arrays=arrays, training_log={"loss": [1.5, 1.2]})
    return tmp_path / "model", e, arrays


def test_native_folder_round_trip(tmp_path, emb):
    folder, e, arrays = _model(tmp_path, emb)
    assert sorted(os.listdir(folder)) == sorted(native.MODEL_FILES)
    meta = json.loads((folder / "model.json").read_text())
    assert meta["format_version"] == 1 and meta["kind"] == "skipgram"
    assert meta["dim"] == 7 and meta["vocab_size"] == 200 and meta["config"]["window"] == 5
    assert io.detect_format(folder) == "native"
    back = io.load(folder)
    assert type(back) is Embeddings and back.words == e.words
    assert np.array_equal(back.vectors, e.vectors) and np.array_equal(back.counts, e.counts)
    model = io.read_model(folder)
    assert np.array_equal(model.arrays["w_in"], arrays["w_in"]) and model.training_log == {"loss": [1.5, 1.2]}
    with np.load(folder / "arrays.npz", allow_pickle=False) as z:
        assert set(z.files) == {"w_in", "w_out", "vectors"}
    assert np.array_equal(io.load(folder / "vectors.txt").vectors, e.vectors)
    assert (folder / "vocab.tsv").read_text().splitlines()[0] == "the\t2000"
    assert len(io.load(folder, limit=3)) == 3


def test_native_unknown_version_is_a_clear_error(tmp_path, emb):
    folder, _, _ = _model(tmp_path, emb)
    meta = json.loads((folder / "model.json").read_text())
    meta["format_version"] = 99
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(EmbedkitError, match="unknown format_version 99"):
        io.load(folder)


def subword_loader(model):
    """A stand-in for a registered subword loader."""
    class Custom(Embeddings):
        pass
    e = Custom(model.words, model.arrays["vectors"], model.counts)
    e.buckets = model.arrays["buckets"]
    return e


def test_native_dispatch_on_kind(tmp_path, emb, monkeypatch):
    folder, _, _ = _model(tmp_path, emb, kind="subwordtest", buckets=np.zeros((5, 7), np.float32))
    monkeypatch.setitem(native.LOADERS, "subwordtest", f"{__name__}:subword_loader")
    back = io.load(folder)
    assert type(back).__name__ == "Custom" and back.buckets.shape == (5, 7)
    with pytest.raises(EmbedkitError, match="limit is not supported"):
        io.load(folder, limit=3)
    monkeypatch.setitem(native.LOADERS, "subwordtest", "embedkit.no_such_module:f")
    with pytest.raises(EmbedkitError, match="no loader for model kind 'subwordtest'"):
        io.load(folder)


def test_native_rejects_object_arrays_and_bad_vocab(tmp_path, emb):
    with pytest.raises(EmbedkitError, match="dtype object"):
        io.save_model(tmp_path / "m", emb, kind="x", config={}, arrays={"bad": np.array([{}], dtype=object)})
    assert not (tmp_path / "m").exists()
    folder, _, _ = _model(tmp_path, emb)
    (folder / "vocab.tsv").write_text("a\t1\n")
    with pytest.raises(EmbedkitError, match="vocab.tsv: 1 words, but model.json says 200"):
        io.load(folder)


@pytest.mark.parametrize("block", [1, 37, 4096])
def test_binary_records_across_read_blocks(tmp_path, emb, monkeypatch, block):
    """The reader takes the file in READ_BYTES blocks; records that straddle a block boundary are
    read whole, and only a real end of file is a truncation (every other test fits in one block)."""
    from embedkit.formats import binary
    path = tmp_path / "v.bin"
    io.save(emb, path, format="word2vec-binary")
    monkeypatch.setattr(binary, "READ_BYTES", block)
    back = io.load(path)
    assert back.words == emb.words and np.array_equal(back.vectors, emb.vectors)
    data = path.read_bytes()
    with pytest.raises(EmbedkitError, match="truncated"):
        io.load(_write(tmp_path / "cut.bin", data[:len(data) - 4 * emb.dim]))


@pytest.mark.parametrize("bad", ["", "a\tb", "a\nb", "a b", "a\rb"])
def test_native_refuses_words_vocab_tsv_cannot_hold(tmp_path, emb, bad):
    """vocab.tsv is one `word<TAB>count` line per word: such a word would shift every later row."""
    words = list(emb.words)
    words[3] = bad
    with pytest.raises(EmbedkitError, match="empty or contains ASCII whitespace"):
        io.save_model(tmp_path / "m", Embeddings(words, emb.vectors), kind="x", config={}, arrays={})
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("fmt", list(EXT))
def test_a_byte_order_mark_is_not_part_of_the_first_word(tmp_path, fmt):
    """Windows editors start UTF-8 text with U+FEFF: it was read as the start of the first word
    (GloVe), or made the word2vec header unreadable."""
    e = Embeddings(["the", "of"], np.arange(4, dtype=np.float32).reshape(2, 2))
    path = tmp_path / f"v.{EXT[fmt]}"
    io.save(e, path, format=fmt)
    marked = _write(tmp_path / f"bom.{EXT[fmt]}", b"\xef\xbb\xbf" + path.read_bytes())
    back = io.load(marked, format=fmt)
    assert back.words == ["the", "of"] and np.array_equal(back.vectors, e.vectors)


def test_evaluation_sets_with_a_byte_order_mark(tmp_path):
    from embedkit.evaluate.datasets import read_analogies, read_pairs
    pairs = read_pairs(_write(tmp_path / "sim.txt", "\ufeffthe of 0.5\nof the 0.7\n".encode()))
    analogies = read_analogies(_write(tmp_path / "an.txt", "\ufeff: sec\na b c d\n".encode()))
    assert pairs.pairs[0] == ("the", "of") and analogies.sections == [("sec", [("a", "b", "c", "d")])]
