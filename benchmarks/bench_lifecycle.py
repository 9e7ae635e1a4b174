"""The training lifecycle's bars (issue 12), on the shared text8-style corpus.

    python benchmarks/bench_lifecycle.py overhead [--epochs 2] [--repeats 2] [--warmup 1]
    python benchmarks/bench_lifecycle.py continued [--models skipgram,fasttext,glove] [--epochs 5]
                                                   [--schedules restart,continue]

overhead: skip-gram NS (word2vec defaults, 2 workers) without checkpoints and with a checkpoint
every 10M words, alternated in one run (none, every-10M, none, every-10M, ...), each in its own
child process, after --warmup unmeasured runs (the first run after a change compiles the kernels
into numba's cache, and the page cache warms); the table gives each variant's mean training
seconds, the overhead of the means, and the seconds the runs spent writing checkpoints (the
training log's checkpoint_seconds) as a share of their training time: the direct measure, which
Hogwild's run-to-run spread of a few percent does not blur.

continued: text8 split into halves A and B at a sentence-piece boundary (a multiple of 10,000
tokens, the default --max-sentence-length, so A and B have the pieces A+B has). Per model: EPOCHS
on A, then continued with --update-vocab for EPOCHS on B, against EPOCHS on A+B from scratch.
The continued run is made once per --schedules entry
(--lr-schedule restart | continue; "default" is the model's default). Analogy: Google set,
3CosAdd, 30,000 most frequent words, case-folded; WS-353 and MEN Spearman; "B-only pairs": the
WS-353 + MEN pairs with a word that is in A+B's vocabulary but not in A's, both of whose words are
in the vocabularies of every model compared (so each model scores the same pairs: a continued run
adds only the words that reach min_count in B alone, and the subword model would otherwise answer
missing words from n-grams), and the Spearman of each model on those pairs alone.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, TEXT8_GZ, markdown_table, run_child  # noqa: E402

PIECE = 10_000

OVERHEAD_CHILD = """
import time, shutil
import embedkit
t0 = time.perf_counter()
emb = embedkit.train("skipgram", corpus=ARGS["corpus"], output=ARGS["out"], epochs=ARGS["epochs"], workers=2,
                     checkpoint_every=ARGS["every"])
log = emb.training_log
RESULT = {"train_s": log["train_seconds"], "checkpoints": log.get("checkpoints_written", 0),
          "write_s": log.get("checkpoint_seconds", 0.0)}
shutil.rmtree(ARGS["out"], ignore_errors=True)
"""

CONTINUED_CHILD = """
import embedkit
kw = dict(epochs=ARGS["epochs"], workers=2, **ARGS["extra"])
if ARGS["init"]:
    emb = embedkit.train(ARGS["model"], corpus=ARGS["corpus"], output=ARGS["out"], init=ARGS["init"],
                         update_vocab=True, epochs=ARGS["epochs"], lr_schedule=ARGS["schedule"])
else:
    emb = embedkit.train(ARGS["model"], corpus=ARGS["corpus"], output=ARGS["out"], **kw)
