"""word2vec-family kernels: one window walker, two architectures, two objectives.

    walker (train_shard) ── arch (skipgram_step | cbow_step) ── objective (ns_objective | hs_objective)
                                                                      └── logistic_step (kernels/logistic.py)

The architecture builds the hidden vector h from input bags and says which word is the target;
the objective scores h against output rows. Both are plain @njit functions passed to the walker
as arguments, so numba compiles one specialised, inlined kernel per (arch, objective) pair and
the hot loop carries no flags. trainers/word2vec.py picks the pair from KERNELS.

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
        loss += objective(h, sent[j], grad, w_out, lr, tables, state)
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
    loss = objective(h, sent[i], grad, w_out, lr, tables, state)
    for j in range(lo, hi):
        if j != i:
            push_grad(grad, w_in, bag_ptr, bag_ids, sent[j])
    return loss, 1


# ---- the walker ----

@njit(nogil=True, fastmath=True, cache=True)
def train_shard(arch, objective, tokens, offsets, s_begin, s_end, keep_prob, w_in, w_out, bag_ptr, bag_ids,
                tables, window, lr_start, lr_end, total_words, progress, running, worker, state):
    """One epoch over sentences [s_begin, s_end) for one worker; returns (loss_sum, n_examples).

    Per sentence: subsample each occurrence (keep with probability keep_prob[w], word2vec C), then for
    each kept centre draw the reduced window b ~ U{1..window}. The learning rate decays linearly from
    lr_start to lr_end over total_words (all words of all epochs); progress (workers,) int64 counts the
    words each worker has read, and the sum over workers sets the rate (Hogwild: read without locks).
    running (workers, 2) float64 mirrors (loss_sum, n_examples) for the progress bar.
    """
    dim = w_in.shape[1]
    max_len = 0
    for s in range(s_begin, s_end):
        max_len = max(max_len, offsets[s + 1] - offsets[s])
    sent = np.empty(max_len, dtype=np.int32)
    # scratch rows for the arch: h and grad, plus room for a window's inputs and outputs (shared-negative batches)
    # (window_batch.py uses 2 rows per context word and one per output: noise words or Huffman nodes)
    n_out_max = max(tables[2] + 1, tables[3].shape[1])
    work = np.empty((4 * window + n_out_max + 2, dim), dtype=np.float32)
    loss_sum = 0.0
    n_examples = 0
    unreported = 0
    lr = lr_start + (lr_end - lr_start) * min(1.0, progress.sum() / total_words)
    for s in range(s_begin, s_end):
        n = 0
        for k in range(offsets[s], offsets[s + 1]):
            w = tokens[k]
            if keep_prob[w] >= 1.0 or keep_prob[w] >= uniform(state, 0):
                sent[n] = w
                n += 1
        for i in range(n):
            b = 1 + randint(state, 0, window)
            loss, count = arch(sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, work, lr, objective, tables, state)
            loss_sum += loss
            n_examples += count
        unreported += offsets[s + 1] - offsets[s]
        if unreported >= _TICK or s == s_end - 1:
            progress[worker] += unreported
            unreported = 0
            running[worker, 0] = loss_sum
            running[worker, 1] = n_examples
            lr = lr_start + (lr_end - lr_start) * min(1.0, progress.sum() / total_words)
    return loss_sum, n_examples
