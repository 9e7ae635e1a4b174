"""Char n-gram buckets against fastText 0.9.3 (PyPI `fasttext`): n-gram strings and bucket ids."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from embedkit.errors import EmbedkitError
from embedkit.tables.subwords import char_ngrams, fasttext_hash, ngram_buckets, subword_bags
from embedkit.trainers.word2vec import plain_bags

fasttext = pytest.importorskip("fasttext")

# ASCII, Latin-1 (2-byte UTF-8), CJK (3-byte), emoji (4-byte), mixed, repeated n-grams, short words
VOCAB = ["hello", "a", "ab", "é", "café", "über", "naïve", "日本", "日本語", "😀", "x😀😀y", "aaaa", "the", "bananas"]
UNSEEN = ["unseen", "hellos", "cafés", "ü", "日本人", "🙂🙃", "ñandú", "q", "", "abcdefghijklmnop"]
SETTINGS = [(3, 6, 1000), (3, 6, 2_000_000), (1, 3, 1000), (2, 4, 97), (5, 5, 10)]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("ft") / "c.txt"
    path.write_text(" ".join(VOCAB * 3) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module", params=SETTINGS, ids=lambda s: f"minn{s[0]}-maxn{s[1]}-bucket{s[2]}")
def ft_model(request, corpus_file):
    """fastText's dictionary and hashing, with no training step at all.

    Only the dictionary matters here, and fastText builds it (words, counts, n-gram buckets)
    before training. With epoch=0 its trainer's loop (`keepTraining`: tokenCount < epoch *
    ntokens) never runs, so no update happens and nothing can raise. Training even one epoch on
    this 45-token file intermittently stopped with "Encountered NaN" (DenseMatrix::dotRow's check,
    ~15% of runs), which flaked this fixture. The cause: DenseMatrix::uniform fills the input matrix
    in tenths, one per thread, so with thread=1 nine tenths of it keep what the allocator returned
    (zeros in a fresh process, garbage, sometimes NaN, in a pytest process that freed memory before).
    Only the dictionary and hashing are used here, so those rows do not matter.
    """
    minn, maxn, bucket = request.param
    model = fasttext.train_unsupervised(corpus_file, model="skipgram", minCount=1, minn=minn, maxn=maxn,
                                        bucket=bucket, dim=2, epoch=0, thread=1, verbose=0)
    return model, minn, maxn, bucket


def test_bags_equal_fasttext_subword_ids(ft_model):
    """Each vocabulary word's bag is [own row] + V + fastText's bucket ids, in fastText's order."""
    model, minn, maxn, bucket = ft_model
    nwords = len(model.words)
    words = [w for w in model.words if w != "</s>"]    # fastText's end-of-line token: see tables/subwords.py
    assert sorted(words) == sorted(VOCAB)
    bag_ptr, bag_ids = subword_bags(words, minn, maxn, bucket)
    V = len(words)
    assert bag_ptr.dtype == np.int64 and bag_ptr.shape == (V + 1,) and bag_ids.dtype == np.int32
    for i, w in enumerate(words):
        subs, ids = model.get_subwords(w)
        bag = bag_ids[bag_ptr[i]:bag_ptr[i + 1]]
        assert bag[0] == i and subs[0] == w                       # the word's own row first
        assert (bag[1:] - V).tolist() == (ids[1:] - nwords).tolist(), w
        assert char_ngrams(w, minn, maxn) == list(subs[1:]), w


@pytest.mark.parametrize("word", UNSEEN + VOCAB)
def test_unseen_word_ids_equal_fasttext(ft_model, word):
    """For a word fastText has not seen, get_subwords gives only n-gram ids: the same buckets as ours."""
    model, minn, maxn, bucket = ft_model
    nwords = len(model.words)
    subs, ids = model.get_subwords(word)
    if word in model.words:
        subs, ids = subs[1:], ids[1:]
    assert ngram_buckets(word, minn, maxn, bucket).tolist() == (ids - nwords).tolist()
    assert char_ngrams(word, minn, maxn) == list(subs)
    assert [fasttext_hash(g) % bucket for g in subs] == (ids - nwords).tolist()


# Words fastText's reader can hold: no whitespace / NUL (its token separators), no lone surrogates.
WORDS = st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=0, max_size=12)


@settings(max_examples=200, deadline=None)
@given(word=WORDS)
def test_random_unicode_words_match_fasttext(ft_model, word):
    model, minn, maxn, bucket = ft_model
    if word in model.words:
        return
    subs, ids = model.get_subwords(word)
    assert ngram_buckets(word, minn, maxn, bucket).tolist() == (ids - len(model.words)).tolist()


@settings(max_examples=300, deadline=None)
@given(word=WORDS, minn=st.integers(1, 4), extra=st.integers(0, 3), bucket=st.integers(1, 5000))
def test_compiled_bags_equal_python_definition(word, minn, extra, bucket):
    """The numba byte walker equals the str definition (n-grams of code points, hashed one by one)."""
    maxn = minn + extra
    want = [fasttext_hash(g) % bucket for g in char_ngrams(word, minn, maxn)]
    assert ngram_buckets(word, minn, maxn, bucket).tolist() == want
    bag_ptr, bag_ids = subword_bags(["zz", word] if word != "zz" else [word], minn, maxn, bucket)
    i = 1 if word != "zz" else 0
    V = len(bag_ptr) - 1
    assert bag_ids[bag_ptr[i]:bag_ptr[i + 1]].tolist() == [i] + [V + b for b in want]


