"""Callbacks: user code that watches a training run, and may stop it, through the runner's hooks.

    class Watch(embedkit.Callback):
        every_words = 1_000_000                      # on_words after about every million words
        def on_words(self, info):
            print(info.epoch, info.words, info.loss, info.vectors.shape)
        def on_epoch_end(self, info):
            if info.loss < 1.5:
                info.stop()                          # ends cleanly: the output is written as at the end

    emb = embedkit.train("skipgram", corpus="text.txt", callbacks=[Watch()])

A callback is any object with some of on_train_begin, on_epoch_end, on_words (with an integer
`every_words`) and on_train_end; each receives a TrainInfo. Hooks run where the weights are
consistent: on_words runs at the first chunk end (trainers/word2vec_numba.py: about 2M words per
worker) after each multiple of every_words, so its spacing is at least one chunk. For GloVe the
units are co-occurrence pairs, not words (TrainInfo.unit says which).

EvalEveryEpoch (`--eval-every-epoch`) is the built-in one: after every epoch it evaluates the
current vectors and writes the figures into that epoch's entry of the training log (FIELDS).
"""
from __future__ import annotations

import math

from embedkit.trainers.runner import RunState


class Callback:
    """A base class with every hook empty (subclassing it is optional)."""
    every_words: int | None = None       # call on_words about every this many words (None: never)

    def on_train_begin(self, info: "TrainInfo") -> None: ...
    def on_epoch_end(self, info: "TrainInfo") -> None: ...
    def on_words(self, info: "TrainInfo") -> None: ...
    def on_train_end(self, info: "TrainInfo") -> None: ...


class TrainInfo:
    """What a callback sees: where the run is and the current vectors (read-only)."""

    def __init__(self, run: RunState, point: str):
        self._run = run
        self.point = point                              # "train_begin" | "words" | "epoch_end" | "train_end"
        self.epoch = run.epoch + 1 if point != "train_begin" else run.epoch   # 1-based epoch (0 before training)
        self.epochs = run.epochs
        self.words = run.done                           # units processed so far, all epochs
        self.unit = run.backend.unit                    # "word" (word2vec family) or "pair" (GloVe)
        value, n = run.backend.running()
        self.loss = value / n if n else math.nan        # running mean objective of this epoch (GloVe: cost)
        self.lr = run.backend.lr()                      # the learning rate now (None for GloVe's AdaGrad)
        self.log = run.log_epochs                       # the epoch entries so far
        self._vectors = None

    @property
    def vectors(self):
        """(V, D) float32 read-only: the output vectors now (a live view for word2vec: copy to keep)."""
        if self._vectors is None:
            self.words_list, self._vectors = self._run.words_and_vectors()
        return self._vectors

    def embeddings(self):
        """An Embeddings over the current vectors (for queries and evaluation)."""
        from embedkit.embeddings import Embeddings
        vectors = self.vectors
        return Embeddings(self.words_list, vectors)

    def stop(self) -> None:
        """End the training after this point, cleanly: the output is written as at the end."""
        self._run.stop = True


class CallbackHook:
    """The runner hook that calls the user's callbacks (runner.TrainContext.hooks)."""

    def __init__(self, callbacks):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            every = getattr(cb, "every_words", None)
            if hasattr(cb, "on_words") and every is not None and (not isinstance(every, int) or every < 1):
                from embedkit.errors import EmbedkitError
                raise EmbedkitError(f"callback {type(cb).__name__}: every_words must be a positive integer, "
                                    f"got {every!r}")
        self.next_at = {}

    def _call(self, name: str, run: RunState, callbacks=None) -> None:
        info = TrainInfo(run, name[3:])
        for cb in self.callbacks if callbacks is None else callbacks:
            method = getattr(cb, name, None)
            if method is not None:
                method(info)

    def on_train_begin(self, run):
        for cb in self.callbacks:
            every = getattr(cb, "every_words", None)
            if every:
                self.next_at[id(cb)] = (run.done // every + 1) * every
        self._call("on_train_begin", run)

    def on_chunk_end(self, run):
        due = []
        for cb in self.callbacks:
            every = getattr(cb, "every_words", None)
            if every and run.done >= self.next_at[id(cb)]:
                self.next_at[id(cb)] = (run.done // every + 1) * every
                due.append(cb)
        if due:
            self._call("on_words", run, due)

    def on_epoch_end(self, run):
        self._call("on_epoch_end", run)

    def on_train_end(self, run):
        self._call("on_train_end", run)


# evaluation after each epoch: flat fields of the epoch's log entry, for plots
FIELDS = {
    "eval_analogy_accuracy": "Google analogies, 3CosAdd, questions among the 30,000 most frequent words, "
                             "case-folded: fraction correct of the questions seen",
    "eval_analogy_coverage": "fraction of the analogy questions seen (all four words in the 30,000)",
    "eval_<set>_spearman": "Spearman correlation on similarity set <set> (wordsim353, simlex999; men, rw "
                           "when found), pairs with an unknown word skipped",
    "eval_seconds": "seconds the evaluation took (not counted in the epoch's seconds)",
}


class EvalEveryEpoch(Callback):
    """--eval-every-epoch: analogy and similarity of the current vectors after every epoch, into
    that epoch's log entry (FIELDS)."""

    def __init__(self, eval_dir=None):
        self.eval_dir = eval_dir

    def on_epoch_end(self, info: TrainInfo) -> None:
        import time
        from embedkit.evaluate.report import evaluate_all
        t0 = time.perf_counter()
        report = evaluate_all(info.embeddings(), eval_dir=self.eval_dir)
        entry = info.log[-1]
        for r in report.analogy[:1]:
            entry["eval_analogy_accuracy"] = r.accuracy
            entry["eval_analogy_coverage"] = r.coverage
        for r in report.similarity:
            entry[f"eval_{r.name}_spearman"] = r.spearman
        entry["eval_seconds"] = time.perf_counter() - t0
