"""Which format a path holds, from its first bytes.

    folder with model.json                          native
    fastText's magic number 793712314 (int32)       fasttext-bin
    "V D" header, line 2 `word` + D numbers         word2vec-text (fasttext-vec if line 2 ends in a space)
    "V D" header, then no control bytes             word2vec-text (malformed; the reader names the line)
    "V D" header, anything else                     word2vec-binary (float32 bytes include control codes)
    first line `word` + numbers                     glove
A GloVe file whose first word is an integer and has one value ("3 0.5") reads as a header;
pass format="glove" for such files.
"""
from __future__ import annotations

from pathlib import Path

from embedkit.errors import EmbedkitError
from embedkit.formats import open_read, read_errors
from embedkit.formats.native import is_model_dir

HEAD_BYTES = 1 << 16
CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 13))
FASTTEXT_BIN_MAGIC = (793712314).to_bytes(4, "little")   # fastText's own .bin model files


def _numbers(tokens: list[bytes]) -> bool:
    try:
        for t in tokens:
            float(t)
        return True
    except ValueError:
        return False


def _is_text(body: bytes) -> bool:
    """No control bytes but TAB/LF/CR: binary float32 records are full of them (a 100-dim record
    avoids all 29 with probability ~1e-21); bad UTF-8 in words does not make text binary."""
    return len(body.translate(None, CONTROL_BYTES)) == len(body)


def detect_format(path) -> str:
    path = Path(path)
    if path.is_dir():
        if is_model_dir(path):
            return "native"
        raise EmbedkitError(f"{path} is a folder without model.json, not an embedkit model")
    with read_errors(path), open_read(path) as f:
        head = f.read(HEAD_BYTES)
    if not head.strip():
        raise EmbedkitError(f"{path} is empty")
    if head.startswith(FASTTEXT_BIN_MAGIC):
        return "fasttext-bin"
    if head[:1] == b"\x80":
        raise EmbedkitError(f"{path} looks like a Python pickle (e.g. a gensim .model); export it with "
                            "gensim's save_word2vec_format first")
    first, nl, body = head.partition(b"\n")
    tokens = first.split()
    if len(tokens) == 2 and all(t.isdigit() for t in tokens):
        row = body.partition(b"\n")[0]
        values = row.partition(b" ")[2].split()
        if (len(values) == int(tokens[1]) and _numbers(values)) or _is_text(body):
            return "fasttext-vec" if row.rstrip(b"\r").endswith(b" ") else "word2vec-text"
        return "word2vec-binary"
    if len(tokens) >= 2 and _numbers(tokens[1:]):
        return "glove"
    raise EmbedkitError(f"cannot tell the format of {path}: the first line is neither a 'VOCAB_SIZE DIM' "
                        "header nor a word followed by numbers; pass format=/--input-format explicitly")
