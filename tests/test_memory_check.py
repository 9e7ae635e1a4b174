"""Impossible settings are refused before allocation (embedkit/memory.py): the weights' rows x
dim x 4 bytes against the memory available, with an error naming the options, the size and the
memory; a MemoryError that happens anyway becomes the same kind of one-line error."""
from __future__ import annotations

import pytest

import embedkit
import embedkit.memory as memory
from embedkit.cli import main
from embedkit.errors import EmbedkitError

CORPUS = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "on", "the", "log"]] * 20


def test_machine_reports_memory():
    found = memory.available_memory()
    if found is None:
        pytest.skip("this machine reports no available memory")
    assert found[0] > 0 and found[1]


@pytest.fixture
def small_machine(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: (1 << 20, "a test's 1 MiB"))


@pytest.mark.parametrize("model,options,names", [
    ("skipgram", dict(dim=40000), ["--dim 40,000", "w_in 7 x 40,000", "w_out 7 x 40,000"]),
    ("cbow", dict(dim=40000, objective="hs"), ["--dim 40,000", "w_out 6 x 40,000"]),
    ("glove", dict(dim=40000), ["--dim 40,000", "w 14 x 40,001", "gradsq"]),
])
def test_weights_that_cannot_fit(small_machine, model, options, names):
    with pytest.raises(EmbedkitError) as e:
        embedkit.train(model, CORPUS, min_count=1, epochs=1, **options)
    msg = str(e.value)
    assert "\n" not in msg and "1.0 MiB of memory is available (a test's 1 MiB)" in msg and "lower --dim" in msg
    for n in names:
        assert n in msg


def test_buckets_refused_before_the_corpus_is_read(small_machine, tmp_path):
    with pytest.raises(EmbedkitError, match=r"--dim 100 and --bucket 2,000,000 need 762.9 MiB for the weights \(w_in 2,000,000 x 100, .* or --bucket"):
        embedkit.train("fasttext", str(tmp_path / "missing.txt"), dim=100, bucket=2_000_000)


def test_settings_that_fit_train(small_machine):
    emb = embedkit.train("skipgram", CORPUS, min_count=1, epochs=1, dim=8)
    assert emb.vectors.shape == (7, 8)


def test_allocation_failure_is_one_line(monkeypatch):
    from embedkit.trainers import word2vec

    def refuse(*args, **kwargs):
        raise MemoryError("Unable to allocate 532. GiB for an array with shape (1429, 100000000)")
    monkeypatch.setattr(word2vec, "init_weights", refuse)
    with pytest.raises(EmbedkitError, match=r"out of memory allocating the arrays for --dim 8 and 7 words "
                                            r"\(Unable to allocate 532. GiB.*\).*lower --dim"):
        embedkit.train("skipgram", CORPUS, min_count=1, epochs=1, dim=8)


def test_cli_turns_any_memory_error_into_one_line(monkeypatch, capsys, tmp_path):
    import embedkit.io
    monkeypatch.setattr(embedkit.io, "load", lambda *a, **k: (_ for _ in ()).throw(MemoryError("no room")))
    (tmp_path / "v.txt").write_text("1 2\na 0.1 0.2\n")
    rc = main(["neighbors", str(tmp_path / "v.txt"), "a"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and err.startswith("embedkit neighbors: error: out of memory")


def test_cli_huge_dim(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\n" * 50)
    rc = main(["train", "--model", "skipgram", "--corpus", str(corpus), "-o", str(tmp_path / "m"), "--no-cache",
               "--min-count", "1", "--dim", "100000000000", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1].startswith("embedkit train: error: --dim 100,000,000,000 and 5 words need")
    assert "available" in err[-1] and not (tmp_path / "m").exists()
