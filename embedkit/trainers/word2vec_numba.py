"""The numba backend of the word2vec family: worker threads, each running the GIL-free walker kernel
(kernels/walker.py) over its own sentence-aligned shard of the corpus (Hogwild: shared weights, no
locks; workers = 1 is bit-reproducible).

An epoch runs in chunks: each worker's shard is cut into sentence ranges of about CHUNK_WORDS
tokens, and one chunk of every worker runs between two yields to the runner, where the weights are
consistent and hooks (checkpoints, callbacks) may run. The random states and progress counters
carry over from chunk to chunk, and the cuts depend only on the corpus and the number of workers,
so a run gives the same result whatever happens between chunks. At that point the tokens and the
sentence offsets of the chunks just finished are released (corpus/encoded.py release_pages): of a
memory-mapped corpus, only the chunks being read are resident, so resident memory does not grow
with the corpus. The walker is handed one chunk at a time (chunk_shard), so it reads only that
chunk's part of the offsets.
"""
from __future__ import annotations

import numpy as np

from embedkit.corpus.encoded import release_pages
from embedkit.kernels import walker
from embedkit.kernels.random import seed_states
from embedkit.memory import trim_heap
from embedkit.trainers.base import run_threads, split_shards, whole_targets
from embedkit.trainers.tasks import Word2VecTask

# about 1-3 s of one worker's time: the barrier at the end of a chunk costs well under 1%
CHUNK_WORDS = 1 << 21
STEPS = {"skipgram-window": walker.SKIPGRAM_WINDOW, "skipgram-pair": walker.SKIPGRAM_PAIR, "cbow": walker.CBOW,
         "supervised": walker.SUPERVISED}


def chunk_ranges(offsets: np.ndarray, s_begin: int, s_end: int, chunk_words: int) -> list[tuple[int, int]]:
    """Cut sentences [s_begin, s_end) into consecutive ranges of about chunk_words tokens (at least one
    sentence each; an empty shard gives no range)."""
    if s_end <= s_begin:
        return []
    n_chunks = max(1, round(int(offsets[s_end] - offsets[s_begin]) / chunk_words))
    targets = whole_targets(np.linspace(offsets[s_begin], offsets[s_end], n_chunks + 1)[1:-1])
    cuts = np.searchsorted(offsets, targets, side="left").clip(s_begin + 1, s_end)
    bounds = sorted({s_begin, *cuts.tolist(), s_end})
    return list(zip(bounds[:-1], bounds[1:]))


def chunk_shard(corpus: walker.Shard, s0: int, s1: int) -> walker.Shard:
    """The Shard of sentences [s0, s1) alone: a view of their tokens and a copy of their offsets,
    less offsets[s0] ((s1 - s0 + 1,) int64). Walking its sentences [0, s1 - s0) is walking
    [s0, s1) of `corpus`, with the same types (so the same compiled kernel). The corpus's offsets
    (8 bytes a sentence piece, a memory map when the corpus was loaded) are then read a chunk at a
    time, like the tokens, and both can be released when the chunk is done."""
    o0, o1 = int(corpus.offsets[s0]), int(corpus.offsets[s1])
    return walker.Shard(corpus.tokens[o0:o1], corpus.offsets[s0:s1 + 1] - o0, corpus.keep_prob)


