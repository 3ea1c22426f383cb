"""Tokenizers and the token <-> id vocabulary.

A language model sees integers: a tokenizer cuts text into tokens (here
characters or whitespace-separated words) and :class:`Vocab` numbers them,
mapping every token it did not keep (rare or never seen) to ``<unk>``.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from ..specials import EOS_TOKEN, SPECIALS, UNK_TOKEN

#: the specials every default Vocab starts with (ids 0 .. 3, see seqmodels.specials)
DEFAULT_SPECIALS = SPECIALS


def tokenize_chars(text: str) -> list[str]:
    """One token per character, whitespace and newlines included."""
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    return list(text)


def tokenize_words(text: str, lowercase: bool = False) -> list[str]:
    """Split on runs of whitespace (the tokenization WikiText-2 ships with)."""
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    return (text.lower() if lowercase else text).split()


def tokenize_lines(lines: Iterable[str], eos: str | None = EOS_TOKEN, lowercase: bool = False) -> list[str]:
    """Word tokens of many lines in one stream, with ``eos`` after every line.

    ``tokenize_lines(load_wikitext2("train"))`` is the standard WikiText-2
    stream (2,088,628 tokens): blank lines contribute a lone ``<eos>``.
    """
    if isinstance(lines, str):
        raise TypeError("lines: expected a list of lines, got one str (use tokenize_words)")
    tokens: list[str] = []
    for line in lines:
        tokens.extend(tokenize_words(line, lowercase))
        if eos is not None:
            tokens.append(eos)
    return tokens


class Vocab:
    """Numbering of tokens: ``stoi[token] -> id`` and ``itos[id] -> token``.

    Ids ``0 .. len(specials)-1`` are the specials in the order given
    (by default ``seqmodels.specials``: ``<pad>``=0, ``<unk>``=1, ``<bos>``=2, ``<eos>``=3), then the
    kept tokens by decreasing count, ties in order of first occurrence (so
    the numbering is deterministic). A special that also occurs in the text
    (WikiText-2 contains ``<unk>``) keeps its special id.

    Args:
        tokens: the training tokens (an iterable of str), or a
            ``collections.Counter`` of them.
        min_freq: keep a token only if it occurs at least this often.
        max_size: at most this many entries in total, specials included
            (the most frequent tokens are kept); ``None`` for no limit.
        specials: reserved tokens placed first.
        unk: the token that unknown tokens map to; must be in ``specials``.
            ``None`` makes the vocabulary closed: encoding an unknown token
            raises ``KeyError``.
    """

    def __init__(self, tokens: Iterable[str] | Counter = (), *, min_freq: int = 1,
                 max_size: int | None = None, specials: Sequence[str] = DEFAULT_SPECIALS,
                 unk: str | None = UNK_TOKEN):
        if isinstance(tokens, str):
            raise TypeError("tokens: expected an iterable of tokens, got one str "
                            "(tokenize it first: tokenize_chars or tokenize_words)")
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"min_freq: expected an int >= 1, got {min_freq!r}")
        specials = list(dict.fromkeys(specials))
        if unk is not None and unk not in specials:
            raise ValueError(f"unk={unk!r} must be one of specials={specials}")
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                     or max_size < len(specials)):
            raise ValueError(f"max_size: expected an int >= {len(specials)} (the number of "
                             f"specials) or None, got {max_size!r}")
        counts = tokens if isinstance(tokens, Counter) else Counter(tokens)
        # Counter keeps first-occurrence order and sorted() is stable, so
        # equal counts stay in the order the tokens first appeared.
        ranked = sorted(counts.items(), key=lambda item: -item[1])
        kept = [tok for tok, c in ranked if c >= min_freq and tok not in specials]
        if max_size is not None:
            kept = kept[: max_size - len(specials)]
        self.itos: list[str] = specials + kept
        self.stoi: dict[str, int] = {tok: i for i, tok in enumerate(self.itos)}
        self.counts: Counter = counts
        self.unk = unk
        self.unk_id: int | None = None if unk is None else self.stoi[unk]

    @classmethod
    def from_itos(cls, itos: Sequence[str], unk: str | None = UNK_TOKEN) -> "Vocab":
        """Rebuild a vocabulary from its ``itos`` list (e.g. saved with a model)."""
        if len(set(itos)) != len(itos):
            raise ValueError("itos contains a token twice")
        if unk is not None and unk not in itos:
            raise ValueError(f"unk={unk!r} is not in itos")
        return cls(specials=list(itos), unk=unk)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """Id of ``token``; ``unk_id`` when it is not in the vocabulary."""
        index = self.stoi.get(token, self.unk_id)
        if index is None:
            raise KeyError(f"token {token!r} is not in this closed vocabulary (unk=None)")
        return index

    def __repr__(self) -> str:
        head = ", ".join(map(repr, self.itos[:8]))
        return f"Vocab(size={len(self)}, unk={self.unk!r}, itos=[{head}{', ...' if len(self) > 8 else ''}])"

    def encode(self, tokens: Iterable[str]) -> list[int]:
        """Ids of ``tokens`` (unknown ones become ``unk_id``)."""
        if isinstance(tokens, str):
            raise TypeError("tokens: expected a list of tokens, got one str "
                            "(tokenize it first: tokenize_chars or tokenize_words)")
        return [self[tok] for tok in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` (a list of ints or a 1-D integer tensor)."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(self.itos):
                raise ValueError(f"id {i!r} is not in range(0, {len(self.itos)}) of this vocabulary")
            out.append(self.itos[i])
        return out
