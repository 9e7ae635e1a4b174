"""A byte-string hash table in arrays, and the corpus scanning kernels built on it.

The table maps byte strings (UTF-8 words) to an int64 value: a count while counting a corpus, a
word id when encoding one. Open addressing with linear probing (Knuth, TAOCP 6.4, algorithm L).
A slot holds the word's *key* (its first 14 bytes and its length, packed in two int64) beside
its value, so a word of up to 14 bytes (nearly every token of English text) is found and
counted touching one 32-byte slot; longer words also compare their remaining bytes in the arena. The hash mixes
the word's 8-byte chunks multiply-rotate style and ends with MurmurHash3's fmix64. Layout, all
arrays allocated and grown by Python (embedkit/corpus/fastpath.py), never by a kernel:

    slots     (S, 4) int64  [key0, key1, value, entry id]; key0 -1 marks an empty slot; S a power
                            of two, load <= 1/2
    ent       (E, 3) int64  per entry, in insertion order: [arena start, byte length, scratch]
    arena     (A,) uint8    entry bytes back to back, in entry order
    meta      (2,) int64    [entries used, arena bytes used]

Scanning. A block of pure-ASCII bytes is tokenized in the kernel the way a tokenizer's
`ascii_table` fast path does it: code[b] (uint16) is 0 for a byte that separates tokens
(b"\n" also ends a line) and 0x100 | the translated byte (lowercasing) for a byte of a word
(byte classes SEP, NEWLINE, WORD, as fastpath.byte_classes derives them). Tokens made
in Python (non-ASCII lines, nltk tokenizers) come in as UTF-8 bytes with token end offsets, or
as ids, plus the token count of each line.

Sentence structure (as embedkit.corpus.sentences makes it): one line is one sentence, cut into
pieces of max_len tokens; a line with no token is no sentence. Counting and encoding carry the
open line across calls in `state` (STATE_SIZE,) int64, so blocks may cut lines anywhere
between tokens; the caller ends a file by ending its last line (an empty segment of two lines).

Speed notes (measured with cachegrind instruction counts and timings): numba reference-counts
an array handed to a helper, even an inlined one (an atomic NRT_incref/NRT_decref pair per array
per call), and indexes with a negative-index wraparound test unless the index is unsigned. So the
hot scanner (_scan_ascii, shared by counting and encoding) is written out in one piece with
unsigned indices and hands no array to a helper: ~120 instead of ~400 instructions per token.
Its inline hashing must agree with key_hash (the tests insert words through one and look them
up through the other).
"""
import numpy as np
from numba import njit

SEP, NEWLINE, WORD = 0, 1, 2                     # byte classes
EMPTY = -1                                       # key0 of an empty slot
DONE, FULL, PRUNE = 0, 1, 2                      # why a counting scan stopped

# state slots: tokens in the open piece, pieces closed in the open line; running lines, pieces,
# cuts, tokens (the caller moves them into CorpusStats); min_reduce of the pruning (counting);
# kept tokens in the open piece, whether the open line has a kept piece, ids and pieces written
# by the current call (encoding)
(ST_PIECE_POS, ST_LINE_PIECES, ST_LINES, ST_PIECES, ST_CUTS, ST_TOKENS, ST_MIN_REDUCE,
 ST_PIECE_KEPT, ST_LINE_KEPT, ST_OUT_IDS, ST_OUT_PIECES) = range(11)
STATE_SIZE = 11

_MUL = np.uint64(0x9E3779B97F4A7C15)       # 2^64 / golden ratio (Fibonacci hashing)
_FMIX1 = np.uint64(0xFF51AFD7ED558CCD)     # MurmurHash3's fmix64 constants
_FMIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_LOW7 = np.uint64(0x00FFFFFFFFFFFFFF)
_U0, _U1, _U7, _U8, _U15, _U64 = (np.uint64(0), np.uint64(1), np.uint64(7), np.uint64(8), np.uint64(15),
                                 np.uint64(64))
_U31, _U33, _U56 = np.uint64(31), np.uint64(33), np.uint64(56)


@njit(nogil=True, cache=True, inline="always")
def _chunk(h, w):
    """Mix one full 8-byte chunk w into the hash state h (multiply, rotate)."""
    h = (h ^ w) * _MUL
    return (h << _U31) | (h >> _U33)


