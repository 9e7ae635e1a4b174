"""MediaWiki XML dumps (enwiki-*-pages-articles*.xml[.bz2]) as plain article text.

Pages are streamed with xml.etree.ElementTree.iterparse and cleared as soon as they are read,
so memory is bounded by the largest article, not the dump. Only articles are kept: namespace 0,
not a redirect. Their wikitext is reduced to running text by `strip_markup`, and each non-empty
line of the result (a paragraph, list item or heading) is one line of the corpus.

The markup stripper is a set of regular expressions in the spirit of WikiExtractor and gensim's
wikicorpus, not a MediaWiki parser: templates are dropped, not expanded, so text that only
exists inside a template (infobox values, {{convert|...}} quantities) is lost, as in those tools.
"""
from __future__ import annotations

import html
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Iterator

from embedkit.corpus.reader import _DECODE_ERRORS, open_binary
from embedkit.errors import EmbedkitError


def is_wiki_dump(path: str) -> bool:
    """MediaWiki XML dumps are recognised by name: enwiki-...-pages-articles.xml[.bz2]."""
    return path != "-" and ".xml" in os.path.basename(path).lower()


@dataclass
class WikiPage:
    title: str
    page_id: int
    wikitext: str


def iter_pages(path: str) -> Iterator[WikiPage]:
    """Articles of a dump in file order: namespace 0, redirects skipped; raw wikitext."""
    f = open_binary(path)
    try:
        root = None
        for event, elem in ET.iterparse(f, events=("start", "end")):
            if root is None:
                root = elem               # <mediawiki>: pages are cleared from it as we go
                continue
            if event != "end" or _local(elem.tag) != "page":
                continue
            fields = {_local(child.tag): child for child in elem}
            ns = fields.get("ns")
            text = elem.find("./{*}revision/{*}text")
            if (ns is not None and (ns.text or "").strip() == "0" and "redirect" not in fields
                    and text is not None and text.text):
                yield WikiPage(fields["title"].text or "", int(fields["id"].text), text.text)
            root.clear()
    except ET.ParseError as e:
        line, col = e.position
        raise EmbedkitError(f"{path}, line {line}, column {col}: not a well-formed MediaWiki XML dump ({e.msg})") from None
    except _DECODE_ERRORS as e:
        raise EmbedkitError(f"cannot read {path}: {e}") from None
    finally:
        f.close()


def _local(tag: str) -> str:
    """'{http://www.mediawiki.org/xml/export-0.10/}page' -> 'page' (any dump version)."""
    return tag.rsplit("}", 1)[-1]


def iter_article_lines(path: str) -> Iterator[str]:
    """Every paragraph of every article of the dump, markup stripped, one string each."""
    for page in iter_pages(path):
        yield from strip_markup(page.wikitext).split("\n")


def iter_wiki_text_blocks(path: str, block_size: int) -> Iterator[str]:
    """Article lines joined into blocks of about block_size characters, each ending in '\\n'."""
    buf: list[str] = []
    size = 0
    for line in iter_article_lines(path):
        buf.append(line)
        size += len(line) + 1
        if size >= block_size:
            yield "\n".join(buf) + "\n"
            buf, size = [], 0
    if buf:
        yield "\n".join(buf) + "\n"


# --- markup stripping ------------------------------------------------------------------------

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_REF_EMPTY = re.compile(r"<ref\b[^>]*/\s*>", re.I)
# Elements whose content is not running text (footnotes, formulas, code, galleries ...).
_DROP_ELEMENTS = re.compile(
    r"<(ref|math|chem|ce|gallery|timeline|score|syntaxhighlight|source|pre|code|imagemap|hiero|"
    r"graph|mapframe|maplink|templatedata|includeonly|references)\b[^>]*(?<!/)>.*?</\1\s*>", re.S | re.I)
