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
then added, undamped (add_rows: a row used by n examples of the batch gets the sum of their n
steps, as the numba kernels give it n steps one after another). So a batch of one window
(skip-gram "window", CBOW) or one pair (skip-gram "pair") is exactly the numba kernel's update on
the same draws, and a batch of many is the sum of its examples' steps, each taken from weights
up to one batch old: the batch step is -lr times the autograd gradient of the batch's summed loss.
The one exception is HS's inner nodes (add_rows_damped): the root is on every path.

Why not damp the rows used many times in a batch (an earlier form divided a row's summed step by
sqrt(n)): n counts uses, not occurrences. A word is the context of about 6 centres around each of
its occurrences (2 x mean reduced window), so every input row, rare or not, was cut to about
6 / sqrt(6) of its steps, and on text8 skip-gram NS lost most of its analogy accuracy (README,
"what a batch is"). The summed stale steps of hot rows (frequent noise words) did not diverge at
batch 1024 in those runs.

Noise words are drawn per example, as in the numba kernels: per window for skip-gram "window"
(the window's context words share one set of `negative` noise words: HogBatch / BlazingText),
per pair for skip-gram "pair", per centre for CBOW. Sharing one set across a whole batch would
be cheaper (one dense product) but would give each noise row the summed step of thousands of
examples at once; we do not.
"""
from __future__ import annotations

from embedkit.torch.device import import_torch


def logistic_loss(S, labels, mask):
    """sum mask * -log sigma(+-S) for scores S (E, P, n_o), labels (E, n_o), mask (E, P, n_o): the
    batch loss as a differentiable expression (0-d float64; the nn.Modules' forward)."""
    torch = import_torch()
    margin = torch.where(labels[:, None, :] > 0, S, -S)           # z: the label's margin
    return (torch.nn.functional.softplus(-margin) * mask).sum(dtype=torch.float64)


def logistic_batch(H, O, labels, mask, lr: float):
    """H (E, P, D), O (E, n_o, D) float32, labels (E, n_o) float32, mask (E, P, n_o) float32.
    Returns dH (E, P, D), dO (E, n_o, D) (steps: -lr times the gradients) and the loss sum
    (0-d float64 tensor, not synchronised)."""
    torch = import_torch()
    S = torch.bmm(H, O.transpose(1, 2))                          # (E, P, n_o) scores
    y = labels[:, None, :]
    G = (y - torch.sigmoid(S)).mul_(mask).mul_(lr)               # (E, P, n_o)
    return torch.bmm(G, O), torch.bmm(G.transpose(1, 2), H), logistic_loss(S, labels, mask)


def add_rows(w, rows, steps):
    """w[r] += the sum of the steps of row r (shapes: rows (...) int64, steps (..., D)). A padding
    entry carries a zero step (its mask is in the step), so it changes nothing."""
    w.index_add_(0, rows.reshape(-1), steps.reshape(-1, steps.shape[-1]))


def add_rows_damped(w, rows, steps, used):
    """w[r] += (sum of the steps of row r) / sqrt(n_r), n_r = the real uses of r (used (...) float32:
    1 for a use, 0 for padding). For HS's inner nodes only: the root is on every path, so it is used
    by every example of a batch, and 1024 summed stale steps of it diverge (the smoke test's
    skip-gram HS did, in epoch 1); sqrt(n) steps do not."""
    torch = import_torch()
    rows = rows.reshape(-1)
    steps = steps.reshape(-1, steps.shape[-1])
    n = torch.bincount(rows, used.reshape(-1).to(steps.dtype), minlength=w.shape[0]).to(steps.dtype).clamp_(min=1.0)
    w.index_add_(0, rows, steps * n[rows].rsqrt()[:, None])


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

    def push(self, w_out, outs, steps, used):
        """Output rows += their steps, summed (a frequent noise word's sum did not diverge at batch 1024)."""
        add_rows(w_out, outs, steps)


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

    def push(self, w_out, outs, steps, used):
        """Inner nodes += their summed steps / sqrt(uses): the top nodes are on every path."""
        add_rows_damped(w_out, outs, steps, used)


# ---- input sides: words -> the sums of their input rows, and the push of h-gradients back ----

class WordInputs:
    """Plain word2vec: word w's input row is w_in[w]."""

    def __init__(self, w_in):
        self.w_in = w_in

    def gather(self, words, mask, total=None):
        """words (...) int64, mask (...) float32 -> (row sums (..., D), row counts (...), handle)."""
        return self.w_in[words] * mask[..., None], mask, (words, mask)

    def push(self, handle, grads):
        """Every input row of every (unmasked) word += its grad (..., D), undivided."""
        words, mask = handle
        add_rows(self.w_in, words, grads * mask[..., None])


class BagInputs:
    """Subword bags (CSR): word w's input rows are bag_ids[bag_ptr[w]:bag_ptr[w + 1]]. A batch's bags
    are expanded into one flat row list of `total` entries; the caller knows `total` (the trainer
    computes every batch's total once per chunk), so the expansion needs no read from the device."""

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
        n = self.rows_of(flat, mask.reshape(-1))                                     # (E,)
        starts = torch.cumsum(n, 0) - n
        if total is None:
            total = int(n.sum())                                                      # reads the device: tests only
        occ = torch.repeat_interleave(torch.arange(flat.shape[0], device=flat.device), n, output_size=total)
        within = torch.arange(total, device=flat.device) - starts[occ]
        rows = self.bag_ids[self.bag_ptr[flat[occ]] + within]                         # (total,) input rows
        sums = torch.nn.functional.embedding_bag(rows, self.w_in, starts, mode="sum")  # (E, D)
        return sums.reshape(*words.shape, -1), n.reshape(words.shape).float(), (rows, occ)

    def push(self, handle, grads):
        rows, occ = handle
        # one word's bag and the bags of one window share n-gram rows: each use is a step, as in numba
        add_rows(self.w_in, rows, grads.reshape(-1, grads.shape[-1])[occ])


# ---- steps: which words are inputs and which are targets ----

def skipgram_window(inputs, w_out, objective, words, context, valid, lr, gen, total=None, noise=None):
    """word2vec C's direction (kernels/window_batch.py): each context word's input mean predicts the
    centre; the window's context words share the centre's outputs (noise words drawn once per
    window). words (B,), context (B, C), valid (B, C) bool. Returns (loss, examples) 0-d tensors."""
    outs, labels, out_mask = objective.outputs(words, gen, noise)            # (B, n_o)
    vmask = valid.float()
    sums, rows, handle = inputs.gather(context, vmask, total)                 # (B, C, D), (B, C)
    H = sums / rows.clamp(min=1.0)[..., None]
    dH, dO, loss = logistic_batch(H, w_out[outs], labels, vmask[:, :, None] * out_mask[:, None, :], lr)
    objective.push(w_out, outs, dO, out_mask * (vmask.sum(1) > 0)[:, None])
    inputs.push(handle, dH)
    return loss, vmask.sum()


def skipgram_pair(inputs, w_out, objective, words, context, valid, lr, gen, total=None, noise=None):
    """fastText's direction (kernels/word2vec.py skipgram_pair_step): the centre word's input mean
    predicts each context word, one example (and one set of noise words) per pair. The centre's
    input rows take the sum of its pairs' steps."""
    torch = import_torch()
    B, C = context.shape
    outs, labels, out_mask = objective.outputs(context.reshape(-1), gen, noise)   # (B C, n_o)
    ones = torch.ones_like(words, dtype=torch.float32)
    sums, rows, handle = inputs.gather(words, ones, total)                     # (B, D), (B,)
    h = sums / rows.clamp(min=1.0)[:, None]
    H = h[:, None, :].expand(B, C, h.shape[1]).reshape(B * C, 1, h.shape[1])
    vmask = valid.float().reshape(-1)
    dH, dO, loss = logistic_batch(H, w_out[outs], labels, vmask[:, None, None] * out_mask[:, None, :], lr)
    objective.push(w_out, outs, dO, out_mask * vmask[:, None])
    inputs.push(handle, dH.reshape(B, C, -1).sum(1))
    return loss, vmask.sum()


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
    dH, dO, loss = logistic_batch(h[:, None, :], w_out[outs], labels, has[:, None, None] * out_mask[:, None, :], lr)
    objective.push(w_out, outs, dO, out_mask * has[:, None])
    inputs.push(handle, dH.expand(B, C, dH.shape[-1]))
    return loss, has.sum()


STEPS = {"skipgram-window": skipgram_window, "skipgram-pair": skipgram_pair, "cbow": cbow}


def rows_per_centre(step: str, inputs: BagInputs, words, context, valid):
    """(n,) int64: the input rows each centre's step expands (what BagInputs.gather's `total` sums)."""
    if step == "skipgram-pair":
        return inputs.sizes[words]
    return inputs.rows_of(context, valid).sum(1)
