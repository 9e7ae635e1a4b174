"""embedkit's classifier vs fastText 0.9.3 (PyPI `fasttext`) supervised, side by side in one run.

    MALLOC_MMAP_THRESHOLD_=65536 /work/tools/bench python benchmarks/bench_classifier.py   # the four sets
    (fastText 0.9.3 leaves most of its input matrix as the allocator returned it, and may then stop
    with "Encountered NaN" in a process that has freed memory; a fixed mmap threshold makes every large
    allocation fresh zeroed pages, as in a new process)
    python benchmarks/bench_classifier.py --sets sentence-polarity --repeat 1   # a quick check
    ... bench_classifier.py --repeat 2 --tree before=/work/wt/before   # before/after in one run

With --tree NAME=PATH (repeatable), embedkit runs in child processes, one per source tree: this
checkout as "embedkit" and each PATH as "embedkit@NAME" (PYTHONPATH=PATH), each child with its own
warm-up, on the same sets; fastText runs once, in this process. One table is printed per tree.

Sets: ../shared/data/classification/{sentence-polarity, subjectivity, nps-chat-dialogue-acts,
wordnet-lexnames}.{train,test}.txt (fixed splits). Losses as the issue says: softmax on the
2-label sets, softmax and hs on the 15- and 45-label sets.

Settings, the same for both (fastText supervised's defaults): dim 100, lr 0.1, 5 epochs, word
n-grams 1, min count 1, the loss of the row; --threads worker threads for both (default 2, the
cores of the benchmark machine); seed 1.

Measured, in this one process (fastText's C++ and embedkit's numba kernels both precompiled: the
numba kernels are loaded, or compiled, by a warm-up training on a tiny file first, reported apart
as "warm-up s"):
  * train s: wall time of the whole training call, file reading and dictionary building included
    (fasttext.train_supervised / embedkit.train), the best of --repeat runs; examples/s = epochs x
    training lines / train s (so the examples/s ratio is the inverse train-time ratio);
  * P@1: each tool's own test on the test file (fastText's model.test, embedkit's Classifier.test;
    the P@1 of the last run);
  * predict lines/s: model.predict(list of test lines, labels removed, k=1) of each tool's Python
    API, the best of as many calls as take a second in all (at least --repeat): one call on the small
    sets takes a few milliseconds.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, ROOT, markdown_table, run_child  # noqa: E402

SETS = {  # name -> losses
    "sentence-polarity": ("softmax",),
    "subjectivity": ("softmax",),
    "nps-chat-dialogue-acts": ("softmax", "hs"),
    "wordnet-lexnames": ("softmax", "hs"),
}
CLASSIFICATION = DATA / "classification"
PREDICT_S = 1.0    # seconds of predict calls per (tool, set, loss), at least --repeat calls


def texts_of(path: Path) -> list[str]:
    return [" ".join(t for t in line.split() if not t.startswith("__label__"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def best_of(repeat: int, fn):
    """(smallest seconds, the last result) of `repeat` calls."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def best_of_at_least(seconds: float, repeat: int, fn):
    """best_of, repeating fn until it ran `repeat` times and for `seconds` in all: a prediction over a
    small test set takes milliseconds, where two runs measure the scheduler more than the code."""
    best, spent, runs = float("inf"), 0.0, 0
    while runs < repeat or spent < seconds:
        took, _ = best_of(1, fn)
        best, spent, runs = min(best, took), spent + took, runs + 1
    return best, None


def warm_up(threads: int) -> float:
    """Load (or compile) embedkit's kernels for every loss on a tiny file; returns the seconds."""
    import embedkit
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny.txt"
        path.write_text("".join(f"__label__{i % 3} w{i % 7} w{i % 5}\n" for i in range(50)))
        for loss in ("softmax", "hs"):
            clf = embedkit.train("classifier", str(path), objective=loss, epochs=1, workers=threads)
            clf.predict(["w1 w2"])
            clf.test(str(path))
    return time.perf_counter() - t0


def run_fasttext(name: str, loss: str, threads: int, repeat: int) -> dict:
    import fasttext
    train, test = CLASSIFICATION / f"{name}.train.txt", CLASSIFICATION / f"{name}.test.txt"
    n_train = sum(1 for line in train.open(encoding="utf-8") if "__label__" in line)
    texts = texts_of(test)
    settings = dict(dim=100, lr=0.1, epoch=5, wordNgrams=1, minCount=1)
    ft_train, ft = best_of(repeat, lambda: fasttext.train_supervised(
        str(train), loss=loss, thread=threads, seed=1, verbose=0, **settings))
    ft_p1 = ft.test(str(test))[1]
    ft_pred, _ = best_of_at_least(PREDICT_S, repeat, lambda: ft.predict(texts, k=1))
    return {"set": name, "loss": loss, "labels": len(ft.labels), "train_lines": n_train, "test_lines": len(texts),
            "fasttext": {"train_s": ft_train, "p_at_1": ft_p1, "predict_s": ft_pred,
                         "examples_per_s": 5 * n_train / ft_train, "lines_per_s": len(texts) / ft_pred}}


