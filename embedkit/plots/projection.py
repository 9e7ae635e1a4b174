"""2-D projections of a few hundred vectors, for maps: a table of name -> function(x, seed) -> (n, 2).

PCA is numpy's SVD of the centred rows. t-SNE is scikit-learn's (van der Maaten & Hinton 2008;
Barnes-Hut), seeded, started from the PCA layout; it is imported only when chosen.
"""
from __future__ import annotations

import warnings

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.plots.figure import optional_import


def pca(x: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates (n, k) float64, explained variance ratio (k,)) of the rows of x (n, D).

    The components are the top right singular vectors of the centred rows; each is signed so that
    its largest-magnitude loading is positive (as scikit-learn's svd_flip), so the layout does not
    depend on the LAPACK build. Components beyond the rank of x are zeros."""
    x = np.asarray(x, np.float64)
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)      # vt: (min(n, D), D)
    k = min(n_components, vt.shape[0])
    comps = vt[:k]
    signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
    comps = comps * np.where(signs == 0, 1.0, signs)[:, None]
    coords = np.zeros((x.shape[0], n_components))
    coords[:, :k] = xc @ comps.T
    var = s ** 2
    ratio = np.zeros(n_components)
    if var.sum() > 0:
        ratio[:k] = var[:k] / var.sum()
    return coords, ratio


def pca_2d(x: np.ndarray, seed: int = 1) -> np.ndarray:
    return pca(x, 2)[0]


def tsne_2d(x: np.ndarray, seed: int = 1) -> np.ndarray:
    """scikit-learn's t-SNE of the rows, seeded; perplexity 30, or (n - 1) / 3 for fewer than 91 points.

    It runs on one OpenMP thread: a map's few hundred points take a second that way, while several
    threads on a loaded machine spun for ten (numba may hold an OpenMP runtime of its own too)."""
    optional_import("sklearn", "scikit-learn", "--method tsne")
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    n = x.shape[0]
    if n < 3:
        raise EmbedkitError(f"t-SNE needs at least 3 words to place, got {n}")
    perplexity = min(30.0, (n - 1) / 3.0)
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")          # scikit-learn's notices about changing defaults
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed, learning_rate="auto")
        return np.asarray(tsne.fit_transform(np.asarray(x, np.float64)), np.float64)


PROJECTIONS = {"pca": pca_2d, "tsne": tsne_2d}


def project(x: np.ndarray, method: str = "pca", seed: int = 1) -> np.ndarray:
    """(n, 2) coordinates of the rows of x by `method` (a PROJECTIONS key)."""
    func = PROJECTIONS.get(method)
    if func is None:
        raise EmbedkitError(f"unknown projection method {method!r}; choose from {', '.join(PROJECTIONS)}")
    return func(x, seed)
