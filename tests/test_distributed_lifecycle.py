"""A distributed run's lifecycle (distributed/checkpoints.py): checkpoints that every rank writes at
the same sync, a run whose ranks are all killed and then resumed (bit-identical with one worker
per rank), Ctrl-C, the layouts' errors, and continued training (--init) on two ranks.

Launches as in test_distributed.py: torchrun's module on loopback, each in its own session with a
time limit. torchrun starts its ranks in sessions of their own, so "killing the run" kills the
ranks' processes too, as a machine that goes down would."""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import embedkit
from embedkit.errors import EmbedkitError
from embedkit.trainers.checkpoint import load_checkpoint, rank_files

pytest.importorskip("torch")

from test_distributed import COMMON, LIMIT_S, children, corpus_file, finish, kill_session, launch  # noqa: E402,F401

RANKS2 = ["--standalone", "--nproc-per-node", "2"]
FAMILY = {"cbow": ["--model", "cbow"],                      # 2 ranks' defaults: hot and warm rows, the sum
          "skipgram-bmuf": ["--model", "skipgram", "--sync-rule", "bmuf", "--hot-rows", "1024"],
          "glove": ["--model", "glove", "--window", "5"]}


def train_args(family, corpus, out, epochs=8, every="300k", quiet=True):
    sync = ["--sync-every", "300000"] if family == "glove" else ["--sync-every", "100000"]
    return [*FAMILY[family], "--corpus", str(corpus), "-o", str(out), "--distributed", "--workers", "1",
            "--dim", "16", "--epochs", str(epochs), "--checkpoint-every", every, *sync,
            *(COMMON if quiet else [a for a in COMMON if a != "--quiet"])]


def arrays_of(folder):
    with np.load(Path(folder) / "arrays.npz") as z:
        return {k: z[k] for k in z.files}


def kill_at_checkpoint(proc, out: Path, generation: int):
    """Kill the launch and its ranks once both ranks have written `generation` (from 3 on, rank 0's
    file was written over its spare, the file of generation 1); False if it finished first."""
    deadline = time.monotonic() + LIMIT_S
    while not all(max((g for _, g in rank_files(out, r)), default=0) >= generation for r in (0, 1)):
        assert time.monotonic() < deadline, "no checkpoint was written"
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    for pid in children(proc.pid):
        os.kill(pid, signal.SIGKILL)
    kill_session(proc)
    proc.communicate()
    return True


def forge_generation(out: Path, rank: int, g: int, units_shift: int = 0) -> Path:
    """A copy of rank's file of generation g as generation g+1, its all-ranks units moved by
    units_shift (a file that another run, killed at another point, left under that number)."""
    path = rank_files(out, rank)[rank, g]
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("__meta__").tobytes())
    meta["distributed"]["generation"] = g + 1
    meta["distributed"]["units_all_ranks"] += units_shift
    forged = path.with_name(f"rank{rank}.{g + 1}.npz")
    np.savez(forged, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    return forged


def half_written(out: Path) -> None:
    """Leave the ranks with different newest generations, as a kill while they write their next
    checkpoint does: rank 0 has written generation g+1 (with weights that would spoil the run:
    zeros), rank 1 has not. A resumed run must go on from generation g, which both hold. Where the
    kill already left them so (rank 1's small file may be written first), that state is tested."""
    newest = {r: max(g for (_, g) in rank_files(out, r)) for r in (0, 1)}
    if newest[0] != newest[1]:          # at most one apart, and each rank still holds the older one
        assert abs(newest[0] - newest[1]) == 1 and (0, min(newest.values())) in rank_files(out, 0)
        return
    g = newest[0]
    path = rank_files(out, 0)[0, g]
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(arrays.pop("__meta__").tobytes())
    meta["distributed"]["generation"] = g + 1
    arrays = {k: np.zeros_like(v) if k.startswith("w") else v for k, v in arrays.items()}
    np.savez(path.with_name(f"rank0.{g + 1}.npz"), __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8),
             **arrays)


