"""Word-word co-occurrence counts (Stanford GloVe's `cooccur`), in bounded memory.

    X = count_cooccurrences(corpus, CooccurConfig(window=10))   # (V, V) float64 CSR, symmetric
    save_glove_binary(X, "cooccurrence.bin")                     # for Stanford GloVe's shuffle/glove

Semantics, as GloVe's cooccur.c with -symmetric 1: a token at distance d = 1..window from another
in the same line adds weight(d) = 1/d (harmonic, the default) or 1 (none) to both X[a, b] and
X[b, a]; a word next to itself adds twice to X[a, a]. Out-of-vocabulary tokens were dropped when
the corpus was encoded, so they neither count nor take a window slot (GloVe does the same). Rows
and columns are vocabulary ids (count-descending order).

Sentence boundaries: windows never cross a line break. A piece of an over-long line whose
`continues` flag is set is a cut made by the reader, not a boundary: windows run across it. So a
one-line corpus like text8 (cut into 1,690 pieces by max_sentence_length) gets the matrix Stanford
GloVe's cooccur makes from the file: the same non-zeros, values equal up to the order of float64
additions (measured on text8: 45,748,883 non-zeros, largest relative difference 6e-12).

Memory (cfg.memory GB bounds the counting structures, not the result): the upper triangle is
accumulated in (1) a dense float64 table for frequent pairs -- pair (i, j) is dense when its
expected number of window events 2*window*c_i*c_j/N is at least DENSE_MIN_EVENTS = 1 (a slot and
an event record both take 8 bytes), within DENSE_SHARE of the budget -- and (2) a buffer of 8-byte
event records for all other pairs, sized from a sampled estimate of their number, within the rest
of the budget. A full buffer is sorted, reduced and spilled to a temporary file, and the sorted
runs are merged (k-way, in numba) at the end; a buffer that holds everything is never spilled and
feeds the matrix assembly directly. The (V, V) CSR result itself takes 12 bytes per non-zero on
top. Temporary files are always removed.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse

from embedkit.config import CooccurConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path, remove_stale, temp_prefix
from embedkit.kernels import cooccur as K

DENSE_MIN_EVENTS = 1.0      # a pair gets a dense slot (8 bytes) when it expects >= 1 event (8 bytes each)
DENSE_SHARE = 0.5           # the dense table takes at most this share of the memory budget
MIN_BUFFER_RECORDS = 4096   # smallest sparse buffer, whatever the budget
SAMPLE_STRIDE, SAMPLE_SPAN = 1 << 16, 1 << 12   # the event estimate reads 1/16 of a long corpus
_CHUNK_TOKENS = 1 << 22     # tokens per kernel call (granularity of the progress bar)
_RECORDS_PER_WRITE = 1 << 20   # GloVe binary records built and written at a time
_GB = 1 << 30

# GloVe's CREC record: int32 word1, int32 word2, float64 value (16 bytes, 1-based ids)
CREC = np.dtype([("word1", "<i4"), ("word2", "<i4"), ("value", "<f8")])


@dataclass(frozen=True)
class CooccurPlan:
    """How the counting structures are sized (see plan_memory)."""
    row_len: np.ndarray      # (V,) int64 non-increasing: pair (i, j), i <= j, is dense when j < row_len[i]
    buffer_records: int      # capacity of the sparse event buffer (8 bytes each)
    merge_bytes: int         # memory for the chunks read back from spilled runs when merging

    @property
    def dense_slots(self) -> int:
        return int(np.maximum(self.row_len - np.arange(len(self.row_len)), 0).sum())


def dense_row_lengths(counts: np.ndarray, min_product: float) -> np.ndarray:
    """(V,) int64 row_len[i] = #{j : c_i * c_j >= min_product} (counts sorted descending)."""
    c = np.asarray(counts, dtype=np.float64)
    with np.errstate(divide="ignore"):
        need = min_product / c          # smallest partner count that keeps (i, j) dense
    return np.searchsorted(-c, -need, side="right").astype(np.int64)


def _slots(row_len: np.ndarray) -> int:
    return int(np.maximum(row_len - np.arange(len(row_len)), 0).sum())


