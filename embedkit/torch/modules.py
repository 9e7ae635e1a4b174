"""PyTorch-native skip-gram and CBOW for people who extend the model: nn.Modules whose forward returns
a batch's loss, and an IterableDataset of training examples drawn from an EncodedCorpus with the
backend's own sampling (subsampling, reduced windows, noise words or Huffman paths).

    from embedkit.torch import SkipGram, Word2VecExamples
    data = Word2VecExamples(corpus, arch="skipgram", batch_size=1024)
    model = SkipGram(data.n_words, data.n_outputs, dim=100)
    opt = torch.optim.SGD(model.parameters(), lr=0.025)
    for batch in data:                      # or DataLoader(data, batch_size=None)
        opt.zero_grad(); model(batch).backward(); opt.step()

An Examples batch holds B centre words: `inputs` (B, C) the context words of each centre (C = 2
window; `input_mask` marks the ones inside the reduced window and the sentence), `targets` (B,)
the centres, and the objective's `outputs` (B, n_o) rows with `labels` and `output_mask` (negative
sampling: the centre and its noise words; hierarchical softmax: the centre's Huffman path).
Skip-gram scores every (context word, output) pair, word2vec C's direction (trainers' default
sg_update "window"); CBOW scores the mean of the context rows against the outputs. The loss and
its gradients are those of the torch backend's batch step (torch/word2vec_batch.py), which applies
-lr times them (tests/test_torch_word2vec.py), except that it caps the summed step of a row a batch
uses so often that the plain sum would overshoot (add_rows_capped): SGD on these modules trains the
same model, and with large batches wants a smaller lr or an adaptive optimizer.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from embedkit.torch.device import import_torch, read_only, resolve_device
from embedkit.torch.windows import chunk_windows
from embedkit.torch.word2vec_batch import HuffmanOutputs, NoiseOutputs, logistic_loss

torch = import_torch()
nn = torch.nn


class Examples(NamedTuple):
    inputs: object         # (B, C) int64 context word ids
    input_mask: object     # (B, C) float32 1 = a context word of this centre
    targets: object        # (B,) int64 centre word ids
    outputs: object        # (B, n_o) int64 rows of the output embeddings
    labels: object         # (B, n_o) float32
    output_mask: object    # (B, n_o) float32 1 = scored


class _Word2Vec(nn.Module):
    def __init__(self, n_words: int, n_outputs: int, dim: int = 100):
        super().__init__()
        self.w_in = nn.Embedding(n_words, dim)       # input embeddings: the word vectors
        self.w_out = nn.Embedding(n_outputs, dim)    # output rows: words (NS) or Huffman inner nodes (HS)
        with torch.no_grad():                        # word2vec C's start: U(-0.5/dim, 0.5/dim) and 0
            self.w_in.weight.uniform_(-0.5 / dim, 0.5 / dim)
            self.w_out.weight.zero_()


class SkipGram(_Word2Vec):
    """Each context word's input vector predicts the centre's outputs."""

    def forward(self, b: Examples):
        H = self.w_in(b.inputs)                                            # (B, C, D)
        mask = b.input_mask[:, :, None] * b.output_mask[:, None, :]        # (B, C, n_o)
        return logistic_loss(torch.bmm(H, self.w_out(b.outputs).transpose(1, 2)), b.labels, mask)


class CBOW(_Word2Vec):
    """The mean of the context words' input vectors predicts the centre's outputs; each context row
    gets the gradient with respect to that mean, undivided (word2vec C's CBOW update)."""

    def forward(self, b: Examples):
        m = b.input_mask
        n = m.sum(1)                                                        # (B,)
        s = (self.w_in(b.inputs) * m[..., None]).sum(1)                     # (B, D) sum of the context rows
        # the mean in value, the sum in gradient: word2vec C's (and fastText's) CBOW rule, where every
        # context row receives the whole h-gradient, undivided (the backend's step does the same)
        h = s + (s / n.clamp(min=1.0)[:, None] - s).detach()
        mask = (n > 0).float()[:, None, None] * b.output_mask[:, None, :]  # (B, 1, n_o)
        return logistic_loss(torch.bmm(h[:, None, :], self.w_out(b.outputs).transpose(1, 2)), b.labels, mask)


class Word2VecExamples(torch.utils.data.IterableDataset):
    """Mini-batches of training examples from an EncodedCorpus, one pass per iteration (an epoch),
    drawn on `device` as the torch backend draws them: subsampling with word2vec's threshold
    `sample`, reduced windows of at most `window`, and `negative` noise words per centre from
    count**ns_exponent (objective "ns") or the centres' Huffman paths ("hs")."""

    def __init__(self, corpus, *, objective: str = "ns", window: int = 5, negative: int = 5,
                 ns_exponent: float = 0.75, sample: float = 1e-3, batch_size: int = 1024, seed: int = 1,
                 device: str = "cpu"):
        from embedkit.config import Word2VecConfig
        from embedkit.tables.subsample import keep_probabilities
        from embedkit.trainers.word2vec import objective_tables
        from embedkit.trainers.word2vec_numba import chunk_ranges
        super().__init__()
        self.device = resolve_device(device)
        counts = corpus.vocab.counts
        cfg = Word2VecConfig(objective=objective, window=window, negative=negative, ns_exponent=ns_exponent)
        tables, self.n_outputs = objective_tables(counts, cfg)
        self.objective = (NoiseOutputs if objective == "ns" else HuffmanOutputs)(tables, self.device)
        self.n_words = len(counts)
        self.window, self.batch_size = window, batch_size
        self.host_offsets = np.asarray(corpus.offsets, dtype=np.int64)
        self.tokens = read_only(np.ascontiguousarray(corpus.tokens, dtype=np.int32), self.device)
        self.offsets = torch.from_numpy(self.host_offsets).to(self.device)
        self.keep_prob = torch.from_numpy(keep_probabilities(counts, sample).astype(np.float32)).to(self.device)
        self.chunks = chunk_ranges(self.host_offsets, 0, len(self.host_offsets) - 1, 1 << 20)
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(seed)

    def __iter__(self):
        B = self.batch_size
        for s0, s1 in self.chunks:
            cw = chunk_windows(self.tokens, self.offsets, self.host_offsets, self.keep_prob, s0, s1, self.window,
                               self.gen)
            for a in range(0, cw.n, B):
                targets = cw.words[a:a + B]
                outs, labels, out_mask = self.objective.outputs(targets, self.gen)
                yield Examples(cw.context[a:a + B], cw.valid[a:a + B].float(), targets, outs, labels, out_mask)
