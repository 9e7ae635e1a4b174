"""Checkpoints: the whole state of a training run at a chunk end, written atomically, and resumed.

    embedkit train --model skipgram --corpus text8 --output out --checkpoint-every 10M
    embedkit train --resume out               # after a crash, a kill or Ctrl-C

OUTPUT/checkpoint/state.npz holds the backend's state (runner protocol `state()`: the weights,
GloVe's AdaGrad accumulators, every worker's RNG state, the progress counters and the next chunk
of the running epoch) and, as the array "__meta__" (UTF-8 JSON), the runner's state (epoch, log
and loss curve so far) and the recipe of the run (model, options, corpus paths, ...), which is
where `--resume` reads its config from. It is one file replaced with a rename
(fsutil.atomic_rewrite), so a kill at any moment leaves the previous checkpoint or the new one;
the one replaced is kept as .state.spare.npz, and the next checkpoint is written over it in place;
checkpoint.json beside it is a readable copy of the JSON part, for people (resume ignores it).
The checkpoint folder is removed once the run's output is written.

Checkpoints are taken at chunk ends (trainers/word2vec_numba.py, glove_numba.py), where the
weights are consistent and every random state and counter is in the arrays; the chunk cuts depend
only on the corpus and the number of workers. So with workers = 1 a resumed run is bit-identical
to one never stopped. `every` counts words read (GloVe: co-occurrence pairs), or seconds with an
`s` suffix: "10M", "500k", "2000000", "600s". SIGINT (Ctrl-C) while checkpoints are on writes one
at the next chunk end (a second Ctrl-C stops at once) and raises Interrupted, which the CLI
reports with the checkpoint's path and exit status 130.

A distributed run's ranks write OUTPUT/checkpoint/rank<R>.<G>.npz instead, all at the same sync
(distributed/checkpoints.py says when and what); `load_checkpoint(output, rank)` reads such a file,
and the single-process and distributed layouts each refuse the other with a one-line error.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path, atomic_rewrite

VERSION = 1
FOLDER, STATE = "checkpoint", "state.npz"
RANK_FILE = re.compile(r"rank(\d+)\.(\d+)\.npz")      # rank<R>.<generation>.npz (distributed runs)
_SUFFIX = {"": 1, "k": 1_000, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000}


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; `path` is the checkpoint written, or None."""

    def __init__(self, path):
        super().__init__(str(path))
        self.path = path


def parse_every(value) -> tuple[str, float]:
    """("words", N) or ("seconds", S) from 10000000, "10M", "500k", "600s" (words are the default unit)."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = str(value).strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKMG]?|s)", text)
    if not m or float(m.group(1)) <= 0:
        raise EmbedkitError(f"--checkpoint-every must be a number of words (10000000, 500k, 10M) or of seconds "
                            f"with an s suffix (600s), got {value!r}")
    number, unit = float(m.group(1)), m.group(2)
    if unit == "s":
        return "seconds", number
    return "words", max(1, int(number * _SUFFIX[unit]))


def checkpoint_path(output) -> Path:
    return Path(output) / FOLDER / STATE


def rank_path(output, rank: int, generation: int) -> Path:
    return Path(output) / FOLDER / f"rank{rank}.{generation}.npz"


def spare_path(path: Path) -> Path:
    """The older copy that the next write of checkpoint file `path` goes over (fsutil.atomic_rewrite):
    .state.spare.npz, or one per rank, .rank<R>.spare.npz. Resume never reads it."""
    return path.with_name(f".{path.name.split('.')[0]}.spare.npz")


def rank_files(output, rank: int | None = None) -> dict:
    """{(rank, generation): path} of the distributed checkpoint files in output/checkpoint/ (of `rank` only)."""
    folder = Path(output) / FOLDER
    found = {}
    for path in folder.glob("rank*.npz") if folder.is_dir() else ():
        m = RANK_FILE.fullmatch(path.name)
        if m and (rank is None or int(m.group(1)) == rank):
            found[int(m.group(1)), int(m.group(2))] = path
    return found


@dataclass
class RankPart:
    """What a distributed rank's checkpoint file holds beside its backend's state: the arrays it
    leaves out (the trained ones: rank 0's copy is broadcast on resume), those it adds (rank 0:
    the sync state) and its meta (distributed/checkpoints.py)."""
    rank: int
    generation: int
    leave_out: frozenset = frozenset()
    arrays: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


@dataclass
class Checkpoint:
    """A loaded checkpoint: the backend's arrays, the runner's state and the run's recipe."""
    path: Path
    arrays: dict
    runner: dict
    recipe: dict
    units: int = 0            # units (words or pairs) done when it was written
    distributed: dict | None = None     # a rank's file: its RankPart meta (rank, ranks, generation, sync)

    @property
    def partial(self) -> bool:
        """A rank's file without the trained arrays (rank 0 broadcasts its own on resume)."""
        return bool(self.distributed) and self.distributed["rank"] != 0


