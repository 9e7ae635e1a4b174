"""The scanner path (corpus/count.py, corpus/encode.py, corpus/stream.py, kernels/textscan.py,
kernels/bytehash.py) against the slow oracle of tests/corpus_oracle.py: vocabulary, counts,
pruning, CorpusStats, tokens/offsets/continues."""
import bz2

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from corpus_oracle import fast_encode, slow_count, slow_encode
from embedkit.config import CorpusConfig
from embedkit.corpus import tokenize
from embedkit.corpus.bytetable import ByteTable, lookup_table
from embedkit.corpus.count import build_vocab, count_words
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.tokenize import get_tokenizer
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError
from embedkit.kernels import pieces
from embedkit.kernels import textscan as ts


def assert_same_path(paths, cfg, block_size):
    """Scanner path == oracle: counts, stats, vocabulary, encoding."""
    counts, total, stats = slow_count(paths, cfg)
    fast_stats = CorpusStats()
    wc = count_words(paths, cfg, fast_stats, block_size=block_size)
    assert wc.as_dict() == counts
    assert wc.total_tokens == total
    assert fast_stats == stats
    vocab = Vocab.from_counts(counts, cfg.min_count, cfg.max_size, total_tokens=total)
    fast_vocab = wc.to_vocab(cfg.min_count, cfg.max_size)
    assert (fast_vocab.words, fast_vocab.counts.tolist(), fast_vocab.total_tokens, fast_vocab.total_types) == \
        (vocab.words, vocab.counts.tolist(), vocab.total_tokens, vocab.total_types)
    *expected, enc_stats = slow_encode(paths, cfg, vocab)
    got, fast_enc_stats = fast_encode(paths, cfg, vocab, block_size)
    assert got == expected
    assert fast_enc_stats == enc_stats == stats


# Fragments: ASCII words with case, digits, punctuation and every ASCII whitespace; non-ASCII
# letters, a combining mark, U+00A0 and U+2028 (str whitespace), undecodable bytes.
FRAGMENTS = [b"a", b"a", b"Bb", b"cd", b"the", b"x1", b"42", b"_", b"--", b"it's", b" ", b" ", b" ", b"\t",
             b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x00", b"\n", b"\n", b"\xc3\xa9", b"e\xcc\x81", b"\xe6\x9d\xb1",
             b"\xce\xa9", b"\xc2\xa0", b"\xe2\x80\xa8", b"\xff", b"\xc3", b"\x80"]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=80).map(b"".join)
ascii_texts = st.lists(st.sampled_from([f for f in FRAGMENTS if f.isascii()]), max_size=80).map(b"".join)
ALL_TOKENIZERS = ["regex", "whitespace", "text8", "nltk-treebank", "nltk-toktok", "nltk-wordpunct"]


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(texts, ascii_texts), tokenizer=st.sampled_from(["regex", "whitespace", "text8", "nltk-wordpunct"]),
       block_size=st.integers(1, 40), max_len=st.integers(1, 6), min_count=st.integers(1, 3),
       max_vocab_size=st.one_of(st.none(), st.integers(1, 6)), max_size=st.one_of(st.none(), st.integers(1, 4)))
def test_scanner_path_equals_oracle(tmp_path_factory, data, tokenizer, block_size, max_len, min_count,
                                    max_vocab_size, max_size):
    d = tmp_path_factory.mktemp("f")
    (d / "c.txt").write_bytes(data)
    cfg = CorpusConfig(tokenizer=tokenizer, max_sentence_length=max_len, min_count=min_count,
                       max_vocab_size=max_vocab_size, max_size=max_size)
    assert_same_path([d / "c.txt"], cfg, block_size)


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120),
       tokenizer=st.sampled_from(ALL_TOKENIZERS))
def test_any_unicode_text_and_tokenizer(tmp_path_factory, text, tokenizer):
    """Every tokenizer's tokens of any text are joined and scanned back unchanged."""
    d = tmp_path_factory.mktemp("u")
    (d / "c.txt").write_text(text, encoding="utf-8")
    assert_same_path([d / "c.txt"], CorpusConfig(tokenizer=tokenizer, min_count=1, max_sentence_length=3), 7)


