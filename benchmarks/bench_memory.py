"""Peak resident memory: where embedkit's floor goes, embedkit vs gensim/fastText, text8 vs the raw dump.

    python benchmarks/bench_memory.py floor                 # staged floor on the bundled corpus
    python benchmarks/bench_memory.py text8                 # 4 word2vec variants, embedkit vs gensim 4.4
    python benchmarks/bench_memory.py text8 --variants sg-ns --subword   # + subword vs fastText 0.9.3
    python benchmarks/bench_memory.py growth                # CBOW: vocab + encode + 1 epoch, text8 vs raw

Every case runs in its own child process (benchmarks/_common.py run_child) and reports its own
peak RSS (VmHWM: resident anonymous + file-backed pages, memory-mapped corpus pages included).
Memory is not timing-sensitive: run it under /work/tools/cpu, not bench. Settings are the
word2vec issue's: dim 100, window 5, negative 5, sample 1e-3, min_count 5, 2 workers; 1 epoch
(enough for a peak: nothing grows from one epoch to the next).

`floor` runs one child that marks its resident memory after each stage: the interpreter, numpy,
the CLI's parser for `train`, numba, the walker's module, the first kernel call on a tiny corpus
(numba's CPU target and the cached machine code), the cached bundled corpus and one training epoch.
`text8` gives embedkit a warm encoded-corpus cache (encoded once in a separate child, as a second
run would find it) and gensim its streaming Text8Corpus; `--cold` also runs embedkit with an empty
cache, so that counting and encoding happen in the measured process, as gensim's build_vocab does.
`growth` runs `embedkit train --model cbow` with an empty cache on each corpus (counting, encoding
and the epoch all in the measured process), then on text8 with the raw dump's vocabulary size, so
that what grows with the corpus and what grows with the vocabulary are measured apart (--no-control
skips that run). Before any measured embedkit child, the same command runs on the bundled corpus,
so that its kernels are compiled into the numba cache
($NUMBA_CACHE_DIR, default WORKDIR/numba-cache): a measured child only loads machine code.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, TEXT8_GZ, markdown_table, plain_text8, run_child  # noqa: E402

RAW_GZ = DATA / "corpora" / "enwiki2015-raw.txt.gz"
VARIANTS = {"sg-ns": ("skipgram", "ns"), "cbow-ns": ("cbow", "ns"), "sg-hs": ("skipgram", "hs"),
            "cbow-hs": ("cbow", "hs")}
SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=1, workers=2)

# the staged floor: resident (VmRSS) and peak (VmHWM) MB after each stage
FLOOR_CHILD = """
import os
def status():
    got = {l.split(':')[0]: int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith(('VmRSS', 'VmHWM'))}
    return got['VmRSS'], got['VmHWM']
stages = []
def mark(name):
    rss, hwm = status(); stages.append([name, rss, hwm])
mark('python interpreter')
import numpy as np
mark('import numpy')
from embedkit.cli import build_parser
from embedkit.cli.parser import parse_args
argv = ['train', '--model', 'skipgram', '--epochs', '1', '--quiet', '--output', ARGS['out']]
parse_args(build_parser(ARGS['verb']) if ARGS['verb'] else build_parser(), argv)
mark('CLI: parse `train`')
import numba
mark('import numba (+ scipy, which numba imports)')
from embedkit.trainers import word2vec_numba
mark('import the walker kernels (embedkit.kernels)')
from embedkit.config import Word2VecConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.vocab import Vocab
from embedkit.trainers.word2vec import train_word2vec
tiny = EncodedCorpus.from_id_lists([[0, 1, 2, 3, 1, 0, 2]] * 50, Vocab(['a', 'b', 'c', 'd'], np.array([100, 100, 100, 50])))
tiny.tokens.setflags(write=False)      # as a memory-mapped corpus's: numba compiles read-only arrays apart
train_word2vec(tiny, Word2VecConfig(dim=100, sample=0, epochs=1, workers=1))
mark('first kernel call (numba CPU target + cached machine code)')
from embedkit.corpus.prepare import prepare_corpus
corpus = prepare_corpus(None)
mark('cached bundled corpus (memory-mapped)')
result = train_word2vec(corpus, Word2VecConfig(dim=100, epochs=1, workers=2))
mark('one skip-gram epoch (%d words x 100 dims)' % len(corpus.vocab))
import sys
RESULT = {'stages': stages, 'modules': len(sys.modules), 'V': len(corpus.vocab), 'tokens': int(corpus.n_tokens)}
"""

EMBEDKIT_CHILD = """
import os, sys
from embedkit.cli import main
t0 = time.perf_counter()
rc = main(ARGS['argv'])
assert rc == 0, rc
RESULT = {'seconds': time.perf_counter() - t0, 'modules': len(sys.modules)}
"""

ENCODE_CHILD = """
from embedkit.config import CorpusConfig
from embedkit.corpus.prepare import prepare_corpus
c = prepare_corpus([ARGS['corpus']], CorpusConfig(min_count=ARGS['min_count']))
RESULT = {'tokens': int(c.n_tokens), 'V': len(c.vocab)}
"""

GENSIM_CHILD = """
from gensim.models import Word2Vec
from gensim.models.word2vec import Text8Corpus
sentences = Text8Corpus(ARGS['plain'])
t0 = time.perf_counter()
m = Word2Vec(sentences, vector_size=ARGS['dim'], window=ARGS['window'], negative=ARGS['negative'] if ARGS['objective'] == 'ns' else 0,
             hs=int(ARGS['objective'] == 'hs'), sg=int(ARGS['arch'] == 'skipgram'), sample=ARGS['sample'],
             min_count=ARGS['min_count'], workers=ARGS['workers'], epochs=ARGS['epochs'], seed=1)
