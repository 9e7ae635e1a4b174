"""CLI habits of gensim and fastText users: options and words in any order, one-line argparse
errors with suggestions, fastText's flag spellings, case-folded and suggested words, export's
format from the extension, vocab to stdout, and fastText's print-word/sentence-vectors verbs
(checked against fastText 0.9.3 itself)."""
import io as stdio
import sys

import numpy as np
import pytest

from embedkit import io
from embedkit.cli import build_parser, main
from embedkit.embeddings import Embeddings
from embedkit.subword_embeddings import SubwordEmbeddings


@pytest.fixture(scope="module")
def vectors(tmp_path_factory):
    rng = np.random.default_rng(5)
    words = ["the", "man", "woman", "king", "queen", "car", "automobile", "paris", "france"]
    vecs = rng.standard_normal((len(words), 12)).astype(np.float32)
    vecs[4] = vecs[3] - vecs[1] + vecs[2]
    path = tmp_path_factory.mktemp("vec") / "v.txt"
    io.save(Embeddings(words, vecs), path)
    return path


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", stdio.StringIO(stdin))
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as e:               # argparse errors and --help
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_options_and_words_mix_freely(capsys, vectors):
    want = run(capsys, "neighbors", vectors, "car", "king", "--topn", "2")
    assert want[0] == 0
    for argv in (("neighbors", vectors, "--topn", "2", "car", "king"),
                 ("neighbors", "--topn", "2", vectors, "car", "king"),
                 ("neighbors", vectors, "car", "--topn", "2", "king")):
        assert run(capsys, *argv) == want
    want = run(capsys, "analogy", vectors, "man", "king", "woman", "--topn", "1")
    assert run(capsys, "analogy", "--topn", "1", vectors, "man", "--method", "3cosadd", "king", "woman") == want


def test_case_folded_match_is_stated(capsys, vectors):
    rc, out, err = run(capsys, "neighbors", vectors, "King", "--topn", "1")
    assert rc == 0 and out.splitlines()[0] == "King -> king (case-insensitive match)"
    rc, out, err = run(capsys, "analogy", vectors, "Man", "KING", "woman", "--topn", "1")
    assert rc == 0 and out.splitlines()[1].split()[1] == "queen"
    assert "'Man' -> 'man' (case-insensitive match)" in err and "'KING' -> 'king'" in err


def test_analogy_order_in_help_and_stdin_batches(capsys, vectors, monkeypatch):
    rc, out, _ = run(capsys, "analogy", "--help")
    assert rc == 0 and "A is to B as C is to ?" in " ".join(out.split()) and "B - A + C" in out
    rc, out, err = run(capsys, "analogy", vectors, "--topn", "1", stdin="man king woman\nman zebra woman\n\nonly two\n",
                       monkeypatch=monkeypatch)
    assert rc == 1 and out.splitlines()[0].startswith("man is to king as woman is to ?")
    assert "unknown word 'zebra'" in err and "stdin line 4: expected 3 words" in err
    rc, _, err = run(capsys, "analogy", vectors, "man", "king")
    assert rc == 2 and "analogy takes three words A B C" in err


def test_argparse_errors_are_one_line_with_suggestions(capsys, vectors):
    cases = [
        (("neighbors", vectors, "car", "--tpn", "3"), "embedkit neighbors: error: unknown option --tpn; did you mean "
                                                      "'--topn'? (see embedkit neighbors --help)"),
        (("neighbours", vectors), "did you mean 'neighbors'?"),
        (("train", "--model", "skipgam", "-o", "x"), "did you mean 'skipgram'?"),
        (("train", "--model", "skipgram", "-o", "x", "--vector-size", "5"), "unknown option --vector-size "
                                                                            "(embedkit calls it --dim)"),
        (("train", "--modl", "skipgram"), "unknown option --modl; did you mean '--model'?"),   # not "required"
        (("export", vectors, "--to", "x.txt", "--to-fmt", "glove"), "did you mean '--to-format'?"),
    ]
    for argv, want in cases:
        rc, out, err = run(capsys, *argv)
        assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1, (argv, err)
        assert want in err and err.rstrip().endswith("--help)"), (argv, err)


