"""word2vec-family kernels: one window walker, two architectures, two objectives.

    walker (kernels/walker.py) ── arch (skipgram_step | cbow_step) ── objective (ns_objective | hs_objective)
                                                                               └── logistic_step (kernels/logistic.py)

The architecture builds the hidden vector h from input bags and says which word is the target;
the objective scores h against output rows. The walker (kernels/walker.py) receives the
(arch, objective) pair as codes.

Input bags (CSR): the rows of word w are bag_ids[bag_ptr[w]:bag_ptr[w+1]] — [w] for plain word2vec,
[w, n-gram buckets...] for the subword model. h for a word is the mean of its bag rows and the
h-gradient is added, undivided, to every row of the bag (fastText's rule for unsupervised models,
and word2vec C's CBOW rule: each context row receives the full error).

Directions (stated, since the tools differ): skip-gram's centre word's bag predicts each context
word (fastText's convention; word2vec C lets the context word predict the centre, which is the same
pair set with roles swapped). CBOW: the mean of all context rows predicts the centre word.

Objective tables are one tuple for both objectives so every kernel has one signature:
    tables = (noise_prob (V,) float64, noise_alias (V,) int32, negative int,        # alias table of count**0.75
              points (V, L) int32, codes (V, L) int8, code_len (V,) int32)         # Huffman paths
"""
import numpy as np
from numba import njit

from embedkit.kernels.logistic import logistic_step
from embedkit.kernels.random import randint, uniform
from embedkit.kernels.sampling import sample_alias

_TICK = 10_000  # words between updates of the shared progress counter (and of the learning rate)


# ---- objectives: (h, target) -> loss, updating w_out and accumulating the h-gradient in grad ----

@njit(inline="always", fastmath=True, nogil=True, cache=True)
def ns_objective(h, target, grad, w_out, lr, tables, state):
    """Negative sampling: the target row with label 1, `negative` rows drawn from the noise alias table
    with label 0 (a noise draw equal to the target is skipped, as word2vec C). Returns the loss."""
    loss = logistic_step(h, w_out, target, 1.0, lr, grad)
    for _ in range(tables[2]):
        neg = sample_alias(tables[0], tables[1], state)
        if neg != target:
            loss += logistic_step(h, w_out, neg, 0.0, lr, grad)
    return loss


@njit(inline="always", fastmath=True, nogil=True, cache=True)
def hs_objective(h, target, grad, w_out, lr, tables, state):
    """Hierarchical softmax: one logistic step per inner node on the target's Huffman path, label
    1 - code (word2vec C's convention: code 0 = go left = sigma(f) -> 1)."""
    points, codes, code_len = tables[3], tables[4], tables[5]
    loss = 0.0
    for d in range(code_len[target]):
        loss += logistic_step(h, w_out, points[target, d], 1.0 - codes[target, d], lr, grad)
    return loss


NS, HS = 0, 1   # objective codes (see kernels/walker.py)


@njit(inline="always", fastmath=True, nogil=True, cache=True)
def objective_step(objective, h, target, grad, w_out, lr, tables, state):
    if objective == NS:
        return ns_objective(h, target, grad, w_out, lr, tables, state)
    return hs_objective(h, target, grad, w_out, lr, tables, state)


# ---- input bags ----

@njit(inline="always", fastmath=True, nogil=True, cache=True)
def add_bag(h, w_in, bag_ptr, bag_ids, word):
    """h += sum of word's bag rows; returns the number of rows."""
    dim = h.shape[0]
    for k in range(bag_ptr[word], bag_ptr[word + 1]):
        r = bag_ids[k]
        for d in range(dim):
            h[d] += w_in[r, d]
    return bag_ptr[word + 1] - bag_ptr[word]


@njit(inline="always", fastmath=True, nogil=True, cache=True)
def push_grad(grad, w_in, bag_ptr, bag_ids, word):
    """Every row of word's bag += grad (undivided)."""
    dim = grad.shape[0]
    for k in range(bag_ptr[word], bag_ptr[word + 1]):
        r = bag_ids[k]
        for d in range(dim):
            w_in[r, d] += grad[d]


# ---- architectures: one centre position -> (loss, examples) ----

@njit(inline="always", fastmath=True, nogil=True, cache=True)
def skipgram_step(sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, work, lr, objective, tables, state):
    """The centre word's bag mean predicts each context word within b positions."""
    h, grad = work[0], work[1]
    centre = sent[i]
    dim = h.shape[0]
    loss = 0.0
    count = 0
    for j in range(max(0, i - b), min(n, i + b + 1)):
        if j == i:
            continue
        h[:] = 0.0
        rows = add_bag(h, w_in, bag_ptr, bag_ids, centre)
        if rows > 1:
            inv = 1.0 / rows
            for d in range(dim):
                h[d] *= inv
        grad[:] = 0.0
        loss += objective_step(objective, h, sent[j], grad, w_out, lr, tables, state)
        push_grad(grad, w_in, bag_ptr, bag_ids, centre)
        count += 1
    return loss, count


@njit(inline="always", fastmath=True, nogil=True, cache=True)
def cbow_step(sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, work, lr, objective, tables, state):
    """The mean of all context rows within b positions predicts the centre word."""
    h, grad = work[0], work[1]
    dim = h.shape[0]
    h[:] = 0.0
    rows = 0
    lo, hi = max(0, i - b), min(n, i + b + 1)
    for j in range(lo, hi):
        if j != i:
            rows += add_bag(h, w_in, bag_ptr, bag_ids, sent[j])
    if rows == 0:
        return 0.0, 0
    inv = 1.0 / rows
    for d in range(dim):
        h[d] *= inv
    grad[:] = 0.0
    loss = objective_step(objective, h, sent[i], grad, w_out, lr, tables, state)
    for j in range(lo, hi):
        if j != i:
            push_grad(grad, w_in, bag_ptr, bag_ids, sent[j])
    return loss, 1
