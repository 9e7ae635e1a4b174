"""Vocabulary: the kept words and their counts, ranked once (Vocab.ranked), and its TSV file.

Counting a corpus into a Vocab is corpus/count.py.

Order: count descending, then word ascending (so ids are deterministic and id 0 is the most
frequent word). Ids are positions in that order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path


@dataclass
class Vocab:
    words: list            # id -> word, count-descending
    counts: np.ndarray     # (V,) int64, count of each kept word
    total_tokens: int = 0  # tokens in the corpus, kept or not
    total_types: int = 0   # distinct words seen (after any pruning while counting)
    _index: dict = field(default=None, repr=False, compare=False)
    # tokens of the corpus that are in the vocabulary, when `counts` are not that corpus's own (a
    # continued run keeps the model's counts, or old + new): None means counts.sum()
    corpus_kept: int | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        return word in self.index

    @property
    def index(self) -> dict:
        """word -> id, built on first use."""
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    @property
    def kept_tokens(self) -> int:
        return int(self.counts.sum()) if self.corpus_kept is None else int(self.corpus_kept)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], min_count: int = 1, max_size: int | None = None,
                    total_tokens: int | None = None) -> "Vocab":
        """The vocabulary of a word -> count mapping (see `ranked`); total_tokens defaults to the
        sum of the counts."""
        words = list(counts)
        arr = np.fromiter(counts.values(), np.int64, len(words))
        total = int(arr.sum()) if total_tokens is None else int(total_tokens)
        return cls.ranked(arr, lambda idx: [words[i] for i in idx.tolist()], min_count, max_size, total, len(words))

    @classmethod
    def ranked(cls, counts: np.ndarray, words_of: Callable[[np.ndarray], list], min_count: int,
               max_size: int | None, total_tokens: int, total_types: int) -> "Vocab":
        """The words counted at least min_count times, count descending, ties by word (code point
        order), at most max_size of them. counts (T,) int64 of every counted word; words_of(idx)
        gives the words at positions idx, as str or UTF-8 bytes (byte order is code point
        order): only kept words are asked for, so a large count table makes few strings."""
        keep = np.flatnonzero(counts >= min_count)
        order = keep[np.argsort(-counts[keep], kind="stable")]
        kept_counts = counts[order]
        words = words_of(order)
        ties = [0, *(np.flatnonzero(np.diff(kept_counts)) + 1).tolist(), len(kept_counts)]
        for a, b in zip(ties[:-1], ties[1:]):
            if b - a > 1:
                words[a:b] = sorted(words[a:b])
        if max_size is not None:
            words, kept_counts = words[:max_size], kept_counts[:max_size]
        if words and isinstance(words[0], bytes):
            words = [w.decode("utf-8", "surrogatepass") for w in words]
        return cls(list(words), kept_counts.astype(np.int64), int(total_tokens), int(total_types))

    def summary(self) -> dict:
        kept = self.kept_tokens
        return {"tokens": self.total_tokens, "types": self.total_types, "kept_types": len(self),
                "kept_tokens": kept,
                "token_coverage": kept / self.total_tokens if self.total_tokens else 0.0}

    def describe(self) -> str:
        s = self.summary()
        return (f"{s['tokens']:,} tokens, {s['types']:,} types; kept {s['kept_types']:,} types "
                f"covering {s['token_coverage']:.2%} of tokens")

    def save(self, path) -> None:
        """UTF-8 TSV, one `word<TAB>count` line per word in id order; a `#` header line carries totals."""
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
            self.write(f)

    def write(self, f) -> None:
        """The lines of `save` to an open text stream (e.g. sys.stdout)."""
        f.write(f"#embedkit-vocab\ttotal_tokens={self.total_tokens}\ttotal_types={self.total_types}\n")
        for w, c in zip(self.words, self.counts.tolist()):
            f.write(f"{w}\t{c}\n")

    @classmethod
    def load(cls, path) -> "Vocab":
        """Read what save() writes; a malformed line is an EmbedkitError naming the file and line."""
        words, counts, totals, first = [], [], {}, {}
        try:
            f = open(path, "rb")
        except OSError as e:
            raise EmbedkitError(f"cannot read vocabulary {path}: {e.strerror}") from None
        with f:
            for lineno, raw in enumerate(f, 1):
                try:
                    line = raw.decode("utf-8").rstrip("\n")
                except UnicodeDecodeError as e:
                    raise EmbedkitError(f"{path}, line {lineno}: invalid UTF-8 ({e.reason})") from None
                if lineno == 1 and line.startswith("#embedkit-vocab"):
                    for part in line.split("\t")[1:]:
                        k, _, v = part.partition("=")
                        if k not in ("total_tokens", "total_types") or not (v.isascii() and v.isdigit()):
                            raise EmbedkitError(f"{path}, line 1: expected total_tokens=N and total_types=N, "
                                                f"found {part[:40]!r}")
                        totals[k] = int(v)
                    continue
                parts = line.split("\t")
                if len(parts) != 2 or not parts[0]:
                    raise EmbedkitError(f"{path}, line {lineno}: expected 'word<TAB>count'")
                if not (parts[1].isascii() and parts[1].isdigit()) or int(parts[1]) >= 2**63:
                    raise EmbedkitError(f"{path}, line {lineno}: count {parts[1][:40]!r} is not a non-negative integer")
                if parts[0] in first:
                    raise EmbedkitError(f"{path}, line {lineno}: duplicate word {parts[0]!r} "
                                        f"(first at line {first[parts[0]]})")
                first[parts[0]] = lineno
                counts.append(int(parts[1]))
                words.append(parts[0])
        arr = np.asarray(counts, dtype=np.int64)
        return cls(words, arr, totals.get("total_tokens", int(arr.sum())), totals.get("total_types", len(words)))
