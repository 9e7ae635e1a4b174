"""Drawing noise words: from a cumulative distribution or from an alias table.

sample_noise / sample_cdf: binary search over the (V,) float64 CDF of embedkit.tables.noise,
O(log V) per draw. sample_alias: Walker's alias table of embedkit.tables.alias, O(1) per draw (the
trainers' choice). Both are exact up to float64 rounding with V-sized tables; word2vec C's
1e8-slot table is O(1) but costs 400 MB and rounds every probability to a multiple of 1e-8.
"""
import numpy as np
from numba import njit

from embedkit.kernels.random import uniform


@njit(nogil=True, cache=True, inline="always")
def search_cdf(cdf, u):
    """Smallest k with u < cdf[k] (cdf non-decreasing, cdf[-1] == 1.0 > u)."""
    lo = 0
    hi = cdf.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if u < cdf[mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(nogil=True, cache=True, inline="always")
def sample_noise(noise_cdf, state, i):
    """One word id drawn from noise_cdf with worker i's random state (state uint64 (workers,)).
    Words with zero probability (cdf[k] == cdf[k-1]) are never returned."""
    return search_cdf(noise_cdf, uniform(state, i))


@njit(nogil=True, cache=True, inline="always")
def sample_cdf(cdf, state):
    """sample_noise with a single-worker state array (state[0])."""
    return search_cdf(cdf, uniform(state, 0))


@njit(nogil=True, cache=True, inline="always")
def sample_alias(prob, alias, state):
    """One draw from an alias table (embedkit.tables.alias) with the single-worker state[0]: O(1)."""
    x = uniform(state, 0) * prob.shape[0]
    k = np.int64(x)               # < V: u <= 1 - 2**-53 and rounding is monotonic, so u * V < V
    if x - k < prob[k]:
        return k
    return np.int64(alias[k])
