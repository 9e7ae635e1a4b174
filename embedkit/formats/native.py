"""embedkit's native model folder, written by trainers and read back by `embedkit.io.load(folder)`.

    model.json          {"format_version": 1, "kind", "dim", "vocab_size", "config", "arrays": {name: [shape, dtype]}}
    vocab.tsv           word<TAB>count, one line per word in id order (most frequent first)
    arrays.npz          named arrays (w_in, w_out, biases, bucket rows, ...) and "vectors", the output
                        vectors; saved and loaded without pickle (allow_pickle=False)
    training_log.json   whatever the trainer logged (losses, timings)
    vectors.txt         word2vec text of the output vectors, for other tools

The whole folder is written atomically. `load_native` reads model.json, checks the version and
dispatches on `kind` through LOADERS, a table of "module:function" strings: the function gets a
NativeModel and returns an Embeddings (or subclass). Kinds not in the table load as plain
Embeddings from arrays["vectors"]. No pickle, no compatibility layers: an unknown
format_version is an error.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_dir
from embedkit.formats.text import write_text

FORMAT_VERSION = 1
MODEL_FILES = ("model.json", "vocab.tsv", "arrays.npz", "training_log.json", "vectors.txt")

# kind -> "module:function"; function(model: NativeModel) -> Embeddings. Imported only when used.
LOADERS: dict[str, str] = {
    "fasttext": "embedkit.subword_embeddings:from_native",
}


def register_loader(kind: str, target: str) -> None:
    """Route model folders of `kind` to `target` ("module:function")."""
    if target.count(":") != 1:
        raise ValueError(f"loader target must be 'module:function', got {target!r}")
    LOADERS[kind] = target


@dataclass
class NativeModel:
    """Everything a model folder holds, as loaded from disk."""
    path: Path
    meta: dict                     # model.json
    words: list
    counts: np.ndarray             # (V,) int64
    arrays: dict = field(default_factory=dict)   # name -> np.ndarray
    training_log: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def config(self) -> dict:
        return self.meta.get("config", {})


def _jsonable_config(config) -> dict:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    return dict(config or {})


def save_model(path, emb: Embeddings, *, kind: str, config: dict, arrays: dict[str, np.ndarray],
               training_log: dict | None = None) -> None:
    """Write the model folder `path` atomically (see the module doc). `arrays["vectors"]` defaults
    to `emb.vectors`; every array must be numeric (no object arrays: they would need pickle)."""
    arrays = dict(arrays)
    arrays.setdefault("vectors", emb.vectors)
    for name, a in arrays.items():
        a = np.asarray(a)
        if a.dtype.hasobject:
            raise EmbedkitError(f"array {name!r} has dtype object, which cannot be saved without pickle")
        arrays[name] = a
    if arrays["vectors"].shape != emb.vectors.shape:
        raise EmbedkitError(f"arrays['vectors'] has shape {arrays['vectors'].shape}, "
                            f"expected {emb.vectors.shape}")
    counts = emb.counts if emb.counts is not None else np.zeros(len(emb), np.int64)
    meta = {"format_version": FORMAT_VERSION, "kind": kind, "dim": emb.dim, "vocab_size": len(emb),
            "config": _jsonable_config(config),
            "arrays": {k: [list(a.shape), a.dtype.str] for k, a in arrays.items()}}
    try:
        meta_text = json.dumps(meta, indent=2, sort_keys=True)
        log_text = json.dumps(training_log or {}, indent=2)
    except TypeError as e:
        raise EmbedkitError(f"model config or training log is not JSON-serialisable: {e}") from None
    for w in emb.words:
        if not w or "\t" in w or "\n" in w:
            raise EmbedkitError(f"cannot save model {path}: word {w!r} is empty or contains a tab or newline")
    with atomic_dir(path) as tmp:
        (tmp / "model.json").write_text(meta_text + "\n", encoding="utf-8")
        (tmp / "training_log.json").write_text(log_text + "\n", encoding="utf-8")
        with open(tmp / "vocab.tsv", "w", encoding="utf-8", newline="\n") as f:
            f.writelines(f"{w}\t{c}\n" for w, c in zip(emb.words, counts.tolist()))
        with open(tmp / "arrays.npz", "wb") as f:
            np.savez(f, **arrays)
        write_text(emb, tmp / "vectors.txt")


def is_model_dir(path) -> bool:
    return Path(path).is_dir() and (Path(path) / "model.json").is_file()


def read_meta(path) -> dict:
    """A model folder's model.json (checked: version and required keys), without its arrays."""
    path = Path(path)
    if not is_model_dir(path):
        raise EmbedkitError(f"{path} is not an embedkit model folder (no model.json)")
    try:
        meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise EmbedkitError(f"{path / 'model.json'}: cannot read model description: {e}") from None
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        raise EmbedkitError(f"{path / 'model.json'}: unknown format_version {version!r} (this embedkit "
                            f"reads version {FORMAT_VERSION}); save the model again with a matching embedkit")
    for key in ("kind", "dim", "vocab_size"):
        if key not in meta:
            raise EmbedkitError(f"{path / 'model.json'}: missing {key!r}")
    return meta


def read_model(path) -> NativeModel:
    """Load a model folder's files (no dispatch on kind)."""
    path = Path(path)
    meta = read_meta(path)
    words, counts = _read_vocab(path / "vocab.tsv")
    if len(words) != meta["vocab_size"]:
        raise EmbedkitError(f"{path / 'vocab.tsv'}: {len(words):,} words, but model.json says "
                            f"{meta['vocab_size']:,}")
    try:
        with np.load(path / "arrays.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise EmbedkitError(f"{path / 'arrays.npz'}: cannot read arrays: {e}") from None
    log_path = path / "training_log.json"
    training_log = json.loads(log_path.read_text(encoding="utf-8")) if log_path.is_file() else {}
    return NativeModel(path, meta, words, counts, arrays, training_log)


def _read_vocab(path: Path) -> tuple[list, np.ndarray]:
    words, counts = [], []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise EmbedkitError(f"cannot read {path}: {e.strerror}") from None
    with f:
        for line_no, line in enumerate(f, 1):
            if line_no == 1 and line.startswith("#"):
                continue                                   # a Vocab.save header line
            word, tab, count = line.rstrip("\n").partition("\t")
            if not tab or not word or not count.isdigit():
                raise EmbedkitError(f"{path}, line {line_no}: expected 'word<TAB>count'")
            words.append(word)
            counts.append(int(count))
    return words, np.asarray(counts, dtype=np.int64)


def load_native(path, limit: int | None = None) -> Embeddings:
    model = read_model(path)
    target = LOADERS.get(model.kind)
    if target is not None:
        if limit is not None:
            raise EmbedkitError(f"limit is not supported for {model.kind!r} model folders ({path}); "
                                "export the vectors first (embedkit export)")
        module, _, func = target.partition(":")
        try:
            loader = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError) as e:
            raise EmbedkitError(f"{path}: no loader for model kind {model.kind!r} ({target}: {e})") from None
        return loader(model)
    if "vectors" not in model.arrays:
        raise EmbedkitError(f"{path / 'arrays.npz'}: no 'vectors' array")
    vectors = model.arrays["vectors"]
    if vectors.shape != (len(model.words), model.meta["dim"]):
        raise EmbedkitError(f"{path / 'arrays.npz'}: vectors have shape {vectors.shape}, expected "
                            f"({len(model.words)}, {model.meta['dim']})")
    n = len(model.words) if limit is None else min(limit, len(model.words))
    return Embeddings(model.words[:n], vectors[:n], model.counts[:n])
