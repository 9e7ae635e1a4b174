"""Skip-gram / CBOW with negative sampling or hierarchical softmax (Mikolov et al. 2013).

The trainer never sees strings: it takes an EncodedCorpus, builds the sampling tables, picks the
(architecture, objective) kernel pair from KERNELS and runs one GIL-free kernel call per worker
and epoch. The subword model (trainers/subword.py) calls train_bags() with larger input bags.

Choices where the reference tools differ (see DESIGN.md): skip-gram's centre bag predicts the
context (fastText); noise exponent 0.75; subsampling 1e-3; ns and hs are exclusive (fastText);
windows never cross sentence pieces (gensim and word2vec C cut long lines the same way).
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from embedkit.config import Word2VecConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.errors import EmbedkitError
from embedkit.kernels import word2vec as kw
from embedkit.kernels import walker
from embedkit.kernels.random import seed_states
from embedkit.tables.huffman import huffman_tree
from embedkit.tables.alias import alias_table
from embedkit.tables.noise import noise_weights
from embedkit.tables.subsample import keep_probabilities
from embedkit.trainers.base import EpochProgress, run_threads, split_shards

# (arch, objective) -> the codes of kernels/walker.py's specialised epoch kernel
KERNELS = {("skipgram", "ns"): (walker.SKIPGRAM, kw.NS), ("skipgram", "hs"): (walker.SKIPGRAM, kw.HS),
           ("cbow", "ns"): (walker.CBOW, kw.NS), ("cbow", "hs"): (walker.CBOW, kw.HS)}
# skip-gram trained window by window as mini-batches (kernels/window_batch.py). For NS the window
# shares its noise words (single thread on a text8 slice: 425k against 281k words/s per pair). For
# HS the batch scores the same pairs and is slower on one thread (285k against 364k), but it writes
# the hot top-of-tree rows once per window instead of once per pair, and with 2 workers on text8
# it was faster (372-394k against 227-303k words/s, 1 epoch, alternating runs).
WINDOW_BATCH_KERNELS = {("skipgram", "ns"): (walker.SKIPGRAM_WINDOW, kw.NS),
                        ("skipgram", "hs"): (walker.SKIPGRAM_WINDOW, kw.HS)}


def pick_kernel(cfg: Word2VecConfig):
    """The (arch, objective) codes of the epoch kernel for this config."""
    if cfg.window_batch and (cfg.arch, cfg.objective) in WINDOW_BATCH_KERNELS:
        return WINDOW_BATCH_KERNELS[(cfg.arch, cfg.objective)]
    return KERNELS[(cfg.arch, cfg.objective)]


def validate(cfg: Word2VecConfig) -> None:
    checks = [("dim", cfg.dim >= 1), ("window", cfg.window >= 1), ("epochs", cfg.epochs >= 1),
              ("workers", cfg.workers >= 1), ("sample", cfg.sample >= 0), ("min_lr_ratio", 0 <= cfg.min_lr_ratio <= 1),
              ("negative", cfg.negative >= 1 or cfg.objective != "ns"), ("lr", cfg.start_lr() > 0)]
    for name, ok in checks:
        if not ok:
            raise EmbedkitError(f"--{name.replace('_', '-')} has an invalid value: {getattr(cfg, name)!r}")
    if (cfg.arch, cfg.objective) not in KERNELS:
        raise EmbedkitError(f"unknown model/objective pair {cfg.arch}/{cfg.objective}")


def objective_tables(counts: np.ndarray, cfg: Word2VecConfig):
    """The tables tuple of kernels/word2vec.py and the number of output rows."""
    V = len(counts)
    if cfg.objective == "ns":
        prob, alias = alias_table(noise_weights(counts, cfg.ns_exponent))
        return (prob, alias, int(cfg.negative), np.zeros((1, 1), np.int32), np.zeros((1, 1), np.int8),
                np.zeros(1, np.int32)), V
    points, codes, code_len = huffman_tree(counts)
    return (np.ones(1, np.float64), np.zeros(1, np.int32), 0, points.astype(np.int32), codes.astype(np.int8),
            code_len.astype(np.int32)), max(V - 1, 1)


def plain_bags(V: int):
    """Each word's bag is its own row: bag_ptr (V+1,) int64, bag_ids (V,) int32."""
    return np.arange(V + 1, dtype=np.int64), np.arange(V, dtype=np.int32)


