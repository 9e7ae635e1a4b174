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
from embedkit.formats import check_finite, writable_word
from embedkit.formats.text import write_text

FORMAT_VERSION = 1
MODEL_FILES = ("model.json", "vocab.tsv", "arrays.npz", "training_log.json", "vectors.txt")

# kind -> "module:function"; function(model: NativeModel) -> Embeddings. Imported only when used.
LOADERS: dict[str, str] = {
    "fasttext": "embedkit.subword_embeddings:from_native",
    "classifier": "embedkit.classifier:from_native",
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
        if not writable_word(w):
            raise EmbedkitError(f"cannot save model {path}: word {w!r} is empty or contains ASCII whitespace")
    with atomic_dir(path, commit="model.json") as tmp:
        (tmp / "model.json").write_text(meta_text + "\n", encoding="utf-8")
        (tmp / "training_log.json").write_text(log_text + "\n", encoding="utf-8")
        with open(tmp / "vocab.tsv", "w", encoding="utf-8", newline="\n") as f:
            f.writelines(f"{w}\t{c}\n" for w, c in zip(emb.words, counts.tolist()))
        with open(tmp / "arrays.npz", "wb") as f:
            np.savez(f, **arrays)
        write_text(emb, tmp / "vectors.txt")


def is_model_dir(path) -> bool:
    return Path(path).is_dir() and (Path(path) / "model.json").is_file()


def _read_json(path: Path, what: str):
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise EmbedkitError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise EmbedkitError(f"{path}, byte {e.start}: invalid UTF-8 in the {what}") from None
    except ValueError as e:
        raise EmbedkitError(f"{path}: cannot read the {what}: {e}") from None


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def read_meta(path) -> dict:
    """A model folder's model.json (checked: version, required keys and their types), without its arrays."""
    path = Path(path)
    if not is_model_dir(path):
        raise EmbedkitError(f"{path} is not an embedkit model folder (no model.json)")
    meta_path = path / "model.json"
    meta = _read_json(meta_path, "model description")
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        raise EmbedkitError(f"{meta_path}: unknown format_version {version!r} (this embedkit "
                            f"reads version {FORMAT_VERSION}); save the model again with a matching embedkit")
    for key in ("kind", "dim", "vocab_size"):
        if key not in meta:
            raise EmbedkitError(f"{meta_path}: missing {key!r}")
    if not isinstance(meta["kind"], str):
        raise EmbedkitError(f"{meta_path}: 'kind' must be a string, found {meta['kind']!r}")
    for key, low in (("dim", 1), ("vocab_size", 0)):
        if not _is_int(meta[key]) or meta[key] < low:
            raise EmbedkitError(f"{meta_path}: {key!r} must be an integer >= {low}, found {meta[key]!r}")
    if not isinstance(meta.get("config", {}), dict):
        raise EmbedkitError(f"{meta_path}: 'config' must be an object, found {meta['config']!r}")
    return meta


def read_model(path) -> NativeModel:
    """Load a model folder's files (no dispatch on kind). Every file is checked: a damaged one is an
    EmbedkitError naming it (and the line or byte where that makes sense)."""
    path = Path(path)
    meta = read_meta(path)
    words, counts = _read_vocab(path / "vocab.tsv")
    if len(words) != meta["vocab_size"]:
        raise EmbedkitError(f"{path / 'vocab.tsv'}: {len(words):,} words, but model.json says "
                            f"{meta['vocab_size']:,}")
    arrays_path = path / "arrays.npz"
    try:
        with np.load(arrays_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise EmbedkitError(f"{arrays_path} is missing") from None
    except Exception as e:   # noqa: BLE001 - a damaged zip/npy raises many kinds; all mean "damaged file"
        raise EmbedkitError(f"{arrays_path}: cannot read arrays, the file is damaged "
                            f"({type(e).__name__}: {e})") from None
    log_path = path / "training_log.json"
    training_log = _read_json(log_path, "training log") if log_path.is_file() else {}
    return NativeModel(path, meta, words, counts, arrays, training_log)


def _read_vocab(path: Path) -> tuple[list, np.ndarray]:
    """word<TAB>count lines; a word is what the writer can write (formats.writable_word)."""
    words, counts, first = [], [], {}
    try:
        f = open(path, "rb")
    except OSError as e:
        raise EmbedkitError(f"cannot read {path}: {e.strerror}") from None
    with f:
        for line_no, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise EmbedkitError(f"{path}, line {line_no}: invalid UTF-8 ({e.reason})") from None
            if line_no == 1 and line.startswith("#"):
                continue                                   # a Vocab.save header line
            word, tab, count = line.rstrip("\n").partition("\t")
            if not tab or not word or not (count.isascii() and count.isdigit()) or int(count) >= 2**63:
                raise EmbedkitError(f"{path}, line {line_no}: expected 'word<TAB>count'")
            if not writable_word(word):
                raise EmbedkitError(f"{path}, line {line_no}: word {word!r} contains ASCII whitespace")
            if word in first:
                raise EmbedkitError(f"{path}, line {line_no}: duplicate word {word!r} (first at line {first[word]})")
            first[word] = line_no
            words.append(word)
            counts.append(int(count))
    return words, np.asarray(counts, dtype=np.int64)


def real_array(model: "NativeModel", name: str, shape: tuple) -> np.ndarray:
    """arrays[name] as float32 of `shape`, finite; EmbedkitError naming arrays.npz otherwise."""
    where = model.path / "arrays.npz"
    if name not in model.arrays:
        raise EmbedkitError(f"{where}: no {name!r} array")
    a = model.arrays[name]
    if a.dtype.kind not in "fiu":
        raise EmbedkitError(f"{where}: array {name!r} has dtype {a.dtype}, expected real numbers")
    if a.shape != shape:
        raise EmbedkitError(f"{where}: array {name!r} has shape {a.shape}, expected {shape}")
    a = a.astype(np.float32, copy=False)
    check_finite(a, where, lambda i: f"array {name!r} row {i}")
    return a


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
    vectors = real_array(model, "vectors", (len(model.words), model.meta["dim"]))
    n = len(model.words) if limit is None else min(limit, len(model.words))
    return Embeddings(model.words[:n], vectors[:n], model.counts[:n])
