"""Distributed training on loopback: R ranks x 1 worker (torchrun, gloo) against 1 process x 2 workers.

    python benchmarks/bench_distributed.py                               # sg-ns, cbow-ns, glove; 1x2, 2x1, 4x1
    python benchmarks/bench_distributed.py --variants sg-ns --epochs 1 --layouts 1x2,2x1
    python benchmarks/bench_distributed.py --layouts 1x2,2x1 --repeat 2  # each pair twice, ABBA order
    python benchmarks/bench_distributed.py --variants cbow-ns --layouts 1x2,2x1 --seed 2

Every training is a `python -m embedkit train` (1 process) or `python -m torch.distributed.run
--standalone --nproc-per-node R -m embedkit train --distributed` command on the shared text8 file,
the word2vec issue's settings (dim 100, window 5, negative 5, sample 1e-3, min_count 5) and the
GloVe issue's (dim 100, window 10, x_max 100, 15 epochs). The corpus (and GloVe's co-occurrence
matrix) are prepared into the cache first, untimed. words/s (pairs/s for GloVe) = units trained by
all ranks / training seconds of rank 0 (syncs included). Evaluation as bench_word2vec.py: Google
analogy 3CosAdd over the 30,000 most frequent words, case-folded; WS-353 and SimLex-999 Spearman.

The projection to 8, 64 and 512 ranks: each rank computes at the measured per-rank rate c (units
per second between syncs, from the 2x1 run); every sync_every units N it all-reduces the S bytes
of all rows, and every hot_sync_every units in between the S_hot bytes of the hot rows, each with a
ring (2 (R-1)/R x the bytes sent and received per rank) over a link of --link-gbit Gbit/s with
--latency-us per message step (2 (R-1) steps): words/s(R) = R x N / (N / c + t_sync(R)), t_sync(R)
the time of one full sync and its hot syncs.

--repeat N trains every layout N times, alternating the order (1x2 2x1, then 2x1 1x2, ...), so that
a slow stretch of a shared machine falls on both layouts alike. A row of the table then gives the
median of the runs' rates and seconds, the mean of their quality figures, and each repeat's rate
against the reference layout's run of the same repeat.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, TEXT8_GZ, markdown_table  # noqa: E402

VARIANTS = {"sg-ns": ["--model", "skipgram", "--objective", "ns", "--window", "5", "--negative", "5",
                      "--sample", "1e-3"],
            "cbow-ns": ["--model", "cbow", "--objective", "ns", "--window", "5", "--negative", "5",
                        "--sample", "1e-3"],
            "glove": ["--model", "glove", "--window", "10", "--x-max", "100"]}


def train(variant: str, layout: str, a, out: Path) -> dict:
    ranks, workers = map(int, layout.split("x"))
    epochs = a.glove_epochs if variant == "glove" else a.epochs
    args = ["train", *VARIANTS[variant], "--corpus", str(TEXT8_GZ), "-o", str(out), "--dim", str(a.dim),
            "--min-count", "5", "--epochs", str(epochs), "--workers", str(workers), "--quiet", "--seed", str(a.seed)]
    if ranks == 1:
        cmd = [sys.executable, "-m", "embedkit", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks),
               "-m", "embedkit", *args, "--distributed"]
        if a.sync_every:
            cmd += ["--sync-every", str(a.sync_every)]
        if a.sync_rule:
            cmd += ["--sync-rule", a.sync_rule]
        cmd += a.distributed_args.split()
    env = dict(os.environ, OMP_NUM_THREADS="1", LOGLEVEL="ERROR")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=7200)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    log = json.loads((out / "training_log.json").read_text())
    unit = "pairs" if variant == "glove" else "words"
    d = log.get("distributed")
    res = {"variant": variant, "layout": layout, "epochs": epochs, "train_s": log["train_seconds"],
           "rate": d["units_per_second_all_ranks"] if d else log[f"{unit[:-1]}s_per_second"], "unit": unit}
    if d:
        compute_s = log["train_seconds"] - d["sync_seconds"]
        res.update(sync_rule=d["sync_rule"], syncs=d["syncs"], sync_s=d["sync_seconds"], sync_wait_s=d["sync_wait_seconds"],
                   bytes_per_sync=d["bytes_per_sync"],
                   sync_every=d["sync_every"], rate_per_rank_compute=d["units_all_ranks"] / ranks / compute_s,
                   hot_syncs=d["hot_syncs"], hot_rows=d["hot_rows"], bytes_per_hot_sync=d["bytes_per_hot_sync"],
                   hot_sync_every=d["hot_sync_every"], warm_syncs=d["warm_syncs"], warm_rows=d["warm_rows"],
                   bytes_per_warm_sync=d["bytes_per_warm_sync"], all_rows_every=d["all_rows_every"])
    return res


def warm_cache(variant: str) -> None:
    """Untimed: the encoded corpus (and GloVe's co-occurrence matrix) into the cache, as the runs find them."""
    from embedkit.config import CorpusConfig, GloVeConfig
    from embedkit.corpus.prepare import prepare_corpus
    corpus = prepare_corpus([str(TEXT8_GZ)], CorpusConfig(min_count=5))
    if variant == "glove":
        from embedkit.trainers.glove import get_cooccurrences
        get_cooccurrences(corpus, GloVeConfig(window=int(VARIANTS["glove"][VARIANTS["glove"].index("--window") + 1])))


def evaluate(path: Path) -> dict:
    import embedkit
    from embedkit.evaluate import evaluate_analogies, evaluate_similarity
    emb = embedkit.load(path)
    an = evaluate_analogies(emb, EVAL / "questions-words.txt", restrict_vocab=30000)
    return {"analogy": an.accuracy, "seen": an.seen, "questions": an.total,
            "ws353": evaluate_similarity(emb, EVAL / "EN-WS-353-ALL.txt").spearman,
            "simlex": evaluate_similarity(emb, EVAL / "EN-SIMLEX-999.txt").spearman}


def sync_seconds(bytes_: float, ranks: int, link_gbit: float, latency_us: float) -> float:
    """A ring all-reduce of `bytes_` over `ranks` ranks: 2 (R-1)/R x S bytes each way, 2 (R-1) steps."""
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) / ranks * bytes_ / (link_gbit * 1e9 / 8) + 2 * (ranks - 1) * latency_us * 1e-6


