"""The sync rules (embedkit/distributed/rules.py) against a slow per-row oracle."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from embedkit.distributed.rules import ALWAYS_SUMMED, SYNC_RULES, AdaptiveGainRule, SumRule, default_rule, make_rules


def oracle_adaptive(sums, ranks):
    """The applied updates of the adaptive rule, one row at a time, from the module doc's words."""
    rows = sums[0].shape[0]
    gain = [float(ranks)] * rows
    prev = [np.zeros(sums[0].shape[1:])] * rows
    out = []
    for D in sums:
        applied = np.empty_like(D, dtype=np.float64)
        for i in range(rows):
            mean = D[i].astype(np.float64) / ranks
            n = np.linalg.norm(mean) * np.linalg.norm(prev[i])
            cos = float(mean.ravel() @ prev[i].ravel()) / n if n > 0 else 0.0
            if cos < -0.5:
                gain[i] = max(1.0, gain[i] / 2)
            elif cos > 0:
                gain[i] = min(float(ranks), gain[i] * 1.25)
            applied[i] = gain[i] * mean
            prev[i] = mean
        out.append(applied)
    return out


@pytest.mark.parametrize("shape", [(7, 3), (9,)])
@pytest.mark.parametrize("ranks", [2, 4])
def test_adaptive_matches_the_oracle(shape, ranks):
    rng = np.random.default_rng(ranks)
    base = rng.normal(size=shape)
    sums = []
    for step in range(12):
        # rows 0-1 alternate in sign (overshoot), rows 2-3 keep going, row 4 stands still, the rest noise
        D = rng.normal(size=shape)
        D[0:2] = base[0:2] * (-1) ** step
        D[2:4] = np.abs(base[2:4])
        D[4] = 0
        sums.append(D.astype(np.float32))
    rule = AdaptiveGainRule(torch.zeros(shape), ranks)
    for D, want in zip(sums, oracle_adaptive(sums, ranks)):
        got = torch.from_numpy(D.copy())
        rule.combine(got)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=1e-7)
    g = rule.gain.tolist()
    assert g[0] == g[1] == 1.0              # overshooting rows fell to the mean
    assert g[2] == g[3] == ranks            # steady rows stayed at the sum
    assert g[4] == ranks                    # an untouched row keeps its gain


def test_first_sync_of_adaptive_is_the_sum_and_sum_is_identity():
    D = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    a = D.clone()
    AdaptiveGainRule(D, 4).combine(a)
    torch.testing.assert_close(a, D)
    s = D.clone()
    SumRule(D, 4).combine(s)
    assert torch.equal(s, D)


def test_accumulators_are_always_summed():
    arrays = {"w": torch.zeros((3, 2)), "gradsq": torch.zeros((3, 2))}
    rules = make_rules("adaptive", arrays, 2)
    assert isinstance(rules["w"], AdaptiveGainRule) and isinstance(rules["gradsq"], SumRule)
    assert "gradsq" in ALWAYS_SUMMED and set(SYNC_RULES) == {"sum", "adaptive"}


def test_default_rule_is_the_sum_for_two_ranks_only():
    assert default_rule(2) == "sum" and default_rule(3) == default_rule(64) == "adaptive"
