"""Phrase detection on text8: embedkit vs word2vec C's word2phrase vs gensim's Phrases, side by side.

    python benchmarks/bench_phrases.py [--word2phrase-src FILE.c ...] [--repeat 1] [--skip-gensim]

Settings are word2phrase's: min_count 5, threshold 100, one pass. Every tool reads the same
plain text (text8 decompressed once, not timed) and writes the phrased text; each runs as its
own process, timed end to end by this script (start-up, imports, reading, counting, writing),
with the peak RSS of that process.

- embedkit: `embedkit phrases --tokenizer whitespace --no-cache` (no encoded-corpus cache; the
  numba kernels are compiled once before, by a run on a few lines).
- word2phrase: compiled here with gcc -O3 -march=native -funroll-loops in a temporary folder,
  deleted afterwards. The default source is the word2phrase.c bundled in the PyPI package
  `word2vec` (a dev dependency); --word2phrase-src adds others (e.g. word2phrase.c of
  github.com/tmikolov/word2vec, whose I/O is faster). The first one is the reference.
- gensim 4.4: Phrases(LineSentence(text), min_count=5, threshold=100) with its default scoring,
  frozen, then applied to every sentence and written; gensim's default score uses the number of
  unigram and bigram types where word2phrase uses the corpus size, so its phrases differ.

Jaccard: of the sets of distinct joined tokens (a_b) in each output against the reference's.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, markdown_table, plain_text8  # noqa: E402

GENSIM = r"""
import sys, time
from gensim.models.phrases import Phrases
from gensim.models.word2vec import LineSentence
src, out, min_count, threshold = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
t0 = time.perf_counter()
sentences = LineSentence(src)
model = Phrases(sentences, min_count=min_count, threshold=threshold).freeze()
t1 = time.perf_counter()
with open(out, "w", encoding="utf-8") as f:
    for s in sentences:
        f.write(" ".join(model[s]) + "\n")
print(f"learn {t1 - t0:.1f} s, apply {time.perf_counter() - t1:.1f} s", file=sys.stderr)
"""


def timed(cmd: list[str], env=None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stderr tail) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, err.strip().splitlines()[-1] if err.strip() else ""


def joined(path: Path) -> set:
    out = set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            out.update(w for w in line.split() if "_" in w)
    return out


def build_word2phrase(src: Path, folder: Path) -> Path:
    exe = folder / f"word2phrase-{len(list(folder.iterdir()))}"
    subprocess.run(["gcc", str(src), "-o", str(exe), "-lm", "-pthread", "-O3", "-march=native", "-funroll-loops",
                    "-Wno-unused-result"], check=True, capture_output=True)
    return exe


def pypi_word2phrase_source() -> Path:
    spec = importlib.util.find_spec("word2vec")
    if spec is None or spec.origin is None:
        raise SystemExit("the PyPI package word2vec (a dev dependency) is not installed; give --word2phrase-src")
    src = Path(spec.origin).parent / "includes" / "word2phrase.c"
    if not src.exists():
        raise SystemExit(f"{src} not found; give --word2phrase-src")
    return src


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--word2phrase-src", nargs="+", type=Path, default=[],
                    help="more word2phrase.c sources to build and time (the PyPI package's comes first)")
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--threshold", type=float, default=100.0)
    ap.add_argument("--repeat", type=int, default=1, help="runs of embedkit and word2phrase (best is reported)")
    ap.add_argument("--skip-gensim", action="store_true")
    args = ap.parse_args()

    text = plain_text8()
    work = Path(tempfile.mkdtemp(prefix="bench-phrases-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    embedkit_cmd = [sys.executable, "-c", "import sys; from embedkit.cli import main; sys.exit(main())"]
    sources = [("word2phrase C (PyPI word2vec source)", pypi_word2phrase_source())]
    sources += [(f"word2phrase C ({s.name} given)", s) for s in args.word2phrase_src]
    settings = [str(args.min_count), str(args.threshold)]
    try:
        build = work / "build"
        build.mkdir()
        exes = [(name, build_word2phrase(src, build)) for name, src in sources]
        warm = work / "warm.txt"
        warm.write_text("new york is big\n" * 20)
        timed(embedkit_cmd + ["phrases", "--corpus", str(warm), "--output", str(work / "warm.out")], env)
        runs = {}          # name -> (best wall, rss, output path, note)

        def record(name, cmd, out, env=None):
            wall, rss, note = timed(cmd, env)
            best = runs.get(name)
            if best is None or wall < best[0]:
                runs[name] = (wall, rss, out, note)
            print(f"  {name}: {wall:.1f} s, {rss:.0f} MB {note}", file=sys.stderr, flush=True)

        for _ in range(args.repeat):
            for name, exe in exes:
                out = work / f"{exe.name}.txt"
                record(name, [str(exe), "-train", str(text), "-output", str(out), "-min-count", settings[0],
                              "-threshold", settings[1], "-debug", "0"], out)
            out = work / "embedkit.txt"
            record("embedkit", embedkit_cmd + ["phrases", "--corpus", str(text), "--output", str(out),
                                               "--tokenizer", "whitespace", "--no-cache", "--min-count", settings[0],
                                               "--threshold", settings[1]], out, env)
        if not args.skip_gensim:
            out = work / "gensim.txt"
            record("gensim 4.4 Phrases", [sys.executable, "-c", GENSIM, str(text), str(out), *settings], out)

        ref_name = sources[0][0]
        ref_wall, ref_set = runs[ref_name][0], joined(runs[ref_name][2])
        gensim_wall = runs.get("gensim 4.4 Phrases", (None,))[0]
        rows = []
        for name, (wall, rss, out, note) in runs.items():
            found = joined(out)
            jac = len(found & ref_set) / len(found | ref_set) if found | ref_set else 1.0
            rows.append([name, f"{wall:.1f}", f"{rss:,.0f}", f"{ref_wall / wall:.2f}x",
                         f"{gensim_wall / wall:.2f}x" if gensim_wall else "n/a", f"{len(found):,}", f"{jac:.4f}"])
        print(f"text8 ({text}), min_count {args.min_count}, threshold {args.threshold:g}, one pass; "
              f"best of {args.repeat} for embedkit and word2phrase")
        print(markdown_table(["tool", "wall s", "peak RSS MB", f"speed vs {ref_name}", "speed vs gensim",
                              "phrases", "Jaccard vs reference"], rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
