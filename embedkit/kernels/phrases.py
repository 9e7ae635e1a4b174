"""Phrase detection kernels (word2vec's word2phrase, gensim's Phrases) over int32 token ids.

Bigram table: open addressing with linear probing, a power-of-two number of slots C.

    keys    (C,) int64   the bigram (a, b) as (a << 32) | b; EMPTY (-1) marks a free slot
    counts  (C,) int64   its count
    state   (STATE_SIZE,) int64: bigrams held, min_reduce (starts at 1), reductions so far

The table holds at most `max_entries` bigrams, and grows (doubling) while it holds more than
LOAD of its slots, up to `max_slots` (chosen by the caller so that max_entries fit at LOAD).
Pruning rule (word2phrase's ReduceVocab, gensim's prune_vocab): when a new bigram arrives and the
table already holds max_entries, every bigram counted <= min_reduce times is dropped and
min_reduce grows by one (it starts at 1), repeated until there is room. Memory is therefore
bounded (16 bytes x max_slots, twice that while a table is rebuilt into a new one); the counts
of rare bigrams become lower bounds, as in word2phrase and gensim.

A bigram is two consecutive tokens of one sentence piece: never across a piece boundary.

Scores (SCORE_*), `a` then `b`, counts ca, cb, cab, n = tokens in the corpus:
    word2phrase: (cab - min_count) / ca / cb * n, in float32 and in this order, as word2phrase.c
                 computes it; a bigram is a candidate when ca, cb, cab >= min_count
    npmi:        ln(pab / (pa pb)) / -ln(pab) with p = count / n (float64, gensim's npmi_scorer);
                 a candidate when cab >= min_count
A candidate is joined when its score > threshold. Joining is greedy, left to right: a token
that ends a phrase cannot start the next one (word2phrase sets pb = 0; gensim's analyze_sentence).
"""
import math

import numpy as np
from numba import njit

EMPTY = -1
LOAD = 0.7
ST_ENTRIES, ST_MIN_REDUCE, ST_REDUCTIONS = range(3)
STATE_SIZE = 3
SCORE_WORD2PHRASE, SCORE_NPMI = 0, 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(nogil=True, cache=True, inline="always")
def pair_key(a, b):
    return (np.int64(a) << 32) | np.int64(b)


@njit(nogil=True, cache=True, inline="always")
def _home(key, mask):
    h = np.uint64(key) * _GOLDEN
    h ^= h >> np.uint64(29)
    return np.int64(h & np.uint64(mask))


@njit(nogil=True, cache=True, inline="always")
def _find(keys, key):
    """The slot holding `key`, or the free slot where it would go."""
    mask = keys.shape[0] - 1
    s = _home(key, mask)
    while keys[s] != key and keys[s] != EMPTY:
        s = (s + 1) & mask
    return s


@njit(nogil=True, cache=True)
def rebuilt(keys, counts, n_slots, min_keep):
    """A table of n_slots slots with the bigrams of (keys, counts) counted >= min_keep times;
    returns (keys, counts, bigrams held)."""
    new_keys = np.full(n_slots, EMPTY, np.int64)
    new_counts = np.zeros(n_slots, np.int64)
    held = 0
    for s in range(keys.shape[0]):
        if keys[s] != EMPTY and counts[s] >= min_keep:
            t = _find(new_keys, keys[s])
            new_keys[t] = keys[s]
            new_counts[t] = counts[s]
            held += 1
    return new_keys, new_counts, held


@njit(nogil=True, cache=True)
def count_bigrams(tokens, offsets, p0, p1, keys, counts, state, max_entries, max_slots):
    """Count the bigrams of pieces p0..p1-1 (tokens[offsets[p]:offsets[p+1]]) into the table,
    growing and pruning it as the module docstring says. Returns (keys, counts): the same arrays,
    or new ones when the table was grown or pruned."""
    held = state[ST_ENTRIES]
    for p in range(p0, p1):
        for t in range(offsets[p] + 1, offsets[p + 1]):
            key = pair_key(tokens[t - 1], tokens[t])
            s = _find(keys, key)
            if keys[s] == key:
                counts[s] += 1
                continue
            if held >= max_entries:
                while held >= max_entries:          # word2phrase's ReduceVocab, until there is room
                    keys, counts, held = rebuilt(keys, counts, keys.shape[0], state[ST_MIN_REDUCE] + 1)
                    state[ST_MIN_REDUCE] += 1
                    state[ST_REDUCTIONS] += 1
                s = _find(keys, key)
            elif held + 1 > LOAD * keys.shape[0] and keys.shape[0] < max_slots:
                keys, counts, held = rebuilt(keys, counts, 2 * keys.shape[0], 1)
                s = _find(keys, key)
            keys[s] = key
            counts[s] = 1
            held += 1
    state[ST_ENTRIES] = held
    return keys, counts


