"""One frozen dataclass per model family: every option, its default and a one-line meaning.

CLI flags are generated from these fields (embedkit/cli/options.py): the field name with `_`
turned into `-` is the flag, `metadata["help"]` is its help text, and `metadata["choices"]`
restricts the value. Per-model defaults live here, never in the CLI. A trained model saves its
config as JSON beside the vectors.

Every config checks itself once, when it is made (`Checked.__post_init__`): each field's type,
its choices, and its range from the field's metadata (`low`/`high` inclusive, `above` exclusive);
floats must be finite. A bad value is an EmbedkitError naming the flag, the value and the range, so
the CLI and the Python API refuse it the same way, before any work starts. The error
(OptionError) is spelled for the CLI (`--negative must be >= 1`); `spelled(PYTHON)` names the
Python keyword instead (`negative must be >= 1`).

Applicability is declared in the metadata too, never in if-ladders: `when={"objective": ("ns",)}`
means the option is used only when that other field has one of those values, `unused_with=
("cooccur",)` that an input of train() makes it moot, `text_only=True` (corpus options) that it
concerns text files, not in-memory token lists. `inapplicable` turns options the user gave that do
not apply into one error each, and `default_from="start_lr"` names the method giving the value a
None default stands for (help shows that value per model).
"""
from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field
from typing import Optional

from embedkit.errors import EmbedkitError


def opt(default, help: str, choices=None, **extra):
    """A config field with the CLI help text, choices and range (low=, high=, above=) attached."""
    meta = {"help": help}
    if choices is not None:
        meta["choices"] = tuple(choices)
    meta.update(extra)
    return field(default=default, metadata=meta)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def field_type(f: dataclasses.Field):
    """int / float / str / bool of a field, Optional stripped (annotations are strings here)."""
    tp = eval(f.type, {"Optional": Optional}) if isinstance(f.type, str) else f.type
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if args else tp


class Spelling(typing.NamedTuple):
    """How an error names an option (`name`) and an option with a value (`value`)."""
    name: typing.Callable[[str], str]
    value: typing.Callable[[str, object], str]


CLI = Spelling(flag, lambda n, v: f"{flag(n)} {v}")
PYTHON = Spelling(lambda n: n, lambda n, v: f"{n}={v!r}")


class OptionError(EmbedkitError):
    """A bad option value: `name` (the field) and `problem` ("must be >= 1, got 0"); str() uses
    the CLI's spelling, spelled(PYTHON) the Python keyword's."""

    def __init__(self, name: str, problem: str):
        super().__init__(f"{flag(name)} {problem}")
        self.name, self.problem = name, problem

    def spelled(self, spelling: Spelling) -> str:
        return f"{spelling.name(self.name)} {self.problem}"


def check_field(f: dataclasses.Field, value) -> None:
    """Raise OptionError unless `value` fits field f's type, choices and range."""
    meta = f.metadata
    if value is None:
        if f.default is None:
            return
        raise OptionError(f.name, "needs a value")
    tp = field_type(f)
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, tp)
    if not ok:
        raise OptionError(f.name, f"must be {tp.__name__}, got {value!r}")
    if tp is float and not math.isfinite(value):
        raise OptionError(f.name, f"must be a finite number, got {value!r}")
    if "choices" in meta and value not in meta["choices"]:
        raise OptionError(f.name, f"must be one of {', '.join(map(str, meta['choices']))}, got {value!r}")
    if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
        raise OptionError(f.name, f"must look like {meta['pattern_help']}, got {value!r}")
    low, high, above = meta.get("low"), meta.get("high"), meta.get("above")
    if (low is not None and value < low) or (high is not None and value > high) or \
            (above is not None and value <= above):
        lo = f"> {above}" if above is not None else (f">= {low}" if low is not None else "")
        hi = f"<= {high}" if high is not None else ""
        raise OptionError(f.name, f"must be {' and '.join(p for p in (lo, hi) if p)}, got {value!r}"
                          + (f" ({meta['hint']})" if "hint" in meta else ""))


