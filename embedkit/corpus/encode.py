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
from itertools import repeat
from pathlib import Path

import numpy as np

from embedkit.config import CorpusConfig
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.vocab import Vocab, count_words
from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_dir

CACHE_FORMAT = 1
_BATCH_TOKENS = 1 << 20  # tokens converted per numpy call: amortises per-call overhead on short lines


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
    from embedkit.corpus.sentences import iter_sentences
    counter, total = count_words(iter_sentences(files, cfg, stats), cfg.max_vocab_size)
    vocab = Vocab.from_counts(counter, cfg.min_count, cfg.max_size, total_tokens=total)
    if len(vocab) == 0:
        raise EmbedkitError(f"no word occurs at least --min-count {cfg.min_count} times in {', '.join(files)}")
    return vocab


def _encode_batch(tokens: list, lengths: list, index: dict):
    """ids (OOV removed) and the kept length of each sentence in the batch."""
    ids = np.fromiter(map(index.get, tokens, repeat(-1)), dtype=np.int32, count=len(tokens))
    keep = ids >= 0
    ends = np.cumsum(np.asarray(lengths, dtype=np.int64))
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    kept_len = kept_before[ends] - kept_before[np.concatenate(([0], ends[:-1]))]
    return ids[keep], kept_len


def encode_files(files: list[str], cfg: CorpusConfig, vocab: Vocab, out_dir: Path,
                 stats: CorpusStats | None = None) -> None:
    """Pass 2: write tokens.npy, offsets.npy, continues.npy into out_dir, streaming (bounded memory)."""
    from embedkit.corpus.sentences import iter_sentences
    index = vocab.index
    raw_path = out_dir / "tokens.raw"
    lengths_all: list[np.ndarray] = []
    cont_all: list[np.ndarray] = []
    n_tokens = 0
    batch, lengths, conts = [], [], []
    line_has_kept = False  # whether the current input line already produced a non-empty piece

    def flush(f):
        nonlocal n_tokens
        if not lengths:
            return
        ids, kept_len = _encode_batch(batch, lengths, index)
        f.write(ids.tobytes())
        n_tokens += len(ids)
        lengths_all.append(kept_len)
        cont_all.append(np.asarray(conts, dtype=bool))
        batch.clear(); lengths.clear(); conts.clear()

    with open(raw_path, "wb") as f:
        for tokens, continues in iter_sentences(files, cfg, stats):
            batch.extend(tokens)
            lengths.append(len(tokens))
            conts.append(continues)
            if len(batch) >= _BATCH_TOKENS:
                flush(f)
        flush(f)

    kept_len = np.concatenate(lengths_all) if lengths_all else np.zeros(0, np.int64)
    cont = np.concatenate(cont_all) if cont_all else np.zeros(0, bool)
    # Drop pieces left empty by OOV removal; a piece continues only if an earlier piece of its line was kept.
    keep = kept_len > 0
    new_cont = np.zeros(int(keep.sum()), dtype=bool)
    j = 0
    for k in np.flatnonzero(keep | ~cont):  # visit kept pieces and every line start (Python loop over S, cheap)
        if not cont[k]:
            line_has_kept = False
        if keep[k]:
            new_cont[j] = cont[k] and line_has_kept
            line_has_kept = True
            j += 1
    offsets = np.zeros(len(new_cont) + 1, dtype=np.int64)
    np.cumsum(kept_len[keep], out=offsets[1:])

    # tokens.npy = npy header + the raw int32 stream, so the tokens were never all in memory.
    with open(out_dir / "tokens.npy", "wb") as out, open(raw_path, "rb") as src:
        np.lib.format.write_array_header_1_0(
            out, {"descr": np.dtype(np.int32).str, "fortran_order": False, "shape": (n_tokens,)})
        shutil.copyfileobj(src, out, 16 << 20)
    raw_path.unlink()
    np.save(out_dir / "offsets.npy", offsets)
    np.save(out_dir / "continues.npy", new_cont)


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
