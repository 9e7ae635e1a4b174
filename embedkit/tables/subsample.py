"""Subsampling of frequent words: the probability of keeping each occurrence of a word."""
from __future__ import annotations

import numpy as np

from embedkit.errors import EmbedkitError


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """(V,) float32 probability of keeping one occurrence of each word (word2vec C's formula).

    With f = count of the word, T = counts.sum() (tokens of the kept vocabulary, word2vec C's
    train_words) and threshold t = `sample`:

        p_keep = (sqrt(f / (t*T)) + 1) * (t*T) / f,   clipped to 1

    so words with frequency f/T <= about 2.6 t are always kept. This is word2vec C's formula
    (InitUnigramTable/TrainModelThread), and gensim 4 uses the same one (its `sample_int`), not
    the 1 - sqrt(t/f) of Mikolov et al. (2013)'s paper. sample = 0 disables subsampling (all ones).
    """
    if not sample >= 0.0:   # also rejects NaN
        raise EmbedkitError(f"--sample must be >= 0, got {sample}")
    counts = np.asarray(counts, dtype=np.float64)
    if sample == 0.0 or counts.size == 0:
        return np.ones(counts.shape, dtype=np.float32)
    if (counts <= 0).any():
        raise EmbedkitError("subsampling needs every vocabulary count to be positive")
    threshold = sample * counts.sum()                     # t * T, in occurrences
    p = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    return np.minimum(p, 1.0).astype(np.float32)          # (V,) float32
