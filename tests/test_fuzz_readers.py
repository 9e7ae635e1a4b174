"""Fuzzing every reader: mutated valid files either load or raise EmbedkitError naming the file.

Each test writes a valid file with embedkit's own writer (words and values drawn by hypothesis),
mutates it (truncation at line/record/token boundaries, byte flips, inserted or deleted bytes,
header edits, wrong numbers of values, duplicate and empty words, NaN and infinity, huge declared
sizes, compression of the result or damage to the compressed stream) and reads it back. The
contract (check_read):
- the read returns, or raises EmbedkitError whose one-line message names the file, and names a
  line, byte or record unless the problem is the whole file (WHOLE_FILE);
- any other exception fails the test; so does a read that takes longer than LIMIT_S (a hang);
- what a read returns is sound (check_vectors): unique non-empty words without whitespace,
  finite float32 values of the right shape, as many words as a header declares.

The default run uses a fixed sequence of examples (derandomize), so CI sees the same files every
time; `pytest -m slow tests/test_fuzz_readers.py` runs the long randomised search (LONG x more
examples, new ones every run).
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import json
import os
import re
import signal
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from hypothesis.control import currently_in_test_context

from embedkit import io
from embedkit.corpus.cooccur import load_cooccur
from embedkit.corpus.vocab import Vocab
from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.evaluate.datasets import read_analogies, read_pairs

LIMIT_S = 5.0                 # per read: far above any of these tiny files' read time
LONG = 40                     # the slow search runs this many times the default examples
LOCATION = re.compile(r"\b(line|byte|record|row|column|char) \d")
WHOLE_FILE = re.compile(r"is empty|holds no|does not exist|not an embedkit model|cannot tell the format|"
                        r"fastText binary model|pickle|header declares|missing|lacks|no '\w+' array|"
                        r"shape|format_version|not a scipy.sparse|square|compressed|is a folder|"
                        r"cannot read|dtype|model.json says|must be")
_COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck))


@contextlib.contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise TimeoutError(f"read took longer than {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _event(name):
    if currently_in_test_context():
        event(name)                  # pytest --hypothesis-show-statistics counts loads and errors


def check_read(read, path, named=None):
    """Run read(path) under the contract above; returns its result, or None after a clean error."""
    named = Path(named or path)
    with time_limit(LIMIT_S):
        try:
            result = read(path)
            _event("read: loaded")
            return result
        except EmbedkitError as e:
            msg = str(e)
    _event("read: EmbedkitError")
    assert "\n" not in msg and msg.strip(), repr(msg)
    assert str(named) in msg or named.name in msg, f"the error does not name {named}: {msg}"
    assert LOCATION.search(msg) or WHOLE_FILE.search(msg), f"the error names no line/byte: {msg}"
    return None


def check_vectors(emb, declared: int | None = None):
    assert isinstance(emb, Embeddings)
    assert emb.vectors.dtype == np.float32 and emb.vectors.shape == (len(emb.words), emb.dim)
    assert len(set(emb.words)) == len(emb.words)
    # a word is what precedes a space (word2vec C, gensim, fastText): other whitespace may be in it
    assert all(w and " " not in w and "\n" not in w for w in emb.words), emb.words
    assert np.isfinite(emb.vectors).all()
    if declared is not None:
        assert len(emb.words) == declared


def fuzz(n_examples: int, *strategies):
    """Two tests from one body: the default (fixed examples) and a `slow` randomised long search."""
    def deco(body):
        fast = settings(max_examples=n_examples, derandomize=True, database=None, **_COMMON)(given(*strategies)(body))
        slow = pytest.mark.slow(settings(max_examples=n_examples * LONG, **_COMMON)(given(*strategies)(body)))
        return fast, slow
    return deco


# ---- strategies ----

WORD = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=8).filter(
    lambda w: not any(c.isspace() for c in w))
VALUE = st.floats(width=32, allow_nan=False, allow_infinity=False)


@st.composite
def embeddings(draw, max_words=6):
    words = draw(st.lists(WORD, min_size=1, max_size=max_words, unique=True))
    dim = draw(st.integers(1, 4))
    vals = draw(st.lists(VALUE, min_size=len(words) * dim, max_size=len(words) * dim))
    return Embeddings(words, np.array(vals, dtype=np.float32).reshape(len(words), dim))


NASTY = [b"nan", b"NaN", b"inf", b"-inf", b"1e999", b"-1e999", b"0x10", b"1_0", b"--1", b"+", b".", b"",
         b"\x00", b"\r", b"\n", b" ", b"\t", b"\x0b", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"\xe2\x80\xa8",
         b"99999999999999999999", b"-1", b"0", b"1e-50", b"\x1c"]
HEADERS = [b"", b"0 0", b"-1 3", b"3 -1", b"0 3", b"99999999999999999999 3", b"3 99999999999999",
           b"1000000000000 1000000000000", b"2 3 4", b"2", b"a b", b"2.0 3", b"\xef\xbb\xbf2 3", b"+2 3",
           b"2 3\r", b" 2 3", b"2\t3", b"\x00"]
NAN32, INF32 = b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f"


@st.composite
def mutate_lines(draw, data: bytes) -> bytes:
    """1 to 3 byte- or line-level edits of a text file."""
    for _ in range(draw(st.integers(1, 3))):
        lines = data.split(b"\n")
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        op = draw(st.sampled_from(["cut", "cut_line", "flip", "insert", "delete", "dup_line", "drop_line",
                                   "swap", "header", "token", "drop_token", "add_token", "empty_word",
                                   "dup_word"]))
        toks = lines[i].split(b" ")
        if op == "cut":
            data = data[:draw(st.integers(0, len(data)))]
        elif op == "cut_line":
            cut = sum(len(ln) + 1 for ln in lines[:i])
            data = data[:cut + draw(st.sampled_from([-1, 0, 1]))] if cut else data[:0]
        elif op == "flip" and data:
            k = draw(st.integers(0, len(data) - 1))
            data = data[:k] + bytes([draw(st.integers(0, 255))]) + data[k + 1:]
        elif op == "insert":
            k = draw(st.integers(0, len(data)))
            data = data[:k] + draw(st.sampled_from(NASTY) | st.binary(max_size=6)) + data[k:]
        elif op == "delete" and data:
            k = draw(st.integers(0, len(data) - 1))
            data = data[:k] + data[k + draw(st.integers(1, 8)):]
        else:
            if op == "dup_line":
                lines.insert(i, lines[i])
            elif op == "drop_line":
                del lines[i]
            elif op == "swap":
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            elif op == "header":
                lines[0] = draw(st.sampled_from(HEADERS))
            elif op == "token":
                toks[draw(st.integers(0, len(toks) - 1))] = draw(st.sampled_from(NASTY))
                lines[i] = b" ".join(toks)
            elif op == "drop_token" and len(toks) > 1:
                del toks[draw(st.integers(0, len(toks) - 1))]
                lines[i] = b" ".join(toks)
            elif op == "add_token":
                toks.insert(draw(st.integers(0, len(toks))), draw(st.sampled_from([b"1", b"0.5", b"x"])))
                lines[i] = b" ".join(toks)
            elif op == "empty_word":
                lines[i] = b" " + lines[i]
            elif op == "dup_word" and len(lines) > 2:
                j = draw(st.integers(0, len(lines) - 1))
                lines[i] = lines[j].split(b" ")[0] + b" " + b" ".join(toks[1:])
            data = b"\n".join(lines)
    return data


@st.composite
def mutate_bytes(draw, data: bytes, record_starts=()) -> bytes:
    """1 to 3 byte-level edits: cuts at any or at a record boundary, flips, NaN/inf floats, inserts."""
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["cut", "cut_record", "flip", "insert", "delete", "nan", "header",
                                   "dup_record", "newlines"]))
        k = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "cut":
            data = data[:draw(st.integers(0, len(data)))]
        elif op == "cut_record" and record_starts:
            data = data[:draw(st.sampled_from(list(record_starts))) + draw(st.sampled_from([-1, 0, 1]))]
        elif op == "flip" and data:
            data = data[:k] + bytes([draw(st.integers(0, 255))]) + data[k + 1:]
        elif op == "insert":
            data = data[:k] + draw(st.sampled_from(NASTY) | st.binary(max_size=6)) + data[k:]
        elif op == "delete":
            data = data[:k] + data[k + draw(st.integers(1, 8)):]
        elif op == "nan":
            data = data[:k] + draw(st.sampled_from([NAN32, INF32])) + data[k + 4:]
        elif op == "header":
            data = draw(st.sampled_from(HEADERS)) + data[data.find(b"\n"):] if b"\n" in data else data
        elif op == "dup_record" and len(record_starts) > 1:
            a, b = record_starts[0], record_starts[1]
            data = data[:b] + data[a:b] + data[b:]
        elif op == "newlines":
            data = data[:k] + b"\n" * draw(st.integers(1, 3)) + data[k:]
    return data


@st.composite
def packed(draw, data: bytes):
    """The bytes as a plain, .gz or .bz2 file; a compressed stream may be cut or damaged too."""
    kind = draw(st.sampled_from(["", "", "", ".gz", ".bz2"]))
    if kind:
        data = (gzip.compress if kind == ".gz" else bz2.compress)(data)
        if draw(st.booleans()):
            k = draw(st.integers(0, len(data)))
            data = data[:k] if draw(st.booleans()) else data[:k] + bytes([draw(st.integers(0, 255))]) + data[k + 1:]
    return kind, data


def declared_count(data: bytes):
    """V of a well-formed "V D" first line, else None."""
    first = data.split(b"\n", 1)[0]
    m = re.fullmatch(rb"(\d+) (\d+)", first)
    return int(m.group(1)) if m else None


# ---- vector files ----

TEXT_FORMATS = {"word2vec-text": "txt", "fasttext-vec": "vec", "glove": "glove.txt"}


@st.composite
def text_case(draw):
    fmt = draw(st.sampled_from(sorted(TEXT_FORMATS)))
    emb = draw(embeddings())
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "v"
        io.save(emb, p, format=fmt)
        valid = p.read_bytes()
    data = draw(mutate_lines(valid))
    return fmt, data, draw(packed(data)), draw(st.booleans())


def _text_body(case):
    fmt, raw, (suffix, data), detect = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"vectors.{TEXT_FORMATS[fmt]}{suffix}"
        path.write_bytes(data)
        emb = check_read(lambda p: io.load(p, format=None if detect else fmt), path)
        if emb is not None:
            check_vectors(emb, declared_count(raw) if fmt != "glove" and not detect and not suffix else None)


test_fuzz_text_vectors, test_fuzz_text_vectors_long = fuzz(300, text_case())(_text_body)


@st.composite
def binary_case(draw):
    emb = draw(embeddings())
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "v.bin"
        io.save(emb, p, format="word2vec-binary")
        valid = p.read_bytes()
    starts, pos = [], valid.index(b"\n") + 1
    for w in emb.words:
        starts.append(pos)
        pos += len(w.encode()) + 1 + 4 * emb.dim + 1
    data = draw(mutate_bytes(valid, tuple(starts) + (len(valid),)))
    return data, draw(packed(data)), draw(st.booleans())


def _binary_body(case):
    raw, (suffix, data), detect = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"vectors.bin{suffix}"
        path.write_bytes(data)
        emb = check_read(lambda p: io.load(p, format=None if detect else "word2vec-binary"), path)
        if emb is not None:
            check_vectors(emb, declared_count(raw) if not detect and not suffix else None)


test_fuzz_binary_vectors, test_fuzz_binary_vectors_long = fuzz(300, binary_case())(_binary_body)


# ---- native model folders ----

JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2, 10**20), st.floats(), st.text(max_size=5),
                        st.lists(st.integers(-1, 5), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@st.composite
def model_case(draw):
    emb = draw(embeddings())
    kind = draw(st.sampled_from(["skipgram", "glove", "fasttext"]))
    d = Path(tempfile.mkdtemp())
    V, dim = len(emb.words), emb.dim
    arrays = {"w_in": emb.vectors, "w_out": np.zeros((V, dim), np.float32)}
    config = {"model": kind}
    if kind == "fasttext":
        arrays["w_in"] = np.vstack([emb.vectors, np.ones((7, dim), np.float32)])
        config.update(minn=3, maxn=5, bucket=7)
    emb = Embeddings(emb.words, emb.vectors, np.arange(V, 0, -1) * 3)
    io.save_model(d / "model", emb, kind=kind, config=config, arrays=arrays, training_log={"epochs": []})
    folder = d / "model"
    target = draw(st.sampled_from(["model.json", "vocab.tsv", "arrays.npz", "training_log.json", "arrays",
                                   "delete"]))
    if target == "model.json" and draw(st.booleans()):
        meta = json.loads((folder / "model.json").read_text())
        key = draw(st.sampled_from(["format_version", "kind", "dim", "vocab_size", "config", "arrays"]))
        if draw(st.booleans()):
            meta.pop(key)
        elif key == "config":
            meta["config"][draw(st.sampled_from(["minn", "maxn", "bucket", "model"]))] = draw(JSON_VALUES)
        else:
            meta[key] = draw(JSON_VALUES)
        (folder / "model.json").write_text(json.dumps(meta))
    elif target == "arrays":
        name = draw(st.sampled_from(["vectors", "w_in", "w_out"]))
        with np.load(folder / "arrays.npz") as z:
            arrs = {k: z[k] for k in z.files}
        change = draw(st.sampled_from(["drop", "nan", "shape", "dtype", "scalar"]))
        if change == "drop":
            arrs.pop(name)
        elif change == "nan":
            arrs[name] = arrs[name].copy()
            arrs[name].flat[draw(st.integers(0, arrs[name].size - 1))] = draw(st.sampled_from([np.nan, np.inf]))
        elif change == "shape":
            arrs[name] = arrs[name][:, :-1] if draw(st.booleans()) else np.vstack([arrs[name], arrs[name][:1]])
        elif change == "dtype":
            arrs[name] = arrs[name].astype(draw(st.sampled_from([np.float64, np.int32, np.complex64, "U3"])))
        else:
            arrs[name] = np.float32(1.0)
        with open(folder / "arrays.npz", "wb") as f:
            np.savez(f, **arrs)
    elif target == "delete":
        os.unlink(folder / draw(st.sampled_from(["model.json", "vocab.tsv", "arrays.npz", "training_log.json"])))
    else:
        f = folder / target
        f.write_bytes(draw(mutate_lines(f.read_bytes())) if target != "arrays.npz"
                      else draw(mutate_bytes(f.read_bytes())))
    return d, folder


def _model_body(case):
    d, folder = case
    try:
        emb = check_read(io.load, folder, named=folder)
        if emb is not None:
            check_vectors(emb)
    finally:
        import shutil
        shutil.rmtree(d, ignore_errors=True)


test_fuzz_model_folder, test_fuzz_model_folder_long = fuzz(250, model_case())(_model_body)


# ---- vocabulary TSV ----

@st.composite
def vocab_case(draw):
    words = draw(st.lists(WORD.filter(lambda w: "\t" not in w), min_size=1, max_size=6, unique=True))
    counts = sorted(draw(st.lists(st.integers(1, 10**6), min_size=len(words), max_size=len(words))), reverse=True)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "vocab.tsv"
        Vocab(words, np.asarray(counts, np.int64), sum(counts), len(words)).save(p)
        valid = p.read_bytes()
    data = draw(mutate_lines(valid.replace(b"\t", b" "))).replace(b" ", b"\t")   # edit fields, not words
    return data


def _vocab_body(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "vocab.tsv"
        path.write_bytes(data)
        v = check_read(Vocab.load, path)
        if v is not None:
            assert len(set(v.words)) == len(v.words) and all(v.words)
            assert v.counts.dtype == np.int64 and (v.counts >= 0).all()


test_fuzz_vocab_tsv, test_fuzz_vocab_tsv_long = fuzz(250, vocab_case())(_vocab_body)


# ---- co-occurrence .npz ----

@st.composite
def cooccur_case(draw):
    import scipy.sparse
    V = draw(st.integers(1, 5))
    dense = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 3.0]), min_size=V * V, max_size=V * V))).reshape(V, V)
    X = scipy.sparse.csr_matrix(dense)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "c.npz"
        from embedkit.corpus.cooccur import save_cooccur
        save_cooccur(X, p)
        valid = p.read_bytes()
        if draw(st.booleans()):
            return draw(mutate_bytes(valid))
        with np.load(p) as z:
            arrs = {k: z[k] for k in z.files}
    key = draw(st.sampled_from(["data", "indices", "indptr", "shape", "format"]))
    a = arrs[key]
    change = draw(st.sampled_from(["value", "drop", "dtype", "append"] if key not in ("format", "shape") else
                                  ["value", "drop"]))
    if change == "drop":
        arrs.pop(key)
    elif change == "dtype":
        arrs[key] = a.astype(draw(st.sampled_from([np.float32, np.int8, np.int64, np.uint64, "U5"])))
    elif change == "append":
        arrs[key] = np.append(a, a[:1]) if a.ndim and a.size else a
    elif a.size:
        a = a.copy()
        pick = draw(st.integers(0, a.size - 1))
        if a.dtype.kind in "iu":
            a.flat[pick] = draw(st.sampled_from([-1, 0, V, V + 1, 2**31 - 1]))
        elif a.dtype.kind == "f":
            a.flat[pick] = draw(st.sampled_from([np.nan, np.inf, -1.0, 0.0]))
        else:
            a = np.array(draw(st.sampled_from(["coo", "csc", "bsr", "dia", "xyz"])))
        arrs[key] = a
    import io as _io
    buf = _io.BytesIO()
    np.savez(buf, **arrs)
    return buf.getvalue()


def _cooccur_body(data):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cooc.npz"
        path.write_bytes(data)
        X = check_read(load_cooccur, path)
        if X is not None:
            X.check_format(full_check=True)
            assert X.shape[0] == X.shape[1] and X.format == "csr"
            assert np.isfinite(X.data).all() and (X.data >= 0).all()


test_fuzz_cooccur_npz, test_fuzz_cooccur_npz_long = fuzz(250, cooccur_case())(_cooccur_body)


# ---- evaluation files ----

@st.composite
def eval_case(draw):
    words = draw(st.lists(WORD, min_size=4, max_size=8))
    if draw(st.booleans()):
        kind = "analogy"
        text = ": section\n" + "\n".join(" ".join(words[i:i + 4]) for i in range(len(words) - 3)) + "\n"
    else:
        kind = "pairs"
        sep = draw(st.sampled_from([" ", "\t"]))
        text = "# comment\n" + "\n".join(f"{a}{sep}{b}{sep}{draw(VALUE)}" for a, b in zip(words, words[1:])) + "\n"
    return kind, draw(packed(draw(mutate_lines(text.encode()))))


def _eval_body(case):
    kind, (suffix, data) = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"set.txt{suffix}"
        path.write_bytes(data)
        got = check_read(read_analogies if kind == "analogy" else read_pairs, path)
        if got is not None and kind == "pairs":
            assert np.isfinite(got.gold).all() and all(a and b for a, b in got.pairs)
        if got is not None and kind == "analogy":
            assert all(len(q) == 4 and all(q) for _, qs in got.sections for q in qs)


test_fuzz_eval_files, test_fuzz_eval_files_long = fuzz(250, eval_case())(_eval_body)


# ---- the defects the fuzzing found, one minimal file each (each raised another exception, hung or was accepted) ----

def _npz(**arrays) -> bytes:
    import io as _io
    buf = _io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


_CSR = dict(indices=np.array([0, 1], np.int32), indptr=np.array([0, 1, 2], np.int32), format=np.array("csr"),
            shape=np.array([2, 2]), data=np.array([1.0, 2.0]))
DEFECTS = [   # (reader, file name, bytes, expected message)
    ("vectors", "v.txt.gz", gzip.compress(b"2 2\na 1 2\nb 3 4\n")[:-9], r"v.txt.gz: the file is damaged or cut short"),
    ("vectors", "v.txt", gzip.compress(b"2 2\na 1 2\nb 3 4\n"), None),            # gzip without its .gz: read
    ("vectors", "v.bin.bz2", bz2.compress(b"1 1\na " + np.float32(1).tobytes())[:-3], r"damaged or cut short"),
    ("vectors", "v.txt", b"2 2\na 1 nan\nb 3 4\n", r"v.txt, line 2: value 2 is nan, not a finite number"),
    ("vectors", "v.txt", b"2 2\na 1 2\nb 3 1e999\n", r"v.txt, line 3: value 2 is inf"),
    ("vectors", "v.bin", b"1 1\na " + NAN32 + b"\n", r"v.bin, byte 4 \(record 1\): value 1 is nan"),
    ("vocab", "vocab.tsv", b"#embedkit-vocab\ttotal_tokens=x\na\t1\n", r"vocab.tsv, line 1: expected total_tokens"),
    ("vocab", "vocab.tsv", b"a\t1\nb\xff\t1\n", r"vocab.tsv, line 2: invalid UTF-8"),
    ("vocab", "vocab.tsv", b"a\t-3\n", r"vocab.tsv, line 1: count '-3' is not a non-negative integer"),
    ("vocab", "vocab.tsv", b"a\t99999999999999999999\n", r"line 1: count"),
    ("vocab", "vocab.tsv", b"a\t1\nb\t1\na\t1\n", r"vocab.tsv, line 3: duplicate word 'a' \(first at line 1\)"),
    ("cooccur", "c.npz", _npz(**{**_CSR, "indices": np.array([0, 7], np.int32)}), r"c.npz: damaged sparse matrix"),
    ("cooccur", "c.npz", _npz(**{**_CSR, "shape": np.array([2.0, 2.0], np.float32)}), r"c.npz is not a scipy.sparse"),
    ("cooccur", "c.npz", _npz(**{**_CSR, "data": np.array([1.0, np.nan])}), r"c.npz: row 1, column 1: entry nan"),
    ("cooccur", "c.npz", _npz(**_CSR)[:-20], r"c.npz is not a scipy.sparse .npz co-occurrence matrix, or it is damaged"),
    ("pairs", "p.txt", b"a b nan\n", r"p.txt, line 1: score 'nan' is not a finite number"),
    ("pairs", "p.txt", b"a\t\t3\n", r"p.txt, line 1: empty word"),
    ("pairs", "p.txt.gz", gzip.compress(b"a b 3\n"), None),                       # read, not "not UTF-8"
    ("analogy", "q.txt", b": s\na b c d\n\xff x y z\n", r"q.txt, line 3: not UTF-8"),
]
READERS = {"vectors": io.load, "vocab": Vocab.load, "cooccur": load_cooccur, "pairs": read_pairs,
           "analogy": read_analogies}


@pytest.mark.parametrize("reader,name,data,message", DEFECTS, ids=[f"{r}-{n}-{k}" for k, (r, n, _, _) in enumerate(DEFECTS)])
def test_defects_found_by_fuzzing(tmp_path, reader, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    if message is None:
        check_read(READERS[reader], path)
        assert READERS[reader](path) is not None
    else:
        with pytest.raises(EmbedkitError, match=message):
            READERS[reader](path)


@pytest.mark.parametrize("damage,message", [
    (lambda f: (f / "training_log.json").write_text("{"), r"training_log.json: cannot read the training log"),
    (lambda f: (f / "arrays.npz").write_bytes((f / "arrays.npz").read_bytes()[:-30]), r"arrays.npz: cannot read arrays"),
    (lambda f: (f / "vocab.tsv").write_bytes(b"a\t1\n\xff\t2\n"), r"vocab.tsv, line 2: invalid UTF-8"),
    (lambda f: (f / "vocab.tsv").write_bytes(b"a\t1\nb\t\xc2\xb2\n"), r"vocab.tsv, line 2: expected 'word<TAB>count'"),
    (lambda f: (f / "vocab.tsv").write_bytes(b"a\t1\nb c\t2\n"), r"vocab.tsv, line 2: word 'b c' contains ASCII whitespace"),
    (lambda f: (f / "model.json").write_text((f / "model.json").read_text().replace('"dim": 2', '"dim": "2"')),
     r"model.json: 'dim' must be an integer"),
    (lambda f: np.savez(f / "arrays.npz", vectors=np.array([[1, np.nan], [0, 1]], np.float32)),
     r"arrays.npz, array 'vectors' row 0: value 2 is nan"),
    (lambda f: np.savez(f / "arrays.npz", vectors=np.ones((2, 2), np.complex64)), r"dtype complex64, expected real"),
])
def test_model_folder_defects_found_by_fuzzing(tmp_path, damage, message):
    folder = tmp_path / "m"
    io.save_model(folder, Embeddings(["a", "b"], np.eye(2, dtype=np.float32), np.array([2, 1])), kind="skipgram",
                  config={}, arrays={})
    damage(folder)
    with pytest.raises(EmbedkitError, match=message):
        io.load(folder)
