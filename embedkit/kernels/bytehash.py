"""A byte-string hash table in arrays, and the corpus scanning kernels built on it.

The table maps byte strings (UTF-8 words) to an int64 value: a count while counting a corpus, a
word id when encoding one. Open addressing with linear probing (Knuth, TAOCP 6.4, algorithm L)
over FNV-1a 64-bit hashes (Fowler-Noll-Vo; the high half xor-folded into the low half because
the slot is taken from the low bits). Layout, all arrays allocated and grown by Python
(embedkit/corpus/fastpath.py) *before* a kernel call, so kernels never allocate:

    slots  (S,) int32    entry id, or -1 for an empty slot; S a power of two, load <= 1/2
    ent    (E, 4) int64  per entry: [arena start, byte length, hash >> 1, value]
    arena  (A,) uint8    entry bytes back to back, in entry order
    meta   (2,) int64    [entries used, arena bytes used]

Scanning. A block of pure-ASCII bytes is tokenized in the kernel the way a tokenizer's
`ascii_table` fast path does it: each raw byte b has a class cls[b] (SEP: separator, NEWLINE:
ends a line, WORD: part of a token, EXPAND: a token of its own whose bytes are exp_bytes[
exp_start[b]:exp_start[b]+exp_len[b]], as text8 spells digits out) and a translated value
vmap[b] (lowercasing). Tokens produced in Python (non-ASCII lines, nltk tokenizers) come in as
UTF-8 bytes with token end offsets, or as ids, plus the token count of each line.

Sentence structure (as embedkit.corpus.sentences makes it): one line is one sentence, cut into
pieces of max_len tokens; a line with no token is no sentence. Counting and encoding carry the
open line across calls in `state` (STATE_SIZE,) int64, so blocks may cut lines anywhere
between tokens; the caller ends a file by ending its last line (an empty segment of two lines).
"""
import numpy as np
from numba import njit

SEP, NEWLINE, WORD, EXPAND = 0, 1, 2, 3          # byte classes

# state slots: tokens in the open piece, pieces closed in the open line; running lines, pieces,
# cuts, tokens (the caller moves them into CorpusStats); min_reduce of the pruning (counting);
# kept tokens in the open piece, whether the open line has a kept piece, ids and pieces written
# by the current call (encoding)
(ST_PIECE_POS, ST_LINE_PIECES, ST_LINES, ST_PIECES, ST_CUTS, ST_TOKENS, ST_MIN_REDUCE,
 ST_PIECE_KEPT, ST_LINE_KEPT, ST_OUT_IDS, ST_OUT_PIECES) = range(11)
STATE_SIZE = 11

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_U1 = np.uint64(1)
_U32 = np.uint64(32)


@njit(nogil=True, cache=True)
def _fold(h):
    """Final mix of an FNV-1a state: fold the well-mixed high half into the slot bits; >= 0."""
    h ^= h >> _U32
    return np.int64(h >> _U1)


@njit(nogil=True, cache=True)
def hash_bytes(src, start, n, vmap):
    """FNV-1a 64 of vmap[src[start:start+n]], folded (see _fold)."""
    h = _FNV_OFFSET
    for k in range(start, start + n):
        h = (h ^ np.uint64(vmap[src[k]])) * _FNV_PRIME
    return _fold(h)


@njit(nogil=True, cache=True)
def _probe(src, start, n, vmap, h, ent, slots, arena):
    """(slot, entry) of the token vmap[src[start:start+n]] with hash h; entry -1 when absent, and
    then slot is the empty slot where it goes."""
    mask = slots.shape[0] - 1
    i = h & mask
    while True:
        e = slots[i]
        if e < 0:
            return i, -1
        if ent[e, 2] == h and ent[e, 1] == n:
            s = ent[e, 0]
            k = 0
            while k < n and arena[s + k] == vmap[src[start + k]]:
                k += 1
            if k == n:
                return i, e
        i = (i + 1) & mask


@njit(nogil=True, cache=True)
def _insert(slot, src, start, n, vmap, h, ent, slots, arena, meta):
    """New entry (value 0) for the token in empty `slot`; the caller reserved the room."""
    e = meta[0]
    a = meta[1]
    for k in range(n):
        arena[a + k] = vmap[src[start + k]]
    ent[e, 0] = a
    ent[e, 1] = n
    ent[e, 2] = h
    ent[e, 3] = 0
    slots[slot] = e
    meta[0] = e + 1
    meta[1] = a + n
    return e


@njit(nogil=True, cache=True)
def rehash(ent, n_entries, slots):
    """Refill `slots` (any power-of-two size > n_entries) from the first n_entries entries."""
    slots[:] = -1
    mask = slots.shape[0] - 1
    for e in range(n_entries):
        i = ent[e, 2] & mask
        while slots[i] >= 0:
            i = (i + 1) & mask
        slots[i] = e


