"""Evaluation data: the bundled sets and the two file formats.

Bundled (embedkit/evaluate/data, from the gensim 4.4.0 wheel; see data/NOTICE):
    questions-words.txt   Google analogy set, 19,544 questions in 14 sections (Mikolov et al. 2013)
    wordsim353.tsv        WordSim-353, 353 pairs (Finkelstein et al. 2002)
    simlex999.txt         SimLex-999, 999 pairs (Hill et al. 2015)
A set is named by its file's stem ("questions-words"); a name of a bundled set can be given
where a path is expected. So can "men" and "rw", which are not shipped: embedkit/evaluate/external.py
says where they are looked for.

Analogy files: `: section name` lines, then lines of 4 words `a b c d` (a is to b as c is to d).
Pair files: `word1 word2 score` per line, TAB- or space-separated; `#` lines are comments.
Blank lines are skipped in both; any other malformed line is an error naming file and line.
"""
from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError

BUNDLED_ANALOGY = ("questions-words.txt",)
BUNDLED_SIMILARITY = ("wordsim353.tsv", "simlex999.txt")


def data_dir() -> Path:
    return Path(str(importlib.resources.files("embedkit.evaluate") / "data"))


def dataset_name(path) -> str:
    return Path(path).name.split(".")[0] if Path(path).suffix in (".gz", ".bz2") else Path(path).stem


def bundled_analogy_sets() -> dict[str, Path]:
    return {dataset_name(f): data_dir() / f for f in BUNDLED_ANALOGY}


def bundled_similarity_sets() -> dict[str, Path]:
    return {dataset_name(f): data_dir() / f for f in BUNDLED_SIMILARITY}


def resolve(path_or_name, eval_dir=None) -> Path:
    """A path, the name of a bundled set ("wordsim353", "questions-words") or of an external one
    ("men", "rw": found in the evaluation folders, see external.py)."""
    from embedkit.evaluate.external import EXTERNAL_SIMILARITY, find_set, not_found_message
    p = Path(path_or_name)
    if p.exists():
        return p
    name = str(path_or_name)
    bundled = {**bundled_analogy_sets(), **bundled_similarity_sets()}
    if name in bundled:
        return bundled[name]
    if name in EXTERNAL_SIMILARITY:
        found = find_set(name, eval_dir)
        if found is None:
            raise EmbedkitError(not_found_message([name], eval_dir))
        return found
    raise EmbedkitError(f"evaluation set {path_or_name} does not exist (bundled sets: {', '.join(bundled)}; "
                        f"external: {', '.join(EXTERNAL_SIMILARITY)})")


def _lines(path):
    """(line number, str line) of a UTF-8 file, plain or gzip/bzip2/xz-compressed (by content)."""
    from embedkit.formats import open_read, read_errors

    path = resolve(path)
    with read_errors(path), open_read(path) as f:
        for line_no, raw in enumerate(f, 1):
            try:
                yield line_no, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise EmbedkitError(f"{path}, line {line_no}: not UTF-8 text ({e.reason})") from None


@dataclass
class AnalogySet:
    name: str
    sections: list          # [(section name, [(a, b, c, d), ...]), ...] in file order

    @property
    def total(self) -> int:
        return sum(len(q) for _, q in self.sections)


def read_analogies(path) -> AnalogySet:
    sections = []
    for line_no, line in _lines(path):
        if line.startswith(":"):
            sections.append((line[1:].strip(), []))
            continue
        words = line.split()
        if not words:
            continue
        if len(words) != 4:
            raise EmbedkitError(f"{path}, line {line_no}: expected 4 words (a b c d), found {len(words)}")
        if not sections:
            raise EmbedkitError(f"{path}, line {line_no}: question before the first ': section' line")
        sections[-1][1].append(tuple(words))
    if not any(q for _, q in sections):
        raise EmbedkitError(f"{path} holds no analogy questions")
    return AnalogySet(dataset_name(path), sections)


@dataclass
class PairSet:
    name: str
    pairs: list             # [(word1, word2), ...]
    gold: np.ndarray        # (n,) float64 human scores
    line_nos: list


def read_pairs(path, name: str | None = None) -> PairSet:
    """The pairs of a file (or set name); `name` names the set (default: the file's stem)."""
    pairs, gold, line_nos = [], [], []
    for line_no, line in _lines(path):
        if line.startswith("#") or not line.strip():
            continue
        fields = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
        if len(fields) != 3:
            raise EmbedkitError(f"{path}, line {line_no}: expected 'word1 word2 score', found {len(fields)} fields")
        a, b, score = (x.strip() for x in fields)
        if not a or not b:
            raise EmbedkitError(f"{path}, line {line_no}: empty word")
        try:
            value = float(score)
        except ValueError:
            raise EmbedkitError(f"{path}, line {line_no}: score {score!r} is not a number") from None
        if not np.isfinite(value):
            raise EmbedkitError(f"{path}, line {line_no}: score {score!r} is not a finite number")
        gold.append(value)
        pairs.append((a, b))
        line_nos.append(line_no)
    if not pairs:
        raise EmbedkitError(f"{path} holds no word pairs")
    return PairSet(name or dataset_name(path), pairs, np.asarray(gold, dtype=np.float64), line_nos)
