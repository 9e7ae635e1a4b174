"""Cutting lines into sentence pieces: the one place of the rule, used by the text scanner.

One input line is one sentence. A line of more than max_len tokens is cut into consecutive
pieces of exactly max_len tokens (the last one shorter); a line with no token is no sentence.
When encoding, out-of-vocabulary tokens are dropped from their piece, a piece left empty is
dropped, and a kept piece `continues` its line (is a cut, not a real sentence boundary) only
when an earlier piece of the same line was kept.

The scanner (kernels/textscan.py) closes a piece when it reaches max_len tokens and at every
newline that ends a non-empty piece; what closing does is `close_piece`, and `end_line` starts
a new line. Both run once per piece or line, off the per-token path. The sentence state lives
in `state` (STATE_SIZE,) int64 so that blocks may cut a line anywhere between tokens.
"""
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
