"""Cutting lines into sentence pieces: the one place of the rule, used by the text scanner.

One input line is one sentence. A line of more than max_len tokens is cut into consecutive
pieces of exactly max_len tokens (the last one shorter); a line with no token is no sentence.
When encoding, out-of-vocabulary tokens are dropped from their piece, a piece left empty is
dropped, and a kept piece `continues` its line (is a cut, not a real sentence boundary) only
when an earlier piece of the same line was kept.

A piece closes when it reaches max_len tokens and at the end of a line that leaves it
non-empty; what closing does is `close_piece`, and `end_line` starts a new line. Two loops
apply the rule: the text scanner (kernels/textscan.py), which cuts while it finds the tokens
(its hot loop is written out in one piece, see there), and `cut_lines` below, for tokens that
are already ids (in-memory token lists, corpus/tokenlists.py). `cut_pieces` applies it again,
with a shorter max_len, to pieces already encoded (a distributed rank's shard): it cuts their
offsets and leaves the tokens where they are. Both close pieces through the
helpers here, which run once per piece or line, off the per-token path. The sentence state
lives in `state` (STATE_SIZE,) int64 so that calls may cut a line anywhere between tokens.
"""
import numpy as np
from numba import njit

# state slots: tokens in the open piece; pieces closed in the open line; running lines, pieces,
# cuts, tokens (the caller moves them into CorpusStats); min_reduce of the pruning (counting);
# kept tokens in the open piece and whether the open line has a kept piece (encoding); ids and
# pieces written by the current call (encoding)
(ST_PIECE_POS, ST_LINE_PIECES, ST_LINES, ST_PIECES, ST_CUTS, ST_TOKENS, ST_MIN_REDUCE,
 ST_PIECE_KEPT, ST_LINE_KEPT, ST_OUT_IDS, ST_OUT_PIECES) = range(11)
STATE_SIZE = 11


@njit(nogil=True, cache=True, inline="always")
def close_piece(state, kept, p, out_len, out_cont):
    """A piece closes with `kept` in-vocabulary tokens (always 0 when counting). The first piece
    of a line counts the line, later ones a cut. A piece with kept tokens is written as out_len[p]
    and out_cont[p]; returns the number of pieces written, p or p + 1."""
    state[ST_PIECES] += 1
    if state[ST_LINE_PIECES] == 0:
        state[ST_LINES] += 1
    else:
        state[ST_CUTS] += 1
    state[ST_LINE_PIECES] += 1
    if kept > 0:
        out_len[p] = kept
        out_cont[p] = state[ST_LINE_KEPT] != 0
        state[ST_LINE_KEPT] = 1
        p += 1
    return p


@njit(nogil=True, cache=True, inline="always")
def end_line(state):
    """A newline: the next token starts a new line (its first piece is no cut)."""
    state[ST_LINE_PIECES] = 0
    state[ST_LINE_KEPT] = 0


@njit(nogil=True, cache=True)
def cut_lines(ids, line_lens, last_line_ends, state, max_len, out_ids, out_len, out_cont):
    """Cut lines of word ids (-1: out of vocabulary, dropped) into pieces, as the scanner cuts
    text: line k holds line_lens[k] ids; every line but the last ends here, and the last one too
    when last_line_ends (else it goes on in the next call). Writes kept ids to out_ids (room
    for len(ids)) and kept pieces to out_len/out_cont (room for len(ids) + len(line_lens));
    state[ST_OUT_IDS], state[ST_OUT_PIECES] say how many."""
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
                p = close_piece(state, kept, p, out_len, out_cont)
                kept = 0
        if k < n_lines - 1 or last_line_ends:
            if pos > 0:
                pos = 0
                p = close_piece(state, kept, p, out_len, out_cont)
                kept = 0
            end_line(state)
    state[ST_PIECE_POS] = pos
    state[ST_PIECE_KEPT] = kept
    state[ST_TOKENS] += t
    state[ST_OUT_IDS] = o
    state[ST_OUT_PIECES] = p


def cut_pieces(offsets: np.ndarray, continues: np.ndarray, longest: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, continues) of the same tokens with every piece longer than `longest` cut into pieces
    of `longest` tokens and a last, shorter one; a new piece continues its line. The windows of the
    word2vec family stop at a piece's ends, as at the reader's own cuts of over-long lines."""
    lengths = np.diff(offsets)
    cuts = np.maximum(0, (lengths - 1) // longest)           # cuts inside each piece
    if not cuts.any():
        return offsets, continues
    piece = np.repeat(np.arange(len(lengths)), cuts)         # the piece each cut is in
    nth = np.arange(len(piece)) - np.repeat(np.cumsum(cuts) - cuts, cuts) + 1
    at = offsets[:-1][piece] + longest * nth                 # the cuts' token positions, in order
    # np.insert keeps the order of values inserted at one index: a piece's cuts land after its start
    return np.insert(offsets, piece + 1, at), np.insert(continues, piece + 1, True)
