"""Vocabulary counting/pruning/TSV and the encoded-corpus cache."""
from collections import Counter

import numpy as np
import pytest

from embedkit.config import CorpusConfig
from embedkit.corpus.encode import prepare_corpus
from embedkit.corpus.vocab import Vocab, count_words
from embedkit.errors import EmbedkitError


def test_vocab_order_filter_and_roundtrip(tmp_path):
    counts = Counter({"b": 3, "a": 3, "c": 7, "rare": 1, "z": 2})
    v = Vocab.from_counts(counts, min_count=2)
    assert v.words == ["c", "a", "b", "z"]  # count desc, then word asc
    assert v.counts.tolist() == [7, 3, 3, 2]
    assert v.total_tokens == 16 and v.total_types == 5
    assert Vocab.from_counts(counts, min_count=1, max_size=2).words == ["c", "a"]
    v.save(tmp_path / "v.tsv")
    w = Vocab.load(tmp_path / "v.tsv")
    assert w.words == v.words and w.counts.tolist() == v.counts.tolist() and w.total_tokens == 16
    assert w.summary()["token_coverage"] == pytest.approx(15 / 16)


def test_vocab_load_errors(tmp_path):
    p = tmp_path / "bad.tsv"
    p.write_text("a\t3\nb\tx\n")
    with pytest.raises(EmbedkitError, match=r"bad.tsv, line 2"):
        Vocab.load(p)


def test_max_vocab_size_prunes_like_gensim():
    sents = [(["a"] * 10 + ["b", "c"], False), (["d", "e", "a"], False)]
    counter, total = count_words(sents, max_vocab_size=2)
    assert total == 15
    assert len(counter) <= 3 and counter["a"] == 11


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_encode_drops_oov_and_keeps_cut_structure(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "cache"))
    # line 1 has 7 tokens, cut at 3: pieces [x a a] [a b x] [b]; "x" is OOV (count 2 < 3)
    f = _write(tmp_path / "c.txt", "x a a a b x b\nb a\n\nb b a a\n")
    cfg = CorpusConfig(tokenizer="whitespace", min_count=3, max_sentence_length=3)
    c = prepare_corpus([f], cfg)
    assert c.vocab.words == ["a", "b"]
    a, b = 0, 1
    sents = [c.tokens[c.offsets[i]:c.offsets[i + 1]].tolist() for i in range(c.n_sentences)]
    # pieces of line 1: [a a] [a b] [b]; line 2: [b a]; line 4 cut: [b b a] [a]
    assert sents == [[a, a], [a, b], [b], [b, a], [b, b, a], [a]]
    assert c.continues.tolist() == [False, True, True, False, False, True]
    assert c.line_offsets().tolist() == [0, 5, 7, 11]
    assert c.fingerprint is not None
    # second call loads the memmapped cache
    c2 = prepare_corpus([f], cfg)
    assert isinstance(c2.tokens, np.memmap)
    np.testing.assert_array_equal(c2.tokens, c.tokens)
    # a different setting misses the cache
    c3 = prepare_corpus([f], CorpusConfig(tokenizer="whitespace", min_count=1))
    assert len(c3.vocab) == 3


def test_encode_piece_emptied_by_oov_does_not_link_lines(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "cache"))
    # line 2's first piece is all OOV: its second piece must still continue line 2, not line 1
    f = _write(tmp_path / "c.txt", "a a\nq r a\n")
    c = prepare_corpus([f], CorpusConfig(tokenizer="whitespace", min_count=2, max_sentence_length=2), cache=False)
    assert c.vocab.words == ["a"]
    assert c.continues.tolist() == [False, False]


def test_empty_vocab_is_a_clear_error(tmp_path):
    f = _write(tmp_path / "c.txt", "a b c\n")
    with pytest.raises(EmbedkitError, match="min-count 5"):
        prepare_corpus([f], CorpusConfig(tokenizer="whitespace"), cache=False)
