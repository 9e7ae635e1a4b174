"""Tasks: everything one training run hands to a backend, as arrays and numbers (no strings, no corpus
objects). Trainers build them (trainers/word2vec.py, subword.py, glove.py); backends of any kind
(trainers/word2vec_numba.py, glove_numba.py, embedkit/torch/) consume them. A backend trains the
task's weight arrays in place (numba) or trains copies and writes the result back into them when
`arrays()` is called (torch), so after training the task's arrays hold the result either way.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedkit.kernels.objectives import HuffmanTables, NoiseTables
from embedkit.kernels.word2vec import Weights


@dataclass
class Word2VecTask:
    """Skip-gram / CBOW (and the subword model, through larger input bags).

    step: "skipgram-window" | "skipgram-pair" | "cbow" (trainers/word2vec.py STEPS); the subsampling
    keep probabilities, the objective's tables and the weights are the ones every backend uses.
    The learning rate decays linearly from lr_start to lr_end over epochs * n_tokens words."""
    step: str
    tokens: np.ndarray                  # (N,) int32 token ids, sentences back to back
    offsets: np.ndarray                 # (S+1,) int64 sentence (piece) boundaries into tokens
    keep_prob: np.ndarray               # (V,) float32 subsampling keep probability per word
    weights: Weights                    # w_in (R_in, D), w_out (R_out, D) float32; bag_ptr (V+1,) int64, bag_ids int32
    tables: NoiseTables | HuffmanTables
    window: int
    lr_start: float
    lr_end: float
    epochs: int
    workers: int
    seed: int
    device: str = "cpu"
    batch_size: int = 4096

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    @property
    def vocab_size(self) -> int:
        return len(self.keep_prob)


@dataclass
class GloVeTask:
    """GloVe's weighted least squares over the non-zeros (rows[e], cols[e], x[e]) of X.

    w and gradsq are (2V, D+1) float32 in kernels/glove.py's layout (word rows, then context rows;
    the bias in the last column)."""
    rows: np.ndarray                    # (nnz,) int32
    cols: np.ndarray                    # (nnz,) int32
    x: np.ndarray                       # (nnz,) float64 co-occurrence values
    w: np.ndarray                       # (2V, D+1) float32 parameters
    gradsq: np.ndarray                  # (2V, D+1) float32 AdaGrad accumulators
    x_max: float
    alpha: float
    eta: float
    epochs: int
    workers: int
    seed: int
    device: str = "cpu"
    batch_size: int = 65536

    @property
    def nnz(self) -> int:
        return len(self.x)