class Checked:
    """Mixin: every dataclass field is checked by check_field when the config is made."""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            check_field(f, getattr(self, f.name))


class Positive:
    """A `when` condition: the other field is > 0."""

    def __contains__(self, value) -> bool:
        return value > 0

    def __repr__(self) -> str:
        return "Positive()"


def condition_text(spelling: Spelling, key: str, allowed) -> str:
    if isinstance(allowed, Positive):
        return f"{spelling.name(key)} > 0"
    return " or ".join(spelling.value(key, v) for v in allowed)


def inapplicable(cfg, given, spelling: Spelling = CLI, inputs=()) -> list[str]:
    """One sentence per option in `given` (names the user set) that does not apply to `cfg`: its
    `when` conditions fail, or an input in `inputs` (train() arguments given) makes it moot."""
    fields = {f.name: f for f in dataclasses.fields(cfg)}
    out = []
    for name in given:
        f = fields.get(name)
        if f is None:
            continue
        for key, allowed in f.metadata.get("when", {}).items():
            actual = getattr(cfg, key)
            if actual not in allowed:
                out.append(f"{spelling.name(name)} does not apply: it is used only with "
                           f"{condition_text(spelling, key, allowed)}, and this run has {spelling.value(key, actual)}")
        for inp in f.metadata.get("unused_with", ()):
            if inp in inputs:
                out.append(f"{spelling.name(name)} does not apply when {spelling.name(inp)} is given")
    return out


def effective_default(cfg, name: str):
    """The value a field's default stands for in `cfg` (default_from), else the field's value."""
    meta = next(f.metadata for f in dataclasses.fields(cfg) if f.name == name)
    value = getattr(cfg, name)
    if value is None and "default_from" in meta:
        return getattr(cfg, meta["default_from"])()
    return value


BACKENDS = ("numba", "torch")
TORCH_ONLY = {"backend": ("torch",)}
# the torch word2vec backend's default batch per architecture: a CBOW batch's summed stale steps cost
# quality faster than skip-gram's (text8, 5 epochs: CBOW NS 31.7 analogy at 1024 and 33.1 at 128, numba
# 33.4; subword CBOW 12.7 at 1024 and 15.6 at 128 on 4M tokens, numba 16.9; skip-gram meets numba at 1024)
BATCH_SIZES = {"skipgram": 1024, "cbow": 128}
DEVICE = dict(pattern=r"cpu|cuda(:\d+)?", pattern_help="cpu, cuda or cuda:N")


def backend_field():
    """Every model config's backend: which engine runs the epochs (trainers/backends.py's table)."""
    return opt("numba", "numba (CPU worker threads over the numba kernels) or torch (mini-batches; CPU or GPU)", BACKENDS)


def device_field():
    return opt("cpu", "torch device: cpu, cuda or cuda:N", when=TORCH_ONLY, **DEVICE)


PHRASE_THRESHOLDS = {"word2phrase": 100.0, "npmi": 0.5}     # scoring -> its default threshold
PHRASES_ON = {"phrases": Positive()}


def check_phrase_threshold(name: str, scoring: str, threshold) -> None:
    """word2phrase scores are >= 0 (word2phrase.c would join every pair below 0); npmi is in [-1, 1]."""
    if threshold is None:
        return
    if scoring == "npmi" and not -1 <= threshold <= 1:
        raise OptionError(name, f"must be in [-1, 1] with npmi scoring, got {threshold!r}")
    if scoring == "word2phrase" and threshold < 0:
        raise OptionError(name, f"must be >= 0 with word2phrase scoring, got {threshold!r}")


