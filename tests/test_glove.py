"""GloVe: kernel vs a float64 numpy transcription of glove.c, the permutation kernel, determinism,
the NaN guard, output vectors, the co-occurrence cache, the torch backend (batch-1 equality with
numba, batch rule vs numpy, quality on a planted corpus), API and CLI end to end."""
import itertools
import math
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import scipy.sparse
from scipy.stats import chisquare

import embedkit
from embedkit.config import GloVeConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError
from embedkit.kernels import glove as kg
from embedkit.kernels.random import seed_states
from embedkit.trainers.glove import init_params, nonzero_entries, train_glove
from embedkit.trainers.glove_numba import GRAD_CLIP
from embedkit.trainers.runner import TrainContext


# ---- a float64 transcription of glove.c's glove_thread loop (the independent oracle) ----

def glove_c_reference(rows, cols, x, order, w, gradsq, x_max, alpha, eta, clip=GRAD_CLIP):
    """One sequential pass of glove.c over entries `order`; w, gradsq (2V, D+1) float64, updated in
    place. Returns (cost sum, number of clipped gradient components)."""
    V, dim = w.shape[0] // 2, w.shape[1] - 1
    cost, clipped = 0.0, 0
    for e in order:
        l1, l2 = rows[e], cols[e] + V
        diff = sum(w[l1, b] * w[l2, b] for b in range(dim)) + w[l1, dim] + w[l2, dim] - math.log(x[e])
        fdiff = diff if x[e] > x_max else (x[e] / x_max) ** alpha * diff
        cost += 0.5 * fdiff * diff
        up1, up2 = np.zeros(dim), np.zeros(dim)
        for b in range(dim):
            raw1, raw2 = fdiff * w[l2, b], fdiff * w[l1, b]
            clipped += (abs(raw1) > clip) + (abs(raw2) > clip)
            temp1 = min(max(raw1, -clip), clip) * eta
            temp2 = min(max(raw2, -clip), clip) * eta
            up1[b] = temp1 / math.sqrt(gradsq[l1, b])
            up2[b] = temp2 / math.sqrt(gradsq[l2, b])
            gradsq[l1, b] += temp1 * temp1
            gradsq[l2, b] += temp2 * temp2
        w[l1, :dim] -= up1
        w[l2, :dim] -= up2
        w[l1, dim] -= fdiff / math.sqrt(gradsq[l1, dim])
        w[l2, dim] -= fdiff / math.sqrt(gradsq[l2, dim])
        gradsq[l1, dim] += fdiff * fdiff
        gradsq[l2, dim] += fdiff * fdiff
    return cost, clipped


def tiny_problem(seed=0, V=9, dim=6, scale=1.0):
    """A random symmetric X with entries on both sides of x_max = 10, glove.c's init (times scale)."""
    rng = np.random.default_rng(seed)
    dense = np.where(rng.random((V, V)) < 0.6, rng.gamma(1.0, 8.0, (V, V)) + 0.1, 0.0)
    X = scipy.sparse.csr_matrix(np.triu(dense) + np.triu(dense, 1).T)
    rows, cols, x = nonzero_entries(X, V)
    w, gradsq = init_params(V, dim, seed)
    order = rng.permutation(len(x)).astype(np.int32)
    return rows, cols, x, order, w * np.float32(scale), gradsq


def run_kernel(rows, cols, x, order, w, gradsq, x_max=10.0, alpha=0.75, eta=0.05):
    status = np.zeros(1, np.int64)
    cost, n = kg.glove_pass(rows, cols, x, order, 0, len(order), w, gradsq, x_max, alpha, eta, GRAD_CLIP,
                            np.zeros(1, np.int64), status, 0)
    assert status[0] == 0 and n == len(order)
    return cost


@pytest.mark.parametrize("scale,eta", [(1.0, 0.05), (300.0, 0.05), (1.0, 0.5)])
def test_kernel_equals_glove_c_reference(scale, eta):
    rows, cols, x, order, w, gradsq = tiny_problem(scale=scale)
    w_ref, g_ref = w.astype(np.float64), gradsq.astype(np.float64)
    for epoch in range(2):
        ref_cost, clipped = glove_c_reference(rows, cols, x, order, w_ref, g_ref, 10.0, 0.75, eta)
        cost = run_kernel(rows, cols, x, order, w, gradsq, eta=eta)
        assert cost == pytest.approx(ref_cost, rel=1e-4)
        np.testing.assert_allclose(w, w_ref, rtol=2e-4, atol=1e-6)
        np.testing.assert_allclose(gradsq, g_ref, rtol=2e-4)
        if scale > 1 and epoch == 0:
            assert clipped > 0       # the large init exercises glove.c's component clipping
    assert (x > 10).any() and (x < 10).any()   # both branches of f


