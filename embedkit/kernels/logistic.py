"""The one binary-logistic update shared by every word2vec-family objective.

For a hidden vector h (D,), output rows u_o = w_out[outs[o]] and labels y_o in {0, 1}:

    f_o = h . u_o,  loss = sum_o -log sigma(+-f_o)      (+ for y_o = 1)
    g_o = lr * (y_o - sigma(f_o))                        # = -lr * d loss / d f_o
    grad += sum_o g_o * u_o                              # gradient w.r.t. h, applied to the input rows by the caller
    u_o  += g_o * h

This is word2vec C's and fastText's update (Mikolov et al. 2013; Bojanowski et al. 2017) for one
example: the target row and its noise rows (negative sampling) or the nodes of the target's
Huffman path (hierarchical softmax). All scores f_o are computed before any row is updated, so the
n_o dot products are independent and overlap in the CPU (1.3-1.4x faster per row than scoring and
updating one row at a time, measured at dim 100). For the distinct rows of a Huffman path this is
exactly the sequential update; for a noise word drawn twice for one example, both draws see the
row as it was and both updates are added (word2vec C's second draw sees the first one's update: a
difference of order lr^2).

sigma and the loss come from tables, as in those tools, but fine ones read with linear
interpolation: sigma(-a) and log(1 + e^-a) on a = |f| in [0, 16] at 128 points per unit. The
interpolation error is h^2/8 = 7.6e-6 times the second derivative, which is below 0.1 and 0.25
respectively and below e^-a: under 1e-6 for sigma and 2e-6 for the loss, and under 8e-6 relative. Beyond |f| = 16 the values at 16 are used (sigma(-16) = 1.1e-7), so nothing
overflows. Measured: exact expf/log1pf (and the unpredictable sign branch of an exact stable
sigmoid) took 52 of the 87 ns of a dim-100 row; the tables take a few ns.
"""
import numpy as np

from numba import njit


# fastmath for the word2vec-family kernels: reassociation vectorizes the dot products; no nnan/ninf,
# so a diverged (NaN) score keeps NaN semantics, reaches the loss, and the trainer reports it.
FASTMATH = {"reassoc", "nsz", "arcp", "contract", "afn"}

SIG_MAX = 16.0
SIG_RES = 128                                   # table points per unit of |f|
_SIG_N = int(SIG_MAX * SIG_RES)                 # index of |f| = SIG_MAX; one more entry follows it
_A = np.arange(_SIG_N + 2, dtype=np.float64) / SIG_RES
SIGMOID_NEG = (1.0 / (1.0 + np.exp(_A))).astype(np.float32)      # sigma(-a): small values keep their precision
SOFTPLUS_NEG = np.log1p(np.exp(-_A)).astype(np.float32)          # log(1 + e^-a) = -log sigma(a)


@njit(inline="always", fastmath=FASTMATH, cache=True)
def logistic_terms(f, label):
    """(label - sigma(f), loss) for label in {0, 1}, from the tables; loss = -log sigma(z), z = +-f
    the margin of the label. NaN f gives NaN loss (the trainers' divergence check)."""
    sign = np.float32(2.0 * label - 1.0)
    z = sign * f
    t = abs(f) * np.float32(SIG_RES)
    if not t < _SIG_N:                         # also NaN: a valid index whatever f is
        t = np.float32(_SIG_N)
    k = np.int64(t)
    frac = t - np.float32(k)
    q = SIGMOID_NEG[k] + frac * (SIGMOID_NEG[k + 1] - SIGMOID_NEG[k])       # sigma(-|f|)
    s = SOFTPLUS_NEG[k] + frac * (SOFTPLUS_NEG[k + 1] - SOFTPLUS_NEG[k])    # log(1 + e^-|f|)
    # Branch-free on the sign of z (50/50 for noise words and Huffman codes: a branch mispredicts)
    neg = np.float32(z < 0)
    m = q + neg * (np.float32(1.0) - np.float32(2.0) * q)                  # sigma(-z)
    return sign * m, s - neg * z + np.float32(0.0) * f      # 0 * f: a NaN score gives a NaN loss


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def logistic_update(h, w_out, outs, labels, n_o, lr, grad, scores):
    """Score h against the rows outs[:n_o] with labels[:n_o], update them, add the h-gradient to grad.

    Shapes: h (D,) float32, w_out (R, D) float32, outs (>= n_o,) int64, labels (>= n_o,) float32,
    grad (D,) float32, scores (>= n_o,) float32 scratch. Returns the summed loss (float64).
    """
    dim = h.shape[0]
    for o in range(n_o):
        row = outs[o]
        f = np.float32(0.0)   # float32 throughout the vector loops, so they stay SIMD without conversions
        for d in range(dim):
            f += h[d] * w_out[row, d]
        scores[o] = f
    loss = 0.0
    for o in range(n_o):
        row = outs[o]
        err, row_loss = logistic_terms(scores[o], labels[o])
        g = np.float32(lr * err)
        scores[o] = g
        for d in range(dim):
            grad[d] += g * w_out[row, d]
        loss += row_loss
    for o in range(n_o):          # after every grad term: a row drawn twice enters grad unchanged
        row = outs[o]
        g = scores[o]
        for d in range(dim):
            w_out[row, d] += g * h[d]
    return loss
