"""The one epoch runner of every trainer: progress bar, divergence check, per-epoch log, loss curve.

A trainer builds its task (the arrays and settings of one training run, trainers/tasks.py) and
hands it to `run_task`, which picks the backend from trainers/backends.py's table, puts a
checkpoint's state back when the run resumes, and runs the epochs (`run_epochs`). A backend is
whatever runs an epoch's updates: worker threads over numba kernels, or mini-batches on a torch
device. It offers this protocol:

    unit                 "word" or "pair": what its progress counts
    metric               "loss" or "cost": what the mean of an epoch's objective is called
    units_per_epoch      int
    run_epoch(epoch, tick) -> generator: runs one epoch in chunks, yields after each chunk (a point
                         where the weights are consistent: the runner's hooks run there), calls
                         tick() now and then while a chunk runs, and returns a dict of extra fields
                         for the epoch's log entry
    done()               units processed so far, all epochs (read while a chunk runs)
    running()            (objective sum, examples) of the current epoch so far
    lr()                 the current learning rate, or None
    arrays()             {name: numpy array} of the trained parameters, on the host
    tensors()            optional: {name: torch tensor} of the trained parameters as they live
                         (the torch backends, on their device): a distributed run syncs these in
                         place; without it, torch.from_numpy views of arrays() (distributed/sync.py)
    hints                {"diverged": ..., "empty": ...}: the fix to suggest in those errors
    state(), load_state(arrays)   optional: every array a checkpoint needs (weights, optimizer
                         accumulators, every worker's RNG state, progress counters, the next chunk
                         of the running epoch), and putting them back before run_epoch resumes
                         there (trainers/checkpoint.py); a backend without them has no checkpoints

Hooks (TrainContext.hooks) see the run at fixed points: on_train_begin, on_chunk_end (after each
chunk: the weights are consistent there), on_epoch_end (after the epoch's log entry) and
on_train_end; each is optional and receives the RunState. A hook may set `run.stop = True`: the
runner then ends the training cleanly after that point, and the trainer writes its output as at
the end. Checkpoints, callbacks and distributed synchronisation are hooks.

`run_epochs` returns the log: per epoch {"epoch", metric, "examples", "seconds",
"<unit>s_per_second", ...extras}, and "loss_curve": [{"epoch", "<unit>s", metric}, ...], the mean
objective over each stretch of `curve_every` units (default: about curve_points-th of an epoch),
for plots. `view` (from the trainer) turns the backend's arrays into the current output vectors,
which hooks read through RunState.vectors(). `resume` is the runner's part of a checkpoint
(RunState.snapshot()): the run goes on from that epoch with the log and curve it had.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from embedkit.errors import EmbedkitError


@dataclass
class TrainContext:
    """How to run a training, beside its config: the same for every model family."""
    quiet: bool = True                 # no progress bar
    cache: bool = True                 # read and write the caches (encoded corpus, co-occurrences)
    cooccur: object = None             # GloVe: a prepared co-occurrence matrix (scipy.sparse), or None
    hooks: list = field(default_factory=list)   # objects with on_train_begin/on_chunk_end/on_epoch_end/on_train_end
    chunk: int = 0                     # units per worker between two hook points (0: the backend's default)
    log_every: int | None = None       # a loss_curve point every this many units (default: 20 per epoch)
    resume: object = None              # a Checkpoint (trainers/checkpoint.py) to go on from, or None
    init: object = None                # a Start (trainers/continued.py): the arrays of a trained model to start from


@dataclass
class RunState:
    """What hooks see: the backend, where the run is, and the log so far."""
    backend: object
    epochs: int
    epoch: int = 0                     # 0-based epoch now running (or just finished)
    log_epochs: list = field(default_factory=list)
    stop: bool = False                 # set by a hook: end the training cleanly at this point
    view: object = None                # arrays -> (words, current output vectors (V, D)); from the trainer
    curve: object = None               # the loss curve so far (_Curve)
    epoch_seconds: float = 0.0         # seconds of the running epoch before this process (resumed runs)
    epoch_t0: float = 0.0

    @property
    def done(self) -> int:
        """Units (words or pairs) processed so far, all epochs."""
        return self.backend.done()

    def words_and_vectors(self):
        """(words, vectors): the current output vectors, read-only (a live view where the model's
        vectors are a slice of its weights: copy them to keep them)."""
        if self.view is None:
            raise RuntimeError("this trainer gave the runner no view of its vectors")
        words, vectors = self.view(self.backend.arrays())
        vectors = vectors.view()
        vectors.flags.writeable = False
        return words, vectors

    def snapshot(self) -> dict:
        """The runner's part of a checkpoint (JSON-able): where the run is, its log and curve."""
        c = self.curve
        return {"epoch": self.epoch, "log_epochs": self.log_epochs, "loss_curve": c.points,
                "curve_next_at": c.next_at, "curve_last": list(c.last),
                "epoch_seconds": self.epoch_seconds + time.perf_counter() - self.epoch_t0}


