"""EncodedCorpus, the int32 form of a corpus that trainers and counters consume, and its files.

    tokens     (N,) int32   word ids of kept tokens, corpus order (out-of-vocabulary tokens are
                            dropped before any window is formed, as word2vec C, gensim and GloVe do)
    offsets    (S+1,) int64 sentence s is tokens[offsets[s]:offsets[s+1]]
    continues  (S,) bool    True when sentence s is a piece cut from the same input line as
                            sentence s-1 (a cut of an over-long line, not a real boundary)

On disk an encoded corpus is one folder, written by EncodedWriter and read by `load`, here and
nowhere else:

    tokens.npy, offsets.npy, continues.npy   the arrays above (numpy .npy 1.0)
    vocab.tsv                                the Vocab (corpus/vocab.py)
    meta.json                                {"format_version": FORMAT_VERSION, "stats": CorpusStats,
                                              ... whatever the writer's caller adds}

The writer streams the tokens to disk as they are made, so they never need to fit in memory;
`load` memory-maps them. A folder of another format_version is an error naming it.

Resident memory does not grow with the corpus: a trainer that has finished with a range of the
memory-mapped tokens (or offsets) hands it to `release_pages`, which drops those pages from the process
(madvise MADV_DONTNEED on the read-only map; the page cache keeps them, so the next epoch reads
them back without disk I/O). Only the ranges the workers are reading stay resident.
"""
from __future__ import annotations

import io
import json
import mmap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedkit.corpus.stats import CorpusStats
from embedkit.corpus.vocab import Vocab
from embedkit.errors import EmbedkitError

FORMAT_VERSION = 2