def init_weights(n_in: int, n_out: int, dim: int, seed: int):
    """w_in ~ U(-0.5/dim, 0.5/dim) (word2vec C), w_out = 0; both (rows, dim) float32."""
    rng = np.random.default_rng(seed)
    w_in = rng.random((n_in, dim), dtype=np.float32)   # filled in place: no second copy of a 2M-row table
    w_in -= np.float32(0.5)
    w_in /= np.float32(dim)
    w_out = np.zeros((n_out, dim), dtype=np.float32)
    return w_in, w_out


def train_bags(corpus: EncodedCorpus, cfg: Word2VecConfig, bag_ptr, bag_ids, n_in_rows: int,
               quiet: bool = False) -> tuple[np.ndarray, np.ndarray, dict]:
    """Train on input bags; returns (w_in (n_in_rows, dim), w_out, training log)."""
    validate(cfg)
    counts = corpus.vocab.counts
    V = len(counts)
    if corpus.n_tokens == 0:
        raise EmbedkitError("the corpus has no in-vocabulary tokens to train on")
    arch_code, objective_code = pick_kernel(cfg)
    tables, n_out = objective_tables(counts, cfg)
    keep = keep_probabilities(counts, cfg.sample).astype(np.float32)
    w_in, w_out = init_weights(n_in_rows, n_out, cfg.dim, cfg.seed)
    tokens = np.asarray(corpus.tokens)
    offsets = np.asarray(corpus.offsets, dtype=np.int64)
    shards = split_shards(offsets, cfg.workers)
    n_workers = len(shards)
    # one separate (1,) array per worker: a shared array would put every draw of both threads on one cache line
    states = [np.array([s], dtype=np.uint64) for s in seed_states(cfg.seed, n_workers)]
    lr0 = float(cfg.start_lr())
    lr1 = lr0 * cfg.min_lr_ratio
    total_words = float(corpus.n_tokens) * cfg.epochs
    progress = np.zeros(n_workers, dtype=np.int64)   # words read per worker, all epochs
    bar = EpochProgress(int(total_words), cfg.epochs, quiet)
    epochs_log = []
    t_start = time.perf_counter()
    try:
        for epoch in range(cfg.epochs):
            running = np.zeros((n_workers, 2), dtype=np.float64)  # (loss_sum, n_examples) per worker
            t0 = time.perf_counter()

            def work(k, epoch=epoch, running=running):
                s0, s1 = shards[k]
                return walker.walk_shard(arch_code, objective_code, (tokens, offsets, keep), s0, s1, (w_in, w_out, bag_ptr, bag_ids), tables,
                              (cfg.window, lr0, lr1, total_words), (progress, running, k, states[k]))

            def poll(epoch=epoch, running=running):
                done = int(progress.sum())
                n = running[:, 1].sum()
                lr = lr0 + (lr1 - lr0) * min(1.0, done / total_words)
                bar.update(done, epoch, lr, running[:, 0].sum() / n if n else float("nan"))

            results = run_threads(work, n_workers, poll)
            seconds = time.perf_counter() - t0
            loss = sum(r[0] for r in results)
            n_ex = sum(r[1] for r in results)
            mean_loss = loss / n_ex if n_ex else float("nan")
            if not np.isfinite(mean_loss):
                raise EmbedkitError(f"training diverged in epoch {epoch + 1} (loss {mean_loss}); try a lower --lr")
            epochs_log.append({"epoch": epoch + 1, "loss": float(mean_loss), "examples": int(n_ex),
                               "seconds": seconds, "words_per_second": corpus.n_tokens / seconds})
    finally:
        bar.close()
    wall = time.perf_counter() - t_start
    log = {"config": dataclasses.asdict(cfg), "epochs": epochs_log, "train_seconds": wall,
           "words_per_second": total_words / wall, "corpus_tokens": int(corpus.n_tokens), "vocab_size": V}
    return w_in, w_out, log


def train_word2vec(corpus: EncodedCorpus, cfg: Word2VecConfig, quiet: bool = False):
    """Plain skip-gram/CBOW. Returns (Embeddings of w_in, arrays to save, training log)."""
    from embedkit.embeddings import Embeddings
    V = len(corpus.vocab)
    bag_ptr, bag_ids = plain_bags(V)
    w_in, w_out, log = train_bags(corpus, cfg, bag_ptr, bag_ids, V, quiet)
    emb = Embeddings(list(corpus.vocab.words), w_in, counts=corpus.vocab.counts)
    return emb, {"vectors": w_in, "w_in": w_in, "w_out": w_out}, log
