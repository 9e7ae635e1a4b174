"""One frozen dataclass per model family: every option, its default and a one-line meaning.

CLI flags are generated from these fields (embedkit/cli/options.py): the field name with `_`
turned into `-` is the flag, `metadata["help"]` is its help text, and `metadata["choices"]`
restricts the value. Per-model defaults live here, never in the CLI. A trained model saves its
config as JSON beside the vectors.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional


def opt(default, help: str, choices=None, **extra):
    """A config field with the CLI help text (and choices) attached."""
    meta = {"help": help}
    if choices is not None:
        meta["choices"] = tuple(choices)
    meta.update(extra)
    return field(default=default, metadata=meta)


TOKENIZERS = ("regex", "whitespace", "text8", "nltk-treebank", "nltk-toktok", "nltk-wordpunct")


@dataclass(frozen=True)
class CorpusConfig:
    """How text becomes sentences of token ids."""
    tokenizer: str = opt("regex", "tokenizer: regex (lowercased letter/digit runs), whitespace, text8, nltk-*", TOKENIZERS)
    max_sentence_length: int = opt(10000, "lines longer than this many tokens are cut into consecutive pieces (never dropped)")
    encoding_errors: str = opt("replace", "undecodable UTF-8 bytes: replace (and count) or strict (error naming file and byte)", ("replace", "strict"))
    min_count: int = opt(5, "drop words seen fewer times than this")
    max_size: Optional[int] = opt(None, "keep at most this many most frequent words (default: no limit)")
    max_vocab_size: Optional[int] = opt(None, "prune rare words while counting when the counter holds more than this many types (bounds memory, as gensim)")


@dataclass(frozen=True)
class CooccurConfig:
    """Co-occurrence counting (GloVe's cooccur)."""
    window: int = opt(10, "symmetric context window, in tokens each side")
    weighting: str = opt("harmonic", "harmonic: a pair at distance d adds 1/d (GloVe); none: adds 1", ("harmonic", "none"))
    memory: float = opt(4.0, "memory budget in GB for counting buffers before spilling to disk")


@dataclass(frozen=True)
class Word2VecConfig:
    """Skip-gram / CBOW with negative sampling or hierarchical softmax (word2vec C defaults)."""
    arch: str = opt("skipgram", "architecture: skipgram (centre predicts context) or cbow (context mean predicts centre)", ("skipgram", "cbow"))
    objective: str = opt("ns", "ns: negative sampling; hs: hierarchical softmax over a Huffman tree", ("ns", "hs"))
    dim: int = opt(100, "vector dimension")
    window: int = opt(5, "maximum context window each side; the effective window is drawn from 1..window per centre word")
    negative: int = opt(5, "noise words per positive example (objective ns)")
    ns_exponent: float = opt(0.75, "noise distribution is count**ns_exponent")
    sample: float = opt(1e-3, "subsampling threshold t of word2vec (0 disables)")
    window_batch: bool = opt(True, "skip-gram: train each window as one mini-batch of small matrix products (pWord2Vec); NS then shares one set of noise words per window")
    epochs: int = opt(5, "passes over the corpus")
    lr: Optional[float] = opt(None, "starting learning rate (default 0.025 skip-gram, 0.05 CBOW)")
    min_lr_ratio: float = opt(1e-4, "final learning rate as a fraction of lr (linear decay over all words of all epochs)")
    workers: int = opt(2, "worker threads (Hogwild when > 1; workers=1 is bit-reproducible)")
    seed: int = opt(1, "random seed")

    def start_lr(self) -> float:
        if self.lr is not None:
            return self.lr
        return 0.05 if self.arch == "cbow" else 0.025


@dataclass(frozen=True)
class FastTextConfig(Word2VecConfig):
    """fastText-style subword model: word2vec with char n-gram buckets in the input bags (fastText defaults)."""
    sample: float = opt(1e-4, "subsampling threshold t (fastText default 1e-4)")
    ns_exponent: float = opt(0.5, "noise distribution is count**ns_exponent (fastText's code uses 0.5)")
    window_batch: bool = opt(False, "skip-gram: window mini-batches (context bags predict the centre: not fastText's direction)")
    lr: Optional[float] = opt(0.05, "starting learning rate (fastText default 0.05)")
    minn: int = opt(3, "shortest char n-gram of <word> (with boundary markers)")
    maxn: int = opt(6, "longest char n-gram; 0 disables subwords (plain word2vec model)")
    bucket: int = opt(2_000_000, "hash buckets for n-grams; memory is bucket x dim x 4 bytes")

    def start_lr(self) -> float:
        return self.lr if self.lr is not None else 0.05


@dataclass(frozen=True)
class GloVeConfig:
    """GloVe (Pennington et al. 2014): weighted least squares on log co-occurrences, AdaGrad."""
    dim: int = opt(100, "vector dimension")
    window: int = opt(10, "symmetric co-occurrence window (1/distance weighting)")
    x_max: float = opt(100.0, "weighting cutoff: f(x) = min(1, (x/x_max)**alpha)")
    alpha: float = opt(0.75, "weighting exponent")
    eta: float = opt(0.05, "AdaGrad initial learning rate")
    epochs: int = opt(25, "passes over the non-zero co-occurrences")
    output_vectors: str = opt("sum", "sum: W + W~ (GloVe model 2); word: W only; concat: [W, W~]", ("sum", "word", "concat"))
    backend: str = opt("numba", "numba (CPU threads) or torch (mini-batches; --device cpu|cuda)", ("numba", "torch"))
    device: str = opt("cpu", "torch device for --backend torch", ("cpu", "cuda"))
    batch_size: int = opt(65536, "mini-batch size for the torch backend")
    workers: int = opt(2, "worker threads (Hogwild when > 1)")
    seed: int = opt(1, "random seed")


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)
