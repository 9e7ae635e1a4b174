"""fastText .bin models, both ways, against fastText 0.9.3 (PyPI `fasttext`, a dev peer).

Models made by fastText come from train_unsupervised with epoch=0 (only its dictionary is built,
so its "Encountered NaN" flake on tiny corpora cannot happen), then set_matrices with known random
rows, then fastText's own save_model. Vectors are compared with fastText's get_word_vector, for
vocabulary words and unseen words, within 1e-5.
"""
import struct
import subprocess
import sys

import numpy as np
import pytest

import embedkit
from embedkit import io
from embedkit.embeddings import Embeddings, UnknownWordError
from embedkit.errors import EmbedkitError
from embedkit.formats.fasttext_bin import MAGIC
from embedkit.subword_embeddings import SubwordEmbeddings

fasttext = pytest.importorskip("fasttext")

TOL = 1e-5
TEXT = ("the cat sat on the mat with another cat and the dog . café naïve 日本語 über x😀y "
        "walking talking jumped jumping walked talked\n")
UNSEEN = ["unseen", "cats", "walks", "日本", "cafés", "😀😀", "ab", "q", "Straße", "talkative"]
# (model, loss, minn, maxn, bucket, wordNgrams)
SETTINGS = [("skipgram", "ns", 3, 6, 2000, 1), ("cbow", "hs", 2, 4, 97, 1), ("skipgram", "ns", 1, 3, 50, 1),
            ("cbow", "ns", 0, 0, 100, 2), ("skipgram", "hs", 0, 0, 0, 1)]   # no n-grams: buckets (word n-grams) or none


def _ids(s):
    return f"{s[0]}-{s[1]}-n{s[2]}-{s[3]}-b{s[4]}-w{s[5]}"


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ftbin") / "c.txt"
    path.write_text(TEXT * 40, encoding="utf-8")
    return path


def fasttext_model(corpus_file, path, model, loss, minn, maxn, bucket, word_ngrams, seed=0):
    """A .bin written by fastText itself, with random (known) input and output rows."""
    ft = fasttext.train_unsupervised(str(corpus_file), model=model, loss=loss, minCount=2, minn=minn, maxn=maxn,
                                     bucket=bucket, wordNgrams=word_ngrams, dim=6, epoch=0, thread=1, verbose=0)
    rng = np.random.default_rng(seed)
    ft.set_matrices(rng.standard_normal(ft.get_input_matrix().shape).astype(np.float32),
                    rng.standard_normal(ft.get_output_matrix().shape).astype(np.float32))
    ft.save_model(str(path))
    return fasttext.load_model(str(path))


