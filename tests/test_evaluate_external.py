"""MEN and RW (not shipped: found in the evaluation folders), several analogy vocabulary
restrictions, and the count of pairs answered from n-grams."""
import json

import numpy as np
import pytest

from embedkit import io
from embedkit.cli import main
from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.evaluate import external
from embedkit.evaluate.report import evaluate_all, format_table
from embedkit.subword_embeddings import SubwordEmbeddings


def _toy():
    words = ["sun", "sunlight", "car", "automobile", "river", "water", "king", "queen", "man", "woman"]
    rng = np.random.default_rng(2)
    return Embeddings(words, rng.standard_normal((len(words), 6)).astype(np.float32))


def test_default_evaluation_runs_men_and_rw_from_the_shared_data(shared_data):
    if not (shared_data / "eval" / "EN-MEN-TR-3k.txt").is_file():
        pytest.skip("no ../shared/data/eval")
    rep = evaluate_all(_toy())
    sims = {r.name: r for r in rep.similarity}
    assert list(sims) == ["wordsim353", "simlex999", "men", "rw"] and rep.missing == []
    assert sims["men"].pairs == 3000 and sims["rw"].pairs == 2034
    vocab = set(_toy().words)
    rows = [line.split("\t")[:2] for line in (shared_data / "eval" / "EN-MEN-TR-3k.txt").read_text().splitlines()]
    assert sims["men"].scored == sum(a in vocab and b in vocab for a, b in rows) >= 2
    assert "not run" not in format_table(rep)


def test_missing_sets_are_stated(no_external_sets, tmp_path):
    rep = evaluate_all(_toy())
    assert rep.missing == ["men", "rw"] and rep.to_dict()["missing"] == ["men", "rw"]
    table = format_table(rep)
    assert "not run: MEN and RW not found" in table and "embedkit corpora fetch men rw" in table
    assert str(tmp_path / "empty-cache" / "eval") in table
    with pytest.raises(EmbedkitError, match="MEN not found.*--eval-dir"):
        evaluate_all(_toy(), similarity=["men"])


def test_lookup_order_and_file_names(no_external_sets, tmp_path, monkeypatch):
    def folder(name, files):
        d = tmp_path / name
        d.mkdir(parents=True)
        for f, rows in files.items():
            (d / f).write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in rows))
        return d

    repo = folder("repo", {"EN-MEN-TR-3k.txt": [("sun", "sunlight", 50), ("car", "water", 3), ("king", "queen", 40)],
                           "EN-RW-STANFORD.txt": [("river", "water", 7), ("man", "car", 2)]})
    monkeypatch.setattr(external, "repository_eval_dir", lambda: repo)
    assert external.find_set("men") == repo / "EN-MEN-TR-3k.txt"
    cache = folder("empty-cache/eval", {"men.txt": [("sun", "sunlight", 50), ("car", "water", 3)]})
    assert external.find_set("men") == cache / "men.txt" and external.find_set("rw") == repo / "EN-RW-STANFORD.txt"
    env = folder("env", {"rw.txt": [("river", "water", 7), ("man", "car", 2), ("sun", "car", 1)]})
    monkeypatch.setenv(external.EVAL_DIR_ENV, str(env))
    assert external.find_set("rw") == env / "rw.txt"
    given = folder("given", {"men.txt": [("a", "b", 1)]})
    assert external.find_set("men", eval_dir=given) == given / "men.txt"
    rep = evaluate_all(_toy())
    assert {r.name: r.pairs for r in rep.similarity if r.name in ("men", "rw")} == {"men": 2, "rw": 3}
    with pytest.raises(EmbedkitError, match="--eval-dir .* is not a folder"):
        evaluate_all(_toy(), eval_dir=tmp_path / "nowhere")


def test_several_analogy_restrictions(tmp_path, capsys):
    emb = _toy()
    (tmp_path / "an.txt").write_text(": family\nman woman king queen\n: gram1\nsun sunlight car automobile\n")
    rep = evaluate_all(emb, analogy=[tmp_path / "an.txt"], restrict_vocab=[4, 0, 4])
    assert [r.restrict_vocab for r in rep.analogy] == [4, None]
    assert [r.seen for r in rep.analogy] == [1, 2]      # the 4 most frequent words cover the gram1 question only
    assert set(rep.to_dict()["analogy"]) == {"an@4", "an@all"}
    table = format_table(rep)
    assert "an (top 4)" in table and "an (top all)" in table and "4 most frequent words / all words" in table
    vec = tmp_path / "v.txt"
    io.save(emb, vec)
    assert main(["evaluate", str(vec), "--analogy", str(tmp_path / "an.txt"), "--restrict-vocab", "30000", "300000",
                 "--json", str(tmp_path / "s.json")]) == 0
    out = capsys.readouterr().out
    assert "an (top 30,000)" in out and "an (top 300,000)" in out
    assert set(json.loads((tmp_path / "s.json").read_text())["analogy"]) == {"an@30000", "an@300000"}


def test_pairs_answered_from_ngrams_are_counted(tmp_path, capsys):
    rng = np.random.default_rng(3)
    words = ["walk", "walking", "talk", "talked", "run"]
    emb = SubwordEmbeddings(words, rng.standard_normal((5, 4)).astype(np.float32),
                            rng.standard_normal((50, 4)).astype(np.float32), 4, 5)
    pairs = tmp_path / "p.txt"
    pairs.write_text("walk\twalking\t8\ntalk\ttalked\t7\nwalks\trun\t3\nwalked\ttalks\t6\nrun\tx\t1\n")
    rep = evaluate_all(emb, similarity=[pairs])
    r = rep.similarity[0]
    assert (r.pairs, r.oov, r.scored, r.ngram_pairs) == (5, 3, 4, 2)      # "<x>" has no 4- or 5-gram
    table = format_table(rep)
    assert "from n-grams" in table.splitlines()[0] and "character n-grams" in table
    assert table.splitlines()[2].split()[-1] == "2"
    plain = format_table(evaluate_all(Embeddings(words, emb.vectors), similarity=[pairs]))
    assert "from n-grams" not in plain


def test_repository_eval_dir_is_shared_data_beside_the_checkout():
    """Without --eval-dir or $EMBEDKIT_EVAL_DIR, MEN and RW are looked for in ../shared/data/eval
    (where CI keeps them)."""
    from conftest import SHARED_DATA
    assert external.repository_eval_dir() == SHARED_DATA / "eval"
