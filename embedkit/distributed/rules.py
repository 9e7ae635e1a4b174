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
  README "Training on several machines"): 2 ranks train, 4 ranks diverge at any tested interval.
- `adaptive`: rule(D) = g_row x D / R, the ranks' mean update scaled by a per-row gain g in [1, R].
  g starts at R (the sum). A row whose applied update turns back at the next sync (cosine with the
  previous applied update below -1/2: it overshot) halves its gain, down to 1 (the mean); a row
  that keeps its direction (cosine above 0) multiplies it by 5/4, up to R. Rare rows so keep the
  sum and frequent rows fall towards the mean, each at the rate its own overshooting says. Costs one
  more copy of the array (the previous applied update) and one float per row; the bytes sent are
  the same as `sum`'s (the gain is computed from D, which every rank has).

Accumulators (GloVe's AdaGrad sums of squared gradients, named in ALWAYS_SUMMED) are summed under
every rule: each rank's squared gradients since the last sync add up.
"""
from __future__ import annotations

ALWAYS_SUMMED = frozenset({"gradsq"})
TURNED_BACK = -0.5       # cosine below which a row's update overshot: halve its gain
KEPT_ON = 0.0            # cosine above which a row's update kept its direction: raise its gain
GAIN_DOWN, GAIN_UP = 0.5, 1.25


class SumRule:
    """rule(D) = D."""

    def __init__(self, like, ranks: int):
        pass

    def combine(self, D) -> None:
        pass


class AdaptiveGainRule:
    """rule(D) = gain[row] x D / R, with the per-row gain of the module doc. D: a torch tensor (a
    view of a host array, or the torch backend's weights on their device)."""

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


SYNC_RULES = {"sum": SumRule, "adaptive": AdaptiveGainRule}


def default_rule(ranks: int) -> str:
    """sum for 2 ranks (stable there, and it beat adaptive on text8: README), adaptive above."""
    return "sum" if ranks <= 2 else "adaptive"


def make_rules(rule: str, tensors: dict, ranks: int) -> dict:
    """{array name: its rule object} for the backend's trained arrays (torch tensors)."""
    return {name: (SumRule if name in ALWAYS_SUMMED else SYNC_RULES[rule])(t, ranks)
            for name, t in tensors.items()}
