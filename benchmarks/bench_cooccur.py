"""Co-occurrence counting on text8: embedkit vs Stanford GloVe's `cooccur`, side by side.

    python benchmarks/bench_cooccur.py [--memory 4] [--window 10] [--repeat 3]
                                       [--glove-cooccur PATH/TO/cooccur] [--compare] [--save-npz]

Each measurement runs in its own fresh process, whose peak RSS is reported. embedkit's time is
count_cooccurrences() on the encoded corpus (the encoding is cached by prepare_corpus and not
timed; numba kernels are loaded from their cache before the clock starts); the child's whole
wall time, imports and kernel loading included, is reported too. GloVe's cooccur is given the
same vocabulary (min_count 5, same order) and the plain text on stdin, `-window-size W -memory M`,
and is timed end to end (it tokenizes and hashes as it counts). Without --glove-cooccur the
GloVe row quotes the issue's measurement on this machine kind (17.0 s, 1.45 GB).
--compare loads GloVe's output and checks it against embedkit's matrix entry by entry.

Without embedkit.corpus.encode the corpus is encoded here: whitespace split, min_count 5,
out-of-vocabulary tokens dropped, one line.
"""
from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TEXT8_GZ, markdown_table, plain_text8, run_child  # noqa: E402

SPOT_PAIRS = [("the", "of"), ("of", "the"), ("the", "the"), ("king", "queen"), ("zero", "nine")]

EMBEDKIT_CHILD = r"""
import os
import numpy as np
t_start = time.perf_counter()
from embedkit.config import CooccurConfig
from embedkit.corpus import cooccur as C
if ARGS["source"] == "prepare":
    from embedkit.config import CorpusConfig
    try:
        from embedkit.corpus.prepare import prepare_corpus
    except ImportError:               # before issue 11
        from embedkit.corpus.encode import prepare_corpus
    corpus = prepare_corpus([ARGS["corpus"]], CorpusConfig(tokenizer="whitespace", min_count=ARGS["min_count"]))
else:
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.corpus.vocab import Vocab
    d = ARGS["npy_dir"]
    vocab = Vocab(open(d + "/words.txt", encoding="utf-8").read().split("\n")[:-1], np.load(d + "/counts.npy"))
    tokens = np.load(d + "/tokens.npy", mmap_mode="r")
    corpus = EncodedCorpus(tokens, np.array([0, len(tokens)], np.int64), np.array([False]), vocab)
cfg = CooccurConfig(window=ARGS["window"], memory=ARGS["memory"])
warm = type(corpus)(np.asarray(corpus.tokens[:2000]), np.array([0, 2000], np.int64), np.array([False]), corpus.vocab)
C.count_cooccurrences(warm, cfg)                        # load the cached numba kernels
t0, c0 = time.perf_counter(), time.process_time()
X = C.count_cooccurrences(corpus, cfg)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
idx = corpus.vocab.index
spots = {f"{a},{b}": float(X[idx[a], idx[b]]) for a, b in ARGS["spots"] if a in idx and b in idx}
RESULT = {"seconds": seconds, "cpu": cpu, "nnz": int(X.nnz), "vocab": len(corpus.vocab),
          "tokens": int(corpus.n_tokens), "spots": spots, "child_wall": time.perf_counter() - t_start,
          "count_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if ARGS.get("save_npz"):
    import scipy.sparse
    for compressed in (False, True):
        t1 = time.perf_counter()
        path = ARGS["save_npz"] + (".z.npz" if compressed else ".npz")
        scipy.sparse.save_npz(path, X, compressed=compressed)
        RESULT["save_npz_compressed" if compressed else "save_npz"] = time.perf_counter() - t1
        RESULT["npz_mb" + ("_compressed" if compressed else "")] = os.path.getsize(path) / 2**20
        os.unlink(path)
    t1 = time.perf_counter()
    C.save_glove_binary(X, ARGS["save_npz"] + ".bin")
    RESULT["save_glove_binary"] = time.perf_counter() - t1
    os.unlink(ARGS["save_npz"] + ".bin")
if ARGS.get("keep"):
    C.save_glove_binary(X, ARGS["keep"])
"""

