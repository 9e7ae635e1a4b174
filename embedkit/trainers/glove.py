"""GloVe (Pennington, Socher & Manning 2014): co-occurrence counts -> weighted least squares, AdaGrad.

    result = train_glove(corpus, GloVeConfig(epochs=15))     # a TrainResult (trainers/runner.py)

The co-occurrence matrix X comes from corpus/cooccur.py (window cfg.window, 1/distance weights, as
GloVe's cooccur) unless one is passed, and is cached beside the encoded corpus. Every stored
non-zero (i, j) is one training example, both triangles, as glove.c trains on every record cooccur
writes. The backend comes from trainers/backends.py's table: numba (trainers/glove_numba.py: worker
threads over a fresh permutation of the non-zeros each epoch) or torch (embedkit/torch/glove.py:
the same objective in mini-batches, on CPU or GPU).

Choices where the reference is silent or differs: the parameters are float32 (glove.c: double);
entries are reshuffled every epoch (glove.c reads one shuffled file in the same order every
iteration); a non-finite diff stops training with an error (glove.c skips the update and goes on).
Defaults are glove.c's (x_max 100, alpha 0.75, eta 0.05, 25 iterations); for a corpus of text8's
size or smaller, GloVe's own demo uses x_max 10 and window 15 (see benchmarks/bench_glove.py).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import scipy.sparse

from embedkit.config import CooccurConfig, GloVeConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.errors import EmbedkitError
from embedkit.memory import allocating, check_fits
from embedkit.trainers.runner import TrainContext, TrainResult, run_task
from embedkit.trainers.tasks import GloVeTask


# ---- the co-occurrence matrix: given, cached or counted ----

def cooccur_cache_path(corpus: EncodedCorpus, window: int) -> Path | None:
    """<cache>/<corpus fingerprint>/cooccur-window<W>-harmonic.npz, or None when the corpus has no
    cache folder (uncached or read from standard input): the matrix is then counted every time."""
    fp = getattr(corpus, "fingerprint", None)
    if not fp:
        return None
    from embedkit.cache import cache_root
    folder = cache_root() / fp
    return folder / f"cooccur-window{window}-harmonic.npz" if folder.is_dir() else None


def get_cooccurrences(corpus: EncodedCorpus, cfg: GloVeConfig, cache: bool = True,
                      progress: bool = False) -> tuple[scipy.sparse.csr_matrix, str]:
    """(X, source): X from the cache when it matches the corpus and window, else counted (and cached)."""
    from embedkit.corpus.cooccur import count_cooccurrences, load_cooccur, save_cooccur
    path = cooccur_cache_path(corpus, cfg.window) if cache else None
    if path is not None and path.is_file():
        return load_cooccur(path), "cache"
    X = count_cooccurrences(corpus, CooccurConfig(window=cfg.window, weighting="harmonic"), progress=progress)
    if path is not None:
        save_cooccur(X, path)   # atomic, uncompressed .npz
    return X, "counted"


def nonzero_entries(X, V: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows (nnz,) int32, cols (nnz,) int32, x (nnz,) float64) of the stored entries of X, without
    copying X's column ids and values when they already have these types; checks shape and values."""
    if not scipy.sparse.issparse(X):
        raise EmbedkitError("the co-occurrence matrix must be a scipy.sparse matrix")
    if X.shape != (V, V):
        raise EmbedkitError(f"the co-occurrence matrix is {X.shape[0]} x {X.shape[1]} but the vocabulary has "
                            f"{V} words: it was counted on another corpus or with other --min-count/--max-size")
    X = X.tocsr()
    x = np.asarray(X.data, dtype=np.float64)
    if x.size == 0:
        raise EmbedkitError("the co-occurrence matrix is empty: the corpus has no two in-vocabulary words "
                            "within --window of each other")
    if not (np.isfinite(x).all() and (x > 0).all()):
        raise EmbedkitError("the co-occurrence matrix has zero, negative or non-finite entries; "
                            "GloVe needs log(X_ij) of every stored entry")
    cols = np.asarray(X.indices, dtype=np.int32)
    rows = np.repeat(np.arange(V, dtype=np.int32), np.diff(X.indptr))   # (nnz,) row of each entry
    return rows, cols, x


# ---- parameters ----