def test_hash_is_fnv1a_with_signed_bytes():
    assert fasttext_hash("") == 2166136261
    assert fasttext_hash("a") == 0xE40C292C                  # standard FNV-1a 32 for ASCII
    assert fasttext_hash(b"foobar") == 0xBF9CF968
    # a byte >= 0x80 is sign-extended: 0xC3 is xored as 0xFFFFFFC3, unlike standard FNV-1a
    standard = ((2166136261 ^ 0xC3) * 16777619) & 0xFFFFFFFF
    quirk = ((2166136261 ^ 0xFFFFFFC3) * 16777619) & 0xFFFFFFFF
    assert fasttext_hash(b"\xc3") == quirk != standard


def test_ngrams_are_utf8_characters_and_keep_whole_word_and_duplicates():
    assert char_ngrams("日本", 3, 6) == ["<日本", "<日本>", "日本>"]
    assert char_ngrams("ab", 3, 6) == ["<ab", "<ab>", "ab>"]               # the whole "<ab>" is kept
    assert char_ngrams("aaaa", 3, 3) == ["<aa", "aaa", "aaa", "aa>"]        # duplicates kept
    assert char_ngrams("ab", 1, 1) == ["a", "b"]                            # bare "<" and ">" skipped
    assert len(ngram_buckets("日本", 3, 6, 1000)) == 3


def test_maxn_zero_gives_plain_bags():
    words = ["a", "b", "café"]
    for got, want in zip(subword_bags(words, 3, 0, 2_000_000), plain_bags(3)):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert ngram_buckets("café", 3, 0, 100).size == 0
    for got, want in zip(subword_bags(words, 0, 0, 10), plain_bags(3)):    # minn is ignored when maxn is 0
        assert np.array_equal(got, want)


def test_bucket_and_row_id_limits():
    """--bucket above 2**31 - 1 is refused by its own check; V + bucket rows must fit int32 row ids,
    for maxn = 1 as for larger maxn (checked before anything is allocated)."""
    with pytest.raises(EmbedkitError, match="--bucket must be between"):
        subword_bags(["word"], 3, 6, 2**31)
    with pytest.raises(EmbedkitError, match="int32 row ids"):
        subword_bags(["w"], 1, 1, 2**31 - 1)


def test_word_too_short_for_minn_has_no_ngrams():
    assert ngram_buckets("ab", 5, 6, 100).size == 0                         # "<ab>" has 4 characters
    bag_ptr, bag_ids = subword_bags(["ab"], 5, 6, 100)
    assert bag_ids.tolist() == [0]


@pytest.mark.parametrize("minn,maxn,bucket,flag", [(4, 3, 10, "--minn"), (0, 3, 10, "--minn"),
                                                   (3, -1, 10, "--maxn"), (3, 6, 0, "--bucket")])
def test_bad_options_are_clear_errors(minn, maxn, bucket, flag):
    with pytest.raises(EmbedkitError, match=flag):
        subword_bags(["word"], minn, maxn, bucket)


def test_bag_building_is_fast_enough():
    """A 100k-word vocabulary in well under a few seconds (precomputed once per vocabulary)."""
    import time
    rng = np.random.default_rng(0)
    text = "".join(np.array(list("abcdefghijklmnopqrstuvwxyzéü"))[rng.integers(0, 28, 800_000)])
    cuts = np.cumsum(rng.integers(1, 14, 100_000))
    words = [text[a:b] for a, b in zip(cuts[:-1], cuts[1:]) if b <= len(text)]
    subword_bags(words[:10], 3, 6, 2_000_000)                                # compile
    t0 = time.perf_counter()
    bag_ptr, bag_ids = subword_bags(words, 3, 6, 2_000_000)
    assert time.perf_counter() - t0 < 5
    assert bag_ids.min() >= 0 and bag_ids.max() < len(words) + 2_000_000


def test_compact_bags_renumber_the_held_buckets_in_order():
    """Row V + k of the compact matrix holds the k-th smallest bucket some bag holds; each bag
    entry points at its bucket's row, word rows unchanged; bucket_rows_of inverts it (-1: none)."""
    from embedkit.tables.subwords import bucket_rows_of, compact_bags
    words = ["where", "here", "hero", "日本語"]
    V, bucket = len(words), 1000
    bag_ptr, bag_ids = subword_bags(words, 3, 5, bucket)
    compact, held = compact_bags(bag_ptr, bag_ids, V)
    assert held.tolist() == sorted(set((bag_ids[bag_ids >= V] - V).tolist()))
    assert compact.dtype == np.int32 and compact[bag_ptr[:-1]].tolist() == list(range(V))
    ngram = bag_ids >= V
    assert np.array_equal(held[compact[ngram] - V], bag_ids[ngram] - V)        # each entry keeps its bucket
    absent = np.setdiff1d(np.arange(bucket), held)[:5]
    assert bucket_rows_of(held, np.concatenate([held[::-1], absent])).tolist() == \
        list(range(len(held)))[::-1] + [-1] * 5
    assert bucket_rows_of(None, [3, 7]).tolist() == [3, 7]
    assert bucket_rows_of(np.zeros(0, np.int64), [3]).tolist() == [-1]
