"""Run several evaluation sets on one Embeddings and report them as one table or JSON.

JSON: {"analogy": {NAME: {"accuracy", "semantic", "syntactic", "seen", "total", ...}},
       "similarity": {NAME: {"spearman", "pearson", "oov", "pairs", "ngram_pairs", ...}},
       "missing": [names of default sets that were not found]}
NAME is the data file's stem ("men" and "rw" for those sets); with several analogy vocabulary
restrictions, an analogy NAME is "NAME@N" ("NAME@all" for no restriction). Accuracies are
fractions in [0, 1]; undefined values are null.

With no set named, evaluate_all runs every bundled set (Google analogies, WordSim-353,
SimLex-999) and MEN and RW when they are found (embedkit/evaluate/external.py); the report lists
the ones not found, and the table says where they were looked for and how to get them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from embedkit.config import PYTHON, Spelling
from embedkit.embeddings import COSMUL_EPSILON, Embeddings
from embedkit.evaluate.analogy import DEFAULT_RESTRICT_VOCAB, AnalogyResult, evaluate_analogies
from embedkit.evaluate.datasets import bundled_analogy_sets, bundled_similarity_sets, read_pairs, resolve
from embedkit.evaluate.external import EXTERNAL_SIMILARITY, external_similarity_sets, not_found_message
from embedkit.evaluate.similarity import SimilarityResult, evaluate_similarity
from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path


@dataclass
class Report:
    analogy: list = field(default_factory=list)       # [AnalogyResult]
    similarity: list = field(default_factory=list)    # [SimilarityResult]
    missing: list = field(default_factory=list)       # default sets not found ("men", "rw")
    missing_note: str = ""                            # where they were looked for, how to get them
    subword: bool = False                             # the vectors embed unseen words (n-gram pairs shown)

    def analogy_key(self, r: AnalogyResult) -> str:
        if len({x.restrict_vocab for x in self.analogy}) <= 1:
            return r.name
        return f"{r.name}@{'all' if r.restrict_vocab is None else r.restrict_vocab}"

    def to_dict(self) -> dict:
        return {"analogy": {self.analogy_key(r): r.to_dict() for r in self.analogy},
                "similarity": {r.name: r.to_dict() for r in self.similarity},
                "missing": list(self.missing)}


def _restrictions(restrict_vocab, spelling: Spelling) -> list:
    """One restriction or several: N, None (all words), or a list of them (0 also means all)."""
    values = restrict_vocab if isinstance(restrict_vocab, (list, tuple)) else [restrict_vocab]
    out = []
    for v in values:
        if v is not None and v < 0:
            raise EmbedkitError(f"{spelling.name('restrict_vocab')} must be >= 0 (0: all words), got {v}")
        v = None if v in (None, 0) else int(v)
        if v not in out:
            out.append(v)
    return out or [None]


def check_restrictions(restrict_vocab, similarity_restrict_vocab, spelling: Spelling = PYTHON) -> list:
    """The analogy restrictions (see _restrictions); EmbedkitError, naming the option in `spelling`,
    for a negative one or a similarity restriction below 1. The CLI calls it before loading vectors."""
    if similarity_restrict_vocab is not None and similarity_restrict_vocab < 1:
        raise EmbedkitError(f"{spelling.name('similarity_restrict_vocab')} must be >= 1, got "
                            f"{similarity_restrict_vocab} (leave it out for all words)")
    return _restrictions(restrict_vocab, spelling)


def evaluate_all(emb: Embeddings, analogy=None, similarity=None,
                 restrict_vocab: int | None | list = DEFAULT_RESTRICT_VOCAB, method: str = "3cosadd",
                 case_fold: bool = True, similarity_restrict_vocab: int | None = None,
                 eval_dir=None, spelling: Spelling = PYTHON) -> Report:
    """Every given set (paths or set names); with neither list, every bundled set plus MEN and RW
    when found. restrict_vocab: N, None, or several (e.g. [30_000, 300_000]: word2vec's and
    gensim's conventions), each reported as its own analogy row. `spelling`: how errors name
    the options (config.CLI: as flags)."""
    restrictions = check_restrictions(restrict_vocab, similarity_restrict_vocab, spelling)
    report = Report(subword=getattr(emb, "maxn", 0) > 0)
    if analogy is None and similarity is None:
        analogy = list(bundled_analogy_sets().values())
        similarity = list(bundled_similarity_sets().values())
        found, report.missing = external_similarity_sets(eval_dir)
        similarity += list(found)                       # names: resolved (and named) below
        if report.missing:
            report.missing_note = not_found_message(report.missing, eval_dir)
    for path in analogy or ():
        path = resolve(path, eval_dir)
        for r in restrictions:
            report.analogy.append(evaluate_analogies(emb, path, r, case_fold, method))
    for item in similarity or ():
        name = str(item) if str(item) in EXTERNAL_SIMILARITY else None
        pairs = read_pairs(resolve(item, eval_dir), name=name)
        report.similarity.append(evaluate_similarity(emb, pairs, similarity_restrict_vocab, case_fold))
    return report


def _num(x, pct=False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.2f}%" if pct else f"{x:.4f}"


def format_table(report: Report, sections: bool = False) -> str:
    """One table: a row per set (and per analogy section with `sections`), then the conventions.
    For vectors that embed unseen words, a column counts the pairs answered from n-grams."""
    head = ("dataset", "task", "score", "semantic", "syntactic", "pearson", "score(oov=0)", "coverage")
    head += ("from n-grams",) if report.subword else ()
    several = len({r.restrict_vocab for r in report.analogy}) > 1
    rows = []
    for r in report.analogy:
        name = r.name if not several else \
            f"{r.name} (top {'all' if r.restrict_vocab is None else f'{r.restrict_vocab:,}'})"
        rows.append((name, "analogy", _num(r.accuracy, True), _num(r.semantic, True),
                     _num(r.syntactic, True), "-", _num(r.accuracy_all, True),
                     f"{r.seen:,}/{r.total:,} ({_num(r.coverage, True)})") + (("-",) if report.subword else ()))
        if sections:
            for s in r.sections:
                rows.append(("  " + s.name, "", _num(s.accuracy, True), "", "", "", "",
                             f"{s.seen:,}/{s.total:,}") + (("",) if report.subword else ()))
    for r in report.similarity:
        rows.append((r.name, "similarity", _num(r.spearman), "-", "-", _num(r.pearson),
                     _num(r.spearman_oov0), f"{r.pairs - r.oov:,}/{r.pairs:,} ({_num(1 - r.oov_ratio, True)})")
                    + ((f"{r.ngram_pairs:,}",) if report.subword else ()))
    widths = [max(len(row[i]) for row in rows + [head]) for i in range(len(head))]
    line = lambda row: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
    out = [line(head), line(tuple("-" * w for w in widths))] + [line(r) for r in rows]
    out += _conventions(report)
    return "\n".join(s.rstrip() for s in out)


def _conventions(report: Report) -> list[str]:
    notes = []
    if report.analogy:
        r = report.analogy[0]
        method = "3CosAdd" if r.method == "3cosadd" else f"3CosMul (eps {COSMUL_EPSILON:g}, cosines shifted to [0,1])"
        limits = sorted({x.restrict_vocab for x in report.analogy}, key=lambda v: float("inf") if v is None else v)
        restrict = " / ".join("all words" if v is None else f"{v:,} most frequent words" for v in limits)
        notes.append(f"analogy: {method}; candidates and question words restricted to the {restrict}; "
                     f"case folding {'on' if r.case_fold else 'off'}; question words excluded; "
                     "score = correct/seen; score(oov=0) = correct/total; semantic = non-'gram' sections")
    if report.similarity:
        r = report.similarity[0]
        restrict = "whole vocabulary" if r.restrict_vocab is None else f"{r.restrict_vocab:,} most frequent words"
        notes.append(f"similarity: score = Spearman on pairs with both words known ({restrict}, case folding "
                     f"{'on' if r.case_fold else 'off'}); score(oov=0) = Spearman with unknown pairs scored 0 "
                     "(gensim dummy4unknown); coverage = known pairs/pairs")
        if report.subword:
            notes.append("subword model: unseen words get vectors from their character n-grams, so the score "
                         "includes the pairs counted under 'from n-grams' (fastText's convention)")
    if report.missing_note:
        notes.append(f"not run: {report.missing_note}")
    return [""] + notes if notes else []


def write_json(report: Report, path) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(report.to_dict(), f, indent=2)
        f.write("\n")


__all__ = ["Report", "evaluate_all", "format_table", "write_json", "AnalogyResult", "SimilarityResult"]
