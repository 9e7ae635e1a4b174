"""Counting and encoding a corpus through the numba byte-string hash table (kernels/bytehash.py).

Same results as the sentence stream (embedkit.corpus.sentences.iter_sentences) followed by
vocab.count_words or the id mapping of encode_files, bit for bit: vocabulary, counts, pruning,
CorpusStats, tokens/offsets/continues. What changes is where the tokens live. Pure-ASCII text of
a tokenizer whose fast path is a byte translation (regex, whitespace, text8) is tokenized,
counted and mapped to ids inside the kernels, without one Python string per token. Everything
else goes through the tokenizer's Python code exactly as before: lines holding non-ASCII bytes
(a block is split into runs of ASCII lines and runs of non-ASCII lines), nltk tokenizers,
MediaWiki dumps. Their tokens are joined back into text (" " between tokens, "\\n" between
lines) that the same kernels split into the same tokens, checked before it is used; token lists
for which that check fails go through slower kernels that take token bytes or ids.

Memory: the table holds each distinct word once, its bytes plus about 64 bytes of slots and
entry (tables grow by doubling, at most half full); with max_vocab_size it is pruned exactly
when count_words prunes, so memory stays bounded.
"""
from __future__ import annotations

import gc
import io
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from pathlib import Path

import numpy as np

from embedkit.config import CorpusConfig
from embedkit.corpus.reader import expand_inputs, iter_blocks
from embedkit.corpus.sentences import decode_utf8, is_wiki_dump
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.tokenize import Tokenizer, get_tokenizer
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError
from embedkit.kernels import bytehash as bh
from embedkit.kernels import textscan as ts

BLOCK_SIZE = 1 << 20            # bytes read per kernel call (larger blocks measured no faster)
_NO_LIMIT = 1 << 62             # max_vocab_size None
_IDENT = np.arange(256, dtype=np.uint8)                       # (256,) identity byte map
_END_OF_FILE = (b"\n", None)    # ends the file's last line, as the sentence stream does


# --- how a tokenizer splits bytes -----------------------------------------------------------

@dataclass(frozen=True)
class ByteClasses:
    """Per-byte behaviour of a tokenizer on ASCII text, as bytehash's scanning kernels take it."""
    cls: np.ndarray          # (256,) uint8: SEP, NEWLINE or WORD (bytes >= 128: WORD, for joined tokens)
    vmap: np.ndarray         # (256,) uint8: the byte a WORD byte becomes (its ascii_table entry)
    expansions: tuple = ()   # (byte, b" word ") pairs: bytes that are a word of their own
    direct: bool = True      # raw ASCII text may be scanned (False: only joined tokens)

    @cached_property
    def code(self) -> np.ndarray:
        """(256,) uint16 scan table of the kernels: 0 outside words, 0x100 | byte inside."""
        return np.where(self.cls == ts.WORD, 0x100 | self.vmap.astype(np.uint16), 0).astype(np.uint16)

    @cached_property
    def plain(self) -> bytes:
        """The bytes a token may hold and come back unchanged from a scan of joined tokens."""
        return bytes(b for b in range(256) if self.cls[b] == ts.WORD and self.vmap[b] == b)

    def expand(self, text: bytes) -> bytes:
        """Spell out the expanding bytes (text8's digits), as the tokenizer does: memchr-speed
        no-op on text without them."""
        for byte, word in self.expansions:
            text = text.replace(byte, word)
        return text


def _token_text_classes() -> ByteClasses:
    """For tokenizers with no ASCII fast path: joined tokens, split at b" " and b"\\n" only."""
    cls = np.full(256, ts.WORD, np.uint8)
    cls[32] = ts.SEP
    cls[10] = ts.NEWLINE
    return ByteClasses(cls, _IDENT.copy(), (), direct=False)


