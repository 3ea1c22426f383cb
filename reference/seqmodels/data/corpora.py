"""Loaders for the four corpora of the course, built on :func:`seqmodels.data.files.fetch`.

Each loader returns plain Python strings exactly as the source published
them (no lowercasing, no Unicode normalization); tokenization and
vocabularies are separate steps (:mod:`seqmodels.data.vocab`).
"""

from __future__ import annotations

import gzip
import zipfile

from .._checks import check_choice
from .files import fetch

WIKITEXT2_SPLITS = ("train", "valid", "test")
MULTI30K_SPLITS = {"train": "train", "val": "val", "test": "test_2016_flickr"}
MULTI30K_LANGUAGES = ("en", "de", "fr")


def _lines(text: str) -> list[str]:
    # Split on "\n" only: str.splitlines would also break at rare Unicode
    # separators (U+2028, U+001C, ...) that occur inside WikiText lines.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def load_tiny_shakespeare() -> str:
    """The Tiny Shakespeare text (1,115,394 characters, 65 distinct) as one string."""
    return fetch("tinyshakespeare/input.txt").read_text(encoding="utf-8")


def load_wikitext2(split: str = "train") -> list[str]:
    """The lines of a WikiText-2 split, without their trailing newline.

    The text is already tokenized: tokens are separated by single spaces and
    rare words are ``<unk>``. Lines are kept as published (a leading space,
    ``" = Heading = "`` lines, and ``" "`` for blank lines), so
    ``len(load_wikitext2("train")) == 36718``. The usual word-level stream
    (PyTorch's ``word_language_model``, and the published counts: 2,088,628
    training tokens, 33,278 types) is ``line.split() + ["<eos>"]`` for every
    line, blank ones included: see :func:`seqmodels.data.tokenize_lines`.

    Args:
        split: ``"train"``, ``"valid"`` or ``"test"``.
    """
    check_choice("split", split, WIKITEXT2_SPLITS)
    return _lines(fetch(f"wikitext-2/{split}.txt").read_text(encoding="utf-8"))


def load_fra_eng() -> list[tuple[str, str]]:
    """The 167,130 Tatoeba/Anki (English, French) sentence pairs, short to long.

    Read from ``fra-eng/fra.txt`` inside the d2l.ai archive ``fra-eng.zip``
    (one ``English<TAB>French`` pair a line). The French side contains
    non-breaking spaces (U+00A0, U+202F) before ``!?:;``, kept as published.
    """
    path = fetch("fra-eng/fra-eng.zip")
    with zipfile.ZipFile(path) as archive:
        text = archive.read("fra-eng/fra.txt").decode("utf-8")
    pairs = []
    for number, line in enumerate(_lines(text), start=1):
        columns = line.split("\t")
        if len(columns) < 2:
            raise ValueError(f"{path}: line {number} of fra-eng/fra.txt has no TAB: {line!r}")
        pairs.append((columns[0], columns[1]))
    return pairs


def load_multi30k(split: str = "train", src: str = "de", tgt: str = "en") -> list[tuple[str, str]]:
    """Multi30k task-1 caption pairs ``(source, target)``, raw untokenized text.

    Args:
        split: ``"train"`` (29,000 pairs), ``"val"`` (1,014) or ``"test"``
            (the 2016 Flickr test set, 1,000).
        src, tgt: two different languages among ``"en"``, ``"de"``, ``"fr"``.
    """
    check_choice("split", split, tuple(MULTI30K_SPLITS))
    check_choice("src", src, MULTI30K_LANGUAGES)
    check_choice("tgt", tgt, MULTI30K_LANGUAGES)
    if src == tgt:
        raise ValueError(f"src and tgt must be different languages, got {src!r} twice")
    sides = []
    for lang in (src, tgt):
        path = fetch(f"multi30k/{MULTI30K_SPLITS[split]}.{lang}.gz")
        sides.append(_lines(gzip.decompress(path.read_bytes()).decode("utf-8")))
    if len(sides[0]) != len(sides[1]):
        raise ValueError(f"multi30k {split}: {len(sides[0])} {src} lines but {len(sides[1])} {tgt} lines")
    return list(zip(sides[0], sides[1]))