GLOVE_CHILD = r"""
import os, subprocess
t0 = time.perf_counter()
with open(ARGS["text"], "rb") as fin, open(ARGS["out"], "wb") as fout:
    r = subprocess.run([ARGS["exe"], "-verbose", "0", "-symmetric", "1", "-window-size", str(ARGS["window"]),
                        "-memory", str(ARGS["memory"]), "-vocab-file", ARGS["vocab"],
                        "-overflow-file", ARGS["overflow"]], stdin=fin, stdout=fout, stderr=subprocess.PIPE)
seconds = time.perf_counter() - t0
if r.returncode:
    raise SystemExit(r.stderr.decode()[-2000:])
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
RESULT = {"seconds": seconds, "cpu": ru.ru_utime + ru.ru_stime, "glove_rss_mb": ru.ru_maxrss / 1024,
          "nnz": os.path.getsize(ARGS["out"]) // 16}
"""

COMPARE_CHILD = r"""
import numpy as np
from embedkit.corpus.cooccur import load_glove_binary
ours = load_glove_binary(ARGS["ours"], ARGS["vocab_size"])
theirs = load_glove_binary(ARGS["theirs"], ARGS["vocab_size"])
same = bool(np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices))
rel = float((abs(ours.data - theirs.data) / abs(theirs.data)).max()) if same else None
RESULT = {"same_pattern": same, "max_rel_diff": rel, "bit_equal_fraction": float(np.mean(ours.data == theirs.data)) if same else None}
"""


def encode_here(workdir: Path, min_count: int) -> Path:
    """Fallback encoder (before embedkit.corpus.encode exists): whitespace split, count, min_count."""
    out = workdir / f"text8-min{min_count}"
    if (out / "tokens.npy").exists():
        return out
    import numpy as np
    from collections import Counter
    words = gzip.open(TEXT8_GZ, "rb").read().split()
    counts = Counter(words)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    index = {w: i for i, w in enumerate(kept)}
    ids = np.fromiter((index.get(w, -1) for w in words), dtype=np.int32, count=len(words))
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "tokens.npy", ids[ids >= 0])                      # (N,) int32, OOV removed
    np.save(out / "counts.npy", np.array([counts[w] for w in kept], dtype=np.int64))
    (out / "words.txt").write_text("".join(w.decode() + "\n" for w in kept), encoding="utf-8")
    return out