@dataclass(eq=False)
class EncodedCorpus:
    tokens: np.ndarray
    offsets: np.ndarray
    continues: np.ndarray
    vocab: Vocab
    stats: CorpusStats | None = None      # what reading the text found (None: built from ids)
    fingerprint: str | None = None        # name of its cache folder (corpus/prepare.py), if cached

    @property
    def n_sentences(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_tokens(self) -> int:
        return len(self.tokens)

    @classmethod
    def from_id_lists(cls, sentences, vocab: Vocab, continues=None) -> "EncodedCorpus":
        """Build from lists of ids (tests and small inputs)."""
        lens = np.array([len(s) for s in sentences], dtype=np.int64)
        offsets = np.zeros(len(sentences) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        tokens = (np.concatenate([np.asarray(s, dtype=np.int32) for s in sentences])
                  if sentences else np.zeros(0, np.int32)).astype(np.int32)
        cont = (np.zeros(len(sentences), dtype=bool) if continues is None
                else np.asarray(continues, dtype=bool))
        return cls(tokens, offsets, cont, vocab)

    def line_offsets(self) -> np.ndarray:
        """Offsets of real sentence boundaries (cuts of over-long lines merged back)."""
        starts = self.offsets[:-1][~self.continues]
        return np.append(starts, self.offsets[-1]).astype(np.int64)


class EncodedWriter:
    """Writes an encoded corpus into `folder`: `add` chunks of ids and pieces, then `finish`."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.n_tokens = 0
        self._lens: list[np.ndarray] = []       # piece lengths, (P_k,) int64 per chunk
        self._conts: list[np.ndarray] = []      # continues flags, (P_k,) bool per chunk
        self._file = open(self.folder / "tokens.npy", "wb")
        self._file.write(_npy_header(0))        # rewritten with the true length by finish()

    def add(self, ids: np.ndarray, piece_lens: np.ndarray, piece_conts: np.ndarray) -> None:
        """Append ids (n,) int32 and the pieces they make: lengths (p,) int64, continues (p,) bool."""
        self._file.write(memoryview(np.ascontiguousarray(ids, np.int32)))
        self.n_tokens += len(ids)
        if len(piece_lens):
            self._lens.append(np.array(piece_lens, np.int64))
            self._conts.append(np.array(piece_conts, bool))

    def finish(self, vocab: Vocab, stats: CorpusStats, **meta) -> None:
        """Complete the folder: the tokens' true length, offsets, continues, vocab and meta.json."""
        header = _npy_header(self.n_tokens)
        if len(header) != len(_npy_header(0)):         # numpy leaves room for 21 digits of length
            raise AssertionError("npy header length changed")
        self._file.seek(0)
        self._file.write(header)
        self._file.close()
        lens = np.concatenate(self._lens) if self._lens else np.zeros(0, np.int64)
        offsets = np.zeros(len(lens) + 1, np.int64)     # (S+1,) int64
        np.cumsum(lens, out=offsets[1:])
        if offsets[-1] != self.n_tokens:
            raise AssertionError("piece lengths do not add up to the tokens written")
        np.save(self.folder / "offsets.npy", offsets)
        np.save(self.folder / "continues.npy", np.concatenate(self._conts) if self._conts else np.zeros(0, bool))
        vocab.save(self.folder / "vocab.tsv")
        (self.folder / "meta.json").write_text(json.dumps(
            {"format_version": FORMAT_VERSION, "stats": stats.as_dict(), **meta}))

    def close(self) -> None:
        """Release the tokens file (after an error: the folder is then incomplete)."""
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load(folder: str | Path, mmap: bool = True) -> EncodedCorpus:
    """The encoded corpus in `folder`, its arrays memory-mapped (read-only) unless mmap is False."""
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise EmbedkitError(f"{folder}: encoded corpus format_version {meta.get('format_version')!r}, "
                            f"this embedkit reads {FORMAT_VERSION}")
    mode = "r" if mmap else None
    # every array is mapped, not only the tokens: offsets take 8 bytes a sentence piece (10 MB on a
    # 65M-token Wikipedia dump of 1.25M lines), and a trainer releases them chunk by chunk too
    tokens, offsets, continues = (np.load(folder / f"{name}.npy", mmap_mode=mode)
                                  for name in ("tokens", "offsets", "continues"))
    return EncodedCorpus(tokens, offsets, continues, Vocab.load(folder / "vocab.tsv"), CorpusStats(**meta["stats"]))


def _file_map(array: np.ndarray) -> np.memmap | None:
    """The read-only np.memmap that `array` is (or is a view of), or None."""
    a = array
    while a is not None:
        if isinstance(a, np.memmap) and getattr(a, "_mmap", None) is not None:
            return a if a.mode == "r" else None      # "c"/"r+" pages may hold writes: never drop them
        a = a.base if isinstance(a.base, np.ndarray) else None
    return None


def release_pages(array: np.ndarray, start: int, stop: int) -> None:
    """Drop the resident pages holding array[start:stop] (a 1-d view of a read-only memory map, as
    `load` gives); a no-op for an array in memory. Reading those elements again is correct and
    costs a page fault each page (served from the page cache). The pages at either end, shared
    with elements outside the range, are dropped too: they are read back the same way."""
    m = _file_map(array)
    if m is None or stop <= start or array.ndim != 1 or array.strides[0] <= 0:
        return
    # numpy maps from the offset rounded down to ALLOCATIONGRANULARITY (np.memmap.__new__)
    map_addr = m.ctypes.data - m.offset % mmap.ALLOCATIONGRANULARITY
    lo = array.ctypes.data + start * array.strides[0] - map_addr
    hi = array.ctypes.data + stop * array.strides[0] - map_addr
    lo -= lo % mmap.PAGESIZE
    hi = min(hi, len(m._mmap))
    if hi > lo:
        m._mmap.madvise(mmap.MADV_DONTNEED, lo, hi - lo)


def _npy_header(n: int) -> bytes:
    """The .npy 1.0 header of an (n,) int32 array, so tokens stream straight into tokens.npy."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": np.dtype(np.int32).str, "fortran_order": False,
                                               "shape": (n,)})
    return out.getvalue()
