"""Skip-gram, one window at a time, in word2vec C's direction, with the window's output rows held
locally (after Ji et al. 2016, "Parallelizing Word2Vec in Shared and Distributed Memory": pWord2Vec).

For centre position i with reduced window b, the objective names the output rows of the centre
word, O (n_o, D), with labels y:

    negative sampling:      O = [centre, K noise words drawn ONCE for the window], y = [1, 0, ..., 0]
    hierarchical softmax:   O = the inner nodes on the centre's Huffman path,        y = 1 - code

O is copied into scratch once per window. Then, context word by context word in sentence order,
the context's input vector h (its bag mean) is scored against the local O by the one logistic
update (kernels/logistic.py), which updates the local O at once, and h's gradient goes straight to
the context's input rows. At the end of the window the change of O is added to w_out, once.

For HS this is word2vec C's skip-gram exactly (same pairs, same order, each pair seeing the updates
of the pairs before it); what changes is memory traffic: the output rows are read and written once
per window instead of once per pair, and another worker's writes to them during the window are
added to, not overwritten (Hogwild). For NS the window's context words also share one set of noise
words instead of drawing K each (pWord2Vec).

An earlier form computed all of a window's (context, output) scores from the same weights and then
applied the summed updates (a true mini-batch). It lost about 2 points of semantic analogy accuracy
with HS on text8: the top Huffman nodes are on every path, so each of them took up to 2b undamped
steps computed from the same stale row. Updating the local rows pair by pair removes that, at the
same memory traffic. Trainers select this step with Word2VecConfig.sg_update = "window" (the default
of the plain skip-gram; the subword model defaults to "pair", fastText's direction: the centre
word's n-gram bag predicts the context).
"""
import numpy as np
from numba import njit

from embedkit.kernels.logistic import FASTMATH, logistic_update
from embedkit.kernels.objectives import objective_outputs
from embedkit.kernels.word2vec import add_bag, push_grad


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def skipgram_window_step(sent, n, i, b, weights, scratch, lr, tables, state):
    """One window with its output rows held locally; tables pick the objective (kernels/objectives.py).
    work rows: 0 h, 1 its gradient, [2, 2 + n_o) the local output rows O, then their values at the start."""
    w_in, w_out, bag_ptr, bag_ids = weights
    work, outs, labels, scores, slots = scratch
    h, grad = work[0], work[1]
    dim = w_in.shape[1]
    lo, hi = max(0, i - b), min(n, i + b + 1)
    if hi - lo <= 1:
        return 0.0, 0
    n_o = objective_outputs(tables, sent[i], state, outs, labels)
    O = work[2:2 + n_o]
    O_start = work[2 + n_o:2 + 2 * n_o]
    for o in range(n_o):
        O[o, :] = w_out[outs[o]]
    O_start[:, :] = O
    loss = 0.0
    m = 0
    for j in range(lo, hi):
        if j == i:
            continue
        h[:] = 0.0
        rows = add_bag(h, w_in, bag_ptr, bag_ids, sent[j])
        if rows > 1:
            inv = np.float32(1.0 / rows)
            for d in range(dim):
                h[d] *= inv
        grad[:] = 0.0
        loss += logistic_update(h, O, slots, labels, n_o, lr, grad, scores)
        push_grad(grad, w_in, bag_ptr, bag_ids, sent[j])
        m += 1
    for o in range(n_o):
        row = outs[o]
        for d in range(dim):
            w_out[row, d] += O[o, d] - O_start[o, d]
    return loss, m
