"""The numba byte-hash path (corpus/fastpath.py, kernels/bytehash.py) against the slow path:
iter_sentences + count_words (vocabulary, counts, pruning, stats) and a plain-Python encoder."""
import bz2
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from embedkit.config import CorpusConfig
from embedkit.corpus.encode import build_vocab, encode_files
from embedkit.corpus import fastpath
from embedkit.corpus.fastpath import ByteTable, byte_classes, count_corpus, encode_corpus, joined_tokens, lookup_table
from embedkit.corpus.sentences import iter_sentences
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.tokenize import get_tokenizer
from embedkit.corpus.vocab import Vocab, count_words
from embedkit.errors import EmbedkitError
from embedkit.kernels import bytehash as bh
from embedkit.kernels import textscan as ts


def slow_count(paths, cfg, block_size=1 << 16):
    stats = CorpusStats()
    counter, total = count_words(iter_sentences(paths, cfg, stats, block_size=block_size), cfg.max_vocab_size)
    return dict(counter), total, stats


def slow_encode(paths, cfg, vocab):
    """Reference: map each piece through vocab.index, drop OOV and pieces left empty; a kept
    piece continues only when an earlier piece of its line was kept."""
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


def fast_encode(paths, cfg, vocab, out_dir, block_size):
    stats = CorpusStats()
    encode_corpus(paths, cfg, vocab, out_dir, stats, block_size=block_size)
    return ([np.load(out_dir / f"{n}.npy").tolist() for n in ("tokens", "offsets", "continues")], stats)


def assert_same_path(paths, cfg, block_size, out_dir, join=True):
    """Fast path == slow path; join=False sends tokens made in Python through the token-bytes
    and id kernels instead of joining them back into text."""
    if not join:
        with mock.patch.object(fastpath, "joined_tokens", lambda lines, classes: None):
            return assert_same_path(paths, cfg, block_size, out_dir)
    counts, total, stats = slow_count(paths, cfg)
    fast_stats = CorpusStats()
    wc = count_corpus(paths, cfg, fast_stats, block_size=block_size)
    assert wc.as_dict() == counts
    assert wc.total_tokens == total
    assert fast_stats == stats
    vocab = Vocab.from_counts(counts, cfg.min_count, cfg.max_size, total_tokens=total)
    fast_vocab = wc.to_vocab(cfg.min_count, cfg.max_size)
    assert (fast_vocab.words, fast_vocab.counts.tolist(), fast_vocab.total_tokens, fast_vocab.total_types) == \
        (vocab.words, vocab.counts.tolist(), vocab.total_tokens, vocab.total_types)
    *expected, enc_stats = slow_encode(paths, cfg, vocab)
    got, fast_enc_stats = fast_encode(paths, cfg, vocab, out_dir, block_size)
    assert got == expected
    assert fast_enc_stats == enc_stats == stats


# Fragments: ASCII words with case, digits, punctuation and every ASCII whitespace; non-ASCII
# letters, a combining mark, U+00A0 and U+2028 (str whitespace), undecodable bytes.
FRAGMENTS = [b"a", b"a", b"Bb", b"cd", b"the", b"x1", b"42", b"_", b"--", b"it's", b" ", b" ", b" ", b"\t",
             b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x00", b"\n", b"\n", b"\xc3\xa9", b"e\xcc\x81", b"\xe6\x9d\xb1",
             b"\xce\xa9", b"\xc2\xa0", b"\xe2\x80\xa8", b"\xff", b"\xc3", b"\x80"]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=80).map(b"".join)
ascii_texts = st.lists(st.sampled_from([f for f in FRAGMENTS if f.isascii()]), max_size=80).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(texts, ascii_texts), tokenizer=st.sampled_from(["regex", "whitespace", "text8", "nltk-wordpunct"]),
       block_size=st.integers(1, 40), max_len=st.integers(1, 6), min_count=st.integers(1, 3),
       max_vocab_size=st.one_of(st.none(), st.integers(1, 6)), max_size=st.one_of(st.none(), st.integers(1, 4)),
       join=st.booleans())