@settings(max_examples=60, deadline=None)
@given(first=texts, second=ascii_texts, block_size=st.integers(1, 30), max_len=st.integers(1, 4),
       tokenizer=st.sampled_from(["regex", "text8", "nltk-wordpunct"]))
def test_several_files_never_share_a_line(tmp_path_factory, first, second, block_size, max_len, tokenizer):
    d = tmp_path_factory.mktemp("m")
    (d / "a.txt").write_bytes(first)            # may end without a newline: its last line ends with it
    (d / "b.txt").write_bytes(second)
    cfg = CorpusConfig(tokenizer=tokenizer, max_sentence_length=max_len, min_count=1)
    assert_same_path([d / "a.txt", d / "b.txt"], cfg, block_size)


def test_a_token_the_scan_would_change_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "c.txt").write_bytes("caf\u00e9 ok\n".encode())
    tok = get_tokenizer("regex")
    monkeypatch.setattr(type(tok), "tokenize_lines", lambda self, text: [["caf\u00e9", "a b"], []])
    with pytest.raises(EmbedkitError, match=r"c.txt: --tokenizer regex made the token 'a b'"):
        count_words([tmp_path / "c.txt"], CorpusConfig())
    monkeypatch.setattr(type(tok), "tokenize_lines", lambda self, text: [["Caf\u00e9"], []])   # would be lowercased
    with pytest.raises(EmbedkitError, match="made the token 'Caf"):
        count_words([tmp_path / "c.txt"], CorpusConfig())
    monkeypatch.setattr(type(tok), "tokenize_lines", lambda self, text: [["x", ""], []])       # would vanish
    with pytest.raises(EmbedkitError, match="made the token ''"):
        count_words([tmp_path / "c.txt"], CorpusConfig())


def test_slow_path_is_announced_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tokenize, "_announced", set())
    (tmp_path / "c.txt").write_text("Don't stop\n")
    for _ in range(2):
        assert count_words([tmp_path / "c.txt"], CorpusConfig(tokenizer="nltk-wordpunct")).as_dict() == \
            {"don": 1, "'": 1, "t": 1, "stop": 1}
        count_words([tmp_path / "c.txt"], CorpusConfig(tokenizer="regex"))
    err = capsys.readouterr().err
    assert err.count("nltk-wordpunct has no byte-level fast path") == 1 and err.count("\n") == 1


def test_long_lines_across_blocks_and_oov_pieces(tmp_path):
    # text8-like: one line of 1000 tokens, cut every 7, read 5 bytes at a time; rare words are
    # OOV so some pieces empty out and their neighbours' continues flags depend on it
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in rng.zipf(1.5, 1000) % 50]
    (tmp_path / "c.txt").write_text(" ".join(words) + "\nrare1 rare2\n" + " ".join(words[:20]))
    cfg = CorpusConfig(tokenizer="whitespace", max_sentence_length=7, min_count=3)
    assert_same_path([tmp_path / "c.txt"], cfg, 5)


def test_text8_digits_and_case(tmp_path):
    (tmp_path / "c.txt").write_bytes(b"In 1984, AB12cd was 7x7.\nZ\xc3\xa9ro 0\n")
    cfg = CorpusConfig(tokenizer="text8", min_count=1)
    wc = count_words([tmp_path / "c.txt"], cfg)
    assert wc.as_dict() == {"in": 1, "one": 2, "nine": 1, "eight": 1, "four": 1, "ab": 1, "two": 1, "cd": 1,
                            "was": 1, "seven": 2, "x": 1, "zero": 2}
    assert_same_path([tmp_path / "c.txt"], cfg, 3)


DUMP = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">
  <page><title>Thing</title><ns>0</ns><id>3</id>
    <revision><text xml:space="preserve">'''A thing''' is a [[object|Object]] in Z\u00fcrich.

