"""Counters filled while a corpus is read, reported to the user (nothing is dropped silently)."""
from __future__ import annotations

from dataclasses import dataclass, field, asdict


@dataclass
class CorpusStats:
    files: list = field(default_factory=list)   # input paths in reading order
    lines: int = 0            # input lines (one line = one sentence)
    sentences: int = 0        # pieces handed on: lines, plus one per cut of an over-long line
    cuts: int = 0             # times a line longer than max_sentence_length was cut
    tokens: int = 0           # tokens produced by the tokenizer
    replaced_bytes: int = 0   # undecodable UTF-8 bytes replaced by U+FFFD

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        s = f"{len(self.files)} file(s), {self.lines:,} lines, {self.tokens:,} tokens"
        if self.cuts:
            s += f", {self.cuts:,} cut(s) of over-long lines into {self.sentences:,} pieces"
        if self.replaced_bytes:
            s += f", {self.replaced_bytes:,} undecodable byte(s) replaced"
        return s
