"""Checkpoints of a distributed run: every rank writes its part at the same sync, and a resumed run
starts every rank from the same one.

    torchrun --nproc-per-node 2 -m embedkit train --model skipgram ... -o out --distributed --checkpoint-every 10M
    torchrun --nproc-per-node 2 -m embedkit train --resume out --distributed      # after a crash or a kill

When. At every sync (DeltaSync, sync.py) each rank votes in the control vector: its clock says a
checkpoint is due (--checkpoint-every 600s) or it got Ctrl-C. With --checkpoint-every N words the
count is the words of all ranks since the last checkpoint (the control vector's sum of the ranks'
progress), which every rank knows alike, so no vote is needed. When any rank votes or the words
are due, that sync takes all rows (never a hot or warm one), so that every rank's weights are the
same and equal to the copy w_last the next delta starts from; then every rank writes its file.

What. Rank r writes OUTPUT/checkpoint/rank<r>.<g>.npz (g: 1, 2, ... the checkpoint's
generation; trainers/checkpoint.py writes it atomically): its backend's state (random streams,
progress, next chunk) without the trained arrays, which are the same on every rank. Rank 0's file
holds those arrays too, and the sync state: each array's hot and warm rows and its rules' per-row
state (rules.py), the same on every rank as well. Every file holds the recipe and the sync counters.
On resume each rank loads its own file, and DeltaSync broadcasts rank 0's arrays and sync state.
With one worker per rank a resumed run is bit-identical to one never stopped (tests).

Generations. A rank retires its file of generation g-1 only once every rank has written g (one
all-reduce after the writes): it becomes the rank's spare, which g+1 is written over in place
(trainers/checkpoint.py). So at any moment each rank holds g-1, g or both; a resumed run takes
the newest generation all ranks hold (an all-reduce of each rank's newest, MIN). The same number of
ranks must resume it: rank r's stream and shard are its own.

Ctrl-C. torchrun starts its ranks in sessions of their own, so the terminal's SIGINT reaches
torchrun alone; it sends SIGINT on to every rank and kills them 30 s later. Each rank's
Checkpointer takes the signal as a vote, so the ranks write a checkpoint at their next sync and
stop with exit status 130.

Several machines. Each rank finds its file in its own machine's OUTPUT/checkpoint/. With a folder
that is not shared, a machine must get the same ranks again: a fixed --node-rank (static
rendezvous), not c10d's, which may hand the machines their ranks in another order.
"""
from __future__ import annotations

import os

from embedkit.errors import EmbedkitError
from embedkit.trainers.checkpoint import Interrupted, RankPart, load_checkpoint, rank_files, spare_path

SYNC_PREFIX = "sync."      # rank 0's file: the sync state's arrays, by these names (sync_state)
COUNTERS = ("fulls", "syncs", "hot_syncs", "warm_syncs", "seconds", "wait_seconds")


class RankCheckpoints:
    """The Checkpointer (trainers/checkpoint.py) of one rank, driven by its DeltaSync."""

    def __init__(self, group, checkpointer, resume=None):
        self.group, self.checkpointer = group, checkpointer
        checkpointer.coordinated = True
        saved = resume.distributed if resume is not None else None
        self.generation = saved["generation"] if saved else 0
        self.last_all = saved["units_all_ranks"] if saved else 0      # all ranks' units at the last checkpoint

    def votes(self) -> tuple[float, float]:
        """(this rank's vote for a checkpoint now, whether it got Ctrl-C), for the control vector."""
        c = self.checkpointer
        return float(c.interrupted or c.due_by_clock()), float(c.interrupted)

    def agreed(self, votes: float, units_all: int) -> bool:
        """Whether this sync is a checkpoint's: the same answer on every rank (module doc)."""
        c = self.checkpointer
        return votes > 0 or (c.kind == "words" and units_all - self.last_all >= c.amount)

    def write(self, run, sync, units_all: int, interrupted: bool) -> None:
        """Every rank's file of the next generation, after an all-rows sync; then the older ones go."""
        import torch
        import torch.distributed as dist
        g, rank = self.generation + 1, self.group.rank
        meta = {"rank": rank, "ranks": self.group.world, "generation": g, "units_all_ranks": units_all,
                "sync": {k: getattr(sync, k) for k in COUNTERS}}
        arrays = {SYNC_PREFIX + k: v for k, v in sync_state(sync).items()} if rank == 0 else {}
        leave_out = frozenset() if rank == 0 else frozenset(sync.live)
        path = self.checkpointer.write(run, RankPart(rank, g, leave_out, arrays, meta))
        written = torch.zeros(1)
        self.group.collective(lambda: dist.all_reduce(written))       # returns once every rank has written g
        for (_, old), old_path in rank_files(path.parent.parent, rank).items():
            if old != g:                      # the spare the next generation is written over
                os.replace(old_path, spare_path(old_path))
        for stale in path.parent.glob(f".rank{rank}.*.tmp"):
            stale.unlink(missing_ok=True)     # a write a kill cut short (up to the weights' size on rank 0)
        self.generation, self.last_all = g, units_all
        if interrupted:
            raise Interrupted(path)


