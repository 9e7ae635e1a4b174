"""DeltaSync: the runner hook that keeps the ranks' weights together by combining their updates.

Every rank trains its own copy of the weights on its own shard, as a single process would (worker
threads, Hogwild inside the rank). At chunk ends (trainers/runner.py: the weights are consistent
there) every rank does, for each trained array w with its copy w_last taken at the previous sync:

    w -= w_last                     # w now holds this rank's delta since the last sync
    all_reduce(w, SUM)              # the sum of all ranks' deltas, in place
    rule.combine(w)                 # the update to apply (rules.py)
    w += w_last; w_last[:] = w      # w = w_last + the update, the same on every rank

Three speeds. A full sync does this for every row, at every full_every-th sync (every
--sync-every words per rank). At the chunk ends in between (every --hot-sync-every words) a hot
sync does it for the hot rows only: the hot_rows rows of each array whose summed delta was largest
at the last full sync (the first sync is a full one, with every row hot). With warm_rows, only
every all_every-th of the full syncs (the first, then every all_every-th, and the last) takes
every row; the others are warm syncs: a hot sync, and the warm rows, the warm_rows rows that
moved most after the hot ones at the last full sync, combined by the sync rule. The other rows
then wait all_every intervals: they are the words a rank meets least (a rare word is mostly
trained on one rank's shard, so the others seldom read its stale row), and with them each full
sync is mostly bytes that hardly changed. Why hot rows: a frequent word's
row moves far within an interval and every rank's next updates read it (as a context, a negative
sample, a co-occurrence partner), so its staleness costs the most; it is also the row that
reaches its optimum within an interval, where the sum of R ranks' moves overshoots R-fold. So the
hot rows are synced often and combined by block momentum (HOT_RULE, rules.py), which lands such a
row on its optimum; the other rows move little between full syncs and combine by the sync rule
(the sum by default: each update lands once, as R Hogwild workers sharing one memory would have,
unlike averaging the models, which divides every update by R: Spark MLlib's loss of accuracy as
partitions grow). AdaGrad's accumulators (GloVe's gradsq) are always summed: each rank's squared
gradients add up.

Every sync first all-reduces a small control vector (stop flag, finished flag, units done, and
the checkpoint votes: checkpoints.py), so a hook that sets run.stop on one rank stops all of them,
and ranks whose shards end after different numbers of chunks keep answering (with zero deltas)
until the last one has finished: every rank makes the same sequence of collectives. A sync at
which a checkpoint is due takes all rows, and the ranks write it after. Where the arrays are: the
numba backends' host arrays, through torch.from_numpy views (no copies), and the torch backend's
own tensors on its device; the process group (run.py) sends CPU tensors through gloo and CUDA
tensors through NCCL, and the control vector stays on the CPU. Bytes: a full sync sends the
arrays' total size S = sum(w.nbytes) (word2vec: (R_in + R_out) x dim x 4; GloVe: 2 x 2V x
(dim+1) x 4), a hot sync S_hot = the hot rows' share of it (word2vec NS: 2 x H x dim x 4); a ring
all-reduce sends and receives 2 (ranks-1)/ranks x the bytes per rank. A hot sync gathers the hot
rows of all arrays into one buffer (per dtype and device) and all-reduces it once. The time a
sync spends in the control all-reduce is logged apart (sync_wait_seconds): it is mostly waiting
for the slowest rank. A warm sync sends S_warm = warm_rows x the row size of each array and
replaces a full sync's S.
"""
from __future__ import annotations

import time

import numpy as np

from embedkit.distributed.rules import HOT_RULE, make_rules


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


def checkpoint_now(checkpoints, control) -> bool:
    """Whether this sync writes a checkpoint (its sync then takes all rows: checkpoints.py): when the
    ranks' votes or the words say so and no rank has finished. A rank that has finished syncs from
    on_train_end; its file would hold a finished run's state, and resumed, it trained its last
    epoch again (GloVe, 2 epochs, ranks with 2 and 1 chunks an epoch: 9,545,617 units for
    7,636,494). The run then ends within a chunk: it needs no checkpoint."""
    return bool(checkpoints) and int(control[1]) == 0 and checkpoints.agreed(control[3], int(control[2]))


