"""A chunk's batches as one fixed-shape program, run eagerly (CPU) or, on a GPU, compiled by
torch.compile and replayed as a CUDA graph.

Why: a batch is some 60 small kernels. Launched one by one from Python, a GPU spends most of a
batch waiting for the host (0.7 ms a batch of 1024 on an H200, README), whatever the batch holds. A
CUDA graph records the launches once and replays them with one call, so a batch costs the kernels
alone (about 130 us at batch 128); compiled, inductor fuses the elementwise ones (about 45 us).
A graph replays fixed shapes and fixed addresses, so everything a batch reads is a slice, taken on
the device, of buffers that outlive the chunk:

    words (n_max,), context (n_max, C), valid (n_max, C)   the chunk's kept centres and windows
    noise (n_max, T, negative) int32                       its noise words, drawn once per chunk
    ptr (0-d int64)                                        the next batch's first centre
    lr_line (4,)                                           lr = clamp(a + b ptr, lo, hi)

One batch: idx = ptr + arange(B); the step on words[idx], context[idx], valid[idx], noise[idx] at
lr(ptr); acc += (loss, examples); ptr += B. Centres past the chunk's end are invalid (valid False):
their examples are masked, so a batch that runs past the end changes nothing. The noise words are
drawn for the whole chunk before its first batch, from the same alias table and per example as
before (T = the step's targets per centre), so the model is the same and only the order of the
random numbers changes.

Subword bags expand to a number of rows that differs from batch to batch. The host reads every
batch's rows once per chunk; a graph replays a fixed row budget (row_budget: the chunk's largest
batch and an eighth more, rounded up to one of 8 steps an octave) and pads each batch to it
(BagInputs). A chunk whose largest batch passes the budget captures the graph again with a larger
one, so a run compiles and captures a few times at most (budgets only grow).
"""
from __future__ import annotations

import math
import os
import sys

from embedkit.torch.device import import_torch

GRAPH_BATCHES = 8        # batches per graph replay: fewer host calls; at most 7 batches past a chunk's end
WARMUP_BATCHES = 3       # eager batches before capture (cuBLAS handles, the allocator's pools)

TARGETS_PER_CENTRE = {"skipgram-window": lambda C: 1, "skipgram-pair": lambda C: C, "cbow": lambda C: 1}


class ChunkProgram:
    """Static buffers for chunks of up to n_max kept centres, and one batch of the step over them."""

    def __init__(self, step_name: str, step, inputs, w_out, objective, batch_size: int, window: int,
                 n_max: int, device):
        torch = import_torch()
        self.step, self.inputs, self.w_out, self.objective = step, inputs, w_out, objective
        self.B = B = batch_size
        C = 2 * window
        self.T = TARGETS_PER_CENTRE[step_name](C)
        # room for the largest chunk, the warm-up and a last graph replay that runs past its end
        self.n_max = n_max = B * (math.ceil(n_max / B) + WARMUP_BATCHES + GRAPH_BATCHES)
        self.words = torch.zeros(n_max, dtype=torch.int64, device=device)
        self.context = torch.zeros(n_max, C, dtype=torch.int64, device=device)
        self.valid = torch.zeros(n_max, C, dtype=torch.bool, device=device)
        negative = getattr(objective, "negative", None)             # NS draws noise words; HS draws nothing
        # int32: skip-gram "pair" holds 2 window x negative draws per centre (200 MB for a 1M-word chunk)
        self.noise = None if negative is None else torch.zeros(n_max, self.T, negative, dtype=torch.int32,
                                                               device=device)
        self.ptr = torch.zeros((), dtype=torch.int64, device=device)
        self.lr_line = torch.zeros(4, dtype=torch.float32, device=device)
        self.acc = torch.zeros(2, dtype=torch.float64, device=device)      # (loss sum, examples) of the epoch
        self.offsets = torch.arange(B, device=device)

    def load(self, cw, gen, lr_a: float, lr_b: float, lr_lo: float, lr_hi: float) -> int:
        """Copy a chunk's windows in, draw its noise words, set its lr line; returns its batch count."""
        torch = import_torch()
        n = cw.n
        if n > self.n_max - self.B * (WARMUP_BATCHES + GRAPH_BATCHES):
            raise ValueError(f"chunk of {n} kept words > the program's {self.n_max}")   # chunk_ranges bounds it
        self.words[:n] = cw.words
        self.context[:n] = cw.context
        self.valid[:n] = cw.valid
        self.valid[n:] = False
        if self.noise is not None:
            self.noise[:n] = self.objective.draw((n, self.T), gen)
        self.ptr.zero_()
        self.lr_line.copy_(torch.tensor([lr_a, lr_b, lr_lo, lr_hi], dtype=torch.float32))
        return math.ceil(n / self.B)

    def __call__(self, total=None):
        """One batch at ptr (no read of the device)."""
        idx = self.ptr + self.offsets
        a, b, lo, hi = self.lr_line
        lr = (a + b * self.ptr).clamp(lo, hi)
        noise = None if self.noise is None else self.noise[idx].reshape(-1, self.noise.shape[-1]).long()
        loss, count = self.step(self.inputs, self.w_out, self.objective, self.words[idx], self.context[idx],
                                self.valid[idx], lr, None, total, noise)
        self.acc[0] += loss
        self.acc[1] += count
        self.ptr += self.B


