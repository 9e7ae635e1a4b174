"""Helpers shared by the benchmark scripts: shared-data paths, child processes with peak RSS, tables."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
TEXT8_GZ = DATA / "corpora" / "enwiki2015-text8.txt.gz"
EVAL = DATA / "eval"


def plain_text8(workdir: Path | None = None) -> Path:
    """The text8 corpus decompressed once (gensim's Text8Corpus and the C tools read plain files)."""
    workdir = Path(workdir or os.environ.get("EMBEDKIT_BENCH_DIR", Path(tempfile.gettempdir()) / "embedkit-bench"))
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "text8.txt"
    if not out.exists():
        tmp = out.with_suffix(".tmp")
        with gzip.open(TEXT8_GZ, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 16 << 20)
        tmp.rename(out)
    return out


def run_child(code: str, args: dict, timeout: float = 3600, pythonpath: str | None = None) -> dict:
    """Run `code` in a fresh Python; it reads ARGS (a dict) and must print one JSON line last.

    The child's peak RSS (MB) is added as "peak_rss_mb" — measured by the child itself at exit so
    each peer is charged only for its own process. `pythonpath`: import embedkit from that source
    tree (another checkout, for before/after comparisons in one run).
    """
    prologue = ("import json, resource, sys, time\nARGS = json.loads(sys.argv[1])\n")
    if pythonpath:   # python -c puts the working directory first on sys.path: drop it, so `pythonpath` is imported
        prologue += "sys.path = [p for p in sys.path if p not in ('', '.')]\n"
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so a child of a big parent
    # would report the parent's peak.
    epilogue = ("\nRESULT['peak_rss_mb'] = [int(l.split()[1]) for l in open('/proc/self/status') "
                "if l.startswith('VmHWM')][0] / 1024\n"
                "print(json.dumps(RESULT))\n")
    env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else None
    r = subprocess.run([sys.executable, "-c", prologue + code + epilogue, json.dumps(args)],
                       capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"child failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def markdown_table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
