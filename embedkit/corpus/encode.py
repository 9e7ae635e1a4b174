"""Pass 2: map the tokens of a corpus to word ids, into the encoded-corpus format.

The text stream (corpus/stream.py) feeds the scanner (kernels/textscan.py), which looks every
token up in a word -> id table (corpus/bytetable.py) and cuts the lines into pieces
(kernels/pieces.py). Out-of-vocabulary tokens are dropped before any window is formed
(word2vec C, gensim and GloVe do the same), a piece they leave empty is dropped, and a piece
continues its line only when an earlier piece of the line was kept. The ids go to an
EncodedWriter (corpus/encoded.py) buffer by buffer: memory is bounded by the buffer size, not
by the corpus.
"""
from __future__ import annotations

import numpy as np

from embedkit.config import CorpusConfig
from embedkit.corpus.bytetable import lookup_table
from embedkit.corpus.encoded import EncodedWriter
from embedkit.corpus.reader import BLOCK_SIZE, expand_inputs
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.stream import TextStream, gc_paused, new_state, publish_counts
from embedkit.corpus.vocab import Vocab
from embedkit.kernels import pieces, textscan


@gc_paused()
def encode_corpus(paths, cfg: CorpusConfig, vocab: Vocab, writer: EncodedWriter,
                  stats: CorpusStats | None = None, *, block_size: int = BLOCK_SIZE) -> None:
    """Add the ids and pieces of `paths` to `writer` (the caller finishes it). `stats` is filled
    as in count.count_words."""
    stream = TextStream(expand_inputs(paths), cfg, block_size)
    stats = CorpusStats() if stats is None else stats
    code = stream.code
    slots, ent, arena, _ = lookup_table(vocab.words).kernel_args()
    state = new_state()
    max_len = cfg.max_sentence_length
    for text in stream.buffers(stats):
        buf = np.frombuffer(text, np.uint8)
        out_ids = np.empty(len(buf), np.int32)          # every token: <= 1 per byte
        out_len = np.empty(len(buf) + 1, np.int64)      # every piece: <= 1 per byte + 1
        out_cont = np.empty(len(buf) + 1, np.bool_)
        textscan.encode_text(buf, code, slots, ent, arena, state, max_len, out_ids, out_len, out_cont)
        n_ids, n_pieces = int(state[pieces.ST_OUT_IDS]), int(state[pieces.ST_OUT_PIECES])
        writer.add(out_ids[:n_ids], out_len[:n_pieces], out_cont[:n_pieces])
        publish_counts(state, stats)
