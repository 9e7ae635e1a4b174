"""Huffman tree over the vocabulary, for hierarchical softmax (word2vec C's CreateBinaryTree).

Built in linear time with word2vec C's two-queue method: the leaves, already sorted by count
descending, are one queue read from its tail (rarest first); the inner nodes are a second queue
that is created in non-decreasing weight order, so each merge takes the two lightest heads of the
two queues without a heap. Ties prefer the inner-node queue, exactly as word2vec C
(`count[pos1] < count[pos2]`), so the tree, codes and points are identical to word2vec C's.

Output, one row per word w, ordered from the root down (word2vec C's convention):
    points   (V, L) int32  inner-node ids on w's path, root first; inner node ids are 0..V-2 and
                           the root is V-2 (node V+a of word2vec C is inner id a)
    codes    (V, L) int8   codes[w, d] is 1 when the path turns to the second-lightest child below
                           points[w, d] (word2vec C's `binary`); hierarchical softmax trains
                           sigma(h . w_out[points[w, d]]) towards 1 - codes[w, d]
    code_len (V,)   int32  path length; only the first code_len[w] entries of a row are used
L is the longest code (at least 1). A single-word vocabulary has an empty path (code_len 0).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from embedkit.errors import EmbedkitError

MAX_CODE_LENGTH = 40   # word2vec C's MAX_CODE_LENGTH: deeper trees overflow its code arrays


@njit(nogil=True, cache=True, inline="always")
def _pop_lightest(weight, leaf, inner, new):
    """The lighter queue head (the inner node on a tie, as word2vec C) and the advanced heads."""
    if leaf >= 0 and (inner == new or weight[leaf] < weight[inner]):
        return leaf, leaf - 1, inner
    return inner, leaf, inner + 1


@njit(nogil=True, cache=True)
def _merge_two_queues(counts):
    """parent (2V-1,) int64 and bit (2V-1,) int8 of every node (leaves 0..V-1, inner V..2V-2)."""
    V = counts.shape[0]
    n_nodes = 2 * V - 1
    weight = np.empty(n_nodes, dtype=np.int64)    # (2V-1,) leaf counts, then inner sums
    weight[:V] = counts
    parent = np.full(n_nodes, -1, dtype=np.int64)   # pragma: no mutate (only the root keeps it; no one reads it)
    bit = np.zeros(n_nodes, dtype=np.int8)
    leaf = V - 1          # head of the leaf queue: the rarest word not yet merged
    inner = V             # head of the inner queue: the lightest inner node not yet merged
    for a in range(V - 1):
        new = V + a       # inner nodes before `new` exist; the inner queue is empty when inner == new
        first, leaf, inner = _pop_lightest(weight, leaf, inner, new)
        second, leaf, inner = _pop_lightest(weight, leaf, inner, new)
        weight[new] = weight[first] + weight[second]
        parent[first] = new
        parent[second] = new
        bit[second] = 1
    return parent, bit


@njit(nogil=True, cache=True)
def _depths(parent, V):
    """Depth of every node (root 0); parents have larger ids than their children."""
    n_nodes = 2 * V - 1
    depth = np.zeros(n_nodes, dtype=np.int64)
    for node in range(n_nodes - 2, -1, -1):
        depth[node] = depth[parent[node]] + 1
    return depth


@njit(nogil=True, cache=True)
def _fill_paths(parent, bit, depth, points, codes, code_len):
    """Walk each leaf up to the root, writing its path root-first."""
    V = code_len.shape[0]
    for w in range(V):
        n = depth[w]
        code_len[w] = n
        node = w
        for d in range(n - 1, -1, -1):      # the leaf's own bit is the last code
            codes[w, d] = bit[node]
            node = parent[node]
            points[w, d] = node - V


def huffman_tree(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points (V, L) int32, codes (V, L) int8, code_len (V,) int32) of the Huffman tree of
    `counts`, which must be sorted by count descending (Vocab keeps them so). See the module doc."""
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0:
        raise EmbedkitError("hierarchical softmax needs a non-empty vocabulary")
    if not np.issubdtype(counts.dtype, np.integer):
        if not np.array_equal(counts, np.round(counts)):
            raise EmbedkitError("Huffman tree needs integer word counts")
    counts = counts.astype(np.int64)
    if (counts < 0).any():
        raise EmbedkitError("Huffman tree needs non-negative word counts")
    if (np.diff(counts) > 0).any():
        raise EmbedkitError("Huffman tree needs counts sorted by decreasing count (as Vocab orders them)")
    V = counts.size
    if V == 1:
        return np.zeros((1, 1), np.int32), np.zeros((1, 1), np.int8), np.zeros(1, np.int32)
    parent, bit = _merge_two_queues(counts)
    depth = _depths(parent, V)
    L = int(depth[:V].max())
    if L > MAX_CODE_LENGTH:
        raise EmbedkitError(
            f"the Huffman tree of this vocabulary is {L} levels deep, more than {MAX_CODE_LENGTH} "
            f"(word2vec's limit): the counts are too skewed; raise --min-count or use --objective ns")
    points = np.zeros((V, L), dtype=np.int32)    # (V, L) inner-node ids, root first
    codes = np.zeros((V, L), dtype=np.int8)      # (V, L) branch bits, root first
    code_len = np.zeros(V, dtype=np.int32)       # (V,)
    _fill_paths(parent, bit, depth, points, codes, code_len)
    return points, codes, code_len
