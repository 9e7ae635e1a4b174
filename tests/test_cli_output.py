"""CLI verbs neighbors / analogy / evaluate / export: output, errors, interactive mode."""
import io as stdio
import json
import subprocess
import sys

import numpy as np
import pytest

from embedkit import io
from embedkit.cli import main
from embedkit.embeddings import Embeddings


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    """A tiny vocabulary with a planted analogy (man:king :: woman:queen) and a near pair."""
    rng = np.random.default_rng(2)
    words = ["the", "man", "woman", "king", "queen", "car", "automobile", "tiger", "cat", "paris", "france"]
    vecs = rng.standard_normal((len(words), 24)).astype(np.float32)
    vecs[4] = vecs[3] - vecs[1] + vecs[2]
    vecs[6] = vecs[5] + 0.1 * rng.standard_normal(24)
    path = tmp_path_factory.mktemp("vec") / "v.txt"
    io.save(Embeddings(words, vecs), path)
    return path


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_neighbors(capsys, vectors):
    rc, out, err = run(capsys, "neighbors", vectors, "car", "king", "--topn", "3")
    assert rc == 0 and err == ""
    blocks = out.split("\n\n")
    assert blocks[0].splitlines()[0] == "car"
    first = blocks[0].splitlines()[1].split()
    assert first[:2] == ["1", "automobile"] and 0.9 < float(first[2]) <= 1.0
    assert len(blocks[0].splitlines()) == 4 and blocks[1].startswith("king\n")


def test_neighbors_unknown_word_is_reported_and_skipped(capsys, vectors):
    rc, out, err = run(capsys, "neighbors", vectors, "car", "zebra", "kingg", "tiger")
    assert rc == 1
    assert [ln for ln in out.splitlines() if ln and not ln.startswith(" ")] == ["car", "tiger"]
    assert err.strip().splitlines() == [
        f"embedkit neighbors: unknown word 'zebra': not among the 11 words of the vocabulary of {vectors}; skipped",
        f"embedkit neighbors: unknown word 'kingg': not among the 11 words of the vocabulary of {vectors}; "
        "did you mean 'king'?; skipped"]


def test_neighbors_interactive(capsys, vectors, monkeypatch):
    monkeypatch.setattr(sys, "stdin", stdio.StringIO("car\nzebra tiger\n\n"))
    rc, out, err = run(capsys, "neighbors", vectors, "--topn", "2")
    assert rc == 1                                     # a word was skipped
    assert [ln for ln in out.splitlines() if not ln.startswith(" ")] == ["car", "tiger"]
    assert "unknown word 'zebra'" in err and "Traceback" not in err
    monkeypatch.setattr(sys, "stdin", stdio.StringIO("cat\n"))
    rc, out, _ = run(capsys, "neighbors", vectors, "king", "-", "--topn", "1")
    assert rc == 0 and [ln for ln in out.splitlines() if not ln.startswith(" ")] == ["king", "cat"]


def test_analogy(capsys, vectors):
    rc, out, err = run(capsys, "analogy", vectors, "man", "king", "woman", "--topn", "2")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "man is to king as woman is to ?  (3cosadd: nearest to king - man + woman)"
    assert lines[1].split()[:2] == ["1", "queen"]
    rc, out, _ = run(capsys, "analogy", vectors, "man", "king", "woman", "--method", "3cosmul")
    assert rc == 0 and out.splitlines()[1].split()[1] == "queen" and "3cosmul" in out.splitlines()[0]
    rc, _, err = run(capsys, "analogy", vectors, "man", "kingg", "woman")
    assert rc == 1 and "unknown word 'kingg'" in err and "did you mean 'king'?" in err
    rc, _, err = run(capsys, "analogy", vectors, "man", "king", "woman", "--topn", "0")
    assert rc == 2 and "--topn must be >= 1" in err


def test_evaluate_custom_sets_and_json(capsys, vectors, tmp_path):
    (tmp_path / "an.txt").write_text(": family\nman king woman queen\nman king woman unknown\n")
    (tmp_path / "sim.txt").write_text("car automobile 9\ntiger cat 7\nking queen 8\nthe france 1\nx y 2\n")
    rc, out, err = run(capsys, "evaluate", vectors, "--analogy", tmp_path / "an.txt",
                       "--similarity", tmp_path / "sim.txt", "--json", tmp_path / "r.json")
    assert rc == 0, err
    rows = {ln.split()[0]: ln.split() for ln in out.splitlines() if ln.split()}
    assert rows["an"][1:3] == ["analogy", "100.00%"] and rows["an"][-2:] == ["1/2", "(50.00%)"]
    assert rows["sim"][1] == "similarity" and rows["sim"][-2:] == ["4/5", "(80.00%)"]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["analogy"]["an"]["accuracy"] == 1.0 and data["analogy"]["an"]["seen"] == 1
    assert data["similarity"]["sim"]["oov"] == 1 and data["similarity"]["sim"]["pairs"] == 5


