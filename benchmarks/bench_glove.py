"""embedkit GloVe vs Stanford GloVe (C) on the shared text8-style corpus.

    nice python benchmarks/bench_glove.py                         # reference + small-corpus settings
    python benchmarks/bench_glove.py --settings reference --epochs 2 --corpus corpora/default-corpus.txt.gz

Each setting runs in its own child process: prepare_corpus (whitespace tokens, min_count 5) ->
count_cooccurrences -> train_glove (numba backend unless --backend torch) -> W + W~ vectors. The
child reports the seconds of each stage, the cost and seconds of each epoch, and its own peak RSS
after each stage (ru_maxrss, so each figure includes the stages before it). The vectors are then
evaluated by embedkit's evaluators: Google analogy 3CosAdd restricted to the 30,000 most frequent
words, case-folded; WS-353 and SimLex-999 Spearman over the pairs in the vocabulary.

Settings: "reference" is the issue's bar (window 10, x_max 100, alpha 0.75, eta 0.05, dim 100, 2
workers, 15 epochs), measured for Stanford GloVe below; "small" is GloVe's own demo.sh choice for
text8 (window 15, x_max 10), the better default for a corpus this small.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, TEXT8_GZ, markdown_table, run_child  # noqa: E402

SETTINGS = {"reference": dict(window=10, x_max=100.0), "small": dict(window=15, x_max=10.0)}

# Stanford GloVe (C, -O3 -march=native, 2 threads) on this machine, reference setting (issue 5).
GLOVE_C = {"cooccur_s": 17.0, "vocab_s": 1.2, "shuffle_s": 14.9, "epoch_s": 48.1, "train_s": 727.0,
           "peak_rss_mb": 1450, "analogy": 0.194, "sem": 0.159, "syn": 0.209, "ws353": 0.423, "simlex": 0.189,
           "coverage": 0.61}

CHILD = """
import resource
from embedkit.config import CooccurConfig, CorpusConfig, GloVeConfig
from embedkit.corpus.cooccur import count_cooccurrences
from embedkit.corpus.prepare import prepare_corpus
from embedkit.io import save
from embedkit.trainers.glove import train_glove
from embedkit.trainers.runner import TrainContext

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

t0 = time.perf_counter()
corpus = prepare_corpus([ARGS['corpus']], CorpusConfig(min_count=5, tokenizer='whitespace'), cache=ARGS['cache'])
prepare_s = time.perf_counter() - t0
rss_prepare = rss_mb()
t0 = time.perf_counter()
X = count_cooccurrences(corpus, CooccurConfig(window=ARGS['window']))
cooccur_s = time.perf_counter() - t0
rss_cooccur = rss_mb()
cfg = GloVeConfig(dim=ARGS['dim'], window=ARGS['window'], x_max=ARGS['x_max'], alpha=0.75, eta=0.05,
                  epochs=ARGS['epochs'], workers=ARGS['workers'], backend=ARGS['backend'], seed=1)
emb, arrays, log = train_glove(corpus, cfg, TrainContext(cooccur=X))
save(emb, ARGS['out'], format='word2vec-binary')
RESULT = {'prepare_s': prepare_s, 'cooccur_s': cooccur_s, 'train_s': log['train_seconds'],
          'epochs': log['epochs'], 'nonzeros': log['nonzeros'], 'vocab': len(emb), 'tokens': int(corpus.n_tokens),
          'rss_prepare_mb': rss_prepare, 'rss_cooccur_mb': rss_cooccur}
"""


def evaluate(path: str) -> dict:
    import embedkit
    from embedkit.evaluate import evaluate_analogies, evaluate_similarity
    emb = embedkit.load(path)
    a = evaluate_analogies(emb, EVAL / "questions-words.txt", restrict_vocab=30000, case_fold=True)
    ws = evaluate_similarity(emb, EVAL / "EN-WS-353-ALL.txt")
    sl = evaluate_similarity(emb, EVAL / "EN-SIMLEX-999.txt")
    return {"analogy": a.accuracy, "sem": a.semantic, "syn": a.syntactic, "seen": a.seen, "questions": a.total,
            "ws353": ws.spearman, "simlex": sl.spearman}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", default="reference,small")
    ap.add_argument("--corpus", default=str(TEXT8_GZ))
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--backend", default="numba", choices=["numba", "torch"])
    ap.add_argument("--no-cache", action="store_true", help="do not use the encoded-corpus cache")
    ap.add_argument("--workdir", default="/tmp/embedkit-bench")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for name in a.settings.split(","):
        out = str(work / f"glove-{name}.bin")
        args = dict(corpus=a.corpus, out=out, epochs=a.epochs, workers=a.workers, dim=a.dim, backend=a.backend,
                    cache=not a.no_cache, **SETTINGS[name])
        r = run_child(CHILD, args, timeout=4 * 3600)
        r.update(evaluate(out), setting=name, **SETTINGS[name])
        r["epoch_s"] = sum(e["seconds"] for e in r["epochs"]) / len(r["epochs"])
        results.append(r)
        print(json.dumps(r), flush=True)

    def pct(v):
        return "-" if v is None else f"{100 * v:.1f}"

    rows = []
    for r in results:
        total = r["prepare_s"] + r["cooccur_s"] + r["train_s"]
        rows.append([f"embedkit {r['setting']} (w {r['window']}, x_max {r['x_max']:g})", f"{r['nonzeros']:,}",
                     f"{r['prepare_s']:.1f}", f"{r['cooccur_s']:.1f}", f"{r['epoch_s']:.1f}", f"{total:.0f}",
                     f"{r['rss_cooccur_mb']:.0f} / {r['peak_rss_mb']:.0f}",
                     f"{pct(r['analogy'])} ({pct(r['sem'])} / {pct(r['syn'])})",
                     f"{r['seen']}/{r['questions']}", f"{r['ws353']:.3f}", f"{r['simlex']:.3f}"])
    g = GLOVE_C
    rows.append(["Stanford GloVe C, reference (issue 5)", "45,748,883", f"{g['vocab_s']:.1f}",
                 f"{g['cooccur_s']:.1f} + shuffle {g['shuffle_s']:.1f}", f"{g['epoch_s']:.1f}",
                 f"{g['vocab_s'] + g['cooccur_s'] + g['shuffle_s'] + g['train_s']:.0f}", f"{g['peak_rss_mb']} (cooccur)",
                 f"{pct(g['analogy'])} ({pct(g['sem'])} / {pct(g['syn'])})", f"{pct(g['coverage'])}% seen",
                 f"{g['ws353']:.3f}", f"{g['simlex']:.3f}"])
    print()
    print(f"{a.epochs} epochs, dim {a.dim}, {a.workers} workers, backend {a.backend}, eta 0.05, alpha 0.75, min_count 5")
    print(markdown_table(["run", "non-zeros", "prepare s", "cooccur s", "s/epoch", "total s",
                          "peak RSS MB (after cooccur / end)", "analogy % (sem / syn)", "seen", "WS-353",
                          "SimLex"], rows))
    print()
    for r in results:
        print(f"{r['setting']} cost per epoch: " + ", ".join(f"{e['cost']:.4f}" for e in r["epochs"]))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