@dataclass(frozen=True)
class PhrasesConfig(Checked):
    """Phrase detection (word2vec's word2phrase, gensim's Phrases): join frequent bigrams with `_`."""
    min_count: int = opt(5, "bigrams seen fewer times are never joined; with word2phrase scoring, their words too "
                            "(word2phrase -min-count)", low=1)
    threshold: Optional[float] = opt(None, "join a bigram whose score is above this (default: "
                                     f"{PHRASE_THRESHOLDS['word2phrase']:g}, or {PHRASE_THRESHOLDS['npmi']:g} with "
                                     "--scoring npmi)", default_from="threshold_value")
    scoring: str = opt("word2phrase", "word2phrase: (count(ab) - min_count) / (count(a) count(b)) x corpus tokens "
                                      "(word2vec C); npmi: normalised pointwise mutual information in [-1, 1] (gensim)",
                       tuple(PHRASE_THRESHOLDS))
    passes: int = opt(1, "passes over the corpus; each joins the bigrams of the previous pass's output, so 2 passes "
                         "make phrases of up to 4 words", low=1)
    max_bigrams: int = opt(20_000_000, "bigrams held while counting; when full, rare ones are pruned as word2phrase "
                                       "does (table memory <= 16 bytes x the power of two above max_bigrams / 0.7, twice that while "
                                       "it is rebuilt)",
                           low=1)

    def __post_init__(self):
        super().__post_init__()
        check_phrase_threshold("threshold", self.scoring, self.threshold)

    def threshold_value(self) -> float:
        return PHRASE_THRESHOLDS[self.scoring] if self.threshold is None else self.threshold


TOKENIZERS = ("regex", "whitespace", "text8", "nltk-treebank", "nltk-toktok", "nltk-wordpunct")


@dataclass(frozen=True)
class CorpusConfig(Checked):
    """How text becomes sentences of token ids."""
    tokenizer: str = opt("regex", "tokenizer: regex (lowercased letter/digit runs), whitespace, text8, nltk-*", TOKENIZERS,
                         text_only=True)
    max_sentence_length: int = opt(10000, "lines longer than this many tokens are cut into consecutive pieces (never dropped)", low=1)
    encoding_errors: str = opt("replace", "undecodable UTF-8 bytes: replace (and count) or strict (error naming file and byte)", ("replace", "strict"),
                               text_only=True)
    min_count: int = opt(5, "drop words seen fewer times than this", low=1)
    max_size: Optional[int] = opt(None, "keep at most this many most frequent words (default: no limit)", low=1)
    max_vocab_size: Optional[int] = opt(None, "prune rare words while counting when the counter holds more than this many types (bounds memory, as gensim)", low=1)
    phrases: int = opt(0, "passes of phrase detection (word2phrase) before the vocabulary is built: 1 joins frequent "
                          "bigrams into one token (new_york), 2 joins those again (new_york_times); 0: none", low=0)
    phrase_min_count: int = opt(5, "phrase detection: bigrams seen fewer times are never joined (word2phrase -min-count)",
                                low=1, when=PHRASES_ON)
    phrase_threshold: Optional[float] = opt(None, "phrase detection: join a bigram whose score is above this "
                                            f"(default: {PHRASE_THRESHOLDS['word2phrase']:g}, or "
                                            f"{PHRASE_THRESHOLDS['npmi']:g} with --phrase-scoring npmi)",
                                            when=PHRASES_ON, default_from="phrase_threshold_value")
    phrase_scoring: str = opt("word2phrase", "phrase detection score: word2phrase (word2vec C) or npmi (gensim's, in [-1, 1])",
                              tuple(PHRASE_THRESHOLDS), when=PHRASES_ON)

    def __post_init__(self):
        super().__post_init__()
        check_phrase_threshold("phrase_threshold", self.phrase_scoring, self.phrase_threshold)

    def phrase_threshold_value(self) -> float:
        return PHRASE_THRESHOLDS[self.phrase_scoring] if self.phrase_threshold is None else self.phrase_threshold

    def phrases_config(self) -> "PhrasesConfig":
        """The phrase detection that `phrases` (> 0) asks for."""
        return PhrasesConfig(min_count=self.phrase_min_count, threshold=self.phrase_threshold,
                             scoring=self.phrase_scoring, passes=self.phrases)


