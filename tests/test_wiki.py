"""MediaWiki dump reader: page filtering on the real fixture, and markup stripping rules."""
import bz2
import itertools

import pytest

from embedkit.corpus.wiki import iter_article_lines, iter_pages, remove_balanced, strip_markup, _TEMPLATE_MARK
from embedkit.errors import EmbedkitError

FIXTURE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"


@pytest.fixture(scope="module")
def dump(shared_data):
    return shared_data / "fixtures" / FIXTURE


@pytest.fixture(scope="module")
def articles(dump):
    return {p.title: strip_markup(p.wikitext) for p in iter_pages(str(dump))}


def test_articles_only(articles):
    # 206 pages: 100 redirects (AccessibleComputing, AfghanistanHistory, ...) and one
    # namespace-4 page (itself a redirect) are skipped.
    assert len(articles) == 106
    assert list(articles)[:3] == ["Anarchism", "Autism", "Albedo"]
    assert "AccessibleComputing" not in articles
    assert not any(":" in t and t.split(":")[0] in ("Wikipedia", "Talk", "Template") for t in articles)


def test_no_markup_left(articles):
    for title, text in articles.items():
        for mark in ("{{", "}}", "[[", "]]", "<ref", "</ref", "{|", "|}", "'''", "<!--", "&lt;", "&nbsp;",
                     "thumb|", "http://", "https://", "__TOC__", "Category:"):
            assert mark not in text, (title, mark)
        for line in text.split("\n"):
            assert line == line.strip() and line
            assert not line.startswith(("*", "#", "|", "!")), (title, line)
            assert not (line.startswith("==") and line.endswith("==")), (title, line)


def test_known_text(articles):
    lines = articles["Anarchism"].split("\n")
    assert lines[0].startswith("Anarchism is a political philosophy that advocates self-governed societies "
                               "based on voluntary institutions. These are often described as stateless societies, "
                               "although several authors have defined them more specifically as institutions based "
                               "on non-hierarchical free associations.")
    assert "The first political philosopher to call himself an anarchist was Pierre-Joseph Proudhon, marking the " \
           "formal birth of anarchism in the mid-nineteenth century." in articles["Anarchism"]
    assert "Etymology and terminology" in lines          # a heading, as text
    # a file caption holding links and single brackets goes away whole
    assert "drowned in the continual" not in articles["Animal Farm"]


def test_iter_article_lines(dump, articles):
    lines = list(itertools.islice(iter_article_lines(str(dump)), 300))   # streams: the rest is never read
    assert lines == [line for text in articles.values() for line in text.split("\n")][:300]


@pytest.mark.parametrize("wikitext, text", [
    ("a {{cite|x={{nested|y}}|z}} b", "a b"),
    ("a {{unclosed b", "a unclosed b"),
    ("x }} y", "x y"),
    ("p\n{| class=wikitable\n|-\n| cell || {{t}}\n{|\n| inner\n|}\n|}\nq", "p\nq"),
    ("t<ref name=\"a\">Note {{cite}}\nmore</ref>u<ref name=b/>.", "tu."),
    ("a<!-- hidden\ncomment -->b", "ab"),
    ("[[Paris|the city]] and [[London]]s and [[:Category:Cities|cities]]", "the city and Londons and cities"),
    ("[[File:x.jpg|thumb|A [[cat]] [sic] on a mat]]After", "After"),
    ("[[Category:Things]][[de:Ding]]Text[[Image:y.png]]", "Text"),
    ("'''Bold''' and ''italic'' and '''''both'''''", "Bold and italic and both"),
    ("== Heading ==\n=== Sub ===", "Heading\nSub"),
    ("* item\n# num\n: indent\n; term", "item\nnum\nindent\nterm"),
    ("[http://example.org Example site] and http://bare.example.org/x end", "Example site and end"),
    ("__NOTOC__Hello&nbsp;world &ndash; x<br/>y <small>tiny</small>", "Hello world – x y tiny"),
    ("a <math>x^2</math> b", "a b"),
    ("----\nline", "line"),
])
def test_strip_markup_rules(wikitext, text):
    assert strip_markup(wikitext) == text


def test_remove_balanced_nested_and_stray():
    assert remove_balanced("a{{b{{c}}d}}e{{f}}g", _TEMPLATE_MARK, "{{") == "aeg"
    assert remove_balanced("a}}b{{c", _TEMPLATE_MARK, "{{") == "abc"


def test_malformed_dump_is_an_error(tmp_path):
    bad = tmp_path / "broken.xml.bz2"
    with bz2.open(bad, "wb") as f:
        f.write(b"<mediawiki><page><title>x</title><ns>0</page>")
    with pytest.raises(EmbedkitError, match="broken.xml.bz2, line 1"):
        list(iter_pages(str(bad)))
