"""The text stream: every input of a corpus as byte buffers for the scanner (kernels/textscan.py).

Counting (corpus/count.py) and encoding (corpus/encode.py) read a corpus through this one
stream, so they see the same tokens and the same lines. For each file, in order:

- the blocks of its decompressed bytes (corpus/reader.py), or of a MediaWiki dump's article
  text (corpus/wiki.py);
- a pure-ASCII block goes to the scanner as it is (its expanding bytes spelled out), when the
  tokenizer has byte classes (corpus/tokenize.py);
- runs of lines holding other bytes are decoded (reader.decode_utf8) and tokenized in Python,
  and their tokens are joined back into text, " " between tokens and "\\n" between lines, which
  the scanner splits into the same tokens. This is checked for every buffer: a token the scan
  would split or change is an error, never a silent change. (No tokenizer of embedkit makes
  one; a test checks it.) Splitting a block into runs keeps one accented word from sending a
  whole block through Python;
- a last b"\\n" ends the file's last line, so files never share a line.

Lines are tokenized whole: nltk-treebank and nltk-toktok have rules for the start and the end
of a line (a final period is split off, opening quotes are rewritten). So for a tokenizer
without byte classes a line longer than a read block is held until its newline, up to
LONG_LINE bytes; a longer line is handed on in pieces cut at whitespace, where those rules
then apply too. The other tokenizers treat whitespace as a separator and nothing more, so for
them a cut at whitespace changes nothing.

The scanner's sentence state is an int64 array (new_state) that the caller carries from buffer
to buffer; publish_counts moves its running counts into CorpusStats.
"""
from __future__ import annotations

import gc
import sys
from contextlib import contextmanager
from typing import Iterator

import numpy as np

from embedkit.config import CorpusConfig
from embedkit.corpus.reader import BLOCK_SIZE, decode_utf8, display_name, iter_blocks
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.tokenize import ByteClasses, get_tokenizer, scan_classes
from embedkit.corpus.wiki import is_wiki_dump
from embedkit.errors import EmbedkitError
from embedkit.kernels import pieces
from embedkit.kernels.textscan import nonascii_line_runs

END_OF_FILE = b"\n"
LONG_LINE = 1 << 23           # bytes of one line held for a tokenizer without byte classes


class TextStream:
    """The scanner's input for `files` read with `cfg` (tokenizer, encoding errors)."""

    def __init__(self, files: list[str], cfg: CorpusConfig, block_size: int = BLOCK_SIZE):
        self.files = files
        self.tokenizer = get_tokenizer(cfg.tokenizer)
        self.classes: ByteClasses = scan_classes(self.tokenizer)
        self.strict = cfg.encoding_errors == "strict"
        self.block_size = block_size

    @property
    def code(self) -> np.ndarray:
        """(256,) uint16 byte classes, as the scanner takes them."""
        return self.classes.code

    def buffers(self, stats: CorpusStats) -> Iterator[bytes]:
        """Every file's buffers in order, each file ended by END_OF_FILE; files are appended to
        stats.files as they are opened, undecodable bytes counted in stats.replaced_bytes."""
        for path in self.files:
            stats.files.append(path)
            yield from (self._wiki_buffers(path) if is_wiki_dump(path) else self._file_buffers(path, stats))
            yield END_OF_FILE

    def _wiki_buffers(self, path: str) -> Iterator[bytes]:
        from embedkit.corpus.wiki import iter_wiki_text_blocks
        for text in iter_wiki_text_blocks(path, self.block_size):
            if self.classes.scans_text and text.isascii():
                yield self.classes.expand(text.encode("ascii"))
            else:
                yield self._joined(self.tokenizer.tokenize_lines(text), path)

    def _file_buffers(self, path: str, stats: CorpusStats) -> Iterator[bytes]:
        classes = self.classes
        blocks = iter_blocks(path, self.block_size)
        n_bytes = n_nul = 0
        replaced_before = stats.replaced_bytes
        for offset, block in (blocks if classes.scans_text else _whole_lines(blocks, LONG_LINE)):
            n_bytes += len(block)
            if nul := block.count(b"\0"):
                if self.strict:
                    raise EmbedkitError(f"{display_name(path)}: NUL byte at byte offset {offset + block.index(0):,}; "
                                        "a text corpus has none (a binary, compressed or UTF-16 file?); "
                                        "--encoding-errors replace reads it with a warning")
                n_nul += nul
            if classes.scans_text and block.isascii():
                yield classes.expand(block)
                continue
            # The ASCII lines between runs of non-ASCII lines and the joined tokens of those
            # runs make one buffer.
            runs = (nonascii_line_runs(np.frombuffer(block, np.uint8)).tolist() if classes.scans_text
                    else [(0, len(block))])
            parts = []
            pos = 0
            for s, e in runs:
                if s > pos:
                    parts.append(classes.expand(block[pos:s]))
                text = decode_utf8(block[s:e], path, offset + s, self.strict, stats)
                parts.append(self._joined(self.tokenizer.tokenize_lines(text), path))
                pos = e
            if pos < len(block):
                parts.append(classes.expand(block[pos:]))
            yield b"".join(parts)
        warn_if_not_text(path, n_bytes, stats.replaced_bytes - replaced_before, n_nul)

    def _joined(self, lines: list[list[str]], path: str) -> bytes:
        """The tokens as text the scanner splits into exactly these tokens and lines."""
        data = "\n".join([" ".join(line) for line in lines]).encode("utf-8", "surrogatepass")
        n_sep = len(lines) - 1 + sum(len(line) - 1 for line in lines if line)
        if len(data.translate(None, self.classes.plain)) != n_sep or any("" in line for line in lines):
            plain = self.classes.plain
            bad = next(t for line in lines for t in line
                       if not t or t.encode("utf-8", "surrogatepass").translate(None, plain))
            raise EmbedkitError(f"{display_name(path)}: --tokenizer {self.tokenizer.name} made the token {bad!r}, "
                                f"which the corpus scanner would split or change (an embedkit bug: please report it)")
        return data


