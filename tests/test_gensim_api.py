"""gensim KeyedVectors idioms on an Embeddings, against gensim 4.4's answers on the same vectors.

gensim is a test dependency only. The vectors (conftest's gensim_kv) are a small real model, so
neighbour lists have real structure; rankings are compared word for word and scores to float32
rounding. Where embedkit deliberately differs (documented in embedkit/queries.py), the test says so.
"""
import warnings

import numpy as np
import pytest

from embedkit import io
from embedkit.embeddings import Embeddings, UnknownWordError
from embedkit.errors import EmbedkitError

gensim_models = pytest.importorskip("gensim.models")
TOL = dict(atol=2e-5)


@pytest.fixture(scope="module")
def kv(gensim_kv):
    return gensim_kv


@pytest.fixture(scope="module")
def emb(kv):
    counts = [kv.get_vecattr(w, "count") for w in kv.index_to_key]
    return Embeddings(kv.index_to_key, kv.vectors, counts)


@pytest.fixture(scope="module")
def probes(kv):
    """Mid-frequency words (the top ones are stop words)."""
    return kv.index_to_key[40:70:3]


def _same(ours, theirs, tol=TOL, gap=1e-5):
    """Equal rankings and scores. gensim's vectors come from a multi-threaded run, so two words
    whose scores are within float32 noise (`gap`) may come in either order: within such a run of
    near-equal scores only the set of words is compared; a run that reaches the end of the list
    may continue past it, so only its scores are compared."""
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], **tol)
    scores = [s for _, s in theirs]
    start = 0
    for i in range(1, len(theirs) + 1):
        if i == len(theirs) or scores[i - 1] - scores[i] > gap:
            if i < len(theirs) or i - start == 1:
                assert {w for w, _ in ours[start:i]} == {w for w, _ in theirs[start:i]}, (ours, theirs)
            start = i


def _clear_winner(results, gap=1e-5):
    """True when no two neighbouring scores are within float32 noise (either order would be right)."""
    s = [x for _, x in results]
    return all(a - b > gap for a, b in zip(s, s[1:]))


def test_lookup_surface(kv, emb):
    words = kv.index_to_key
    assert emb.index_to_key == words and emb.key_to_index == kv.key_to_index
    assert emb.vector_size == kv.vector_size == 32 and len(emb) == len(kv)
    assert list(emb) == words                                    # iteration: the words, in order
    assert np.array_equal(emb[0], kv[0]) and np.array_equal(emb[np.int64(7)], kv[7])
    assert np.array_equal(emb[["king", "queen"]], kv[["king", "queen"]])
    assert np.array_equal(emb[[3, 1]], kv[[3, 1]])
    assert np.array_equal(emb.get_vector("water"), kv.get_vector("water"))
    np.testing.assert_allclose(emb.get_vector("water", norm=True), kv.get_vector("water", norm=True), atol=1e-6)
    assert emb.get_index("water") == kv.get_index("water") and emb.get_index(5) == kv.get_index(5) == 5
    assert emb.get_index("zzqx", default=-7) == kv.get_index("zzqx", default=-7) == -7
    for key in ("water", 0, len(kv) - 1, len(kv), -1, "zzqx"):
        assert emb.has_index_for(key) == kv.has_index_for(key), key
    assert emb.get_vecattr("water", "count") == kv.get_vecattr("water", "count")
    np.testing.assert_allclose(emb.norms, kv.norms if kv.norms is not None else np.linalg.norm(kv.vectors, axis=1),
                               rtol=1e-6)
    np.testing.assert_allclose(emb.get_normed_vectors(), kv.get_normed_vectors(), atol=1e-6)
    for bad in ("zzqx", len(kv)):
        with pytest.raises(KeyError):
            emb[bad]
        with pytest.raises(KeyError):
            kv[bad]


def test_most_similar(kv, emb, probes):
    for w in probes:
        _same(emb.most_similar(w, topn=8), kv.most_similar(w, topn=8))
        _same(emb.similar_by_word(w, topn=5), kv.similar_by_word(w, topn=5))
        _same(emb.similar_by_key(w, topn=5, restrict_vocab=500), kv.similar_by_key(w, topn=5, restrict_vocab=500))
    cases = [dict(positive=["king", "woman"], negative=["man"]),
             dict(positive=["paris", "germany"], negative="france", restrict_vocab=3000),
             dict(positive=[("king", 2.0), ("woman", 0.5)], negative=[("man", -1.5)]),
             dict(positive=[kv.get_index("king"), "woman"], negative=[kv.get_index("man")]),
             dict(negative=["good"])]
    for case in cases:
        _same(emb.most_similar(topn=6, **case), kv.most_similar(topn=6, **case))
    v = kv["france"] + kv["italy"]
    _same(emb.similar_by_vector(v, topn=6), kv.similar_by_vector(v, topn=6))   # not excluded: a raw vector
    _same(emb.most_similar(positive=[v], topn=6), kv.most_similar(positive=[v], topn=6))
    assert emb.most_similar("king", topn=0) == kv.most_similar("king", topn=0) == []


