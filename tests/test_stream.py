"""What the scanner path makes of text, as sentence pieces: cuts, block boundaries, formats,
UTF-8 errors, stats, wiki dumps (pieces read back from an encoding at min_count 1)."""
import bz2
import gzip
import io
import lzma

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from corpus_oracle import fast_sentences
from embedkit.config import CorpusConfig
from embedkit.corpus.prepare import prepare_corpus
from embedkit.corpus.tokenize import get_tokenizer
from embedkit.errors import EmbedkitError


def reference(data: bytes, cfg: CorpusConfig):
    """Slow and obvious: decode everything, split lines, tokenize, cut every max tokens."""
    tok = get_tokenizer(cfg.tokenizer)
    out = []
    for line in data.decode("utf-8", "replace").split("\n"):
        toks = tok(line)
        m = cfg.max_sentence_length
        out.extend((toks[i:i + m], i > 0) for i in range(0, len(toks), m))
    return out


def run(paths, cfg=CorpusConfig(min_count=1), **kw):
    return fast_sentences(paths, cfg, **kw)


def test_long_line_is_cut_not_dropped(tmp_path):
    words = [f"w{i}" for i in range(25)]
    p = tmp_path / "c.txt"
    p.write_text("short line\n" + " ".join(words) + "\n\n\nend\n")
    got, stats = run([p], CorpusConfig(max_sentence_length=10))
    assert got == [(["short", "line"], False), (words[:10], False), (words[10:20], True), (words[20:], True),
                   (["end"], False)]
    assert (stats.lines, stats.sentences, stats.cuts, stats.tokens) == (3, 5, 2, 28)
    assert stats.files == [str(p)]


def test_exact_multiple_and_no_final_newline(tmp_path):
    p = tmp_path / "c.txt"
    p.write_text(" ".join(map(str, range(20))))      # 20 tokens, no newline at all (like text8)
    got, stats = run([p], CorpusConfig(max_sentence_length=10), block_size=7)
    assert got == [([str(i) for i in range(10)], False), ([str(i) for i in range(10, 20)], True)]
    assert (stats.lines, stats.sentences, stats.cuts) == (1, 2, 1)


lines = st.lists(st.lists(st.sampled_from(["a", "Bb", "c1", "dé", "東", "x_y", "--", "Ω"]), max_size=30)
                 .map(" ".join), max_size=12)


@settings(max_examples=150, deadline=None)
@given(lines=lines, max_len=st.integers(1, 12), block_size=st.integers(1, 40),
       tokenizer=st.sampled_from(["regex", "whitespace", "text8", "nltk-wordpunct"]),
       final_newline=st.booleans())
def test_any_block_size_equals_reading_whole(tmp_path_factory, lines, max_len, block_size, tokenizer,
                                             final_newline):
    data = ("\n".join(lines) + ("\n" if final_newline else "")).encode()
    p = tmp_path_factory.mktemp("b") / "c.txt"
    p.write_bytes(data)
    cfg = CorpusConfig(tokenizer=tokenizer, max_sentence_length=max_len)
    got, stats = run([p], cfg, block_size=block_size)
    assert got == reference(data, cfg)
    assert stats.sentences == len(got) == stats.lines + stats.cuts
    assert stats.tokens == sum(len(t) for t, _ in got)


