"""DeltaSync's speeds (embedkit/distributed/sync.py) on two real gloo ranks against a numpy oracle:
the hot rows (the H rows whose summed delta was largest at the last full sync) are synced at every
chunk end by block momentum, every row at every full_every-th sync by the sync rule (the sum); with
warm rows, those syncs but every all_every-th take only the hot rows and the W rows that moved
most after them. The ranks run different numbers of chunks (shards end at different chunks), so
one rank is already in its final syncs while the other still trains: both must still make the
same syncs."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.multiprocessing as mp  # noqa: E402

RANKS, ROWS, DIM, HOT, FULL_EVERY = 2, 12, 3, 4, 3
TIERS = [(0, 1), (3, 2)]  # (warm rows, all rows at every n-th full sync)
CHUNKS = (8, 10)          # chunk ends of rank 0 and rank 1


def deltas_of(rank: int, chunk: int) -> dict:
    """What rank's training adds to each array before chunk end `chunk` (rows of distinct scales,
    so the hot set has no near-ties)."""
    rng = np.random.default_rng(100 * rank + chunk)
    scale = np.linspace(0.1, 2.0, ROWS)[rng.permutation(ROWS)][:, None]
    return {"w_in": (rng.normal(size=(ROWS, DIM)) * scale).astype(np.float32),
            "w_out": (rng.normal(size=(ROWS, DIM)) * scale).astype(np.float32)}


class FakeGroup:
    world = RANKS

    @staticmethod
    def collective(fn):
        return fn()


class FakeBackend:
    def __init__(self, arrays):
        self._arrays = arrays

    def arrays(self):
        return self._arrays


class FakeRun:
    def __init__(self, backend):
        self.backend, self.stop, self.done = backend, False, 0


def rank_main(rank: int, store_path: str, out: str, warm: int, all_every: int) -> None:
    import torch.distributed as dist
    from embedkit.distributed.sync import DeltaSync
    dist.init_process_group("gloo", store=dist.FileStore(store_path, RANKS), rank=rank, world_size=RANKS)
    start = np.random.default_rng(7)
    arrays = {k: start.normal(size=(ROWS, DIM)).astype(np.float32) for k in ("w_in", "w_out")}
    if rank:
        arrays = {k: np.zeros_like(a) for k, a in arrays.items()}      # rank 0's start is broadcast
    hook = DeltaSync(FakeGroup(), "sum", hot_rows=HOT, full_every=FULL_EVERY, warm_rows=warm, all_every=all_every)
    run = FakeRun(FakeBackend(arrays))
    hook.on_train_begin(run)
    after = []
    for chunk in range(CHUNKS[rank]):
        for k, d in deltas_of(rank, chunk).items():
            arrays[k] += d
        hook.on_chunk_end(run)
        after.append({k: a.copy() for k, a in arrays.items()})
    hook.on_train_end(run)
    np.savez(out, final_in=arrays["w_in"], final_out=arrays["w_out"],
             **{f"{k}_{i}": a[k] for i, a in enumerate(after) for k in a}, syncs=hook.syncs, hot_syncs=hook.hot_syncs,
             warm_syncs=hook.warm_syncs)
    dist.destroy_process_group()


def oracle(warm_rows: int, all_every: int):
    """The weights each rank holds after each chunk end, and the final ones, from sync.py's words."""
    start = np.random.default_rng(7)
    w0 = {k: start.normal(size=(ROWS, DIM)).astype(np.float64) for k in ("w_in", "w_out")}
    eta = 1 - 1 / RANKS
    state = {}
    for k in w0:
        state[k] = {"last": w0[k].copy(), "local": [w0[k].copy() for _ in range(RANKS)],
                    "Delta": np.zeros((ROWS, DIM)), "hot": None, "warm": None}

    def bmuf(s, rows, D):
        Delta_prev = s["Delta"][rows]
        Delta = eta * Delta_prev + D / RANKS
        s["Delta"][rows] = Delta
        return (1 + eta) * Delta - eta * Delta_prev

    def sync(full: bool, warm: bool):
        for s in state.values():
            if warm:
                rows = s["warm"]
                s["last"][rows] += sum(w[rows] - s["last"][rows] for w in s["local"])
                for w in s["local"]:
                    w[rows] = s["last"][rows]
            if full:
                D = sum(w - s["last"] for w in s["local"])
                hot = np.arange(ROWS) if s["hot"] is None else s["hot"]
                order = np.argsort(-(D ** 2).sum(1))
                s["hot"], s["warm"] = np.sort(order[:HOT]), np.sort(order[HOT:HOT + warm_rows])
                applied = D.copy()                                   # the cold rows: the sum
                applied[hot] = bmuf(s, hot, D[hot])
                s["last"] = s["last"] + applied
                s["local"] = [s["last"].copy() for _ in range(RANKS)]
            else:
                hot = s["hot"]
                D = sum(w[hot] - s["last"][hot] for w in s["local"])
                s["last"][hot] += bmuf(s, hot, D)
                for w in s["local"]:
                    w[hot] = s["last"][hot]

    seen, since_full, fulls, counts = [], 0, 0, {"all": 0, "warm": 0, "hot": 0}
    for t in range(max(CHUNKS) + 1):                  # the last sync: every rank has finished
        for r in range(RANKS):
            if t < CHUNKS[r]:
                for k, d in deltas_of(r, t).items():
                    state[k]["local"][r] += d
        full = t == 0 or since_full + 1 >= FULL_EVERY or t == max(CHUNKS)
        fulls += full
        warm = full and warm_rows > 0 and t not in (0, max(CHUNKS)) and (fulls - 1) % all_every != 0
        sync(full and not warm, warm)
        since_full = 0 if full else since_full + 1
        counts["warm" if warm else "all" if full else "hot"] += 1
        seen.append({k: [w.copy() for w in s["local"]] for k, s in state.items()})
    final = {k: s["last"] - eta * s["Delta"] for k, s in state.items()}
    return seen, final, counts