def test_most_similar_topn_none_returns_every_cosine(kv, emb):
    ours, theirs = emb.most_similar("king", topn=None), kv.most_similar("king", topn=None)
    assert ours.shape == theirs.shape == (len(kv),)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    ours = emb.most_similar(positive=["king", "woman"], negative=["man"], topn=None, restrict_vocab=1000)
    theirs = kv.most_similar(positive=["king", "woman"], negative=["man"], topn=None, restrict_vocab=1000)
    assert ours.shape == (1000,)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(emb.most_similar_cosmul("king", topn=None), kv.most_similar_cosmul("king", topn=None),
                               rtol=1e-5)


def test_most_similar_cosmul(kv, emb, probes):
    cases = [dict(positive=["king", "woman"], negative=["man"]), dict(positive=["paris", "germany"], negative=["france"]),
             dict(positive=["king"]), dict(positive="good", negative="bad"), dict(positive=["war", "peace", "army"])]
    cases += [dict(positive=[w]) for w in probes[:4]]
    for case in cases:
        ours, theirs = emb.most_similar_cosmul(topn=6, **case), kv.most_similar_cosmul(topn=6, **case)
        _same(ours, theirs, dict(rtol=1e-5))


def test_pairs_and_sets(kv, emb, probes):
    a, b = probes[0], probes[1]
    assert emb.similarity(a, b) == pytest.approx(float(kv.similarity(a, b)), abs=1e-6)
    assert emb.distance(a, b) == pytest.approx(float(kv.distance(a, b)), abs=1e-6)
    np.testing.assert_allclose(emb.distances(a), kv.distances(a), atol=1e-5)
    np.testing.assert_allclose(emb.distances(a, probes[2:6]), kv.distances(a, probes[2:6]), atol=1e-6)
    np.testing.assert_allclose(emb.distances(kv[a], probes[2:6]), kv.distances(kv[a], probes[2:6]), atol=1e-6)
    assert emb.n_similarity(["king", "man"], ["queen", "woman"]) == \
        pytest.approx(float(kv.n_similarity(["king", "man"], ["queen", "woman"])), abs=1e-6)
    for group in (["food", "water", "milk", "church"], ["france", "germany", "italy", "spain", "dog"],
                  ["red", "green", "blue", "king", "yellow"], probes[:5]):
        assert emb.doesnt_match(group) == kv.doesnt_match(group)
        ours, theirs = emb.rank_by_centrality(group), kv.rank_by_centrality(group)
        assert [w for _, w in ours] == [w for _, w in theirs]
        np.testing.assert_allclose([s for s, _ in ours], [s for s, _ in theirs], atol=1e-5)
    assert emb.most_similar_to_given("king", ["apple", "queen", "car"]) == \
        kv.most_similar_to_given("king", ["apple", "queen", "car"])
    assert emb.relative_cosine_similarity("king", "queen") == \
        pytest.approx(float(kv.relative_cosine_similarity("king", "queen")), rel=1e-5)
    np.testing.assert_allclose(Embeddings.cosine_similarities(kv["king"], kv.vectors[:50]),
                               kv.cosine_similarities(kv["king"], kv.vectors[:50]), atol=1e-6)


def test_rank_and_closer_than(kv, emb, probes):
    for a in probes[:4]:
        for b in probes[4:8]:
            theirs = kv.closer_than(a, b)
            ours = emb.closer_than(a, b)
            # a word whose distance ties b's within float32 rounding may fall on either side
            assert abs(len(ours) - len(theirs)) <= 1 and len(set(ours) ^ set(theirs)) <= 1
            assert abs(emb.rank(a, b) - kv.rank(a, b)) <= 1
    top = kv.most_similar("king", topn=3)
    if _clear_winner(top):
        assert [emb.rank("king", w) for w, _ in top] == [kv.rank("king", w) for w, _ in top] == [1, 2, 3]