@njit(nogil=True, cache=True, inline="always")
def bigram_count(keys, counts, a, b):
    key = pair_key(a, b)
    s = _find(keys, key)
    return counts[s] if keys[s] == key else 0


@njit(nogil=True, cache=True)
def score(scoring, ca, cb, cab, min_count, n_words):
    """The score of bigram (a, b), or -inf when it is no candidate (module docstring)."""
    if cab < min_count:
        return -np.inf
    if scoring == SCORE_WORD2PHRASE:
        if ca < min_count or cb < min_count:
            return -np.inf
        # word2phrase.c: (pab - min_count) / (real)pa / (real)pb * (real)train_words, real = float
        return np.float64(np.float32(cab - min_count) / np.float32(ca) / np.float32(cb) * np.float32(n_words))
    pa = ca / n_words
    pb = cb / n_words
    pab = cab / n_words
    if pab >= 1.0:                       # one bigram is the whole corpus: perfectly associated
        return 1.0
    return math.log(pab / (pa * pb)) / -math.log(pab)


@njit(nogil=True, cache=True)
def mark_joins(tokens, offsets, p0, p1, word_counts, keys, counts, scoring, min_count, threshold, n_words, join):
    """Greedy joins in pieces p0..p1-1: join[t] = True when token t joins token t-1 into a phrase.
    threshold is compared in the scoring's precision (float32 for word2phrase). Returns the
    number of joins."""
    thr32 = np.float64(np.float32(threshold))
    thr = thr32 if scoring == SCORE_WORD2PHRASE else threshold
    n = 0
    for p in range(p0, p1):
        free = False                         # whether token t-1 may start a phrase
        for t in range(offsets[p], offsets[p + 1]):
            if free:
                a = tokens[t - 1]
                b = tokens[t]
                cab = bigram_count(keys, counts, a, b)
                if cab >= min_count and score(scoring, word_counts[a], word_counts[b], cab, min_count,
                                              n_words) > thr:
                    join[t] = True
                    n += 1
                    free = False
                    continue
            free = True
    return n


@njit(nogil=True, cache=True)
def pair_scores(lefts, rights, word_counts, keys, counts, scoring, min_count, n_words):
    """Bigram counts (P,) int64 and scores (P,) float64 of the pairs (lefts[i], rights[i])."""
    n = lefts.shape[0]
    cab = np.zeros(n, np.int64)
    out = np.zeros(n, np.float64)
    for i in range(n):
        cab[i] = bigram_count(keys, counts, lefts[i], rights[i])
        out[i] = score(scoring, word_counts[lefts[i]], word_counts[rights[i]], cab[i], min_count, n_words)
    return cab, out


@njit(nogil=True, cache=True)
def render_text(tokens, offsets, continues, p0, word_start, arena, out):
    """Write pieces from p0 as text into out (uint8): tokens separated by a space, a piece that
    continues its line after a space, a newline at each line end. Word w's UTF-8 bytes are
    arena[word_start[w]:word_start[w+1]]. Stops before the first piece that does not fit;
    returns (next piece, bytes written)."""
    n_pieces = offsets.shape[0] - 1
    o = 0
    p = p0
    while p < n_pieces:
        need = 1
        for t in range(offsets[p], offsets[p + 1]):
            w = tokens[t]
            need += word_start[w + 1] - word_start[w] + 1
        if o + need > out.shape[0]:
            break
        for t in range(offsets[p], offsets[p + 1]):
            if t > offsets[p]:
                out[o] = 32
                o += 1
            w = tokens[t]
            for i in range(word_start[w], word_start[w + 1]):
                out[o] = arena[i]
                o += 1
        last_of_line = p + 1 == n_pieces or not continues[p + 1]
        out[o] = 10 if last_of_line else 32
        o += 1
        p += 1
    return p, o
