"""Tests that catch a wrong word2vec model which still trains and still scores: subsampling applied
at the wrong rate, a learning rate that does not decay, workers that share one random stream.

They go through embedkit.train on tiny synthetic corpora and look at what any correct trainer must
produce, so they survive changes to the kernels' signatures:
- the number of training examples per epoch (training_log["epochs"][i]["examples"]) follows from
  which tokens subsampling keeps;
- with w_out starting at zero and a tiny learning rate, training stays in its linear regime, so
  w_out ends as (sum of the learning rates used) x (a fixed direction): its norm measures the mean
  learning rate of the schedule;
- each worker's random decisions (subsampling, reduced windows, noise words) depend only on its
  own stream, so the per-epoch example counts are reproducible even with 2 workers.
Each test was checked against the bug it targets (see the docstrings).
"""
import numpy as np
import pytest

import embedkit
from embedkit.formats.native import read_model


def write_corpus(path, sentences):
    path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
    return path


def train(tmp_path, corpus, model="skipgram", **opts):
    opts = {"tokenizer": "whitespace", "min_count": 1, "dim": 8, "window": 1, "workers": 1, "seed": 5, **opts}
    return embedkit.train(model, str(corpus), cache=False, **opts)


def examples(emb):
    return np.array([e["examples"] for e in emb.training_log["epochs"]])


def keep_probability(f: float, total: float, t: float) -> float:
    """word2vec C's p_keep, written out here (independent of tables/subsample.py)."""
    return min(1.0, (np.sqrt(f / (t * total)) + 1.0) * (t * total) / f)


# ---- subsampling ----

N_SENT, N_RARE, EPOCHS = 2000, 100, 10


@pytest.fixture(scope="module")
def frequent_word_corpus(tmp_path_factory):
    """N_SENT two-word sentences "f r_k": f is half of all tokens, each r_k 0.5% (always kept)."""
    return write_corpus(tmp_path_factory.mktemp("sub") / "c.txt",
                        [("f", f"r{k % N_RARE}") for k in range(N_SENT)])


@pytest.mark.parametrize("model,sg_update", [("skipgram", "window"), ("skipgram", "pair"), ("cbow", None)])
def test_subsampling_keeps_frequent_words_at_word2vecs_rate(tmp_path, frequent_word_corpus, model, sg_update):
    """With window 1, a sentence gives 2 examples when both words are kept, else none. "r" words are
    always kept, so the example count is 2 x Binomial(sentences x epochs, p_keep(f)). Inverting the
    walker's keep test (keeping with probability 1 - p) gives ~14x more, ignoring it ~15x more."""
    t = 2e-3
    p = keep_probability(N_SENT, 2 * N_SENT, t)
    assert 0.05 < p < 0.1 and keep_probability(N_SENT / N_RARE, 2 * N_SENT, t) == 1.0
    emb = train(tmp_path, frequent_word_corpus, model, sample=t, epochs=EPOCHS,
                **({"sg_update": sg_update} if sg_update else {}))
    got = examples(emb)
    assert (got % 2 == 0).all()
    n = N_SENT * EPOCHS
    kept = got.sum() / 2
    assert abs(kept - n * p) < 5 * np.sqrt(n * p * (1 - p)), (kept, n * p)
    # and without subsampling every sentence gives its two examples
    emb0 = train(tmp_path, frequent_word_corpus, model, sample=0.0, epochs=2,
                 **({"sg_update": sg_update} if sg_update else {}))
    assert examples(emb0).tolist() == [2 * N_SENT, 2 * N_SENT]


# ---- learning-rate schedule ----

@pytest.fixture(scope="module")
def two_block_corpus(tmp_path_factory):
    """50,000 sentences "a b", then 50,000 "c d": 200k words an epoch, the two halves in turn."""
    return write_corpus(tmp_path_factory.mktemp("lr") / "c.txt", [("a", "b")] * 50_000 + [("c", "d")] * 50_000)


def halves_lr_mass(tmp_path, corpus, name, **opts):
    """How much learning rate the first and the second half of each epoch received, up to a common
    factor. CBOW-HS, window 1: every update adds lr x (label - sigma) x h to a w_out row, with h the
    input row of "a" or "b" in the first half and of "c" or "d" in the second. Writing each w_out row
    in the basis of those 4 input rows separates the halves' contributions."""
    out = tmp_path / name
    train(tmp_path, corpus, "cbow", objective="hs", sample=0.0, lr=1e-5, dim=32, epochs=2, output=out, **opts)
    m = read_model(out)
    index = {w: i for i, w in enumerate(m.words)}
    basis = m.arrays["w_in"][[index[w] for w in "abcd"]].astype(np.float64)       # (4, D)
    w_out = m.arrays["w_out"].astype(np.float64)                                   # (nodes, D)
    coef, *_ = np.linalg.lstsq(basis.T, w_out.T, rcond=None)                       # (4, nodes)
    assert np.linalg.norm(w_out.T - basis.T @ coef) < 1e-2 * np.linalg.norm(w_out)
    return np.linalg.norm(coef[:2]), np.linalg.norm(coef[2:])


def test_learning_rate_decays_linearly_over_all_words_of_all_epochs(tmp_path, two_block_corpus):
    """Linear decay from lr to 0 over 2 epochs: the quarters of the run get mean rates 7/8, 5/8, 3/8
    and 1/8 of lr, so the first halves of the epochs get (7+3)/(5+1) = 5/3 of what the second halves
    get, relative to a constant rate (measured: 1.65-1.67). A rate that never decays (in the kernel,
    or because the trainer passes lr as the end rate, or only changes between epochs) gives 1; a
    schedule that restarts every epoch, or ends after the first, gives 3."""
    const = halves_lr_mass(tmp_path, two_block_corpus, "const", min_lr_ratio=1.0)
    decay = halves_lr_mass(tmp_path, two_block_corpus, "decay", min_lr_ratio=0.0)
    ratio = (decay[0] / decay[1]) / (const[0] / const[1])
    assert ratio == pytest.approx(5 / 3, abs=0.12)


# ---- one random stream per worker ----

def test_workers_draw_from_different_random_streams(tmp_path):
    """The corpus is one block of 300 sentences "f r_k" written twice, so 2 workers get identical
    shards. With window 1 a sentence gives 2 examples when f is kept (p ~ 0.07), so each worker's
    count is 2 x K. Workers sharing one stream keep f at the same places, so every epoch's total
    would be 4 K, a multiple of 4; with independent streams K0 + K1 is odd in about half the epochs.
    The counts depend only on each worker's stream, so they are the same in every run."""
    block = [("f", f"r{k % 30}") for k in range(300)]
    corpus = write_corpus(tmp_path / "c.txt", block + block)
    emb = train(tmp_path, corpus, sample=2e-3, epochs=16, workers=2)
    got = examples(emb)
    assert (got % 2 == 0).all() and got.sum() > 0
    assert (got % 4 != 0).any(), got
    again = train(tmp_path, corpus, sample=2e-3, epochs=16, workers=2)
    assert examples(again).tolist() == got.tolist()
