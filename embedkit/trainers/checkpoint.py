"""Checkpoints: the whole state of a training run at a chunk end, written atomically, and resumed.

    embedkit train --model skipgram --corpus text8 --output out --checkpoint-every 10M
    embedkit train --resume out               # after a crash, a kill or Ctrl-C

OUTPUT/checkpoint/state.npz holds the backend's state (runner protocol `state()`: the weights,
GloVe's AdaGrad accumulators, every worker's RNG state, the progress counters and the next chunk
of the running epoch) and, as the array "__meta__" (UTF-8 JSON), the runner's state (epoch, log
and loss curve so far) and the recipe of the run (model, options, corpus paths, ...), which is
where `--resume` reads its config from. It is one file replaced with a rename
(fsutil.atomic_path), so a kill at any moment leaves the previous checkpoint or the new one;
checkpoint.json beside it is a readable copy of the JSON part, for people (resume ignores it).
The checkpoint folder is removed once the run's output is written.

Checkpoints are taken at chunk ends (trainers/word2vec_numba.py, glove_numba.py), where the
weights are consistent and every random state and counter is in the arrays; the chunk cuts depend
only on the corpus and the number of workers. So with workers = 1 a resumed run is bit-identical
to one never stopped. `every` counts words read (GloVe: co-occurrence pairs), or seconds with an
`s` suffix: "10M", "500k", "2000000", "600s". SIGINT (Ctrl-C) while checkpoints are on writes one
at the next chunk end (a second Ctrl-C stops at once) and raises Interrupted, which the CLI
reports with the checkpoint's path and exit status 130.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path

VERSION = 1
FOLDER, STATE = "checkpoint", "state.npz"
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


@dataclass
class Checkpoint:
    """A loaded checkpoint: the backend's arrays, the runner's state and the run's recipe."""
    path: Path
    arrays: dict
    runner: dict
    recipe: dict
    units: int = 0            # units (words or pairs) done when it was written


def write_checkpoint(output, run, recipe: dict) -> Path:
    """Write the run's state into output/checkpoint/ atomically; returns the state file's path."""
    state = run.backend.state()
    meta = {"version": VERSION, "recipe": recipe, "runner": run.snapshot(), "units_done": run.done,
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    text = json.dumps(meta, indent=1)
    path = checkpoint_path(output)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, __meta__=np.frombuffer(text.encode("utf-8"), dtype=np.uint8),
                     **{k: np.asarray(v) for k, v in state.items()})
    with atomic_path(path.with_name("checkpoint.json")) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def load_checkpoint(output) -> Checkpoint:
    """The checkpoint in output/checkpoint/; a missing or damaged one is an EmbedkitError."""
    path = checkpoint_path(output)
    if not path.is_file():
        raise EmbedkitError(f"{output} has no checkpoint ({path} not found): it was trained without "
                            "--checkpoint-every, or it finished (the checkpoint is removed then)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    except Exception as e:   # noqa: BLE001 - a damaged zip/npy/json raises many kinds; all mean "damaged"
        raise EmbedkitError(f"{path}: cannot read the checkpoint, the file is damaged ({type(e).__name__}: {e})") from None
    if meta.get("version") != VERSION:
        raise EmbedkitError(f"{path}: unknown checkpoint version {meta.get('version')!r} (this embedkit reads {VERSION})")
    return Checkpoint(path, arrays, meta["runner"], meta["recipe"], meta["units_done"])


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
        due = (self.kind == "words" and run.done - self.last_done >= self.amount) or \
              (self.kind == "seconds" and time.monotonic() - self.last_time >= self.amount)
        if due or self.interrupted:
            t0 = time.perf_counter()
            path = write_checkpoint(self.output, run, self.recipe)
            self.written += 1
            self.seconds += time.perf_counter() - t0
            self.last_done, self.last_time = run.done, time.monotonic()
            if self.interrupted:
                raise Interrupted(path)