class NumbaWord2Vec:
    unit, metric = "word", "loss"
    chunk_per_thread = True     # the runner's chunk is each worker thread's (a distributed run sizes it so)
    hints = {"diverged": "try a lower --lr",
             "empty": "subsampling (--sample) removed every word of this small corpus; "
                      "use --sample 0 or a larger corpus"}

    def __init__(self, task: Word2VecTask, chunk_words: int | None = None):
        chunk_words = chunk_words or CHUNK_WORDS     # read when called: tests make chunks small
        self.task = task
        offsets = np.asarray(task.offsets, dtype=np.int64)
        self.corpus = walker.Shard(np.asarray(task.tokens), offsets, task.keep_prob)
        shards = split_shards(offsets, task.workers)
        self.chunks = [chunk_ranges(offsets, s0, s1, chunk_words) for s0, s1 in shards]
        # the binary searches that cut the chunks read pages all over the offsets, and a page cache
        # of large folios maps up to 2 MB a read: release them, each chunk reads its own again
        release_pages(offsets, 0, len(offsets))
        # what loading the corpus and building the tables freed (O(V) temporaries, about 20 MB on the
        # 65M-token raw dump) would stay resident under the weights for the whole run
        trim_heap()
        self.n_workers = len(shards)
        self.units_per_epoch = task.n_tokens
        total_words = float(task.n_tokens) * task.epochs
        self.schedule = walker.Schedule(task.window, float(task.lr_start), float(task.lr_end), total_words)
        self.arch = STEPS[task.step]
        # one separate (1,) array per worker: a shared array would put every draw of both threads on one cache line
        self.states = [np.array([s], dtype=np.uint64) for s in seed_states(task.seed, self.n_workers)]
        self.progress = np.zeros(self.n_workers, dtype=np.int64)      # words read per worker, all epochs
        self.running_chunk = np.zeros((self.n_workers, 2))             # (loss_sum, examples) of the running chunk
        self.finished = np.zeros(2)                                    # (loss_sum, examples) of finished chunks
        self.next_chunk = 0                                            # chunk of the running epoch to run next

    def run_epoch(self, epoch: int, tick):
        if self.next_chunk == 0:
            self.finished[:] = 0.0
        for r in range(self.next_chunk, max(len(c) for c in self.chunks)):
            self.running_chunk[:] = 0.0
            results = run_threads(lambda k: self._run_chunk(k, r), self.n_workers, tick)
            self._release_chunk(r)
            self.finished += np.sum(results, axis=0)
            self.running_chunk[:] = 0.0
            self.next_chunk = r + 1
            yield
        self.next_chunk = 0
        return {}

    def state(self) -> dict:
        """Everything a checkpoint needs at a chunk end (runner protocol)."""
        w = self.task.weights
        return {"w_in": w.w_in, "w_out": w.w_out, "rng_states": np.concatenate(self.states),
                "progress": self.progress, "finished": self.finished, "next_chunk": np.int64(self.next_chunk)}

    def load_state(self, arrays: dict) -> None:
        w = self.task.weights
        w.w_in[...] = arrays["w_in"]
        w.w_out[...] = arrays["w_out"]
        for k, s in enumerate(arrays["rng_states"]):
            self.states[k][0] = s
        self.progress[:] = arrays["progress"]
        self.finished[:] = arrays["finished"]
        self.next_chunk = int(arrays["next_chunk"])

    def _release_chunk(self, r: int) -> None:
        """Drop the resident pages of the tokens and offsets each worker has read this epoch, up to
        round r (every worker has finished it). From the start of the shard, not of round r's chunk:
        where the page cache holds large folios (ext4 on Linux 6.18 here), one read maps a whole
        folio, up to 2 MB, so round r's first read maps the tail of round r-1's range again, and
        releasing only round r's range would leave one such tail per chunk (6 MB over one epoch of
        the 65M-token raw dump). A range already released costs the madvise call next to nothing."""
        offsets = self.corpus.offsets
        done = [(chunks[0][0], chunks[min(r, len(chunks) - 1)][1]) for chunks in self.chunks if chunks]
        for s0, s1 in done:                 # reads offsets: all of these before any offset is released
            release_pages(self.corpus.tokens, int(offsets[s0]), int(offsets[s1]))
        for s0, s1 in done:
            release_pages(offsets, s0, s1 + 1)

    def _run_chunk(self, k: int, r: int):
        if r >= len(self.chunks[k]):
            return 0.0, 0
        s0, s1 = self.chunks[k][r]
        shared = walker.Shared(self.progress, self.running_chunk, k, self.states[k])
        return walker.walk_shard(self.arch, chunk_shard(self.corpus, s0, s1), 0, s1 - s0, self.task.weights,
                                 self.task.tables, self.schedule, shared)

    def done(self) -> int:
        return int(self.progress.sum())

    def running(self) -> tuple[float, int]:
        loss, n = self.finished + self.running_chunk.sum(axis=0)
        return float(loss), int(n)

    def lr(self) -> float:
        s = self.schedule
        return s.lr_start + (s.lr_end - s.lr_start) * min(1.0, self.done() / s.total_words)

    def arrays(self) -> dict:
        return {"w_in": self.task.weights.w_in, "w_out": self.task.weights.w_out}
