"""`embedkit.train(model, corpus=..., **options)`: one entry point for every model family.

MODELS maps a model name to its config class, fixed config values and trainer. Options are split
between CorpusConfig (tokenizer, min_count, ...) and the model's config; an option that belongs to
neither is an error naming it.
"""
from __future__ import annotations

import dataclasses
import importlib
import os
import time

from embedkit.config import CorpusConfig, FastTextConfig, GloVeConfig, Word2VecConfig
from embedkit.errors import EmbedkitError

# name -> (config class, fixed fields, "module:function" of the trainer, native-format kind)
MODELS = {
    "skipgram": (Word2VecConfig, {"arch": "skipgram"}, "embedkit.trainers.word2vec:train_word2vec", "word2vec"),
    "cbow": (Word2VecConfig, {"arch": "cbow"}, "embedkit.trainers.word2vec:train_word2vec", "word2vec"),
    "fasttext": (FastTextConfig, {}, "embedkit.trainers.subword:train_subword", "fasttext"),
    "glove": (GloVeConfig, {}, "embedkit.trainers.glove:train_glove", "glove"),
}
CORPUS_FIELDS = {f.name for f in dataclasses.fields(CorpusConfig)}


def model_fields(model: str) -> set[str]:
    cls, fixed, _, _ = MODELS[model]
    return {f.name for f in dataclasses.fields(cls)} - set(fixed)


def make_configs(model: str, options: dict) -> tuple[CorpusConfig, object]:
    """Split options into (CorpusConfig, model config); None values mean "not given"."""
    if model not in MODELS:
        raise EmbedkitError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    cls, fixed, _, _ = MODELS[model]
    allowed = model_fields(model)
    given = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(given) - allowed - CORPUS_FIELDS)
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise EmbedkitError(f"{flags} do(es) not apply to --model {model}")
    corpus_cfg = CorpusConfig(**{k: v for k, v in given.items() if k in CORPUS_FIELDS})
    model_cfg = cls(**{k: v for k, v in given.items() if k in allowed}, **fixed)
    return corpus_cfg, model_cfg


def _trainer(model: str):
    module, func = MODELS[model][2].split(":")
    return getattr(importlib.import_module(module), func)


def train(model: str, corpus=None, *, output: str | os.PathLike | None = None, quiet: bool = True,
          cache: bool = True, cooccur=None, **options):
    """Train `model` ("skipgram", "cbow", "fasttext", "glove") and return its Embeddings.

    corpus: a path, a list of paths (files, folders, .gz/.bz2/.xz), an EncodedCorpus, or None for
    the bundled default corpus. options: any field of CorpusConfig or of the model's config
    (embedkit/config.py), e.g. dim=100, window=5, min_count=5, epochs=5, workers=2, seed=1.
    output: a folder to save the model in (vectors.txt + the native format).
    """
    from embedkit.corpus.encode import prepare_corpus
    from embedkit.corpus.encoded import EncodedCorpus

    corpus_cfg, model_cfg = make_configs(model, options)
    t0 = time.perf_counter()
    encoded = corpus if isinstance(corpus, EncodedCorpus) else prepare_corpus(corpus, corpus_cfg, cache=cache)
    prep_seconds = time.perf_counter() - t0
    kwargs = {"cooccur": cooccur, "cache": cache} if model == "glove" else {}
    emb, arrays, log = _trainer(model)(encoded, model_cfg, quiet=quiet, **kwargs)
    log = {"model": model, "corpus_config": dataclasses.asdict(corpus_cfg),
           "corpus": getattr(encoded, "stats", None) and encoded.stats.as_dict(),
           "prepare_seconds": prep_seconds, **log}
    if output is not None:
        from embedkit.io import save_model
        save_model(output, emb, kind=MODELS[model][3], arrays=arrays, training_log=log,
                   config={"model": model, **dataclasses.asdict(model_cfg),
                           "corpus": dataclasses.asdict(corpus_cfg)})
    emb.training_log = log
    return emb
