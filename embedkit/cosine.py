"""Cosine scoring on unit rows: pure array functions shared by Embeddings and the evaluators.

Every function takes float32 unit rows (see unit_rows) and returns float32 scores; batches are
one matrix product. No words, no Python objects: Embeddings (embedkit/embeddings.py) and the
query methods (embedkit/queries.py) turn words into rows and call these.
"""
from __future__ import annotations

import numpy as np

# Levy & Goldberg (2014), "Linguistic Regularities in Sparse and Explicit Word Representations",
# 3CosMul: argmax_x cos'(x,b) cos'(x,c) / (cos'(x,a) + eps), with cosines shifted to [0, 1] by
# cos' = (cos + 1) / 2 (as gensim's most_similar_cosmul) and eps = 0.001 as in the paper.
# (gensim uses eps = 1e-6; with shifted cosines this changes answers only when cos(x,a) ~ -1.)
COSMUL_EPSILON = 1e-3
ANALOGY_METHODS = ("3cosadd", "3cosmul")


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32); zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)


def cosadd_scores(cand: np.ndarray, ua: np.ndarray, ub: np.ndarray, uc: np.ndarray) -> np.ndarray:
    """3CosAdd (Mikolov et al. 2013): cos(x, b - a + c) for every candidate row x.

    cand (R, D) unit rows; ua, ub, uc (B, D) unit rows -> (B, R) float32. Ranking equals
    cos(x,b) - cos(x,a) + cos(x,c) (the query is only rescaled); the value is gensim's."""
    q = unit_rows(ub - ua + uc)                            # (B, D)
    return q @ cand.T                                      # (B, R)


def cosmul_scores(cand: np.ndarray, ua: np.ndarray, ub: np.ndarray, uc: np.ndarray,
                  eps: float = COSMUL_EPSILON) -> np.ndarray:
    """3CosMul (Levy & Goldberg 2014): cos'(x,b) cos'(x,c) / (cos'(x,a) + eps), cos' = (cos+1)/2.

    cand (R, D) unit rows; ua, ub, uc (B, D) unit rows -> (B, R) float32."""
    abc = np.concatenate([ua, ub, uc]) @ cand.T            # (3B, R): three cosine blocks, one product
    abc += 1.0
    abc *= 0.5
    ca, cb, cc = np.split(abc, 3)                          # views; combined in place (memory-bound)
    cb *= cc
    ca += np.float32(eps)
    cb /= ca
    return cb


ANALOGY_SCORES = {"3cosadd": cosadd_scores, "3cosmul": cosmul_scores}


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best k columns of each row of (B, R) `scores`, best first -> (ids (B, k), scores (B, k))."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.empty((scores.shape[0], 0), np.int64), np.empty((scores.shape[0], 0), scores.dtype)
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    ids = np.take_along_axis(part, order, axis=1)
    return ids, np.take_along_axis(part_scores, order, axis=1)


# gensim's most_similar_cosmul adds 1e-6 to the denominator; the method of that name keeps it,
# so its scores equal gensim's (the analogy evaluator keeps the paper's 0.001 above).
GENSIM_COSMUL_EPSILON = 1e-6


def cosmul_terms_scores(cand: np.ndarray, pos: np.ndarray, neg: np.ndarray,
                        eps: float = GENSIM_COSMUL_EPSILON) -> np.ndarray:
    """Levy & Goldberg's multiplicative objective for any number of terms, as gensim's
    most_similar_cosmul: prod_p cos'(x,p) / (prod_n cos'(x,n) + eps), cos' = (cos+1)/2.

    cand (R, D) unit rows; pos (P, D), neg (N, D) unit rows, P >= 1 -> (R,) float32.
    With no negative term the denominator is 1 + eps (an empty product is 1)."""
    shifted = (np.concatenate([pos, neg]) @ cand.T + 1.0) * 0.5     # (P + N, R)
    num = np.prod(shifted[:len(pos)], axis=0)
    den = np.prod(shifted[len(pos):], axis=0) + np.float32(eps)
    return (num / den).astype(np.float32, copy=False)
