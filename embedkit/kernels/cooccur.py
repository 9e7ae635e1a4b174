"""Co-occurrence counting kernels (GloVe's cooccur, symmetric, upper triangle).

Semantics (Stanford GloVe cooccur.c, symmetric mode): for each token at position k of a line and
each earlier token at distance d = 1..window in the same line,
    X[w_k, w_{k-d}] += weight[d]  and  X[w_{k-d}, w_k] += weight[d]
with weight[d] = 1/d (harmonic) or 1. Both entries receive the same additions in the same order,
so only the upper triangle S[i, j], i <= j, is accumulated; the full matrix is X = S + S^T
(a diagonal entry is 2 S[i, i]: a word next to itself adds to X[i, i] twice, as in GloVe).

Storage of S, chosen by corpus/cooccur.py's memory plan:
  dense   pairs with j < row_len[i] (row_len non-increasing, so the dense region is a "staircase"
          under a hyperbola of frequent pairs, like GloVe's rank product <= max_product) live in a
          flat float64 table: S[i, j] is dense[row_base[i] + j]
  sparse  every other pair event is appended to `buf` as one int64
              ((i * V + j) << dist_bits) | d
          (the distance rides in the low bits, so a record is 8 bytes and needs no value); a full
          buffer is sorted (numpy) and reduced here into (pair key i*V+j, summed weight) runs.
Everything is in vocabulary-id space; callers guarantee ids < V and row_len non-increasing.
No fastmath here: sums keep their order, so results are reproducible and match a plain reference.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

PREFETCH_AHEAD = 2   # tokens: the dense slots of token k + PREFETCH_AHEAD are requested while k is counted


@intrinsic
def prefetch_for_write(typingctx, array, index):
    """llvm.prefetch(&array[index], write, keep in all cache levels): a hint, never a fault."""
    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]], wraparound=False)
        i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()
    return types.void(array, index), codegen


@njit(nogil=True, cache=True)
def count_sparse_events(tokens, line_offsets, window, row_len, stride, span):
    """Pair events outside the dense region made by the tokens at positions k with
    k % stride < span (span == stride: all of them). Returns (events, tokens looked at); the plan
    scales a sample up to size the sparse buffer."""
    events = np.int64(0)
    seen = np.int64(0)
    for s in range(line_offsets.shape[0] - 1):
        start = line_offsets[s]
        end = line_offsets[s + 1]
        k = start
        while k < end:
            off = k % stride
            if off >= span:
                k += stride - off           # jump to the next sampled block
                continue
            seen += 1
            b = tokens[k]
            lo = max(start, k - window)
            for p in range(k - 1, lo - 1, -1):
                a = tokens[p]
                if a <= b:
                    if b >= row_len[a]:
                        events += 1
                elif a >= row_len[b]:
                    events += 1
            k += 1
    return events, seen


@njit(nogil=True, cache=True)
def accumulate_windows(tokens, line_offsets, line, k, k_end, window, weight, row_len, row_base, dense,
                       buf, n_buf, vocab_size, dist_bits):
    """Add the window pairs of tokens[k:k_end] to `dense` and `buf`; stop early when `buf` may not
    hold another token's pairs. `line` is the line containing position k (line_offsets (L+1,)).

    Returns (k, line, n_buf) to resume from. weight (window+1,) float64, weight[d] for distance d."""
    cap = buf.shape[0] - window
    n_lines = line_offsets.shape[0] - 1
    while k < k_end:
        while line < n_lines and k >= line_offsets[line + 1]:
            line += 1
        if n_buf > cap:
            break
        start = line_offsets[line]
        # The dense updates are random reads-modify-writes into a table far larger than the cache:
        # asking for token k+2's slots now hides most of their latency (1.7x faster on text8).
        q = k + PREFETCH_AHEAD
        if q < k_end:
            b = tokens[q]
            for p in range(q - 1, max(start, q - window) - 1, -1):
                a = tokens[p]
                if a <= b:
                    if b < row_len[a]:
                        prefetch_for_write(dense, row_base[a] + b)
                elif a < row_len[b]:
                    prefetch_for_write(dense, row_base[b] + a)
        b = tokens[k]
        lo = max(start, k - window)
        for p in range(k - 1, lo - 1, -1):
            d = k - p
            a = tokens[p]
            if a <= b:
                i = a
                j = b
            else:
                i = b
                j = a
            if j < row_len[i]:
                dense[row_base[i] + j] += weight[d]
            else:
                buf[n_buf] = ((np.int64(i) * vocab_size + j) << dist_bits) | d
                n_buf += 1
        k += 1
    return k, line, n_buf


@njit(nogil=True, cache=True)
def count_distinct_pairs(sorted_buf, n, dist_bits):
    """Distinct pairs among the first n records of a sorted buffer."""
    if n == 0:
        return 0
    distinct = 1
    prev = sorted_buf[0] >> dist_bits
    for r in range(1, n):
        key = sorted_buf[r] >> dist_bits
        if key != prev:
            distinct += 1
            prev = key
    return distinct


@njit(nogil=True, cache=True)
def reduce_sorted(sorted_buf, n, dist_bits, weight, values):
    """Sum the weights of equal pairs in a sorted buffer, in place: pair keys i*V+j go to
    sorted_buf[:m], their sums to values[:m]. Returns m. (Within a pair, records are summed in
    increasing distance: the order is fixed, so results are reproducible.)"""
    if n == 0:
        return 0
    mask = (np.int64(1) << dist_bits) - 1
    m = 0
    prev = sorted_buf[0] >> dist_bits
    acc = weight[sorted_buf[0] & mask]
    for r in range(1, n):
        rec = sorted_buf[r]
        key = rec >> dist_bits
        if key != prev:
            sorted_buf[m] = prev
            values[m] = acc
            m += 1
            prev = key
            acc = weight[rec & mask]
        else:
            acc += weight[rec & mask]
    sorted_buf[m] = prev
    values[m] = acc
    return m + 1


# ---- k-way merge of sorted runs (spilled to disk), resumable so Python can refill chunks ----

MERGE_DONE = -1
MERGE_OUT_FULL = -2


@njit(nogil=True, cache=True)
def heap_push(heap, heap_size, head_keys, pos, run):
    """Add a run whose cursor is valid to the min-heap of runs, ordered by (current key, run id)."""
    at = heap_size[0]
    heap[at] = run
    heap_size[0] = at + 1
    key = head_keys[run, pos[run]]
    while at > 0:
        up = (at - 1) // 2
        other = heap[up]
        k2 = head_keys[other, pos[other]]
        if key < k2 or (key == k2 and run < other):
            heap[at] = other
            heap[up] = run
            at = up
        else:
            break


@njit(nogil=True, cache=True)
def merge_runs(head_keys, head_vals, pos, length, heap, heap_size, push_run, out_keys, out_vals, n_out):
    """Merge sorted (key, value) runs into out_*, summing equal keys.

    Run r's current chunk is head_keys[r, :length[r]] (R, C) with cursor pos[r]; heap (R,) holds
    the runs whose cursor is valid (filled by heap_push), heap_size (1,) its size. push_run >= 0
    first pushes a run that Python has just refilled. Returns (n_out, status): status r >= 0 means
    run r's chunk is used up (Python refills it, then calls again with push_run=r, or -1 if the run
    is finished); MERGE_OUT_FULL means out_* needs room; MERGE_DONE means all runs are merged.
    (The heap's sift-down is written out here: a helper taking arrays measured several times slower.)"""
    if push_run >= 0:
        heap_push(heap, heap_size, head_keys, pos, push_run)
    size = heap_size[0]
    status = MERGE_DONE
    while size > 0:
        r = heap[0]
        key = head_keys[r, pos[r]]
        if n_out > 0 and out_keys[n_out - 1] == key:
            out_vals[n_out - 1] += head_vals[r, pos[r]]
        else:
            if n_out == out_keys.shape[0]:
                status = MERGE_OUT_FULL
                break
            out_keys[n_out] = key
            out_vals[n_out] = head_vals[r, pos[r]]
            n_out += 1
        pos[r] += 1
        if pos[r] == length[r]:        # chunk used up: drop the run from the heap, ask for more
            size -= 1
            heap[0] = heap[size]
            status = r
        # sift the root down
        at = 0
        while True:
            child = 2 * at + 1
            if child >= size:
                break
            c = heap[child]
            kc = head_keys[c, pos[c]]
            if child + 1 < size:
                c2 = heap[child + 1]
                k2 = head_keys[c2, pos[c2]]
                if k2 < kc or (k2 == kc and c2 < c):
                    child += 1
                    c = c2
                    kc = k2
            top = heap[at]
            kt = head_keys[top, pos[top]]
            if kc < kt or (kc == kt and c < top):
                heap[child] = top
                heap[at] = c
                at = child
            else:
                break
        if status >= 0:
            break
    heap_size[0] = size
    return n_out, status


# ---- assembling the symmetric CSR matrix X = S + S^T from the dense table and the sparse pairs ----
# The sparse pairs come as a sorted stream, in one of two forms:
#   packed records (dist_bits > 0): the sorted, unreduced event buffer; equal pairs are summed here
#   (pair key, value) arrays (dist_bits == 0): the reduced output of merge_runs (pair keys unique)
# The loops below are written out in full: calling a helper @njit function that takes arrays from
# these loops (even inline="always") measured 3-4x slower on text8.

@njit(nogil=True, cache=True)
def csr_row_counts(row_len, row_base, dense, keys, values, n, dist_bits, weight, vocab_size):
    """Per row of X: entries left of the diagonal (lower (V,)) and on/right of it (upper (V,))."""
    lower = np.zeros(vocab_size, dtype=np.int64)
    upper = np.zeros(vocab_size, dtype=np.int64)
    for i in range(vocab_size):
        base = row_base[i]
        for j in range(i, row_len[i]):
            if dense[base + j] != 0.0:
                upper[i] += 1
                if j != i:
                    lower[j] += 1
    i = 0
    row_start = np.int64(0)        # i * V, advanced instead of dividing every key
    r = 0
    while r < n:
        pair = keys[r] >> dist_bits
        r += 1
        while r < n and (keys[r] >> dist_bits) == pair:
            r += 1
        while pair >= row_start + vocab_size:
            row_start += vocab_size
            i += 1
        j = pair - row_start
        upper[i] += 1
        if j != i:
            lower[j] += 1
    return lower, upper


@njit(nogil=True, cache=True)
def csr_fill(row_len, row_base, dense, keys, values, n, dist_bits, weight, vocab_size, indptr, lower,
             indices, data):
    """Fill X's CSR arrays (indptr (V+1,) from csr_row_counts) with sorted columns.

    Row r is [X[r, c] for c < r] then [X[r, c] for c >= r]; S[i, j] goes to (i, j) and (j, i),
    S[i, i] to (i, i) doubled. The dense table is scanned before the sparse pairs, both row-major:
    since row_len is non-increasing, the dense part of a row (and of a column) comes before its
    sparse part, so each row's columns are written in increasing order."""
    lower_at = indptr[:-1].copy()          # (V,) next free slot left of the diagonal
    upper_at = indptr[:-1] + lower         # (V,) next free slot on/right of the diagonal
    for i in range(vocab_size):
        base = row_base[i]
        for j in range(i, row_len[i]):
            v = dense[base + j]
            if v != 0.0:
                p = upper_at[i]
                indices[p] = j
                upper_at[i] = p + 1
                if j == i:
                    data[p] = 2.0 * v
                else:
                    data[p] = v
                    p = lower_at[j]
                    indices[p] = i
                    data[p] = v
                    lower_at[j] = p + 1
    mask = (np.int64(1) << dist_bits) - 1
    i = 0
    row_start = np.int64(0)
    r = 0
    while r < n:
        if dist_bits == 0:
            pair = keys[r]
            v = values[r]
            r += 1
        else:
            pair = keys[r] >> dist_bits
            v = weight[keys[r] & mask]
            r += 1
            while r < n and (keys[r] >> dist_bits) == pair:   # in increasing distance
                v += weight[keys[r] & mask]
                r += 1
        while pair >= row_start + vocab_size:
            row_start += vocab_size
            i += 1
        j = pair - row_start
        p = upper_at[i]
        indices[p] = j
        upper_at[i] = p + 1
        if j == i:
            data[p] = 2.0 * v
        else:
            data[p] = v
            p = lower_at[j]
            indices[p] = i
            data[p] = v
            lower_at[j] = p + 1
