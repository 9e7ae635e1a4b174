"""`embedkit train --model MODEL ...`: MODEL's own options, generated from its config.

The models are the rows of trainers/api.py MODELS. `embedkit train --model X` is parsed by a
parser made for X (cli/parser.py asks `specialize`): X's config fields become its flags, and
`--help` shows X's options with the values X's config really uses, each default once. Options
another model has are unknown to X and say whose they are; options of X that its other settings
make moot (`--negative` with `--objective hs`) are errors saying why (config.inapplicable).
Before training a one-line corpus summary goes to stderr.
"""
from __future__ import annotations

import dataclasses
import sys

from embedkit.cli.common import add_corpus_arg, add_no_cache_arg
from embedkit.cli.options import add_config_options
from embedkit.config import CLI, CorpusConfig
from embedkit.distributed.rules import SYNC_RULES


def _models():
    from embedkit.trainers.api import MODELS
    return MODELS


def _describe(name: str, row) -> str:
    doc = (row.config.__doc__ or "").strip().splitlines()[0].rstrip(".")
    fixed = ", ".join(f"{k} {v}" for k, v in row.fixed.items())
    return f"{name}: {doc}" + (f" ({fixed})" if fixed else "")


# train() inputs beyond the corpus, as flags; a model's row lists the ones it takes (Model.inputs)
INPUT_FLAGS = {"cooccur": dict(flag="--cooccur", metavar="FILE.npz",
                               help="use this co-occurrence matrix (an `embedkit cooccur` output) instead of "
                                    "counting one")}


def _add_common(p, models, corpus_cls=CorpusConfig) -> None:
    p.add_argument("--model", choices=list(models),
                   help="the model to train (required, except with --resume); `--model X --help` shows X's own "
                        "options and defaults")
    add_corpus_arg(p, "-input")
    p.add_argument("--output", "-o", "-output", metavar="DIR", help="output folder (required, except with --resume)")
    add_no_cache_arg(p)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    d = p.add_argument_group("distributed training (start with torchrun; README: Training on several machines)")
    d.add_argument("--distributed", action="store_true",
                   help="this process is one rank of a torchrun launch: train its shard, sync with the others, "
                        "rank 0 writes the output")
    d.add_argument("--sync-every", type=int, metavar="N",
                   help="words (GloVe: co-occurrence entries) each rank trains between two full syncs (of all rows, "
                        "or of the hot and warm ones: --warm-rows) "
                        "(default: 524288 words, 8388608 entries)")
    d.add_argument("--sync-rule", choices=tuple(SYNC_RULES),
                   help="how the ranks' updates of the rows outside the hot set combine: sum (the default), "
                        "adaptive (a per-row gain between their sum and their mean) or bmuf (block momentum)")
    d.add_argument("--hot-rows", type=int, metavar="H",
                   help="rows of each array (the H that moved most) synced every --hot-sync-every words and "
                        "combined by block momentum; 0: none (default: 4096 at 2 ranks, 16384 from 3 on)")
    d.add_argument("--warm-rows", type=int, metavar="W",
                   help="all rows only at every 4th sync of --sync-every; at the others, the hot rows and the W "
                        "rows that moved most after them; 0: all rows at every one (default: 8192 at 2 ranks for "
                        "skipgram, cbow and fasttext, else 0)")
    d.add_argument("--hot-sync-every", type=int, metavar="N",
                   help="words (GloVe: entries) each rank trains between two syncs of the hot rows "
                        "(default: --sync-every / 4 at 2 ranks, / 16 from 3 on, GloVe / 32 from 3 on)")
    d.add_argument("--sync-timeout", type=float, metavar="SECONDS", default=60.0,
                   help="how long a sync waits for a rank that does not answer before every rank stops "
                        "(default: 60)")
    add_config_options(p, corpus_cls, group_title="corpus options", instance=corpus_cls())
    life = p.add_argument_group("training lifecycle (see the README's 'Training lifecycle')")
    life.add_argument("--eval-every-epoch", action="store_true", default=None,
                      help="evaluate analogy and similarity after every epoch, into the training log's epoch entries")
    life.add_argument("--log-every", type=int, metavar="N",
                      help="a loss_curve point in the training log every N words (GloVe: pairs) (default: 20 per epoch)")
    life.add_argument("--checkpoint-every", metavar="N|Ns",
                      help="write a checkpoint into DIR/checkpoint/ every N words read (10000000, 500k, 10M; GloVe: "
                           "pairs) or every N seconds with an s suffix (600s); words are the default unit "
                           "(default: no checkpoints)")
    life.add_argument("--resume", metavar="DIR", help="go on from DIR/checkpoint/ with the config saved there; "
                                                    "other options must agree with it")
    life.add_argument("--init", metavar="MODEL_DIR", help="continued training: start from this trained model folder")
    life.add_argument("--update-vocab", action="store_true", default=None,
                      help="with --init: add the new corpus's words that reach --min-count (counts merged)")
    life.add_argument("--lr-schedule", choices=("restart", "continue"),
                      help="with --init: restart the learning-rate decay from --lr, or continue one decay over the "
                           "trained model's words and the new ones (default: restart; GloVe: continue, which keeps its AdaGrad "
                           "accumulators)")
    p.set_defaults(func=run, outputs=outputs)


