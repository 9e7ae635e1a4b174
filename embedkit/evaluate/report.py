"""Run several evaluation sets on one Embeddings and report them as one table or JSON.

JSON: {"analogy": {NAME: {"accuracy", "semantic", "syntactic", "seen", "total", ...}},
       "similarity": {NAME: {"spearman", "pearson", "oov", "pairs", ...}}, "conventions": {...}}
NAME is the data file's stem; accuracies are fractions in [0, 1]; undefined values are null.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from embedkit.embeddings import COSMUL_EPSILON, Embeddings
from embedkit.evaluate.analogy import DEFAULT_RESTRICT_VOCAB, AnalogyResult, evaluate_analogies
from embedkit.evaluate.datasets import bundled_analogy_sets, bundled_similarity_sets, resolve
from embedkit.evaluate.similarity import SimilarityResult, evaluate_similarity
from embedkit.fsutil import atomic_path


@dataclass
class Report:
    analogy: list = field(default_factory=list)       # [AnalogyResult]
    similarity: list = field(default_factory=list)    # [SimilarityResult]

    def to_dict(self) -> dict:
        return {"analogy": {r.name: r.to_dict() for r in self.analogy},
                "similarity": {r.name: r.to_dict() for r in self.similarity}}


def evaluate_all(emb: Embeddings, analogy=None, similarity=None,
                 restrict_vocab: int | None = DEFAULT_RESTRICT_VOCAB, method: str = "3cosadd",
                 case_fold: bool = True, similarity_restrict_vocab: int | None = None) -> Report:
    """Every given set (paths or bundled names); all bundled sets when neither list is given."""
    if analogy is None and similarity is None:
        analogy, similarity = list(bundled_analogy_sets().values()), list(bundled_similarity_sets().values())
    report = Report()
    for path in analogy or ():
        report.analogy.append(evaluate_analogies(emb, resolve(path), restrict_vocab, case_fold, method))
    for path in similarity or ():
        report.similarity.append(evaluate_similarity(emb, resolve(path), similarity_restrict_vocab, case_fold))
    return report


def _num(x, pct=False) -> str:
    if x is None:
        return "-"
    return f"{100 * x:.2f}%" if pct else f"{x:.4f}"


def format_table(report: Report, sections: bool = False) -> str:
    """One table: a row per set (and per analogy section with `sections`), then the conventions."""
    head = ("dataset", "task", "score", "semantic", "syntactic", "pearson", "score(oov=0)", "coverage")
    rows = []
    for r in report.analogy:
        rows.append((r.name, "analogy", _num(r.accuracy, True), _num(r.semantic, True),
                     _num(r.syntactic, True), "-", _num(r.accuracy_all, True),
                     f"{r.seen:,}/{r.total:,} ({_num(r.coverage, True)})"))
        if sections:
            for s in r.sections:
                rows.append(("  " + s.name, "", _num(s.accuracy, True), "", "", "", "",
                             f"{s.seen:,}/{s.total:,}"))
    for r in report.similarity:
        rows.append((r.name, "similarity", _num(r.spearman), "-", "-", _num(r.pearson),
                     _num(r.spearman_oov0), f"{r.pairs - r.oov:,}/{r.pairs:,} ({_num(1 - r.oov_ratio, True)})"))
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
        restrict = "all words" if r.restrict_vocab is None else f"{r.restrict_vocab:,} most frequent words"
        notes.append(f"analogy: {method}; candidates and question words restricted to the {restrict}; "
                     f"case folding {'on' if r.case_fold else 'off'}; question words excluded; "
                     "score = correct/seen; score(oov=0) = correct/total; semantic = non-'gram' sections")
    if report.similarity:
        r = report.similarity[0]
        restrict = "whole vocabulary" if r.restrict_vocab is None else f"{r.restrict_vocab:,} most frequent words"
        notes.append(f"similarity: score = Spearman on pairs with both words known ({restrict}, case folding "
                     f"{'on' if r.case_fold else 'off'}); score(oov=0) = Spearman with unknown pairs scored 0 "
                     "(gensim dummy4unknown); coverage = known pairs/pairs")
    return [""] + notes if notes else []


def write_json(report: Report, path) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(report.to_dict(), f, indent=2)
        f.write("\n")


__all__ = ["Report", "evaluate_all", "format_table", "write_json", "AnalogyResult", "SimilarityResult"]
