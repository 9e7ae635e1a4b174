"""Kill-safety of every verb that writes output (train, cooccur, vocab, phrases, export): SIGKILL at a random
moment leaves no output, the previous complete output or the new complete output; the next run
into the same place removes the killed run's temporary files; a killed training with checkpoints
resumes bit-identically (workers=1). fsutil.py and trainers/checkpoint.py are what is tested."""
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import embedkit
from embedkit.fsutil import atomic_path, atomic_rewrite, remove_stale

ROOT = Path(__file__).resolve().parents[1]
CHILD = str(ROOT / "tests" / "lifecycle_child.py")


def write_corpus(path, n_tokens=60_000, vocab=1500, seed=0):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    ids = rng.choice(vocab, size=n_tokens, p=p / p.sum())
    words = [f"w{i}" for i in ids]
    path.write_text("\n".join(" ".join(words[i:i + 20]) for i in range(0, n_tokens, 20)) + "\n")


def commands(work: Path, variant: int) -> dict:
    """verb -> (argv, output path): two variants per verb whose outputs differ."""
    corpus, vectors = str(work / "corpus.txt"), str(work / "vectors.txt")
    mc = ["--min-count", str(2 + variant)]
    return {
        "train": (["train", "--model", "skipgram", "--corpus", corpus, "--output", str(work / "model"), "--dim", "16",
                   "--epochs", str(2 + variant), "--workers", "1", "--quiet", "--no-cache", "--checkpoint-every",
                   "5000"], work / "model"),
        "cooccur": (["cooccur", "--corpus", corpus, "--output", str(work / "cooc.npz"), "--no-cache", "--quiet",
                     "--window", str(4 + variant), *mc], work / "cooc.npz"),
        "vocab": (["vocab", "--corpus", corpus, "--output", str(work / "vocab.tsv"), *mc], work / "vocab.tsv"),
        "phrases": (["phrases", "--corpus", corpus, "--output", str(work / "phrased.txt"), "--no-cache", *mc],
                    work / "phrased.txt"),
        "export": (["export", vectors, "--to", str(work / "out.bin"), "--limit", str(500 + 100 * variant)],
                   work / "out.bin"),
    }


def env():
    return dict(os.environ, PYTHONPATH=str(ROOT))


def snapshot(verb, out: Path):
    """What a complete output holds (comparable), or None when there is no output."""
    if verb == "train":
        if not (out / "model.json").exists():
            return None
        emb = embedkit.load(out)                     # a complete model folder loads
        with np.load(out / "arrays.npz") as z:
            return ("train", len(emb), z["w_in"].tobytes())
    if verb == "cooccur":
        if not out.exists():
            return None
        from embedkit.corpus.cooccur import load_cooccur, vocab_path_for
        X = load_cooccur(out)
        words = vocab_path_for(out).read_text().splitlines()
        assert X.shape[0] == len([w for w in words if not w.startswith("#")])   # matrix and vocabulary agree
        return ("cooccur", X.nnz, X.data.tobytes(), tuple(words))
    return (verb, out.read_bytes()) if out.exists() else None


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    work = tmp_path_factory.mktemp("kill")
    write_corpus(work / "corpus.txt")
    rng = np.random.default_rng(1)
    words = [f"v{i}" for i in range(800)]
    embedkit.Embeddings(words, rng.standard_normal((800, 50)).astype(np.float32)).save(work / "vectors.txt")
    return work


@pytest.fixture(scope="module")
def references(work, tmp_path_factory):
    """Each verb's complete output for both variants, made in a folder of their own, and
    ("seconds", verb): the longer of its two runs, wall time (kills are timed against it)."""
    refs = {}
    for variant in (0, 1):
        ref_dir = tmp_path_factory.mktemp(f"ref{variant}")
        for name in ("corpus.txt", "vectors.txt"):
            os.symlink(work / name, ref_dir / name)
        for verb, (argv, out) in commands(ref_dir, variant).items():
            t0 = time.monotonic()
            r = subprocess.run([sys.executable, CHILD, *argv], env=env(), capture_output=True, text=True, timeout=300)
            assert r.returncode == 0, r.stderr
            refs["seconds", verb] = max(refs.get(("seconds", verb), 0.0), time.monotonic() - t0)
            refs[verb, variant] = snapshot(verb, out)
    return refs


