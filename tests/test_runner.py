"""The one epoch runner, the backend table and the configs' own checks (trainers/runner.py,
trainers/backends.py, config.py)."""
import numpy as np
import pytest

import embedkit
from embedkit.config import GloVeConfig, Word2VecConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError
from embedkit.trainers.backends import BACKENDS, check_backend
from embedkit.trainers.runner import run_epochs
from embedkit.trainers.base import split_shards, whole_targets
from embedkit.trainers.word2vec_numba import chunk_ranges, chunk_shard


class FakeBackend:
    """Counts one unit per chunk; the objective per chunk comes from `values`."""
    unit, metric = "word", "loss"
    hints = {"diverged": "try X", "empty": "try Y"}

    def __init__(self, chunks_per_epoch=4, values=None, examples=1):
        self.units_per_epoch = chunks_per_epoch
        self.values = values
        self.examples = examples
        self._done, self._sum, self._n, self.calls = 0, 0.0, 0, 0

    def run_epoch(self, epoch, tick):
        self._sum, self._n = 0.0, 0
        for _ in range(self.units_per_epoch):
            self._done += 1
            self._sum += self.values[self.calls] if self.values else 1.0
            self._n += self.examples
            self.calls += 1
            tick()
            yield
        return {"extra": epoch}

    def done(self):
        return self._done

    def running(self):
        return self._sum, self._n

    def lr(self):
        return 0.1


def test_runner_logs_every_epoch_and_a_loss_curve():
    values = list(range(1, 13))
    log = run_epochs(FakeBackend(4, values), 3, curve_points=2)
    assert [e["epoch"] for e in log["epochs"]] == [1, 2, 3]
    assert [e["loss"] for e in log["epochs"]] == [2.5, 6.5, 10.5]        # means of 1..4, 5..8, 9..12
    assert all(e["extra"] == e["epoch"] - 1 and e["examples"] == 4 for e in log["epochs"])
    # a point every 2 units: the mean of the stretch since the last point
    assert [(p["epoch"], p["words"], p["loss"]) for p in log["loss_curve"]] == [
        (1, 2, 1.5), (1, 4, 3.5), (2, 6, 5.5), (2, 8, 7.5), (3, 10, 9.5), (3, 12, 11.5)]


def test_runner_refuses_an_epoch_without_examples_and_a_diverged_one():
    with pytest.raises(EmbedkitError, match="epoch 1 had no training examples: try Y"):
        run_epochs(FakeBackend(2, examples=0), 2)
    with pytest.raises(EmbedkitError, match=r"diverged in epoch 2 \(loss nan\); try X"):
        run_epochs(FakeBackend(2, [1.0, 1.0, float("nan"), 1.0]), 3)
    with pytest.raises(EmbedkitError, match=r"diverged in epoch 1 \(loss 6e\+23\); try X"):      # finite, absurd
        run_epochs(FakeBackend(2, [6e23, 6e23]), 1)
    assert run_epochs(FakeBackend(2, [9e5, 9e5]), 1)["epochs"][0]["loss"] == 9e5      # below the bound: kept


def test_subsampling_that_empties_an_epoch_says_so():
    corpus = EncodedCorpus.from_id_lists([[0, 0, 0]], Vocab(["a"], np.array([3])))
    with pytest.raises(EmbedkitError, match="--sample 0"):
        embedkit.train("cbow", corpus=corpus, epochs=1, sample=1e-9, workers=1)


def test_chunks_cover_a_shard_in_order():
    offsets = np.cumsum([0] + [7, 1, 30, 2, 2, 9, 40, 1]).astype(np.int64)
    for size in (1, 5, 20, 1000):
        chunks = chunk_ranges(offsets, 1, 8, size)
        assert chunks[0][0] == 1 and chunks[-1][1] == 8
        assert all(a < b for a, b in chunks) and all(b == c for (_, b), (c, _) in zip(chunks, chunks[1:]))
    assert chunk_ranges(offsets, 3, 3, 5) == []


