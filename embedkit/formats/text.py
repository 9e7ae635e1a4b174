"""Whitespace-separated text vectors: word2vec text, fastText .vec and GloVe.

    word2vec text   "V D\\n" then V lines "word v1 ... vD\\n"   (gensim, word2vec C -binary 0)
    fastText .vec   the same with a space after the last value
    GloVe text      the lines only, no header; D is taken from the first line

The word is everything before the first space (as word2vec C and gensim read it). Reading is
bulk: a block of lines is split once into words and numeric text, and the numeric text of the
whole block becomes floats in one `np.fromstring` call. A per-line parser runs only when the
fast path's checks fail (irregular whitespace, a bad number), and names the file and line.
Writing uses 9 significant digits, which round-trips float32 exactly.
"""
from __future__ import annotations

import warnings

import numpy as np

from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.formats import bad_utf8, check_finite, check_words, open_read, open_write

BLOCK_BYTES = 1 << 23       # lines are parsed in blocks of about 8 MB
WRITE_ROWS = 1024            # rows formatted per write: 8192 rows of 100 floats as Python objects cost ~75 MB of peak RSS


def parse_header(raw: bytes, path) -> tuple[int, int]:
    """`V D` of a word2vec header line."""
    parts = raw.split()
    try:
        n, dim = (int(p) for p in parts)
        if n < 0 or dim < 1:
            raise ValueError
    except ValueError:
        shown = raw[:60].decode("utf-8", "replace").rstrip("\n")
        raise EmbedkitError(f"{path}, line 1: expected a header 'VOCAB_SIZE DIM' (two positive integers), "
                            f"found {shown!r}") from None
    return n, dim


class _Block:
    """Parse one block of raw lines into (words, floats (n, D), line numbers (n,))."""

    def __init__(self, path, dim: int | None):
        self.path, self.dim = path, dim

    def parse(self, raw_lines: list[bytes], first_line: int, unicode_errors: str):
        data = b"".join(raw_lines)
        try:
            text = data.decode("utf-8", unicode_errors)
        except UnicodeDecodeError as e:
            line_no = first_line + data.count(b"\n", 0, e.start)
            raise bad_utf8(self.path, f"line {line_no}", e) from None
        lines = text.split("\n")
        if len(lines) > len(raw_lines):
            lines.pop()                                   # the empty piece after the final "\n"
        if self.dim is None:                              # GloVe: the first line sets D
            first = next((ln for ln in lines if ln.strip()), None)
            if first is None:
                return [], np.empty((0, 0), np.float32), np.empty(0, np.int64)
            self.dim = len(first.partition(" ")[2].split())
            if self.dim == 0:
                raise EmbedkitError(f"{self.path}, line {first_line + lines.index(first)}: "
                                    "expected a word followed by numbers")
        fast = self._fast(text, lines)
        if fast is not None:
            words, vecs = fast
            return words, vecs, np.arange(first_line, first_line + len(words), dtype=np.int64)
        return self._slow(lines, first_line)

    def _fast(self, text: str, lines: list[str]):
        """Bulk parse when every line is `word SP num SP ... num [SP]`; None when unsure."""
        if ("\t" in text or "\r" in text or "  " in text or "\n\n" in text or "\n " in text
                or text.startswith((" ", "\n")) or not lines):
            return None
        dim = self.dim
        trailing = [ln.endswith(" ") for ln in lines]
        if any(c - t != dim for c, t in zip(map(str.count, lines, [" "] * len(lines)), trailing)):
            return None                                   # some row has the wrong length: locate it
        parts = [ln.partition(" ") for ln in lines]
        numbers = " ".join([p[2] for p in parts])
        with warnings.catch_warnings():
            warnings.simplefilter("error")                # numpy warns (not raises) on unparsable text
            try:
                flat = np.fromstring(numbers, dtype=np.float32, sep=" ")
            except (ValueError, DeprecationWarning):
                return None
        if flat.size != len(lines) * dim:
            return None
        return [p[0] for p in parts], flat.reshape(len(lines), dim)

    def _slow(self, lines: list[str], first_line: int):
        """Line-by-line parse; raises EmbedkitError naming the first bad line."""
        words, rows, line_nos = [], [], []
        for k, ln in enumerate(lines):
            line_no = first_line + k
            if not ln.strip():
                continue                                  # blank lines carry no row
            word, _, rest = ln.rstrip("\r").partition(" ")
            if not word:
                raise EmbedkitError(f"{self.path}, line {line_no}: line starts with whitespace (empty word)")
            tokens = rest.split()
            if len(tokens) != self.dim:
                raise EmbedkitError(f"{self.path}, line {line_no}: expected {self.dim} numbers after the "
                                    f"word {word[:40]!r}, found {len(tokens)}")
            try:
                rows.append(np.array(tokens, dtype=np.float32))
            except ValueError:
                col, bad = next((j, t) for j, t in enumerate(tokens, 1) if not _is_float(t))
                raise EmbedkitError(f"{self.path}, line {line_no}: value {col} {bad[:40]!r} "
                                    "is not a number") from None
            words.append(word)
            line_nos.append(line_no)
        vecs = np.stack(rows) if rows else np.empty((0, self.dim), np.float32)
        return words, vecs, np.asarray(line_nos, dtype=np.int64)


