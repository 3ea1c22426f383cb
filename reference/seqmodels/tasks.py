"""Synthetic sequence tasks that train in seconds on a CPU.

Every generator takes a ``torch.Generator`` so that data are reproducible without
touching the global random state.
"""
from __future__ import annotations

import torch


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
