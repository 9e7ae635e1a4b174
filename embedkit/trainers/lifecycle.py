"""The wiring of train()'s lifecycle and process options around the one runner (trainers/api.py).

train() calls these at fixed points, in this order:

  check_options       before any work: log_every, update_vocab/lr_schedule without init=,
                      checkpoint_every's syntax and its need of output=
  start_ranks         distributed=True: this process's rank of a torchrun launch
                      (embedkit/distributed/run.py), or None; sync options are refused without it.
                      Its checkpoints are the ranks' files (distributed/checkpoints.py)
  recipe              what a checkpoint must know to resume the run (model, options, corpus
                      paths, lifecycle keywords, vocabulary and token counts)
  hooks               the runner hooks of the options: callbacks and --eval-every-epoch
                      (trainers/callbacks.py), checkpoints (trainers/checkpoint.py)
  log_fields          what the lifecycle adds to the training log

resume() is the other entry point: it reads a checkpoint's recipe and calls train() with it.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Callable

from embedkit.errors import EmbedkitError

# train()'s lifecycle keywords a resumed run takes from the checkpoint's recipe
RECIPE_KEYWORDS = ("log_every", "eval_every_epoch", "checkpoint_every", "update_vocab", "lr_schedule")
# and a distributed run's sync options (recipe["distributed"]; sync_timeout may change on resume)
SYNC_KEYWORDS = ("sync_every", "sync_rule", "hot_rows", "hot_sync_every", "warm_rows")


def check_log_every(log_every, spelling=None) -> None:
    """`spelling` (embedkit.config: PYTHON by default, CLI from the command line) names the option."""
    from embedkit.config import PYTHON
    if log_every is not None and (not isinstance(log_every, int) or isinstance(log_every, bool) or log_every < 1):
        raise EmbedkitError(f"{(spelling or PYTHON).name('log_every')} must be a positive number of words, "
                            f"got {log_every!r}")


def check_continued(init, update_vocab, lr_schedule, spelling=None) -> None:
    from embedkit.config import PYTHON
    name = (spelling or PYTHON).name
    if init is None and (update_vocab or lr_schedule is not None):
        raise EmbedkitError(f"{name('update_vocab')} and {name('lr_schedule')} apply only with {name('init')} "
                            "(continued training)")


def every(checkpoint_every):
    """checkpoint_every as it resolves, ("words", 10000000) for "10M" and 10000000 alike; None stays."""
    from embedkit.trainers.checkpoint import parse_every
    return None if checkpoint_every is None else parse_every(checkpoint_every)


def check_checkpoints(checkpoint_every, output) -> None:
    if checkpoint_every is not None:
        from embedkit.trainers.checkpoint import parse_every
        parse_every(checkpoint_every)
        if output is None:
            raise EmbedkitError("checkpoint_every needs output= (the checkpoint goes into OUTPUT/checkpoint/)")


def reads_stdin(corpus) -> bool:
    """Whether the corpus argument names standard input ("-", alone or in a list of paths)."""
    return isinstance(corpus, str) and corpus == "-" or (isinstance(corpus, (list, tuple)) and "-" in corpus)


def start_ranks(distributed: bool, family: str, device: str, sync_every, sync_timeout, *, output, resume,
                corpus=None, sync_rule=None, hot_rows=None, hot_sync_every=None, warm_rows=None, settings=None):
    """(this process's rank of a distributed run (embedkit/distributed/run.py) or None, the
    checkpoint to resume from: a rank's, of the generation every rank holds). settings: the run's
    options, which every rank must share (DistributedRun.agree)."""
    if distributed and reads_stdin(corpus):
        # every rank inherits the launcher's stdin, and whichever reads first takes the text from the
        # others: rank 1 then failed on an empty corpus, or the ranks built different vocabularies
        raise EmbedkitError("--corpus - (standard input) cannot feed a distributed run: the ranks are separate "
                            "processes and only one of them would get the text; save it to a file and give that path")
    if not distributed:
        if any(v is not None for v in (sync_every, sync_timeout, sync_rule, hot_rows, hot_sync_every, warm_rows)):
            raise EmbedkitError("sync_every, sync_rule, sync_timeout, hot_rows, hot_sync_every and warm_rows apply "
                                "only to distributed runs (--distributed)")
        return None, resume
    from embedkit.distributed.run import DistributedRun
    ranks = DistributedRun.start(family, sync_every, sync_timeout, sync_rule, device, hot_rows, hot_sync_every,
                                 warm_rows)
    try:
        ranks.agree(settings or {}, device)
        return ranks, resume and ranks.agree_checkpoint(resume, output)
    except BaseException as e:
        ranks.fail(e)
        raise


def corpus_recipe(corpus, sentences) -> dict:
    """How a resumed run finds the corpus again: its paths, the bundled one, or "given" (in memory)."""
    from embedkit.corpus.encoded import EncodedCorpus
    if corpus is None:
        return {"bundled": True}
    if sentences is not None or isinstance(corpus, EncodedCorpus) or reads_stdin(corpus):
        return {"given": True}
    paths = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
    return {"paths": [os.path.abspath(p) for p in paths]}


def recipe(model: str, options: dict, corpus, sentences, cooccur_path, start, encoded, resume, **keywords) -> dict:
    """The run's recipe (saved in its checkpoints); keywords: RECIPE_KEYWORDS' values. A resumed
    run (resume: its Checkpoint) must see the corpus the checkpoint was trained on."""
    out = {"model": model, "options": {k: v for k, v in options.items() if v is not None},
           "corpus": corpus_recipe(corpus, sentences), "cooccur": cooccur_path,
           "init": start and start.source, "update_vocab": keywords["update_vocab"],
           "lr_schedule": keywords["lr_schedule"], "log_every": keywords["log_every"],
           "eval_every_epoch": keywords["eval_every_epoch"], "checkpoint_every": keywords["checkpoint_every"],
           "distributed": keywords.get("distributed"),
           "vocab_size": len(getattr(encoded, "vocab", ())), "tokens": int(getattr(encoded, "n_tokens", 0))}
    if resume is not None:
        saved = resume.recipe
        for key, what in (("vocab_size", "words in its vocabulary"), ("tokens", "tokens")):
            if saved[key] != out[key]:
                raise EmbedkitError(f"{resume.path}: the checkpoint's corpus had {saved[key]:,} {what}, this one "
                                    f"has {out[key]:,}: resume on the same corpus with the same options")
    return out


def hooks(output, callbacks, eval_every_epoch, checkpoint_every, run_recipe):
    """(the runner hooks of the lifecycle options, the Checkpointer or None)."""
    from embedkit.trainers.callbacks import CallbackHook, EvalEveryEpoch
    from embedkit.trainers.checkpoint import Checkpointer
    found = []
    user = list(callbacks or ())
    if eval_every_epoch:
        user.insert(0, EvalEveryEpoch())
    if user:
        found.append(CallbackHook(user))
    checkpointer = None
    if checkpoint_every is not None:
        checkpointer = Checkpointer(output, run_recipe, checkpoint_every)
        found.append(checkpointer)
    return found, checkpointer


def log_fields(checkpointer, resume, start) -> dict:
    """The training log's lifecycle entries: checkpoints written (and the seconds spent writing
    them), where a resumed run went on, the model a continued run started from."""
    out = {}
    if checkpointer is not None:
        out["checkpoints_written"] = checkpointer.written
        out["checkpoint_seconds"] = checkpointer.seconds
    if resume is not None:
        out["resumed_at"] = {"epoch": resume.runner["epoch"] + 1, "units": int(resume.units)}
    if start is not None:
        out["continued_from"] = start.describe()
    return out


def resume(output, corpus=None, *, quiet: bool = True, cache: bool = True, callbacks=None,
           report: Callable[[str], None] | None = None, distributed: bool = False, sync_timeout=None, **given):
    """Go on with the run whose checkpoint is in output/checkpoint/ and return its Embeddings
    (written to output as at the end). The config is the checkpoint's: an option in `given` that
    differs from it is an error. corpus= is needed only when the run trained on in-memory token
    lists or an EncodedCorpus (the checkpoint has no paths to read again). distributed: this
    process is one rank of a torchrun launch resuming a distributed run, with as many ranks
    (distributed/checkpoints.py); sync_timeout may differ from the run's."""
    from embedkit.trainers.api import make_configs, token_lists_of, train
    from embedkit.trainers.checkpoint import load_checkpoint
    if distributed:
        from embedkit.distributed.group import launch_rank
    ckpt = load_checkpoint(output, launch_rank() if distributed else None)
    saved_recipe = ckpt.recipe
    model, saved = saved_recipe["model"], saved_recipe["options"]
    syncs = saved_recipe.get("distributed") or {}
    options = {k: v for k, v in given.items() if k not in RECIPE_KEYWORDS + SYNC_KEYWORDS and v is not None}
    before = [dataclasses.asdict(c) for c in make_configs(model, saved)]
    after = [dataclasses.asdict(c) for c in make_configs(model, {**saved, **options})]
    conflicts = [f"{k}={options[k]!r} (the checkpoint has {b[k]!r})" for b, a in zip(before, after)
                 for k in b if b[k] != a[k] and k in options]
    conflicts += [f"{k}={v!r} (the checkpoint has {saved_recipe[k]!r})"
                  for k, v in given.items() if k in RECIPE_KEYWORDS and v is not None and saved_recipe[k] != v]
    conflicts += [f"{k}={v!r} (the checkpoint has {syncs.get(k)!r})"
                  for k, v in given.items() if k in SYNC_KEYWORDS and v is not None and syncs.get(k) != v]
    source = saved_recipe["corpus"]
    if corpus is not None and "paths" in source and token_lists_of(corpus) is None:
        paths = [corpus] if isinstance(corpus, (str, os.PathLike)) else list(corpus)
        if [os.path.abspath(p) for p in paths] != source["paths"]:
            conflicts.append(f"corpus {' '.join(map(str, paths))} (the checkpoint has {' '.join(source['paths'])})")
    if conflicts:
        raise EmbedkitError(f"resume takes its config from {ckpt.path}; these options conflict with it: "
                            + ", ".join(conflicts))
    if corpus is None and "given" in source:
        raise EmbedkitError(f"{ckpt.path}: the run trained on a corpus given in memory; pass the same corpus= to resume")
    if corpus is None and "paths" in source:
        corpus = source["paths"]
    keywords = {k: saved_recipe[k] for k in RECIPE_KEYWORDS}
    sync = {k: syncs.get(k) for k in SYNC_KEYWORDS} if distributed else {}
    return train(saved_recipe["model"], corpus, output=output, quiet=quiet, cache=cache,
                 cooccur=saved_recipe["cooccur"], report=report, callbacks=callbacks, init=saved_recipe["init"],
                 _resume=ckpt, distributed=distributed, sync_timeout=sync_timeout, **sync, **keywords,
                 **saved_recipe["options"])
