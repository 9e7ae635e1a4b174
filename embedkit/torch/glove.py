"""GloVe on torch tensors: the numba backend's objective and AdaGrad, in mini-batches (CPU or CUDA).

Each epoch visits the non-zeros in a fresh torch.randperm order, `cfg.batch_size` at a time. A batch
applies glove.c's per-entry update (kernels/glove.py) to all its entries at once from the
parameters as they were at the start of the batch: per entry the same diff, f and clipped
gradient; steps and squared gradients of entries sharing a row are summed with index_add_, and
each entry's AdaGrad denominator counts the other entries of its row in the batch (glove_batch).
With batch_size 1 this is exactly the sequential update. No torch.optim: AdaGrad's accumulators
start at 1 and the biases take no eta, as in glove.c.

torch is imported only here, and this module only when --backend torch is chosen (trainers/backends.py).
"""
from __future__ import annotations

import math

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.torch.device import import_torch, resolve_device
from embedkit.trainers.glove_numba import GRAD_CLIP, glove_hints
from embedkit.trainers.tasks import GloVeTask


def glove_batch(w, gradsq, i, j, x, x_max: float, alpha: float, eta: float, clip: float):
    """One mini-batch step on entries (i, j, x): i, j (B,) int word / context ids (j not yet offset
    by V), x (B,) float64. w, gradsq (2V, D+1) float32 tensors, updated in place.

    Per entry k the glove.c gradient g_k (eta * clipped fdiff * w components, fdiff for the bias);
    the accumulators take every entry's g_k^2 (G += sum_k g_k^2 per row) and entry k steps by
    g_k / sqrt(G_new - g_k^2): each entry sees its row's accumulator as if the batch's other
    entries of that row had come before it. With B = 1 this is glove.c's g / sqrt(G_old); with
    many entries of one frequent row in a batch it keeps their summed step near sqrt(n) steps,
    as the sequential update does, instead of n stale full steps (which diverge).
    Returns the float64 cost sum_k 0.5 f(x_k) diff_k^2 (a 0-d tensor, not synchronised)."""
    torch = import_torch()
    V, dim = w.shape[0] // 2, w.shape[1] - 1
    jc = j + V
    wi, wj = w.index_select(0, i), w.index_select(0, jc)   # (B, D+1) rows of the batch
    log_x = torch.log(x)                                    # (B,) float64
    dot = torch.linalg.vecdot(wi[:, :dim], wj[:, :dim])     # (B,) float32, as the numba kernel
    diff = dot.double() + wi[:, dim].double() + wj[:, dim].double() - log_x
    f = torch.where(x > x_max, torch.ones_like(x), torch.exp(alpha * (log_x - math.log(x_max))))
    fdiff = f * diff                                        # (B,) float64
    cost = (0.5 * fdiff * diff).sum()
    fd = fdiff.float()[:, None]                             # (B, 1)
    g1 = (fd * wj).clamp_(-clip, clip).mul_(eta)            # (B, D+1) gradient of row i (bias fixed below)
    g2 = (fd * wi).clamp_(-clip, clip).mul_(eta)            # (B, D+1) gradient of row j + V
    g1[:, dim] = fd[:, 0]                                   # glove.c: the bias step has no eta, no clip
    g2[:, dim] = fd[:, 0]
    sq1, sq2 = g1 * g1, g2 * g2
    old1, old2 = gradsq.index_select(0, i), gradsq.index_select(0, jc)
    gradsq.index_add_(0, i, sq1)
    gradsq.index_add_(0, jc, sq2)
    # max(., G_old) guards float32 cancellation in G_new - g^2 when g^2 dwarfs G_old
    den1 = torch.maximum(gradsq.index_select(0, i).sub_(sq1), old1).sqrt_()
    den2 = torch.maximum(gradsq.index_select(0, jc).sub_(sq2), old2).sqrt_()
    w.index_add_(0, i, g1.div_(den1), alpha=-1.0)
    w.index_add_(0, jc, g2.div_(den2), alpha=-1.0)
    return cost


class TorchGloVe:
    """The torch backend of GloVe (trainers/backends.py): the task's non-zeros and parameters live on
    the device; each epoch visits the non-zeros in a fresh torch.randperm order, batch_size at a time,
    and yields to the runner every CHUNK_BATCHES batches. The host reads the cost once per chunk."""
    unit, metric = "pair", "cost"
    CHUNK_BATCHES = 64
    check_device = staticmethod(resolve_device)

    def __init__(self, task: GloVeTask, chunk: int = 0):
        torch = import_torch()
        self.task = task
        # batches between two yields: chunk pairs when the runner asks (a distributed run syncs there)
        self.chunk_batches = max(1, chunk // task.batch_size) if chunk > 0 else self.CHUNK_BATCHES
        self.hints = glove_hints(task.eta)
        self.device = resolve_device(task.device)
        if self.device.type == "cpu":
            torch.set_num_threads(task.workers)
        nnz = task.nnz
        self.units_per_epoch = nnz
        self.rows = torch.from_numpy(np.ascontiguousarray(task.rows)).to(self.device)   # (nnz,) int32
        self.cols = torch.from_numpy(np.ascontiguousarray(task.cols)).to(self.device)
        self.x = torch.from_numpy(np.ascontiguousarray(task.x, dtype=np.float64)).to(self.device)
        self.w = torch.from_numpy(task.w).to(self.device)                                # (2V, D+1) float32
        self.gradsq = torch.from_numpy(task.gradsq).to(self.device)
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(task.seed)
        self.index_dtype = torch.int32 if nnz < 2**31 else torch.int64
        self._done = 0
        self._cost = 0.0
        self._n = 0

    def run_epoch(self, epoch: int, tick):
        torch = import_torch()
        t = self.task
        nnz, batch = t.nnz, t.batch_size
        order = torch.randperm(nnz, generator=self.gen, device=self.device, dtype=self.index_dtype)
        cost = torch.zeros((), dtype=torch.float64, device=self.device)
        self._cost, self._n = 0.0, 0
        for k, start in enumerate(range(0, nnz, batch)):
            b = order[start:start + batch]
            cost += glove_batch(self.w, self.gradsq, self.rows[b], self.cols[b], self.x[b], t.x_max, t.alpha,
                                t.eta, GRAD_CLIP)
            last = start + batch >= nnz
            if (k + 1) % self.chunk_batches == 0 or last:
                self._cost = float(cost)                       # synchronises the device, once per chunk
                self._done = epoch * nnz + min(start + batch, nnz)
                self._n = min(start + batch, nnz)
                yield
        if not bool(torch.isfinite(self.w).all()):
            raise EmbedkitError(f"training diverged in epoch {epoch + 1} (non-finite weights); {self.hints['diverged']}")
        return {"cost_sum": self._cost}

    def done(self) -> int:
        return self._done

    def running(self) -> tuple[float, int]:
        return self._cost, self._n

    def lr(self):
        return None

    def tensors(self) -> dict:
        """The parameters as they are trained, on the device (a distributed run syncs them in place)."""
        return {"w": self.w, "gradsq": self.gradsq}

    def arrays(self) -> dict:
        """The parameters, copied back into the task's host arrays."""
        self.task.w[...] = self.w.cpu().numpy()
        self.task.gradsq[...] = self.gradsq.cpu().numpy()
        return {"w": self.task.w, "gradsq": self.task.gradsq}
