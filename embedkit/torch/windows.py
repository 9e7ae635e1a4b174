"""Subsampling and reduced windows on the device: a chunk of the encoded corpus -> its kept words and
each kept word's context, built with a few torch ops over the whole chunk (no loop per sentence).

The same model as the numba walker (kernels/walker.py): an occurrence of word w is kept with
probability keep_prob[w] (word2vec C's subsampling), windows run over the kept words of a sentence
(piece) and never cross it, and each kept centre draws its reduced window b ~ U{1..window}. The
draws come from a torch.Generator on the device instead of the walker's splitmix64 streams, so the
model is the same and the random numbers differ.

A chunk is a range of whole sentences. Compacting its kept words (torch.nonzero) is the one point
where the host learns a size from the device: once per chunk, never per batch.
"""
from __future__ import annotations

from typing import NamedTuple

from embedkit.torch.device import import_torch


class ChunkWindows(NamedTuple):
    """The kept words of a chunk and their windows; n = kept words, C = 2 * window."""
    words: object        # (n,) int64 word ids of the kept occurrences, in corpus order
    context: object      # (n, C) int64 word ids at offsets -window..-1, 1..window (clamped where invalid)
    valid: object        # (n, C) bool: inside the reduced window and the same sentence

    @property
    def n(self) -> int:
        return self.words.shape[0]


def window_offsets(window: int, device):
    """(2 window,) int64: -window..-1, 1..window."""
    torch = import_torch()
    d = torch.arange(-window, window + 1, device=device)
    return d[d != 0]


def chunk_windows(tokens, offsets, host_offsets, keep_prob, s0: int, s1: int, window: int, gen) -> ChunkWindows:
    """Kept words and windows of sentences [s0, s1). tokens (N,) int32, offsets (S+1,) int64 and
    keep_prob (V,) float32 on the device, host_offsets the same offsets as a numpy array (so the
    chunk's bounds are not read from the device); gen the device's Generator."""
    torch = import_torch()
    device = tokens.device
    t0, t1 = int(host_offsets[s0]), int(host_offsets[s1])
    tok = tokens[t0:t1].long()                                              # (m,) raw occurrences
    u = torch.rand(tok.shape, generator=gen, device=device)                 # (m,) float32 in [0, 1)
    kept = torch.nonzero(keep_prob[tok] >= u).squeeze(1)                    # (n,) the chunk's one sync
    words = tok[kept]
    # sentence of each kept occurrence: offsets are sorted, so kept occurrences of one sentence are contiguous
    sentence = torch.searchsorted(offsets[s0:s1 + 1], kept + t0, right=True)  # (n,) int64
    b = torch.randint(1, window + 1, words.shape, generator=gen, device=device)   # (n,) reduced windows
    d = window_offsets(window, device)                                      # (C,)
    pos = torch.arange(words.shape[0], device=device)[:, None] + d          # (n, C) kept positions
    inside = (pos >= 0) & (pos < words.shape[0])
    pos.clamp_(0, max(words.shape[0] - 1, 0))
    valid = inside & (d.abs()[None, :] <= b[:, None]) & (sentence[pos] == sentence[:, None])
    return ChunkWindows(words, words[pos] if words.shape[0] else pos, valid)

