"""One rank of a distributed training: what embedkit.train(..., distributed=True) does around the
single-process trainer.

    torchrun --nproc-per-node 2 -m embedkit train --model skipgram --corpus text.txt -o out --distributed

1. join the process group (group.py);
2. the options: every rank's training options are compared (a fingerprint, one all-reduce; each
   rank's own in the store, to name what differs), since the ranks of a run on several machines
   are started by several commands; a rank may differ only in PER_RANK;
3. the corpus: each node's local rank 0 prepares it (vocabulary, encoded corpus, into the cache),
   then the node's other ranks read it from the cache; every rank's corpus fingerprint (its words,
   their counts, its tokens and sentences) is compared, so the ids and shards agree or the run
   stops with an error;
4. the shard: word2vec family and subword model: tokens [b_rank, b_rank+1) of shard_bounds, a
   slice of the memory-mapped tokens (a rank's pages are the only ones it reads) cut at piece
   boundaries, its sentences cut to pieces of at most PIECE_TOKENS tokens (a copy of its offsets); GloVe: every
   ranks-th non-zero of the co-occurrence matrix, from entry `rank` on (the matrix is counted
   once per node, like the corpus);
5. the trainer runs unchanged on the shard, with chunks of about hot_sync_every / workers units
   per worker (sync_every / workers without hot rows; word2vec family: sized so that every rank
   has as many, rank_chunk) and the DeltaSync hook (sync.py: hot rows at every chunk end, every
   sync_every units the warm rows, or all rows at every ALL_ROWS_EVERY-th; rules.py) last among
   the hooks; rank 0 keeps the given seed, rank r uses seed + r for its random streams and
   starts from rank 0's weights (broadcast);
6. only rank 0 writes the output folder (atomically, as a single-process run).

The learning rate decays on each rank's own progress over its own shard. Shards hold equal numbers
of tokens (to a piece) and the syncs keep the ranks in step, so that fraction is the global
progress of the run to within one chunk.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os

import numpy as np

from embedkit.distributed.rules import SYNC_RULES, default_rule
from embedkit.errors import EmbedkitError

# units (words or co-occurrence entries) each rank trains between two full syncs
SYNC_EVERY = {"word2vec": 1 << 19, "glove": 1 << 23}
# the hot syncs' defaults by family and number of ranks: (rows, hot syncs per full sync, warm rows).
# From 3 ranks on the plain sum diverges and the hot rows must be many and synced often (GloVe, whose
# full interval is 16 times longer, twice as often again: 1.0 analogy points below one process with
# 16 per full, 0.5 with 32); at 2 ranks the sum is stable, and fewer, rarer hot syncs mend its
# quality at a small cost in words/s. Warm rows (sync.py): at 2 ranks, word2vec family, all rows at
# every ALL_ROWS_EVERY-th full sync and 8,192 warm rows at the others took CBOW's syncs from about
# 10 to 7 s over three seeds with the same quality (benchmarks/DISTRIBUTED.md: The warm syncs);
# elsewhere not measured, so every full sync takes all rows. One rank has no one to sync with: no hot
# syncs (they cost a pass over 16,384 rows every 32,768 words for nothing), only the full syncs,
# which also carry the checkpoints' votes
HOT_DEFAULTS = {1: {"word2vec": (0, 1, 0), "glove": (0, 1, 0)},
                2: {"word2vec": (4096, 4, 8192), "glove": (4096, 4, 0)}}
HOT_DEFAULT_MANY = {"word2vec": (16384, 16, 0), "glove": (16384, 32, 0)}
ALL_ROWS_EVERY = 4
# the longest sentence piece a rank trains on (word2vec C's MAX_SENTENCE_LENGTH). A chunk ends at a
# piece boundary, so a rank's chunk holds its target number of words to within a piece: with
# text8's 10,000-token pieces, two ranks' chunks of 131,072 words differed by up to 8%, and at every
# sync the faster rank waited for the other (README: Training on several machines)
PIECE_TOKENS = 1000
# the training options each rank may set for itself: its threads (every rank cuts its shard into the
# same number of chunks whatever its workers: rank_chunk). Of --device only the kind (cpu, cuda) must
# agree, not the GPU's number; --sync-timeout (how long this rank waits) is not compared either
PER_RANK = ("workers",)


def default_hot(family: str, ranks: int) -> tuple[int, int, int]:
    """(hot rows, hot syncs per full sync, warm rows) by default for this family and this many ranks."""
    return HOT_DEFAULTS.get(ranks, HOT_DEFAULT_MANY)[family]


def check_hot_tuning(family: str, world: int, hot_rows, hot_sync_every, warm_rows) -> None:
    """--hot-sync-every and --warm-rows tune hot syncs: an error where there are none (one rank's default)."""
    if not default_hot(family, world)[0] and hot_rows is None and (hot_sync_every is not None or warm_rows):
        raise EmbedkitError(f"--hot-sync-every and --warm-rows need hot syncs, and a run of {world} rank has none "
                            "by default: give --hot-rows too")


def syncs_per_full(sync_every: int, hot_sync_every: int) -> int:
    """n: a full sync takes the place of every n-th hot sync, n = sync_every / hot_sync_every to the
    nearest whole number, so all rows are synced every n x hot_sync_every units, the nearest such
    multiple to sync_every (README: --sync-every 524288 --hot-sync-every 200000 gives 600,000)."""
    return max(1, round(sync_every / hot_sync_every))


def process_group_backend(device: str, local_ranks: int = 1) -> str:
    """gloo for CPU tensors. With a CUDA device the control vector and the vocabulary check stay on
    the host (gloo) and the weights on the GPU: synced by NCCL where each rank has a GPU of its own
    ("cuda", or "cuda:N" with one rank on the node), by gloo where the node's ranks share the GPU
    "cuda:N" (NCCL refuses two ranks on one GPU, "Duplicate GPU detected", since NCCL 2.5; gloo
    takes CUDA tensors for all_reduce and broadcast and moves them through the host)."""
    if not str(device).startswith("cuda"):
        return "gloo"
    shared = str(device) != "cuda" and local_ranks > 1
    return "cpu:gloo,cuda:gloo" if shared else "cpu:gloo,cuda:nccl"


def rank_device(device: str, local_rank: int, gpus: int | None = None) -> str:
    """Each rank's device: "cuda" means the node's GPU number local_rank (torchrun's convention: one
    rank per GPU; `gpus`, when known, is how many the node has); "cuda:N" (every rank of the node on
    GPU N) and "cpu" are kept as given."""
    if device != "cuda":
        return device
    if gpus is not None and local_rank >= gpus:
        raise EmbedkitError(f"--device cuda gives each rank of a node its own GPU (LOCAL_RANK), but local rank "
                            f"{local_rank} finds only {gpus} GPU(s); start fewer ranks per node, or give "
                            f"--device cuda:0 for the node's ranks to share GPU 0")
    return f"cuda:{local_rank}"


def local_ranks() -> int:
    """The number of ranks on this node (torchrun's LOCAL_WORLD_SIZE; 1 when the launcher does not say)."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def fingerprint(*parts: bytes) -> int:
    """A 62-bit fingerprint of the parts (an int64 all-reduce compares it across ranks)."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(part)
    return int.from_bytes(h.digest(), "little") >> 2


def corpus_hash(corpus) -> int:
    """The fingerprint of the vocabulary's words and counts (ids included: the order counts) and of
    the corpus's numbers of tokens and sentences (the shards are cut from them)."""
    return fingerprint("\n".join(corpus.vocab.words).encode("utf-8", "surrogatepass"),
                       np.ascontiguousarray(corpus.vocab.counts, dtype=np.int64).tobytes(),
                       np.array([corpus.n_tokens, corpus.n_sentences], dtype=np.int64).tobytes())


def settings_json(settings: dict) -> str:
    """The settings as JSON, a whole float written as an int (lr=1 and lr=1.0 through the API agree),
    so that equal texts are equal settings and the fingerprint compares what `differing` names."""
    return json.dumps({k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in settings.items()},
                      default=str)


def differing(settings: list[dict]) -> list[str]:
    """'name: a on rank 0, b on rank r' for each setting that some rank r gives otherwise than rank 0
    (the first such rank)."""
    out = []
    for key in dict.fromkeys(k for s in settings for k in s):
        values = [s.get(key) for s in settings]
        r = next((r for r, v in enumerate(values) if v != values[0]), None)
        if r is not None:
            out.append(f"{key}: {values[0]!r} on rank 0, {values[r]!r} on rank {r}")
    return out


def shard_bounds(offsets: np.ndarray, world: int, longest: int = PIECE_TOKENS) -> np.ndarray:
    """The (world + 1,) token positions where the ranks' shards begin and end: about equal numbers
    of tokens, each bound the piece boundary (a sentence's start plus a multiple of `longest`, or
    its end) nearest its target, every shard at least one piece. Bounds at sentence boundaries
    alone left a rank nothing when one line held most of the corpus (one 6,000-token line and two
    short ones on 3 ranks); bounds rounded each on its own, when a shard's share is under a piece
    (one 2,100-token line on 3 ranks: 0, 1000, 1000, 2100)."""
    from embedkit.kernels.pieces import cut_pieces
    cuts = np.unique(cut_pieces(offsets, np.zeros(len(offsets) - 1, dtype=bool), longest)[0])
    if len(cuts) - 1 < world:
        raise EmbedkitError(f"the corpus has {int(offsets[-1]):,} tokens in {len(cuts) - 1:,} pieces (sentences cut "
                            f"at {longest:,} tokens): too few for {world} ranks, each of which needs one; "
                            "start fewer ranks")
    targets = np.linspace(0, int(offsets[-1]), world + 1)
    right = np.clip(np.searchsorted(cuts, targets), 1, len(cuts) - 1)
    idx = np.where(targets - cuts[right - 1] <= cuts[right] - targets, right - 1, right)
    idx[0], idx[-1] = 0, len(cuts) - 1
    for i in range(1, world):                      # each shard at least one piece
        idx[i] = max(idx[i], idx[i - 1] + 1)
    for i in range(world - 1, 0, -1):
        idx[i] = min(idx[i], idx[i + 1] - 1)
    return cuts[idx]


def corpus_shard(corpus, rank: int, world: int, longest: int = PIECE_TOKENS):
    """The EncodedCorpus of rank's tokens [shard_bounds): views of the (memory-mapped) tokens, same
    vocabulary, its sentences cut into pieces of at most `longest` tokens (cut_pieces); the pieces
    are those of cutting the whole corpus (a shard that starts inside a sentence starts at one of
    its cuts, and its first piece continues that sentence)."""
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.kernels.pieces import cut_pieces
    offsets = np.asarray(corpus.offsets, dtype=np.int64)
    bounds = shard_bounds(offsets, world, longest)
    o0, o1 = int(bounds[rank]), int(bounds[rank + 1])
    s0 = int(np.searchsorted(offsets, o0, side="right")) - 1          # the sentence holding token o0
    s1 = int(np.searchsorted(offsets, o1, side="left"))               # the first sentence starting at o1 or later
    inner = offsets[s0 + 1:s1]
    local = np.concatenate([[o0], inner, [o1]]) - o0
    continues = np.array(corpus.continues[s0:s1], dtype=bool)
    continues[0] |= o0 > offsets[s0]
    pieces, continues = cut_pieces(local, continues, longest)
    return EncodedCorpus(corpus.tokens[o0:o1], pieces, continues, corpus.vocab,
                         stats=corpus.stats, fingerprint=corpus.fingerprint)


def rank_chunk(tokens: int, shard_tokens: int, world: int, between: int, workers: int) -> int:
    """The chunk (units per worker: tokens, or GloVe's entries) that cuts every rank's shard into the
    same number of chunks, about `between` units a rank each. The backend cuts round(shard tokens /
    chunk) chunks (GloVe: its workers' slices into chunks, entry_chunks) and the shards' sizes
    differ by up to a piece (GloVe: an entry), as may the ranks' workers, so the same chunk
    everywhere could give one rank one chunk more, and the others would wait for it at the end of
    every epoch."""
    n = max(1, round(tokens / world / between))
    return max(1, -(-shard_tokens // (n * max(1, workers))))


def entries_shard(X, rank: int, world: int):
    """The co-occurrence entries of rank: every world-th stored entry from `rank` on (each rank then
    sees every word's row), as a scipy.sparse matrix of X's shape."""
    import scipy.sparse as sp
    X = X.tocoo()
    pick = slice(rank, None, world)
    return sp.csr_matrix((X.data[pick], (X.row[pick], X.col[pick])), shape=X.shape)


class DistributedRun:
    """This rank's part of the run: the group, its shard and its sync hook."""

    def __init__(self, group, family: str, sync_every: int | None, sync_rule: str | None = None,
                 hot_rows: int | None = None, hot_sync_every: int | None = None, warm_rows: int | None = None):
        self.group = group
        self.family = family
        # the sync options as given (None: the default for this many ranks): a checkpoint's recipe keeps them
        self.given = {"sync_every": sync_every, "sync_rule": sync_rule, "hot_rows": hot_rows,
                      "hot_sync_every": hot_sync_every, "warm_rows": warm_rows}
        self.sync_every = int(sync_every or SYNC_EVERY[family])
        self.sync_rule = sync_rule or default_rule(group.world)
        rows, per_full, warm = default_hot(family, group.world)
        check_hot_tuning(family, group.world, hot_rows, hot_sync_every, warm_rows)
        self.hot_rows = rows if hot_rows is None else int(hot_rows)
        self.warm_rows = warm if warm_rows is None else int(warm_rows)
        self.hot_sync_every = int(hot_sync_every or max(1, self.sync_every // per_full))
        self.hook = None

    @classmethod
    def start(cls, family: str, sync_every: int | None = None, timeout: float | None = None,
              sync_rule: str | None = None, device: str = "cpu", hot_rows: int | None = None,
              hot_sync_every: int | None = None, warm_rows: int | None = None):
        from embedkit.distributed.group import SYNC_TIMEOUT_S, join
        if family not in SYNC_EVERY:
            raise EmbedkitError(f"--distributed does not support this model (family {family})")
        if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
            raise EmbedkitError(f"--sync-timeout must be a number of seconds above 0, got {timeout}")
        if sync_every is not None and sync_every < 1:
            raise EmbedkitError(f"--sync-every must be at least 1, got {sync_every}")
        if hot_rows is not None and hot_rows < 0:
            raise EmbedkitError(f"--hot-rows must be 0 (no hot syncs) or more, got {hot_rows}")
        if warm_rows is not None and warm_rows < 0:
            raise EmbedkitError(f"--warm-rows must be 0 (every full sync takes all rows) or more, got {warm_rows}")
        if warm_rows and hot_rows == 0:
            raise EmbedkitError("--warm-rows needs hot syncs: it conflicts with --hot-rows 0")
        if hot_sync_every is not None and hot_rows == 0:
            raise EmbedkitError("--hot-sync-every needs hot syncs: it conflicts with --hot-rows 0")
        if hot_sync_every is not None and not 1 <= hot_sync_every <= (sync_every or SYNC_EVERY[family]):
            raise EmbedkitError(f"--hot-sync-every must be at least 1 and at most --sync-every "
                                f"({sync_every or SYNC_EVERY[family]}), got {hot_sync_every}")
        if os.environ.get("WORLD_SIZE", "").isdigit():        # before joining: nothing to leave behind
            check_hot_tuning(family, int(os.environ["WORLD_SIZE"]), hot_rows, hot_sync_every, warm_rows)
        if sync_rule is not None and sync_rule not in SYNC_RULES:
            raise EmbedkitError(f"--sync-rule must be one of {', '.join(SYNC_RULES)}, got {sync_rule!r}")
        return cls(join(SYNC_TIMEOUT_S if timeout is None else timeout,
                        process_group_backend(device, local_ranks())), family,
                   sync_every, sync_rule, hot_rows, hot_sync_every, warm_rows)

    @property
    def rank(self) -> int:
        return self.group.rank

    def agree(self, settings: dict, device: str) -> None:
        """Stop every rank with one line naming what differs unless every rank was given the same
        training options (`settings`: the model and its options, as train() resolved them), the
        same sync options and process group, and the same kind of device; PER_RANK may differ.
        Several machines mean several torchrun commands, and ranks given different options fail
        deep inside gloo (SIGABRT: 'Is there a distributed collective mismatch') or, worse, train
        on: --model cbow on one node and skipgram on the other gave one model, with rc 0."""
        mine = {k: v for k, v in settings.items() if k not in PER_RANK}
        mine.update(device=str(device).split(":")[0], process_group=self.group.backend,
                    sync_every=self.sync_every, sync_rule=self.sync_rule, hot_rows=self.hot_rows,
                    hot_sync_every=self.hot_sync_every, warm_rows=self.warm_rows)
        text = settings_json(mine)
        with self.group.lock:
            self.group.store.set(self.group.key("settings", self.rank), text)
        # the run's first meeting, by heartbeat: a rank may come late by any time (its last run in
        # this process still saving or evaluating, a slow node's torchrun started later)
        self.group.all_prepared("options")
        if self.group.same(fingerprint(text.encode("utf-8"))) is None:
            return
        def read():                   # every rank wrote its own before the all-reduce could end
            with self.group.lock:
                return [json.loads(self.group.store.get(self.group.key("settings", r)))
                        for r in range(self.group.world)]
        what = "; ".join(differing(self.group.collective(read))) or "the options' JSON differs"
        raise EmbedkitError(f"the ranks were started with different options ({what}): "
                            f"every rank of a run needs the same options, except {' and '.join(PER_RANK)}")

    def prepare(self, fn):
        """fn() (prepare the corpus) on each node's first rank, then on the others (from the cache)."""
        return self.group.node_first(fn, "corpus")

    def agree_checkpoint(self, ckpt, output):
        """A resumed run: the generation of the checkpoint every rank holds (checkpoints.py)."""
        from embedkit.distributed.checkpoints import agree
        return agree(self.group, ckpt, output)

    def setup(self, corpus, cfg, ctx, checkpointer=None):
        """(this rank's corpus shard, its config, its TrainContext), after checking the corpora
        agree. checkpointer: the run's Checkpointer, which the ranks' syncs then drive (checkpoints.py)."""
        import torch
        self.group.all_prepared("corpus")
        if self.group.same(corpus_hash(corpus)) is not None:
            raise EmbedkitError("the ranks read different corpora (different words, counts, tokens or sentences: "
                                "is --corpus the same text on every node?); every rank must see the same corpus")
        gpus = torch.cuda.device_count() if cfg.device == "cuda" and torch.cuda.is_available() else None
        cfg = dataclasses.replace(cfg, seed=cfg.seed + self.rank,
                                  device=rank_device(cfg.device, self.group.local_rank, gpus))
        from embedkit.distributed.checkpoints import RankCheckpoints
        from embedkit.distributed.sync import DeltaSync
        between = self.hot_sync_every if self.hot_rows else self.sync_every      # units per rank between two syncs
        checkpoints = checkpointer and RankCheckpoints(self.group, checkpointer, ctx.resume)
        self.hook = DeltaSync(self.group, self.sync_rule, self.hot_rows, syncs_per_full(self.sync_every, between),
                              self.warm_rows, ALL_ROWS_EVERY, checkpoints, ctx.resume)
        if ctx.init is not None:        # "continue" spreads one decay over the old words and the whole new corpus
            ctx.init.corpus_tokens = corpus.n_tokens
        from embedkit.trainers.backends import backend_class
        # the numba backends' threads each take a chunk; a torch backend's chunk is the rank's
        threads = max(1, cfg.workers) if getattr(backend_class(self.family, cfg.backend), "chunk_per_thread",
                                                 False) else 1
        ctx = dataclasses.replace(ctx, quiet=ctx.quiet or self.rank != 0, hooks=[*ctx.hooks, self.hook],
                                  chunk=max(1, between // threads))
        if self.family == "glove":
            X = ctx.cooccur
            if X is None:
                from embedkit.trainers.glove import get_cooccurrences
                X = self.group.node_first(lambda: get_cooccurrences(corpus, cfg, cache=ctx.cache,
                                                                    progress=not ctx.quiet)[0], "cooccur")
            self.group.all_prepared("cooccur")
            # counted on each node, or given (cooccur=): each rank takes every R-th entry of its own
            # X, so they must be one matrix. Its values' sum is compared to a relative 1e-6: counted
            # with another --memory, a node sums the same pairs in another order
            *sizes, total = self.group.spread([len(corpus.vocab), *X.shape, X.nnz, float(X.data.sum(dtype=np.float64))])
            if any(lo != hi for lo, hi in sizes) or total[1] - total[0] > 1e-6 * max(1.0, abs(total[1])):
                raise EmbedkitError("the ranks hold different co-occurrence matrices (other shapes, numbers of "
                                    "non-zeros or values: a --cooccur file, --window or --weighting that differs "
                                    "between nodes?); every rank must train on the same matrix")
            if X.shape[0] != len(corpus.vocab):
                return corpus, cfg, ctx            # the trainer reports the mismatch (on every rank alike)
            part = entries_shard(X, self.rank, self.group.world)
            # as many chunks on every rank (see rank_chunk): a rank with one more per epoch finished
            # epochs early, and from then on no checkpoint could be written (sync.checkpoint_now)
            chunk = rank_chunk(X.nnz, part.nnz, self.group.world, between, threads)
            return corpus, cfg, dataclasses.replace(ctx, cooccur=part, chunk=chunk)
        shard = corpus_shard(corpus, self.rank, self.group.world)
        chunk = rank_chunk(corpus.n_tokens, shard.n_tokens, self.group.world, between, threads)
        return shard, cfg, dataclasses.replace(ctx, chunk=chunk)

    def log(self, train_log: dict) -> dict:
        """The distributed part of the training log."""
        s = self.hook.summary() if self.hook else {}
        seconds = train_log.get("train_seconds") or float("nan")
        return {"ranks": self.group.world, "rank": self.rank, "process_group": self.group.backend,
                "sync_every": self.sync_every,
                "hot_sync_every": self.hot_sync_every if self.hot_rows else None,
                "sync_timeout": self.group.timeout, **s,
                "units_per_second_all_ranks": s.get("units_all_ranks", 0) / seconds}

    def fail(self, error: BaseException) -> None:
        """Leave the error for the other ranks (they quote it). The heartbeat goes on: a caller that
        catches the error may call train() again, and the others must not find this rank gone
        meanwhile; it stops at exit. The process group is not torn down (that would wait for ranks
        that may be gone)."""
        self.group.report(str(error) if isinstance(error, EmbedkitError) else f"{type(error).__name__}: {error}")

    def close(self) -> None:
        self.group.close()
