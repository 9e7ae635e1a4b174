"""embedkit's subword model vs fastText 0.9.3 (PyPI `fasttext`) and gensim 4.4 FastText, side by side.

    # the issue's settings, both architectures, all peers (long: fastText skip-gram alone ~10 min)
    nice python benchmarks/bench_subword.py --json /tmp/embedkit-bench/subword.json
    # fastText's own defaults (lr 0.05, sample 1e-4) beside them
    nice python benchmarks/bench_subword.py --settings issue,fasttext
    # a quick check of the script: 1 epoch on the first 2M tokens, small bucket table
    python benchmarks/bench_subword.py --epochs 1 --max-tokens 2000000 --bucket 200000

Settings ("issue", from the subword issue): dim 100, window 5, negative 5, sample 1e-3, lr 0.025
skip-gram / 0.05 CBOW, minn 3, maxn 6, 2,000,000 buckets, min_count 5, 2 threads, 5 epochs.
"fasttext": the same with fastText's defaults lr 0.05 and sample 1e-4. Learning rates decay linearly
(fastText to 0, embedkit and gensim to lr x 1e-4). Noise exponent: fastText 0.5 (fixed in its
code), gensim 0.75, embedkit its config default (0.5, as fastText) unless --ns-exponent.

Each training runs in its own child process on the same plain-text corpus (text8: one line), and
evaluates there, after recording its peak RSS at the end of training ("train peak RSS"). words/s =
in-vocabulary tokens x epochs / training seconds, the same token count for every peer:
  * embedkit: train_subword only (corpus encoding excluded); the kernel runs first on a tiny slice
    (numba compile, or its cache load), reported apart as "compile s";
  * fastText: its own final words/sec/thread x threads (its progress line, training only); the
    wall time of train_unsupervised (dictionary building included) is in the JSON as wall_s;
  * gensim: Model.train only (build_vocab excluded).
Evaluation, the same embedkit evaluators for every peer: Google analogies 3CosAdd on the 30,000 most
frequent words, case-folded (coverage in "seen"); WS-353 (all), SimLex-999 and Stanford RW Spearman,
with out-of-vocabulary words answered by each model's subwords (fastText get_word_vector, gensim
wv[word], embedkit SubwordEmbeddings) -- "RW scored" counts the pairs that had vectors.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import EVAL, markdown_table, plain_text8, run_child  # noqa: E402

SETTINGS = {  # name -> (sample, lr for skipgram, lr for cbow)
    "issue": (1e-3, 0.025, 0.05),
    "fasttext": (1e-4, 0.05, 0.05),
}

# Evaluation inside each child, on `emb` (an embedkit Embeddings whose oov_vector uses the model's subwords).
EVALUATE = """
from pathlib import Path
from embedkit.evaluate import evaluate_analogies, evaluate_similarity
RESULT['train_peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
E = Path(ARGS['eval'])
a = evaluate_analogies(emb, E / 'questions-words.txt', restrict_vocab=30000)
RESULT.update(sem=a.semantic, syn=a.syntactic, total=a.accuracy, seen=a.seen, questions=a.total, vocab=len(emb))
for key, name in (('ws353', 'EN-WS-353-ALL.txt'), ('simlex', 'EN-SIMLEX-999.txt'), ('rw', 'EN-RW-STANFORD.txt')):
    r = evaluate_similarity(emb, E / name)
    RESULT.update({key: r.spearman, key + '_scored': r.scored, key + '_pairs': r.pairs, key + '_oov': r.oov})
"""

# Peers' vectors as embedkit Embeddings that ask the peer model for unseen words.
PEER_EMBEDDINGS = """
import numpy as np
from embedkit.embeddings import Embeddings
class PeerEmbeddings(Embeddings):
    def __init__(self, words, vectors, oov):
        super().__init__(words, vectors)
        self._oov = oov
    def oov_vector(self, word):
        v = np.asarray(self._oov(word), dtype=np.float32)
        return v if v.any() else None      # a zero vector: the peer had no n-gram for the word
"""

EMBEDKIT_CHILD = """
import numpy as np
from embedkit.config import CorpusConfig, FastTextConfig
from embedkit.corpus.prepare import prepare_corpus
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.trainers.subword import train_subword
corpus = prepare_corpus([ARGS['corpus']], CorpusConfig(tokenizer='whitespace', min_count=ARGS['min_count']), cache=False)
opts = dict(arch=ARGS['arch'], objective='ns', dim=ARGS['dim'], window=5, negative=5, sample=ARGS['sample'],
            epochs=ARGS['epochs'], lr=ARGS['lr'], workers=ARGS['workers'], seed=1, minn=3, maxn=6,
            bucket=ARGS['bucket'], sg_update=ARGS['sg_update'])
if ARGS['ns_exponent'] is not None:
    opts['ns_exponent'] = ARGS['ns_exponent']
# numba compiles the (arch, objective) kernel on first use: do it on a tiny slice, outside the timing
n = min(20000, corpus.n_tokens)
tiny = EncodedCorpus(np.asarray(corpus.tokens[:n]), np.array([0, n], np.int64), np.zeros(1, bool), corpus.vocab)
t0 = time.perf_counter()
train_subword(tiny, FastTextConfig(**{**opts, 'bucket': 1000, 'epochs': 1}))
compile_s = time.perf_counter() - t0
del tiny
t0 = time.perf_counter()
emb, arrays, log = train_subword(corpus, FastTextConfig(**opts))
train_s = time.perf_counter() - t0
del arrays
RESULT = {'train_s': train_s, 'compile_s': compile_s, 'tokens': int(corpus.n_tokens),
          'mean_bag_rows': log['subwords']['mean_bag_rows']}
""" + EVALUATE

FASTTEXT_CHILD = PEER_EMBEDDINGS + """
import os, re
import fasttext
saved = os.dup(2)                      # fastText's C++ progress goes to fd 2: keep it to read its words/s
with open(ARGS['ftlog'], 'w') as log:
    os.dup2(log.fileno(), 2)
    try:
        t0 = time.perf_counter()
        m = fasttext.train_unsupervised(ARGS['corpus'], model=ARGS['arch'], dim=ARGS['dim'], ws=5, neg=5,
                                        t=ARGS['sample'], lr=ARGS['lr'], epoch=ARGS['epochs'], minCount=ARGS['min_count'],
                                        minn=3, maxn=6, bucket=ARGS['bucket'], thread=ARGS['workers'], verbose=2)
        wall_s = time.perf_counter() - t0
    finally:
        os.dup2(saved, 2)
rates = re.findall(r'words/sec/thread:\\s*(\\d+)', open(ARGS['ftlog'], errors='replace').read())
words, freqs = m.get_words(include_freq=True)
keep = [i for i, w in enumerate(words) if w != '</s>']
words = [words[i] for i in keep]
tokens = int(sum(freqs[i] for i in keep))
vectors = np.stack([m.get_word_vector(w) for w in words])
emb = PeerEmbeddings(words, vectors, m.get_word_vector)
wps = int(rates[-1]) * ARGS['workers'] if rates else tokens * ARGS['epochs'] / wall_s
RESULT = {'train_s': tokens * ARGS['epochs'] / wps, 'wall_s': wall_s, 'tokens': tokens,
          'ft_words_per_s_thread': int(rates[-1]) if rates else None}
""" + EVALUATE

GENSIM_CHILD = PEER_EMBEDDINGS + """
from gensim.models import FastText
from gensim.models.word2vec import Text8Corpus
sentences = Text8Corpus(ARGS['corpus'])
kw = dict(vector_size=ARGS['dim'], window=5, negative=5, hs=0, sg=int(ARGS['arch'] == 'skipgram'),
          sample=ARGS['sample'], alpha=ARGS['lr'], min_alpha=ARGS['lr'] * 1e-4, min_count=ARGS['min_count'],
          workers=ARGS['workers'], epochs=ARGS['epochs'], min_n=3, max_n=6, bucket=ARGS['bucket'], seed=1)
if ARGS['ns_exponent'] is not None:
    kw['ns_exponent'] = ARGS['ns_exponent']
m = FastText(**kw)
m.build_vocab(sentences)
t0 = time.perf_counter()
m.train(sentences, total_examples=m.corpus_count, epochs=ARGS['epochs'])
train_s = time.perf_counter() - t0
words = list(m.wv.index_to_key)
tokens = int(sum(m.wv.get_vecattr(w, 'count') for w in words))
emb = PeerEmbeddings(words, m.wv.vectors, lambda w: m.wv[w])
RESULT = {'train_s': train_s, 'tokens': tokens}
""" + EVALUATE

CHILDREN = {"embedkit": EMBEDKIT_CHILD, "embedkit-wb": EMBEDKIT_CHILD, "fasttext": FASTTEXT_CHILD,
            "gensim": GENSIM_CHILD}


def corpus_slice(plain: Path, max_tokens: int | None, work: Path) -> Path:
    """The corpus, or its first max_tokens tokens as one line (text8's shape), written once."""
    if not max_tokens:
        return plain
    out = work / f"text8-first{max_tokens}.txt"
    if out.exists():
        return out
    words: list[str] = []
    tail = ""
    with open(plain, encoding="utf-8") as f:
        while len(words) < max_tokens:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            parts = (tail + chunk).split(" ")
            tail = parts.pop()
            words.extend(p for p in parts if p)
        if len(words) < max_tokens and tail.strip():
            words.append(tail.strip())
    tmp = out.with_suffix(".tmp")
    tmp.write_text(" ".join(words[:max_tokens]) + "\n", encoding="utf-8")
    tmp.rename(out)
    return out


def fmt(x, spec=".3f"):
    return "-" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--archs", default="skipgram,cbow", help="comma list of skipgram, cbow")
    ap.add_argument("--peers", default="embedkit,fasttext,gensim",
                    help="comma list of embedkit, embedkit-wb (skip-gram window mini-batches), fasttext, gensim")
    ap.add_argument("--settings", default="issue", help=f"comma list of {', '.join(SETTINGS)}")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--bucket", type=int, default=2_000_000, help="n-gram buckets (memory: bucket x dim x 4 bytes)")
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--ns-exponent", type=float, default=None, help="embedkit and gensim (fastText is fixed at 0.5)")
    ap.add_argument("--max-tokens", type=int, default=None, help="train on the first N tokens only (a quick check)")
    ap.add_argument("--workdir", default="/tmp/embedkit-bench")
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    corpus = str(corpus_slice(plain_text8(work), a.max_tokens, work))
    results = []
    for setting in a.settings.split(","):
        sample, lr_sg, lr_cbow = SETTINGS[setting]
        for arch in a.archs.split(","):
            for peer in a.peers.split(","):
                args = dict(arch=arch, dim=a.dim, sample=sample, lr=lr_sg if arch == "skipgram" else lr_cbow,
                            epochs=a.epochs, workers=a.workers, bucket=a.bucket, min_count=a.min_count,
                            ns_exponent=a.ns_exponent, sg_update=("window" if peer == "embedkit-wb" else "pair"), corpus=corpus,
                            eval=str(EVAL), ftlog=str(work / "fasttext-progress.log"))
                r = run_child(CHILDREN[peer], args, timeout=4 * 3600)
                r.update(peer=peer, arch=arch, settings=setting, epochs=a.epochs, bucket=a.bucket,
                         words_per_s=r["tokens"] * a.epochs / r["train_s"])
                results.append(r)
                print(json.dumps(r), flush=True)
    by = {(r["settings"], r["arch"], r["peer"]): r for r in results}
    rows = []
    for r in results:
        ft = by.get((r["settings"], r["arch"], "fasttext"))
        rows.append([r["peer"], r["arch"], r["settings"], f"{r['train_s']:.0f}", fmt(r.get("compile_s"), ".0f"),
                     f"{r['words_per_s'] / 1e3:,.0f}k",
                     f"{r['words_per_s'] / ft['words_per_s']:.2f}x" if ft else "-",
                     f"{r['train_peak_rss_mb']:.0f} MB",
                     f"{100 * (r['sem'] or 0):.1f} / {100 * (r['syn'] or 0):.1f} / {100 * (r['total'] or 0):.1f}",
                     f"{r['seen']}/{r['questions']}", fmt(r["ws353"]), fmt(r["simlex"]), fmt(r["rw"]),
                     f"{r['rw_scored']}/{r['rw_pairs']}"])
    print()
    print(f"corpus {corpus}, {results[0]['tokens']:,} in-vocabulary tokens, {a.epochs} epochs, dim {a.dim}, "
          f"{a.bucket:,} buckets, {a.workers} threads" if results else "no runs")
    print(markdown_table(["peer", "arch", "settings", "train s", "compile s", "words/s", "vs fastText",
                          "train peak RSS", "analogy sem / syn / total %", "seen", "WS-353", "SimLex", "RW",
                          "RW scored"], rows))
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
