"""Shared test fixtures."""
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (CI always has it; .ci/run fails without it)."""
    return SHARED_DATA


@pytest.fixture(scope="session")
def gensim_kv(shared_data):
    """gensim 4.4 KeyedVectors with real structure: a small CBOW model trained in a few seconds on
    the first ~350k tokens of the shared text8 file (used by every test against gensim). One
    worker and a fixed seed: the same vectors every run (gensim seeds its initial vectors from
    `seed` alone; with 2 workers the thread interleaving changes them)."""
    import gzip
    gensim_models = pytest.importorskip("gensim.models")
    text8 = shared_data / "corpora" / "enwiki2015-text8.txt.gz"
    if not text8.exists():
        pytest.skip(f"{text8} not available")
    with gzip.open(text8, "rt") as f:
        tokens = f.read(2_000_000).split()[:-1]          # drop a possibly cut last word
    sentences = [tokens[i:i + 1000] for i in range(0, len(tokens), 1000)]
    model = gensim_models.Word2Vec(sentences, vector_size=32, min_count=3, epochs=3, workers=1, seed=1)
    return model.wv


@pytest.fixture
def no_external_sets(monkeypatch, tmp_path):
    """No folder holds MEN or RW: $EMBEDKIT_EVAL_DIR unset, an empty cache, no ../shared/data/eval."""
    from embedkit.evaluate import external
    monkeypatch.delenv(external.EVAL_DIR_ENV, raising=False)
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(external, "repository_eval_dir", lambda: tmp_path / "no-shared-data")
    return tmp_path