==History==
It was [[Made]] in [[Paris|France]] in 1850.</text></revision></page>
</mediawiki>
"""


@pytest.mark.parametrize("tokenizer", ["regex", "text8", "nltk-wordpunct"])
def test_wiki_dump(tmp_path, tokenizer):
    with bz2.open(tmp_path / "pages.xml.bz2", "wb") as f:
        f.write(DUMP.encode())
    (tmp_path / "extra.txt").write_text("Extra line")
    cfg = CorpusConfig(tokenizer=tokenizer, max_sentence_length=3, min_count=1)
    assert_same_path([tmp_path / "pages.xml.bz2", tmp_path / "extra.txt"], cfg, 8)


def test_wiki_fixture_matches(shared_data, tmp_path):
    dump = shared_data / "fixtures" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    if not dump.exists():
        pytest.skip("shared data missing")
    cfg = CorpusConfig(min_count=3, max_sentence_length=50)
    counts, total, stats = slow_count([dump], cfg)
    fast_stats = CorpusStats()
    assert count_words([dump], cfg, fast_stats).as_dict() == counts
    assert fast_stats == stats


@pytest.mark.parametrize("block_size", [1, 4, 1 << 16])
def test_strict_error_is_the_same(tmp_path, block_size):
    (tmp_path / "c.txt").write_bytes(b"fine line\nok \xc3\xa9 then \xff bad\n")
    cfg = CorpusConfig(encoding_errors="strict", min_count=1)
    with pytest.raises(EmbedkitError) as slow:
        slow_count([tmp_path / "c.txt"], cfg, block_size)
    with pytest.raises(EmbedkitError) as fast:
        count_words([tmp_path / "c.txt"], cfg, block_size=block_size)
    assert str(fast.value) == str(slow.value)
    assert "byte offset 21" in str(fast.value)


def test_missing_input_is_an_error(tmp_path):
    with pytest.raises(EmbedkitError, match="does not exist"):
        count_words([tmp_path / "missing.txt"], CorpusConfig())


def test_table_grows_and_looks_up():
    words = [f"w{i}" for i in range(5000)] + ["", "\u00e9", "\u6771\u4eac", "a" * 300, "a" * 301, "longer_than_7",
                                              "longer_than_8", "same_15_bytes_A", "same_15_bytes_B", "\udcff"]
    t = lookup_table(words)
    assert len(t) == len(words) and len(t.slots) >= 2 * len(t)
    entries, values = t.items()
    assert sorted(zip(values.tolist(), t.words(entries))) == list(enumerate(words))
    # every word is found with its id, absent words are not (through the encoding kernel)
    probe = " ".join(w for w in words[:5000:7]) + " nope w5000 " + " ".join(words[-7:-1]) + " longer_than_9 same_15_bytes_C " + "a" * 299
    code = get_tokenizer("whitespace").byte_classes.code
    buf = np.frombuffer(probe.encode(), np.uint8)
    state = np.zeros(pieces.STATE_SIZE, np.int64)
    out_ids, out_len, out_cont = np.empty(len(buf), np.int32), np.empty(len(buf) + 1, np.int64), \
        np.empty(len(buf) + 1, bool)
    ts.encode_text(buf, code, *t.kernel_args()[:3], state, 10 ** 6, out_ids, out_len, out_cont)
    assert out_ids[:state[pieces.ST_OUT_IDS]].tolist() == list(range(0, 5000, 7)) + [5003, 5004, 5005, 5006, 5007, 5008]


def test_growth_keeps_counts(tmp_path):
    # many distinct long and short words read in big blocks: the table grows (FULL, rehash)
    # several times inside one kernel call and keeps every count
    words = [f"{'x' * (i % 13)}{i}" for i in range(30000)]
    (tmp_path / "c.txt").write_text(" ".join(words + words[::3]) + "\n")
    cfg = CorpusConfig(tokenizer="whitespace", min_count=1)
    wc = count_words([tmp_path / "c.txt"], cfg, block_size=1 << 20)
    assert wc.as_dict() == slow_count([tmp_path / "c.txt"], cfg)[0]


def test_pruning_bounds_the_table(tmp_path):
    # 20,000 distinct words once each plus a frequent one: the table never holds many more
    # words than max_vocab_size (+ reserve), and pruning equals gensim's (the oracle's)
    words = [f"u{i}" for i in range(20000)]
    (tmp_path / "c.txt").write_text("\n".join(f"{w} the" for w in words) + "\n")
    cfg = CorpusConfig(tokenizer="whitespace", max_vocab_size=1000, min_count=1)
    wc = count_words([tmp_path / "c.txt"], cfg, block_size=4096)
    counts, total, _ = slow_count([tmp_path / "c.txt"], cfg)
    assert wc.as_dict() == counts and wc.total_tokens == total == 40000
    assert len(wc) <= 1001 and len(wc.table.ent) <= 4096 and len(wc.table.slots) <= 8192


def test_max_vocab_size_prunes_like_gensim(tmp_path):
    (tmp_path / "c.txt").write_text(" ".join(["a"] * 10 + ["b", "c"]) + "\nd e a\n")
    wc = count_words([tmp_path / "c.txt"], CorpusConfig(tokenizer="whitespace", max_vocab_size=2, min_count=1))
    assert wc.total_tokens == 15
    assert len(wc) <= 3 and wc.as_dict()["a"] == 11


def test_build_vocab(tmp_path):
    (tmp_path / "c.txt").write_text("the cat the dog\nthe end\n")
    stats = CorpusStats()
    vocab = build_vocab([str(tmp_path / "c.txt")], CorpusConfig(min_count=2), stats)
    assert vocab.words == ["the"] and vocab.total_types == 4 and stats.tokens == 6
    with pytest.raises(EmbedkitError, match="no word occurs at least --min-count 5 times in .*c.txt"):
        build_vocab([str(tmp_path / "c.txt")], CorpusConfig())


@pytest.mark.slow
def test_text8_vocab(shared_data):
    """The benchmark corpus: 68,092 words at min_count 5 out of 16,898,298 tokens (as gensim)."""
    stats = CorpusStats()
    vocab = count_words([shared_data / "corpora" / "enwiki2015-text8.txt.gz"], CorpusConfig(), stats) \
        .to_vocab(5, None)
    assert (len(vocab), vocab.total_tokens, stats.cuts, stats.lines) == (68092, 16898298, 1689, 1)
    assert vocab.words[:3] == ["the", "of", "and"]


def test_empty_inputs(tmp_path):
    (tmp_path / "c.txt").write_bytes(b"")
    (tmp_path / "d.txt").write_bytes(b"\n\n  \n")
    cfg = CorpusConfig(min_count=1)
    assert_same_path([tmp_path / "c.txt", tmp_path / "d.txt"], cfg, 2)
    assert len(count_words([tmp_path / "c.txt"], cfg)) == 0
    assert len(ByteTable()) == 0


def test_python_tokenizers_see_whole_lines():
    """Blocks re-cut at newlines for tokenizers without byte classes, up to the limit."""
    from embedkit.corpus.stream import _whole_lines
    blocks = [(0, b"a b "), (4, b"c.\nd "), (9, b"e "), (11, b"f "), (13, b"g")]
    assert list(_whole_lines(iter(blocks), 100)) == [(0, b"a b c.\n"), (7, b"d e f g")]
    assert list(_whole_lines(iter(blocks), 5)) == [(0, b"a b c.\n"), (7, b"d e f "), (13, b"g")]
    assert list(_whole_lines(iter([(0, b"x\n")]), 5)) == [(0, b"x\n")]


def test_treebank_period_rule_across_read_blocks(tmp_path):
    # "end." is split at the end of a line only: a line longer than a read block keeps it whole
    (tmp_path / "c.txt").write_text("a " * 50 + "end. b\nlast end.\n")
    cfg = CorpusConfig(tokenizer="nltk-treebank", min_count=1)
    counts = count_words([tmp_path / "c.txt"], cfg, block_size=8).as_dict()
    assert counts["end."] == 1 and counts["end"] == 1 and counts["."] == 1
