"""DeltaSync: the runner hook that keeps the ranks' weights together by combining their updates.

Every rank trains its own copy of the weights on its own shard, as a single process would (worker
threads, Hogwild inside the rank). At each chunk end (trainers/runner.py: the weights are
consistent there, every few hundred thousand words per rank) every rank does, for each trained
array w with its copy w_last taken at the previous sync:

    w -= w_last                     # w now holds this rank's delta since the last sync
    all_reduce(w, SUM)              # the sum of all ranks' deltas, in place
    rule.combine(w)                 # the update to apply (rules.py: the sum, or per-row gains)
    w += w_last; w_last[:] = w      # w = w_last + the update, the same on every rank

Summing makes each update land once, as R Hogwild workers sharing one memory would have, unlike
averaging the models, which divides every update by R (Spark MLlib's loss of accuracy as
partitions grow). rules.py says where the plain sum goes wrong and what `adaptive` does instead.
AdaGrad's accumulators (GloVe's gradsq) are always summed: each rank's squared gradients add up.

Every sync first all-reduces a small control vector (stop flag, finished flag, units done), so a
hook that sets run.stop on one rank stops all of them, and ranks whose shards end after different
numbers of chunks keep answering (with zero deltas) until the last one has finished: every rank
makes the same sequence of collectives. Where the arrays are: the numba backends' host arrays,
through torch.from_numpy views (no copies), and the torch backend's own tensors on its device; the
process group (run.py) sends CPU tensors through gloo and CUDA tensors through NCCL, and the
control vector stays on the CPU. Bytes per sync: the arrays' total size S = sum(w.nbytes)
(word2vec: (R_in + R_out) x dim x 4; GloVe: 2 x 2V x (dim+1) x 4); a ring all-reduce sends and
receives 2 (ranks-1)/ranks x S per rank.
"""
from __future__ import annotations

import time

import numpy as np

from embedkit.distributed.rules import make_rules


def live_tensors(backend) -> dict:
    """{name: torch tensor} of the arrays the backend trains in place: the torch backends' own
    tensors (on their device), or torch.from_numpy views of the numba backends' arrays (no copies)."""
    import torch
    if hasattr(backend, "tensors"):
        return backend.tensors()
    live = {}
    for name, a in backend.arrays().items():
        if not (isinstance(a, np.ndarray) and a.flags.c_contiguous and a.flags.writeable):
            raise TypeError(f"array {name} of the backend is not a writable contiguous host array")
        live[name] = torch.from_numpy(a)
    return live


class DeltaSync:
    """Runner hook (on_train_begin, on_chunk_end, on_train_end): all-reduce the summed deltas."""

    def __init__(self, group, rule: str):
        self.group = group
        self.rule = rule
        self.syncs = 0
        self.seconds = 0.0
        self.bytes = 0          # size of the synchronised arrays (bytes each rank contributes per sync)
        self.done_all = 0       # units done by all ranks, as of the last sync

    def on_train_begin(self, run) -> None:
        import torch.distributed as dist
        self.live = live_tensors(run.backend)                           # the weights, trained in place
        # every rank starts from rank 0's initial weights (the ranks' seeds differ: their random streams must)
        self.group.collective(lambda: [dist.broadcast(t, src=0) for t in self.live.values()])
        self.last = {k: t.clone() for k, t in self.live.items()}       # w_last: the weights at the last sync
        self.rules = make_rules(self.rule, self.live, self.group.world)
        self.bytes = sum(t.numel() * t.element_size() for t in self.live.values())

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
            for k, w in self.live.items():
                w -= self.last[k]
                dist.all_reduce(w, op=dist.ReduceOp.SUM)
                self.rules[k].combine(w)
                w += self.last[k]
                self.last[k].copy_(w)
        self.group.collective(exchange)
        self.syncs += 1
        self.seconds += time.perf_counter() - t0
        self.done_all = int(control[2])
        return control[0] > 0, int(control[1]) == self.group.world

    def summary(self) -> dict:
        R = self.group.world
        return {"sync_rule": self.rule, "syncs": self.syncs, "sync_seconds": self.seconds, "bytes_per_sync": self.bytes,
                "ring_bytes_sent_per_rank_per_sync": int(2 * (R - 1) / R * self.bytes), "units_all_ranks": self.done_all}