@pytest.mark.parametrize("family", ["cbow", pytest.param("skipgram-bmuf", marks=pytest.mark.slow),
                                    pytest.param("glove", marks=pytest.mark.slow)])
def test_a_killed_distributed_run_resumed_is_bit_identical(family, corpus_file, tmp_path):
    """Every rank killed just after its third checkpoint, resumed with the same number of ranks: the same bits as a
    run never stopped (the checkpoint's sync takes all rows; rank 0's file carries the sync state). Before
    that, the wrong ways to resume it are one-line errors."""
    ref, out = tmp_path / "ref", tmp_path / "killed"
    rc, _, err = finish(launch(RANKS2, train_args(family, corpus_file, ref)))
    assert rc == 0, err[-3000:]
    assert json.loads((ref / "training_log.json").read_text())["checkpoints_written"] >= 2
    assert not (ref / "checkpoint").exists()
    assert kill_at_checkpoint(launch(RANKS2, train_args(family, corpus_file, out)), out, 3), "finished first"
    gens = rank_files(out)
    assert {r for r, _ in gens} == {0, 1} and len(gens) <= 4        # at most two generations per rank

    one = subprocess.run([sys.executable, "-m", "embedkit", "train", "--resume", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert one.returncode == 2 and "distributed run of 2 ranks" in one.stderr and "Traceback" not in one.stderr
    rc, _, err = finish(launch(["--standalone", "--nproc-per-node", "1"], ["--resume", str(out), "--distributed"]))
    assert rc != 0 and "run of 2 ranks, this one has 1" in err
    rc, _, err = finish(launch(RANKS2, ["--resume", str(out), "--distributed", "--sync-every", "5000"]))
    assert rc != 0 and "sync_every=5000 (the checkpoint has" in err

    # files of one generation from two runs (a resume killed on one rank as it wrote g+1, an older
    # run's g+1 left on the other): their sync counters differed and the resume aborted inside gloo
    g = min(max(g for (_, g) in rank_files(out, r)) for r in (0, 1))
    forged = [forge_generation(out, r, g, units_shift=1000 * r) for r in (0, 1)]
    forged.append(forge_generation(out, 0, g + 1))       # and rank 0 alone holds g+2
    rc, _, err = finish(launch(RANKS2, ["--resume", str(out), "--distributed", "--quiet"]))
    assert rc != 0 and f"checkpoint files of generation {g + 1} were written at different points" in err, err[-3000:]
    assert all(path.exists() for path in forged)          # a failed resume deletes nothing (g+2 went first)
    for path in forged:
        path.unlink()

    half_written(out)
    rc, out_text, err = finish(launch(RANKS2, ["--resume", str(out), "--distributed", "--quiet"]))
    assert rc == 0, err[-3000:]
    assert out_text.count("trained") == 1
    a, b = arrays_of(ref), arrays_of(out)
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    log = json.loads((out / "training_log.json").read_text())
    assert log["resumed_at"]["units"] > 0 and log["distributed"]["ranks"] == 2
    assert not (out / "checkpoint").exists()


def test_ctrl_c_to_torchrun_checkpoints_every_rank_and_stops(corpus_file, tmp_path):
    """SIGINT to torchrun (as Ctrl-C in its terminal): it passes SIGINT to the ranks, they write a checkpoint
    at their next sync (none before: --checkpoint-every 1G) and stop with 130; rank 0 says how to go on."""
    out = tmp_path / "out"
    proc = launch(RANKS2, train_args("cbow", corpus_file, out, epochs=200, every="1G", quiet=False))
    seen = []          # stderr, read by a thread (the progress bar ends its lines with \r)
    reader = threading.Thread(target=lambda: seen.extend(iter(lambda: proc.stderr.read(1), "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + LIMIT_S
        while not re.search(r"loss=[0-9]", "".join(seen)):      # rank 0 has finished a chunk: training runs
            assert time.monotonic() < deadline and proc.poll() is None, "".join(seen)[-2000:]
            time.sleep(0.1)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=60)
        waited = time.monotonic() - t0
        reader.join(10)
    finally:
        kill_session(proc)
        proc.wait()
    err = "".join(seen)
    assert waited < 30, "torchrun kills its ranks 30 s after passing the signal on: too late for a checkpoint"
    assert rc != 0
    assert err.count("embedkit train: interrupted; checkpoint written to") == 1, err[-3000:]
    assert f"--resume {out} --distributed" in err
    files = rank_files(out)
    assert {r for r, _ in files} == {0, 1} and {g for _, g in files} == {1}
    assert load_checkpoint(out, 1).partial and not load_checkpoint(out, 0).partial


def test_the_layouts_refuse_each_other(tmp_path):
    """A single-process checkpoint resumed with --distributed, a distributed one without: one-line errors."""
    single, ranks = tmp_path / "single", tmp_path / "ranks"
    (single / "checkpoint").mkdir(parents=True)
    (single / "checkpoint" / "state.npz").write_bytes(b"")
    with pytest.raises(EmbedkitError, match="single-process run; resume it without --distributed"):
        load_checkpoint(single, rank=0)
    (ranks / "checkpoint").mkdir(parents=True)
    meta = json.dumps({"version": 1, "distributed": {"ranks": 3}}).encode()
    np.savez(ranks / "checkpoint" / "rank1.4.npz", __meta__=np.frombuffer(meta, dtype=np.uint8))
    with pytest.raises(EmbedkitError, match="distributed run of 3 ranks"):
        load_checkpoint(ranks)
    with pytest.raises(EmbedkitError, match="no checkpoint of rank 0: the run had 3 ranks"):
        load_checkpoint(ranks, rank=0)
    with pytest.raises(EmbedkitError, match="rank 1 has no checkpoint of generation 3"):
        load_checkpoint(ranks, rank=1, generation=3)


def test_init_on_two_ranks_continues_as_one_process(corpus_file, tmp_path):
    """--init with --update-vocab on two ranks: the vocabulary of one process, the whole corpus's token count
    in the log (a later --lr-schedule continue reads it), and vectors that moved from the trained model."""
    lines = corpus_file.read_text().splitlines()
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("\n".join(lines[:300]) + "\n")
    new.write_text("\n".join(lines[300:600]) + "\n")
    base = embedkit.train("skipgram", str(old), output=tmp_path / "base", tokenizer="whitespace", dim=16, epochs=1)
    opts = ["--init", str(tmp_path / "base"), "--update-vocab", "--lr-schedule", "continue", "--epochs", "1"]
    rc, _, err = finish(launch(RANKS2, ["--model", "skipgram", "--corpus", str(new), "-o", str(tmp_path / "dist"),
                                        "--distributed", "--workers", "1", "--sync-every", "100000", *opts,
                                        "--tokenizer", "whitespace", "--quiet"]))
    assert rc == 0, err[-3000:]
    single = embedkit.train("skipgram", str(new), tokenizer="whitespace", init=tmp_path / "base", update_vocab=True,
                            lr_schedule="continue", epochs=1)
    dist = embedkit.load(tmp_path / "dist")
    log = json.loads((tmp_path / "dist" / "training_log.json").read_text())
    assert dist.words == single.words and len(dist) > len(base)
    assert log["corpus_tokens"] == single.training_log["corpus_tokens"]
    assert log["continued_from"]["added_words"] == single.training_log["continued_from"]["added_words"]
    a = dist.vectors[[dist.index[w] for w in base.words[:200]]]
    b = base.vectors[:200]
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert 0.5 < cos.mean() < 0.999, cos.mean()        # trained on from the old rows (afresh: about 0)
