"""Negative-sampling noise distribution: P(w) proportional to count(w)**exponent.

Stored as a V-sized cumulative distribution and sampled by binary search
(embedkit.kernels.sampling.sample_noise), which draws from exactly this distribution, up to
float64 rounding, instead of word2vec C's 1e8-entry table that quantises every probability to a
multiple of 1e-8 (and gives a word below 1e-8 no slot at all).
Exponent 0.75 is word2vec C's and gensim's choice; fastText uses 0.5.
"""
from __future__ import annotations

import numpy as np

from embedkit.errors import EmbedkitError


def noise_weights(counts: np.ndarray, exponent: float = 0.75) -> np.ndarray:
    """(V,) float64 unnormalised noise weights count**exponent."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0:
        raise EmbedkitError("the noise distribution needs a non-empty vocabulary")
    if not np.isfinite(exponent):
        raise EmbedkitError(f"--ns-exponent must be a finite number, got {exponent}")
    if (counts < 0).any():
        raise EmbedkitError("the noise distribution needs non-negative counts")
    weights = counts ** exponent                 # (V,) float64
    if exponent != 0.0:
        weights[counts == 0] = 0.0               # a word never seen is never noise, whatever the sign
    return weights


def noise_cdf(counts: np.ndarray, exponent: float = 0.75) -> np.ndarray:
    """(V,) float64 cumulative distribution of count**exponent; the last entry is exactly 1.0.

    Word k is drawn when cdf[k-1] <= u < cdf[k] for u uniform on [0, 1)."""
    weights = noise_weights(counts, exponent)
    total = weights.sum()
    if not (np.isfinite(total) and total > 0.0):
        raise EmbedkitError(f"the noise distribution count**{exponent} has no finite positive mass")
    cdf = np.cumsum(weights) / total             # (V,) float64
    cdf[-1] = 1.0                                # no u in [0, 1) may fall past the last word
    return cdf


def noise_probabilities(cdf: np.ndarray) -> np.ndarray:
    """(V,) float64 per-word probabilities recovered from a CDF (for tests and reports)."""
    return np.diff(cdf, prepend=0.0)
