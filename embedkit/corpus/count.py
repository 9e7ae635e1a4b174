"""Pass 1: count the words of a corpus into a Vocab.

The text stream (corpus/stream.py) feeds the scanner (kernels/textscan.py), which counts every
token into a byte-string hash table (corpus/bytetable.py): no Python string is made per token,
and only the kept words become strings at the end (Vocab.ranked).

With max_vocab_size, whenever a closed sentence piece leaves more than that many words in the
table, every word with a count <= min_reduce is dropped and min_reduce grows by one (gensim's
prune_vocab, word2vec C's ReduceVocab): memory stays bounded, and the counts of rare words
become approximate, as in gensim and word2vec C.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedkit.config import CorpusConfig
from embedkit.corpus.bytetable import IDENTITY, ByteTable
from embedkit.corpus.reader import BLOCK_SIZE, display_name, expand_inputs
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.stream import TextStream, gc_paused, new_state, publish_counts
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError
from embedkit.memory import trim_heap
from embedkit.kernels import textscan

_NO_LIMIT = 1 << 62             # max_vocab_size None


@dataclass
class WordCounts:
    """Counted words in a ByteTable (value = count) and the number of tokens read."""
    table: ByteTable
    total_tokens: int

    def __len__(self) -> int:
        return len(self.table)

    @gc_paused()
    def to_vocab(self, min_count: int, max_size: int | None) -> Vocab:
        """The Vocab of these counts; total_types counts every word in the table."""
        entries, counts = self.table.items()
        return Vocab.ranked(counts, lambda idx: self.table.word_bytes(entries[idx]), min_count, max_size,
                            self.total_tokens, len(self))

    def as_dict(self) -> dict:
        entries, counts = self.table.items()
        return dict(zip(self.table.words(entries), counts.tolist()))


@gc_paused()
def count_words(paths, cfg: CorpusConfig, stats: CorpusStats | None = None, *,
                block_size: int = BLOCK_SIZE) -> WordCounts:
    """Count the words of `paths` (files, folders, `-`), pruning as the module docstring says.
    `stats` is filled as the corpus is read (files, lines, sentences, cuts, tokens, replaced
    bytes); block_size is the number of decompressed bytes read at a time."""
    stream = TextStream(expand_inputs(paths), cfg, block_size)
    stats = CorpusStats() if stats is None else stats
    code = stream.code
    table = ByteTable()
    state = new_state()
    max_len = cfg.max_sentence_length
    max_types = _NO_LIMIT if cfg.max_vocab_size is None else cfg.max_vocab_size
    total = 0
    for text in stream.buffers(stats):
        buf = np.frombuffer(text, np.uint8)
        i = 0
        while True:                                    # the kernel stops when the table is full
            i, status = textscan.count_text(buf, i, code, IDENTITY, *table.kernel_args(), state,
                                            max_len, max_types)
            if status == textscan.DONE:
                break
            table.reserve(1, len(buf))
        total += publish_counts(state, stats)
    return WordCounts(table, total)


def build_vocab(files, cfg: CorpusConfig, stats: CorpusStats | None = None, *,
                block_size: int = BLOCK_SIZE) -> Vocab:
    """count_words, then the Vocab of cfg.min_count and cfg.max_size; an empty one is an error."""
    vocab = count_words(files, cfg, stats, block_size=block_size).to_vocab(cfg.min_count, cfg.max_size)
    trim_heap()                                         # the count table is gone: return its heap
    if len(vocab) == 0:
        pruned = (f" (--max-vocab-size {cfg.max_vocab_size:,} pruned the rarer words while counting)"
                  if cfg.max_vocab_size is not None else "")
        raise EmbedkitError(f"no word occurs at least --min-count {cfg.min_count} times in "
                            f"{', '.join(map(display_name, expand_inputs(files)))}{pruned}")
    return vocab