NOT_TEXT_SHARE = 0.01         # undecodable bytes above this share of a file's bytes are warned about
_warned: set = set()          # files warned about in this process (a corpus is read twice)


def warn_if_not_text(path: str, n_bytes: int, replaced: int, nul: int) -> None:
    """One line on stderr when a file looks like something other than UTF-8 text: NUL bytes, or
    more than NOT_TEXT_SHARE of its bytes undecodable (--encoding-errors strict: an error instead)."""
    if not (nul or (n_bytes and replaced > NOT_TEXT_SHARE * n_bytes)) or path in _warned:
        return
    _warned.add(path)
    counts = [f"{replaced:,} undecodable (replaced)"] * bool(replaced) + [f"{nul:,} NUL"] * bool(nul)
    print(f"embedkit: warning: {display_name(path)}: {' and '.join(counts)} bytes among {n_bytes:,} "
          f"({(replaced + nul) / n_bytes:.1%}): is it text in UTF-8? (a binary, compressed or UTF-16 file, or "
          "another encoding; --encoding-errors strict makes this an error)", file=sys.stderr, flush=True)


def _whole_lines(blocks, limit: int) -> Iterator[tuple[int, bytes]]:
    """(offset, block) pairs as iter_blocks yields them, re-cut to end at a newline (or at the end
    of the file): a line is held until it ends, unless it grows past `limit` bytes."""
    parts: list[bytes] = []         # the open line's bytes, read so far
    held = 0
    start = 0                       # offset of the first held byte
    for offset, block in blocks:
        if not parts:
            start = offset
        cut = block.rfind(b"\n") + 1
        if cut == 0 and held + len(block) < limit:
            parts.append(block)
            held += len(block)
            continue
        cut = cut or len(block)
        parts.append(block[:cut])
        yield start, b"".join(parts)
        start = offset + cut
        parts = [block[cut:]] if cut < len(block) else []
        held = len(block) - cut
    if parts:
        yield start, b"".join(parts)


def new_state() -> np.ndarray:
    """The scanner's sentence state (kernels/pieces.py), at the start of a corpus."""
    state = np.zeros(pieces.STATE_SIZE, np.int64)     # (STATE_SIZE,) int64
    state[pieces.ST_MIN_REDUCE] = 1
    return state


def publish_counts(state: np.ndarray, stats: CorpusStats) -> int:
    """Move the scanner's running sentence counts into stats; returns the tokens moved."""
    lines, n_pieces, cuts, tokens = state[pieces.ST_LINES:pieces.ST_TOKENS + 1].tolist()
    stats.lines += lines
    stats.sentences += n_pieces
    stats.cuts += cuts
    stats.tokens += tokens
    state[pieces.ST_LINES:pieces.ST_TOKENS + 1] = 0
    return tokens


@contextmanager
def gc_paused():
    """Pause the cyclic garbage collector: the scanning loops make no reference cycles, but
    numba's first-use initialisation and the many small strings of a vocabulary trigger
    collections that cost more than the work itself (0.06 of 0.1 s building the text8
    vocabulary)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
