"""Word-analogy accuracy ("a is to b as c is to d"), as word2vec's compute-accuracy and gensim.

Conventions (always reported with the numbers):
  * restrict_vocab (default 30,000, as the word2vec C tool and the published text8 figures): only
    the first N vocabulary words (most frequent first) are candidate answers, and a question
    with any word outside them is not seen (it counts in `total`, not in `seen`);
  * case folding (default on): words match case-insensitively (str.casefold); a folded word
    stands for its most frequent spelling among those N words, and an answer is right when its
    folded form is the expected word's;
  * the three question words (all their case variants) are never answers;
  * method 3CosAdd (Mikolov et al. 2013) or 3CosMul (Levy & Goldberg 2014, eps = 0.001, cosines
    shifted to [0, 1]); see embedkit.embeddings.
  * semantic = sections whose name does not start with "gram" (the first 5 of the Google set),
    syntactic = the "gram*" sections; accuracy = correct / seen, coverage = seen / total.
With the same restriction and case folding, 3CosAdd equals gensim's evaluate_word_analogies.

All seen questions are scored in batches: one (B, D) x (D, N) matrix product per batch, then
the question words are masked and the row argmax is the answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from embedkit.embeddings import ANALOGY_METHODS, ANALOGY_SCORES, COSMUL_EPSILON, Embeddings
from embedkit.errors import EmbedkitError
from embedkit.evaluate.datasets import AnalogySet, read_analogies

DEFAULT_RESTRICT_VOCAB = 30_000
SCORE_BUDGET = 1 << 24          # floats of scores per batch (64 MB)


def folded_index(words, restrict_vocab: int | None, case_fold: bool) -> dict[str, int]:
    """key -> id among the first `restrict_vocab` words; with case folding the key is the
    casefolded word and the id its first (most frequent) spelling."""
    head = words if restrict_vocab is None else words[:restrict_vocab]
    if not case_fold:
        return {w: i for i, w in enumerate(head)}
    index: dict[str, int] = {}
    for i, w in enumerate(head):
        index.setdefault(w.casefold(), i)
    return index


def is_syntactic(section: str) -> bool:
    return section.startswith("gram")


@dataclass
class SectionScore:
    name: str
    correct: int
    seen: int
    total: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.seen if self.seen else None


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


@dataclass
class AnalogyResult:
    name: str
    method: str
    restrict_vocab: int | None
    case_fold: bool
    sections: list = field(default_factory=list)      # [SectionScore]

    def _part(self, keep) -> tuple[int, int, int]:
        chosen = [s for s in self.sections if keep(s)]
        return (sum(s.correct for s in chosen), sum(s.seen for s in chosen), sum(s.total for s in chosen))

    @property
    def correct(self) -> int:
        return self._part(lambda s: True)[0]

    @property
    def seen(self) -> int:
        return self._part(lambda s: True)[1]

    @property
    def total(self) -> int:
        return self._part(lambda s: True)[2]

    @property
    def accuracy(self) -> float | None:
        return _ratio(self.correct, self.seen)

    @property
    def semantic(self) -> float | None:
        c, n, _ = self._part(lambda s: not is_syntactic(s.name))
        return _ratio(c, n)

    @property
    def syntactic(self) -> float | None:
        c, n, _ = self._part(lambda s: is_syntactic(s.name))
        return _ratio(c, n)

    @property
    def coverage(self) -> float | None:
        return _ratio(self.seen, self.total)

    @property
    def accuracy_all(self) -> float | None:
        """correct / total: unseen questions counted wrong (gensim's dummy4unknown)."""
        return _ratio(self.correct, self.total)

    def to_dict(self) -> dict:
        return {"accuracy": self.accuracy, "semantic": self.semantic, "syntactic": self.syntactic,
                "seen": self.seen, "total": self.total, "correct": self.correct,
                "coverage": self.coverage, "accuracy_unseen_wrong": self.accuracy_all,
                "method": self.method, "restrict_vocab": self.restrict_vocab, "case_fold": self.case_fold,
                "sections": {s.name: {"accuracy": s.accuracy, "correct": s.correct, "seen": s.seen,
                                      "total": s.total} for s in self.sections}}


def _case_variants(first: np.ndarray) -> np.ndarray:
    """(R, m) int64: row i lists every id whose folded form is that of id i (padded with i)."""
    n = len(first)
    sizes = np.bincount(first, minlength=n)
    variants = np.repeat(np.arange(n)[:, None], max(1, int(sizes.max(initial=1))), axis=1)
    for head in np.flatnonzero(sizes > 1):            # few words have several spellings
        members = np.flatnonzero(first == head)
        for i in members:
            variants[i, :len(members)] = members
    return variants


def evaluate_analogies(emb: Embeddings, analogies, restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB,
                       case_fold: bool = True, method: str = "3cosadd") -> AnalogyResult:
    """Accuracy of `emb` on an analogy file (path, bundled name or AnalogySet); see module doc."""
    if method not in ANALOGY_SCORES:
        raise EmbedkitError(f"analogy method must be one of {', '.join(ANALOGY_METHODS)}, got {method!r}")
    if restrict_vocab is not None and restrict_vocab < 1:
        raise EmbedkitError(f"restrict_vocab must be >= 1 or None (all words), got {restrict_vocab}")
    qs = analogies if isinstance(analogies, AnalogySet) else read_analogies(analogies)
    n_cand = len(emb) if restrict_vocab is None else min(restrict_vocab, len(emb))
    index = folded_index(emb.words, n_cand, case_fold)
    key = str.casefold if case_fold else (lambda w: w)
    if case_fold:   # first[i]: the id standing for candidate i's folded form
        first = np.fromiter((index[w.casefold()] for w in emb.words[:n_cand]), np.int64, n_cand)
    else:
        first = np.arange(n_cand, dtype=np.int64)
    variants = _case_variants(first)                   # (R, m)

    rows, section_of = [], []
    for s, (_, questions) in enumerate(qs.sections):
        for quad in questions:
            ids = [index.get(key(w)) for w in quad]
            if None not in ids:
                rows.append(ids)
                section_of.append(s)
    quads = np.asarray(rows, dtype=np.int64).reshape(-1, 4)   # (n_seen, 4) ids of a, b, c, expected
    section_of = np.asarray(section_of, dtype=np.int64)

    right = np.zeros(len(quads), dtype=bool)
    cand = emb.unit[:n_cand]                           # (R, D)
    score = ANALOGY_SCORES[method]
    batch = max(1, SCORE_BUDGET // max(1, n_cand * (4 if method == "3cosmul" else 1)))   # n_cand 0: no words
    for s in range(0, len(quads), batch):
        ia, ib, ic, ie = quads[s:s + batch].T
        scores = score(cand, cand[ia], cand[ib], cand[ic])               # (B, R)
        banned = np.concatenate([variants[ia], variants[ib], variants[ic]], axis=1)
        np.put_along_axis(scores, banned, -np.inf, axis=1)
        right[s:s + batch] = first[scores.argmax(axis=1)] == ie

    correct = np.bincount(section_of[right], minlength=len(qs.sections))
    seen = np.bincount(section_of, minlength=len(qs.sections))
    sections = [SectionScore(name, int(correct[k]), int(seen[k]), len(questions))
                for k, (name, questions) in enumerate(qs.sections)]
    return AnalogyResult(qs.name, method, restrict_vocab, case_fold, sections)


__all__ = ["evaluate_analogies", "AnalogyResult", "SectionScore", "folded_index",
           "DEFAULT_RESTRICT_VOCAB", "COSMUL_EPSILON"]
