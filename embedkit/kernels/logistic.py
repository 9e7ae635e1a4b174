"""The one binary-logistic update shared by every word2vec-family objective.

For a hidden vector h (D,), an output row u = w_out[row] and a label y in {0, 1}:

    f = h . u,  loss = -log sigma(f) if y = 1 else -log sigma(-f)
    g = lr * (y - sigma(f))            # = -lr * d loss / d f
    grad += g * u                      # gradient w.r.t. h, applied to the input rows by the caller
    u    += g * h                      # output row updated in place (before grad has been used: as word2vec C)

This is word2vec C's and fastText's update (Mikolov et al. 2013; Bojanowski et al. 2017), with an
exact, overflow-free sigmoid instead of their clamped lookup tables.
"""
import math

import numpy as np

from numba import njit


@njit(inline="always", fastmath=True, cache=True)
def sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@njit(inline="always", fastmath=True, cache=True)
def log_sigmoid(x):
    """log sigma(x) = min(x, 0) - log1p(exp(-|x|)), stable for large |x|."""
    return min(x, 0.0) - math.log1p(math.exp(-abs(x)))


@njit(inline="always", fastmath=True, nogil=True, cache=True)
def logistic_step(h, w_out, row, label, lr, grad):
    """Score h against w_out[row] with target `label`; update w_out[row], add the h-gradient to grad.

    Shapes: h (D,) float32, w_out (R, D) float32, grad (D,) float32. Returns the loss (float64).
    """
    dim = h.shape[0]
    f = np.float32(0.0)   # float32 throughout the vector loops, so they stay SIMD without conversions
    for d in range(dim):
        f += h[d] * w_out[row, d]
    g = np.float32(lr * (label - sigmoid(f)))
    for d in range(dim):
        grad[d] += g * w_out[row, d]
        w_out[row, d] += g * h[d]
    if label > 0.5:
        return -log_sigmoid(f)
    return -log_sigmoid(-f)
