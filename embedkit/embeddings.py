"""Embeddings: a vocabulary and its (V, D) float32 vectors, with cosine queries.

Every query works on the unit-normalised matrix U (rows v / |v|, zero rows stay zero), computed
once on first use and reused. Queries are matrix products through BLAS: `nearest` scores a whole
batch of query vectors against the candidate rows in one `(Q, D) @ (D, R)` product, and the
analogy evaluator uses the same scoring functions on batches of questions.

Words outside the vocabulary: `oov_vector(word)` returns None here; a subclass (the subword
model) overrides it, and then `__getitem__`, `most_similar`, `similarity` and `analogy` accept
unseen words as query words. Candidates (the answers) are always vocabulary words.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from embedkit.errors import EmbedkitError

# Levy & Goldberg (2014), "Linguistic Regularities in Sparse and Explicit Word Representations",
# 3CosMul: argmax_x cos'(x,b) cos'(x,c) / (cos'(x,a) + eps), with cosines shifted to [0, 1] by
# cos' = (cos + 1) / 2 (as gensim's most_similar_cosmul) and eps = 0.001 as in the paper.
# (gensim uses eps = 1e-6; with shifted cosines this changes answers only when cos(x,a) ~ -1.)
COSMUL_EPSILON = 1e-3
ANALOGY_METHODS = ("3cosadd", "3cosmul")


class UnknownWordError(EmbedkitError, KeyError):
    """A query word has no vector. Both an EmbedkitError (the CLI prints one line) and a KeyError."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (float32); zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)


def cosadd_scores(cand: np.ndarray, ua: np.ndarray, ub: np.ndarray, uc: np.ndarray) -> np.ndarray:
    """3CosAdd (Mikolov et al. 2013): cos(x, b - a + c) for every candidate row x.

    cand (R, D) unit rows; ua, ub, uc (B, D) unit rows -> (B, R) float32. Ranking equals
    cos(x,b) - cos(x,a) + cos(x,c) (the query is only rescaled); the value is gensim's."""
    q = unit_rows(ub - ua + uc)                            # (B, D)
    return q @ cand.T                                      # (B, R)


def cosmul_scores(cand: np.ndarray, ua: np.ndarray, ub: np.ndarray, uc: np.ndarray,
                  eps: float = COSMUL_EPSILON) -> np.ndarray:
    """3CosMul (Levy & Goldberg 2014): cos'(x,b) cos'(x,c) / (cos'(x,a) + eps), cos' = (cos+1)/2.

    cand (R, D) unit rows; ua, ub, uc (B, D) unit rows -> (B, R) float32."""
    abc = np.concatenate([ua, ub, uc]) @ cand.T            # (3B, R): three cosine blocks, one product
    abc += 1.0
    abc *= 0.5
    ca, cb, cc = np.split(abc, 3)                          # views; combined in place (memory-bound)
    cb *= cc
    ca += np.float32(eps)
    cb /= ca
    return cb


ANALOGY_SCORES = {"3cosadd": cosadd_scores, "3cosmul": cosmul_scores}


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best k columns of each row of (B, R) `scores`, best first -> (ids (B, k), scores (B, k))."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.empty((scores.shape[0], 0), np.int64), np.empty((scores.shape[0], 0), scores.dtype)
    if k < scores.shape[1]:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    ids = np.take_along_axis(part, order, axis=1)
    return ids, np.take_along_axis(part_scores, order, axis=1)


