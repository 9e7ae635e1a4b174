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
the loss is the exact log-sum-exp (fastText adds 1e-5 inside its log). Each exponential is taken
once, in float32, by a polynomial that vectorizes (exp_nonpositive), as fastText's float expf.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from embedkit.kernels.logistic import FASTMATH

# expf's range reduction and polynomial (Cephes, S. Moshier): e^x = 2^n e^r, |r| <= ln2 / 2
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI, _LN2_LO = np.float32(0.693359375), np.float32(-2.12194440e-4)
_P0, _P1, _P2 = np.float32(1.9875691500e-4), np.float32(1.3981999507e-3), np.float32(8.3334519073e-3)
_P3, _P4, _P5 = np.float32(4.1665795894e-2), np.float32(1.6666665459e-1), np.float32(5.0000001201e-1)
_X_MIN = np.float32(-87.0)                     # e^-87 = 1.6e-38: still a normal float32


@intrinsic
def _pow2(typingctx, n):
    """2^n as float32 for an integer -126 <= n <= 127, built in its exponent field (int32 bits)."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        v = args[0]
        if v.type.width > 32:
            v = builder.trunc(v, i32)
        elif v.type.width < 32:
            v = builder.sext(v, i32)
        v = builder.shl(builder.add(v, ir.Constant(i32, 127)), ir.Constant(i32, 23))
        return builder.bitcast(v, ir.FloatType())
    return types.float32(n), codegen


@njit(inline="always", fastmath=FASTMATH, cache=True)
def exp_nonpositive(x):
    """e^x for a float32 x <= 0, e^-87 for x below -87 (a softmax term 1e-38 of the largest: 0
    for every sum), to a few float32 ulps. Branch-free, without a libm call, so a loop of these
    vectorizes: libm's exp took 45 calls of ~15 ns per example of the 45-label WordNet set.
    (A NaN x may come out finite: softmax_update's loss gets NaN scores through target_f.)"""
    x = max(x, _X_MIN)
    k = math.floor(x * _LOG2E + np.float32(0.5))          # int64
    n = np.float32(k)
    r = x - n * _LN2_HI - n * _LN2_LO
    p = ((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5
    e = p * (r * r) + r + np.float32(1.0)
    return e * _pow2(k)


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def softmax_update(h, w_out, outs, labels, n_o, lr, grad, scores):
    """Softmax over the rows outs[:n_o] with one-hot labels[:n_o]; returns the loss (float64)."""
    dim = h.shape[0]
    top = np.float32(-np.inf)
    for o in range(n_o):
        row = outs[o]
        f = np.float32(0.0)
        for d in range(dim):
            f += h[d] * w_out[row, d]
        scores[o] = f
        top = max(top, f)
    target_f = np.float32(0.0)
    for o in range(n_o):                         # every score enters (0 * NaN is NaN): a NaN reaches the loss
        target_f += labels[o] * scores[o]
    z = np.float32(0.0)
    for o in range(n_o):                         # each exponential once, kept in scores
        e = exp_nonpositive(scores[o] - top)
        scores[o] = e
        z += e
    loss = math.log(z) + top - target_f          # a NaN score makes z NaN: the divergence check sees it
    inv_z = np.float32(1.0) / z
    for o in range(n_o):
        scores[o] = np.float32(lr) * (labels[o] - scores[o] * inv_z)
    for o in range(n_o):
        row = outs[o]
        g = scores[o]
        for d in range(dim):
            grad[d] += g * w_out[row, d]
    for o in range(n_o):
        row = outs[o]
        g = scores[o]
        for d in range(dim):
            w_out[row, d] += g * h[d]
    return loss