def projection(r: dict, hot: dict | None, a) -> tuple[list[str], list[list]]:
    """Projected rate and sync cost at 2, 8, 64 and 512 ranks from a measured 2x1 run r: per full
    interval of n units a rank computes n / c seconds and makes one full sync: of all S bytes at
    one in a (all_rows_every, with warm rows; else 1), of S_warm + S_hot bytes at the others (the
    warm rows and a hot sync). It also makes the hot syncs of r, or from 3 ranks on those of the
    run `hot` (a 4x1 run of the same variant): n / hot_sync_every - 1 of S_hot bytes each; without
    such a run, embedkit's defaults for that many ranks (no warm rows there), with S_hot scaled
    from r's hot syncs by the number of rows (the arrays have more rows than that on text8)."""
    from embedkit.distributed.run import default_hot
    from embedkit.trainers.api import MODELS
    c, n, S = r["rate_per_rank_compute"], r["sync_every"], r["bytes_per_sync"]
    rows = []
    for R in (2, 8, 64, 512):
        if R == 2 or hot:
            src = r if R == 2 else hot
            k = n // src["hot_sync_every"] - 1 if src.get("hot_sync_every") else 0
            S_hot = src.get("bytes_per_hot_sync", 0) if k else 0
            S_warm, every = (src["bytes_per_warm_sync"], src["all_rows_every"]) if src.get("warm_rows") else (0, 1)
        else:                   # no run with 3 ranks or more: embedkit's defaults there, S_hot scaled by rows
            model = VARIANTS[r["variant"]][VARIANTS[r["variant"]].index("--model") + 1]
            rows_many, per_full, _ = default_hot(MODELS[model].family, R)
            k = per_full - 1
            S_hot = r["bytes_per_hot_sync"] * rows_many / r["hot_rows"] if r.get("hot_rows") else 0
            S_warm, every = 0, 1

        def cost(b):
            return sync_seconds(b, R, a.link_gbit, a.latency_us)
        t = cost(S) / every + (1 - 1 / every) * (cost(S_warm) + cost(S_hot)) + k * cost(S_hot)
        sent = 2 * (R - 1) / R * (S / every + (1 - 1 / every) * (S_warm + S_hot) + k * S_hot)
        rate = R * n / (n / c + t)
        full = f"{S / 1e6:,.1f} MB" + (f" (1 in {every}; else {S_warm / 1e6:,.1f} MB of warm rows + a hot sync)"
                                       if every > 1 else "")
        rows.append([r["variant"], R, full, f"{k} x {S_hot / 1e6:,.1f} MB", f"{sent / 1e6:,.1f} MB",
                     f"{t:.3f}", f"{n / c:.3f}", f"{rate / 1e6:,.2f}M", f"{rate / (R * c):.2f}"])
    return ["variant", "ranks", "S (full sync)", "hot syncs x S_hot", "sent per rank per interval", "sync s",
            "compute s per interval", f"projected {r['unit']}/s", "efficiency"], rows


def aggregate(results: list) -> tuple[list, dict]:
    """(one result per variant and layout: the median of its runs' rates and seconds, the mean of
    their quality figures; {(variant, layout): [its runs]})."""
    runs = {}
    for r in results:
        runs.setdefault((r["variant"], r["layout"]), []).append(r)
    merged = []
    for group in runs.values():
        m = dict(group[0])
        for key in ("train_s", "rate", "sync_s", "sync_wait_s", "rate_per_rank_compute"):
            if key in m:
                m[key] = float(np.median([g[key] for g in group]))
        for key in ("analogy", "ws353", "simlex"):
            m[key] = float(np.mean([g[key] for g in group]))
        merged.append(m)
    return merged, runs