RESULT = {'seconds': time.perf_counter() - t0, 'V': len(m.wv)}
"""

FASTTEXT_CHILD = """
import fasttext
t0 = time.perf_counter()
m = fasttext.train_unsupervised(ARGS['plain'], model='skipgram', dim=ARGS['dim'], ws=ARGS['window'], neg=ARGS['negative'],
                                t=1e-4, minCount=ARGS['min_count'], epoch=ARGS['epochs'], thread=ARGS['workers'],
                                bucket=2000000, minn=3, maxn=6, verbose=0)
RESULT = {'seconds': time.perf_counter() - t0, 'V': len(m.words)}
"""


def _mb(x: float) -> str:
    return f"{x:.0f} MB"


def floor(a, work: Path) -> None:
    import os
    os.environ["EMBEDKIT_CACHE_DIR"] = str(work / "floor-cache")     # the bundled corpus, encoded by the warm-up
    run_child(EMBEDKIT_CHILD, {"argv": ["train", "--model", "skipgram", "--epochs", "1", "--quiet",
                                        "--output", str(work / "floor-warm")]})
    with tempfile.TemporaryDirectory() as tmp:
        r = run_child(FLOOR_CHILD, {"out": str(Path(tmp) / "out"), "verb": a.verb})
    rows, prev = [], 0.0
    for name, rss, hwm in r["stages"]:
        rows.append([name, _mb(rss), f"+{rss - prev:.0f} MB", _mb(hwm)])
        prev = rss
    print(markdown_table(["stage", "resident after", "added", "peak so far"], rows))
    print(f"\n{r['modules']} modules imported; bundled corpus {r['tokens']:,} tokens, {r['V']:,} words; "
          f"peak {r['peak_rss_mb']:.0f} MB")


def _train_argv(model: str, objective: str | None, corpus: str, out: str, cache: bool = True) -> list[str]:
    s = SETTINGS
    argv = ["train", "--model", model, "--corpus", corpus, "--output", out, "--quiet", "--dim", str(s["dim"]),
            "--window", str(s["window"]), "--min-count", str(s["min_count"]), "--epochs", str(s["epochs"]),
            "--workers", str(s["workers"])]
    if objective is not None:
        argv += ["--objective", objective, "--sample", str(s["sample"])]
        if objective == "ns":
            argv += ["--negative", str(s["negative"])]
    return argv + ([] if cache else ["--no-cache"])


def _warm(work: Path, argv: list[str]) -> None:
    """Compile, into the shared numba cache, the kernels `argv` will use: the same command on the
    bundled corpus with an empty corpus cache (text-scan kernels and the walker), so that no
    measured child compiles (an LLVM compile adds some 200 MB to a peak)."""
    import os
    i = argv.index("--corpus")
    argv = argv[:i] + argv[i + 2:]
    saved = os.environ.get("EMBEDKIT_CACHE_DIR")
    with tempfile.TemporaryDirectory(dir=work) as cache:
        os.environ["EMBEDKIT_CACHE_DIR"] = cache
        try:
            run_child(EMBEDKIT_CHILD, {"argv": argv})
        finally:
            if saved is None:
                del os.environ["EMBEDKIT_CACHE_DIR"]
            else:
                os.environ["EMBEDKIT_CACHE_DIR"] = saved


def _run(code: str, args: dict, results: list, **labels) -> dict:
    r = run_child(code, args)
    r.update(labels)
    results.append(r)
    print(json.dumps(r), flush=True)
    return r


def text8(a, work: Path) -> list:
    plain = str(plain_text8(work))
    results = []
    with tempfile.TemporaryDirectory(dir=work) as cache:
        env_cache = {"EMBEDKIT_CACHE_DIR": cache}
        import os
        os.environ.update(env_cache)                 # children inherit it
        run_child(ENCODE_CHILD, {"corpus": str(TEXT8_GZ), "min_count": SETTINGS["min_count"]})   # warm the cache
        for variant in a.variants.split(","):
            arch, objective = VARIANTS[variant]
            for peer in a.peers.split(","):
                if peer == "embedkit":
                    argv = _train_argv(arch, objective, str(TEXT8_GZ), str(work / "ek"))
                    _warm(work, argv)
                    _run(EMBEDKIT_CHILD, {"argv": argv}, results, peer="embedkit", variant=variant)
                    if a.cold:
                        _run(EMBEDKIT_CHILD, {"argv": _train_argv(arch, objective, str(TEXT8_GZ), str(work / "ek"),
                                                                  cache=False)},
                             results, peer="embedkit (cold)", variant=variant)
                elif peer == "gensim":
                    _run(GENSIM_CHILD, dict(SETTINGS, arch=arch, objective=objective, plain=plain), results,
                         peer="gensim", variant=variant)
        if a.subword:
            argv = _train_argv("fasttext", None, str(TEXT8_GZ), str(work / "ek")) + ["--bucket", "2000000"]
            _warm(work, argv)
            _run(EMBEDKIT_CHILD, {"argv": argv}, results, peer="embedkit", variant="subword")
            _run(FASTTEXT_CHILD, dict(SETTINGS, plain=plain), results, peer="fastText", variant="subword")
    by = {(r["variant"], r["peer"]): r for r in results}
    rows = []
    for r in results:
        ref = by.get((r["variant"], "gensim")) or by.get((r["variant"], "fastText"))
        ratio = f"{r['peak_rss_mb'] / ref['peak_rss_mb']:.2f}x" if ref and ref is not r else "-"
        rows.append([r["variant"], r["peer"], _mb(r["peak_rss_mb"]), ratio, f"{r['seconds']:.0f}"])
    print()
    print(markdown_table(["variant", "peer", "peak RSS", "vs peer", "process s"], rows))
    return results


def growth(a, work: Path) -> list:
    """text8 and the raw dump, then text8 again with the raw dump's vocabulary size (--min-count 1
    --max-size V of the raw run): that third run has the raw run's model and O(V) tables on text8's
    corpus, so raw minus it is what grows with the corpus alone, and it minus text8 measures the
    allowance (model + O(V)) instead of estimating it."""
    import os
    results = []
    _warm(work, _train_argv("cbow", "ns", "", str(work / "warm")))
    runs = [("text8", TEXT8_GZ, []), ("enwiki2015-raw", RAW_GZ, [])]
    if not a.no_control:
        runs.append(("text8, raw's V", TEXT8_GZ, None))
    for name, path, extra in runs:
        if extra is None:                                 # the control: V from the raw run
            extra = ["--min-count", "1", "--max-size", str(results[1]["V"])]
        out = work / f"grow-{name.split(',')[0]}{'-V' if extra else ''}"
        argv = _train_argv("cbow", "ns", str(path), str(out))
        if extra:
            i = argv.index("--min-count")
            argv = argv[:i] + argv[i + 2:] + extra
        with tempfile.TemporaryDirectory(dir=work) as cache:
            os.environ["EMBEDKIT_CACHE_DIR"] = cache      # empty: count + encode in the measured process
            r = _run(EMBEDKIT_CHILD, {"argv": argv}, results, peer="embedkit", corpus=name)
            log = json.loads((out / "training_log.json").read_text()) if (out / "training_log.json").exists() else {}
            r["tokens"] = log.get("corpus_tokens")
            r["V"] = log.get("vocab_size")
    rows = []
    for r in results:
        model = (r["V"] or 0) * SETTINGS["dim"] * 4 * 2 / 2**20
        rows.append([r["corpus"], f"{r['tokens'] or 0:,}", f"{r['V'] or 0:,}", _mb(model), _mb(r["peak_rss_mb"]),
                     f"{r['seconds']:.0f}"])
    print()
    print(markdown_table(["corpus", "tokens trained", "vocabulary", "w_in + w_out", "peak RSS", "process s"], rows))
    text8, raw = results[0], results[1]
    model = (raw["V"] - text8["V"]) * SETTINGS["dim"] * 4 * 2 / 2**20
    print(f"\nraw - text8: {raw['peak_rss_mb'] - text8['peak_rss_mb']:+.0f} MB (the model alone {model:+.0f} MB)")
    if len(results) > 2:
        same_v = results[2]
        print(f"text8 at the raw dump's V - text8 (model + O(V) tables, measured): "
              f"{same_v['peak_rss_mb'] - text8['peak_rss_mb']:+.0f} MB; raw - text8 at the same V "
              f"(what grows with the corpus): {raw['peak_rss_mb'] - same_v['peak_rss_mb']:+.0f} MB")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("case", choices=("floor", "text8", "growth"))
    ap.add_argument("--variants", default="sg-ns,cbow-ns,sg-hs,cbow-hs")
    ap.add_argument("--peers", default="embedkit,gensim")
    ap.add_argument("--cold", action="store_true", help="text8: also embedkit with an empty cache")
    ap.add_argument("--subword", action="store_true", help="text8: also the subword model vs fastText (2M buckets)")
    ap.add_argument("--no-control", action="store_true",
                    help="growth: skip the third run (text8 with the raw dump's vocabulary size)")
    ap.add_argument("--verb", default="train", help="floor: build the parser for this verb only ('' : every verb)")
    ap.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "embedkit-bench"))
    ap.add_argument("--json", help="also write the results here")
    a = ap.parse_args()
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    import os
    # one numba cache for every child, kept between runs (an embedkit cache dir is made per case)
    os.environ.setdefault("NUMBA_CACHE_DIR", str(work / "numba-cache"))
    results = floor(a, work) if a.case == "floor" else text8(a, work) if a.case == "text8" else growth(a, work)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
