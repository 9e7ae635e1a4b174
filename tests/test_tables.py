"""Sampling tables: noise distribution, subsampling keep-probabilities, Huffman tree."""
import heapq
import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from embedkit.errors import EmbedkitError
from embedkit.kernels.random import seed_states
from embedkit.kernels.sampling import sample_cdf, sample_noise, search_cdf
from embedkit.tables.huffman import MAX_CODE_LENGTH, huffman_tree
from embedkit.tables.noise import noise_cdf, noise_probabilities
from embedkit.tables.subsample import keep_probabilities

ZIPF = np.array([40000 // (k + 1) for k in range(60)], dtype=np.int64)   # sorted descending


@njit
def draw_noise(cdf, state, worker, n):
    hist = np.zeros(cdf.shape[0], np.int64)
    for _ in range(n):
        hist[sample_noise(cdf, state, worker)] += 1
    return hist


# ---- noise distribution ----

def test_noise_cdf_shape_and_end():
    cdf = noise_cdf(ZIPF)
    assert cdf.dtype == np.float64 and cdf.shape == ZIPF.shape
    assert cdf[-1] == 1.0 and (np.diff(cdf) > 0).all()
    expected = ZIPF ** 0.75 / (ZIPF ** 0.75).sum()
    np.testing.assert_allclose(noise_probabilities(cdf), expected, rtol=1e-12)


def test_sampled_noise_follows_count_power_three_quarters():
    cdf = noise_cdf(ZIPF, 0.75)
    n = 1_000_000
    state = seed_states(123, 3)
    hist = draw_noise(cdf, state, 2, n)
    right = ZIPF ** 0.75 / (ZIPF ** 0.75).sum()
    chi2 = ((hist - n * right) ** 2 / (n * right)).sum()
    assert stats.chi2.sf(chi2, len(ZIPF) - 1) > 1e-6, chi2
    assert np.abs(hist / n - right).max() / right.max() < 0.01
    # the test can fail: a table built from count * 0.75 (i.e. proportional to count) is far off
    wrong = ZIPF / ZIPF.sum()
    chi2_wrong = ((hist - n * wrong) ** 2 / (n * wrong)).sum()
    assert stats.chi2.sf(chi2_wrong, len(ZIPF) - 1) < 1e-100


def test_noise_exponent_half_and_zero_counts_never_drawn():
    counts = np.array([100, 50, 0, 25, 0], dtype=np.int64)
    cdf = noise_cdf(counts, 0.5)
    hist = draw_noise(cdf, seed_states(1, 1), 0, 200_000)
    assert hist[2] == 0 and hist[4] == 0
    p = np.sqrt(counts) / np.sqrt(counts).sum()
    np.testing.assert_allclose(hist / 200_000, p, atol=0.005)


def test_sample_cdf_uses_slot_zero():
    cdf = noise_cdf(ZIPF)
    a = seed_states(9, 1)
    b = a.copy()
    first = [sample_cdf(cdf, a) for _ in range(50)]
    second = [sample_noise(cdf, b, 0) for _ in range(50)]
    assert first == second


def test_noise_bad_input():
    with pytest.raises(EmbedkitError):
        noise_cdf(np.zeros(3, np.int64))
    with pytest.raises(EmbedkitError):
        noise_cdf(np.array([3, -1]))
    with pytest.raises(EmbedkitError):
        noise_cdf(np.array([], dtype=np.int64))


# ---- subsampling ----

def test_keep_probabilities_hand_computed():
    counts = np.array([1000, 100, 10, 1], dtype=np.int64)
    t = 1e-3
    p = keep_probabilities(counts, t)
    assert p.dtype == np.float32
    tT = t * 1111                                   # threshold in occurrences
    for f, got in zip([1000, 100, 10, 1], p):
        want = min(1.0, (math.sqrt(f / tT) + 1) * tT / f)
        assert got == pytest.approx(want, rel=1e-6)
    # by hand: f=1000 -> (sqrt(1000/1.111) + 1) * 1.111 / 1000 = 0.034443...
    assert p[0] == pytest.approx(0.0344427, rel=1e-5)
    assert p[-1] == 1.0                              # rare words are always kept


def test_keep_probabilities_disabled_and_errors():
    np.testing.assert_array_equal(keep_probabilities(ZIPF, 0.0), np.ones(len(ZIPF), np.float32))
    with pytest.raises(EmbedkitError, match="--sample"):
        keep_probabilities(ZIPF, -1e-3)


def test_keep_probabilities_match_gensim():
    gensim = pytest.importorskip("gensim")
    rng = np.random.default_rng(0)
    words = [f"w{k}" for k in range(40)]
    p = np.array([1 / (k + 1) for k in range(40)])
    sentences = [list(rng.choice(words, size=50, p=p / p.sum())) for _ in range(400)]
    model = gensim.models.Word2Vec(vector_size=5, min_count=1, sample=1e-2, workers=1)
    model.build_vocab(sentences)
    wv = model.wv
    counts = np.array([wv.get_vecattr(w, "count") for w in wv.index_to_key], dtype=np.int64)
    ours = keep_probabilities(counts, 1e-2)
    theirs = np.array([wv.get_vecattr(w, "sample_int") for w in wv.index_to_key]) / 2**32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


# ---- Huffman ----

def word2vec_c_tree(counts):
    """Line-by-line transcription of word2vec.c's CreateBinaryTree (independent reference)."""
    V = len(counts)
    count = list(counts) + [10**15] * V
    binary = [0] * (2 * V)
    parent = [0] * (2 * V)
    pos1, pos2 = V - 1, V
    for a in range(V - 1):
        mins = []
        for _ in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                mins.append(pos1)
                pos1 -= 1
            else:
                mins.append(pos2)
                pos2 += 1
        count[V + a] = count[mins[0]] + count[mins[1]]
        parent[mins[0]] = parent[mins[1]] = V + a
        binary[mins[1]] = 1
    codes, points = [], []
    for a in range(V):
        b, code, point = a, [], []
        while True:
            code.append(binary[b])
            point.append(b)
            b = parent[b]
            if b == 2 * V - 2:
                break
        n = len(code)
        cw = [0] * n
        pw = [0] * (n + 1)
        pw[0] = V - 2
        for k in range(n):
            cw[n - k - 1] = code[k]
            pw[n - k] = point[k] - V
        codes.append(cw)
        points.append(pw[:n])
    return codes, points


def optimal_cost(counts):
    """sum count * code length of an optimal prefix code (heap Huffman)."""
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


@pytest.mark.parametrize("counts", [
    [5, 4, 3, 2, 1],
    [7, 7, 7, 7, 7, 7],
    [100, 20, 20, 3, 3, 3, 2, 1, 1],
    sorted(np.random.default_rng(3).integers(1, 1000, 300).tolist(), reverse=True),
])
def test_huffman_matches_word2vec_c(counts):
    points, codes, code_len = huffman_tree(np.array(counts))
    ref_codes, ref_points = word2vec_c_tree(counts)
    assert points.dtype == np.int32 and codes.dtype == np.int8 and code_len.dtype == np.int32
    assert points.shape == codes.shape == (len(counts), max(map(len, ref_codes)))
    for w in range(len(counts)):
        n = code_len[w]
        assert codes[w, :n].tolist() == ref_codes[w]
        assert points[w, :n].tolist() == ref_points[w]
        assert points[w, 0] == len(counts) - 2          # every path starts at the root


def test_huffman_worked_example():
    # counts 5,4,3,2,1: merges (1+2)=3 [inner 0], (3+inner0)=6 [inner 1], (4+5)=9 [inner 2], root 15 [inner 3]
    points, codes, code_len = huffman_tree(np.array([5, 4, 3, 2, 1]))
    assert code_len.tolist() == [2, 2, 2, 3, 3]
    assert points[0, :2].tolist() == [3, 2] and codes[0, :2].tolist() == [1, 1]
    assert points[3, :3].tolist() == [3, 1, 0] and codes[3, :3].tolist() == [0, 0, 1]


def test_huffman_prefix_free_optimal_and_near_entropy():
    rng = np.random.default_rng(0)
    counts = np.sort(rng.zipf(1.3, 5000).clip(max=10**6))[::-1].astype(np.int64)
    points, codes, code_len = huffman_tree(counts)
    words = ["".join(map(str, codes[w, :code_len[w]])) for w in range(len(counts))]
    assert len(set(words)) == len(words)
    ordered = sorted(words)
    # prefix-free: in sorted order a prefix would sit right before a word it prefixes
    assert not any(b.startswith(a) for a, b in zip(ordered, ordered[1:]))
    p = counts / counts.sum()
    mean_len = (p * code_len).sum()
    entropy = -(p * np.log2(p)).sum()
    assert entropy <= mean_len + 1e-9 < entropy + 1
    assert int((counts * code_len).sum()) == optimal_cost(counts)
    # every inner node id is a valid output row
    for w in range(len(counts)):
        assert 0 <= points[w, :code_len[w]].min() and points[w, :code_len[w]].max() <= len(counts) - 2


def test_huffman_single_word_and_two_words():
    points, codes, code_len = huffman_tree(np.array([9]))
    assert code_len.tolist() == [0]
    points, codes, code_len = huffman_tree(np.array([9, 3]))
    assert code_len.tolist() == [1, 1] and points[:, 0].tolist() == [0, 0]
    assert sorted(codes[:, 0].tolist()) == [0, 1]


def test_huffman_depth_limit_on_fibonacci_counts():
    fib = [1, 1]
    while len(fib) < 45:
        fib.append(fib[-1] + fib[-2])
    with pytest.raises(EmbedkitError, match="40"):
        huffman_tree(np.array(fib[::-1], dtype=np.int64))
    # 40 levels is still allowed
    points, codes, code_len = huffman_tree(np.array(fib[:41][::-1], dtype=np.int64))
    assert code_len.max() == MAX_CODE_LENGTH


def test_huffman_requires_sorted_counts():
    with pytest.raises(EmbedkitError, match="sorted"):
        huffman_tree(np.array([1, 5, 3]))
    with pytest.raises(EmbedkitError):
        huffman_tree(np.array([], dtype=np.int64))



def test_huffman_count_values():
    """Counts must be whole and non-negative: a fractional or negative count is refused, not truncated;
    whole counts stored as floats and zero counts build the same tree as the integers."""
    for bad, msg in (([3.5, 2.0, 1.0], "integer"), ([4, 2, -1], "non-negative")):
        with pytest.raises(EmbedkitError, match=msg):
            huffman_tree(np.array(bad))
    want = huffman_tree(np.array([7, 3, 0, 0], dtype=np.int64))
    for got in (huffman_tree(np.array([7.0, 3.0, 0.0, 0.0])), want):
        assert all(np.array_equal(a, b) for a, b in zip(got, want))
    assert want[2].tolist() == [1, 2, 3, 3]

def test_search_cdf_intervals_are_half_open():
    """Word k owns [cdf[k-1], cdf[k]): a draw equal to a boundary belongs to the word above it, so a
    zero-probability word (here 0 and 2) is never returned, not even for u == 0.0 exactly."""
    cdf = np.array([0.0, 0.25, 0.25, 0.5, 1.0])
    draws = [0.0, np.nextafter(0.25, 0.0), 0.25, 0.5, np.nextafter(1.0, 0.0)]
    assert [search_cdf(cdf, u) for u in draws] == [1, 1, 3, 4, 4]
