"""The one-line corpus summary `train` prints before training: what was read and what is kept."""
from __future__ import annotations

from embedkit.corpus.reader import display_name
from embedkit.corpus.tokenlists import SOURCE_NAME


def corpus_summary(corpus, min_count: int | None = None) -> str:
    """'corpus: 1 file, 12,000 lines, 2,269,226 tokens, 0 lines cut, 0 bytes replaced; vocabulary
    8,123 words (min_count 5) covering 97.31% of tokens; 2,208,001 tokens to train on'."""
    stats, vocab = getattr(corpus, "stats", None), corpus.vocab
    if stats is None:                                  # built from ids: no reading happened
        read = f"{corpus.n_sentences:,} sentences"
    elif stats.files == [SOURCE_NAME]:
        read = (f"in-memory token lists, {stats.lines:,} sentences, {stats.tokens:,} tokens, "
                f"{_n(stats.cuts, 'cut')} of over-long sentences")
    else:
        files = stats.files
        source = display_name(files[0]) if len(files) == 1 else f"{len(files):,} files"
        read = (f"{source}, {stats.lines:,} lines, {stats.tokens:,} tokens, {_n(stats.cuts, 'cut')} of over-long "
                f"lines, {_n(stats.replaced_bytes, 'undecodable byte')} replaced")
    s = vocab.summary()
    kept = f" (min_count {min_count})" if min_count is not None else ""
    return (f"corpus: {read}; vocabulary {len(vocab):,} words{kept} covering {s['token_coverage']:.2%} of "
            f"the tokens; {corpus.n_tokens:,} tokens to train on")


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