def test_kernel_slices_cover_the_permutation():
    """Two workers on two slices, run one after the other, equal one worker over the whole order."""
    rows, cols, x, order, w, gradsq = tiny_problem(seed=3)
    w2, g2 = w.copy(), gradsq.copy()
    run_kernel(rows, cols, x, order, w, gradsq)
    half = len(order) // 2
    prog, status = np.zeros(2, np.int64), np.zeros(1, np.int64)
    kg.glove_pass(rows, cols, x, order, 0, half, w2, g2, 10.0, 0.75, 0.05, GRAD_CLIP, prog, status, 0)
    kg.glove_pass(rows, cols, x, order, half, len(order), w2, g2, 10.0, 0.75, 0.05, GRAD_CLIP, prog, status, 1)
    np.testing.assert_array_equal(w, w2)
    assert list(prog) == [half, len(order) - half]


def test_kernel_stops_on_non_finite():
    rows, cols, x, order, w, gradsq = tiny_problem()
    w[rows[order[3]], 0] = np.inf
    status = np.zeros(1, np.int64)
    kg.glove_pass(rows, cols, x, order, 0, len(order), w, gradsq, 10.0, 0.75, 0.05, GRAD_CLIP,
                  np.zeros(1, np.int64), status, 0)
    assert status[0] != 0


# ---- the permutation kernel ----

@pytest.mark.parametrize("n,buckets", [(1, 1), (2, 5), (1000, 1), (1000, 7), (100_003, 64)])
def test_random_permutation_is_a_permutation(n, buckets):
    order = np.full(n, -1, np.int32)
    kg.random_permutation(order, seed_states(5, 1), buckets)
    np.testing.assert_array_equal(np.sort(order), np.arange(n))


@pytest.mark.parametrize("buckets", [1, 3])
def test_random_permutation_is_uniform(buckets):
    """All 24 orders of 4 items equally often (chi-square), with and without bucketing."""
    perms = {p: k for k, p in enumerate(itertools.permutations(range(4)))}
    state = seed_states(9, 1)
    order = np.empty(4, np.int64)
    counts = np.zeros(24)
    for _ in range(24_000):
        kg.random_permutation(order, state, buckets)
        counts[perms[tuple(order)]] += 1
    assert chisquare(counts).pvalue > 1e-3


# ---- the trainer ----

def planted_corpus(n_entities=30, n_lines=20_000, noise=5, seed=0) -> EncodedCorpus:
    """Lines of [x_k or y_k, 2 of k's private words p_k_*, 2 role words rx_* or ry_*, `noise` Zipf
    fillers], shuffled: x_k and y_k share k's contexts and differ by role, so the analogy
    x_a : y_a :: x_b : y_b is answerable from the co-occurrences alone."""
    rng = np.random.default_rng(seed)
    zipf = 1.0 / np.arange(1, 201)
    zipf /= zipf.sum()
    lines = []
    for _ in range(n_lines):
        k, role = rng.integers(n_entities), rng.integers(2)
        toks = [("x", "y")[role] + str(k)] + [f"p{k}_{m}" for m in rng.integers(0, 4, 2)]
        toks += [("rx", "ry")[role] + str(m) for m in rng.integers(0, 6, 2)]
        toks += [f"f{i}" for i in rng.choice(200, noise, p=zipf)]
        rng.shuffle(toks)
        lines.append(toks)
    vocab = Vocab.from_counts(Counter(t for line in lines for t in line), 1)
    return EncodedCorpus.from_id_lists([[vocab.index[t] for t in line] for line in lines], vocab)


def planted_accuracy(emb, n_entities=30) -> float:
    pairs = [(a, b) for a in range(n_entities) for b in range(n_entities) if a != b]
    hits = sum(emb.analogy(f"x{a}", f"y{a}", f"x{b}")[0][0] == f"y{b}" for a, b in pairs)
    return hits / len(pairs)


@pytest.fixture(scope="module")
def planted():
    return planted_corpus()


