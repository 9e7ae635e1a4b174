"""word2vec kernels against an independent float64 numpy reference that replays the same random draws."""
import numpy as np
import pytest

from embedkit.config import Word2VecConfig
from embedkit.kernels.walker import Schedule, Shard, Shared, walk_shard
from embedkit.kernels.word2vec import Weights
from embedkit.trainers.word2vec_numba import STEPS
from embedkit.kernels.logistic import logistic_update
from embedkit.kernels.random import randint, seed_states
from embedkit.kernels.sampling import sample_alias
from embedkit.trainers.word2vec import objective_tables, plain_bags


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_update(h, w_out, outs, labels, lr):
    """All rows scored from the same weights, then updated (a row drawn twice gets both updates)."""
    outs, y = np.asarray(outs), np.asarray(labels, dtype=np.float64)
    f = w_out[outs] @ h
    g = lr * (y - sig(f))
    grad = g @ w_out[outs]
    np.add.at(w_out, outs, np.outer(g, h))
    return -(y * np.log(sig(f)) + (1 - y) * np.log(sig(-f))).sum(), grad


def ref_objective(objective, h, target, w_out, lr, tables, state):
    if objective == "ns":
        outs, labels = [target], [1.0]
        for _ in range(tables.negative):
            neg = sample_alias(tables.prob, tables.alias, state)
            if neg != target:
                outs.append(neg)
                labels.append(0.0)
    else:
        L = tables.code_len[target]
        outs, labels = list(tables.points[target, :L]), list(1.0 - tables.codes[target, :L])
    return ref_update(h, w_out, outs, labels, lr)


def ref_sentence(arch, objective, sent, window, w_in, w_out, bag_ptr, bag_ids, lr, tables, state):
    """Slow reference for one sentence, no subsampling, constant lr; float64 weights."""
    n = len(sent)
    loss, count = 0.0, 0
    bag = lambda w: bag_ids[bag_ptr[w]:bag_ptr[w + 1]]
    for i in range(n):
        b = 1 + randint(state, 0, window)
        ctx = [j for j in range(max(0, i - b), min(n, i + b + 1)) if j != i]
        if arch == "skipgram":
            for j in ctx:
                h = w_in[bag(sent[i])].mean(axis=0)
                l, grad = ref_objective(objective, h, sent[j], w_out, lr, tables, state)
                for r in bag(sent[i]):
                    w_in[r] += grad
                loss += l
                count += 1
        else:
            rows = np.concatenate([bag(sent[j]) for j in ctx]) if ctx else np.zeros(0, int)
            if len(rows) == 0:
                continue
            h = w_in[rows].mean(axis=0)
            l, grad = ref_objective(objective, h, sent[i], w_out, lr, tables, state)
            for j in ctx:
                for r in bag(sent[j]):
                    w_in[r] += grad
            loss += l
            count += 1
    return loss, count


def subword_bags(V, buckets):
    """CSR bags as the subword model builds them: word w's own row, then 0, 1 or 2 "bucket" rows
    (sizes 1, 2 and 3 all occur, so a kernel that averages only some bag sizes is seen; w = 5
    repeats a bucket row, which counts twice, as in fastText)."""
    bags = [[w] + [V + (w * k + 1) % buckets for k in (2, 3)][:w % 3] for w in range(V)]
    bag_ptr = np.concatenate([[0], np.cumsum([len(b) for b in bags])]).astype(np.int64)
    return bag_ptr, np.concatenate(bags).astype(np.int32)


