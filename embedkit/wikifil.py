"""wikifil.pl (Matt Mahoney, 2006, public domain): enwik9 -> fil9, the text8 normalisation.

Re-implemented on bytes so that the output is the Perl script's, byte for byte; `embedkit corpora
fetch fil9` runs it over the downloaded enwik9 (embedkit/corpora.py).
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

# The Perl script reads records ending in '>' and keeps the text between <text ...> and </text>
# (redirects dropped), strips markup, then maps A-Z to a-z, spells digits out and turns every
# other byte into a space, squeezing runs. It works on bytes, so the regexes here are bytes
# regexes: `.` excludes '\n', `\d` is [0-9] and re.I folds ASCII only, exactly as in Perl there.

_WIKIFIL_MARKUP = [(re.compile(p, flags), r) for p, r, flags in (
    (rb"<ref[^<]*</ref>", b"", 0),                       # references <ref...> ... </ref>
    (rb"<[^>]*>", b"", 0),                               # xhtml tags
    (rb"\[http:[^\] ]*", b"[", 0),                       # url of an external link; its text stays
    (rb"\|thumb", b"", re.I),                            # image options; the caption stays
    (rb"\|left", b"", re.I),
    (rb"\|right", b"", re.I),
    (rb"\|\d+px", b"", re.I),
    (rb"\[\[image:[^\[\]]*\|", b"", re.I),
    (rb"\[\[category:([^|\]]*)[^\]]*\]\]", rb"[[\1]]", re.I),   # categories without markup
    (rb"\[\[[a-z\-]*:[^\]]*\]\]", b"", 0),               # links to other languages
    (rb"\[\[[^\|\]]*\|", b"[[", 0),                      # link target; the visible text stays
    (rb"\{\{[^\}]*\}\}", b"", 0),                        # {{templates}}
    (rb"\{[^\}]*\}", b"", 0),                            # {tables}
    (rb"\[", b"", 0),
    (rb"\]", b"", 0),
    (rb"&[^;]*;", b" ", 0),                              # remaining entities
)]
_XML_TAG = re.compile(rb"<.*>")
_REDIRECT = re.compile(rb"#redirect", re.I)
_NOT_LETTER = re.compile(rb"[^a-z]+")
_DIGIT_WORDS = [(str(d).encode(), f" {w} ".encode()) for d, w in enumerate(
    "zero one two three four five six seven eight nine".split())]


def wikifil_record(rec: bytes) -> bytes:
    """Normalise one '>'-terminated record of article text (the body of wikifil.pl's loop)."""
    rec = _XML_TAG.sub(b"", rec, count=1)
    rec = rec.replace(b"&amp;", b"&").replace(b"&lt;", b"<").replace(b"&gt;", b">")
    for pattern, repl in _WIKIFIL_MARKUP:
        rec = pattern.sub(repl, rec)
    rec = b" " + rec.lower() + b" "          # bytes.lower() maps A-Z only, like tr/A-Z/a-z/
    for digit, word in _DIGIT_WORDS:
        rec = rec.replace(digit, word)
    return _NOT_LETTER.sub(b" ", rec)[:-1]   # tr/a-z/ /cs, then chop the final space


def wikifil(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Stream a MediaWiki XML dump (byte chunks) to wikifil.pl's output: one line, no newline.

    Memory is bounded by the largest record (one article's text), not by the dump.
    """
    in_text = False
    rest = b""

    def records():
        nonlocal rest
        for chunk in chunks:
            pieces = (rest + chunk).split(b">")
            rest = pieces.pop()
            for piece in pieces:
                yield piece + b">"
        if rest:
            yield rest

    for rec in records():
        if b"<text " in rec:
            in_text = True
        if _REDIRECT.search(rec):
            in_text = False
        if in_text:
            if b"</text>" in rec:
                in_text = False
            out = wikifil_record(rec)
            if out:
                yield out
