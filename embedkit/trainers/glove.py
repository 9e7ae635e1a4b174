"""GloVe (Pennington, Socher & Manning 2014): co-occurrence counts -> weighted least squares, AdaGrad.

    emb, arrays, log = train_glove(corpus, GloVeConfig(epochs=15))

The co-occurrence matrix X comes from corpus/cooccur.py (window cfg.window, 1/distance weights, as
GloVe's cooccur) unless one is passed, and is cached beside the encoded corpus. Every stored
non-zero (i, j) is one training example, both triangles, as glove.c trains on every record cooccur
writes. The numba backend runs `workers` GIL-free kernel calls per epoch, each over its slice of a
fresh permutation of the non-zeros (Hogwild when workers > 1; workers = 1 is bit-reproducible).
The torch backend (embedkit/torch/glove.py) runs the same objective in mini-batches.

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
from embedkit.kernels import glove as kg
from embedkit.kernels.random import seed_states
from embedkit.trainers.base import run_threads

GRAD_CLIP = 100.0          # glove.c's grad_clip_value: each gradient component is clipped to +-100
SHUFFLE_BUCKET = 1 << 17   # entries per bucket of the permutation kernel (512 KB of int32: fits L2)


def validate(cfg: GloVeConfig) -> None:
    checks = [("dim", cfg.dim >= 1), ("window", cfg.window >= 1), ("epochs", cfg.epochs >= 1),
              ("workers", cfg.workers >= 1), ("x_max", cfg.x_max > 0), ("alpha", cfg.alpha >= 0),
              ("eta", cfg.eta > 0), ("batch_size", cfg.batch_size >= 1)]
    for name, ok in checks:
        if not ok:
            raise EmbedkitError(f"--{name.replace('_', '-')} has an invalid value: {getattr(cfg, name)!r}")
    if cfg.output_vectors not in ("sum", "word", "concat"):
        raise EmbedkitError(f"--output-vectors must be sum, word or concat, got {cfg.output_vectors!r}")
    if cfg.backend not in ("numba", "torch"):
        raise EmbedkitError(f"--backend must be numba or torch, got {cfg.backend!r}")


# ---- the co-occurrence matrix: given, cached or counted ----

def cooccur_cache_path(corpus: EncodedCorpus, window: int) -> Path | None:
    """<cache>/<corpus fingerprint>/cooccur-window<W>-harmonic.npz, or None when the corpus has no
    cache folder (uncached or read from standard input): the matrix is then counted every time."""
    fp = getattr(corpus, "fingerprint", None)
    if not fp:
        return None
    from embedkit.corpus.encode import cache_root
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


def diverged(epoch: int, cfg: GloVeConfig, what: str) -> EmbedkitError:
    return EmbedkitError(f"GloVe training diverged in epoch {epoch} ({what}); try a lower --eta "
                         f"than {cfg.eta:g} (e.g. {cfg.eta / 10:g})")


# ---- numba backend ----

class _Bar:
    """tqdm bar over the non-zeros of all epochs, showing the last epoch's cost."""

    def __init__(self, total: int, epochs: int, quiet: bool):
        self.bar, self.epochs, self.cost = None, epochs, None
        if not quiet:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="pair", unit_scale=True, dynamic_ncols=True, smoothing=0.1)

    def update(self, done: int, epoch: int) -> None:
        if self.bar is None:
            return
        self.bar.n = int(done)
        self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}", refresh=False)
        if self.cost is not None:
            self.bar.set_postfix(cost=f"{self.cost:.6f}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def train_numba(rows, cols, x, w, gradsq, cfg: GloVeConfig, quiet: bool = True) -> list[dict]:
    """cfg.epochs Hogwild passes of kernels/glove.glove_pass over a fresh permutation each; updates
    w and gradsq in place and returns the per-epoch log."""
    nnz = len(x)
    index_type = np.int32 if nnz < 2**31 else np.int64
    order = np.empty(nnz, dtype=index_type)          # (nnz,) this epoch's permutation of the entries
    shuffle_state = seed_states(cfg.seed, 1)
    n_buckets = -(-nnz // SHUFFLE_BUCKET)
    n_workers = max(1, min(cfg.workers, nnz))
    bounds = [nnz * k // n_workers for k in range(n_workers + 1)]
    progress = np.zeros(n_workers, dtype=np.int64)   # entries done by each worker in this epoch
    status = np.zeros(1, dtype=np.int64)             # 1 + entry id of a non-finite diff, else 0
    bar = _Bar(nnz * cfg.epochs, cfg.epochs, quiet)
    log = []
    try:
        for epoch in range(cfg.epochs):
            t0 = time.perf_counter()
            kg.random_permutation(order, shuffle_state, n_buckets)
            t_shuffle = time.perf_counter() - t0
            progress[:] = 0

            def work(k):
                return kg.glove_pass(rows, cols, x, order, bounds[k], bounds[k + 1], w, gradsq, cfg.x_max,
                                     cfg.alpha, cfg.eta, GRAD_CLIP, progress, status, k)

            results = run_threads(work, n_workers, lambda: bar.update(epoch * nnz + progress.sum(), epoch))
            seconds = time.perf_counter() - t0
            cost_sum = float(sum(r[0] for r in results))
            if status[0]:
                e = int(status[0]) - 1
                raise diverged(epoch + 1, cfg, f"non-finite error at X[{rows[e]}, {cols[e]}] = {x[e]:g}")
            if not np.isfinite(cost_sum) or not np.isfinite(w).all():
                raise diverged(epoch + 1, cfg, f"cost {cost_sum}")
            bar.cost = cost_sum / nnz
            bar.update((epoch + 1) * nnz, epoch)
            log.append({"epoch": epoch + 1, "cost": cost_sum / nnz, "cost_sum": cost_sum, "seconds": seconds,
                        "shuffle_seconds": t_shuffle, "pairs_per_second": nnz / seconds})
    finally:
        bar.close()
    return log


# ---- entry point ----

def train_glove(corpus: EncodedCorpus, cfg: GloVeConfig, cooccur=None, progress: bool = True, *,
                quiet: bool | None = None, cache: bool = True):
    """Train GloVe on `corpus` (or on the given co-occurrence matrix, (V, V) in vocabulary order).

    Returns (Embeddings of cfg.output_vectors, arrays to save {"w", "w_tilde", "b", "b_tilde",
    "vectors"}, training log {"config", "epochs": [{"epoch", "cost", "seconds", ...}],
    "cooccur_seconds", "cooccur_source", "train_seconds", "wall_seconds", ...}). The epoch "cost"
    is glove.c's printed cost: sum_ij 0.5 f(X_ij) diff^2 / number of non-zeros. `quiet`, when
    given, overrides `progress`; `cache=False` neither reads nor writes the matrix cache."""
    from embedkit.embeddings import Embeddings

    validate(cfg)
    quiet = (not progress) if quiet is None else quiet
    t_start = time.perf_counter()
    V = len(corpus.vocab)
    if cooccur is None:
        cooccur, source = get_cooccurrences(corpus, cfg, cache=cache, progress=not quiet)
    else:
        source = "given"
    rows, cols, x = nonzero_entries(cooccur, V)
    cooccur_seconds = time.perf_counter() - t_start
    w, gradsq = init_params(V, cfg.dim, cfg.seed)
    t0 = time.perf_counter()
    if cfg.backend == "torch":
        from embedkit.torch.glove import train_torch
        epochs = train_torch(rows, cols, x, w, gradsq, cfg, quiet=quiet)
    else:
        epochs = train_numba(rows, cols, x, w, gradsq, cfg, quiet=quiet)
    train_seconds = time.perf_counter() - t0
    parts = split_params(w)
    vectors = output_vectors(parts, cfg.output_vectors)
    emb = Embeddings(list(corpus.vocab.words), vectors, counts=corpus.vocab.counts)
    log = {"config": dataclasses.asdict(cfg), "epochs": epochs, "backend": cfg.backend,
           "cooccur_source": source, "cooccur_seconds": cooccur_seconds, "nonzeros": int(len(x)),
           "vocab_size": V, "corpus_tokens": int(corpus.n_tokens), "train_seconds": train_seconds,
           "seconds_per_epoch": train_seconds / cfg.epochs, "wall_seconds": time.perf_counter() - t_start}
    return emb, {**parts, "vectors": vectors}, log