def _is_float(token: str) -> bool:
    try:
        np.float32(token)
        return True
    except ValueError:
        return False


def read_text(path, header: bool, limit: int | None = None, unicode_errors: str = "strict") -> Embeddings:
    """Read word2vec text / fastText .vec (header=True) or GloVe text (header=False)."""
    with open_read(path) as f:
        line_no = 0
        declared, dim = None, None
        if header:
            raw = f.readline()
            if not raw:
                raise EmbedkitError(f"{path} is empty")
            declared, dim = parse_header(raw, path)
            line_no = 1
        want = declared if limit is None else (limit if declared is None else min(limit, declared))
        # Reading up to the header's count: rows beyond it mean a wrong header, not extra data.
        exact = declared is not None and want == declared
        parser = _Block(path, dim)
        words, vec_blocks, line_blocks = [], [], []
        while want is None or len(words) < want:
            raw_lines = f.readlines(BLOCK_BYTES)
            if not raw_lines:
                break
            w, v, ln = parser.parse(raw_lines, line_no + 1, unicode_errors)
            check_finite(v, path, lambda i: f"line {ln[i]}")
            line_no += len(raw_lines)
            if want is not None and len(words) + len(w) > want:
                keep = want - len(words)
                if exact:
                    raise _too_many(path, int(ln[keep]), declared)
                w, v, ln = w[:keep], v[:keep], ln[:keep]
            words += w
            vec_blocks.append(v)
            line_blocks.append(ln)
        if declared is not None and len(words) < want:
            raise EmbedkitError(f"{path}: the header declares {declared:,} words but the file ends after "
                                f"{len(words):,} rows (line {line_no})")
        if exact:
            for raw in f:
                line_no += 1
                if raw.strip():
                    raise _too_many(path, line_no, declared)
    if not words and not header:
        raise EmbedkitError(f"{path} holds no vectors")
    vectors = np.concatenate(vec_blocks) if vec_blocks else np.empty((0, parser.dim or 0), np.float32)
    _check_unique(words, path, lambda i: f"line {int(np.concatenate(line_blocks)[i])}")
    return Embeddings(words, vectors)


def _too_many(path, line_no: int, declared: int) -> EmbedkitError:
    return EmbedkitError(f"{path}, line {line_no}: more rows than the {declared:,} the header declares")


def _check_unique(words: list[str], path, where) -> None:
    """Duplicate words are an error (gensim keeps the first silently); `where(i)` names row i."""
    if len(set(words)) == len(words):
        return
    first = {}
    for i, w in enumerate(words):
        if w in first:
            raise EmbedkitError(f"{path}, {where(i)}: duplicate word {w!r} (first at {where(first[w])})")
        first[w] = i


def write_text(emb: Embeddings, path, header: bool = True, trailing_space: bool = False,
               fmt_name: str = "word2vec-text") -> None:
    """Write `emb` as word2vec text (header), fastText .vec (header + trailing space) or GloVe."""
    check_words(emb.words, path, fmt_name)
    n, dim = emb.vectors.shape
    row_fmt = " ".join(["%.9g"] * dim)                     # 9 digits: exact for float32
    tail = " \n" if trailing_space else "\n"
    with open_write(path) as f:
        if header:
            f.write(f"{n} {dim}\n".encode())
        for s in range(0, n, WRITE_ROWS):
            rows = emb.vectors[s:s + WRITE_ROWS].tolist()
            lines = [f"{w} {row_fmt % tuple(r)}{tail}" for w, r in zip(emb.words[s:s + WRITE_ROWS], rows)]
            f.write("".join(lines).encode("utf-8"))
