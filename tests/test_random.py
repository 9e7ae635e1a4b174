"""embedkit.kernels.random: splitmix64 against a pure-Python reference and distribution checks."""
import numpy as np
import pytest
from numba import njit
from scipy import stats

from embedkit.kernels.random import _mulhi64, next_u64, randint, seed_states, uniform

M64 = (1 << 64) - 1


def splitmix64_reference(x: int):
    """Vigna's splitmix64.c in Python integers: returns (new_state, output)."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


@njit
def draw_uniform(state, i, n):
    out = np.empty(n)
    for k in range(n):
        out[k] = uniform(state, i)
    return out


@njit
def draw_randint(state, i, bound, n):
    out = np.empty(n, np.int64)
    for k in range(n):
        out[k] = randint(state, i, bound)
    return out


def test_known_vector_from_zero_state():
    # first outputs of splitmix64 seeded with 0 (published test vector)
    state = np.zeros(1, np.uint64)
    got = [int(next_u64(state, 0)) for _ in range(3)]
    assert got == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_matches_python_reference_and_touches_only_its_slot():
    state = np.array([1, 2**63 + 12345, M64], dtype=np.uint64)
    before = state.copy()
    ref = int(state[1])
    for _ in range(100):
        ref, out = splitmix64_reference(ref)
        assert int(next_u64(state, 1)) == out
    assert int(state[1]) == ref
    assert state[0] == before[0] and state[2] == before[2]


def test_uniform_mean_variance_and_range():
    state = seed_states(7, 2)
    u = draw_uniform(state, 0, 1_000_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    # standard error of the mean is 2.9e-4 and of the variance 7.5e-5: ~7 sigma margins
    assert abs(u.mean() - 0.5) < 2e-3
    assert abs(u.var() - 1 / 12) < 5e-4
    assert stats.kstest(u[:100_000], "uniform").pvalue > 1e-6


def test_uniform_is_reproducible_per_state():
    a = draw_uniform(seed_states(3, 1), 0, 1000)
    b = draw_uniform(seed_states(3, 1), 0, 1000)
    c = draw_uniform(seed_states(4, 1), 0, 1000)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("bound", [1, 2, 7, 1000])
def test_randint_histogram(bound):
    state = seed_states(11, 1)
    n = 700_000
    x = draw_randint(state, 0, bound, n)
    assert x.min() >= 0 and x.max() < bound
    if bound == 1:
        assert (x == 0).all()
        return
    hist = np.bincount(x, minlength=bound)
    chi2 = ((hist - n / bound) ** 2 / (n / bound)).sum()
    assert stats.chi2.sf(chi2, bound - 1) > 1e-6, (chi2, hist[:10])


def test_randint_large_bound_uses_the_full_range():
    state = seed_states(5, 1)
    bound = 3 * 2**60
    x = draw_randint(state, 0, bound, 10_000)
    assert x.min() >= 0 and x.max() < bound
    # the top third of the range is reached (a 32-bit method would never get there)
    assert (x > 2 * 2**60).mean() == pytest.approx(1 / 3, abs=0.03)


def test_mulhi_matches_big_integers():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        x = int(rng.integers(0, 2**64, dtype=np.uint64))
        n = int(rng.integers(1, 2**63, dtype=np.uint64))
        assert int(_mulhi64(np.uint64(x), np.uint64(n))) == (x * n) >> 64


def test_seed_states():
    a = seed_states(1, 4)
    assert a.dtype == np.uint64 and a.shape == (4,)
    assert len(set(a.tolist())) == 4
    np.testing.assert_array_equal(a, seed_states(1, 4))
    assert not np.array_equal(a, seed_states(2, 4))
    # worker streams are uncorrelated
    u0 = draw_uniform(a, 0, 100_000)
    u1 = draw_uniform(a, 1, 100_000)
    assert abs(np.corrcoef(u0, u1)[0, 1]) < 0.02
    with pytest.raises(ValueError):
        seed_states(1, 0)
