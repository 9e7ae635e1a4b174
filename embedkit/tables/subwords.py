"""fastText's character n-gram buckets: which input rows make up each word's bag.

A word w owns its own row w and one hashed row per character n-gram of "<w>" (boundary markers
added), for n = minn..maxn (Bojanowski et al. 2017). This module reproduces fastText 0.9's
Dictionary::computeSubwords / Dictionary::hash (src/dictionary.cc) so that bucket ids equal
fastText's for the same word:

  * n-grams are over UTF-8 *characters*: a character is a lead byte plus its continuation bytes
    (b & 0xC0 == 0x80); n-grams start only at lead bytes, in order of start position, then length;
  * every n-gram of length minn..maxn is kept, the whole "<w>" included (when it is short enough),
    and duplicates are kept (a repeated n-gram is in the bag twice, as in fastText); the only skip is
    a 1-character n-gram at either end, i.e. the bare "<" or ">" (it matters only when minn = 1);
  * hash = 32-bit FNV-1a over the n-gram's bytes with fastText's quirk: each byte is read as a
    *signed* char and sign-extended, h = (h ^ uint32(int8(byte))) * 16777619 (mod 2**32), so bytes
    >= 0x80 (all non-ASCII text) xor 0xFFFFFFxx rather than 0x000000xx;
  * bucket id = hash % bucket; the row of that n-gram is V + bucket id (V = vocabulary size), which
    is also fastText's id (nwords + bucket id).
One deliberate difference: fastText gives its end-of-line token "</s>" no n-grams; embedkit has
no such token (a literal "</s>" in a corpus is an ordinary word and gets n-grams).

Bags are CSR arrays precomputed once per vocabulary (never per occurrence):
    bag_ptr (V+1,) int64   word w's rows are bag_ids[bag_ptr[w]:bag_ptr[w+1]]
    bag_ids (nnz,) int32   the word's own row w first, then V + bucket id of each n-gram
A trainer then renumbers the bucket rows compactly (compact_bags): only the buckets some bag holds
get a row, V + k for the k-th smallest such bucket id, and `buckets` (U,) records which bucket each
row holds. On text8 the 68,092 words' bags hold 296,791 of 2,000,000 buckets, so the input matrix
is 365k rows (146 MB at dim 100), not 2.07M (828 MB). A row of no bag would never be trained: as
a compact matrix's missing row it reads as zeros (bucket_rows_of gives -1 for it).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from embedkit.errors import EmbedkitError

BOW, EOW = "<", ">"                     # fastText's word boundary markers
FNV_OFFSET = 2166136261                 # 32-bit FNV-1a offset basis
FNV_PRIME = 16777619                    # 32-bit FNV prime
_MASK32 = np.uint64(0xFFFFFFFF)
_SIGN_EXTEND = np.uint64(0xFFFFFF00)    # int8 -> uint32 sign extension of a byte >= 0x80
_U_PRIME = np.uint64(FNV_PRIME)
_U_OFFSET = np.uint64(FNV_OFFSET)


def check_subword_options(minn: int, maxn: int, bucket: int) -> None:
    """EmbedkitError naming the flag for settings fastText would reject or silently ignore."""
    if maxn < 0:
        raise EmbedkitError(f"--maxn must be >= 0 (0 disables subwords), got {maxn}")
    if maxn == 0:
        return
    if minn < 1:
        raise EmbedkitError(f"--minn must be >= 1, got {minn}")
    if minn > maxn:
        raise EmbedkitError(f"--minn {minn} is larger than --maxn {maxn}: no n-gram would be used "
                            "(use --maxn 0 to train without subwords)")
    if not 1 <= bucket <= 2**31 - 1:
        raise EmbedkitError(f"--bucket must be between 1 and 2147483647 when --maxn > 0, got {bucket}")


# ---- pure-Python definitions (single words, tests) ----

def fasttext_hash(ngram: str | bytes) -> int:
    """fastText's 32-bit FNV-1a of the UTF-8 bytes, each byte sign-extended from int8."""
    h = FNV_OFFSET
    for b in ngram.encode("utf-8") if isinstance(ngram, str) else ngram:
        h ^= b | 0xFFFFFF00 if b >= 0x80 else b
        h = (h * FNV_PRIME) & 0xFFFFFFFF
    return h


def char_ngrams(word: str, minn: int, maxn: int) -> list[str]:
    """The n-grams of "<word>" in fastText's order (start position, then length), duplicates kept."""
    s = BOW + word + EOW
    out = []
    for i in range(len(s)):
        for n in range(minn, maxn + 1):
            if i + n > len(s):
                break   # pragma: no mutate (continue is equivalent: every longer n is past the end too)
            if n == 1 and (i == 0 or i + n == len(s)):   # the bare "<" / ">"
                continue
            out.append(s[i:i + n])
    return out


# ---- the compiled version: all words at once ----

@njit(nogil=True, cache=True)
def _word_ngrams(buf, start, end, minn, maxn, bucket, base, out, pos):
    """base + bucket id of each n-gram of one "<word>" held in buf[start:end] (UTF-8), written to
    out[pos:] while out has room; returns the position after the last one (so a pass with an empty
    `out` counts them). The hash grows byte by byte with the n-gram (FNV-1a is a streaming hash)."""
    for i in range(start, end):
        if (buf[i] & 0xC0) == 0x80:                      # continuation byte: not a character start
            continue
        h = _U_OFFSET
        j = i
        n = 1
        while j < end and n <= maxn:
            while True:                                   # one character: lead byte + continuations
                b = np.uint64(buf[j])
                if b >= 0x80:
                    b |= _SIGN_EXTEND
                h = ((h ^ b) * _U_PRIME) & _MASK32
                j += 1
                if j >= end or (buf[j] & 0xC0) != 0x80:
                    break
            if n >= minn and not (n == 1 and (i == start or j == end)):
                if pos < out.shape[0]:
                    out[pos] = base + np.int64(h % np.uint64(bucket))
                pos += 1
            n += 1
    return pos