def byte_classes(tokenizer: Tokenizer) -> ByteClasses | None:
    """Derive the byte classes from the tokenizer's own ASCII fast path (tokenize_ascii_line),
    probing every ASCII byte alone and between two word bytes; None when some byte does not
    behave as a translate-and-split tokenizer's would (then all text goes through Python).

    The translation table says nothing of text8's digits: the probes find them to be words of
    their own ("a1a" -> a one a), replaced by " one " before the kernels see the text.
    """
    table = tokenizer.ascii_table
    if table is None or table[10] != 10 or any(table[b] == 10 for b in range(128) if b != 10):
        return None
    tok = tokenizer.tokenize_ascii_line
    alone = {b: tok(bytes([b])) for b in range(128) if b != 10}
    words = [b for b, t in alone.items() if t == [chr(table[b])] and chr(table[b]).isalpha()]
    if not words or table[32] != 32 or alone[32] != []:
        return None
    s = words[0]
    S = chr(table[s])
    cls = np.full(256, ts.WORD, np.uint8)      # bytes >= 128 only come in joined tokens
    cls[10] = ts.NEWLINE
    vmap = _IDENT.copy()
    vmap[:128] = np.frombuffer(table[:128], np.uint8)
    expansions = []
    for b, t in alone.items():
        between = tok(bytes([s, b, s]))
        if t == [] and between == [S, S]:
            cls[b] = ts.SEP
        elif t == [chr(table[b])] and between == [S + chr(table[b]) + S]:
            cls[b] = ts.WORD
        elif len(t) == 1 and t[0].isascii() and between == [S, t[0], S]:
            cls[b] = ts.SEP                     # replaced before scanning
            expansions.append((bytes([b]), f" {t[0]} ".encode("ascii")))
        else:
            return None
    for _, word in expansions:          # the spelled-out words must be plain words themselves
        if any(cls[c] != ts.WORD or vmap[c] != c for c in word.strip()):
            return None
    return ByteClasses(cls, vmap, tuple(expansions))


# --- the table ------------------------------------------------------------------------------

class ByteTable:
    """Arrays of a bytehash table (layout in kernels/bytehash.py), grown here by doubling."""

    def __init__(self, entries: int = 1 << 12, arena: int = 1 << 16):
        n_slots = 1 << (2 * entries - 1).bit_length()
        self.slots = np.full((n_slots, 4), bh.EMPTY, np.int64)   # (S, 4) [key0, key1, value, entry], S = 2^k >= 2 E
        self.ent = np.zeros((entries, 3), np.int64)              # (E, 3) [arena start, length, scratch]
        self.arena = np.zeros(arena, np.uint8)                   # (A,) word bytes
        self.meta = np.zeros(2, np.int64)                        # [entries used, arena bytes used]

    def __len__(self) -> int:
        return int(self.meta[0])

    def reserve(self, new_entries: int, new_bytes: int) -> None:
        """Make room for new_entries more words of new_bytes bytes in all (load kept <= 1/2)."""
        used, used_bytes = int(self.meta[0]), int(self.meta[1])
        need = used + new_entries
        if need > len(self.ent):
            ent = np.zeros((max(2 * len(self.ent), need), 3), np.int64)
            ent[:used] = self.ent[:used]
            self.ent = ent
        if 2 * need > len(self.slots):
            old_slots = self.slots
            n_slots = max(2 * len(old_slots), 1 << (2 * need - 1).bit_length())
            self.slots = np.full((n_slots, 4), bh.EMPTY, np.int64)
            bh.rehash(old_slots, self.slots, self.ent, self.arena, _IDENT)
        if used_bytes + new_bytes > len(self.arena):
            arena = np.zeros(max(2 * len(self.arena), used_bytes + new_bytes), np.uint8)
            arena[:used_bytes] = self.arena[:used_bytes]
            self.arena = arena

    def kernel_args(self) -> tuple:
        return self.slots, self.ent, self.arena, self.meta

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        """(entries, values) of every word in the table, in slot order."""
        occupied = np.flatnonzero(self.slots[:, 0] != bh.EMPTY)
        return self.slots[occupied, 3], self.slots[occupied, 2]

    def word_bytes(self, entries: np.ndarray) -> list[bytes]:
        data = self.arena[:int(self.meta[1])].tobytes()
        return [data[s:s + n] for s, n in self.ent[entries, :2].tolist()]

    def words(self, entries: np.ndarray) -> list[str]:
        """The words of the given entries."""
        return [b.decode("utf-8", "surrogatepass") for b in self.word_bytes(entries)]


