r"""Self-attention and multi-head attention (chapter 9, transformers).

Layout: **batch-first**, as ``torch.nn.MultiheadAttention(batch_first=True)``
(unlike the time-major RNN chapters). A sequence is the matrix X (n, d) of
its n token vectors as rows; a batch is X (B, n, d). Heads: h, head size
l = d / h. Weights multiply from the right (X W), as in the lecture and in
Vaswani et al. (2017); torch.nn stores the transposes (see ``to_torch``).

Lecture form (head j = 1..h; C = X for self-attention, C (B, m, d) a
source context for cross-attention), with the 1 / sqrt(l) that the lecture's
derivation softmax(X X^T) -> softmax(X L R X^T) does not have: the book adds
it, as Vaswani et al. (2017) do, so that scores of l unit-variance products
keep unit variance and the softmax does not saturate (chapter 9):

    A_j = softmax(X L_j R_j C^T / sqrt(l) + M)      L_j (d, l), R_j (l, d)
    Y_j = A_j C P_j                                  P_j (d, l)
    Y   = reshape([Y_1 ... Y_h]) O                   O (h l, d) = (d, d)

X L_j R_j C^T is a bilinear form X W_j C^T whose d x d matrix W_j = L_j R_j
has rank l: h such forms cost 2 h d l = 2 d^2 parameters instead of h d^2.

Standard form (what libraries compute):

    Q = X W_Q + b_Q,  K = C W_K + b_K,  V = C W_V + b_V   W_* (d, d), b_* (d,)
    head j takes the columns j l .. (j+1) l - 1 of Q, K, V:
        Q_j = X L_j,  K_j = C R_j^T,  V_j = C P_j     (so L_j, R_j^T, P_j are
        column blocks of W_Q, W_K, W_V; ``lecture_weights`` converts)
    Y = concat_j softmax(Q_j K_j^T / sqrt(l) + M) V_j  W_O + b_O

Masks are additive, M in {-inf, 0}^(n x m) (``causal_mask``), or boolean
with True = "may attend" (the convention of F.scaled_dot_product_attention).
A row that masks every key has no softmax: its output is NaN.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from .._checks import check_positive_int, check_tensor

__all__ = [
    "AttentionOutput",
    "MultiHeadAttention",
    "causal_mask",
    "lecture_self_attention",
    "lecture_weights",
    "merge_heads",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "simple_self_attention",
    "split_heads",
    "xavier",
]


# ------------------------------------------------------------------------ masks


def causal_mask(n: int, m: int | None = None, *, dtype: torch.dtype = torch.float32,
                device: torch.device | str | None = None) -> torch.Tensor:
    """The additive causal mask M (n, m): M[i, j] = -inf if key j is in query i's future, else 0.

    The n queries are the LAST n of m positions (m = n by default); with a
    key/value cache of m - n earlier positions, query i sits at position
    m - n + i and may attend to keys 0..m-n+i.
    """
    check_positive_int("n", n)
    m = n if m is None else check_positive_int("m", m)
    if m < n:
        raise ValueError(f"m: the queries are the last n of m positions, so m >= n; got n={n}, m={m}")
    future = torch.ones(n, m, dtype=torch.bool, device=device).triu(diagonal=m - n + 1)
    return torch.zeros(n, m, dtype=dtype, device=device).masked_fill(future, -math.inf)


def _add_mask(mask: torch.Tensor | None, scores: torch.Tensor) -> torch.Tensor | None:
    """A mask as an additive tensor of the scores' dtype (bool: True = may attend)."""
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask: expected a torch.Tensor or None, got {type(mask).__name__}")
    try:
        ok = mask.dim() >= 2 and torch.broadcast_shapes(mask.shape, scores.shape) == scores.shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"mask: expected shape (n, m) = {tuple(scores.shape[-2:])}, or one that broadcasts "
                         f"to the scores (B, h, n, m) = {tuple(scores.shape)}, got {tuple(mask.shape)}")
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=scores.dtype, device=mask.device).masked_fill(~mask, -math.inf)
    if not mask.is_floating_point():
        raise TypeError(f"mask: expected a bool or floating-point tensor, got {mask.dtype}")
    return mask.to(scores.dtype)


# ----------------------------------------------------------------- single head