def init_params(V: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """glove.c's initialisation: every weight and bias uniform in [-0.5/dim, 0.5/dim], every AdaGrad
    accumulator 1. Returns (w, gradsq), both (2V, dim+1) float32 in kernels/glove.py's layout."""
    rng = np.random.default_rng(seed)
    w = ((rng.random((2 * V, dim + 1), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    gradsq = np.ones((2 * V, dim + 1), dtype=np.float32)
    return w, gradsq


def split_params(w: np.ndarray) -> dict[str, np.ndarray]:
    """{"w" (V, D), "w_tilde" (V, D), "b" (V,), "b_tilde" (V,)} float32 copies from the (2V, D+1) layout."""
    V, dim = w.shape[0] // 2, w.shape[1] - 1
    return {"w": np.ascontiguousarray(w[:V, :dim]), "w_tilde": np.ascontiguousarray(w[V:, :dim]),
            "b": np.ascontiguousarray(w[:V, dim]), "b_tilde": np.ascontiguousarray(w[V:, dim])}


def output_vectors(parts: dict[str, np.ndarray], kind: str) -> np.ndarray:
    """sum: W + W~ (glove.c -model 2, the default); word: W (-model 1); concat: [W, W~] (V, 2D)."""
    if kind == "sum":
        return parts["w"] + parts["w_tilde"]
    if kind == "word":
        return parts["w"].copy()
    if kind == "concat":
        return np.concatenate([parts["w"], parts["w_tilde"]], axis=1)
    raise EmbedkitError(f"--output-vectors must be sum, word or concat, got {kind!r}")


def weight_arrays(cfg: GloVeConfig, V: int) -> tuple[dict, str, str]:
    """The memory check's plan (embedkit/memory.py): parameters and AdaGrad accumulators."""
    shape = (2 * V, cfg.dim + 1)
    return ({"w": shape, "gradsq": shape}, f"--dim {cfg.dim:,} and {V:,} words",
            "lower --dim, or keep fewer words (--min-count, --max-size)")


# ---- entry point ----

def train_glove(corpus: EncodedCorpus, cfg: GloVeConfig, ctx: TrainContext = TrainContext()) -> TrainResult:
    """Train GloVe on `corpus`, or on ctx.cooccur when given ((V, V) in vocabulary order).

    The result's embeddings are cfg.output_vectors; its arrays {"w", "w_tilde", "b", "b_tilde",
    "vectors"}; its log {"config", "epochs": [{"epoch", "cost", "seconds", ...}], "cooccur_seconds",
    "cooccur_source", "train_seconds", "wall_seconds", ...}. The epoch "cost" is glove.c's printed
    cost: sum_ij 0.5 f(X_ij) diff^2 / number of non-zeros. ctx.cache=False neither reads nor writes
    the matrix cache."""
    from embedkit.embeddings import Embeddings

    t_start = time.perf_counter()
    V = len(corpus.vocab)
    arrays, settings, fix = weight_arrays(cfg, V)
    check_fits(arrays, settings, fix)             # before counting co-occurrences and allocating
    if ctx.cooccur is None:
        cooccur, source = get_cooccurrences(corpus, cfg, cache=ctx.cache, progress=not ctx.quiet)
    else:
        cooccur, source = ctx.cooccur, "given"
    rows, cols, x = nonzero_entries(cooccur, V)
    cooccur_seconds = time.perf_counter() - t_start
    with allocating(settings, fix):
        w, gradsq = init_params(V, cfg.dim, cfg.seed)
    task = GloVeTask(rows=rows, cols=cols, x=x, w=w, gradsq=gradsq, x_max=cfg.x_max, alpha=cfg.alpha, eta=cfg.eta,
                     epochs=cfg.epochs, workers=cfg.workers, seed=cfg.seed, device=cfg.device,
                     batch_size=cfg.batch_size)
    if ctx.init is not None:
        ctx.init.apply_glove(task)
    words = list(corpus.vocab.words)
    trained, log = run_task("glove", cfg, task, ctx,
                            view=lambda arrays: (words, output_vectors(split_params(arrays["w"]), cfg.output_vectors)))
    w = trained["w"]
    parts = split_params(w)
    vectors = output_vectors(parts, cfg.output_vectors)
    emb = Embeddings(list(corpus.vocab.words), vectors, counts=corpus.vocab.counts)
    log.update({"config": dataclasses.asdict(cfg), "backend": cfg.backend, "cooccur_source": source,
                "cooccur_seconds": cooccur_seconds, "nonzeros": int(len(x)), "vocab_size": V,
                "corpus_tokens": int(corpus.n_tokens), "seconds_per_epoch": log["train_seconds"] / cfg.epochs,
                "wall_seconds": time.perf_counter() - t_start})
    # gradsq: (2V, D+1) AdaGrad accumulators, kept so that a continued run goes on from them
    return TrainResult(emb, {**parts, "vectors": vectors, "gradsq": trained["gradsq"]}, log)
