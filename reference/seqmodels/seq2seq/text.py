"""Word-level text for translation: split punctuation off words, and join tokens back for BLEU."""

from __future__ import annotations

import re
from typing import Sequence

__all__ = ["detokenize", "split_punctuation"]


_WORD = re.compile(r"[\w'’-]+|[^\w\s]")


def split_punctuation(text: str, lowercase: bool = False) -> list[str]:
    """Words and punctuation marks as separate tokens: "Hi, Tom!" -> ["Hi", ",", "Tom", "!"].

    Apostrophes and hyphens stay inside words ("don't", "aujourd'hui"), as in
    sacrebleu's 13a tokenizer, so " ".join(tokens) scores the same BLEU as
    the detokenized sentence would.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    return _WORD.findall(text.lower() if lowercase else text)


_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{]) ")


def detokenize(tokens: Sequence[str]) -> str:
    """Join English tokens into text: ["Hi", ",", "Tom", "!"] -> "Hi, Tom!" (what sacrebleu expects)."""
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", " ".join(tokens)))