@dataclass(frozen=True)
class CooccurConfig(Checked):
    """Co-occurrence counting (GloVe's cooccur)."""
    window: int = opt(10, "symmetric context window, in tokens each side", low=1)
    weighting: str = opt("harmonic", "harmonic: a pair at distance d adds 1/d (GloVe); none: adds 1", ("harmonic", "none"))
    memory: float = opt(4.0, "memory budget in GB for counting buffers before spilling to disk", above=0)


SG_UPDATES = ("window", "pair")
NS_ONLY = {"objective": ("ns",)}
SKIPGRAM_ONLY = {"arch": ("skipgram",)}


@dataclass(frozen=True)
class Word2VecConfig(Checked):
    """Skip-gram / CBOW with negative sampling or hierarchical softmax (word2vec C defaults)."""
    arch: str = opt("skipgram", "architecture: skipgram (a word predicts its context) or cbow (context mean predicts the centre)", ("skipgram", "cbow"))
    objective: str = opt("ns", "ns: negative sampling; hs: hierarchical softmax over a Huffman tree", ("ns", "hs"))
    dim: int = opt(100, "vector dimension", low=1)
    window: int = opt(5, "maximum context window each side; the effective window is drawn from 1..window per centre word", low=1)
    negative: int = opt(5, "noise words per positive example", low=1, when=NS_ONLY,
                        hint="to train without negative sampling, choose objective hs")
    ns_exponent: float = opt(0.75, "noise distribution is count**ns_exponent", when=NS_ONLY)
    sample: float = opt(1e-3, "subsampling threshold t of word2vec (0 disables)", low=0)
    sg_update: str = opt("window", "skip-gram update: window = each window is one mini-batch in word2vec C's direction "
                         "(context words predict the centre; NS shares one set of noise words per window; faster); "
                         "pair = one example per (centre, context) pair in fastText's direction (the centre predicts "
                         "each context word)", SG_UPDATES, when=SKIPGRAM_ONLY)
    epochs: int = opt(5, "passes over the corpus", low=1)
    lr: Optional[float] = opt(None, "starting learning rate (word2vec C: 0.025 for skip-gram, 0.05 for CBOW)", above=0,
                              default_from="start_lr")
    min_lr_ratio: float = opt(1e-4, "final learning rate as a fraction of lr (linear decay over all words of all epochs)", low=0, high=1)
    workers: int = opt(2, "worker threads (Hogwild when > 1; workers=1 is bit-reproducible)", low=1)
    seed: int = opt(1, "random seed", low=0)
    backend: str = backend_field()
    device: str = device_field()
    batch_size: Optional[int] = opt(None, "torch backend: centre words per mini-batch (each brings its window's "
                                    "examples); default 1024 for skip-gram, 128 for CBOW, whose quality falls with "
                                    "larger batches", low=1, when=TORCH_ONLY, default_from="start_batch_size")

    def start_lr(self) -> float:
        if self.lr is not None:
            return self.lr
        return 0.05 if self.arch == "cbow" else 0.025

    def start_batch_size(self) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return BATCH_SIZES[self.arch]


@dataclass(frozen=True)
class FastTextConfig(Word2VecConfig):
    """fastText-style subword model: word2vec with char n-gram buckets in the input bags (fastText defaults)."""
    sample: float = opt(1e-4, "subsampling threshold t (fastText default 1e-4)", low=0)
    ns_exponent: float = opt(0.5, "noise distribution is count**ns_exponent (fastText's code uses 0.5)", when=NS_ONLY)
    sg_update: str = opt("pair", "skip-gram update: pair = fastText's direction, the centre word's n-gram bag predicts "
                         "each context word; window = window mini-batches in word2vec C's direction", SG_UPDATES,
                         when=SKIPGRAM_ONLY)
    lr: Optional[float] = opt(0.05, "starting learning rate (fastText default 0.05)", above=0)
    minn: int = opt(3, "shortest char n-gram of <word> (with boundary markers)", low=1, when={"maxn": Positive()})
    maxn: int = opt(6, "longest char n-gram; 0 disables subwords (plain word2vec model)", low=0)
    bucket: int = opt(2_000_000, "hash buckets for n-grams; memory is bucket x dim x 4 bytes", low=1,
                      when={"maxn": Positive()})

    def start_lr(self) -> float:
        return self.lr if self.lr is not None else 0.05


