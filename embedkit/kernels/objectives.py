"""The objectives of the word2vec family: a target word -> the output rows to score, with labels.

Each objective has its own named table type, and the kernels dispatch on that type at compile time
(numba specialises the walker once per table type, and each specialisation is cached):

    NoiseTables(prob (V,) float64, alias (V,) int32, negative int)
        negative sampling: the target (label 1) and `negative` draws from the alias table of
        count**ns_exponent (label 0; a draw equal to the target is dropped, as word2vec C).
    HuffmanTables(points (V, L) int32, codes (V, L) int8, code_len (V,) int32)
        hierarchical softmax: the inner nodes on the target's Huffman path, label 1 - code
        (word2vec C's convention: code 0 = go left = sigma(f) -> 1).
    SoftmaxTables(n_outputs int)
        full softmax: every output row, label 1 for the target and 0 for the others; scored by
        kernels/softmax.py's update (fastText's SoftmaxLoss), not by the logistic one.
    OneVsAllTables(n_outputs int)
        one-vs-all (fastText's -loss ova, for multi-label data): every output row, label 1 for
        each of the example's targets, 0 for the others, each scored as an independent binary
        logistic.

NS, HS and one-vs-all end in the one binary-logistic update (kernels/logistic.py), softmax in its
own (objective_update picks). A new objective is a new table type with an `outputs`, a
`max_outputs` and, when it is not logistic, an `objective_update` implementation here.

Single-target objectives (NS, HS, softmax) given an example with several targets (a classifier's
line with several labels) train on one of them drawn uniformly, as fastText's supervised();
one-vs-all trains on all of them at once (example_outputs).
"""
from collections import namedtuple

from numba import types
from numba.extending import overload

from embedkit.kernels.logistic import logistic_update
from embedkit.kernels.random import randint
from embedkit.kernels.sampling import sample_alias
from embedkit.kernels.softmax import softmax_update

NoiseTables = namedtuple("NoiseTables", "prob alias negative")
HuffmanTables = namedtuple("HuffmanTables", "points codes code_len")
SoftmaxTables = namedtuple("SoftmaxTables", "n_outputs")
OneVsAllTables = namedtuple("OneVsAllTables", "n_outputs")


def _is(tables, cls) -> bool:
    return isinstance(tables, types.BaseNamedTuple) and tables.instance_class is cls


def objective_outputs(tables, target, state, outs, labels):
    """Fill outs[:n] (int64 row ids of w_out) and labels[:n] (float32) for `target`; return n.
    Compiled for each table type by the overload below (this body only runs outside numba)."""
    raise TypeError(f"no objective for tables of type {type(tables).__name__}")


def max_outputs(tables):
    """The most output rows one example can have: the scratch size the walker allocates."""
    raise TypeError(f"no objective for tables of type {type(tables).__name__}")


def example_outputs(tables, targets, t_begin, t_end, state, outs, labels):
    """objective_outputs for an example whose targets are targets[t_begin:t_end] (at least one):
    one-vs-all labels all of them 1; the other objectives train on one drawn uniformly."""
    raise TypeError(f"no objective for tables of type {type(tables).__name__}")


def objective_update(tables, h, w_out, outs, labels, n_o, lr, grad, scores):
    """Score h against outs[:n_o] and update (kernels/logistic.py's arguments and result):
    softmax's update for SoftmaxTables, the binary-logistic one for every other table type."""
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
    if _is(tables, SoftmaxTables) or _is(tables, OneVsAllTables):
        def one_hot(tables, target, state, outs, labels):
            for o in range(tables.n_outputs):
                outs[o] = o
                labels[o] = 0.0
            labels[target] = 1.0
            return tables.n_outputs
        return one_hot


@overload(max_outputs)
def _max_outputs(tables):
    if _is(tables, NoiseTables):
        return lambda tables: tables.negative + 1
    if _is(tables, HuffmanTables):
        return lambda tables: tables.points.shape[1]
    if _is(tables, SoftmaxTables) or _is(tables, OneVsAllTables):
        return lambda tables: tables.n_outputs


@overload(example_outputs)
def _example_outputs(tables, targets, t_begin, t_end, state, outs, labels):
    if _is(tables, OneVsAllTables):
        def all_targets(tables, targets, t_begin, t_end, state, outs, labels):
            for o in range(tables.n_outputs):
                outs[o] = o
                labels[o] = 0.0
            for t in range(t_begin, t_end):
                labels[targets[t]] = 1.0
            return tables.n_outputs
        return all_targets

    def one_target(tables, targets, t_begin, t_end, state, outs, labels):
        t = t_begin
        if t_end - t_begin > 1:
            t += randint(state, 0, t_end - t_begin)
        return objective_outputs(tables, targets[t], state, outs, labels)
    return one_target


@overload(objective_update)
def _objective_update(tables, h, w_out, outs, labels, n_o, lr, grad, scores):
    if _is(tables, SoftmaxTables):
        return lambda tables, h, w_out, outs, labels, n_o, lr, grad, scores: \
            softmax_update(h, w_out, outs, labels, n_o, lr, grad, scores)
    return lambda tables, h, w_out, outs, labels, n_o, lr, grad, scores: \
        logistic_update(h, w_out, outs, labels, n_o, lr, grad, scores)
