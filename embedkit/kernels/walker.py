"""The one window walker of the word2vec family (skip-gram per pair or per window, CBOW, and the
subword model, which is the same kernels with larger input bags) and of the supervised classifier
(SUPERVISED: each "sentence" is one labelled example record, kernels/supervised.py; no
subsampling, no window).

The step reaches the walker as an integer code (SKIPGRAM_PAIR | SKIPGRAM_WINDOW | CBOW), and
arch_step branches on it once per centre word: the branch is loop-invariant, so it is predicted
perfectly and costs nothing measurable, and one cached machine-code kernel serves every step. The
objective is the type of the tables (kernels/objectives.py): numba compiles, and caches, one
specialisation per objective. (Passing the step functions themselves as arguments composes more
nicely, but numba cannot cache kernels with function-typed arguments, and compile-time constants
via `numba.literally` re-run type inference on every call before hitting the cache: either way
every process would spend ~30 s compiling.) trainers/word2vec.py maps names to codes in STEPS.

Arguments are named tuples, so the kernels read fields by name:
    corpus   = Shard(tokens (N,) int32, offsets (S+1,) int64, keep_prob (V,) float32)
    weights  = Weights(w_in, w_out, bag_ptr, bag_ids)                       (kernels/word2vec.py)
    tables   = NoiseTables(...) | HuffmanTables(...)                        (kernels/objectives.py)
    schedule = Schedule(window int, lr_start float, lr_end float, total_words float)
    shared   = Shared(progress (workers,) int64, running (workers, 2) float64, worker int, state (1,) uint64)
"""
from collections import namedtuple

import numpy as np
from numba import njit

from embedkit.kernels.label_rows import LOCAL_MAX, MERGE_EVERY, merge_rows
from embedkit.kernels.logistic import FASTMATH
from embedkit.kernels.objectives import max_outputs
from embedkit.kernels.random import randint, uniform
from embedkit.kernels.supervised import supervised_step
from embedkit.kernels.unowned import unowned
from embedkit.kernels.window_batch import skipgram_window_step
from embedkit.kernels.word2vec import Scratch, Weights, cbow_step, skipgram_pair_step

Shard = namedtuple("Shard", "tokens offsets keep_prob")
Schedule = namedtuple("Schedule", "window lr_start lr_end total_words")
Shared = namedtuple("Shared", "progress running worker state")

SKIPGRAM_PAIR, CBOW, SKIPGRAM_WINDOW, SUPERVISED = 0, 1, 2, 3   # step codes
_TICK = 10_000  # words between updates of the shared progress counter (and of the learning rate)


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def arch_step(arch, sent, n, i, b, weights, scratch, lr, tables, state):
    if arch == SKIPGRAM_PAIR:
        return skipgram_pair_step(sent, n, i, b, weights, scratch, lr, tables, state)
    if arch == CBOW:
        return cbow_step(sent, n, i, b, weights, scratch, lr, tables, state)
    return skipgram_window_step(sent, n, i, b, weights, scratch, lr, tables, state)


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def walk_shard(arch, corpus, s_begin, s_end, weights, tables, schedule, shared):
    """One pass over sentences [s_begin, s_end) for one worker; returns (loss_sum, n_examples).

    Per sentence: subsample each occurrence (keep with probability keep_prob[w], word2vec C), then for
    each kept centre draw the reduced window b ~ U{1..window}. The learning rate decays linearly from
    lr_start to lr_end over total_words (all words of all epochs); progress counts the words each
    worker has read, and the sum over workers sets the rate (Hogwild: read without locks). running
    mirrors (loss_sum, n_examples) of this call for the progress bar. Callers may split an epoch
    into several calls over consecutive sentence ranges: the random state and progress carry over.
    """
    offsets = corpus.offsets
    max_len = 0
    for s in range(s_begin, s_end):
        max_len = max(max_len, offsets[s + 1] - offsets[s])
    sent = np.empty(max_len, dtype=np.int32)
    # scratch rows for the step: h and grad, plus a window's local output rows and their start values
    # (window_batch.py: one row per output, noise words or Huffman nodes, twice)
    n_out_max = max_outputs(tables)
    work = np.empty((2 * n_out_max + 2, weights.w_in.shape[1]), dtype=np.float32)
    scratch = Scratch(work, np.empty(n_out_max, np.int64), np.empty(n_out_max, np.float32),
                      np.empty(n_out_max, np.float32), np.arange(n_out_max, dtype=np.int64))
    shared_rows = weights.w_out[:0]
    if arch == SUPERVISED and shared.progress.shape[0] > 1 and weights.w_out.size <= LOCAL_MAX:
        shared_rows = weights.w_out                     # kernels/label_rows.py
        weights = Weights(weights.w_in, weights.w_out.copy(), weights.bag_ptr, weights.bag_ids)
    base = weights.w_out.copy() if shared_rows.shape[0] else shared_rows
    return _walk(arch, corpus, s_begin, s_end, weights, tables, schedule, shared, sent, scratch, shared_rows, base)


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def _walk(arch, corpus, s_begin, s_end, weights, tables, schedule, shared, sent, scratch, shared_rows, base):
    """walk_shard's loop, on views numba does not reference-count (kernels/unowned.py): every array
    here is held by the caller for the whole call. shared_rows: the shared label rows when
    weights.w_out is a worker's local copy (base: the copy's value at the last merge), else empty."""
    tokens, offsets, keep_prob = unowned(corpus)
    weights, tables, scratch, sent = unowned(weights), unowned(tables), unowned(scratch), unowned(sent)
    window, lr_start, lr_end, total_words = schedule
    progress, running, worker, state = unowned(shared)
    loss_sum = 0.0
    n_examples = 0
    unreported = 0
    lr = lr_start + (lr_end - lr_start) * min(1.0, progress.sum() / total_words)
    for s in range(s_begin, s_end):
        if arch == SUPERVISED:              # loop-invariant, as arch_step's branch
            loss, count = supervised_step(tokens, offsets[s], offsets[s + 1], weights, scratch, lr, tables, state)
            loss_sum += loss
            n_examples += count
            if shared_rows.shape[0] and ((s - s_begin + 1) % MERGE_EVERY == 0 or s == s_end - 1):
                merge_rows(shared_rows, weights.w_out, base)
        else:
            n = 0
            for k in range(offsets[s], offsets[s + 1]):
                w = tokens[k]
                if keep_prob[w] >= 1.0 or keep_prob[w] >= uniform(state, 0):
                    sent[n] = w
                    n += 1
            for i in range(n):
                b = 1 + randint(state, 0, window)
                loss, count = arch_step(arch, sent, n, i, b, weights, scratch, lr, tables, state)
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
