"""Cosine queries of Embeddings, under gensim KeyedVectors' names and semantics.

`Queries` is the query half of Embeddings (embedkit/embeddings.py holds the container); it
needs `unit`, `words`, `dim`, `get_index`, `get_vector`, `get_mean_vector` and `_unknown` from it.

A key is a word (str), a row index (int) or a raw (D,) vector. Every query scores the unit
rows U with one matrix product. Where gensim and embedkit differ:
  * a raw vector given to most_similar is unit-scaled like a word's (gensim adds it unscaled);
  * most_similar_cosmul honours restrict_vocab (gensim 4.4 accepts it and scores everything);
  * zero rows score 0, not NaN;
  * an unknown word is an UnknownWordError (a KeyError) carrying "did you mean" suggestions.
"""
from __future__ import annotations

from numbers import Integral
from typing import Iterable, Sequence

import numpy as np

from embedkit.cosine import (ANALOGY_METHODS, ANALOGY_SCORES, GENSIM_COSMUL_EPSILON, cosmul_terms_scores, top_k,
                             unit_rows)
from embedkit.errors import EmbedkitError


def _ensure_list(value) -> list:
    """gensim's: None -> [], one key or one vector -> [it], a (n, D) array -> its rows."""
    if value is None:
        return []
    if isinstance(value, (str, Integral)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return [value]
    return list(value)


def _no_answers(topn) -> bool:
    return isinstance(topn, Integral) and topn < 1


class Queries:
    """most_similar & co. for Embeddings (a mix-in: see the module doc)."""

    # -- keys -> unit rows ----------------------------------------------------------------------
    def _term(self, key) -> tuple[np.ndarray, int | None]:
        """(unit vector (D,), vocabulary row or None) for a word, row index or raw vector."""
        if isinstance(key, (str, Integral)):
            i = self.get_index(key, -1)
            if i >= 0:
                return self.unit[i], i
            return self.get_vector(key, norm=True), None     # subword models; else UnknownWordError
        v = np.asarray(key, dtype=np.float32)
        if v.shape != (self.dim,):
            raise EmbedkitError(f"query vector must have shape ({self.dim},), got {v.shape}")
        return unit_rows(v), None

    def _unit_query(self, word) -> tuple[np.ndarray, int | None]:   # older name, kept for callers
        return self._term(word)

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

    # -- nearest neighbours ---------------------------------------------------------------------
    def most_similar(self, positive=None, negative=None, topn: int | None = 10,
                     restrict_vocab: int | None = None):
        """Words nearest (cosine) to the weighted sum of the unit vectors of `positive` (+1 each)
        and `negative` (-1 each), the query words themselves excluded, as gensim. A term is a
        word, a row index, a vector, or a (term, weight) pair. topn=None returns the cosine of
        every candidate, query words included: a (R,) float32 array, R = restrict_vocab or V."""
        if _no_answers(topn):
            return []
        positive, negative = _ensure_list(positive), _ensure_list(negative)
        if not positive and not negative:
            raise EmbedkitError("most_similar needs at least one word")
        terms, weights = [], []
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for item in items:
                if isinstance(item, tuple):
                    item, weight = item
                else:
                    weight = sign
                terms.append(self._term(item))
                weights.append(weight)
        query = np.asarray(weights, np.float32) @ np.stack([u for u, _ in terms])     # (D,)
        exclude = [i for _, i in terms if i is not None]
        if topn is None:
            return self._candidates(restrict_vocab) @ unit_rows(query)
        ids, best = self.nearest(query[None, :], topn, restrict_vocab, exclude=[exclude])
        return self._results(ids[0], best[0], topn)

    def most_similar_batch(self, words: Sequence[str], topn: int = 10,
                           restrict_vocab: int | None = None) -> list[list[tuple[str, float]]]:
        """most_similar of each word separately, scored in one matrix product."""
        terms = [self._term(w) for w in words]
        if not terms:
            return []
        ids, best = self.nearest(np.stack([u for u, _ in terms]), topn, restrict_vocab,
                                 exclude=[[i] for _, i in terms])
        return [self._results(ids[r], best[r], topn) for r in range(len(terms))]

    def similar_by_word(self, word, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar([word], topn=topn, restrict_vocab=restrict_vocab)

    similar_by_key = similar_by_word

    def similar_by_vector(self, vector, topn: int | None = 10, restrict_vocab: int | None = None):
        return self.most_similar([np.asarray(vector)], topn=topn, restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=None, negative=None, topn: int | None = 10,
                            restrict_vocab: int | None = None, eps: float | None = None):
        """Levy & Goldberg's multiplicative combination, as gensim: rank x by
        prod_p cos'(x,p) / (prod_n cos'(x,n) + eps), cos' = (cos + 1) / 2, eps = 1e-6 (gensim's).
        most_similar_cosmul(["king", "woman"], ["man"]) is 3CosMul for man:king::woman:?.
        topn=None returns every candidate's score."""
        if _no_answers(topn):
            return []
        positive, negative = _ensure_list(positive), _ensure_list(negative)
        if not positive:
            raise EmbedkitError("most_similar_cosmul needs at least one positive word")
        pos = [self._term(k) for k in positive]
        neg = [self._term(k) for k in negative]
        cand = self._candidates(restrict_vocab)
        scores = cosmul_terms_scores(cand, np.stack([u for u, _ in pos]),
                                     np.stack([u for u, _ in neg]) if neg else np.empty((0, self.dim), np.float32),
                                     GENSIM_COSMUL_EPSILON if eps is None else eps)
        if topn is None:
            return scores
        excl = [i for _, i in pos + neg if i is not None and i < cand.shape[0]]
        scores = scores[None, :].copy()
        scores[0, excl] = -np.inf
        ids, best = top_k(scores, topn)
        return self._results(np.where(np.isneginf(best), -1, ids)[0], best[0], topn)

    # -- pairs and sets -----------------------------------------------------------------------
    def similarity(self, a, b) -> float:
        """Cosine similarity of two words (or row indices, or vectors)."""
        return float(self._term(a)[0] @ self._term(b)[0])

    def distance(self, a, b) -> float:
        """1 - similarity(a, b)."""
        return 1.0 - self.similarity(a, b)

    def n_similarity(self, ws1, ws2) -> float:
        """Cosine between the mean raw vectors of two word lists, as gensim (words without a vector
        are skipped with a warning)."""
        if not (len(ws1) and len(ws2)):
            raise EmbedkitError("n_similarity needs at least one word in each list")
        m1 = self.get_mean_vector(ws1, pre_normalize=False, post_normalize=True)
        m2 = self.get_mean_vector(ws2, pre_normalize=False, post_normalize=True)
        return float(m1 @ m2)

    @staticmethod
    def cosine_similarities(vector_1, vectors_all) -> np.ndarray:
        """Cosine of one (D,) vector with each row of (n, D) `vectors_all` -> (n,) (zero rows: 0)."""
        return unit_rows(vectors_all) @ unit_rows(vector_1)

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """1 - cosine from a word or vector to each of `other_words` (every vocabulary word when empty)."""
        u, _ = self._term(word_or_vector)
        rows = self.unit if not len(other_words) else self.unit[[self.get_index(w) for w in other_words]]
        return 1.0 - rows @ u

    def closer_than(self, key1, key2) -> list[str]:
        """Vocabulary words closer (cosine) to key1 than key2 is, key1 itself left out."""
        d = self.distances(key1)
        i1, i2 = self.get_index(key1, -1), self.get_index(key2)
        return [self.words[i] for i in np.flatnonzero(d < d[i2]).tolist() if i != i1]

    def rank(self, key1, key2) -> int:
        """1 + the number of words closer to key1 than key2 is (1: key2 is key1's nearest)."""
        return len(self.closer_than(key1, key2)) + 1

    def most_similar_to_given(self, key1, keys_list: Sequence):
        """The member of `keys_list` most similar to key1."""
        return keys_list[int(np.argmax([self.similarity(key1, k) for k in keys_list]))]

    def rank_by_centrality(self, words: Sequence, use_norm: bool = True) -> list[tuple[float, str]]:
        """(cosine to the centroid, word) pairs, most central first, as gensim; words without a
        vector are skipped with a warning."""
        used, skipped = [], []
        for w in words:
            try:
                used.append((w, self.get_vector(w, norm=use_norm)))
            except KeyError:
                skipped.append(w)
        self._warn_skipped("rank_by_centrality", skipped)
        if not used:
            raise EmbedkitError("no word of the list has a vector")
        vectors = np.stack([v for _, v in used])                     # (n, D)
        mean = self.get_mean_vector(vectors, post_normalize=True)
        dists = vectors @ mean
        return sorted(zip(dists.tolist(), [w for w, _ in used]), reverse=True)

    def doesnt_match(self, words: Sequence):
        """The word of `words` furthest from the centroid of them all (gensim's doesnt_match)."""
        return self.rank_by_centrality(words)[-1][1]

    def relative_cosine_similarity(self, wa, wb, topn: int = 10) -> float:
        """similarity(wa, wb) / the sum of wa's top-n neighbour cosines (Leeuwenberg et al. 2016)."""
        sims = self.similar_by_word(wa, topn)
        if not sims:
            raise EmbedkitError("relative_cosine_similarity needs at least one neighbour")
        return self.similarity(wa, wb) / sum(s for _, s in sims)

    def sentence_vector(self, tokens: Sequence[str]) -> np.ndarray:
        """fastText's sentence vector for an unsupervised model (FastText::getSentenceVector):
        the mean of the unit vectors of the tokens that have a non-zero vector (vocabulary words,
        and unseen words a subword model builds); (D,) zeros when none has. Tokens are taken as
        given: no case folding."""
        total, n = np.zeros(self.dim, np.float32), 0
        for tok in tokens:
            try:
                v = self.get_vector(tok)
            except KeyError:
                continue                                   # fastText: a zero vector, skipped
            norm = float(np.linalg.norm(v))
            if norm > 0:
                total += v / np.float32(norm)
                n += 1
        return total / np.float32(n) if n else total

    # -- analogies ------------------------------------------------------------------------------
    def analogy(self, a, b, c, method: str = "3cosadd", topn: int = 1,
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """a is to b as c is to ? -> [(word, score)], best first, a/b/c themselves excluded
        (word2vec C's order: man king woman -> queen; gensim's most_similar([b, c], [a])).

        3cosadd ranks by cos(x, b - a + c) (scores are cosines); 3cosmul by
        cos'(x,b) cos'(x,c) / (cos'(x,a) + 0.001) with cos' = (cos+1)/2 (Levy & Goldberg 2014)."""
        if method not in ANALOGY_SCORES:
            raise EmbedkitError(f"analogy method must be one of {', '.join(ANALOGY_METHODS)}, got {method!r}")
        (ua, ia), (ub, ib), (uc, ic) = (self._term(w) for w in (a, b, c))
        cand = self._candidates(restrict_vocab)
        scores = ANALOGY_SCORES[method](cand, ua[None], ub[None], uc[None])   # (1, R)
        excl = [i for i in (ia, ib, ic) if i is not None and i < cand.shape[0]]
        scores[0, excl] = -np.inf
        ids, best = top_k(scores, topn)
        ids = np.where(np.isneginf(best), -1, ids)
        return self._results(ids[0], best[0], topn)
