"""Training curves from a model folder's training log: loss against words (GloVe: pairs) processed,
and the per-epoch evaluation when the log has it.

The log is what trainers/runner.py writes (training_log.json in the model folder):

    loss_curve   [{"epoch": e, "words"|"pairs": units done, "loss"|"cost": mean}, ...]
                 the mean objective over each stretch of about a twentieth of an epoch
    epochs       [{"epoch": e, "loss"|"cost": epoch mean, "examples", "seconds", ...}, ...]

Per-epoch evaluation: every number in an epoch entry that is not the runner's or a backend's
bookkeeping (BOOKKEEPING, and names ending in "seconds" or "_per_second") is an evaluation field.
Nested objects are read with "/" between the keys (analogy/questions-words/accuracy). By default
the curves show the headline scores, the fields whose names end in "accuracy" or "spearman":
`--eval-every-epoch`'s flat eval_analogy_accuracy, eval_wordsim353_spearman, ... (not its coverage),
or, in an object with such keys (the shape of `embedkit evaluate --json`'s entries), those keys
alone (not its per-section figures). A log without such names shows every float field (integers
are counts: seen, total, pairs). `fields` (glob patterns over all the names) picks others.
"""
from __future__ import annotations

import fnmatch
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embedkit.errors import EmbedkitError
from embedkit.plots.figure import image_format, new_figure, save_figure

UNITS = {"words": "words processed", "pairs": "co-occurrence pairs processed"}
METRICS = ("loss", "cost")
BOOKKEEPING = {"epoch", "loss", "cost", "examples", "stopped_early", "cost_sum", "loss_sum", "lr"}
HEADLINE = ("accuracy", "spearman")


@dataclass
class Curves:
    """What the picture shows, read from a training log."""
    source: str                                   # where the log came from (for errors and the title)
    unit: str                                     # "words" or "pairs"
    metric: str                                   # "loss" or "cost"
    points: np.ndarray                            # (P, 3) float64: epoch, units done, metric
    epoch_means: list = field(default_factory=list)    # [(epoch, metric)] from log["epochs"]
    evaluation: dict = field(default_factory=dict)     # field name -> [(epoch, value)]
    title: str = ""


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _bookkeeping(key: str) -> bool:
    return key in BOOKKEEPING or key.endswith("seconds") or key.endswith("_per_second")


def _leaves(entry: dict, headline: bool, prefix: str = ""):
    """(name, value) of the numbers in an epoch entry (see the module doc)."""
    if headline and prefix and any(k in entry for k in HEADLINE):
        for key in HEADLINE:
            if key in entry and (entry[key] is None or _is_number(entry[key])):
                yield prefix + key, entry[key]
        return
    for key, value in entry.items():
        if not prefix and _bookkeeping(key):
            continue
        if isinstance(value, dict):
            yield from _leaves(value, headline, f"{prefix}{key}/")
        elif value is None or _is_number(value):
            if not headline or value is None or isinstance(value, float):
                yield prefix + key, value


