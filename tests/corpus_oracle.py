"""The slow, obvious corpus front end, in plain Python: the oracle the scanner path is tested against.

Everything here uses the general path only: a file is decoded (reader.decode_utf8, block by
block, which only counts or reports bad bytes) into one string, each of its lines is tokenized
whole (Tokenizer.tokenize) and cut into pieces of max_sentence_length, words are counted in a dict with gensim's pruning, and ids are
looked up in vocab.index. No byte classes, no numba.
"""
from __future__ import annotations

import dataclasses
import tempfile
from collections import Counter

from embedkit.corpus.count import count_words as fast_count_words
from embedkit.corpus.encode import encode_corpus
from embedkit.corpus.encoded import EncodedWriter, load
from embedkit.corpus.reader import decode_utf8, expand_inputs, iter_blocks
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.tokenize import get_tokenizer
from embedkit.corpus.wiki import is_wiki_dump, iter_wiki_text_blocks


def _lines(path, tok, strict, stats, block_size):
    """Token lists of the file's lines, each line tokenized whole."""
    if is_wiki_dump(path):
        text = "".join(iter_wiki_text_blocks(path, block_size))
    else:
        text = "".join(decode_utf8(block, path, offset, strict, stats) for offset, block in iter_blocks(path, block_size))
    return tok.tokenize_lines(text)


def iter_sentences(paths, cfg, stats=None, *, block_size=1 << 16):
    """(tokens, continues) for every sentence piece of the inputs; fills stats as the scanner does."""
    stats = CorpusStats() if stats is None else stats
    tok = get_tokenizer(cfg.tokenizer)
    m = cfg.max_sentence_length
    for path in expand_inputs(paths):
        stats.files.append(path)
        for toks in _lines(path, tok, cfg.encoding_errors == "strict", stats, block_size):
            pieces = [toks[i:i + m] for i in range(0, len(toks), m)]
            stats.lines += bool(pieces)
            stats.sentences += len(pieces)
            stats.cuts += max(len(pieces) - 1, 0)
            stats.tokens += len(toks)
            for i, piece in enumerate(pieces):
                yield piece, i > 0


def count_words(sentences, max_vocab_size=None):
    """(Counter, total tokens) of (tokens, continues) pairs; with max_vocab_size, gensim's
    prune_vocab after every sentence: drop words with count <= min_reduce, min_reduce += 1."""
    counter = Counter()
    total = 0
    min_reduce = 1
    for tokens, _ in sentences:
        counter.update(tokens)
        total += len(tokens)
        if max_vocab_size is not None and len(counter) > max_vocab_size:
            for w in [w for w, c in counter.items() if c <= min_reduce]:
                del counter[w]
            min_reduce += 1
    return counter, total


def slow_count(paths, cfg, block_size=1 << 16):
    stats = CorpusStats()
    counter, total = count_words(iter_sentences(paths, cfg, stats, block_size=block_size), cfg.max_vocab_size)
    return dict(counter), total, stats


def slow_encode(paths, cfg, vocab):
    """(tokens, offsets, continues, stats): each piece mapped through vocab.index, OOV and pieces
    left empty dropped; a kept piece continues only when an earlier piece of its line was kept."""
    index, tokens, offsets, conts = vocab.index, [], [0], []
    line_has_kept = False
    stats = CorpusStats()
    for piece, cont in iter_sentences(paths, cfg, stats):
        line_has_kept = line_has_kept and cont
        ids = [index[t] for t in piece if t in index]
        if ids:
            tokens += ids
            offsets.append(len(tokens))
            conts.append(line_has_kept)
            line_has_kept = True
    return tokens, offsets, conts, stats


def fast_encode(paths, cfg, vocab, block_size=1 << 20):
    """The scanner path's encoding: ([tokens, offsets, continues] as lists, stats)."""
    stats = CorpusStats()
    with tempfile.TemporaryDirectory() as d:
        with EncodedWriter(d) as writer:
            encode_corpus(paths, cfg, vocab, writer, stats, block_size=block_size)
            writer.finish(vocab, stats)
        c = load(d, mmap=False)
    return [c.tokens.tolist(), c.offsets.tolist(), c.continues.tolist()], stats


def fast_sentences(paths, cfg, block_size=1 << 20):
    """The scanner path's sentence pieces as (tokens, continues), with min_count 1 (nothing is
    dropped), and the stats of the encoding pass."""
    cfg = dataclasses.replace(cfg, min_count=1, max_size=None, max_vocab_size=None)
    vocab = fast_count_words(paths, cfg, block_size=block_size).to_vocab(1, None)
    (tokens, offsets, conts), stats = fast_encode(paths, cfg, vocab, block_size)
    words = vocab.words
    return [([words[i] for i in tokens[a:b]], c) for a, b, c in zip(offsets[:-1], offsets[1:], conts)], stats