def run_embedkit(name: str, loss: str, threads: int, repeat: int) -> dict:
    import embedkit
    train, test = CLASSIFICATION / f"{name}.train.txt", CLASSIFICATION / f"{name}.test.txt"
    n_train = sum(1 for line in train.open(encoding="utf-8") if "__label__" in line)
    texts = texts_of(test)
    ek_train, ek = best_of(repeat, lambda: embedkit.train(
        "classifier", str(train), objective=loss, workers=threads, seed=1, dim=100, lr=0.1, epochs=5,
        word_ngrams=1, min_count=1))
    ek_p1 = ek.test(str(test))["precision_at_k"]
    ek_pred, _ = best_of_at_least(PREDICT_S, repeat, lambda: ek.predict(texts, k=1))
    return {"train_s": ek_train, "p_at_1": ek_p1, "predict_s": ek_pred,
            "examples_per_s": 5 * n_train / ek_train, "lines_per_s": len(texts) / ek_pred}


def embedkit_child(tree: str, runs: list, threads: int, repeat: int) -> dict:
    """{"warm_up_s", "results": [run_embedkit of each (set, loss)]} from a child importing embedkit from `tree`."""
    code = (f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})\n"
            "import bench_classifier as b\n"
            "RESULT = {'warm_up_s': b.warm_up(ARGS['threads']), 'results': [b.run_embedkit(n, l, ARGS['threads'], "
            "ARGS['repeat']) for n, l in ARGS['runs']]}\n")
    return run_child(code, {"runs": runs, "threads": threads, "repeat": repeat}, pythonpath=tree)


def table(results: list[dict]) -> str:
    rows = []
    for r in results:
        ft, ek = r["fasttext"], r["embedkit"]
        rows.append([r["set"], r["labels"], r["loss"], f"{ft['train_s']:.2f}", f"{ek['train_s']:.2f}",
                     f"{ft['train_s'] / ek['train_s']:.2f}x", f"{100 * ft['p_at_1']:.1f}", f"{100 * ek['p_at_1']:.1f}",
                     f"{100 * (ek['p_at_1'] - ft['p_at_1']):+.1f}", f"{ft['lines_per_s']:,.0f}",
                     f"{ek['lines_per_s']:,.0f}", f"{ek['lines_per_s'] / ft['lines_per_s']:.2f}x"])
    return markdown_table(["set", "labels", "loss", "fastText train s", "embedkit train s", "train speed ratio",
                           "fastText P@1", "embedkit P@1", "P@1 diff (points)", "fastText predict lines/s",
                           "embedkit predict lines/s", "predict ratio"], rows)


def hs_lines(results: list[dict]) -> list[str]:
    """The hs bar: hs vs softmax of each tool, per set that has both."""
    out = []
    by = {(r["set"], r["loss"]): r for r in results}
    for name in SETS:
        if (name, "softmax") in by and (name, "hs") in by:
            for tool in ("embedkit", "fasttext"):
                s, h = by[(name, "softmax")][tool], by[(name, "hs")][tool]
                out.append(f"{name} {tool}: hs trains {s['train_s'] / h['train_s']:.2f}x faster than softmax, "
                           f"P@1 {100 * (h['p_at_1'] - s['p_at_1']):+.1f} points")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated set names")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="runs per timing; the best is reported")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                    help="another embedkit source tree (e.g. a checkout of main before a change), run as "
                         "embedkit@NAME in a child process, as this checkout then is too: before/after in one run")
    ap.add_argument("--json", help="write the raw results here")
    args = ap.parse_args(argv)
    runs = [(name, loss) for name in args.sets.split(",") for loss in SETS[name]]
    if not args.tree:                                  # embedkit in this process, after fastText, set by set
        warm = {"embedkit": warm_up(args.threads)}
        results = []
        for name, loss in runs:
            r = run_fasttext(name, loss, args.threads, args.repeat)
            r["embedkit"] = run_embedkit(name, loss, args.threads, args.repeat)
            results.append(r)
            print(f"done {name} {loss}", file=sys.stderr, flush=True)
        peers = ["embedkit"]
    else:
        trees = {"embedkit": str(ROOT), **{f"embedkit@{k}": v for k, v in (t.split("=", 1) for t in args.tree)}}
        results = [run_fasttext(name, loss, args.threads, args.repeat) for name, loss in runs]
        warm = {}
        for peer, path in trees.items():
            child = embedkit_child(path, runs, args.threads, args.repeat)
            warm[peer] = child["warm_up_s"]
            for r, e in zip(results, child["results"]):
                r[peer] = e
            print(f"done {peer}", file=sys.stderr, flush=True)
        peers = list(trees)
    for peer in peers:
        print(f"\n{peer}:\n")
        print(table([{**r, "embedkit": r[peer]} for r in results]))
        print()
        for line in hs_lines([{**r, "embedkit": r[peer]} for r in results]):
            print(line)
    print(f"\nembedkit warm-up (kernel load or compile, all losses): "
          + ", ".join(f"{p} {w:.1f} s" for p, w in warm.items()) + f"; threads {args.threads}; best of {args.repeat}")
    if args.json:
        Path(args.json).write_text(json.dumps({"warm_up_s": warm, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
