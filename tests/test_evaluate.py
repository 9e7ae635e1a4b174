"""Evaluators against slow per-question / per-pair references, bundled data, report output."""
import json
import time

import numpy as np
import pytest
from scipy import stats

from embedkit.embeddings import COSMUL_EPSILON, Embeddings
from embedkit.errors import EmbedkitError
from embedkit.evaluate.analogy import evaluate_analogies
from embedkit.evaluate.datasets import (bundled_analogy_sets, bundled_similarity_sets, read_analogies,
                                        read_pairs)
from embedkit.evaluate.report import evaluate_all, format_table, write_json
from embedkit.evaluate.similarity import evaluate_similarity


def slow_analogy_accuracy(words, vectors, questions, restrict, case_fold, method, eps=COSMUL_EPSILON):
    """One question at a time, one candidate at a time, float64: (correct, seen) per section."""
    fold = str.casefold if case_fold else (lambda w: w)
    n = len(words) if restrict is None else min(restrict, len(words))
    first = {}
    for i, w in enumerate(words[:n]):
        first.setdefault(fold(w), i)
    unit = [np.asarray(v, np.float64) / np.linalg.norm(v) for v in vectors[:n]]
    out = []
    for _, qs in questions.sections:
        correct = seen = 0
        for quad in qs:
            keys = [fold(w) for w in quad]
            if any(k not in first for k in keys):
                continue
            seen += 1
            ua, ub, uc = (unit[first[k]] for k in keys[:3])
            best, best_score = None, -np.inf
            for x in range(n):
                if fold(words[x]) in keys[:3]:
                    continue
                if method == "3cosadd":
                    s = unit[x] @ (ub - ua + uc)
                else:
                    ca, cb, cc = ((unit[x] @ u + 1) / 2 for u in (ua, ub, uc))
                    s = cb * cc / (ca + eps)
                if s > best_score:
                    best, best_score = x, s
            correct += fold(words[best]) == keys[3]
        out.append((correct, seen))
    return out


@pytest.fixture(scope="module")
def toy():
    """Random vectors whose vocabulary has case variants, plus questions that mix cases and OOV."""
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(150)]
    words[10], words[40], words[90] = "Paris", "paris", "PARIS"
    words[20], words[60] = "France", "france"
    vectors = rng.standard_normal((150, 12)).astype(np.float32)
    vectors[60] = vectors[3] - vectors[1] + vectors[2] + 0.05 * rng.standard_normal(12)   # a planted answer
    emb = Embeddings(words, vectors)
    lines = [": capital-stuff"]
    for _ in range(120):
        lines.append(" ".join(rng.choice(words[:140], 4)))
    lines += ["w1 w2 w3 france", "W1 W2 W3 FRANCE", "w1 w2 w3 nothere", "paris France w5 w6"]
    lines += [": gram1-things"]
    for _ in range(80):
        lines.append(" ".join(rng.choice(words, 4)))
    return emb, lines


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
@pytest.mark.parametrize("restrict,case_fold", [(None, True), (100, True), (None, False), (45, False)])
def test_analogy_matches_slow_reference(tmp_path, toy, method, restrict, case_fold):
    emb, lines = toy
    path = tmp_path / "q.txt"
    path.write_text("\n".join(lines) + "\n")
    res = evaluate_analogies(emb, path, restrict_vocab=restrict, case_fold=case_fold, method=method)
    want = slow_analogy_accuracy(emb.words, emb.vectors, read_analogies(path), restrict, case_fold, method)
    assert [(s.correct, s.seen) for s in res.sections] == want
    assert res.total == 120 + 4 + 80 and res.seen == sum(n for _, n in want)
    if restrict is None or restrict > 60:
        assert sum(c for c, _ in want) > 0               # the planted question is answered


