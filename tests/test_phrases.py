"""Phrase detection (kernels/phrases.py, corpus/phrases.py, embedkit.phrases, `embedkit phrases`)
against a slow pure-Python oracle written from word2phrase.c and gensim's Phrases."""
import gzip
import math
import random
from collections import Counter

import numpy as np
import pytest

import embedkit
from embedkit.cli import main
from embedkit.config import PhrasesConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.phrases import count_bigrams, detect_phrases
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError
from embedkit.kernels import phrases as K


# ---------------------------------------------------------------- the oracle

def oracle_score(scoring, ca, cb, cab, min_count, n):
    if cab < min_count:
        return -math.inf
    if scoring == "word2phrase":
        if ca < min_count or cb < min_count:
            return -math.inf
        f = np.float32
        return float(f(cab - min_count) / f(ca) / f(cb) * f(n))        # word2phrase.c, real = float
    pa, pb, pab = ca / n, cb / n, cab / n
    return math.log(pab / (pa * pb)) / -math.log(pab)                   # gensim's npmi_scorer


def oracle_pass(sentences, min_count, threshold, scoring):
    """One pass of word2phrase over lists of words: counts, then greedy left-to-right joins."""
    n = sum(map(len, sentences))
    uni = Counter(w for s in sentences for w in s)
    bi = Counter((s[i - 1], s[i]) for s in sentences for i in range(1, len(s)))
    thr = float(np.float32(threshold)) if scoring == "word2phrase" else threshold
    out, scores = [], {}
    for s in sentences:
        new, free = [], False
        for i, w in enumerate(s):
            if free:
                a = s[i - 1]
                sc = oracle_score(scoring, uni[a], uni[w], bi[(a, w)], min_count, n)
                if sc > thr:
                    new[-1] = f"{a}_{w}"
                    scores[new[-1]] = sc
                    free = False
                    continue
            new.append(w)
            free = True
        out.append(new)
    return out, scores, bi


def oracle(sentences, min_count=5, threshold=100.0, scoring="word2phrase", passes=1):
    scores = {}
    for _ in range(passes):
        sentences, new, _ = oracle_pass(sentences, min_count, threshold, scoring)
        scores.update(new)
    return sentences, scores


def oracle_pruned_counts(sentences, max_bigrams):
    """word2phrase's ReduceVocab applied to the bigram table when a new bigram finds it full."""
    table, min_reduce = {}, 1
    for s in sentences:
        for i in range(1, len(s)):
            key = (s[i - 1], s[i])
            if key not in table:
                while len(table) >= max_bigrams:
                    table = {k: c for k, c in table.items() if c > min_reduce}
                    min_reduce += 1
                table[key] = 0
            table[key] += 1
    return table, min_reduce


# ---------------------------------------------------------------- corpora

