"""A trained text classifier (fastText supervised): its word vectors, its labels, predict and test.

    clf = embedkit.train("classifier", "train.txt", word_ngrams=2)
    clf.predict("a fine , funny film .")            # [("__label__pos", 0.93)]
    clf.predict(["...", "..."], k=2, threshold=0.1)  # one list of (label, probability) per text
    clf.test("test.txt", k=1)                       # {"n": ..., "precision_at_k": ..., "recall_at_k": ..., "per_label": ...}

A Classifier is an Embeddings of its words (vectors: each word's input row, or the mean of its row
and char n-gram rows), so every vector verb and `export` work on it; it also holds the input
matrix w_in (V + bucket rows), the label rows w_out (or Huffman inner nodes for hs) and the
settings that turn a line into input rows (kernels/examples.py). Probabilities are fastText's:
softmax for softmax, the Huffman path product for hs, one sigmoid per label for ns and ova (those
do not sum to 1). Lines are read as corpus/labelled.py says; a line with no known word predicts
nothing.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from embedkit.corpus.labelled import EOS, TokenizedLines, line_summary, read_paths, tokenize_text
from embedkit.embeddings import Embeddings
from embedkit.errors import EmbedkitError
from embedkit.kernels.examples import EMPTY, NO_LABEL, NO_WORD, build_records
from embedkit.kernels.supervised import hidden_means, path_log_probs

SETTINGS = ("objective", "word_ngrams", "bucket", "minn", "maxn", "label_prefix")


def word_bags(words: list, minn: int, maxn: int, bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR input rows of each word: [w] and, with char n-grams, V + their buckets ("</s>" has none)."""
    from embedkit.tables.subwords import subword_bags
    V = len(words)
    if maxn <= 0:
        return np.arange(V + 1, dtype=np.int64), np.arange(V, dtype=np.int32)
    bag_ptr, bag_ids = subword_bags(words, max(minn, 1), maxn, bucket)
    if EOS in words:
        e = words.index(EOS)
        keep = np.ones(len(bag_ids), bool)
        keep[bag_ptr[e] + 1:bag_ptr[e + 1]] = False
        sizes = np.diff(bag_ptr)
        sizes[e] = 1
        bag_ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        bag_ids = bag_ids[keep]
    return bag_ptr, bag_ids


