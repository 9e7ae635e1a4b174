"""Phrase detection over an encoded corpus (word2vec's word2phrase, gensim's Phrases).

    base ─► [count bigrams ─► mark joins ─► join] x passes ─► Phrased ─► text (write_text)
    (every word kept)  kernels/phrases.py                        └─► ranked EncodedCorpus (training)

Phrases are found among all the words of the text, so the corpus they start from keeps every
word (`base_config`: min_count 1, no max_size); a rare word between two others keeps them apart,
as in word2phrase. Each pass counts the words and the bigrams of the previous pass's output,
joins the bigrams that score above the threshold (greedy, left to right), and gives each new
phrase an id after the existing ones, so pass k+1 can join a phrase of pass k with a word
(new_york + times). Bigrams never cross a sentence piece (kernels/phrases.py has the counting,
pruning and scoring rules). Memory: the bigram table (bounded by PhrasesConfig.max_bigrams) plus
the token arrays of the corpus (4 bytes per token, as training holds them).

For training, `phrase_encoded` then builds the vocabulary of the phrased tokens (min_count,
max_size) and drops the tokens left out of it, as the encoder drops out-of-vocabulary words.
"""
from __future__ import annotations

import dataclasses
import gzip
import sys
from dataclasses import dataclass, field

import numpy as np

from embedkit.config import CorpusConfig, PhrasesConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path

SCORINGS = {"word2phrase": 0, "npmi": 1}       # kernels/phrases.py SCORE_*
DELIMITER = "_"
_CHUNK_TOKENS = 4 << 20                         # tokens per kernel call
_TEXT_BUFFER = 16 << 20                         # bytes rendered per write


@dataclass(eq=False)
class Phrased:
    """A corpus after phrase detection, every token kept: ids into `words`, the words and then
    the phrases. tokens (N,) int32, offsets (S+1,) int64, continues (S,) bool as in EncodedCorpus."""
    tokens: np.ndarray
    offsets: np.ndarray
    continues: np.ndarray
    words: list


@dataclass(eq=False)
class PhraseTable:
    """The phrases a detection joined, in the order they were made (pass by pass, then by id).

    phrases (P,) str, joined (P,) int64 occurrences joined, bigram_counts (P,) int64 the count
    its score used, scores (P,) float64, passes (P,) int32 the pass (1-based) that made it."""
    phrases: list
    joined: np.ndarray
    bigram_counts: np.ndarray
    scores: np.ndarray
    passes: np.ndarray
    phrased: Phrased | None = field(default=None, repr=False)      # the phrased corpus, every token
    stats: object = field(default=None, repr=False)                # CorpusStats of reading the text
    pass_log: list = field(default_factory=list, repr=False)       # per pass: phrases, joined, bigrams, reductions
    config: PhrasesConfig | None = field(default=None, repr=False)
    _corpus: EncodedCorpus | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.phrases)

    def __iter__(self):
        return iter(self.phrases)

    def __contains__(self, phrase) -> bool:
        return phrase in self.to_dict()

    def to_dict(self) -> dict:
        """phrase -> score (gensim's export_phrases)."""
        return dict(zip(self.phrases, self.scores.tolist()))

    @property
    def corpus(self) -> EncodedCorpus:
        """The phrased corpus as an EncodedCorpus, every token kept, ids ranked by count."""
        if self._corpus is None:
            self._corpus = ranked_corpus(self.phrased, 1, None, self.stats)
        return self._corpus

    def save(self, path) -> None:
        """TSV: a header, then `phrase<TAB>joined<TAB>bigram_count<TAB>score<TAB>pass` per phrase."""
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write("phrase\tjoined\tbigram_count\tscore\tpass\n")
            for row in zip(self.phrases, self.joined.tolist(), self.bigram_counts.tolist(),
                           self.scores.tolist(), self.passes.tolist()):
                f.write("%s\t%d\t%d\t%.9g\t%d\n" % row)


def base_config(cfg: CorpusConfig) -> CorpusConfig:
    """The corpus settings of the text phrases are found in: every word kept, no phrases."""
    defaults = CorpusConfig()
    return dataclasses.replace(cfg, min_count=1, max_size=None, phrases=0, phrase_min_count=defaults.phrase_min_count,
                               phrase_threshold=None, phrase_scoring=defaults.phrase_scoring)