@njit(nogil=True, cache=True)
def prune(ent, slots, arena, meta, min_reduce):
    """Drop every entry whose count is <= min_reduce (gensim's prune_vocab, word2vec.c's
    ReduceVocab), compacting entries and arena in order, and rehash."""
    w = 0
    a = 0
    for e in range(meta[0]):
        if ent[e, 3] > min_reduce:
            s = ent[e, 0]
            n = ent[e, 1]
            for k in range(n):          # forward copy: a <= s, so nothing unread is overwritten
                arena[a + k] = arena[s + k]
            ent[w, 0] = a
            ent[w, 1] = n
            ent[w, 2] = ent[e, 2]
            ent[w, 3] = ent[e, 3]
            a += n
            w += 1
    meta[0] = w
    meta[1] = a
    rehash(ent, w, slots)


@njit(nogil=True, cache=True)
def insert_words(buf, ends, vmap, ent, slots, arena, meta):
    """Give word t = buf[ends[t-1]:ends[t]] the value t (a later duplicate wins, as in a dict)."""
    start = 0
    for t in range(ends.shape[0]):
        n = ends[t] - start
        h = hash_bytes(buf, start, n, vmap)
        slot, e = _probe(buf, start, n, vmap, h, ent, slots, arena)
        if e < 0:
            e = _insert(slot, buf, start, n, vmap, h, ent, slots, arena, meta)
        ent[e, 3] = t
        start = ends[t]


# --- counting -------------------------------------------------------------------------------

@njit(nogil=True, cache=True)
def _piece_closed(state):
    """Sentence stats of a closed piece: the first piece of a line counts the line, others a cut."""
    state[ST_PIECES] += 1
    if state[ST_LINE_PIECES] == 0:
        state[ST_LINES] += 1
    else:
        state[ST_CUTS] += 1
    state[ST_LINE_PIECES] += 1


@njit(nogil=True, cache=True)
def _piece_closed_count(ent, slots, arena, meta, state, max_types):
    """count_words checks the type count after every piece: prune when it is over max_types."""
    _piece_closed(state)
    if meta[0] > max_types:
        prune(ent, slots, arena, meta, state[ST_MIN_REDUCE])
        state[ST_MIN_REDUCE] += 1


@njit(nogil=True, cache=True)
def _count_token(src, start, n, vmap, h, ent, slots, arena, meta, state, max_len, max_types):
    slot, e = _probe(src, start, n, vmap, h, ent, slots, arena)
    if e < 0:
        e = _insert(slot, src, start, n, vmap, h, ent, slots, arena, meta)
    ent[e, 3] += 1
    state[ST_TOKENS] += 1
    state[ST_PIECE_POS] += 1
    if state[ST_PIECE_POS] == max_len:
        state[ST_PIECE_POS] = 0
        _piece_closed_count(ent, slots, arena, meta, state, max_types)


@njit(nogil=True, cache=True)
def _end_line_count(ent, slots, arena, meta, state, max_types):
    if state[ST_PIECE_POS] > 0:
        state[ST_PIECE_POS] = 0
        _piece_closed_count(ent, slots, arena, meta, state, max_types)
    state[ST_LINE_PIECES] = 0


@njit(nogil=True, cache=True)
def count_ascii(buf, cls, vmap, exp_bytes, exp_start, exp_len, ident,
                ent, slots, arena, meta, state, max_len, max_types):
    """Count the tokens of an ASCII block (see the module docstring) into the table.

    buf (B,) uint8 raw bytes; cls, vmap (256,) uint8; exp_bytes (X,) uint8, exp_start, exp_len
    (256,) int64; ident (256,) uint8 identity map. A token still open at the end of buf ends
    there (blocks are cut after whitespace). The caller reserved room for every new token:
    at most (B + 1) // 2 + (number of EXPAND words) entries and B + sum(exp_len) arena bytes.
    """
    n = buf.shape[0]
    i = 0
    while i < n:
        c = buf[i]
        k = cls[c]
        if k == WORD:
            j = i
            h = _FNV_OFFSET
            while j < n:
                b = buf[j]
                if cls[b] != WORD:
                    break
                h = (h ^ np.uint64(vmap[b])) * _FNV_PRIME
                j += 1
            _count_token(buf, i, j - i, vmap, _fold(h), ent, slots, arena, meta, state, max_len, max_types)
            i = j
            continue
        if k == NEWLINE:
            _end_line_count(ent, slots, arena, meta, state, max_types)
        elif k == EXPAND:
            s = exp_start[c]
            m = exp_len[c]
            h = hash_bytes(exp_bytes, s, m, ident)
            _count_token(exp_bytes, s, m, ident, h, ent, slots, arena, meta, state, max_len, max_types)
        i += 1


@njit(nogil=True, cache=True)
def count_token_bytes(buf, ends, line_lens, ident, ent, slots, arena, meta, state, max_len, max_types):
    """Count tokens given as bytes: token t is buf[ends[t-1]:ends[t]] (UTF-8), line k has
    line_lens[k] tokens; every line but the last ends here, the last goes on in the next call."""
    t = 0
    start = 0
    n_lines = line_lens.shape[0]
    for k in range(n_lines):
        for _ in range(line_lens[k]):
            n = ends[t] - start
            h = hash_bytes(buf, start, n, ident)
            _count_token(buf, start, n, ident, h, ent, slots, arena, meta, state, max_len, max_types)
            start = ends[t]
            t += 1
        if k < n_lines - 1:
            _end_line_count(ent, slots, arena, meta, state, max_types)


