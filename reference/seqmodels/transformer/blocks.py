r"""Transformer blocks (chapter 9): the position-wise MLP, encoder and decoder blocks, pre- or post-norm.

Layout batch-first: X (B, n, d). Notation of the lecture:

    position-wise MLP   F(Y) = relu(Y W + b) V + c      W (d, k), b (k,), V (k, d), c (d,), k ~ 4d
    pre-norm block      X <- X + MHA(LN(X));   X <- X + F(LN(X))
    post-norm block     X <- LN(X + MHA(X));   X <- LN(X + F(X))       (Vaswani et al., 2017)
    decoder block       causal self-attention (mask M, M[i, j] = -inf for j > i),
                        then cross-attention to a source context C (B, m, d), then F

Both orders equal torch.nn.TransformerEncoderLayer / TransformerDecoderLayer
(dropout 0, relu, batch_first=True) with copied weights (``to_torch``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_positive_int
from .attention import MultiHeadAttention, xavier

__all__ = ["DecoderBlock", "EncoderBlock", "PositionwiseMLP"]

Cache = tuple  # per layer: (K, V), each (N, h, t, l)


class PositionwiseMLP(nn.Module):
    """F(Y) = relu(Y W + b) V + c, applied to every position (row) separately. Y (B, n, d)."""

    def __init__(self, d: int, k: int, *, generator: torch.Generator | None = None):
        super().__init__()
        check_positive_int("d", d)
        check_positive_int("k", k)
        self.W = nn.Parameter(xavier(d, k, generator))
        self.b = nn.Parameter(torch.zeros(k))
        self.V = nn.Parameter(xavier(k, d, generator))
        self.c = nn.Parameter(torch.zeros(d))

    def forward(self, Y: torch.Tensor) -> torch.Tensor:
        return torch.relu(Y @ self.W + self.b) @ self.V + self.c


def _copy_linear(linear: nn.Linear, W: torch.Tensor, b: torch.Tensor) -> None:
    """torch.nn.Linear computes x A^T + a: store A = W^T for our x W + b."""
    linear.weight.copy_(W.T)
    linear.bias.copy_(b)


class EncoderBlock(nn.Module):
    """Self-attention (no mask) and MLP, each with a residual connection and LayerNorm.

    forward(X (B, n, d), mask=None) -> (B, n, d); mask (n, n) or broadcastable
    to (B, h, n, n), e.g. a key padding mask (B, 1, 1, n) bool (True = real).
    """

    def __init__(self, d: int, num_heads: int, k: int | None = None, *, norm_first: bool = True,
                 eps: float = 1e-5, generator: torch.Generator | None = None):
        super().__init__()
        self.d, self.k, self.norm_first = d, 4 * d if k is None else k, norm_first
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=eps), nn.LayerNorm(d, eps=eps)
        self.attn = MultiHeadAttention(d, num_heads, generator=generator)
        self.mlp = PositionwiseMLP(d, self.k, generator=generator)

    def forward(self, X: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.norm_first:
            X = X + self.attn(self.ln1(X), mask=mask)
            return X + self.mlp(self.ln2(X))
        X = self.ln1(X + self.attn(X, mask=mask))
        return self.ln2(X + self.mlp(X))

    @torch.no_grad()
    def to_torch(self) -> nn.TransformerEncoderLayer:
        """An equal torch.nn.TransformerEncoderLayer (dropout 0, relu, batch_first)."""
        p = self.ln1.weight
        layer = nn.TransformerEncoderLayer(self.d, self.attn.h, self.k, dropout=0.0, batch_first=True,
                                           norm_first=self.norm_first, layer_norm_eps=self.ln1.eps,
                                           dtype=p.dtype, device=p.device)
        layer.self_attn = self.attn.to_torch()
        layer.norm1.load_state_dict(self.ln1.state_dict())
        layer.norm2.load_state_dict(self.ln2.state_dict())
        _copy_linear(layer.linear1, self.mlp.W, self.mlp.b)
        _copy_linear(layer.linear2, self.mlp.V, self.mlp.c)
        return layer.eval()


class DecoderBlock(nn.Module):
    """Causal self-attention, cross-attention to C (if ``cross``), MLP; residuals and LayerNorm.

    forward(X (B, n, d), C (B, m, d) or None, past=None, cross_mask=None)
    -> (Y (B, n, d), present): ``present`` = (K, V) (B, h, t + n, l) of the
    self-attention, to pass as ``past`` when the next positions come.
    """

    def __init__(self, d: int, num_heads: int, k: int | None = None, *, cross: bool = True,
                 norm_first: bool = True, eps: float = 1e-5, generator: torch.Generator | None = None):
        super().__init__()
        self.d, self.k, self.norm_first = d, 4 * d if k is None else k, norm_first
        self.ln1 = nn.LayerNorm(d, eps=eps)
        self.self_attn = MultiHeadAttention(d, num_heads, generator=generator)
        self.cross_attn = MultiHeadAttention(d, num_heads, generator=generator) if cross else None
        self.ln2 = nn.LayerNorm(d, eps=eps) if cross else None
        self.ln3 = nn.LayerNorm(d, eps=eps)
        self.mlp = PositionwiseMLP(d, self.k, generator=generator)

    def forward(self, X: torch.Tensor, C: torch.Tensor | None = None, *,
                past: tuple[torch.Tensor, torch.Tensor] | None = None,
                cross_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, tuple]:
        if (C is None) != (self.cross_attn is None):
            raise ValueError("C: a decoder block with cross-attention needs the source context C (B, m, d); "
                             "one without (cross=False) takes none")
        pre = self.norm_first
        out = self.self_attn.attend(self.ln1(X) if pre else X, past=past, causal=True)
        X = X + out.Y if pre else self.ln1(X + out.Y)
        if self.cross_attn is not None:
            Z = self.cross_attn(self.ln2(X) if pre else X, C, mask=cross_mask)
            X = X + Z if pre else self.ln2(X + Z)
        X = X + self.mlp(self.ln3(X)) if pre else self.ln3(X + self.mlp(X))
        return X, (out.K, out.V)

    @torch.no_grad()
    def to_torch(self) -> nn.TransformerDecoderLayer:
        """An equal torch.nn.TransformerDecoderLayer (needs cross=True; call it with tgt_is_causal masks)."""
        if self.cross_attn is None:
            raise ValueError("to_torch: torch.nn.TransformerDecoderLayer always has cross-attention")
        p = self.ln1.weight
        layer = nn.TransformerDecoderLayer(self.d, self.self_attn.h, self.k, dropout=0.0, batch_first=True,
                                           norm_first=self.norm_first, layer_norm_eps=self.ln1.eps,
                                           dtype=p.dtype, device=p.device)
        layer.self_attn = self.self_attn.to_torch()
        layer.multihead_attn = self.cross_attn.to_torch()
        for theirs, mine in ((layer.norm1, self.ln1), (layer.norm2, self.ln2), (layer.norm3, self.ln3)):
            theirs.load_state_dict(mine.state_dict())
        _copy_linear(layer.linear1, self.mlp.W, self.mlp.b)
        _copy_linear(layer.linear2, self.mlp.V, self.mlp.c)
        return layer.eval()