def test_fast_path_equals_slow_path(tmp_path_factory, data, tokenizer, block_size, max_len, min_count,
                                    max_vocab_size, max_size, join):
    d = tmp_path_factory.mktemp("f")
    (d / "c.txt").write_bytes(data)
    cfg = CorpusConfig(tokenizer=tokenizer, max_sentence_length=max_len, min_count=min_count,
                       max_vocab_size=max_vocab_size, max_size=max_size)
    assert_same_path([d / "c.txt"], cfg, block_size, d, join)


@settings(max_examples=60, deadline=None)
@given(first=texts, second=ascii_texts, block_size=st.integers(1, 30), max_len=st.integers(1, 4),
       tokenizer=st.sampled_from(["regex", "text8", "nltk-wordpunct"]), join=st.booleans())
def test_several_files_never_share_a_line(tmp_path_factory, first, second, block_size, max_len, tokenizer, join):
    d = tmp_path_factory.mktemp("m")
    (d / "a.txt").write_bytes(first)            # may end without a newline: its last line ends with it
    (d / "b.txt").write_bytes(second)
    cfg = CorpusConfig(tokenizer=tokenizer, max_sentence_length=max_len, min_count=1)
    assert_same_path([d / "a.txt", d / "b.txt"], cfg, block_size, d, join)


def test_joined_tokens_refuses_what_a_scan_would_change():
    regex = byte_classes(get_tokenizer("regex"))
    assert joined_tokens([["a", "é1"], [], ["東京"]], regex) == "a é1\n\n東京".encode()
    assert joined_tokens([["a b"]], regex) is None           # a separator inside a token
    assert joined_tokens([["a", ""]], regex) is None         # an empty token would vanish
    assert joined_tokens([["Ab"]], regex) is None            # the scan would lowercase it
    assert joined_tokens([["a\tb"]], byte_classes(get_tokenizer("whitespace"))) is None
    assert joined_tokens([["x_y", "a\x00b"]], byte_classes(get_tokenizer("whitespace"))) is not None


def test_long_lines_across_blocks_and_oov_pieces(tmp_path):
    # text8-like: one line of 1000 tokens, cut every 7, read 5 bytes at a time; rare words are
    # OOV so some pieces empty out and their neighbours' continues flags depend on it
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in rng.zipf(1.5, 1000) % 50]
    (tmp_path / "c.txt").write_text(" ".join(words) + "\nrare1 rare2\n" + " ".join(words[:20]))
    cfg = CorpusConfig(tokenizer="whitespace", max_sentence_length=7, min_count=3)
    assert_same_path([tmp_path / "c.txt"], cfg, 5, tmp_path)


def test_text8_digits_and_case(tmp_path):
    (tmp_path / "c.txt").write_bytes(b"In 1984, AB12cd was 7x7.\nZ\xc3\xa9ro 0\n")
    cfg = CorpusConfig(tokenizer="text8", min_count=1)
    wc = count_corpus([tmp_path / "c.txt"], cfg)
    assert wc.as_dict() == {"in": 1, "one": 2, "nine": 1, "eight": 1, "four": 1, "ab": 1, "two": 1, "cd": 1,
                            "was": 1, "seven": 2, "x": 1, "zero": 2}
    assert_same_path([tmp_path / "c.txt"], cfg, 3, tmp_path)


DUMP = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">
  <page><title>Thing</title><ns>0</ns><id>3</id>
    <revision><text xml:space="preserve">'''A thing''' is a [[object|Object]] in Zürich.