def scaled_dot_product_attention(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor,
                                 mask: torch.Tensor | None = None, *,
                                 scale: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Y = softmax(Q K^T * scale + M) V, with scale = 1/sqrt(l) by default.

    Q (..., n, l), K (..., m, l), V (..., m, l_v); any leading dimensions
    (batch, heads) that broadcast. mask: (n, m) or broadcastable to
    (..., n, m), additive or bool. Returns Y (..., n, l_v) and the attention
    weights A (..., n, m), whose rows sum to 1.
    """
    for name, x in (("Q", Q), ("K", K), ("V", V)):
        if not isinstance(x, torch.Tensor) or x.dim() < 2 or not x.is_floating_point():
            raise TypeError(f"{name}: expected a floating-point tensor of shape (..., rows, columns), got "
                            f"{type(x).__name__ if not isinstance(x, torch.Tensor) else (x.dtype, tuple(x.shape))}")
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(f"Q (..., n, l) and K (..., m, l) must have the same last size l, got "
                         f"{tuple(Q.shape)} and {tuple(K.shape)}")
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(f"K (..., m, l) and V (..., m, l_v) must have the same number of rows m, got "
                         f"{tuple(K.shape)} and {tuple(V.shape)}")
    scale = 1.0 / math.sqrt(Q.shape[-1]) if scale is None else scale
    scores = Q @ K.transpose(-2, -1) * scale                 # (..., n, m)
    M = _add_mask(mask, scores)
    if M is not None:
        scores = scores + M
    A = torch.softmax(scores, dim=-1)
    return A @ V, A


def simple_self_attention(X: torch.Tensor, W: torch.Tensor | None = None
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """The lecture's first attempts: A = softmax(X W X^T) (W = I if None), Y = A X. No scaling.

    X (..., n, d), W (d, d). Returns Y (..., n, d) and A (..., n, n).
    """
    if not isinstance(X, torch.Tensor) or X.dim() < 2:
        raise TypeError("X: expected a tensor of shape (..., n, d)")
    check_tensor("X", X, (None,) * (X.dim() - 2) + ("n", "d"))
    if W is not None:
        check_tensor("W", W, (X.shape[-1], X.shape[-1]), like=("X", X))
    scores = X @ X.transpose(-2, -1) if W is None else X @ W @ X.transpose(-2, -1)
    A = torch.softmax(scores, dim=-1)
    return A @ X, A


# ------------------------------------------------------------------ multi-head


def split_heads(Z: torch.Tensor, h: int) -> torch.Tensor:
    """(B, n, h*l) -> (B, h, n, l): head j gets columns j*l .. (j+1)*l - 1."""
    B, n, d = Z.shape
    return Z.reshape(B, n, h, d // h).transpose(1, 2)


def merge_heads(Z: torch.Tensor) -> torch.Tensor:
    """(B, h, n, l) -> (B, n, h*l): the lecture's reshape, heads side by side."""
    B, h, n, l = Z.shape
    return Z.transpose(1, 2).reshape(B, n, h * l)


def _check_inputs(X, C, num_heads) -> tuple[dict, torch.Tensor]:
    dims: dict = {}
    check_tensor("X", X, ("B", "n", "d"), dims)
    C = X if C is None else check_tensor("C", C, ("B", "m", "d"), dims, like=("X", X))
    check_positive_int("num_heads", num_heads)
    d = dims["d"][0]
    if d % num_heads:
        raise ValueError(f"num_heads: the model size d = {d} must be divisible by the number of heads "
                         f"h = {num_heads} (head size l = d / h)")
    return dims, C


def multi_head_attention(X: torch.Tensor, W_Q: torch.Tensor, W_K: torch.Tensor, W_V: torch.Tensor,
                         W_O: torch.Tensor, num_heads: int, *, C: torch.Tensor | None = None,
                         mask: torch.Tensor | None = None, b_Q: torch.Tensor | None = None,
                         b_K: torch.Tensor | None = None, b_V: torch.Tensor | None = None,
                         b_O: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-head attention in the standard Q/K/V form (module docstring).

    X (B, n, d) queries' input; C (B, m, d) keys' and values' input (None:
    self-attention, C = X); W_Q, W_K, W_V, W_O (d, d); biases (d,) or None;
    mask (n, m) additive or bool. Returns Y (B, n, d) and the per-head
    weights A (B, h, n, m).
    """
    dims, C = _check_inputs(X, C, num_heads)
    for name, W in (("W_Q", W_Q), ("W_K", W_K), ("W_V", W_V), ("W_O", W_O)):
        check_tensor(name, W, ("d", "d"), dims, like=("X", X))
    for name, b in (("b_Q", b_Q), ("b_K", b_K), ("b_V", b_V), ("b_O", b_O)):
        if b is not None:
            check_tensor(name, b, ("d",), dims, like=("X", X))
    add = lambda Z, b: Z if b is None else Z + b  # noqa: E731
    Q = split_heads(add(X @ W_Q, b_Q), num_heads)           # (B, h, n, l)
    K = split_heads(add(C @ W_K, b_K), num_heads)           # (B, h, m, l)
    V = split_heads(add(C @ W_V, b_V), num_heads)           # (B, h, m, l)
    Y, A = scaled_dot_product_attention(Q, K, V, mask)
    return add(merge_heads(Y) @ W_O, b_O), A


def lecture_weights(W_Q: torch.Tensor, W_K: torch.Tensor, W_V: torch.Tensor, W_O: torch.Tensor,
                    num_heads: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Standard weights (d, d) -> the lecture's L (h, d, l), R (h, l, d), P (h, d, l), O (d, d).

    L_j, R_j^T, P_j are the j-th blocks of l columns of W_Q, W_K, W_V; O = W_O.
    """
    d = W_Q.shape[0]
    h, l = num_heads, d // num_heads
    blocks = lambda W: W.reshape(d, h, l).permute(1, 0, 2)  # noqa: E731  (h, d, l)
    return blocks(W_Q), blocks(W_K).transpose(1, 2), blocks(W_V), W_O


def lecture_self_attention(X: torch.Tensor, L: torch.Tensor, R: torch.Tensor, P: torch.Tensor,
                      O: torch.Tensor, *, C: torch.Tensor | None = None,
                      mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Y = reshape(softmax(X L R C^T / sqrt(l) + M) C P) O, computed as written (no Q, K, V).

    X (B, n, d), C (B, m, d) or None (= X), L (h, d, l), R (h, l, d),
    P (h, d, l), O (h*l, d), mask (n, m). Returns Y (B, n, d), A (B, h, n, m).
    """
    dims, C = _check_inputs(X, C, L.shape[0] if isinstance(L, torch.Tensor) and L.dim() == 3 else 1)
    check_tensor("L", L, ("h", "d", "l"), dims, like=("X", X))
    check_tensor("R", R, ("h", "l", "d"), dims, like=("X", X))
    check_tensor("P", P, ("h", "d", "l"), dims, like=("X", X))
    check_tensor("O", O, (dims["h"][0] * dims["l"][0], "d"), dims, like=("X", X))
    l = L.shape[-1]
    Xh, Ch = X[:, None], C[:, None]                          # (B, 1, n, d): one copy per head
    bilinear = Xh @ L @ R                                    # (B, h, n, d) = X W_j with W_j = L_j R_j
    scores = bilinear @ Ch.transpose(-2, -1) / math.sqrt(l)  # (B, h, n, m)
    M = _add_mask(mask, scores)
    A = torch.softmax(scores if M is None else scores + M, dim=-1)
    return merge_heads(A @ Ch @ P) @ O, A


# ---------------------------------------------------------------------- module


def xavier(rows: int, cols: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A (rows, cols) matrix with Glorot-uniform entries, drawn from ``generator``."""
    bound = math.sqrt(6.0 / (rows + cols))
    return (torch.rand(rows, cols, generator=generator) * 2 - 1) * bound


class AttentionOutput(NamedTuple):
    """Y (B, n, d); A (B, h, n, m); K, V (B, h, m, l): the keys and values used (a KV cache)."""

    Y: torch.Tensor
    A: torch.Tensor
    K: torch.Tensor
    V: torch.Tensor


class MultiHeadAttention(nn.Module):
    """Multi-head attention with parameters W_Q, W_K, W_V, W_O (d, d) and biases b_* (d,).

    Weights are Glorot-uniform from ``generator`` (reproducible without global seeding), biases 0.

    ``forward(X, C=None, mask=None)`` returns Y (B, n, d). ``attend`` also
    returns the weights and the keys/values, and takes a cache ``past`` =
    (K, V) of earlier positions (B, h, t, l) for incremental decoding.
    Set ``keep_weights = True`` to store the last weights in ``self.weights``.
    """

    def __init__(self, d: int, num_heads: int, *, bias: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        check_positive_int("d", d)
        check_positive_int("num_heads", num_heads)
        if d % num_heads:
            raise ValueError(f"num_heads: d = {d} must be divisible by h = {num_heads}")
        self.d, self.h, self.l = d, num_heads, d // num_heads
        for name in ("W_Q", "W_K", "W_V", "W_O"):
            setattr(self, name, nn.Parameter(xavier(d, d, generator)))
        for name in ("b_Q", "b_K", "b_V", "b_O"):
            setattr(self, name, nn.Parameter(torch.zeros(d)) if bias else None)
        self.keep_weights = False
        self.weights: torch.Tensor | None = None

    def attend(self, X: torch.Tensor, C: torch.Tensor | None = None, *,
               mask: torch.Tensor | None = None, past: tuple[torch.Tensor, torch.Tensor] | None = None,
               causal: bool = False) -> AttentionOutput:
        """Attention of X (B, n, d) to C (B, m, d) (None: to X itself).

        past: cached (K, V) of t earlier positions, prepended to this call's
        keys and values (self-attention only). causal: add the causal mask
        for the n queries as the last n of the t + n positions.
        """
        dims, C_in = _check_inputs(X, C, self.h)
        if dims["d"][0] != self.d:
            raise ValueError(f"X: expected the model size d = {self.d} in X (B, n, d), got {tuple(X.shape)}")
        add = lambda Z, b: Z if b is None else Z + b  # noqa: E731
        Q = split_heads(add(X @ self.W_Q, self.b_Q), self.h)
        K = split_heads(add(C_in @ self.W_K, self.b_K), self.h)
        V = split_heads(add(C_in @ self.W_V, self.b_V), self.h)
        if past is not None:
            if C is not None:
                raise ValueError("past: a key/value cache is for self-attention (C=None)")
            K_past, V_past = past
            B, h, l = X.shape[0], self.h, self.l
            check_tensor("past K", K_past, (B, h, "t", l), like=("X", X))
            check_tensor("past V", V_past, (B, h, K_past.shape[2], l), like=("X", X))
            K, V = torch.cat([K_past, K], dim=2), torch.cat([V_past, V], dim=2)
        if causal:
            M = causal_mask(Q.shape[2], K.shape[2], dtype=X.dtype, device=X.device)
            if mask is not None:
                M = M + _add_mask(mask, M)
            mask = M
        Y, A = scaled_dot_product_attention(Q, K, V, mask)
        if self.keep_weights:
            self.weights = A.detach()
        return AttentionOutput(add(merge_heads(Y) @ self.W_O, self.b_O), A, K, V)

    def forward(self, X: torch.Tensor, C: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.attend(X, C, mask=mask).Y

    def to_torch(self) -> nn.MultiheadAttention:
        """An equal ``torch.nn.MultiheadAttention(batch_first=True)`` (weights copied, transposed)."""
        bias = self.b_Q is not None
        mha = nn.MultiheadAttention(self.d, self.h, bias=bias, batch_first=True,
                                    dtype=self.W_Q.dtype, device=self.W_Q.device)
        with torch.no_grad():
            mha.in_proj_weight.copy_(torch.cat([self.W_Q.T, self.W_K.T, self.W_V.T]))
            mha.out_proj.weight.copy_(self.W_O.T)
            if bias:
                mha.in_proj_bias.copy_(torch.cat([self.b_Q, self.b_K, self.b_V]))
                mha.out_proj.bias.copy_(self.b_O)
        return mha

    @torch.no_grad()
    def load_torch(self, mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        """Copy the weights of a ``torch.nn.MultiheadAttention`` (same d, h) into this module."""
        if mha.embed_dim != self.d or mha.num_heads != self.h or mha.in_proj_weight is None:
            raise ValueError(f"load_torch: expected a MultiheadAttention with embed_dim={self.d}, "
                             f"num_heads={self.h} and one in_proj_weight")
        W_Q, W_K, W_V = mha.in_proj_weight.chunk(3)
        for mine, theirs in ((self.W_Q, W_Q), (self.W_K, W_K), (self.W_V, W_V), (self.W_O, mha.out_proj.weight)):
            mine.copy_(theirs.T)
        if self.b_Q is not None:
            for mine, theirs in zip((self.b_Q, self.b_K, self.b_V), mha.in_proj_bias.chunk(3)):
                mine.copy_(theirs)
            self.b_O.copy_(mha.out_proj.bias)
        return self

    def extra_repr(self) -> str:
        return f"d={self.d}, h={self.h}, l={self.l}, bias={self.b_Q is not None}"