def table_slots(max_bigrams: int) -> int:
    """The most slots the bigram table may take: the power of two that holds max_bigrams at LOAD."""
    from embedkit.kernels.phrases import LOAD
    slots = 1
    while max_bigrams > LOAD * slots:
        slots *= 2
    return slots


def count_bigrams(tokens, offsets, max_bigrams: int):
    """Bigram table (keys, counts, state) of a corpus (kernels/phrases.py), in chunks of pieces."""
    from embedkit.kernels import phrases as K
    max_slots = table_slots(max_bigrams)
    slots = min(max_slots, 1 << 16)
    keys = np.full(slots, K.EMPTY, np.int64)          # (C,) int64 packed bigrams
    counts = np.zeros(slots, np.int64)                # (C,) int64
    state = np.zeros(K.STATE_SIZE, np.int64)
    state[K.ST_MIN_REDUCE] = 1
    for p0, p1 in _chunks(offsets):
        keys, counts = K.count_bigrams(tokens, offsets, p0, p1, keys, counts, state, max_bigrams, max_slots)
    return keys, counts, state


def _chunks(offsets):
    """(p0, p1) ranges of pieces holding about _CHUNK_TOKENS tokens each."""
    n = len(offsets) - 1
    p0 = 0
    while p0 < n:
        p1 = int(np.searchsorted(offsets, offsets[p0] + _CHUNK_TOKENS, side="right")) - 1
        p1 = min(max(p1, p0 + 1), n)
        yield p0, p1
        p0 = p1


def join_pass(phrased: Phrased, cfg: PhrasesConfig, pass_no: int):
    """One pass: count, mark joins, join. Returns (the new Phrased, the rows of its new phrases,
    the bigram table's state)."""
    from embedkit.kernels import phrases as K
    tokens, offsets = phrased.tokens, phrased.offsets
    n_ids = len(phrased.words)
    word_counts = np.bincount(tokens, minlength=n_ids).astype(np.int64)     # (W,) int64
    keys, counts, state = count_bigrams(tokens, offsets, cfg.max_bigrams)
    scoring, n_words = SCORINGS[cfg.scoring], len(tokens)
    join = np.zeros(len(tokens), np.bool_)                                   # (N,) joins token t-1
    for p0, p1 in _chunks(offsets):
        K.mark_joins(tokens, offsets, p0, p1, word_counts, keys, counts, scoring, cfg.min_count,
                     float(cfg.threshold_value()), n_words, join)
    pos = np.flatnonzero(join)                                               # (J,) second tokens
    pairs = (tokens[pos - 1].astype(np.int64) << 32) | tokens[pos]
    uniq, inv = np.unique(pairs, return_inverse=True)                        # (P,) new phrases
    lefts, rights = (uniq >> 32).astype(np.int32), (uniq & 0xFFFFFFFF).astype(np.int32)
    bigram_counts, scores = K.pair_scores(lefts, rights, word_counts, keys, counts, scoring, cfg.min_count, n_words)
    del keys, counts
    new_tokens = tokens.copy()
    new_tokens[pos - 1] = n_ids + inv.astype(np.int32)
    new_tokens = new_tokens[~join]
    new_offsets = offsets - np.searchsorted(pos, offsets)                    # joins before each offset
    words = phrased.words + [phrased.words[a] + DELIMITER + phrased.words[b]
                             for a, b in zip(lefts.tolist(), rights.tolist())]
    rows = (words[n_ids:], np.bincount(inv, minlength=len(uniq)).astype(np.int64), bigram_counts, scores,
            np.full(len(uniq), pass_no, np.int32))
    return Phrased(new_tokens, new_offsets, phrased.continues, words), rows, state


def detect_phrases(corpus: EncodedCorpus, cfg: PhrasesConfig) -> PhraseTable:
    """Run cfg.passes passes over `corpus` (its ids and vocabulary words); the table carries the
    phrased corpus (.phrased, .corpus) and, in .pass_log, what each pass did."""
    from embedkit.kernels.phrases import ST_ENTRIES, ST_REDUCTIONS
    phrased = Phrased(np.ascontiguousarray(corpus.tokens, np.int32), np.asarray(corpus.offsets, np.int64),
                      np.asarray(corpus.continues, np.bool_), list(corpus.vocab.words))
    rows, log = [], []
    for k in range(1, cfg.passes + 1):
        phrased, new, state = join_pass(phrased, cfg, k)
        rows.append(new)
        log.append({"pass": k, "phrases": len(new[0]), "joined": int(new[1].sum()),
                    "bigrams": int(state[ST_ENTRIES]), "reductions": int(state[ST_REDUCTIONS])})
    cols = list(zip(*rows))
    return PhraseTable([p for part in cols[0] for p in part], *(np.concatenate(c) for c in cols[1:]),
                       phrased=phrased, stats=getattr(corpus, "stats", None), pass_log=log, config=cfg)


