"""`embedkit.train(model, corpus=..., **options)`: one entry point for every model family.

MODELS is the one table of models: a name -> its config class, the config values the name fixes,
its trainer, its native-format kind and the extra inputs it accepts. Options are split between
CorpusConfig (tokenizer, min_count, ...) and the model's config; an option that belongs to neither
is an error naming it. Every trainer has the signature trainer(EncodedCorpus, config, TrainContext)
and returns a TrainResult (trainers/runner.py).
"""
from __future__ import annotations

import dataclasses
import importlib
import os
import time
from typing import NamedTuple

from embedkit.config import CorpusConfig, FastTextConfig, GloVeConfig, Word2VecConfig
from embedkit.errors import EmbedkitError
from embedkit.trainers.runner import TrainContext


class Model(NamedTuple):
    config: type                 # the config dataclass
    family: str                  # the backend family (trainers/backends.py)
    fixed: dict                  # config fields the model name sets
    trainer: str                 # "module:function" (imported when used)
    kind: str                    # native-format kind (formats/native.py LOADERS)
    inputs: frozenset = frozenset()   # TrainContext fields beyond quiet/cache that this model uses


MODELS = {
    "skipgram": Model(Word2VecConfig, "word2vec", {"arch": "skipgram"}, "embedkit.trainers.word2vec:train_word2vec", "word2vec"),
    "cbow": Model(Word2VecConfig, "word2vec", {"arch": "cbow"}, "embedkit.trainers.word2vec:train_word2vec", "word2vec"),
    "fasttext": Model(FastTextConfig, "word2vec", {}, "embedkit.trainers.subword:train_subword", "fasttext"),
    "glove": Model(GloVeConfig, "glove", {}, "embedkit.trainers.glove:train_glove", "glove", frozenset({"cooccur"})),
}
CORPUS_FIELDS = {f.name for f in dataclasses.fields(CorpusConfig)}


def model_fields(model: str) -> set[str]:
    row = MODELS[model]
    return {f.name for f in dataclasses.fields(row.config)} - set(row.fixed)


def make_configs(model: str, options: dict) -> tuple[CorpusConfig, object]:
    """Split options into (CorpusConfig, model config); None values mean "not given"."""
    if model not in MODELS:
        raise EmbedkitError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    cls, fixed = MODELS[model].config, MODELS[model].fixed
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
    module, func = MODELS[model].trainer.split(":")
    return getattr(importlib.import_module(module), func)


def train(model: str, corpus=None, *, output: str | os.PathLike | None = None, quiet: bool = True,
          cache: bool = True, cooccur=None, **options):
    """Train `model` ("skipgram", "cbow", "fasttext", "glove") and return its Embeddings.

    corpus: a path, a list of paths (files, folders, .gz/.bz2/.xz), an EncodedCorpus, or None for
    the bundled default corpus. options: any field of CorpusConfig or of the model's config
    (embedkit/config.py), e.g. dim=100, window=5, min_count=5, epochs=5, workers=2, seed=1,
    backend="numba"|"torch", device="cpu"|"cuda". output: a folder to save the model in (vectors.txt
    + the native format). cooccur: GloVe only, a prepared co-occurrence matrix (scipy.sparse or the
    path of an `embedkit cooccur` .npz).
    """
    from embedkit.corpus.prepare import prepare_corpus
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.trainers.backends import check_backend

    corpus_cfg, model_cfg = make_configs(model, options)
    row = MODELS[model]
    check_backend(row.family, model_cfg.backend, model_cfg.device)
    if cooccur is not None and "cooccur" not in row.inputs:
        raise EmbedkitError(f"--cooccur applies only to {', '.join(m for m, r in MODELS.items() if 'cooccur' in r.inputs)}")
    if isinstance(cooccur, (str, os.PathLike)):
        from embedkit.corpus.cooccur import load_cooccur
        cooccur = load_cooccur(cooccur)
    t0 = time.perf_counter()
    encoded = corpus if isinstance(corpus, EncodedCorpus) else prepare_corpus(corpus, corpus_cfg, cache=cache)
    prep_seconds = time.perf_counter() - t0
    result = _trainer(model)(encoded, model_cfg, TrainContext(quiet=quiet, cache=cache, cooccur=cooccur))
    emb = result.embeddings
    log = {"model": model, "corpus_config": dataclasses.asdict(corpus_cfg),
           "corpus": getattr(encoded, "stats", None) and encoded.stats.as_dict(),
           "prepare_seconds": prep_seconds, **result.log}
    if output is not None:
        from embedkit.io import save_model
        save_model(output, emb, kind=row.kind, arrays=result.arrays, training_log=log,
                   config={"model": model, **dataclasses.asdict(model_cfg),
                           "corpus": dataclasses.asdict(corpus_cfg)})
    emb.training_log = log
    return emb
