"""A labelled 2-D map of words and their nearest neighbours.

The words are either the query words (each with its `neighbors` nearest words by cosine, drawn in
the query's colour) or the `top` most frequent words of the vocabulary. Their unit vectors are
projected to 2-D by plots/projection.py (PCA or t-SNE), so the map shows cosine geometry.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedkit.config import PYTHON, Spelling
from embedkit.errors import EmbedkitError
from embedkit.plots.figure import image_format, new_figure, save_figure
from embedkit.plots.projection import PROJECTIONS, pca, project

DEFAULT_NEIGHBORS = 5          # per query word with `words`; none by default with `top`


@dataclass
class WordMap:
    """What the map shows: words[i] at xy[i]; group[i] is the index of the query word that brought it
    (its own index for a query word), -1 for `top` words; is_query[i] marks the query words."""
    words: list
    group: np.ndarray          # (n,) int64
    is_query: np.ndarray       # (n,) bool
    xy: np.ndarray             # (n, 2) float64
    method: str
    axis_labels: tuple = ("", "")


def _resolve_all(emb, words) -> list[str]:
    """The vocabulary key (or, for a subword model, the word itself) of each query word; every
    unknown word named in one error line."""
    from embedkit.embeddings import UnknownWordError
    keys, unknown = [], []
    for w in words:
        try:
            keys.append(emb.resolve(w)[0])
        except UnknownWordError as e:
            unknown.append(str(e))
    if unknown:
        raise EmbedkitError("; ".join(unknown))
    return list(dict.fromkeys(keys))


def select_words(emb, words=None, top=None, neighbors=None, restrict_vocab=None, spelling: Spelling = PYTHON):
    """(words, group, is_query) for the map (see WordMap); errors name the options in `spelling`."""
    if (words is None) == (top is None):
        raise EmbedkitError("a word map needs either words (--words W...) or top (--top N), not "
                            + ("both" if words is not None else "neither"))
    if neighbors is not None and neighbors < 0:
        raise EmbedkitError(f"{spelling.name('neighbors')} must be >= 0, got {neighbors}")
    if restrict_vocab is not None and restrict_vocab < 1:
        raise EmbedkitError(f"{spelling.name('restrict_vocab')} must be >= 1, got {restrict_vocab} "
                            "(leave it out for all words)")
    if words is not None:
        queries = _resolve_all(emb, [words] if isinstance(words, str) else list(words))
        if not queries:
            raise EmbedkitError("a word map needs at least one word")
        k = DEFAULT_NEIGHBORS if neighbors is None else neighbors
    else:
        if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 2:
            raise EmbedkitError(f"{spelling.name('top')} must be an integer >= 2, got {top!r}")
        if top > len(emb):        # not cut silently: the user would take the map for what was asked
            raise EmbedkitError(f"{spelling.name('top')} {top:,} is more than the {len(emb):,} words of the "
                                f"vectors; give {spelling.name('top')} {len(emb)} or fewer")
        queries = emb.words[:top]
        k = neighbors or 0
    found = emb.most_similar_batch(queries, topn=k, restrict_vocab=restrict_vocab) if k else [[]] * len(queries)
    order, group = {}, []
    for g, (q, near) in enumerate(zip(queries, found)):
        for w in [q] + [w for w, _ in near]:
            if w not in order:
                order[w] = len(order)
                group.append(g if words is not None else -1)
    out = list(order)
    is_query = np.zeros(len(out), bool)
    is_query[[order[q] for q in queries]] = words is not None
    return out, np.asarray(group, np.int64), is_query


def layout(emb, words=None, top=None, neighbors=None, method="pca", seed=1, restrict_vocab=None,
           spelling: Spelling = PYTHON) -> WordMap:
    """The words of the map and their 2-D coordinates (no drawing)."""
    if method not in PROJECTIONS:
        raise EmbedkitError(f"unknown projection method {method!r}; choose from {', '.join(PROJECTIONS)}")
    chosen, group, is_query = select_words(emb, words, top, neighbors, restrict_vocab, spelling)
    if len(chosen) < 2:
        raise EmbedkitError(f"a word map needs at least 2 words to place, got {len(chosen)} "
                            "(ask for neighbours: --neighbors N)")
    x = np.stack([emb.get_vector(w, norm=True) for w in chosen])          # (n, D) unit rows
    xy = project(x, method, seed)
    if method == "pca":
        ratio = pca(x, 2)[1]
        labels = tuple(f"PC{i + 1} ({100 * r:.1f}% of the variance)" for i, r in enumerate(ratio))
    else:
        labels = ("t-SNE 1", "t-SNE 2")
    return WordMap(chosen, group, is_query, xy, method, labels)


def _label_offsets(points: np.ndarray, words: list, sizes: list) -> list:
    """An offset in points for each label, beside its dot: of six places around the dot, the first
    that overlaps no label placed before and no dot (else the one that overlaps least).
    points: (n, 2) the dots in points on the page. Labels are placed in the order given.
    Each label is scored against all boxes at once in numpy: the loop over boxes in Python took
    about 200 s for 5,366 labels (n^2 pairs), this about 3 s."""
    n = len(points)
    boxes = np.empty((2 * n, 4))                    # (2n, 4) x0, y0, x1, y1: the dots, then the labels placed
    boxes[:n, :2], boxes[:n, 2:] = points - 3, points + 3
    out = []
    for k, ((x, y), w, size) in enumerate(zip(points, words, sizes)):
        wide, high = 0.62 * size * len(w), 1.1 * size
        tries = np.array([(4, 3), (4, -3 - high), (-4 - wide, 3), (-4 - wide, -3 - high), (-wide / 2, 5),
                          (-wide / 2, -5 - high)])                                      # (6, 2)
        cand = np.hstack([tries + (x, y), tries + (x + wide, y + high)])               # (6, 4)
        other = boxes[:n + k]
        dx = np.minimum(cand[:, None, 2], other[:, 2]) - np.maximum(cand[:, None, 0], other[:, 0])   # (6, n + k)
        dy = np.minimum(cand[:, None, 3], other[:, 3]) - np.maximum(cand[:, None, 1], other[:, 1])
        best = int(np.argmin((dx.clip(0) * dy.clip(0)).sum(axis=1)))
        boxes[n + k] = cand[best]
        out.append(tuple(tries[best].tolist()))
    return out


def draw_map(m: WordMap, title: str = ""):
    """A matplotlib Figure: one dot and label per word, each query word's group in its colour."""
    fig = new_figure(8.0, 6.5)
    ax = fig.subplots()
    import matplotlib
    cmap = matplotlib.colormaps["tab10"]
    colors = [cmap(g % 10) if g >= 0 else "tab:blue" for g in m.group.tolist()]
    ax.scatter(m.xy[:, 0], m.xy[:, 1], s=np.where(m.is_query, 60, 18), c=colors, alpha=0.85, linewidths=0)
    ax.set_xlabel(m.axis_labels[0], fontsize=9)
    ax.set_ylabel(m.axis_labels[1], fontsize=9)
    ax.set_title(title, fontsize=10)
    ax.tick_params(labelsize=7)
    ax.margins(0.1)
    ax.grid(alpha=0.25)
    small = len(m.words) <= 150
    sizes = [(10 if q else 8) if small else 6 for q in m.is_query.tolist()]
    fig.draw_without_rendering()                        # lay out the axes: where the dots fall on the page
    points = ax.transData.transform(m.xy) * (72.0 / fig.dpi)
    order = np.argsort(~m.is_query, kind="stable")      # query words' labels are placed first
    offsets = dict(zip(order.tolist(), _label_offsets(points[order], [m.words[i] for i in order],
                                                       [sizes[i] for i in order])))
    for i, ((x, y), w, q, c) in enumerate(zip(m.xy, m.words, m.is_query, colors)):
        ax.annotate(w, (x, y), xytext=offsets[i], textcoords="offset points", color=c if q else "0.15",
                    fontsize=sizes[i], fontweight="bold" if q else "normal", va="bottom", ha="left")
    return fig