@njit(nogil=True, cache=True, inline="always")
def _finish(h, w, c0, c1, n):
    """(key0, key1, hash) from the state after all full chunks: w the partial last chunk, c0 and
    c1 the first two chunks (zero-padded), n the length. key0 packs bytes 0-6 and min(n, 127)
    in the top byte, key1 bytes 7-14: equal keys mean equal words for n <= 14. The hash ends
    with MurmurHash3's fmix64. All int64 >= 0."""
    h = (h ^ w ^ (np.uint64(n) << _U56)) * _MUL
    h ^= h >> _U33
    h *= _FMIX1
    h ^= h >> _U33
    h *= _FMIX2
    h ^= h >> _U33
    key0 = (c0 & _LOW7) | (np.uint64(min(n, 127)) << _U56)
    key1 = (c0 >> _U56) | ((c1 & _LOW7) << _U8)
    return np.int64(key0), np.int64(key1), np.int64(h >> _U1)


@njit(nogil=True, cache=True, inline="always")
def key_hash(src, start, n, vmap):
    """(key0, key1, hash) of the token vmap[src[start:start+n]] (see _finish)."""
    h = _U0
    w = _U0
    c0 = _U0                               # the first two 8-byte chunks
    c1 = _U0
    for k in range(n):
        w |= np.uint64(vmap[src[start + k]]) << (_U8 * np.uint64(k & 7))
        if k & 7 == 7:
            if k == 7:
                c0 = w
            elif k == 15:
                c1 = w
            h = _chunk(h, w)
            w = _U0
    if n < 8:
        c0 = w
    elif n < 16:
        c1 = w
    return _finish(h, w, c0, c1, n)


@njit(nogil=True, cache=True, inline="always")
def _probe(src, start, n, vmap, key0, key1, h, slots, ent, arena):
    """(slot, found) of the token vmap[src[start:start+n]]; when absent, slot is the empty
    slot where it goes."""
    mask = slots.shape[0] - 1
    i = h & mask
    while True:
        k = slots[i, 0]
        if k == EMPTY:
            return i, False
        if k == key0 and slots[i, 1] == key1:
            if n <= 14:
                return i, True
            e = slots[i, 3]
            if ent[e, 1] == n:
                s = ent[e, 0]
                j = 15
                while j < n and arena[s + j] == vmap[src[start + j]]:
                    j += 1
                if j == n:
                    return i, True
        i = (i + 1) & mask


@njit(nogil=True, cache=True, inline="always")
def _insert(i, src, start, n, vmap, key0, key1, slots, ent, arena, meta):
    """New entry with value 0 in empty slot i; the caller made sure there is room."""
    e = meta[0]
    a = meta[1]
    for k in range(n):
        arena[a + k] = vmap[src[start + k]]
    ent[e, 0] = a
    ent[e, 1] = n
    slots[i, 0] = key0
    slots[i, 1] = key1
    slots[i, 2] = 0
    slots[i, 3] = e
    meta[0] = e + 1
    meta[1] = a + n


@njit(nogil=True, cache=True, inline="always")
def _place(key0, key1, h, value, e, slots):
    """Put an entry known to be absent into the first free slot of its probe sequence."""
    mask = slots.shape[0] - 1
    i = h & mask
    while slots[i, 0] != EMPTY:
        i = (i + 1) & mask
    slots[i, 0] = key0
    slots[i, 1] = key1
    slots[i, 2] = value
    slots[i, 3] = e


@njit(nogil=True, cache=True)
def rehash(old_slots, slots, ent, arena, ident):
    """Move every entry of old_slots into the (larger, empty) slots; hashes are recomputed from
    the arena (ident: the (256,) identity map)."""
    for i in range(old_slots.shape[0]):
        if old_slots[i, 0] != EMPTY:
            e = old_slots[i, 3]
            key0, key1, h = key_hash(arena, ent[e, 0], ent[e, 1], ident)
            _place(key0, key1, h, old_slots[i, 2], e, slots)


