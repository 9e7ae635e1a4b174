"""GloVe kernels: one AdaGrad pass over a slice of the shuffled non-zero co-occurrences.

Model (Pennington, Socher & Manning 2014, eq. 8): minimise over the non-zeros X_ij

    J = sum_ij f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2,   f(x) = min(1, (x / x_max)^alpha)

with AdaGrad exactly as Stanford GloVe's glove.c (glove_thread), so the two are comparable:

    diff  = w_i . w~_j + b_i + b~_j - log X_ij
    fdiff = f(X_ij) diff                      cost += 0.5 fdiff diff   (glove.c reports the same sum)
    g1    = clip(fdiff w~_j, +-grad_clip) eta ;  w_i  -= g1 / sqrt(G_i) ;  G_i  += g1^2   (per component)
    g2    = clip(fdiff w_i,  +-grad_clip) eta ;  w~_j -= g2 / sqrt(G~_j);  G~_j += g2^2   (old w_i used)
    b_i  -= fdiff / sqrt(Gb_i) ;  Gb_i += fdiff^2   (likewise b~_j; glove.c applies no eta to the biases)

The clip applies to each gradient component fdiff * w (glove.c's `grad_clip_value`, 100), not to fdiff.
Accumulators G start at 1, so the first step has size eta (glove.c's comment).

Parameter layout follows glove.c: `w` is (2V, dim+1) float32, rows 0..V-1 are the word vectors w_i
with the bias b_i in column `dim`, rows V..2V-1 the context vectors w~_j with b~_j; `gradsq` has the
same shape. One row holds a word's vector and bias, so an update touches two rows of each array.

Hogwild (Recht et al. 2011): worker threads run this kernel at once on disjoint slices of one
permutation of the non-zeros and write the shared arrays without locks.
"""
import numpy as np
from numba import njit

from embedkit.kernels.prefetch import FLOATS_PER_LINE, prefetch_read, prefetch_write
from embedkit.kernels.random import randint

# fastmath minus nnan/ninf: with those two flags LLVM may delete the isfinite() guard below.
FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}
_TICK = 1 << 14  # entries between writes of the shared progress counter and reads of the stop flag
# Software prefetch distances, in entries. A pass is bound by memory latency, not arithmetic: each
# entry reads rows[e], cols[e], x[e] at a random e and then four random parameter rows. So the entry
# AHEAD_ENTRY steps ahead is fetched first, and the parameter rows of the entry AHEAD_ROWS steps
# ahead (whose ids have arrived by then) next.
AHEAD_ENTRY = 16
AHEAD_ROWS = 8


@njit(nogil=True, cache=True)
def random_permutation(order, state, n_buckets):
    """order[:] = a uniform random permutation of 0..n-1, drawn from state[0] (kernels/random.py).

    Rao-Sandelius shuffle (Rao 1961; Sandelius 1962): every index draws a uniform bucket, the
    indices are scattered bucket by bucket (two passes replaying the same draws: one counts, one
    writes), then each bucket is Fisher-Yates shuffled. Random labels with uniformly shuffled ties
    give a uniform permutation. It does what one Fisher-Yates pass over `order` does, but every
    swap stays inside one bucket (~64k entries, cache-resident) instead of missing cache at each of
    n random swaps: about 5x faster at 45.7M entries. No copy of the data and no second index array."""
    n = order.shape[0]
    n_buckets = max(1, min(n_buckets, n))
    start = np.zeros(n_buckets + 1, dtype=np.int64)   # (B+1,) bucket b is order[start[b]:start[b+1]]
    saved = state[0]
    for i in range(n):
        start[randint(state, 0, n_buckets) + 1] += 1
    for b in range(n_buckets):
        start[b + 1] += start[b]
    state[0] = saved  # replay the same bucket draws
    fill = start[:-1].copy()
    for i in range(n):
        b = randint(state, 0, n_buckets)
        order[fill[b]] = i
        fill[b] += 1
    for b in range(n_buckets):
        lo = start[b]
        for i in range(start[b + 1] - 1, lo, -1):
            j = lo + randint(state, 0, i - lo + 1)
            tmp = order[i]
            order[i] = order[j]
            order[j] = tmp


