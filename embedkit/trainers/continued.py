"""Continued training: start a run from a trained model, on new text, new words included.

    embedkit train --model skipgram --init MODEL_DIR --corpus B.txt --output MODEL2 --update-vocab
    emb2 = embedkit.train("skipgram", corpus="B.txt", init=emb, update_vocab=True)

The trained model (a model folder, or the Embeddings that train() returned) gives the starting
weights and the defaults of every option the new run does not set (dim, window, epochs, ...;
min_count and the tokenizer too). The new corpus is read with every word kept, then:

  * without update_vocab the vocabulary and its counts stay the model's: the new text's other
    words are dropped, and the noise table, Huffman tree and subsampling are the model's;
  * with update_vocab the counts are merged (old + new), the new corpus's words that reach
    min_count in it are added, and the vocabulary is ranked again by merged count (so "the N most
    frequent words" stays true for evaluation). Each old word keeps its vectors (its rows move
    with its rank). The noise table and keep probabilities come from the merged counts. New words'
    rows start as a fresh run's rows do (uniform input rows from the seed, zero output rows); the
    subword model keeps its n-gram buckets, so a new word's vector starts from its n-grams.
  * hierarchical softmax: the Huffman tree is rebuilt from the merged counts. Its output rows are
    inner nodes, and inner node i of the new tree splits a different set of words than node i of
    the old one, so an old row would score the wrong decision: with update_vocab the output rows
    start at zero, as in a fresh run. This does not disturb the input vectors: their gradient is
    g * w_out, zero until the output rows have learned. Without update_vocab the tree is the same
    and the output rows are kept.
  * GloVe continues from W, W~, both biases and the AdaGrad accumulators, on the co-occurrences of
    the new corpus (counted with the merged vocabulary). New words start as fresh rows
    (accumulators 1).

lr_schedule (word2vec family): "restart" (default) decays linearly from lr again, as a fresh run
over the new corpus would; "continue" goes on with one decay over the old run's words and this
run's as if they were one run: this run starts at the rate that schedule has after the old run's
words (lr * (1 - f) + lr_end * f with f = old words / (old + new words)) and ends at lr_end.
GloVe (AdaGrad): "continue" (its default) keeps the accumulators, so each weight's step size goes
on shrinking; "restart" resets them to 1 (step size eta again).
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from embedkit.errors import EmbedkitError

SCHEDULES = ("restart", "continue")


class Start:
    """The trained model a continued run starts from, and how its rows map to the new vocabulary."""

    def __init__(self, source, model: str, config: dict, words: list, counts: np.ndarray, arrays: dict,
                 training_log: dict):
        self.source = source                 # the model folder (absolute path), or None (in memory)
        self.model, self.config = model, config
        self.words, self.counts = list(words), np.asarray(counts, dtype=np.int64)
        self.arrays, self.training_log = arrays, training_log or {}
        self.lr_schedule = None
        self.new_of_old = np.arange(len(self.words))   # (V_old,) merged id of each old word
        self.added = 0
        self.vocab_changed = False
        self.corpus_tokens = None            # the new corpus's tokens where the task holds a shard (a distributed rank)

    @classmethod
    def load(cls, init, model: str) -> "Start":
        """From a model folder (path) or an Embeddings returned by train() / loaded from a folder."""
        from embedkit.trainers.api import MODELS
        if isinstance(init, (str, os.PathLike)):
            from embedkit.formats.native import read_model
            m = read_model(init)
            start = cls(os.path.abspath(init), m.config.get("model"), m.config, m.words, m.counts, m.arrays,
                        m.training_log)
        else:
            parts = getattr(init, "training_parts", None)
            if parts is None:
                raise EmbedkitError("init= needs a model trained by embedkit: the Embeddings that train() returned, "
                                    "or a model folder (its path, or embedkit.load of it)")
            start = cls(parts.get("source"), parts["model"], parts["config"], init.words, init.counts,
                        parts["arrays"], parts["training_log"])
        if start.model not in MODELS or MODELS[start.model].kind != MODELS[model].kind:
            raise EmbedkitError(f"cannot continue a {start.model!r} model as {model!r}: "
                                f"{MODELS.get(model).kind} models continue from {MODELS.get(model).kind} models")
        return start

    def defaults(self, model: str, token_lists: bool) -> dict:
        """The trained model's options, as defaults of the continued run."""
        from embedkit.config import CorpusConfig, inapplicable
        from embedkit.trainers.api import MODELS, model_fields
        fields = model_fields(model)
        out = {k: v for k, v in self.config.items() if k in fields and v is not None}
        try:
            cfg = MODELS[model].config(**out, **MODELS[model].fixed)
        except EmbedkitError as e:
            raise EmbedkitError(f"{self.source or 'the init model'}: its saved config is not valid here ({e})") from None
        out = {k: v for k, v in out.items() if not inapplicable(cfg, [k])}   # e.g. device with backend numba
        corpus = {f.name: self.config.get("corpus", {}).get(f.name) for f in dataclasses.fields(CorpusConfig)}
        corpus = {k: v for k, v in corpus.items() if v is not None}
        try:
            corpus_cfg = CorpusConfig(**corpus)
        except EmbedkitError:
            corpus_cfg, corpus = None, {}                  # another embedkit's corpus options: the defaults
        text_only = {f.name for f in dataclasses.fields(CorpusConfig) if f.metadata.get("text_only")}
        out.update({k: v for k, v in corpus.items() if not inapplicable(corpus_cfg, [k])
                    and not (token_lists and k in text_only)})
        return out

    def check(self, cfg, lr_schedule: str | None, family: str) -> None:
        if lr_schedule is not None and lr_schedule not in SCHEDULES:
            raise EmbedkitError(f"lr_schedule must be one of {', '.join(SCHEDULES)}, got {lr_schedule!r}")
        self.lr_schedule = lr_schedule or ("continue" if family == "glove" else "restart")
        for name in ("dim", "objective", "minn", "maxn", "bucket"):
            old = self.config.get(name)
            new = getattr(cfg, name, None)
            if old is not None and new is not None and old != new and not (name in ("minn", "bucket") and
                                                                           cfg.maxn == 0):
                raise EmbedkitError(f"--{name} {new} differs from the --init model's {old}: a continued run keeps "
                                    "the model's shape")

    def corpus(self, enc, update_vocab: bool, min_count: int):
        """The new corpus re-encoded with the continued run's vocabulary (see the module doc)."""
        from embedkit.corpus.encoded import EncodedCorpus
        from embedkit.corpus.vocab import Vocab
        old_index = {w: i for i, w in enumerate(self.words)}
        V0 = len(self.words)
        counts = self.counts.copy()
        extra_words, extra_counts = [], []
        to_merged = np.full(len(enc.vocab) + 1, -1, dtype=np.int64)    # new corpus id -> provisional id
        for j, (w, c) in enumerate(zip(enc.vocab.words, enc.vocab.counts.tolist())):
            i = old_index.get(w)
            if i is not None:
                to_merged[j] = i
                if update_vocab:
                    counts[i] += c
            elif update_vocab and c >= min_count:
                to_merged[j] = V0 + len(extra_words)
                extra_words.append(w)
                extra_counts.append(c)
        words = self.words + extra_words
        all_counts = np.concatenate([counts, np.asarray(extra_counts, dtype=np.int64)])
        order = np.argsort(-all_counts, kind="stable") if update_vocab else np.arange(V0)
        rank = np.empty(len(words), dtype=np.int64)
        rank[order] = np.arange(len(words))
        self.new_of_old = rank[:V0]
        self.added = len(extra_words)
        self.vocab_changed = bool(update_vocab)
        ids = to_merged[np.asarray(enc.tokens)]
        keep = ids >= 0
        tokens = rank[ids[keep]].astype(np.int32)
        kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
        offsets = kept_before[np.asarray(enc.offsets)]
        # the counts are the model's (or old + new), the totals the new corpus's: coverage is of the new
        # corpus's tokens by the vocabulary, so the kept tokens are the new corpus's (at most its total)
        vocab = Vocab([words[i] for i in order.tolist()], all_counts[order], total_tokens=enc.vocab.total_tokens,
                      total_types=enc.vocab.total_types, corpus_kept=len(tokens))
        return EncodedCorpus(tokens, offsets, np.asarray(enc.continues), vocab, stats=enc.stats)

    def _old_words_trained(self) -> float:
        log = self.training_log
        return float(log.get("corpus_tokens", 0)) * float(self.config.get("epochs", 0))

    def apply_word2vec(self, task, cfg, buckets=None) -> None:
        """Put the trained rows into a word2vec-family task (fresh rows stay as make_task drew them).
        buckets: the n-gram bucket each of the task's rows past V holds (subword model)."""
        w = task.weights
        V, V0 = len(task.keep_prob), len(self.words)
        w_in, w_out = self._array("w_in", w.w_in.shape[1]), self._array("w_out", w.w_out.shape[1])
        w.w_in[self.new_of_old] = w_in[:V0]
        self._apply_buckets(w.w_in[V:], w_in[V0:], buckets)
        if cfg.objective == "ns":
            w.w_out[self.new_of_old] = w_out
        elif not self.vocab_changed:
            w.w_out[...] = w_out                                  # the same Huffman tree
        if self.lr_schedule == "continue":
            old, new = self._old_words_trained(), float(self.corpus_tokens or task.n_tokens) * task.epochs
            f = old / (old + new) if old + new > 0 else 0.0
            task.lr_start = task.lr_start * (1.0 - f) + task.lr_end * f

    def _apply_buckets(self, rows: np.ndarray, old_rows: np.ndarray, buckets) -> None:
        """Each n-gram bucket the old model has a row for and this run holds keeps its row. A bucket
        new to this run (an n-gram only the new words have) starts as a fresh row."""
        from embedkit.tables.subwords import bucket_rows_of
        held = self.arrays.get("ngram_buckets")                    # None: a row for every bucket
        held = np.arange(len(old_rows)) if held is None else np.asarray(held, dtype=np.int64)
        if len(held) != len(old_rows):
            raise EmbedkitError(f"{self.source or 'the init model'}: {len(old_rows):,} n-gram rows but "
                                f"{len(held):,} ngram_buckets")
        if buckets is None:
            buckets = np.arange(len(rows))
        if len(held) and not len(buckets):
            raise EmbedkitError(f"the --init model has {len(held):,} n-gram bucket rows, this run none: "
                                "keep --bucket, --minn and --maxn")
        at = bucket_rows_of(np.asarray(buckets, dtype=np.int64), held)   # (U_old,) row in this run, or -1
        rows[at[at >= 0]] = old_rows[at >= 0]

    def apply_glove(self, task) -> None:
        """Put W, W~, the biases and the accumulators into a GloVe task, rows moved to the new ids."""
        V, V0 = task.w.shape[0] // 2, len(self.words)
        dim = task.w.shape[1] - 1
        word = np.concatenate([self._array("w", dim), self._array("b", None)[:, None]], axis=1)
        context = np.concatenate([self._array("w_tilde", dim), self._array("b_tilde", None)[:, None]], axis=1)
        task.w[self.new_of_old] = word
        task.w[V + self.new_of_old] = context
        gradsq = self.arrays.get("gradsq")
        if self.lr_schedule == "continue" and gradsq is not None and gradsq.shape == (2 * V0, dim + 1):
            task.gradsq[self.new_of_old] = gradsq[:V0]
            task.gradsq[V + self.new_of_old] = gradsq[V0:]

    def _array(self, name: str, dim) -> np.ndarray:
        a = self.arrays.get(name)
        where = self.source or "the init model"
        if a is None:
            raise EmbedkitError(f"{where}: the model has no {name!r} array to continue from")
        if dim is not None and (a.ndim != 2 or a.shape[1] != dim):
            raise EmbedkitError(f"{where}: array {name!r} has shape {a.shape}, expected (rows, {dim})")
        return np.asarray(a, dtype=np.float32)

    def describe(self) -> dict:
        return {"init": str(self.source) if self.source else "in memory", "model": self.model,
                "old_words": len(self.words), "added_words": self.added, "lr_schedule": self.lr_schedule,
                "update_vocab": self.vocab_changed}
