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
    """Cut the sentences into pieces as the file pipeline cuts lines (kernels/pieces.py): out-of-
    vocabulary tokens (id -1) are dropped, a piece left empty is dropped, and a piece continues
    its sentence only when an earlier piece of it was kept. tokens (N,) int32; lens (S,) int64."""
    from embedkit.corpus.stream import new_state, publish_counts
    from embedkit.kernels.pieces import ST_OUT_IDS, ST_OUT_PIECES, cut_lines
    state = new_state()
    out_ids = np.empty(len(tokens), np.int32)                      # (N,) kept ids
    most = int((-(-lens // cfg.max_sentence_length)).sum())        # pieces before OOV removal
    out_len = np.empty(most, np.int64)                              # (P,) kept pieces' lengths
    out_cont = np.empty(most, np.bool_)
    cut_lines(tokens, lens, True, state, cfg.max_sentence_length, out_ids, out_len, out_cont)
    n_ids, n_pieces = int(state[ST_OUT_IDS]), int(state[ST_OUT_PIECES])
    offsets = np.zeros(n_pieces + 1, np.int64)                      # (S'+1,)
    np.cumsum(out_len[:n_pieces], out=offsets[1:])
    stats = CorpusStats(files=[SOURCE_NAME])
    publish_counts(state, stats)
    return EncodedCorpus(out_ids[:n_ids].copy(), offsets, out_cont[:n_pieces].copy(), vocab, stats)
