"""The torch backend of the word2vec family: a batch of one equals the numba kernel on the same draws,
hand-written gradients equal autograd, the nn.Modules equal the backend's step, no device reads per
batch, subsampling/windows as the walker's, semantic smoke per variant, API/CLI, CUDA (skipped
without a GPU)."""
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import embedkit  # noqa: E402
from embedkit.kernels.random import seed_states  # noqa: E402
from embedkit.kernels.sampling import sample_alias  # noqa: E402
from embedkit.kernels.walker import arch_step  # noqa: E402
from embedkit.kernels.word2vec import Scratch, Weights  # noqa: E402
from embedkit.tables.subwords import subword_bags  # noqa: E402
from embedkit.torch import word2vec_batch as wb  # noqa: E402
from embedkit.torch.word2vec import input_side, OBJECTIVES  # noqa: E402
from embedkit.trainers.word2vec import objective_tables, plain_bags  # noqa: E402
from embedkit.trainers.word2vec_numba import STEPS as NUMBA_STEPS  # noqa: E402
from embedkit.config import Word2VecConfig  # noqa: E402

V, DIM, WINDOW = 12, 8, 2
COUNTS = np.array([50, 40, 30, 25, 20, 15, 12, 10, 8, 6, 4, 2], dtype=np.int64)
WORDS = [f"w{k}ord" for k in range(V)]


def weights(subword: bool, seed=0):
    rng = np.random.default_rng(seed)
    if subword:
        bag_ptr, bag_ids = subword_bags(WORDS, 3, 4, 20)
        n_in = V + 20
    else:
        (bag_ptr, bag_ids), n_in = plain_bags(V), V
    w_in = (rng.random((n_in, DIM), dtype=np.float32) - 0.5) / 2
    w_out = (rng.random((V, DIM), dtype=np.float32) - 0.5) / 2
    return Weights(w_in, w_out, np.asarray(bag_ptr, np.int64), np.asarray(bag_ids, np.int32))


def numba_step(step, objective, sent, i, b, wts, lr, seed):
    """The numba kernel's update of centre i with window b; returns (loss, count, noise it drew)."""
    tables, _ = objective_tables(COUNTS, Word2VecConfig(objective=objective, negative=4))
    state = seed_states(seed, 1)
    replay = state.copy()
    n_out = tables.negative + 1 if objective == "ns" else tables.points.shape[1]
    scratch = Scratch(np.empty((2 * n_out + 2, DIM), np.float32), np.empty(n_out, np.int64),      # as walk_shard's
                      np.empty(n_out, np.float32), np.empty(n_out, np.float32), np.arange(n_out, dtype=np.int64))
    loss, count = arch_step(NUMBA_STEPS[step], np.asarray(sent, np.int32), len(sent), i, b, wts, scratch,
                            lr, tables, state)
    noise = [sample_alias(tables.prob, tables.alias, replay) for _ in range(4)] if objective == "ns" else [0] * 4
    return loss, count, tables, noise


def distinct_draws_seed():
    """A seed whose first 4 noise draws are 4 different words: the torch batch computes both steps of
    a row drawn twice for one example from the same weights, where the numba kernel takes them one
    after the other."""
    tables, _ = objective_tables(COUNTS, Word2VecConfig(negative=4))
    for seed in range(100):
        state = seed_states(seed, 1)
        if len({sample_alias(tables.prob, tables.alias, state) for _ in range(4)}) == 4:
            return seed


