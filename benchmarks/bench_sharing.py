"""Does the host's cost of two cores writing the same cache lines tell when one process with two
workers (1x2) is slow here? (1x2 CBOW's epochs take about 5 s or about 8.5 s; 2 ranks x 1 worker
vary far less.) On 5 December it did not (benchmarks/DISTRIBUTED.md: This machine's drift).

    python benchmarks/bench_sharing.py                      # 10 rounds, CBOW, 1 epoch each
    python benchmarks/bench_sharing.py --rounds 4 --variant sg-ns

Hogwild training (one process, several worker threads, one copy of the weights) has both cores
write the frequent words' rows, and every such write moves a cache line from one core to the
other. What that costs depends on where the host puts the two virtual CPUs (in one cache, or in
two parts of the chip that exchange lines over the interconnect), which may change from one
minute to the next. Separate processes (the ranks of a distributed run) each write their own copy.

A probe measures the host's state: two threads each make n read-modify-writes of random rows of
  (a) one (64, 100) float32 array that both write, then
  (b) a (64, 100) array of their own;
its ratio is the seconds of (a) over those of (b). Each round runs the probe, one epoch of 1x2,
the probe, one epoch of 2x1 (bench_distributed.py's settings and commands), the probe again, and
the table gives the runs' training seconds beside the probes around them. The state can change
during a run, so a probe only dates the state near a run's start and end.
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from numba import njit

from _common import markdown_table
from bench_distributed import VARIANTS, train, warm_cache

FAST_BELOW = 2.5    # a probe ratio below this: the host's fast state (between the two modes seen here)


@njit(nogil=True, cache=True)
def _write_rows(w, n, seed):
    """n times: one random row of w, every element w = 0.999 w + 0.001 (a read and a write)."""
    np.random.seed(seed)
    rows, dim = w.shape
    for _ in range(n):
        r = np.random.randint(0, rows)
        for j in range(dim):
            w[r, j] = w[r, j] * np.float32(0.999) + np.float32(0.001)
    return w[0, 0]


def _two_threads(arrays, n: int) -> float:
    threads = [threading.Thread(target=_write_rows, args=(a, n, k)) for k, a in enumerate(arrays)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def sharing_probe(n: int = 20_000_000) -> float:
    """Seconds of two threads writing one array over the seconds of each writing its own (1-3 s)."""
    shared = np.zeros((64, 100), np.float32)
    _write_rows(shared, 1, 0)                      # compiled (or loaded from the cache) before timing
    shared_s = _two_threads([shared, shared], n)
    return shared_s / _two_threads([np.zeros((64, 100), np.float32) for _ in range(2)], n)


def state(ratios) -> str:
    states = {"fast" if x < FAST_BELOW else "slow" for x in ratios}
    return states.pop() if len(states) == 1 else "changed"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default="cbow-ns", choices=tuple(VARIANTS))
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "embedkit-bench-sharing"))
    a = ap.parse_args()
    # bench_distributed.train's options: embedkit's default sync settings, the variant's epochs
    opts = argparse.Namespace(epochs=a.epochs, glove_epochs=a.epochs, dim=100, sync_every=None, sync_rule=None,
                              distributed_args="")
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    warm_cache(a.variant)
    rows, seconds = [], {"1x2": {}, "2x1": {}}
    for k in range(a.rounds):
        probes = [sharing_probe()]
        runs = {}
        for layout in ("1x2", "2x1"):
            runs[layout] = train(a.variant, layout, opts, work / layout)
            probes.append(sharing_probe())
        s1, s2 = state(probes[:2]), state(probes[1:])
        seconds["1x2"].setdefault(s1, []).append(runs["1x2"]["train_s"])
        seconds["2x1"].setdefault(s2, []).append(runs["2x1"]["train_s"])
        rows.append([k + 1, time.strftime("%H:%M:%S"), f"{probes[0]:.1f}", f"{runs['1x2']['train_s']:.2f}",
                     f"{probes[1]:.1f}", f"{runs['2x1']['train_s']:.2f} ({runs['2x1']['sync_s']:.2f})",
                     f"{probes[2]:.1f}"])
        print(rows[-1], flush=True)
    print()
    print(markdown_table(["round", "ended", "probe", "1x2 train s", "probe", "2x1 train s (syncs)", "probe"], rows))
    print()
    for layout, by_state in seconds.items():
        print(f"{layout}: " + "; ".join(f"{len(s)} runs between probes in the {name} state: median "
                                        f"{np.median(s):.2f} s" for name, s in sorted(by_state.items())))


if __name__ == "__main__":
    main()