@dataclass(frozen=True)
class GloVeConfig(Checked):
    """GloVe (Pennington et al. 2014): weighted least squares on log co-occurrences, AdaGrad."""
    dim: int = opt(100, "vector dimension", low=1)
    window: int = opt(10, "symmetric co-occurrence window (1/distance weighting)", low=1, unused_with=("cooccur",))
    x_max: float = opt(100.0, "weighting cutoff: f(x) = min(1, (x/x_max)**alpha)", above=0)
    alpha: float = opt(0.75, "weighting exponent", low=0)
    eta: float = opt(0.05, "AdaGrad initial learning rate", above=0)
    epochs: int = opt(25, "passes over the non-zero co-occurrences", low=1)
    output_vectors: str = opt("sum", "sum: W + W~ (GloVe model 2); word: W only; concat: [W, W~]", ("sum", "word", "concat"))
    workers: int = opt(2, "worker threads (Hogwild when > 1)", low=1)
    seed: int = opt(1, "random seed", low=0)
    backend: str = backend_field()
    device: str = device_field()
    batch_size: int = opt(65536, "torch backend: non-zeros per mini-batch", low=1, when=TORCH_ONLY)


@dataclass(frozen=True)
class LabelledCorpusConfig(Checked):
    """How the classifier reads fastText's format (corpus/labelled.py): whitespace tokens, prefixed labels."""
    label_prefix: str = opt("__label__", "tokens that start with this are labels (several per line allowed)",
                            pattern=r"\S+", pattern_help="a prefix without whitespace")
    min_count: int = opt(1, "drop words seen fewer times than this (fastText supervised: 1)", low=1)


CLASSIFIER_OBJECTIVES = ("softmax", "ns", "hs", "ova")


@dataclass(frozen=True)
class ClassifierConfig(Checked):
    """fastText-style supervised text classifier: mean of word and n-gram rows -> labels (fastText supervised defaults)."""
    objective: str = opt("softmax", "loss over the labels: softmax; ns (negative sampling); hs (hierarchical "
                         "softmax over a Huffman tree of the label counts); ova (one-vs-all, for multi-label data)",
                         CLASSIFIER_OBJECTIVES)
    dim: int = opt(100, "vector dimension", low=1)
    lr: float = opt(0.1, "starting learning rate, decaying linearly to 0 over all tokens of all epochs", above=0)
    epochs: int = opt(5, "passes over the training lines", low=1)
    word_ngrams: int = opt(1, "word n-grams up to this length join the input, hashed into --bucket rows (1: words only)",
                           low=1, high=16)
    bucket: int = opt(2_000_000, "hash buckets shared by word n-grams and char n-grams; memory bucket x dim x 4 bytes "
                      "(used only with --word-ngrams > 1 or --maxn > 0)", low=1, high=2**31 - 1)
    minn: int = opt(0, "shortest char n-gram of <word> (0 counts as 1)", low=0, when={"maxn": Positive()})
    maxn: int = opt(0, "longest char n-gram of <word>; 0: no char n-grams (fastText supervised default)", low=0)
    negative: int = opt(5, "noise labels per example", low=1, when={"objective": ("ns",)})
    pretrained_vectors: Optional[str] = opt(None, "start the word rows from these vectors (any format embedkit reads; "
                                            "same dimension)")
    workers: int = opt(2, "worker threads (Hogwild when > 1; workers=1 is bit-reproducible)", low=1)
    seed: int = opt(1, "random seed", low=0)
    backend: str = backend_field()
    device: str = device_field()


def resolved(cfg) -> dict:
    """Every field of cfg with the value it stands for (effective_default): the options of a run as
    the trainer uses them, lr=None and lr=0.025 alike for skip-gram."""
    return {f.name: effective_default(cfg, f.name) for f in dataclasses.fields(cfg)}
