"""In-memory corpora (lists or generators of token lists) against the file pipeline on the same text."""
import numpy as np
import pytest

from embedkit.config import CorpusConfig
from embedkit.corpus.prepare import prepare_corpus
from embedkit.corpus.tokenlists import encode_token_lists
from embedkit.errors import EmbedkitError


def _sentences(seed=0, n=400):
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(60)] + ["Cap", "ünï", "x-y"]
    p = 1.0 / np.arange(1, len(words) + 1)
    p /= p.sum()
    return [list(rng.choice(words, size=int(rng.integers(0, 30)), p=p)) for _ in range(n)]


@pytest.mark.parametrize("cfg", [CorpusConfig(min_count=1), CorpusConfig(min_count=3, max_sentence_length=7),
                                 CorpusConfig(min_count=2, max_size=20, max_sentence_length=5)])
def test_equals_the_file_pipeline(tmp_path, cfg):
    sents = _sentences()
    path = tmp_path / "c.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in sents), encoding="utf-8")
    cfg_file = CorpusConfig(**{**cfg.__dict__, "tokenizer": "whitespace"})
    want = prepare_corpus([str(path)], cfg_file, cache=False)
    got = encode_token_lists(iter(sents), cfg)                       # a one-shot generator
    assert got.vocab.words == want.vocab.words and np.array_equal(got.vocab.counts, want.vocab.counts)
    assert got.vocab.total_tokens == want.vocab.total_tokens and got.vocab.total_types == want.vocab.total_types
    assert np.array_equal(got.tokens, want.tokens) and np.array_equal(got.offsets, want.offsets)
    assert np.array_equal(got.continues, want.continues)
    for key in ("lines", "sentences", "cuts", "tokens"):
        assert getattr(got.stats, key) == getattr(want.stats, key), key


def test_pruning_bounds_the_types_like_gensim():
    sents = _sentences(n=2000)
    full = encode_token_lists(sents, CorpusConfig(min_count=1))
    pruned = encode_token_lists(sents, CorpusConfig(min_count=1, max_vocab_size=30))
    assert len(full.vocab) == 63 and len(pruned.vocab) <= 63
    top = full.vocab.words[:5]                                     # frequent words survive, counts close
    assert pruned.vocab.words[:5] == top
    assert all(abs(a - b) <= 0.05 * b for a, b in zip(pruned.vocab.counts[:5], full.vocab.counts[:5]))


def test_bad_inputs_are_clear_errors():
    with pytest.raises(EmbedkitError, match="sentence 1 is a str"):
        encode_token_lists([["a"], "the cat sat"])
    with pytest.raises(EmbedkitError, match="token 3 is a int"):
        encode_token_lists([["a", 3]])
    with pytest.raises(EmbedkitError, match="sentence 0 is a int"):
        encode_token_lists([5])
    with pytest.raises(EmbedkitError, match="no word occurs at least min_count 3"):
        encode_token_lists([["a", "b"], ["a"]], CorpusConfig(min_count=3))
