"""The sentence stream: corpus inputs -> (tokens, continues) pairs, in bounded memory.

One input line is one sentence. A line of more than `max_sentence_length` tokens is cut into
consecutive pieces of exactly that many tokens (the last one shorter); `continues` is True for
every piece but the first, so consumers can tell a cut from a real sentence boundary. Nothing is
dropped or truncated, and a piece is emitted as soon as it is full: text8, a single line of 17M
tokens, is never held whole.

Lines are separated by b"\\n" only (a trailing "\\r" is whitespace to every tokenizer). Text is
UTF-8: with encoding_errors="replace" each undecodable byte becomes one U+FFFD and is counted in
stats.replaced_bytes; with "strict" the first one is an EmbedkitError naming the file and the
byte's offset in the (decompressed) stream. MediaWiki XML dumps (a name containing ".xml") are
read by embedkit.corpus.wiki: one line per paragraph of article text.
"""
from __future__ import annotations

import os
import re
from typing import Iterator

from embedkit.config import CorpusConfig
from embedkit.corpus.reader import BLOCK_SIZE, display_name, expand_inputs, iter_blocks
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.tokenize import Tokenizer, get_tokenizer
from embedkit.errors import EmbedkitError

_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")   # what surrogateescape makes of a bad byte


def is_wiki_dump(path: str) -> bool:
    """MediaWiki XML dumps are recognised by name: enwiki-...-pages-articles.xml[.bz2]."""
    return path != "-" and ".xml" in os.path.basename(path).lower()


def decode_utf8(block: bytes, path: str, offset: int, strict: bool, stats: CorpusStats) -> str:
    """Decode one block; replace (one U+FFFD per bad byte, counted) or raise naming the byte."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as e:
        if strict:
            raise EmbedkitError(
                f"{display_name(path)}: invalid UTF-8 at byte offset {offset + e.start} ({e.reason}); "
                f"--encoding-errors replace replaces and counts such bytes") from None
    text, n_bad = _ESCAPED_BYTE.subn("\ufffd", block.decode("utf-8", "surrogateescape"))
    stats.replaced_bytes += n_bad
    return text


def _line_blocks(path: str, tokenizer: Tokenizer, strict: bool, stats: CorpusStats,
                 block_size: int) -> Iterator[list[list[str]]]:
    """Token lists per line, a block at a time. In each yielded list every entry but the last
    is a complete line; the last is the start of a line that goes on in the next block (empty
    when the block ended with a newline)."""
    if is_wiki_dump(path):
        from embedkit.corpus.wiki import iter_wiki_text_blocks
        for text in iter_wiki_text_blocks(path, block_size):
            yield tokenizer.tokenize_lines(text)
        return
    fast = tokenizer.ascii_table is not None
    for offset, block in iter_blocks(path, block_size):
        if fast and block.isascii():
            yield tokenizer.tokenize_ascii_block(block)
            continue
        try:
            lines = tokenizer.tokenize_utf8_block(block)
        except UnicodeDecodeError:   # rare: decode the whole block, replacing or raising
            lines = tokenizer.tokenize_lines(decode_utf8(block, path, offset, strict, stats))
        yield lines


def iter_sentences(paths, cfg: CorpusConfig, stats: CorpusStats | None = None, *,
                   block_size: int = BLOCK_SIZE) -> Iterator[tuple[list[str], bool]]:
    """Yield (tokens, continues) for every sentence of the inputs (see the module docstring).

    `paths`: a path or list of paths (files, folders, `-`; see reader.expand_inputs). `stats`,
    when given, is filled as the stream is read: files, lines (lines with at least one token),
    sentences (= lines + cuts), cuts, tokens, replaced_bytes. `block_size` is the number of
    decompressed bytes read at a time (tests make it tiny to force block boundaries).
    """
    if cfg.max_sentence_length < 1:
        raise EmbedkitError(f"--max-sentence-length must be >= 1, got {cfg.max_sentence_length}")
    if cfg.encoding_errors not in ("replace", "strict"):
        raise EmbedkitError(f"--encoding-errors must be replace or strict, got {cfg.encoding_errors!r}")
    files = expand_inputs(paths)
    tokenizer = get_tokenizer(cfg.tokenizer)
    stats = CorpusStats() if stats is None else stats
    strict = cfg.encoding_errors == "strict"
    max_len = cfg.max_sentence_length
    for path in files:
        stats.files.append(path)
        yield from _pieces(_line_blocks(path, tokenizer, strict, stats, block_size), max_len, stats)


def _pieces(line_blocks, max_len: int, stats: CorpusStats) -> Iterator[tuple[list[str], bool]]:
    """Turn per-block token lists into sentence pieces of at most max_len tokens.

    A piece of a line that spans blocks is emitted as soon as it is full; each token is copied
    about once (into its piece), never into a growing whole-line list.
    """
    pending: list[str] = []   # tokens of the current line not yet emitted (< max_len of them)
    cont = False              # a piece of the current line has been emitted already
    n_lines = n_pieces = n_cuts = n_tokens = 0
    try:
        for lines in line_blocks:
            last = len(lines) - 1
            for k, toks in enumerate(lines):
                complete = k < last          # the block's last entry goes on in the next block
                n = len(toks)
                if not pending and not cont and complete and 0 < n <= max_len:   # common: a short line
                    n_lines += 1
                    n_pieces += 1
                    n_tokens += n
                    yield toks, False
                    continue
                i = 0
                if pending:                  # fill the pending piece first
                    i = min(max_len - len(pending), n)
                    pending.extend(toks[:i] if i < n else toks)
                    if len(pending) == max_len or complete:
                        piece, pending = pending, []
                        n_cuts += cont
                        n_lines += not cont
                        n_pieces += 1
                        n_tokens += len(piece)
                        yield piece, cont
                        cont = True
                while n - i >= max_len or (complete and i < n):
                    piece = toks[i:i + max_len]
                    i += len(piece)
                    n_cuts += cont
                    n_lines += not cont
                    n_pieces += 1
                    n_tokens += len(piece)
                    yield piece, cont
                    cont = True
                if complete:
                    cont = False
                elif i < n:
                    pending = toks[i:] if i else toks
            # Publish the counts once per block: live enough for progress, cheap.
            stats.lines += n_lines
            stats.sentences += n_pieces
            stats.cuts += n_cuts
            stats.tokens += n_tokens
            n_lines = n_pieces = n_cuts = n_tokens = 0
        if pending:                          # the last line had no newline
            n_cuts += cont
            n_lines += not cont
            n_pieces += 1
            n_tokens += len(pending)
            yield pending, cont
    finally:   # also when the consumer stops early: counts cover what was handed on
        line_blocks.close()
        stats.lines += n_lines
        stats.sentences += n_pieces
        stats.cuts += n_cuts
        stats.tokens += n_tokens
