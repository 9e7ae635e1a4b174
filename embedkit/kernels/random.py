"""Explicit-state random numbers for numba kernels (splitmix64).

Every kernel that needs randomness takes a `state` array, uint64 (n_workers,), and worker `i`
draws only from `state[i]`; nothing else is random, so `workers=1` runs are bit-reproducible.
numba's own np.random is a different generator from numpy's and is hidden global state, so
kernels never call it.

Generator: splitmix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
generators"; the constants are those of Vigna's reference C code). The state is a Weyl sequence
state += 0x9E3779B97F4A7C15 whose value is passed through a bijective 64-bit mixer, so every
state (zero included) is valid, the period is 2**64, and the output passes BigCrush.

    next_u64(state, i)    -> uint64, all 64 bits random
    uniform(state, i)     -> float64 in [0, 1), 53 random bits
    randint(state, i, n)  -> int64 in [0, n) for 1 <= n < 2**63, by Lemire's multiply-high
                             (bias at most n / 2**64: invisible at any practical n)
    seed_states(seed, n)  -> uint64 (n,) independent states (Python side, np.random.SeedSequence)
"""
from __future__ import annotations

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)   # 2**64 / golden ratio: the Weyl increment
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MASK32 = np.uint64(0xFFFFFFFF)
_S11, _S27, _S30, _S31, _S32 = (np.uint64(s) for s in (11, 27, 30, 31, 32))
_TWO_POW_M53 = 1.0 / 9007199254740992.0   # 2**-53


@njit(nogil=True, cache=True, inline="always")
def next_u64(state, i):
    """Advance state[i] and return the next 64 random bits (uint64)."""
    z = state[i] + _GAMMA
    state[i] = z
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(nogil=True, cache=True, inline="always")
def uniform(state, i):
    """Float64 uniform on [0, 1): the top 53 bits of next_u64 times 2**-53 (exact, never 1.0)."""
    return np.float64(next_u64(state, i) >> _S11) * _TWO_POW_M53


@njit(nogil=True, cache=True, inline="always")
def _mulhi64(x, n):
    """floor(x * n / 2**64) for uint64 x, n, from 32-bit halves (numba has no 128-bit type)."""
    x_lo = x & _MASK32
    x_hi = x >> _S32
    n_lo = n & _MASK32
    n_hi = n >> _S32
    lo_lo = x_lo * n_lo
    hi_lo = x_hi * n_lo
    lo_hi = x_lo * n_hi
    cross = (lo_lo >> _S32) + (hi_lo & _MASK32) + lo_hi
    return x_hi * n_hi + (hi_lo >> _S32) + (cross >> _S32)


@njit(nogil=True, cache=True, inline="always")
def randint(state, i, n):
    """Int64 uniform on [0, n), 1 <= n < 2**63: the high word of next_u64 * n (Lemire 2019,
    without the rejection step; the largest bias is n / 2**64)."""
    return np.int64(_mulhi64(next_u64(state, i), np.uint64(n)))


def seed_states(seed: int, n: int) -> np.ndarray:
    """uint64 (n,) worker states from np.random.SeedSequence(seed).spawn(n): statistically
    independent streams, the same for the same (seed, n)."""
    if n < 1:
        raise ValueError(f"need at least one state, got n={n}")
    children = np.random.SeedSequence(seed).spawn(n)
    states = np.empty(n, dtype=np.uint64)   # (n,) uint64, one per worker
    for k, child in enumerate(children):
        states[k] = child.generate_state(1, dtype=np.uint64)[0]
    return states