@njit(nogil=True, cache=True)
def _fill_bags(buf, starts, minn, maxn, bucket, bag_ptr, bag_ids):
    """Second pass: bag_ids[bag_ptr[w]:bag_ptr[w+1]] = [w, V + bucket ids of "<word w>"]."""
    V = starts.shape[0] - 1
    for w in range(V):
        bag_ids[bag_ptr[w]] = w
        _word_ngrams(buf, starts[w], starts[w + 1], minn, maxn, bucket, V, bag_ids[:bag_ptr[w + 1]],
                     bag_ptr[w] + 1)


@njit(nogil=True, cache=True)
def _count_ngrams(buf, starts, minn, maxn):
    """(V,) int64 number of n-grams of each "<word>" (first pass)."""
    V = starts.shape[0] - 1
    counts = np.zeros(V, np.int64)
    scratch = np.empty(0, np.int64)
    for w in range(V):
        counts[w] = _word_ngrams(buf, starts[w], starts[w + 1], minn, maxn, 1, 0, scratch, 0)
    return counts


def _utf8_buffer(words) -> tuple[np.ndarray, np.ndarray]:
    """All "<word>" UTF-8 byte strings concatenated: buf (B,) uint8 and starts (V+1,) int64."""
    encoded = [(BOW + w + EOW).encode("utf-8") for w in words]
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)                       # (V+1,) int64
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=starts[1:])
    buf = np.frombuffer(b"".join(encoded), dtype=np.uint8)                    # (B,) uint8
    return buf, starts


def ngram_buckets(word: str, minn: int, maxn: int, bucket: int) -> np.ndarray:
    """Bucket ids (n,) int64 of the n-grams of "<word>", in fastText's order (no offset V).
    Empty when maxn is 0 or the word has no n-gram of a usable length."""
    if maxn <= 0 or bucket <= 0:
        return np.zeros(0, np.int64)
    buf, starts = _utf8_buffer([word])
    scratch = np.empty(0, np.int64)
    n = _word_ngrams(buf, 0, starts[1], minn, maxn, bucket, 0, scratch, 0)
    ids = np.empty(n, np.int64)                                               # (n,) int64
    _word_ngrams(buf, 0, starts[1], minn, maxn, bucket, 0, ids, 0)
    return ids


def subword_bags(words, minn: int, maxn: int, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR input bags of a vocabulary: bag_ptr (V+1,) int64, bag_ids (nnz,) int32.

    Word w's bag is [w, V + b_1, V + b_2, ...] with b_k the bucket ids of its n-grams
    (ngram_buckets). maxn = 0 gives the plain model's bags [w]."""
    check_subword_options(minn, maxn, bucket)
    V = len(words)
    if V + (bucket if maxn > 0 else 0) > 2**31 - 1:
        raise EmbedkitError(f"vocabulary ({V:,}) + --bucket ({bucket:,}) rows do not fit int32 row ids")
    buf, starts = _utf8_buffer(words)
    n_ngrams = _count_ngrams(buf, starts, minn, maxn) if maxn > 0 else np.zeros(V, np.int64)
    bag_ptr = np.zeros(V + 1, dtype=np.int64)                                 # (V+1,) int64
    np.cumsum(n_ngrams + 1, out=bag_ptr[1:])
    bag_ids = np.empty(int(bag_ptr[-1]), dtype=np.int32)                      # (nnz,) int32
    _fill_bags(buf, starts, minn, max(maxn, 0), max(bucket, 1), bag_ptr, bag_ids)
    return bag_ptr, bag_ids


def compact_bags(bag_ptr: np.ndarray, bag_ids: np.ndarray, V: int) -> tuple[np.ndarray, np.ndarray]:
    """Bags over a compact input matrix: (bag_ids (nnz,) int32, buckets (U,) int64).

    buckets are the sorted bucket ids some bag holds; row V + k of the compact matrix holds bucket
    buckets[k], and a bag's row V + b becomes V + k. Word rows (< V) keep their ids."""
    ngram = bag_ids >= V
    held, k = np.unique(bag_ids[ngram], return_inverse=True)     # sorted row ids, position of each
    compact = bag_ids.copy()                                      # (nnz,) int32
    compact[ngram] = V + k
    return compact, held.astype(np.int64) - V


def bucket_rows_of(buckets: np.ndarray | None, ids) -> np.ndarray:
    """(n,) int64: the row of each bucket id in a matrix holding `buckets` (sorted), -1 where it
    holds none. buckets None: the full matrix, row b holds bucket b."""
    ids = np.asarray(ids, dtype=np.int64)
    if buckets is None:
        return ids
    if len(buckets) == 0:
        return np.full(ids.shape, -1, np.int64)
    pos = np.searchsorted(buckets, ids)                            # (n,) int64, in 0..U
    found = buckets[np.minimum(pos, len(buckets) - 1)] == ids
    return np.where(found, pos, -1)