@njit(nogil=True, cache=True)
def prune(slots, ent, arena, meta, min_reduce, ident):
    """Drop every word whose count is <= min_reduce (gensim's prune_vocab, word2vec.c's
    ReduceVocab): entries and arena are compacted in order, and the slots refilled."""
    for i in range(slots.shape[0]):           # counts into the entries; slots emptied
        if slots[i, 0] != EMPTY:
            ent[slots[i, 3], 2] = slots[i, 2]
            slots[i, 0] = EMPTY
    w = 0
    a = 0
    for e in range(meta[0]):
        count = ent[e, 2]
        if count > min_reduce:
            s = ent[e, 0]
            n = ent[e, 1]
            for k in range(n):          # forward copy: a <= s, so nothing unread is overwritten
                arena[a + k] = arena[s + k]
            ent[w, 0] = a
            ent[w, 1] = n
            key0, key1, h = key_hash(arena, a, n, ident)
            _place(key0, key1, h, count, w, slots)
            a += n
            w += 1
    meta[0] = w
    meta[1] = a


@njit(nogil=True, cache=True)
def insert_words(buf, ends, vmap, slots, ent, arena, meta):
    """Give word t = buf[ends[t-1]:ends[t]] the value t (a later duplicate wins, as in a dict).
    The caller made room for all of them."""
    start = 0
    for t in range(ends.shape[0]):
        n = ends[t] - start
        key0, key1, h = key_hash(buf, start, n, vmap)
        i, found = _probe(buf, start, n, vmap, key0, key1, h, slots, ent, arena)
        if not found:
            _insert(i, buf, start, n, vmap, key0, key1, slots, ent, arena, meta)
        slots[i, 2] = t
        start = ends[t]


# --- counting -------------------------------------------------------------------------------

@njit(nogil=True, cache=True, inline="always")
def _piece_closed(state):
    """Sentence stats of a closed piece: the first piece of a line counts the line, others a cut."""
    state[ST_PIECES] += 1
    if state[ST_LINE_PIECES] == 0:
        state[ST_LINES] += 1
    else:
        state[ST_CUTS] += 1
    state[ST_LINE_PIECES] += 1