class DeltaSync:
    """Runner hook (on_train_begin, on_chunk_end, on_train_end): all-reduce the summed deltas, the
    hot rows at most chunk ends, all rows (or the hot and warm ones) at every full_every-th sync
    (module doc)."""

    def __init__(self, group, rule: str, hot_rows: int = 0, full_every: int = 1, warm_rows: int = 0,
                 all_every: int = 1, checkpoints=None, resume=None):
        self.group = group
        self.checkpoints = checkpoints      # RankCheckpoints (checkpoints.py) or None
        self.resume = resume                # a rank's Checkpoint to take the sync state from, or None
        self.rule = rule
        self.hot_rows = hot_rows
        self.full_every = full_every if hot_rows else 1
        self.warm_rows = warm_rows if hot_rows else 0
        self.all_every = all_every
        self.since_full = 0     # hot syncs since the last full or warm one (the same on every rank)
        self.fulls = 0          # full and warm syncs so far
        self.syncs = self.hot_syncs = self.warm_syncs = 0
        self.seconds = 0.0
        self.wait_seconds = 0.0     # of which: the control all-reduce, mostly waiting for the slowest rank
        self.bytes = 0          # size of the synchronised arrays (bytes each rank contributes per full sync)
        self.hot_bytes = 0      # the same for a hot sync
        self.warm_bytes = 0     # the warm rows' share of a warm sync (its hot rows come on top)
        self.done_all = 0       # units done by all ranks, as of the last sync

    def on_train_begin(self, run) -> None:
        import torch.distributed as dist
        self.live = live_tensors(run.backend)                           # the weights, trained in place
        # every rank starts from rank 0's initial weights (the ranks' seeds differ: their random streams must)
        self.group.collective(lambda: [dist.broadcast(t, src=0) for t in self.live.values()])
        self.last = {k: t.clone() for k, t in self.live.items()}       # w_last: the weights at the last sync
        R = self.group.world
        self.rules = make_rules(self.rule, self.live, R)
        self.hot_rules = make_rules(HOT_RULE, self.live, R) if self.hot_rows else {}
        self.hot = {}           # array name -> sorted row indices of its hot rows (chosen at each full sync)
        self.warm = {}          # the same for its warm rows (none of them hot)
        self.packs = []         # the hot syncs' buffers (_pack)
        self.packed = {}        # array name -> (its hot rows' deltas, their w_last): views into self.packs
        self.hot_parts = {}     # array name -> its hot rule for the hot rows alone (rules.py: take)
        self.bytes = sum(t.numel() * t.element_size() for t in self.live.values())
        self.hot_bytes = sum(min(self.hot_rows, len(t)) * t[:1].numel() * t.element_size() for t in self.live.values())
        self.warm_bytes = sum(max(0, min(self.warm_rows, len(t) - self.hot_rows)) * t[:1].numel() * t.element_size()
                              for t in self.live.values())
        if self.resume is not None:
            from embedkit.distributed.checkpoints import load_sync_state
            load_sync_state(self, self.resume)

    def on_chunk_end(self, run) -> None:
        stop, _ = self._sync(run, finished=False)
        if stop:
            run.stop = True

    def on_train_end(self, run) -> None:
        while True:
            _, all_finished = self._sync(run, finished=True)
            if all_finished:                       # that last sync was a full one
                for k, w in self.live.items():
                    self.rules[k].finish(w)
                    if k in self.hot_rules:
                        self.hot_rules[k].finish(w)
                return

    def _sync(self, run, finished: bool) -> tuple[bool, bool]:
        """One sync, full or hot. Every rank must make the same one, and a rank's own chunk count
        may differ from another's (shards end at different chunks), so the choice is made from
        what all ranks share: the syncs so far and the all-reduced control vector. Full: the
        first sync (no hot rows yet), every full_every-th, and the one where all ranks have
        finished; with warm rows, those full syncs but every all_every-th are warm ones."""
        import torch
        import torch.distributed as dist
        t0 = time.perf_counter()
        votes = self.checkpoints.votes() if self.checkpoints and not finished else (0.0, 0.0)
        control = np.array([float(run.stop), float(finished), float(run.done), *votes])   # (5,) float64
        ctl = torch.from_numpy(control)
        kind = []
        checkpoint = []

        def exchange():
            dist.all_reduce(ctl, op=dist.ReduceOp.SUM)
            self.wait_seconds += time.perf_counter() - t0
            all_finished = int(control[1]) == self.group.world
            checkpoint.append(checkpoint_now(self.checkpoints, control))
            full = not self.hot or self.since_full + 1 >= self.full_every or all_finished or checkpoint[0]
            if full:
                self.fulls += 1
                warm = bool(self.warm) and not all_finished and (self.fulls - 1) % self.all_every != 0 \
                    and not checkpoint[0]
                kind.append("warm" if warm else "full")
                self._warm_sync() if warm else self._full_sync(last=all_finished)
            else:
                kind.append("hot")
                self._hot_sync()
        self.group.collective(exchange)
        self.syncs += kind[0] == "full"
        self.warm_syncs += kind[0] == "warm"
        self.hot_syncs += kind[0] == "hot"
        self.since_full = self.since_full + 1 if kind[0] == "hot" else 0
        self.seconds += time.perf_counter() - t0
        self.done_all = int(control[2])
        if checkpoint[0]:
            self.checkpoints.write(run, self, self.done_all, control[4] > 0)
        return control[0] > 0, int(control[1]) == self.group.world

    def _full_sync(self, last: bool = False) -> None:
        """Every row of every array. Each array's all-reduce is started as soon as its delta is
        ready, and runs (in gloo's threads, or on NCCL's stream) while this thread makes the next
        array's delta and combines the previous array's sum. The last sync of a run takes no hot
        rows apart: no hot sync follows it."""
        import torch.distributed as dist
        sums = []
        for k, w in self.live.items():
            if k in self.hot_parts:                # the hot syncs' state back into the arrays (_take_hot)
                self.hot_rules[k].put(self.hot_parts[k], self.hot[k])
                self.last[k].index_copy_(0, self.hot[k], self.packed[k][1])
            w -= self.last[k]                      # this rank's delta since the last sync
            sums.append((k, dist.all_reduce(w, op=dist.ReduceOp.SUM, async_op=True)))
        for k, work in sums:
            work.wait()
            self._full(k)
        if self.hot_rows and not last:
            self._take_hot()

    def _full(self, k: str) -> None:
        """All rows of array k, which holds the ranks' summed deltas: the hot ones combined by
        HOT_RULE, the others by the sync rule."""
        w, last = self.live[k], self.last[k]
        hot = self.hot.get(k)
        if not self.hot_rows:
            self.rules[k].combine(w)
        else:
            self.hot[k], warm = self._hottest(w)   # for the syncs to come, from the summed deltas
            if warm is not None:
                self.warm[k] = warm
            if hot is None:                        # the first sync: every row is hot
                self.hot_rules[k].combine(w)
            else:
                if self.rules[k].changes:          # (the sum, the cold rows' default, leaves D as it is)
                    combine_rows(w, complement(hot, len(w)), self.rules[k])
                combine_rows(w, hot, self.hot_rules[k])
        w += last
        last.copy_(w)

    def _take_hot(self) -> None:
        """After a full sync: the new hot rows' w_last into the packs and their rule state apart
        (hot_rules[k].take), both kept there until the next full sync, so that a hot sync gathers
        only the weights' rows (0.6 ms per array of 4,096 x 100 here, 2.4 ms when it gathered and
        scattered w_last's rows and the rule's state too)."""
        import torch
        import torch.distributed as dist
        on = {}
        chosen = [self.hot, self.warm] if self.warm else [self.hot]
        for k, rows in self.hot.items():
            on.setdefault(rows.device, []).append(k)
        for names in on.values():                  # rank 0's hot and warm rows: one broadcast per device
            parts = [c[k] for c in chosen for k in names]
            rows = torch.cat(parts)
            dist.broadcast(rows, src=0)
            got = iter(rows.split([len(p) for p in parts]))
            for c in chosen:
                c.update((k, next(got)) for k in names)
        if not self.packs:                         # the first full sync: the number of hot rows is now known
            self.packs = self._pack()
            self.packed = {k: v for _, _, parts in self.packs for k, v in parts.items()}
        for k, rows in self.hot.items():
            torch.index_select(self.last[k], 0, rows, out=self.packed[k][1])
            self.hot_parts[k] = self.hot_rules[k].take(rows)

    def _hot_sync(self) -> None:
        """The hot rows of every array, combined by HOT_RULE. They are gathered into one buffer per
        dtype and device, so that one all-reduce carries all arrays of a pack: a collective has a
        fixed cost (1 ms for the control vector on loopback here, against 3 ms for the 2-rank
        default's 4,096 hot rows of two arrays: benchmarks/bench_allreduce.py). w_last's hot rows
        (L) stay in the pack: it is their only current copy until the next full sync."""
        import torch
        import torch.distributed as dist
        for buf, last_buf, parts in self.packs:
            for k, (D, _) in parts.items():
                torch.index_select(self.live[k], 0, self.hot[k], out=D)
            buf -= last_buf                        # D = w[hot] - w_last[hot]
            dist.all_reduce(buf, op=dist.ReduceOp.SUM)
            for k, (D, L) in parts.items():
                self.hot_parts[k].combine(D)
                L += D
                self.live[k].index_copy_(0, self.hot[k], L)

    def _warm_sync(self) -> None:
        """A hot sync, and the warm rows of every array combined by the sync rule. The warm rows'
        all-reduces (one per array, on gathered copies) run while the hot sync is made: the two
        sets share no row."""
        import torch.distributed as dist
        works = []
        for k, w in self.live.items():
            rows = self.warm[k]
            if not len(rows):                      # every row of this array is hot
                continue
            L = self.last[k].index_select(0, rows)
            D = w.index_select(0, rows).sub_(L)    # this rank's delta of the warm rows
            works.append((k, rows, D, L, dist.all_reduce(D, op=dist.ReduceOp.SUM, async_op=True)))
        self._hot_sync()
        for k, rows, D, L, work in works:
            work.wait()
            if self.rules[k].changes:
                part = self.rules[k].take(rows)
                part.combine(D)
                self.rules[k].put(part, rows)
            L += D
            self.live[k].index_copy_(0, rows, L)
            self.last[k].index_copy_(0, rows, L)

    def _pack(self) -> list:
        """[(buffer, buffer, {array name: (its view of the first, of the second)})]: the arrays grouped
        by dtype and device, with two flat buffers for their hot rows (the deltas, and w_last's
        rows). Made at the first full sync: the number of hot rows of an array does not change."""
        import torch
        groups = {}
        for k, t in self.live.items():
            groups.setdefault((t.dtype, t.device), []).append(k)
        packs = []
        for (dtype, device), names in groups.items():
            shapes = {k: (len(self.hot[k]), *self.live[k].shape[1:]) for k in names}
            ends = np.cumsum([0] + [int(np.prod(shapes[k])) for k in names])
            buf, last_buf = (torch.empty(int(ends[-1]), dtype=dtype, device=device) for _ in range(2))
            parts = {k: tuple(b[ends[i]:ends[i + 1]].view(shapes[k]) for b in (buf, last_buf))
                     for i, k in enumerate(names)}
            packs.append((buf, last_buf, parts))
        return packs

    def _hottest(self, D):
        """(the sorted indices of the hot_rows rows of D (the ranks' summed deltas of an array) that
        moved most, those of the warm_rows rows that moved most after them or None). Every rank
        holds the same D, so it would choose the same rows; rank 0's choice is broadcast all the
        same (_take_hot), since a rank that chose other rows would mix rows in the next syncs."""
        import torch
        scores = torch.linalg.vector_norm(D.view(len(D), -1), dim=1)     # (square().sum(1) takes 10x as long)
        if not self.warm_rows:
            return scores.topk(min(self.hot_rows, len(D)), sorted=False).indices.sort().values, None
        top = scores.topk(min(self.hot_rows + self.warm_rows, len(D))).indices     # largest first
        return top[:self.hot_rows].sort().values, top[self.hot_rows:].sort().values

    def summary(self) -> dict:
        R = self.group.world
        return {"sync_rule": self.rule, "syncs": self.syncs, "hot_syncs": self.hot_syncs, "hot_rows": self.hot_rows,
                "full_every": self.full_every, "warm_syncs": self.warm_syncs, "warm_rows": self.warm_rows,
                "all_rows_every": self.all_every,
                "bytes_per_warm_sync": self.warm_bytes,
                "sync_seconds": self.seconds, "sync_wait_seconds": self.wait_seconds,
                "bytes_per_sync": self.bytes, "bytes_per_hot_sync": self.hot_bytes,
                "ring_bytes_sent_per_rank_per_sync": int(2 * (R - 1) / R * self.bytes),
                "units_all_ranks": self.done_all}


def combine_rows(D, rows, rule) -> None:
    """rule.combine on rows `rows` of D (the summed deltas of an array), in place."""
    if rule.changes and len(rows):
        part = D.index_select(0, rows)
        rows_rule = rule.take(rows)
        rows_rule.combine(part)
        rule.put(rows_rule, rows)
        D.index_copy_(0, rows, part)


def complement(rows, n: int):
    """The sorted indices in [0, n) that are not in rows."""
    import torch
    keep = torch.ones(n, dtype=torch.bool, device=rows.device)
    keep[rows] = False
    return keep.nonzero().view(-1)
