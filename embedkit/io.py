"""Reading and writing vectors: one entry point for every format.

    emb = load("vectors.txt")                    # format detected; also .bin, GloVe, .vec, .gz, model folders
    emb = load("vectors.bin", limit=50_000)      # only the first (most frequent) 50,000 words
    save(emb, "out.bin", format="word2vec-binary")
    save_model("model/", emb, kind="skipgram", config=cfg, arrays={"w_in": w_in, "w_out": w_out})

Formats: word2vec-text ("V D" header), word2vec-binary, glove (text, no header), fasttext-vec
(word2vec text with a trailing space), fasttext-bin (fastText's .bin model: a SubwordEmbeddings
that embeds unseen words as fastText does; see embedkit/formats/fasttext_bin.py), and native model
folders (see embedkit/formats/native.py).
Vocabulary order is preserved. Text round-trips exactly (9 significant digits), binary bit for bit.
Malformed files raise EmbedkitError naming the file and the line (text) or byte (binary).
"""
from __future__ import annotations

from pathlib import Path

from embedkit.config import PYTHON, Spelling
from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.formats import UNICODE_ERRORS, read_errors
from embedkit.formats.binary import read_binary, write_binary
from embedkit.formats.detect import detect_format
from embedkit.formats.native import (FORMAT_VERSION, LOADERS, NativeModel, read_model, register_loader,
                                     save_model)
from embedkit.formats.text import read_text, write_text

FORMATS = ("word2vec-text", "word2vec-binary", "glove", "fasttext-vec", "fasttext-bin")   # files: read and write
READ_FORMATS = FORMATS + ("native",)

# extension of an output file (after .gz/.bz2) -> the formats it may hold; the first is the default
EXTENSION_FORMATS = {
    ".txt": ("word2vec-text", "glove", "fasttext-vec"),
    ".vec": ("fasttext-vec", "word2vec-text"),
    ".bin": ("word2vec-binary", "fasttext-bin"),
}
COMPRESSED_SUFFIXES = (".gz", ".bz2")

__all__ = ["load", "save", "save_any", "output_format", "save_model", "read_model", "detect_format", "register_loader",
           "FORMATS", "READ_FORMATS", "FORMAT_VERSION", "LOADERS", "NativeModel"]


def load(path, format: str | None = None, limit: int | None = None,
         unicode_errors: str = "strict", spelling: Spelling = PYTHON) -> Embeddings:
    """Embeddings from a vectors file of any supported format (detected when `format` is None)
    or from a native model folder. `limit`: read only the first N words. `unicode_errors`:
    strict (error naming the line/byte), replace or ignore, for words that are not valid UTF-8.
    `spelling`: how errors name the options (config.CLI: as flags, for the CLI)."""
    from embedkit.formats.native import load_native

    if format is not None and format not in READ_FORMATS:
        raise EmbedkitError(f"unknown format {format!r}; choose one of {', '.join(READ_FORMATS)}")
    if unicode_errors not in UNICODE_ERRORS:
        raise EmbedkitError(f"{spelling.name('unicode_errors')} must be one of {', '.join(UNICODE_ERRORS)}, "
                            f"got {unicode_errors!r}")
    if limit is not None and limit < 1:
        raise EmbedkitError(f"{spelling.name('limit')} must be >= 1, got {limit}")
    path = Path(path)
    if not path.exists():
        raise EmbedkitError(f"{path} does not exist")
    with read_errors(path):
        fmt = format or detect_format(path)
        if fmt == "native":
            emb = load_native(path, limit)
        elif path.is_dir():
            raise EmbedkitError(f"{path} is a folder; format {fmt!r} needs a file")
        elif fmt == "word2vec-binary":
            emb = read_binary(path, limit, unicode_errors)
        elif fmt == "fasttext-bin":
            from embedkit.formats.fasttext_bin import read_fasttext_bin
            emb = read_fasttext_bin(path, limit, unicode_errors)
        else:
            emb = read_text(path, header=(fmt != "glove"), limit=limit, unicode_errors=unicode_errors)
    if len(emb) == 0:        # a '0 D' header: as useless as an empty file, and every query would fail later
        raise EmbedkitError(f"{path} holds no vectors (its header counts 0 words)")
    return emb


def save(emb: Embeddings, path, format: str = "word2vec-text") -> None:
    """Write `emb` to `path` atomically (gzip/bzip2 when the name ends in .gz/.bz2)."""
    if format == "word2vec-binary":
        write_binary(emb, path)
    elif format == "fasttext-bin":
        from embedkit.formats.fasttext_bin import write_fasttext_bin
        write_fasttext_bin(emb, path)
    elif format in ("word2vec-text", "glove", "fasttext-vec"):
        write_text(emb, path, header=(format != "glove"), trailing_space=(format == "fasttext-vec"),
                   fmt_name=format)
    else:
        raise EmbedkitError(f"unknown output format {format!r}; choose one of {', '.join(FORMATS)}")


def _extension(path) -> str:
    """".txt" for out.txt and out.txt.gz; "" when there is none."""
    suffixes = [x.lower() for x in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSED_SUFFIXES:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def output_format(path, stated: str | None = None, flag: str = "format") -> str | None:
    """The format to write `path` in: `stated` when given (an error when the extension says
    otherwise: a .txt never receives binary), else the extension's (EXTENSION_FORMATS), else
    None (an extension that names no vector format)."""
    ext = _extension(path)
    allowed = EXTENSION_FORMATS.get(ext)
    if stated is None:
        return allowed[0] if allowed else None
    if stated not in FORMATS:
        raise EmbedkitError(f"unknown output format {stated!r}; choose one of {', '.join(FORMATS)}")
    if allowed and stated not in allowed:
        raise EmbedkitError(f"{path}: the extension {ext} holds {' or '.join(allowed)}, not {stated}; "
                            f"change the file name or the {flag}")
    return stated


def save_any(emb: Embeddings, path, format: str | None = None) -> None:
    """Embeddings.save: a vectors file in the format of `path`'s extension (or `format`);
    otherwise (or with format="native") an embedkit model folder that keeps everything."""
    fmt = None if format == "native" else output_format(path, format)
    if fmt is not None:
        save(emb, path, format=fmt)
        return
    kind, config, arrays = emb.native_parts()
    save_model(path, emb, kind=kind, config=config, arrays=arrays)