class Embeddings:
    """Words and their vectors. `vectors` is (V, D) float32, row i belongs to `words[i]`;
    `counts` (V,) int64 corpus counts when known (None for most vector files)."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None):
        self.words = list(words)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)   # (V, D)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise EmbedkitError(f"vectors must have shape (len(words), dim) = ({len(self.words)}, D), "
                                f"got {self.vectors.shape}")
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)  # (V,)
        if self.counts is not None and self.counts.shape != (len(self.words),):
            raise EmbedkitError(f"counts must have shape ({len(self.words)},), got {self.counts.shape}")
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            seen = set()
            dup = next(w for w in self.words if w in seen or seen.add(w))
            raise EmbedkitError(f"duplicate word {dup!r} in vocabulary")
        self._unit = None

    # -- container protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        """True for vocabulary words (a subword model can still embed others: see oov_vector)."""
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        i = self.index.get(word)
        if i is not None:
            return self.vectors[i]
        v = self.oov_vector(word)
        if v is None:
            raise self._unknown(word)
        return np.asarray(v, dtype=np.float32)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self):,} words x {self.dim} dims)"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def unit(self) -> np.ndarray:
        """(V, D) float32 unit-normalised rows, computed once (rebuild after changing `vectors`
        in place by setting `self._unit = None`)."""
        if self._unit is None:
            self._unit = unit_rows(self.vectors)
        return self._unit

    def oov_vector(self, word: str) -> np.ndarray | None:
        """Vector for a word outside the vocabulary, or None. Subword models override this."""
        return None

    def _unknown(self, word) -> UnknownWordError:
        return UnknownWordError(f"unknown word {word!r}: not among the {len(self):,} words of the vocabulary")

    # -- lookups --------------------------------------------------------------------------------
    def _unit_query(self, word) -> tuple[np.ndarray, int | None]:
        """(unit vector (D,), vocabulary id or None) for a word, or for a raw vector given instead."""
        if isinstance(word, str):
            i = self.index.get(word)
            if i is not None:
                return self.unit[i], i
            v = self.oov_vector(word)
            if v is None:
                raise self._unknown(word)
            return unit_rows(v), None
        v = np.asarray(word, dtype=np.float32)
        if v.shape != (self.dim,):
            raise EmbedkitError(f"query vector must have shape ({self.dim},), got {v.shape}")
        return unit_rows(v), None

    def _candidates(self, restrict_vocab: int | None) -> np.ndarray:
        """Unit rows of the answer candidates: the first `restrict_vocab` words (all when None)."""
        if restrict_vocab is not None and restrict_vocab < 1:
            raise EmbedkitError(f"restrict_vocab must be >= 1, got {restrict_vocab}")
        return self.unit if restrict_vocab is None else self.unit[:restrict_vocab]

    def nearest(self, queries: np.ndarray, topn: int = 10, restrict_vocab: int | None = None,
                exclude: Sequence[Iterable[int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cosine top-`topn` vocabulary ids for each row of `queries` (Q, D), in one matrix product.

        `exclude[q]` lists ids never returned for query q. Returns (ids (Q, k), cosines (Q, k)),
        k <= topn; excluded or missing slots (tiny vocabularies) have id -1."""
        cand = self._candidates(restrict_vocab)
        q = unit_rows(np.atleast_2d(queries))              # (Q, D)
        scores = q @ cand.T                                # (Q, R)
        n_excl = 0
        if exclude is not None:
            for row, ids in enumerate(exclude):
                ids = [i for i in ids if i is not None and 0 <= i < cand.shape[0]]
                scores[row, ids] = -np.inf
                n_excl = max(n_excl, len(ids))
        ids, best = top_k(scores, topn + n_excl)
        ids = np.where(np.isneginf(best), -1, ids)
        return ids, best

    def _results(self, ids: np.ndarray, scores: np.ndarray, topn: int) -> list[tuple[str, float]]:
        out = [(self.words[i], float(s)) for i, s in zip(ids.tolist(), scores.tolist()) if i >= 0]
        return out[:topn]

    def most_similar(self, positive, negative=(), topn: int = 10,
                     restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """Words nearest (cosine) to the mean of the unit vectors of `positive` minus those of
        `negative` (words or vectors), the query words themselves excluded; as gensim."""
        def as_list(terms):  # one word or vector, or a list of them
            single = isinstance(terms, str) or (isinstance(terms, np.ndarray) and terms.ndim == 1)
            return [terms] if single else list(terms)
        positive, negative = as_list(positive), as_list(negative)
        if not positive and not negative:
            raise EmbedkitError("most_similar needs at least one word")
        terms = [self._unit_query(w) for w in positive] + [self._unit_query(w) for w in negative]
        weights = np.array([1.0] * len(positive) + [-1.0] * len(negative), dtype=np.float32)
        query = weights @ np.stack([u for u, _ in terms])  # (D,)
        ids, best = self.nearest(query[None, :], topn, restrict_vocab, exclude=[[i for _, i in terms]])
        return self._results(ids[0], best[0], topn)

    def most_similar_batch(self, words: Sequence[str], topn: int = 10,
                           restrict_vocab: int | None = None) -> list[list[tuple[str, float]]]:
        """most_similar of each word separately, scored in one matrix product."""
        terms = [self._unit_query(w) for w in words]
        if not terms:
            return []
        ids, best = self.nearest(np.stack([u for u, _ in terms]), topn, restrict_vocab,
                                 exclude=[[i] for _, i in terms])
        return [self._results(ids[r], best[r], topn) for r in range(len(terms))]

    def similarity(self, a, b) -> float:
        """Cosine similarity of two words (or vectors)."""
        return float(self._unit_query(a)[0] @ self._unit_query(b)[0])

    def analogy(self, a, b, c, method: str = "3cosadd", topn: int = 1,
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """a is to b as c is to ? -> [(word, score)], best first, a/b/c themselves excluded.

        3cosadd ranks by cos(x, b - a + c) (scores are cosines); 3cosmul by
        cos'(x,b) cos'(x,c) / (cos'(x,a) + 0.001) with cos' = (cos+1)/2 (Levy & Goldberg 2014)."""
        if method not in ANALOGY_SCORES:
            raise EmbedkitError(f"analogy method must be one of {', '.join(ANALOGY_METHODS)}, got {method!r}")
        (ua, ia), (ub, ib), (uc, ic) = (self._unit_query(w) for w in (a, b, c))
        cand = self._candidates(restrict_vocab)
        scores = ANALOGY_SCORES[method](cand, ua[None], ub[None], uc[None])   # (1, R)
        excl = [i for i in (ia, ib, ic) if i is not None and i < cand.shape[0]]
        scores[0, excl] = -np.inf
        ids, best = top_k(scores, topn)
        ids = np.where(np.isneginf(best), -1, ids)
        return self._results(ids[0], best[0], topn)