@pytest.fixture(scope="module", params=SETTINGS, ids=_ids)
def ft_bin(request, corpus_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("ftbin") / "model.bin"
    return path, fasttext_model(corpus_file, path, *request.param)


def _max_diff(emb, ft, words):
    return max(float(np.abs(emb[w] - ft.get_word_vector(w)).max()) for w in words)


def test_read_equals_fasttext(ft_bin):
    path, ft = ft_bin
    assert io.detect_format(path) == "fasttext-bin"
    emb = embedkit.load(path)
    assert isinstance(emb, SubwordEmbeddings)
    words, freqs = ft.get_words(include_freq=True)
    assert emb.words == list(words) and "</s>" in emb.words
    assert emb.counts.tolist() == freqs.tolist()
    assert _max_diff(emb, ft, words) < TOL                       # vocabulary words ("</s>" included)
    args = ft.f.getArgs()
    if args.maxn > 0:
        assert _max_diff(emb, ft, UNSEEN) < TOL                  # unseen words, from their n-grams
        assert (emb.minn, emb.maxn, emb.bucket) == (args.minn, args.maxn, args.bucket)
    else:
        with pytest.raises(UnknownWordError):
            emb["unseen"]
    np.testing.assert_array_equal(emb.output_rows, ft.get_output_matrix())


def test_fasttext_file_round_trips_byte_for_byte(ft_bin, tmp_path):
    path, _ = ft_bin
    out = tmp_path / "again.bin"
    io.save(embedkit.load(path), out, format="fasttext-bin")
    assert out.read_bytes() == path.read_bytes()


def test_compressed_and_limit(ft_bin, tmp_path):
    import gzip
    path, ft = ft_bin
    gz = tmp_path / "model.bin.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    emb, full = embedkit.load(gz), embedkit.load(path)
    assert emb.words == full.words and np.array_equal(emb.vectors, full.vectors)
    assert np.array_equal(emb.ngram_rows, full.ngram_rows)
    part = embedkit.load(path, limit=3)
    assert part.words == full.words[:3] and np.array_equal(part.vectors, full.vectors[:3])
    if full.maxn > 0:                                            # the rest are answered from n-grams
        assert full.words.index("walking") >= 3 and np.array_equal(part["walking"], full.oov_vector("walking"))
        assert _max_diff(part, ft, UNSEEN) < TOL


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An embedkit subword model folder (1 epoch on a tiny corpus: seconds)."""
    out = tmp_path_factory.mktemp("ek") / "model"
    rng = np.random.default_rng(0)
    words = [f"{stem}{suffix}" for stem in ("walk", "talk", "jump", "play") for suffix in ("", "s", "ed", "ing")]
    text = "\n".join(" ".join(rng.choice(words + ["the", "a", "café", "日本"], 15)) for _ in range(200))
    corpus = out.parent / "c.txt"
    corpus.write_text(text + "\n", encoding="utf-8")
    emb = embedkit.train("fasttext", str(corpus), output=out, dim=8, epochs=1, min_count=1, bucket=500,
                         minn=2, maxn=5, workers=1, cache=False)
    return out, emb


def test_embedkit_model_opens_in_fasttext_with_the_same_vectors(trained, tmp_path):
    folder, emb = trained
    path = tmp_path / "ek.bin"
    for source in (emb, embedkit.load(folder)):                 # from training, and from the model folder
        io.save(source, path, format="fasttext-bin")
        ft = fasttext.load_model(str(path))
        assert list(ft.get_words()) == emb.words
        assert _max_diff(emb, ft, emb.words) < TOL
        assert _max_diff(emb, ft, UNSEEN) < TOL
        np.testing.assert_array_equal(ft.get_output_matrix(), emb.output_rows)
        args = ft.f.getArgs()
        assert (args.minn, args.maxn, args.bucket, args.dim, args.epoch) == (2, 5, 500, 8, 1)
        back = embedkit.load(path)                               # and embedkit reads its own file back
        assert back.ngram_buckets is None and emb.ngram_buckets is not None      # every bucket's row, as fastText's
        assert np.array_equal(back.ngram_rows, emb.ngram_block(0, 500)) and np.array_equal(back.word_rows, emb.word_rows)
        np.testing.assert_allclose(back.vectors, emb.vectors, atol=1e-7)   # the same means, summed in another order


def test_means_only_model_is_solved_for_its_word_rows(trained, tmp_path):
    _, emb = trained
    bare = SubwordEmbeddings(emb.words, emb.vectors, emb.ngram_rows, emb.minn, emb.maxn,
                             ngram_buckets=emb.ngram_buckets, bucket=emb.bucket)     # compact, as trained
    assert bare.word_rows is None
    io.save(bare, tmp_path / "bare.bin", format="fasttext-bin")
    ft = fasttext.load_model(str(tmp_path / "bare.bin"))
    assert _max_diff(emb, ft, emb.words + UNSEEN) < TOL


def test_plain_vectors_become_a_model_without_ngrams(tmp_path):
    rng = np.random.default_rng(3)
    words = ["a", "b", "</s>", "naïve", "日本"]
    emb = Embeddings(words, rng.standard_normal((5, 4)).astype(np.float32), counts=np.array([9, 7, 5, 3, 1]))
    io.save(emb, tmp_path / "p.bin", format="fasttext-bin")
    ft = fasttext.load_model(str(tmp_path / "p.bin"))
    assert list(ft.get_words()) == words
    assert _max_diff(emb, ft, words) < TOL
    assert not ft.get_word_vector("unseen").any()                # fastText: no n-grams, zero vector
    back = embedkit.load(tmp_path / "p.bin")
    assert np.array_equal(back.vectors, emb.vectors) and back.maxn == 0
    with pytest.raises(UnknownWordError, match="without subwords"):
        back["unseen"]


def test_eos_word_of_an_embedkit_model_keeps_its_vector(tmp_path):
    rng = np.random.default_rng(4)
    words = ["</s>", "cat", "dog"]
    ngram_rows = rng.standard_normal((30, 4)).astype(np.float32)
    word_rows = rng.standard_normal((3, 4)).astype(np.float32)
    from embedkit.formats.fasttext_bin import _ngram_sums
    sums, sizes = _ngram_sums(["x</s>", "cat", "dog"], ngram_rows, 3, 4)   # "</s>" with its n-grams (embedkit)
    emb = SubwordEmbeddings(words, (word_rows + sums) / sizes[:, None], ngram_rows, 3, 4, word_rows=word_rows)
    io.save(emb, tmp_path / "e.bin", format="fasttext-bin")
    ft = fasttext.load_model(str(tmp_path / "e.bin"))
    assert _max_diff(emb, ft, words) < TOL


def _fasttext_bytes(ft_bin):
    return ft_bin[0].read_bytes()


def test_malformed_files_name_the_problem(ft_bin, tmp_path):
    data = _fasttext_bytes(ft_bin)
    bad = tmp_path / "bad.bin"

    def load(blob):
        bad.write_bytes(blob)
        return embedkit.load(bad, format="fasttext-bin")

    for cut in (6, 20, 70, 90, len(data) // 2, len(data) - 3):    # truncated anywhere
        with pytest.raises(EmbedkitError, match=r"bad.bin.*truncated"):
            load(data[:cut])
    with pytest.raises(EmbedkitError, match="data after the output matrix"):
        load(data + b"\0")
    with pytest.raises(EmbedkitError, match="version 13"):
        load(data[:4] + struct.pack("<i", 13) + data[8:])
    with pytest.raises(EmbedkitError, match="bad.bin, byte 32: unknown fastText loss code 9"):
        load(data[:8 + 24] + struct.pack("<i", 9) + data[8 + 28:])
    with pytest.raises(EmbedkitError, match="not a fastText model"):
        load(b"\0" * 64)
    # the quant flag of the input matrix follows the dictionary: find it from the parsed layout
    emb = embedkit.load(ft_bin[0])
    dict_end = 8 + 56 + 28 + sum(len(w.encode()) + 10 for w in emb.words)
    with pytest.raises(EmbedkitError, match="quantized"):
        load(data[:dict_end] + b"\x01" + data[dict_end + 1:])
    at = dict_end + 17                                             # the input matrix's first value
    with pytest.raises(EmbedkitError, match=rf"bad.bin, byte {at:,}: row 1 of the input matrix holds nan"):
        load(data[:at] + struct.pack("<f", float("nan")) + data[at + 4:])
    with pytest.raises(EmbedkitError, match="is not valid UTF-8"):
        load(data.replace("café".encode(), b"caf\xff\xfe", 1))
    assert "caf" in "".join(embedkit.load(bad, unicode_errors="replace").words)
    at = data.index("café".encode() + b"\0")
    with pytest.raises(EmbedkitError, match=rf"bad.bin, byte {at + 3}: dictionary entry \d+ holds whitespace \(byte 0x0a\)"):
        load(data[:at + 3] + b"\n" + data[at + 4:])                # a flipped byte: "caf\n", the length kept


def test_unwritable_words(tmp_path):
    emb = Embeddings(["ok", "bad\0word"], np.zeros((2, 3), np.float32))
    with pytest.raises(EmbedkitError, match="NUL"):
        io.save(emb, tmp_path / "x.bin", format="fasttext-bin")
    assert not (tmp_path / "x.bin").exists()


def test_cli_export_and_query(trained, tmp_path, capsys):
    from embedkit.cli import main
    folder, emb = trained
    out = tmp_path / "m.bin"
    assert main(["export", str(folder), "--to", str(out), "--to-format", "fasttext-bin"]) == 0
    assert out.read_bytes()[:4] == MAGIC.to_bytes(4, "little")
    capsys.readouterr()
    assert main(["neighbors", str(out), "walkings", "--topn", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("walkings (not in the vocabulary: built from its character n-grams") and len(lines) == 4
    vec = tmp_path / "m.vec"
    assert main(["export", str(out), "--to", str(vec), "--format", "fasttext-vec"]) == 0
    assert np.allclose(embedkit.load(vec).vectors, emb.vectors, atol=1e-7)
    trunc = tmp_path / "t.bin"
    trunc.write_bytes(out.read_bytes()[:200])
    capsys.readouterr()
    r = subprocess.run([sys.executable, "-m", "embedkit", "evaluate", str(trunc)], capture_output=True, text=True)
    assert r.returncode == 2 and "truncated" in r.stderr and "Traceback" not in r.stderr


def test_supervised_model_words_are_read(tmp_path):
    train = tmp_path / "sup.txt"
    train.write_text("".join(f"__label__{'ab'[i % 2]} " + TEXT for i in range(20)), encoding="utf-8")
    ft = fasttext.train_supervised(str(train), minn=2, maxn=4, bucket=300, wordNgrams=2, dim=5, epoch=0,
                                   thread=1, verbose=0)
    rng = np.random.default_rng(5)
    ft.set_matrices(rng.standard_normal(ft.get_input_matrix().shape).astype(np.float32),
                    rng.standard_normal(ft.get_output_matrix().shape).astype(np.float32))
    ft.save_model(str(tmp_path / "sup.bin"))
    emb = embedkit.load(tmp_path / "sup.bin")
    assert emb.words == list(ft.get_words()) and not any(w.startswith("__label__") for w in emb.words)
    assert emb.output_rows is None                               # label rows are not kept
    assert _max_diff(emb, ft, emb.words + UNSEEN) < TOL
    io.save(emb, tmp_path / "unsup.bin", format="fasttext-bin")  # written back as an unsupervised model
    again = fasttext.load_model(str(tmp_path / "unsup.bin"))
    assert _max_diff(emb, again, emb.words + UNSEEN) < TOL


def test_model_folder_keeps_the_whole_fasttext_model(ft_bin, tmp_path):
    path, _ = ft_bin
    embedkit.load(path).save(tmp_path / "folder")               # an embedkit model folder
    io.save(embedkit.load(tmp_path / "folder"), tmp_path / "again.bin", format="fasttext-bin")
    assert (tmp_path / "again.bin").read_bytes() == path.read_bytes()