def test_formats_folders_and_stdin_agree(tmp_path, monkeypatch):
    data = "One two.\nThree, FOUR five\n\nsix\n".encode() * 50
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "plain.txt").write_bytes(data)
    for ext, opener in ((".gz", gzip.open), (".bz2", bz2.open), (".xz", lzma.open)):
        with opener(tmp_path / f"c.txt{ext}", "wb") as f:
            f.write(data)
    (tmp_path / "d" / "sub" / "part2.txt").write_bytes(data[len(data) // 2:])
    (tmp_path / "d" / "part1.txt").write_bytes(data[:len(data) // 2])
    expected = reference(data, CorpusConfig())
    for name in ("plain.txt", "c.txt.gz", "c.txt.bz2", "c.txt.xz", "d"):
        assert run([tmp_path / name], block_size=16)[0] == expected, name

    class FakeStdin:
        buffer = io.BytesIO(data)
    monkeypatch.setattr("sys.stdin", FakeStdin)
    c = prepare_corpus(["-"], CorpusConfig(min_count=1))      # stdin is spooled: two passes read it
    words = c.vocab.words
    assert [([words[i] for i in c.tokens[a:b]], bool(k))
            for a, b, k in zip(c.offsets[:-1], c.offsets[1:], c.continues)] == expected
    assert c.fingerprint is None and c.stats.tokens == sum(len(t) for t, _ in expected)


def test_several_inputs_are_concatenated_in_order(tmp_path):
    (tmp_path / "a.txt").write_text("a b")        # no final newline: still its own sentence
    (tmp_path / "b.txt").write_text("c\n")
    got, stats = run([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert got == [(["a", "b"], False), (["c"], False)]
    assert len(stats.files) == 2


def test_undecodable_bytes_are_replaced_and_counted(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"caf\xc3\xa9 ok\nbad \xff\xfe bytes\ntrunc \xe6\x97\n" + b"fine line\n" * 10)
    got, stats = run([p], CorpusConfig(tokenizer="whitespace"), block_size=8)
    assert got[:3] == [(["café", "ok"], False), (["bad", "\ufffd\ufffd", "bytes"], False),
                       (["trunc", "\ufffd\ufffd"], False)]
    assert stats.replaced_bytes == 4
    got, stats = run([p])
    assert got[1] == (["bad", "bytes"], False) and stats.replaced_bytes == 4


@pytest.mark.parametrize("block_size", [4, 1 << 16])
def test_strict_names_file_and_byte_offset(tmp_path, block_size):
    data = b"good line\n" * 20 + b"caf\xc3\xa9 then \x80 bad\n"
    offset = data.index(b"\x80")
    p = tmp_path / "bad.txt.gz"
    with gzip.open(p, "wb") as f:
        f.write(data)
    with pytest.raises(EmbedkitError, match=rf"bad.txt.gz: invalid UTF-8 at byte offset {offset} "):
        run([p], CorpusConfig(encoding_errors="strict"), block_size=block_size)


def test_missing_input_is_an_error(tmp_path):
    with pytest.raises(EmbedkitError, match="missing.txt"):
        run([tmp_path / "missing.txt"])


DUMP = """<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">
  <siteinfo><sitename>Wikipedia</sitename></siteinfo>
  <page><title>Redirected</title><ns>0</ns><id>1</id><redirect title="Target" />
    <revision><text xml:space="preserve">#REDIRECT [[Target]]</text></revision></page>
  <page><title>Talk:Thing</title><ns>1</ns><id>2</id>
    <revision><text xml:space="preserve">Talk page words.</text></revision></page>
  <page><title>Thing</title><ns>0</ns><id>3</id>
    <revision><text xml:space="preserve">{{Infobox|name=x}}'''A thing''' is a [[object|Object]].&lt;ref&gt;Cited.&lt;/ref&gt;

==History==
It was [[Made]] in [[Paris|France]].</text></revision></page>
</mediawiki>
"""


@pytest.mark.parametrize("name", ["pages.xml", "pages.xml.bz2"])
def test_wiki_dump_is_an_input(tmp_path, name):
    opener = bz2.open if name.endswith(".bz2") else open
    with opener(tmp_path / name, "wb") as f:
        f.write(DUMP.encode())
    (tmp_path / "extra.txt").write_text("Extra line\n")
    got, stats = run([tmp_path / name, tmp_path / "extra.txt"], CorpusConfig(max_sentence_length=4))
    assert got == [(["a", "thing", "is", "a"], False), (["object"], True), (["history"], False),
                   (["it", "was", "made", "in"], False), (["france"], True), (["extra", "line"], False)]
    assert (stats.lines, stats.cuts, stats.tokens) == (4, 2, 13)
    assert stats.files == [str(tmp_path / name), str(tmp_path / "extra.txt")]


@settings(max_examples=150, deadline=None)
@given(data=st.lists(st.sampled_from([b"ab", b"C", b" ", b"\n", b"\xc3\xa9", b"\xe6\x9d\xb1", b"\xff", b"\xc3",
                                      b"\xe6\x9d", b"\x80", b"\xed\xa0\x80"]), max_size=60).map(b"".join),
       block_size=st.integers(1, 20))
def test_bad_bytes_any_block_size(tmp_path_factory, data, block_size):
    """Undecodable bytes never change tokens across block cuts, and each one is counted once."""
    p = tmp_path_factory.mktemp("u") / "c.txt"
    p.write_bytes(data)
    got, stats = run([p], block_size=block_size)
    assert got == reference(data, CorpusConfig())     # U+FFFD separates tokens like any non-letter
    escaped = data.decode("utf-8", "surrogateescape")
    assert stats.replaced_bytes == sum("\udc80" <= c <= "\udcff" for c in escaped)


@pytest.mark.slow
def test_full_text8(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path))
    c = prepare_corpus(shared_data / "corpora" / "enwiki2015-text8.txt.gz", CorpusConfig(min_count=1))
    lengths = np.diff(c.offsets)
    assert c.n_tokens == c.stats.tokens == 16_898_298
    assert set(lengths[:-1].tolist()) == {10_000} and 0 < lengths[-1] <= 10_000
    assert c.continues.tolist() == [False] + [True] * (len(lengths) - 1)
    assert (c.stats.lines, c.stats.cuts, c.stats.sentences) == (1, 1689, 1690)
