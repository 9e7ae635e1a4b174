"""Corpus scanning kernels: count the words of a text into a bytehash table, or map them to ids.

Scanning. A block of pure-ASCII bytes is tokenized in the kernel the way a tokenizer's
`ascii_table` fast path does it: code[b] (uint16) is 0 for a byte that separates tokens
(b"\n" also ends a line) and 0x100 | the translated byte (lowercasing) for a byte of a word
(byte classes SEP, NEWLINE, WORD, as corpus/fastpath.byte_classes derives them). Tokens made in
Python come in joined back into such text, or, failing that, as UTF-8 bytes with token end
offsets or as ids, plus the token count of each line.

Sentence structure (as embedkit.corpus.sentences makes it): one line is one sentence, cut into
pieces of max_len tokens; a line with no token is no sentence. Counting and encoding carry the
open line across calls in `state` (STATE_SIZE,) int64, so blocks may cut lines anywhere
between tokens; the caller ends a file by scanning a last b"\n".

Speed notes (measured with cachegrind instruction counts and timings): numba reference-counts
an array handed to a helper, even an inlined one (an atomic NRT_incref/NRT_decref pair per array
per call), and indexes with a negative-index wraparound test unless the index is unsigned. So the
hot scanner (_scan_ascii, shared by counting and encoding) is written out in one piece with
unsigned indices and hands no array to a helper on its per-byte and per-token paths (only the
once-per-piece bookkeeping calls _piece_closed): ~180 instead of ~400 instructions per token of
text8. Its inline hashing must agree with bytehash.key_hash (the tests insert words through one
and look them up through the other).
"""
import numpy as np
from numba import njit

from embedkit.kernels.bytehash import (EMPTY, _U0, _U1, _U7, _U8, _U15, _U64, _chunk, _finish, _insert,
                                       _probe, key_hash, prune)

SEP, NEWLINE, WORD = 0, 1, 2                     # byte classes
DONE, FULL, PRUNE = 0, 1, 2                      # why a counting scan stopped

# state slots: tokens in the open piece, pieces closed in the open line; running lines, pieces,
# cuts, tokens (the caller moves them into CorpusStats); min_reduce of the pruning (counting);
# kept tokens in the open piece, whether the open line has a kept piece, ids and pieces written
# by the current call (encoding)
(ST_PIECE_POS, ST_LINE_PIECES, ST_LINES, ST_PIECES, ST_CUTS, ST_TOKENS, ST_MIN_REDUCE,
 ST_PIECE_KEPT, ST_LINE_KEPT, ST_OUT_IDS, ST_OUT_PIECES) = range(11)
STATE_SIZE = 11


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
    helper per byte or token (only _piece_closed, once per piece), indices are unsigned, and the word is hashed while it is scanned, with the same
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
                _piece_closed(state)           # once per piece: off the per-byte path
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
            _piece_closed(state)
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