def plan_memory(counts: np.ndarray, n_tokens: int, window: int, memory_gb: float,
                sparse_events=None) -> CooccurPlan:
    """Size the dense table and the sparse buffer from the counts and the budget (in GB = 2**30 bytes).

    sparse_events(row_len) -> int, if given, estimates the number of events outside the dense
    region; the buffer is then made no larger than that (plus a margin) when the budget allows
    more. Only the part of the buffer that is written is ever resident, so a generous margin
    costs address space, not memory; an underestimate costs a spill, never a wrong count."""
    budget = memory_gb * _GB
    counts = np.asarray(counts, dtype=np.int64)
    min_product = DENSE_MIN_EVENTS * max(n_tokens, 1) / (2.0 * window)
    row_len = dense_row_lengths(counts, min_product)
    max_slots = int(DENSE_SHARE * budget // 8)
    if _slots(row_len) > max_slots:
        # raise the product threshold until the table fits (slots shrink as the threshold grows)
        lo, hi = min_product, max(min_product, 1.0)
        while _slots(dense_row_lengths(counts, hi)) > max_slots:
            hi *= 2.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if _slots(dense_row_lengths(counts, mid)) > max_slots:
                lo = mid
            else:
                hi = mid
        row_len = dense_row_lengths(counts, hi)
    rest = max(budget - 8 * _slots(row_len), 0)
    # a spilled buffer needs 8 more bytes per distinct pair for the reduced values
    buffer_records = max(int(rest // 16), MIN_BUFFER_RECORDS)
    if sparse_events is not None:
        wanted = int(1.25 * sparse_events(row_len)) + MIN_BUFFER_RECORDS
        buffer_records = min(buffer_records, wanted)
    return CooccurPlan(row_len, max(buffer_records, window + 1), max(int(rest), 1 << 20))


def estimate_sparse_events(tokens, lines, window, row_len) -> int:
    """Events outside the dense region: counted exactly on a short corpus, else on an evenly
    spread 1/16 sample (blocks of SAMPLE_SPAN tokens every SAMPLE_STRIDE) scaled up."""
    if len(tokens) <= 16 * SAMPLE_STRIDE:
        events, _ = K.count_sparse_events(tokens, lines, window, row_len, 1, 1)
        return int(events)
    events, seen = K.count_sparse_events(tokens, lines, window, row_len, SAMPLE_STRIDE, SAMPLE_SPAN)
    return int(events * len(tokens) / max(seen, 1))


def _weights(cfg: CooccurConfig) -> np.ndarray:
    """(window+1,) float64 weight of a pair at distance d (index 0 unused)."""
    if cfg.weighting == "harmonic":
        return np.concatenate(([0.0], 1.0 / np.arange(1, cfg.window + 1, dtype=np.float64)))
    if cfg.weighting == "none":
        return np.concatenate(([0.0], np.ones(cfg.window)))
    raise EmbedkitError(f"--weighting must be harmonic or none, got {cfg.weighting!r}")


def check_config(cfg: CooccurConfig) -> None:
    """EmbedkitError naming the option when cfg cannot be counted with."""
    if cfg.window < 1:
        raise EmbedkitError(f"--window must be >= 1, got {cfg.window}")
    if not cfg.memory > 0:
        raise EmbedkitError(f"--memory must be a positive number of GB, got {cfg.memory}")
    _weights(cfg)


def _check(corpus: EncodedCorpus, cfg: CooccurConfig) -> tuple[np.ndarray, int]:
    check_config(cfg)
    V = len(corpus.vocab)
    tokens = np.asarray(corpus.tokens)
    if tokens.dtype != np.int32:
        tokens = tokens.astype(np.int32)
    if tokens.size and (tokens.min() < 0 or tokens.max() >= V):
        raise EmbedkitError(f"encoded corpus has token ids outside the vocabulary of {V} words")
    if V and (V * V) << int(cfg.window).bit_length() >= 2**63:
        raise EmbedkitError(f"vocabulary of {V:,} words is too large for --window {cfg.window} pair keys")
    return tokens, V


class _Spills:
    """Sorted runs written to a private temporary folder (removed by close(), always)."""

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.folder = None
        self.lengths: list[int] = []

    def write(self, keys: np.ndarray, values: np.ndarray) -> None:
        try:
            if self.folder is None:
                where = self.tmpdir or tempfile.gettempdir()
                remove_stale(where, "embedkit-cooccur")          # spills of killed runs
                self.folder = Path(tempfile.mkdtemp(prefix=temp_prefix("embedkit-cooccur"), suffix=".tmp", dir=where))
            n = len(self.lengths)
            keys.tofile(self.folder / f"run{n:05d}.keys")
            values.tofile(self.folder / f"run{n:05d}.vals")
        except OSError as e:
            where = self.folder or self.tmpdir or tempfile.gettempdir()
            raise EmbedkitError(f"cannot spill co-occurrence counts to {where}: {e.strerror or e} "
                                f"(choose another --tmpdir or a larger --memory)") from None
        self.lengths.append(len(keys))

    def read(self, run: int, start: int, count: int) -> tuple[np.ndarray, np.ndarray]:
        keys = np.fromfile(self.folder / f"run{run:05d}.keys", np.int64, count, offset=8 * start)
        vals = np.fromfile(self.folder / f"run{run:05d}.vals", np.float64, count, offset=8 * start)
        return keys, vals

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def _reduce_buffer(buf, n, dist_bits, weight):
    """Sort and reduce buf[:n] in place; returns (pair keys view, values)."""
    records = buf[:n]
    records.sort()      # numpy's SIMD sort, in place: several times faster than numba's
    distinct = K.count_distinct_pairs(records, n, dist_bits)
    values = np.empty(distinct, dtype=np.float64)   # (m,) summed weights
    m = K.reduce_sorted(records, n, dist_bits, weight, values)
    return records[:m], values


def _merge(spills: _Spills, merge_bytes: int):
    """k-way merge of the spilled runs into (pair keys, values), reading chunk by chunk."""
    R = len(spills.lengths)
    chunk = max(64, merge_bytes // (16 * R))
    head_keys = np.empty((R, chunk), np.int64)      # (R, C) current chunk of each run
    head_vals = np.empty((R, chunk), np.float64)
    pos = np.zeros(R, np.int64)
    length = np.zeros(R, np.int64)
    read_at = np.zeros(R, np.int64)                 # records of each run already read
    heap = np.zeros(R, np.int64)
    heap_size = np.zeros(1, np.int64)

    def refill(r):
        keys, vals = spills.read(r, int(read_at[r]), chunk)
        n = len(keys)
        head_keys[r, :n] = keys
        head_vals[r, :n] = vals
        pos[r], length[r] = 0, n
        read_at[r] += n
        return n > 0

    capacity = max(max(spills.lengths), 1)
    out_keys = np.empty(capacity, np.int64)
    out_vals = np.empty(capacity, np.float64)
    n_out = 0
    for r in range(R):
        if refill(r):
            K.heap_push(heap, heap_size, head_keys, pos, r)
    push = -1
    while True:
        n_out, status = K.merge_runs(head_keys, head_vals, pos, length, heap, heap_size, push,
                                     out_keys, out_vals, n_out)
        push = -1
        if status == K.MERGE_DONE:
            break
        if status == K.MERGE_OUT_FULL:
            capacity = int(capacity * 1.5) + 1
            out_keys = np.resize(out_keys, capacity)
            out_vals = np.resize(out_vals, capacity)
        elif refill(status):        # run `status` used up its chunk: read its next one
            push = status
    return out_keys[:n_out].copy(), out_vals[:n_out].copy()


def _to_csr(plan, row_base, dense, keys, values, dist_bits, weight, V) -> scipy.sparse.csr_matrix:
    """X = S + S^T as CSR from the dense table and the sorted sparse stream (see kernels/cooccur)."""
    args = (plan.row_len, row_base, dense, keys, values, len(keys), dist_bits, weight, V)
    lower, upper = K.csr_row_counts(*args)
    indptr = np.zeros(V + 1, dtype=np.int64)        # (V+1,)
    np.cumsum(lower + upper, out=indptr[1:])
    nnz = int(indptr[-1])
    index_type = np.int32 if max(nnz, V) < 2**31 else np.int64
    indices = np.empty(nnz, dtype=index_type)       # (nnz,) column ids, sorted within rows
    data = np.empty(nnz, dtype=np.float64)          # (nnz,) X values
    K.csr_fill(*args, indptr, lower, indices, data)
    return scipy.sparse.csr_matrix((data, indices, indptr.astype(index_type)), shape=(V, V), copy=False)


def count_cooccurrences(corpus: EncodedCorpus, cfg: CooccurConfig | None = None, tmpdir=None,
                        progress: bool = False, plan: CooccurPlan | None = None) -> scipy.sparse.csr_matrix:
    """(V, V) float64 symmetric CSR matrix of co-occurrence weights (see the module doc).

    tmpdir: where spilled runs go (default: the system temp folder); `plan` overrides the memory
    plan (tests force tiny buffers with it)."""
    cfg = cfg or CooccurConfig()
    tokens, V = _check(corpus, cfg)
    weight = _weights(cfg)
    lines = np.asarray(corpus.line_offsets(), dtype=np.int64)      # (L+1,) real line boundaries
    if plan is None:
        plan = plan_memory(corpus.vocab.counts, len(tokens), cfg.window, cfg.memory,
                           lambda row_len: estimate_sparse_events(tokens, lines, cfg.window, row_len))
    row_len = np.asarray(plan.row_len, dtype=np.int64)
    if len(row_len) != V or (np.diff(row_len) > 0).any():
        raise ValueError("plan.row_len must have V non-increasing entries")
    widths = np.maximum(row_len - np.arange(V), 0)
    row_base = np.zeros(V, dtype=np.int64)          # (V,) S[i, j] is dense[row_base[i] + j]
    np.cumsum(widths[:-1], out=row_base[1:])
    row_base -= np.arange(V)
    dense = np.zeros(int(widths.sum()), dtype=np.float64)     # (dense slots,) frequent pairs of S
    dist_bits = int(cfg.window).bit_length()
    buf = np.empty(max(plan.buffer_records, cfg.window + 1), dtype=np.int64)   # (B,) packed events
    spills = _Spills(tmpdir)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(tokens), unit="tok", unit_scale=True, desc="co-occurrences")
    try:
        k, line, n_buf = 0, 0, 0
        while k < len(tokens):
            k_end = min(k + _CHUNK_TOKENS, len(tokens))
            k_new, line, n_buf = K.accumulate_windows(tokens, lines, line, k, k_end, cfg.window, weight,
                                                      row_len, row_base, dense, buf, n_buf, V, dist_bits)
            if bar is not None:
                bar.update(k_new - k)
            k = k_new
            if k < k_end:       # the buffer is full: reduce it and spill a sorted run
                spills.write(*_reduce_buffer(buf, n_buf, dist_bits, weight))
                n_buf = 0
        if bar is not None:
            bar.close()         # what follows (sort, merge, CSR assembly) has no token count
        if spills.lengths:
            if n_buf:
                spills.write(*_reduce_buffer(buf, n_buf, dist_bits, weight))
            del buf
            keys, values = _merge(spills, plan.merge_bytes)
            spills.close()
            return _to_csr(plan, row_base, dense, keys, values, 0, weight, V)
        # everything fitted in one buffer: the CSR kernels sum its sorted records directly
        records = buf[:n_buf]
        records.sort()
        return _to_csr(plan, row_base, dense, records, np.zeros(0), dist_bits, weight, V)
    finally:
        spills.close()
        if bar is not None:
            bar.close()


def save_glove_binary(matrix, path) -> None:
    """Write `matrix` as Stanford GloVe's binary CREC records (int32 word1, int32 word2, float64
    value; 1-based ids; row-major, zeros skipped), atomically. GloVe's shuffle and glove read it."""
    X = scipy.sparse.csr_matrix(matrix)
    if not X.has_sorted_indices:
        X = X.sorted_indices()
    V = X.shape[0]
    if V >= 2**31:
        raise EmbedkitError(f"GloVe's binary format has 32-bit word ids; {V:,} words do not fit")
    # row ranges of about 1M records each (rows are very unequal: the first hold most entries)
    bounds = np.unique(np.searchsorted(X.indptr, np.arange(0, X.nnz, _RECORDS_PER_WRITE), side="right") - 1)
    bounds = np.append(bounds[bounds < V], V)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        for r0, r1 in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            a, b = X.indptr[r0], X.indptr[r1]
            word1 = np.repeat(np.arange(r0 + 1, r1 + 1, dtype=np.int32), np.diff(X.indptr[r0:r1 + 1]))
            word2 = X.indices[a:b]
            value = X.data[a:b]
            if not value.all():                    # explicit zeros are not records
                keep = value != 0
                word1, word2, value = word1[keep], word2[keep], value[keep]
            rec = np.empty(len(value), dtype=CREC)       # (chunk nnz,) records
            rec["word1"] = word1
            rec["word2"] = word2 + 1
            rec["value"] = value
            rec.tofile(f)


def load_glove_binary(path, vocab_size: int) -> scipy.sparse.csr_matrix:
    """Read CREC records (as written by GloVe's cooccur or save_glove_binary) into a (V, V) CSR
    matrix; repeated pairs are summed."""
    size = os.path.getsize(path)
    if size % CREC.itemsize:
        raise EmbedkitError(f"{path}: size {size} is not a multiple of the 16-byte GloVe record")
    rec = np.fromfile(path, dtype=CREC)
    if rec.size and (min(rec["word1"].min(), rec["word2"].min()) < 1
                     or max(rec["word1"].max(), rec["word2"].max()) > vocab_size):
        raise EmbedkitError(f"{path}: word ids outside 1..{vocab_size}")
    return scipy.sparse.csr_matrix((rec["value"], (rec["word1"] - 1, rec["word2"] - 1)),
                                   shape=(vocab_size, vocab_size))


def vocab_path_for(path) -> Path:
    """COOC.vocab.tsv beside COOC.npz: the words of the matrix's rows and columns, in order."""
    path = Path(path)
    stem = path.name[:-4] if path.name.endswith(".npz") else path.name
    return path.with_name(stem + ".vocab.tsv")


def save_cooccur(matrix, path, vocab=None) -> None:
    """scipy.sparse.save_npz, uncompressed (zlib takes ~50x longer on text8's 45M values for a 3.5x
    smaller file), written atomically; with `vocab`, also COOC.vocab.tsv beside it. The matrix is
    the pair's commit file: the old one is removed first and the new one renamed into place
    last, so a kill leaves the old pair, no matrix, or the new pair, never a matrix beside
    another run's vocabulary."""
    X = scipy.sparse.csr_matrix(matrix)
    if vocab is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        vocab.save(vocab_path_for(path))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        scipy.sparse.save_npz(f, X, compressed=False)


def load_cooccur(path) -> scipy.sparse.csr_matrix:
    """The (V, V) CSR matrix saved by save_cooccur / `embedkit cooccur`, checked in full: valid
    indices (the kernels index with them unchecked), finite non-negative values."""
    try:
        X = scipy.sparse.load_npz(path)
    except FileNotFoundError:
        raise EmbedkitError(f"co-occurrence file {path} does not exist") from None
    except Exception as e:   # noqa: BLE001 - a damaged zip/npy/sparse layout raises many kinds
        raise EmbedkitError(f"{path} is not a scipy.sparse .npz co-occurrence matrix, or it is damaged "
                            f"({type(e).__name__}: {e})") from None
    if X.ndim != 2 or X.shape[0] != X.shape[1]:
        raise EmbedkitError(f"{path}: a co-occurrence matrix is square, this one is {X.shape}")
    try:
        X = X.tocsr()
        X.check_format(full_check=True)
    except Exception as e:   # noqa: BLE001 - scipy reports broken index arrays as several types
        raise EmbedkitError(f"{path}: damaged sparse matrix ({e})") from None
    if X.data.dtype.kind not in "fiu":
        raise EmbedkitError(f"{path}: entries have dtype {X.data.dtype}, expected real numbers")
    bad = ~np.isfinite(X.data) | (X.data < 0)
    if bad.any():
        k = int(np.argmax(bad))
        row = int(np.searchsorted(X.indptr, k, side="right") - 1)
        raise EmbedkitError(f"{path}: row {row}, column {int(X.indices[k])}: entry {X.data[k]} is not a "
                            "finite non-negative count")
    return X