def evaluation_fields(epochs: list, fields=None) -> dict:
    """{name: [(epoch, value)]} of the per-epoch evaluation numbers (module doc); `fields`: glob
    patterns over all numeric names, instead of the headline scores."""
    out: dict = {}
    names: set = set()                                  # every numeric name, for the error below
    for entry in epochs:
        for name, value in _leaves(entry, headline=fields is None):
            names.add(name)
            if fields is not None and not any(fnmatch.fnmatchcase(name, p) for p in fields):
                continue
            out.setdefault(name, []).append((entry["epoch"], math.nan if value is None else float(value)))
    unmatched = [p for p in fields or () if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    if unmatched:                                       # a typo would draw the loss alone, silently
        have = (f"they have: {', '.join(sorted(names))}" if names else
                "they have no evaluation numbers: train with --eval-every-epoch")
        raise EmbedkitError(f"--fields (fields=) {', '.join(unmatched)} matches no number of the training log's "
                            f"epochs ({have})")
    # A name that was null in every epoch has nothing to draw.
    out = {k: v for k, v in out.items() if any(math.isfinite(y) for _, y in v)}
    if fields is None:
        out = {k: v for k, v in out.items() if k.endswith(HEADLINE)} or out
    return out


def read_log(source) -> tuple[dict, str, dict]:
    """(training log, where it came from, model.json or {}) from a model folder, a training_log.json
    file, a log dict, or an object carrying `.training_log` (what embedkit.train returns)."""
    from embedkit.formats.native import _read_json, is_model_dir, read_meta

    if isinstance(source, dict):
        return source, "the training log", {}
    if hasattr(source, "training_log"):
        return source.training_log, "the embeddings' training log", {}
    if not isinstance(source, (str, os.PathLike)):
        raise EmbedkitError("curves need a model folder, a training_log.json, a log dict or what embedkit.train "
                            f"returned; got {type(source).__name__} without a training log")
    path = Path(source)
    meta = {}
    if is_model_dir(path):
        meta = read_meta(path)
        path = path / "training_log.json"
        if not path.is_file():
            raise EmbedkitError(f"{source} has no training_log.json: the model folder holds no training log "
                                "(only `embedkit train` writes one)")
    elif path.is_dir():
        raise EmbedkitError(f"{source} is not an embedkit model folder (no model.json): curves need the "
                            "training log that `embedkit train --output DIR` writes")
    elif not path.exists():
        raise EmbedkitError(f"{source}: no such model folder or file")
    elif path.suffix != ".json":
        raise EmbedkitError(f"{source} is not a model folder or a training_log.json file: curves need the "
                            "training log that `embedkit train --output DIR` writes")
    log = _read_json(path, "training log")
    if not isinstance(log, dict):
        raise EmbedkitError(f"{path}: the training log must be a JSON object")
    return log, str(path), meta


def read_curves(source, fields=None) -> Curves:
    """The loss curve and per-epoch evaluation of a training log (see read_log); bad input is a
    one-line EmbedkitError naming the file."""
    log, where, meta = read_log(source)
    raw = log.get("loss_curve")
    if not isinstance(raw, list) or not raw:
        raise EmbedkitError(f"{where} has no loss curve points ('loss_curve' is "
                            f"{'missing' if raw is None else 'empty' if raw == [] else 'not a list'})")
    first = raw[0] if isinstance(raw[0], dict) else {}
    unit = next((u for u in UNITS if u in first), None)
    metric = next((m for m in METRICS if m in first), None)
    points = []
    for i, p in enumerate(raw):
        if not isinstance(p, dict) or not all(_is_number(p.get(k)) for k in ("epoch", unit, metric)):
            raise EmbedkitError(f"{where}: loss_curve point {i} is not "
                                "{\"epoch\": E, \"words\"|\"pairs\": N, \"loss\"|\"cost\": X}")
        points.append((p["epoch"], p[unit], p[metric]))
    epochs = log.get("epochs") if isinstance(log.get("epochs"), list) else []
    epochs = [e for e in epochs if isinstance(e, dict) and _is_number(e.get("epoch"))]
    means = [(e["epoch"], float(e[metric])) for e in epochs if _is_number(e.get(metric))]
    kind = log.get("model") if isinstance(log.get("model"), str) else meta.get("kind", "")
    title = f"{kind}: " if kind else ""
    return Curves(where, unit, metric, np.asarray(points, np.float64), means,
                  evaluation_fields(epochs, fields), title + f"training {metric}")


def draw_curves(curves: Curves):
    """A matplotlib Figure: the curve on top, the evaluation below it when there is any."""
    fig = new_figure(7.0, 6.2 if curves.evaluation else 3.8)
    axes = fig.subplots(2 if curves.evaluation else 1, 1, squeeze=False)[:, 0]
    ax = axes[0]
    epoch, done, value = curves.points.T
    ax.plot(done, value, color="tab:blue", lw=1.6, label=f"{curves.metric} (mean over each stretch)")
    ends = [done[epoch == e].max() for e in np.unique(epoch)]
    for x in ends[:-1]:
        ax.axvline(x, color="0.8", lw=0.8, zorder=0)
    if curves.epoch_means:
        at = dict(zip(np.unique(epoch).tolist(), ends))
        mean_pts = [(at[e], y) for e, y in curves.epoch_means if e in at]
        if mean_pts:
            ax.plot(*zip(*mean_pts), "o", color="tab:orange", ms=5, label=f"epoch mean {curves.metric}")
    ax.set_xlabel(UNITS[curves.unit])
    ax.set_ylabel(curves.metric)
    ax.set_title(curves.title + (f" ({len(ends)} epochs; grey lines: epoch ends)" if len(ends) > 1 else
                                 " (1 epoch)"), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if curves.evaluation:
        ev = axes[1]
        for name, pts in sorted(curves.evaluation.items()):
            ev.plot(*zip(*pts), "o-", ms=4, lw=1.2, label=name)
        ev.set_xlabel("epoch")
        ev.set_ylabel("score")
        ev.set_title("evaluation after each epoch", fontsize=10)
        ev.xaxis.get_major_locator().set_params(integer=True)
        ev.grid(alpha=0.3)
        ev.legend(fontsize=7, ncol=2)
    return fig


def plot_curves(source, out, fields=None) -> Curves:
    """Draw the training curves of `source` (a model folder, its training_log.json, a log dict, or
    what embedkit.train returned) into `out` (.png, .svg or .pdf), written atomically. `fields`:
    glob patterns choosing the per-epoch evaluation numbers to draw (default: headline scores)."""
    image_format(out)
    curves = read_curves(source, fields)
    save_figure(draw_curves(curves), out)
    return curves
