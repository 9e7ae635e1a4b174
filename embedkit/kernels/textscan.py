"""The text scanner: count the words of a text into a bytehash table, or map them to ids.

A buffer of bytes is tokenized in the kernel as the tokenizer's byte classes say
(corpus/tokenize.py, ByteClasses): code[b] (uint16) is 0 for a byte that separates tokens
(b"\n" also ends a line) and 0x100 | the byte it becomes (lowercasing) for a byte of a word.
The buffers are pure-ASCII corpus text, or tokens made in Python joined back into text
(corpus/stream.py). Lines are cut into sentence pieces as kernels/pieces.py says, while they are
scanned; the open line is carried across calls in `state`, so buffers may cut lines anywhere
between tokens, and the caller ends a file by scanning a last b"\n".

Speed notes (measured with cachegrind instruction counts and timings): numba reference-counts
an array handed to a helper, even an inlined one (an atomic NRT_incref/NRT_decref pair per array
per call), and indexes with a negative-index wraparound test unless the index is unsigned. So the
scanner (_scan, shared by counting and encoding) is written out in one piece with unsigned
indices and hands no array to a helper on its per-byte and per-token paths (only the
once-per-piece bookkeeping of kernels/pieces.py): ~180 instead of ~400 instructions per token
of text8. Its inline hashing must agree with bytehash.key_hash (the tests insert words through
one and look them up through the other).
"""
import numpy as np
from numba import njit

from embedkit.kernels.bytehash import EMPTY, _U0, _U1, _U7, _U8, _U15, _U64, _chunk, _finish, prune
from embedkit.kernels.pieces import (ST_MIN_REDUCE, ST_OUT_IDS, ST_OUT_PIECES, ST_PIECE_KEPT, ST_PIECE_POS,
                                     ST_TOKENS, close_piece, end_line)

DONE, FULL, PRUNE = 0, 1, 2                      # why a counting scan stopped


@njit(nogil=True, cache=True)
def _scan(i, buf, code, slots, ent, arena, meta, state, max_len, max_types, encode,
          out_ids, out_len, out_cont):
    """The scanner of count_text and encode_text, from byte i of buf.

    Counting (encode False): a found word's count goes up, a new word is inserted with count 1.
    Returns (where it stopped, why): DONE at len(buf); FULL at the start of a new word the
    table has no room for; PRUNE just after a token or newline that closed a piece while the
    table holds more than max_types words (gensim prunes after every sentence).
    Encoding (encode True): a found word's id goes to out_ids and counts towards its piece; a
    closed piece with kept ids goes to out_len/out_cont (see encode_text). Returns (n, DONE).

    Written out in one piece on purpose (see the module docstring): no array is handed to a
    helper per byte or token (only close_piece and end_line, once per piece or line), indices
    are unsigned, and the word is hashed while it is scanned, with the same steps as key_hash.
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
                p = close_piece(state, kept, p, out_len, out_cont)
                kept = 0
            end_line(state)
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
            p = close_piece(state, kept, p, out_len, out_cont)
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
def count_text(buf, i, code, ident, slots, ent, arena, meta, state, max_len, max_types):
    """Count the tokens of buf[i:] into the table, pruning (gensim's prune_vocab) whenever a
    closed piece leaves more than max_types words in it. Returns (position, DONE) or, when a new
    word needs more room, (its position, FULL): grow the table and call again from there.

    buf (B,) uint8; code (256,) uint16 as in the module docstring; ident (256,) uint8 identity
    map. A token still open at the end of buf ends there (buffers are cut after whitespace).
    """
    no_ids = np.empty(0, np.int32)
    no_len = np.empty(0, np.int64)
    no_cont = np.empty(0, np.bool_)
    while True:
        i, status = _scan(i, buf, code, slots, ent, arena, meta, state, max_len, max_types, False,
                          no_ids, no_len, no_cont)
        if status != PRUNE:
            return i, status
        prune(slots, ent, arena, meta, state[ST_MIN_REDUCE], ident)
        state[ST_MIN_REDUCE] += 1


@njit(nogil=True, cache=True)
def encode_text(buf, code, slots, ent, arena, state, max_len, out_ids, out_len, out_cont):
    """Map the tokens of buf to ids (table values; absent = out of vocabulary, dropped) and cut
    the pieces (kernels/pieces.py). Writes kept ids to out_ids (int32, room for every token of
    buf) and kept pieces' lengths and continues flags to out_len (int64) and out_cont (bool),
    room for len(buf) + 1; state[ST_OUT_IDS] and state[ST_OUT_PIECES] say how many."""
    meta = np.zeros(2, np.int64)               # untouched: encoding never inserts
    _scan(0, buf, code, slots, ent, arena, meta, state, max_len, 1 << 62, True, out_ids, out_len, out_cont)


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
