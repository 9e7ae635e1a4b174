"""Spelling help for unknown words: a case-insensitive match and "did you mean" candidates.

Queries stay exact (a word is in the vocabulary or it is not); these functions only look for what
the user probably meant, and are called when a lookup has failed, never on the hot path.
"""
from __future__ import annotations

import difflib
from typing import Sequence

SUGGEST_SCAN = 200_000        # only the most frequent words are compared (vocabularies are frequency-sorted)
SUGGEST_CUTOFF = 0.75         # difflib ratio below which a word is not offered


def casefold_index(words: Sequence[str]) -> dict[str, int]:
    """casefolded word -> id of its first (most frequent) spelling."""
    index: dict[str, int] = {}
    for i, w in enumerate(words):
        index.setdefault(w.casefold(), i)
    return index


def close_words(word: str, words: Sequence[str], n: int = 3, cutoff: float = SUGGEST_CUTOFF,
                scan: int = SUGGEST_SCAN) -> list[str]:
    """Up to n vocabulary words that look like `word` (difflib ratio >= cutoff on casefolded
    forms), best first; only the first `scan` words of length within 2 of word's are compared."""
    target = word.casefold()
    lo, hi = len(target) - 2, len(target) + 2
    pool = [w for w in words[:scan] if lo <= len(w) <= hi]
    folded = {}
    for w in pool:
        folded.setdefault(w.casefold(), w)
    hits = difflib.get_close_matches(target, list(folded), n=n + 1, cutoff=cutoff)
    return [folded[h] for h in hits if folded[h] != word][:n]


def did_you_mean(candidates: Sequence[str]) -> str:
    """'; did you mean 'a' or 'b'?' or '' when there is nothing to offer."""
    if not candidates:
        return ""
    quoted = [repr(c) for c in candidates]
    body = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"; did you mean {body}?"