def small_cfg(**kw):
    return GloVeConfig(**{"dim": 20, "window": 5, "x_max": 10.0, "epochs": 10, "workers": 1, "seed": 1, **kw})


def test_numba_learns_planted_analogies(planted):
    emb, arrays, log = train_glove(planted, small_cfg())
    costs = [e["cost"] for e in log["epochs"]]
    assert all(b < a for a, b in zip(costs, costs[1:]))
    # calibrated: 0.51 / 0.55 for seeds 1 / 2; random vectors answer ~1/300 of these
    assert planted_accuracy(emb) > 0.35


def test_one_worker_is_bit_reproducible(planted):
    a = train_glove(planted, small_cfg(epochs=3))
    b = train_glove(planted, small_cfg(epochs=3))
    c = train_glove(planted, small_cfg(epochs=3, seed=2))
    for key in ("w", "w_tilde", "b", "b_tilde", "vectors"):
        np.testing.assert_array_equal(a.arrays[key], b.arrays[key])
    assert a.log["epochs"][-1]["cost"] == b.log["epochs"][-1]["cost"]
    assert not np.array_equal(a.arrays["w"], c.arrays["w"])


def test_two_workers_hogwild(planted):
    emb, _, log = train_glove(planted, small_cfg(workers=2))
    assert log["epochs"][-1]["cost"] < 0.6 * log["epochs"][0]["cost"]
    assert planted_accuracy(emb) > 0.35


def test_nan_guard_names_epoch_and_eta(planted):
    with pytest.raises(EmbedkitError, match=r"diverged in epoch 1 .*lower --eta"):
        train_glove(planted, small_cfg(eta=1e30, epochs=2))


def test_output_vectors(planted):
    V = len(planted.vocab)
    _, arrays, _ = train_glove(planted, small_cfg(epochs=1))
    assert arrays["w"].shape == arrays["w_tilde"].shape == (V, 20)
    assert arrays["b"].shape == arrays["b_tilde"].shape == (V,)
    np.testing.assert_array_equal(arrays["vectors"], arrays["w"] + arrays["w_tilde"])
    for kind, expect in [("word", arrays["w"]), ("concat", np.hstack([arrays["w"], arrays["w_tilde"]]))]:
        emb, arr, _ = train_glove(planted, small_cfg(epochs=1, output_vectors=kind))
        np.testing.assert_array_equal(emb.vectors, expect)
        assert emb.words == planted.vocab.words


def test_given_matrix_is_checked(planted):
    V = len(planted.vocab)
    with pytest.raises(EmbedkitError, match="vocabulary has"):
        train_glove(planted, small_cfg(), TrainContext(cooccur=scipy.sparse.identity(V + 1, format="csr")))
    bad = scipy.sparse.csr_matrix(np.array([[0.0, -1.0], [2.0, 0.0]]))
    with pytest.raises(EmbedkitError, match="negative"):
        train_glove(EncodedCorpus.from_id_lists([[0, 1]], Vocab(["a", "b"], np.array([1, 1]))), small_cfg(),
                    TrainContext(cooccur=bad))


def test_cooccurrence_cache(tmp_path, monkeypatch, planted):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path))
    planted.fingerprint = "test-fingerprint"
    try:
        (tmp_path / "test-fingerprint").mkdir()
        _, a, log_a = train_glove(planted, small_cfg(epochs=1))
        _, b, log_b = train_glove(planted, small_cfg(epochs=1))
        _, _, log_c = train_glove(planted, small_cfg(epochs=1, window=3))
        _, _, log_d = train_glove(planted, small_cfg(epochs=1), TrainContext(cache=False))
    finally:
        del planted.fingerprint
    assert (log_a["cooccur_source"], log_b["cooccur_source"]) == ("counted", "cache")
    assert (log_c["cooccur_source"], log_d["cooccur_source"]) == ("counted", "counted")
    np.testing.assert_array_equal(a["w"], b["w"])
    assert sorted(p.name for p in (tmp_path / "test-fingerprint").iterdir()) == [
        "cooccur-window3-harmonic.npz", "cooccur-window5-harmonic.npz"]


# ---- torch backend ----

torch = pytest.importorskip("torch")


