"""numba vs torch backends of the word2vec family, side by side in one run, on the shared text8 corpus.

    python benchmarks/bench_torch.py                                  # sg-ns, cbow-ns, subword cbow; 5 epochs
    python benchmarks/bench_torch.py --variants cbow-ns --device cuda # torch on a GPU (numba stays on the CPU)
    python benchmarks/bench_torch.py --tokens 4000000 --epochs 1      # a smaller setting (first N tokens)

Settings as the word2vec issue: dim 100, window 5, negative 5, sample 1e-3, min_count 5, 2 workers
(numba threads; torch intra-op threads on the CPU). Each training runs in its own child process;
words/s = raw corpus tokens x epochs / training seconds; "after epoch 1" leaves out the first epoch (start-up,
and on CUDA torch.compile and the graph's capture). Vectors are scored by embedkit's
evaluators: Google analogy 3CosAdd over the 30,000 most frequent words, case-folded; WS-353 and
SimLex-999 Spearman. The subword model runs fastText's CBOW with this issue's word2vec settings
(sample 1e-3, noise exponent 0.75, lr 0.05) and bucket 2,000,000.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, TEXT8_GZ, markdown_table, run_child  # noqa: E402

VARIANTS = {"sg-ns": ("skipgram", {}), "cbow-ns": ("cbow", {}),
            "subword-cbow": ("fasttext", {"arch": "cbow", "ns_exponent": 0.75, "lr": 0.05})}
NAMES = {"sg-ns": "skip-gram NS", "cbow-ns": "CBOW NS", "subword-cbow": "subword CBOW NS"}

CHILD = """
import embedkit
from embedkit.config import CorpusConfig
from embedkit.corpus.prepare import prepare_corpus
corpus = prepare_corpus([ARGS['corpus']], CorpusConfig(min_count=5))
opts = dict(ARGS['opts'], dim=ARGS['dim'], window=5, negative=5, sample=1e-3, epochs=ARGS['epochs'],
            workers=ARGS['workers'], backend=ARGS['backend'], seed=ARGS['seed'])
if ARGS['backend'] == 'torch':
    opts.update(device=ARGS['device'], batch_size=ARGS['batch_size'])
t0 = time.perf_counter()
emb = embedkit.train(ARGS['model'], corpus, **opts)
train_s = time.perf_counter() - t0
emb.save(ARGS['out'], format='word2vec-binary')
RESULT = {'train_s': train_s, 'tokens': int(corpus.n_tokens), 'vocab': len(emb),
          'loss': emb.training_log['epochs'][-1]['loss'],
          'epoch_s': [e['seconds'] for e in emb.training_log['epochs']]}
"""


def evaluate(path: str) -> dict:
    import embedkit
    from embedkit.evaluate import evaluate_analogies, evaluate_similarity
    emb = embedkit.load(path)
    a = evaluate_analogies(emb, EVAL / "questions-words.txt", restrict_vocab=30000)
    ws = evaluate_similarity(emb, EVAL / "EN-WS-353-ALL.txt")
    sl = evaluate_similarity(emb, EVAL / "EN-SIMLEX-999.txt")
    return {"total": 100 * a.accuracy, "seen": a.seen, "questions": a.total, "ws353": ws.spearman,
            "simlex": sl.spearman}


def corpus_file(tokens: int | None, workdir: Path) -> str:
    """text8 itself, or its first `tokens` words as one file (a smaller setting)."""
    if not tokens:
        return str(TEXT8_GZ)
    out = workdir / f"text8-{tokens}.txt"
    if not out.exists():
        with gzip.open(TEXT8_GZ, "rt") as f:
            words = f.read(tokens * 12).split()[:tokens]
        out.write_text(" ".join(words) + "\n")
    return str(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default="sg-ns,cbow-ns,subword-cbow")
    ap.add_argument("--backends", default="numba,torch")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="the torch backend's device")
    ap.add_argument("--batch-size", type=int, default=None, help="the torch backend's batch (default: the config's)")
    ap.add_argument("--seed", type=int, default=1, help="both backends' seed (the spread of one setting)")
    ap.add_argument("--tokens", type=int, default=None, help="train on the first N tokens of text8 only")
    ap.add_argument("--workdir", default="/tmp/embedkit-bench-torch")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    corpus = corpus_file(a.tokens, work)
    rows, results = [], []
    for variant in a.variants.split(","):
        model, opts = VARIANTS[variant]
        scores = {}
        for backend in a.backends.split(","):
            out = work / f"{variant}-{backend}.bin"
            args = {"model": model, "opts": opts, "dim": a.dim, "epochs": a.epochs, "workers": a.workers,
                    "backend": backend, "device": a.device, "seed": a.seed, "corpus": corpus, "out": str(out)}
            if a.batch_size:
                args["batch_size"] = a.batch_size
            elif backend == "torch":
                from embedkit.config import FastTextConfig, Word2VecConfig
                cfg_cls = FastTextConfig if model == "fasttext" else Word2VecConfig
                args["batch_size"] = cfg_cls(arch=opts.get("arch", model)).start_batch_size()
            r = run_child(CHILD, args, timeout=3 * 3600)   # torch-CPU subword: ~30 min for 5 epochs, more under load
            r.update(evaluate(str(out)), variant=variant, backend=backend)
            r["words_per_s"] = r["tokens"] * a.epochs / r["train_s"]
            later = r["epoch_s"][1:]           # epochs after the first: no start-up, compiling or capture
            r["later_words_per_s"] = r["tokens"] * len(later) / sum(later) if later else r["words_per_s"]
            scores[backend] = r
            results.append(r)
            where = backend if backend == "numba" else f"torch ({a.device}, batch {args['batch_size']})"
            rows.append([NAMES[variant], where, f"{r['train_s']:.0f}", f"{r['words_per_s'] / 1e3:,.0f}k",
                         f"{r['later_words_per_s'] / 1e3:,.0f}k", f"{r['total']:.1f}", f"{r['ws353']:.3f}", f"{r['simlex']:.3f}", f"{r['loss']:.3f}"])
            print(json.dumps(r), flush=True)
        if "numba" in scores and "torch" in scores:
            n, t = scores["numba"], scores["torch"]
            rows.append([NAMES[variant], "torch - numba", "", "", "", f"{t['total'] - n['total']:+.1f}",
                         f"{t['ws353'] - n['ws353']:+.3f}", f"{t['simlex'] - n['simlex']:+.3f}", ""])
    seen = results[0]
    print(f"\ncorpus {corpus}, {seen['tokens']:,} tokens, vocabulary {seen['vocab']:,}; {a.epochs} epochs; "
          f"analogy 3CosAdd, 30k, case-folded, {seen['seen']:,} of {seen['questions']:,} questions seen\n")
    print(markdown_table(["variant", "backend", "train s", "words/s", "words/s after epoch 1", "analogy %", "WS-353", "SimLex",
                          "last-epoch loss"], rows))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
