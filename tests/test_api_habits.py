"""The Python API as gensim users call it: in-memory corpora (lists and one-shot generators),
keyword errors that name the Python argument and the right one, options that do not apply, and the
corpus summary; and the same through the CLI."""
import numpy as np
import pytest

import embedkit
from embedkit.cli import main

OPTS = dict(dim=8, epochs=2, workers=1, min_count=1, seed=3)


@pytest.fixture(scope="module")
def sentences():
    rng = np.random.default_rng(0)
    words = [f"{stem}{i}" for stem in ("alpha", "beta", "gamma") for i in range(12)]
    return [list(rng.choice(words, int(rng.integers(3, 25)))) for _ in range(300)]


class OneShot:
    """An iterable that can be iterated only once (a reader over a stream)."""

    def __init__(self, items):
        self.items, self.used = items, False

    def __iter__(self):
        if self.used:
            raise AssertionError("iterated twice")
        self.used = True
        return iter(self.items)


@pytest.mark.parametrize("model", ["skipgram", "cbow", "fasttext", "glove"])
def test_lists_generators_and_files_train_identically(tmp_path, sentences, model):
    """workers=1 is bit-reproducible, so the same tokens give the same vectors however they come."""
    extra = dict(bucket=500) if model == "fasttext" else {}
    if model == "glove":
        extra = dict(window=3)
    from_list = embedkit.train(model, corpus=sentences, **OPTS, **extra)
    from_gen = embedkit.train(model, corpus=(s for s in sentences), **OPTS, **extra)
    from_once = embedkit.train(model, corpus=OneShot(sentences), **OPTS, **extra)
    path = tmp_path / "c.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in sentences))
    from_file = embedkit.train(model, corpus=str(path), tokenizer="whitespace", cache=False, **OPTS, **extra)
    assert from_list.words == from_file.words and len(from_list) == 36
    for other in (from_gen, from_once, from_file):
        assert np.array_equal(other.vectors, from_list.vectors)
    assert from_list.training_log["corpus"]["files"] == ["<token lists>"]


def test_token_lists_report_the_corpus_summary(sentences):
    lines = []
    embedkit.train("cbow", corpus=[tuple(s) for s in sentences], report=lines.append, **OPTS)
    assert len(lines) == 1 and lines[0].startswith("corpus: in-memory token lists, 300 sentences,")
    assert "vocabulary 36 words (min_count 1)" in lines[0]


@pytest.mark.parametrize("kwargs,message", [
    (dict(vector_size=50), "vector_size= is not an option of embedkit.train; embedkit calls it dim"),
    (dict(size=50), "size= is not an option of embedkit.train; embedkit calls it dim"),
    (dict(iter=3), "embedkit calls it epochs"),
    (dict(alpha=0.05), "alpha= is not an option of embedkit.train; embedkit calls it lr"),
    (dict(hs=1), "embedkit calls it objective (objective='hs' for hierarchical softmax"),
    (dict(negative=0), "negative must be >= 1, got 0 (to train without negative sampling, choose objective hs)"),
    (dict(threads=4), "embedkit calls it workers"),
    (dict(sentences=[["a"]]), "embedkit calls it corpus"),
    (dict(sg=1), "the architecture is the model"),
    (dict(x_max=10), "x_max= is an option of model 'glove', not of 'skipgram'"),
    (dict(epohcs=3), "epohcs= is not an option of model 'skipgram'; did you mean epochs?"),
    (dict(objective="hs", negative=3), "negative does not apply: it is used only with objective='ns', and this run "
                                       "has objective='hs'"),
    (dict(tokenizer="regex"), "tokenizer does not apply to in-memory token lists"),
    (dict(dim=0), "dim must be >= 1, got 0"),
])
def test_keyword_errors_name_the_python_argument(sentences, kwargs, message):
    with pytest.raises(embedkit.EmbedkitError) as info:
        embedkit.train("skipgram", corpus=sentences, **kwargs)
    assert message in str(info.value)
    assert "--" not in str(info.value)                        # never the CLI's spelling


def test_options_moot_for_the_model(sentences):
    with pytest.raises(embedkit.EmbedkitError, match="sg_update does not apply: it is used only with model "
                                                     "'skipgram', and this run has model 'cbow'"):
        embedkit.train("cbow", corpus=sentences, sg_update="pair")
    with pytest.raises(embedkit.EmbedkitError, match="minn does not apply: it is used only with maxn > 0"):
        embedkit.train("fasttext", corpus=sentences, maxn=0, minn=2)
    with pytest.raises(embedkit.EmbedkitError, match="batch_size does not apply: it is used only with "
                                                     "backend='torch'"):
        embedkit.train("glove", corpus=sentences, batch_size=10)
    with pytest.raises(embedkit.EmbedkitError, match="cooccur= applies only to model 'glove'"):
        embedkit.train("skipgram", corpus=sentences, cooccur="x.npz")


def test_bad_corpora_are_clear_errors():
    for corpus, message in (([], "empty list"), (iter([]), "empty iterable"), (["the cat sat"], "does not exist"),
                            ([["a", "b"], "c d"], "sentence 1 is a str"), (5, "got int"),
                            ((line for line in ["the cat"]), "iterable of strings")):
        with pytest.raises(embedkit.EmbedkitError, match=message):
            embedkit.train("skipgram", corpus=corpus, min_count=1)


def test_cli_prints_the_corpus_summary_then_trains(capsys, tmp_path, sentences):
    path = tmp_path / "c.txt"
    path.write_text("".join(" ".join(s) + "\n" for s in sentences))
    rc = main(["train", "--model", "skipgram", "--corpus", str(path), "-o", str(tmp_path / "m"), "--quiet",
               "--no-cache", "-dim", "8", "-epoch", "1", "-minCount", "1", "--threads", "1"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    first = err.splitlines()[0]
    assert first.startswith(f"corpus: {path}, 300 lines, ") and "0 cuts of over-long lines" in first
    assert "0 undecodable bytes replaced; vocabulary 36 words (min_count 1)" in first
    assert out.startswith("trained skipgram: 36 words x 8 dims")


@pytest.mark.parametrize("argv,message", [
    (["--objective", "hs", "--negative", "3"], "--negative does not apply: it is used only with --objective ns, "
                                               "and this run has --objective hs"),
    (["--workers", "1", "--device", "cpu"], "--device does not apply: it is used only with --backend torch"),
    (["--negative", "0"], "--negative must be >= 1, got 0"),
    (["--x-max", "3"], "unknown option --x-max (an option of --model glove, not skipgram)"),
])
def test_cli_flags_that_do_not_apply_are_errors(capsys, tmp_path, argv, message):
    try:
        rc = main(["train", "--model", "skipgram", "-o", str(tmp_path / "m"), *argv])
    except SystemExit as e:                                    # argparse's own errors
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()
