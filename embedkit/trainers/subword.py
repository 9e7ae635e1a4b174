"""fastText-style subword model (Bojanowski et al. 2017): word2vec with char n-gram buckets in the input bags.

The subword model is the word2vec trainer with larger input bags, nothing else: tables/subwords.py
builds each word's bag [w, V + bucket ids of the n-grams of "<w>"] once per vocabulary (bucket
ids equal fastText 0.9's), and trainers/word2vec.train_bags runs the same kernels on them.

Update rule, as fastText's Model::update (src/model.cc) for unsupervised models: the hidden
vector is the mean of the input rows, h = (1/|B|) sum_{r in B} w_in[r] (skip-gram: B is the
centre word's bag, recomputed for every context word; CBOW: B is the concatenation of all context
bags); after the objective has accumulated the h-gradient g (= -lr dL/dh), every row of B gets
w_in[r] += g, undivided by |B| (fastText divides only when normalizeGradient_, i.e. for
supervised models). A row that occurs twice in B (a repeated n-gram or a bucket collision) is
counted twice in the mean and updated twice, as in fastText.

Choices where the issue or the tools differ:
  * initialisation: train_bags draws every input row (words and buckets) from U(-0.5/dim, 0.5/dim)
    (word2vec C) where fastText uses U(-1/dim, 1/dim); output rows start at 0 in both;
  * only the buckets some vocabulary word's bag holds get an input row (tables/subwords.py
    compact_bags): fastText allocates and initialises all of them, but the others are never trained
    either way. To an unseen word's vector such a bucket adds zeros (fastText: its random start);
  * noise distribution count**ns_exponent, 0.5 by default as fastText's code (word2vec and gensim
    use 0.75); a noise draw equal to the target is skipped (fastText redraws);
  * maxn 0 gives the plain model: bags [w] and no bucket rows are allocated at all.
Memory: the input matrix is (V + U) x dim x 4 bytes, U the buckets held: on text8 (68,092 words)
296,791 of 2M, so 146 MB at dim 100 where fastText's (V + bucket) rows take 828 MB. The memory
check before allocating counts all `bucket` rows (U is known only once the bags are built).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from dataclasses import asdict

from embedkit.config import FastTextConfig
from embedkit.formats.fasttext_bin import args_from_config
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.subword_embeddings import SubwordEmbeddings
from embedkit.tables.subwords import check_subword_options, compact_bags, subword_bags
from embedkit.trainers.runner import TrainContext, TrainResult
from embedkit.trainers.word2vec import train_bags, weights_plan


def bag_means(w_in: np.ndarray, bag_ptr: np.ndarray, bag_ids: np.ndarray) -> np.ndarray:
    """(V, D) float32: row w = mean of w_in over word w's bag (fastText's getWordVector).

    Computed as one sparse (V, rows) @ dense (rows, D) product, so no (nnz, D) gather is made;
    duplicate ids in a bag add up, as in fastText's mean."""
    V = len(bag_ptr) - 1
    sizes = np.diff(bag_ptr)                                                   # (V,) int64
    weights = np.repeat((1.0 / np.maximum(sizes, 1)).astype(np.float32), sizes)  # (nnz,) float32
    mean_op = sp.csr_matrix((weights, bag_ids, bag_ptr), shape=(V, w_in.shape[0]))
    return np.ascontiguousarray(mean_op @ w_in, dtype=np.float32)


def input_rows(V: int, cfg: FastTextConfig) -> int:
    """The most rows w_in can have: V words + bucket n-gram rows (none when maxn is 0)."""
    return V + (cfg.bucket if cfg.maxn > 0 else 0)


def weight_arrays(cfg: FastTextConfig, V: int) -> tuple[dict, str, str]:
    """The memory check's plan (trainers/word2vec.weights_plan): word and bucket input rows."""
    return weights_plan(cfg, V, input_rows(V, cfg))


def train_subword(corpus: EncodedCorpus, cfg: FastTextConfig, ctx: TrainContext = TrainContext()) -> TrainResult:
    """Train skip-gram or CBOW (ns or hs) with subword bags.

    The result's embeddings are a SubwordEmbeddings; its arrays: "vectors" (V, D) mean of each
    vocabulary word's bag rows, "w_in" (V + U, D) word rows then the rows of the U buckets held,
    "ngram_buckets" (U,) which bucket each of those rows holds (with maxn > 0), "w_out" output
    rows; minn, maxn and bucket travel in the saved config, which is all an unseen word needs."""
    check_subword_options(cfg.minn, cfg.maxn, cfg.bucket)
    words = list(corpus.vocab.words)
    V = len(words)
    bag_ptr, bag_ids = subword_bags(words, cfg.minn, cfg.maxn, cfg.bucket)
    held = None
    if cfg.maxn > 0:
        bag_ids, held = compact_bags(bag_ptr, bag_ids, V)
    n_in = V + (0 if held is None else len(held))
    w_in, w_out, log = train_bags(corpus, cfg, bag_ptr, bag_ids, n_in, ctx,
                                  view=lambda w: bag_means(w, bag_ptr, bag_ids), buckets=held)
    vectors = bag_means(w_in, bag_ptr, bag_ids)
    compact = {} if held is None else {"ngram_buckets": held, "bucket": cfg.bucket}
    emb = SubwordEmbeddings(words, vectors, w_in[V:], cfg.minn, cfg.maxn, counts=corpus.vocab.counts,
                            word_rows=w_in[:V], output_rows=w_out, fasttext_args=args_from_config(asdict(cfg)),
                            **compact)
    sizes = np.diff(bag_ptr)
    log["subwords"] = {"minn": cfg.minn, "maxn": cfg.maxn, "bucket": cfg.bucket, "input_rows": int(n_in),
                       "buckets_held": 0 if held is None else len(held),
                       "mean_bag_rows": float(sizes.mean()) if V else 0.0, "max_bag_rows": int(sizes.max(initial=0)),
                       "w_in_bytes": int(w_in.nbytes)}
    arrays = {"vectors": vectors, "w_in": w_in, "w_out": w_out}
    if held is not None:
        arrays["ngram_buckets"] = held
    return TrainResult(emb, arrays, log)
