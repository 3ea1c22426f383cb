r"""Attention over a source sentence for encoder–decoder models (chapter 8).

The source sentence is a matrix F whose column f_i represents word i (for a
bidirectional RNN encoder f_i = [h<-_i; h->_i]). In code a batch of such
matrices is stored with the columns as rows, batch first, because the decoder
state of one hypothesis carries its own copy (beam search reorders it along
dimension 0)::

    F     (B, S, D_f)   F[b, i] = f_i of sentence b (zeros at padding)
    mask  (B, S) bool   True at real source words, False at padding
    s     (B, H_s)      decoder state (s_{t-1}: attention before the RNN step)

The attention step of the lecture (s_{t-1} is the decoder state)::

    r_t = V s_{t-1}            expected input embedding, V (D_f, H_s)
    u_t = F^T r_t              energies, one per source word, (S,)
    a_t = softmax(u_t)         weights (padding gets weight 0)
    c_t = F a_t                context vector, (D_f,)

Other energy functions u_{t,i} = score(s, f_i):

    multiplicative (Luong "general")  f_i^T W s        -- the lecture's form, W = V
    lecture, scaled                   f_i^T V s / sqrt(D_f)  (the book's addition: keeps
                                      the energies' spread O(1) as D_f grows; chapter 8)
    dot (Luong)                       f_i^T s          (needs D_f = H_s)
    additive (Bahdanau, "concat")     w^T tanh(W_s s + W_f f_i)
    scaled dot                        f_i^T s / sqrt(D_f)  (the transformer's, chapter 9, with one
                                      query per sentence; tested equal to
                                      ``seqmodels.transformer.scaled_dot_product_attention``)

All functions accept any floating dtype and device; the energies are masked
with -inf before the softmax, so padding gets exactly zero weight and
gradient.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_choice, check_positive_int, check_tensor
from .._sequence import length_mask

__all__ = [
    "ATTENTION_KINDS",
    "Attention",
    "additive_energies",
    "attention_context",
    "lecture_attention",
    "masked_softmax",
    "multiplicative_energies",
    "length_mask",
]

ATTENTION_KINDS = ("lecture", "lecture_scaled", "multiplicative", "dot", "scaled_dot", "additive")


# ------------------------------------------------------------------------- masks


def _check_mask(mask, dims) -> torch.Tensor:
    check_tensor("mask", mask, ("B", "S"), dims, floating=False)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask: expected a bool tensor (True = real word), got {mask.dtype}")
    if bool((~mask).all(dim=1).any()):
        rows = (~mask).all(dim=1).nonzero()[:, 0].tolist()
        raise ValueError(f"mask: rows {rows} have no real word (all False); softmax over "
                         "nothing is undefined")
    return mask


# ---------------------------------------------------------------- the three steps


def masked_softmax(u: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """a = softmax(u) over the last dimension, with weight 0 where ``mask`` is False.

    u (B, S) energies; mask (B, S) bool or None (no padding). Returns (B, S).
    """
    dims: dict = {}
    check_tensor("u", u, ("B", "S"), dims)
    if mask is None:
        return u.softmax(dim=-1)
    _check_mask(mask, dims)
    return _masked_softmax(u, mask)


def _masked_softmax(u, mask):
    if mask is None:
        return u.softmax(dim=-1)
    return u.masked_fill(~mask, -math.inf).softmax(dim=-1)


def attention_context(a: torch.Tensor, F: torch.Tensor) -> torch.Tensor:
    """c = F a: the weighted average of the columns of F. a (B, S), F (B, S, D_f) -> (B, D_f)."""
    dims: dict = {}
    check_tensor("a", a, ("B", "S"), dims)
    check_tensor("F", F, ("B", "S", "D_f"), dims, like=("a", a))
    return _context(a, F)


def _context(a, F):
    return torch.bmm(a[:, None, :], F)[:, 0]


def lecture_attention(s_prev: torch.Tensor, F: torch.Tensor, V: torch.Tensor,
                      mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The lecture's attention step: r = V s_{t-1}, u = F^T r, a = softmax(u), c = F a.

    Args:
        s_prev: (B, H_s) decoder state s_{t-1}.
        F: (B, S, D_f) source matrix, one row per source word.
        V: (D_f, H_s) maps the decoder state to an expected input embedding.
        mask: (B, S) bool, True at real words (None: no padding).

    Returns:
        c: (B, D_f) context vectors; a: (B, S) attention weights (rows sum to 1).
    """
    dims: dict = {}
    check_tensor("s_prev", s_prev, ("B", "H_s"), dims)
    check_tensor("F", F, ("B", "S", "D_f"), dims, like=("s_prev", s_prev))
    check_tensor("V", V, ("D_f", "H_s"), dims, like=("s_prev", s_prev))
    if mask is not None:
        _check_mask(mask, dims)
    r = s_prev @ V.T                                   # (B, D_f)
    u = torch.bmm(F, r[:, :, None])[:, :, 0]           # (B, S)
    a = _masked_softmax(u, mask)
    return _context(a, F), a


def multiplicative_energies(s: torch.Tensor, F: torch.Tensor, W: torch.Tensor | None = None) -> torch.Tensor:
    """u_i = f_i^T W s (Luong's "general"); W = None gives the dot score f_i^T s.

    s (B, H_s), F (B, S, D_f), W (D_f, H_s) -> u (B, S).
    """
    dims: dict = {}
    check_tensor("s", s, ("B", "H_s"), dims)
    if W is None:
        check_tensor("F", F, ("B", "S", "H_s"), dims, like=("s", s))
    else:
        check_tensor("F", F, ("B", "S", "D_f"), dims, like=("s", s))
        check_tensor("W", W, ("D_f", "H_s"), dims, like=("s", s))
    return _multiplicative(s, F, W)


