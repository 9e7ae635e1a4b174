"""How the ranks' updates since the last sync become one update: the sync rules.

At a sync every rank holds d_r = w_r - w_last for each trained array (its own update since the
last sync) and the all-reduce gives D = sum_r d_r. A rule turns D into the update every rank then
applies, w = w_last + rule(D), in place (`combine(D)` overwrites D). A row stands for one word's
vector (a 1-D array: one number per row).

- `sum`: rule(D) = D. Every update lands once, as if R Hogwild workers had shared one memory. That
  is right for a row that moves little within one interval (a rare word: its few updates would
  have added up the same way in one process). It is wrong for a row that reaches its local optimum
  within the interval (a frequent word at a high learning rate): each rank moves it most of the way
  there from the same start, and the sum moves it about R times as far. Measured on text8 (sg-ns,
  benchmarks/DISTRIBUTED.md "Before the hot syncs"): with the sum on every row, 2 ranks train and 4 ranks
  diverge at any tested interval. So sync.py takes the rows that move most out of the sum: the
  sum is the default rule for the others.
- `adaptive`: rule(D) = g_row x D / R, the ranks' mean update scaled by a per-row gain g in [1, R].
  g starts at R (the sum). A row whose applied update turns back at the next sync (cosine with the
  previous applied update below -1/2: it overshot) halves its gain, down to 1 (the mean); a row
  that keeps its direction (cosine above 0) multiplies it by 5/4, up to R. Rare rows so keep the
  sum and frequent rows fall towards the mean, each at the rate its own overshooting says. Costs one
  more copy of the array (the previous applied update) and one float per row; the bytes sent are
  the same as `sum`'s (the gain is computed from D, which every rank has).
- `bmuf`: blockwise model-update filtering (Chen & Huo 2016, "Scalable training of deep learning
  machines by incremental block training with intra-block parallel optimization and blockwise
  model-update filtering", ICASSP), with Nesterov's look-ahead. The ranks' mean update G = D / R
  goes through a momentum over syncs, Delta = eta Delta_prev + G with eta = 1 - 1/R; the global
  weights move by Delta and the ranks start the next interval from them plus eta Delta (the
  look-ahead), so rule(D) = (1 + eta) Delta - eta Delta_prev relative to the previous start. A row
  that keeps its direction over syncs settles at Delta = R G, the sum; a row that reaches its
  optimum within every interval lands on it at one sync and stays (the sum would swing it R times
  as far). Costs one more copy of the array (Delta); `finish` takes the last look-ahead off.
  sync.py uses it for the hot rows (the rows that moved most), which it syncs more often.

A rule's per-row state (STATE: the tensors named there, one row per row of the array) is what lets
sync.py combine only some rows: `take(rows)` gives a rule of those rows alone (their state
gathered, in the rows' order) whose `combine` gets D's rows `rows`, and `put(part, rows)` writes its
state back. sync.py keeps the hot rows' part between two full syncs, so a hot sync gathers nothing
but the weights.

Accumulators (GloVe's AdaGrad sums of squared gradients, named in ALWAYS_SUMMED) are summed under
every rule: each rank's squared gradients since the last sync add up.
"""
from __future__ import annotations

import copy

ALWAYS_SUMMED = frozenset({"gradsq"})
HOT_RULE = "bmuf"        # how sync.py combines the hot rows
TURNED_BACK = -0.5       # cosine below which a row's update overshot: halve its gain
KEPT_ON = 0.0            # cosine above which a row's update kept its direction: raise its gain
GAIN_DOWN, GAIN_UP = 0.5, 1.25


class SumRule:
    """rule(D) = D."""
    changes = False         # combine leaves D as it is
    STATE = ()              # names of the per-row state tensors

    def __init__(self, like, ranks: int):
        pass

    def combine(self, D) -> None:
        pass

    def finish(self, w) -> None:
        """After the last sync (w: the trained array): nothing to undo."""

    def take(self, rows):
        """This rule for rows `rows` (an index tensor) alone: a copy holding their state."""
        part = copy.copy(self)
        for name in self.STATE:
            setattr(part, name, getattr(self, name).index_select(0, rows))
        return part

    def put(self, part, rows) -> None:
        """Write back the state of a rule that take(rows) gave."""
        for name in self.STATE:
            getattr(self, name).index_copy_(0, rows, getattr(part, name))


class AdaptiveGainRule(SumRule):
    """rule(D) = gain[row] x D / R, with the per-row gain of the module doc. D: a torch tensor (a
    view of a host array, or the torch backend's weights on their device)."""
    changes = True
    STATE = ("gain", "previous")

    def __init__(self, like, ranks: int):
        import torch
        self.ranks = ranks
        self.gain = torch.full((like.shape[0],), float(ranks), dtype=like.dtype, device=like.device)
        self.previous = torch.zeros_like(like)      # the last applied update

    def combine(self, D) -> None:
        D /= self.ranks
        mean = D.view(len(D), -1)
        prev = self.previous.view(len(D), -1)
        dot = (mean.double() * prev).sum(1)
        norms = ((mean.double() ** 2).sum(1) * (prev.double() ** 2).sum(1)).sqrt()
        cos = dot / norms.clamp(min=1e-300)          # 0 for a row not moved now or then (dot is 0 too)
        g = self.gain
        down, up = cos < TURNED_BACK, cos > KEPT_ON
        g[down] = (g[down] * GAIN_DOWN).clamp(min=1.0)
        g[up] = (g[up] * GAIN_UP).clamp(max=float(self.ranks))
        mean *= g[:, None]
        self.previous.copy_(D)


class BlockMomentumRule(SumRule):
    """rule(D) = (1 + eta) Delta - eta Delta_prev, Delta = eta Delta_prev + D / R (module doc)."""
    changes = True
    STATE = ("delta",)

    def __init__(self, like, ranks: int):
        import torch
        self.ranks = ranks
        self.eta = 1.0 - 1.0 / ranks
        self.delta = torch.zeros_like(like)        # Delta of each row's last sync

    def combine(self, D) -> None:
        eta, delta = self.eta, self.delta
        D /= self.ranks
        D.add_(delta, alpha=eta)                   # D = Delta = eta Delta_prev + G
        delta.mul_(-eta).add_(D, alpha=eta)        # delta = eta (Delta - Delta_prev)
        D.add_(delta)                              # D = (1 + eta) Delta - eta Delta_prev: the update applied
        delta.neg_().add_(D)                       # delta = Delta

    def finish(self, w) -> None:
        w.sub_(self.delta, alpha=self.eta)         # the global weights: the look-ahead taken off


SYNC_RULES = {"sum": SumRule, "adaptive": AdaptiveGainRule, "bmuf": BlockMomentumRule}


def default_rule(ranks: int) -> str:
    """The sum for the rows outside the hot set, whatever the number of ranks: they move little within
    an interval, so their updates add up as in one process (README: Training on several machines)."""
    return "sum"


def make_rules(rule: str, tensors: dict, ranks: int) -> dict:
    """{array name: its rule object} for the backend's trained arrays (torch tensors)."""
    return {name: (SumRule if name in ALWAYS_SUMMED else SYNC_RULES[rule])(t, ranks)
            for name, t in tensors.items()}
