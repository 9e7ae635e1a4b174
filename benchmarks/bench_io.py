"""Load speed: embedkit.io.load against gensim's KeyedVectors.load_word2vec_format, side by side.

    python benchmarks/bench_io.py                          # synthetic 70,000 x 100 files written by gensim
    python benchmarks/bench_io.py vectors.txt vectors.bin  # your files (format detected by embedkit)
    python benchmarks/bench_io.py --size 10000 50 --repeat 1   # smoke size

Both loaders run in this one process, alternating (gensim, embedkit, gensim, ...) so that disk
cache and machine load affect them alike; each file is read once untimed first to warm the
cache. Reported: best and median wall time of --repeat runs, and the ratio gensim / embedkit
(> 1: embedkit is faster). The loaded vectors are checked to be identical.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _time(fn, repeat: int, other, results: dict) -> None:
    for _ in range(repeat):
        for name, f in (("gensim", other), ("embedkit", fn)):
            start = time.perf_counter()
            f()
            results.setdefault(name, []).append(time.perf_counter() - start)


def bench_file(path: Path, repeat: int) -> dict:
    from gensim.models import KeyedVectors

    from embedkit import io

    fmt = io.detect_format(path)
    binary = fmt == "word2vec-binary"
    if fmt not in ("word2vec-text", "word2vec-binary", "fasttext-vec"):
        raise SystemExit(f"{path}: {fmt} has no gensim counterpart here (needs a 'V D' header)")
    path.read_bytes()                                             # warm the page cache
    ours = io.load(path)
    theirs = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    same = ours.words == theirs.index_to_key and np.array_equal(ours.vectors, theirs.vectors)
    times: dict = {}
    _time(lambda: io.load(path), repeat,
          lambda: KeyedVectors.load_word2vec_format(str(path), binary=binary), times)
    return {"file": str(path), "format": fmt, "shape": ours.vectors.shape, "identical": same,
            "size_mb": path.stat().st_size / 1e6, **times}


def synthetic_files(folder: Path, n: int, dim: int) -> list[Path]:
    """gensim-written text and binary files of random vectors with text8-like word lengths."""
    from gensim.models import KeyedVectors

    rng = np.random.default_rng(0)
    words = [f"w{i}{'x' * int(k)}" for i, k in enumerate(rng.integers(0, 6, n))]
    kv = KeyedVectors(vector_size=dim)
    kv.add_vectors(words, (rng.standard_normal((n, dim)) * 0.3).astype(np.float32))
    paths = [folder / "synthetic.txt", folder / "synthetic.bin"]
    kv.save_word2vec_format(str(paths[0]), binary=False)
    kv.save_word2vec_format(str(paths[1]), binary=True)
    return paths


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="*", type=Path, help="vectors files with a 'V D' header (default: synthetic)")
    p.add_argument("--size", nargs=2, type=int, default=(70_000, 100), metavar=("V", "D"),
                   help="synthetic vocabulary size and dimension (default: 70000 100)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per loader and file (default: 3)")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        files = args.files or synthetic_files(Path(tmp), *args.size)
        rows = [bench_file(Path(f), args.repeat) for f in files]
    print(f"load time, best (median) of {args.repeat}; ratio = gensim / embedkit on the best times")
    print(f"{'file':<40} {'format':<16} {'V x D':>12} {'MB':>7} {'gensim s':>16} {'embedkit s':>16} "
          f"{'ratio':>6}  identical")
    for r in rows:
        g, e = r["gensim"], r["embedkit"]
        shape = f"{r['shape'][0]}x{r['shape'][1]}"
        print(f"{Path(r['file']).name:<40} {r['format']:<16} {shape:>12} {r['size_mb']:>7.1f} "
              f"{min(g):>7.3f} ({statistics.median(g):>6.3f}) {min(e):>7.3f} ({statistics.median(e):>6.3f}) "
              f"{min(g) / min(e):>6.2f}  {r['identical']}")
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
