"""Embeddings queries against slow, loop-based float64 references."""
import numpy as np
import pytest

from embedkit.embeddings import COSMUL_EPSILON, Embeddings, UnknownWordError, top_k
from embedkit.errors import EmbedkitError


@pytest.fixture(scope="module")
def emb():
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(300)]
    return Embeddings(words, rng.standard_normal((300, 16)).astype(np.float32))


def _unit64(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def slow_most_similar(emb, positive, negative, topn, restrict=None):
    """gensim's definition, one word at a time in float64."""
    query = sum(_unit64(emb.vectors[emb.index[w]]) for w in positive) \
        - sum((_unit64(emb.vectors[emb.index[w]]) for w in negative), np.zeros(emb.dim))
    query = _unit64(query)
    n = len(emb) if restrict is None else restrict
    scored = [(emb.words[i], float(_unit64(emb.vectors[i]) @ query)) for i in range(n)
              if emb.words[i] not in positive and emb.words[i] not in negative]
    scored.sort(key=lambda ws: -ws[1])
    return scored[:topn]


def slow_analogy(emb, a, b, c, method, topn, eps=COSMUL_EPSILON):
    ua, ub, uc = (_unit64(emb[w]) for w in (a, b, c))
    out = []
    for i, w in enumerate(emb.words):
        if w in (a, b, c):
            continue
        x = _unit64(emb.vectors[i])
        if method == "3cosadd":
            s = x @ _unit64(ub - ua + uc)
        else:
            ca, cb, cc = ((x @ u + 1) / 2 for u in (ua, ub, uc))
            s = cb * cc / (ca + eps)
        out.append((w, float(s)))
    out.sort(key=lambda ws: -ws[1])
    return out[:topn]


def _same(got, want, tol=1e-5):
    assert [w for w, _ in got] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=tol)


def test_container_protocol(emb):
    assert len(emb) == 300 and emb.dim == 16
    assert "w3" in emb and "nope" not in emb
    assert emb["w3"].dtype == np.float32 and np.array_equal(emb["w3"], emb.vectors[3])
    assert emb.index["w42"] == 42
    assert emb.unit is emb.unit                       # computed once
    np.testing.assert_allclose(np.linalg.norm(emb.unit, axis=1), 1, rtol=1e-6)


@pytest.mark.parametrize("positive,negative,restrict", [
    (["w1"], [], None), (["w1", "w2"], ["w3"], None), (["w5"], [], 50), (["w250"], ["w7"], 100)])
def test_most_similar_matches_reference(emb, positive, negative, restrict):
    got = emb.most_similar(positive, negative, topn=7, restrict_vocab=restrict)
    _same(got, slow_most_similar(emb, positive, negative, 7, restrict))


def test_most_similar_single_word_string_and_batch(emb):
    assert emb.most_similar("w9", topn=5) == emb.most_similar(["w9"], topn=5)
    batch = emb.most_similar_batch(["w9", "w10", "w11"], topn=4)
    for w, res in zip(["w9", "w10", "w11"], batch):
        _same(res, emb.most_similar(w, topn=4))


def test_most_similar_accepts_vectors(emb):
    res = emb.most_similar([emb["w4"]], topn=1)
    assert res[0][0] == "w4" and res[0][1] == pytest.approx(1.0, abs=1e-6)   # vectors are not excluded


def test_topn_larger_than_vocabulary():
    e = Embeddings(["a", "b", "c"], np.eye(3, dtype=np.float32))
    assert [w for w, _ in e.most_similar("a", topn=10)] in (["b", "c"], ["c", "b"])
    assert len(e.analogy("a", "b", "c", topn=10)) == 0


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_analogy_matches_reference(emb, method):
    for a, b, c in [("w1", "w2", "w3"), ("w10", "w200", "w299"), ("w0", "w1", "w2")]:
        _same(emb.analogy(a, b, c, method=method, topn=5), slow_analogy(emb, a, b, c, method, 5), tol=1e-4)


