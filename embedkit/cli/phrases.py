"""`embedkit phrases`: join frequent bigrams into phrases (new_york), as word2vec's word2phrase."""
from __future__ import annotations

import sys
import time

from embedkit.cli.common import add_corpus_arg, add_no_cache_arg, file_inputs, file_outputs
from embedkit.cli.options import add_config_options
from embedkit.config import CLI, CorpusConfig, PhrasesConfig


def register(sub):
    from embedkit.phrasing import NOT_OPTIONS
    p = sub.add_parser(
        "phrases", help="join frequent bigrams with _ (new_york) and write the text, as word2phrase",
        description="Find phrases as word2vec's word2phrase does (or with gensim's npmi score) and write the text with "
                    "each joined bigram as one token, a_b. Every word is kept; each input line is one output line. "
                    "Bigrams never cross a line or a cut of an over-long line. More --passes give longer phrases.")
    add_corpus_arg(p, "-train")
    p.add_argument("--output", "-o", "-output", required=True, metavar="PHRASED.txt",
                   help="the phrased text, written atomically; a .gz name compresses it; - writes to stdout")
    p.add_argument("--table", metavar="PHRASES.tsv",
                   help="also write the phrases: phrase, times joined, bigram count, score, pass")
    add_no_cache_arg(p)
    add_config_options(p, PhrasesConfig, group_title="phrase options")
    add_config_options(p, CorpusConfig, skip=NOT_OPTIONS, group_title="corpus options")
    p.set_defaults(func=run, outputs=file_outputs("output", "table", cache=True),
                   inputs=file_inputs("corpus"))


def run(args) -> int:
    from embedkit.phrasing import CORPUS_OPTIONS, PHRASE_OPTIONS, phrase_configs, phrases

    options = {k: getattr(args, k) for k in PHRASE_OPTIONS + CORPUS_OPTIONS if getattr(args, k, None) is not None}
    cfg, _ = phrase_configs(options, CLI)               # errors in the flags' spelling, before any work
    t0 = time.perf_counter()
    table = phrases(args.corpus, args.output, table=args.table, cache=not args.no_cache, spelling=CLI, **options)
    out = sys.stderr if args.output == "-" else sys.stdout
    if table.stats is not None:
        print(f"read {table.stats.describe()}", file=sys.stderr)
    for row in table.pass_log:
        print(f"pass {row['pass']}: {row['phrases']:,} phrases joined {row['joined']:,} times "
              f"({row['bigrams']:,} bigrams counted" + (f", table pruned {row['reductions']} times" if row["reductions"]
                                                         else "") + ")", file=out)
    print(f"phrases: {len(table):,} ({cfg.scoring}, min_count {cfg.min_count}, threshold {cfg.threshold_value():g}); "
          f"{len(table.phrased.tokens):,} tokens -> {args.output}"
          + (f", {args.table}" if args.table else "") + f" [{time.perf_counter() - t0:.2f} s]", file=out)
    return 0
