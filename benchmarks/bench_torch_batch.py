"""The torch backend's batch rate on one device: words/s of one epoch over the first N tokens of
text8, per architecture and batch size, with the batches replayed as a CUDA graph and launched
eagerly from Python, the graph's batch compiled by torch.compile or not (chunk_program.py). No
quality here: bench_torch.py scores whole runs.

    python benchmarks/bench_torch_batch.py --device cuda                      # 4M tokens, batches 128..4096
    python benchmarks/bench_torch_batch.py --device cuda --compiled 1024 --graph 1024 --eager ""

Settings as bench_torch.py (dim 100, window 5, negative 5, sample 1e-3, min_count 5). Each row times
run_epoch alone, after one untimed epoch (CUDA context, cuBLAS handles, compiling, the graph's capture). On the
CPU every row launches eagerly.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import markdown_table  # noqa: E402
from bench_torch import corpus_file  # noqa: E402


def epoch_seconds(corpus, arch: str, batch: int, device: str, launches: str) -> tuple[float, float, str]:
    """(seconds of one timed epoch, its loss, how its batches were launched: eager | graph | compiled)."""
    import torch
    from embedkit.config import Word2VecConfig
    from embedkit.torch.chunk_program import EagerReplay, GraphReplay
    from embedkit.torch.word2vec import TorchWord2Vec
    from embedkit.trainers import word2vec as w2v
    cfg = Word2VecConfig(arch=arch, dim=100, window=5, negative=5, sample=1e-3, epochs=2, batch_size=batch,
                         backend="torch", device=device, seed=1)
    V = len(corpus.vocab)
    (bag_ptr, bag_ids), n_in = w2v.plain_bags(V), V
    b = TorchWord2Vec(w2v.make_task(corpus, cfg, bag_ptr, bag_ids, n_in))
    if b.device.type == "cuda":
        b.replay = {"eager": EagerReplay(), "graph": GraphReplay(compiled=False),
                    "compiled": GraphReplay(compiled=True)}[launches]
    sync = torch.cuda.synchronize if b.device.type == "cuda" else (lambda: None)
    list(b.run_epoch(0, lambda: None))
    sync()
    t0 = time.perf_counter()
    list(b.run_epoch(1, lambda: None))
    sync()
    loss, n = b.running()
    how = "eager" if isinstance(b.replay, EagerReplay) else "graph" if b.replay.batch is b.program else "compiled graph"
    return time.perf_counter() - t0, loss / max(n, 1), how


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--tokens", type=int, default=4_000_000)
    ap.add_argument("--archs", default="skipgram,cbow")
    ap.add_argument("--compiled", default="128,1024,2048,4096", help="batch sizes compiled and replayed as a graph")
    ap.add_argument("--graph", default="128,1024,4096", help="batch sizes replayed as a graph, not compiled")
    ap.add_argument("--eager", default="1024", help="batch sizes launched eagerly from Python")
    ap.add_argument("--workdir", default="/tmp/embedkit-bench-torch")
    a = ap.parse_args()
    from embedkit.config import CorpusConfig
    from embedkit.corpus.prepare import prepare_corpus
    work = Path(a.workdir)
    work.mkdir(parents=True, exist_ok=True)
    corpus = prepare_corpus([corpus_file(a.tokens, work)], CorpusConfig(min_count=5))
    runs = [(arch, int(B), launches) for launches in ("compiled", "graph", "eager") for arch in a.archs.split(",")
            for B in getattr(a, launches).split(",") if B]
    rows = []
    for arch, B, launches in runs:
        s, loss, how = epoch_seconds(corpus, arch, B, a.device, launches)
        rate = corpus.n_tokens / s
        rows.append([arch, B, how, f"{s:.2f}", f"{rate / 1e6:.2f}M", f"{loss:.3f}"])
        print(rows[-1], flush=True)
    print(f"\n{corpus.n_tokens:,} tokens, one epoch each, device {a.device}\n")
    print(markdown_table(["arch", "batch", "launches", "epoch s", "words/s", "epoch loss"], rows))


if __name__ == "__main__":
    main()