def temporaries(folder: Path) -> list:
    return [p.name for p in folder.rglob("*.tmp")]


def checkpoint_units(out: Path) -> int:
    """Words done at the training's last checkpoint (0 when none is readable yet)."""
    try:
        return json.loads((out / "checkpoint" / "checkpoint.json").read_text())["units_done"]
    except (OSError, ValueError, KeyError):
        return 0


def kill_once(work, references, verb, variant, delay, at_units=None):
    """Run verb, SIGKILL it `delay` s after its start (at_units: after the first checkpoint with at
    least that many words done), check the state it left, resume a training that left a checkpoint."""
    argv, out = commands(work, variant)[verb]
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, CHILD, *argv], env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        if at_units is not None:      # a moment in the training's progress, whatever the machine's load
            deadline = time.monotonic() + 240
            while checkpoint_units(out) < at_units and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    elapsed = time.monotonic() - t0
    state = snapshot(verb, out)
    allowed = {None, references[verb, 0], references[verb, 1]}
    assert state in allowed, f"{verb} killed after {delay:.2f} s left an output that is neither old nor new"
    left = "none" if state is None else f"variant {[references[verb, 0], references[verb, 1]].index(state)}"
    resumed = verb == "train" and (out / "checkpoint" / "state.npz").exists()
    if resumed:
        r = subprocess.run([sys.executable, CHILD, "train", "--resume", str(out), "--quiet"], env=env(),
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert snapshot(verb, out) == references[verb, variant]      # bit-identical to the run never killed
    return proc.returncode, left, resumed, elapsed


def run_kills(work, references, n, seed):
    """n kills at random moments of a verb's run: a fraction drawn uniformly from 0.05 to 1.0 of
    the verb's expected wall time (its reference run's, then its last finished run's: the load of
    the machine changes; some runs finish first), and for training most of them at a random point
    of its progress, read from its checkpoints, plus up to 50 ms (so that resumes are tested). The
    folder starts with a complete output of variant 1 of each verb, so "the previous complete
    output" is a possible state.
    Returns (kills that really killed, trainings resumed)."""
    rng = random.Random(seed)
    verbs = ["train", "cooccur", "vocab", "phrases", "export"]
    for verb, (argv, out) in commands(work, 1).items():
        r = subprocess.run([sys.executable, CHILD, *argv], env=env(), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    expected = {verb: references["seconds", verb] for verb in verbs}
    killed = resumed_runs = 0
    for i in range(n):
        verb = verbs[i % len(verbs)] if i < len(verbs) else rng.choice(verbs)
        variant, fraction = rng.randint(0, 1), rng.uniform(0.05, 1.0)
        at_units = None
        if verb == "train" and rng.random() < 0.75:
            at_units = int(fraction * 0.9 * 60_000 * (2 + variant))     # of the run's corpus words x epochs
        delay = fraction * expected[verb] if at_units is None else rng.uniform(0.0, 0.05)
        code, left, resumed, elapsed = kill_once(work, references, verb, variant, delay, at_units)
        if code == 0 and at_units is None:
            expected[verb] = elapsed
        killed += code == -9
        resumed_runs += resumed
        # one line per kill (pytest -s shows them; the README's kill-test figures come from them)
        when = "after its start" if at_units is None else f"after its checkpoint past {at_units:,} words"
        print(f"kill {i + 1:2d}: {verb:8s} variant {variant}, {delay:.2f} s {when}: "
              f"{'SIGKILL' if code == -9 else f'finished first (exit {code})'}; output left: {left}"
              f"{'; resumed from its checkpoint: bit-identical' if resumed else ''}")
    # the next complete run into the same places leaves no temporary file of the killed ones
    for verb, (argv, out) in commands(work, 0).items():
        r = subprocess.run([sys.executable, CHILD, *argv], env=env(), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert snapshot(verb, out) == references[verb, 0]
    assert temporaries(work) == []
    return killed, resumed_runs


@pytest.mark.slow     # about 40 s: five verbs trained, killed and checked
def test_five_kills_one_per_verb(work, references):
    run_kills(work, references, 5, seed=5)


@pytest.mark.slow
def test_twenty_random_kills_across_verbs(work, references):
    killed, resumed = run_kills(work, references, 20, seed=20)
    assert killed >= 10                  # most of the 20 really were killed mid-way
    assert resumed >= 1                  # and a killed training went on from its checkpoint


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".out.txt.{dead.pid}.abc.tmp"
    stale.write_text("half")
    mine = tmp_path / f".out.txt.{os.getpid()}.abc.tmp"
    mine.write_text("in progress")
    (tmp_path / f".out.txt.{dead.pid}.dir.tmp").mkdir()
    with atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("done")
    assert (tmp_path / "out.txt").read_text() == "done"
    assert not stale.exists() and mine.exists() and not (tmp_path / f".out.txt.{dead.pid}.dir.tmp").exists()
    assert remove_stale(tmp_path, "out.txt") == []


def test_a_model_folder_without_model_json_is_no_output(tmp_path):
    """A kill between removing the old model.json and renaming the new one leaves no model."""
    from embedkit.errors import EmbedkitError
    emb = embedkit.Embeddings(["a", "b"], np.eye(2, dtype=np.float32))
    emb.save(tmp_path / "m")
    (tmp_path / "m" / "model.json").unlink()
    with pytest.raises(EmbedkitError):
        embedkit.load(tmp_path / "m", format="native")
    emb.save(tmp_path / "m")
    assert embedkit.load(tmp_path / "m").words == ["a", "b"]


def rewrite(path, spare, data: bytes, fail: bool = False):
    with atomic_rewrite(path, spare) as f:
        f.write(data)
        if fail:
            raise RuntimeError("killed mid-write")


def test_rewrites_go_over_the_spare_in_place(tmp_path):
    """Each write replaces the file atomically; the file it replaced becomes the spare, and the next
    write goes over the spare's own blocks (the same inode), cut to the new length."""
    path, spare = tmp_path / "state.npz", tmp_path / ".state.spare.npz"
    rewrite(path, spare, b"A" * 1000)
    assert path.read_bytes() == b"A" * 1000 and not spare.exists()
    rewrite(path, spare, b"B" * 10)
    assert path.read_bytes() == b"B" * 10 and spare.read_bytes() == b"A" * 1000
    inode = spare.stat().st_ino
    rewrite(path, spare, b"C" * 5)
    assert path.read_bytes() == b"C" * 5 and path.stat().st_ino == inode
    assert spare.read_bytes() == b"B" * 10
    with pytest.raises(RuntimeError):
        rewrite(path, spare, b"D" * 2000, fail=True)
    assert path.read_bytes() == b"C" * 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]      # no temporary left; the spare was used up


def test_a_spare_that_is_the_file_itself_is_not_written_over(tmp_path):
    """A kill between linking the old file as the spare and the rename leaves the spare and the file as
    one inode; the next write must make a new file rather than go over the checkpoint in place."""
    path, spare = tmp_path / "state.npz", tmp_path / ".state.spare.npz"
    path.write_bytes(b"old" * 100)
    os.link(path, spare)
    with pytest.raises(RuntimeError):
        rewrite(path, spare, b"new", fail=True)
    assert path.read_bytes() == b"old" * 100
    os.link(path, spare)
    rewrite(path, spare, b"new")
    assert path.read_bytes() == b"new" and spare.read_bytes() == b"old" * 100
