"""From corpus inputs to an EncodedCorpus, cached: prepare_corpus is what trainers and counters call.

    inputs ─► reader ─► stream (tokenize) ─► count ─► Vocab ─► encode ─► EncodedWriter ─► cache folder
              reader.py  stream.py            count.py         encode.py  encoded.py       (this module)
                         tokenize.py, wiki.py   (both passes: kernels/textscan.py, pieces.py, bytehash.py)

Pass 1 counts the words into a Vocab, pass 2 maps the tokens to ids; both read the text. With
phrases (CorpusConfig.phrases > 0) every word is encoded first (cached under its own key), the
phrases are found over it (corpus/phrases.py) and the vocabulary is built from the phrased tokens.

Cache: a folder per fingerprint under $EMBEDKIT_CACHE_DIR (default ~/.cache/embedkit). The
fingerprint covers the inputs (absolute path, size, mtime, inode, ctime), every CorpusConfig field, the
encoded format version and the code that produces an encoding: the source of embedkit/corpus/
and of the scanning and counting kernels, Python's Unicode database version (the regex and text8
tokenizers depend on it) and, for an nltk tokenizer, nltk's version. Changing any of them
encodes again, so an upgrade never serves a stale encoding, and GloVe's co-occurrence matrices
cached beside it (trainers/glove.py) follow. Standard input is spooled to a temporary file (two
passes read it) and never cached. On a cache hit no kernel is loaded: the tokens are
memory-mapped from the folder.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

from embedkit.cache import cache_root, source_fingerprint
from embedkit.config import CorpusConfig
from embedkit.corpus import encoded
from embedkit.corpus.encoded import EncodedCorpus
from embedkit.corpus.reader import STDIN_SPOOLS, resolve_inputs
from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.vocab import Vocab
from embedkit.fsutil import atomic_dir, remove_stale, temp_prefix
from embedkit.memory import trim_heap

_PACKAGE = Path(__file__).resolve().parents[1]           # embedkit/
_KERNELS = ("bytehash.py", "textscan.py", "pieces.py", "cooccur.py", "phrases.py")


def code_fingerprint(cfg: CorpusConfig) -> str:
    """sha256 of the code that turns text into an encoded corpus with `cfg` (module docstring)."""
    files = [*(_PACKAGE / "corpus").glob("*.py"), *(_PACKAGE / "kernels" / k for k in _KERNELS)]
    extra = [f"unicode {unicodedata.unidata_version}"]
    if cfg.tokenizer.startswith("nltk"):
        from importlib.metadata import PackageNotFoundError, version
        try:
            extra.append(f"nltk {version('nltk')}")
        except PackageNotFoundError:
            pass
    return source_fingerprint(files, *extra)


def fingerprint(files: list[str], cfg: CorpusConfig) -> str | None:
    """Stable id of (inputs, settings, code); None when an input cannot be fingerprinted (stdin)."""
    items = []
    for f in files:
        if f == "-":
            return None
        st = os.stat(f)
        # size and mtime alone miss a rewrite that keeps both (cp -p, rsync -t, tar, touch -r, a
        # same-size edit within a coarse clock tick): the inode and the change time, which no tool
        # can set back, catch it. A copy or a chmod then encodes again, which only costs time.
        items.append([os.path.abspath(f), st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns])
    blob = json.dumps({"format": encoded.FORMAT_VERSION, "inputs": items, "cfg": dataclasses.asdict(cfg),
                       "code": code_fingerprint(cfg)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _encode_into(folder: Path, files: list[str], cfg: CorpusConfig, vocab: Vocab, **meta) -> None:
    from embedkit.corpus.encode import encode_corpus
    stats = CorpusStats()
    with encoded.EncodedWriter(folder) as writer:
        encode_corpus(files, cfg, vocab, writer, stats)
        writer.finish(vocab, stats, cfg=dataclasses.asdict(cfg), **meta)
    trim_heap()                                         # the lookup table and read buffers are gone


def _prepare_phrased(files, cfg: CorpusConfig, folder: Path | None, cache: bool, vocab: Vocab | None,
                     progress: bool) -> EncodedCorpus:
    """cfg.phrases > 0: every word encoded (cached under its own key), phrases found over it
    (corpus/phrases.py), then the vocabulary of the phrased tokens; cached in `folder`."""
    from embedkit.corpus import phrases
    base = prepare_corpus(files, phrases.base_config(cfg), cache=cache, progress=progress)
    corpus = phrases.phrase_encoded(base, cfg, vocab)
    if folder is None:
        return corpus
    with atomic_dir(folder) as tmp:
        with encoded.EncodedWriter(tmp) as writer:
            writer.add(np.asarray(corpus.tokens), np.diff(corpus.offsets), corpus.continues)
            writer.finish(corpus.vocab, base.stats or CorpusStats(), cfg=dataclasses.asdict(cfg),
                          fingerprint=folder.name)
    corpus = encoded.load(folder)
    corpus.fingerprint = folder.name
    return corpus


def _private_temp(name: str):
    """A temporary folder in the system temp folder, named so that a killed run's is removed by the next."""
    remove_stale(tempfile.gettempdir(), name)
    return tempfile.TemporaryDirectory(prefix=temp_prefix(name), suffix=".tmp")


def prepare_corpus(paths, cfg: CorpusConfig | None = None, *, cache: bool = True,
                   vocab: Vocab | None = None, progress: bool = False) -> EncodedCorpus:
    """Count, build the vocabulary (unless given) and encode `paths` (None: the bundled corpus);
    reuse the cache when it matches. The result carries `.fingerprint` (None if uncached) and
    `.stats` (CorpusStats of the encoding pass)."""
    cfg = cfg or CorpusConfig()
    files = resolve_inputs(paths)
    if "-" in files:
        # Two passes are needed, and standard input can be read only once: spool it to a temp file.
        with _private_temp("embedkit-stdin") as tmp:
            spooled = Path(tmp) / "stdin.txt"
            with open(spooled, "wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out, 16 << 20)
            files = [str(spooled) if f == "-" else f for f in files]
            STDIN_SPOOLS.add(str(spooled))
            try:
                corpus = prepare_corpus(files, cfg, cache=False, vocab=vocab, progress=progress)
            finally:
                STDIN_SPOOLS.discard(str(spooled))
            if corpus.stats is not None:               # the summary names what the user gave
                corpus.stats.files = ["-" if f == str(spooled) else f for f in corpus.stats.files]
            return corpus
    fp = fingerprint(files, cfg) if (cache and vocab is None) else None
    folder = cache_root() / fp if fp else None
    if folder is not None and (folder / "meta.json").is_file():
        corpus = encoded.load(folder)
        corpus.fingerprint = fp
        return corpus
    if cfg.phrases:
        return _prepare_phrased(files, cfg, folder, cache, vocab, progress)

    if vocab is None:
        from embedkit.corpus.count import build_vocab
        vocab = build_vocab(files, cfg)
    if folder is not None:
        with atomic_dir(folder) as tmp:
            _encode_into(tmp, files, cfg, vocab, fingerprint=fp)
        corpus = encoded.load(folder)
        corpus.fingerprint = fp
        return corpus
    with _private_temp("embedkit-encode") as tmp:
        _encode_into(Path(tmp), files, cfg, vocab)
        # memory-mapped, not read in: the map outlives the folder's removal (the file is unlinked,
        # not gone, while mapped), and training releases its pages (encoded.release_pages)
        return encoded.load(tmp)
