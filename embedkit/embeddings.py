"""Embeddings: a vocabulary and its (V, D) float32 vectors, with gensim KeyedVectors' names.

This module holds the container and its lookups (`emb[word]`, `emb[0]`, `emb[["a", "b"]]`,
get_vector, key_to_index, index_to_key, get_mean_vector, save, load ...). The cosine queries
(most_similar, most_similar_cosmul, doesnt_match, n_similarity, analogy ...) live in
embedkit/queries.py and the array maths in embedkit/cosine.py. The README maps every gensim
name to embedkit's.

Every query works on the unit-normalised matrix U (rows v / |v|, zero rows stay zero), computed
once on first use and reused.

Words outside the vocabulary: `oov_vector(word)` returns None here; a subclass (the subword
model) overrides it, and then lookups and queries accept unseen words as query words.
Candidates (the answers) are always vocabulary words. `word in emb` is vocabulary membership for
every model (gensim's FastText answers True for any word with n-grams).

Keys: a str is a word; an int (or numpy integer) is a row index, as in gensim. Iterating over an
Embeddings yields its words in vocabulary order (gensim's KeyedVectors cannot be iterated).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from embedkit.cosine import (ANALOGY_METHODS, ANALOGY_SCORES, COSMUL_EPSILON, cosadd_scores,  # noqa: F401
                             cosmul_scores, top_k, unit_rows)
from embedkit.errors import EmbedkitError
from embedkit.queries import Queries
from embedkit.suggest import casefold_index, close_words, did_you_mean


class UnknownWordError(EmbedkitError, KeyError):
    """A query word has no vector. Both an EmbedkitError (the CLI prints one line) and a KeyError.

    `word` is the word asked for; `suggestions` lists vocabulary words it may have meant (a
    case-insensitive match first), computed only when asked for or when the error is printed,
    so code that catches KeyError in a loop pays nothing for them."""

    def __init__(self, message: str, word=None, suggest=None):
        super().__init__(message)
        self.word = word
        self._suggest = suggest            # () -> list[str], run lazily
        self._suggestions = None

    @property
    def suggestions(self) -> list[str]:
        if self._suggestions is None:
            self._suggestions = list(self._suggest()) if self._suggest is not None else []
        return self._suggestions

    def __str__(self) -> str:  # KeyError would print the message quoted
        return (str(self.args[0]) if self.args else "") + did_you_mean(self.suggestions)


def _is_index(key) -> bool:
    return isinstance(key, (int, np.integer)) and not isinstance(key, bool)


class Embeddings(Queries):
    """Words and their vectors. `vectors` is (V, D) float32, row i belongs to `words[i]`;
    `counts` (V,) int64 corpus counts when known (None for most vector files)."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None):
        self.words = list(words)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)   # (V, D)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise EmbedkitError(f"vectors must have shape (len(words), dim) = ({len(self.words)}, D), "
                                f"got {self.vectors.shape}")
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)  # (V,)
        if self.counts is not None and self.counts.shape != (len(self.words),):
            raise EmbedkitError(f"counts must have shape ({len(self.words)},), got {self.counts.shape}")
        self.index = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            seen = set()
            dup = next(w for w in self.words if w in seen or seen.add(w))
            raise EmbedkitError(f"duplicate word {dup!r} in vocabulary")
        self._changed()

    def _changed(self) -> None:
        """Forget what is derived from words/vectors (after construction or an edit)."""
        self._unit = None          # (V, D) unit rows
        self._folded = None        # casefolded word -> id

    # -- container protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word) -> bool:
        """True for vocabulary words (a subword model can still embed others: see oov_vector)."""
        return word in self.index

    def __iter__(self):
        """The words, in vocabulary order (most frequent first for trained models)."""
        return iter(self.words)

    def __getitem__(self, key_or_keys) -> np.ndarray:
        """emb["word"] or emb[3] -> (D,); emb[["a", "b"]] or emb[[0, 1]] -> (n, D)."""
        if isinstance(key_or_keys, str) or _is_index(key_or_keys):
            return self.get_vector(key_or_keys)
        if isinstance(key_or_keys, np.ndarray) and key_or_keys.ndim == 0 or not hasattr(key_or_keys, "__iter__"):
            raise self._unknown(key_or_keys)
        rows = [self.get_vector(k) for k in key_or_keys]
        return np.stack(rows) if rows else np.empty((0, self.dim), np.float32)

    def __setitem__(self, keys, vectors) -> None:
        """emb["w"] = v or emb[["a", "b"]] = (2, D): add_vectors(..., replace=True), as gensim."""
        self.add_vectors(keys, vectors, replace=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self):,} words x {self.dim} dims)"

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    vector_size = dim                                      # gensim's name

    @property
    def key_to_index(self) -> dict:
        """word -> row (gensim's name for `index`; do not edit it, use add_vectors)."""
        return self.index

    @property
    def index_to_key(self) -> list:
        """row -> word (gensim's name for `words`)."""
        return self.words

    @property
    def unit(self) -> np.ndarray:
        """(V, D) float32 unit-normalised rows, computed once (after changing `vectors` in place,
        call fill_norms(force=True))."""
        if self._unit is None:
            self._unit = unit_rows(self.vectors)
        return self._unit

    def get_normed_vectors(self) -> np.ndarray:
        return self.unit

    @property
    def norms(self) -> np.ndarray:
        """(V,) float32 lengths of the rows."""
        return np.linalg.norm(self.vectors, axis=1)

    def fill_norms(self, force: bool = False) -> None:
        """Compute the unit rows now (force: again, after editing `vectors` in place)."""
        if force:
            self._unit = None
        self.unit

    def unit_normalize_all(self) -> None:
        """Scale every row of `vectors` to length 1, in place (zero rows stay zero)."""
        self.vectors[:] = self.unit
        self._unit = None

    def oov_vector(self, word: str) -> np.ndarray | None:
        """Vector for a word outside the vocabulary, or None. Subword models override this."""
        return None

    def _unknown(self, key) -> UnknownWordError:
        if _is_index(key):
            return UnknownWordError(f"index {key} is out of range for the {len(self):,} words of the vocabulary",
                                    key)
        if not isinstance(key, str):
            return UnknownWordError(f"a key must be a word (str) or a row index (int), got {type(key).__name__}",
                                    key)
        return UnknownWordError(f"unknown word {key!r}: not among the {len(self):,} words of the vocabulary",
                                key, lambda: self.suggest(key))

    # -- spelling help --------------------------------------------------------------------------
    def casefold_match(self, word: str) -> str | None:
        """The most frequent vocabulary word equal to `word` ignoring case (None if there is none)."""
        if self._folded is None:
            self._folded = casefold_index(self.words)
        i = self._folded.get(word.casefold())
        return None if i is None else self.words[i]

    def suggest(self, word: str, n: int = 3) -> list[str]:
        """Vocabulary words `word` may stand for: its case-insensitive match, then look-alikes."""
        out = [m for m in [self.casefold_match(word)] if m is not None and m != word]
        out += [w for w in close_words(word, self.words, n) if w not in out]
        return out[:n]

    def resolve(self, word: str) -> tuple[str, str]:
        """(the word a query should use for `word`, how it was found): "vocabulary" when it is
        known; "case" for its case-insensitive vocabulary match ("King" -> "king"); "subwords"
        when a subword model builds it from its n-grams. Else an UnknownWordError with
        suggestions. A vocabulary match beats subwords: n-grams of a spelling the model never
        saw are mostly untrained buckets."""
        if word in self.index:
            return word, "vocabulary"
        folded = self.casefold_match(word)
        if folded is not None:
            return folded, "case"
        self.get_vector(word)                              # raises UnknownWordError when it cannot
        return word, "subwords"

    # -- gensim lookups -----------------------------------------------------------------------------
    def get_index(self, key, default=None) -> int:
        """Row of a word, or an in-range int itself; else `default`, or an UnknownWordError."""
        if isinstance(key, str):
            i = self.index.get(key)
            if i is not None:
                return i
        elif _is_index(key) and 0 <= key < len(self):
            return int(key)
        if default is not None:
            return default
        raise self._unknown(key)

    def has_index_for(self, key) -> bool:
        """True when `key` names a row: a vocabulary word or an in-range int (as gensim)."""
        return self.get_index(key, -1) >= 0

    def get_vector(self, key, norm: bool = False) -> np.ndarray:
        """(D,) float32 vector of a word or row index (unit length with norm=True). A subword
        model builds unseen words from their n-grams; otherwise an unknown word is an
        UnknownWordError (a KeyError)."""
        if isinstance(key, str) and key not in self.index:
            v = self.oov_vector(key)
            if v is None:
                raise self._unknown(key)
            v = np.asarray(v, dtype=np.float32)
            return unit_rows(v) if norm else v
        i = self.get_index(key)
        return self.unit[i] if norm else self.vectors[i]

    def get_vecattr(self, key, attr: str):
        """gensim's per-word attributes; embedkit keeps one, "count" (the corpus count)."""
        if attr != "count":
            raise EmbedkitError(f"unknown attribute {attr!r}: embedkit keeps only 'count' per word")
        if self.counts is None:
            raise EmbedkitError("these vectors carry no counts (vector files have none; model folders do)")
        return int(self.counts[self.get_index(key)])

    def _warn_skipped(self, what: str, skipped: list) -> None:
        if skipped:
            shown = ", ".join(repr(w) for w in skipped[:5]) + (" ..." if len(skipped) > 5 else "")
            warnings.warn(f"{what}: ignoring {len(skipped)} word(s) without a vector: {shown}", stacklevel=3)

    def get_mean_vector(self, keys, weights=None, pre_normalize: bool = True, post_normalize: bool = False,
                        ignore_missing: bool = True) -> np.ndarray:
        """Weighted mean (D,) of the vectors of `keys` (words, row indices or raw vectors), as
        gensim: word vectors are unit-scaled first when pre_normalize, raw vectors are taken as
        they are; the sum is divided by the total |weight| of the keys used. Keys without a
        vector are skipped with a warning (ignore_missing) or are an UnknownWordError."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        if not keys:
            raise EmbedkitError("get_mean_vector needs at least one key")
        w = np.ones(len(keys), np.float32) if weights is None else np.asarray(weights, np.float32)
        if w.shape != (len(keys),):
            raise EmbedkitError(f"weights must have one value per key ({len(keys)}), got shape {w.shape}")
        total, mean, skipped = 0.0, np.zeros(self.dim, np.float32), []
        for key, weight in zip(keys, w):
            if isinstance(key, np.ndarray):
                v = key.astype(np.float32, copy=False)
            else:
                try:
                    v = self.get_vector(key, norm=pre_normalize)
                except UnknownWordError:
                    if not ignore_missing:
                        raise
                    skipped.append(key)
                    continue
            mean += weight * v
            total += abs(float(weight))
        self._warn_skipped("get_mean_vector", skipped)
        if total > 0:
            mean /= np.float32(total)
        return unit_rows(mean) if post_normalize else mean

    def vectors_for_all(self, keys, allow_inference: bool = True) -> "Embeddings":
        """A new Embeddings holding the given words (deduplicated, in order). Unseen words are
        built from subwords when the model can (allow_inference); others are dropped with a
        warning."""
        words, rows, skipped = [], [], []
        for key in dict.fromkeys(keys):
            if key in self.index or (allow_inference and self.oov_vector(key) is not None):
                words.append(key)
                rows.append(self.get_vector(key))
            else:
                skipped.append(key)
        self._warn_skipped("vectors_for_all", skipped)
        return Embeddings(words, np.stack(rows) if rows else np.empty((0, self.dim), np.float32))

    # -- edits --------------------------------------------------------------------------------------
    def add_vectors(self, keys, vectors, replace: bool = False) -> None:
        """Append words and their vectors; a word already present keeps its vector unless
        `replace` (as gensim). New words get count 0 when counts are kept."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(keys), -1) if keys else \
            np.empty((0, self.dim), np.float32)
        if vectors.shape[1] != self.dim:
            raise EmbedkitError(f"vectors must have {self.dim} values each, got {vectors.shape[1]}")
        new = {}
        for k, v in zip(keys, vectors):
            if not isinstance(k, str):
                raise EmbedkitError(f"a new key must be a word (str), got {type(k).__name__}")
            if k in self.index:
                if replace:
                    self.vectors[self.index[k]] = v
            else:
                new[k] = v                                # a repeated new word: its last vector
        for k in new:
            self.index[k] = len(self.words)
            self.words.append(k)
        if new:
            self.vectors = np.concatenate([self.vectors, np.stack(list(new.values()))])
            if self.counts is not None:
                self.counts = np.concatenate([self.counts, np.zeros(len(new), np.int64)])
        self._changed()

    def add_vector(self, key: str, vector) -> int:
        """Add one word (its vector replaces nothing if the word exists); returns its row."""
        self.add_vectors([key], [vector])
        return self.index[key]

    def to_torch(self, freeze: bool = True):
        """A torch.nn.Embedding (len(self), dim) float32 whose row i is the vector of self.words[i]
        (vocabulary order, so ids from self.index select rows); frozen (no gradient) unless
        freeze=False. A copy: training it leaves these vectors unchanged. Imports torch."""
        from embedkit.torch.device import import_torch
        torch = import_torch()
        rows = torch.tensor(np.asarray(self.vectors, dtype=np.float32))
        return torch.nn.Embedding.from_pretrained(rows, freeze=freeze)

    # -- files --------------------------------------------------------------------------------------
    def native_parts(self) -> tuple[str, dict, dict]:
        """(kind, config, extra arrays) for an embedkit model folder of these vectors."""
        return "vectors", {}, {}

    def save(self, path, format: str | None = None) -> None:
        """Write the vectors atomically. The format comes from the extension (.txt word2vec text,
        .bin word2vec binary, .vec fastText text; .gz/.bz2 compress) or from `format`; any
        other name becomes an embedkit model folder, which keeps everything (counts, subword
        rows) and which `Embeddings.load` / `embedkit.load` read back."""
        from embedkit.io import save_any
        save_any(self, path, format)

    def save_word2vec_format(self, fname, binary: bool = False, write_header: bool = True) -> None:
        """gensim's writer: word2vec text (binary=False), binary, or GloVe text (no header)."""
        from embedkit.io import save
        save(self, fname, format="word2vec-binary" if binary else "word2vec-text" if write_header else "glove")

    @classmethod
    def load(cls, path, format: str | None = None, limit: int | None = None) -> "Embeddings":
        """Any vectors file or model folder (embedkit.load)."""
        from embedkit.io import load
        return load(path, format=format, limit=limit)

    @classmethod
    def load_word2vec_format(cls, fname, binary: bool = False, limit: int | None = None,
                             no_header: bool = False, unicode_errors: str = "strict") -> "Embeddings":
        """gensim's reader: word2vec text or binary, or headerless (GloVe) text."""
        from embedkit.io import load
        fmt = "word2vec-binary" if binary else "glove" if no_header else "word2vec-text"
        return load(fname, format=fmt, limit=limit, unicode_errors=unicode_errors)
