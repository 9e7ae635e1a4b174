"""The word2vec family's mini-batch step on torch tensors (CPU or CUDA): the numba kernels' model
(kernels/word2vec.py, window_batch.py, logistic.py), many centre words at a time.

    step (skipgram_window | skipgram_pair | cbow: which words are inputs, which are targets)
      -- objective outputs (NoiseOutputs | HuffmanOutputs: the output rows and labels of a target)
      -- input side (WordInputs | BagInputs: h is the mean of a word's input rows)
      -- logistic_batch: scores, loss and the hand-written gradients

For inputs H (E, P, D), output rows O (E, n_o, D), labels y (E, n_o) and a 0/1 mask of the scored
(input, output) pairs:

    S = H O^T (E, P, n_o);   G = lr (y - sigma(S)) mask;   dH = G O;   dO = G^T H
    loss = sum mask * -log sigma(+-S)                      (+ for y = 1)

dH = -lr dL/dH and dO = -lr dL/dO (tests/test_torch_word2vec.py checks them against autograd).
Every gradient of a batch is computed from the weights as they were at the start of the batch,
then added per row (add_rows_capped): a row used by n examples of the batch gets the sum of their
n steps, as the numba kernels give it n steps one after another, unless that sum would overshoot.

Why a cap, and which: n summed stale steps of one row are one step of n times the rate along the
same curvature. A row r's logistic loss in the batch has curvature (Hessian) sum_i s'(S_i) x_i x_i^T
over its uses i (x_i the vector it was scored against, s' = sigma (1 - sigma)); gradient descent on
it overshoots, and oscillates, once lr times its largest eigenvalue passes 1-2. One use is far
below that (lr s' |x|^2 ~ 0.025 * 0.25 * 10), but a frequent noise word or context word is used
hundreds of times in a batch of 1024 windows: on text8 skip-gram NS's loss rose from 3.2 to 40 in
the first epoch at batch 1024, and its 5-epoch run ended at 16.0 analogy against numba's 35.6
(README). So row r's summed step is divided by max(1, k_r), k_r = lr sum_i s'(S_i) |x_i|^2 (the
trace, an upper bound of lr times the largest eigenvalue): a row the batch uses a few times keeps
the plain sum, so a batch of one window (skip-gram "window", CBOW) or one pair (skip-gram "pair")
is still exactly the numba kernel's update on the same draws; a hot row takes at most a Newton-length
step. It also covers HS's inner nodes (the root is on every path), which earlier took their sum
/ sqrt(uses). Dividing every row by sqrt(uses) instead cut rare rows too (README, "what a batch is").

A subword bag in a CBOW mean is the exception (BagInputs.share). Its n-gram rows are shared by many
words, and the CBOW mean h is over every row of every context word, so one row moves h by 1/n of its
step. The rows that move together with a row are those of its word's bag (one use moves them all
by the same step), so a bag row's k per use is the example's k times its word's share of the mean,
rows(word) / rows(h). With the full k, 40% of the subword model's input-row uses were capped from
its second epoch on (2M tokens of text8, 5 epochs, batch 128), losing 17-18% of their step mass,
against 17% and 6% in the first epoch: the cap, not the data, held its n-gram rows back. Plain
word rows (one per word) keep the full k: plain CBOW holds the quality bar with it.

Noise words are drawn per example, as in the numba kernels: per window for skip-gram "window"
(the window's context words share one set of `negative` noise words: HogBatch / BlazingText),
per pair for skip-gram "pair", per centre for CBOW. Sharing one set across a whole batch would
be cheaper (one dense product) but would give each noise row the summed step of thousands of
examples at once; we do not.
"""
from __future__ import annotations

from typing import NamedTuple

from embedkit.torch.device import import_torch


def logistic_loss(S, labels, mask):
    """sum mask * -log sigma(+-S) for scores S (E, P, n_o), labels (E, n_o), mask (E, P, n_o): the
    batch loss as a differentiable expression (0-d float64; the nn.Modules' forward)."""
    torch = import_torch()
    margin = torch.where(labels[:, None, :] > 0, S, -S)           # z: the label's margin
    return (torch.nn.functional.softplus(-margin) * mask).sum(dtype=torch.float64)


class BatchStep(NamedTuple):
    """One batch's steps, loss and curvatures (the k of add_rows_capped, per use)."""
    dH: object           # (E, P, D) -lr dL/dH
    dO: object           # (E, n_o, D) -lr dL/dO
    loss: object         # 0-d float64, not synchronised
    kH: object           # (E, P) lr sum_o s'(S) mask |O_o|^2
    kO: object           # (E, n_o) lr sum_p s'(S) mask |H_p|^2


