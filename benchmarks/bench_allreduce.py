"""What one all-reduce costs on this machine: wall seconds and CPU seconds of the process.

    python benchmarks/bench_allreduce.py                  # 2 local ranks, text8-sized arrays
    python benchmarks/bench_allreduce.py --rows 68092 --dim 100 --ranks 2 --repeat 20

Two (or --ranks) processes join a gloo group on loopback and all-reduce, --repeat times each, a
tensor of the size a distributed run syncs: one word2vec array of --rows x --dim float32 (a full
sync sends two of them, w_in and w_out), and the hot rows of both arrays (4,096 and 16,384 rows of
each, packed in one buffer as sync.py does); and one array's delta sent as float32, float16 or
bfloat16, with the arithmetic around it (16 bits halve the bytes but add casts); and a whole
full sync as sync.py makes it (every row moved and a 64 MB buffer written before each, untimed).
CPU seconds are the process's (all its threads: gloo runs the transfers and the reduction in its
own), so wall minus CPU is what overlapping a sync with training could hide when every core is
busy training.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table  # noqa: E402


def rank_main(rank: int, a, store: str, queue) -> None:
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=a.ranks)
    sizes = [("one array (a full sync sends two)", a.rows * a.dim), ("4,096 hot rows of two arrays", 2 * 4096 * a.dim),
             ("16,384 hot rows of two arrays", 2 * 16384 * a.dim), ("control vector", 3)]
    rows = []
    for name, n in sizes:
        x = torch.randn(n, dtype=torch.float64 if n == 3 else torch.float32)
        dist.all_reduce(x)                                     # warm: connections, buffers
        dist.barrier()
        rows.append(timed(name, x.nbytes, lambda: dist.all_reduce(x), a.repeat))
    rows += wire_rows(a)
    rows.append(full_sync_row(a))
    if rank == 0:
        queue.put(rows)
    dist.destroy_process_group()


def wire_rows(a) -> list:
    """One array sent as float32 (what sync.py sends), float16 and bfloat16: its all-reduce, and the
    delta's arithmetic around it (the delta w - w_last written in the wire's type, and w_last +=
    the sum), which costs casts in 16 bits."""
    import torch
    import torch.distributed as dist
    w = torch.randn(a.rows, a.dim)
    last = w + 1e-3 * torch.randn(a.rows, a.dim)
    rows = []
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        x = torch.empty(a.rows, a.dim, dtype=dtype)
        torch.sub(w, last, out=x)
        dist.all_reduce(x)
        dist.barrier()
        steps = [("all-reduce", lambda: dist.all_reduce(x)),
                 ("w - w_last into it, w_last += it", lambda: (torch.sub(w, last, out=x), last.add_(x)))]
        for what, fn in steps:
            rows.append(timed(f"one array as {str(dtype).split('.')[1]}: {what}", x.nbytes, fn, a.repeat))
    return rows


def full_sync_row(a) -> list:
    """One full sync of two arrays as a 2-rank run with the defaults makes it (sync.py's DeltaSync,
    4,096 hot rows): the deltas, the all-reduces, the rules, w_last and the next hot set. Before each
    sync every row moves a little and a 64 MB buffer is written, as training would leave the caches."""
    from types import SimpleNamespace

    import numpy as np
    import torch.distributed as dist
    from embedkit.distributed.sync import DeltaSync
    rng = np.random.default_rng(dist.get_rank())
    arrays = {k: rng.standard_normal((a.rows, a.dim), dtype=np.float32) for k in ("w_in", "w_out")}
    group = SimpleNamespace(world=a.ranks, collective=lambda fn: fn())
    run = SimpleNamespace(backend=SimpleNamespace(arrays=lambda: arrays), stop=False, done=0)
    hook = DeltaSync(group, "sum", hot_rows=4096, full_every=1)
    hook.on_train_begin(run)
    other = np.zeros(64 << 20, dtype=np.uint8)

    def train():
        for w in arrays.values():
            w *= np.float32(1.0001)
        np.add(other, 1, out=other)
        dist.barrier()
    train()
    hook.on_chunk_end(run)                 # the first sync (every row hot) makes the buffers
    return timed("a full sync of two arrays (sync.py's, 4,096 hot rows)", sum(w.nbytes for w in arrays.values()),
                 lambda: hook.on_chunk_end(run), a.repeat, before=train)


def timed(name: str, nbytes: int, fn, repeat: int, before=None) -> list:
    """A table row: name, the bytes fn sends, and the mean wall and CPU milliseconds of fn() over
    repeat calls (before(), when given, runs untimed ahead of each)."""
    wall = cpu = 0.0
    for _ in range(repeat):
        if before:
            before()
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = wall + time.perf_counter() - w0, cpu + time.process_time() - c0
    wall, cpu = wall / repeat, cpu / repeat
    return [name, f"{nbytes / 1e6:,.2f} MB", f"{1e3 * wall:.2f}", f"{1e3 * cpu:.2f}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=68092, help="rows of one array (text8's vocabulary at min_count 5)")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    import multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "store")
        procs = [ctx.Process(target=rank_main, args=(r, a, store, queue)) for r in range(a.ranks)]
        for p in procs:
            p.start()
        rows = queue.get(timeout=600)
        for p in procs:
            p.join(timeout=60)
    print(markdown_table(["all-reduce of", "bytes", "wall ms", "CPU ms (process)"], rows))
    print(f"\n{a.ranks} ranks on one machine, gloo over loopback, mean of {a.repeat}")


if __name__ == "__main__":
    main()
