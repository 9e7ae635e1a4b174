"""Memory that does not grow with the corpus: what a verb imports, and the release of read tokens
and offsets."""
import json
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from embedkit.corpus import encoded
from embedkit.corpus.encoded import EncodedWriter, release_pages
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.vocab import Vocab

# modules a word2vec training from an encoded (cached) corpus must not import
NOT_FOR_TRAIN = ["embedkit.kernels.textscan", "embedkit.kernels.bytehash", "embedkit.kernels.pieces",
                 "embedkit.kernels.cooccur", "embedkit.kernels.glove", "embedkit.kernels.phrases",
                 "embedkit.corpus.count", "embedkit.corpus.encode", "embedkit.corpus.stream",
                 "embedkit.corpus.tokenize", "embedkit.corpus.cooccur", "embedkit.evaluate", "embedkit.plots",
                 "embedkit.phrasing", "embedkit.trainers.glove", "embedkit.torch", "torch", "matplotlib",
                 "embedkit.cli.evaluate", "embedkit.cli.plot", "embedkit.cli.queries", "embedkit.cli.classify",
                 "embedkit.cli.cooccur", "embedkit.cli.vocab", "embedkit.cli.phrases", "embedkit.cli.export"]


def test_train_from_cached_corpus_imports_only_what_it_uses(tmp_path):
    from embedkit.config import CorpusConfig
    from embedkit.corpus.prepare import prepare_corpus
    text = tmp_path / "small.txt"
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(50)]
    text.write_text("\n".join(" ".join(rng.choice(words, 30)) for _ in range(200)) + "\n")
    prepare_corpus([str(text)], CorpusConfig(min_count=1))          # encoded into the cache here
    code = ("import json, sys\nfrom embedkit.cli import main\n"
            f"rc = main(['train', '--model', 'skipgram', '--corpus', {str(text)!r}, '--min-count', '1', "
            f"'--epochs', '1', '--dim', '8', '--quiet', '--output', {str(tmp_path / 'out')!r}])\n"
            "print(json.dumps([rc, sorted(sys.modules)]))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                       timeout=600)
    assert r.returncode == 0, r.stderr
    rc, modules = json.loads(r.stdout.strip().splitlines()[-1])
    assert rc == 0
    assert "embedkit.kernels.walker" in modules               # the check sees the imports it should
    loaded = [m for m in NOT_FOR_TRAIN if any(x == m or x.startswith(m + ".") for x in modules)]
    assert loaded == []


def test_verbs_table_names_each_verbs_module():
    """cli.VERBS (which module `embedkit VERB` imports) agrees with what the modules register."""
    from embedkit.cli import VERBS, build_parser
    from embedkit.cli.parser import _subparsers
    assert set(_subparsers(build_parser()).choices) == set(VERBS)
    for verb in VERBS:
        assert set(_subparsers(build_parser(verb)).choices) >= {verb}


def _write_corpus(folder, n_tokens: int, sentence: int = 1000):
    folder.mkdir()
    tokens = (np.arange(n_tokens) % 7).astype(np.int32)
    with EncodedWriter(folder) as w:
        w.add(tokens, np.full(n_tokens // sentence, sentence, np.int64), np.zeros(n_tokens // sentence, bool))
        w.finish(Vocab([f"w{i}" for i in range(7)], np.full(7, n_tokens // 7, np.int64)), CorpusStats())
    return tokens


def _rss_file_kb() -> int:
    return [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("RssFile")][0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_release_pages_drops_read_tokens_and_keeps_their_values(tmp_path):
    n = 8_000_000                                             # 32 MB of tokens
    expected = _write_corpus(tmp_path / "c", n)
    corpus = encoded.load(tmp_path / "c")
    tokens = np.asarray(corpus.tokens)                        # a view, as the trainers hold it
    before = _rss_file_kb()
    total = int(tokens.sum(dtype=np.int64))                   # every page read in
    touched = _rss_file_kb()
    assert touched - before > 28_000
    release_pages(tokens, 0, n // 2)
    half = _rss_file_kb()
    assert touched - half > 14_000                            # the first half's pages are gone
    release_pages(tokens, n // 2, n)
    assert touched - _rss_file_kb() > 28_000
    assert int(tokens.sum(dtype=np.int64)) == total           # read back, unchanged
    assert np.array_equal(tokens[123_457:123_467], expected[123_457:123_467])


def test_release_pages_leaves_arrays_in_memory_alone():
    a = np.arange(1 << 20, dtype=np.int32)
    release_pages(a, 0, len(a))
    assert np.array_equal(a, np.arange(1 << 20, dtype=np.int32))


def test_load_maps_every_array(tmp_path):
    """Offsets and continues are memory-mapped (read-only) as the tokens are: 9 bytes a sentence
    piece that would otherwise stay resident. mmap=False reads all three in."""
    _write_corpus(tmp_path / "c", 10_000, sentence=10)
    mapped = encoded.load(tmp_path / "c")
    arrays = (mapped.tokens, mapped.offsets, mapped.continues)
    assert all(isinstance(a, np.memmap) and not a.flags.writeable for a in arrays)
    read = encoded.load(tmp_path / "c", mmap=False)
    for a, b in zip((read.tokens, read.offsets, read.continues), arrays):
        assert not isinstance(a, np.memmap) and np.array_equal(a, b)


def test_training_releases_what_it_read(tmp_path, monkeypatch):
    """The numba word2vec backend hands release_pages the whole offsets once the chunks are cut, and
    after each round, per worker, its tokens and offsets from its shard's start to the end of the
    chunk just done: the last round of an epoch releases every token and offset."""
    from embedkit.config import Word2VecConfig
    from embedkit.trainers import word2vec_numba
    from embedkit.trainers.base import split_shards
    from embedkit.trainers.word2vec import train_word2vec
    n = 60_000
    _write_corpus(tmp_path / "c", n, sentence=100)
    corpus = encoded.load(tmp_path / "c")
    calls = []                                                # (int32: tokens | int64: offsets, start, stop)
    monkeypatch.setattr(word2vec_numba, "release_pages", lambda a, s, e: calls.append((a.dtype, s, e)))
    monkeypatch.setattr(word2vec_numba, "CHUNK_WORDS", 8_000)
    train_word2vec(corpus, Word2VecConfig(dim=8, epochs=2, workers=2, sample=0))
    S = corpus.n_sentences
    shards = split_shards(np.asarray(corpus.offsets), 2)
    assert calls[0] == (np.int64, 0, S + 1)
    rounds = calls[1:]
    assert len(rounds) == 2 * 2 * 2 * len(word2vec_numba.chunk_ranges(np.asarray(corpus.offsets), *shards[0], 8_000))
    assert {(s, e) for d, s, e in rounds if d == np.int32} >= {(int(corpus.offsets[a]), int(corpus.offsets[b]))
                                                               for a, b in shards}
    assert {s for d, s, e in rounds if d == np.int32} == {int(corpus.offsets[a]) for a, _ in shards}
    assert {s for d, s, e in rounds if d == np.int64} == {a for a, _ in shards}
    last = rounds[-4:]                                        # the epoch's last round: both shards whole
    assert sorted((s, e) for d, s, e in last if d == np.int32) == [(int(corpus.offsets[a]), int(corpus.offsets[b]))
                                                                    for a, b in shards]
    assert sorted((s, e) for d, s, e in last if d == np.int64) == [(a, b + 1) for a, b in shards]


def _resident_bytes(a: np.ndarray) -> int:
    """Rss of the memory map that holds array a (/proc/self/smaps)."""
    addr = a.ctypes.data
    with open("/proc/self/smaps") as f:
        inside = False
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= addr < hi
            elif inside and head == "Rss:":
                return int(line.split()[1]) * 1024
    raise AssertionError("no mapping holds the array")


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="needs Linux's /proc/self/smaps")
def test_no_token_or_offset_stays_resident_after_an_epoch(tmp_path, monkeypatch):
    """8 MB of tokens and 1.6 MB of offsets in 20 chunks a worker: after the epoch neither map keeps
    pages (where the page cache holds large folios, a read maps up to 2 MB around it, and releasing
    each chunk's range alone left one folio's tail per chunk)."""
    from embedkit.config import Word2VecConfig
    from embedkit.trainers import word2vec_numba
    from embedkit.trainers.word2vec import train_word2vec
    _write_corpus(tmp_path / "c", 2_000_000, sentence=10)
    corpus = encoded.load(tmp_path / "c")
    monkeypatch.setattr(word2vec_numba, "CHUNK_WORDS", 50_000)
    train_word2vec(corpus, Word2VecConfig(arch="cbow", dim=8, epochs=1, workers=2, sample=0))
    assert _resident_bytes(corpus.tokens) + _resident_bytes(corpus.offsets) < 64 << 10


def test_subword_input_matrix_holds_only_the_buckets_of_some_bag():
    """200,000 buckets x 100 dims would be 80 MB; 4 words' n-grams hold a few dozen buckets, and
    w_in has a row for those only."""
    from embedkit.config import FastTextConfig
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.tables.subwords import ngram_buckets
    from embedkit.trainers.subword import train_subword
    words = ["alpha", "beta", "gamma", "delta"]
    corpus = EncodedCorpus.from_id_lists([[0, 1, 2, 3, 1, 0, 2]] * 50, Vocab(words, np.array([100, 100, 100, 50])))
    result = train_subword(corpus, FastTextConfig(dim=100, bucket=200_000, epochs=1, workers=1, sample=0))
    held = np.unique(np.concatenate([ngram_buckets(w, 3, 6, 200_000) for w in words]))
    assert result.arrays["ngram_buckets"].tolist() == held.tolist()
    assert result.arrays["w_in"].shape == (4 + len(held), 100) and len(held) < 100
    emb = result.embeddings
    assert np.isfinite(emb.vectors).all() and emb["alphabet"].shape == (100,)


HEAP_PROBE = """
import json, sys
import numpy as np
if sys.argv[1] == "cli":
    from embedkit.cli import main
    try:
        main(["vocab", "--help"])                             # main() sets the threshold before parsing
    except SystemExit:
        pass
def in_heap(a):
    for line in open("/proc/self/maps"):
        if line.rstrip().endswith("[heap]"):
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            return lo <= a.ctypes.data < hi
    return False
big = np.ones(16 << 20, np.uint8)
del big                                   # glibc's dynamic threshold rises to 16 MiB here, unless fixed
block = np.ones(3 << 20, np.uint8)
print(json.dumps(in_heap(block)))
"""


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_the_cli_keeps_large_blocks_out_of_the_heap():
    """After a large block is freed, glibc puts blocks up to its size in the heap, where counting's
    freed tables leave holes that later blocks fill (README, Memory: Growth). The CLI fixes the
    threshold, so a 3 MiB block after a freed 16 MiB one is still a memory map of its own."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
    got = {}
    for mode in ("plain", "cli"):
        r = subprocess.run([sys.executable, "-c", HEAP_PROBE, mode], capture_output=True, text=True, env=env,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        got[mode] = json.loads(r.stdout.strip().splitlines()[-1])
    assert got == {"plain": True, "cli": False}


def test_a_users_malloc_setting_is_left_alone(monkeypatch):
    from embedkit import memory
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert memory.map_large_blocks() is False