def _multiplicative(s, F, W):
    q = s if W is None else s @ W.T                    # W s, (B, D_f)
    return torch.bmm(F, q[:, :, None])[:, :, 0]


def additive_energies(s: torch.Tensor, F: torch.Tensor, W_s: torch.Tensor, W_f: torch.Tensor,
                      w: torch.Tensor) -> torch.Tensor:
    """u_i = w^T tanh(W_s s + W_f f_i) (Bahdanau et al., 2015).

    s (B, H_s), F (B, S, D_f), W_s (A, H_s), W_f (A, D_f), w (A,) -> u (B, S).
    """
    dims: dict = {}
    check_tensor("s", s, ("B", "H_s"), dims)
    check_tensor("F", F, ("B", "S", "D_f"), dims, like=("s", s))
    check_tensor("W_s", W_s, ("A", "H_s"), dims, like=("s", s))
    check_tensor("W_f", W_f, ("A", "D_f"), dims, like=("s", s))
    check_tensor("w", w, ("A",), dims, like=("s", s))
    return _additive(s, F @ W_f.T, W_s, w)


def _additive(s, keys, W_s, w):
    """keys = F W_f^T (B, S, A) is computed once per sentence, not once per step."""
    return torch.tanh(keys + (s @ W_s.T)[:, None, :]) @ w


# ------------------------------------------------------------------------- module


class Attention(nn.Module):
    """Energies + masked softmax + context, with learned parameters.

    kinds: ``"lecture"`` (r = V s, u = F^T r), ``"lecture_scaled"`` (u = F^T V s
    / sqrt(D_f): with 2H = 256 the unscaled energies saturate the softmax),
    ``"multiplicative"`` (the same
    function, f_i^T W s, named after Luong), ``"dot"`` (f_i^T s, no
    parameters, needs D_f = H_s), ``"scaled_dot"`` (f_i^T s / sqrt(D_f), the
    transformer's, through ``seqmodels.transformer``), ``"additive"`` (Bahdanau,
    ``attention_size`` A).

    ``keys(F)`` precomputes the part of the energies that depends on the
    source only (W_f F for additive attention); pass its result to every
    ``forward`` of the sentence.
    """

    def __init__(self, kind: str, state_size: int, source_size: int,
                 attention_size: int | None = None, *, device=None, dtype=None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.kind = check_choice("kind", kind, ATTENTION_KINDS)
        self.state_size = check_positive_int("state_size", state_size)
        self.source_size = check_positive_int("source_size", source_size)
        f = {"device": device, "dtype": dtype}
        if kind in ("dot", "scaled_dot") and state_size != source_size:
            raise ValueError(f"{kind} attention needs state_size == source_size, got {state_size} "
                             f"and {source_size}")
        if kind in ("lecture", "lecture_scaled", "multiplicative"):
            self.V = nn.Parameter(torch.empty(source_size, state_size, **f))
        elif kind == "additive":
            A = check_positive_int("attention_size", attention_size or state_size)
            self.W_s = nn.Parameter(torch.empty(A, state_size, **f))
            self.W_f = nn.Parameter(torch.empty(A, source_size, **f))
            self.w = nn.Parameter(torch.empty(A, **f))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        for p in self.parameters():
            bound = 1.0 / math.sqrt(p.shape[-1])
            nn.init.uniform_(p, -bound, bound, generator=generator)

    def keys(self, F: torch.Tensor) -> torch.Tensor:
        """The source-only part of the energies: W_f F for additive attention, else F itself."""
        return F @ self.W_f.T if self.kind == "additive" else F

    def energies(self, s: torch.Tensor, F: torch.Tensor, keys: torch.Tensor | None = None):
        """u (B, S) for decoder states s (B, H_s) and sources F (B, S, D_f)."""
        if self.kind == "additive":
            return _additive(s, self.keys(F) if keys is None else keys, self.W_s, self.w)
        if self.kind == "scaled_dot":
            return _multiplicative(s, F, None) / math.sqrt(F.shape[-1])
        if self.kind == "lecture_scaled":
            return _multiplicative(s, F, self.V) / math.sqrt(F.shape[-1])
        return _multiplicative(s, F, None if self.kind == "dot" else self.V)

    def forward(self, s: torch.Tensor, F: torch.Tensor, mask: torch.Tensor | None = None,
                keys: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the context c (B, D_f) and the weights a (B, S).

        Shapes are checked here; ``mask`` rows must each contain a real word.
        """
        dims: dict = {}
        p = next(self.parameters(), None)
        check_tensor("s", s, ("B", self.state_size), dims,
                     like=None if p is None else ("the attention parameters", p))
        check_tensor("F", F, ("B", "S", self.source_size), dims, like=("s", s))
        if mask is not None:
            check_tensor("mask", mask, ("B", "S"), dims, floating=False)
        return self.attend(s, F, mask, keys)

    def attend(self, s, F, mask=None, keys=None):
        """``forward`` without checks (the decoder calls it at every step)."""
        a = _masked_softmax(self.energies(s, F, keys), mask)
        return _context(a, F), a

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}, state_size={self.state_size}, source_size={self.source_size}"
