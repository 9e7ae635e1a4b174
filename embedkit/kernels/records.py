"""Scanning NUL-terminated records, as fastText's dictionary stores its entries.

An entry is the word's bytes, a NUL, then a fixed-size tail (fastText: int64 count, int8 type).
The scanner finds where each word ends; Python decodes the words and numpy reads the tails.
"""
import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def scan_nul_records(buf, pos, n_max, tail, ends):
    """Parse up to n_max records of `buf` (uint8) from byte `pos`: record k's word is
    buf[start_k:ends[k]], buf[ends[k]] == 0, and its tail is the `tail` bytes after the NUL.
    Stops at the first record that is not complete in buf. Returns (records parsed, the byte
    after the last complete record); ends (n_max,) int64 is filled for the parsed records."""
    n = buf.shape[0]
    k = 0
    while k < n_max:
        j = pos
        while j < n and buf[j] != 0:
            j += 1
        if j + 1 + tail > n:
            break
        ends[k] = j
        pos = j + 1 + tail
        k += 1
    return k, pos
