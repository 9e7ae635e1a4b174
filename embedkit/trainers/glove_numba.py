"""The numba backend of GloVe: each epoch draws a fresh permutation of the non-zeros
(kernels/glove.random_permutation), and worker threads run the GIL-free AdaGrad kernel
(kernels/glove.glove_pass) over their slices of it (Hogwild when workers > 1; workers = 1 is
bit-reproducible). A worker's slice runs in chunks of about CHUNK_PAIRS entries; between chunks
the runner may run its hooks. The cuts depend only on nnz and the number of workers.
"""
from __future__ import annotations

import time

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.kernels import glove as kg
from embedkit.kernels.random import seed_states
from embedkit.trainers.base import run_threads
from embedkit.trainers.tasks import GloVeTask

GRAD_CLIP = 100.0          # glove.c's grad_clip_value: each gradient component is clipped to +-100
SHUFFLE_BUCKET = 1 << 17   # entries per bucket of the permutation kernel (512 KB of int32: fits L2)
CHUNK_PAIRS = 1 << 23      # about 1-3 s of one worker's time


def glove_hints(eta: float) -> dict:
    return {"diverged": f"try a lower --eta than {eta:g} (e.g. {eta / 10:g})",
            "empty": "the co-occurrence matrix has no entries"}


def entry_chunks(nnz: int, workers: int, chunk_pairs: int) -> list[list[tuple[int, int]]]:
    """Each worker's chunks, [(a, b), ...] in the epoch's order of entries: worker k takes entries
    [nnz k / workers, nnz (k+1) / workers), in chunks of chunk_pairs (the last one shorter)."""
    bounds = [nnz * k // workers for k in range(workers + 1)]
    return [[(a, min(a + chunk_pairs, b1)) for a in range(b0, b1, chunk_pairs)] for b0, b1 in zip(bounds[:-1], bounds[1:])]


class NumbaGloVe:
    unit, metric = "pair", "cost"
    chunk_per_thread = True     # the runner's chunk is each worker thread's (a distributed run sizes it so)

    def __init__(self, task: GloVeTask, chunk_pairs: int | None = None):
        chunk_pairs = chunk_pairs or CHUNK_PAIRS     # read when called: tests make chunks small
        self.task = task
        self.hints = glove_hints(task.eta)
        nnz = task.nnz
        self.units_per_epoch = nnz
        self.order = np.empty(nnz, dtype=np.int32 if nnz < 2**31 else np.int64)   # this epoch's permutation
        self.shuffle_state = seed_states(task.seed, 1)
        self.epoch_shuffle = self.shuffle_state.copy()    # the state this epoch's permutation was drawn from
        self.n_buckets = -(-nnz // SHUFFLE_BUCKET)
        self.n_workers = max(1, min(task.workers, nnz))
        self.chunks = entry_chunks(nnz, self.n_workers, chunk_pairs)
        self.progress = np.zeros(self.n_workers, dtype=np.int64)   # entries done by each worker in its chunk
        self.status = np.zeros(1, dtype=np.int64)                  # 1 + entry id of a non-finite diff, else 0
        self.before = 0                                            # entries done before the running chunk
        self.finished = np.zeros(2)                                # (cost_sum, entries) of this epoch's chunks
        self.next_chunk = 0                                        # chunk of the running epoch to run next

    def run_epoch(self, epoch: int, tick):
        t0 = time.perf_counter()
        # a resumed epoch draws its permutation again from the state it was drawn from
        self.epoch_shuffle[:] = self.shuffle_state
        kg.random_permutation(self.order, self.shuffle_state, self.n_buckets)
        t_shuffle = time.perf_counter() - t0
        if self.next_chunk == 0:
            self.finished[:] = 0.0
        for r in range(self.next_chunk, max(len(c) for c in self.chunks)):
            self.progress[:] = 0
            results = run_threads(lambda k: self._run_chunk(k, r), self.n_workers, tick)
            if self.status[0]:
                e = int(self.status[0]) - 1
                t = self.task
                raise EmbedkitError(f"training diverged in epoch {epoch + 1} (non-finite error at "
                                    f"X[{t.rows[e]}, {t.cols[e]}] = {t.x[e]:g}); {self.hints['diverged']}")
            self.finished += np.sum(results, axis=0)
            self.before += int(self.progress.sum())
            self.progress[:] = 0
            self.next_chunk = r + 1
            yield
        self.next_chunk = 0
        if not np.isfinite(self.task.w).all():
            raise EmbedkitError(f"training diverged in epoch {epoch + 1} (non-finite weights); "
                                f"{self.hints['diverged']}")
        return {"cost_sum": float(self.finished[0]), "shuffle_seconds": t_shuffle}

    def _run_chunk(self, k: int, r: int):
        if r >= len(self.chunks[k]):
            return 0.0, 0
        a, b = self.chunks[k][r]
        t = self.task
        return kg.glove_pass(t.rows, t.cols, t.x, self.order, a, b, t.w, t.gradsq, t.x_max, t.alpha, t.eta,
                             GRAD_CLIP, self.progress, self.status, k)

    def done(self) -> int:
        return self.before + int(self.progress.sum())

    def running(self) -> tuple[float, int]:
        return float(self.finished[0]), int(self.finished[1])

    def lr(self):
        return None

    def arrays(self) -> dict:
        return {"w": self.task.w, "gradsq": self.task.gradsq}

    def state(self) -> dict:
        """Everything a checkpoint needs at a chunk end (runner protocol): weights, AdaGrad
        accumulators, the shuffle state the running epoch's permutation came from, counters."""
        return {"w": self.task.w, "gradsq": self.task.gradsq, "epoch_shuffle": self.epoch_shuffle,
                "before": np.int64(self.before), "finished": self.finished, "next_chunk": np.int64(self.next_chunk)}

    def load_state(self, arrays: dict) -> None:
        self.task.w[...] = arrays["w"]
        self.task.gradsq[...] = arrays["gradsq"]
        self.shuffle_state[:] = arrays["epoch_shuffle"]
        self.before = int(arrays["before"])
        self.finished[:] = arrays["finished"]
        self.next_chunk = int(arrays["next_chunk"])