@pytest.mark.parametrize("subword", [False, True])
@pytest.mark.parametrize("objective", ["ns", "hs"])
@pytest.mark.parametrize("step", ["skipgram-window", "skipgram-pair", "cbow"])
def test_batch_of_one_equals_numba_kernel(step, objective, subword):
    """One example as a torch batch: the same loss, count and weights as the numba step on the same
    noise draws. Skip-gram: centre 0 with window 1, one pair (the numba window step updates its
    output rows context by context, the torch batch from the batch's start weights: equal for one
    pair); CBOW: centre 2 with its window of 2 on each side."""
    sent, lr = [3, 7, 1, 9, 0], 0.05
    i, b = (0, 1) if step.startswith("skipgram") else (2, 2)
    ref = weights(subword)
    got = weights(subword)
    loss, count, tables, noise = numba_step(step, objective, sent, i, b, ref, lr, seed=distinct_draws_seed())
    w_in, w_out = torch.from_numpy(got.w_in), torch.from_numpy(got.w_out)
    inputs = input_side(w_in, got.bag_ptr, got.bag_ids)
    obj = OBJECTIVES[type(tables)](tables, "cpu")
    d = np.array([-2, -1, 1, 2])
    pos = i + d
    valid = (np.abs(d) <= b) & (pos >= 0) & (pos < len(sent))
    context = np.array(sent)[pos.clip(0, len(sent) - 1)]
    noise_t = torch.tensor([noise] * (len(d) if step == "skipgram-pair" else 1))
    t_loss, t_count = wb.STEPS[step](inputs, w_out, obj, torch.tensor([sent[i]]), torch.from_numpy(context[None]),
                                     torch.from_numpy(valid[None]), lr, None, noise=noise_t)
    assert int(t_count) == count
    np.testing.assert_allclose(float(t_loss), loss, rtol=1e-4)
    np.testing.assert_allclose(got.w_out, ref.w_out, atol=2e-6)
    np.testing.assert_allclose(got.w_in, ref.w_in, atol=2e-6)
    assert not np.array_equal(got.w_in, weights(subword).w_in)      # something was trained


def test_logistic_batch_gradients_equal_autograd():
    g = torch.Generator().manual_seed(0)
    H = torch.randn(5, 3, 6, generator=g, dtype=torch.float64, requires_grad=True)
    O = torch.randn(5, 4, 6, generator=g, dtype=torch.float64, requires_grad=True)
    y = (torch.rand(5, 4, generator=g) > 0.5).double()
    mask = (torch.rand(5, 3, 4, generator=g) > 0.3).double()
    lr = 0.1
    dH, dO, loss, kH, kO = wb.logistic_batch(H.detach(), O.detach(), y, mask, lr)
    S = torch.bmm(H, O.transpose(1, 2))
    ref = -(mask * (y[:, None] * torch.nn.functional.logsigmoid(S)
                    + (1 - y[:, None]) * torch.nn.functional.logsigmoid(-S))).sum()
    ref.backward()
    assert torch.allclose(loss, ref.detach())
    assert torch.allclose(dH, -lr * H.grad) and torch.allclose(dO, -lr * O.grad)


# ---- the PyTorch-native modules ----

def small_corpus(n_sent=200, length=30, seed=0):
    from collections import Counter
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.corpus.vocab import Vocab
    rng = np.random.default_rng(seed)
    words = [f"w{k}" for k in range(40)]
    p = 1.0 / np.arange(1, 41)
    sents = [list(rng.choice(words, length, p=p / p.sum())) for _ in range(n_sent)]
    vocab = Vocab.from_counts(Counter(w for s in sents for w in s), min_count=1)
    return EncodedCorpus.from_id_lists([[vocab.index[w] for w in s] for s in sents], vocab)


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
@pytest.mark.parametrize("objective", ["ns", "hs"])
def test_modules_loss_and_gradients_equal_the_backend_step(arch, objective, monkeypatch):
    """The backend's step applies -lr times the modules' autograd gradients; here the cap of hot
    rows' summed steps (add_rows_capped) is replaced by the plain sum that autograd computes."""
    from embedkit.torch import CBOW, SkipGram, Word2VecExamples
    monkeypatch.setattr(wb, "add_rows_capped", lambda w, rows, steps, k: wb.add_rows(w, rows, steps))
    data = Word2VecExamples(small_corpus(), objective=objective, window=3, negative=4, batch_size=64, seed=2)
    batch = next(iter(data))
    model = (SkipGram if arch == "skipgram" else CBOW)(data.n_words, data.n_outputs, dim=8)
    with torch.no_grad():
        model.w_out.weight.normal_(0, 0.3)               # non-zero output rows: every gradient term counts
    w_in, w_out = model.w_in.weight.detach().clone(), model.w_out.weight.detach().clone()
    loss = model(batch)
    loss.backward()
    lr = 0.05
    step = wb.STEPS["skipgram-window" if arch == "skipgram" else "cbow"]
    before_in, before_out = w_in.clone(), w_out.clone()
    noise = batch.outputs[:, 1:] if objective == "ns" else None
    t_loss, count = step(wb.WordInputs(w_in), w_out, data.objective, batch.targets, batch.inputs,
                         batch.input_mask > 0, lr, None, noise=noise)
    assert torch.allclose(t_loss, loss.detach())
    assert torch.allclose(w_in - before_in, -lr * model.w_in.weight.grad, atol=1e-6)
    assert torch.allclose(w_out - before_out, -lr * model.w_out.weight.grad, atol=1e-6)
    assert int(count) > 0


