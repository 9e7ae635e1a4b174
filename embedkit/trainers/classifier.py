"""fastText-style supervised classification (Joulin et al. 2017, "Bag of Tricks"): one more
(architecture, objective) pair on the word2vec walker.

The trainer turns the read lines (corpus/labelled.py) into example records (kernels/examples.py:
labels, then the input rows of the line's words, "</s>" and hashed word n-grams, and char
n-grams of the words with --maxn > 0), builds the objective's tables over the *labels* (softmax
and one-vs-all: every label row; ns: noise over label count**0.5; hs: a Huffman tree of the label
counts, so frequent labels get short paths) and hands a Word2VecTask with step "supervised" to
the backend of its table row (trainers/backends.py: the numba walker's SUPERVISED step,
kernels/supervised.py) and to the one runner (trainers/runner.py: progress bar, log).

As fastText supervised: w_in ~ U(-1/dim, 1/dim) (words, then bucket rows), w_out = 0; no
subsampling; the learning rate falls linearly from lr to 0 over all tokens of all epochs; a line
with several labels trains (softmax, ns, hs) on one drawn uniformly per epoch, or (ova) on all;
lines are visited in file order. Differences: workers split the lines into contiguous shards,
each worker one pass per epoch (fastText's threads start at file offsets and loop until the token
budget is spent); with several workers each trains on its own copy of the label rows, merged
into the shared ones every 32 examples (kernels/label_rows.py; fastText's threads share them);
a noise draw equal to the target is dropped, not redrawn; words below --min-count are dropped
in training with their char n-grams (fastText still adds those n-grams);
--pretrained-vectors sets the rows of the training vocabulary's words found in the file
(fastText also adds the file's other words to the vocabulary).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from embedkit.classifier import Classifier
from embedkit.config import ClassifierConfig
from embedkit.corpus.labelled import LabelledCorpus
from embedkit.errors import EmbedkitError
from embedkit.kernels.objectives import HuffmanTables, NoiseTables, OneVsAllTables, SoftmaxTables
from embedkit.kernels.word2vec import Weights
from embedkit.tables.alias import alias_table
from embedkit.tables.huffman import huffman_tree
from embedkit.tables.noise import noise_weights
from embedkit.trainers.runner import TrainContext, TrainResult, run_task
from embedkit.trainers.tasks import Word2VecTask

NS_EXPONENT = 0.5        # fastText's noise distribution, over label counts


def label_tables(label_counts: np.ndarray, cfg: ClassifierConfig):
    """The objective's tables over the labels and the number of output rows they address."""
    L = len(label_counts)
    if cfg.objective == "softmax":
        return SoftmaxTables(L), L
    if cfg.objective == "ova":
        return OneVsAllTables(L), L
    if cfg.objective == "ns":
        prob, alias = alias_table(noise_weights(label_counts, NS_EXPONENT))
        return NoiseTables(prob, alias, int(cfg.negative)), L
    points, codes, code_len = huffman_tree(label_counts)
    return HuffmanTables(points.astype(np.int32), codes.astype(np.int8), code_len.astype(np.int32)), max(L - 1, 1)


def input_rows(V: int, cfg: ClassifierConfig) -> int:
    """Rows of w_in: the words, and the bucket rows when word n-grams or char n-grams are on."""
    return V + (cfg.bucket if cfg.word_ngrams > 1 or cfg.maxn > 0 else 0)


def init_input(n_rows: int, dim: int, seed: int) -> np.ndarray:
    """(n_rows, dim) float32 ~ U(-1/dim, 1/dim), fastText's supervised initialisation."""
    w = np.random.default_rng(seed).random((n_rows, dim), dtype=np.float32)
    w *= np.float32(2.0 / dim)
    w -= np.float32(1.0 / dim)
    return w


def load_pretrained(w_in: np.ndarray, words: list, path: str) -> int:
    """Copy the vectors of `path` (any format embedkit.io.load reads) into the rows of the words
    found in it; returns how many. Another dimension is an error."""
    from embedkit.io import load
    emb = load(path)
    if emb.dim != w_in.shape[1]:
        raise EmbedkitError(f"--pretrained-vectors {path} has dimension {emb.dim}, the model has --dim {w_in.shape[1]}")
    found = [(i, emb.index[w]) for i, w in enumerate(words) if w in emb.index]
    if found:
        rows, src = map(np.asarray, zip(*found))
        w_in[rows] = emb.vectors[src]
    return len(found)


def train_classifier(corpus: LabelledCorpus, cfg: ClassifierConfig, ctx: TrainContext = TrainContext()) -> TrainResult:
    """Train the classifier on a read training file; the result's embeddings are a Classifier."""
    words, V = corpus.words, len(corpus.words)
    n_in = input_rows(V, cfg)
    if n_in > 2**31 - 1:
        raise EmbedkitError(f"vocabulary ({V:,}) + --bucket ({cfg.bucket:,}) rows do not fit int32 row ids")
    tables, n_out = label_tables(corpus.label_counts, cfg)
    w_in = init_input(n_in, cfg.dim, cfg.seed)
    w_out = np.zeros((n_out, cfg.dim), np.float32)
    pretrained = load_pretrained(w_in, words, cfg.pretrained_vectors) if cfg.pretrained_vectors else None
    settings = {**dataclasses.asdict(cfg), "label_prefix": corpus.label_prefix}
    model = Classifier(words, corpus.counts, corpus.labels, corpus.label_counts, w_in, w_out, settings)
    lines = corpus.lines
    type_label = np.where(corpus.label_of_type >= 0, corpus.label_of_type, -1).astype(np.int32)
    tokens, offsets, _ = model.records(lines, corpus.word_of_type, type_label, training=True, oov=False)
    task = Word2VecTask(step="supervised", tokens=tokens, offsets=offsets, keep_prob=np.ones(1, np.float32),
                        weights=Weights(model.w_in, model.w_out, model.bag_ptr, model.bag_ids), tables=tables,
                        window=1, lr_start=float(cfg.lr), lr_end=0.0, epochs=cfg.epochs, workers=cfg.workers,
                        seed=cfg.seed, device=cfg.device)
    _, log = run_task("classifier", cfg, task, ctx,      # the task's weights are the model's arrays
                      hints={"diverged": "try a lower --lr", "empty": "no line has both a label and a word"})
    model.refresh_vectors()
    log.update({"config": dataclasses.asdict(cfg), "backend": cfg.backend, "step": "supervised",
                "examples_per_epoch": int(len(offsets) - 1), "record_tokens": int(len(tokens)),
                "vocab_size": V, "labels": len(corpus.labels), "input_rows": int(n_in),
                "pretrained_words": pretrained})
    return TrainResult(model, model.arrays(), log)