def logistic_batch(H, O, labels, mask, lr: float) -> BatchStep:
    """H (E, P, D), O (E, n_o, D) float32, labels (E, n_o) float32, mask (E, P, n_o) float32."""
    torch = import_torch()
    S = bmm(H, O.transpose(1, 2))                                # (E, P, n_o) scores
    p = torch.sigmoid(S)
    G = (labels[:, None, :] - p).mul_(mask).mul_(lr)             # (E, P, n_o)
    curv = p.mul_(1.0 - p).mul_(mask).mul_(lr)                   # lr s'(S) (p is not needed after)
    kH = bmm(curv, O.square().sum(2, keepdim=True)).squeeze(2)
    kO = bmm(curv.transpose(1, 2), H.square().sum(2, keepdim=True)).squeeze(2)
    return BatchStep(bmm(G, O), bmm(G.transpose(1, 2), H), logistic_loss(S, labels, mask), kH, kO)


def bmm(X, Y):
    """X (E, m, k) @ Y (E, k, n). A product whose X is a column (k = 1), a row (m = 1), or whose Y is
    a column (n = 1) is written as elementwise products and one sum: CBOW's and skip-gram "pair"'s
    single input row make four of logistic_batch's five products so, skip-gram "window"'s curvatures
    two. Why: on a GPU each cuBLAS call is a fixed cost of the batch, while torch.compile fuses an
    elementwise product and its sum with their neighbours (README, "On a GPU")."""
    torch = import_torch()
    if X.shape[2] == 1:
        return X * Y                                              # outer products: no sum
    if X.shape[1] == 1:
        return (X.transpose(1, 2) * Y).sum(1, keepdim=True)
    if Y.shape[2] == 1:
        return (X * Y.transpose(1, 2)).sum(2, keepdim=True)
    return torch.bmm(X, Y)


def add_rows(w, rows, steps):
    """w[r] += the sum of the steps of row r (shapes: rows (...) int64, steps (..., D)). A padding
    entry carries a zero step (its mask is in the step), so it changes nothing."""
    w.index_add_(0, rows.reshape(-1), steps.reshape(-1, steps.shape[-1]))


def add_rows_capped(w, rows, steps, k):
    """w[r] += (the sum of the steps of row r) / max(1, k_r), k_r the sum of k (rows' shape) over
    r's uses: the trace of lr times r's loss curvature in the batch (module docstring)."""
    torch = import_torch()
    rows = rows.reshape(-1)
    k_row = torch.zeros(w.shape[0], dtype=steps.dtype, device=w.device).index_add_(0, rows, k.reshape(-1))
    scale = k_row[rows].clamp_(min=1.0).reciprocal_()      # per use, not per row: fuses into the add below
    w.index_add_(0, rows, steps.reshape(-1, steps.shape[-1]) * scale[:, None])


# ---- objectives: targets -> output rows, labels, mask ----

class NoiseOutputs:
    """Negative sampling: [target, `negative` draws from the alias table of count**ns_exponent];
    a draw equal to its target is masked out (the numba kernel drops it)."""

    def __init__(self, tables, device):
        torch = import_torch()
        self.prob = torch.as_tensor(tables.prob, dtype=torch.float32, device=device)    # (V,)
        self.alias = torch.as_tensor(tables.alias, dtype=torch.int64, device=device)   # (V,)
        self.negative = int(tables.negative)
        self.labels = torch.zeros(self.negative + 1, device=device)
        self.labels[0] = 1.0

    def draw(self, shape, gen):
        """Noise words (*shape, negative) int64 from the alias table."""
        torch = import_torch()
        size = (*shape, self.negative)
        k = torch.randint(0, self.prob.shape[0], size, generator=gen, device=self.prob.device)
        u = torch.rand(size, generator=gen, device=self.prob.device)
        return torch.where(u < self.prob[k], k, self.alias[k])

    def outputs(self, targets, gen, noise=None):
        """targets (E,) int64 -> outs (E, n_o) int64, labels (E, n_o), mask (E, n_o) float32.
        noise: given draws (E, negative) instead of fresh ones (tests replay the numba kernel's)."""
        torch = import_torch()
        noise = self.draw(targets.shape, gen) if noise is None else noise
        outs = torch.cat([targets[:, None], noise], dim=1)
        mask = torch.cat([torch.ones_like(targets[:, None], dtype=torch.float32),
                          (noise != targets[:, None]).float()], dim=1)
        return outs, self.labels.expand(outs.shape), mask


