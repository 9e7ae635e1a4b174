"""The torch backend of the word2vec family (skip-gram, CBOW, the subword model; NS or HS), on the
CPU or a CUDA device (trainers/backends.py).

The encoded corpus (int32), the subsampling probabilities, the objective's tables, the input bags
and the weights live on the device. An epoch runs over chunks of about CHUNK_WORDS corpus words
(whole sentences): windows.chunk_windows subsamples a chunk and draws its reduced windows with a
few torch ops, ChunkProgram.load copies them into fixed buffers and draws the chunk's noise words,
and the chunk's kept words are stepped through `batch_size` centre words at a time
(chunk_program.py: eagerly on the CPU; compiled and replayed as a CUDA graph on a GPU). The host
reads from the device once per chunk, never per batch: the kept-word count (torch.nonzero), the
subword model's per-batch bag sizes, and the running loss, together (tests/test_torch_word2vec.py
counts the reads).

What a batch is: `batch_size` consecutive kept centre words with all their (reduced-window)
examples: up to 2 window pairs each for skip-gram, one example each for CBOW. All of a batch's
steps are computed from the weights at the start of the batch and summed, so batch_size 1 is the
numba kernel's sequential update and larger batches trade a little staleness for throughput.
CBOW pays more for it than skip-gram (config.BATCH_SIZES: the default batch is 128 centre words for
CBOW, 1024 for skip-gram). Scaling the hot-row cap or dropping it moved CBOW's loss at batch 1024 by
under 0.02, where batch 128 closes most of the gap to numba (README): what costs quality is the
staleness itself, not the cap.

The learning rate decays linearly over all words of all epochs, as in the numba backend, and is
set per batch from the batch's position in its chunk (lr_line: computed on the device).
"""
from __future__ import annotations

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.kernels.objectives import HuffmanTables, NoiseTables
from embedkit.torch.device import allocating, import_torch, read_only, resolve_device
from embedkit.torch.chunk_program import ChunkProgram, replay_for
from embedkit.torch.windows import chunk_windows
from embedkit.torch.word2vec_batch import STEPS, BagInputs, HuffmanOutputs, NoiseOutputs, WordInputs, rows_per_centre
from embedkit.trainers.tasks import Word2VecTask
from embedkit.trainers.word2vec_numba import NumbaWord2Vec, chunk_ranges

CHUNK_WORDS = 1 << 20
OBJECTIVES = {NoiseTables: NoiseOutputs, HuffmanTables: HuffmanOutputs}


def is_plain(bag_ptr, bag_ids) -> bool:
    """Every word's bag is [word]: the input side is a plain row lookup."""
    V = len(bag_ptr) - 1
    return len(bag_ids) == V and np.array_equal(bag_ptr, np.arange(V + 1)) and np.array_equal(bag_ids, np.arange(V))


def input_side(w_in, bag_ptr, bag_ids):
    return WordInputs(w_in) if is_plain(bag_ptr, bag_ids) else BagInputs(w_in, bag_ptr, bag_ids)


