"""Subword model: kernels on real n-gram bags vs a slow fastText-style reference, unseen words,
save/load, plain-model equivalence at maxn 0, API and CLI end to end."""
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

import embedkit
from embedkit.config import FastTextConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.vocab import Vocab
from embedkit.kernels.walker import Schedule, Shard, Shared, walk_shard
from embedkit.kernels.word2vec import Weights
from embedkit.trainers.word2vec_numba import STEPS
from embedkit.kernels.random import randint, seed_states
from embedkit.kernels.sampling import sample_alias
from embedkit.subword_embeddings import SubwordEmbeddings
from embedkit.tables.subwords import char_ngrams, fasttext_hash, subword_bags
from embedkit.trainers.subword import bag_means
from embedkit.trainers.word2vec import objective_tables


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def ref_update(w_in, w_out, inputs, target, lr, objective, tables, state):
    """fastText's Model::update (unsupervised) in float64: h = mean of the input rows (duplicates
    counted), binary-logistic steps, then every input row += grad, undivided. As kernels/logistic.py
    states, all output rows are scored before any is updated: fastText's order for distinct rows; a
    noise word drawn twice gets both updates from the row as it was (fastText: the second sees the first)."""
    h = w_in[inputs].mean(axis=0)
    if objective == "ns":
        steps = [(target, 1.0)]
        for _ in range(tables.negative):
            neg = sample_alias(tables.prob, tables.alias, state)
            if neg != target:
                steps.append((neg, 0.0))
    else:
        points, codes, code_len = tables.points, tables.codes, tables.code_len
        steps = [(points[target, d], 1.0 - codes[target, d]) for d in range(code_len[target])]
    rows = np.array([r for r, _ in steps])
    y = np.array([label for _, label in steps], dtype=np.float64)
    f = w_out[rows] @ h
    g = lr * (y - sig(f))
    grad = g @ w_out[rows]
    np.add.at(w_out, rows, np.outer(g, h))
    loss = -(y * np.log(sig(f)) + (1 - y) * np.log(sig(-f))).sum()
    for r in inputs:           # a row listed twice is updated twice (np.add.at would hide nothing here)
        w_in[r] += grad
    return loss


def ref_sentence(arch, objective, sent, window, w_in, w_out, bag_ptr, bag_ids, lr, tables, state):
    """fastText's FastText::skipgram / FastText::cbow over one sentence (no subsampling, constant lr)."""
    bag = lambda w: list(bag_ids[bag_ptr[w]:bag_ptr[w + 1]])
    loss, count = 0.0, 0
    for i in range(len(sent)):
        b = 1 + randint(state, 0, window)
        ctx = [j for j in range(max(0, i - b), min(len(sent), i + b + 1)) if j != i]
        if arch == "skipgram":
            for j in ctx:
                loss += ref_update(w_in, w_out, bag(sent[i]), sent[j], lr, objective, tables, state)
                count += 1
        elif ctx:
            bow = [r for j in ctx for r in bag(sent[j])]
            loss += ref_update(w_in, w_out, bow, sent[i], lr, objective, tables, state)
            count += 1
    return loss, count


@pytest.mark.parametrize("arch,objective", [(a, o) for a in ("cbow", "skipgram") for o in ("hs", "ns")])
def test_kernel_on_ngram_bags_matches_fasttext_reference(arch, objective):
    # real bags: accents, CJK, emoji, "aaaa" (a repeated 3-gram) and 11 buckets (collisions)
    words = ["the", "aaaa", "café", "日本", "x😀", "of", "bananas", "a"]
    V, D, bucket, window = len(words), 6, 11, 2
    bag_ptr, bag_ids = subword_bags(words, 3, 5, bucket)
    assert any(len(set(bag_ids[bag_ptr[w]:bag_ptr[w + 1]])) < bag_ptr[w + 1] - bag_ptr[w] for w in range(V))
    rng = np.random.default_rng(0)
    counts = np.array([90, 40, 30, 20, 10, 8, 5, 3], dtype=np.int64)
    tables, n_out = objective_tables(counts, FastTextConfig(arch=arch, objective=objective, negative=3))
    w_in = rng.normal(0, 0.3, (V + bucket, D)).astype(np.float32)
    w_out = rng.normal(0, 0.3, (n_out, D)).astype(np.float32)
    sent = rng.integers(0, V, 12).astype(np.int32)
    lr = 0.05
    ref_in, ref_out = w_in.astype(np.float64), w_out.astype(np.float64)
    ref_loss, ref_count = ref_sentence(arch, objective, sent, window, ref_in, ref_out, bag_ptr, bag_ids, lr,
                                       tables, seed_states(5, 1))
    corpus = (sent, np.array([0, len(sent)], np.int64), np.ones(V, np.float32))
    step = STEPS["cbow" if arch == "cbow" else "skipgram-pair"]
    loss, count = walk_shard(step, Shard(*corpus), 0, 1, Weights(w_in, w_out, bag_ptr, bag_ids), tables,
                             Schedule(window, lr, lr, 1e12), Shared(np.zeros(1, np.int64), np.zeros((1, 2)), 0, seed_states(5, 1)))
    assert count == ref_count > 0
    assert loss == pytest.approx(ref_loss, rel=1e-4)
    np.testing.assert_allclose(w_in, ref_in, atol=2e-5)
    np.testing.assert_allclose(w_out, ref_out, atol=2e-5)