_BREAK = re.compile(r"<br\s*/?\s*>", re.I)
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_TEMPLATE_MARK = re.compile(r"\{\{|\}\}")
_TABLE_MARK = re.compile(r"(?m)^[ \t:]*\{\||^[ \t]*\|\}")
_LINK_MARK = re.compile(r"\[\[|\]\]")
_DROP_LINK = re.compile(r"(?:file|image|media|category)\s*:", re.I)
_LANG_LINK = re.compile(r"[a-z]{2,3}(?:-[a-z]+)*:[^|]*$")      # [[de:Anarchismus]]: interlanguage
_EXTERNAL = re.compile(r"\[(?:https?:|ftp:|//)[^\s\]]*\s*([^\]]*)\]", re.I)
_BARE_URL = re.compile(r"(?:https?|ftp)://\S+")          # case-sensitive: 5x faster, URLs are lowercase
_QUOTES = re.compile(r"'{2,}")
_HEADING = re.compile(r"(?m)^[ \t]*=+[ \t]*(.*?)[ \t]*=+[ \t]*$")
_LIST = re.compile(r"(?m)^[*#:;]+[ \t]*")
_MAGIC = re.compile(r"__[A-Z]+__")
_TABLE_LINE = re.compile(r"(?m)^[ \t]*[|!].*$")
_RULE = re.compile(r"(?m)^-{4,}.*$")


def remove_balanced(text: str, marks: re.Pattern, opener: str) -> str:
    """Delete every balanced, possibly nested, opener...closer span, `marks` matching both
    markers; an unmatched marker is deleted alone. Linear in len(text) (plus a sort of spans)."""
    stack: list[tuple[int, int]] = []       # open markers: (start, end)
    spans: list[tuple[int, int]] = []       # to delete; nested ones lie inside outer ones
    for m in marks.finditer(text):
        if m.group().lstrip(" \t:") == opener:
            stack.append(m.span())
        elif stack:
            spans.append((stack.pop()[0], m.end()))
        else:
            spans.append(m.span())
    spans.extend(stack)
    if not spans:
        return text
    spans.sort()
    out, pos = [], 0
    for start, end in spans:
        if end <= pos:
            continue                        # inside a span already deleted
        out.append(text[pos:max(pos, start)])
        pos = max(pos, end)
    out.append(text[pos:])
    return "".join(out)


def replace_links(text: str) -> str:
    """Replace each [[...]] link, innermost first ([[File:a.jpg|b [[c]] d]]), by its text
    (see _link_text); unmatched [[ or ]] markers are deleted, their text kept."""
    levels: list[list[str]] = [[]]          # text pieces of each open link, outermost first
    pos = 0
    for m in _LINK_MARK.finditer(text):
        levels[-1].append(text[pos:m.start()])
        pos = m.end()
        if m.group() == "[[":
            levels.append([])
        elif len(levels) > 1:
            inner = "".join(levels.pop())
            levels[-1].append(_link_text(inner))
    levels[-1].append(text[pos:])
    while len(levels) > 1:
        inner = "".join(levels.pop())
        levels[-1].append(inner)
    return "".join(levels[0])


def _link_text(inner: str) -> str:
    """[[target|label]] -> label, [[target]] -> target; files, categories, interlanguage -> ''."""
    inner = inner.strip()
    if inner.startswith(":"):               # [[:Category:X]] is a visible link
        inner = inner[1:]
    elif _DROP_LINK.match(inner) or _LANG_LINK.match(inner):
        return ""
    target, bar, label = inner.rpartition("|")
    return label.strip() if bar and label.strip() else (target if bar else label)


def strip_markup(wikitext: str) -> str:
    """Wikitext -> plain text, one paragraph per line. Removes comments, <ref> and other
    non-text elements, templates {{...}} (nested), tables {|...|}, file/image/category and
    interlanguage links, HTML tags, bold/italic quotes, list markers, magic words; keeps the
    label of [[target|label]] links and external [url label] links, and heading text."""
    text = _COMMENT.sub("", wikitext)
    text = _REF_EMPTY.sub("", text)
    text = _DROP_ELEMENTS.sub("", text)
    text = remove_balanced(text, _TEMPLATE_MARK, "{{")
    text = remove_balanced(text, _TABLE_MARK, "{|")
    text = replace_links(text)
    text = _EXTERNAL.sub(r"\1", text)
    text = _BARE_URL.sub("", text)
    text = _BREAK.sub(" ", text)
    text = _TAG.sub("", text)
    text = _QUOTES.sub("", text)
    text = _HEADING.sub(r"\1", text)
    text = _LIST.sub("", text)
    text = _MAGIC.sub("", text)
    text = _TABLE_LINE.sub("", text)
    text = _RULE.sub("", text)
    text = html.unescape(text)              # &nbsp; &ndash; ... written as entities in wikitext
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)
