"""SubwordEmbeddings: Embeddings that also embed words outside the vocabulary, from char n-grams.

A vocabulary word's vector is the mean of its bag rows (its own row and its n-gram bucket rows,
fastText's getWordVector), precomputed in `vectors`. An unseen word's vector is the mean of the
bucket rows of its n-grams (fastText's getWordVector for an out-of-vocabulary word), so
`emb["unseenword"]`, most_similar, similarity and analogy accept it as a query word; answers
are always vocabulary words. A word with no n-gram at all (maxn 0, or none of a usable length)
is an UnknownWordError (an EmbedkitError) saying so; fastText would return a zero vector.

Memory: the n-gram rows are either every bucket's (bucket x dim x 4 bytes, 2,000,000 x 100 -> 800
MB: a fastText .bin model, whose every row was trained from its random start) or, for a model
embedkit trained, only the rows of the buckets some vocabulary word's bag holds (`ngram_buckets`,
sorted: on text8 296,791 of 2M, 119 MB). A bucket with no row is an n-gram no vocabulary word has,
never trained: it reads as zeros, as fastText's row would read as its untrained random start.

What a fastText .bin model holds beyond the vectors travels along, so that writing one back
(formats/fasttext_bin.py) gives fastText the same model: `word_rows` (V, D), each word's own
input row (its vector is the mean of that row and its n-gram rows); `output_rows`, the output
matrix; `fasttext_args`, fastText's training settings (ws, epoch, neg, loss, model, ...).
Each is None when unknown (then the writer rebuilds the word rows from the means).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from embedkit.embeddings import Embeddings, UnknownWordError
from embedkit.errors import EmbedkitError
from embedkit.tables.subwords import bucket_rows_of, check_subword_options, ngram_buckets


class SubwordEmbeddings(Embeddings):
    """Vocabulary vectors (V, D) plus n-gram bucket rows for unseen words: (bucket, D), row b for
    bucket b, or (U, D) with ngram_buckets (U,) the sorted bucket ids they hold (then `bucket`, the
    number of buckets n-grams hash into, is given apart)."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, ngram_rows: np.ndarray, minn: int, maxn: int,
                 counts: np.ndarray | None = None, *, ngram_buckets: np.ndarray | None = None,
                 bucket: int | None = None, word_rows: np.ndarray | None = None,
                 output_rows: np.ndarray | None = None, fasttext_args: dict | None = None):
        super().__init__(words, vectors, counts)
        if word_rows is not None and word_rows.shape != self.vectors.shape:
            raise EmbedkitError(f"word_rows must have shape {self.vectors.shape}, got {word_rows.shape}")
        if output_rows is not None and (output_rows.ndim != 2 or output_rows.shape[1] != self.dim):
            raise EmbedkitError(f"output_rows must have shape (rows, {self.dim}), got {output_rows.shape}")
        self.word_rows, self.output_rows = word_rows, output_rows     # (V, D), (rows, D) or None
        self.fasttext_args = fasttext_args
        self.ngram_rows = np.asarray(ngram_rows, dtype=np.float32)   # (bucket or U, D) float32
        if self.ngram_rows.ndim != 2 or self.ngram_rows.shape[1] != self.dim:
            raise EmbedkitError(f"n-gram rows must have shape (rows, {self.dim}), got {self.ngram_rows.shape}")
        self.ngram_buckets = None if ngram_buckets is None else check_buckets(ngram_buckets, bucket,
                                                                               len(self.ngram_rows))
        self._bucket = len(self.ngram_rows) if ngram_buckets is None else int(bucket)
        self.minn, self.maxn = int(minn), int(maxn)
        if self.maxn > 0:
            check_subword_options(self.minn, self.maxn, self.bucket)

    @property
    def bucket(self) -> int:
        """The number of buckets n-grams hash into (fastText's -bucket)."""
        return self._bucket

    def ngram_block(self, start: int, stop: int) -> np.ndarray:
        """(stop - start, D) float32: the rows of buckets start..stop-1, zeros for a bucket with no row."""
        if self.ngram_buckets is None:
            return self.ngram_rows[start:stop]
        lo, hi = np.searchsorted(self.ngram_buckets, [start, stop])
        block = np.zeros((stop - start, self.dim), np.float32)
        block[self.ngram_buckets[lo:hi] - start] = self.ngram_rows[lo:hi]
        return block

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({len(self):,} words x {self.dim} dims, {self.bucket:,} n-gram buckets, "
                f"n = {self.minn}..{self.maxn})")

    def ngram_ids(self, word: str) -> np.ndarray:
        """Bucket ids (n,) int64 of the char n-grams of "<word>" (fastText's, without its nwords offset)."""
        if self.maxn <= 0 or self.bucket == 0:
            return np.zeros(0, np.int64)
        return ngram_buckets(word, self.minn, self.maxn, self.bucket)

    def oov_vector(self, word: str) -> np.ndarray | None:
        """Mean of the bucket rows of word's n-grams (D,) float32; None when it has none."""
        ids = self.ngram_ids(word)
        if ids.size == 0:
            return None
        rows = bucket_rows_of(self.ngram_buckets, ids)
        rows = rows[rows >= 0]                 # a bucket with no row adds zeros, but counts in the mean
        return self.ngram_rows[rows].sum(axis=0, dtype=np.float32) / np.float32(ids.size)

    def native_parts(self) -> tuple[str, dict, dict]:
        """A "fasttext" model folder holding the bucket rows (from_native reads it back)."""
        arrays = {"ngram_rows": self.ngram_rows}
        if self.ngram_buckets is not None:
            arrays["ngram_buckets"] = self.ngram_buckets
        arrays.update({k: v for k, v in (("word_rows", self.word_rows), ("w_out", self.output_rows)) if v is not None})
        config = {"minn": self.minn, "maxn": self.maxn, "bucket": self.bucket}
        if self.fasttext_args:
            config["fasttext_args"] = self.fasttext_args
        return "fasttext", config, arrays

    def _unknown(self, word) -> UnknownWordError:
        if not isinstance(word, str):
            return super()._unknown(word)
        if self.maxn <= 0:
            why = "this model was trained without subwords (maxn 0)"
        else:
            why = f"it has no character n-gram of {self.minn}..{self.maxn} characters"
        return UnknownWordError(f"unknown word {word!r}: not among the {len(self):,} words of the vocabulary, "
                                f"and {why}", word, lambda: self.suggest(word))


