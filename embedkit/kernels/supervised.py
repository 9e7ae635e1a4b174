"""The classifier's architecture (fastText supervised, Joulin et al. 2017): one labelled line -> one example.

An example is a record in the walker's token stream (kernels/walker.py, step code SUPERVISED):

    [n_labels, label_1 .. label_n, input row ids ...]          (int32, offsets delimit records)

The input rows are the line's words (or each word's bag of word row + char n-gram buckets), the
end-of-line token and the hashed word n-grams, expanded once when the data is read
(trainers/classifier.py, kernels/examples.py). The hidden vector is their mean,
h = (1/|B|) sum_{r in B} w_in[r]; the objective (kernels/objectives.py) names the label rows of
w_out to score h against, and after its update every input row gets w_in[r] += g / |B|: fastText's
Model::update divides the h-gradient by the bag size for supervised models (normalizeGradient_).
"""
import math

import numpy as np
from numba import njit

from embedkit.kernels.prefetch import FLOATS_PER_LINE, prefetch_write
from embedkit.kernels.logistic import FASTMATH
from embedkit.kernels.objectives import example_outputs, objective_update


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def supervised_step(tokens, begin, end, weights, scratch, lr, tables, state):
    """Train on the record tokens[begin:end]; returns (loss, 1), or (0.0, 0) for a record without
    labels or input rows (the readers never write one)."""
    w_in, w_out = weights.w_in, weights.w_out
    outs, labels, scores = scratch.outs, scratch.labels, scratch.scores
    h, grad = scratch.work[0], scratch.work[1]
    dim = h.shape[0]
    n_lab = tokens[begin]
    first = begin + 1 + n_lab
    n_rows = end - first
    if n_lab <= 0 or n_rows <= 0:
        return 0.0, 0
    # Prefetch the input rows of the next record (about as many as this one's; the reads past its
    # end are harmless hints): rare words' rows are cache misses, and they overlap this record's work.
    k0 = end + 1 + tokens[end] if end < tokens.shape[0] else end
    for k in range(k0, min(k0 + n_rows, tokens.shape[0])):
        r = tokens[k]
        if r < w_in.shape[0]:
            for d in range(0, dim, FLOATS_PER_LINE):
                prefetch_write(w_in, (r, d))
    h[:] = 0.0
    for k in range(first, end):
        r = tokens[k]
        for d in range(dim):
            h[d] += w_in[r, d]
    inv = np.float32(1.0 / n_rows)
    for d in range(dim):
        h[d] *= inv
    grad[:] = 0.0
    n_o = example_outputs(tables, tokens, begin + 1, first, state, outs, labels)
    loss = objective_update(tables, h, w_out, outs, labels, n_o, lr, grad, scores)
    for d in range(dim):
        grad[d] *= inv
    for k in range(first, end):
        r = tokens[k]
        for d in range(dim):
            w_in[r, d] += grad[d]
    return loss, 1


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def hidden_means(tokens, offsets, w_in, out):
    """out[i] = the mean of w_in over record i's input rows (zeros without any): the hidden
    vectors for prediction. out (records, D) float32."""
    dim = w_in.shape[1]
    for i in range(offsets.shape[0] - 1):
        first = offsets[i] + 1 + tokens[offsets[i]]
        end = offsets[i + 1]
        for d in range(dim):
            out[i, d] = 0.0
        if end <= first:
            continue
        for k in range(first, end):
            r = tokens[k]
            for d in range(dim):
                out[i, d] += w_in[r, d]
        inv = np.float32(1.0 / (end - first))
        for d in range(dim):
            out[i, d] *= inv


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def path_log_probs(scores, points, codes, code_len, out):
    """out[i, l] = log P(label l | record i) under hierarchical softmax: the sum over the label's
    Huffman path of log sigma(+-f), f = scores[i, node] (+ for code 0, word2vec C's convention).
    scores (n, L - 1) float32 inner-node scores; points, codes (L, depth); out (n, L) float32.
    Each node's two log-sigmoids are taken once per record, stably (no overflow)."""
    n_nodes = scores.shape[1]
    log_left = np.empty(n_nodes, np.float32)           # log sigma(f): code 0
    log_right = np.empty(n_nodes, np.float32)          # log sigma(-f): code 1
    for i in range(scores.shape[0]):
        for j in range(n_nodes):
            f = scores[i, j]
            soft = math.log1p(math.exp(-abs(f)))       # log(1 + e^-|f|)
            log_left[j] = -soft + min(f, 0.0)
            log_right[j] = -soft - max(f, 0.0)
        for lab in range(out.shape[1]):
            s = np.float32(0.0)
            for d in range(code_len[lab]):
                node = points[lab, d]
                s += log_right[node] if codes[lab, d] else log_left[node]
            out[i, lab] = s
