"""`embedkit.train(model, corpus=..., **options)`: one entry point for every model family.

MODELS is the one table of models: a name -> its config class, the config values the name fixes,
its trainer, its native-format kind, the extra inputs it accepts, and how it reads its corpus
(the corpus config class and a reader; the default is the text pipeline, corpus/prepare.py).
Options are split between the corpus config (CorpusConfig: tokenizer, min_count, ...; the
classifier's LabelledCorpusConfig: label_prefix, min_count) and the model's config. An option that belongs to neither
is an error naming the Python keyword and what embedkit calls it (gensim's vector_size is dim,
iter is epochs, alpha is lr, ...: embedkit/synonyms.py) or the model it belongs to; an option that
does not apply to this model's settings is an error saying why (config.inapplicable). Every
trainer has the signature trainer(EncodedCorpus, config, TrainContext) and returns a TrainResult
(trainers/runner.py).

phrases=N (a CorpusConfig field) joins frequent bigrams before the vocabulary is built, N passes
of word2phrase (corpus/phrases.py): on the fly, nothing written out; cached with the encoding.

corpus= takes a path, a list of paths, an EncodedCorpus, None (the bundled corpus), or any
iterable of token lists (gensim's `sentences`: a list, a generator, a reader object). Token lists
are read once, re-iterable or not, and held encoded in memory (4 bytes per token; see
corpus/tokenlists.py): nothing is cached on disk and the tokens are taken as given (no tokenizer).

The lifecycle options (callbacks, checkpoints, resume, continued training) and the distributed
ones are wired in trainers/lifecycle.py; embedkit.resume is there too.
"""
from __future__ import annotations

import dataclasses
import difflib
import importlib
import contextlib
import itertools
import os
import time
from typing import Callable, NamedTuple

from embedkit.config import (CLI, PYTHON, ClassifierConfig, CorpusConfig, FastTextConfig, GloVeConfig,
                             LabelledCorpusConfig, OptionError, Spelling, Word2VecConfig, inapplicable,
                             resolved)
from embedkit.errors import EmbedkitError
from embedkit.synonyms import foreign_keyword_hint
from embedkit.trainers import lifecycle
from embedkit.trainers.runner import TrainContext


class Model(NamedTuple):
    config: type                 # the config dataclass
    family: str                  # the backend family (trainers/backends.py)
    fixed: dict                  # config fields the model name sets
    trainer: str                 # "module:function" (imported when used)
    kind: str                    # native-format kind (formats/native.py LOADERS)
    inputs: frozenset = frozenset()   # TrainContext fields beyond quiet/cache that this model uses
    corpus: type = CorpusConfig       # the corpus options' dataclass
    reader: str = ""                  # "module:function"(corpus, corpus_cfg) -> the trainer's corpus; "": text pipeline
    refuses: tuple = ()               # (train() keyword, why it does not apply to this model)


# the classifier's runner has no word vectors to evaluate and continued.py knows no labels or bucket rows
_CONTINUED_WHY = ("continued training goes on from a word model's vocabulary and vectors; train a new classifier "
                  "on all the labelled text, or start its word rows from vectors with --pretrained-vectors")
CLASSIFIER_REFUSES = (
    ("init", _CONTINUED_WHY), ("update_vocab", _CONTINUED_WHY), ("lr_schedule", _CONTINUED_WHY),
    ("eval_every_epoch", "it scores word analogies and similarities; measure a classifier on labelled lines "
                         "with `embedkit test MODEL FILE` (or Classifier.test) after training"),
)


MODELS = {
    "skipgram": Model(Word2VecConfig, "word2vec", {"arch": "skipgram"}, "embedkit.trainers.word2vec:train_word2vec", "word2vec"),
    "cbow": Model(Word2VecConfig, "word2vec", {"arch": "cbow"}, "embedkit.trainers.word2vec:train_word2vec", "word2vec"),
    "fasttext": Model(FastTextConfig, "word2vec", {}, "embedkit.trainers.subword:train_subword", "fasttext"),
    "glove": Model(GloVeConfig, "glove", {}, "embedkit.trainers.glove:train_glove", "glove", frozenset({"cooccur"})),
    "classifier": Model(ClassifierConfig, "classifier", {}, "embedkit.trainers.classifier:train_classifier",
                        "classifier", corpus=LabelledCorpusConfig, reader="embedkit.corpus.labelled:read_labelled",
                        refuses=CLASSIFIER_REFUSES),
}
CORPUS_FIELDS = {f.name for f in dataclasses.fields(CorpusConfig)}


