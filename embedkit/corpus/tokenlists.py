"""In-memory corpora: any iterable of token lists (gensim's `sentences`) to an EncodedCorpus.

    encode_token_lists([["the", "cat"], ["a", "dog"]], CorpusConfig(min_count=1))

What is streamed and what is held: the iterable is read exactly once, so a generator or a file
reader works as well as a list (gensim needs a re-iterable corpus and reads it once per epoch
plus once to count). Each token becomes a 4-byte provisional id as it is read (a dict of the
distinct words gives the ids); after the pass the vocabulary is built from the counts, the ids
are remapped and out-of-vocabulary tokens dropped. Held in memory afterwards: the encoded corpus
(4 bytes per kept token, 8 per sentence), as for a file corpus, but not cached on disk.

Tokens are taken as given: no tokenizer runs and no case is folded. A sentence longer than
max_sentence_length tokens is cut into consecutive pieces (counted in the stats), as a line of a
file is. max_vocab_size prunes rare words while reading, as gensim does: their counts become
approximate, and memory stays bounded by the tokens read plus max_vocab_size words.
"""
from __future__ import annotations

from array import array
from typing import Iterable

import numpy as np

from embedkit.config import CorpusConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError

SOURCE_NAME = "<token lists>"          # what CorpusStats.files shows for an in-memory corpus


class _Ids(dict):
    """word -> provisional id, a new id for each new word."""

    def __missing__(self, word):
        i = self[word] = self.next_id
        self.next_id += 1
        return i


def _check_sentence(sent, n: int):
    if isinstance(sent, (str, bytes)):
        raise EmbedkitError(f"corpus: sentence {n} is a {type(sent).__name__}, not a list of tokens; split it "
                            "into words first (line.split()), or pass the path of a text file")
    if not hasattr(sent, "__iter__"):
        raise EmbedkitError(f"corpus: sentence {n} is a {type(sent).__name__}, not a list of tokens")


def _prune(ids: _Ids, counts: np.ndarray, dead: list, min_reduce: int) -> None:
    """Forget the words counted fewer than min_reduce times (gensim's prune_vocab): their ids die."""
    for word, i in list(ids.items()):
        if counts[i] < min_reduce:
            del ids[word]
            dead.append(i)


def encode_token_lists(sentences: Iterable, cfg: CorpusConfig | None = None) -> EncodedCorpus:
    """One pass over `sentences` (each an iterable of str tokens) -> EncodedCorpus with `.stats`."""
    cfg = cfg or CorpusConfig()
    ids = _Ids()
    ids.next_id = 0
    buf = array("i")                   # provisional ids, one per token read
    lens = array("q")                  # tokens per sentence
    counts = np.zeros(0, np.int64)     # (next_id,) counts of provisional ids up to `counted`
    counted, dead, min_reduce = 0, [], 1
    limit = cfg.max_vocab_size
    for n, sent in enumerate(sentences):
        _check_sentence(sent, n)
        before = len(buf)
        buf.extend(map(ids.__getitem__, sent))
        lens.append(len(buf) - before)
        if limit is not None and len(ids) > limit:
            counts = _count(buf, counted, counts, ids.next_id)
            counted = len(buf)
            _prune(ids, counts, dead, min_reduce)
            min_reduce += 1
    counts = _count(buf, counted, counts, ids.next_id)
    bad = next((w for w in ids if not isinstance(w, str)), None)
    if bad is not None:
        raise EmbedkitError(f"corpus: token {bad!r} is a {type(bad).__name__}, not a str; sentences must be "
                            "lists of str tokens")
    words = list(ids)
    alive = np.fromiter(ids.values(), np.int64, len(ids))          # provisional ids of live words
    vocab = Vocab.from_counts(dict(zip(words, counts[alive].tolist())), cfg.min_count, cfg.max_size,
                              total_tokens=len(buf))
    vocab.total_types = len(ids)
    if len(vocab) == 0:
        raise EmbedkitError(f"no word occurs at least min_count {cfg.min_count} times in the "
                            f"{len(lens):,} sentences ({len(buf):,} tokens) of the corpus")
    remap = np.full(ids.next_id, -1, np.int32)                       # provisional id -> final id or -1
    final = vocab.index
    remap[alive] = [final.get(w, -1) for w in words]
    return _assemble(remap[np.frombuffer(buf, np.int32)], np.frombuffer(lens, np.int64), vocab, cfg)


def _count(buf: array, start: int, counts: np.ndarray, n_ids: int) -> np.ndarray:
    """counts (n_ids,) after adding the ids of buf[start:]."""
    new = np.bincount(np.frombuffer(buf, np.int32)[start:], minlength=n_ids).astype(np.int64)
    new[:len(counts)] += counts
    return new


def _assemble(tokens: np.ndarray, lens: np.ndarray, vocab: Vocab, cfg: CorpusConfig) -> EncodedCorpus:
    """As the file pipeline: a sentence is cut into pieces of at most max_sentence_length read
    tokens; out-of-vocabulary tokens (id -1) are dropped, a piece left empty is dropped, and a
    piece continues its sentence only when an earlier piece of it was kept. Empty sentences are
    not counted as lines. tokens (N,) int32; lens (S,) int64."""
    cap = cfg.max_sentence_length
    n_pieces = -(-lens // cap)                                       # (S,) 0 for an empty sentence
    line_of = np.repeat(np.arange(len(lens)), n_pieces)             # (P,) sentence of each piece
    first = np.concatenate([[0], np.cumsum(n_pieces)[:-1]]).astype(np.int64)
    pos = np.arange(len(line_of)) - first[line_of]                  # index of the piece in its sentence
    piece_lens = np.minimum(cap, lens[line_of] - pos * cap)         # (P,) read tokens per piece
    keep = tokens >= 0
    kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    bounds = np.concatenate([[0], np.cumsum(piece_lens)]).astype(np.int64)
    kept_ends = kept_before[bounds]
    kept_pieces = np.flatnonzero(np.diff(kept_ends) > 0)            # pieces with a kept token
    offsets = np.concatenate([[0], kept_ends[kept_pieces + 1]]).astype(np.int64)
    lines = line_of[kept_pieces]
    continues = np.concatenate([[False], lines[1:] == lines[:-1]]) if len(lines) else np.zeros(0, bool)
    stats = CorpusStats(files=[SOURCE_NAME], lines=int((lens > 0).sum()), sentences=len(piece_lens),
                        cuts=int(np.maximum(n_pieces - 1, 0).sum()), tokens=len(tokens))
    corpus = EncodedCorpus(np.ascontiguousarray(tokens[keep], np.int32), offsets, continues.astype(bool), vocab)
    corpus.stats = stats
    return corpus
