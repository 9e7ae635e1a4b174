"""Walker's alias table (Vose's construction): O(1) draws from any discrete distribution.

Negative sampling draws 5 noise words per positive pair, so the sampler sits in the hot loop:
binary search over a 68k-entry CDF costs ~17 dependent, cache-missing steps per draw, while an
alias draw costs one random number and two reads. The distribution is exact up to float64
rounding (no quantisation, unlike word2vec C's 1e8-slot table).

Draw: u ~ U[0, 1), x = u * V, k = floor(x); return k if x - k < prob[k] else alias[k].
"""
from __future__ import annotations

import numpy as np


def alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(prob (V,) float64, alias (V,) int32) for P(k) proportional to weights[k] >= 0."""
    w = np.asarray(weights, dtype=np.float64)
    V = len(w)
    scaled = w * (V / w.sum())                       # (V,) float64, mean 1
    prob = np.ones(V, dtype=np.float64)
    alias = np.arange(V, dtype=np.int32)
    small = [k for k in range(V) if scaled[k] < 1.0]
    large = [k for k in range(V) if scaled[k] >= 1.0]
    while small and large:
        s, l = small.pop(), large.pop()
        prob[s] = scaled[s]
        alias[s] = l
        scaled[l] -= 1.0 - scaled[s]                 # l gives the rest of s's column
        (small if scaled[l] < 1.0 else large).append(l)
    for k in small + large:                          # left-overs are 1 up to rounding
        prob[k] = 1.0
    return prob, alias


def alias_probabilities(prob: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """The distribution an alias table draws from (for tests): (V,) float64."""
    V = len(prob)
    p = prob / V
    np.add.at(p, alias, (1.0 - prob) / V)
    return p