def ranked_corpus(phrased: Phrased, min_count: int, max_size: int | None, stats=None,
                  vocab: Vocab | None = None) -> EncodedCorpus:
    """The EncodedCorpus of phrased tokens: the vocabulary of min_count and max_size (or `vocab`),
    out-of-vocabulary tokens dropped, a piece left empty dropped, and a kept piece continuing its
    line only when an earlier piece of the line was kept (kernels/pieces.py's rule)."""
    counts = np.bincount(phrased.tokens, minlength=len(phrased.words)).astype(np.int64)
    if vocab is None:
        vocab = Vocab.ranked(counts, lambda idx: [phrased.words[i] for i in idx.tolist()], min_count, max_size,
                             len(phrased.tokens), int(np.count_nonzero(counts)))
    remap = np.full(len(phrased.words), -1, np.int32)                       # phrased id -> vocab id or -1
    index = vocab.index
    for i, w in enumerate(phrased.words):
        j = index.get(w)
        if j is not None:
            remap[i] = j
    ids = remap[phrased.tokens]
    keep = ids >= 0
    offsets = phrased.offsets
    if len(ids):
        kept = np.add.reduceat(keep, np.minimum(offsets[:-1], len(ids) - 1), dtype=np.int64)   # (S,)
        kept[np.diff(offsets) == 0] = 0
    else:
        kept = np.zeros(len(offsets) - 1, np.int64)
    pieces = np.flatnonzero(kept > 0)                                        # (S',) kept pieces
    line = np.cumsum(~phrased.continues)[pieces]                             # the line of each
    new_offsets = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum(kept[pieces], out=new_offsets[1:])
    continues = np.zeros(len(pieces), np.bool_)
    continues[1:] = line[1:] == line[:-1]
    return EncodedCorpus(ids[keep], new_offsets, continues, vocab, stats)


def phrase_encoded(base: EncodedCorpus, cfg: CorpusConfig, vocab: Vocab | None = None) -> EncodedCorpus:
    """cfg.phrases passes over `base` (see base_config), then the vocabulary of cfg.min_count and
    cfg.max_size (or `vocab`) over the phrased tokens."""
    table = detect_phrases(base, cfg.phrases_config())
    out = ranked_corpus(table.phrased, cfg.min_count, cfg.max_size, getattr(base, "stats", None), vocab)
    if len(out.vocab) == 0:
        raise EmbedkitError(f"no word or phrase occurs at least --min-count {cfg.min_count} times")
    return out


def write_text(phrased: Phrased, path) -> int:
    """Write the phrased corpus as text, one input line per line, tokens separated by spaces:
    to `path` atomically (gzip-compressed when it ends in .gz), or to stdout for "-". Returns
    the bytes written (before compression)."""
    from embedkit.kernels.phrases import render_text
    encoded = [w.encode("utf-8", "surrogatepass") for w in phrased.words]
    word_start = np.zeros(len(encoded) + 1, np.int64)                      # (W+1,) arena offsets
    np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=word_start[1:])
    arena = np.frombuffer(b"".join(encoded), np.uint8)
    if len(arena) == 0:
        arena = np.zeros(1, np.uint8)
    tokens, offsets, continues = phrased.tokens, phrased.offsets, phrased.continues

    def render(f) -> int:
        buf = np.empty(_TEXT_BUFFER, np.uint8)
        p, total = 0, 0
        while p < len(offsets) - 1:
            p, n = render_text(tokens, offsets, continues, p, word_start, arena, buf)
            if n == 0:                                  # one piece longer than the buffer
                buf = np.empty(2 * len(buf), np.uint8)
                continue
            f.write(memoryview(buf[:n]))
            total += n
        return total

    if str(path) == "-":
        total = render(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return total
    try:
        with atomic_path(path) as tmp:
            opener = gzip.open if str(path).endswith(".gz") else open
            with opener(tmp, "wb") as f:
                return render(f)
    except OSError as e:
        raise EmbedkitError(f"cannot write {path}: {e.strerror or e}") from None