def lookup_table(words: list[str]) -> ByteTable:
    """word -> id table (the word's position in `words`)."""
    enc = [w.encode("utf-8", "surrogatepass") for w in words]
    buf = np.frombuffer(b"".join(enc), np.uint8)
    table = ByteTable(max(len(enc), 16), max(len(buf), 16))
    bh.insert_words(buf, _ends(enc), _IDENT, *table.kernel_args())
    return table


def _ends(enc: list[bytes]) -> np.ndarray:
    return np.cumsum(np.fromiter(map(len, enc), np.int64, len(enc)), dtype=np.int64)


# --- the segment stream ---------------------------------------------------------------------

def joined_tokens(lines: list[list[str]], classes: ByteClasses) -> bytes | None:
    """The tokens as UTF-8 text a scan with `classes` splits into exactly these tokens and lines,
    or None when it would not (an empty token, or a token holding a byte the scan would treat
    as a separator or translate)."""
    if any("" in line for line in lines):
        return None
    data = "\n".join([" ".join(line) for line in lines]).encode("utf-8", "surrogatepass")
    n_sep = len(lines) - 1 + sum(len(line) - 1 for line in lines if line)
    return data if len(data.translate(None, classes.plain)) == n_sep else None


def _segments(path: str, tokenizer: Tokenizer, classes: ByteClasses, strict: bool,
              stats: CorpusStats, block_size: int):
    """Yield (text, None): bytes for the scanning kernels (ASCII text, and tokens made in Python
    joined back), or (None, lines): token lists that could not be joined, in stream order. As in
    sentences._line_blocks, the last line of every segment goes on in the next one."""
    def python_tokens(lines):
        text = joined_tokens(lines, classes)
        return (text, None) if text is not None else (None, lines)

    if is_wiki_dump(path):
        from embedkit.corpus.wiki import iter_wiki_text_blocks
        for text in iter_wiki_text_blocks(path, block_size):
            if classes.direct and text.isascii():
                yield classes.expand(text.encode("ascii")), None
            else:
                yield python_tokens(tokenizer.tokenize_lines(text))
        return
    for offset, block in iter_blocks(path, block_size):
        if classes.direct and block.isascii():
            yield classes.expand(block), None
            continue
        # Runs of non-ASCII lines go through the tokenizer; the ASCII lines between them and
        # the joined tokens make one buffer for one kernel call.
        runs = (ts.nonascii_line_runs(np.frombuffer(block, np.uint8)).tolist() if classes.direct
                else [(0, len(block))])
        parts = []
        pos = 0
        for s, e in runs:
            if s > pos:
                parts.append(classes.expand(block[pos:s]))
            part = block[s:e] if (s, e) != (0, len(block)) else block
            try:
                lines = tokenizer.tokenize_utf8_block(part)
            except UnicodeDecodeError:     # rare: decode replacing (and counting) or raising
                lines = tokenizer.tokenize_lines(decode_utf8(part, path, offset + s, strict, stats))
            text, lines = python_tokens(lines)
            if text is not None:
                parts.append(text)
            else:
                if parts:
                    yield b"".join(parts), None
                    parts = []
                yield None, lines
            pos = e
        if pos < len(block):
            parts.append(classes.expand(block[pos:]))
        if parts:
            yield b"".join(parts), None


def _line_lens(lines: list[list[str]]) -> np.ndarray:
    return np.fromiter(map(len, lines), np.int64, len(lines))


def _publish(state: np.ndarray, stats: CorpusStats) -> int:
    """Move the kernels' running sentence counts into stats; returns the tokens moved."""
    lines, pieces, cuts, tokens = state[ts.ST_LINES:ts.ST_TOKENS + 1].tolist()
    stats.lines += lines
    stats.sentences += pieces
    stats.cuts += cuts
    stats.tokens += tokens
    state[ts.ST_LINES:ts.ST_TOKENS + 1] = 0
    return tokens


@contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: these loops make no reference cycles, but numba's
    first-use initialisation and the many small strings of a vocabulary trigger collections
    that cost more than the work itself (0.06 of 0.1 s building the text8 vocabulary)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _setup(paths, cfg: CorpusConfig):
    if cfg.max_sentence_length < 1:
        raise EmbedkitError(f"--max-sentence-length must be >= 1, got {cfg.max_sentence_length}")
    if cfg.encoding_errors not in ("replace", "strict"):
        raise EmbedkitError(f"--encoding-errors must be replace or strict, got {cfg.encoding_errors!r}")
    files = expand_inputs(paths)
    tokenizer = get_tokenizer(cfg.tokenizer)
    classes = byte_classes(tokenizer) or _token_text_classes()
    return files, tokenizer, classes, cfg.encoding_errors == "strict"


# --- counting -------------------------------------------------------------------------------

@dataclass
class WordCounts:
    """Counted words in a ByteTable (value = count) and the number of tokens read."""
    table: ByteTable
    total_tokens: int

    def __len__(self) -> int:
        return len(self.table)

    @_gc_paused()
    def to_vocab(self, min_count: int, max_size: int | None) -> Vocab:
        """Vocab.from_counts of these counts (same checks, same order: count descending, then
        word), but only kept words become strings; total_types counts every word counted."""
        if min_count < 1:
            raise EmbedkitError(f"--min-count must be >= 1, got {min_count}")
        if max_size is not None and max_size < 1:
            raise EmbedkitError(f"--max-size must be >= 1, got {max_size}")
        entries, counts = self.table.items()
        keep = counts >= min_count
        entries, counts = entries[keep], counts[keep]
        order = np.argsort(-counts, kind="stable")
        entries, counts = entries[order], counts[order]
        raw = self.table.word_bytes(entries)
        # Ties by word: UTF-8 byte order is code point order, i.e. Python's str order.
        cuts = [0, *(np.flatnonzero(np.diff(counts)) + 1).tolist(), len(counts)]
        for a, b in zip(cuts[:-1], cuts[1:]):
            if b - a > 1:
                raw[a:b] = sorted(raw[a:b])
        if max_size is not None:
            raw, counts = raw[:max_size], counts[:max_size]
        words = [w.decode("utf-8", "surrogatepass") for w in raw]
        return Vocab(words, counts.astype(np.int64), self.total_tokens, len(self))

    def as_dict(self) -> dict:
        entries, counts = self.table.items()
        return dict(zip(self.table.words(entries), counts.tolist()))


@_gc_paused()
def count_corpus(paths, cfg: CorpusConfig, stats: CorpusStats | None = None, *,
                 block_size: int = BLOCK_SIZE) -> WordCounts:
    """Count the words of `paths` as count_words(iter_sentences(paths, cfg, stats),
    cfg.max_vocab_size) does, pruning included; `stats` is filled the same way."""
    files, tokenizer, classes, strict = _setup(paths, cfg)
    code = classes.code
    stats = CorpusStats() if stats is None else stats
    table = ByteTable()
    state = np.zeros(ts.STATE_SIZE, np.int64)           # (STATE_SIZE,) carried sentence state
    state[ts.ST_MIN_REDUCE] = 1
    max_len = cfg.max_sentence_length
    max_types = _NO_LIMIT if cfg.max_vocab_size is None else cfg.max_vocab_size
    total = 0
    for path in files:
        stats.files.append(path)
        for text, lines in chain(_segments(path, tokenizer, classes, strict, stats, block_size), [_END_OF_FILE]):
            if text is not None:
                buf = np.frombuffer(text, np.uint8)
                i = 0
                while True:                            # the kernel stops when the table is full
                    i, status = ts.count_ascii(buf, i, code, _IDENT, *table.kernel_args(), state,
                                               max_len, max_types)
                    if status == ts.DONE:
                        break
                    table.reserve(1, len(buf))
            else:
                enc = [t.encode("utf-8", "surrogatepass") for t in chain.from_iterable(lines)]
                tbuf, ends = np.frombuffer(b"".join(enc), np.uint8), _ends(enc)
                table.reserve(len(ends), len(tbuf))
                ts.count_token_bytes(tbuf, ends, _line_lens(lines), _IDENT, *table.kernel_args(), state,
                                     max_len, max_types)
            total += _publish(state, stats)
    return WordCounts(table, total)


