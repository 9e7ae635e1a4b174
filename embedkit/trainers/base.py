"""What the numba backends share: sentence-aligned shards and the worker-thread runner.

Workers are Python threads, each running one GIL-free numba kernel call over its own shard, so
they run truly in parallel (Hogwild: shared weights, no locks). The main thread only polls the
shared counters the kernels write (the runner's progress bar, trainers/runner.py).
"""
from __future__ import annotations

import threading
import time

import numpy as np


def whole_targets(targets: np.ndarray) -> np.ndarray:
    """Token positions to look up in an (S+1,) int64 offsets array, rounded up to int64: searchsorted
    finds the same sentences (offsets are whole numbers), but float targets would make numpy convert
    the whole offsets array to float64, a copy that reads every page of a memory-mapped corpus's."""
    return np.ceil(targets).astype(np.int64)


def split_shards(offsets: np.ndarray, n_shards: int) -> list[tuple[int, int]]:
    """Split sentences [0, S) into n contiguous ranges holding about equal numbers of tokens."""
    n_sent = len(offsets) - 1
    targets = whole_targets(np.linspace(0, offsets[-1], n_shards + 1))
    cuts = np.searchsorted(offsets, targets[1:-1], side="left")
    bounds = [0, *np.clip(cuts, 0, n_sent).tolist(), n_sent]
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def run_threads(fn, n_workers: int, poll=None, interval: float = 0.5) -> list:
    """Call fn(worker) in n_workers threads; call poll() every `interval` s until all finish.

    Returns the workers' results in worker order; re-raises the first worker exception.
    """
    results = [None] * n_workers
    errors: list[BaseException] = []

    def target(k):
        try:
            results[k] = fn(k)
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            errors.append(e)

    threads = [threading.Thread(target=target, args=(k,), daemon=True) for k in range(n_workers)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        threads[0].join(interval) if threads[0].is_alive() else time.sleep(interval / 10)
        if poll is not None:
            poll()
    if errors:
        raise errors[0]
    if poll is not None:
        poll()
    return results