@njit(nogil=True, cache=True)
def _scan_ascii(i, buf, code, slots, ent, arena, meta, state, max_len, max_types, encode,
                out_ids, out_len, out_cont):
    """The scanner of count_ascii and encode_ascii, from byte i of buf.

    Counting (encode False): a found word's count goes up, a new word is inserted with count 1.
    Returns (where it stopped, why): DONE at len(buf); FULL at the start of a new word the
    table has no room for; PRUNE just after a token or newline that closed a piece while the
    table holds more than max_types words (count_words checks after every piece).
    Encoding (encode True): a found word's id goes to out_ids and counts towards its piece; a
    closed piece with kept ids goes to out_len/out_cont (see encode_ascii). Returns (n, DONE).

    Written out in one piece on purpose (see the module docstring): no array is handed to a
    helper, indices are unsigned, and the word is hashed while it is scanned, with the same
    steps as key_hash.
    """
    n = np.uint64(buf.shape[0])
    i = np.uint64(i)
    mask = np.uint64(slots.shape[0] - 1)
    pos = state[ST_PIECE_POS]                  # tokens in the open piece
    kept = state[ST_PIECE_KEPT]                # of which in the vocabulary (encoding)
    tokens = 0
    o = 0                                      # ids written (encoding)
    p = 0                                      # pieces written (encoding)
    status = DONE
    while i < n:
        b = buf[i]
        if code[b] == 0:                       # not a word byte
            i += _U1
            if b != 10:
                continue
            closed = pos > 0                   # a newline ends the line's last piece
            if closed:
                pos = 0
                state[ST_PIECES] += 1
                if state[ST_LINE_PIECES] == 0:
                    state[ST_LINES] += 1
                else:
                    state[ST_CUTS] += 1
                if encode and kept > 0:        # an emptied piece is dropped; continues only
                    out_len[p] = kept          # after an earlier kept piece of the line
                    out_cont[p] = state[ST_LINE_KEPT] != 0
                    p += 1
                kept = 0
            state[ST_LINE_PIECES] = 0
            state[ST_LINE_KEPT] = 0
            if closed and not encode and meta[0] > max_types:
                status = PRUNE
                break
            continue
        # A word: scan to its end, hashing 8-byte chunks on the way (as key_hash).
        h = _U0
        w = _U0
        c0 = _U0
        c1 = _U0
        sh = _U0                               # bit offset of the next byte in chunk w
        j = i
        while j < n:
            v = code[buf[j]]
            if v == 0:
                break
            w |= np.uint64(v & 0xFF) << sh
            sh += _U8
            if sh == _U64:
                if j - i == _U7:
                    c0 = w
                elif j - i == _U15:
                    c1 = w
                h = _chunk(h, w)
                w = _U0
                sh = _U0
            j += _U1
        m = np.int64(j - i)
        if m < 8:
            c0 = w
        elif m < 16:
            c1 = w
        key0, key1, h = _finish(h, w, c0, c1, m)
        # Probe (as _probe).
        s = np.uint64(h) & mask
        found = False
        while True:
            k = slots[s, 0]
            if k == EMPTY:
                break
            if k == key0 and slots[s, 1] == key1:
                if m <= 14:
                    found = True
                    break
                e = slots[s, 3]
                if ent[e, 1] == m:
                    a = np.uint64(ent[e, 0])
                    q = _U15
                    end = np.uint64(m)
                    while q < end and arena[a + q] == (code[buf[i + q]] & 0xFF):
                        q += _U1
                    if q == end:
                        found = True
                        break
            s = (s + _U1) & mask
        if encode:
            if found:
                out_ids[o] = slots[s, 2]
                o += 1
                kept += 1
        elif found:
            slots[s, 2] += 1
        else:                                  # insert (as _insert), count 1
            e = meta[0]
            a = meta[1]
            if e >= ent.shape[0] or a + m > arena.shape[0] or 2 * (e + 1) > slots.shape[0]:
                status = FULL                  # the caller grows the table and calls again from i
                break
            for q in range(m):
                arena[a + q] = code[buf[i + np.uint64(q)]] & 0xFF
            ent[e, 0] = a
            ent[e, 1] = m
            slots[s, 0] = key0
            slots[s, 1] = key1
            slots[s, 2] = 1
            slots[s, 3] = e
            meta[0] = e + 1
            meta[1] = a + m
        i = j
        tokens += 1
        pos += 1
        if pos == max_len:                     # a full piece closes (as at a newline)
            pos = 0
            state[ST_PIECES] += 1
            if state[ST_LINE_PIECES] == 0:
                state[ST_LINES] += 1
            else:
                state[ST_CUTS] += 1
            state[ST_LINE_PIECES] += 1
            if encode and kept > 0:
                out_len[p] = kept
                out_cont[p] = state[ST_LINE_KEPT] != 0
                state[ST_LINE_KEPT] = 1
                p += 1
            kept = 0
            if not encode and meta[0] > max_types:
                status = PRUNE
                break
    state[ST_PIECE_POS] = pos
    state[ST_PIECE_KEPT] = kept
    state[ST_TOKENS] += tokens
    state[ST_OUT_IDS] = o
    state[ST_OUT_PIECES] = p
    return np.int64(i), status


@njit(nogil=True, cache=True)
def count_ascii(buf, i, code, ident, slots, ent, arena, meta, state, max_len, max_types):
    """Count the tokens of the ASCII block buf[i:] (see the module docstring) into the table.
    Returns (position, DONE) or, when a new word needs more room, (its position, FULL): grow
    the table and call again from there.

    buf (B,) uint8 raw bytes; code (256,) uint16: 0 for a byte that is not part of a word
    (b"\n" ends a line), else 0x100 | the byte it becomes; ident (256,) uint8 identity map.
    A token still open at the end of buf ends there (blocks are cut after whitespace).
    """
    no_ids = np.empty(0, np.int32)
    no_len = np.empty(0, np.int64)
    no_cont = np.empty(0, np.bool_)
    while True:
        i, status = _scan_ascii(i, buf, code, slots, ent, arena, meta, state, max_len, max_types, False,
                                no_ids, no_len, no_cont)
        if status != PRUNE:
            return i, status
        prune(slots, ent, arena, meta, state[ST_MIN_REDUCE], ident)
        state[ST_MIN_REDUCE] += 1


