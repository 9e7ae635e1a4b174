"""The one window walker of the word2vec family (skip-gram, CBOW, their window-batched skip-gram,
and the subword model, which is the same kernels with larger input bags).

The (architecture, objective) pair reaches the walker as two integer codes, and arch_step /
objective_outputs branch on them once per centre word / example. The branches are loop-invariant, so
they are predicted perfectly and cost nothing measurable; in exchange one cached machine-code kernel
serves every pair. (Passing the functions themselves as arguments composes more nicely, but numba
cannot cache kernels with function-typed arguments, and compile-time constants via
`numba.literally` re-run type inference on every call before hitting the cache: either way every
process would spend ~30 s compiling.) trainers/word2vec.py maps names to codes in its KERNELS table.

Developers: numba's on-disk cache of walk_shard/_walk is keyed on this file's timestamp only. After
editing a kernel inlined into it (logistic.py, word2vec.py, window_batch.py, sampling.py, random.py),
touch this file (or delete kernels/__pycache__), or the old machine code keeps running.
"""
import numpy as np
from numba import njit

from embedkit.kernels.logistic import FASTMATH
from embedkit.kernels.random import randint, uniform
from embedkit.kernels.unowned import unowned
from embedkit.kernels.window_batch import skipgram_window_step
from embedkit.kernels.word2vec import cbow_step, skipgram_step

SKIPGRAM, CBOW, SKIPGRAM_WINDOW = 0, 1, 2   # architecture codes
_TICK = 10_000  # words between updates of the shared progress counter (and of the learning rate)


@njit(inline="always", fastmath=FASTMATH, nogil=True, cache=True)
def arch_step(arch, objective, sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, scratch, lr, tables, state):
    if arch == SKIPGRAM:
        return skipgram_step(sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, scratch, lr, objective, tables, state)
    if arch == CBOW:
        return cbow_step(sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, scratch, lr, objective, tables, state)
    return skipgram_window_step(sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, scratch, lr, objective, tables,
                                state)


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def walk_shard(arch, objective, corpus, s_begin, s_end, model, tables, schedule, shared):
    """One epoch over sentences [s_begin, s_end) for one worker; returns (loss_sum, n_examples).

    arch, objective: codes (SKIPGRAM | CBOW | SKIPGRAM_WINDOW, NS | HS)
    corpus   = (tokens (N,) int32, offsets (S+1,) int64, keep_prob (V,) float32)
    model    = (w_in (R_in, D) float32, w_out (R_out, D) float32, bag_ptr (V+1,) int64, bag_ids int32)
    schedule = (window, lr_start, lr_end, total_words)
    shared   = (progress (workers,) int64, running (workers, 2) float64, worker, state (1,) uint64)

    Per sentence: subsample each occurrence (keep with probability keep_prob[w], word2vec C), then for
    each kept centre draw the reduced window b ~ U{1..window}. The learning rate decays linearly from
    lr_start to lr_end over total_words (all words of all epochs); progress counts the words each
    worker has read, and the sum over workers sets the rate (Hogwild: read without locks). running
    mirrors (loss_sum, n_examples) for the progress bar.
    """
    offsets = corpus[1]
    max_len = 0
    for s in range(s_begin, s_end):
        max_len = max(max_len, offsets[s + 1] - offsets[s])
    sent = np.empty(max_len, dtype=np.int32)
    # scratch rows for the arch: h and grad, plus room for a window's inputs and outputs
    # (window_batch.py uses 2 rows per context word and one per output: noise words or Huffman nodes)
    n_out_max = max(tables[2] + 1, tables[3].shape[1])
    work = np.empty((4 * schedule[0] + n_out_max + 2, model[0].shape[1]), dtype=np.float32)
    n_scores = 2 * schedule[0] * n_out_max     # window_batch.py: one score per (context, output) pair
    scratch = (work, np.empty(n_out_max, np.int64), np.empty(n_out_max, np.float32), np.empty(n_scores, np.float32))
    return _walk(arch, objective, corpus, s_begin, s_end, model, tables, schedule, shared, sent, scratch)


@njit(nogil=True, fastmath=FASTMATH, cache=True)
def _walk(arch, objective, corpus, s_begin, s_end, model, tables, schedule, shared, sent, scratch):
    """walk_shard's loop, on views numba does not reference-count (kernels/unowned.py): every array
    here is held by the caller for the whole call."""
    tokens, offsets, keep_prob = unowned(corpus[0]), unowned(corpus[1]), unowned(corpus[2])
    w_in, w_out, bag_ptr, bag_ids = unowned(model[0]), unowned(model[1]), unowned(model[2]), unowned(model[3])
    tables = (unowned(tables[0]), unowned(tables[1]), tables[2], unowned(tables[3]), unowned(tables[4]),
              unowned(tables[5]))
    window, lr_start, lr_end, total_words = schedule
    progress, running, worker, state = unowned(shared[0]), unowned(shared[1]), shared[2], unowned(shared[3])
    sent = unowned(sent)
    scratch = (unowned(scratch[0]), unowned(scratch[1]), unowned(scratch[2]), unowned(scratch[3]))
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
            loss, count = arch_step(arch, objective, sent, n, i, b, w_in, w_out, bag_ptr, bag_ids, scratch, lr,
                                    tables, state)
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
