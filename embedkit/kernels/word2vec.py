"""word2vec-family kernels: the architectures' steps over one centre position.

    walker (kernels/walker.py) -- step (skipgram_pair_step | skipgram_window_step | cbow_step)
                                   -- objective_outputs (kernels/objectives.py: NS or HS, by table type)
                                   -- logistic_update (kernels/logistic.py)

A step builds the hidden vector h from input bags and says which word is the target; the objective
names the output rows to score h against, with their labels; the one logistic update scores and
updates them. The walker receives the step as an integer code and the objective as its table type.

Input bags (CSR): the rows of word w are bag_ids[bag_ptr[w]:bag_ptr[w+1]] — [w] for plain word2vec,
[w, n-gram buckets...] for the subword model. h for a word is the mean of its bag rows and the
h-gradient is added, undivided, to every row of the bag (fastText's rule for unsupervised models,
and word2vec C's CBOW rule: each context row receives the full error).

Directions (stated, since the tools differ). Skip-gram has two update schemes, a named choice of
Word2VecConfig.sg_update: "pair" (here) runs fastText's direction, the centre word's bag predicting
each context word, one example per pair; "window" (kernels/window_batch.py) runs word2vec C's
direction, each context word's bag predicting the centre, with the window's output rows held locally. Both score the
same set of (centre, context) pairs. CBOW: the mean of all context rows predicts the centre word.

Named arrays (collections.namedtuple, so the kernels read fields by name):
    Weights(w_in (R_in, D) float32, w_out (R_out, D) float32, bag_ptr (V+1,) int64, bag_ids (nnz,) int32)
    Scratch(work (rows, D) float32, outs (n,) int64, labels (n,) float32, scores (n,) float32,
            slots (n,) int64 = 0..n-1: the row ids of window_batch.py's local copy of the output rows)
Scratch is allocated once per worker by the walker, with n >= max_outputs(tables). The objective's
tables (NoiseTables or HuffmanTables) are in kernels/objectives.py.
"""
from collections import namedtuple

import numpy as np
from numba import njit

from embedkit.kernels.logistic import FASTMATH, logistic_update
from embedkit.kernels.objectives import objective_outputs

Weights = namedtuple("Weights", "w_in w_out bag_ptr bag_ids")
Scratch = namedtuple("Scratch", "work outs labels scores slots")


# ---- input bags ----

@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def add_bag(h, w_in, bag_ptr, bag_ids, word):
    """h += sum of word's bag rows; returns the number of rows."""
    dim = h.shape[0]
    for k in range(bag_ptr[word], bag_ptr[word + 1]):
        r = bag_ids[k]
        for d in range(dim):
            h[d] += w_in[r, d]
    return bag_ptr[word + 1] - bag_ptr[word]


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def push_grad(grad, w_in, bag_ptr, bag_ids, word):
    """Every row of word's bag += grad (undivided)."""
    dim = grad.shape[0]
    for k in range(bag_ptr[word], bag_ptr[word + 1]):
        r = bag_ids[k]
        for d in range(dim):
            w_in[r, d] += grad[d]


# ---- architectures: one centre position -> (loss, examples) ----

@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def skipgram_pair_step(sent, n, i, b, weights, scratch, lr, tables, state):
    """fastText's direction, one example per (centre, context) pair: the centre word's bag mean
    predicts each context word within b positions."""
    w_in, w_out, bag_ptr, bag_ids = weights
    work, outs, labels, scores, _ = scratch
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
            inv = np.float32(1.0 / rows)
            for d in range(dim):
                h[d] *= inv
        grad[:] = 0.0
        n_o = objective_outputs(tables, sent[j], state, outs, labels)
        loss += logistic_update(h, w_out, outs, labels, n_o, lr, grad, scores)
        push_grad(grad, w_in, bag_ptr, bag_ids, centre)
        count += 1
    return loss, count


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def cbow_step(sent, n, i, b, weights, scratch, lr, tables, state):
    """The mean of all context rows within b positions predicts the centre word."""
    w_in, w_out, bag_ptr, bag_ids = weights
    work, outs, labels, scores, _ = scratch
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
    inv = np.float32(1.0 / rows)
    for d in range(dim):
        h[d] *= inv
    grad[:] = 0.0
    n_o = objective_outputs(tables, sent[i], state, outs, labels)
    loss = logistic_update(h, w_out, outs, labels, n_o, lr, grad, scores)
    for j in range(lo, hi):
        if j != i:
            push_grad(grad, w_in, bag_ptr, bag_ids, sent[j])
    return loss, 1