# --- encoding -------------------------------------------------------------------------------

@_gc_paused()
def encode_corpus(paths, cfg: CorpusConfig, vocab: Vocab, out_dir: Path, stats: CorpusStats | None = None,
                  *, block_size: int = BLOCK_SIZE) -> None:
    """Write tokens.npy (int32), offsets.npy (int64), continues.npy (bool) of `paths` into out_dir,
    exactly as encode_files always has: out-of-vocabulary tokens dropped, pieces left empty
    dropped, a piece continues its line only when an earlier piece of the line was kept."""
    files, tokenizer, classes, strict = _setup(paths, cfg)
    code = classes.code
    stats = CorpusStats() if stats is None else stats
    table = lookup_table(vocab.words)
    state = np.zeros(ts.STATE_SIZE, np.int64)
    max_len = cfg.max_sentence_length
    piece_lens: list[np.ndarray] = []                   # (pieces of a segment,) int64 kept lengths
    piece_conts: list[np.ndarray] = []
    n_tokens = 0
    with open(Path(out_dir) / "tokens.npy", "wb") as f:
        header = _npy_header(0)
        f.write(header)                                 # rewritten with the true length at the end
        for path in files:
            stats.files.append(path)
            for text, lines in chain(_segments(path, tokenizer, classes, strict, stats, block_size),
                                     [_END_OF_FILE]):
                if text is not None:
                    buf = np.frombuffer(text, np.uint8)
                    out_ids = np.empty(len(buf), np.int32)          # every token: <= 1 per byte
                    out_len = np.empty(len(buf) + 1, np.int64)      # every piece: <= 1 per byte + 1
                    out_cont = np.empty(len(buf) + 1, np.bool_)
                    ts.encode_ascii(buf, code, *table.kernel_args()[:3], state, max_len,
                                    out_ids, out_len, out_cont)
                else:
                    index = vocab.index
                    flat = list(chain.from_iterable(lines))
                    ids = np.fromiter(map(index.get, flat, repeat(-1)), np.int32, len(flat))
                    lens = _line_lens(lines)
                    out_ids = np.empty(len(ids), np.int32)
                    out_len = np.empty(len(ids) + len(lens), np.int64)
                    out_cont = np.empty(len(ids) + len(lens), np.bool_)
                    ts.encode_ids(ids, lens, state, max_len, out_ids, out_len, out_cont)
                n_ids, n_pieces = int(state[ts.ST_OUT_IDS]), int(state[ts.ST_OUT_PIECES])
                f.write(memoryview(out_ids[:n_ids]))
                n_tokens += n_ids
                if n_pieces:
                    piece_lens.append(out_len[:n_pieces].copy())
                    piece_conts.append(out_cont[:n_pieces].copy())
                _publish(state, stats)
        final = _npy_header(n_tokens)
        if len(final) != len(header):                  # cannot happen: numpy pads headers to 64 bytes
            raise AssertionError("npy header length changed")
        f.seek(0)
        f.write(final)
    lens = np.concatenate(piece_lens) if piece_lens else np.zeros(0, np.int64)
    offsets = np.zeros(len(lens) + 1, dtype=np.int64)   # (S+1,) int64
    np.cumsum(lens, out=offsets[1:])
    np.save(Path(out_dir) / "offsets.npy", offsets)
    np.save(Path(out_dir) / "continues.npy", np.concatenate(piece_conts) if piece_conts else np.zeros(0, bool))


def _npy_header(n: int) -> bytes:
    """The .npy 1.0 header of an (n,) int32 array, so tokens stream straight into tokens.npy."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": np.dtype(np.int32).str, "fortran_order": False,
                                               "shape": (n,)})
    return out.getvalue()
