"""fastText's supervised input format: one example per line, labels as prefixed tokens anywhere on it.

    __label__pos __label__short a fine , funny film .

Lines end at "\\n"; tokens are separated by ASCII whitespace (space, \\t, \\r, \\v, \\f), as
fastText's readWord (which also splits at NUL). A token that starts with the label prefix
(LabelledCorpusConfig.label_prefix, "__label__") is a label, every other token a word; a line may
have several labels. Bytes that are not UTF-8 become U+FFFD before tokenizing.

Malformed lines are not errors; they are counted, reported in the corpus summary, and treated as:
  * empty (no token): skipped in training; `predict` prints an empty line; `test` skips it;
  * no label: skipped in training (fastText skips it too); `test` skips it (and a line whose labels
    the model never saw, as fastText); `predict` predicts it as any line;
  * labels but no word (or only words the model does not know, with no char n-grams): skipped in
    training; nothing to predict from, so `predict` gives no label (fastText would predict from its
    end-of-line token alone, i.e. the label prior it learnt) and `test` counts it as an example
    with no prediction (it lowers recall, not precision).
A file without any usable example is an error naming the file and the label prefix.

Here lines become *types* (distinct token strings, bytes) and per-token type ids; the vocabulary
(words and labels, by count) is made from the type counts, and kernels/examples.py turns lines
into example records.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.kernels.examples import EMPTY, NO_LABEL, NO_WORD, OK, STATUS_NAMES, fnv_hashes
from embedkit.kernels.typescan import gather_strings, scan_types, starts_with

EOS = "</s>"          # fastText's end-of-line word: part of every line's input


@dataclass
class TokenizedLines:
    """Lines as type ids: the types (T distinct token strings, first-seen order) back to back in
    type_bytes (uint8), type t = type_bytes[type_ptr[t]:type_ptr[t+1]] (type_ptr (T+1,) int64);
    tok (N,) int32 the type of every token, line_ptr (lines+1,) int64 each line's tokens."""
    type_bytes: np.ndarray
    type_ptr: np.ndarray
    tok: np.ndarray
    line_ptr: np.ndarray

    @property
    def n_lines(self) -> int:
        return len(self.line_ptr) - 1

    @property
    def n_types(self) -> int:
        return len(self.type_ptr) - 1

    @functools.cached_property
    def types(self) -> list:
        """(T,) list[bytes]: the types (made when first asked; the kernels read the arrays)."""
        data = self.type_bytes.tobytes()
        return [data[a:b] for a, b in zip(self.type_ptr[:-1].tolist(), self.type_ptr[1:].tolist())]

    def type_counts(self) -> np.ndarray:
        return np.bincount(self.tok, minlength=self.n_types).astype(np.int64)

    def type_hashes(self) -> np.ndarray:
        """(T,) int64 fastText's hash of each type (kernels/examples.py fnv_hashes)."""
        return fnv_hashes(self.type_bytes, self.type_ptr)

    def starts_with(self, prefix: bytes) -> np.ndarray:
        """(T,) bool: which types start with `prefix`."""
        out = np.zeros(self.n_types, np.bool_)
        starts_with(self.type_bytes, self.type_ptr, np.frombuffer(prefix, np.uint8), out)
        return out

    def find(self, token: bytes) -> int:
        """The type id of `token`, or -1."""
        hit = np.flatnonzero(self.starts_with(token) & (np.diff(self.type_ptr) == len(token)))
        return int(hit[0]) if len(hit) else -1

    def decoded(self, types: np.ndarray) -> list[str]:
        """The given types as str, in that order (one join and one decode: types hold no "\\n")."""
        types = np.asarray(types, np.int64)
        if len(types) == 0:
            return []
        out = np.empty(int(np.diff(self.type_ptr)[types].sum()) + len(types), np.uint8)
        gather_strings(self.type_bytes, self.type_ptr, types, np.uint8(10), out)
        return out.tobytes().decode("utf-8", "replace").split("\n")[:-1]


