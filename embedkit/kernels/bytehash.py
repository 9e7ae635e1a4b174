"""A byte-string hash table in arrays: the vocabulary of the corpus kernels (kernels/textscan.py).

The table maps byte strings (UTF-8 words) to an int64 value: a count while counting a corpus, a
word id when encoding one. Open addressing with linear probing (Knuth, TAOCP 6.4, algorithm L).
A slot holds the word's *key* (its first 15 bytes and its length, packed in two int64) beside
its value, so a word of up to 14 bytes (nearly every token of English text) is found and
counted touching one 32-byte slot; longer words also compare their remaining bytes in the
arena. The hash mixes the word's 8-byte chunks multiply-rotate style and ends with MurmurHash3's
fmix64. Layout, all arrays allocated and grown by Python (corpus/bytetable.py), never by a kernel:

    slots     (S, 4) int64  [key0, key1, value, entry id]; key0 -1 marks an empty slot; S a power
                            of two, load <= 1/2
    ent       (E, 3) int64  per entry, in insertion order: [arena start, byte length, scratch]
    arena     (A,) uint8    entry bytes back to back, in entry order
    meta      (2,) int64    [entries used, arena bytes used]

`vmap` arguments are (256,) uint8 byte maps applied to a word's bytes before they are hashed or
stored (a tokenizer's lowercasing; the identity for UTF-8 tokens).
"""
import numpy as np
from numba import njit

EMPTY = -1                                       # key0 of an empty slot

_MUL = np.uint64(0x9E3779B97F4A7C15)       # 2^64 / golden ratio (Fibonacci hashing)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)     # MurmurHash3's fmix64 constants
_FMIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_LOW7 = np.uint64(0x00FFFFFFFFFFFFFF)
_U0, _U1, _U7, _U8, _U15, _U64 = (np.uint64(0), np.uint64(1), np.uint64(7), np.uint64(8), np.uint64(15),
                                 np.uint64(64))
_U31, _U33, _U56 = np.uint64(31), np.uint64(33), np.uint64(56)


@njit(nogil=True, cache=True, inline="always")
def _chunk(h, w):
    """Mix one full 8-byte chunk w into the hash state h (multiply, rotate)."""
    h = (h ^ w) * _MUL
    return (h << _U31) | (h >> _U33)


@njit(nogil=True, cache=True, inline="always")
def _finish(h, w, c0, c1, n):
    """(key0, key1, hash) from the state after all full chunks: w the partial last chunk, c0 and
    c1 the first two chunks (zero-padded), n the length. key0 packs bytes 0-6 and min(n, 127)
    in the top byte, key1 bytes 7-14: equal keys mean equal words for n <= 14. The hash ends
    with MurmurHash3's fmix64. All int64 >= 0."""
    h = (h ^ w ^ (np.uint64(n) << _U56)) * _MUL
    h ^= h >> _U33
    h *= _FMIX1
    h ^= h >> _U33
    h *= _FMIX2
    h ^= h >> _U33
    key0 = (c0 & _LOW7) | (np.uint64(min(n, 127)) << _U56)
    key1 = (c0 >> _U56) | ((c1 & _LOW7) << _U8)
    return np.int64(key0), np.int64(key1), np.int64(h >> _U1)


@njit(nogil=True, cache=True, inline="always")
def key_hash(src, start, n, vmap):
    """(key0, key1, hash) of the token vmap[src[start:start+n]] (see _finish)."""
    h = _U0
    w = _U0
    c0 = _U0                               # the first two 8-byte chunks
    c1 = _U0
    for k in range(n):
        w |= np.uint64(vmap[src[start + k]]) << (_U8 * np.uint64(k & 7))
        if k & 7 == 7:
            if k == 7:
                c0 = w
            elif k == 15:
                c1 = w
            h = _chunk(h, w)
            w = _U0
    if n < 8:
        c0 = w
    elif n < 16:
        c1 = w
    return _finish(h, w, c0, c1, n)