# --- encoding -------------------------------------------------------------------------------

@njit(nogil=True, cache=True)
def _piece_closed_encode(state, out_len, out_cont):
    """A piece ends: keep it unless OOV removal emptied it; it continues its line only if an
    earlier piece of the line was kept (as encode_files always did)."""
    _piece_closed(state)
    kept = state[ST_PIECE_KEPT]
    if kept > 0:
        p = state[ST_OUT_PIECES]
        out_len[p] = kept
        out_cont[p] = state[ST_LINE_KEPT] != 0
        state[ST_OUT_PIECES] = p + 1
        state[ST_LINE_KEPT] = 1
        state[ST_PIECE_KEPT] = 0


@njit(nogil=True, cache=True)
def _encode_token(idx, state, max_len, out_ids, out_len, out_cont):
    state[ST_TOKENS] += 1
    if idx >= 0:
        o = state[ST_OUT_IDS]
        out_ids[o] = idx
        state[ST_OUT_IDS] = o + 1
        state[ST_PIECE_KEPT] += 1
    state[ST_PIECE_POS] += 1
    if state[ST_PIECE_POS] == max_len:
        state[ST_PIECE_POS] = 0
        _piece_closed_encode(state, out_len, out_cont)


@njit(nogil=True, cache=True)
def _end_line_encode(state, out_len, out_cont):
    if state[ST_PIECE_POS] > 0:
        state[ST_PIECE_POS] = 0
        _piece_closed_encode(state, out_len, out_cont)
    state[ST_LINE_PIECES] = 0
    state[ST_LINE_KEPT] = 0


@njit(nogil=True, cache=True)
def encode_ascii(buf, cls, vmap, exp_bytes, exp_start, exp_len, ident, ent, slots, arena,
                 state, max_len, out_ids, out_len, out_cont):
    """Map the tokens of an ASCII block to ids (table values; absent = out of vocabulary,
    dropped) and close sentence pieces. Writes kept ids to out_ids (int32, room for every token
    of buf) and kept pieces' lengths/continues flags to out_len (int64)/out_cont (bool), room
    for len(buf) + 1; state[ST_OUT_IDS], state[ST_OUT_PIECES] say how many were written."""
    state[ST_OUT_IDS] = 0
    state[ST_OUT_PIECES] = 0
    n = buf.shape[0]
    i = 0
    while i < n:
        c = buf[i]
        k = cls[c]
        if k == WORD:
            j = i
            h = _FNV_OFFSET
            while j < n:
                b = buf[j]
                if cls[b] != WORD:
                    break
                h = (h ^ np.uint64(vmap[b])) * _FNV_PRIME
                j += 1
            _, e = _probe(buf, i, j - i, vmap, _fold(h), ent, slots, arena)
            _encode_token(ent[e, 3] if e >= 0 else -1, state, max_len, out_ids, out_len, out_cont)
            i = j
            continue
        if k == NEWLINE:
            _end_line_encode(state, out_len, out_cont)
        elif k == EXPAND:
            s = exp_start[c]
            m = exp_len[c]
            _, e = _probe(exp_bytes, s, m, ident, hash_bytes(exp_bytes, s, m, ident), ent, slots, arena)
            _encode_token(ent[e, 3] if e >= 0 else -1, state, max_len, out_ids, out_len, out_cont)
        i += 1


@njit(nogil=True, cache=True)
def encode_ids(ids, line_lens, state, max_len, out_ids, out_len, out_cont):
    """Same as encode_ascii for tokens already mapped to ids (-1: out of vocabulary); line k
    has line_lens[k] tokens, every line but the last ends here. out_len/out_cont need room for
    len(ids) + len(line_lens) pieces."""
    state[ST_OUT_IDS] = 0
    state[ST_OUT_PIECES] = 0
    t = 0
    n_lines = line_lens.shape[0]
    for k in range(n_lines):
        for _ in range(line_lens[k]):
            _encode_token(ids[t], state, max_len, out_ids, out_len, out_cont)
            t += 1
        if k < n_lines - 1:
            _end_line_encode(state, out_len, out_cont)


# --- block splitting ------------------------------------------------------------------------

@njit(nogil=True, cache=True)
def nonascii_line_runs(buf):
    """(R, 2) int64 [start, end) byte ranges of maximal runs of consecutive lines that hold a
    byte >= 0x80; a run starts at a line start and ends just after a b"\\n" or at len(buf)."""
    n = buf.shape[0]
    runs = np.empty((n // 2 + 1, 2), dtype=np.int64)   # a run needs a high byte and a line end
    r = 0
    line_start = 0
    high = False
    for i in range(n):
        b = buf[i]
        if b >= 128:
            high = True
        if b == 10 or i == n - 1:
            if high:
                if r > 0 and runs[r - 1, 1] == line_start:
                    runs[r - 1, 1] = i + 1
                else:
                    runs[r, 0] = line_start
                    runs[r, 1] = i + 1
                    r += 1
            line_start = i + 1
            high = False
    return runs[:r].copy()
