"""EncodedCorpus: the int32 form of a corpus that trainers and counters consume.

    tokens     (N,) int32   word ids of kept tokens, corpus order (out-of-vocabulary tokens are
                            dropped before any window is formed, as word2vec C, gensim and GloVe do)
    offsets    (S+1,) int64 sentence s is tokens[offsets[s]:offsets[s+1]]
    continues  (S,) bool    True when sentence s is a piece cut from the same input line as
                            sentence s-1 (a cut of an over-long line, not a real boundary)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embedkit.corpus.vocab import Vocab


@dataclass
class EncodedCorpus:
    tokens: np.ndarray
    offsets: np.ndarray
    continues: np.ndarray
    vocab: Vocab

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @classmethod
    def from_id_lists(cls, sentences, vocab: Vocab, continues=None) -> "EncodedCorpus":
        """Build from lists of ids (tests and small inputs)."""
        lens = np.array([len(s) for s in sentences], dtype=np.int64)
        offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        tokens = (np.concatenate([np.asarray(s, dtype=np.int32) for s in sentences])
                  if sentences else np.zeros(0, np.int32)).astype(np.int32)
        cont = (np.zeros(len(sentences), dtype=bool) if continues is None
                else np.asarray(continues, dtype=bool))
        return cls(tokens, offsets, cont, vocab)

    def line_offsets(self) -> np.ndarray:
        """Offsets of real sentence boundaries (cuts of over-long lines merged back)."""
        starts = self.offsets[:-1][~self.continues]
        return np.append(starts, self.offsets[-1]).astype(np.int64)