def test_bag_means_equal_loop():
    words = ["aaaa", "café", "ab"]
    bag_ptr, bag_ids = subword_bags(words, 3, 4, 5)
    w_in = np.random.default_rng(1).normal(size=(3 + 5, 4)).astype(np.float32)
    want = np.stack([w_in[bag_ids[bag_ptr[w]:bag_ptr[w + 1]]].mean(axis=0) for w in range(3)])
    np.testing.assert_allclose(bag_means(w_in, bag_ptr, bag_ids), want, rtol=1e-6)


# ---- a synthetic corpus where morphology carries meaning ----
# Two topics whose words share a stem ("zor..." / "qlu...") and never meet in a sentence. An unseen
# word with a topic's stem can only find its topic through its n-grams. Calibrated: with dim 16,
# 2 epochs, seeds 1-3, both archs, all 40 top-10 neighbours of the probes below are in the right
# topic; random vectors would put about half there.

def synthetic_corpus(n_sent=2000):
    rng = np.random.default_rng(0)
    letters = list("abcdefghij")
    topics = [[stem + "".join(rng.choice(letters, 3)) for _ in range(40)] for stem in ("zor", "qlu")]
    sents = [list(rng.choice(topics[s % 2], 20)) for s in range(n_sent)]
    vocab = Vocab.from_counts(Counter(w for s in sents for w in s), min_count=1)
    return EncodedCorpus.from_id_lists([[vocab.index[w] for w in s] for s in sents], vocab)


@pytest.fixture(scope="module")
def corpus():
    return synthetic_corpus()


OPTS = dict(dim=16, epochs=2, bucket=5000, workers=1, seed=1, sample=0)


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_unseen_words_find_their_topic_through_ngrams(corpus, arch):
    emb = embedkit.train("fasttext", corpus, arch=arch, **OPTS)
    assert isinstance(emb, SubwordEmbeddings)
    for probe, stem in [("zorxyz", "zor"), ("xzorx", "zor"), ("qluxyz", "qlu"), ("qluqlu", "qlu")]:
        assert probe not in emb
        hits = sum(w.startswith(stem) for w, _ in emb.most_similar(probe, topn=10))
        assert hits >= 9, f"{arch}: {probe} -> {emb.most_similar(probe, topn=10)}"
    answer = emb.analogy("zorxyz", "zorabc", "qluxyz", topn=3)        # unseen query words accepted
    assert len(answer) == 3 and all(w in emb for w, _ in answer)


def test_vectors_are_fasttext_word_vectors(corpus, tmp_path):
    """Vocabulary vectors = mean of the bag rows; unseen = mean of the n-gram bucket rows
    (fastText's getWordVector), recomputed here from the saved w_in by the str definition."""
    emb = embedkit.train("fasttext", corpus, output=tmp_path / "m", minn=3, maxn=5, **OPTS)
    saved = np.load(tmp_path / "m" / "arrays.npz")
    V, bucket = len(emb), OPTS["bucket"]
    held = saved["ngram_buckets"]             # compact: rows only for the buckets some word's n-grams hash to
    used = {fasttext_hash(g) % bucket for w in emb.words for g in char_ngrams(w, 3, 5)}
    assert held.tolist() == sorted(used) and len(used) < bucket
    assert saved["w_in"].shape == (V + len(held), 16)
    w_in = np.zeros((V + bucket, 16), np.float32)                    # the full matrix; other buckets read 0
    w_in[:V], w_in[V + held] = saved["w_in"][:V], saved["w_in"][V:]
    rows = lambda w: [V + fasttext_hash(g) % bucket for g in char_ngrams(w, 3, 5)]
    for i in (0, 7, V - 1):
        w = emb.words[i]
        np.testing.assert_allclose(emb[w], w_in[[i] + rows(w)].mean(axis=0), rtol=1e-5, atol=1e-6)
    for w in ("zorzor", "日本", "q"):
        np.testing.assert_allclose(emb[w], w_in[rows(w)].mean(axis=0), rtol=1e-5, atol=1e-6)


def test_save_load_keeps_unseen_words(corpus, tmp_path):
    out = tmp_path / "model"
    emb = embedkit.train("fasttext", corpus, output=out, **OPTS)
    back = embedkit.load(out)
    assert isinstance(back, SubwordEmbeddings) and (back.minn, back.maxn, back.bucket) == (3, 6, 5000)
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    np.testing.assert_array_equal(back["unseenword"], emb["unseenword"])
    assert back.most_similar("zorxyz", topn=5) == emb.most_similar("zorxyz", topn=5)
    text = embedkit.load(out / "vectors.txt")                       # .vec-style export: vocabulary only
    assert text.words == emb.words and "unseenword" not in text
    assert np.array_equal(back.ngram_buckets, emb.ngram_buckets) and len(back.ngram_rows) < back.bucket