def test_whole_targets_find_the_sentences_float_targets_find():
    """Cutting shards and chunks with int64 targets (so numpy does not convert a memory-mapped
    offsets array to float64 whole) gives the cuts the float targets gave."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        offsets = np.concatenate([[0], np.cumsum(rng.integers(0, 9, rng.integers(1, 60)))]).astype(np.int64)
        targets = np.concatenate([np.linspace(0, offsets[-1], rng.integers(2, 9)), rng.random(5) * offsets[-1]])
        assert np.array_equal(np.searchsorted(offsets, whole_targets(targets), side="left"),
                              np.searchsorted(offsets, targets, side="left"))
    offsets = np.cumsum([0] + [7, 1, 30, 2, 2, 9, 40, 1]).astype(np.int64)      # 92 tokens
    assert split_shards(offsets, 3) == [(0, 3), (3, 7), (7, 8)]                  # cut at >= 30.7 and >= 61.3


def test_walking_a_chunk_shard_is_walking_the_chunk():
    """chunk_shard(corpus, s0, s1) walked over [0, s1 - s0) gives the same weights, loss, progress and
    random state as the corpus walked over [s0, s1)."""
    from embedkit.kernels.random import seed_states
    from embedkit.kernels.walker import Schedule, Shard, Shared, walk_shard
    from embedkit.kernels.word2vec import Weights
    from embedkit.trainers.word2vec import objective_tables, plain_bags
    from embedkit.trainers.word2vec_numba import STEPS
    rng = np.random.default_rng(1)
    V, D = 30, 8
    counts = np.sort(rng.integers(5, 500, V))[::-1].astype(np.int64)
    lens = rng.integers(1, 25, 40)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    corpus = Shard(rng.integers(0, V, offsets[-1]).astype(np.int32), offsets,
                   rng.uniform(0.3, 1.0, V).astype(np.float32))
    s0, s1 = 7, 31
    part = chunk_shard(corpus, s0, s1)
    assert np.array_equal(part.tokens, corpus.tokens[offsets[s0]:offsets[s1]])
    assert part.offsets.tolist() == (offsets[s0:s1 + 1] - offsets[s0]).tolist()
    results = []
    for shard, begin, end in ((corpus, s0, s1), (part, 0, s1 - s0)):
        tables, n_out = objective_tables(counts, Word2VecConfig(negative=3))
        w_in = np.random.default_rng(2).normal(0, 0.1, (V, D)).astype(np.float32)
        w_out = np.zeros((n_out, D), np.float32)
        progress, state = np.zeros(1, np.int64), seed_states(5, 1)
        loss = walk_shard(STEPS["cbow"], shard, begin, end, Weights(w_in, w_out, *plain_bags(V)), tables,
                          Schedule(3, 0.05, 0.0001, 1e4), Shared(progress, np.zeros((1, 2)), 0, state))
        results.append((loss, w_in, w_out, progress, state))
    (loss_a, *arrays_a), (loss_b, *arrays_b) = results
    assert loss_a == loss_b and loss_a[1] > 0
    assert all(np.array_equal(a, b) for a, b in zip(arrays_a, arrays_b))


def test_every_family_has_a_numba_backend_and_device_checks_come_first():
    assert {f for f, b in BACKENDS if b == "numba"} == {f for f, _ in BACKENDS} == {"word2vec", "glove", "classifier"}
    with pytest.raises(EmbedkitError, match="needs --backend torch"):
        check_backend("word2vec", "numba", "cuda")
    with pytest.raises(EmbedkitError, match="not available"):
        check_backend("nosuch", "numba", "cpu")


@pytest.mark.parametrize("cls,field,value,message", [
    (Word2VecConfig, "dim", 0, "--dim must be >= 1"),
    (Word2VecConfig, "lr", float("nan"), "--lr must be a finite number"),
    (Word2VecConfig, "lr", 0.0, "--lr must be > 0"),
    (Word2VecConfig, "min_lr_ratio", 1.5, "--min-lr-ratio must be >= 0 and <= 1"),
    (Word2VecConfig, "sg_update", "both", "--sg-update must be one of window, pair"),
    (Word2VecConfig, "device", "gpu0", "--device must look like cpu, cuda or cuda:N"),
    (Word2VecConfig, "workers", 2.0, "--workers must be int"),
    (GloVeConfig, "x_max", float("inf"), "--x-max must be a finite number"),
    (GloVeConfig, "eta", -1.0, "--eta must be > 0"),
])
def test_configs_check_every_field(cls, field, value, message):
    with pytest.raises(EmbedkitError, match=message):
        cls(**{field: value})


def test_configs_accept_their_defaults_and_cuda_devices():
    assert Word2VecConfig(device="cuda:1").device == "cuda:1"
    assert GloVeConfig().epochs == 25


def test_hooks_see_every_point_and_may_stop_cleanly():
    seen = []

    class Recorder:
        def on_train_begin(self, run):
            seen.append(("begin", run.done))

        def on_chunk_end(self, run):
            seen.append(("chunk", run.epoch, run.done))
            if run.done == 6:
                run.stop = True

        def on_epoch_end(self, run):
            seen.append(("epoch", run.epoch, len(run.log_epochs)))

        def on_train_end(self, run):
            seen.append(("end", run.done))

    log = run_epochs(FakeBackend(4), 5, hooks=[Recorder()])
    assert seen == [("begin", 0), ("chunk", 0, 1), ("chunk", 0, 2), ("chunk", 0, 3), ("chunk", 0, 4),
                    ("epoch", 0, 1), ("chunk", 1, 5), ("chunk", 1, 6), ("epoch", 1, 2), ("end", 6)]
    assert [e["epoch"] for e in log["epochs"]] == [1, 2] and log["epochs"][1]["stopped_early"]
    assert log["epochs"][1]["examples"] == 2
