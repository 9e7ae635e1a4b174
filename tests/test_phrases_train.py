"""`train --phrases N` / embedkit.train(..., phrases=N): phrases found on the fly, before the
vocabulary, from files, token lists and encoded corpora alike; the cache key includes them."""
from collections import Counter

import numpy as np
import pytest

import embedkit
from embedkit.cli import main
from embedkit.config import CorpusConfig
from embedkit.corpus.prepare import prepare_corpus
from embedkit.errors import EmbedkitError

from test_phrases import oracle, synthetic

PHRASE_OPTS = dict(phrase_min_count=3, phrase_threshold=10.0)
TINY = dict(dim=8, epochs=1, workers=1, min_count=2, seed=3)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in synthetic(500, seed=4)) + "\n")
    return path


def oracle_vocab(passes, min_count=2):
    sents, _ = oracle(synthetic(500, seed=4), 3, 10.0, "word2phrase", passes=passes)
    return {w: c for w, c in Counter(w for s in sents for w in s).items() if c >= min_count}


@pytest.mark.parametrize("passes", [1, 2])
def test_phrased_vocabulary_equals_the_oracle(text_file, passes):
    corpus = prepare_corpus([text_file], CorpusConfig(tokenizer="whitespace", min_count=2, phrases=passes,
                                                      **PHRASE_OPTS), cache=False)
    assert dict(zip(corpus.vocab.words, corpus.vocab.counts.tolist())) == oracle_vocab(passes)
    assert corpus.n_tokens == sum(oracle_vocab(passes).values())
    assert list(corpus.vocab.counts) == sorted(corpus.vocab.counts, reverse=True)


def test_cache_key_includes_the_phrases(text_file, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "cache"))
    base = dict(tokenizer="whitespace", min_count=2)
    plain = prepare_corpus([text_file], CorpusConfig(**base))
    one = prepare_corpus([text_file], CorpusConfig(**base, phrases=1, **PHRASE_OPTS))
    two = prepare_corpus([text_file], CorpusConfig(**base, phrases=2, **PHRASE_OPTS))
    other = prepare_corpus([text_file], CorpusConfig(**base, phrases=1, phrase_min_count=3, phrase_threshold=11.0))
    prints = {plain.fingerprint, one.fingerprint, two.fingerprint, other.fingerprint}
    assert None not in prints and len(prints) == 4
    again = prepare_corpus([text_file], CorpusConfig(**base, phrases=1, **PHRASE_OPTS))
    assert again.fingerprint == one.fingerprint
    uncached = prepare_corpus([text_file], CorpusConfig(**base, phrases=1, **PHRASE_OPTS), cache=False)
    for c in (again, uncached):
        assert c.vocab.words == one.vocab.words
        assert np.array_equal(c.tokens, one.tokens) and np.array_equal(c.offsets, one.offsets)
        assert np.array_equal(c.continues, one.continues)
    assert "new_york" in one.vocab and "new_york" not in plain.vocab


def test_train_on_files_lists_and_encoded_alike(text_file):
    sents = synthetic(500, seed=4)
    opts = dict(phrases=1, **PHRASE_OPTS, **TINY)
    a = embedkit.train("cbow", corpus=str(text_file), tokenizer="whitespace", cache=False, **opts)
    b = embedkit.train("cbow", corpus=sents, **opts)
    base = prepare_corpus([text_file], CorpusConfig(tokenizer="whitespace", min_count=1), cache=False)
    c = embedkit.train("cbow", corpus=base, **opts)
    assert "new_york" in a and a.words == b.words == c.words
    assert np.array_equal(a.vectors, b.vectors) and np.array_equal(a.vectors, c.vectors)
    assert a.training_log["corpus_config"]["phrases"] == 1


def test_cli_train_with_phrases(text_file, tmp_path, capsys):
    out = tmp_path / "model"
    rc = main(["train", "--model", "skipgram", "--corpus", str(text_file), "--output", str(out), "--phrases", "2",
               "--phrase-min-count", "3", "--phrase-threshold", "10", "--min-count", "2", "--dim", "8",
               "--epochs", "1", "--quiet", "--no-cache"])
    assert rc == 0
    words = {line.split(" ", 1)[0] for line in (out / "vectors.txt").read_text().splitlines()[1:]}
    assert words == set(oracle_vocab(2))
    assert "new_york_times" in words


def test_phrase_options_need_phrases(text_file, tmp_path, capsys):
    rc = main(["train", "--model", "cbow", "--corpus", str(text_file), "--output", str(tmp_path / "m"),
               "--phrase-threshold", "5"])
    assert rc == 2
    assert "--phrase-threshold does not apply: it is used only with --phrases > 0" in capsys.readouterr().err
    with pytest.raises(EmbedkitError, match=r"phrase_threshold must be in \[-1, 1\] with npmi"):
        embedkit.train("cbow", corpus=[["a", "b"]], phrases=1, phrase_scoring="npmi", phrase_threshold=3.0)


def test_vocab_verb_with_phrases(text_file, tmp_path):
    out = tmp_path / "vocab.tsv"
    assert main(["vocab", "--corpus", str(text_file), "--output", str(out), "--tokenizer", "whitespace",
                 "--min-count", "2", "--phrases", "1", "--phrase-min-count", "3", "--phrase-threshold", "10"]) == 0
    rows = dict(line.split("\t") for line in out.read_text().splitlines()[1:])
    assert {w: int(c) for w, c in rows.items()} == oracle_vocab(1)