def test_a_model_folder_of_the_full_layout_still_loads(corpus, tmp_path):
    """Folders written before the compact layout hold every bucket's row in w_in and no
    ngram_buckets: they load, with the same vectors for vocabulary and unseen words."""
    out = tmp_path / "model"
    emb = embedkit.train("fasttext", corpus, output=out, **OPTS)
    arrays = dict(np.load(out / "arrays.npz"))
    held, V = arrays.pop("ngram_buckets"), len(emb)
    full = np.zeros((V + OPTS["bucket"], arrays["w_in"].shape[1]), np.float32)
    full[:V], full[V + held] = arrays["w_in"][:V], arrays["w_in"][V:]
    np.savez(out / "arrays.npz", **dict(arrays, w_in=full))
    back = embedkit.load(out)
    assert back.ngram_buckets is None and back.bucket == OPTS["bucket"]
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    for w in ("zorxyz", "unseenword", "日本"):
        np.testing.assert_allclose(back[w], emb[w], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("edit", [lambda b: b[::-1], lambda b: b + 5000, lambda b: b[:-1], lambda b: b * 0.5])
def test_damaged_ngram_buckets_are_a_clear_error(corpus, tmp_path, edit):
    out = tmp_path / "model"
    embedkit.train("fasttext", corpus, output=out, **OPTS)
    arrays = dict(np.load(out / "arrays.npz"))
    arrays["ngram_buckets"] = edit(arrays["ngram_buckets"])
    np.savez(out / "arrays.npz", **arrays)
    with pytest.raises(embedkit.EmbedkitError, match=r"(model\.json|arrays\.npz).*(ngram_buckets|shape)"):
        embedkit.load(out)


def test_word_without_ngrams_is_a_clear_error(corpus):
    emb = embedkit.train("fasttext", corpus, minn=5, maxn=6, **OPTS)
    assert emb["zorab"].shape == (16,)                               # "<zorab>": 7 chars, has n-grams
    with pytest.raises(embedkit.EmbedkitError, match="no character n-gram of 5..6") as e:
        emb["ab"]                                                     # "<ab>": 4 chars
    assert isinstance(e.value, KeyError)
    with pytest.raises(embedkit.EmbedkitError, match="'ab'"):
        emb.most_similar("ab")


def test_maxn_zero_is_the_plain_model(corpus):
    """maxn 0: bags [w], no bucket rows; bit-identical to skip-gram with the same settings."""
    opts = dict(OPTS, lr=0.05, ns_exponent=0.75, sg_update="pair")
    opts.pop("bucket")
    sub = embedkit.train("fasttext", corpus, maxn=0, **opts)
    plain = embedkit.train("skipgram", corpus, **opts)
    np.testing.assert_array_equal(sub.vectors, plain.vectors)
    assert sub.ngram_rows.shape == (0, 16)
    with pytest.raises(embedkit.EmbedkitError, match="without subwords"):
        sub["unseenword"]


def test_one_worker_is_bit_reproducible_and_hs_trains(corpus):
    a = embedkit.train("fasttext", corpus, objective="hs", **OPTS)
    b = embedkit.train("fasttext", corpus, objective="hs", **OPTS)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert all(np.isfinite(e["loss"]) for e in a.training_log["epochs"])
    assert a.training_log["subwords"]["bucket"] == 5000
    assert sum(w.startswith("qlu") for w, _ in a.most_similar("qluxyz", topn=10)) >= 9


def test_bad_subword_option_is_a_clear_error(corpus):
    with pytest.raises(embedkit.EmbedkitError, match="--minn"):
        embedkit.train("fasttext", corpus, minn=7, maxn=6, **OPTS)


def test_cli_train_fasttext_and_query_unseen_word(tmp_path):
    corpus = tmp_path / "small.txt"
    rng = np.random.default_rng(0)
    words = [f"{stem}{i}" for stem in ("walk", "talk", "jump") for i in range(15)]
    corpus.write_text("\n".join(" ".join(rng.choice(words, 20)) for _ in range(300)) + "\n")
    out = tmp_path / "out"
    env = {**os.environ, "EMBEDKIT_CACHE_DIR": str(tmp_path / "cache")}
    cli = [sys.executable, "-m", "embedkit"]
    r = subprocess.run(cli + ["train", "--model", "fasttext", "--arch", "cbow", "--corpus", str(corpus),
                              "--output", str(out), "--bucket", "1000", "--dim", "8", "--epochs", "1",
                              "--min-count", "1", "--quiet"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "trained fasttext" in r.stdout
    assert (out / "vectors.txt").read_text().splitlines()[0] == "45 8"
    r = subprocess.run(cli + ["neighbors", str(out), "walking", "--topn", "3"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "walking (not in the vocabulary: built from its character n-grams)" and len(lines) == 4
    r = subprocess.run(cli + ["neighbors", str(out), "ab", "--topn", "3"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ab")              # "<ab>" is itself a 4-gram
    bad = subprocess.run(cli + ["train", "--model", "fasttext", "--corpus", str(corpus), "--output",
                                str(tmp_path / "bad"), "--minn", "4", "--maxn", "3", "--quiet"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "--minn" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()
