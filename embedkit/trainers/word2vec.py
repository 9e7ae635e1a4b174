"""Skip-gram / CBOW with negative sampling or hierarchical softmax (Mikolov et al. 2013).

The trainer never sees strings: it takes an EncodedCorpus, builds the task (sampling tables,
objective tables, input bags, initial weights: trainers/tasks.py) and hands it to the one epoch runner
(trainers/runner.py run_task: the backend from trainers/backends.py's table, checkpoints, epochs). The subword
model (trainers/subword.py) calls train_bags() with larger input bags.

Choices where the reference tools differ (see DESIGN.md): skip-gram's update is a named choice
(cfg.sg_update: "window" mini-batches in word2vec C's direction by default, or "pair" in fastText's
direction); noise exponent 0.75; subsampling 1e-3; ns and hs are exclusive (fastText); windows
never cross sentence pieces (gensim and word2vec C cut long lines the same way).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from embedkit.config import Word2VecConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.errors import EmbedkitError
from embedkit.kernels.objectives import HuffmanTables, NoiseTables
from embedkit.kernels.word2vec import Weights
from embedkit.memory import allocating, check_fits
from embedkit.tables.alias import alias_table
from embedkit.tables.huffman import huffman_tree
from embedkit.tables.noise import noise_weights
from embedkit.tables.subsample import keep_probabilities
from embedkit.trainers.runner import TrainContext, TrainResult, run_task
from embedkit.trainers.tasks import Word2VecTask


def step_name(cfg: Word2VecConfig) -> str:
    """The walker step for this config: "cbow", or skip-gram with its update scheme (cfg.sg_update):
    "skipgram-window" (one mini-batch per window, word2vec C's direction) or "skipgram-pair"
    (one example per pair, fastText's direction). See kernels/word2vec.py and window_batch.py."""
    return "cbow" if cfg.arch == "cbow" else f"skipgram-{cfg.sg_update}"


def objective_tables(counts: np.ndarray, cfg: Word2VecConfig) -> tuple[NoiseTables | HuffmanTables, int]:
    """The objective's tables (kernels/objectives.py) and the number of output rows they address:
    NS scores words (V rows), HS the V - 1 inner nodes of the Huffman tree of the counts."""
    V = len(counts)
    if cfg.objective == "ns":
        prob, alias = alias_table(noise_weights(counts, cfg.ns_exponent))
        return NoiseTables(prob, alias, int(cfg.negative)), V
    points, codes, code_len = huffman_tree(counts)
    return HuffmanTables(points.astype(np.int32), codes.astype(np.int8), code_len.astype(np.int32)), max(V - 1, 1)


def plain_bags(V: int):
    """Each word's bag is its own row: bag_ptr (V+1,) int64, bag_ids (V,) int32."""
    return np.arange(V + 1, dtype=np.int64), np.arange(V, dtype=np.int32)


def init_weights(n_in: int, n_out: int, dim: int, seed: int):
    """w_in ~ U(-0.5/dim, 0.5/dim) (word2vec C), w_out = 0; both (rows, dim) float32. Every input
    row is in some bag: the subword model keeps rows only for the buckets its bags hold."""
    rng = np.random.default_rng(seed)
    w_in = rng.random((n_in, dim), dtype=np.float32)       # filled in place: no second copy of the table
    w_in -= np.float32(0.5)
    w_in /= np.float32(dim)
    w_out = np.zeros((n_out, dim), dtype=np.float32)
    return w_in, w_out


def weights_plan(cfg: Word2VecConfig, V: int, n_in_rows: int) -> tuple[dict, str, str]:
    """({name: (rows, cols)} of the weight matrices, the settings that make them, the fix) for the
    memory check (embedkit/memory.py); n_in_rows - V input rows are n-gram buckets."""
    n_out = V if cfg.objective == "ns" else max(V - 1, 1)
    buckets = n_in_rows - V
    parts = [f"--dim {cfg.dim:,}"] + [f"--bucket {buckets:,}"] * bool(buckets) + [f"{V:,} words"] * bool(V)
    settings = " and ".join(parts) if len(parts) < 3 else f"{parts[0]}, {parts[1]} and {parts[2]}"
    fix = ("lower --dim" + (" or --bucket" if buckets else "") +
           ", or keep fewer words (--min-count, --max-size)")
    return {"w_in": (n_in_rows, cfg.dim), "w_out": (n_out, cfg.dim)}, settings, fix


def weight_arrays(cfg: Word2VecConfig, V: int) -> tuple[dict, str, str]:
    """weights_plan of plain skip-gram/CBOW (one input row per word)."""
    return weights_plan(cfg, V, V)


def make_task(corpus: EncodedCorpus, cfg: Word2VecConfig, bag_ptr, bag_ids, n_in_rows: int) -> Word2VecTask:
    """The task of a word2vec-family run on `corpus` with the given input bags (trainers/tasks.py)."""
    counts = corpus.vocab.counts
    if corpus.n_tokens == 0:
        raise EmbedkitError("the corpus has no in-vocabulary tokens to train on")
    # a word is trained by the others of its sentence: with one in-vocabulary word a line there is
    # no example at all, whatever --sample says (the runner would blame subsampling); GloVe's wording
    if int(np.diff(np.asarray(corpus.offsets)).max(initial=0)) < 2:
        raise EmbedkitError("the corpus has no two in-vocabulary words in one sentence: no line holds more than "
                            "one word of the vocabulary (or --max-sentence-length cuts the lines into one-word pieces)")
    arrays, settings, fix = weights_plan(cfg, len(counts), n_in_rows)
    check_fits(arrays, settings, fix)                      # before allocating (embedkit/memory.py's rule)
    tables, n_out = objective_tables(counts, cfg)
    with allocating(settings, fix):
        w_in, w_out = init_weights(n_in_rows, n_out, cfg.dim, cfg.seed)
    lr0 = float(cfg.start_lr())
    return Word2VecTask(step=step_name(cfg), tokens=np.asarray(corpus.tokens),
                        offsets=np.asarray(corpus.offsets, dtype=np.int64),
                        keep_prob=keep_probabilities(counts, cfg.sample).astype(np.float32),
                        weights=Weights(w_in, w_out, bag_ptr, bag_ids), tables=tables, window=cfg.window,
                        lr_start=lr0, lr_end=lr0 * cfg.min_lr_ratio, epochs=cfg.epochs, workers=cfg.workers,
                        seed=cfg.seed, device=cfg.device, batch_size=cfg.start_batch_size())


def train_bags(corpus: EncodedCorpus, cfg: Word2VecConfig, bag_ptr, bag_ids, n_in_rows: int,
               ctx: TrainContext = TrainContext(), view=None, buckets=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Train on input bags with cfg.backend; returns (w_in (n_in_rows, dim), w_out, training log).
    view: w_in -> the output vectors (V, D), for hooks (default: the first V rows of w_in).
    buckets: (n_in_rows - V,) the n-gram bucket each row past V holds (subword model), so that
    continued training finds each bucket's trained row. ctx.init (continued training) gives the
    starting rows and learning rates; ctx.resume a checkpoint to go on from (trainers/checkpoint.py)."""
    task = make_task(corpus, cfg, bag_ptr, bag_ids, n_in_rows)
    if ctx.init is not None:
        ctx.init.apply_word2vec(task, cfg, buckets)
    words = list(corpus.vocab.words)
    V = len(words)
    view = view or (lambda w_in: w_in[:V])
    arrays, log = run_task("word2vec", cfg, task, ctx, view=lambda arrays: (words, view(arrays["w_in"])))
    config = dict(dataclasses.asdict(cfg), batch_size=task.batch_size)   # the batch the torch backend took
    log.update({"config": config, "backend": cfg.backend, "step": task.step,
                "corpus_tokens": int(corpus.n_tokens), "vocab_size": len(corpus.vocab)})
    return arrays["w_in"], arrays["w_out"], log


def train_word2vec(corpus: EncodedCorpus, cfg: Word2VecConfig, ctx: TrainContext = TrainContext()) -> TrainResult:
    """Plain skip-gram/CBOW: the embeddings are w_in."""
    from embedkit.embeddings import Embeddings
    V = len(corpus.vocab)
    bag_ptr, bag_ids = plain_bags(V)
    w_in, w_out, log = train_bags(corpus, cfg, bag_ptr, bag_ids, V, ctx)
    emb = Embeddings(list(corpus.vocab.words), w_in, counts=corpus.vocab.counts)
    return TrainResult(emb, {"vectors": w_in, "w_in": w_in, "w_out": w_out}, log)
