"""The chunk program (embedkit/torch/chunk_program.py): a graph replay's batch accounting gives the
eager run's weights exactly (batches past a chunk's end and subword rows past a batch's own change
nothing), the lr line is the schedule's, and on a GPU the captured graph trains as the eager
launches do."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from embedkit.torch import chunk_program as cp  # noqa: E402
from test_torch_word2vec import torch_word2vec  # noqa: E402


def backend(model, extra, device="cpu", batch_size=16, chunk_words=3000):
    """Three chunks of about 3000 words, many batches each."""
    return torch_word2vec(model, extra, chunk_words, batch_size=batch_size, device=device, seed=5, workers=1)


def train(b, epochs=2):
    losses = []
    for epoch in range(epochs):
        list(b.run_epoch(epoch, lambda: None))
        losses.append(b.running())
    return losses, b.w_in.cpu().clone(), b.w_out.cpu().clone()


class EagerGraphReplay(cp.GraphReplay):
    """GraphReplay's accounting (warm-up batches, then GRAPH_BATCHES a replay) with the capture
    replaced by eager batches: the CPU has no CUDA graphs."""

    def __init__(self):
        super().__init__()
        self.budgets = []            # the budget of each capture

    def warm_up(self, program, batches):
        done = 0
        while done < batches and self.warm < cp.WARMUP_BATCHES:
            program(self.budget)
            done += 1
            self.warm += 1
        if self.warm == cp.WARMUP_BATCHES:
            self.replay = lambda: [program(self.budget) for _ in range(cp.GRAPH_BATCHES)]
            self.budgets.append(self.budget)
        return done


SUBWORD = {"bucket": 500}


@pytest.mark.parametrize("model,extra", [("skipgram", {}), ("skipgram", {"sg_update": "pair"}),
                                         ("cbow", {}), ("cbow", {"objective": "hs"}),
                                         ("fasttext", {**SUBWORD, "arch": "cbow"}),
                                         ("fasttext", {**SUBWORD, "arch": "skipgram", "objective": "hs"})])
def test_graph_accounting_equals_the_eager_run(model, extra):
    """Replays of GRAPH_BATCHES batches run past each chunk's end; those batches are all padding,
    and so are a subword batch's rows past its own, up to the graph's row budget: the weights and
    losses are the eager run's, bit for bit."""
    eager = backend(model, extra)
    assert isinstance(eager.replay, cp.EagerReplay) and len(eager.chunks) == 3
    eager.program = Counting(eager.program)
    replayed = backend(model, extra)
    replayed.replay = EagerGraphReplay()
    replayed.program = Counting(replayed.program)
    (l0, i0, o0), (l1, i1, o1) = train(eager), train(replayed)
    assert l0 == l1
    np.testing.assert_array_equal(i0.numpy(), i1.numpy())
    np.testing.assert_array_equal(o0.numpy(), o1.numpy())
    assert replayed.program.calls > eager.program.calls                # replays ran past the chunks' ends
    assert not np.array_equal(i0.numpy(), backend(model, extra).w_in.cpu().numpy())   # and it trained
    budgets = replayed.replay.budgets
    if model == "fasttext":          # padded batches; the budget grew at most a few times, never shrank
        assert budgets and 1 <= len(budgets) <= 3 and budgets == sorted(budgets)
        assert max(eager.program.totals) < budgets[-1]          # each batch padded past its own rows
    else:
        assert budgets == [None]


def test_the_row_budget_is_at_most_an_eighth_of_an_octave_above_its_room():
    for rows in [1, 2, 15, 16, 17, 100, 1000, 7680, 9001, 123456, 10**7]:
        need = rows + rows // 8
        b = cp.row_budget(rows)
        assert need <= b <= need * 1.125 + 1
        m = b >> max(b.bit_length() - 4, 0)             # b = m 2^e, m a 4-bit mantissa
        assert b == m << max(b.bit_length() - 4, 0)
    assert len({cp.row_budget(r) for r in range(9000, 10000)}) <= 3        # few budgets: few captures


class Counting:
    """A ChunkProgram that counts its batches."""

    def __init__(self, program):
        self.program, self.calls, self.totals = program, 0, []

    def __getattr__(self, name):
        return getattr(self.program, name)

    def __call__(self, total=None):
        self.calls += 1
        self.totals.append(total)
        self.program(total)


def test_past_the_end_batches_change_nothing():
    b = backend("cbow", {})
    from embedkit.torch.windows import chunk_windows
    s0, s1 = b.chunks[0]
    cw = chunk_windows(b.tokens, b.offsets, b.host_offsets, b.keep_prob, s0, s1, 3, b.gen)
    batches = b.program.load(cw, b.gen, 0.05, 0.0, 0.0, 1.0)
    for _ in range(batches):
        b.program()
    before = b.w_in.clone(), b.w_out.clone(), b.program.acc.clone()
    for _ in range(cp.GRAPH_BATCHES):
        b.program()
    for x, y in zip(before, (b.w_in, b.w_out, b.program.acc)):
        assert torch.equal(x, y)


