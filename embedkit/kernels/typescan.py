"""Labelled text -> token type ids, for the classifier's reader (corpus/labelled.py).

A buffer of bytes is split as fastText's readWord splits it: tokens are separated by ASCII
whitespace (space, \\t, \\r, \\v, \\f) and NUL, and "\\n" ends a line. Every distinct token (a
*type*) gets an id in order of first appearance, kept in a bytehash table (kernels/bytehash.py:
the slot's value is the type id, the entries are in insertion order, so type t's bytes are the
t-th run of the arena). This replaces a Python split + dict + fromiter that took ~1.5 s of the
WordNet set's 12 MB (a tenth of that here).

The table is grown by the caller (corpus/bytetable.py): scan_types stops at the first new type
it has no room for and returns where, and the caller grows the table and calls again from there.
"""
import numpy as np
from numba import njit

from embedkit.kernels.bytehash import _insert, _probe, key_hash

WORD, SEPARATOR, NEWLINE = 0, 1, 2
BYTE_CLASS = np.zeros(256, np.uint8)                 # (256,) the class of each byte
BYTE_CLASS[[0x20, 0x09, 0x0D, 0x0B, 0x0C, 0x00]] = SEPARATOR
BYTE_CLASS[0x0A] = NEWLINE


@njit(nogil=True, cache=True)
def scan_types(buf, i, vmap, slots, ent, arena, meta, tok, line_ptr, counts):
    """Scan buf from byte i (not inside a token): each token's type id goes to tok, and each
    line's end (its number of tokens so far) to line_ptr[1 + line]. counts (2,) int64 holds
    [tokens written, lines ended] across calls. Returns len(buf) when done, or the position of
    a new type that does not fit in the table (entries, slots at load 1/2, or arena bytes).
    vmap: the (256,) identity byte map of bytehash."""
    n = buf.shape[0]
    n_tok = counts[0]
    n_lines = counts[1]
    while i < n:
        c = BYTE_CLASS[buf[i]]
        if c == NEWLINE:
            n_lines += 1
            line_ptr[n_lines] = n_tok
            i += 1
            continue
        if c == SEPARATOR:
            i += 1
            continue
        j = i + 1
        while j < n and BYTE_CLASS[buf[j]] == WORD:
            j += 1
        length = j - i
        key0, key1, h = key_hash(buf, i, length, vmap)
        s, found = _probe(buf, i, length, vmap, key0, key1, h, slots, ent, arena)
        if not found:
            e = meta[0]
            if e >= ent.shape[0] or 2 * (e + 1) > slots.shape[0] or meta[1] + length > arena.shape[0]:
                break
            _insert(s, buf, i, length, vmap, key0, key1, slots, ent, arena, meta)
            slots[s, 2] = e
        tok[n_tok] = slots[s, 2]
        n_tok += 1
        i = j
    counts[0] = n_tok
    counts[1] = n_lines
    return i


@njit(nogil=True, cache=True)
def lookup_types(buf, ptr, vmap, slots, ent, arena, out):
    """out[t] = the value of string t = buf[ptr[t]:ptr[t+1]] in the table, or -1 when absent."""
    for t in range(ptr.shape[0] - 1):
        start = ptr[t]
        length = ptr[t + 1] - start
        key0, key1, h = key_hash(buf, start, length, vmap)
        s, found = _probe(buf, start, length, vmap, key0, key1, h, slots, ent, arena)
        out[t] = slots[s, 2] if found else -1


@njit(nogil=True, cache=True)
def starts_with(buf, ptr, prefix, out):
    """out[t] = string t = buf[ptr[t]:ptr[t+1]] starts with `prefix` (uint8 array)."""
    m = prefix.shape[0]
    for t in range(ptr.shape[0] - 1):
        ok = ptr[t + 1] - ptr[t] >= m
        k = 0
        while ok and k < m:
            ok = buf[ptr[t] + k] == prefix[k]
            k += 1
        out[t] = ok


@njit(nogil=True, cache=True)
def gather_strings(buf, ptr, order, sep, out):
    """out = strings order[0], order[1], ... of buf (string t = buf[ptr[t]:ptr[t+1]]), each
    followed by the byte `sep`; out must hold exactly that many bytes."""
    p = 0
    for t in order:
        for k in range(ptr[t], ptr[t + 1]):
            out[p] = buf[k]
            p += 1
        out[p] = sep
        p += 1
