"""fastText's binary model file (`.bin`), read and written.

The layout, as fastText 0.9 writes it (src/fasttext.cc saveModel, args.cc, dictionary.cc,
densematrix.cc), all little-endian:

    int32 magic 793712314, int32 version (12; 11 is read too)
    Args        int32 dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn,
                lrUpdateRate; float64 t                       loss: hs 1, ns 2, softmax 3, ova 4
                                                              model: cbow 1, sg 2, sup 3
    Dictionary  int32 size, nwords, nlabels; int64 ntokens, pruneidx_size (-1: not pruned), then
                `size` entries: the word's bytes, NUL, int64 count, int8 type (0 word, 1 label),
                words first, most frequent first; then pruneidx_size (int32, int32) pairs
    bool quant_input, then the input matrix: int64 rows, int64 cols, rows x cols float32,
                row-major: the nwords word rows, then the `bucket` n-gram rows
    bool qout, then the output matrix in the same form

fastText's getWordVector averages the word's own input row and its n-gram rows (bucket id =
hash % bucket, row nwords + id; tables/subwords.py reproduces the hash), and only the n-gram rows
for an unseen word. Its end-of-sentence token "</s>" has no n-grams. Reading gives a
SubwordEmbeddings whose vectors are those averages, so every query, including unseen words,
returns fastText's vectors. Settings that do not change vectors (ws, epoch, neg, ...) are kept
in `fasttext_args` and written back unchanged.

Large files: an uncompressed .bin is memory-mapped (np.memmap, read-only), so the n-gram rows of
a 2M-bucket x 300 model (2.4 GB) are paged in only where read; the word vectors are computed
once. Not supported: quantized models (`.ftz`, quant_input true) and the labels of supervised
models (their words and n-gram rows are read; the label rows are not kept).
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.formats import open_read, open_write

MAGIC = 793712314
VERSION = 12
READ_VERSIONS = (11, 12)
EOS = "</s>"
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
MODELS = {1: "cbow", 2: "sg", 3: "sup"}
ARG_NAMES = ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket", "minn", "maxn",
             "lrUpdateRate", "t")
ARGS = struct.Struct("<12id")                   # the Args block: 12 int32 then the float64 t
DICT_HEAD = struct.Struct("<iiiqq")             # size, nwords, nlabels, ntokens, pruneidx_size
MATRIX_HEAD = struct.Struct("<qq")              # rows, cols
# fastText's own defaults, for settings an embedkit model does not have
DEFAULT_ARGS = {"ws": 5, "epoch": 5, "minCount": 5, "neg": 5, "wordNgrams": 1, "loss": "ns", "model": "sg",
                "lrUpdateRate": 100, "t": 1e-4}
READ_BYTES = 1 << 20
WHITESPACE = np.frombuffer(b" \n\r\t\v\f", np.uint8)   # fastText's word separators: never inside a word
WRITE_ROWS = 1 << 14


class _Reader:
    """Sequential reads that know their byte offset and say what was cut short."""

    def __init__(self, f, path):
        self.f, self.path, self.pos = f, path, 0
        self.start = 0                       # the byte offset of the last read: errors about it name it

    def read(self, n: int, what: str) -> bytes:
        self.start = self.pos
        data = self.f.read(n)
        if len(data) != n:
            raise EmbedkitError(f"{self.path}: truncated at byte {self.pos + len(data)} while reading {what} "
                                f"({n} bytes expected, {len(data)} left); the file is not a complete fastText model")
        self.pos += n
        return data

    def unpack(self, st: struct.Struct, what: str):
        return st.unpack(self.read(st.size, what))


def args_from_config(cfg: dict) -> dict:
    """fastText Args from an embedkit model config (model.json's "config": model and corpus fields)."""
    corpus = cfg.get("corpus") or {}
    return {"ws": int(cfg.get("window", DEFAULT_ARGS["ws"])), "epoch": int(cfg.get("epochs", DEFAULT_ARGS["epoch"])),
            "minCount": int(corpus.get("min_count", DEFAULT_ARGS["minCount"])),
            "neg": int(cfg.get("negative", DEFAULT_ARGS["neg"])), "wordNgrams": 1,
            "loss": cfg.get("objective", "ns"), "model": "cbow" if cfg.get("arch") == "cbow" else "sg",
            "lrUpdateRate": 100, "t": float(cfg.get("sample", DEFAULT_ARGS["t"]))}


# ---- reading ----

def _read_args(r: _Reader) -> tuple[int, dict]:
    if len(magic := r.f.read(4)) != 4 or int.from_bytes(magic, "little", signed=True) != MAGIC:
        raise EmbedkitError(f"{r.path}: not a fastText model (no magic number {MAGIC} at byte 0)")
    r.pos = 4
    (version,) = struct.unpack("<i", r.read(4, "the version"))
    if version not in READ_VERSIONS:
        raise EmbedkitError(f"{r.path}, byte 4: fastText model file version {version}; embedkit reads versions "
                            f"{', '.join(map(str, READ_VERSIONS))} (fastText 0.9)")
    args = dict(zip(ARG_NAMES, r.unpack(ARGS, "the model settings (Args)")))
    for key, names in (("loss", LOSSES), ("model", MODELS)):
        if args[key] not in names:
            raise EmbedkitError(f"{r.path}, byte {r.start + 4 * ARG_NAMES.index(key)}: unknown fastText {key} "
                                f"code {args[key]} in the model settings")
        args[key] = names[args[key]]
    if version == 11 and args["model"] == "sup":
        args["maxn"] = 0                          # fastText: version-11 supervised models have no char n-grams
    if args["dim"] < 1 or args["bucket"] < 0 or args["maxn"] < 0 or (args["maxn"] > 0 and not
                                                                    1 <= args["minn"] <= args["maxn"]):
        raise EmbedkitError(f"{r.path}, byte {r.start}: invalid model settings dim {args['dim']}, "
                            f"bucket {args['bucket']}, minn {args['minn']}, maxn {args['maxn']}")
    if args["maxn"] > 0 and args["bucket"] < 1:
        raise EmbedkitError(f"{r.path}, byte {r.start}: the model uses n-grams (maxn {args['maxn']}) but has bucket 0")
    return version, args


def _read_dictionary(r: _Reader, unicode_errors: str) -> tuple[list, np.ndarray, int, int, bytes]:
    """(words, counts (nwords,) int64, ntokens, nlabels, bytes read past the dictionary); label entries
    are read past and dropped. Entries are parsed from blocks of the file."""
    size, nwords, nlabels, ntokens, prune_size = r.unpack(DICT_HEAD, "the dictionary header")
    if not (0 <= nwords and 0 <= nlabels and size == nwords + nlabels):
        raise EmbedkitError(f"{r.path}, byte {r.start}: invalid dictionary header (size {size}, nwords {nwords}, "
                            f"nlabels {nlabels})")
    if prune_size > 0:
        raise EmbedkitError(f"{r.path}, byte {r.start}: a pruned dictionary (a quantized .ftz model); embedkit reads "
                            "unquantized .bin models only")
    from embedkit.kernels.records import scan_nul_records

    words, counts = [], []                                       # counts: (n,) int64 blocks
    pending, base, done = b"", r.pos, 0                          # base: file offset of pending[0]
    while done < size:
        more = r.f.read(READ_BYTES)
        if not more:
            raise EmbedkitError(f"{r.path}: truncated at byte {base + len(pending)} in dictionary entry "
                                f"{done + 1} of {size}")
        data = pending + more
        buf = np.frombuffer(data, np.uint8)
        ends = np.empty(min(size - done, len(data) // 10 + 1), np.int64)
        k, end = scan_nul_records(buf, 0, len(ends), 9, ends)   # entry: word, NUL, int64 count, int8 type
        ends = ends[:k]
        starts = np.concatenate([[0], ends[:-1] + 10]).astype(np.int64)
        tails = buf[ends[:, None] + np.arange(1, 10)]            # (k, 9) uint8
        kinds = tails[:, 8].view(np.int8)
        ids = np.arange(done, done + k)
        bad = np.flatnonzero((starts == ends) | ((kinds == 0) != (ids < nwords)) | (kinds > 1) | (kinds < 0))
        if bad.size:
            i = int(bad[0])
            raise EmbedkitError(f"{r.path}, byte {base + starts[i]}: dictionary entry {done + i + 1} is damaged "
                                f"(an empty word, a bad type byte, or a label where the header puts words)")
        spaced = np.concatenate([[0], np.cumsum(np.isin(buf[:end], WHITESPACE))])     # (end + 1,) running count
        bad = np.flatnonzero(spaced[ends] > spaced[starts])
        if bad.size:
            i = int(bad[0])
            at = int(starts[i] + np.flatnonzero(np.isin(buf[starts[i]:ends[i]], WHITESPACE))[0])
            raise EmbedkitError(f"{r.path}, byte {base + at}: dictionary entry {done + i + 1} holds whitespace "
                                f"(byte {buf[at]:#04x}); fastText splits words at it, so the file is damaged")
        n_words = int(max(0, min(k, nwords - done)))
        counts.append(tails[:n_words, :8].copy().view("<i8").ravel())
        try:
            words += [data[s0:e0].decode("utf-8", unicode_errors)
                      for s0, e0 in zip(starts[:n_words].tolist(), ends[:n_words].tolist())]
        except UnicodeDecodeError:
            for i, (s0, e0) in enumerate(zip(starts[:n_words].tolist(), ends[:n_words].tolist())):
                try:
                    data[s0:e0].decode("utf-8")
                except UnicodeDecodeError as e:
                    raise EmbedkitError(f"{r.path}, byte {base + s0 + e.start}: dictionary entry {done + i + 1} "
                                        f"is not valid UTF-8 ({e.reason}); pass unicode_errors='replace' "
                                        "(--unicode-errors replace) to read it anyway") from None
        pending, base, done = data[end:], base + end, done + k
    r.pos = base
    if len(set(words)) != len(words):
        seen = set()
        i, dup = next((i, w) for i, w in enumerate(words) if w in seen or seen.add(w))
        raise EmbedkitError(f"{r.path}: duplicate word {dup!r} in the dictionary (record {i + 1} of {size})")
    counts = np.concatenate(counts) if counts else np.zeros(0, np.int64)   # (nwords,) int64
    return words, counts, int(ntokens), nlabels, pending


class _Rest:
    """A file object that first returns `head` (bytes already read), then the file's bytes."""

    def __init__(self, head: bytes, f):
        self.head, self.f = head, f

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            out, self.head = self.head + self.f.read(), b""
            return out
        out, self.head = self.head[:n], self.head[n:]
        return out + (self.f.read(n - len(out)) if len(out) < n else b"")


def _read_matrix(r: _Reader, what: str, mmap_path: Path | None, shape: tuple[int, int], why: str) -> np.ndarray:
    """The (rows, cols) float32 matrix that must follow, memory-mapped from `mmap_path` when given."""
    quant = r.read(1, f"the {what} matrix flag")[0]
    if quant:
        raise EmbedkitError(f"{r.path}, byte {r.start}: the {what} matrix is quantized (an .ftz model); embedkit reads "
                            "unquantized .bin models only")
    rows, n = r.unpack(MATRIX_HEAD, f"the {what} matrix shape")
    if (rows, n) != shape:
        raise EmbedkitError(f"{r.path}, byte {r.pos - 16}: the {what} matrix is {rows:,} x {n}, expected "
                            f"{shape[0]:,} x {shape[1]} ({why})")
    nbytes = rows * n * 4
    if mmap_path is not None:
        size = mmap_path.stat().st_size
        if r.pos + nbytes > size:
            raise EmbedkitError(f"{r.path}: truncated: the {what} matrix ({rows:,} x {n}) runs from byte "
                                f"{r.pos:,} to byte {r.pos + nbytes:,}, the file has {size:,} bytes")
        m = np.memmap(mmap_path, dtype="<f4", mode="r", offset=r.pos, shape=(rows, n)) if rows else \
            np.empty((0, n), np.float32)
        r.f.seek(r.pos + nbytes)
        r.pos += nbytes
        return m
    try:
        m = np.empty((rows, n), dtype="<f4")                     # (rows, dim) float32
    except (MemoryError, ValueError):
        raise EmbedkitError(f"{r.path}, byte {r.start}: the {what} matrix ({rows:,} x {n} float32) does not fit "
                            "in memory") from None
    view = memoryview(m).cast("B")
    done = 0
    while done < nbytes:
        got = r.f.readinto(view[done:]) if hasattr(r.f, "readinto") else None
        if got is None:
            chunk = r.f.read(min(nbytes - done, 1 << 24))
            got = len(chunk)
            view[done:done + got] = chunk
        if not got:
            raise EmbedkitError(f"{r.path}: truncated at byte {r.pos + done} in the {what} matrix "
                                f"({rows:,} x {n} float32)")
        done += got
    r.pos += nbytes
    return m


def _first_nonfinite(rows: np.ndarray, block: int = 1 << 16):
    """(row, column) of the first nan or inf in rows, or None; block rows at a time, so a model of
    millions of rows needs no matrix-sized temporary."""
    for b0 in range(0, rows.shape[0], block):
        bad = ~np.isfinite(rows[b0:b0 + block])
        if bad.any():
            i, j = (int(x) for x in np.argwhere(bad)[0])
            return b0 + i, j
    return None


def _check_finite(path, rows: np.ndarray, at: int, what: str) -> None:
    """A nan or inf in rows (a block of a matrix whose first value is at byte `at`) is an error naming
    its byte. The callers pass the word and output rows; the words' n-gram rows are checked through
    the word vectors they make."""
    if (got := _first_nonfinite(rows)) is not None:
        i, j = got
        raise EmbedkitError(f"{path}, byte {at + 4 * (i * rows.shape[1] + j):,}: row {i + 1} of the {what} matrix "
                            f"holds {rows[i, j]}; the model is damaged")


def _ngram_sums(words, ngram_rows, minn: int, maxn: int, held=None, bucket=None) -> tuple[np.ndarray, np.ndarray]:
    """Sum of each word's n-gram rows (V, D) float32 and its bag size (V,) (own row included), as
    fastText's getWordVector counts them ("</s>" has no n-grams); one sparse product. held: the
    bucket of each row of a compact ngram_rows (SubwordEmbeddings.ngram_buckets), of `bucket`."""
    import scipy.sparse as sp

    from embedkit.tables.subwords import bucket_rows_of, subword_bags
    V, dim = len(words), ngram_rows.shape[1]
    if maxn <= 0 or V == 0:
        return np.zeros((V, dim), np.float32), np.ones(V, np.int64)
    bag_ptr, bag_ids = subword_bags(words, minn, maxn, ngram_rows.shape[0] if held is None else bucket)
    sizes = np.diff(bag_ptr)                                         # (V,) rows per bag, own row included
    keep = np.ones(len(bag_ids), bool)
    keep[bag_ptr[:-1]] = False                                       # each bag's own row comes first
    ngram_ptr = bag_ptr - np.arange(V + 1)                           # (V+1,) int64
    ngram_ids = bucket_rows_of(held, bag_ids[keep].astype(np.int64) - V)   # (nnz - V,) rows, -1: none
    weights = np.ones(len(ngram_ids), np.float32)
    if EOS in words:
        e = words.index(EOS)
        weights[ngram_ptr[e]:ngram_ptr[e + 1]] = 0
        sizes[e] = 1
    weights[ngram_ids < 0] = 0                                       # a bucket with no row adds zeros
    ngram_ids = np.maximum(ngram_ids, 0)
    op = sp.csr_matrix((weights, ngram_ids, ngram_ptr), shape=(V, ngram_rows.shape[0]))
    return np.asarray(op @ ngram_rows, dtype=np.float32), sizes


def word_vectors(words, word_rows, ngram_rows, minn: int, maxn: int) -> np.ndarray:
    """(V, D) float32: fastText's getWordVector of each vocabulary word, the mean of its own row
    and its n-gram rows."""
    sums, sizes = _ngram_sums(words, ngram_rows, minn, maxn)
    sums += word_rows
    sums *= (1.0 / sizes).astype(np.float32)[:, None]
    return sums


def read_fasttext_bin(path, limit: int | None = None, unicode_errors: str = "strict"):
    """SubwordEmbeddings of a fastText .bin model (see the module doc). `limit`: keep the first N
    vocabulary words (the others are then answered from their n-grams, as unseen words)."""
    from embedkit.subword_embeddings import SubwordEmbeddings

    path = Path(path)
    mmap_path = path if path.suffix not in (".gz", ".bz2") else None
    with open_read(path) as f:
        r = _Reader(f, path)
        _, args = _read_args(r)
        words, counts, ntokens, nlabels, rest = _read_dictionary(r, unicode_errors)
        nwords, dim = len(words), args["dim"]
        if mmap_path is not None:
            f.seek(r.pos)
        else:
            r.f = _Rest(rest, f)
        input_at = r.pos + 17                                  # past the quant flag and the shape
        input_rows = _read_matrix(r, "input", mmap_path, (nwords + args["bucket"], dim),
                                  f"{nwords:,} words + {args['bucket']:,} buckets, dim {dim}")
        n_out = nlabels if args["model"] == "sup" else nwords
        output_at = r.pos + 17
        output_rows = _read_matrix(r, "output", mmap_path, (n_out, dim),
                                   f"one row per {'label' if args['model'] == 'sup' else 'word'}, dim {dim}")
        tail = r.f.read(1)
        if tail:
            raise EmbedkitError(f"{path}, byte {r.pos}: data after the output matrix; not a fastText model "
                                "file, or a damaged one")
    n = nwords if limit is None else min(limit, nwords)
    words, counts = words[:n], counts[:n]
    word_rows, ngram_rows = input_rows[:n], input_rows[nwords:]
    _check_finite(path, word_rows, input_at, "input")
    _check_finite(path, output_rows, output_at, "output")
    with np.errstate(invalid="ignore", over="ignore"):
        vectors = word_vectors(words, word_rows, ngram_rows, args["minn"], args["maxn"])
    if (got := _first_nonfinite(vectors)) is not None:
        i = got[0]
        raise EmbedkitError(f"{path}: the vector of dictionary record {i + 1} ({words[i]!r}) is not finite: its "
                            f"n-gram rows hold nan, inf or values too large to average (the input matrix starts "
                            f"at byte {input_at:,}); the model is damaged")
    if args["model"] == "sup" or n < nwords:
        output_rows = None                          # label rows, or rows of words not kept
    emb = SubwordEmbeddings(words, vectors, ngram_rows, args["minn"] if args["maxn"] > 0 else 0, args["maxn"],
                            counts=counts, word_rows=word_rows, output_rows=output_rows,
                            fasttext_args={k: args[k] for k in ARG_NAMES})
    emb.fasttext_args["ntokens"] = ntokens
    return emb


# ---- writing ----

def _model_parts(emb: Embeddings):
    """(word_rows (V, D), bucket B, block(start, stop) -> n-gram rows (stop - start, D), minn, maxn,
    output_rows or None, args) of any Embeddings."""
    from embedkit.subword_embeddings import SubwordEmbeddings
    if not isinstance(emb, SubwordEmbeddings):
        return emb.vectors, 0, None, 0, 0, None, {}
    minn, maxn = (emb.minn, emb.maxn) if emb.maxn > 0 else (0, 0)
    bucket = emb.bucket if maxn > 0 or emb.fasttext_args else 0
    word_rows = emb.word_rows
    if word_rows is None:
        # Only the means are known: the own row is size * mean - sum of the n-gram rows.
        sums, sizes = _ngram_sums(emb.words, emb.ngram_rows, minn, maxn, emb.ngram_buckets, emb.bucket)
        word_rows = emb.vectors * sizes.astype(np.float32)[:, None] - sums
    return word_rows, bucket, emb.ngram_block, minn, maxn, emb.output_rows, dict(emb.fasttext_args or {})


def write_fasttext_bin(emb: Embeddings, path) -> None:
    """Write `emb` as a fastText .bin model that fasttext.load_model opens and whose
    get_word_vector returns emb's vectors (vocabulary and unseen words). Plain Embeddings become
    a model without n-grams (maxn 0, bucket 0). The output matrix is the model's own when known
    (a trained or read subword model), zeros otherwise: fastText needs it only to train further."""
    word_rows, bucket, ngram_block, minn, maxn, output_rows, args = _model_parts(emb)
    V, dim = len(emb), emb.dim
    for i, w in enumerate(emb.words):
        if not w or "\0" in w:
            raise EmbedkitError(f"cannot write fasttext-bin file {path}: word #{i} {w!r} is empty or contains "
                                "a NUL character, which ends a word in this format")
    a = {**DEFAULT_ARGS, **args, "dim": dim, "bucket": int(bucket), "maxn": maxn,
         "minn": minn if maxn > 0 else args.get("minn", 0)}        # minn of a model without n-grams: as read
    if a["model"] == "sup":                     # labels are not kept: write an unsupervised model
        a["model"], output_rows = "sg", None
        a["loss"] = a["loss"] if a["loss"] in ("ns", "hs") else "ns"
    counts = emb.counts if emb.counts is not None else np.zeros(V, np.int64)
    eos = emb.index.get(EOS)
    if eos is not None and maxn > 0:
        # fastText gives "</s>" no n-grams: its own row must then be the whole vector
        word_rows = np.array(word_rows, dtype=np.float32)
        word_rows[eos] = emb.vectors[eos]
    inv = {v: k for k, v in LOSSES.items()}, {v: k for k, v in MODELS.items()}
    with open_write(path) as f:
        f.write(struct.pack("<ii", MAGIC, VERSION))
        f.write(ARGS.pack(a["dim"], a["ws"], a["epoch"], a["minCount"], a["neg"], a["wordNgrams"],
                          inv[0][a["loss"]], inv[1][a["model"]], a["bucket"], a["minn"], a["maxn"],
                          a["lrUpdateRate"], float(a["t"])))
        f.write(DICT_HEAD.pack(V, V, 0, int(a.get("ntokens", counts.sum())), -1))
        for s in range(0, V, WRITE_ROWS):
            f.write(b"".join(w.encode("utf-8") + b"\0" + struct.pack("<qb", int(c), 0)
                             for w, c in zip(emb.words[s:s + WRITE_ROWS], counts[s:s + WRITE_ROWS].tolist())))
        f.write(b"\0" + MATRIX_HEAD.pack(V + bucket, dim))
        for s in range(0, V, WRITE_ROWS):
            f.write(np.ascontiguousarray(word_rows[s:s + WRITE_ROWS], dtype="<f4").tobytes())
        for s in range(0, bucket, WRITE_ROWS):          # fastText stores every bucket's row
            f.write(np.ascontiguousarray(ngram_block(s, min(s + WRITE_ROWS, bucket)), dtype="<f4").tobytes())
        if output_rows is None or output_rows.shape[1] != dim or output_rows.shape[0] > V:
            output_rows = np.zeros((0, dim), np.float32)
        f.write(b"\0" + MATRIX_HEAD.pack(V, dim))
        f.write(np.ascontiguousarray(output_rows, dtype="<f4").tobytes())
        pad = V - output_rows.shape[0]       # HS trains V-1 rows, fastText stores V; zeros otherwise
        for s in range(0, pad, WRITE_ROWS):
            f.write(bytes(4 * dim * min(WRITE_ROWS, pad - s)))
