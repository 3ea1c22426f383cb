"""Right-padded batches of sequences: lengths, masks, per-sequence reversal.

Shared by every recurrent model (``seqmodels.recurrent`` and the classifiers
on top of it). A batch X (T, B, ...) holds sequence b in X[:lengths[b], b];
the rest is padding.
"""

from __future__ import annotations

import torch

__all__ = ["check_lengths", "length_mask", "reverse_index", "gather_time"]


def check_lengths(lengths, T: int, B: int | None, device) -> torch.Tensor:
    """lengths: B ints in [1, T] (list or integer tensor) -> (B,) long tensor on ``device``.

    ``B=None`` accepts any number of sequences.
    """
    lengths = torch.as_tensor(lengths)
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths: expected integers, got {lengths.dtype}")
    if lengths.dim() != 1 or (B is not None and lengths.shape != (B,)):
        expected = "(B,)" if B is None else f"(B,) = ({B},)"
        raise ValueError(f"lengths: expected shape {expected}, got {tuple(lengths.shape)}")
    B = lengths.shape[0]
    if B and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"lengths: expected values in [1, T] = [1, {T}] (every sequence has at least one "
                         f"step and none is longer than T), got {lengths.tolist()}")
    return lengths.to(device=device, dtype=torch.long)


def length_mask(lengths, T: int | None = None, *, batch_first: bool = False, device=None) -> torch.Tensor:
    """True at the real steps t < lengths[b], False on padding.

    (T, B), time-major like the batches; ``batch_first=True`` gives (B, T), one row per
    sequence, the layout of attention weights over a source. ``lengths``: B ints in [1, T]
    (list or integer tensor); ``T`` defaults to the longest length.
    """
    if T is None:
        T = int(torch.as_tensor(lengths).max())
    lengths = check_lengths(lengths, T, None, device if device is not None else torch.as_tensor(lengths).device)
    mask = torch.arange(T, device=lengths.device)[:, None] < lengths[None, :]
    return mask.T if batch_first else mask


def reverse_index(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(T, B) index that reverses each sequence within its own length.

    Position t < L_b maps to L_b - 1 - t; padding stays in place. Applying it
    twice is the identity, so the same index reverses the outputs back.
    """
    t = torch.arange(T, device=lengths.device)[:, None]
    L = lengths[None, :]
    return torch.where(t < L, L - 1 - t, t)


def gather_time(X: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Y[t, b] = X[index[t, b], b] for X (T, B, F) and index (T, B)."""
    return X.gather(0, index[:, :, None].expand_as(X))
