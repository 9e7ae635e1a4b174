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

Fast path. Most corpora are ASCII, where a 256-byte `bytes.translate` table (uppercase ->
lowercase, separators -> space, newline kept) followed by `str.split()` gives exactly the tokens
of the general path at a fraction of the cost of a regex. A tokenizer that has one sets
`ascii_table`; `tokenize_ascii_block` applies it to a whole block of lines. The equivalence of
the two paths is a tested property (tests/test_tokenize.py).
"""
from __future__ import annotations

import re
import unicodedata

from embedkit.config import TOKENIZERS
from embedkit.errors import EmbedkitError

_LOWER = bytes(range(65, 91))            # A-Z
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_DIGIT_BYTES = tuple((str(d).encode(), f" {w} ".encode()) for d, w in enumerate(_DIGIT_WORDS))


def _ascii_table(keep: bytes, lower: bool) -> bytes:
    """256-byte translate table: bytes in `keep` stay, A-Z -> a-z when `lower`, newline stays,
    every other byte becomes a space."""
    table = bytearray(b" " * 256)
    for b in keep:
        table[b] = b
    if lower:
        for b in _LOWER:
            table[b] = b + 32
    table[10] = 10
    return bytes(table)


class Tokenizer:
    """Splits one line (no newline) into tokens; `tokenize_lines` does a block of lines."""
    name = ""
    ascii_table: bytes | None = None   # (256,) translate table for pure-ASCII blocks, or None

    def tokenize(self, line: str) -> list[str]:
        raise NotImplementedError

    def __call__(self, line: str) -> list[str]:
        return self.tokenize(line)

    def tokenize_lines(self, text: str) -> list[list[str]]:
        """General path: one token list per '\\n'-separated line of `text` (text.count('\\n') + 1 lists)."""
        tok = self.tokenize
        return [tok(line) for line in text.split("\n")]

    def tokenize_ascii_block(self, block: bytes) -> list[list[str]]:
        """Fast path for a pure-ASCII block; same result as tokenize_lines(block.decode())."""
        text = block.translate(self.ascii_table).decode("ascii")
        return [line.split() for line in text.split("\n")]

    def tokenize_ascii_line(self, line: bytes) -> list[str]:
        """Fast path for one pure-ASCII line."""
        return line.translate(self.ascii_table).decode("ascii").split()

    def tokenize_utf8_block(self, block: bytes) -> list[list[str]]:
        """Same result as tokenize_lines(block.decode("utf-8")), but ASCII lines take the fast
        path (most lines of most corpora, even when a block is not all ASCII). Raises
        UnicodeDecodeError if the block is not valid UTF-8."""
        if self.ascii_table is None:
            return self.tokenize_lines(block.decode("utf-8"))
        fast, slow = self.tokenize_ascii_line, self.tokenize
        return [fast(line) if line.isascii() else slow(line.decode("utf-8")) for line in block.split(b"\n")]


class WhitespaceTokenizer(Tokenizer):
    name = "whitespace"
    ascii_table = bytes(range(256))      # identity: str.split() already does the work

    def tokenize(self, line: str) -> list[str]:
        return line.split()

    def tokenize_lines(self, text: str) -> list[list[str]]:
        return [line.split() for line in text.split("\n")]

    def tokenize_ascii_block(self, block: bytes) -> list[list[str]]:
        return [line.split() for line in block.decode("ascii").split("\n")]

    def tokenize_ascii_line(self, line: bytes) -> list[str]:
        return line.decode("ascii").split()


class RegexTokenizer(Tokenizer):
    """`[^\\W_]+` on the lowercased line: runs of Unicode letters/digits."""
    name = "regex"
    pattern = re.compile(r"[^\W_]+")
    # On ASCII, [^\W_] is exactly [A-Za-z0-9]; lowercasing only maps A-Z.
    ascii_table = _ascii_table(b"abcdefghijklmnopqrstuvwxyz0123456789", lower=True)

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
    for d, word in enumerate(_DIGIT_WORDS):
        m[ord(str(d))] = f" {word} "
    return m


class Text8Tokenizer(Tokenizer):
    """wikifil/text8 normalisation (see module docstring)."""
    name = "text8"
    ascii_table = _ascii_table(b"abcdefghijklmnopqrstuvwxyz0123456789", lower=True)
    _map = _text8_map()

    def tokenize(self, line: str) -> list[str]:
        if not line.isascii():
            line = unicodedata.normalize("NFKD", line)
        return line.translate(self._map).split()

    def _ascii_text(self, block: bytes) -> str:
        text = block.translate(self.ascii_table)
        for digit, word in _DIGIT_BYTES:     # memchr-speed no-op on digit-free text
            text = text.replace(digit, word)
        return text.decode("ascii")

    def tokenize_ascii_block(self, block: bytes) -> list[list[str]]:
        return [line.split() for line in self._ascii_text(block).split("\n")]

    def tokenize_ascii_line(self, line: bytes) -> list[str]:
        return self._ascii_text(line).split()


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