@pytest.mark.parametrize("arch,objective", [(a, o) for a in ("cbow", "skipgram") for o in ("hs", "ns")])
@pytest.mark.parametrize("subword", [False, True])
def test_kernel_matches_reference(arch, objective, subword):
    rng = np.random.default_rng(0)
    V, D, window = 12, 8, 3
    counts = np.sort(rng.integers(5, 200, V))[::-1].astype(np.int64)
    cfg = Word2VecConfig(arch=arch, objective=objective, dim=D, window=window, negative=4)
    tables, n_out = objective_tables(counts, cfg)
    if subword:
        n_in = V + 5
        bag_ptr, bag_ids = subword_bags(V, 5)
    else:
        n_in = V
        bag_ptr, bag_ids = plain_bags(V)
    w_in = rng.normal(0, 0.3, (n_in, D)).astype(np.float32)
    w_out = rng.normal(0, 0.3, (n_out, D)).astype(np.float32)
    sent = rng.integers(0, V, 15).astype(np.int32)
    lr = 0.05

    ref_in, ref_out = w_in.astype(np.float64), w_out.astype(np.float64)
    state_ref = seed_states(7, 1)
    ref_loss, ref_count = ref_sentence(arch, objective, sent, window, ref_in, ref_out, bag_ptr, bag_ids,
                                       lr, tables, state_ref)

    offsets = np.array([0, len(sent)], dtype=np.int64)
    keep = np.ones(V, dtype=np.float32)
    progress = np.zeros(1, np.int64)
    state = seed_states(7, 1)
    step = STEPS["cbow" if arch == "cbow" else "skipgram-pair"]    # the reference's skip-gram: centre predicts context
    loss, count = walk_shard(step, Shard(sent, offsets, keep), 0, 1, Weights(w_in, w_out, bag_ptr, bag_ids), tables,
                             Schedule(window, lr, lr, 1e12), Shared(progress, np.zeros((1, 2)), 0, state))
    assert count == ref_count and count > 0
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    np.testing.assert_allclose(w_in, ref_in, atol=2e-5)
    np.testing.assert_allclose(w_out, ref_out, atol=2e-5)
    assert progress[0] == len(sent)