@pytest.mark.parametrize("method", ["3cosadd", "3cosmul"])
def test_planted_analogy(method):
    rng = np.random.default_rng(3)
    base = rng.standard_normal((6, 32)).astype(np.float32)
    man, woman, king = base[0], base[1], base[2]
    vecs = np.vstack([man, woman, king, king - man + woman, base[3:]])
    e = Embeddings(["man", "woman", "king", "queen", "x", "y", "z"], vecs)
    assert e.analogy("man", "king", "woman", method=method)[0][0] == "queen"
    assert e.analogy("man", "woman", "king", method=method)[0][0] == "queen"


def test_analogy_restrict_and_bad_method(emb):
    res = emb.analogy("w1", "w2", "w3", topn=3, restrict_vocab=20)
    assert all(emb.index[w] < 20 for w, _ in res)
    with pytest.raises(EmbedkitError, match="3cosadd"):
        emb.analogy("w1", "w2", "w3", method="3cosmax")


def test_similarity(emb):
    want = _unit64(emb["w1"]) @ _unit64(emb["w2"])
    assert emb.similarity("w1", "w2") == pytest.approx(want, abs=1e-6)
    assert emb.similarity("w1", "w1") == pytest.approx(1.0, abs=1e-6)


def test_unknown_word_is_keyerror_and_embedkiterror(emb):
    for call in (lambda: emb["nope"], lambda: emb.most_similar("nope"), lambda: emb.similarity("w1", "nope"),
                 lambda: emb.analogy("w1", "nope", "w2")):
        with pytest.raises(UnknownWordError) as info:
            call()
        assert isinstance(info.value, KeyError) and isinstance(info.value, EmbedkitError)
        assert str(info.value).startswith("unknown word 'nope'")   # no KeyError quoting


class Subword(Embeddings):
    """Answers any unseen word with a fixed mix of two known rows (a stand-in for n-gram sums)."""

    def oov_vector(self, word):
        return self.vectors[1] + 0.5 * self.vectors[2] if word.startswith("new") else None


def test_oov_vector_subclass_answers_unseen_words(emb):
    sub = Subword(emb.words, emb.vectors)
    v = emb.vectors[1] + 0.5 * emb.vectors[2]
    assert np.allclose(sub["newword"], v) and "newword" not in sub
    assert sub.similarity("newword", "w1") == pytest.approx(float(_unit64(v) @ _unit64(emb["w1"])), abs=1e-6)
    top = sub.most_similar("newword", topn=3)
    assert top == sub.most_similar([v], topn=3)
    assert sub.analogy("w5", "newword", "w7", topn=2)
    with pytest.raises(UnknownWordError):
        sub["other"]


def test_zero_vector_rows_do_not_produce_nan():
    vecs = np.array([[0, 0], [1, 0], [0, 1]], dtype=np.float32)
    e = Embeddings(["zero", "x", "y"], vecs)
    assert not np.isnan(e.unit).any()
    assert e.similarity("zero", "x") == 0.0
    assert e.most_similar("x", topn=2)[0][0] in ("zero", "y")