def vocab_words_counts(source: dict, min_count: int):
    if source["source"] == "prepare":
        from embedkit.config import CorpusConfig
        try:
            from embedkit.corpus.prepare import prepare_corpus
        except ImportError:           # before issue 11
            from embedkit.corpus.encode import prepare_corpus
        corpus = prepare_corpus([source["corpus"]], CorpusConfig(tokenizer="whitespace", min_count=min_count))
        return corpus.vocab.words, corpus.vocab.counts.tolist()
    import numpy as np
    d = Path(source["npy_dir"])
    return (d / "words.txt").read_text(encoding="utf-8").split("\n")[:-1], np.load(d / "counts.npy").tolist()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--memory", type=float, default=4.0, help="GB budget, both tools")
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=1, help="alternating runs of each tool; medians reported")
    ap.add_argument("--glove-cooccur", metavar="EXE", help="Stanford GloVe's cooccur binary, for a side-by-side run")
    ap.add_argument("--compare", action="store_true", help="check GloVe's output entry by entry (needs --glove-cooccur)")
    ap.add_argument("--save-npz", action="store_true", help="also time save_npz / save_glove_binary")
    ap.add_argument("--workdir", default=os.environ.get("EMBEDKIT_BENCH_DIR", Path(tempfile.gettempdir()) / "embedkit-bench"))
    a = ap.parse_args()
    workdir = Path(a.workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    try:
        import embedkit.corpus.encode  # noqa: F401
        source = {"source": "prepare", "corpus": str(TEXT8_GZ)}
        vocab_words_counts(source, a.min_count)          # encode once (cached), untimed
    except ImportError:
        source = {"source": "npy", "npy_dir": str(encode_here(workdir, a.min_count))}

    args = dict(source, window=a.window, memory=a.memory, min_count=a.min_count, spots=SPOT_PAIRS)
    runs_ek, runs_gl = [], []
    glove_args = None
    if a.glove_cooccur:
        words, counts = vocab_words_counts(source, a.min_count)
        vocab_txt = workdir / f"glove-vocab-min{a.min_count}.txt"
        vocab_txt.write_text("".join(f"{w} {c}\n" for w, c in zip(words, counts)), encoding="utf-8")
        glove_args = {"exe": a.glove_cooccur, "text": str(plain_text8(workdir)), "vocab": str(vocab_txt),
                      "window": a.window, "memory": a.memory, "out": str(workdir / "glove-cooc.bin"),
                      "overflow": str(workdir / "glove-overflow")}
    for rep in range(a.repeat):
        last = rep == a.repeat - 1
        extra = {}
        if last and a.save_npz:
            extra["save_npz"] = str(workdir / "embedkit-cooc")
        if last and a.compare and glove_args:
            extra["keep"] = str(workdir / "embedkit-cooc.bin")
        runs_ek.append(run_child(EMBEDKIT_CHILD, dict(args, **extra)))
        if glove_args:
            runs_gl.append(run_child(GLOVE_CHILD, glove_args))

    med = lambda runs, key: statistics.median(r[key] for r in runs)  # noqa: E731
    ek = runs_ek[-1]
    print(f"text8 ({TEXT8_GZ.name}): {ek['tokens']:,} tokens in vocabulary, {ek['vocab']:,} words "
          f"(min_count {a.min_count}), window {a.window}, harmonic weighting, memory {a.memory} GB, "
          f"{a.repeat} run(s) each, median\n")
    rows = [["embedkit count_cooccurrences", f"{med(runs_ek, 'seconds'):.2f}", f"{med(runs_ek, 'cpu'):.2f}",
             f"{med(runs_ek, 'count_rss_mb'):.0f}", f"{ek['nnz']:,}"]]
    if runs_gl:
        rows.append(["Stanford GloVe cooccur (C, this run)", f"{med(runs_gl, 'seconds'):.2f}",
                     f"{med(runs_gl, 'cpu'):.2f}", f"{med(runs_gl, 'glove_rss_mb'):.0f}", f"{runs_gl[-1]['nnz']:,}"])
        ratio = med(runs_gl, "seconds") / med(runs_ek, "seconds")
    else:
        rows.append(["Stanford GloVe cooccur (C, quoted)", "17.0", "-", "1450", "45,748,883"])
        ratio = 17.0 / med(runs_ek, "seconds")
    print(markdown_table(["tool", "wall s", "cpu s", "peak RSS MB", "nnz"], rows))
    print("\nall runs (wall s / cpu s): embedkit " + ", ".join(f"{r['seconds']:.2f}/{r['cpu']:.2f}" for r in runs_ek)
          + ("; GloVe " + ", ".join(f"{r['seconds']:.2f}/{r['cpu']:.2f}" for r in runs_gl) if runs_gl else ""))
    print(f"\nembedkit is {ratio:.2f}x GloVe's speed; whole embedkit child (imports, kernel load, "
          f"count): {med(runs_ek, 'child_wall'):.2f} s. Peak RSS is measured when counting ends (before any saving).")
    print("spot values X[a,b]: " + ", ".join(f"{k} = {v:.4f}" for k, v in ek["spots"].items()))
    if "save_npz" in ek:
        print(f"peak RSS including the saves: {ek['peak_rss_mb']:.0f} MB")
        print(f"save_npz: {ek['save_npz']:.2f} s ({ek['npz_mb']:.0f} MB); compressed "
              f"{ek['save_npz_compressed']:.2f} s ({ek['npz_mb_compressed']:.0f} MB); "
              f"save_glove_binary {ek['save_glove_binary']:.2f} s")
    if a.compare and glove_args:
        cmp = run_child(COMPARE_CHILD, {"ours": str(workdir / "embedkit-cooc.bin"), "theirs": glove_args["out"],
                                        "vocab_size": ek["vocab"]})
        print(f"vs GloVe's output: same non-zeros {cmp['same_pattern']}, max relative difference "
              f"{cmp['max_rel_diff']:.2e}, bit-identical values {cmp['bit_equal_fraction']:.1%}")
        os.unlink(workdir / "embedkit-cooc.bin")
    if glove_args:
        os.unlink(glove_args["out"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
