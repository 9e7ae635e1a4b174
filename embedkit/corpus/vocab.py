"""Vocabulary: word counts, min_count / max_size filtering, bounded-memory pruning, TSV I/O.

Order: count descending, then word ascending (so ids are deterministic and id 0 is the most
frequent word). Ids are positions in that order.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

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
        return int(self.counts.sum())

    @classmethod
    def from_counts(cls, counts: Counter | dict, min_count: int = 1, max_size: int | None = None,
                    total_tokens: int | None = None) -> "Vocab":
        if min_count < 1:
            raise EmbedkitError(f"--min-count must be >= 1, got {min_count}")
        if max_size is not None and max_size < 1:
            raise EmbedkitError(f"--max-size must be >= 1, got {max_size}")
        kept = [(w, c) for w, c in counts.items() if c >= min_count]
        kept.sort(key=lambda wc: (-wc[1], wc[0]))
        if max_size is not None:
            kept = kept[:max_size]
        words = [w for w, _ in kept]
        arr = np.fromiter((c for _, c in kept), dtype=np.int64, count=len(kept))
        total = int(sum(counts.values())) if total_tokens is None else int(total_tokens)
        return cls(words, arr, total, len(counts))

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
        words, counts, totals = [], [], {}
        try:
            f = open(path, encoding="utf-8")
        except OSError as e:
            raise EmbedkitError(f"cannot read vocabulary {path}: {e.strerror}") from None
        with f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if lineno == 1 and line.startswith("#embedkit-vocab"):
                    for part in line.split("\t")[1:]:
                        k, _, v = part.partition("=")
                        totals[k] = int(v)
                    continue
                parts = line.split("\t")
                if len(parts) != 2 or not parts[0]:
                    raise EmbedkitError(f"{path}, line {lineno}: expected 'word<TAB>count'")
                try:
                    counts.append(int(parts[1]))
                except ValueError:
                    raise EmbedkitError(f"{path}, line {lineno}: count {parts[1]!r} is not an integer") from None
                words.append(parts[0])
        if len(set(words)) != len(words):
            raise EmbedkitError(f"{path}: duplicate words in vocabulary")
        arr = np.asarray(counts, dtype=np.int64)
        return cls(words, arr, totals.get("total_tokens", int(arr.sum())), totals.get("total_types", len(words)))


def count_words(sentences: Iterable, max_vocab_size: int | None = None) -> tuple[Counter, int]:
    """Count tokens of an iterable of (tokens, continues) pairs. Returns (counter, total_tokens).

    With `max_vocab_size`, whenever the counter holds more types than that, every word with a
    count <= min_reduce is dropped and min_reduce grows by one (gensim's prune_vocab): memory
    stays bounded, and counts of rare words become approximate, as in gensim and word2vec C.
    """
    counter: Counter = Counter()
    total = 0
    min_reduce = 1
    for tokens, _ in sentences:
        counter.update(tokens)
        total += len(tokens)
        if max_vocab_size is not None and len(counter) > max_vocab_size:
            for w in [w for w, c in counter.items() if c <= min_reduce]:
                del counter[w]
            min_reduce += 1
    return counter, total
