"""Labelled lines -> the classifier's example records (kernels/supervised.py), as fastText's Dictionary::getLine.

Input, per token of every line (corpus/labelled.py): its *type* id (a distinct token string).
Per type: type_word (T,) int32 its word id or -1 (not in the vocabulary), type_label (T,) int32
its label id, -1 for a word token, -2 for a label token the model does not know; type_hash (T,)
int64 fastText's 32-bit FNV-1a of its bytes read as int32 (sign-extended); oov_ptr/oov_ids (T+1,),
(n,) the char n-gram rows of a type that is an unknown word (fastText embeds those; empty without
char n-grams). Per vocabulary word: bag_ptr/bag_ids, its input rows ([w] or [w, V + n-grams]).

A line's record is [n_labels, its known labels..., input rows], the input rows being, in order:
the bags of its known words, the n-gram rows of its unknown words, the bag of the end-of-line
word `eos` (fastText's "</s>", part of every line), and one row V + (hash % bucket) per word
n-gram, n = 2..word_ngrams, over the hashes of all its word tokens (unknown ones included) and of
"</s>" (fastText's addWordNgrams: h = h * 116049371 + hash, in uint64 arithmetic).

Line status: OK, EMPTY (no token), NO_LABEL (words but no known label), NO_WORD (no known word and
no n-gram row: nothing to predict from; labels alone, or unknown words only). With `training`,
only OK lines get a record; otherwise every line gets one (NO_WORD lines a record without input
rows, EMPTY and NO_LABEL lines too), so records stay aligned with lines.
"""
import numpy as np
from numba import njit

OK, EMPTY, NO_LABEL, NO_WORD = 0, 1, 2, 3
STATUS_NAMES = ("ok", "empty", "no label", "no word")
NGRAM_MUL = np.uint64(116049371)             # fastText's word n-gram hash multiplier
_FNV_OFFSET, _FNV_PRIME = np.uint64(2166136261), np.uint64(16777619)
_MASK32, _SIGN = np.uint64(0xFFFFFFFF), np.uint64(0xFFFFFF00)


@njit(nogil=True, cache=True)
def fnv_hashes(buf, starts):
    """(T,) int64: fastText's hash of each string buf[starts[t]:starts[t+1]] (bytes read as signed
    chars), as the int32 fastText stores it, sign-extended."""
    T = starts.shape[0] - 1
    out = np.empty(T, np.int64)
    for t in range(T):
        h = _FNV_OFFSET
        for i in range(starts[t], starts[t + 1]):
            b = np.uint64(buf[i])
            if b >= 0x80:
                b |= _SIGN
            h = ((h ^ b) * _FNV_PRIME) & _MASK32
        v = np.int64(h)
        out[t] = v - (np.int64(1) << 32) if v >= (np.int64(1) << 31) else v
    return out


@njit(nogil=True, cache=True)
def _line(tok, a, b, type_word, type_label, type_hash, oov_ptr, oov_ids, bag_ptr, bag_ids, eos, eos_hash,
          n_words, word_ngrams, bucket, hashes, out, pos, fill):
    """Write (fill) or size one line's record at out[pos:]; returns (end position, status)."""
    if b == a:
        if fill:
            out[pos] = 0
        return pos + 1, EMPTY                                   # a record [0]: no label, no input row
    p = pos + 1
    for k in range(a, b):                                       # labels
        lab = type_label[tok[k]]
        if lab >= 0:
            if fill:
                out[p] = lab
            p += 1
    n_lab = p - pos - 1
    first = p
    n_hash = 0
    for k in range(a, b):                                       # words, unknown words' n-grams
        t = tok[k]
        if type_label[t] != -1:
            continue
        w = type_word[t]
        if w >= 0:
            for j in range(bag_ptr[w], bag_ptr[w + 1]):
                if fill:
                    out[p] = bag_ids[j]
                p += 1
        else:
            for j in range(oov_ptr[t], oov_ptr[t + 1]):
                if fill:
                    out[p] = oov_ids[j]
                p += 1
        hashes[n_hash] = type_hash[t]
        n_hash += 1
    has_rows = p > first
    status = NO_WORD if not has_rows else (NO_LABEL if n_lab == 0 else OK)
    if has_rows:
        for j in range(bag_ptr[eos], bag_ptr[eos + 1]):         # the end-of-line word
            if fill:
                out[p] = bag_ids[j]
            p += 1
        hashes[n_hash] = eos_hash
        n_hash += 1
        for i in range(n_hash):                                 # word n-grams
            h = np.uint64(hashes[i])
            for j in range(i + 1, min(n_hash, i + word_ngrams)):
                h = h * NGRAM_MUL + np.uint64(hashes[j])
                if fill:
                    out[p] = n_words + np.int64(h % np.uint64(bucket))
                p += 1
    if fill:
        out[pos] = n_lab
    return p, status


@njit(nogil=True, cache=True)
def build_records(tok, line_ptr, type_word, type_label, type_hash, oov_ptr, oov_ids, bag_ptr, bag_ids, eos,
                  eos_hash, n_words, word_ngrams, bucket, training, out, offsets, status):
    """Records of every line (see the module doc) into out (int32) and offsets (records+1,) int64,
    the status of every line into status (lines,) int8; returns (tokens written, records). With an
    empty `out`, only sizes: returns (tokens needed, records)."""
    fill = out.shape[0] > 0
    n_lines = line_ptr.shape[0] - 1
    max_len = 0
    for i in range(n_lines):
        max_len = max(max_len, line_ptr[i + 1] - line_ptr[i])
    hashes = np.empty(max_len + 1, np.int64)
    pos = 0
    n_rec = 0
    if fill:
        offsets[0] = 0
    for i in range(n_lines):
        end, st = _line(tok, line_ptr[i], line_ptr[i + 1], type_word, type_label, type_hash, oov_ptr, oov_ids,
                        bag_ptr, bag_ids, eos, eos_hash, n_words, word_ngrams, bucket, hashes, out, pos, fill)
        if fill:
            status[i] = st
        if training and st != OK:
            continue
        pos = end
        n_rec += 1
        if fill:
            offsets[n_rec] = pos
    return pos, n_rec