def ngram_bags(words: list, minn: int, maxn: int, bucket: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR rows base + bucket of the char n-grams of each (unknown) word, without a word row."""
    from embedkit.tables.subwords import subword_bags
    n = len(words)
    if maxn <= 0 or n == 0:
        return np.zeros(n + 1, np.int64), np.zeros(0, np.int32)
    bag_ptr, bag_ids = subword_bags(words, max(minn, 1), maxn, bucket)
    keep = np.ones(len(bag_ids), bool)
    keep[bag_ptr[:-1]] = False
    ids = (bag_ids[keep].astype(np.int64) - n + base).astype(np.int32)
    return (bag_ptr - np.arange(n + 1)).astype(np.int64), ids


class Classifier(Embeddings):
    """Words (with their vectors) and labels of a trained classifier; see the module doc."""

    def __init__(self, words, counts, labels, label_counts, w_in: np.ndarray, w_out: np.ndarray, settings: dict):
        self.settings = {k: settings[k] for k in SETTINGS}
        self.labels = list(labels)
        self.label_counts = np.asarray(label_counts, np.int64)
        self.w_in = np.ascontiguousarray(w_in, np.float32)       # (V + bucket rows, D)
        self.w_out = np.ascontiguousarray(w_out, np.float32)     # (L or L - 1, D)
        s = self.settings
        self.bag_ptr, self.bag_ids = word_bags(list(words), s["minn"], s["maxn"], s["bucket"])
        from embedkit.trainers.subword import bag_means
        # without char n-grams the word vectors are w_in's first rows (a view, as after refresh_vectors)
        vectors = bag_means(self.w_in, self.bag_ptr, self.bag_ids) if s["maxn"] > 0 else self.w_in[:len(words)]
        super().__init__(words, vectors, counts)
        self._word_table = None                 # word -> id (corpus/bytetable.py), made when first needed
        self._label_ids = {lab: i for i, lab in enumerate(self.labels)}
        self._huffman = None
        self._eos = self.index[EOS]

    def refresh_vectors(self) -> None:
        """Recompute the word vectors from w_in (after training changed it in place)."""
        s = self.settings
        if s["maxn"] > 0:
            from embedkit.trainers.subword import bag_means
            self.vectors = bag_means(self.w_in, self.bag_ptr, self.bag_ids)
        else:
            self.vectors = np.ascontiguousarray(self.w_in[:len(self.words)])
        self._changed()

    # ---- lines -> records ----

    def type_maps(self, lines: TokenizedLines) -> tuple[np.ndarray, np.ndarray]:
        """(type_word, type_label) of kernels/examples.py for these lines' types under this model."""
        from embedkit.corpus.bytetable import IDENTITY, lookup_table
        from embedkit.kernels.typescan import lookup_types
        if self._word_table is None:                       # word -> id, a bytehash table made once
            self._word_table = lookup_table(self.words)
        type_word = np.empty(lines.n_types, np.int64)
        lookup_types(lines.type_bytes, lines.type_ptr, IDENTITY, *self._word_table.kernel_args()[:3], type_word)
        is_label = lines.starts_with(self.settings["label_prefix"].encode("utf-8"))
        type_label = np.full(lines.n_types, -1, np.int32)
        get_l = self._label_ids.get
        type_label[is_label] = [get_l(lab, -2) for lab in lines.decoded(np.flatnonzero(is_label))]
        type_word[is_label] = -1
        return type_word.astype(np.int32), type_label

    def records(self, lines: TokenizedLines, type_word, type_label, training: bool = False, oov: bool = True):
        """(tokens int32, offsets int64, status int8 per line) of kernels/examples.py. oov: unknown
        words bring their char n-grams (when the model has them)."""
        s = self.settings
        V = len(self.words)
        unknown = np.flatnonzero((type_word < 0) & (type_label == -1)) if oov and s["maxn"] > 0 else []
        oov_ptr = np.zeros(lines.n_types + 1, np.int64)
        oov_ids = np.zeros(0, np.int32)
        if len(unknown):
            ptr, oov_ids = ngram_bags(lines.decoded(unknown), s["minn"], s["maxn"],
                                      s["bucket"], V)
            sizes = np.zeros(lines.n_types, np.int64)
            sizes[unknown] = np.diff(ptr)
            np.cumsum(sizes, out=oov_ptr[1:])
        hashes = lines.type_hashes() if s["word_ngrams"] > 1 else np.zeros(lines.n_types, np.int64)
        from embedkit.tables.subwords import fasttext_hash
        eos_hash = fasttext_hash(EOS)
        eos_hash = eos_hash - (1 << 32) if eos_hash >= 1 << 31 else eos_hash
        args = (lines.tok, lines.line_ptr, type_word, type_label, hashes, oov_ptr, oov_ids, self.bag_ptr,
                self.bag_ids, self._eos, eos_hash, V, s["word_ngrams"], max(s["bucket"], 1), training)
        status = np.zeros(lines.n_lines, np.int8)                        # (lines,) int8
        offsets = np.zeros(lines.n_lines + 1, np.int64)                  # (records+1,) int64
        if s["maxn"] > 0:                                                # bags of any size: a sizing pass
            size, _ = build_records(*args, np.zeros(0, np.int32), offsets, status)
        else:   # one row per word: a line of t tokens needs at most word_ngrams * (t + 1) + 1 (kernels/examples.py)
            size = s["word_ngrams"] * (len(lines.tok) + lines.n_lines) + lines.n_lines
        tokens = np.empty(max(size, 1), np.int32)                        # (size,) int32
        size, n = build_records(*args, tokens, offsets, status)
        return tokens[:size], offsets[:n + 1], status

    # ---- prediction ----

    def probabilities(self, tokens: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(records, L) float32 label probabilities of each record (fastText's, see the module doc)."""
        H = np.zeros((len(offsets) - 1, self.dim), np.float32)           # (n, D) hidden vectors
        hidden_means(tokens, offsets, self.w_in, H)
        S = H @ self.w_out.T                                             # (n, L) or (n, L - 1) scores
        objective = self.settings["objective"]
        if objective == "softmax":
            S -= S.max(axis=1, keepdims=True)
            np.exp(S, out=S)
            S /= S.sum(axis=1, keepdims=True)
            return S
        if objective == "hs":
            return np.exp(self._path_log_probs(S))
        return np.exp(-np.logaddexp(0.0, -S))                           # sigmoid, without overflow

    def _path_log_probs(self, S: np.ndarray) -> np.ndarray:
        """(n, L) log P(label) under hs: the sum of log sigma(+-score) over the label's Huffman path."""
        if self._huffman is None:
            from embedkit.tables.huffman import huffman_tree
            points, codes, code_len = huffman_tree(self.label_counts)
            self._huffman = (points.astype(np.int64), codes.astype(np.int8), code_len.astype(np.int64))
        out = np.zeros((len(S), len(self.labels)), np.float32)          # one label: log 1 = 0
        if S.shape[1] > 0 and len(self.labels) > 1:
            path_log_probs(np.ascontiguousarray(S, np.float32), *self._huffman, out)
        return out

    def _predict_text(self, data: bytes, k: int, threshold: float) -> list[list[tuple[str, float]]]:
        check_k_threshold(k, threshold)
        tok = tokenize_text(data)
        tokens, offsets, status = self.records(tok, *self.type_maps(tok))
        P = self.probabilities(tokens, offsets)
        k = min(k, len(self.labels))
        top = _top_k(P, k)                                                          # (n, k)
        probs = np.take_along_axis(P, top, axis=1)                                  # (n, k), descending
        # one flat list of (label, p) cut into rows: a Python loop per line was most of predict's time
        pairs = list(zip([self.labels[i] for i in top.ravel().tolist()], probs.ravel().tolist()))
        out = [[pair] for pair in pairs] if k == 1 else [pairs[i:i + k] for i in range(0, len(pairs), k)]
        keep = (probs >= threshold).sum(axis=1)                 # each row's probabilities descend
        keep[(status == NO_WORD) | (status == EMPTY)] = 0
        for r in np.flatnonzero(keep < k).tolist():
            out[r] = out[r][:keep[r]]
        return out

    def predict(self, texts, k: int = 1, threshold: float = 0.0):
        """The k most probable labels of a text (a str: one list of (label, probability)) or of
        each of several texts (a list of str: one such list each), probabilities >= threshold.
        A text with no known word gets []. A text may not contain a newline."""
        single = isinstance(texts, str)
        items = [texts] if single else list(texts)
        if not all(isinstance(t, str) for t in items):
            raise EmbedkitError("predict takes a string or a list of strings")
        data = "\n".join(items).encode("utf-8", "replace") + b"\n" if items else b""
        if data.count(b"\n") != len(items):
            bad = next(i for i, t in enumerate(items) if "\n" in t)
            raise EmbedkitError(f"text {bad} contains a newline: predict takes one line per text")
        out = self._predict_text(data, k, threshold)
        return out[0] if single else out

    def predict_file(self, path, k: int = 1, threshold: float = 0.0) -> list[list[tuple[str, float]]]:
        """predict for every line of a file ("-": stdin); empty lines included, so outputs align."""
        return self._predict_text(read_paths([path]), k, threshold)

    def test(self, path, k: int = 1, threshold: float = 0.0) -> dict:
        """fastText's test on a labelled file: {"n", "k", "precision_at_k", "recall_at_k", "per_label":
        {label: {"precision", "recall", "f1", "gold", "predicted", "correct"}}, "lines": {status: count}};
        a ratio with nothing to divide by (a label never predicted) is None.
        N counts the lines with at least one label the model knows, as fastText's test: lines
        without one (no label, only unknown labels, empty) are skipped, whatever their words, and
        counted as "no label" (or "empty") in "lines". A line with a known label but no known
        word counts in N with no prediction (fastText counts it too, predicting from "</s>"
        alone): it lowers recall, not precision."""
        check_k_threshold(k, threshold)
        lines = tokenize_text(read_paths([path]))
        type_word, type_label = self.type_maps(lines)
        tokens, offsets, status = self.records(lines, type_word, type_label)
        labelled = tokens[offsets[:-1]] > 0                 # a record starts with its number of known labels
        status[~labelled & (status == NO_WORD)] = NO_LABEL  # records() ranks "no word" first; here labels come first
        keep = np.flatnonzero(labelled)
        predictions = self._predict_records(tokens, offsets, status, keep, k, threshold)
        L = len(self.labels)
        gold_n, pred_n, correct_n = np.zeros(L, np.int64), np.zeros(L, np.int64), np.zeros(L, np.int64)
        for r, pred in zip(keep.tolist(), predictions):
            b = offsets[r]
            gold = set(tokens[b + 1:b + 1 + tokens[b]].tolist())
            for g in gold:
                gold_n[g] += 1
            for p in pred:
                pred_n[p] += 1
                correct_n[p] += p in gold
        per_label = {}
        for i, lab in enumerate(self.labels):
            prec, rec = _ratio(correct_n[i], pred_n[i]), _ratio(correct_n[i], gold_n[i])
            f1 = 2 * prec * rec / (prec + rec) if prec is not None and rec is not None and prec + rec > 0 else None
            per_label[lab] = {"precision": prec, "recall": rec, "f1": f1,
                              "gold": int(gold_n[i]), "predicted": int(pred_n[i]), "correct": int(correct_n[i])}
        n_pred, n_gold, n_correct = pred_n.sum(), gold_n.sum(), correct_n.sum()
        return {"n": int(len(keep)), "k": k, "precision_at_k": _ratio(n_correct, n_pred),
                "recall_at_k": _ratio(n_correct, n_gold), "per_label": per_label, "lines": line_summary(status)}

    def _predict_records(self, tokens, offsets, status, keep, k, threshold) -> list[list[int]]:
        P = self.probabilities(tokens, offsets)[keep]
        k = min(k, len(self.labels))
        top = _top_k(P, k)
        ok = np.take_along_axis(P, top, axis=1) >= threshold
        return [[] if status[r] == NO_WORD else [i for i, good in zip(ids, oks) if good]
                for r, ids, oks in zip(keep.tolist(), top.tolist(), ok.tolist())]

    # ---- saving ----

    def native_parts(self) -> tuple[str, dict, dict]:
        """A "classifier" model folder (from_native reads it back)."""
        return "classifier", dict(self.settings), self.arrays()

    def arrays(self) -> dict:
        return {"w_in": self.w_in, "w_out": self.w_out, "labels": np.array(self.labels, dtype=str),
                "label_counts": self.label_counts}


def check_k_threshold(k, threshold, spelling=None) -> None:
    """EmbedkitError unless k is an int >= 1 and threshold a number in [0, 1]; the options are
    named as `spelling` says (embedkit.config.PYTHON by default, CLI for the verbs)."""
    from embedkit.config import PYTHON
    name = (spelling or PYTHON).name
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise EmbedkitError(f"{name('k')} must be an integer >= 1, got {k!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating, np.integer)) \
            or not 0.0 <= threshold <= 1.0:
        raise EmbedkitError(f"{name('threshold')} must be a number between 0 and 1, got {threshold!r}")


def _top_k(P: np.ndarray, k: int) -> np.ndarray:
    """(n, k) column indices of each row's k largest values, largest first (ties: lower index)."""
    if k == 1:
        return P.argmax(axis=1)[:, None]
    return np.argsort(-P, axis=1, kind="stable")[:, :k]


def _ratio(a, b) -> float | None:
    return float(a / b) if b else None


def from_native(model) -> Classifier:
    """A Classifier from a "classifier" model folder (formats/native.py LOADERS). Every setting and
    array is checked before any kernel sees them: the kernels index w_in and w_out with ids the
    settings imply (V + bucket rows, labels), so a damaged folder would read out of bounds."""
    from embedkit.formats.native import real_array
    where, npz = model.path / "model.json", model.path / "arrays.npz"
    cfg = dict(model.config)
    corpus = cfg.get("corpus")
    if "label_prefix" not in cfg and isinstance(corpus, dict) and "label_prefix" in corpus:
        cfg["label_prefix"] = corpus["label_prefix"]
    cfg.setdefault("label_prefix", "__label__")
    missing = [k for k in SETTINGS if k not in cfg]
    if missing:
        raise EmbedkitError(f"{where}: the classifier's config lacks {', '.join(missing)}")
    settings = check_settings({k: cfg[k] for k in SETTINGS}, where)
    if EOS not in model.words:
        raise EmbedkitError(f"{model.path / 'vocab.tsv'}: no {EOS!r} word (the end-of-line word of every line)")
    if "labels" not in model.arrays or model.arrays["labels"].dtype.kind != "U" or model.arrays["labels"].ndim != 1:
        raise EmbedkitError(f"{npz}: no 1-d 'labels' array of strings")
    labels = model.arrays["labels"].tolist()
    if not labels:
        raise EmbedkitError(f"{npz}: the 'labels' array is empty")
    D, V = model.meta["dim"], len(model.words)
    from embedkit.trainers.classifier import input_rows
    w_in = real_array(model, "w_in", (input_rows(V, settings), D))
    n_out = max(len(labels) - 1, 1) if settings.objective == "hs" else len(labels)
    w_out = real_array(model, "w_out", (n_out, D))
    counts = model.arrays.get("label_counts", np.ones(len(labels), np.int64))
    if counts.dtype.kind not in "iu" or counts.shape != (len(labels),) or (counts < 0).any():
        raise EmbedkitError(f"{npz}: array 'label_counts' has shape {counts.shape} and dtype {counts.dtype}, "
                            f"expected ({len(labels)},) counts >= 0")
    return Classifier(model.words, model.counts, labels, counts, w_in, w_out, cfg)


def check_settings(settings: dict, where) -> "ClassifierConfig":
    """The SETTINGS of a saved classifier checked as train checks its options (the config
    dataclasses' own checks); EmbedkitError naming `where` and the field otherwise."""
    from embedkit.config import ClassifierConfig, LabelledCorpusConfig, OptionError
    try:
        LabelledCorpusConfig(label_prefix=settings["label_prefix"])
        cfg = ClassifierConfig(**{k: v for k, v in settings.items() if k != "label_prefix"})
    except OptionError as e:
        raise EmbedkitError(f"{where}: config {e.name!r} {e.problem}") from None
    if cfg.maxn > 0 and max(cfg.minn, 1) > cfg.maxn:
        raise EmbedkitError(f"{where}: config 'minn' ({cfg.minn}) is larger than 'maxn' ({cfg.maxn})")
    return cfg


def write_test_json(result: dict, path) -> None:
    """The test result as JSON, written atomically."""
    from embedkit.fsutil import atomic_path
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
