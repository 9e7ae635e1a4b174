"""DeltaSync: the runner hook that keeps the ranks' weights together by summing their updates.

Every rank trains its own copy of the weights on its own shard, as a single process would (worker
threads, Hogwild inside the rank). At each chunk end (trainers/runner.py: the weights are
consistent there, every few hundred thousand words per rank) every rank does, for each trained
array w with its copy w_last taken at the previous sync:

    w -= w_last                     # w now holds this rank's delta since the last sync
    all_reduce(w, SUM)              # the sum of all ranks' deltas (in place, on torch.from_numpy views)
    w += w_last; w_last[:] = w      # w = w_last + sum of the deltas, the same on every rank

This is what R Hogwild workers sharing one memory would have done over the same stretch (each
update lands once, none is averaged away), unlike averaging the models, which divides every
update by R (Spark MLlib's loss of accuracy as partitions grow). AdaGrad's accumulators (GloVe's
gradsq) are summed the same way: each rank's sum of squared gradients since the last sync adds up.

Every sync first all-reduces a small control vector (stop flag, finished flag, units done), so a
hook that sets run.stop on one rank stops all of them, and ranks whose shards end after different
numbers of chunks keep answering (with zero deltas) until the last one has finished: every rank
makes the same sequence of collectives. Bytes per sync: the arrays' total size S = sum(w.nbytes)
(word2vec: (R_in + R_out) x dim x 4; GloVe: 2 x 2V x (dim+1) x 4); a ring all-reduce sends and
receives 2 (ranks-1)/ranks x S per rank.
"""
from __future__ import annotations

import time

import numpy as np


class DeltaSync:
    """Runner hook (on_train_begin, on_chunk_end, on_train_end): all-reduce the summed deltas."""

    def __init__(self, group):
        self.group = group
        self.syncs = 0
        self.seconds = 0.0
        self.bytes = 0          # size of the synchronised arrays (bytes each rank contributes per sync)
        self.done_all = 0       # units done by all ranks, as of the last sync

    def on_train_begin(self, run) -> None:
        import torch
        import torch.distributed as dist
        self.live = {k: a for k, a in run.backend.arrays().items()}       # the backend's own arrays, trained in place
        for name, a in self.live.items():
            if not (isinstance(a, np.ndarray) and a.flags.c_contiguous and a.flags.writeable):
                raise TypeError(f"array {name} of the backend is not a writable contiguous host array")
        self.views = {k: torch.from_numpy(a) for k, a in self.live.items()}   # no copies: views of the arrays
        # every rank starts from rank 0's initial weights (the ranks' seeds differ: their random streams must)
        self.group.collective(lambda: [dist.broadcast(v, src=0) for v in self.views.values()])
        self.last = {k: a.copy() for k, a in self.live.items()}         # w_last: the weights at the last sync
        self.bytes = sum(a.nbytes for a in self.live.values())

    def on_chunk_end(self, run) -> None:
        stop, _ = self._sync(run, finished=False)
        if stop:
            run.stop = True

    def on_train_end(self, run) -> None:
        while True:
            _, all_finished = self._sync(run, finished=True)
            if all_finished:
                return

    def _sync(self, run, finished: bool) -> tuple[bool, bool]:
        import torch
        import torch.distributed as dist
        t0 = time.perf_counter()
        control = np.array([float(run.stop), float(finished), float(run.done)])   # (3,) float64
        ctl = torch.from_numpy(control)

        def exchange():
            dist.all_reduce(ctl, op=dist.ReduceOp.SUM)
            for k, a in self.live.items():
                a -= self.last[k]
                dist.all_reduce(self.views[k], op=dist.ReduceOp.SUM)
                a += self.last[k]
                np.copyto(self.last[k], a)
        self.group.collective(exchange)
        self.syncs += 1
        self.seconds += time.perf_counter() - t0
        self.done_all = int(control[2])
        return control[0] > 0, int(control[1]) == self.group.world

    def summary(self) -> dict:
        R = self.group.world
        return {"syncs": self.syncs, "sync_seconds": self.seconds, "bytes_per_sync": self.bytes,
                "ring_bytes_sent_per_rank_per_sync": int(2 * (R - 1) / R * self.bytes), "units_all_ranks": self.done_all}