def test_construction_errors():
    with pytest.raises(EmbedkitError, match="duplicate word 'a'"):
        Embeddings(["a", "b", "a"], np.zeros((3, 2)))
    with pytest.raises(EmbedkitError, match="shape"):
        Embeddings(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(EmbedkitError, match="counts"):
        Embeddings(["a", "b"], np.zeros((2, 2)), counts=[1])
    e = Embeddings(["a"], np.ones((1, 2), dtype=np.float64), counts=[5])
    assert e.vectors.dtype == np.float32 and e.counts.dtype == np.int64


def test_top_k_orders_best_first():
    scores = np.array([[0.1, 0.9, 0.5, 0.7]], dtype=np.float32)
    ids, best = top_k(scores, 3)
    assert ids.tolist() == [[1, 3, 2]] and np.allclose(best, [[0.9, 0.7, 0.5]])


# -- gensim-style surface beyond what the gensim comparison covers (tests/test_gensim_api.py) ----

def test_keys_iteration_and_indices(emb):
    assert list(emb)[:3] == ["w0", "w1", "w2"] and len(list(emb)) == len(emb)
    assert np.array_equal(emb[5], emb["w5"]) and emb[[5, "w6"]].shape == (2, 16)
    assert emb[[]].shape == (0, 16)
    with pytest.raises(UnknownWordError, match="index 300 is out of range"):
        emb[300]
    with pytest.raises(UnknownWordError, match="must be a word"):
        emb[1.5]
    assert emb.most_similar(5, topn=3) == emb.most_similar("w5", topn=3)
    assert emb.similarity(5, "w5") == pytest.approx(1.0)


def test_suggestions_are_lazy_and_case_folded():
    e = Embeddings(["the", "King", "king", "queen", "kingdom"], np.eye(5, dtype=np.float32))
    assert e.casefold_match("KING") == "King"              # the first (most frequent) spelling
    err = e._unknown("KINg")
    assert err._suggestions is None                        # nothing computed until asked
    assert err.suggestions[0] == "King" and "did you mean 'King'" in str(err)
    assert e.suggest("quen") == ["queen"]


def test_add_vectors_keeps_counts_and_resets_derived_state():
    e = Embeddings(["a", "b"], np.eye(2, dtype=np.float32), counts=[3, 2])
    assert e.most_similar("a", topn=1)[0][0] == "b"
    e.add_vectors(["b", "c", "C"], [[5, 5], [1, 1], [2, 0]])
    assert e.words == ["a", "b", "c", "C"] and e.counts.tolist() == [3, 2, 0, 0]
    assert np.array_equal(e["b"], [0, 1])                   # kept: replace=False
    assert e.most_similar("c", topn=1)[0][0] in ("a", "b")  # unit rows rebuilt
    assert e.casefold_match("c") == "c"
    e["b"] = [7, 0]
    assert np.array_equal(e["b"], [7, 0]) and e.similarity("a", "b") == pytest.approx(1.0)


def test_subword_save_round_trip_keeps_unseen_word_vectors(tmp_path):
    from embedkit.io import load
    from embedkit.subword_embeddings import SubwordEmbeddings
    rng = np.random.default_rng(3)
    words = ["alpha", "beta", "gamma"]
    sub = SubwordEmbeddings(words, rng.standard_normal((3, 8)), rng.standard_normal((50, 8)), 3, 5, counts=[9, 8, 7])
    sub.save(tmp_path / "model")
    back = load(tmp_path / "model")
    assert isinstance(back, SubwordEmbeddings) and back.words == words and back.counts.tolist() == [9, 8, 7]
    assert np.array_equal(back["alphabet"], sub["alphabet"]) and (back.minn, back.maxn, back.bucket) == (3, 5, 50)
    assert back.vectors_for_all(["alphabet", "beta"]).words == ["alphabet", "beta"]
    with pytest.raises(UnknownWordError, match="n-gram"):
        SubwordEmbeddings(words, sub.vectors, sub.ngram_rows, 4, 5)["a"]   # "<a>" has no 4- or 5-gram


def test_resolve_prefers_vocabulary_then_case_then_subwords():
    sub = Subword(["King", "king", "new", "x"], np.eye(4, dtype=np.float32))
    assert sub.resolve("king") == ("king", "vocabulary")
    assert sub.resolve("KING") == ("King", "case")          # first spelling wins
    assert sub.resolve("NEW") == ("new", "case")            # a vocabulary match beats subwords
    assert sub.resolve("newer") == ("newer", "subwords")
    with pytest.raises(UnknownWordError) as info:
        sub.resolve("kinq")
    assert "king" in [s.lower() for s in info.value.suggestions]


def test_sentence_vector_is_fasttexts_mean_of_unit_vectors():
    e = Embeddings(["a", "b", "zero"], np.array([[3, 0], [0, 2], [0, 0]], np.float32))
    assert np.allclose(e.sentence_vector(["a", "b", "zero", "unknown", "a"]), [2 / 3, 1 / 3])
    assert np.array_equal(e.sentence_vector(["unknown"]), [0, 0]) and e.sentence_vector([]).shape == (2,)