def outputs(args):
    from embedkit.fsutil import Output, cache_output
    return [Output(args.output, "dir", "--output"), *cache_output(args)]


def register(sub):
    models = _models()
    p = sub.add_parser(
        "train", help="train a model and save vectors.txt + the native model folder",
        description="Train word embeddings. Defaults follow each model's reference tool (word2vec C, fastText, "
                    "Stanford GloVe). `embedkit train --model MODEL --help` lists MODEL's own options with the "
                    "defaults it uses. Models: " + "; ".join(_describe(n, r) for n, r in models.items()) + ".")
    _add_common(p, models)
    owners = _option_owners(models)
    p.unknown_option_notes = {flag: ("every model has it" if len(names) == len(models) else
                                     f"an option of --model {' and '.join(names)}") + ": give --model first"
                              for flag, names in owners.items()}
    p.specialize = model_parser


def model_options(row) -> list[str]:
    """The fields of a model's config that are its options: not fixed by the model's name, and
    not moot because of a fixed one (sg_update needs arch skipgram, which cbow fixes to cbow)."""
    return [f.name for f in dataclasses.fields(row.config) if f.name not in row.fixed and
            all(row.fixed[k] in allowed for k, allowed in f.metadata.get("when", {}).items() if k in row.fixed)]


def _option_owners(models) -> dict[str, list[str]]:
    """--flag -> the models that have it (their config fields, not the corpus's)."""
    owners: dict[str, list[str]] = {}
    for name, row in models.items():
        corpus_only = [f.name for f in dataclasses.fields(row.corpus) if f.name not in
                       {g.name for g in dataclasses.fields(CorpusConfig)}]
        for f in model_options(row) + corpus_only:
            owners.setdefault("--" + f.replace("_", "-"), []).append(name)
    for inp, spec in INPUT_FLAGS.items():
        owners[spec["flag"]] = [n for n, r in models.items() if inp in r.inputs]
    return owners


def model_named(argv: list[str]) -> str | None:
    """The value of --model (or --model=X, or an abbreviation such as --mod) in argv."""
    for i, tok in enumerate(argv):
        name, eq, value = tok.partition("=")
        if len(name) >= 4 and "--model".startswith(name):
            return value if eq else (argv[i + 1] if i + 1 < len(argv) else None)
    return None


def _resumed_model(argv: list[str]) -> str | None:
    """The model of the checkpoint named by --resume DIR in argv, or None."""
    for i, tok in enumerate(argv):
        name, eq, value = tok.partition("=")
        if len(name) >= 5 and "--resume".startswith(name):
            folder = value if eq else (argv[i + 1] if i + 1 < len(argv) else None)
            if folder:
                from embedkit.trainers.checkpoint import checkpoint_recipe
                try:
                    return checkpoint_recipe(folder)["model"]
                except Exception:   # noqa: BLE001 - run() reports the missing or damaged checkpoint
                    return None
    return None


def model_parser(argv: list[str]):
    """The parser of the model named in argv, or None (the generic parser then reports)."""
    from embedkit.cli.parser import Parser
    from embedkit.trainers.api import make_configs

    models = _models()
    model = model_named(argv) or _resumed_model(argv)
    if model not in models:
        return None
    row = models[model]
    p = Parser(prog="embedkit train", description=f"Train {_describe(model, row)}. Defaults are this model's; "
                                                  "options that need other settings say so.")
    _add_common(p, models, row.corpus)
    for inp in sorted(row.inputs):
        spec = dict(INPUT_FLAGS[inp])
        p.add_argument(spec.pop("flag"), dest=inp, **spec)
    _, cfg = make_configs(model, {})
    skip = {f.name for f in dataclasses.fields(row.config)} - set(model_options(row))
    add_config_options(p, row.config, skip=skip, group_title=f"{model} options", instance=cfg)
    mine = set(p._option_string_actions)
    p.unknown_option_notes = {flag: f"an option of --model {' and '.join(names)}, not {model}"
                              for flag, names in _option_owners(models).items() if flag not in mine}
    return p


