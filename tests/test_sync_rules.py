"""The sync rules (embedkit/distributed/rules.py) against a slow per-row oracle."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from embedkit.distributed.rules import (ALWAYS_SUMMED, SYNC_RULES, AdaptiveGainRule, BlockMomentumRule, SumRule,
                                       default_rule, make_rules)


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
    assert "gradsq" in ALWAYS_SUMMED and set(SYNC_RULES) == {"sum", "adaptive", "bmuf"}


def test_default_rule_is_the_sum():
    assert default_rule(2) == default_rule(3) == default_rule(64) == "sum"


def oracle_bmuf(start, deltas, ranks):
    """Chen & Huo's block momentum with Nesterov's look-ahead, kept as global weights: the starts
    the ranks train from after each sync, and the global weights at the end."""
    eta = 1 - 1 / ranks
    w_g, Delta = start.astype(np.float64), np.zeros_like(start, dtype=np.float64)
    s, starts = w_g.copy(), []
    for D in deltas:                   # D: the sum of the ranks' updates from start s
        Delta = eta * Delta + D / ranks
        w_g = w_g + Delta
        s = w_g + eta * Delta
        starts.append(s)
    return starts, w_g


@pytest.mark.parametrize("ranks", [2, 4, 8])
def test_bmuf_matches_the_oracle(ranks):
    rng = np.random.default_rng(ranks)
    w0 = rng.normal(size=(6, 3)).astype(np.float32)
    deltas = [rng.normal(size=(6, 3)).astype(np.float32) for _ in range(10)]
    rule = BlockMomentumRule(torch.from_numpy(w0), ranks)
    w = torch.from_numpy(w0.copy())
    starts, w_g = oracle_bmuf(w0, deltas, ranks)
    for D, want in zip(deltas, starts):
        d = torch.from_numpy(D.copy())
        rule.combine(d)
        w += d                                     # w = w_last + rule(D), as sync.py applies it
        np.testing.assert_allclose(w.numpy(), want, rtol=1e-4, atol=1e-5)
    rule.finish(w)
    np.testing.assert_allclose(w.numpy(), w_g, rtol=1e-4, atol=1e-5)


def test_bmuf_lands_a_converged_row_on_its_optimum_and_sums_a_steady_one():
    """Row 0 reaches its optimum t within every interval on every rank (each delta is t - start):
    one sync puts it on t and it stays there (the sum would swing it R times as far). Row 1 moves
    by the same step on every rank at every sync: its applied update grows to the sum."""
    ranks, t = 4, 3.0
    rule = BlockMomentumRule(torch.zeros(2), ranks)
    w = torch.zeros(2)
    for _ in range(60):
        D = torch.tensor([ranks * (t - float(w[0])), ranks * 0.01])
        rule.combine(D)
        w += D
    assert abs(float(w[0]) - t) < 1e-6
    assert float(D[1]) == pytest.approx(ranks * 0.01, rel=1e-3)


@pytest.mark.parametrize("name", ["adaptive", "bmuf"])
def test_a_rule_taken_for_some_rows_combines_them_as_the_whole_rule_would(name):
    """take(rows) / combine / put on rows [1, 3, 4] gives those rows what combining every row gives
    them, over several syncs, and leaves the other rows' state as it was."""
    rng = np.random.default_rng(3)
    whole, parted = (SYNC_RULES[name](torch.zeros(6, 2), 3) for _ in range(2))
    rows = torch.tensor([1, 3, 4])
    for _ in range(5):
        D = torch.from_numpy(rng.normal(size=(6, 2)).astype(np.float32))
        want = D.clone()
        whole.combine(want)
        part = parted.take(rows)
        got = D[rows].clone()
        part.combine(got)
        parted.put(part, rows)
        torch.testing.assert_close(got, want[rows])
    for state in parted.STATE:
        torch.testing.assert_close(getattr(parted, state)[rows], getattr(whole, state)[rows])
        untouched = SYNC_RULES[name](torch.zeros(6, 2), 3)
        torch.testing.assert_close(getattr(parted, state)[[0, 2, 5]], getattr(untouched, state)[[0, 2, 5]])