@njit(nogil=True, cache=True, inline="always")
def _probe(src, start, n, vmap, key0, key1, h, slots, ent, arena):
    """(slot, found) of the token vmap[src[start:start+n]]; when absent, slot is the empty
    slot where it goes."""
    mask = slots.shape[0] - 1
    i = h & mask
    while True:
        k = slots[i, 0]
        if k == EMPTY:
            return i, False
        if k == key0 and slots[i, 1] == key1:
            if n <= 14:
                return i, True
            e = slots[i, 3]
            if ent[e, 1] == n:
                s = ent[e, 0]
                j = 15
                while j < n and arena[s + j] == vmap[src[start + j]]:
                    j += 1
                if j == n:
                    return i, True
        i = (i + 1) & mask


@njit(nogil=True, cache=True, inline="always")
def _insert(i, src, start, n, vmap, key0, key1, slots, ent, arena, meta):
    """New entry with value 0 in empty slot i; the caller made sure there is room."""
    e = meta[0]
    a = meta[1]
    for k in range(n):
        arena[a + k] = vmap[src[start + k]]
    ent[e, 0] = a
    ent[e, 1] = n
    slots[i, 0] = key0
    slots[i, 1] = key1
    slots[i, 2] = 0
    slots[i, 3] = e
    meta[0] = e + 1
    meta[1] = a + n


@njit(nogil=True, cache=True, inline="always")
def _place(key0, key1, h, value, e, slots):
    """Put an entry known to be absent into the first free slot of its probe sequence."""
    mask = slots.shape[0] - 1
    i = h & mask
    while slots[i, 0] != EMPTY:
        i = (i + 1) & mask
    slots[i, 0] = key0
    slots[i, 1] = key1
    slots[i, 2] = value
    slots[i, 3] = e


@njit(nogil=True, cache=True)
def rehash(old_slots, slots, ent, arena, ident):
    """Move every entry of old_slots into the (larger, empty) slots; hashes are recomputed from
    the arena (ident: the (256,) identity map)."""
    for i in range(old_slots.shape[0]):
        if old_slots[i, 0] != EMPTY:
            e = old_slots[i, 3]
            key0, key1, h = key_hash(arena, ent[e, 0], ent[e, 1], ident)
            _place(key0, key1, h, old_slots[i, 2], e, slots)


@njit(nogil=True, cache=True)
def prune(slots, ent, arena, meta, min_reduce, ident):
    """Drop every word whose count is <= min_reduce (gensim's prune_vocab, word2vec.c's
    ReduceVocab): entries and arena are compacted in order, and the slots refilled."""
    for i in range(slots.shape[0]):           # counts into the entries; slots emptied
        if slots[i, 0] != EMPTY:
            ent[slots[i, 3], 2] = slots[i, 2]
            slots[i, 0] = EMPTY
    w = 0
    a = 0
    for e in range(meta[0]):
        count = ent[e, 2]
        if count > min_reduce:
            s = ent[e, 0]
            n = ent[e, 1]
            for k in range(n):          # forward copy: a <= s, so nothing unread is overwritten
                arena[a + k] = arena[s + k]
            ent[w, 0] = a
            ent[w, 1] = n
            key0, key1, h = key_hash(arena, a, n, ident)
            _place(key0, key1, h, count, w, slots)
            a += n
            w += 1
    meta[0] = w
    meta[1] = a


@njit(nogil=True, cache=True)
def insert_words(buf, ends, vmap, slots, ent, arena, meta):
    """Give word t = buf[ends[t-1]:ends[t]] the value t (a later duplicate wins, as in a dict).
    The caller made room for all of them."""
    start = 0
    for t in range(ends.shape[0]):
        n = ends[t] - start
        key0, key1, h = key_hash(buf, start, n, vmap)
        i, found = _probe(buf, start, n, vmap, key0, key1, h, slots, ent, arena)
        if not found:
            _insert(i, buf, start, n, vmap, key0, key1, slots, ent, arena, meta)
        slots[i, 2] = t
        start = ends[t]