class EagerReplay:
    """Every batch launched from Python (the CPU), with each batch's own rows for subword bags."""

    def run(self, program: ChunkProgram, batches: int, totals=None):
        for k in range(batches):
            program(None if totals is None else totals[k])


class GraphReplay:
    """The program captured once as a CUDA graph of GRAPH_BATCHES batches, then replayed. Capture needs
    a few eager batches first (on a side stream, as torch.cuda.graph asks); they are real batches.
    A chunk's last replay may run up to GRAPH_BATCHES - 1 batches past its end: they change nothing.
    Subword bags are captured at a row budget and again at a larger one when a chunk needs it.

    compiled: the batch goes through torch.compile first (inductor fuses its elementwise kernels,
    fewer launches per batch); where compiling fails (no Triton, say) it says so once on stderr and
    captures the plain launches."""

    def __init__(self, compiled: bool = True):
        self.compiled = compiled
        self.batch = None        # the program's batch, compiled or not
        self.replay = None       # runs GRAPH_BATCHES batches, once captured
        self.budget = None       # the row budget of the captured batches (subword bags; None for words)
        self.warm = 0

    def run(self, program: ChunkProgram, batches: int, totals=None):
        if totals and (self.budget is None or max(totals) > self.budget):
            self.budget = row_budget(max(totals))
            self.replay, self.warm = None, 0              # capture again, at the larger budget
        done = 0
        if self.replay is None:
            done = self.warm_up(program, batches)
        while self.replay is not None and done < batches:
            self.replay()
            done += GRAPH_BATCHES

    def first_batch(self, program: ChunkProgram, total=None):
        """The first batch, compiling it if asked; falls back to the plain launches."""
        torch = import_torch()
        self.batch = program
        if self.compiled:
            fused = torch.compile(program.__call__, fullgraph=True, dynamic=False)
            try:
                fused(total)
                self.batch = fused
                return
            except Exception as e:          # compiling runs nothing before it fails: the batch is still to do
                print(f"embedkit: torch.compile failed ({type(e).__name__}); the CUDA graph replays the "
                      f"plain launches", file=sys.stderr)
        program(total)

    def warm_up(self, program: ChunkProgram, batches: int) -> int:
        """Eager batches until WARMUP_BATCHES have run (over chunks, for a tiny corpus), then capture;
        returns the batches it ran."""
        torch = import_torch()
        done = 0
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            while done < batches and self.warm < WARMUP_BATCHES:
                self.first_batch(program, self.budget) if self.batch is None else self.batch(self.budget)
                done += 1
                self.warm += 1
        torch.cuda.current_stream().wait_stream(side)
        if self.warm == WARMUP_BATCHES:
            self.replay = self.capture()
        return done

    def capture(self):
        """The graph's replay; where capturing fails (an op that reads the device, say), says so once
        on stderr and launches the same GRAPH_BATCHES batches eagerly instead."""
        torch = import_torch()
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):          # records the launches; runs nothing
                for _ in range(GRAPH_BATCHES):
                    self.batch(self.budget)
            return graph.replay
        except Exception as e:
            print(f"embedkit: capturing the CUDA graph failed ({type(e).__name__}); batches launch eagerly",
                  file=sys.stderr)
            budget, batch = self.budget, self.batch
            return lambda: [batch(budget) for _ in range(GRAPH_BATCHES)]


def row_budget(rows: int) -> int:
    """A padded batch's rows: rows and an eighth more (room for the next chunks' batches), rounded up
    to m 2^e with m in 8..16, so that few budgets (compiles and captures) serve a whole run."""
    need = rows + rows // 8
    e = max(need.bit_length() - 4, 0)
    return -(-need >> e) << e


def replay_for(device):
    """GraphReplay on a CUDA device, EagerReplay otherwise. EMBEDKIT_TORCH_COMPILE=0 replays the plain
    launches (no torch.compile)."""
    if device.type == "cuda":
        return GraphReplay(compiled=os.environ.get("EMBEDKIT_TORCH_COMPILE", "1") != "0")
    return EagerReplay()