def test_the_lr_line_is_the_schedule_at_each_batchs_middle():
    b = backend("skipgram", {}, batch_size=10)
    a, slope, lo, hi = b.lr_line(words_before=1234, chunk_words=3000, n=2000)
    for p in (0, 10, 1990):
        mid = 1234 + 3000 * (p + 5) / 2000
        assert a + slope * p == pytest.approx(b.lr_at(mid), rel=1e-9)
    assert (lo, hi) == (b.task.lr_end, b.task.lr_start)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")


@cuda
@pytest.mark.parametrize("model,extra", [("skipgram", {}), ("cbow", {}), ("cbow", {"objective": "hs"}),
                                         ("fasttext", {**SUBWORD, "arch": "cbow"})])
def test_cuda_graph_trains_as_the_eager_launches(model, extra):
    """The same run with the captured graph and with eager launches on the GPU: the same losses and
    weights but for the order of float atomics (index_add_ on CUDA)."""
    graphed = backend(model, extra, device="cuda")
    assert isinstance(graphed.replay, cp.GraphReplay)
    eager = backend(model, extra, device="cuda")
    eager.replay = cp.EagerReplay()
    (l0, i0, o0), (l1, i1, o1) = train(eager), train(graphed)
    assert graphed.replay.replay is not None                            # it was captured and replayed
    for (a, n), (b, m) in zip(l0, l1):
        assert n == m and a == pytest.approx(b, rel=1e-3)
    assert torch.allclose(i0, i1, atol=1e-3) and torch.allclose(o0, o1, atol=1e-3)


@cuda
def test_a_failed_capture_says_so_and_launches_eagerly(monkeypatch, capsys):
    """A capture that raises (an op that reads the device, say): one line on stderr, and the run
    trains as the eager launches do."""
    class Broken:
        def __init__(self, graph, **kw):
            pass

        def __enter__(self):
            raise RuntimeError("operation not permitted when stream is capturing")

        def __exit__(self, *exc):
            return False
    monkeypatch.setattr(torch.cuda, "graph", Broken)
    b = backend("cbow", {}, device="cuda")
    eager = backend("cbow", {}, device="cuda")
    eager.replay = cp.EagerReplay()
    (l0, i0, o0), (l1, i1, o1) = train(eager), train(b)
    assert [n for _, n in l0] == [n for _, n in l1]
    assert torch.allclose(i0, i1, atol=1e-3) and torch.allclose(o0, o1, atol=1e-3)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "capturing the CUDA graph failed (RuntimeError)" in err[0]


def test_a_failed_compile_says_so_and_runs_the_plain_batch(monkeypatch, capsys):
    """No Triton (say): one line on stderr, the batch still runs once, and the graph captures the
    plain launches."""
    def broken(fn, **kw):
        def call(*a):
            raise RuntimeError("no triton")
        return call
    monkeypatch.setattr(torch, "compile", broken)
    b = backend("skipgram", {})
    s0, s1 = b.chunks[0]
    from embedkit.torch.windows import chunk_windows
    b.program.load(chunk_windows(b.tokens, b.offsets, b.host_offsets, b.keep_prob, s0, s1, 3, b.gen), b.gen,
                   0.05, 0.0, 0.0, 1.0)
    replay = cp.GraphReplay(compiled=True)
    replay.first_batch(b.program)
    assert int(b.program.ptr) == b.program.B and replay.batch is b.program
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "torch.compile failed (RuntimeError)" in err[0]


@pytest.mark.slow
@pytest.mark.parametrize("model,extra", [("skipgram", {}), ("cbow", {"objective": "hs"}),
                                         ("fasttext", {**SUBWORD, "arch": "cbow"})])
def test_the_compiled_batch_is_the_plain_batch(model, extra):
    """torch.compile's fused batch (what the CUDA graph captures) on the CPU: the same weights and
    loss as the plain launches over a chunk's batches, subword batches padded to the graph's row
    budget (about 30 s of compiling each on 2 cores)."""
    from embedkit.torch.windows import chunk_windows
    runs = []
    for compiled in (False, True):
        b = backend(model, extra)
        s0, s1 = b.chunks[0]
        cw = chunk_windows(b.tokens, b.offsets, b.host_offsets, b.keep_prob, s0, s1, 3, b.gen)
        batches = b.program.load(cw, b.gen, 0.05, -1e-5, 0.01, 0.05)
        totals = b._batch_totals(cw, b.program.B)
        budget = None if totals is None else cp.row_budget(max(totals))
        replay = cp.GraphReplay(compiled=compiled)
        replay.first_batch(b.program, budget)
        assert (replay.batch is not b.program) == compiled
        for _ in range(batches - 1):
            replay.batch(budget)
        runs.append((b.w_in.clone(), b.w_out.clone(), b.program.acc.clone()))
    for x, y in zip(*runs):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)
