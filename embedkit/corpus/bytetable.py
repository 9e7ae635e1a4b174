"""The byte-string hash table of the corpus scanner: its arrays, grown here by doubling.

The kernels that probe, insert, rehash and prune are in kernels/bytehash.py, which documents the
layout; this class allocates the arrays and makes room before a kernel needs it (a kernel never
allocates). While counting, a value is a word's count; in a lookup table it is a word id.

Memory: each distinct word is held once, its bytes plus about 64 bytes of slots and entry
(tables grow by doubling, at most half full). With --max-vocab-size the counting kernel prunes
the table, so it stays bounded.
"""
from __future__ import annotations

import numpy as np

from embedkit.kernels import bytehash as bh

IDENTITY = np.arange(256, dtype=np.uint8)                    # (256,) identity byte map


class ByteTable:
    """Arrays of a bytehash table (layout in kernels/bytehash.py), grown here by doubling."""

    def __init__(self, entries: int = 1 << 12, arena: int = 1 << 16):
        n_slots = 1 << (2 * entries - 1).bit_length()
        self.slots = np.full((n_slots, 4), bh.EMPTY, np.int64)   # (S, 4) [key0, key1, value, entry], S = 2^k >= 2 E
        self.ent = np.zeros((entries, 3), np.int64)              # (E, 3) [arena start, length, scratch]
        self.arena = np.zeros(arena, np.uint8)                   # (A,) word bytes
        self.meta = np.zeros(2, np.int64)                        # [entries used, arena bytes used]

    def __len__(self) -> int:
        return int(self.meta[0])

    def reserve(self, new_entries: int, new_bytes: int) -> None:
        """Make room for new_entries more words of new_bytes bytes in all (load kept <= 1/2)."""
        used, used_bytes = int(self.meta[0]), int(self.meta[1])
        need = used + new_entries
        if need > len(self.ent):
            ent = np.zeros((max(2 * len(self.ent), need), 3), np.int64)
            ent[:used] = self.ent[:used]
            self.ent = ent
        if 2 * need > len(self.slots):
            old_slots = self.slots
            n_slots = max(2 * len(old_slots), 1 << (2 * need - 1).bit_length())
            self.slots = np.full((n_slots, 4), bh.EMPTY, np.int64)
            bh.rehash(old_slots, self.slots, self.ent, self.arena, IDENTITY)
        if used_bytes + new_bytes > len(self.arena):
            arena = np.zeros(max(2 * len(self.arena), used_bytes + new_bytes), np.uint8)
            arena[:used_bytes] = self.arena[:used_bytes]
            self.arena = arena

    def kernel_args(self) -> tuple:
        return self.slots, self.ent, self.arena, self.meta

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """(entries, values) of every word in the table, in slot order."""
        occupied = np.flatnonzero(self.slots[:, 0] != bh.EMPTY)
        return self.slots[occupied, 3], self.slots[occupied, 2]

    def word_bytes(self, entries: np.ndarray) -> list[bytes]:
        data = self.arena[:int(self.meta[1])].tobytes()
        return [data[s:s + n] for s, n in self.ent[entries, :2].tolist()]

    def words(self, entries: np.ndarray) -> list[str]:
        """The words of the given entries."""
        return [b.decode("utf-8", "surrogatepass") for b in self.word_bytes(entries)]


def lookup_table(words: list[str]) -> ByteTable:
    """word -> id table (the word's position in `words`)."""
    enc = [w.encode("utf-8", "surrogatepass") for w in words]
    buf = np.frombuffer(b"".join(enc), np.uint8)
    ends = np.cumsum(np.fromiter(map(len, enc), np.int64, len(enc)), dtype=np.int64)
    table = ByteTable(max(len(enc), 16), max(len(buf), 16))
    bh.insert_words(buf, ends, IDENTITY, *table.kernel_args())
    return table