@njit(nogil=True, cache=True, fastmath=FAST, error_model="numpy")
def glove_pass(rows, cols, x, order, start, stop, w, gradsq, x_max, alpha, eta, grad_clip,
               progress, status, k):
    """Train on entries order[start:stop] of the non-zeros (rows[e], cols[e], x[e]).

    rows, cols (nnz,) int32 word / context ids; x (nnz,) float64 co-occurrence values (> 0);
    order (nnz,) int32|int64 permutation; w, gradsq (2V, dim+1) float32 (layout in the module doc);
    progress (n_workers,) int64: entries done by worker k; status (1,) int64: set to 1 + the entry
    index when a non-finite diff is met (every worker then stops at its next tick).
    Returns (cost_sum float64 = sum 0.5 f diff^2, entries trained int64)."""
    V = w.shape[0] // 2
    dim = w.shape[1] - 1
    log_x_max = np.log(x_max)
    clip = np.float32(grad_clip)
    eta32 = np.float32(eta)
    cost = 0.0
    done = 0
    for n in range(start, stop):
        if done % _TICK == 0:
            progress[k] = done
            if status[0] != 0:
                break
        if n + AHEAD_ENTRY < stop:
            e_ahead = order[n + AHEAD_ENTRY]
            prefetch_read(rows, e_ahead)
            prefetch_read(cols, e_ahead)
            prefetch_read(x, e_ahead)
        if n + AHEAD_ROWS < stop:
            e_ahead = order[n + AHEAD_ROWS]
            r1 = rows[e_ahead]
            r2 = cols[e_ahead] + V
            for c in range(0, dim + 1, FLOATS_PER_LINE):
                prefetch_write(w, (r1, c))
                prefetch_write(w, (r2, c))
                prefetch_write(gradsq, (r1, c))
                prefetch_write(gradsq, (r2, c))
            prefetch_write(w, (r1, dim))
            prefetch_write(w, (r2, dim))
            prefetch_write(gradsq, (r1, dim))
            prefetch_write(gradsq, (r2, dim))
        e = order[n]
        l1 = rows[e]
        l2 = cols[e] + V
        xv = x[e]
        log_x = np.log(xv)
        dot = np.float32(0.0)
        for b in range(dim):
            dot += w[l1, b] * w[l2, b]
        diff = np.float64(dot) + np.float64(w[l1, dim]) + np.float64(w[l2, dim]) - log_x
        # f(x) = (x/x_max)^alpha below x_max, written with the log already at hand
        fdiff = diff if xv > x_max else np.exp(alpha * (log_x - log_x_max)) * diff
        fd = np.float32(fdiff)
        if not np.isfinite(fd):   # also catches a finite float64 fdiff beyond float32's range
            status[0] = 1 + e
            break
        cost += 0.5 * fdiff * diff
        for b in range(dim):
            wi = w[l1, b]
            wj = w[l2, b]
            g1 = min(max(fd * wj, -clip), clip) * eta32
            g2 = min(max(fd * wi, -clip), clip) * eta32
            w[l1, b] = wi - g1 / np.sqrt(gradsq[l1, b])
            w[l2, b] = wj - g2 / np.sqrt(gradsq[l2, b])
            gradsq[l1, b] += g1 * g1
            gradsq[l2, b] += g2 * g2
        w[l1, dim] -= fd / np.sqrt(gradsq[l1, dim])
        w[l2, dim] -= fd / np.sqrt(gradsq[l2, dim])
        gradsq[l1, dim] += fd * fd
        gradsq[l2, dim] += fd * fd
        done += 1
    progress[k] = done
    return cost, done
