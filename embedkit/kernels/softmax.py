"""The full-softmax update (fastText's SoftmaxLoss, src/loss.cc), for the classifier's `softmax` objective.

For a hidden vector h (D,), output rows u_o = w_out[outs[o]] (o < n_o: every label) and one-hot
labels y_o:

    f_o = h . u_o,   p = softmax(f),   loss = -sum_o y_o log p_o = log sum_o e^f_o - f_target
    g_o = lr * (y_o - p_o)                               # = -lr * d loss / d f_o
    grad += sum_o g_o * u_o                              # gradient w.r.t. h, applied by the caller
    u_o  += g_o * h

The arguments, shapes and result are kernels/logistic.py's logistic_update's, so the two are
interchangeable (kernels/objectives.py objective_update picks by table type). As there, every
score is computed before any row changes; each row occurs once, so this equals fastText's
row-by-row loop. The exponentials are taken after subtracting the largest score (no overflow);
the loss is the exact log-sum-exp (fastText adds 1e-5 inside its log).
"""
import math

import numpy as np
from numba import njit

from embedkit.kernels.logistic import FASTMATH


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def softmax_update(h, w_out, outs, labels, n_o, lr, grad, scores):
    """Softmax over the rows outs[:n_o] with one-hot labels[:n_o]; returns the loss (float64)."""
    dim = h.shape[0]
    top = -np.inf
    for o in range(n_o):
        row = outs[o]
        f = np.float32(0.0)
        for d in range(dim):
            f += h[d] * w_out[row, d]
        scores[o] = f
        top = max(top, f)
    z = 0.0
    target_f = 0.0
    for o in range(n_o):
        z += math.exp(scores[o] - top)
        target_f += labels[o] * scores[o]
    loss = math.log(z) + top - target_f          # a NaN score makes z NaN: the divergence check sees it
    inv_z = 1.0 / z
    for o in range(n_o):
        row = outs[o]
        p = math.exp(scores[o] - top) * inv_z
        g = np.float32(lr * (labels[o] - p))
        scores[o] = g
        for d in range(dim):
            grad[d] += g * w_out[row, d]
    for o in range(n_o):
        row = outs[o]
        g = scores[o]
        for d in range(dim):
            w_out[row, d] += g * h[d]
    return loss
