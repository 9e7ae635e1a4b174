"""Skip-gram, one window at a time as small matrix products (Ji et al. 2016, "Parallelizing Word2Vec
in Shared and Distributed Memory": pWord2Vec / HogBatch).

For centre position i with reduced window b, the m context words' input vectors (bag means) form
C (m, D); the objective names the output rows of the centre word, O (n_o, D), with labels y:

    negative sampling:      O = [centre, K noise words drawn ONCE for the window], y = [1, 0, ..., 0]
    hierarchical softmax:   O = the inner nodes on the centre's Huffman path,        y = 1 - code

    S = C O^T (m, n_o);   G = lr * (y - sigma(S));   dC = G O;   dO = G^T C;   C += dC;   O += dO

Every (context, output) pair of word2vec C's skip-gram is scored, in word2vec C's direction (the
context word's row predicts the centre), but the output rows are read once per window instead of
once per pair and all of a window's updates are computed from the same weights before being
applied. For HS that is the only difference (same pairs, batched); for NS the window's context
words also share one set of noise words instead of drawing K each. Trainers select this step with
Word2VecConfig.sg_update = "window" (the default of the plain skip-gram; the subword model defaults
to "pair", fastText's direction: the centre word's n-gram bag predicts the context).
"""
import numpy as np
from numba import njit

from embedkit.kernels.logistic import FASTMATH, logistic_terms
from embedkit.kernels.objectives import objective_outputs
from embedkit.kernels.word2vec import add_bag, push_grad


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def skipgram_window_step(sent, n, i, b, weights, scratch, lr, tables, state):
    """One window as a mini-batch; tables pick the objective (kernels/objectives.py). work rows: [0, m)
    the context inputs C, [m, 2m) their gradients dC, then one row per output for dO."""
    w_in, w_out, bag_ptr, bag_ids = weights
    work, outs, labels, scores = scratch
    dim = w_in.shape[1]
    lo, hi = max(0, i - b), min(n, i + b + 1)
    m = hi - lo - 1
    if m <= 0:
        return 0.0, 0
    n_o = objective_outputs(tables, sent[i], state, outs, labels)
    C = work[0:m]
    dC = work[m:2 * m]
    dO = work[2 * m:2 * m + n_o]
    r = 0
    for j in range(lo, hi):
        if j != i:
            C[r, :] = 0.0
            rows = add_bag(C[r], w_in, bag_ptr, bag_ids, sent[j])
            if rows > 1:
                C[r, :] *= np.float32(1.0 / rows)
            r += 1
    dC[:, :] = 0.0
    dO[:, :] = 0.0
    # All m x n_o scores first (independent dot products overlap in the CPU), then the updates
    S = scores[:m * n_o]
    for o in range(n_o):
        row = outs[o]
        for r in range(m):
            f = np.float32(0.0)
            for d in range(dim):
                f += C[r, d] * w_out[row, d]
            S[o * m + r] = f
    loss = 0.0
    for o in range(n_o):
        row = outs[o]
        for r in range(m):
            err, step_loss = logistic_terms(S[o * m + r], labels[o])
            g = np.float32(lr * err)
            loss += step_loss
            for d in range(dim):
                dC[r, d] += g * w_out[row, d]
                dO[o, d] += g * C[r, d]
    for o in range(n_o):
        row = outs[o]
        for d in range(dim):
            w_out[row, d] += dO[o, d]
    r = 0
    for j in range(lo, hi):
        if j != i:
            push_grad(dC[r], w_in, bag_ptr, bag_ids, sent[j])
            r += 1
    return loss, m

