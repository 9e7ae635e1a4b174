"""Tokenizers: one line of text in, a list of tokens out.

    regex          (default) `[^\\W_]+` matched on `line.lower()`: lowercased maximal runs of Unicode
                   letters and digits (str.isalnum characters); everything else, underscore and
                   punctuation included, separates tokens. "Don't stop-me_now 3.14" ->
                   don t stop me now 3 14. Combining marks are not letters to Python's `re`, so a
                   decomposed accent (or an Indic vowel sign) splits a word: feed NFC text.
    whitespace     str.split(): runs of non-whitespace, case kept.
    text8          Matt Mahoney's wikifil normalisation as used for text8: NFKD, combining marks
                   deleted (accent folding: "Émile" -> emile), lowercase, each digit spelled out
                   as a word ("1984" -> one nine eight four), every other character a separator.
                   On text that is already text8 it is the identity of str.split().
    nltk-treebank, nltk-toktok, nltk-wordpunct
                   NLTK's TreebankWordTokenizer, ToktokTokenizer, WordPunctTokenizer on
                   `line.lower()` (lowercased like the default, so vocabularies are comparable).
                   All three are pure regular expressions: no nltk data download. nltk is
                   imported on first use only.

Byte-level fast path. On ASCII text each of regex, whitespace and text8 is a classification of
bytes: a byte separates tokens or belongs to a word (and may be lowercased), and a few bytes are
words of their own (text8's digits, spelled out). Such a tokenizer declares it as `byte_classes`
(a ByteClasses), and the corpus scanner (kernels/textscan.py) tokenizes its ASCII text without
making a Python string per token. Lines holding other bytes go through `tokenize`, and their
tokens are joined back into text that the same scanner splits into the same tokens
(corpus/stream.py). A tokenizer without byte classes (the nltk ones) has every line tokenized
in Python, and says so once on stderr (`scan_classes`). Two properties are tested
(tests/test_tokenize.py): the declared classes split ASCII text exactly as `tokenize` does, and
every tokenizer's tokens, joined with " " and "\n", scan back into the same tokens and lines.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from embedkit.config import TOKENIZERS
from embedkit.errors import EmbedkitError

_LETTERS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = b"0123456789"
# text8 spells each digit out as a word of its own: "1984" -> one nine eight four
SPELLED_DIGITS = {str(d): f" {w} " for d, w in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"))}


@dataclass(frozen=True, eq=False)
class ByteClasses:
    """How a tokenizer splits text, as the corpus scanner (kernels/textscan.py) does it."""
    code: np.ndarray          # (256,) uint16: 0 for a byte that separates tokens (b"\n" also ends the
                              # line), 0x100 | b' for a byte of a word, b' the byte it becomes
    expansions: tuple = ()    # (byte, b" word ") pairs: bytes that are a word of their own, spelled
                              # out before the scan
    scans_text: bool = True   # False: raw text never reaches the scanner, only joined tokens

    @classmethod
    def of(cls, word: bytes, lower: bool = False, expansions: tuple = ()) -> "ByteClasses":
        """ASCII bytes in `word` belong to words (A-Z lowercased when `lower`); every other ASCII
        byte separates tokens. Bytes >= 0x80 belong to words, unchanged: they reach the scanner
        only inside tokens made in Python."""
        assert b"\n" not in word
        code = np.zeros(256, np.uint16)
        for b in word:
            code[b] = 0x100 | (b + 32 if lower and 65 <= b <= 90 else b)
        code[128:] = 0x100 | np.arange(128, 256)
        return cls(code, tuple(expansions))

    @cached_property
    def plain(self) -> bytes:
        """The bytes a token may hold and come back unchanged from a scan."""
        return bytes(b for b in range(256) if self.code[b] == 0x100 | b)

    def expand(self, text: bytes) -> bytes:
        """Spell out the expanding bytes (text8's digits); a memchr-speed no-op on text without them."""
        for byte, word in self.expansions:
            text = text.replace(byte, word)
        return text


def _joined_tokens_only() -> ByteClasses:
    """For tokenizers with no fast path: their joined tokens, split at b" " and b"\n" only."""
    code = (0x100 | np.arange(256)).astype(np.uint16)
    code[[10, 32]] = 0
    return ByteClasses(code, (), scans_text=False)


JOINED_TOKENS = _joined_tokens_only()
_announced: set = set()


def scan_classes(tokenizer: "Tokenizer") -> ByteClasses:
    """The byte classes the scanner uses for `tokenizer`: its own, or, when it has none,
    JOINED_TOKENS, which is announced once per tokenizer and process on stderr."""
    if tokenizer.byte_classes is not None:
        return tokenizer.byte_classes
    if tokenizer.name not in _announced:
        _announced.add(tokenizer.name)
        print(f"embedkit: --tokenizer {tokenizer.name} has no byte-level fast path: every line is tokenized "
              f"in Python, several times slower than regex, whitespace or text8", file=sys.stderr)
    return JOINED_TOKENS


class Tokenizer:
    """Splits one line (no newline) into tokens; `tokenize_lines` does a block of lines. Tokens
    are non-empty and hold neither b" " nor a newline."""
    name = ""
    byte_classes: ByteClasses | None = None   # the byte-level fast path, if the tokenizer has one

    def tokenize(self, line: str) -> list[str]:
        raise NotImplementedError

    def __call__(self, line: str) -> list[str]:
        return self.tokenize(line)

    def tokenize_lines(self, text: str) -> list[list[str]]:
        """One token list per '\\n'-separated line of `text` (text.count('\\n') + 1 lists)."""
        tok = self.tokenize
        return [tok(line) for line in text.split("\n")]


class WhitespaceTokenizer(Tokenizer):
    name = "whitespace"
    # str.split's ASCII separators: space, \t, \n, \v, \f, \r and \x1c-\x1f
    byte_classes = ByteClasses.of(bytes(b for b in range(128) if not chr(b).isspace()))

    def tokenize(self, line: str) -> list[str]:
        return line.split()

    def tokenize_lines(self, text: str) -> list[list[str]]:
        return [line.split() for line in text.split("\n")]


class RegexTokenizer(Tokenizer):
    """`[^\\W_]+` on the lowercased line: runs of Unicode letters/digits."""
    name = "regex"
    pattern = re.compile(r"[^\W_]+")
    # On ASCII, [^\W_] is exactly [A-Za-z0-9]; lowercasing only maps A-Z.
    byte_classes = ByteClasses.of(_LETTERS + _DIGITS, lower=True)

    def tokenize(self, line: str) -> list[str]:
        return self.pattern.findall(line.lower())

    def tokenize_lines(self, text: str) -> list[list[str]]:
        findall = self.pattern.findall
        return [findall(line) for line in text.lower().split("\n")]


class _Text8Map(dict):
    """str.translate mapping for NFKD text: a-z kept, A-Z lowered, digit -> ' word ', combining
    mark deleted, anything else -> ' '. Non-ASCII entries are filled in on first sight."""

    def __missing__(self, cp: int):
        value = None if unicodedata.category(chr(cp))[0] == "M" else " "
        self[cp] = value
        return value


def _text8_map() -> _Text8Map:
    m = _Text8Map((cp, " ") for cp in range(128))
    for c in "abcdefghijklmnopqrstuvwxyz":
        m[ord(c)] = c
        m[ord(c.upper())] = c
    for digit, word in SPELLED_DIGITS.items():
        m[ord(digit)] = word
    return m


class Text8Tokenizer(Tokenizer):
    """wikifil/text8 normalisation (see module docstring)."""
    name = "text8"
    byte_classes = ByteClasses.of(_LETTERS, lower=True,
                                  expansions=tuple((d.encode(), w.encode()) for d, w in SPELLED_DIGITS.items()))
    _map = _text8_map()

    def tokenize(self, line: str) -> list[str]:
        if not line.isascii():
            line = unicodedata.normalize("NFKD", line)
        return line.translate(self._map).split()


class NltkTokenizer(Tokenizer):
    """Adapter for an nltk regex tokenizer class, applied to the lowercased line."""
    _classes = {
        "nltk-treebank": ("nltk.tokenize.treebank", "TreebankWordTokenizer"),
        "nltk-toktok": ("nltk.tokenize.toktok", "ToktokTokenizer"),
        "nltk-wordpunct": ("nltk.tokenize.regexp", "WordPunctTokenizer"),
    }

    def __init__(self, name: str):
        import importlib
        self.name = name
        module, cls = self._classes[name]
        try:
            self._tokenize = getattr(importlib.import_module(module), cls)().tokenize
        except ImportError:
            raise EmbedkitError(f"--tokenizer {name} needs nltk: pip install nltk") from None

    def tokenize(self, line: str) -> list[str]:
        return self._tokenize(line.lower())


_SIMPLE = {"regex": RegexTokenizer, "whitespace": WhitespaceTokenizer, "text8": Text8Tokenizer}


def get_tokenizer(name: str) -> Tokenizer:
    """The tokenizer called `name` (one of embedkit.config.TOKENIZERS)."""
    if name in _SIMPLE:
        return _SIMPLE[name]()
    if name in NltkTokenizer._classes:
        return NltkTokenizer(name)
    raise EmbedkitError(f"--tokenizer: unknown tokenizer {name!r}; choose one of {', '.join(TOKENIZERS)}")
