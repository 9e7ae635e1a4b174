"""Distributed training (embedkit/distributed/): ranks started as a user starts them (torchrun's module,
python -m torch.distributed.run), gloo on loopback; quality against the single process; a killed rank.

Every launch runs in its own session with a time limit, and whatever is left of it is killed."""
import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

import embedkit

pytest.importorskip("torch")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TEXT8 = DATA / "corpora" / "enwiki2015-text8.txt.gz"
LIMIT_S = 600          # any launch that takes longer has hung (generous: CI machines may be busy)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    """The first ~850k tokens of the shared text8-style corpus, as 1,000-token lines."""
    with gzip.open(TEXT8, "rt") as f:
        words = f.read(5_000_000).split()[:-1]
    path = tmp_path_factory.mktemp("corpus") / "small.txt"
    path.write_text("\n".join(" ".join(words[i:i + 1000]) for i in range(0, len(words), 1000)) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(launcher_args, train_args, stderr=subprocess.PIPE):
    cmd = [sys.executable, "-m", "torch.distributed.run", *launcher_args, "-m", "embedkit", "train", *train_args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LOGLEVEL": "ERROR"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env, start_new_session=True)


def finish(proc, limit=LIMIT_S):
    """(returncode, stdout, stderr) of a launch; one that outlives `limit` is killed, whole session."""
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        kill_session(proc)
        out, err = proc.communicate()
        pytest.fail(f"launch hung for {limit} s: {err[-2000:]}")
    kill_session(proc)
    return proc.returncode, out, err


def kill_session(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def men(emb):
    gold, pred = [], []
    for line in (DATA / "eval" / "EN-MEN-TR-3k.txt").read_text().splitlines():
        a, b, score = line.split()
        if a in emb.index and b in emb.index:
            va, vb = emb.vectors[emb.index[a]], emb.vectors[emb.index[b]]
            pred.append(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))
            gold.append(float(score))
    return spearmanr(gold, pred).correlation


COMMON = ["--tokenizer", "whitespace", "--min-count", "5", "--quiet"]


def test_two_ranks_match_one_process(corpus_file, tmp_path):
    """torchrun --nproc-per-node 2 ... --distributed, 1 worker each, against 1 process x 2 workers
    (calibration as test_word2vec_train's smoke test: MEN 0.11-0.17 for both on this slice, random 0.007)."""
    opts = ["--dim", "32", "--epochs", "3", "--seed", "3"]
    proc = launch(["--standalone", "--nproc-per-node", "2"],
                  ["--model", "skipgram", "--corpus", str(corpus_file), "-o", str(tmp_path / "dist"),
                   "--distributed", "--workers", "1", "--sync-every", "100000", *opts, *COMMON])
    rc, out, err = finish(proc)
    assert rc == 0, err[-3000:]
    assert out.count("trained skipgram") == 1 and "distributed: 2 ranks" in out     # rank 0 reports, alone
    log = json.loads((tmp_path / "dist" / "training_log.json").read_text())
    d = log["distributed"]
    assert d["ranks"] == 2 and d["process_group"] == "gloo"
    assert d["syncs"] + d["warm_syncs"] >= 3 * 4 and d["warm_syncs"] > d["syncs"] > 1
    single = embedkit.train("skipgram", str(corpus_file), tokenizer="whitespace", min_count=5, dim=32, epochs=3,
                            seed=3, workers=2)
    assert d["units_all_ranks"] == 3 * single.training_log["corpus_tokens"]      # every word of every epoch, once
    dist = embedkit.load(tmp_path / "dist")
    assert dist.words == single.words
    rho_d, rho_s = men(dist), men(single)
    assert rho_d > 0.07, f"distributed MEN {rho_d:.3f}"
    assert rho_d > rho_s - 0.05, f"distributed MEN {rho_d:.3f} vs single process {rho_s:.3f}"


@pytest.mark.parametrize("model,extra", [("cbow", ["--hot-rows", "2048", "--hot-sync-every", "50000"]),
                                         ("skipgram", ["--backend", "torch", "--sync-rule", "adaptive",
                                                       "--hot-rows", "1024", "--workers", "2"]),
                                         pytest.param("fasttext", ["--bucket", "20000"], marks=pytest.mark.slow),
                                         pytest.param("glove", ["--window", "5"], marks=pytest.mark.slow)])
def test_every_family_runs_distributed(corpus_file, tmp_path, model, extra):
    """The other families, tiny (one epoch: too short to test quality): the ranks' shards cover the
    corpus or the co-occurrence entries once, rank 0 writes a loadable model."""
    sync = ["--sync-every", "200000"]
    proc = launch(["--standalone", "--nproc-per-node", "2"],
                  ["--model", model, "--corpus", str(corpus_file), "-o", str(tmp_path / "out"), "--distributed",
                   "--workers", "1", "--dim", "16", "--epochs", "1", *sync, *extra, *COMMON])
    rc, out, err = finish(proc)
    assert rc == 0, err[-3000:]
    emb = embedkit.load(tmp_path / "out")
    log = json.loads((tmp_path / "out" / "training_log.json").read_text())
    d = log["distributed"]
    assert np.isfinite(emb.vectors).all() and d["syncs"] >= 2 and len(emb) == 12299
    assert d["sync_rule"] == ("adaptive" if "adaptive" in extra else "sum")      # sum: the default
    # hot syncs: as asked for, or 2 ranks' default of 4096 rows every --sync-every / 4
    hot = int(extra[extra.index("--hot-rows") + 1]) if "--hot-rows" in extra else 4096
    assert d["hot_rows"] == hot and d["hot_syncs"] >= 2 and d["full_every"] == 4       # 200,000 / 50,000
    if model == "glove":     # each rank trained its half of the non-zeros
        assert abs(d["units_all_ranks"] - 2 * log["nonzeros"]) <= 2
    else:                    # the ranks' shards cover the corpus once (788,931 tokens kept)
        assert d["units_all_ranks"] == 788931
    # a sync every 50,000 words per rank, about 8 in a 394,466-word shard (+1 at the end): a torch
    # backend's chunk is the rank's, whatever --workers (at 2 workers it synced twice as often)
    assert d["syncs"] + d["warm_syncs"] + d["hot_syncs"] <= 11, d


def test_a_killed_rank_stops_the_others(corpus_file, tmp_path):
    """Two 'nodes' (one torchrun each, static rendezvous on loopback); rank 1's process is killed
    once training runs: rank 0 stops with one line naming rank 1, well within the sync timeout."""
    port = free_port()
    timeout = 20
    train = ["--model", "skipgram", "--corpus", str(corpus_file), "--distributed", "--workers", "1",
             "--dim", "16", "--epochs", "100", "--sync-every", "20000", "--sync-timeout", str(timeout),
             "--tokenizer", "whitespace", "--min-count", "5"]      # not --quiet: the progress shows training
    nodes = [launch(["--nnodes", "2", "--node-rank", str(r), "--nproc-per-node", "1", "--master-addr", "127.0.0.1",
                     "--master-port", str(port)], [*train, "-o", str(tmp_path / f"out{r}")],
                    stderr=subprocess.PIPE if r == 0 else subprocess.DEVNULL) for r in range(2)]
    seen = []          # rank 0's stderr, read by a thread (the progress bar ends its lines with \r)
    reader = threading.Thread(target=lambda: seen.extend(iter(lambda: nodes[0].stderr.read(1), "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + LIMIT_S
        while not re.search(r"loss=[0-9]", "".join(seen)):      # rank 0 has finished a chunk: training runs
            assert time.monotonic() < deadline and nodes[0].poll() is None, "".join(seen)[-2000:]
            time.sleep(0.2)
        rank0, rank1 = children(nodes[0].pid), children(nodes[1].pid)
        assert len(rank0) == 1 and len(rank1) == 1, "the ranks' processes were not found"
        os.kill(rank1[0], signal.SIGKILL)
        t_kill = time.monotonic()
        while alive(rank0[0]) and time.monotonic() - t_kill < timeout + 30:
            time.sleep(0.1)
        waited = time.monotonic() - t_kill        # until rank 0's process has exited
        rc = nodes[0].wait(timeout=60)            # then its launcher reports and exits (no hang)
        reader.join(10)
    finally:
        for p in nodes:
            kill_session(p)
            p.wait()
    err = "".join(seen)
    lines = [line for line in err.replace("\r", "\n").splitlines() if "embedkit train: error:" in line]
    assert rc != 0
    assert lines and "rank 1 of 2 is gone" in lines[0], err[-3000:]
    assert waited < timeout, f"rank 0 took {waited:.1f} s to stop"
    assert not (tmp_path / "out0").exists()


def test_shards_cover_the_corpus_and_the_entries_once():
    """In one process: the ranks' sentence shards tile the tokens; their entry shards partition X."""
    import scipy.sparse as sp
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.corpus.vocab import Vocab
    from embedkit.distributed.run import corpus_shard, entries_shard
    rng = np.random.default_rng(0)
    sentences = [rng.integers(0, 50, size=rng.integers(1, 30)) for _ in range(200)]
    corpus = EncodedCorpus.from_id_lists(sentences, Vocab([f"w{i}" for i in range(50)], np.full(50, 10)))
    shards = [corpus_shard(corpus, r, 3) for r in range(3)]
    assert np.array_equal(np.concatenate([s.tokens for s in shards]), corpus.tokens)
    assert all(s.vocab is corpus.vocab and s.offsets[0] == 0 and s.offsets[-1] == s.n_tokens for s in shards)
    assert max(s.n_tokens for s in shards) - min(s.n_tokens for s in shards) <= 2 * 30   # a sentence each side
    X = sp.random(50, 50, density=0.3, random_state=1, format="csr") + sp.eye(50)
    parts = [entries_shard(X, r, 3) for r in range(3)]
    assert sum(p.nnz for p in parts) == X.nnz and abs((sum(parts) - X)).max() == 0


@pytest.mark.parametrize("lengths, world", [([6000, 3, 3], 3), ([1, 2500, 1, 1, 999, 3000], 4), ([5] * 7, 7),
                                            ([1000] * 3 + [1], 3), ([12345], 2),
                                            ([2100], 3), ([1, 1, 1], 3), ([999, 1, 2], 3)])
def test_shards_cut_at_pieces_are_the_whole_corpus_cut(lengths, world):
    """The ranks' shards, end to end, are the pieces of the whole corpus cut at 1,000 tokens (the
    same lengths and flags), none empty, each within a piece of an equal share; one 6,000-token
    line and two short ones on 3 ranks left rank 1 nothing when shards ended at sentences."""
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.corpus.vocab import Vocab
    from embedkit.distributed.run import PIECE_TOKENS, corpus_shard
    from embedkit.kernels.pieces import cut_pieces
    rng = np.random.default_rng(1)
    corpus = EncodedCorpus.from_id_lists([rng.integers(0, 9, size=n) for n in lengths],
                                         Vocab([f"w{i}" for i in range(9)], np.full(9, 10)))
    whole, whole_cont = cut_pieces(np.asarray(corpus.offsets, np.int64), np.asarray(corpus.continues), PIECE_TOKENS)
    shards = [corpus_shard(corpus, r, world) for r in range(world)]
    assert np.array_equal(np.concatenate([s.tokens for s in shards]), corpus.tokens)
    assert np.array_equal(np.concatenate([np.diff(s.offsets) for s in shards]), np.diff(whole))
    assert np.array_equal(np.concatenate([s.continues for s in shards]), whole_cont)
    share = corpus.n_tokens / world
    assert all(0 < s.n_tokens and abs(s.n_tokens - share) <= 2 * PIECE_TOKENS for s in shards)


def test_too_few_pieces_for_the_ranks_is_one_line():
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.corpus.vocab import Vocab
    from embedkit.distributed.run import corpus_shard
    corpus = EncodedCorpus.from_id_lists([np.arange(5), np.arange(4)], Vocab([f"w{i}" for i in range(9)],
                                                                            np.full(9, 10)))
    with pytest.raises(embedkit.EmbedkitError, match=r"9 tokens in 2 pieces \(sentences cut at 1,000 tokens\): "
                                                     r"too few for 3 ranks, each of which needs one; start fewer"):
        corpus_shard(corpus, 0, 3)


def test_cut_pieces_against_a_loop():
    """Every piece longer than `longest` is cut into pieces of `longest` tokens and a shorter last
    one; the new pieces continue their line, the first keeps its flag; short pieces are untouched."""
    from embedkit.kernels.pieces import cut_pieces
    rng = np.random.default_rng(0)
    for _ in range(100):
        lengths = rng.integers(0, 30, size=rng.integers(1, 20))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        continues = rng.random(len(lengths)) < 0.3
        longest = int(rng.integers(1, 8))
        want_offsets, want_continues = [0], []
        for s, (a, b) in enumerate(zip(offsets[:-1], offsets[1:])):
            ends = list(range(a + longest, b, longest)) + [b]
            want_offsets += ends
            want_continues += [bool(continues[s])] + [True] * (len(ends) - 1)
        got_offsets, got_continues = cut_pieces(offsets, continues, longest)
        assert got_offsets.tolist() == want_offsets and got_continues.tolist() == want_continues


def test_every_rank_gets_the_same_number_of_chunks():
    """Shards of 1,049 and 1,051 tokens with 700 tokens between syncs: the same chunk for both would
    cut 1 and 2 chunks (round(1.499), round(1.501)); rank_chunk's cut the same number."""
    from embedkit.distributed.run import rank_chunk
    from embedkit.trainers.word2vec_numba import chunk_ranges
    for shards, between, workers in (([1049, 1051], 700, 1), ([5000, 5003, 4990], 300, 1), ([8000, 8013], 1000, 2)):
        counts = set()
        for n in shards:
            chunk = rank_chunk(sum(shards), n, len(shards), between, workers)
            offsets = np.arange(0, n // workers + 1, dtype=np.int64)      # one-token sentences: exact cuts
            counts.add(len(chunk_ranges(offsets, 0, len(offsets) - 1, chunk)))
        assert len(counts) == 1, (shards, counts)


def test_every_glove_rank_gets_the_same_number_of_chunks():
    """GloVe's ranks too (numba backend: each worker's slice of the entries in chunks): with other
    workers on one rank, or shards an entry apart, a rank had a chunk more per epoch (10 entries,
    5 a chunk: 2 chunks on a rank of 1 worker, 3 on one of 2 workers at 2 each)."""
    from embedkit.distributed.run import rank_chunk
    from embedkit.trainers.glove_numba import entry_chunks
    for nnz, world, between, workers in ((20, 2, 5, (1, 2)), (8_000_001, 2, 2_097_152, (1, 2)),
                                         (67_108_865, 4, 2_097_152, (2, 1, 3, 1)), (999, 3, 100, (1, 1, 1))):
        counts = set()
        for r, w in enumerate(workers):
            shard = len(range(r, nnz, world))                          # entries_shard: every world-th entry
            chunk = rank_chunk(nnz, shard, world, between, w)
            counts.add(max(len(c) for c in entry_chunks(shard, min(w, shard), chunk)))
        assert len(counts) == 1, (nnz, workers, counts)


@pytest.mark.parametrize("family, ranks, rows, hot_every", [
    ("word2vec", 2, 4096, (1 << 19) // 4), ("glove", 2, 4096, (1 << 23) // 4),
    ("word2vec", 4, 16384, (1 << 19) // 16), ("glove", 4, 16384, (1 << 23) // 32),
    ("glove", 64, 16384, (1 << 23) // 32), ("word2vec", 1, 0, 1 << 19), ("glove", 1, 0, 1 << 23)])
def test_hot_sync_defaults_by_family_and_ranks(family, ranks, rows, hot_every):
    """The hot rows and hot interval a run gets when it names neither (README's defaults table);
    given values win."""
    from types import SimpleNamespace
    from embedkit.distributed.run import DistributedRun
    group = SimpleNamespace(world=ranks)
    run = DistributedRun(group, family, None)
    assert (run.hot_rows, run.hot_sync_every) == (rows, hot_every)
    run = DistributedRun(group, family, 1000, hot_rows=7, hot_sync_every=100)
    assert (run.hot_rows, run.hot_sync_every) == (7, 100)
    if not rows:          # one rank: no hot syncs unless asked for with --hot-rows, not by the options they tune
        for tuned in ({"hot_sync_every": 100}, {"warm_rows": 10}):
            with pytest.raises(embedkit.EmbedkitError, match="need hot syncs, and a run of 1 rank has none by default"):
                DistributedRun(group, family, 1000, **tuned)


def test_one_rank_trains_without_hot_syncs(corpus_file, tmp_path):
    """torchrun --nproc-per-node 1: no one to sync with, so no hot syncs by default (it had 16,384 hot
    rows synced every 32,768 words, the many-ranks default); the shard is the whole corpus."""
    rc, out, err = finish(launch(["--standalone", "--nproc-per-node", "1"],
                                 ["--model", "cbow", "--corpus", str(corpus_file), "-o", str(tmp_path / "out"),
                                  "--distributed", "--workers", "1", "--dim", "16", "--epochs", "1", *COMMON]))
    assert rc == 0, err[-3000:]
    d = json.loads((tmp_path / "out" / "training_log.json").read_text())["distributed"]
    assert (d["ranks"], d["hot_rows"], d["hot_syncs"], d["warm_syncs"]) == (1, 0, 0, 0)
    assert d["syncs"] >= 1 and d["units_all_ranks"] == 788931
    rc, _, err = finish(launch(["--standalone", "--nproc-per-node", "1"],
                               ["--model", "cbow", "--corpus", str(corpus_file), "-o", str(tmp_path / "o2"),
                                "--distributed", "--hot-sync-every", "1000", *COMMON]))
    assert rc != 0 and "train: error: --hot-sync-every and --warm-rows need hot syncs, and a run of 1 rank has " \
                       "none by default: give --hot-rows too" in err     # (torchrun adds its own traceback)


@pytest.mark.parametrize("device, local, backend", [
    ("cpu", 2, "gloo"), ("cuda", 2, "cpu:gloo,cuda:nccl"), ("cuda:0", 1, "cpu:gloo,cuda:nccl"),
    ("cuda:1", 2, "cpu:gloo,cuda:gloo")])
def test_ranks_sharing_a_gpu_sync_through_gloo(device, local, backend):
    """NCCL refuses two ranks on one GPU: "cuda:N" with several ranks on the node syncs through gloo;
    "cuda" (one GPU per local rank) through NCCL."""
    from embedkit.distributed.run import process_group_backend
    assert process_group_backend(device, local) == backend


def test_more_ranks_than_gpus_is_a_one_line_error():
    from embedkit.distributed.run import rank_device
    assert rank_device("cuda", 1, gpus=2) == "cuda:1" and rank_device("cuda:0", 3, gpus=1) == "cuda:0"
    assert rank_device("cpu", 3, gpus=None) == "cpu"
    with pytest.raises(embedkit.EmbedkitError, match="local rank 2 finds only 2 GPU.*--device cuda:0"):
        rank_device("cuda", 2, gpus=2)


def test_stdin_cannot_feed_ranks(corpus_file):
    """Every rank inherits torchrun's stdin and the first to read takes the text; a one-line error
    instead, on every rank, before any of them reads (torchrun may kill the other rank before it
    prints its line: at least one, and every line the same)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "embedkit",
           "train", "--model", "cbow", "--corpus", "-", "-o", "unused", "--distributed", *COMMON]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "LOGLEVEL": "ERROR"}
    done = subprocess.run(cmd, input=corpus_file.read_text()[:200_000], capture_output=True, text=True, env=env,
                          timeout=LIMIT_S, start_new_session=True)
    errors = [line for line in done.stderr.splitlines() if line.startswith("embedkit train: error:")]
    assert done.returncode != 0 and 1 <= len(errors) <= 2, done.stderr[-2000:]
    assert all("--corpus - (standard input) cannot feed a distributed run" in line for line in errors)
    with pytest.raises(embedkit.EmbedkitError, match="standard input"):
        embedkit.train("cbow", ["-"], distributed=True)


def two_nodes(tmp_path, options: list[list[str]], limit=LIMIT_S):
    """Two 'nodes' (one torchrun each, static rendezvous on loopback, one rank each) with their own
    train options; [(returncode, stdout, stderr), ...] and the seconds until both had exited."""
    port, t0 = free_port(), time.monotonic()
    nodes = [launch(["--nnodes", "2", "--node-rank", str(r), "--nproc-per-node", "1", "--master-addr", "127.0.0.1",
                     "--master-port", str(port)], [*opts, "-o", str(tmp_path / f"out{r}"), "--distributed",
                                                   "--quiet"]) for r, opts in enumerate(options)]
    done = [finish(p, limit) for p in nodes]
    return done, time.monotonic() - t0


@pytest.mark.parametrize("node1, named", [
    (["--model", "cbow", "--epochs", "2"], r"\(model: 'skipgram' on rank 0, 'cbow' on rank 1; .*epochs: 1 on rank 0, "
                                           r"2 on rank 1; lr: 0.025 on rank 0, 0.05 on rank 1"),
    (["--dim", "17"], r"\(dim: 16 on rank 0, 17 on rank 1\)"),
    (["--hot-rows", "100"], r"\(hot_rows: 4096 on rank 0, 100 on rank 1\)"),
    (["--split"], "the ranks read different corpora")])
def test_nodes_given_different_options_stop_naming_them(corpus_file, tmp_path, node1, named):
    """Several machines are several torchrun commands. Ranks given different options failed deep in
    gloo (SIGABRT, 'collective mismatch') or, worse, trained on with rc 0 (skip-gram on one node and
    CBOW on the other made one model); a corpus cut into other sentences gave other shards. Now every
    rank stops at once with one line naming what differs."""
    corpus = str(corpus_file)
    if node1 == ["--split"]:         # the same words and counts, one sentence more
        lines = corpus_file.read_text().splitlines()
        words = lines[3].split()
        lines[3:4] = [" ".join(words[:400]), " ".join(words[400:])]
        corpus = tmp_path / "split.txt"
        corpus.write_text("\n".join(lines) + "\n")
        node1 = []
    base = ["--model", "skipgram", "--dim", "16", "--epochs", "1", "--workers", "1", "--sync-timeout", "300",
            *COMMON[:-1]]
    done, seconds = two_nodes(tmp_path, [["--corpus", str(corpus_file), *base],
                                         ["--corpus", str(corpus), *base, *node1]])
    for rc, out, err in done:
        errors = [line for line in err.splitlines() if line.startswith("embedkit train: error:")]
        assert rc != 0 and len(errors) == 1 and re.search(named, errors[0]), err[-3000:]
    assert seconds < 150, f"{seconds:.0f} s: the ranks waited for a timeout (300 s)"
    assert not (tmp_path / "out0").exists()


def test_nodes_given_different_cooccurrence_files_stop_naming_them(corpus_file, tmp_path):
    """The same options, but each node's --cooccur counted with another window: each rank took every
    R-th entry of its own matrix and the run trained on with rc 0."""
    common = ["--corpus", str(corpus_file), "--tokenizer", "whitespace", "--min-count", "5", "--quiet"]
    counts = {"w5": ["--window", "5"], "w2": ["--window", "2"], "none": ["--window", "5", "--weighting", "none"]}
    for name, opts in counts.items():
        made = subprocess.run([sys.executable, "-m", "embedkit", "cooccur", *common, *opts,
                               "-o", str(tmp_path / f"{name}.npz")], capture_output=True, text=True, timeout=LIMIT_S)
        assert made.returncode == 0, made.stderr[-2000:]
    base = ["--model", "glove", "--dim", "8", "--epochs", "1", "--workers", "1", *common[:-1]]
    for other in ("w2", "none"):      # other non-zeros; the same non-zeros with other values
        done, _ = two_nodes(tmp_path, [[*base, "--cooccur", str(tmp_path / f"{name}.npz")] for name in ("w5", other)])
        for rc, out, err in done:
            errors = [line for line in err.splitlines() if line.startswith("embedkit train: error:")]
            assert rc != 0 and len(errors) == 1 and "ranks hold different co-occurrence matrices" in errors[0], \
                err[-3000:]


def test_nodes_may_differ_in_workers_alone(corpus_file, tmp_path):
    """Each rank's threads are its own: every rank cuts its shard into as many chunks (rank_chunk)."""
    base = ["--model", "cbow", "--corpus", str(corpus_file), "--dim", "16", "--epochs", "1", *COMMON[:-1]]
    done, _ = two_nodes(tmp_path, [[*base, "--workers", "1"], [*base, "--workers", "2"]])
    assert all(rc == 0 for rc, _, _ in done), done[1][2][-3000:]
    log = json.loads((tmp_path / "out0" / "training_log.json").read_text())
    assert log["distributed"]["units_all_ranks"] == 788931


def test_differing_names_each_setting_and_the_first_rank_that_differs():
    from embedkit.distributed.run import differing, settings_json
    assert settings_json({"lr": 1, "dim": 16}) == settings_json({"lr": 1.0, "dim": 16})     # through the API
    every = [{"dim": 16, "lr": 0.1}, {"dim": 16, "lr": 0.1}, {"dim": 17, "lr": 0.2}, {"dim": 18, "lr": 0.1, "x": 1}]
    assert differing(every) == ["dim: 16 on rank 0, 17 on rank 2", "lr: 0.1 on rank 0, 0.2 on rank 2",
                                "x: None on rank 0, 1 on rank 3"]
    assert differing(every[:2]) == []


def test_resolved_settings_compare_what_the_trainer_uses():
    """lr=None stands for the model's start_lr: a rank given --lr 0.025 for skip-gram agrees with one
    given nothing; CBOW's default is another."""
    from embedkit.config import Word2VecConfig, resolved
    assert resolved(Word2VecConfig()) == resolved(Word2VecConfig(lr=0.025))
    assert resolved(Word2VecConfig(arch="cbow"))["lr"] == 0.05
    from embedkit.trainers.lifecycle import every
    assert every("10M") == every(10_000_000) == ("words", 10_000_000) != every("5M") and every(None) is None
