"""Co-occurrence counting against a slow pure-Python reference (GloVe cooccur semantics)."""
from collections import defaultdict

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings, strategies as st

from embedkit.config import CooccurConfig
from embedkit.corpus import cooccur as C
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError


def reference(sentences, continues, V, window, weighting):
    """GloVe cooccur.c, symmetric: for each token and each earlier token at distance d <= window in
    the same line, X[w_k, w_{k-d}] += 1/d and X[w_{k-d}, w_k] += 1/d. Pieces flagged `continues`
    belong to the previous line."""
    lines = []
    for sent, cont in zip(sentences, continues):
        if cont and lines:
            lines[-1] = lines[-1] + list(sent)
        else:
            lines.append(list(sent))
    X = defaultdict(float)
    for line in lines:
        for k in range(len(line)):
            for d in range(1, window + 1):
                if k - d < 0:
                    break
                w = 1.0 / d if weighting == "harmonic" else 1.0
                X[(line[k], line[k - d])] += w
                X[(line[k - d], line[k])] += w
    dense = np.zeros((V, V))
    for (a, b), v in X.items():
        dense[a, b] = v
    return dense


def random_corpus(seed, V=30, n_sent=40, max_len=25, p_cut=0.3):
    """Zipf-like ids relabelled so that id order is count-descending (as Vocab guarantees)."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, V + 1)
    raw = [rng.choice(V, size=rng.integers(0, max_len), p=p / p.sum()) for _ in range(n_sent)]
    counts = np.bincount(np.concatenate(raw + [np.arange(V)]), minlength=V)  # every word seen
    order = np.lexsort((np.arange(V), -counts))
    rank = np.empty(V, np.int64)
    rank[order] = np.arange(V)
    sentences = [rank[s] for s in raw]
    continues = rng.random(n_sent) < p_cut
    continues[0] = False
    vocab = Vocab([f"w{k}" for k in range(V)], counts[order].astype(np.int64))
    return EncodedCorpus.from_id_lists(sentences, vocab, continues), sentences, continues


def plan_variants(V, window):
    """Dense-only, sparse-only and mixed plans, with buffers tiny enough to spill many times."""
    none = np.zeros(V, np.int64)
    every = np.full(V, V, np.int64)
    mixed = np.maximum(V - 3 * np.arange(V), 0).astype(np.int64)
    return {
        "dense": C.CooccurPlan(every, window + 1, 1 << 20),
        "sparse-big-buffer": C.CooccurPlan(none, 100_000, 1 << 20),
        "sparse-tiny-buffer": C.CooccurPlan(none, 3 * window, 1),
        "mixed-spills": C.CooccurPlan(mixed, 5 * window, 1),
        "mixed-one-buffer": C.CooccurPlan(mixed, 100_000, 1 << 20),
    }


def assert_same(X, ref):
    assert isinstance(X, scipy.sparse.csr_matrix) and X.dtype == np.float64
    assert X.has_sorted_indices
    got = X.toarray()
    np.testing.assert_array_equal(got != 0, ref != 0)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=0)
    assert X.nnz == np.count_nonzero(ref)


@pytest.mark.parametrize("weighting", ["harmonic", "none"])
@pytest.mark.parametrize("variant", ["default", "dense", "sparse-big-buffer", "sparse-tiny-buffer",
                                     "mixed-spills", "mixed-one-buffer"])
def test_matches_reference(variant, weighting, tmp_path):
    window = 4
    corpus, sentences, continues = random_corpus(1, V=30, n_sent=60)
    cfg = CooccurConfig(window=window, weighting=weighting)
    plan = None if variant == "default" else plan_variants(30, window)[variant]
    X = C.count_cooccurrences(corpus, cfg, tmpdir=tmp_path, plan=plan)
    assert_same(X, reference(sentences, continues, 30, window, weighting))
    assert list(tmp_path.iterdir()) == []        # spilled runs are removed


def test_tiny_buffer_really_spills_and_merges_in_chunks(tmp_path, monkeypatch):
    corpus, sentences, continues = random_corpus(2, V=40, n_sent=200, max_len=40)
    written = []
    real_write = C._Spills.write
    monkeypatch.setattr(C._Spills, "write", lambda self, k, v: (written.append(len(k)), real_write(self, k, v)))
    reads = []
    real_read = C._Spills.read
    monkeypatch.setattr(C._Spills, "read", lambda self, *a: reads.append(a) or real_read(self, *a))
    plan = C.CooccurPlan(np.zeros(40, np.int64), 200, 1)
    X = C.count_cooccurrences(corpus, CooccurConfig(window=5), tmpdir=tmp_path, plan=plan)
    assert len(written) > 20 and len(reads) > 2 * len(written)
    assert_same(X, reference(sentences, continues, 40, 5, "harmonic"))
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), window=st.integers(1, 12), V=st.integers(1, 25),
       buffer=st.integers(0, 200), dense_step=st.integers(0, 30), weighting=st.sampled_from(["harmonic", "none"]))
def test_property_any_plan_matches_reference(seed, window, V, buffer, dense_step, weighting):
    corpus, sentences, continues = random_corpus(seed, V=V, n_sent=30, max_len=30, p_cut=0.5)
    row_len = np.maximum(V - dense_step * np.arange(V), 0).astype(np.int64) if dense_step else np.zeros(V, np.int64)
    plan = C.CooccurPlan(row_len, window + 1 + buffer, 1)
    X = C.count_cooccurrences(corpus, CooccurConfig(window=window, weighting=weighting), plan=plan)
    assert_same(X, reference(sentences, continues, V, window, weighting))


def test_hand_example_and_symmetry():
    vocab = Vocab(["a", "b", "c"], np.array([3, 2, 1]))
    corpus = EncodedCorpus.from_id_lists([[0, 1, 2], [0, 0]], vocab)
    X = C.count_cooccurrences(corpus, CooccurConfig(window=2)).toarray()
    want = np.array([[2.0, 1.0, 0.5],       # a-a: adjacent in line 2, added to X[a,a] twice
                     [1.0, 0.0, 1.0],
                     [0.5, 1.0, 0.0]])
    np.testing.assert_array_equal(X, want)


def test_cut_pieces_are_not_boundaries():
    vocab = Vocab(["a", "b", "c", "d"], np.array([4, 3, 2, 1]))
    line = [[0, 1, 2, 3, 0, 1]]
    pieces = [[0, 1], [2, 3, 0], [1]]
    cfg = CooccurConfig(window=3)
    one = C.count_cooccurrences(EncodedCorpus.from_id_lists(line, vocab), cfg)
    cut = C.count_cooccurrences(EncodedCorpus.from_id_lists(pieces, vocab, [False, True, True]), cfg)
    split = C.count_cooccurrences(EncodedCorpus.from_id_lists(pieces, vocab), cfg)
    assert (one != cut).nnz == 0
    assert (one != split).nnz > 0            # real sentence boundaries do stop windows


def test_plan_respects_budget_and_orders_rows():
    rng = np.random.default_rng(0)
    counts = np.sort(rng.zipf(1.2, 3000).clip(max=10**7))[::-1].astype(np.int64)
    n = int(counts.sum())
    big = C.plan_memory(counts, n, 10, 4.0)
    small = C.plan_memory(counts, n, 10, 0.0005)
    for plan in (big, small):
        assert (np.diff(plan.row_len) <= 0).all()
    assert small.dense_slots * 8 <= C.DENSE_SHARE * 0.0005 * 2**30
    assert small.dense_slots < big.dense_slots
    # a pair is dense exactly when its expected number of window events reaches DENSE_MIN_EVENTS
    i, j = 3, int(big.row_len[3]) - 1
    assert 2 * 10 * counts[i] * counts[j] / n >= C.DENSE_MIN_EVENTS
    if big.row_len[3] < len(counts):
        assert 2 * 10 * counts[i] * counts[j + 1] / n < C.DENSE_MIN_EVENTS
    # with an event estimate the buffer is not much larger than needed
    est = C.plan_memory(counts, n, 10, 4.0, sparse_events=lambda row_len: 100_000)
    assert est.buffer_records == 125_000 + C.MIN_BUFFER_RECORDS


def test_sampled_event_estimate_is_close():
    rng = np.random.default_rng(5)
    V = 2000
    p = 1.0 / np.arange(1, V + 1)
    tokens = rng.choice(V, size=3_000_000, p=p / p.sum()).astype(np.int32)
    lines = np.array([0, 1_000_000, 1_000_003, 3_000_000], np.int64)
    counts = np.bincount(tokens, minlength=V)
    row_len = C.dense_row_lengths(np.sort(counts)[::-1], 3e5)
    exact, seen = C.K.count_sparse_events(tokens, lines, 10, row_len, 1, 1)
    assert seen == len(tokens)
    estimate = C.estimate_sparse_events(tokens, lines, 10, row_len)
    assert abs(estimate - exact) < 0.05 * exact


def test_empty_and_bad_input(tmp_path):
    vocab = Vocab(["a", "b"], np.array([2, 1]))
    X = C.count_cooccurrences(EncodedCorpus.from_id_lists([], vocab))
    assert X.shape == (2, 2) and X.nnz == 0
    corpus = EncodedCorpus.from_id_lists([[0, 1]], vocab)
    with pytest.raises(EmbedkitError, match="--window"):
        C.count_cooccurrences(corpus, CooccurConfig(window=0))
    with pytest.raises(EmbedkitError, match="--memory"):
        C.count_cooccurrences(corpus, CooccurConfig(memory=0))
    with pytest.raises(EmbedkitError, match="--weighting"):
        C.count_cooccurrences(corpus, CooccurConfig(weighting="log"))
    bad = EncodedCorpus.from_id_lists([[0, 5]], vocab)
    with pytest.raises(EmbedkitError, match="outside the vocabulary"):
        C.count_cooccurrences(bad)


def test_unwritable_tmpdir_is_a_clear_error(tmp_path):
    corpus, _, _ = random_corpus(3, V=20, n_sent=50)
    plan = C.CooccurPlan(np.zeros(20, np.int64), 20, 1)
    with pytest.raises(EmbedkitError, match="--tmpdir"):
        C.count_cooccurrences(corpus, CooccurConfig(window=3), tmpdir=tmp_path / "missing", plan=plan)


def test_temp_files_removed_on_failure(tmp_path, monkeypatch):
    corpus, _, _ = random_corpus(3, V=20, n_sent=50)

    def boom(*a, **k):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(C, "_merge", boom)
    plan = C.CooccurPlan(np.zeros(20, np.int64), 20, 1)
    with pytest.raises(RuntimeError):
        C.count_cooccurrences(corpus, CooccurConfig(window=3), tmpdir=tmp_path, plan=plan)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("per_write", [7, 1 << 20])
def test_glove_binary_round_trip(tmp_path, monkeypatch, per_write):
    monkeypatch.setattr(C, "_RECORDS_PER_WRITE", per_write)
    corpus, sentences, continues = random_corpus(4, V=25, n_sent=30)
    X = C.count_cooccurrences(corpus, CooccurConfig(window=5))
    path = tmp_path / "cooc.bin"
    C.save_glove_binary(X, path)
    rec = np.fromfile(path, dtype=C.CREC)
    assert path.stat().st_size == 16 * X.nnz == 16 * len(rec)
    assert rec["word1"].min() >= 1 and rec["word2"].max() <= 25       # 1-based ids
    r, c = X.nonzero()
    np.testing.assert_array_equal(rec["word1"] - 1, r)
    np.testing.assert_array_equal(rec["word2"] - 1, c)
    np.testing.assert_array_equal(rec["value"], X.data)
    Y = C.load_glove_binary(path, 25)
    assert (X != Y).nnz == 0
    assert [p.name for p in tmp_path.iterdir()] == ["cooc.bin"]      # no temp file left
    (tmp_path / "bad.bin").write_bytes(b"\0" * 20)
    with pytest.raises(EmbedkitError, match="16-byte"):
        C.load_glove_binary(tmp_path / "bad.bin", 25)


def test_cli_cooccur_end_to_end(tmp_path, monkeypatch, capsys):
    from embedkit.cli import main
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "cache"))
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20 + "a lone line\n", encoding="utf-8")
    out = tmp_path / "out" / "cooc.npz"
    rc = main(["cooccur", "--corpus", str(text), "--tokenizer", "whitespace", "--min-count", "2",
               "--window", "3", "--output", str(out), "--glove-binary", str(tmp_path / "cooc.bin"), "--quiet"])
    assert rc == 0
    summary = capsys.readouterr().out
    assert "non-zeros" in summary and "7 words" in summary
    X = C.load_cooccur(out)
    vocab = Vocab.load(tmp_path / "out" / "cooc.vocab.tsv")
    assert X.shape == (len(vocab), len(vocab)) == (7, 7)
    ids = vocab.index
    lines = [[ids[w] for w in line.split() if w in ids] for line in text.read_text().splitlines()]
    assert_same(X, reference(lines, [False] * len(lines), 7, 3, "harmonic"))
    G = C.load_glove_binary(tmp_path / "cooc.bin", 7)
    assert (G != X).nnz == 0
    glove_vocab = (tmp_path / "cooc.bin.vocab.txt").read_text().splitlines()
    assert glove_vocab[0] == f"the {vocab.counts[0]}" and len(glove_vocab) == 7


def test_cli_cooccur_errors(tmp_path, capsys):
    from embedkit.cli import main
    rc = main(["cooccur", "--corpus", str(tmp_path / "missing.txt"), "--output", str(tmp_path / "x.npz"),
               "--no-cache", "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "missing.txt" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    text = tmp_path / "c.txt"
    text.write_text("a b a b\n")
    rc = main(["cooccur", "--corpus", str(text), "--min-count", "1", "--window", "0",
               "--output", str(tmp_path / "x.npz"), "--no-cache", "--quiet"])
    assert rc == 2 and "--window" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
    with pytest.raises(EmbedkitError, match="does not exist"):
        C.load_cooccur(tmp_path / "nope.npz")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(EmbedkitError, match="not a scipy.sparse"):
        C.load_cooccur(tmp_path / "bad.npz")


def test_glove_binary_skips_explicit_zeros(tmp_path):
    X = scipy.sparse.csr_matrix((np.array([1.5, 0.0, 2.0]), np.array([1, 0, 2]), np.array([0, 1, 3, 3])), shape=(3, 3))
    C.save_glove_binary(X, tmp_path / "z.bin")
    rec = np.fromfile(tmp_path / "z.bin", dtype=C.CREC)
    assert rec.tolist() == [(1, 2, 1.5), (2, 3, 2.0)]
