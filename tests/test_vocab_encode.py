"""Vocabulary counting/pruning/TSV and the encoded-corpus cache."""
import os
from collections import Counter

import numpy as np
import pytest

from embedkit.config import CorpusConfig
from embedkit.corpus.prepare import prepare_corpus
from embedkit.corpus import encoded, prepare
from embedkit.corpus.vocab import Vocab
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


def test_cache_key_covers_the_code(tmp_path, monkeypatch):
    """An edit of any module of the corpus package (or of the scanning kernels) encodes again."""
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "cache"))
    f = _write(tmp_path / "c.txt", "a a b\n")
    cfg = CorpusConfig(tokenizer="whitespace", min_count=1)
    first = prepare.fingerprint([f], cfg)
    assert prepare_corpus([f], cfg).fingerprint == first
    pkg = tmp_path / "embedkit"                     # a copy of the package with one edited module
    (pkg / "corpus").mkdir(parents=True)
    (pkg / "kernels").mkdir()
    for src in (prepare._PACKAGE / "corpus").glob("*.py"):
        (pkg / "corpus" / src.name).write_bytes(src.read_bytes())
    for name in prepare._KERNELS:
        (pkg / "kernels" / name).write_bytes((prepare._PACKAGE / "kernels" / name).read_bytes())
    monkeypatch.setattr(prepare, "_PACKAGE", pkg)
    assert prepare.fingerprint([f], cfg) == first
    (pkg / "kernels" / "pieces.py").write_text((pkg / "kernels" / "pieces.py").read_text() + "\n# edited\n")
    assert prepare.fingerprint([f], cfg) != first
    monkeypatch.setattr(prepare, "code_fingerprint", lambda cfg: "another version")
    assert prepare.fingerprint([f], cfg) not in (first, None)
    assert prepare_corpus([f], cfg).fingerprint != first
    assert len(list((tmp_path / "cache").iterdir())) == 2
    monkeypatch.undo()                               # nltk's version is part of an nltk tokenizer's key
    assert prepare.code_fingerprint(CorpusConfig(tokenizer="nltk-wordpunct")) != prepare.code_fingerprint(CorpusConfig())


def test_encoded_format_version_is_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "cache"))
    c = prepare_corpus([_write(tmp_path / "c.txt", "a a b\n")], CorpusConfig(min_count=1))
    folder = tmp_path / "cache" / c.fingerprint
    meta = (folder / "meta.json").read_text()
    assert f'"format_version": {encoded.FORMAT_VERSION}' in meta
    (folder / "meta.json").write_text(meta.replace(f'"format_version": {encoded.FORMAT_VERSION}', '"format_version": 99'))
    with pytest.raises(EmbedkitError, match="format_version 99, this embedkit reads"):
        encoded.load(folder)


@pytest.mark.parametrize("options, message", [
    (dict(max_sentence_length=0), "--max-sentence-length must be >= 1, got 0"),
    (dict(encoding_errors="ignore"), "--encoding-errors must be one of replace, strict, got 'ignore'"),
    (dict(tokenizer="spacy"), "--tokenizer must be one of regex, "),
    (dict(min_count=0), "--min-count must be >= 1"),
    (dict(max_size=-1), "--max-size must be >= 1"),
    (dict(max_vocab_size=2.5), "--max-vocab-size must be int"),
])
def test_corpus_config_is_checked_once_in_the_config(options, message):
    with pytest.raises(EmbedkitError, match=message):
        CorpusConfig(**options)


def test_a_rewrite_that_keeps_size_and_mtime_is_not_served_from_the_cache(tmp_path, monkeypatch):
    """cp -p, rsync -t or touch -r leave a new text with the old size and mtime."""
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "cache"))
    f = _write(tmp_path / "c.txt", "aaa bbb ccc\n" * 5)
    cfg = CorpusConfig(tokenizer="whitespace", min_count=1)
    assert prepare_corpus([f], cfg).vocab.words == ["aaa", "bbb", "ccc"]
    before = os.stat(f)
    new = _write(tmp_path / "new.txt", "qqq www eee\n" * 5)
    os.utime(new, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(new, f)                                   # as cp -p and rsync -t leave it
    assert (os.stat(f).st_size, os.stat(f).st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert prepare_corpus([f], cfg).vocab.words == ["eee", "qqq", "www"]


def test_stdin_is_named_as_such_not_as_its_spool(monkeypatch):
    """Standard input is spooled to a temporary file for the two passes; the summary and the errors
    named that file (/tmp/.embedkit-stdin.../stdin.txt)."""
    import io
    import sys
    from types import SimpleNamespace
    from embedkit.corpus.summary import corpus_summary
    cfg = CorpusConfig(tokenizer="whitespace", min_count=1)
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(b"a b a\n")))
    corpus = prepare_corpus(["-"], cfg)
    assert corpus.stats.files == ["-"] and corpus_summary(corpus, 1).startswith("corpus: <stdin>, 1 lines")
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(b"a b a\n")))
    with pytest.raises(EmbedkitError, match=r"at least --min-count 5 times in <stdin>$"):
        prepare_corpus(["-"], CorpusConfig(tokenizer="whitespace", min_count=5))


def test_an_empty_vocabulary_after_pruning_names_max_vocab_size(tmp_path):
    f = _write(tmp_path / "c.txt", "a b c d e f\n" * 3)
    with pytest.raises(EmbedkitError, match=r"--max-vocab-size 1 pruned the rarer words while counting\)$"):
        prepare_corpus([f], CorpusConfig(tokenizer="whitespace", min_count=2, max_vocab_size=1), cache=False)
