"""`embedkit.phrases(corpus, output=..., **options)`: phrase detection as one call.

Options are PhrasesConfig's fields (min_count, threshold, scoring, passes, max_bigrams) and the
corpus options that say how text is read (tokenizer, max_sentence_length, encoding_errors,
max_vocab_size). min_count is word2phrase's: bigrams seen fewer times are never joined (and,
with word2phrase scoring, bigrams of words seen fewer times); every word of the text is kept
in the output. The work is embedkit/corpus/phrases.py's.
"""
from __future__ import annotations

import dataclasses
import difflib
import os

from embedkit.config import PYTHON, CorpusConfig, OptionError, PhrasesConfig, Spelling
from embedkit.errors import EmbedkitError

PHRASE_OPTIONS = [f.name for f in dataclasses.fields(PhrasesConfig)]
# CorpusConfig fields that phrases() does not take: it keeps every word, and finds the phrases itself
NOT_OPTIONS = ("min_count", "max_size", "phrases", "phrase_min_count", "phrase_threshold", "phrase_scoring")
_CORPUS_FIELDS = {f.name: f for f in dataclasses.fields(CorpusConfig)}
CORPUS_OPTIONS = [name for name in _CORPUS_FIELDS if name not in NOT_OPTIONS]


def phrase_configs(options: dict, spelling: Spelling = PYTHON,
                   token_lists: bool = False) -> tuple[PhrasesConfig, CorpusConfig]:
    """Split options (None: not given) into the phrase settings and the corpus settings of the
    text phrases are found in (every word kept); errors name options in `spelling`."""
    given = {k: v for k, v in options.items() if v is not None}
    problems = []
    for k in given:
        if k in PHRASE_OPTIONS:
            continue
        if k in NOT_OPTIONS:
            problems.append(f"{spelling.name(k)} does not apply to phrases (every word of the text is kept; "
                            f"{spelling.name('min_count')} is the phrases' own)")
        elif k not in PHRASE_OPTIONS and k not in CORPUS_OPTIONS:
            close = difflib.get_close_matches(k, PHRASE_OPTIONS + CORPUS_OPTIONS, n=2, cutoff=0.6)
            problems.append(f"{spelling.name(k)} is not an option of phrases"
                            + (f"; did you mean {' or '.join(map(spelling.name, close))}?" if close else ""))
        elif token_lists and k in CORPUS_OPTIONS and _CORPUS_FIELDS[k].metadata.get("text_only"):
            problems.append(f"{spelling.name(k)} does not apply to in-memory token lists (their tokens are taken "
                            "as given)")
    if problems:
        raise EmbedkitError("; ".join(problems))
    try:
        phrase_cfg = PhrasesConfig(**{k: v for k, v in given.items() if k in PHRASE_OPTIONS})
        corpus_cfg = CorpusConfig(min_count=1, **{k: v for k, v in given.items() if k in CORPUS_OPTIONS})
    except OptionError as e:
        raise EmbedkitError(e.spelled(spelling)) from None
    return phrase_cfg, corpus_cfg


def phrases(corpus=None, output: str | os.PathLike | None = None, *, table: str | os.PathLike | None = None,
            cache: bool = True, spelling: Spelling = PYTHON, **options):
    """Find phrases in `corpus` and return the PhraseTable (corpus/phrases.py): `.phrases`, their
    `.scores`, `.to_dict()`, and `.corpus`, the phrased corpus encoded.

    corpus: a path, a list of paths, None (the bundled corpus), an EncodedCorpus (its ids and
    words as they are) or an iterable of token lists. output: write the phrased text there
    (atomically; .gz compresses; "-" is stdout). table: write the phrases as TSV there.
    options: min_count=5, threshold=100 (npmi: 0.5), scoring="word2phrase"|"npmi", passes=1,
    max_bigrams, and tokenizer=, max_sentence_length=, encoding_errors=, max_vocab_size=.
    """
    from embedkit.corpus.encoded import EncodedCorpus
    from embedkit.corpus.phrases import detect_phrases, write_text
    from embedkit.trainers.api import token_lists_of

    sentences = token_lists_of(corpus)
    phrase_cfg, corpus_cfg = phrase_configs(options, spelling, token_lists=sentences is not None)
    if sentences is not None:
        from embedkit.corpus.tokenlists import encode_token_lists
        base = encode_token_lists(sentences, corpus_cfg)
    elif isinstance(corpus, EncodedCorpus):
        base = corpus
    else:
        from embedkit.corpus.prepare import prepare_corpus
        try:
            base = prepare_corpus(corpus, corpus_cfg, cache=cache)
        except EmbedkitError as e:             # min_count 1 here: the only way to have no word
            raise EmbedkitError(str(e).replace("no word occurs at least --min-count 1 times in", "no words in")) \
                from None
    result = detect_phrases(base, phrase_cfg)
    if output is not None:
        write_text(result.phrased, output)
    if table is not None:
        result.save(table)
    return result

