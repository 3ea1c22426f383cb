"""Synthetic sequence tasks that train in seconds on a CPU.

Every generator takes a ``torch.Generator`` so that data are reproducible without
touching the global random state.
"""
from __future__ import annotations

import torch

from ._checks import check_int, check_positive_int
from .specials import SPECIALS


def _occurrences(tokens: torch.Tensor, pattern: torch.Tensor) -> torch.Tensor:
    """Boolean (N, L - P + 1): does ``pattern`` start at each position of each row?"""
    P = pattern.numel()
    windows = tokens.unfold(1, P, 1)                      # (N, L - P + 1, P)
    return (windows == pattern).all(dim=-1)


def pattern_detection_batch(batch_size: int, length: int, pattern=(0, 1, 2), vocab_size: int = 4,
                            generator: torch.Generator | None = None):
    """Sequences of random symbols, half of which contain ``pattern`` somewhere ("finding 'welcome'").

    Returns ``tokens`` (T, B) long (time-major, T = ``length``) and ``labels`` (B,) long in {0, 1};
    label 1 exactly when the pattern occurs. Negatives are random strings with every occurrence
    broken; positives are negatives with the pattern written at a uniformly random position, so the
    position carries no information and the classes are balanced at every length.
    """
    pattern = torch.as_tensor(pattern, dtype=torch.long)
    P = pattern.numel()
    if length < P:
        raise ValueError(f"length must be at least the pattern length {P}, got {length}")
    if int(pattern.min()) < 0 or int(pattern.max()) >= vocab_size:
        raise ValueError(f"pattern symbols must lie in [0, {vocab_size}), got {pattern.tolist()}")
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
    tokens = torch.randint(vocab_size, (batch_size, length), generator=generator)
    # Break occurrences by changing their last symbol; a change can create a new
    # occurrence further right, so repeat until none is left (a few passes at most).
    while True:
        hits = _occurrences(tokens, pattern)
        if not hits.any():
            break
        rows, starts = hits.nonzero(as_tuple=True)
        shift = torch.randint(1, vocab_size, (rows.numel(),), generator=generator)
        last = starts + P - 1
        tokens[rows, last] = (tokens[rows, last] + shift) % vocab_size
    labels = torch.randint(2, (batch_size,), generator=generator)
    positive = labels.nonzero(as_tuple=True)[0]
    starts = torch.randint(length - P + 1, (positive.numel(),), generator=generator)
    for offset in range(P):
        tokens[positive, starts + offset] = pattern[offset]
    return tokens.T.contiguous(), labels


def _check_sizes(batch_size, length, min_length: int) -> None:
    check_positive_int("batch_size", batch_size)
    check_int("length", length, min=min_length)


def delayed_recall_batch(batch_size: int, length: int, num_classes: int = 2, num_distractors: int = 4,
                         generator: torch.Generator | None = None):
    """Remember the first symbol of a sequence until its end (a dependency over ``length - 1`` steps).

    Symbols 0 .. K-1 (K = ``num_classes``) are class markers, symbols K .. K + ``num_distractors`` - 1
    are distractors. Every sequence starts with its class marker, followed by ``length - 1`` random
    distractors; the label is the marker. A model that reads only the last state h_{T-1} must carry
    the marker through T - 1 updates, and its gradient must travel back as far.

    Returns ``tokens`` (T, B) long (time-major, vocabulary size K + ``num_distractors``) and
    ``labels`` (B,) long in [0, K), uniformly distributed.
    """
    _check_sizes(batch_size, length, 1)
    check_int("num_classes", num_classes, min=2)
    check_positive_int("num_distractors", num_distractors)
    labels = torch.randint(num_classes, (batch_size,), generator=generator)
    tokens = num_classes + torch.randint(num_distractors, (length, batch_size), generator=generator)
    tokens[0] = labels
    return tokens, labels


def adding_problem_batch(batch_size: int, length: int, generator: torch.Generator | None = None):
    """The adding problem (Hochreiter and Schmidhuber 1997): sum two marked numbers of a long sequence.

    Each step has two input features: a value uniform in [0, 1) and a marker in {0, 1}. Exactly two
    steps are marked, one in the first half of the sequence and one in the second half; the target
    is the sum of the two marked values. Predicting the constant 1 gives a mean squared error of
    1/6, the baseline to beat.

    Returns ``X`` (T, B, 2) float (values in ``X[..., 0]``, markers in ``X[..., 1]``) and
    ``targets`` (B,) float.
    """
    _check_sizes(batch_size, length, 2)
    values = torch.rand(length, batch_size, generator=generator)
    half = length // 2
    first = torch.randint(half, (batch_size,), generator=generator)
    second = half + torch.randint(length - half, (batch_size,), generator=generator)
    markers = torch.zeros(length, batch_size)
    columns = torch.arange(batch_size)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    targets = values[first, columns] + values[second, columns]
    return torch.stack([values, markers], dim=-1), targets


def reversal_pairs(n: int, *, vocab_size: int = 13, min_len: int = 3, max_len: int = 10,
                   generator: torch.Generator | None = None) -> list[tuple[list[int], list[int]]]:
    """n pairs (x, reversed x) of random words 4 .. vocab_size-1 (ids 0 .. 3 are ``seqmodels.specials``).

    Output word t copies input word S + 1 - t, so a trained attention
    concentrates on the anti-diagonal; a model without attention must keep the
    whole sentence in one vector.
    """
    check_positive_int("n", n)
    first = len(SPECIALS)
    if vocab_size <= first:
        raise ValueError(f"vocab_size: expected at least {first + 1} ({first} special ids + 1 word), got {vocab_size}")
    if not (isinstance(min_len, int) and isinstance(max_len, int) and 1 <= min_len <= max_len):
        raise ValueError(f"expected 1 <= min_len <= max_len, got {min_len}, {max_len}")
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=generator).tolist()
    pairs = []
    for L in lengths:
        x = torch.randint(first, vocab_size, (L,), generator=generator).tolist()
        pairs.append((x, x[::-1]))
    return pairs