def tokenize_text(data: bytes) -> TokenizedLines:
    """Split text (lines end at "\n"; a missing final "\n" is supplied) into tokens and map them
    to type ids (kernels/typescan.py)."""
    from embedkit.corpus.bytetable import IDENTITY, ByteTable
    if data and not data.endswith(b"\n"):
        data += b"\n"
    buf = np.frombuffer(data, np.uint8)
    n_lines = data.count(b"\n")
    tok = np.empty(len(data) // 2 + 1, np.int32)                 # (at most (bytes + 1) / 2 tokens,) int32
    line_ptr = np.zeros(n_lines + 1, np.int64)
    counts = np.zeros(2, np.int64)                               # [tokens, lines] so far
    guess = min(len(data) // 16 + 16, 1 << 18)                  # entries; grown by doubling when full
    table = ByteTable(guess, 8 * guess)
    i = 0
    while True:
        i = scan_types(buf, i, IDENTITY, *table.kernel_args(), tok, line_ptr, counts)
        if i >= len(buf):
            break
        table.reserve(len(table), len(buf) - i)        # doubles what is full (the rest of buf bounds a token)
    T, used = int(table.meta[0]), int(table.meta[1])
    type_ptr = np.append(table.ent[:T, 0], used).astype(np.int64)
    return TokenizedLines(table.arena[:used].copy(), type_ptr, tok[:counts[0]].copy(), line_ptr)


def tokenize_lines(lines: list[bytes]) -> TokenizedLines:
    """tokenize_text of lines (bytes without "\n")."""
    return tokenize_text(b"\n".join(lines) + b"\n" if lines else b"")


def utf8_text(data: bytes) -> bytes:
    """`data` with invalid UTF-8 replaced by U+FFFD."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        data = data.decode("utf-8", "replace").encode("utf-8")
    return data


def read_paths(paths) -> bytes:
    """The text of every file in `paths` (a path or a list; "-" is stdin), one after another, each
    ending with "\n". Compressed files (gzip, bzip2, xz, zip) are decompressed as the corpus
    reader does (corpus/reader.py iter_blocks: codec by extension or magic bytes)."""
    from embedkit.corpus.reader import iter_blocks
    if paths is None:
        raise EmbedkitError("the classifier needs a labelled training file (corpus=, --corpus): "
                            "one example per line, labels as __label__X tokens")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    parts = []
    for p in paths:
        if str(p) != "-" and Path(p).is_dir():
            raise EmbedkitError(f"{p} is a folder; the classifier reads labelled text files")
        data = b"".join(block for _, block in iter_blocks(str(p)))
        data = utf8_text(data)
        parts.append(data if not data or data.endswith(b"\n") else data + b"\n")
    return b"".join(parts)


def line_summary(status: np.ndarray) -> dict:
    """{status name: number of lines} of kernels/examples.py's statuses."""
    counts = np.bincount(status, minlength=len(STATUS_NAMES))
    return {name: int(c) for name, c in zip(STATUS_NAMES, counts)}


@dataclass
class LabelledCorpus:
    """A training file, read: its tokenized lines and its vocabulary of words and of labels.

    words (V,) by count (ties: first seen), "</s>" among them with one count per line; labels
    (L,) likewise; word_of_type / label_of_type (T,) int32 map types to them (-1: not a word,
    below min_count / not a label). stats: lines, tokens and the malformed-line counts (filled
    once records are built, trainers/classifier.py)."""
    lines: TokenizedLines
    words: list
    counts: np.ndarray
    labels: list
    label_counts: np.ndarray
    word_of_type: np.ndarray
    label_of_type: np.ndarray
    paths: list
    label_prefix: str
    stats: "LabelledStats" = None

    def summary(self) -> str:
        s = self.stats.as_dict()
        bad = ", ".join(f"{v:,} {k}" for k, v in s["lines"].items() if k != "ok" and v)
        return (f"corpus: {s['n_lines']:,} lines, {s['examples']:,} examples"
                + (f" (skipped: {bad})" if bad else "") +
                f"; {s['tokens']:,} tokens; {len(self.words):,} words (min count {s['min_count']}), "
                f"{len(self.labels):,} labels")


@dataclass
class LabelledStats:
    n_lines: int
    tokens: int
    examples: int
    lines: dict
    min_count: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _by_count(counts: np.ndarray) -> np.ndarray:
    """Order of `names` by count, descending; ties keep their order."""
    return np.argsort(-counts, kind="stable")


def read_labelled(paths, cfg) -> LabelledCorpus:
    """Read fastText-format files into a LabelledCorpus (cfg: LabelledCorpusConfig)."""
    lines = tokenize_text(read_paths(paths))
    counts = lines.type_counts()
    prefix = cfg.label_prefix.encode("utf-8")
    is_label = lines.starts_with(prefix)
    shown = [str(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not is_label.any():
        raise EmbedkitError(f"{', '.join(shown)}: no label found: labels are tokens that start with "
                            f"{cfg.label_prefix!r} (--label-prefix), e.g. '{cfg.label_prefix}positive great film'")
    types = np.arange(lines.n_types)
    label_types = types[is_label]
    label_types = label_types[_by_count(counts[label_types])]
    word_types = types[~is_label & (counts >= cfg.min_count)]
    eos_type = lines.find(EOS.encode())
    word_types = word_types[word_types != eos_type]
    word_counts = np.append(counts[word_types], lines.n_lines).astype(np.int64)   # "</s>": once per line
    order = _by_count(word_counts)
    word_types = np.append(word_types, eos_type)[order]                            # eos_type may be -1
    word_of_type = np.full(lines.n_types, -1, np.int32)
    label_of_type = np.full(lines.n_types, -1, np.int32)
    real = word_types >= 0
    word_of_type[word_types[real]] = np.flatnonzero(real)
    label_of_type[label_types] = np.arange(len(label_types))
    words = lines.decoded(np.where(word_types >= 0, word_types, 0))
    if eos_type < 0:                                                               # "</s>" not in the text
        words[int(np.flatnonzero(word_types < 0)[0])] = EOS
    labels = lines.decoded(label_types)
    status = line_status(lines, word_of_type, label_of_type)
    stats = LabelledStats(lines.n_lines, len(lines.tok), int(np.sum(status == OK)), line_summary(status),
                          cfg.min_count)
    if stats.examples == 0:
        raise EmbedkitError(f"{', '.join(shown)}: no line has both a label and a word "
                            f"({', '.join(f'{v:,} {k}' for k, v in stats.lines.items() if v)})")
    return LabelledCorpus(lines, words, word_counts[order], labels, counts[label_types].astype(np.int64),
                          word_of_type, label_of_type, shown, cfg.label_prefix, stats)


def line_status(lines: TokenizedLines, word_of_type: np.ndarray, label_of_type: np.ndarray) -> np.ndarray:
    """(lines,) int8 status of each line (kernels/examples.py) for words word_of_type >= 0 and labels
    label_of_type >= 0 (the training statuses: a word below min_count is no word)."""
    lengths = np.diff(lines.line_ptr)
    line_of = np.repeat(np.arange(lines.n_lines), lengths)
    n_lab = np.bincount(line_of, weights=label_of_type[lines.tok] >= 0, minlength=lines.n_lines)
    n_word = np.bincount(line_of, weights=word_of_type[lines.tok] >= 0, minlength=lines.n_lines)
    status = np.full(lines.n_lines, OK, np.int8)
    status[n_lab == 0] = NO_LABEL
    status[n_word == 0] = NO_WORD
    status[lengths == 0] = EMPTY
    return status