def test_evaluate_without_options_runs_bundled_sets(capsys, vectors):
    rc, out, _ = run(capsys, "evaluate", vectors)
    assert rc == 0
    names = [ln.split()[0] for ln in out.splitlines() if ln.split() and ln.split()[0] in
             ("questions-words", "wordsim353", "simlex999")]
    assert names == ["questions-words", "wordsim353", "simlex999"]
    assert "30,000 most frequent words" in out


def test_evaluate_bad_dataset(capsys, vectors, tmp_path):
    rc, _, err = run(capsys, "evaluate", vectors, "--similarity", tmp_path / "none.txt")
    assert rc == 2 and "does not exist" in err


@pytest.mark.parametrize("fmt", ["word2vec-text", "word2vec-binary", "glove", "fasttext-vec"])
def test_export(capsys, vectors, tmp_path, fmt):
    out_path = tmp_path / "out"
    rc, out, _ = run(capsys, "export", vectors, "--to", out_path, "--to-format", fmt, "--limit", "5")
    assert rc == 0 and "wrote 5 words x 24 dims" in out
    got, want = io.load(out_path), io.load(vectors, limit=5)
    assert got.words == want.words and np.array_equal(got.vectors, want.vectors)


def test_bad_vectors_file_is_one_line(capsys, tmp_path):
    (tmp_path / "bad.txt").write_text("2 3\na 1 2 3\nb 1 2\n")
    rc, out, err = run(capsys, "neighbors", tmp_path / "bad.txt", "a")
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "bad.txt, line 3" in err


def test_no_traceback_from_a_real_process(vectors):
    proc = subprocess.run([sys.executable, "-m", "embedkit", "neighbors", str(vectors), "zebra"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "unknown word 'zebra'" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "embedkit", "neighbors", str(vectors), "--topn", "x"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        "embedkit neighbors: error: argument --topn: invalid int value: 'x' (see embedkit neighbors --help)"]


@pytest.mark.parametrize("argv, message", [
    (["neighbors", "{v}", "king", "--limit", "0"], "--limit must be >= 1, got 0"),
    (["export", "{v}", "--to", "{tmp}/x.txt", "--limit", "-2"], "--limit must be >= 1, got -2"),
    (["neighbors", "{v}", "king", "--restrict-vocab", "0"], "--restrict-vocab must be >= 1, got 0"),
    (["analogy", "{v}", "man", "king", "woman", "--restrict-vocab", "-1"], "--restrict-vocab must be >= 1, got -1"),
    (["evaluate", "{v}", "--restrict-vocab", "30000", "-1"], "--restrict-vocab must be >= 0 (0: all words), got -1"),
    (["evaluate", "{v}", "--similarity-restrict-vocab", "0"], "--similarity-restrict-vocab must be >= 1, got 0"),
])
def test_errors_name_the_flag_not_the_python_keyword(capsys, vectors, tmp_path, argv, message):
    rc, out, err = run(capsys, *[a.format(v=vectors, tmp=tmp_path) for a in argv])
    assert rc == 2 and err.startswith(f"embedkit {argv[0]}: error: {message}"), err
    assert err.count("\n") == 1 and not list(tmp_path.iterdir())


def test_python_errors_name_the_keyword(vectors):
    from embedkit.errors import EmbedkitError
    from embedkit.evaluate.report import evaluate_all
    with pytest.raises(EmbedkitError, match="^limit must be >= 1"):
        io.load(vectors, limit=0)
    emb = io.load(vectors)
    with pytest.raises(EmbedkitError, match=r"^restrict_vocab must be >= 0 \(0: all words\), got -1"):
        evaluate_all(emb, analogy=[], restrict_vocab=-1)
    with pytest.raises(EmbedkitError, match="^similarity_restrict_vocab must be >= 1"):
        evaluate_all(emb, analogy=[], similarity_restrict_vocab=0)
    evaluate_all(emb, analogy=["questions-words"], restrict_vocab=0)       # 0: all words, as the CLI's