def test_get_mean_vector(kv, emb):
    for kwargs in (dict(), dict(pre_normalize=False), dict(post_normalize=True), dict(weights=[1.0, 2.0, -0.5])):
        ours = emb.get_mean_vector(["king", "queen", "prince"], **kwargs)
        theirs = kv.get_mean_vector(["king", "queen", "prince"], **kwargs)
        np.testing.assert_allclose(ours, theirs, atol=1e-6)
    with pytest.warns(UserWarning, match="zzqx"):                   # gensim skips it (with a log line)
        ours = emb.get_mean_vector(["king", "zzqx"])
    np.testing.assert_allclose(ours, kv.get_mean_vector(["king", "zzqx"]), atol=1e-6)
    with pytest.raises(KeyError):
        emb.get_mean_vector(["king", "zzqx"], ignore_missing=False)


def test_vectors_for_all_add_vectors_and_files(tmp_path, kv, emb):
    sub = emb.vectors_for_all(["queen", "king", "queen"])
    assert sub.index_to_key == kv.vectors_for_all(["queen", "king", "queen"]).index_to_key == ["queen", "king"]
    with pytest.warns(UserWarning, match="zzqx"):
        assert emb.vectors_for_all(["zzqx", "king"]).index_to_key == ["king"]
    mine = Embeddings(emb.words[:100], emb.vectors[:100])
    theirs = gensim_models.KeyedVectors(vector_size=kv.vector_size)
    theirs.add_vectors(kv.index_to_key[:100], kv.vectors[:100])
    new = np.ones((2, kv.vector_size), np.float32)
    mine.add_vectors([kv.index_to_key[5], "brandnew"], new)
    theirs.add_vectors([kv.index_to_key[5], "brandnew"], new)
    assert mine.index_to_key == theirs.index_to_key and np.array_equal(mine.vectors, theirs.vectors)
    mine["brandnew"] = 2 * new[0]
    theirs["brandnew"] = 2 * new[0]
    assert np.array_equal(mine.vectors, theirs.vectors)
    _same(mine.most_similar("brandnew", topn=3), theirs.most_similar("brandnew", topn=3))
    assert mine.add_vector("zzother", new[0]) == 101
    # gensim's writers and readers, both ways
    mine.save_word2vec_format(tmp_path / "m.bin", binary=True)
    back = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "m.bin"), binary=True)
    assert back.index_to_key == mine.words and np.array_equal(back.vectors, mine.vectors)
    theirs.save_word2vec_format(str(tmp_path / "g.txt"))
    got = Embeddings.load_word2vec_format(tmp_path / "g.txt")
    assert got.words == theirs.index_to_key and np.array_equal(got.vectors, theirs.vectors)


def test_save_by_extension_and_model_folder(tmp_path, emb):
    small = Embeddings(emb.words[:200], emb.vectors[:200], emb.counts[:200])
    for name, fmt in (("v.txt", "word2vec-text"), ("v.bin", "word2vec-binary"), ("v.vec", "fasttext-vec"),
                      ("v.txt.gz", "word2vec-text")):
        small.save(tmp_path / name)
        assert io.detect_format(tmp_path / name) == fmt
        assert np.array_equal(Embeddings.load(tmp_path / name).vectors, small.vectors)
    small.save(tmp_path / "glove.txt", format="glove")
    assert io.detect_format(tmp_path / "glove.txt") == "glove"
    with pytest.raises(EmbedkitError, match=r"\.txt holds .*not word2vec-binary"):
        small.save(tmp_path / "x.txt", format="word2vec-binary")
    small.save(tmp_path / "vectors.kv")                      # no vector-file extension: a model folder
    back = Embeddings.load(tmp_path / "vectors.kv")
    assert back.words == small.words and np.array_equal(back.vectors, small.vectors)
    assert np.array_equal(back.counts, small.counts)


def test_unknown_words_suggest(emb):
    with pytest.raises(UnknownWordError) as info:
        emb["King"]
    assert isinstance(info.value, KeyError) and info.value.suggestions[0] == "king"
    assert str(info.value).endswith("did you mean 'king'?") or "did you mean 'king'" in str(info.value)
    with pytest.raises(UnknownWordError) as info:
        emb.most_similar("goverment")
    assert "government" in info.value.suggestions
    assert emb.casefold_match("PARIS") == "paris" and emb.casefold_match("zzqx") is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert emb.suggest("qzxqzxqzx") == []
