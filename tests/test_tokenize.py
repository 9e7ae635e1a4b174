"""Tokenizers: examples, independent references, and declared byte classes == general path (hypothesis)."""
import gzip
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from embedkit.config import TOKENIZERS
from embedkit.corpus.tokenize import get_tokenizer
from embedkit.errors import EmbedkitError

FAST = ("regex", "whitespace", "text8")
DIGITS = "zero one two three four five six seven eight nine".split()


def regex_reference(line):
    """Maximal runs of str.isalnum() characters of the lowercased line, char by char."""
    out, cur = [], []
    for c in line.lower():
        if c.isalnum():
            cur.append(c)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def text8_reference(line):
    """wikifil as specified: NFKD, combining marks deleted, a-z lowered, digits spelled, rest a separator."""
    chars = []
    for c in unicodedata.normalize("NFKD", line):
        if unicodedata.category(c) in ("Mn", "Mc", "Me"):
            continue
        if c.isascii() and c.isalpha():
            chars.append(c.lower())
        elif c in "0123456789":
            chars.append(" " + DIGITS[int(c)] + " ")
        else:
            chars.append(" ")
    return "".join(chars).split()


def test_all_names_resolve_and_unknown_is_an_error():
    for name in TOKENIZERS:
        assert get_tokenizer(name)("Hello World") == (["Hello", "World"] if name == "whitespace" else ["hello", "world"])
    with pytest.raises(EmbedkitError, match="unknown tokenizer 'spacy'"):
        get_tokenizer("spacy")


def test_regex_examples():
    tok = get_tokenizer("regex")
    assert tok("Don't stop-me_now, 3.14!") == ["don", "t", "stop", "me", "now", "3", "14"]
    assert tok("ÉCOLE Straße naïve Ελλάδα 東京") == ["école", "straße", "naïve", "ελλάδα", "東京"]
    assert tok("  \t ") == []


def test_whitespace_keeps_case_and_punctuation():
    assert get_tokenizer("whitespace")("  Don't\tSTOP,\x0bnow\r") == ["Don't", "STOP,", "now"]


def test_text8_digits_accents_separators():
    tok = get_tokenizer("text8")
    assert tok("Émile Zola wrote in 1898!") == ["emile", "zola", "wrote", "in", "one", "eight", "nine", "eight"]
    assert tok("a1b R2-D2") == ["a", "one", "b", "r", "two", "d", "two"]
    assert tok("naïve café ﬁnal") == ["naive", "cafe", "final"]        # NFKD folds accents and ligatures
    assert tok("brain—but Encyclopædia") == ["brain", "but", "encyclop", "dia"]   # non-ASCII left: separators
    assert tok("Ελλάδα") == []


def test_text8_is_identity_on_text8(shared_data):
    with gzip.open(shared_data / "corpora" / "enwiki2015-text8.txt.gz", "rt", encoding="ascii") as f:
        text = f.read(200_000)
    text = text[:text.rfind(" ")]
    tok = get_tokenizer("text8")
    assert tok(text) == text.split()
    assert scan(tok.byte_classes, text.encode()) == [text.split()]


def test_nltk_adapters_lowercase_without_data_download():
    line = "Don't stop-me now, it's 3.14 (approx.)."
    assert get_tokenizer("nltk-treebank")(line) == [
        "do", "n't", "stop-me", "now", ",", "it", "'s", "3.14", "(", "approx.", ")", "."]
    assert get_tokenizer("nltk-wordpunct")(line) == [
        "don", "'", "t", "stop", "-", "me", "now", ",", "it", "'", "s", "3", ".", "14", "(", "approx", ".)."]
    assert get_tokenizer("nltk-toktok")(line) == [
        "don", "'", "t", "stop-me", "now", ",", "it", "'", "s", "3.14", "(", "approx.", ")", "."]
    for name in ("nltk-treebank", "nltk-toktok", "nltk-wordpunct"):
        tok = get_tokenizer(name)
        assert tok.byte_classes is None and tok("") == []
        assert tok.tokenize_lines("A b\n\nC.") == [tok("a b"), [], tok("c.")]


def test_regex_and_text8_match_references_on_examples():
    for line in ["Ünïcödé ǅemal ΣΑΣ ß ﬃ ½ ²³ x_y", "İstanbul 𝔘𝔫𝔦", "٣٤ ৩ Ⅻ"]:
        assert get_tokenizer("regex")(line) == regex_reference(line)
        assert get_tokenizer("text8")(line) == text8_reference(line)


ascii_text = st.text(alphabet=st.characters(max_codepoint=127), max_size=200)
# Bias towards characters that matter: letters of both cases, digits, separators, newlines, non-ASCII.
mixed_text = st.text(alphabet=st.one_of(st.sampled_from("aZ09_ \n\t\r-'.\x0b\x1c"), st.characters(blacklist_categories=("Cs",))), max_size=200)


def scan(classes, data: bytes) -> list[list[str]]:
    """What the scanner makes of ASCII text with these byte classes, in plain Python."""
    lines = []
    for line in classes.expand(data).split(b"\n"):
        words, word = [], bytearray()
        for b in line + b" ":
            if classes.code[b]:
                word.append(classes.code[b] & 0xFF)
            elif word:
                words.append(word.decode("ascii"))
                word = bytearray()
        lines.append(words)
    return lines


@settings(max_examples=300, deadline=None)
@given(text=ascii_text)
@pytest.mark.parametrize("name", FAST)
def test_byte_classes_split_ascii_as_tokenize(name, text):
    tok = get_tokenizer(name)
    general = tok.tokenize_lines(text)
    assert general == [tok(line) for line in text.split("\n")]
    assert scan(tok.byte_classes, text.encode("ascii")) == general


@pytest.mark.parametrize("name", FAST)
def test_byte_classes_every_ascii_byte(name):
    """Each ASCII byte alone and between word bytes: the declared classes agree with tokenize."""
    tok = get_tokenizer(name)
    for b in range(128):
        if b == 10:
            continue
        for text in (chr(b), f"a{chr(b)}a", f"Q{chr(b)}7", f"{chr(b)}{chr(b)}z"):
            assert scan(tok.byte_classes, text.encode()) == [tok(text)], (name, b, text)


def test_declared_byte_classes():
    regex, ws, t8 = (get_tokenizer(n).byte_classes for n in ("regex", "whitespace", "text8"))
    assert regex.code[ord("A")] == 0x100 | ord("a") and regex.code[ord("_")] == 0 and regex.code[10] == 0
    assert ws.code[ord("_")] == 0x100 | ord("_") and ws.code[ord("A")] == 0x100 | ord("A") and ws.code[0x1c] == 0
    assert (b"7", b" seven ") in t8.expansions and len(t8.expansions) == 10 and not regex.expansions
    assert t8.expand(b"a1984b") == b"a one  nine  eight  four b"
    assert all(c.code[0xE9] == 0x100 | 0xE9 for c in (regex, ws, t8))   # UTF-8 bytes: word bytes, unchanged


@settings(max_examples=300, deadline=None)
@given(text=mixed_text)
def test_regex_and_text8_match_references(text):
    for line in text.split("\n"):
        assert get_tokenizer("regex")(line) == regex_reference(line)
        assert get_tokenizer("text8")(line) == text8_reference(line)