def test_logistic_update_gradient_finite_difference():
    """grad and the w_out update are -lr * d(loss)/d(h) and -lr * d(loss)/d(u): check by central differences."""
    rng = np.random.default_rng(1)
    D, lr = 6, 0.1
    for label in (0.0, 1.0):
        h = rng.normal(0, 0.5, D)
        u = rng.normal(0, 0.5, (1, D))

        def loss_at(hh, uu):
            f = hh @ uu
            return -np.log(sig(f)) if label else -np.log(sig(-f))

        eps = 1e-6
        num_h = np.array([(loss_at(h + eps * e, u[0]) - loss_at(h - eps * e, u[0])) / (2 * eps) for e in np.eye(D)])
        num_u = np.array([(loss_at(h, u[0] + eps * e) - loss_at(h, u[0] - eps * e)) / (2 * eps) for e in np.eye(D)])
        grad = np.zeros(D, np.float32)
        w_out = u.astype(np.float32).copy()
        loss = logistic_update(h.astype(np.float32), w_out, np.zeros(1, np.int64), np.array([label], np.float32), 1,
                               lr, grad, np.zeros(1, np.float32))
        assert loss == pytest.approx(loss_at(h, u[0]), rel=1e-5)
        np.testing.assert_allclose(grad, -lr * num_h, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(w_out[0] - u[0], -lr * num_u, rtol=1e-4, atol=1e-7)


def test_logistic_update_is_stable_for_huge_scores():
    h = np.full(4, 100.0, np.float32)
    w_out = np.full((1, 4), 100.0, np.float32)
    grad = np.zeros(4, np.float32)
    loss = logistic_update(h, w_out, np.zeros(1, np.int64), np.zeros(1, np.float32), 1, 0.01, grad,
                           np.zeros(1, np.float32))
    assert np.isfinite(loss) and loss == pytest.approx(40000.0)
    assert np.all(np.isfinite(grad)) and np.all(np.isfinite(w_out))


def test_alias_table_draws_count_to_the_075():
    """The noise sampler draws word k with probability count_k**0.75 / sum (not count*0.75)."""
    from embedkit.tables.alias import alias_probabilities, alias_table
    from embedkit.tables.noise import noise_weights
    counts = np.array([1000, 400, 90, 50, 7, 3, 1], dtype=np.int64)
    prob, alias = alias_table(noise_weights(counts, 0.75))
    want = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(alias_probabilities(prob, alias), want, rtol=1e-12)
    from numba import njit

    @njit
    def draw_many(prob, alias, state, n):
        out = np.zeros(prob.shape[0], np.int64)
        for _ in range(n):
            out[sample_alias(prob, alias, state)] += 1
        return out

    n = 2_000_000
    freq = draw_many(prob, alias, seed_states(3, 1), n) / n
    assert np.all(np.abs(freq - want) <= 5 * np.sqrt(want * (1 - want) / n))  # 5 sigma per word


@pytest.mark.parametrize("objective", ["ns", "hs"])
@pytest.mark.parametrize("subword", [False, True])
def test_window_batch_kernel_matches_reference(objective, subword):
    """kernels/window_batch.py: the window's output rows copied once, updated context by context in
    sentence order (word2vec C's skip-gram order), their change added to w_out at the window's end.
    With subword bags (sg_update="window" on the subword model) h is the context's bag mean and every
    bag row gets the full gradient."""
    rng = np.random.default_rng(5)
    V, D, window = 10, 6, 2
    counts = np.sort(rng.integers(5, 100, V))[::-1].astype(np.int64)
    cfg = Word2VecConfig(arch="skipgram", objective=objective, dim=D, window=window, negative=3)
    tables, n_out = objective_tables(counts, cfg)
    if subword:
        n_in = V + 5
        bag_ptr, bag_ids = subword_bags(V, 5)
    else:
        n_in = V
        bag_ptr, bag_ids = plain_bags(V)
    bag = lambda w: bag_ids[bag_ptr[w]:bag_ptr[w + 1]]
    w_in = rng.normal(0, 0.3, (n_in, D)).astype(np.float32)
    w_out = rng.normal(0, 0.3, (n_out, D)).astype(np.float32)
    sent = rng.integers(0, V, 12).astype(np.int32)
    lr = 0.1
    ref_in, ref_out = w_in.astype(np.float64), w_out.astype(np.float64)
    state_ref = seed_states(9, 1)
    ref_loss, ref_count = 0.0, 0
    for i in range(len(sent)):
        b = 1 + randint(state_ref, 0, window)
        ctx = [j for j in range(max(0, i - b), min(len(sent), i + b + 1)) if j != i]
        if objective == "ns":
            outs, labels = [sent[i]], [1.0]
            for _ in range(tables.negative):
                neg = sample_alias(tables.prob, tables.alias, state_ref)
                if neg != sent[i]:
                    outs.append(neg)
                    labels.append(0.0)
        else:
            L = tables.code_len[sent[i]]
            outs, labels = list(tables.points[sent[i], :L]), list(1.0 - tables.codes[sent[i], :L])
        O = ref_out[outs].copy()         # the window's local output rows, updated pair by pair
        O_start = O.copy()
        y = np.array(labels)
        for j in ctx:                    # word2vec C's order: each pair sees the pairs before it
            h = ref_in[bag(sent[j])].mean(axis=0)
            s = O @ h
            g = lr * (y - sig(s))
            ref_loss += -(y * np.log(sig(s)) + (1 - y) * np.log(sig(-s))).sum()
            np.add.at(ref_in, bag(sent[j]), g @ O)
            O += np.outer(g, h)
        np.add.at(ref_out, outs, O - O_start)
        ref_count += len(ctx)
    corpus = (sent, np.array([0, len(sent)], np.int64), np.ones(V, np.float32))
    loss, count = walk_shard(STEPS["skipgram-window"], Shard(*corpus), 0, 1, Weights(w_in, w_out, bag_ptr, bag_ids), tables,
                             Schedule(window, lr, lr, 1e12), Shared(np.zeros(1, np.int64), np.zeros((1, 2)), 0, seed_states(9, 1)))
    assert count == ref_count
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    np.testing.assert_allclose(w_in, ref_in, atol=2e-5)
    np.testing.assert_allclose(w_out, ref_out, atol=2e-5)


def test_tabulated_logistic_terms_match_exact_float64():
    """kernels/logistic.py's tables: label - sigma(f) within 1e-6 and -log p(label) within 2e-6 (or 1e-5 relative)
    of the exact values, across the table, between its points, and past its end; NaN scores stay NaN."""
    from numba import njit
    from embedkit.kernels.logistic import logistic_terms

    @njit
    def terms(fs, label):
        err = np.empty(fs.shape[0])
        loss = np.empty(fs.shape[0])
        for k in range(fs.shape[0]):
            err[k], loss[k] = logistic_terms(fs[k], label)
        return err, loss

    fs = np.concatenate([np.linspace(-40, 40, 20001), np.random.default_rng(0).uniform(-17, 17, 5000)]).astype(np.float32)
    f = fs.astype(np.float64)
    for label in (0.0, 1.0):
        err, loss = terms(fs, np.float32(label))
        want_err = label - sig(f)
        want_loss = np.logaddexp(0.0, -f) if label else np.logaddexp(0.0, f)
        np.testing.assert_allclose(err, want_err, atol=1e-6)
        np.testing.assert_allclose(loss, want_loss, atol=2e-6, rtol=1e-5)
    err, loss = terms(np.array([np.nan], np.float32), np.float32(1.0))
    assert np.isnan(loss[0])


@pytest.mark.parametrize("done,lr_want", [(500, 0.06), (1500, 0.02)])
def test_walker_subsamples_and_sets_the_rate_from_all_workers_progress(done, lr_want):
    """walk_shard against the reference with keep probabilities below 1 and a decaying rate. Words
    with keep_prob 1 draw nothing; the others draw one uniform each, in sentence order, and are kept
    when keep_prob >= u (word2vec C). The rate is lr_start + (lr_end - lr_start) * min(1, progress
    summed over workers / total_words): 0.06 half-way, lr_end past the end. The call adds the
    sentence's words read (kept or not) to this worker's progress only."""
    from embedkit.kernels.random import uniform
    rng = np.random.default_rng(3)
    V, D, window = 12, 8, 3
    counts = np.sort(rng.integers(5, 200, V))[::-1].astype(np.int64)
    cfg = Word2VecConfig(arch="skipgram", objective="hs", dim=D, window=window)
    tables, n_out = objective_tables(counts, cfg)
    bag_ptr, bag_ids = plain_bags(V)
    w_in = rng.normal(0, 0.3, (V, D)).astype(np.float32)
    w_out = rng.normal(0, 0.3, (n_out, D)).astype(np.float32)
    sent = rng.integers(0, V, 40).astype(np.int32)
    keep = np.where(np.arange(V) % 3 == 0, 1.0, np.where(np.arange(V) % 3 == 1, 0.5, 0.1)).astype(np.float32)

    ref_in, ref_out = w_in.astype(np.float64), w_out.astype(np.float64)
    state_ref = seed_states(11, 1)
    kept = [w for w in sent if keep[w] >= 1.0 or keep[w] >= uniform(state_ref, 0)]
    assert 5 < len(kept) < len(sent)
    ref_loss, ref_count = ref_sentence("skipgram", "hs", np.array(kept), window, ref_in, ref_out, bag_ptr,
                                       bag_ids, lr_want, tables, state_ref)

    progress = np.array([done - 207, 200, 7], np.int64)       # sums to done; worker 2 runs this call
    loss, count = walk_shard(STEPS["skipgram-pair"], Shard(sent, np.array([0, len(sent)], np.int64), keep), 0, 1,
                             Weights(w_in, w_out, bag_ptr, bag_ids), tables, Schedule(window, 0.1, 0.02, 1000.0),
                             Shared(progress, np.zeros((3, 2)), 2, seed_states(11, 1)))
    assert count == ref_count
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    np.testing.assert_allclose(w_in, ref_in, atol=2e-5)
    np.testing.assert_allclose(w_out, ref_out, atol=2e-5)
    np.testing.assert_array_equal(progress, [done - 207, 200, 7 + len(sent)])
