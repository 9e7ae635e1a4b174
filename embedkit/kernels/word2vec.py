"""word2vec-family kernels: one window walker, two architectures, two objectives.

    walker (kernels/walker.py) ── arch (skipgram_step | cbow_step) ── objective (ns_outputs | hs_outputs)
                                                                   └── logistic_update (kernels/logistic.py)

The architecture builds the hidden vector h from input bags and says which word is the target;
the objective names the output rows to score h against, with their labels; the one logistic update
scores and updates them. The walker (kernels/walker.py) receives the (arch, objective) pair as codes.

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
Scratch, allocated once per worker by the walker:
    scratch = (work (rows, D) float32, outs (n,) int64, labels (n,) float32, scores (2 window n,) float32)
with n >= negative + 1 and >= the longest Huffman path.
"""
import numpy as np
from numba import njit

from embedkit.kernels.logistic import FASTMATH, logistic_update
from embedkit.kernels.sampling import sample_alias


# ---- objectives: a target -> the output rows and labels of its example ----

@njit(inline="always", nogil=True, cache=True)
def ns_outputs(target, tables, state, outs, labels):
    """Negative sampling: the target (label 1) and `negative` rows drawn from the noise alias table
    (label 0; a draw equal to the target is dropped, as word2vec C). Fills outs/labels, returns
    their number."""
    outs[0] = target
    labels[0] = 1.0
    n_o = 1
    for _ in range(tables[2]):
        neg = sample_alias(tables[0], tables[1], state)
        if neg != target:
            outs[n_o] = neg
            labels[n_o] = 0.0
            n_o += 1
    return n_o


@njit(inline="always", nogil=True, cache=True)
def hs_outputs(target, tables, state, outs, labels):
    """Hierarchical softmax: the inner nodes on the target's Huffman path, label 1 - code (word2vec
    C's convention: code 0 = go left = sigma(f) -> 1)."""
    points, codes, code_len = tables[3], tables[4], tables[5]
    for d in range(code_len[target]):
        outs[d] = points[target, d]
        labels[d] = 1.0 - codes[target, d]
    return code_len[target]


NS, HS = 0, 1   # objective codes (see kernels/walker.py)


@njit(inline="always", nogil=True, cache=True)
def objective_outputs(objective, target, tables, state, outs, labels):
    if objective == NS:
        return ns_outputs(target, tables, state, outs, labels)
    return hs_outputs(target, tables, state, outs, labels)


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
def skipgram_step(sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, scratch, lr, objective, tables, state):
    """The centre word's bag mean predicts each context word within b positions."""
    work, outs, labels, scores = scratch
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
        n_o = objective_outputs(objective, sent[j], tables, state, outs, labels)
        loss += logistic_update(h, w_out, outs, labels, n_o, lr, grad, scores)
        push_grad(grad, w_in, bag_ptr, bag_ids, centre)
        count += 1
    return loss, count


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def cbow_step(sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, scratch, lr, objective, tables, state):
    """The mean of all context rows within b positions predicts the centre word."""
    work, outs, labels, scores = scratch
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
    n_o = objective_outputs(objective, sent[i], tables, state, outs, labels)
    loss = logistic_update(h, w_out, outs, labels, n_o, lr, grad, scores)
    for j in range(lo, hi):
        if j != i:
            push_grad(grad, w_in, bag_ptr, bag_ids, sent[j])
    return loss, 1
