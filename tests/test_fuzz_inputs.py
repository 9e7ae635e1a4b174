"""Fuzzing the inputs test_fuzz_readers.py does not cover: corpus files (plain, gzip, bzip2, xz, with or
without their extension), MediaWiki dumps, and fastText `.bin` models.

Same contract (test_fuzz_readers.check_read): a read returns, or raises EmbedkitError naming the file
(and a line or byte unless the problem is the whole file); any other exception, or a read over the
time limit, fails. A corpus read here is the counting pass (corpus/count.py count_words: reader,
decompression, content detection, tokenizer and scanner), so what it returns is checked against the
text that was written when nothing was damaged. `pytest -m slow` runs the long randomised search.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import tempfile
from pathlib import Path

import numpy as np
from corpus_oracle import slow_count
from hypothesis import strategies as st
from test_fuzz_readers import NASTY, check_read, check_vectors, fuzz, mutate_bytes, mutate_lines

from embedkit import io
from embedkit.config import CorpusConfig
from embedkit.corpus.count import count_words
from embedkit.embeddings import Embeddings

COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}
LINE_WORDS = st.lists(st.sampled_from(["the", "Cat", "sat", "naïve", "日本", "x1", "--", "a.b", "Ω"]), max_size=12)


def _counted(path: Path):
    table = count_words([str(path)], CorpusConfig(min_count=1))
    return table.as_dict(), table.total_tokens


@st.composite
def damaged(draw, data: bytes):
    """A compressed stream cut, flipped, or with bytes inserted or deleted, 1 to 2 times."""
    for _ in range(draw(st.integers(1, 2))):
        k = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
        if op == "cut":
            data = data[:k]
        elif op == "flip" and k < len(data):
            data = data[:k] + bytes([draw(st.integers(0, 255))]) + data[k + 1:]
        elif op == "insert":
            data = data[:k] + draw(st.sampled_from(NASTY) | st.binary(max_size=6)) + data[k:]
        elif op == "delete":
            data = data[:k] + data[k + draw(st.integers(1, 8)):]
    return data


# ---- corpus files ----

@st.composite
def corpus_case(draw):
    text = "\n".join(" ".join(words) for words in draw(st.lists(LINE_WORDS, min_size=1, max_size=8)))
    data = text.encode()
    intact = True
    if draw(st.booleans()):
        data, intact = draw(mutate_lines(data)), False           # NUL, bad UTF-8, cut lines, ...
    kind = draw(st.sampled_from(["", ".gz", ".bz2", ".xz"]))
    if kind:
        data = COMPRESS[kind](data)
        if draw(st.booleans()):
            data, intact = draw(damaged(data)), False
    suffix = draw(st.sampled_from([kind, "", ".txt"])) if kind else draw(st.sampled_from(["", ".txt", ".gz"]))
    return text, data, suffix, intact and (bool(kind) or suffix != ".gz")   # plain text named .gz: either


def _corpus_body(case):
    text, data, suffix, intact = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"corpus{suffix}"
        path.write_bytes(data)
        got = check_read(_counted, path)
        if got is not None:
            counts, total = got
            assert all(isinstance(w, str) and w and c > 0 for w, c in counts.items())
            assert total == sum(counts.values())
        if intact:                                            # by content, whatever the name says
            plain = Path(d) / "plain.txt"
            plain.write_text(text)
            want, want_total, _ = slow_count([plain], CorpusConfig(min_count=1))   # the pure-Python oracle
            assert got == (want, want_total)


test_fuzz_corpus_files, test_fuzz_corpus_files_long = fuzz(200, corpus_case())(_corpus_body)


# ---- MediaWiki dumps ----

PAGE = ("  <page><title>{title}</title><ns>{ns}</ns><id>{id}</id>\n"
        "    <revision><text xml:space=\"preserve\">{text}</text></revision></page>\n")
WIKITEXT = st.sampled_from(["{{Infobox|name=x}}'''A thing''' is a [[object|Object]].",
                            "==History==\nIt was [[Made]] in [[Paris|France]].&lt;ref&gt;Cited.&lt;/ref&gt;",
                            "#REDIRECT [[Target]]", "[[File:x.png|thumb|a [[b]] c]] d", "{| class=x\n| a || b\n|}",
                            "plain words only", "&lt;!-- hidden --&gt; shown", "{{unclosed [[link"])


@st.composite
def wiki_case(draw):
    pages = draw(st.lists(st.tuples(st.sampled_from(["Thing", "Talk:X", "A &amp; B"]), st.sampled_from([0, 1]),
                                    st.lists(WIKITEXT, min_size=1, max_size=3)), min_size=1, max_size=4))
    body = "".join(PAGE.format(title=t, ns=ns, id=i + 1, text="\n\n".join(texts))
                   for i, (t, ns, texts) in enumerate(pages))
    data = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">\n'
            f"  <siteinfo><sitename>Wikipedia</sitename></siteinfo>\n{body}</mediawiki>\n").encode()
    if draw(st.booleans()):
        data = draw(mutate_lines(data))                       # cut tags, NUL, bad UTF-8, lost lines
    suffix = draw(st.sampled_from([".xml", ".xml.bz2"]))
    if suffix.endswith(".bz2"):
        data = bz2.compress(data)
        if draw(st.booleans()):
            data = draw(damaged(data))
    return data, suffix


def _wiki_body(case):
    data, suffix = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"pages-articles{suffix}"
        path.write_bytes(data)
        got = check_read(_counted, path)
    if got is not None:
        assert got[1] == sum(got[0].values())


test_fuzz_wiki_dumps, test_fuzz_wiki_dumps_long = fuzz(150, wiki_case())(_wiki_body)


# ---- fastText .bin ----

@st.composite
def fasttext_bin_case(draw):
    n = draw(st.integers(1, 5))
    words = draw(st.lists(st.sampled_from(["a", "b", "</s>", "naïve", "日本", "cat", "dog", "x"]),
                          min_size=n, max_size=n, unique=True))
    dim = draw(st.integers(1, 4))
    vectors = np.array(draw(st.lists(st.floats(-4, 4, width=32), min_size=n * dim, max_size=n * dim)),
                       dtype=np.float32).reshape(n, dim)
    emb = Embeddings(words, vectors, counts=np.arange(n, 0, -1, dtype=np.int64) * 3)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "m.bin"
        io.save(emb, p, format="fasttext-bin")
        valid = p.read_bytes()
    return draw(mutate_bytes(valid)), draw(st.booleans())


def _fasttext_bin_body(case):
    data, detect = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "model.bin"
        path.write_bytes(data)
        emb = check_read(lambda p: io.load(p, format=None if detect else "fasttext-bin"), path)
        if emb is not None:
            check_vectors(emb)


test_fuzz_fasttext_bin, test_fuzz_fasttext_bin_long = fuzz(200, fasttext_bin_case())(_fasttext_bin_body)