@pytest.mark.parametrize("extra", [0, 1, 255, 256, 257, 5000])
def test_a_padded_bag_gather_is_the_batchs_own(extra):
    """A row budget past the batch's own rows (a CUDA graph's): the same sums and row counts, every
    padding row marked as padding, and pushing through the padded expansion gives the unpadded
    update exactly."""
    wts = weights(subword=True)
    words = torch.tensor([[3, 7, 1, 9], [0, 2, 11, 5]])
    mask = torch.tensor([[1.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]])
    runs = []
    for pad in (0, extra):
        w_in = torch.from_numpy(wts.w_in.copy())
        inputs = input_side(w_in, wts.bag_ptr, wts.bag_ids)
        own = int(inputs.rows_of(words, mask).sum())
        sums, rows, (flat_rows, occ) = inputs.gather(words, mask, own + pad)
        assert flat_rows.shape == (own + pad,) and int((occ == words.numel()).sum()) == pad
        grads = torch.randn(*words.shape, DIM, generator=torch.Generator().manual_seed(1))
        inputs.push((flat_rows, occ), grads, torch.full(words.shape, 0.5))
        runs.append((sums, rows, w_in))
    for x, y in zip(*runs):
        assert torch.equal(x, y)


@pytest.mark.parametrize("pad", [0, 1, 255, 256, 257, 10 * 256 + 3])
def test_padding_bags_sum_to_the_padding_and_hold_at_most_their_share(pad):
    sizes = wb.padding_bags(torch.tensor(pad), 256)
    assert sizes.shape == (256,) and int(sizes.sum()) == pad
    assert int(sizes.min()) >= 0 and int(sizes.max()) == -(-pad // 256)


def test_hot_rows_take_the_sum_of_their_steps():
    w = torch.zeros(4, 2)
    rows = torch.tensor([[0, 1, 1], [1, 1, 3]])
    steps = torch.ones(2, 3, 2)
    steps[1, 2] = 0.0                                              # row 3's entry is padding: a zero step
    wb.add_rows(w, rows, steps)
    assert torch.allclose(w[:, 0], torch.tensor([1.0, 4.0, 0.0, 0.0]))


def test_capped_rows_take_their_sum_divided_by_their_summed_curvature():
    g = torch.Generator().manual_seed(1)
    rows = torch.randint(0, 6, (40, 3), generator=g)
    steps = torch.randn(40, 3, 4, generator=g, dtype=torch.float64)
    k = torch.rand(40, 3, generator=g, dtype=torch.float64) * 0.2      # a row's ~20 uses pass 1 in sum
    k[rows == 5] *= 0.05                                                 # row 5's stay below 1: no cap
    w = torch.zeros(7, 4, dtype=torch.float64)
    wb.add_rows_capped(w, rows, steps, k)
    ref = torch.zeros(7, 4, dtype=torch.float64)
    for r in range(7):
        use = rows == r
        ref[r] = steps[use].sum(0) / max(1.0, float(k[use].sum()))
    assert torch.allclose(w, ref)
    assert float(k[rows == 5].sum()) < 1 < float(k[rows == 0].sum())


def test_a_hot_rows_capped_step_lowers_its_batch_loss_where_the_plain_sum_overshoots():
    """1000 uses of one output row, 600 with label 1 and 400 with label 0, all against one input
    vector x (|x|^2 = 10): the summed stale step moves the score by lr * 100 * 10 = 25 and the batch
    loss goes from 693 to about 10,000; divided by k = lr * 1000 * 0.25 * 10 it is the Newton step
    to the optimum, logit(0.6) = 0.405."""
    E, lr = 1000, 0.025
    x = torch.zeros(16)
    x[:10] = 1.0
    H = x.expand(E, 1, 16).contiguous()
    labels = torch.zeros(E, 1)
    labels[:600] = 1.0
    mask = torch.ones(E, 1, 1)
    rows = torch.zeros(E, 1, dtype=torch.int64)

    def loss_after(add):
        w_out = torch.zeros(1, 16)
        st = wb.logistic_batch(H, w_out[rows], labels, mask, lr)
        add(w_out, rows, st.dO, st.kO)
        return float(wb.logistic_batch(H, w_out[rows], labels, mask, lr).loss), float(w_out[0] @ x)

    start = E * np.log(2.0)
    plain, _ = loss_after(lambda w, r, d, k: wb.add_rows(w, r, d))
    capped, score = loss_after(wb.add_rows_capped)
    assert plain > 10 * start
    assert capped < start and abs(score - np.log(0.6 / 0.4)) < 0.01


def test_modules_train_with_a_stock_optimizer():
    from embedkit.torch import SkipGram, Word2VecExamples
    data = Word2VecExamples(small_corpus(), window=3, batch_size=256, sample=0)
    model = SkipGram(data.n_words, data.n_outputs, dim=16)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(3):
        total, n = 0.0, 0
        for batch in torch.utils.data.DataLoader(data, batch_size=None):
            opt.zero_grad()
            loss = model(batch) / batch.input_mask.sum()          # mean over the batch's pairs
            loss.backward()
            opt.step()
            total, n = total + float(loss.detach()), n + 1
        losses.append(total / n)
    assert losses[-1] < losses[0]


def test_to_torch_rows_are_in_vocabulary_order():
    emb = embedkit.Embeddings(["a", "b", "c"], np.arange(6, dtype=np.float32).reshape(3, 2))
    layer = emb.to_torch()
    assert not layer.weight.requires_grad
    assert torch.equal(layer(torch.tensor([emb.index["c"]])), torch.tensor([[4.0, 5.0]]))
    assert emb.to_torch(freeze=False).weight.requires_grad


# ---- windows and subsampling on the device ----

def test_windows_stay_in_sentences_and_subsample_at_the_keep_rate():
    from embedkit.torch.windows import chunk_windows
    offsets = np.array([0, 4, 4, 10, 30], dtype=np.int64)          # an empty sentence too
    tokens = torch.arange(30, dtype=torch.int32) % 3
    keep = torch.tensor([1.0, 0.5, 0.25])
    gen = torch.Generator().manual_seed(0)
    kept, ctx_ok, bs = [], True, []
    sentence_of = np.searchsorted(offsets, np.arange(30), side="right") - 1
    for _ in range(2000):
        cw = chunk_windows(tokens, torch.from_numpy(offsets), offsets, keep, 0, 4, 3, gen)
        kept.append(np.bincount(cw.words.numpy(), minlength=3))
        # each kept word's valid context words are kept words of its own sentence
        assert cw.valid.shape == (cw.n, 6)
        bs.append(cw.valid[:, 3:].sum(1).max().item() if cw.n else 0)
    rate = np.sum(kept, axis=0) / (2000 * np.bincount(tokens.numpy(), minlength=3))
    np.testing.assert_allclose(rate, [1.0, 0.5, 0.25], atol=0.02)
    assert max(bs) <= 3


def test_windows_never_cross_sentences():
    from embedkit.torch.windows import chunk_windows
    offsets = np.array([0, 3, 7, 12], dtype=np.int64)
    tokens = torch.tensor([0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2], dtype=torch.int32)   # word = sentence id
    cw = chunk_windows(tokens, torch.from_numpy(offsets), offsets, torch.ones(3), 0, 3, 5,
                       torch.Generator().manual_seed(1))
    assert cw.n == 12
    same = cw.context == cw.words[:, None]
    assert bool(same[cw.valid].all())
    assert int(cw.valid.sum()) > 0


# ---- no reads from the device per batch ----

class CountDeviceReads:
    """Counts every operation that makes the host wait for the device: scalar reads (item, bool,
    float, int all go through aten._local_scalar_dense), ops whose output size depends on data
    (nonzero, masked_select, unique, repeat_interleave without output_size), and copies to the
    host (Tensor.tolist, .cpu, .numpy). On the CPU nothing waits, but the same calls on CUDA would."""
    DATA_SIZED = {"aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select", "aten::_unique2",
                  "aten::unique_consecutive", "aten::unique_dim"}

    def __enter__(self):
        from torch.utils._python_dispatch import TorchDispatchMode
        counter = self
        self.reads = []

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                name = func._schema.name
                if name in CountDeviceReads.DATA_SIZED or (
                        name == "aten::repeat_interleave" and kwargs.get("output_size") is None
                        and len(args) == 1):
                    counter.reads.append(name)
                return func(*args, **kwargs)

        self.mode = Mode()
        self.patched = {}
        for meth in ("tolist", "cpu", "numpy"):
            orig = getattr(torch.Tensor, meth)
            self.patched[meth] = orig

            def wrapped(t, *a, _orig=orig, _name=meth, **k):
                self.reads.append(_name)
                return _orig(t, *a, **k)
            setattr(torch.Tensor, meth, wrapped)
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        self.mode.__exit__(*exc)
        for meth, orig in self.patched.items():
            setattr(torch.Tensor, meth, orig)


def torch_word2vec(model, extra, chunk_words=3000, **opts):
    """A TorchWord2Vec on 300 small sentences (about 9000 words: 3 chunks of chunk_words), dim 8,
    window 3, 2 epochs; opts go to the model's config."""
    from embedkit.config import FastTextConfig
    from embedkit.trainers import word2vec as w2v
    from embedkit.torch.word2vec import TorchWord2Vec
    corpus = small_corpus(n_sent=300)
    cfg_cls = FastTextConfig if model == "fasttext" else Word2VecConfig
    fixed = {} if model == "fasttext" else {"arch": model}
    cfg = cfg_cls(dim=8, window=3, epochs=2, backend="torch", **opts, **fixed, **extra)
    V = len(corpus.vocab)
    if model == "fasttext":
        bag_ptr, bag_ids = subword_bags(list(corpus.vocab.words), cfg.minn, cfg.maxn, cfg.bucket)
        n_in = V + cfg.bucket
    else:
        (bag_ptr, bag_ids), n_in = plain_bags(V), V
    return TorchWord2Vec(w2v.make_task(corpus, cfg, bag_ptr, bag_ids, n_in), chunk_words=chunk_words)


@pytest.mark.parametrize("model,extra", [("skipgram", {}), ("cbow", {"objective": "hs"}),
                                         ("fasttext", {"bucket": 500, "arch": "cbow"}),
                                         ("fasttext", {"bucket": 500, "arch": "skipgram"})])
def test_no_device_reads_per_batch(model, extra):
    """Two epochs of 3 chunks of many batches: the reads are a fixed few per chunk and per epoch."""
    backend = torch_word2vec(model, extra, batch_size=16, sample=0)
    n_chunks = len(backend.chunks)
    assert n_chunks == 3
    with CountDeviceReads() as reads:
        for epoch in range(2):
            list(backend.run_epoch(epoch, lambda: None))
    batches = 2 * 9000 // 16
    per_chunk = 3 if model == "fasttext" else 2          # nonzero, the running loss (+ the bag sizes)
    assert len(reads.reads) <= 2 * (n_chunks * per_chunk + 1), reads.reads   # + the epoch's finiteness check
    assert len(reads.reads) < batches / 20


# ---- training end to end ----

from test_word2vec_train import small_text8, spearman  # noqa: E402,F401  (the module-scoped corpus fixture)

# The numba smoke test's slice, settings and bars (dim 32, 3 epochs, 2 workers, seed 3; random
# vectors 0.007, sd 0.027). Measured with the torch backend at its default batch (1024), hot rows'
# summed steps capped by their curvature: skip-gram ns 0.118, cbow ns 0.152, skip-gram hs 0.327,
# cbow hs 0.260, fasttext 0.132 (with plain sums and HS inner nodes / sqrt(uses): 0.089, 0.146,
# 0.221 below its bar, 0.250, 0.089).
SMOKE = [("skipgram", "ns", 0.07), ("cbow", "ns", 0.07), ("skipgram", "hs", 0.25), ("cbow", "hs", 0.22),
         ("fasttext", "ns", 0.07)]


@pytest.mark.slow
@pytest.mark.parametrize("model,objective,bar", SMOKE)
def test_semantic_smoke(small_text8, model, objective, bar):
    opts = {"bucket": 50_000} if model == "fasttext" else {}
    emb = embedkit.train(model, small_text8, objective=objective, dim=32, epochs=3, workers=2, seed=3,
                         backend="torch", **opts)
    rho, n = spearman(emb)
    losses = [e["loss"] for e in emb.training_log["epochs"]]
    print(f"SMOKE {model}/{objective}: MEN Spearman {rho:.3f}, losses {losses}")
    assert n > 1300
    assert rho > bar, f"{model}/{objective}: MEN Spearman {rho:.3f} <= {bar}"
    assert losses[-1] < losses[0]
    assert emb.training_log["backend"] == "torch"


def test_api_output_folder_and_log_as_numba(tmp_path):
    corpus = small_corpus()
    outs = {}
    for backend in ("numba", "torch"):
        out = tmp_path / backend
        embedkit.train("cbow", corpus, output=out, dim=8, epochs=2, backend=backend)
        outs[backend] = out
    assert sorted(p.name for p in outs["torch"].iterdir()) == sorted(p.name for p in outs["numba"].iterdir())
    import json
    logs = {b: json.loads((o / "training_log.json").read_text()) for b, o in outs.items()}
    assert logs["torch"]["backend"] == "torch" and logs["torch"]["config"]["batch_size"] == 128   # CBOW's default
    assert [sorted(e) for e in logs["torch"]["epochs"]] == [sorted(e) for e in logs["numba"]["epochs"]]
    back = embedkit.load(outs["torch"])
    assert back.vectors.shape == (len(corpus.vocab), 8)


def test_one_run_is_reproducible_on_cpu():
    corpus = small_corpus()
    a = embedkit.train("skipgram", corpus, dim=8, epochs=1, backend="torch", batch_size=64, workers=1, seed=4)
    b = embedkit.train("skipgram", corpus, dim=8, epochs=1, backend="torch", batch_size=64, workers=1, seed=4)
    np.testing.assert_array_equal(a.vectors, b.vectors)


@pytest.mark.parametrize("model, opts, batch", [("skipgram", {}, 1024), ("cbow", {}, 128),
                                                ("fasttext", {"arch": "cbow", "bucket": 1000}, 128),
                                                ("cbow", {"batch_size": 64}, 64)])
def test_the_default_batch_is_the_architectures(model, opts, batch):
    """CBOW's default batch is 128 centre words, skip-gram's 1024 (config.BATCH_SIZES); the training
    log records the batch the run took."""
    emb = embedkit.train(model, small_corpus(n_sent=20), dim=8, epochs=1, backend="torch", **opts)
    assert emb.training_log["config"]["batch_size"] == batch


def run_cli(*args, env_extra=None):
    return subprocess.run([sys.executable, "-m", "embedkit", "train", *args], capture_output=True, text=True,
                          env={**os.environ, **(env_extra or {})})


@pytest.mark.parametrize("model", ["skipgram", pytest.param("cbow", marks=pytest.mark.slow),
                                   pytest.param("fasttext", marks=pytest.mark.slow)])
def test_cli_train_on_torch(tmp_path, model):
    corpus = tmp_path / "c.txt"
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(50)]
    corpus.write_text("\n".join(" ".join(rng.choice(words, 20)) for _ in range(300)) + "\n")
    out = tmp_path / "out"
    extra = ["--bucket", "1000"] if model == "fasttext" else []
    r = run_cli("--model", model, "--backend", "torch", "--device", "cpu", "--batch-size", "256", "--corpus",
                str(corpus), "--output", str(out), "--dim", "8", "--epochs", "1", "--min-count", "1", "--quiet",
                *extra, env_extra={"EMBEDKIT_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 0, r.stderr
    assert (out / "vectors.txt").read_text().splitlines()[0] == "50 8"


def test_a_batch_too_large_for_memory_is_a_one_line_error(tmp_path):
    """torch's allocator raised a RuntimeError from deep inside (a 9.6 TB batch at dim 10)."""
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b c\n" * 20)
    r = run_cli("--model", "skipgram", "--backend", "torch", "--batch-size", str(10 ** 10), "--dim", "10",
                "--corpus", str(corpus), "--output", str(tmp_path / "out"), "--min-count", "1", "--quiet",
                env_extra={"EMBEDKIT_CACHE_DIR": str(tmp_path / "cache")})
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert "embedkit train: error: out of memory allocating the arrays for --batch-size 10,000,000,000" in r.stderr
    assert "lower --batch-size" in r.stderr and not (tmp_path / "out").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_a_gpu_is_a_one_line_error(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c a b c\n" * 20)
    r = run_cli("--model", "skipgram", "--backend", "torch", "--device", "cuda", "--corpus", str(corpus),
                "--output", str(tmp_path / "out"), "--min-count", "1")
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--device cuda" in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
    with pytest.raises(embedkit.EmbedkitError, match="--device cuda"):
        embedkit.train("cbow", small_corpus(), backend="torch", device="cuda")


def test_device_needs_the_torch_backend():
    with pytest.raises(embedkit.EmbedkitError, match="device does not apply"):
        embedkit.train("skipgram", small_corpus(), device="cuda")


def test_torch_is_imported_only_on_the_torch_path():
    code = ("import sys, embedkit, embedkit.torch, embedkit.trainers.word2vec, embedkit.trainers.subword; "
            "from embedkit.trainers.backends import backend_class; backend_class('word2vec', 'numba'); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


@cuda
@pytest.mark.parametrize("step", ["skipgram-window", "skipgram-pair", "cbow"])
@pytest.mark.parametrize("objective", ["ns", "hs"])
def test_cuda_step_equals_cpu_step(step, objective):
    """The same batch on the GPU and on the CPU gives the same update (float32 rounding apart)."""
    tables, _ = objective_tables(COUNTS, Word2VecConfig(objective=objective, negative=4))
    results = []
    for device in ("cpu", "cuda"):
        wts = weights(True)
        w_in, w_out = torch.from_numpy(wts.w_in).to(device), torch.from_numpy(wts.w_out).to(device)
        inputs = input_side(w_in, wts.bag_ptr, wts.bag_ids)
        obj = OBJECTIVES[type(tables)](tables, device)
        g = torch.Generator().manual_seed(0)
        words = torch.randint(0, V, (32,), generator=g).to(device)
        context = torch.randint(0, V, (32, 4), generator=g).to(device)
        valid = (torch.rand(32, 4, generator=g) > 0.3).to(device)
        noise = torch.randint(0, V, (32 * (4 if step == "skipgram-pair" else 1), 4), generator=g).to(device)
        loss, n = wb.STEPS[step](inputs, w_out, obj, words, context, valid, 0.05, None, noise=noise)
        results.append((float(loss), int(n), w_in.cpu(), w_out.cpu()))
    (l0, n0, i0, o0), (l1, n1, i1, o1) = results
    assert n0 == n1 and abs(l0 - l1) < 1e-4 * abs(l0)
    assert torch.allclose(i0, i1, atol=1e-5) and torch.allclose(o0, o1, atol=1e-5)


@cuda
@pytest.mark.parametrize("model", ["skipgram", "cbow", "fasttext"])
def test_cuda_training_runs(model):
    emb = embedkit.train(model, small_corpus(), dim=8, epochs=2, backend="torch", device="cuda",
                         **({"bucket": 500} if model == "fasttext" else {}))
    assert np.isfinite(emb.vectors).all()
    assert emb.training_log["epochs"][-1]["loss"] < emb.training_log["epochs"][0]["loss"] * 1.05


@pytest.mark.parametrize("subword", [False, True])
def test_a_cbow_bag_rows_k_is_its_words_share_of_the_mean(subword, monkeypatch):
    """In a CBOW mean over every row of every context word, one bag row moves h by 1/rows(h) of its
    step and its word's rows move together: the k its cap sums is the example's k (lr sum_o s'(S)
    |O_o|^2, computed here from the weights) times rows(word) / rows(h). Plain rows keep the full k."""
    sent, lr, noise = [3, 7, 1, 9, 0], 0.05, [5, 6, 8, 10]
    wts = weights(subword)
    tables, _ = objective_tables(COUNTS, Word2VecConfig(negative=4))
    context = np.array([3, 7, 9, 0])
    bags = [wts.bag_ids[wts.bag_ptr[w]:wts.bag_ptr[w + 1]] for w in context]
    h = np.concatenate([wts.w_in[b] for b in bags]).mean(0)
    outs = [1] + noise
    s = 1.0 / (1.0 + np.exp(-(wts.w_out[outs] @ h)))
    k_example = lr * float(np.sum(s * (1 - s) * np.square(wts.w_out[outs]).sum(1)))
    n_rows = sum(len(b) for b in bags)
    want = np.concatenate([np.full(len(b), k_example * (len(b) / n_rows if subword else 1.0)) for b in bags])
    calls, real = [], wb.add_rows_capped

    def spy(w, rows, steps, k):                  # the output rows' call, then the input rows'
        calls.append(k.reshape(-1).clone())
        return real(w, rows, steps, k)

    monkeypatch.setattr(wb, "add_rows_capped", spy)
    w_in, w_out = torch.from_numpy(wts.w_in), torch.from_numpy(wts.w_out)
    obj = OBJECTIVES[type(tables)](tables, "cpu")
    wb.cbow(input_side(w_in, wts.bag_ptr, wts.bag_ids), w_out, obj, torch.tensor([1]),
            torch.from_numpy(context[None]), torch.ones(1, 4, dtype=torch.bool), lr, None,
            noise=torch.tensor([noise]))
    assert len(calls) == 2
    np.testing.assert_allclose(calls[1].numpy(), want, rtol=1e-5)


def test_a_cached_corpus_trains_without_torchs_read_only_warning(tmp_path):
    """The cached corpus is a read-only memory map; torch warned on every run that writing to it
    would be undefined (it never is written). In a fresh process: torch warns once per process."""
    text = tmp_path / "c.txt"
    text.write_text("the cat sat on the mat and the dog sat on the log\n" * 200)
    code = ("import embedkit\n"
            "for _ in range(2):\n"       # the second reads the memory-mapped cache
            f"    embedkit.train('skipgram', {str(text)!r}, min_count=1, dim=4, epochs=1, backend='torch')\n")
    env = {**os.environ, "EMBEDKIT_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-W", "error:The given NumPy array is not writable", "-c", code],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