==History==
It was [[Made]] in [[Paris|France]] in 1850.</text></revision></page>
</mediawiki>
"""


@pytest.mark.parametrize("join", [True, False])
@pytest.mark.parametrize("tokenizer", ["regex", "text8", "nltk-wordpunct"])
def test_wiki_dump(tmp_path, tokenizer, join):
    with bz2.open(tmp_path / "pages.xml.bz2", "wb") as f:
        f.write(DUMP.encode())
    (tmp_path / "extra.txt").write_text("Extra line")
    cfg = CorpusConfig(tokenizer=tokenizer, max_sentence_length=3, min_count=1)
    assert_same_path([tmp_path / "pages.xml.bz2", tmp_path / "extra.txt"], cfg, 8, tmp_path, join)


def test_wiki_fixture_matches(shared_data, tmp_path):
    dump = shared_data / "fixtures" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    if not dump.exists():
        pytest.skip("shared data missing")
    cfg = CorpusConfig(min_count=3, max_sentence_length=50)
    counts, total, stats = slow_count([dump], cfg)
    fast_stats = CorpusStats()
    assert count_corpus([dump], cfg, fast_stats).as_dict() == counts
    assert fast_stats == stats


@pytest.mark.parametrize("block_size", [1, 4, 1 << 16])
def test_strict_error_is_the_same(tmp_path, block_size):
    (tmp_path / "c.txt").write_bytes(b"fine line\nok \xc3\xa9 then \xff bad\n")
    cfg = CorpusConfig(encoding_errors="strict", min_count=1)
    with pytest.raises(EmbedkitError) as slow:
        slow_count([tmp_path / "c.txt"], cfg, block_size)
    with pytest.raises(EmbedkitError) as fast:
        count_corpus([tmp_path / "c.txt"], cfg, block_size=block_size)
    assert str(fast.value) == str(slow.value)
    assert "byte offset 21" in str(fast.value)


def test_bad_options_are_errors(tmp_path):
    (tmp_path / "c.txt").write_text("a b\n")
    with pytest.raises(EmbedkitError, match="max-sentence-length"):
        count_corpus([tmp_path / "c.txt"], CorpusConfig(max_sentence_length=0))
    with pytest.raises(EmbedkitError, match="does not exist"):
        count_corpus([tmp_path / "missing.txt"], CorpusConfig())


def test_byte_classes_follow_the_tokenizers():
    for name in ("regex", "whitespace", "text8"):
        c = byte_classes(get_tokenizer(name))
        assert c is not None and c.cls[ord(" ")] == ts.SEP and c.cls[10] == ts.NEWLINE
    regex, ws, t8 = (byte_classes(get_tokenizer(n)) for n in ("regex", "whitespace", "text8"))
    assert regex.cls[ord("A")] == ts.WORD and regex.vmap[ord("A")] == ord("a") and regex.cls[ord("_")] == ts.SEP
    assert ws.cls[ord("_")] == ts.WORD and ws.vmap[ord("A")] == ord("A") and ws.cls[0x1c] == ts.SEP
    assert (b"7", b" seven ") in t8.expansions and len(t8.expansions) == 10 and not regex.expansions
    assert t8.expand(b"a1984b") == b"a one  nine  eight  four b"
    assert byte_classes(get_tokenizer("nltk-wordpunct")) is None


def test_table_grows_and_looks_up():
    words = [f"w{i}" for i in range(5000)] + ["", "é", "東京", "a" * 300, "a" * 301, "longer_than_7",
                                              "longer_than_8", "same_15_bytes_A", "same_15_bytes_B", "\udcff"]
    t = lookup_table(words)
    assert len(t) == len(words) and len(t.slots) >= 2 * len(t)
    entries, values = t.items()
    assert sorted(zip(values.tolist(), t.words(entries))) == list(enumerate(words))
    # every word is found with its id, absent words are not (through the encoding kernel)
    probe = " ".join(w for w in words[:5000:7]) + " nope w5000 " + " ".join(words[-7:-1]) + " longer_than_9 same_15_bytes_C " + "a" * 299
    classes = byte_classes(get_tokenizer("whitespace"))
    buf = np.frombuffer(probe.encode(), np.uint8)
    state = np.zeros(ts.STATE_SIZE, np.int64)
    out_ids, out_len, out_cont = np.empty(len(buf), np.int32), np.empty(len(buf) + 1, np.int64), \
        np.empty(len(buf) + 1, bool)
    ts.encode_ascii(buf, classes.code, *t.kernel_args()[:3], state, 10 ** 6, out_ids, out_len, out_cont)
    assert out_ids[:state[ts.ST_OUT_IDS]].tolist() == list(range(0, 5000, 7)) + [5003, 5004, 5005, 5006, 5007, 5008]


def test_growth_keeps_counts(tmp_path):
    # many distinct long and short words read in big blocks: the table grows (FULL, rehash)
    # several times inside one kernel call and keeps every count
    words = [f"{'x' * (i % 13)}{i}" for i in range(30000)]
    (tmp_path / "c.txt").write_text(" ".join(words + words[::3]) + "\n")
    cfg = CorpusConfig(tokenizer="whitespace", min_count=1)
    wc = count_corpus([tmp_path / "c.txt"], cfg, block_size=1 << 20)
    assert wc.as_dict() == slow_count([tmp_path / "c.txt"], cfg)[0]


def test_pruning_bounds_the_table(tmp_path):
    # 20,000 distinct words once each plus a frequent one: the table never holds many more
    # words than max_vocab_size (+ reserve), and pruning equals count_words'
    words = [f"u{i}" for i in range(20000)]
    (tmp_path / "c.txt").write_text("\n".join(f"{w} the" for w in words) + "\n")
    cfg = CorpusConfig(tokenizer="whitespace", max_vocab_size=1000, min_count=1)
    wc = count_corpus([tmp_path / "c.txt"], cfg, block_size=4096)
    counts, total, _ = slow_count([tmp_path / "c.txt"], cfg)
    assert wc.as_dict() == counts and wc.total_tokens == total == 40000
    assert len(wc) <= 1001 and len(wc.table.ent) <= 4096 and len(wc.table.slots) <= 8192


def test_build_vocab_and_encode_files_take_the_fast_path(tmp_path, monkeypatch):
    (tmp_path / "c.txt").write_text("the cat the dog\nthe end\n")
    cfg = CorpusConfig(min_count=2)
    import embedkit.corpus.fastpath as fp
    calls = []
    real_count, real_encode = fp.count_corpus, fp.encode_corpus
    monkeypatch.setattr(fp, "count_corpus", lambda *a, **k: calls.append("count") or real_count(*a, **k))
    monkeypatch.setattr(fp, "encode_corpus", lambda *a, **k: calls.append("encode") or real_encode(*a, **k))
    stats = CorpusStats()
    vocab = build_vocab([str(tmp_path / "c.txt")], cfg, stats)
    assert vocab.words == ["the"] and vocab.total_types == 4 and stats.tokens == 6
    encode_files([str(tmp_path / "c.txt")], cfg, vocab, tmp_path)
    assert np.load(tmp_path / "tokens.npy").tolist() == [0, 0, 0]
    assert np.load(tmp_path / "offsets.npy").tolist() == [0, 2, 3]
    assert calls == ["count", "encode"]


@pytest.mark.slow
def test_text8_vocab(shared_data):
    """The benchmark corpus: 68,092 words at min_count 5 out of 16,898,298 tokens (as gensim)."""
    stats = CorpusStats()
    vocab = count_corpus([shared_data / "corpora" / "enwiki2015-text8.txt.gz"], CorpusConfig(), stats) \
        .to_vocab(5, None)
    assert (len(vocab), vocab.total_tokens, stats.cuts, stats.lines) == (68092, 16898298, 1689, 1)
    assert vocab.words[:3] == ["the", "of", "and"]


def test_empty_inputs(tmp_path):
    (tmp_path / "c.txt").write_bytes(b"")
    (tmp_path / "d.txt").write_bytes(b"\n\n  \n")
    cfg = CorpusConfig(min_count=1)
    assert_same_path([tmp_path / "c.txt", tmp_path / "d.txt"], cfg, 2, tmp_path)
    assert len(count_corpus([tmp_path / "c.txt"], cfg)) == 0
    assert len(ByteTable()) == 0