def write_checkpoint(output, run, recipe: dict, part: RankPart | None = None) -> Path:
    """Write the run's state into output/checkpoint/ atomically; returns the state file's path.
    part: a distributed rank's (RankPart), written to its rank file."""
    state = run.backend.state()
    meta = {"version": VERSION, "recipe": recipe, "runner": run.snapshot(), "units_done": run.done,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    path = checkpoint_path(output)
    if part is not None:
        state = {**{k: v for k, v in state.items() if k not in part.leave_out}, **part.arrays}
        meta["distributed"] = part.meta
        path = rank_path(output, part.rank, part.generation)
    text = json.dumps(meta, indent=1)
    with atomic_rewrite(path, spare_path(path)) as f:
        np.savez(f, __meta__=np.frombuffer(text.encode("utf-8"), dtype=np.uint8),
                 **{k: np.asarray(v) for k, v in state.items()})
    if part is None or part.rank == 0:
        with atomic_path(path.with_name("checkpoint.json")) as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
    return path


def _read(path: Path, meta_only: bool = False) -> tuple[dict, dict]:
    """(arrays, meta) of a checkpoint file; a damaged one is an EmbedkitError."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in (["__meta__"] if meta_only else z.files)}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    except Exception as e:   # noqa: BLE001 - a damaged zip/npy/json raises many kinds; all mean "damaged"
        raise EmbedkitError(f"{path}: cannot read the checkpoint, the file is damaged ({type(e).__name__}: {e})") from None
    if meta.get("version") != VERSION:
        raise EmbedkitError(f"{path}: unknown checkpoint version {meta.get('version')!r} (this embedkit reads {VERSION})")
    return arrays, meta


def _find(output, rank: int | None, generation: int | None = None) -> Path:
    """The file load_checkpoint reads (module doc); the wrong layout or none is an EmbedkitError."""
    path = checkpoint_path(output)
    mine = rank_files(output, rank) if rank is not None else {}
    if mine:
        newest = generation if generation is not None else max(g for _, g in mine)
        if (rank, newest) not in mine:
            raise EmbedkitError(f"{output}: rank {rank} has no checkpoint of generation {newest} "
                                f"(it has {', '.join(str(g) for _, g in sorted(mine))})")
        return mine[rank, newest]
    if path.is_file():
        if rank is None:
            return path
        raise EmbedkitError(f"{output}: the checkpoint is of a single-process run; resume it without --distributed")
    others = rank_files(output)
    if others:
        ranks = _read(next(iter(others.values())), meta_only=True)[1]["distributed"]["ranks"]
        if rank is None:
            raise EmbedkitError(f"{output}: the checkpoint is of a distributed run of {ranks} ranks; resume it as "
                                f"it was started: torchrun --nproc-per-node ... -m embedkit train --resume {output} "
                                "--distributed")
        raise EmbedkitError(f"{output}: no checkpoint of rank {rank}: the run had {ranks} ranks; resume it with as "
                            "many (and on a node of their own, each rank finds its file in that node's folder)")
    raise EmbedkitError(f"{output} has no checkpoint ({path} not found): it was trained without "
                        "--checkpoint-every, or it finished (the checkpoint is removed then)")


def load_checkpoint(output, rank: int | None = None, generation: int | None = None) -> Checkpoint:
    """The checkpoint in output/checkpoint/: the single-process one, or with `rank` that rank's file
    of a distributed run (its newest, or `generation`); a missing or damaged one is an EmbedkitError."""
    path = _find(output, rank, generation)
    arrays, meta = _read(path)
    return Checkpoint(path, arrays, meta["runner"], meta["recipe"], meta["units_done"], meta.get("distributed"))


def checkpoint_recipe(output) -> dict:
    """The recipe of the checkpoint in output/checkpoint/ (any layout), without reading its arrays."""
    files = rank_files(output)
    path = files[min(files)] if files and not checkpoint_path(output).is_file() else _find(output, None)
    return _read(path, meta_only=True)[1]["recipe"]


def remove_checkpoint(output) -> None:
    """Remove output/checkpoint/ at once (renamed away first, so a kill leaves it whole or gone)."""
    folder = Path(output) / FOLDER
    if folder.is_dir():
        gone = folder.with_name(f".{FOLDER}.{os.getpid()}.removed.tmp")
        os.replace(folder, gone)
        shutil.rmtree(gone, ignore_errors=True)


class Checkpointer:
    """The runner hook that writes checkpoints every `every` (parse_every) and on Ctrl-C.

    Use as a context manager around the training: it routes SIGINT to a flag (main thread only)
    and restores the previous handler when the training ends."""

    def __init__(self, output, recipe: dict, every):
        self.output, self.recipe = Path(output), recipe
        self.kind, self.amount = parse_every(every) if every is not None else (None, None)
        self.interrupted = False
        self.last_done, self.last_time = 0, time.monotonic()
        self._previous = None
        self.written = 0
        self.seconds = 0.0                # spent writing checkpoints (the training log's checkpoint_seconds)
        self.coordinated = False          # set by a distributed run, whose DeltaSync says when to write

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _on_sigint(self, signum, frame):
        if self.interrupted or self.kind is None:      # a second Ctrl-C, or nothing to save: stop now
            raise KeyboardInterrupt
        self.interrupted = True

    def on_train_begin(self, run):
        if not (hasattr(run.backend, "state") and hasattr(run.backend, "load_state")):
            raise EmbedkitError(f"{type(run.backend).__name__} has no checkpoints; use --backend numba "
                                "for --checkpoint-every")
        self.last_done, self.last_time = run.done, time.monotonic()

    def on_chunk_end(self, run):
        if self.coordinated:             # a distributed run: its ranks decide together (distributed/checkpoints.py)
            return
        due = (self.kind == "words" and run.done - self.last_done >= self.amount) or self.due_by_clock()
        if due or self.interrupted:
            path = self.write(run)
            self.last_done = run.done
            if self.interrupted:
                raise Interrupted(path)

    def due_by_clock(self) -> bool:
        return self.kind == "seconds" and time.monotonic() - self.last_time >= self.amount

    def write(self, run, part: RankPart | None = None) -> Path:
        t0 = time.perf_counter()
        path = write_checkpoint(self.output, run, self.recipe, part)
        self.written += 1
        self.seconds += time.perf_counter() - t0
        self.last_time = time.monotonic()
        return path