def test_fasttext_spellings_are_aliases():
    from embedkit.cli.train import model_parser

    def parse(*argv):
        return model_parser(list(argv)).parse_intermixed_args(list(argv))

    args = parse("--model", "fasttext", "-output", "d", "-dim", "50", "-ws", "3", "-epoch", "2", "-minCount", "1",
                 "-neg", "7", "-thread", "1", "-minn", "2", "-maxn", "4", "-loss", "hs", "-lr", "0.1", "-t", "1e-5",
                 "-bucket", "1000", "-input", "a.txt")
    assert (args.dim, args.window, args.epochs, args.min_count, args.negative, args.workers, args.minn, args.maxn,
            args.objective, args.lr, args.sample, args.bucket) == (50, 3, 2, 1, 7, 1, 2, 4, "hs", 0.1, 1e-5, 1000)
    assert args.output == "d" and args.corpus == ["a.txt"]
    for flag in ("--threads", "-threads", "-thread"):
        assert parse("--model", "glove", "-o", "d", flag, "3").workers == 3
    assert parse("--model", "cbow", "-o", "d", "--minCount", "4").min_count == 4
    assert parse("--model", "skipgram", "-o", "d", "-size", "20", "-iter", "3").dim == 20


def test_export_format_from_extension(capsys, vectors, tmp_path):
    for name, fmt in (("a.bin", "word2vec-binary"), ("a.txt", "word2vec-text"), ("a.vec", "fasttext-vec"),
                      ("a.bin.gz", "word2vec-binary")):
        rc, out, err = run(capsys, "export", vectors, "--to", tmp_path / name)
        assert rc == 0 and f"({fmt}, from the extension)" in out, err
        assert io.detect_format(tmp_path / name) == fmt
    rc, out, _ = run(capsys, "export", vectors, "--to", tmp_path / "g.txt", "--format", "glove")  # the old spelling
    assert rc == 0 and io.detect_format(tmp_path / "g.txt") == "glove"
    rc, out, err = run(capsys, "export", vectors, "--to", tmp_path / "b.txt", "--to-format", "word2vec-binary")
    assert rc == 2 and "the extension .txt holds" in err and "not word2vec-binary" in err
    assert not (tmp_path / "b.txt").exists()
    rc, _, err = run(capsys, "export", vectors, "--to", tmp_path / "noext")
    assert rc == 2 and "cannot tell the output format" in err and "--to-format" in err
    rc, _, err = run(capsys, "export", vectors, "--to", tmp_path / "x.anything", "--to-format", "word2vec-text")
    assert rc == 0
    rc, _, err = run(capsys, "export", vectors, "--input-format", "word2vec-text", "--to", tmp_path / "i.bin")
    assert rc == 0


def test_input_format_flag_is_the_one_the_hint_names(capsys, vectors, tmp_path):
    bad = tmp_path / "odd.txt"
    bad.write_text("just some text\n")
    rc, _, err = run(capsys, "neighbors", bad, "x")
    assert rc == 2 and "--input-format" in err
    for flag in ("--input-format", "--format"):
        assert run(capsys, "neighbors", vectors, "car", flag, "word2vec-text")[0] == 0