def synthetic(n_sent=400, seed=0):
    """Zipf-ish random words with planted phrases: 'new york', 'new york times', 'san francisco'."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(300)]
    weights = [1 / (i + 1) for i in range(300)]
    planted = [["new", "york"], ["new", "york", "times"], ["san", "francisco"], ["los", "angeles", "lakers"]]
    out = []
    for _ in range(n_sent):
        s = []
        for _ in range(rng.randint(1, 30)):
            if rng.random() < 0.08:
                s.extend(rng.choice(planted))
            else:
                s.append(rng.choices(vocab, weights)[0])
        out.append(s)
    return out


def decoded(table):
    ph = table.phrased
    return [[ph.words[t] for t in ph.tokens[a:b]] for a, b in zip(ph.offsets[:-1], ph.offsets[1:])]


def encoded(sentences):
    words = sorted({w for s in sentences for w in s})
    index = {w: i for i, w in enumerate(words)}
    vocab = Vocab(words, np.ones(len(words), np.int64))
    return EncodedCorpus.from_id_lists([[index[w] for w in s] for s in sentences], vocab)


# ---------------------------------------------------------------- kernel vs oracle

def table_dict(keys, counts, words):
    held = keys != K.EMPTY
    return {(words[int(k) >> 32], words[int(k) & 0xFFFFFFFF]): int(c) for k, c in zip(keys[held], counts[held])}


def test_bigram_counts_equal_the_oracle():
    sents = synthetic()
    corpus = encoded(sents)
    keys, counts, state = count_bigrams(corpus.tokens, corpus.offsets, 10**6)
    _, _, bi = oracle_pass(sents, 5, 100, "word2phrase")
    assert table_dict(keys, counts, corpus.vocab.words) == dict(bi)
    assert state[K.ST_ENTRIES] == len(bi) and state[K.ST_REDUCTIONS] == 0


def test_bigrams_never_cross_a_piece():
    corpus = EncodedCorpus.from_id_lists([[0, 1], [2, 3]], Vocab(list("abcd"), np.ones(4, np.int64)),
                                         continues=[False, True])
    keys, counts, _ = count_bigrams(corpus.tokens, corpus.offsets, 100)
    assert table_dict(keys, counts, corpus.vocab.words) == {("a", "b"): 1, ("c", "d"): 1}


@pytest.mark.parametrize("max_bigrams", [1, 7, 50, 200])
def test_pruning_follows_word2phrase_reduce_vocab(max_bigrams):
    sents = synthetic(200, seed=3)
    corpus = encoded(sents)
    keys, counts, state = count_bigrams(corpus.tokens, corpus.offsets, max_bigrams)
    want, min_reduce = oracle_pruned_counts(sents, max_bigrams)
    assert table_dict(keys, counts, corpus.vocab.words) == want
    assert state[K.ST_MIN_REDUCE] == min_reduce and len(want) <= max_bigrams
    assert state[K.ST_REDUCTIONS] > 0


def test_table_memory_is_bounded():
    from embedkit.corpus.phrases import table_slots
    assert table_slots(7) == 16 and table_slots(20_000_000) == 1 << 25
    corpus = encoded(synthetic(300, seed=5))
    keys, _, _ = count_bigrams(corpus.tokens, corpus.offsets, 40)
    assert len(keys) <= table_slots(40)


@pytest.mark.parametrize("scoring,threshold,min_count", [("word2phrase", 30.0, 5), ("word2phrase", 8.0, 3),
                                                         ("npmi", 0.5, 5), ("npmi", 0.2, 2)])
def test_joins_and_scores_equal_the_oracle(scoring, threshold, min_count):
    sents = synthetic()
    table = embedkit.phrases(sents, min_count=min_count, threshold=threshold, scoring=scoring)
    want, scores = oracle(sents, min_count, threshold, scoring)
    assert decoded(table) == want
    assert set(table.phrases) == set(scores) and len(table) > 0
    got = table.to_dict()
    for p, s in scores.items():
        assert got[p] == pytest.approx(s, rel=1e-12)
    joined = Counter(w for s in want for w in s if "_" in w)
    assert dict(zip(table.phrases, table.joined.tolist())) == dict(joined)


def test_word2phrase_scores_are_float32_as_in_c():
    # 3 * 1e-3 ... : a score that float64 puts above the threshold and float32 does not, or vice versa
    for ca, cb, cab, n in [(7, 9, 6, 1000), (1234, 777, 60, 16_898_298), (5, 5, 5, 3)]:
        got = K.score(K.SCORE_WORD2PHRASE, ca, cb, cab, 5, n)
        assert got == oracle_score("word2phrase", ca, cb, cab, 5, n)
        assert np.float32(got) == got


def test_more_passes_give_longer_phrases():
    sents = synthetic(600, seed=1)
    one = embedkit.phrases(sents, min_count=3, threshold=10, passes=1)
    two = embedkit.phrases(sents, min_count=3, threshold=10, passes=2)
    assert decoded(two) == oracle(sents, 3, 10, "word2phrase", passes=2)[0]
    assert "new_york" in one and "new_york_times" not in one
    assert "new_york_times" in two and set(two.passes.tolist()) == {1, 2}
    assert max(p.count("_") for p in two.phrases) > max(p.count("_") for p in one.phrases)


def test_a_joined_token_does_not_start_the_next_phrase():
    sents = [["a", "b", "c"]] * 20
    table = embedkit.phrases(sents, min_count=1, threshold=0)
    assert decoded(table) == [["a_b", "c"]] * 20


def test_phrased_corpus_keeps_every_word_and_line():
    sents = synthetic(100, seed=2) + [["rare", "words", "only"]]
    table = embedkit.phrases(sents, min_count=3, threshold=10)
    corpus = table.corpus
    assert corpus.n_sentences == len(sents)
    text = [[corpus.vocab.words[t] for t in corpus.tokens[a:b]] for a, b in zip(corpus.offsets[:-1], corpus.offsets[1:])]
    assert [" ".join(s).replace("_", " ") for s in text] == [" ".join(s) for s in sents]


# ---------------------------------------------------------------- command line

@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in synthetic()) + "\n")
    return path


def test_cli_writes_the_phrased_text_and_table(tmp_path, text_file, capsys):
    out, tsv = tmp_path / "out" / "phrased.txt", tmp_path / "phrases.tsv"
    rc = main(["phrases", "--corpus", str(text_file), "--output", str(out), "-min-count", "3", "-threshold", "10",
               "--passes", "2", "--table", str(tsv), "--tokenizer", "whitespace", "--no-cache"])
    assert rc == 0
    want, scores = oracle(synthetic(), 3, 10, "word2phrase", passes=2)
    assert out.read_text() == "\n".join(" ".join(s) for s in want) + "\n"
    rows = [line.split("\t") for line in tsv.read_text().splitlines()]
    assert rows[0] == ["phrase", "joined", "bigram_count", "score", "pass"]
    assert {r[0] for r in rows[1:]} == set(scores)
    assert "phrases:" in capsys.readouterr().out
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]     # no temporary left


def test_cli_gzip_and_stdout(tmp_path, text_file, capsys):
    gz = tmp_path / "phrased.txt.gz"
    assert main(["phrases", "--corpus", str(text_file), "--output", str(gz), "--min-count", "3",
                 "--threshold", "10"]) == 0
    with gzip.open(gz, "rt") as f:
        text = f.read()
    capsys.readouterr()
    assert main(["phrases", "--corpus", str(text_file), "--output", "-", "--min-count", "3", "--threshold", "10"]) == 0
    assert capsys.readouterr().out == text and "new_york" in text


def test_long_lines_are_cut_and_written_back_whole(tmp_path):
    path = tmp_path / "long.txt"
    line = " ".join(["new", "york"] * 50)
    path.write_text(line + "\n" + line + "\n")
    out = tmp_path / "out.txt"
    assert main(["phrases", "--corpus", str(path), "--output", str(out), "--min-count", "1", "--threshold", "0",
                 "--max-sentence-length", "7"]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and lines[0].replace("_", " ") == line
    # pieces of 7 tokens: the 7th token of each piece is a lone 'new' or 'york' (no bigram across the cut)
    assert lines[0].split()[:4] == ["new_york", "new_york", "new_york", "new"]


@pytest.mark.parametrize("argv,message", [
    (["--scoring", "npmi", "--threshold", "5"], "--threshold must be in [-1, 1] with npmi scoring"),
    (["--threshold", "-1"], "--threshold must be >= 0 with word2phrase scoring"),
    (["--passes", "0"], "--passes must be >= 1"),
    (["--max-bigrams", "0"], "--max-bigrams must be >= 1"),
    (["--max-size", "10"], "unknown option --max-size"),
    (["--scoring", "pmi"], "invalid choice"),
])
def test_cli_bad_options(tmp_path, text_file, capsys, argv, message):
    with pytest.raises(SystemExit) if "invalid" in message or "unknown" in message else _returns(2):
        rc = main(["phrases", "--corpus", str(text_file), "--output", str(tmp_path / "o.txt"), *argv])
        assert rc == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.txt").exists()


class _returns:
    def __init__(self, code):
        self.code = code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_cli_bad_inputs(tmp_path, capsys):
    assert main(["phrases", "--corpus", str(tmp_path / "missing.txt"), "--output", str(tmp_path / "o.txt")]) == 2
    assert "missing.txt" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert main(["phrases", "--corpus", str(empty), "--output", str(tmp_path / "o.txt")]) == 2
    assert "no words in" in capsys.readouterr().err
    (tmp_path / "adir").mkdir()
    good = tmp_path / "good.txt"
    good.write_text("a b c\n")
    assert main(["phrases", "--corpus", str(good), "--output", str(tmp_path / "adir")]) == 2
    err = capsys.readouterr().err
    assert "cannot write" in err and len(err.strip().splitlines()) == 1


def test_api_errors():
    sents = [["a", "b"]]
    with pytest.raises(EmbedkitError, match="max_size does not apply to phrases"):
        embedkit.phrases(sents, max_size=3)
    with pytest.raises(EmbedkitError, match="tokenizer does not apply to in-memory token lists"):
        embedkit.phrases(sents, tokenizer="regex")
    with pytest.raises(EmbedkitError, match="did you mean threshold"):
        embedkit.phrases(sents, treshold=3)
    with pytest.raises(EmbedkitError, match=r"threshold must be in \[-1, 1\]"):
        embedkit.phrases(sents, scoring="npmi", threshold=10)


def test_config_defaults():
    cfg = PhrasesConfig()
    assert (cfg.min_count, cfg.threshold_value(), cfg.scoring, cfg.passes) == (5, 100.0, "word2phrase", 1)
    assert PhrasesConfig(scoring="npmi").threshold_value() == 0.5


@pytest.mark.parametrize("verb,output", [("vocab", "v.tsv"), ("cooccur", "c.npz")])
def test_phrase_options_without_phrases_are_an_error_in_every_verb(tmp_path, text_file, capsys, verb, output):
    """train refused them already; vocab and cooccur ignored them."""
    rc = main([verb, "--corpus", str(text_file), "--output", str(tmp_path / output), "--phrase-threshold", "50"])
    err = capsys.readouterr().err
    assert rc == 2 and "--phrase-threshold does not apply: it is used only with --phrases > 0" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / output).exists()
    assert main([verb, "--corpus", str(text_file), "--output", str(tmp_path / output), "--phrases", "1",
                 "--phrase-threshold", "50", "--min-count", "1"]) == 0
