"""`embedkit predict MODEL [FILE|-]` and `embedkit test MODEL FILE`: use a trained classifier.

    embedkit predict clf/ reviews.txt --k 2 --threshold 0.1     # one output line per input line
    echo "a fine , funny film ." | embedkit predict clf/
    embedkit test clf/ test.txt --k 1 --per-label --json scores.json

predict prints, for each input line, its labels with their probabilities, most probable first
(`__label__pos 0.93 __label__neg 0.07`); a line with no known word (or an empty one) gets an
empty line, so output lines match input lines. test prints N, P@k and R@k as fastText does, and
with --per-label each label's precision, recall and F1; --json writes them all.
"""
from __future__ import annotations

import sys

from embedkit.cli.common import file_outputs


def _load_classifier(path):
    from embedkit.classifier import Classifier
    from embedkit.errors import EmbedkitError
    from embedkit.io import load
    model = load(path)
    if not isinstance(model, Classifier):
        raise EmbedkitError(f"{path} is not a classifier model folder (train one with embedkit train --model classifier)")
    return model


def _check_options(args) -> None:
    from embedkit.classifier import check_k_threshold
    from embedkit.config import CLI
    check_k_threshold(args.k, args.threshold, CLI)          # the flags' spelling, before the model loads


def cmd_predict(args) -> int:
    _check_options(args)
    clf = _load_classifier(args.model)
    results = clf.predict_file(args.file, k=args.k, threshold=args.threshold)
    out = sys.stdout
    for pred in results:
        out.write(" ".join(f"{label} {p:.5g}" for label, p in pred) + "\n")
    return 0


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def cmd_test(args) -> int:
    from embedkit.classifier import write_test_json
    _check_options(args)
    clf = _load_classifier(args.model)
    r = clf.test(args.file, k=args.k, threshold=args.threshold)
    print(f"N\t{r['n']}\nP@{r['k']}\t{_fmt(r['precision_at_k'])}\nR@{r['k']}\t{_fmt(r['recall_at_k'])}")
    skipped = {k: v for k, v in r["lines"].items() if k in ("empty", "no label") and v}
    if skipped:
        print("skipped lines: " + ", ".join(f"{v:,} {k}" for k, v in skipped.items()), file=sys.stderr)
    if args.per_label:
        for label, m in r["per_label"].items():
            print(f"F1-Score : {_fmt(m['f1'])}  Precision : {_fmt(m['precision'])}  "
                  f"Recall : {_fmt(m['recall'])}   {label}")
    if args.json:
        write_test_json(r, args.json)
    return 0


def _add_k_threshold(p, k_help: str) -> None:
    p.add_argument("--k", "-k", type=int, default=1, help=f"{k_help} (default: 1)")
    p.add_argument("--threshold", type=float, default=0.0,
                   help="only labels with at least this probability (default: 0.0)")


def register(sub) -> None:
    p = sub.add_parser("predict", help="predict the labels of text lines with a trained classifier",
                       description="Print the k most probable labels of each line of FILE (or stdin), with "
                                   "their probabilities; a line with no known word gets an empty line.")
    p.add_argument("model", metavar="MODEL", help="a classifier model folder (embedkit train --model classifier)")
    p.add_argument("file", metavar="FILE", nargs="?", default="-", help="text lines; - for stdin (default: -)")
    _add_k_threshold(p, "labels per line, at most")
    p.set_defaults(func=cmd_predict)

    t = sub.add_parser("test", help="precision and recall at k of a classifier on a labelled file",
                       description="Predict every labelled line of FILE and print N, P@k, R@k (fastText's "
                                   "test); lines without a known label are skipped, a labelled line with no "
                                   "known word counts with no prediction.")
    t.add_argument("model", metavar="MODEL", help="a classifier model folder")
    t.add_argument("file", metavar="FILE", help="labelled lines in fastText's format")
    _add_k_threshold(t, "labels predicted per line, at most")
    t.add_argument("--per-label", action="store_true", help="also print each label's F1, precision and recall")
    t.add_argument("--json", metavar="OUT", help="write all the figures to this JSON file")
    t.set_defaults(func=cmd_test, outputs=file_outputs("json"))