def test_vocab_to_stdout(capsys, tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b a c a b\n")
    rc, out, err = run(capsys, "vocab", "--corpus", corpus, "--min-count", "1", "--output", "-")
    assert rc == 0 and out.splitlines()[1:] == ["a\t3", "b\t2", "c\t1"]
    assert out.startswith("#embedkit-vocab") and "vocabulary: " in err and "-> stdout" in err


# -- fastText's verbs, against fastText 0.9.3 ----------------------------------------------------

@pytest.fixture(scope="module")
def ft(tmp_path_factory):
    """A fastText model and the same vectors as an embedkit subword model folder. fastText builds
    its dictionary and n-gram hashing (epoch 0: no training step, which can hit NaN on tiny files);
    its input rows are then set to seeded random values (with epoch 0 they are left uninitialised)."""
    fasttext = pytest.importorskip("fasttext")
    tmp = tmp_path_factory.mktemp("ft")
    text = tmp / "c.txt"
    words = "the king and the queen rode to the castle while a dog and a cat slept in the garden".split()
    text.write_text((" ".join(words) + "\n") * 4)
    model = fasttext.train_unsupervised(str(text), model="skipgram", minCount=1, minn=2, maxn=4, bucket=500,
                                        dim=8, epoch=0, thread=1, verbose=0)
    rng = np.random.default_rng(4)
    model.set_matrices(rng.uniform(-1, 1, model.get_input_matrix().shape).astype(np.float32),
                       np.zeros(model.get_output_matrix().shape, np.float32))
    nwords = len(model.words)
    emb = SubwordEmbeddings(model.words, np.stack([model.get_word_vector(w) for w in model.words]),
                            model.get_input_matrix()[nwords:], 2, 4)
    emb.save(tmp / "model")
    return model, tmp / "model"


def test_print_word_vectors_match_fasttext(capsys, monkeypatch, ft):
    model, folder = ft
    words = ["king", "castle", "kingdom", "xyzzy", "garden"]            # kingdom, xyzzy: unseen
    rc, out, err = run(capsys, "print-word-vectors", folder, stdin=" ".join(words[:3]) + "\n" + " ".join(words[3:]),
                       monkeypatch=monkeypatch)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert [ln.split()[0] for ln in lines] == words
    for ln, w in zip(lines, words):
        np.testing.assert_allclose([float(x) for x in ln.split()[1:]], model.get_word_vector(w), rtol=1e-4, atol=1e-7)
    rc, out2, _ = run(capsys, "print-word-vectors", folder, *words)      # words on the command line
    assert rc == 0 and out2 == out


def test_print_word_vectors_unknown_words_are_zeros(capsys, vectors):
    rc, out, err = run(capsys, "print-word-vectors", vectors, "car", "zebra", "--precision", "3")
    assert rc == 1 and "unknown word 'zebra'" in err and "printed as zeros" in err
    car, zebra = out.splitlines()
    assert zebra.split()[1:] == ["0"] * 12 and len(car.split()) == 13
    assert float(car.split()[1]) == pytest.approx(float(io.load(vectors)["car"][0]), rel=5e-3)


def test_print_sentence_vectors_match_fasttext(capsys, monkeypatch, ft):
    model, folder = ft
    lines = ["the king rode to the castle", "kingdom of xyzzy", "", "qq", "garden cat dog dog"]
    rc, out, err = run(capsys, "print-sentence-vectors", folder, stdin="\n".join(lines) + "\n",
                       monkeypatch=monkeypatch)
    assert rc == 0, err
    got = [[float(x) for x in ln.split()] for ln in out.splitlines()]
    assert len(got) == len(lines)
    for row, line in zip(got, lines):
        np.testing.assert_allclose(row, model.get_sentence_vector(line), rtol=1e-4, atol=1e-7)


def test_print_sentence_vectors_uses_the_models_tokenizer(capsys, monkeypatch, tmp_path):
    import json
    from embedkit.formats.native import save_model
    emb = Embeddings(["king", "queen"], np.array([[1, 0], [0, 2]], np.float32))
    save_model(tmp_path / "m", emb, kind="word2vec", config={"corpus": {"tokenizer": "regex"}}, arrays={})
    assert json.loads((tmp_path / "m" / "model.json").read_text())["config"]["corpus"]["tokenizer"] == "regex"
    rc, out, _ = run(capsys, "print-sentence-vectors", tmp_path / "m", stdin="King, QUEEN!\n", monkeypatch=monkeypatch)
    assert rc == 0 and [float(x) for x in out.split()] == [0.5, 0.5]           # regex lowercases, drops punctuation
    rc, out, _ = run(capsys, "print-sentence-vectors", tmp_path / "m", "--tokenizer", "whitespace",
                     stdin="King, QUEEN!\n", monkeypatch=monkeypatch)
    assert rc == 0 and [float(x) for x in out.split()] == [0.0, 0.0]


@pytest.mark.parametrize("argv,message", [
    (["--log-every", "0"], "--log-every must be a positive number of words, got 0"),
    (["--update-vocab"], "--update-vocab and --lr-schedule apply only with --init (continued training)"),
])
def test_lifecycle_errors_name_the_flags(capsys, tmp_path, argv, message):
    """They named train()'s keywords (log_every, init=) on the command line."""
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    assert main(["train", "--model", "cbow", "--corpus", str(corpus), "-o", str(tmp_path / "out"), *argv]) == 2
    assert capsys.readouterr().err.strip() == f"embedkit train: error: {message}"


def test_a_query_with_no_candidates_says_so(capsys, tmp_path):
    """A header alone, with rc 0, read as a failure; the reason goes to stderr."""
    path = tmp_path / "one.txt"
    path.write_text("1 3\nthe 1 2 3\n")
    rc, out, err = run(capsys, "neighbors", path, "the")
    assert rc == 0 and out == "the\n" and "no candidates" in err