LIFECYCLE = ("eval_every_epoch", "log_every", "checkpoint_every", "update_vocab", "lr_schedule")


def run(args) -> int:
    import os
    from embedkit.errors import EmbedkitError
    from embedkit.trainers.api import check_refused, corpus_fields, make_configs, model_fields, train
    from embedkit.trainers.lifecycle import check_continued, check_log_every, resume
    from embedkit.trainers.checkpoint import Interrupted, checkpoint_recipe

    report = lambda line: print(line, file=sys.stderr, flush=True)   # noqa: E731
    lifecycle = {k: getattr(args, k) for k in LIFECYCLE if getattr(args, k) is not None}
    if args.resume:
        model = checkpoint_recipe(args.resume)["model"]
        if args.model is not None and args.model != model:
            raise EmbedkitError(f"--model {args.model} conflicts with the checkpoint in {args.resume} (--model {model})")
        if args.output is not None and os.path.abspath(args.output) != os.path.abspath(args.resume):
            raise EmbedkitError(f"--output {args.output} conflicts with --resume {args.resume}: a resumed run "
                                "writes where it was going to")
        if args.init is not None:
            raise EmbedkitError("--init conflicts with --resume: the checkpoint says where the run started from")
        args.model, args.output = model, args.resume
    elif args.model is None or args.output is None:
        raise EmbedkitError("--model and --output are required (or --resume DIR)")
    names = corpus_fields(args.model) | model_fields(args.model)
    options = {k: getattr(args, k) for k in names if getattr(args, k, None) is not None}
    inputs = {k for k in INPUT_FLAGS if getattr(args, k, None) is not None}
    make_configs(args.model, options, CLI, inputs)          # errors in the flags' spelling, before any work
    check_log_every(args.log_every, CLI)
    if not args.resume:                 # a model that refuses them says so first (the classifier)
        check_refused(args.model, {k: getattr(args, k) for k in ("init", "update_vocab", "lr_schedule")})
        check_continued(args.init, args.update_vocab, args.lr_schedule, CLI)
    sync = {"distributed": args.distributed, "sync_every": args.sync_every, "sync_rule": args.sync_rule,
            "hot_rows": args.hot_rows, "hot_sync_every": args.hot_sync_every, "warm_rows": args.warm_rows,
            "sync_timeout": args.sync_timeout if args.distributed else None}
    try:
        if args.resume:
            if inputs:
                raise EmbedkitError("--cooccur conflicts with --resume: the checkpoint says which matrix the run used")
            emb = resume(args.resume, args.corpus, quiet=args.quiet, cache=not args.no_cache, report=report,
                         **sync, **options, **lifecycle)
        else:
            emb = train(args.model, args.corpus, output=args.output, quiet=args.quiet, cache=not args.no_cache,
                        cooccur=getattr(args, "cooccur", None), report=report, init=args.init, **sync,
                        **options, **lifecycle)
    except Interrupted as e:
        again = (f"torchrun ... -m embedkit train --resume {args.output} --distributed" if args.distributed
                 else f"embedkit train --resume {args.output}")
        if os.environ.get("RANK", "0") == "0" or not args.distributed:        # one rank says it
            print(f"embedkit train: interrupted; checkpoint written to {os.path.dirname(e.path)}; go on with "
                  f"`{again}`", file=sys.stderr)
        return 130
    log = emb.training_log
    ranks = log.get("distributed")
    if ranks and ranks["rank"] != 0:
        return 0
    last = log["epochs"][-1]
    metric = "cost" if "cost" in last else "loss"
    unit = "pair" if "pairs_per_second" in log else "word"
    print(f"trained {args.model}: {len(emb):,} words x {emb.dim} dims in {log['train_seconds']:.1f} s "
          f"({log[unit + 's_per_second']:,.0f} {unit}s/s, {log['train_seconds'] / len(log['epochs']):.1f} s/epoch), "
          f"final {metric} {last[metric]:.6g} -> {args.output}")
    if ranks:
        print(f"distributed: {ranks['ranks']} ranks, {ranks['units_per_second_all_ranks']:,.0f} {unit}s/s in all, "
              f"{ranks['syncs']} syncs of {ranks['bytes_per_sync'] / 1e6:,.1f} MB and {ranks['hot_syncs']} of "
              f"{ranks['bytes_per_hot_sync'] / 1e6:,.1f} MB in {ranks['sync_seconds']:.1f} s "
              f"({ranks['sync_wait_seconds']:.1f} s of it waiting for the slowest rank)")
    return 0
