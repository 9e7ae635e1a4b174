"""The objectives of the word2vec family: a target word -> the output rows to score, with labels.

Each objective has its own named table type, and the kernels dispatch on that type at compile time
(numba specialises the walker once per table type, and each specialisation is cached):

    NoiseTables(prob (V,) float64, alias (V,) int32, negative int)
        negative sampling: the target (label 1) and `negative` draws from the alias table of
        count**ns_exponent (label 0; a draw equal to the target is dropped, as word2vec C).
    HuffmanTables(points (V, L) int32, codes (V, L) int8, code_len (V,) int32)
        hierarchical softmax: the inner nodes on the target's Huffman path, label 1 - code
        (word2vec C's convention: code 0 = go left = sigma(f) -> 1).

Both end in the one binary-logistic update (kernels/logistic.py). A new objective is a new table
type with an `outputs` and a `max_outputs` implementation here.
"""
from collections import namedtuple

from numba import types
from numba.extending import overload

from embedkit.kernels.sampling import sample_alias

NoiseTables = namedtuple("NoiseTables", "prob alias negative")
HuffmanTables = namedtuple("HuffmanTables", "points codes code_len")


def _is(tables, cls) -> bool:
    return isinstance(tables, types.BaseNamedTuple) and tables.instance_class is cls


def objective_outputs(tables, target, state, outs, labels):
    """Fill outs[:n] (int64 row ids of w_out) and labels[:n] (float32) for `target`; return n.
    Compiled for each table type by the overload below (this body only runs outside numba)."""
    raise TypeError(f"no objective for tables of type {type(tables).__name__}")


def max_outputs(tables):
    """The most output rows one example can have: the scratch size the walker allocates."""
    raise TypeError(f"no objective for tables of type {type(tables).__name__}")


@overload(objective_outputs)
def _objective_outputs(tables, target, state, outs, labels):
    if _is(tables, NoiseTables):
        def negative_sampling(tables, target, state, outs, labels):
            outs[0] = target
            labels[0] = 1.0
            n_o = 1
            for _ in range(tables.negative):
                neg = sample_alias(tables.prob, tables.alias, state)
                if neg != target:
                    outs[n_o] = neg
                    labels[n_o] = 0.0
                    n_o += 1
            return n_o
        return negative_sampling
    if _is(tables, HuffmanTables):
        def hierarchical_softmax(tables, target, state, outs, labels):
            for d in range(tables.code_len[target]):
                outs[d] = tables.points[target, d]
                labels[d] = 1.0 - tables.codes[target, d]
            return tables.code_len[target]
        return hierarchical_softmax


@overload(max_outputs)
def _max_outputs(tables):
    if _is(tables, NoiseTables):
        return lambda tables: tables.negative + 1
    if _is(tables, HuffmanTables):
        return lambda tables: tables.points.shape[1]