class HuffmanOutputs:
    """Hierarchical softmax: the inner nodes on the target's Huffman path, labels 1 - code."""

    def __init__(self, tables, device):
        torch = import_torch()
        self.points = torch.as_tensor(tables.points, dtype=torch.int64, device=device)        # (V, L)
        self.labels = 1.0 - torch.as_tensor(tables.codes, dtype=torch.float32, device=device)  # (V, L)
        code_len = torch.as_tensor(tables.code_len, dtype=torch.int64, device=device)
        self.mask = (torch.arange(self.points.shape[1], device=device)[None, :] < code_len[:, None]).float()

    def outputs(self, targets, gen, noise=None):
        return self.points[targets], self.labels[targets], self.mask[targets]


# ---- input sides: words -> the sums of their input rows, and the push of h-gradients back ----

class WordInputs:
    """Plain word2vec: word w's input row is w_in[w]."""

    def __init__(self, w_in):
        self.w_in = w_in

    def gather(self, words, mask, total=None):
        """words (...) int64, mask (...) float32 -> (row sums (..., D), row counts (...), handle)."""
        return self.w_in[words] * mask[..., None], mask, (words, mask)

    def share(self, rows, n_rows):
        """Each word's share of a CBOW mean, for its k: plain rows keep the full k (module docstring)."""
        return 1.0

    def push(self, handle, grads, k):
        """Every input row of every (unmasked) word += its grad (..., D), undivided, capped by k (...)."""
        words, mask = handle
        add_rows_capped(self.w_in, words, grads * mask[..., None], k * mask)


class BagInputs:
    """Subword bags (CSR): word w's input rows are bag_ids[bag_ptr[w]:bag_ptr[w + 1]]. A batch's bags
    are expanded into one flat row list of `total` entries, a budget the caller knows to be at least
    the batch's rows (the trainer reads every batch's rows once per chunk), so the expansion needs no
    read from the device. Eager launches pass each batch's own rows; a CUDA graph passes one budget
    for all the batches it replays (chunk_program.py), and PAD_BAGS padding bags after the batch's
    own share the rows it leaves: their rows carry zero steps and zero k, so they change nothing.
    Why several: embedding_bag on CUDA sums each bag in one thread block, one row after another, so
    one padding bag of thousands of rows would be the batch's longest kernel by far."""

    PAD_BAGS = 256

    def __init__(self, w_in, bag_ptr, bag_ids):
        torch = import_torch()
        device = w_in.device
        self.w_in = w_in
        self.bag_ptr = torch.as_tensor(bag_ptr, dtype=torch.int64, device=device)    # (V+1,)
        self.bag_ids = torch.as_tensor(bag_ids, dtype=torch.int64, device=device)    # (nnz,)
        self.sizes = self.bag_ptr[1:] - self.bag_ptr[:-1]                             # (V,) rows per word

    def rows_of(self, words, mask):
        """(...) int64: the number of input rows of each unmasked word (0 where masked)."""
        return self.sizes[words] * (mask > 0)

    def gather(self, words, mask, total=None):
        torch = import_torch()
        flat = words.reshape(-1)
        E = flat.shape[0]
        n = self.rows_of(flat, mask.reshape(-1))                                     # (E,)
        if total is None:
            total = int(n.sum())                                                      # reads the device: tests only
        P = self.PAD_BAGS
        n = torch.cat([n, padding_bags(total - n.sum(), P)])                          # (E + P,)
        starts = torch.cumsum(n, 0) - n
        occ = torch.repeat_interleave(n, output_size=total)                          # (total,) each row's bag
        pos = torch.arange(total, device=flat.device)
        bag = occ.clamp(max=E)                                                        # E: padding
        word = torch.cat([flat, flat.new_zeros(1)])[bag]
        # a padding row is bag_ids[its position mod nnz]: real rows, spread, so its zero steps
        # (index_add_ atomics on a GPU) do not queue on a few rows
        at = torch.where(bag < E, self.bag_ptr[word] + pos - starts[occ], pos % self.bag_ids.shape[0])
        rows = self.bag_ids[at]                                                       # (total,) input rows
        sums = torch.nn.functional.embedding_bag(rows, self.w_in, starts, mode="sum")  # (E + P, D)
        return sums[:E].reshape(*words.shape, -1), n[:E].reshape(words.shape).float(), (rows, bag)

    def share(self, rows, n_rows):
        """(B, C): each context word's rows over the rows of its example's mean (module docstring)."""
        return rows / n_rows.clamp(min=1.0)[:, None]

    def push(self, handle, grads, k):
        torch = import_torch()
        rows, occ = handle
        # one word's bag and the bags of one window share n-gram rows: each use is a step, as in numba;
        # each row of a bag takes the bag's whole step, with the k its step passes (cbow: times share);
        # the padding bags' rows (occ = E) take zeros
        grads = grads.reshape(-1, grads.shape[-1])
        grads = torch.cat([grads, grads.new_zeros(1, grads.shape[1])])
        k = k.reshape(-1)
        add_rows_capped(self.w_in, rows, grads[occ], torch.cat([k, k.new_zeros(1)])[occ])