def corpus_fields(model: str) -> set[str]:
    """The corpus options of `model` (its row's corpus config)."""
    return {f.name for f in dataclasses.fields(MODELS[model].corpus)}


def model_fields(model: str) -> set[str]:
    row = MODELS[model]
    return {f.name for f in dataclasses.fields(row.config)} - set(row.fixed)


def _model_spelling(model: str, spelling: Spelling) -> Spelling:
    """`spelling`, except that a field the model name fixes (arch) is spelled as the model."""
    fixed = MODELS[model].fixed

    def value(name, v):
        if name in fixed:
            names = [m for m, row in MODELS.items() if row.fixed.get(name) == v]
            shown = names[0] if names else v
            return f"--model {shown}" if spelling is CLI else f"model {shown!r}"
        return spelling.value(name, v)
    return Spelling(spelling.name, value)


def _unknown_keyword(model: str, name: str, allowed: set[str]) -> str:
    """Why `name` is not an option of `model`, with the right one when there is one."""
    hint = foreign_keyword_hint(name, allowed | {"corpus"})
    if hint:
        return f"{name}= is not an option of embedkit.train; {hint}"
    owners = [m for m in MODELS if name in model_fields(m) | corpus_fields(m) and m != model]
    if owners:
        return f"{name}= is an option of model {' and '.join(map(repr, owners))}, not of {model!r}"
    close = difflib.get_close_matches(name, sorted(allowed), n=3, cutoff=0.6)
    return f"{name}= is not an option of model {model!r}" + (f"; did you mean {' or '.join(close)}?" if close else "")


def make_configs(model: str, options: dict, spelling: Spelling = PYTHON, inputs=(),
                 token_lists: bool = False) -> tuple[CorpusConfig, object]:
    """Split options into (CorpusConfig, model config); None values mean "not given". Errors name
    options in `spelling` (PYTHON: keywords; CLI: flags). `inputs`: train() inputs given besides
    the corpus (e.g. "cooccur"); token_lists: the corpus is in-memory token lists."""
    if model not in MODELS:
        close = difflib.get_close_matches(str(model), list(MODELS), n=1)
        raise EmbedkitError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}"
                            + (f" (did you mean {close[0]!r}?)" if close else ""))
    cls, fixed, corpus_cls = MODELS[model].config, MODELS[model].fixed, MODELS[model].corpus
    allowed, corpus_names = model_fields(model), corpus_fields(model)
    given = {k: v for k, v in options.items() if v is not None}
    unknown = [k for k in given if k not in allowed and k not in corpus_names]
    if unknown:
        raise EmbedkitError("; ".join(_unknown_keyword(model, k, allowed | corpus_names) for k in unknown))
    try:
        corpus_cfg = corpus_cls(**{k: v for k, v in given.items() if k in corpus_names})
        model_cfg = cls(**{k: v for k, v in given.items() if k in allowed}, **fixed)
    except OptionError as e:
        raise EmbedkitError(e.spelled(spelling)) from None
    spell = _model_spelling(model, spelling)
    problems = inapplicable(model_cfg, given, spell, inputs) + inapplicable(corpus_cfg, given, spell)
    if token_lists:
        problems += [f"{spell.name(f.name)} does not apply to in-memory token lists (their tokens are taken "
                     "as given)" for f in dataclasses.fields(corpus_cls)
                     if f.metadata.get("text_only") and f.name in given]
    if problems:
        raise EmbedkitError("; ".join(problems))
    return corpus_cfg, model_cfg