def report(results: list, layouts: list, a) -> None:
    """The results table against the first layout, and the projections from each 2x1 run."""
    results, runs = aggregate(results)
    repeats = max(len(g) for g in runs.values())
    rows = []
    ref = {r["variant"]: r for r in results if r["layout"] == layouts[0]}
    for r in results:
        b = ref[r["variant"]]
        each = [g["rate"] / h["rate"] for g, h in zip(runs[r["variant"], r["layout"]], runs[r["variant"], layouts[0]])]
        rows.append([r["variant"], r["layout"], r["epochs"], f"{r['train_s']:.0f}", f"{r['rate'] / 1e3:,.0f}k {r['unit']}",
                     f"{r['rate'] / b['rate']:.2f}x" + (f" ({', '.join(f'{x:.2f}' for x in each)})" if repeats > 1 else ""), f"{100 * r['analogy']:.1f} ({100 * (r['analogy'] - b['analogy']):+.1f})",
                     f"{r['ws353']:.3f} ({r['ws353'] - b['ws353']:+.3f})", f"{r['simlex']:.3f} ({r['simlex'] - b['simlex']:+.3f})",
                     f"{r['syncs']} x {r['bytes_per_sync'] / 1e6:.0f} MB + "
                     + (f"{r['warm_syncs']} x {r['bytes_per_warm_sync'] / 1e6:.0f} MB + " if r.get("warm_syncs") else "")
                     + f"{r['hot_syncs']} x {r['bytes_per_hot_sync'] / 1e6:.0f} MB in {r['sync_s']:.1f} s"
                     + (f" ({r['sync_wait_s']:.1f} s waiting)" if "sync_wait_s" in r else "") if "syncs" in r else "-"])
    print()
    vs = f"vs {layouts[0]}" + (" (each repeat)" if repeats > 1 else "")
    print(markdown_table(["variant", "ranks x workers", "epochs", "train s", "rate", vs,
                          "analogy % (diff)", "WS-353 (diff)", "SimLex (diff)", "syncs (full + warm + hot)"], rows))
    for r in results:
        if r["layout"] == "2x1":
            hot = next((h for h in results if h["variant"] == r["variant"] and h.get("hot_syncs")
                        and h["layout"] != "2x1"), None)
            print()
            print(markdown_table(*projection(r, hot, a)))
    print(f"\nprojection: ring all-reduce, {a.link_gbit:g} Gbit/s per rank, {a.latency_us:g} us per step")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default="sg-ns,cbow-ns,glove")
    ap.add_argument("--layouts", default="1x2,2x1,4x1", help="RANKSxWORKERS, the first is the reference")
    ap.add_argument("--epochs", type=int, default=5, help="word2vec family")
    ap.add_argument("--glove-epochs", type=int, default=15)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1, help="--seed of every training (rank r of a run uses seed + r)")
    ap.add_argument("--sync-every", type=int, help="--sync-every of the distributed runs (default: embedkit's)")
    from embedkit.distributed.rules import SYNC_RULES
    ap.add_argument("--sync-rule", choices=tuple(SYNC_RULES), help="--sync-rule of the distributed runs (default: embedkit's)")
    ap.add_argument("--distributed-args", default="", help="more options of the distributed runs, one string")
    ap.add_argument("--link-gbit", type=float, default=10.0, help="projection: link bandwidth per rank")
    ap.add_argument("--latency-us", type=float, default=50.0, help="projection: latency per ring step")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "embedkit-bench-distributed"))
    ap.add_argument("--repeat", type=int, default=1, help="train every layout this many times (ABBA order); "
                    "the table gives medians of rates, means of quality")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--report", metavar="JSON", help="print the tables of a saved --json file and stop")
    a = ap.parse_args()
    if a.report:
        results = json.loads(Path(a.report).read_text())
        report(results, list(dict.fromkeys(r["layout"] for r in results)), a)
        return
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    layouts = a.layouts.split(",")
    results = []
    for variant in a.variants.split(","):
        warm_cache(variant)
        for repeat in range(a.repeat):
            for layout in layouts if repeat % 2 == 0 else layouts[::-1]:
                out = work / f"{variant}-{layout}"
                r = train(variant, layout, a, out)
                r.update(evaluate(out), repeat=repeat)
                results.append(r)
                print(json.dumps(r), flush=True)
    if a.json:                  # before the report: a report that fails leaves the runs saved
        Path(a.json).write_text(json.dumps(results, indent=1))
    report(results, layouts, a)


if __name__ == "__main__":
    main()
