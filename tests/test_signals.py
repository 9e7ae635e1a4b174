"""SIGINT and SIGTERM during a verb: one line on stderr, exit status 130 / 143, no traceback, no
temporary file left behind (embedkit/cli/__init__.py). Each run is a subprocess with a time limit."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

LIMIT = 120     # seconds a child may take in all


def _env(tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"), PYTHONUNBUFFERED="1")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    root = Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    return env


def _stop(proc, sig, wait_for: bytes | None, err_path: Path, delay: float) -> tuple[int, str]:
    """Send `sig` once `wait_for` shows on stderr (or after LIMIT / 3 s, wherever the child is: a
    fresh clone compiles numba's kernels first), then collect."""
    try:
        deadline = time.monotonic() + LIMIT / 3
        while wait_for is not None and wait_for not in err_path.read_bytes() and time.monotonic() < deadline:
            assert proc.poll() is None, err_path.read_text(errors="replace")
            time.sleep(0.1)
        time.sleep(delay)
        assert proc.poll() is None, "the child finished before the signal: give it more work"
        proc.send_signal(sig)
        rc = proc.wait(timeout=LIMIT / 2)
        return rc, err_path.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _leftovers(*folders: Path) -> list[str]:
    return [str(p) for f in folders if f.exists() for p in f.rglob("*") if p.name.endswith(".tmp")
            or p.name.startswith(("embedkit-", ".embedkit-"))]


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    lines = [" ".join(rng.choice(words, 40)) for _ in range(500)]
    path = tmp_path / "c.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_train_stopped(tmp_path, corpus, sig):
    out = tmp_path / "out" / "model"
    out.parent.mkdir()
    err_path = tmp_path / "err"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "embedkit", "train", "--model", "skipgram", "--corpus",
                                 str(corpus), "-o", str(out), "--epochs", "100000", "--dim", "8",
                                 "--min-count", "1", "--workers", "1", "--no-cache"],
                                stdout=subprocess.DEVNULL, stderr=err, env=_env(tmp_path), cwd=tmp_path)
        rc, text = _stop(proc, sig, b"corpus:", err_path, 1.0)
    assert rc == 128 + sig, text
    last = text.strip().splitlines()[-1]
    assert "Traceback" not in text and last.startswith("embedkit train: stopped by " + signal.Signals(sig).name)
    assert not out.exists() and os.listdir(out.parent) == [], "no model folder, no temporary folder"
    assert _leftovers(tmp_path / "tmp") == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stdin_spool_removed(tmp_path, sig):
    """cooccur --corpus - spools standard input to a temporary folder first: a signal while it reads
    must remove it (and the output's temporary name never appears)."""
    err_path = tmp_path / "err"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "embedkit", "cooccur", "--corpus", "-", "-o",
                                 str(tmp_path / "c.npz"), "--quiet"],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                                env=_env(tmp_path), cwd=tmp_path)
        proc.stdin.write(b"some words on a line\n" * 10000)
        proc.stdin.flush()
        deadline = time.monotonic() + LIMIT / 2
        while not any((tmp_path / "tmp").glob("*embedkit-stdin*")):     # the spool exists: it is reading
            assert proc.poll() is None and time.monotonic() < deadline, err_path.read_text(errors="replace")
            time.sleep(0.1)
        rc, text = _stop(proc, sig, None, err_path, 0.2)
        proc.stdin.close()
    assert rc == 128 + sig, text
    assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
    assert _leftovers(tmp_path / "tmp", tmp_path) == []
    assert not (tmp_path / "c.npz").exists()


def test_python_api_keeps_its_handlers():
    """main() restores the signal handlers it found (it may run inside another program)."""
    from embedkit.cli import main
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit):
        main(["--version-that-does-not-exist"])
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before