def token_lists_of(corpus):
    """The corpus as an iterable of token lists (the first one looked at, then put back), or None
    when it is a path, a list of paths, an EncodedCorpus or None."""
    from embedkit.corpus.encoded import EncodedCorpus
    if corpus is None or isinstance(corpus, (str, bytes, os.PathLike, EncodedCorpus)):
        return None
    if isinstance(corpus, (list, tuple)):
        if not corpus:
            raise EmbedkitError("corpus is an empty list: give paths or token lists")
        return corpus if not isinstance(corpus[0], (str, os.PathLike)) else None
    try:
        it = iter(corpus)
    except TypeError:
        raise EmbedkitError(f"corpus must be a path, a list of paths or an iterable of token lists, "
                            f"got {type(corpus).__name__}") from None
    first = next(it, None)
    if first is None:
        raise EmbedkitError("corpus is an empty iterable: it gave no sentence")
    if isinstance(first, (str, os.PathLike)):
        raise EmbedkitError("corpus is an iterable of strings: give a list of paths, or token lists "
                            "(each sentence a list of words)")
    return itertools.chain([first], it)


def _imported(target: str):
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def _trainer(model: str):
    return _imported(MODELS[model].trainer)


def _read_with(row: Model, model: str, corpus, corpus_cfg):
    """The corpus of a model with its own reader (row.reader): paths only."""
    from embedkit.corpus.encoded import EncodedCorpus
    if isinstance(corpus, EncodedCorpus) or token_lists_of(corpus) is not None:
        raise EmbedkitError(f"model {model!r} reads its own files: give corpus= a path or a list of paths")
    return _imported(row.reader)(corpus, corpus_cfg)


def check_refused(model: str, given: dict) -> None:
    """One error for the first train() keyword given (not None, not False) that `model` refuses
    (its row's `refuses`), naming the keyword and its CLI flag."""
    row = MODELS.get(model)
    for name, why in row.refuses if row is not None else ():
        if given.get(name) not in (None, False):
            raise EmbedkitError(f"{CLI.name(name)} ({name}=) does not apply to the {model}: {why}")


def check_memory_before_corpus(model: str, cfg) -> None:
    """The memory check (embedkit/memory.py) on the rows known before the vocabulary is (n-gram
    buckets), so that a setting that cannot fit is refused before the corpus is read. Each
    trainer module's weight_arrays(cfg, V) says what it allocates (a module without one is not
    checked); the trainer checks again with the real vocabulary."""
    from embedkit.memory import check_fits
    plan = getattr(importlib.import_module(MODELS[model].trainer.split(":")[0]), "weight_arrays", None)
    if plan is not None:
        check_fits(*plan(cfg, 0))