class TorchWord2Vec:
    unit, metric = "word", "loss"
    hints = NumbaWord2Vec.hints
    check_device = staticmethod(resolve_device)

    def __init__(self, task: Word2VecTask, chunk_words: int = CHUNK_WORDS):
        torch = import_torch()
        self.task = task
        self.device = device = resolve_device(task.device)
        if device.type == "cpu":
            torch.set_num_threads(task.workers)
        self.host_offsets = np.asarray(task.offsets, dtype=np.int64)
        self.tokens = read_only(np.ascontiguousarray(task.tokens, dtype=np.int32), device)            # (N,) int32
        self.offsets = torch.from_numpy(self.host_offsets).to(device)                                  # (S+1,) int64
        self.keep_prob = torch.from_numpy(np.asarray(task.keep_prob, dtype=np.float32)).to(device)     # (V,)
        wts = task.weights
        # on the CPU these share the task's arrays (trained in place); on a GPU they are copies
        self.w_in = torch.from_numpy(wts.w_in).to(device)      # (R_in, D) float32
        self.w_out = torch.from_numpy(wts.w_out).to(device)    # (R_out, D) float32
        self.inputs = input_side(self.w_in, np.asarray(wts.bag_ptr), np.asarray(wts.bag_ids))
        self.objective = OBJECTIVES[type(task.tables)](task.tables, device)
        self.chunks = chunk_ranges(self.host_offsets, 0, len(self.host_offsets) - 1, chunk_words)
        n_max = max((int(self.host_offsets[s1] - self.host_offsets[s0]) for s0, s1 in self.chunks), default=0)
        # its buffers grow with the batch: a batch too large for the device is a one-line error
        with allocating(f"--batch-size {task.batch_size:,}, --window {task.window} and --dim {self.w_out.shape[1]}",
                        "lower --batch-size"):
            self.program = ChunkProgram(task.step, STEPS[task.step], self.inputs, self.w_out, self.objective,
                                        task.batch_size, task.window, n_max, device)
        self.replay = replay_for(device)
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(task.seed)
        self.units_per_epoch = task.n_tokens
        self.total_words = float(task.n_tokens) * task.epochs
        self._done = 0
        self._loss, self._n = 0.0, 0

    def lr_at(self, words_done: float) -> float:
        t = self.task
        return t.lr_start + (t.lr_end - t.lr_start) * min(1.0, words_done / self.total_words)

    def run_epoch(self, epoch: int, tick):
        torch = import_torch()
        t = self.task
        B, program = t.batch_size, self.program
        program.acc.zero_()
        self._loss, self._n = 0.0, 0
        start = epoch * t.n_tokens
        for s0, s1 in self.chunks:
            words_before = start + int(self.host_offsets[s0])
            chunk_words = int(self.host_offsets[s1] - self.host_offsets[s0])
            cw = chunk_windows(self.tokens, self.offsets, self.host_offsets, self.keep_prob, s0, s1, t.window, self.gen)
            batches = program.load(cw, self.gen, *self.lr_line(words_before, chunk_words, cw.n))
            self.replay.run(program, batches, self._batch_totals(cw, B))
            self._loss, self._n = program.acc.tolist()                 # the chunk's read of the device
            self._done = words_before + chunk_words
            yield
        if not bool(torch.isfinite(self.w_out).all()):
            raise EmbedkitError(f"training diverged in epoch {epoch + 1} (non-finite weights); {self.hints['diverged']}")
        return {}

    def lr_line(self, words_before: int, chunk_words: int, n: int):
        """The chunk's lr as a line in its batch's first kept position p, clamped to the schedule's ends:
        lr_at(the corpus word at the batch's middle) = a + b p, as the batch [p, p + B) spans
        chunk_words * B / n corpus words (a, b, lo, hi for ChunkProgram.load)."""
        t = self.task
        per_kept = chunk_words / max(n, 1)
        slope = (t.lr_end - t.lr_start) / self.total_words
        a = t.lr_start + slope * (words_before + per_kept * t.batch_size / 2.0)
        return a, slope * per_kept, min(t.lr_start, t.lr_end), max(t.lr_start, t.lr_end)

    def _batch_totals(self, cw, B: int):
        """Input rows expanded by each batch of the chunk (subword bags only), read in one go."""
        if not isinstance(self.inputs, BagInputs) or cw.n == 0:
            return None
        torch = import_torch()
        per = rows_per_centre(self.task.step, self.inputs, cw.words, cw.context, cw.valid)   # (n,)
        pad = (-cw.n) % B
        per = torch.nn.functional.pad(per, (0, pad))
        return per.reshape(-1, B).sum(1).tolist()

    def done(self) -> int:
        return int(self._done)

    def running(self) -> tuple[float, int]:
        return float(self._loss), int(self._n)

    def lr(self) -> float:
        return self.lr_at(self._done)

    def tensors(self) -> dict:
        """The weights as they are trained, on the device (a distributed run syncs them in place)."""
        return {"w_in": self.w_in, "w_out": self.w_out}

    def arrays(self) -> dict:
        """The weights, in the task's host arrays."""
        w = self.task.weights
        if self.w_in.data_ptr() != w.w_in.ctypes.data:
            w.w_in[...] = self.w_in.cpu().numpy()
            w.w_out[...] = self.w_out.cpu().numpy()
        return {"w_in": w.w_in, "w_out": w.w_out}
