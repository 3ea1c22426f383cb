r"""Sinusoidal positional encoding (chapter 9, transformers).

Self-attention treats its input rows as a set: permuting the rows of X
permutes the output rows the same way. Word order enters through a position
vector added to each token's embedding (Vaswani et al., 2017):

    PE[t, 2i]     = sin(t / base^(2i / d))
    PE[t, 2i + 1] = cos(t / base^(2i / d))        t = 0..n-1, i = 0..d/2-1

with base = 10000. Each pair of columns (2i, 2i+1) is a point on a circle
turning at angular frequency w_i = base^(-2i/d), so PE[t + k] is PE[t] turned
by the angles k * w_i: a linear function of PE[t] that depends on the offset k
only (tested in tests/test_attention.py).
"""

from __future__ import annotations

import math

import torch

from .._checks import check_int, check_positive_int

__all__ = ["sinusoidal_positional_encoding"]


def sinusoidal_positional_encoding(n: int, d: int, *, base: float = 10000.0, offset: int = 0,
                                   dtype: torch.dtype = torch.float32,
                                   device: torch.device | str | None = None) -> torch.Tensor:
    """The (n, d) matrix PE of positions offset..offset+n-1 (columns as in the module docstring).

    ``offset`` gives the rows of later positions, e.g. the position of the
    next token when decoding with a key/value cache. An odd ``d`` drops the
    last cosine column.
    """
    check_positive_int("n", n)
    check_positive_int("d", d)
    check_int("offset", offset, min=0)
    if not base > 1:
        raise ValueError(f"base: expected a number > 1, got {base!r}")
    t = torch.arange(offset, offset + n, dtype=torch.float64, device=device)[:, None]   # (n, 1)
    two_i = torch.arange(0, d, 2, dtype=torch.float64, device=device)                   # (ceil(d/2),)
    angle = t * torch.exp(-two_i * (math.log(base) / d))                                # (n, ceil(d/2))
    pe = torch.stack([angle.sin(), angle.cos()], dim=-1).reshape(n, -1)[:, :d]
    return pe.to(dtype)
