"""Thread-local label rows for the classifier's Hogwild workers (kernels/walker.py, SUPERVISED).

Softmax and one-vs-all write every label row on every example, hs the top nodes of its tree: with
two workers on two cores those cache lines travel between the cores at every example, and a second
worker made WordNet's softmax epochs slower than one worker did (README, text classification). So
with several workers each keeps its own copy of the (small) label matrix, trains on it, and every
MERGE_EVERY examples adds what it changed since its last merge to the shared matrix and takes the
shared rows back (the other workers' changes included):

    shared += local - base;   local = base = shared

A worker sees another's label-row changes at most MERGE_EVERY of that worker's examples late, where
plain Hogwild sees them at once, or as late as a cache line arrives. With one worker the kernels
train on the shared rows directly (nothing to merge, bit-identical to before). A label matrix above
LOCAL_MAX floats (large label sets) stays shared: its rows are rarely the same two at a time.
"""
import numpy as np
from numba import njit

MERGE_EVERY = 32          # examples between merges
LOCAL_MAX = 1 << 16       # floats (256 KB): a copy that stays in the core's L2


@njit(nogil=True, cache=True)
def merge_rows(shared, local, base):
    """shared += local - base; then local = base = shared (row by row: one pass over each)."""
    for r in range(shared.shape[0]):
        for d in range(shared.shape[1]):
            v = shared[r, d] + (local[r, d] - base[r, d])
            shared[r, d] = v
            local[r, d] = v
            base[r, d] = v

