"""Encode a corpus to int32 ids once, cache it on disk, and memory-map it back.

prepare_corpus() is what trainers and counters call: pass 1 counts words (Vocab), pass 2 maps
tokens to ids. Out-of-vocabulary tokens are dropped before any window is formed (word2vec C,
gensim and GloVe do the same), so a window never spans a dropped token's slot.

Cache: a folder per fingerprint under $EMBEDKIT_CACHE_DIR (default ~/.cache/embedkit). The
fingerprint covers the inputs (absolute path, size, mtime), every CorpusConfig field and the
format version, so changing any of them re-encodes. Standard input is never cached.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from embedkit.config import CorpusConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_dir

CACHE_FORMAT = 1


def cache_root() -> Path:
    return Path(os.environ.get("EMBEDKIT_CACHE_DIR") or Path.home() / ".cache" / "embedkit")


def resolve_inputs(paths) -> list[str]:
    """None or [] -> the bundled default corpus; otherwise the expanded list of input files."""
    from embedkit.corpus.reader import expand_inputs
    if not paths:
        from embedkit.corpora import default_corpus_path
        paths = [str(default_corpus_path())]
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return expand_inputs([str(p) for p in paths])


def fingerprint(files: list[str], cfg: CorpusConfig) -> str | None:
    """Stable id of (inputs, settings); None when an input cannot be fingerprinted (stdin)."""
    items = []
    for f in files:
        if f == "-":
            return None
        st = os.stat(f)
        items.append([os.path.abspath(f), st.st_size, st.st_mtime_ns])
    blob = json.dumps({"v": CACHE_FORMAT, "inputs": items, "cfg": dataclasses.asdict(cfg)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def build_vocab(files: list[str], cfg: CorpusConfig, stats: CorpusStats | None = None) -> Vocab:
    """Pass 1: count words (as count_words over iter_sentences, through the byte-hash fast path)."""
    from embedkit.corpus.fastpath import count_corpus
    vocab = count_corpus(files, cfg, stats).to_vocab(cfg.min_count, cfg.max_size)
    if len(vocab) == 0:
        raise EmbedkitError(f"no word occurs at least --min-count {cfg.min_count} times in {', '.join(files)}")
    return vocab


def encode_files(files: list[str], cfg: CorpusConfig, vocab: Vocab, out_dir: Path,
                 stats: CorpusStats | None = None) -> None:
    """Pass 2: write tokens.npy, offsets.npy, continues.npy into out_dir, streaming (bounded memory).

    OOV tokens are dropped from their piece, pieces left empty are dropped, and a piece continues
    only if an earlier piece of its line was kept (corpus/fastpath.py does the work)."""
    from embedkit.corpus.fastpath import encode_corpus
    encode_corpus(files, cfg, vocab, Path(out_dir), stats)


def _load_cached(folder: Path) -> EncodedCorpus:
    vocab = Vocab.load(folder / "vocab.tsv")
    corpus = EncodedCorpus(np.load(folder / "tokens.npy", mmap_mode="r"),
                           np.load(folder / "offsets.npy"), np.load(folder / "continues.npy"), vocab)
    meta = json.loads((folder / "meta.json").read_text())
    corpus.stats = CorpusStats(**meta["stats"])
    return corpus


def prepare_corpus(paths, cfg: CorpusConfig | None = None, *, cache: bool = True,
                   vocab: Vocab | None = None, progress: bool = False) -> EncodedCorpus:
    """Count, build the vocabulary (unless given) and encode `paths`; reuse the cache when it matches.

    The returned corpus carries `.fingerprint` (None if uncached) and `.stats` (CorpusStats).
    """
    cfg = cfg or CorpusConfig()
    files = resolve_inputs(paths)
    if "-" in files:
        # Two passes are needed, and standard input can be read only once: spool it to a temp file.
        with tempfile.TemporaryDirectory(prefix="embedkit-stdin-") as tmp:
            spooled = Path(tmp) / "stdin.txt"
            with open(spooled, "wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out, 16 << 20)
            files = [str(spooled) if f == "-" else f for f in files]
            return prepare_corpus(files, cfg, cache=False, vocab=vocab, progress=progress)
    fp = fingerprint(files, cfg) if vocab is None else None
    folder = cache_root() / fp if (cache and fp) else None
    if folder is not None and (folder / "meta.json").is_file():
        corpus = _load_cached(folder)
        corpus.fingerprint = fp
        return corpus

    stats = CorpusStats()
    if vocab is None:
        vocab = build_vocab(files, cfg, stats)
    stats2 = CorpusStats()
    if folder is not None:
        with atomic_dir(folder) as tmp:
            encode_files(files, cfg, vocab, tmp, stats2)
            vocab.save(tmp / "vocab.tsv")
            (tmp / "meta.json").write_text(json.dumps({"fingerprint": fp, "stats": stats2.as_dict(),
                                                       "cfg": dataclasses.asdict(cfg)}))
        corpus = _load_cached(folder)
    else:
        with tempfile.TemporaryDirectory(prefix="embedkit-encode-") as tmp:
            tmp = Path(tmp)
            encode_files(files, cfg, vocab, tmp, stats2)
            corpus = EncodedCorpus(np.load(tmp / "tokens.npy"), np.load(tmp / "offsets.npy"),
                                   np.load(tmp / "continues.npy"), vocab)
        corpus.stats = stats2
    corpus.fingerprint = fp
    return corpus
