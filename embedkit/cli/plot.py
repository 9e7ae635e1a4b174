"""`embedkit plot`: pictures of a training (--curves) and of a vector space (--map).

    embedkit plot out/demo --curves curves.png
    embedkit plot out/demo --words king water love --map map.png --method tsne
    embedkit plot vectors.txt --top 200 --map top.png

The drawing is in embedkit/plots/; matplotlib (and scikit-learn for t-SNE) are the optional extra
`plot`, imported only here, when a picture is drawn.
"""
from __future__ import annotations

from embedkit.cli.common import add_vectors_args, file_inputs, file_outputs, load_vectors
from embedkit.errors import EmbedkitError

MAP_OPTIONS = ("words", "top", "neighbors", "restrict_vocab")


def cmd_plot(args) -> int:
    if not args.curves and not args.map:
        raise EmbedkitError("nothing to draw: give --curves OUT.png (training curves of a model folder) "
                            "and/or --map OUT.png (a word map)")
    if args.map is None:
        given = [f"--{o.replace('_', '-')}" for o in MAP_OPTIONS if getattr(args, o) is not None]
        if given or args.method != "pca":
            raise EmbedkitError(f"{(given or ['--method'])[0]} applies to the word map: add --map OUT.png")
    elif args.words is None and args.top is None:
        raise EmbedkitError("--map needs the words to show: --words W... (with their neighbours) or --top N")
    elif args.words is not None and args.top is not None:
        raise EmbedkitError("--words and --top exclude each other: give one")
    if args.fields is not None and not args.curves:
        raise EmbedkitError("--fields applies to the training curves: add --curves OUT.png")
    from embedkit.plots.figure import image_format
    for out in (args.curves, args.map):
        if out:
            image_format(out)            # a bad name fails before any work
    if args.curves:
        from embedkit.plots.curves import plot_curves
        curves = plot_curves(args.vectors, args.curves, fields=args.fields)
        extra = f"; per-epoch evaluation: {', '.join(sorted(curves.evaluation))}" if curves.evaluation else ""
        print(f"wrote {args.curves}: {curves.metric} against {curves.unit} processed, "
              f"{len(curves.points)} points{extra}")
    if args.map:
        from embedkit.config import CLI
        from embedkit.plots.wordmap import plot_map
        m = plot_map(load_vectors(args), args.map, words=args.words, top=args.top, neighbors=args.neighbors,
                     method=args.method, seed=args.seed, restrict_vocab=args.restrict_vocab, spelling=CLI)
        print(f"wrote {args.map}: {args.method} map of {len(m.words)} words")
    return 0


def register(sub) -> None:
    from embedkit.plots.projection import PROJECTIONS

    p = sub.add_parser("plot", help="draw training curves (--curves) or a 2-D word map (--map) to a PNG",
                       description="--curves OUT: the loss (GloVe: cost) against words (pairs) processed, from "
                                   "the training log of a model folder, and the per-epoch evaluation when the log "
                                   "has it. --map OUT: a labelled 2-D map of --words and their nearest "
                                   "neighbours, or of the --top N most frequent words, by PCA (numpy) or t-SNE "
                                   "(scikit-learn). OUT ends in .png, .svg or .pdf and is written atomically. "
                                   "Needs the optional extra: pip install 'embedkit[plot]'.")
    add_vectors_args(p)
    p.add_argument("--curves", metavar="OUT.png", help="draw the training curves of the model folder VECTORS")
    p.add_argument("--fields", nargs="+", metavar="GLOB", default=None,
                   help="per-epoch evaluation numbers to draw, as glob patterns over their names "
                        "(e.g. 'eval_*'; default: the headline scores, names ending in accuracy or spearman)")
    p.add_argument("--map", metavar="OUT.png", help="draw a 2-D map of words of VECTORS")
    p.add_argument("--words", nargs="+", metavar="W", default=None,
                   help="words to show, each with its nearest neighbours")
    p.add_argument("--top", type=int, metavar="N", default=None,
                   help="show the N most frequent words (at most the vocabulary's size)")
    p.add_argument("--neighbors", type=int, metavar="K", default=None,
                   help="nearest neighbours shown per word (default: 5 with --words, 0 with --top)")
    p.add_argument("--method", choices=tuple(PROJECTIONS), default="pca",
                   help="projection to 2-D: pca (numpy SVD) or tsne (scikit-learn, seeded) (default: pca)")
    p.add_argument("--seed", type=int, default=1, help="t-SNE's random seed (default: 1)")
    p.add_argument("--restrict-vocab", type=int, default=None, metavar="N",
                   help="neighbours only among the N most frequent words (default: all)")
    p.set_defaults(func=cmd_plot, outputs=file_outputs("curves", "map"), inputs=file_inputs("vectors"))
