"""embedkit vs gensim 4.4 word2vec, side by side, on the shared text8-style corpus.

    python benchmarks/bench_word2vec.py                      # all four variants, both peers
    python benchmarks/bench_word2vec.py --variants sg-ns --epochs 1

Each training runs in its own child process (peak RSS is that process's own). words/s = corpus
tokens x epochs / training seconds (vocabulary building and corpus encoding excluded). Both peers'
vectors are then evaluated by the same embedkit evaluators: Google analogy 3CosAdd restricted to
the 30,000 most frequent words, case-folded; WS-353 and SimLex-999 Spearman.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, TEXT8_GZ, markdown_table, plain_text8, run_child  # noqa: E402

VARIANTS = {"sg-ns": ("skipgram", "ns"), "cbow-ns": ("cbow", "ns"), "sg-hs": ("skipgram", "hs"),
            "cbow-hs": ("cbow", "hs")}

EMBEDKIT_CHILD = """
import embedkit
from embedkit.config import CorpusConfig, Word2VecConfig
try:
    from embedkit.corpus.prepare import prepare_corpus
except ImportError:     # a --tree from before the front end's reorganisation (6508d1b)
    from embedkit.corpus.encode import prepare_corpus
from embedkit.trainers.word2vec import train_word2vec
from embedkit.io import save
corpus = prepare_corpus([ARGS['corpus']], CorpusConfig(min_count=ARGS['min_count']))
cfg = Word2VecConfig(arch=ARGS['arch'], objective=ARGS['objective'], dim=ARGS['dim'], window=ARGS['window'],
                     negative=ARGS['negative'], sample=ARGS['sample'], epochs=ARGS['epochs'], workers=ARGS['workers'])
t0 = time.perf_counter()
emb, arrays, log = train_word2vec(corpus, cfg)
train_s = time.perf_counter() - t0
save(emb, ARGS['out'], format='word2vec-binary')
RESULT = {'train_s': train_s, 'tokens': int(corpus.vocab.total_tokens), 'vocab': len(emb)}  # raw corpus tokens, as gensim's corpus_total_words
"""

GENSIM_CHILD = """
import logging
from gensim.models import Word2Vec
from gensim.models.word2vec import Text8Corpus
sentences = Text8Corpus(ARGS['plain'])
m = Word2Vec(vector_size=ARGS['dim'], window=ARGS['window'], negative=ARGS['negative'] if ARGS['objective'] == 'ns' else 0,
             hs=int(ARGS['objective'] == 'hs'), sg=int(ARGS['arch'] == 'skipgram'), sample=ARGS['sample'],
             min_count=ARGS['min_count'], workers=ARGS['workers'], epochs=ARGS['epochs'], seed=1)
m.build_vocab(sentences)
t0 = time.perf_counter()
m.train(sentences, total_examples=m.corpus_count, epochs=ARGS['epochs'])
train_s = time.perf_counter() - t0
m.wv.save_word2vec_format(ARGS['out'], binary=True)
RESULT = {'train_s': train_s, 'tokens': int(m.corpus_total_words), 'vocab': len(m.wv)}
"""


def evaluate(path: str) -> dict:
    import embedkit
    from embedkit.evaluate import evaluate_analogies, evaluate_similarity
    emb = embedkit.load(path)
    a = evaluate_analogies(emb, EVAL / "questions-words.txt", restrict_vocab=30000)
    ws = evaluate_similarity(emb, EVAL / "EN-WS-353-ALL.txt")
    sl = evaluate_similarity(emb, EVAL / "EN-SIMLEX-999.txt")
    return {"sem": a.semantic, "syn": a.syntactic, "total": a.accuracy, "seen": a.seen, "questions": a.total,
            "ws353": ws.spearman, "simlex": sl.spearman}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default="sg-ns,cbow-ns,sg-hs,cbow-hs")
    ap.add_argument("--peers", default="embedkit,gensim")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--workdir", default="/tmp/embedkit-bench")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                    help="another embedkit source tree (e.g. a checkout of main before a change), run as peer "
                         "embedkit@NAME: before/after comparisons in one run. Warm its numba cache first.")
    a = ap.parse_args()
    trees = dict(t.split("=", 1) for t in a.tree)
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    plain = str(plain_text8(work))
    rows, results = [], []
    for variant in a.variants.split(","):
        arch, objective = VARIANTS[variant]
        for peer in a.peers.split(","):
            out = str(work / f"{peer}-{variant}.bin")
            args = dict(arch=arch, objective=objective, dim=a.dim, window=5, negative=5, sample=1e-3,
                        epochs=a.epochs, workers=a.workers, min_count=5, out=out, corpus=str(TEXT8_GZ), plain=plain)
            if peer.startswith("embedkit@"):
                r = run_child(EMBEDKIT_CHILD, args, pythonpath=trees[peer.split("@", 1)[1]])
            else:
                r = run_child(EMBEDKIT_CHILD if peer == "embedkit" else GENSIM_CHILD, args)
            r.update(evaluate(out), peer=peer, variant=variant,
                     words_per_s=r["tokens"] * a.epochs / r["train_s"])
            results.append(r)
            print(json.dumps(r), flush=True)
    by = {(r["variant"], r["peer"]): r for r in results}
    for r in results:
        g = by.get((r["variant"], "gensim"))
        ratio = f"{r['words_per_s'] / g['words_per_s']:.2f}x" if g else "-"
        rows.append([r["peer"], r["variant"], f"{r['train_s']:.0f}", f"{r['words_per_s'] / 1e3:,.0f}k", ratio,
                     f"{r['peak_rss_mb']:.0f} MB", f"{100 * r['sem']:.1f} / {100 * r['syn']:.1f} / {100 * r['total']:.1f}",
                     f"{r['seen']}/{r['questions']}", f"{r['ws353']:.3f}", f"{r['simlex']:.3f}"])
    print()
    print(markdown_table(["peer", "variant", "train s", "words/s", "vs gensim", "peak RSS",
                          "analogy sem / syn / total", "seen", "WS-353", "SimLex"], rows))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