@dataclass
class TrainResult:
    """What every trainer returns: the embeddings, the arrays to save in the model folder, the log."""
    embeddings: object                               # Embeddings (or a subclass)
    arrays: dict = field(default_factory=dict)       # name -> np.ndarray
    log: dict = field(default_factory=dict)

    def __iter__(self):
        """emb, arrays, log = train_x(...)"""
        return iter((self.embeddings, self.arrays, self.log))


class Progress:
    """One tqdm bar over all units of all epochs: epoch, rate, learning rate, running objective."""

    def __init__(self, total: int, epochs: int, unit: str, metric: str, quiet: bool):
        self.bar = None
        self.epochs = epochs
        self.metric = metric
        if not quiet:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit=unit, unit_scale=True, dynamic_ncols=True, smoothing=0.1)

    def update(self, done: int, epoch: int, lr: float | None, value: float) -> None:
        if self.bar is None:
            return
        self.bar.n = int(done)
        self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}", refresh=False)
        post = {} if lr is None else {"lr": f"{lr:.5f}"}
        post[self.metric] = f"{value:.4f}" if math.isfinite(value) else "-"
        self.bar.set_postfix(post, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Curve:
    """The mean objective over each stretch of `every` units, from the running sums."""

    def __init__(self, every: int, unit: str, metric: str):
        self.every, self.unit, self.metric = max(1, every), unit, metric
        self.points: list[dict] = []
        self.next_at = self.every
        self.last = (0.0, 0)

    def start_epoch(self):
        self.last = (0.0, 0)

    def see(self, epoch: int, done: int, total: float, n: int) -> None:
        if done < self.next_at or n <= self.last[1]:
            return
        mean = (total - self.last[0]) / (n - self.last[1])
        self.points.append({"epoch": epoch + 1, f"{self.unit}s": int(done), self.metric: float(mean)})
        self.last = (total, n)
        self.next_at = (done // self.every + 1) * self.every


def _call(hooks, point: str, run: RunState) -> None:
    for hook in hooks:
        method = getattr(hook, point, None)
        if method is not None:
            method(run)


def run_task(family: str, cfg, task, ctx: TrainContext, view=None, hints: dict | None = None) -> tuple[dict, dict]:
    """Run `task` of model family `family` to the end: (trained arrays on the host, training log).

    The backend is (family, cfg.backend)'s, with ctx.chunk units per worker between hook points;
    `hints` replace its error hints. With ctx.resume (a checkpoint) the backend's state and the
    runner's are put back first, so the run goes on where the checkpoint was taken. `view`: as in
    run_epochs (arrays -> (words, output vectors))."""
    from embedkit.trainers.backends import make_backend
    backend = make_backend(family, cfg.backend, task, ctx.chunk)
    if hints is not None:
        backend.hints = hints
    resume = None
    if ctx.resume is not None:
        # a distributed rank's file leaves out the trained arrays: they come from rank 0 (distributed/checkpoints.py)
        arrays = {**backend.state(), **ctx.resume.arrays} if ctx.resume.partial else ctx.resume.arrays
        try:
            backend.load_state(arrays)
        except (ValueError, KeyError) as e:            # arrays of another shape: another version's layout
            raise EmbedkitError(f"{ctx.resume.path}: this checkpoint does not fit the run ({e}); it was written "
                                "by another version of embedkit. Start the run again without --resume") from None
        resume = ctx.resume.runner
    log = run_epochs(backend, cfg.epochs, quiet=ctx.quiet, hooks=ctx.hooks, curve_every=ctx.log_every, view=view,
                     resume=resume)
    return backend.arrays(), log


def run_epochs(backend, epochs: int, *, quiet: bool = True, curve_points: int = 20, curve_every: int | None = None,
               hooks=(), view=None, resume: dict | None = None) -> dict:
    """Run `epochs` epochs of `backend` (protocol above) and return the training log."""
    total = backend.units_per_epoch * epochs
    bar = Progress(total, epochs, backend.unit, backend.metric, quiet)
    curve = _Curve(curve_every or backend.units_per_epoch // curve_points, backend.unit, backend.metric)
    run = RunState(backend, epochs, view=view, curve=curve)
    run.epoch_t0 = time.perf_counter()
    first, resumed = 0, resume is not None
    if resumed:
        first = run.epoch = resume["epoch"]
        run.log_epochs = list(resume["log_epochs"])
        curve.points, curve.next_at = list(resume["loss_curve"]), resume["curve_next_at"]
        curve.last = tuple(resume["curve_last"])
        run.epoch_seconds = resume["epoch_seconds"]

    def tick():
        done = backend.done()
        value, n = backend.running()
        curve.see(run.epoch, done, value, n)
        bar.update(done, run.epoch, backend.lr(), value / n if n else float("nan"))

    t_start = time.perf_counter()
    try:
        _call(hooks, "on_train_begin", run)
        for epoch in range(first, epochs):
            if run.stop:
                break
            run.epoch = epoch
            t0 = run.epoch_t0 = time.perf_counter()
            if not resumed:
                curve.start_epoch()        # (a resumed epoch keeps the sums its curve stretch started from)
            resumed = False
            chunks = backend.run_epoch(run.epoch, tick)
            while True:
                try:
                    next(chunks)
                except StopIteration as stop:
                    extras = stop.value or {}
                    break
                tick()
                _call(hooks, "on_chunk_end", run)
                if run.stop:
                    chunks.close()
                    extras = {"stopped_early": True}
                    break
            seconds = time.perf_counter() - t0 + run.epoch_seconds
            run.epoch_seconds = 0.0
            value, n = backend.running()
            run.log_epochs.append(_epoch_entry(backend, run.epoch, value, n, seconds, extras))
            tick()
            _call(hooks, "on_epoch_end", run)
        _call(hooks, "on_train_end", run)
    finally:
        bar.close()
    wall = time.perf_counter() - t_start
    done = backend.done()
    return {"epochs": run.log_epochs, "loss_curve": curve.points, "train_seconds": wall,
            f"{backend.unit}s_per_second": done / wall if wall > 0 else float("nan")}


# a mean loss (or GloVe cost) per example above this has diverged while the weights are still finite:
# healthy runs stay below about 20 (log-losses of a few terms, GloVe's weighted squares below 1),
# while a fastText-style run whose bags repeat one bucket row thousands of times ended at 6e23
DIVERGED_ABOVE = 1e6


def _epoch_entry(backend, epoch: int, value: float, n: int, seconds: float, extras: dict) -> dict:
    """The epoch's log entry; an epoch without examples, or whose objective is not finite or above
    DIVERGED_ABOVE per example, is an error."""
    if n == 0:
        raise EmbedkitError(f"epoch {epoch + 1} had no training examples: {backend.hints['empty']}")
    mean = value / n
    if not np.isfinite(mean) or mean > DIVERGED_ABOVE:
        raise EmbedkitError(f"training diverged in epoch {epoch + 1} ({backend.metric} {mean}); "
                            f"{backend.hints['diverged']}")
    return {"epoch": epoch + 1, backend.metric: float(mean), "examples": int(n), "seconds": seconds,
            f"{backend.unit}s_per_second": backend.units_per_epoch / seconds if seconds > 0 else float("nan"),
            **extras}