def test_torch_batch_of_one_equals_numba_kernel():
    from embedkit.torch.glove import glove_batch
    rows, cols, x, order, w, gradsq = tiny_problem(seed=4)
    w_t, g_t = torch.from_numpy(w.copy()), torch.from_numpy(gradsq.copy())
    cost = 0.0
    for e in order:
        cost += float(glove_batch(w_t, g_t, torch.tensor([rows[e]]), torch.tensor([cols[e]]),
                                  torch.tensor([x[e]]), 10.0, 0.75, 0.05, GRAD_CLIP))
    ref_cost = run_kernel(rows, cols, x, order, w, gradsq)
    assert cost == pytest.approx(ref_cost, rel=1e-5)
    np.testing.assert_allclose(w_t.numpy(), w, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(g_t.numpy(), gradsq, rtol=1e-4)


def test_torch_batch_rule_equals_numpy():
    """Repeated rows in one batch: every entry uses the batch-start parameters and the
    denominator sqrt(G_old + sum of the other entries' g^2 on its row)."""
    from embedkit.torch.glove import glove_batch
    V, dim, eta, clip = 4, 3, 0.05, GRAD_CLIP
    rng = np.random.default_rng(2)
    i, j = np.array([0, 0, 1, 0, 2]), np.array([1, 3, 1, 1, 0])
    x = np.array([3.0, 20.0, 1.5, 3.0, 7.0])
    w, gradsq = init_params(V, dim, 7)
    gradsq += rng.random(gradsq.shape).astype(np.float32)
    w64, g64 = w.astype(np.float64), gradsq.astype(np.float64)
    g_rows = np.zeros((len(x), 2, dim + 1))          # per entry: gradient of row i, of row j + V
    cost = 0.0
    for k in range(len(x)):
        wi, wj = w64[i[k]], w64[j[k] + V]
        diff = wi[:dim] @ wj[:dim] + wi[dim] + wj[dim] - math.log(x[k])
        fdiff = diff if x[k] > 10 else (x[k] / 10) ** 0.75 * diff
        cost += 0.5 * fdiff * diff
        g_rows[k, 0, :dim] = np.clip(fdiff * wj[:dim], -clip, clip) * eta
        g_rows[k, 1, :dim] = np.clip(fdiff * wi[:dim], -clip, clip) * eta
        g_rows[k, :, dim] = fdiff
    ids = np.stack([i, j + V], 1)                    # (B, 2) rows touched by each entry
    g_new = g64.copy()
    for k in range(len(x)):
        g_new[ids[k]] += g_rows[k] ** 2
    w_new = w64.copy()
    for k in range(len(x)):
        w_new[ids[k]] -= g_rows[k] / np.sqrt(g_new[ids[k]] - g_rows[k] ** 2)
    w_t, g_t = torch.from_numpy(w.copy()), torch.from_numpy(gradsq.copy())
    got = glove_batch(w_t, g_t, torch.from_numpy(i), torch.from_numpy(j), torch.from_numpy(x), 10.0, 0.75, eta, clip)
    assert float(got) == pytest.approx(cost, rel=1e-5)
    np.testing.assert_allclose(g_t.numpy(), g_new, rtol=1e-5)
    np.testing.assert_allclose(w_t.numpy(), w_new, rtol=1e-4, atol=1e-7)


def test_torch_matches_numba_on_planted_corpus(planted):
    """Same objective, same init: final cost within 2% and planted-analogy accuracy within 8 points
    (seed-to-seed spread of either backend here is ~4 points on 870 questions)."""
    num = train_glove(planted, small_cfg())
    tor = train_glove(planted, small_cfg(backend="torch", batch_size=4096))
    assert tor.log["backend"] == "torch"
    assert tor.log["epochs"][-1]["cost"] == pytest.approx(num.log["epochs"][-1]["cost"], rel=0.02)
    assert abs(planted_accuracy(tor.embeddings) - planted_accuracy(num.embeddings)) < 0.08


def test_torch_nan_guard(planted):
    with pytest.raises(EmbedkitError, match=r"diverged in epoch 1 .*lower --eta"):
        train_glove(planted, small_cfg(eta=1e30, epochs=2, backend="torch", batch_size=4096))


def test_torch_is_imported_only_by_the_torch_backend():
    code = ("import sys, embedkit.trainers.glove, embedkit.torch; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- API and CLI ----

@pytest.fixture(scope="module")
def planted_file(tmp_path_factory, planted):
    path = tmp_path_factory.mktemp("glove") / "planted.txt"
    words = planted.vocab.words
    lines = [" ".join(words[t] for t in planted.tokens[a:b]) for a, b in zip(planted.offsets[:-1], planted.offsets[1:])]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_api_train_glove(planted_file):
    emb = embedkit.train("glove", str(planted_file), cache=False, min_count=1, tokenizer="whitespace",
                         dim=16, window=5, x_max=10.0, epochs=5, workers=1)
    assert emb.vectors.shape == (392, 16)
    assert emb.training_log["epochs"][-1]["cost"] < emb.training_log["epochs"][0]["cost"]


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_cli_end_to_end(tmp_path, planted_file, backend):
    out = tmp_path / "model"
    r = subprocess.run([sys.executable, "-m", "embedkit", "train", "--model", "glove", "--corpus", str(planted_file),
                        "--output", str(out), "--no-cache", "--min-count", "1", "--tokenizer", "whitespace",
                        "--dim", "12", "--window", "5", "--x-max", "10", "--epochs", "3", "--backend", backend,
                        *(["--batch-size", "4096"] if backend == "torch" else []),   # a torch option only
                        "--workers", "1", "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    emb = embedkit.load(out / "vectors.txt")
    assert emb.vectors.shape == (392, 12)
    assert np.isfinite(emb.vectors).all()


def test_cli_with_given_cooccurrence_file(tmp_path, planted_file):
    from embedkit.config import CooccurConfig, CorpusConfig
    from embedkit.corpus.cooccur import count_cooccurrences, save_cooccur
    from embedkit.corpus.prepare import prepare_corpus
    corpus = prepare_corpus([str(planted_file)], CorpusConfig(min_count=1, tokenizer="whitespace"), cache=False)
    save_cooccur(count_cooccurrences(corpus, CooccurConfig(window=2)), tmp_path / "x.npz")
    save_cooccur(scipy.sparse.identity(5, format="csr"), tmp_path / "wrong.npz")
    base = [sys.executable, "-m", "embedkit", "train", "--model", "glove", "--corpus", str(planted_file), "--no-cache",
            "--min-count", "1", "--tokenizer", "whitespace", "--dim", "8", "--epochs", "2", "--quiet"]
    r = subprocess.run(base + ["--output", str(tmp_path / "m"), "--cooccur", str(tmp_path / "x.npz")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert embedkit.load(tmp_path / "m" / "vectors.txt").vectors.shape == (392, 8)
    r = subprocess.run(base + ["--output", str(tmp_path / "m2"), "--cooccur", str(tmp_path / "wrong.npz")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "vocabulary has 392 words" in r.stderr and "Traceback" not in r.stderr


def test_cli_bad_eta_is_one_line_error(tmp_path, planted_file):
    r = subprocess.run([sys.executable, "-m", "embedkit", "train", "--model", "glove", "--corpus", str(planted_file),
                        "--output", str(tmp_path / "m"), "--no-cache", "--min-count", "1", "--eta", "1e30",
                        "--epochs", "2", "--dim", "8", "--quiet"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "lower --eta" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_torch_matches_numba_on_bundled_corpus():
    """The issue's bar: on CPU the torch backend is within 1 analogy point of numba on the bundled
    corpus. Measured (dim 50, window 10, x_max 10, 10 epochs): numba 1.83% / 1.89% (seeds 1 / 2),
    torch 1.98% (batch 65536) and 1.95% (8192); final cost 0.0368 for all four; ~2 minutes."""
    from embedkit.config import CorpusConfig
    from embedkit.corpus.prepare import prepare_corpus
    from embedkit.evaluate import evaluate_analogies, evaluate_similarity

    corpus = prepare_corpus(None, CorpusConfig(min_count=5))
    scores = {}
    for backend in ("numba", "torch"):
        cfg = GloVeConfig(dim=50, window=10, x_max=10.0, epochs=10, workers=1, seed=1, backend=backend)
        emb, _, log = train_glove(corpus, cfg)
        scores[backend] = (evaluate_analogies(emb, "questions-words", restrict_vocab=30000).accuracy,
                           evaluate_similarity(emb, "wordsim353").spearman, log["epochs"][-1]["cost"])
    (a_n, ws_n, cost_n), (a_t, ws_t, cost_t) = scores["numba"], scores["torch"]
    assert abs(a_t - a_n) <= 0.01
    assert abs(ws_t - ws_n) <= 0.03
    assert cost_t == pytest.approx(cost_n, rel=0.02)
