"""Word-pair similarity: correlation of cosine similarities with human scores.

Conventions (always reported with the numbers):
  * a pair is OOV when either word is outside the vocabulary (the first `restrict_vocab` words;
    default: all of them); with case folding (default on) words match case-insensitively and
    stand for their most frequent spelling, as in the analogy evaluator;
  * "skip OOV" numbers (`spearman`, `pearson`) use only pairs with both vectors;
    "OOV as 0" numbers (`spearman_oov0`, `pearson_oov0`) keep every pair and score OOV pairs 0,
    which is gensim's evaluate_word_pairs(dummy4unknown=True);
  * a model that embeds unseen words (Embeddings.oov_vector, e.g. subword models) scores those
    pairs too: `oov` still counts them, `scored` says how many pairs had vectors, and
    `ngram_pairs` how many of those needed a vector built for an unseen word (from its n-grams);
  * Spearman is scipy.stats.spearmanr (average ranks for ties), Pearson scipy.stats.pearsonr.
With the same restriction and case folding, `spearman` / `pearson` equal gensim's
evaluate_word_pairs (dummy4unknown=False).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats

from embedkit.embeddings import Embeddings, unit_rows
from embedkit.errors import EmbedkitError
from embedkit.evaluate.analogy import folded_index
from embedkit.evaluate.datasets import PairSet, read_pairs


@dataclass
class SimilarityResult:
    name: str
    pairs: int                    # valid pairs in the file
    oov: int                      # pairs with a word outside the (restricted) vocabulary
    scored: int                   # pairs scored with vectors (pairs - oov, plus subword-answered ones)
    ngram_pairs: int              # scored pairs with a word outside the vocabulary (its vector built from n-grams)
    spearman: float | None        # skip OOV
    pearson: float | None
    spearman_oov0: float | None   # OOV pairs scored 0
    pearson_oov0: float | None
    restrict_vocab: int | None
    case_fold: bool

    @property
    def oov_ratio(self) -> float:
        return self.oov / self.pairs

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _correlations(gold: np.ndarray, model: np.ndarray) -> tuple[float | None, float | None]:
    """(Spearman, Pearson), None where undefined (fewer than 2 pairs or a constant column)."""
    if len(gold) < 2 or np.ptp(gold) == 0 or np.ptp(model) == 0:
        return None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(gold, model)[0]), float(stats.pearsonr(gold, model)[0])


def evaluate_similarity(emb: Embeddings, pairs, restrict_vocab: int | None = None,
                        case_fold: bool = True) -> SimilarityResult:
    """Spearman / Pearson of `emb` on a word-pair file (path, bundled name or PairSet)."""
    if restrict_vocab is not None and restrict_vocab < 1:
        raise EmbedkitError(f"restrict_vocab must be >= 1, got {restrict_vocab}")
    ps = pairs if isinstance(pairs, PairSet) else read_pairs(pairs)
    index = folded_index(emb.words, restrict_vocab, case_fold)
    key = str.casefold if case_fold else (lambda w: w)
    unit = emb.unit

    def vector(word):  # unit (D,) vector, or None
        i = index.get(key(word))
        if i is not None:
            return unit[i], True
        v = emb.oov_vector(word)
        if v is None and case_fold and word.lower() != word:
            v = emb.oov_vector(word.lower())
        return (None if v is None else unit_rows(v)), False

    model = np.zeros(len(ps.pairs), dtype=np.float64)   # (n,) cosine, 0 for pairs without vectors
    has = np.zeros(len(ps.pairs), dtype=bool)
    oov = ngram_pairs = 0
    for k, (a, b) in enumerate(ps.pairs):
        (va, ka), (vb, kb) = vector(a), vector(b)
        oov += not (ka and kb)
        if va is not None and vb is not None:
            model[k] = float(va @ vb)
            has[k] = True
            ngram_pairs += not (ka and kb)
    spearman, pearson = _correlations(ps.gold[has], model[has])
    spearman0, pearson0 = _correlations(ps.gold, model)
    return SimilarityResult(ps.name, len(ps.pairs), oov, int(has.sum()), ngram_pairs, spearman, pearson,
                            spearman0, pearson0, restrict_vocab, case_fold)


__all__ = ["evaluate_similarity", "SimilarityResult"]
