"""GloVe on torch tensors: the numba backend's objective and AdaGrad, in mini-batches (CPU or CUDA).

Each epoch visits the non-zeros in a fresh torch.randperm order, `cfg.batch_size` at a time. A batch
applies glove.c's per-entry update (kernels/glove.py) to all its entries at once from the
parameters as they were at the start of the batch: per entry the same diff, f and clipped
gradient; steps and squared gradients of entries sharing a row are summed with index_add_, and
each entry's AdaGrad denominator counts the other entries of its row in the batch (glove_batch).
With batch_size 1 this is exactly the sequential update. No torch.optim: AdaGrad's accumulators
start at 1 and the biases take no eta, as in glove.c.

torch is imported only here, and this module only when --backend torch is chosen.
"""
from __future__ import annotations

import math
import time

import numpy as np

from embedkit.config import GloVeConfig
from embedkit.errors import EmbedkitError


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is installed in the dev environment
        raise EmbedkitError("--backend torch needs PyTorch (pip install torch)") from e
    return torch


def resolve_device(name: str):
    torch = _torch()
    if name == "cuda" and not torch.cuda.is_available():
        raise EmbedkitError("--device cuda was asked for but torch sees no CUDA GPU; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise EmbedkitError(f"--device must be cpu or cuda, got {name!r}")
    return torch.device(name)


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
    torch = _torch()
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


def train_torch(rows, cols, x, w: np.ndarray, gradsq: np.ndarray, cfg: GloVeConfig,
                quiet: bool = True) -> list[dict]:
    """cfg.epochs passes in mini-batches on cfg.device; w and gradsq ((2V, D+1) float32 numpy, in
    kernels/glove.py's layout) are read as the start point and overwritten with the result."""
    from embedkit.trainers.glove import GRAD_CLIP, _Bar, diverged

    torch = _torch()
    device = resolve_device(cfg.device)
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(cfg.workers)
    try:
        nnz = len(x)
        rows_t = torch.from_numpy(np.ascontiguousarray(rows)).to(device)   # (nnz,) int32
        cols_t = torch.from_numpy(np.ascontiguousarray(cols)).to(device)
        x_t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).to(device)
        w_t = torch.from_numpy(w).to(device)                                # (2V, D+1) float32
        g_t = torch.from_numpy(gradsq).to(device)
        gen = torch.Generator(device=device)
        gen.manual_seed(cfg.seed)
        index_dtype = torch.int32 if nnz < 2**31 else torch.int64
        bar = _Bar(nnz * cfg.epochs, cfg.epochs, quiet)
        log = []
        try:
            for epoch in range(cfg.epochs):
                t0 = time.perf_counter()
                order = torch.randperm(nnz, generator=gen, device=device, dtype=index_dtype)
                cost = torch.zeros((), dtype=torch.float64, device=device)
                for start in range(0, nnz, cfg.batch_size):
                    b = order[start:start + cfg.batch_size]
                    cost += glove_batch(w_t, g_t, rows_t[b], cols_t[b], x_t[b], cfg.x_max, cfg.alpha, cfg.eta,
                                        GRAD_CLIP)
                    if start // cfg.batch_size % 64 == 0:
                        bar.update(epoch * nnz + start, epoch)
                cost_sum = float(cost)                                      # synchronises the device
                seconds = time.perf_counter() - t0
                if not math.isfinite(cost_sum) or not bool(torch.isfinite(w_t).all()):
                    raise diverged(epoch + 1, cfg, f"cost {cost_sum}")
                bar.cost = cost_sum / nnz
                bar.update((epoch + 1) * nnz, epoch)
                log.append({"epoch": epoch + 1, "cost": cost_sum / nnz, "cost_sum": cost_sum,
                            "seconds": seconds, "pairs_per_second": nnz / seconds})
        finally:
            bar.close()
        w[...] = w_t.cpu().numpy()
        gradsq[...] = g_t.cpu().numpy()
        return log
    finally:
        torch.set_num_threads(threads)