RESULT = {"train_s": emb.training_log["train_seconds"], "vocab": len(emb)}
"""

EXTRA = {"skipgram": {}, "fasttext": {"bucket": 500_000}, "glove": {"window": 15, "x_max": 10.0}}


def split_text8(workdir: Path) -> tuple[Path, Path, Path]:
    """A, B and A+B as one-line files; the cut is the piece boundary nearest the middle."""
    paths = [workdir / n for n in ("A.txt", "B.txt", "AB.txt")]
    if all(p.exists() for p in paths):
        return tuple(paths)
    with gzip.open(TEXT8_GZ, "rt") as f:
        tokens = f.read().split()
    cut = round(len(tokens) / 2 / PIECE) * PIECE
    for path, part in zip(paths, (tokens[:cut], tokens[cut:], tokens)):
        path.write_text(" ".join(part) + "\n")
    return tuple(paths)


def overhead(args) -> None:
    corpus = str(TEXT8_GZ)
    runs = {"none": [], "10M": []}
    plan = [("warmup", None)] * args.warmup + [("none", None), ("10M", "10M")] * args.repeats
    for name, every in plan:
        out = tempfile.mkdtemp(prefix="bench-lifecycle-")
        r = run_child(OVERHEAD_CHILD, {"corpus": corpus, "out": out, "epochs": args.epochs, "every": every})
        runs.setdefault(name, []).append(r)
        print(name, r, file=sys.stderr, flush=True)
    runs.pop("warmup", None)
    mean = {k: sum(r["train_s"] for r in v) / len(v) for k, v in runs.items()}
    rows = []
    for k, v in runs.items():
        write = sum(r["write_s"] for r in v) / len(v)
        rows.append([k, ", ".join(f"{r['train_s']:.1f}" for r in v), f"{mean[k]:.1f}", v[0]["checkpoints"],
                     "" if k == "none" else f"{100 * (mean[k] / mean['none'] - 1):+.1f}%",
                     "" if k == "none" else f"{write:.2f} s ({100 * write / mean[k]:.1f}%)"])
    print(f"skip-gram NS, text8, {args.epochs} epochs, 2 workers, {args.repeats} runs each after {args.warmup} warm-up")
    print(markdown_table(["checkpoints", "train s (each run)", "mean s", "written per run", "overhead of the means",
                          "writing them (share of train s)"], rows))


def b_only_pairs(b_only: set, vocabularies: list) -> list:
    """[((w1, w2), gold)] of WS-353 and MEN with a word of b_only, both words in every vocabulary."""
    from embedkit.evaluate.datasets import read_pairs, resolve
    sets = [read_pairs(resolve("wordsim353")), read_pairs(EVAL / "EN-MEN-TR-3k.txt", name="men")]
    known = set.intersection(*vocabularies)
    return [((a, b), g) for s in sets for (a, b), g in zip(s.pairs, s.gold)
            if (a.lower() in b_only or b.lower() in b_only) and a.lower() in known and b.lower() in known]


def scores(path: Path, keep: list) -> dict:
    import numpy as np
    import embedkit
    from embedkit.evaluate.datasets import PairSet
    from embedkit.evaluate.report import evaluate_all
    from embedkit.evaluate.similarity import evaluate_similarity
    emb = embedkit.load(path)
    report = evaluate_all(emb, analogy=["questions-words"], similarity=["wordsim353", "men"])
    out = {"analogy": 100 * report.analogy[0].accuracy}
    for r in report.similarity:
        out[r.name] = r.spearman
    if len(keep) >= 2:
        r = evaluate_similarity(emb, PairSet("b-only", [p for p, _ in keep], np.array([g for _, g in keep]),
                                             list(range(len(keep)))))
        out["b_only"], out["b_only_pairs"] = r.spearman, r.scored
    return out


def continued(args) -> None:
    import embedkit
    work = Path(tempfile.gettempdir()) / "embedkit-bench" / "lifecycle"
    work.mkdir(parents=True, exist_ok=True)
    a, b, ab = split_text8(work)
    rows = []
    schedules = args.schedules.split(",")
    for model in args.models.split(","):
        extra = EXTRA[model]
        common = {"model": model, "epochs": args.epochs, "extra": extra, "schedule": None}
        runs = {"A only": (f"{model}-A", run_child(CONTINUED_CHILD, {**common, "corpus": str(a),
                                                                       "out": str(work / f"{model}-A"), "init": None}))}
        for schedule in schedules:
            out = f"{model}-AthenB-{schedule}"
            runs[f"A then B (--update-vocab, --lr-schedule {schedule})"] = (out, run_child(CONTINUED_CHILD, {
                **common, "corpus": str(b), "out": str(work / out), "init": str(work / f"{model}-A"),
                "schedule": None if schedule == "default" else schedule}))
        runs["A+B from scratch"] = (f"{model}-AB", run_child(CONTINUED_CHILD, {**common, "corpus": str(ab),
                                                                              "out": str(work / f"{model}-AB"),
                                                                              "init": None}))
        vocab = {name: set(embedkit.load(work / out).words) for name, (out, _) in runs.items()}
        b_only = vocab["A+B from scratch"] - vocab["A only"]
        keep = b_only_pairs(b_only, [v for name, v in vocab.items() if name != "A only"])
        for name, (out, r) in runs.items():
            s = scores(work / out, keep)
            added = f"{len(b_only & vocab[name]):,} of {len(b_only):,}" if name != "A only" else "0"
            rows.append([model, name, r["vocab"], added, f"{r['train_s']:.0f}", f"{s['analogy']:.1f}",
                         f"{s.get('wordsim353', float('nan')):.3f}", f"{s.get('men', float('nan')):.3f}",
                         "-" if name == "A only" else
                         f"{s.get('b_only', float('nan')):.3f} ({s.get('b_only_pairs', 0)} pairs)"])
            print(rows[-1], file=sys.stderr, flush=True)
    print(f"text8 halves A and B, {args.epochs} epochs each; analogy 3CosAdd 30k case-folded (%)")
    print(markdown_table(["model", "run", "vocab", "B-only words in it", "train s", "analogy", "WS-353", "MEN",
                          "B-only pairs"], rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    o = sub.add_parser("overhead")
    o.add_argument("--epochs", type=int, default=2)
    o.add_argument("--repeats", type=int, default=2)
    o.add_argument("--warmup", type=int, default=1, help="unmeasured runs first (default: 1)")
    c = sub.add_parser("continued")
    c.add_argument("--models", default="skipgram")
    c.add_argument("--epochs", type=int, default=5)
    c.add_argument("--schedules", default="default",
                   help="the continued runs' --lr-schedule values, comma-separated: restart, continue, default")
    args = p.parse_args()
    overhead(args) if args.what == "overhead" else continued(args)


if __name__ == "__main__":
    main()