def padding_bags(pad, count: int):
    """(count,) int64 bag sizes that sum to pad (a 0-d tensor on the device), none above
    ceil(pad / count): the padding of a batch's rows, spread (BagInputs)."""
    torch = import_torch()
    per = (pad + count - 1) // count
    return (pad - per * torch.arange(count, device=pad.device)).clamp(min=0).minimum(per)


# ---- steps: which words are inputs and which are targets ----

def skipgram_window(inputs, w_out, objective, words, context, valid, lr, gen, total=None, noise=None):
    """word2vec C's direction (kernels/window_batch.py): each context word's input mean predicts the
    centre; the window's context words share the centre's outputs (noise words drawn once per
    window). words (B,), context (B, C), valid (B, C) bool. Returns (loss, examples) 0-d tensors."""
    outs, labels, out_mask = objective.outputs(words, gen, noise)            # (B, n_o)
    vmask = valid.float()
    sums, rows, handle = inputs.gather(context, vmask, total)                 # (B, C, D), (B, C)
    H = sums / rows.clamp(min=1.0)[..., None]
    st = logistic_batch(H, w_out[outs], labels, vmask[:, :, None] * out_mask[:, None, :], lr)
    add_rows_capped(w_out, outs, st.dO, st.kO)
    inputs.push(handle, st.dH, st.kH)
    return st.loss, vmask.sum()


def skipgram_pair(inputs, w_out, objective, words, context, valid, lr, gen, total=None, noise=None):
    """fastText's direction (kernels/word2vec.py skipgram_pair_step): the centre word's input mean
    predicts each context word, one example (and one set of noise words) per pair. The centre's
    input rows take the sum of its pairs' steps."""
    B, C = context.shape
    outs, labels, out_mask = objective.outputs(context.reshape(-1), gen, noise)   # (B C, n_o)
    has = valid.any(1).float()                        # a centre without context (or past a chunk's end) is no input
    sums, rows, handle = inputs.gather(words, has, total)                      # (B, D), (B,)
    h = sums / rows.clamp(min=1.0)[:, None]
    H = h[:, None, :].expand(B, C, h.shape[1]).reshape(B * C, 1, h.shape[1])
    vmask = valid.float().reshape(-1)
    st = logistic_batch(H, w_out[outs], labels, vmask[:, None, None] * out_mask[:, None, :], lr)
    add_rows_capped(w_out, outs, st.dO, st.kO)
    inputs.push(handle, st.dH.reshape(B, C, -1).sum(1), st.kH.reshape(B, C).sum(1))
    return st.loss, vmask.sum()


def cbow(inputs, w_out, objective, words, context, valid, lr, gen, total=None, noise=None):
    """The mean of all context input rows predicts the centre (kernels/word2vec.py cbow_step); the
    h-step goes, undivided, to every context row. A centre without context is no example."""
    B, C = context.shape
    outs, labels, out_mask = objective.outputs(words, gen, noise)
    vmask = valid.float()
    sums, rows, handle = inputs.gather(context, vmask, total)                  # (B, C, D), (B, C)
    n_rows = rows.sum(1)                                                       # (B,)
    h = sums.sum(1) / n_rows.clamp(min=1.0)[:, None]                           # (B, D)
    has = (n_rows > 0).float()
    st = logistic_batch(h[:, None, :], w_out[outs], labels, has[:, None, None] * out_mask[:, None, :], lr)
    add_rows_capped(w_out, outs, st.dO, st.kO)
    inputs.push(handle, st.dH.expand(B, C, st.dH.shape[-1]), st.kH.expand(B, C) * inputs.share(rows, n_rows))
    return st.loss, has.sum()


STEPS = {"skipgram-window": skipgram_window, "skipgram-pair": skipgram_pair, "cbow": cbow}


def rows_per_centre(step: str, inputs: BagInputs, words, context, valid):
    """(n,) int64: the input rows each centre's step expands (what BagInputs.gather's `total` sums)."""
    if step == "skipgram-pair":
        return inputs.rows_of(words, valid.any(1).float())
    return inputs.rows_of(context, valid).sum(1)
