"""The training lifecycle: callbacks, evaluation and loss in the log, checkpoints and resume
(trainers/callbacks.py, trainers/checkpoint.py, trainers/lifecycle.py resume, cli/train.py)."""
import json
import os
from collections import Counter
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import embedkit
from embedkit.errors import EmbedkitError
from embedkit.trainers.checkpoint import load_checkpoint, parse_every

ROOT = Path(__file__).resolve().parents[1]
CHILD = str(ROOT / "tests" / "lifecycle_child.py")
FAMILY_ARGS = {
    "skipgram": ["--dim", "16", "--epochs", "3"],
    "cbow": ["--dim", "16", "--epochs", "3", "--objective", "hs"],
    "fasttext": ["--dim", "16", "--epochs", "3", "--bucket", "3000"],
    "glove": ["--dim", "16", "--epochs", "4", "--window", "5"],
}


def zipf_sentences(n_tokens=60_000, vocab=1500, seed=0):
    """A corpus with a word frequency law like text's: sentences of 20 words over w0..w{vocab-1}."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    ids = rng.choice(vocab, size=n_tokens, p=p / p.sum())
    words = [f"w{i}" for i in ids]
    return [words[i:i + 20] for i in range(0, n_tokens, 20)]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "zipf.txt"
    path.write_text("\n".join(" ".join(s) for s in zipf_sentences()) + "\n")
    return path


def child_env(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return env


def train_args(model, corpus, output, *extra):
    return ["train", "--model", model, "--corpus", str(corpus), "--output", str(output), "--workers", "1",
            "--quiet", "--no-cache", "--checkpoint-every", "5000", *FAMILY_ARGS[model], *extra]


def child(args, env, **kw):
    return subprocess.run([sys.executable, CHILD, *args], env=env, capture_output=True, text=True, timeout=300, **kw)


def arrays_of(folder):
    with np.load(Path(folder) / "arrays.npz") as z:
        return {k: z[k] for k in z.files}


def assert_bit_identical(a_dir, b_dir):
    a, b = arrays_of(a_dir), arrays_of(b_dir)
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


# ---- callbacks ----

class Recorder(embedkit.Callback):
    every_words = 25_000

    def __init__(self, stop_after_epoch=None):
        self.seen, self.stop_after_epoch = [], stop_after_epoch

    def on_train_begin(self, info):
        self.seen.append(("begin", info.epoch, info.words))

    def on_words(self, info):
        assert not info.vectors.flags.writeable
        self.seen.append(("words", info.epoch, info.words))

    def on_epoch_end(self, info):
        assert np.isfinite(info.loss) and info.vectors.shape[1] == 8
        self.seen.append(("epoch", info.epoch, info.words))
        if info.epoch == self.stop_after_epoch:
            info.stop()

    def on_train_end(self, info):
        self.seen.append(("end", info.epoch, info.words))


@pytest.mark.parametrize("model", ["skipgram", "glove"])
def test_callbacks_see_every_point_and_may_stop_cleanly(model, tmp_path):
    rec = Recorder(stop_after_epoch=2)
    sentences = zipf_sentences(30_000)
    emb = embedkit.train(model, corpus=sentences, dim=8, epochs=4, workers=1, min_count=1, callbacks=[rec],
                         output=tmp_path / "out")
    points = [p[0] for p in rec.seen]
    assert points[0] == "begin" and points[-1] == "end" and points.count("epoch") == 2
    assert [p[1] for p in rec.seen if p[0] == "epoch"] == [1, 2] and rec.seen[-1][1] == 2
    per_epoch = rec.seen[1][2] if model == "glove" else 30_000
    if model != "glove":
        assert any(p[0] == "words" for p in rec.seen)
    assert rec.seen[-1][2] == 2 * per_epoch or model == "glove"
    # stopped after epoch 2: the output is written as at the end, with a two-epoch log
    assert len(emb.training_log["epochs"]) == 2
    assert embedkit.load(tmp_path / "out").vectors.shape == emb.vectors.shape


def test_eval_every_epoch_and_loss_every_n_words_are_in_the_log(monkeypatch):
    from embedkit.trainers import word2vec_numba
    monkeypatch.setattr(word2vec_numba, "CHUNK_WORDS", 2000)     # the runner sees the counters at every chunk end
    sentences = zipf_sentences(30_000)
    emb = embedkit.train("cbow", corpus=sentences, dim=8, epochs=2, workers=1, min_count=1,
                         eval_every_epoch=True, log_every=4000)
    for entry in emb.training_log["epochs"]:
        assert {"eval_analogy_accuracy", "eval_analogy_coverage", "eval_wordsim353_spearman",
                "eval_simlex999_spearman", "eval_seconds"} <= set(entry)
    words = [p["words"] for p in emb.training_log["loss_curve"]]
    assert len(words) >= 10 and all(b - a >= 4000 for a, b in zip(words, words[1:]))


def test_bad_lifecycle_options_are_one_line_errors(tmp_path):
    with pytest.raises(EmbedkitError, match="checkpoint_every needs output="):
        embedkit.train("skipgram", corpus=zipf_sentences(1000), checkpoint_every="10M")
    with pytest.raises(EmbedkitError, match="--checkpoint-every must be"):
        embedkit.train("skipgram", corpus=zipf_sentences(1000), checkpoint_every="10 minutes", output=tmp_path)
    with pytest.raises(EmbedkitError, match="log_every must be"):
        embedkit.train("skipgram", corpus=zipf_sentences(1000), log_every=0)
    with pytest.raises(EmbedkitError, match="has no checkpoint"):
        embedkit.resume(tmp_path / "nothing")


def test_checkpoint_every_parses_words_and_seconds():
    assert parse_every("10M") == ("words", 10_000_000)
    assert parse_every(5000) == ("words", 5000)
    assert parse_every("500k") == ("words", 500_000)
    assert parse_every("600s") == ("seconds", 600.0)
    for bad in ("10m", "0", "-5", "ten"):
        with pytest.raises(EmbedkitError):
            parse_every(bad)


# ---- checkpoints and resume: SIGKILL at random moments, resumed, bit-identical (workers=1) ----

def units_done(state: Path) -> int:
    """Units done at the last checkpoint (checkpoint.json), 0 while none is readable."""
    try:
        return json.loads(state.read_text())["units_done"]
    except (OSError, ValueError, KeyError):
        return 0


def total_units(ref: Path) -> int:
    """Units (words; GloVe: co-occurrence pairs) of the whole reference run, from its log."""
    log = json.loads((ref / "training_log.json").read_text())
    return int(log.get("nonzeros") or log["corpus_tokens"]) * len(log["epochs"])


def kill_and_resume(model, corpus, ref, out, env, delay, at_units=1):
    """Start a run, SIGKILL it `delay` s after its first checkpoint with at least `at_units` units
    done (a point of its progress, whatever the machine's load), resume it; returns the units the
    checkpoint it resumed from had done (None when the run finished before the kill)."""
    proc = subprocess.Popen([sys.executable, CHILD, *train_args(model, corpus, out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "checkpoint" / "checkpoint.json"
    deadline = time.monotonic() + 240
    try:
        while units_done(state) < at_units and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
    finally:
        proc.kill()
        proc.wait()
    if not (out / "checkpoint" / "state.npz").exists():
        # finished (and removed its checkpoint, perhaps killed while removing it) before the kill
        assert_bit_identical(ref, out)
        return None
    units = load_checkpoint(out).units
    r = child(["train", "--resume", str(out), "--quiet"], env)
    assert r.returncode == 0, r.stderr
    assert not (out / "checkpoint").exists()
    assert_bit_identical(ref, out)
    return units


def reference(model, corpus, tmp_path, env, *extra):
    ref = tmp_path / f"ref-{model}"
    r = child(train_args(model, corpus, ref, *extra), env)
    assert r.returncode == 0, r.stderr
    return ref


@pytest.mark.parametrize("model", list(FAMILY_ARGS))
def test_a_killed_run_resumed_is_bit_identical(model, corpus_file, tmp_path):
    env = child_env(tmp_path)
    ref = reference(model, corpus_file, tmp_path, env)
    kill_and_resume(model, corpus_file, ref, tmp_path / "killed", env, delay=0.3)


@pytest.mark.slow
@pytest.mark.parametrize("model", list(FAMILY_ARGS))
def test_killed_at_several_random_moments_and_resumed_is_bit_identical(model, corpus_file, tmp_path):
    env = child_env(tmp_path)
    ref = reference(model, corpus_file, tmp_path, env)
    rng = random.Random(model)
    resumed_at = []
    for i in range(4):
        at_units = int(rng.uniform(0.05, 0.9) * total_units(ref))
        resumed_at.append(kill_and_resume(model, corpus_file, ref, tmp_path / f"killed{i}", env,
                                          delay=rng.uniform(0.0, 0.05), at_units=at_units))
    assert len({u for u in resumed_at if u is not None}) >= 2      # several distinct kill points


def test_a_killed_classifier_run_resumes_where_it_was(tmp_path):
    """The classifier goes through the same runner (run_task): its resumed run starts at the
    checkpoint's epoch, not from scratch, and ends bit-identical (workers=1)."""
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(6000):
        label = int(rng.integers(3))
        lines.append(f"__label__{label} " + " ".join(f"w{w}" for w in rng.integers(0, 300, size=15) + 100 * label))
    corpus = tmp_path / "labelled.txt"
    corpus.write_text("\n".join(lines) + "\n")
    env = child_env(tmp_path)

    def args(out):
        return ["train", "--model", "classifier", "--corpus", str(corpus), "--output", str(out), "--workers", "1",
                "--quiet", "--no-cache", "--checkpoint-every", "5000", "--epochs", "20", "--dim", "16"]
    ref, out = tmp_path / "ref", tmp_path / "killed"
    assert child(args(ref), env).returncode == 0
    proc = subprocess.Popen([sys.executable, CHILD, *args(out)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while not (out / "checkpoint" / "checkpoint.json").exists() and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
    if not (out / "checkpoint" / "state.npz").exists():
        pytest.skip("the run finished before the kill")
    units = load_checkpoint(out).units
    r = child(["train", "--resume", str(out), "--quiet"], env)
    assert r.returncode == 0, r.stderr
    assert_bit_identical(ref, out)
    log = json.loads((out / "training_log.json").read_text())
    assert log["resumed_at"]["units"] == units > 0


def test_sigint_writes_a_checkpoint_and_exits_130(corpus_file, tmp_path):
    env = child_env(tmp_path)
    longer = ["--epochs", "20"]                               # time enough to press Ctrl-C
    ref = reference("skipgram", corpus_file, tmp_path, env, *longer)
    out = tmp_path / "interrupted"
    args = train_args("skipgram", corpus_file, out, *longer)
    args[args.index("--checkpoint-every") + 1] = "1G"        # checkpoints on, but none before the Ctrl-C
    proc = subprocess.Popen([sys.executable, CHILD, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    deadline = time.monotonic() + 240
    # wait until training runs (the corpus summary is printed just before it starts)
    line = proc.stderr.readline()
    assert "corpus:" in line, line
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == 130, err
    assert f"checkpoint written to {out / 'checkpoint'}" in err and "--resume" in err
    r = child(["train", "--resume", str(out), "--quiet"], env)
    assert r.returncode == 0, r.stderr
    assert_bit_identical(ref, out)


def killed_after_first_checkpoint(args, env) -> Path:
    """Start `embedkit train args` in a child, SIGKILL it once its first checkpoint exists, and
    return the checkpoint's state.npz (the test is skipped if the run finished first)."""
    out = Path(args[args.index("--output") + 1])
    proc = subprocess.Popen([sys.executable, CHILD, *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    state = out / "checkpoint" / "state.npz"
    deadline = time.monotonic() + 240
    while not state.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    if not state.exists():
        pytest.skip("the run finished before the kill")
    return state


def test_resume_refuses_conflicting_options(corpus_file, tmp_path):
    env = child_env(tmp_path)
    out = tmp_path / "run"
    killed_after_first_checkpoint(train_args("skipgram", corpus_file, out), env)
    r = child(["train", "--resume", str(out), "--dim", "50"], env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "--dim" in r.stderr or "dim=50" in r.stderr
    assert "the checkpoint has 16" in r.stderr
    r = child(["train", "--resume", str(out), "--dim", "16", "--quiet"], env)     # agreeing is fine
    assert r.returncode == 0, r.stderr


def test_resume_refuses_a_checkpoint_of_another_layout(corpus_file, tmp_path):
    """A checkpoint whose arrays do not fit the run (another version's layout, say the subword
    model's bucket rows) is a one-line error, not numpy's broadcast traceback."""
    env = child_env(tmp_path)
    out = tmp_path / "run"
    state = killed_after_first_checkpoint(train_args("skipgram", corpus_file, out), env)
    with np.load(state) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["w_in"] = arrays["w_in"][:-1]
    with open(state, "wb") as f:
        np.savez(f, **arrays)
    r = child(["train", "--resume", str(out), "--quiet"], env)
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "state.npz" in last and "does not fit" in last


# ---- continued training ----

class Begin(embedkit.Callback):
    def on_train_begin(self, info):
        self.words, self.vectors, self.lr = list(info.embeddings().words), info.vectors.copy(), info.lr


def with_new_words(n_tokens, seed, n_new=30):
    """Zipf sentences where every fifth word is one of n_new words the first corpus lacks."""
    sentences = zipf_sentences(n_tokens, seed=seed)
    for k, s in enumerate(sentences):
        s[::5] = [f"new{(k + i) % n_new}" for i in range(len(s[::5]))]
    return sentences


@pytest.mark.parametrize("model", ["skipgram", "fasttext", "glove"])
def test_continued_training_keeps_old_rows_and_adds_new_words(model, tmp_path):
    extra = {"bucket": 2000} if model == "fasttext" else {}
    a = embedkit.train(model, corpus=zipf_sentences(20_000), dim=8, epochs=2, workers=1, min_count=2, **extra)
    begin = Begin()
    new_corpus = with_new_words(20_000, seed=1)
    b = embedkit.train(model, corpus=new_corpus, init=a, update_vocab=True, epochs=1,
                       callbacks=[begin], output=tmp_path / "b")
    counted = Counter(w for s in new_corpus for w in s)
    added = {w for w, c in counted.items() if c >= 2} - set(a.words)      # min_count 2, from the init model
    assert b.dim == 8 and set(b.words) == set(a.words) | added and "new7" in b and "new7" not in a
    assert b.training_log["continued_from"]["added_words"] == len(added)
    at = {w: i for i, w in enumerate(begin.words)}
    old = [w for w in a.words if w in at][:200]
    start = begin.vectors[[at[w] for w in old]]
    if model == "fasttext":
        # an old word's vector is the mean of its bag: the word row and its buckets are the trained ones
        np.testing.assert_allclose(start, a.vectors[[a.index[w] for w in old]], rtol=1e-5, atol=1e-6)
        # a new word starts from its trained n-grams: close to what the old model said of it
        oov = a.get_vector("new7")
        v = begin.vectors[at["new7"]]
        assert v @ oov / np.linalg.norm(v) / np.linalg.norm(oov) > 0.8
    else:
        np.testing.assert_array_equal(start, a.vectors[[a.index[w] for w in old]])
    if model == "skipgram":
        new_rows = begin.vectors[[at[f"new{i}"] for i in range(30)]]
        assert np.abs(new_rows).max() <= 0.5 / 8           # fresh rows: U(-0.5/dim, 0.5/dim)
    # the counts are merged and the vocabulary ranked again by them
    counts = embedkit.load(tmp_path / "b").counts
    assert (np.diff(counts) <= 0).all()
    i = a.index[a.words[0]]
    assert counts[b.index[a.words[0]]] > a.counts[i]


def test_continued_training_without_update_vocab_keeps_the_vocabulary():
    a = embedkit.train("cbow", corpus=zipf_sentences(20_000), dim=8, epochs=1, workers=1, min_count=2)
    b = embedkit.train("cbow", corpus=with_new_words(20_000, seed=1), init=a, epochs=1)
    assert b.words == a.words and np.array_equal(b.counts, a.counts)
    assert not np.array_equal(b.vectors, a.vectors)


@pytest.mark.parametrize("update_vocab", [False, True])
def test_continued_training_summary_covers_the_new_corpus_at_most_all_of_it(update_vocab):
    """The summary's coverage is the share of the new corpus's tokens that the vocabulary covers;
    the vocabulary's counts are the model's (often a much larger corpus), which gave 710%."""
    a = embedkit.train("skipgram", corpus=zipf_sentences(20_000), dim=8, epochs=1, workers=1, min_count=2)
    small = with_new_words(2_000, seed=1)
    lines = []
    embedkit.train("skipgram", corpus=small, init=a, update_vocab=update_vocab, epochs=1, report=lines.append)
    share = float(re.search(r"covering ([\d.]+)% of the tokens", lines[0]).group(1))
    trained = int(re.search(r"([\d,]+) tokens to train on", lines[0]).group(1).replace(",", ""))
    total = sum(map(len, small))
    assert 0 < share <= 100 and share == pytest.approx(100 * trained / total, abs=0.01)


def test_lr_schedule_restart_or_continue():
    a = embedkit.train("skipgram", corpus=zipf_sentences(20_000), dim=8, epochs=3, workers=1, min_count=2)
    restart, cont = Begin(), Begin()
    embedkit.train("skipgram", corpus=zipf_sentences(20_000, seed=1), init=a, epochs=1, callbacks=[restart])
    embedkit.train("skipgram", corpus=zipf_sentences(20_000, seed=1), init=a, epochs=1, callbacks=[cont],
                   lr_schedule="continue")
    assert restart.lr == pytest.approx(0.025)
    old = a.training_log["corpus_tokens"] * 3
    f = old / (old + a.training_log["corpus_tokens"] * 1.0)
    assert cont.lr == pytest.approx(0.025 * (1 - f) + 0.025e-4 * f, rel=0.05)


def test_hs_output_rows_restart_when_the_tree_is_rebuilt():
    from embedkit.trainers.continued import Start
    a = embedkit.train("cbow", corpus=zipf_sentences(20_000), objective="hs", dim=8, epochs=1, workers=1, min_count=2)
    w_out = a.training_parts["arrays"]["w_out"]
    assert np.abs(w_out).max() > 0
    for update, kept in ((False, True), (True, False)):
        seen = {}

        class Peek(embedkit.Callback):
            def on_train_begin(self, info):
                seen["w_out"] = info._run.backend.arrays()["w_out"].copy()
        embedkit.train("cbow", corpus=with_new_words(5_000, seed=2), init=a, update_vocab=update, epochs=1,
                       callbacks=[Peek()])
        assert np.array_equal(seen["w_out"], w_out) if kept else not seen["w_out"].any()
    assert Start  # the rule lives in trainers/continued.py


def test_continued_training_errors(tmp_path):
    a = embedkit.train("skipgram", corpus=zipf_sentences(5_000), dim=8, epochs=1, workers=1, min_count=2)
    with pytest.raises(EmbedkitError, match="apply only with init "):
        embedkit.train("skipgram", corpus=zipf_sentences(5_000), update_vocab=True)
    with pytest.raises(EmbedkitError, match="--dim 16 differs from the --init model's 8"):
        embedkit.train("skipgram", corpus=zipf_sentences(5_000), init=a, dim=16)
    with pytest.raises(EmbedkitError, match="cannot continue a 'skipgram' model as 'glove'"):
        embedkit.train("glove", corpus=zipf_sentences(5_000), init=a)
    with pytest.raises(EmbedkitError, match="needs a model trained by embedkit"):
        embedkit.train("skipgram", corpus=zipf_sentences(5_000), init=embedkit.Embeddings(["a"], np.zeros((1, 8))))


def test_cli_continues_from_a_model_folder(corpus_file, tmp_path):
    from embedkit.cli import main
    new = tmp_path / "new.txt"
    new.write_text("\n".join(" ".join(s) for s in with_new_words(10_000, seed=3)) + "\n")
    assert main(["train", "--model", "skipgram", "--corpus", str(corpus_file), "--output", str(tmp_path / "a"),
                 "--dim", "8", "--epochs", "1", "--quiet", "--no-cache"]) == 0
    assert main(["train", "--model", "skipgram", "--init", str(tmp_path / "a"), "--corpus", str(new),
                 "--output", str(tmp_path / "b"), "--update-vocab", "--lr-schedule", "continue", "--quiet",
                 "--no-cache"]) == 0
    a, b = embedkit.load(tmp_path / "a"), embedkit.load(tmp_path / "b")
    assert b.dim == 8 and set(a.words) < set(b.words) and "new3" in b
    log = json.loads((tmp_path / "b" / "training_log.json").read_text())
    assert log["continued_from"]["lr_schedule"] == "continue" and log["continued_from"]["init"] == str(tmp_path / "a")
