"""word2vec binary: "V D\\n", then V records `word<SP>` + D little-endian float32 (4 D bytes).

word2vec C ends each record with "\\n", gensim writes none; both are read (newlines before a
word are skipped, as both tools do). We write the "\\n", like word2vec C. Values are copied
bit for bit, so a round trip is exact. Byte positions in errors are 0-based file offsets.
"""
from __future__ import annotations

import numpy as np

from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.formats import bad_utf8, check_finite, check_words, open_read, open_write
from embedkit.formats.text import _check_unique, parse_header

READ_BYTES = 1 << 22
WRITE_ROWS = 8192
NEWLINE = 10


def read_binary(path, limit: int | None = None, unicode_errors: str = "strict") -> Embeddings:
    with open_read(path) as f:
        raw = f.readline()
        if not raw:
            raise EmbedkitError(f"{path} is empty")
        declared, dim = parse_header(raw, path)
        want = declared if limit is None else min(limit, declared)
        rec = 4 * dim
        words, starts, vec_blocks = [], [], []
        buf, pos, buf_start = b"", 0, len(raw)             # buf_start: file offset of buf[0]
        eof = False
        while len(words) < want:
            if not eof:
                more = f.read(READ_BYTES)
                eof = not more
                buf, buf_start, pos = buf[pos:] + more, buf_start + pos, 0
            offsets = []                                   # where each record's floats start in buf
            while len(words) < want:
                while pos < len(buf) and buf[pos] == NEWLINE:
                    pos += 1
                space = buf.find(b" ", pos)
                if space < 0 or space + 1 + rec > len(buf):
                    break                                  # record incomplete: read more
                word_bytes = buf[pos:space]
                if not word_bytes or b"\n" in word_bytes:
                    raise EmbedkitError(f"{path}, byte {buf_start + pos}: record {len(words) + 1} has no "
                                        f"valid word; the file is damaged or not {dim}-dimensional binary")
                try:
                    words.append(word_bytes.decode("utf-8", unicode_errors))
                except UnicodeDecodeError as e:
                    raise bad_utf8(path, f"byte {buf_start + pos + e.start}", e) from None
                starts.append(buf_start + pos)
                offsets.append(space + 1)
                pos = space + 1 + rec
            block = np.empty((len(offsets), dim), dtype=np.float32)   # (n, D)
            for r, off in enumerate(offsets):
                block[r] = np.frombuffer(buf, dtype="<f4", count=dim, offset=off)
            first = len(words) - len(offsets)
            check_finite(block, path, lambda i: f"byte {starts[first + i]} (record {first + i + 1})")
            vec_blocks.append(block)
            if eof and len(words) < want:
                raise EmbedkitError(f"{path}: truncated at byte {buf_start + pos}: the header declares "
                                    f"{declared:,} words of {dim} floats, but only {len(words):,} complete "
                                    "records are present")
        if want == declared:                               # anything but newlines left over is an error
            tail = buf[pos:] + f.read()
            if tail.strip(b"\n"):
                at = buf_start + pos + len(tail) - len(tail.lstrip(b"\n"))
                raise EmbedkitError(f"{path}, byte {at}: data after the {declared:,} records "
                                    "the header declares")
    vectors = np.concatenate(vec_blocks) if vec_blocks else np.empty((0, dim), np.float32)
    _check_unique(words, path, lambda i: f"byte {starts[i]} (record {i + 1})")
    return Embeddings(words, vectors)


def write_binary(emb: Embeddings, path) -> None:
    # A space or newline inside a word would end the record early when read back.
    check_words(emb.words, path, "word2vec-binary")
    n, dim = emb.vectors.shape
    vectors = emb.vectors.astype("<f4", copy=False)
    with open_write(path) as f:
        f.write(f"{n} {dim}\n".encode())
        for s in range(0, n, WRITE_ROWS):
            rows = vectors[s:s + WRITE_ROWS]
            f.write(b"".join(w.encode("utf-8") + b" " + r.tobytes() + b"\n"
                             for w, r in zip(emb.words[s:s + WRITE_ROWS], rows)))