@njit(nogil=True, cache=True)
def count_token_bytes(buf, ends, line_lens, ident, slots, ent, arena, meta, state,
                      max_len, max_types):
    """Count tokens given as bytes: token t is buf[ends[t-1]:ends[t]] (UTF-8), line k has
    line_lens[k] tokens; every line but the last ends here, the last goes on in the next call.
    The caller made room for every token as a new word. (Tokens made in Python: this loop is
    never the bottleneck.)"""
    t = 0
    start = 0
    n_lines = line_lens.shape[0]
    for k in range(n_lines):
        for _ in range(line_lens[k]):
            n = ends[t] - start
            key0, key1, h = key_hash(buf, start, n, ident)
            i, found = _probe(buf, start, n, ident, key0, key1, h, slots, ent, arena)
            if not found:
                _insert(i, buf, start, n, ident, key0, key1, slots, ent, arena, meta)
            slots[i, 2] += 1
            state[ST_TOKENS] += 1
            start = ends[t]
            t += 1
            state[ST_PIECE_POS] += 1
            if state[ST_PIECE_POS] == max_len:
                state[ST_PIECE_POS] = 0
                _piece_closed(state)
                if meta[0] > max_types:
                    prune(slots, ent, arena, meta, state[ST_MIN_REDUCE], ident)
                    state[ST_MIN_REDUCE] += 1
        if k < n_lines - 1:
            if state[ST_PIECE_POS] > 0:
                state[ST_PIECE_POS] = 0
                _piece_closed(state)
                if meta[0] > max_types:
                    prune(slots, ent, arena, meta, state[ST_MIN_REDUCE], ident)
                    state[ST_MIN_REDUCE] += 1
            state[ST_LINE_PIECES] = 0


# --- encoding -------------------------------------------------------------------------------

@njit(nogil=True, cache=True, inline="always")
def _close_piece(state, kept, p, out_len, out_cont):
    """A piece ends with `kept` in-vocabulary tokens: keep it unless OOV removal emptied it; it
    continues its line only if an earlier piece of the line was kept (as encode_files always
    did). Returns the number of pieces written."""
    _piece_closed(state)
    if kept > 0:
        out_len[p] = kept
        out_cont[p] = state[ST_LINE_KEPT] != 0
        state[ST_LINE_KEPT] = 1
        p += 1
    return p


@njit(nogil=True, cache=True)
def encode_ascii(buf, code, slots, ent, arena, state, max_len, out_ids, out_len, out_cont):
    """Map the tokens of an ASCII block (code as in count_ascii) to ids (table values; absent
    = out of vocabulary, dropped) and close sentence pieces. Writes kept ids to out_ids (int32,
    room for every token of buf) and kept pieces' lengths/continues flags to out_len
    (int64)/out_cont (bool), room for len(buf) + 1; state[ST_OUT_IDS], state[ST_OUT_PIECES] say
    how many were written. A piece left empty by OOV removal is dropped; a kept piece continues
    its line only if an earlier piece of the line was kept (as encode_files always did)."""
    meta = np.zeros(2, np.int64)               # untouched: encoding never inserts
    _scan_ascii(0, buf, code, slots, ent, arena, meta, state, max_len, 1 << 62, True,
                out_ids, out_len, out_cont)


@njit(nogil=True, cache=True)
def encode_ids(ids, line_lens, state, max_len, out_ids, out_len, out_cont):
    """Same as encode_ascii for tokens already mapped to ids (-1: out of vocabulary); line k
    has line_lens[k] tokens, every line but the last ends here. out_len/out_cont need room for
    len(ids) + len(line_lens) pieces."""
    o = 0
    p = 0
    pos = state[ST_PIECE_POS]
    kept = state[ST_PIECE_KEPT]
    t = 0
    n_lines = line_lens.shape[0]
    for k in range(n_lines):
        for _ in range(line_lens[k]):
            idx = ids[t]
            t += 1
            if idx >= 0:
                out_ids[o] = idx
                o += 1
                kept += 1
            pos += 1
            if pos == max_len:
                pos = 0
                p = _close_piece(state, kept, p, out_len, out_cont)
                kept = 0
        if k < n_lines - 1:
            if pos > 0:
                pos = 0
                p = _close_piece(state, kept, p, out_len, out_cont)
                kept = 0
            state[ST_LINE_PIECES] = 0
            state[ST_LINE_KEPT] = 0
    state[ST_PIECE_POS] = pos
    state[ST_PIECE_KEPT] = kept
    state[ST_TOKENS] += t
    state[ST_OUT_IDS] = o
    state[ST_OUT_PIECES] = p


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