def plot_map(vectors, out, words=None, top=None, neighbors=None, method="pca", seed=1,
             restrict_vocab=None, spelling: Spelling = PYTHON) -> WordMap:
    """Draw a labelled 2-D map into `out` (.png, .svg or .pdf), written atomically.

    vectors: an Embeddings, or anything embedkit.load reads (a vectors file or a model folder).
    words: query words, each drawn with its `neighbors` nearest words (default 5); or top: the N
    most frequent words (at most all of them; with `neighbors` each, default none). method: "pca"
    (numpy) or "tsne" (scikit-learn, seeded by `seed`). restrict_vocab: neighbours only among the N
    most frequent words. spelling: how errors name the options (config.CLI: as flags)."""
    image_format(out)
    source = ""
    if isinstance(vectors, (str, os.PathLike)):
        from embedkit.io import load
        source = Path(vectors).name
        vectors = load(vectors)
    m = layout(vectors, words, top, neighbors, method, seed, restrict_vocab, spelling)
    what = (f"{int(m.is_query.sum())} words and their nearest neighbours" if m.is_query.any()
            else f"the {len(m.words)} most frequent words")
    title = f"{'PCA' if method == 'pca' else 't-SNE'} map of {what}" + (f" ({source})" if source else "")
    save_figure(draw_map(m, title), out)
    return m
