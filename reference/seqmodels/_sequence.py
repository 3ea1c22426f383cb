"""Right-padded batches of sequences: lengths, masks, per-sequence reversal.

Shared by every recurrent model (``seqmodels.recurrent`` and the classifiers
on top of it). A batch X (T, B, ...) holds sequence b in X[:lengths[b], b];
the rest is padding.
"""

from __future__ import annotations

import torch

__all__ = ["check_lengths", "length_mask", "reverse_index", "gather_time"]


def check_lengths(lengths, T: int, B: int, device) -> torch.Tensor:
    """lengths: B ints in [1, T] (list or integer tensor) -> (B,) long tensor on ``device``."""
    lengths = torch.as_tensor(lengths)
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths: expected integers, got {lengths.dtype}")
    if lengths.shape != (B,):
        raise ValueError(f"lengths: expected shape (B,) = ({B},), got {tuple(lengths.shape)}")
    if B and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"lengths: expected values in [1, T] = [1, {T}], got {lengths.tolist()}")
    return lengths.to(device=device, dtype=torch.long)


def length_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(T, B) bool, True at t < lengths[b] (real steps), False on padding."""
    return torch.arange(T, device=lengths.device)[:, None] < lengths[None, :]


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