@pytest.mark.parametrize("warm,all_every", TIERS)
def test_hot_rows_sync_every_chunk_and_all_rows_at_full_syncs(tmp_path, warm, all_every):
    outs = [str(tmp_path / f"rank{r}.npz") for r in range(RANKS)]
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=rank_main, args=(r, str(tmp_path / "store"), outs[r], warm, all_every))
             for r in range(RANKS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        if p.is_alive():
            p.kill()
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    got = [np.load(o) for o in outs]
    seen, final, counts = oracle(warm, all_every)
    assert counts["warm"] == (2 if warm else 0)
    for r in range(RANKS):     # every rank counts every sync, its own chunk ends and its final ones alike
        assert [int(got[r][k]) for k in ("syncs", "warm_syncs", "hot_syncs")] == list(counts.values())
    for r in range(RANKS):
        for chunk in range(CHUNKS[r]):
            for k in ("w_in", "w_out"):
                np.testing.assert_allclose(got[r][f"{k}_{chunk}"], seen[chunk][k][r], rtol=1e-4, atol=1e-4,
                                           err_msg=f"{k} of rank {r} after chunk {chunk}")
    # between full syncs the cold rows stay each rank's own: the hot syncs did not touch them
    assert not np.allclose(got[0]["w_in_1"], got[1]["w_in_1"])
    for r in range(RANKS):
        np.testing.assert_allclose(got[r]["final_in"], final["w_in"], rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(got[r]["final_out"], final["w_out"], rtol=1e-4, atol=1e-4)


def test_a_full_sync_replaces_every_nth_hot_sync_to_the_nearest_multiple():
    """The full syncs' interval is the multiple of --hot-sync-every nearest --sync-every (README)."""
    from embedkit.distributed.run import syncs_per_full
    assert syncs_per_full(524288, 131072) == 4
    assert syncs_per_full(524288, 200000) == 3          # all rows every 600,000 units
    assert syncs_per_full(524288, 300000) == 2
    assert syncs_per_full(1000, 1000) == 1 and syncs_per_full(1000, 999) == 1 and syncs_per_full(1000, 700) == 1


@pytest.mark.parametrize("options,message", [
    ({"hot_rows": -1}, "--hot-rows must be 0"),
    ({"hot_sync_every": 0}, "--hot-sync-every must be at least 1"),
    ({"sync_every": 1000, "hot_sync_every": 2000}, "at most --sync-every (1000), got 2000"),
    ({"warm_rows": -1}, "--warm-rows must be 0"),
    ({"hot_rows": 0, "warm_rows": 8}, "--warm-rows needs hot syncs"),
    ({"hot_rows": 0, "hot_sync_every": 1000}, "--hot-sync-every needs hot syncs"),      # it was ignored
    # these reached torch's store and read 'could not join the distributed run at ...: cannot
    # convert float NaN to integer' or '... timed out after -1000ms'
    ({"timeout": 0}, "--sync-timeout must be a number of seconds above 0, got 0"),
    ({"timeout": -1.0}, "--sync-timeout must be .* got -1.0"),
    ({"timeout": float("nan")}, "--sync-timeout must be .* got nan"),
    ({"timeout": float("inf")}, "--sync-timeout must be .* got inf"),
])
def test_bad_hot_options_are_refused_before_joining(options, message):
    from embedkit.distributed.run import DistributedRun
    from embedkit.errors import EmbedkitError
    with pytest.raises(EmbedkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        DistributedRun.start("word2vec", **options)       # no launcher here: join() would fail otherwise


def test_hot_options_need_distributed(tmp_path):
    import subprocess
    import sys
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c d e f\n" * 50)
    r = subprocess.run([sys.executable, "-m", "embedkit", "train", "--model", "cbow", "--corpus", str(corpus),
                        "-o", str(tmp_path / "out"), "--hot-rows", "8", "--min-count", "1", "--quiet"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "apply only to distributed runs" in r.stderr and "Traceback" not in r.stderr


def test_no_checkpoint_once_a_rank_has_finished():
    """A rank that has finished syncs from on_train_end: a checkpoint then would hold a finished
    run's state, and resumed, that rank trained its last epoch again."""
    from types import SimpleNamespace
    from embedkit.distributed.sync import checkpoint_now
    due = SimpleNamespace(agreed=lambda votes, units: True)
    # control: (stop, finished ranks, all ranks' units, checkpoint votes, Ctrl-C votes)
    assert checkpoint_now(due, np.array([0.0, 0.0, 100.0, 1.0, 0.0]))
    assert not checkpoint_now(due, np.array([0.0, 1.0, 100.0, 1.0, 0.0]))
    assert not checkpoint_now(due, np.array([0.0, 2.0, 100.0, 1.0, 1.0]))
    assert not checkpoint_now(None, np.array([0.0, 0.0, 100.0, 1.0, 0.0]))