def test_analogy_summary_fields(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((8, 20)).astype(np.float32)
    words = ["man", "woman", "king", "queen", "big", "bigger", "small", "smaller"]
    base[3] = base[2] - base[0] + base[1]
    base[7] = base[6] - base[4] + base[5]
    emb = Embeddings(words, base)
    path = tmp_path / "q.txt"
    path.write_text(": family\nman woman king queen\nman woman king unknown\n"
                    ": gram2-comparative\nbig bigger small smaller\nsmall smaller big bigger\n")
    res = evaluate_analogies(emb, path)
    assert (res.correct, res.seen, res.total) == (3, 3, 4)
    assert res.accuracy == 1.0 and res.semantic == 1.0 and res.syntactic == 1.0
    assert res.coverage == 0.75 and res.accuracy_all == 0.75
    d = res.to_dict()
    assert {"accuracy", "semantic", "syntactic", "seen", "total"} <= set(d)
    assert d["sections"]["family"] == {"accuracy": 1.0, "correct": 1, "seen": 1, "total": 2}


def test_bundled_data():
    google = read_analogies(bundled_analogy_sets()["questions-words"])
    assert google.total == 19544 and len(google.sections) == 14
    assert sum(len(q) for name, q in google.sections if not name.startswith("gram")) == 8869
    assert [name for name, _ in google.sections[:5]] == [
        "capital-common-countries", "capital-world", "currency", "city-in-state", "family"]
    sims = bundled_similarity_sets()
    assert len(read_pairs(sims["wordsim353"]).pairs) == 353
    assert len(read_pairs(sims["simlex999"]).pairs) == 999
    assert (bundled_analogy_sets()["questions-words"].parent / "NOTICE").is_file()


@pytest.mark.parametrize("text,message", [
    (": s\na b c\n", r"q.txt, line 2: expected 4 words"),
    ("a b c d\n", r"q.txt, line 1: question before the first"),
    (": s\n", r"holds no analogy questions"),
])
def test_analogy_file_errors(tmp_path, text, message):
    (tmp_path / "q.txt").write_text(text)
    with pytest.raises(EmbedkitError, match=message):
        read_analogies(tmp_path / "q.txt")


def test_pair_file_formats_and_errors(tmp_path):
    (tmp_path / "p.txt").write_text("# comment\na\tb\t1.5\n\nc d 2\n")
    ps = read_pairs(tmp_path / "p.txt")
    assert ps.pairs == [("a", "b"), ("c", "d")] and ps.gold.tolist() == [1.5, 2.0] and ps.name == "p"
    (tmp_path / "p.txt").write_text("a b high\n")
    with pytest.raises(EmbedkitError, match=r"p.txt, line 1: score 'high' is not a number"):
        read_pairs(tmp_path / "p.txt")
    (tmp_path / "p.txt").write_text("a b\n")
    with pytest.raises(EmbedkitError, match=r"p.txt, line 1: expected 'word1 word2 score'"):
        read_pairs(tmp_path / "p.txt")
    with pytest.raises(EmbedkitError, match="does not exist"):
        read_pairs(tmp_path / "missing.txt")


@pytest.fixture
def pair_setup(tmp_path):
    rng = np.random.default_rng(5)
    words = ["Car", "car", "automobile", "tiger", "cat", "king", "queen", "x", "y", "z"]
    emb = Embeddings(words, rng.standard_normal((10, 8)).astype(np.float32))
    rows = [("car", "automobile", 9.0), ("tiger", "cat", 7.0), ("king", "queen", 8.0), ("x", "y", 1.0),
            ("CAR", "z", 2.0), ("tiger", "unicorn", 5.0), ("cat", "y", 3.5), ("x", "z", 0.5)]
    path = tmp_path / "pairs.txt"
    path.write_text("".join(f"{a}\t{b}\t{s}\n" for a, b, s in rows))
    return emb, rows, path


def test_similarity_matches_direct_computation(pair_setup):
    emb, rows, path = pair_setup
    res = evaluate_similarity(emb, path)
    first = {"car": 0}                                   # "car" folds to its first spelling, "Car"
    def cos(a, b):
        va, vb = (emb.vectors[first.get(w.casefold(), emb.index.get(w.casefold(), -1))] for w in (a, b))
        return float(va @ vb / np.linalg.norm(va) / np.linalg.norm(vb))
    known = [(cos(a, b), s) for a, b, s in rows if b != "unicorn"]
    model, gold = zip(*known)
    assert res.pairs == 8 and res.oov == 1 and res.scored == 7
    assert res.spearman == pytest.approx(stats.spearmanr(gold, model)[0], abs=1e-9)
    assert res.pearson == pytest.approx(stats.pearsonr(gold, model)[0], abs=1e-6)
    model0 = [cos(a, b) if b != "unicorn" else 0.0 for a, b, _ in rows]
    gold0 = [s for _, _, s in rows]
    assert res.spearman_oov0 == pytest.approx(stats.spearmanr(gold0, model0)[0], abs=1e-9)
    assert res.pearson_oov0 == pytest.approx(stats.pearsonr(gold0, model0)[0], abs=1e-6)


def test_similarity_restrict_and_case(pair_setup):
    emb, _, path = pair_setup
    assert evaluate_similarity(emb, path, restrict_vocab=3).oov == 7
    assert evaluate_similarity(emb, path, case_fold=False).oov == 2         # CAR is unknown then


def test_similarity_uses_oov_vectors_of_subclasses(pair_setup):
    emb, _, path = pair_setup

    class Subword(Embeddings):
        def oov_vector(self, word):
            return self.vectors[4] if word == "unicorn" else None

    res = evaluate_similarity(Subword(emb.words, emb.vectors), path)
    assert res.oov == 1 and res.scored == 8


def test_report_json_and_table(tmp_path, pair_setup):
    emb, _, path = pair_setup
    (tmp_path / "an.txt").write_text(": family\nking queen Car car\n: gram1\ncat tiger x y\n")
    rep = evaluate_all(emb, analogy=[tmp_path / "an.txt"], similarity=[path])
    write_json(rep, tmp_path / "out.json")
    data = json.loads((tmp_path / "out.json").read_text())
    assert set(data) == {"analogy", "similarity", "missing"} and data["missing"] == []
    assert {"accuracy", "semantic", "syntactic", "seen", "total"} <= set(data["analogy"]["an"])
    assert {"spearman", "pearson", "oov", "pairs"} <= set(data["similarity"]["pairs"])
    assert data["similarity"]["pairs"]["pairs"] == 8 and data["analogy"]["an"]["total"] == 2
    table = format_table(rep, sections=True)
    assert "an " in table and "pairs " in table and "gram1" in table and "3CosAdd" in table


def test_report_defaults_to_bundled_sets(no_external_sets):
    emb = Embeddings(["king", "queen", "man", "woman"], np.eye(4, dtype=np.float32))
    rep = evaluate_all(emb)
    assert [r.name for r in rep.analogy] == ["questions-words"]
    assert [r.name for r in rep.similarity] == ["wordsim353", "simlex999"]
    assert rep.missing == ["men", "rw"]


@pytest.mark.slow
def test_google_set_on_70k_by_100_is_fast():
    rng = np.random.default_rng(0)
    google = read_analogies(bundled_analogy_sets()["questions-words"])
    qwords = sorted({w for _, qs in google.sections for q in qs for w in q})
    words = qwords + [f"filler{i}" for i in range(70_000 - len(qwords))]
    emb = Embeddings(words, rng.standard_normal((70_000, 100)).astype(np.float32))
    start = time.perf_counter()
    res = evaluate_analogies(emb, google, restrict_vocab=30_000)
    elapsed = time.perf_counter() - start
    assert res.seen == 19544
    assert elapsed < 15, f"Google set took {elapsed:.1f}s"


def test_table_numbers_are_the_reports(tmp_path, pair_setup):
    """Each cell is its result's number in its unit: analogy scores and coverage in percent,
    correlations as fractions (the table is what people quote, so a unit slip is a wrong result)."""
    emb, _, path = pair_setup
    (tmp_path / "an.txt").write_text(": family\nking queen Car car\nking queen x y\n: gram1\ncat tiger x y\n")
    rep = evaluate_all(emb, analogy=[tmp_path / "an.txt"], similarity=[path])
    rows = {line.split()[0]: line.split() for line in format_table(rep).splitlines()[2:] if line.strip()}
    a, s = rep.analogy[0], rep.similarity[0]
    assert rows["an"][1:6] == ["analogy", f"{100 * a.accuracy:.2f}%", f"{100 * a.semantic:.2f}%",
                               f"{100 * a.syntactic:.2f}%", "-"]
    assert rows["an"][6] == f"{100 * a.accuracy_all:.2f}%"
    assert rows["pairs"][1:6] == ["similarity", f"{s.spearman:.4f}", "-", "-", f"{s.pearson:.4f}"]
    assert rows["pairs"][6] == f"{s.spearman_oov0:.4f}"


def test_lazy_public_names_are_the_modules_functions():
    """`from embedkit.evaluate import evaluate_all` (the README's spelling) resolves lazily."""
    import embedkit.evaluate as ev
    from embedkit.evaluate import analogy, report, similarity
    assert ev.evaluate_all is report.evaluate_all and ev.format_table is format_table
    assert ev.write_json is write_json and ev.evaluate_analogies is analogy.evaluate_analogies
    assert ev.evaluate_similarity is similarity.evaluate_similarity
    with pytest.raises(AttributeError):
        ev.no_such_name


def test_vectors_file_of_no_words_is_one_line_error_and_evaluate_never_divides_by_zero(tmp_path, capsys):
    from embedkit.cli import main as cli_main
    from embedkit.io import load
    zero = tmp_path / "v0.txt"
    zero.write_text("0 5\n")                                 # a header and no rows: like an empty file
    with pytest.raises(EmbedkitError, match="holds no vectors \\(its header counts 0 words\\)"):
        load(zero)
    for argv in (["evaluate", str(zero)], ["neighbors", str(zero), "a"], ["export", str(zero), "--to", "x.bin"]):
        assert cli_main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"embedkit {argv[0]}: error: {zero} holds no vectors (its header counts 0 words)\n"
    none = Embeddings([], np.zeros((0, 5), np.float32))     # from Python: no candidates, no division by zero
    for method in ("3cosadd", "3cosmul"):
        assert evaluate_analogies(none, "questions-words", method=method).seen == 0