def check_buckets(ngram_buckets, bucket, rows: int) -> np.ndarray:
    """ngram_buckets as (rows,) int64, checked: integers, strictly increasing, each in 0..bucket-1."""
    b = np.asarray(ngram_buckets)
    if bucket is None or isinstance(bucket, bool) or not isinstance(bucket, (int, np.integer)) or bucket < 0:
        raise EmbedkitError(f"ngram_buckets needs bucket, the number of buckets (an integer >= 0), got {bucket!r}")
    if b.ndim != 1 or len(b) != rows or (len(b) and b.dtype.kind not in "iu"):
        raise EmbedkitError(f"ngram_buckets must be {rows:,} integer bucket ids, one per n-gram row, "
                            f"got shape {b.shape} of {b.dtype}")
    b = b.astype(np.int64)
    if len(b) and (b[0] < 0 or b[-1] >= bucket or np.any(np.diff(b) <= 0)):
        raise EmbedkitError(f"ngram_buckets must be increasing bucket ids in 0..{int(bucket) - 1}")
    return b


def from_native(model) -> SubwordEmbeddings:
    """The io loader for model folders of kind "fasttext" (embedkit.formats.native.LOADERS)."""
    from embedkit.formats.native import real_array

    meta_path = model.path / "model.json"
    cfg = model.config
    missing = [k for k in ("minn", "maxn", "bucket") if k not in cfg]
    if missing:
        raise EmbedkitError(f"{meta_path}: config lacks {', '.join(missing)}")
    bad = [k for k in ("minn", "maxn", "bucket") if not isinstance(cfg[k], int) or isinstance(cfg[k], bool)]
    if bad:
        raise EmbedkitError(f"{meta_path}: config {', '.join(bad)} must be integers")
    V, dim = len(model.words), int(model.meta["dim"])
    n_buckets = max(cfg["bucket"], 0) if cfg["maxn"] > 0 else 0
    vectors = real_array(model, "vectors", (V, dim))
    try:
        held = model.arrays.get("ngram_buckets")          # a compact model: the buckets its rows hold
        if held is not None:
            held = check_buckets(held, max(cfg["bucket"], 0), len(held))
        compact = dict(ngram_buckets=held, bucket=max(cfg["bucket"], 0)) if held is not None else {}
        if "ngram_rows" in model.arrays:          # written by SubwordEmbeddings.save (no word rows)
            rows = real_array(model, "ngram_rows", (max(cfg["bucket"], 0) if held is None else len(held), dim))
            word_rows = real_array(model, "word_rows", (V, dim)) if "word_rows" in model.arrays else None
            return SubwordEmbeddings(model.words, vectors, rows, cfg["minn"], cfg["maxn"], model.counts,
                                     word_rows=word_rows, output_rows=model.arrays.get("w_out"),
                                     fasttext_args=cfg.get("fasttext_args"), **compact)
        w_in = real_array(model, "w_in", (V + (n_buckets if held is None else len(held)), dim))
        from embedkit.formats.fasttext_bin import args_from_config
        return SubwordEmbeddings(model.words, vectors, w_in[V:], cfg["minn"], cfg["maxn"], model.counts,
                                 word_rows=w_in[:V], output_rows=model.arrays.get("w_out"),
                                 fasttext_args=args_from_config(cfg), **compact)
    except (TypeError, ValueError, AttributeError) as e:      # config values of the wrong type
        raise EmbedkitError(f"{meta_path}: malformed config ({e})") from None
    except EmbedkitError as e:
        if str(model.path) in str(e):
            raise
        raise EmbedkitError(f"{meta_path}: {e}") from None