def agree(group, ckpt, output):
    """The checkpoint of the newest generation every rank holds (module doc), this rank's file of it."""
    import torch
    import torch.distributed as dist
    saved = ckpt.distributed
    if saved["ranks"] != group.world:
        raise EmbedkitError(f"{ckpt.path}: the checkpoint is of a run of {saved['ranks']} ranks, this one has "
                            f"{group.world}: resume it with as many")
    newest = torch.tensor([saved["generation"]], dtype=torch.int64)
    group.collective(lambda: dist.all_reduce(newest, op=dist.ReduceOp.MIN))
    g = int(newest[0])
    ckpt = ckpt if g == saved["generation"] else load_checkpoint(output, group.rank, g)
    spread = group.same(ckpt.distributed["units_all_ranks"])
    if spread is not None:
        raise EmbedkitError(f"{ckpt.path.parent}: the ranks' checkpoint files of generation {g} were written at "
                            f"different points of the run (all ranks' units {spread[0]:,} to {spread[1]:,}): "
                            "they are not one checkpoint; start the run again")
    # a generation above g is of a run that died while writing it: no other rank holds its match.
    # Left there, the next run's file of that number would be paired with it (a resume that dies
    # while writing g+1 on one rank after the other): the ranks' sync counters then differed and
    # the resumed run aborted inside gloo ('collective mismatch'). They go only once every rank has
    # loaded g and found it one checkpoint: a resume that fails here (a node's -o pointing at another
    # run's folder) leaves every file as it was
    for (_, newer), path in rank_files(output, group.rank).items():
        if newer > g:
            path.unlink(missing_ok=True)
    return ckpt


def sync_state(sync) -> dict:
    """{name: host array} of DeltaSync's state after an all-rows sync: each array's hot and warm rows
    and its rules' per-row state (the hot rule's with the hot rows' part put back)."""
    out = {}
    for k in sync.live:
        if k in sync.hot_parts:
            sync.hot_rules[k].put(sync.hot_parts[k], sync.hot[k])
        for kind, rules in (("rule", sync.rules), ("hot_rule", sync.hot_rules)):
            for name in getattr(rules.get(k), "STATE", ()):
                out[f"{kind}.{k}.{name}"] = getattr(rules[k], name).cpu().numpy()
        for kind, rows in (("hot", sync.hot), ("warm", sync.warm)):
            if k in rows:
                out[f"{kind}.{k}"] = rows[k].cpu().numpy()
    return out


def load_sync_state(sync, ckpt) -> None:
    """Put a checkpoint's sync state back into DeltaSync (after its on_train_begin's broadcast of the
    weights): rank 0's arrays are broadcast to every rank, the counters are in every rank's file."""
    import torch
    import torch.distributed as dist
    saved = ckpt.distributed
    for k, v in saved["sync"].items():
        setattr(sync, k, v)
    targets = {}                                  # name -> the tensor it is received into
    for k, t in sync.live.items():
        for kind, rules in (("rule", sync.rules), ("hot_rule", sync.hot_rules)):
            for name in getattr(rules.get(k), "STATE", ()):
                targets[f"{kind}.{k}.{name}"] = getattr(rules[k], name)
        hot = min(sync.hot_rows, len(t)) if saved["sync"]["fulls"] else 0
        warm = max(0, min(sync.hot_rows + sync.warm_rows, len(t)) - hot) if sync.warm_rows and hot else 0
        for kind, n in (("hot", hot), ("warm", warm)):
            if n:
                targets[f"{kind}.{k}"] = torch.empty(n, dtype=torch.int64, device=t.device)
    if sync.group.rank == 0:
        missing = [name for name in targets if SYNC_PREFIX + name not in ckpt.arrays]
        if missing:
            raise EmbedkitError(f"{ckpt.path}: this checkpoint does not fit the run (no {missing[0]}); it was written "
                                "by another version of embedkit or with other sync options")
        for name, t in targets.items():
            t.copy_(torch.from_numpy(ckpt.arrays[SYNC_PREFIX + name]))
    sync.group.collective(lambda: [dist.broadcast(t, src=0) for t in targets.values()])
    for k in sync.live:
        for kind, rows in (("hot", sync.hot), ("warm", sync.warm)):
            if f"{kind}.{k}" in targets:
                rows[k] = targets[f"{kind}.{k}"]
            elif kind == "warm" and sync.warm_rows and hot:      # every row of this array is hot
                rows[k] = torch.empty(0, dtype=torch.int64, device=t.device)
    if sync.hot:
        sync.group.collective(sync._take_hot)      # it broadcasts: a rank gone now is named, as at a sync
