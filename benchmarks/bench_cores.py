"""How well this machine scales from 1 to 2 threads with nothing shared: the ceiling for any trainer.

    python benchmarks/bench_cores.py

Each thread runs a GIL-free numba loop over its own L1-resident array (no shared memory, no
synchronisation). The ratio 2-thread / 1-thread throughput is what the hardware gives; compare the
trainers' 1- vs 2-worker words/s (bench_word2vec.py --workers 1 / 2) against it.
"""
import argparse
import threading
import time

import numpy as np
from numba import njit


@njit(nogil=True, fastmath=True)
def private_work(a, reps):
    s = np.float32(0.0)
    for _ in range(reps):
        for i in range(a.shape[0]):
            a[i] = a[i] * np.float32(0.999) + np.float32(0.001)
            s += a[i]
    return s


def throughput(threads: int, reps: int) -> float:
    arrays = [np.ones(4096, np.float32) for _ in range(threads)]
    workers = [threading.Thread(target=private_work, args=(arrays[k], reps)) for k in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * reps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=60000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    private_work(np.ones(8, np.float32), 1)          # compile outside the timing
    ratios = [throughput(2, a.reps) / throughput(1, a.reps) for _ in range(a.rounds)]
    print("2 threads / 1 thread, private compute:", ", ".join(f"{r:.2f}x" for r in ratios))


if __name__ == "__main__":
    main()