def train(model: str, corpus=None, *, output: str | os.PathLike | None = None, quiet: bool = True,
          cache: bool = True, cooccur=None, report: Callable[[str], None] | None = None,
          callbacks=None, eval_every_epoch: bool = False, log_every: int | None = None,
          checkpoint_every=None, init=None, update_vocab: bool = False, lr_schedule: str | None = None,
          _resume=None, distributed: bool = False, sync_every: int | None = None,
          sync_timeout: float | None = None, sync_rule: str | None = None, hot_rows: int | None = None,
          hot_sync_every: int | None = None, warm_rows: int | None = None, **options):
    """Train `model` ("skipgram", "cbow", "fasttext", "glove", "classifier") and return its Embeddings
    (for "classifier", a Classifier: embedkit/classifier.py, with predict and test).

    corpus: a path, a list of paths (files, folders, .gz/.bz2/.xz), an EncodedCorpus, None for
    the bundled default corpus, or any iterable of token lists ([["the", "cat"], ...], a
    generator: read once, held encoded in memory, see the module doc). options: any field of
    CorpusConfig or of the model's config (embedkit/config.py), e.g. dim=100, window=5,
    min_count=5, epochs=5, workers=2, seed=1, backend="numba"|"torch", device="cpu"|"cuda".
    The classifier reads fastText's labelled format from paths (corpus/labelled.py).
    output: a folder to save the model in (vectors.txt + the native format). cooccur: GloVe only,
    a prepared co-occurrence matrix (scipy.sparse or the path of an `embedkit cooccur` .npz).
    report: called with the one-line corpus summary before training (the CLI prints it).
    distributed: this process is one rank of a run started by torchrun (embedkit/distributed/):
    it trains its shard and syncs all rows with the others every sync_every words (GloVe: entries)
    per rank, combining the ranks' updates by sync_rule ("sum", "adaptive" or "bmuf",
    distributed/rules.py), and its hot_rows rows that moved most every hot_sync_every words, by
    block momentum (distributed/sync.py; default 4096 rows every sync_every / 4 at 2 ranks,
    16384 every sync_every / 16 from 3 on, GloVe / 32; hot_rows=0: no hot syncs); with
    warm_rows (default 8192 at 2 ranks for the word2vec family, else 0), all rows only at every
    4th of those syncs and at the others the warm_rows rows that moved most after the hot ones;
    a rank that is gone stops the others within sync_timeout seconds; rank 0 writes output.

    The training lifecycle: callbacks, a list of objects with on_train_begin / on_epoch_end /
    on_words (every_words) / on_train_end (trainers/callbacks.py); eval_every_epoch: analogy and
    similarity after every epoch, in the log's epoch entries; log_every: a loss_curve point every
    N words (default: 20 per epoch); checkpoint_every: words ("10M") or seconds ("600s") between
    checkpoints into output/checkpoint/ (trainers/checkpoint.py; resume with embedkit.resume);
    init: a trained model (Embeddings from train() or load(MODEL_DIR), or the folder) to go on
    from, with update_vocab (add the new corpus's words) and lr_schedule ("restart" | "continue")
    (trainers/continued.py).
    """
    from embedkit.corpus.prepare import prepare_corpus
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.corpus.summary import corpus_summary
    from embedkit.trainers.backends import check_backend

    row = MODELS.get(model)
    inputs = {"cooccur"} if cooccur is not None else set()
    if row is not None and inputs - row.inputs:
        users = [m for m, r in MODELS.items() if "cooccur" in r.inputs]
        raise EmbedkitError(f"cooccur= applies only to model {' and '.join(map(repr, users))}, not {model!r}")
    check_refused(model, {"init": init, "update_vocab": update_vocab, "lr_schedule": lr_schedule,
                          "eval_every_epoch": eval_every_epoch})
    lifecycle.check_log_every(log_every)
    sentences = None if row is not None and row.reader else token_lists_of(corpus)
    start = None
    if init is not None:
        from embedkit.trainers.continued import Start
        if row is None:
            make_configs(model, {})                                   # the unknown-model error
        start = Start.load(init, model)
        options = {**start.defaults(model, sentences is not None), **{k: v for k, v in options.items() if v is not None}}
    lifecycle.check_continued(init, update_vocab, lr_schedule)
    corpus_cfg, model_cfg = make_configs(model, options, PYTHON, inputs, token_lists=sentences is not None)
    check_backend(row.family, model_cfg.backend, model_cfg.device)
    if start is not None:
        start.check(model_cfg, lr_schedule, row.family)
    lifecycle.check_checkpoints(checkpoint_every, output)
    if output is not None:                   # before any work: a long run is not lost to a bad path
        from embedkit.fsutil import Output, check_outputs
        check_outputs([Output(output, "dir", "output")])
    check_memory_before_corpus(model, model_cfg)
    cooccur_path = os.path.abspath(cooccur) if isinstance(cooccur, (str, os.PathLike)) else None
    if cooccur_path is not None:
        from embedkit.corpus.cooccur import load_cooccur
        cooccur = load_cooccur(cooccur)
    ranks, _resume = lifecycle.start_ranks(distributed, row.family, model_cfg.device, sync_every, sync_timeout,
                                           output=output, resume=_resume, corpus=corpus, sync_rule=sync_rule,
                                           hot_rows=hot_rows, hot_sync_every=hot_sync_every, warm_rows=warm_rows,
                                           settings={"model": model, **resolved(corpus_cfg), **resolved(model_cfg),
                                                     "init": init is not None,
                                                     "update_vocab": update_vocab,
                                                     "lr_schedule": start and start.lr_schedule,
                                                     "checkpoint_every": lifecycle.every(checkpoint_every)})
    try:
        t0 = time.perf_counter()
        # continued training reads the new text with every word kept: old words count whatever their count in it
        read_cfg = corpus_cfg if start is None else dataclasses.replace(corpus_cfg, min_count=1, max_size=None)
        if row.reader:
            encoded = _read_with(row, model, corpus, corpus_cfg)
        elif sentences is not None:
            from embedkit.corpus.phrases import base_config
            from embedkit.corpus.tokenlists import encode_token_lists
            encoded = encode_token_lists(sentences, base_config(read_cfg) if read_cfg.phrases else read_cfg)
        elif isinstance(corpus, EncodedCorpus):
            encoded = corpus
        elif ranks is not None:     # each node's first rank prepares (into the cache), then the others
            encoded = ranks.prepare(lambda: prepare_corpus(corpus, read_cfg, cache=cache))
        else:
            encoded = prepare_corpus(corpus, read_cfg, cache=cache)     # phrases included, cached
        if not row.reader and read_cfg.phrases and (sentences is not None or isinstance(corpus, EncodedCorpus)):
            from embedkit.corpus.phrases import phrase_encoded
            encoded = phrase_encoded(encoded, read_cfg)
        if start is not None:
            encoded = start.corpus(encoded, update_vocab, corpus_cfg.min_count)
        prep_seconds = time.perf_counter() - t0
        recipe = lifecycle.recipe(model, options, corpus, sentences, cooccur_path, start, encoded, _resume,
                                  update_vocab=update_vocab, lr_schedule=lr_schedule, log_every=log_every,
                                  eval_every_epoch=eval_every_epoch, checkpoint_every=checkpoint_every,
                                  distributed=ranks and {"ranks": ranks.group.world, **ranks.given})
        hooks, checkpointer = lifecycle.hooks(output, callbacks, eval_every_epoch, checkpoint_every, recipe)
        ctx = TrainContext(quiet=quiet, cache=cache, cooccur=cooccur, hooks=hooks, log_every=log_every,
                           resume=_resume, init=start)
        shard, run_cfg = encoded, model_cfg
        if ranks is not None:
            shard, run_cfg, ctx = ranks.setup(encoded, model_cfg, ctx, checkpointer)
        with checkpointer or contextlib.nullcontext():
            # the summary is the last word before training: from here on Ctrl-C goes to the checkpointer
            if report is not None and (ranks is None or ranks.rank == 0):
                report(encoded.summary() if row.reader else corpus_summary(encoded, corpus_cfg.min_count))
            result = _trainer(model)(shard, run_cfg, ctx)
    except BaseException as e:
        if ranks is not None:
            ranks.fail(e)
        raise
    emb = result.embeddings
    log = {"model": model, "corpus_config": dataclasses.asdict(corpus_cfg),
           "corpus": getattr(encoded, "stats", None) and encoded.stats.as_dict(),
           "prepare_seconds": prep_seconds, **result.log}
    log.update(lifecycle.log_fields(checkpointer, _resume, start))
    if ranks is not None:
        log["config"] = dataclasses.asdict(model_cfg)
        if "corpus_tokens" in log:          # the whole corpus's, not rank 0's shard's (a continued run reads it)
            log["corpus_tokens"] = int(encoded.n_tokens)
        log["distributed"] = ranks.log(log)
        ranks.close()
        if ranks.rank != 0:
            output = None
    if output is not None:
        from embedkit.io import save_model
        save_model(output, emb, kind=row.kind, arrays=result.arrays, training_log=log,
                   config={"model": model, **dataclasses.asdict(model_cfg),
                           "corpus": dataclasses.asdict(corpus_cfg)})
        if checkpoint_every is not None:
            from embedkit.trainers.checkpoint import remove_checkpoint
            remove_checkpoint(output)
    emb.training_log = log
    emb.training_parts = {"source": output and os.path.abspath(output), "model": model, "training_log": log,
                          "config": {"model": model, **dataclasses.asdict(model_cfg),
                                     "corpus": dataclasses.asdict(corpus_cfg)}, "arrays": result.arrays}
    return emb
