r"""Transformer blocks and transformer language models (chapter 9).

Layout batch-first: X (B, n, d), tokens (B, n) long. Notation of the lecture:

    position-wise MLP   F(Y) = relu(Y W + b) V + c      W (d, k), b (k,), V (k, d), c (d,), k ~ 4d
    pre-norm block      X <- X + MHA(LN(X));   X <- X + F(LN(X))
    post-norm block     X <- LN(X + MHA(X));   X <- LN(X + F(X))       (Vaswani et al., 2017)
    decoder block       causal self-attention (mask M, M[i, j] = -inf for j > i),
                        then cross-attention to a source context C (B, m, d), then F

Both orders equal torch.nn.TransformerEncoderLayer / TransformerDecoderLayer
(dropout 0, relu, batch_first=True) with copied weights (``to_torch``).

Language models:

* ``TransformerLM`` (GPT-style, unconditional): x_t -> E[x_t] + PE[t] ->
  decoder blocks without cross-attention -> (final LN) -> logits.
* ``TransformerSeq2Seq`` (conditional): an encoder stack turns the source
  into C, a decoder stack with cross-attention models P(y_t | y_<t, C).

Both decode through :mod:`seqmodels.decoding` with ``step_fn``: the state is
a key/value cache, per layer (K, V) of shape (N, h, t, l) (hypotheses in
dim 0), so each step feeds only the newest token (O(t d) per layer instead
of recomputing the whole prefix).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._checks import check_positive_int, check_tensor, check_token_ids
from .attention import MultiHeadAttention, xavier
from .positional import sinusoidal_positional_encoding

__all__ = ["DecoderBlock", "EncoderBlock", "PositionwiseMLP", "TransformerLM", "TransformerSeq2Seq"]

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


def _past_length(past: Cache | None) -> int:
    return 0 if past is None else past[0][0].shape[2]


class _Embedding(nn.Module):
    """x_t -> E[x_t] + PE[t] (sinusoidal, positions offset..offset+n-1)."""

    def __init__(self, vocab_size: int, d: int, generator: torch.Generator | None = None):
        super().__init__()
        self.vocab_size, self.d = vocab_size, d
        self.E = nn.Embedding(vocab_size, d)
        with torch.no_grad():
            self.E.weight.copy_(torch.randn(vocab_size, d, generator=generator))

    def forward(self, tokens: torch.Tensor, offset: int = 0) -> torch.Tensor:
        X = self.E(tokens)
        return X + sinusoidal_positional_encoding(tokens.shape[1], self.d, offset=offset,
                                                  dtype=X.dtype, device=X.device)


class _DecoderStack(nn.Module):
    def __init__(self, vocab_size, d, num_heads, n_layers, k, norm_first, cross, generator):
        super().__init__()
        check_positive_int("vocab_size", vocab_size)
        check_positive_int("n_layers", n_layers)
        self.embed = _Embedding(vocab_size, d, generator)
        self.blocks = nn.ModuleList(DecoderBlock(d, num_heads, k, cross=cross, norm_first=norm_first,
                                                 generator=generator) for _ in range(n_layers))
        # Pre-norm leaves the residual stream unnormalized: normalize once before the output layer.
        self.ln_f = nn.LayerNorm(d) if norm_first else nn.Identity()
        self.out = nn.Linear(d, vocab_size)      # logits = X W_y^T + b_y (torch.nn.Linear layout)
        with torch.no_grad():
            self.out.weight.copy_(xavier(vocab_size, d, generator))
            self.out.bias.zero_()

    def run(self, tokens, C, past, cross_mask=None):
        X = self.embed(tokens, offset=_past_length(past))
        present = []
        for i, block in enumerate(self.blocks):
            X, kv = block(X, C, past=None if past is None else past[i], cross_mask=cross_mask)
            present.append(kv)
        return self.out(self.ln_f(X)), tuple(present)


def _cached_step(run_cached, prefix: torch.Tensor, past: Cache | None):
    """Feed what the cache lacks: the whole prefix first, then only the newest token."""
    t = _past_length(past)
    if past is not None and t != prefix.shape[1] - 1:
        raise ValueError(f"step: the cache holds {t} positions but the prefix has {prefix.shape[1]} tokens; "
                         "the cache must hold all but the last one")
    logits, present = run_cached(prefix if past is None else prefix[:, -1:], past)
    return torch.log_softmax(logits[:, -1].float(), dim=-1), present


class TransformerLM(nn.Module):
    """GPT-style language model: P(x_t | x_<t) from causal decoder blocks (no cross-attention).

    forward(tokens (B, n)) -> logits (B, n, V): row t predicts token t + 1.
    """

    def __init__(self, vocab_size: int, d: int = 64, num_heads: int = 4, n_layers: int = 2,
                 k: int | None = None, *, norm_first: bool = True, generator: torch.Generator | None = None):
        super().__init__()
        self.vocab_size = vocab_size
        self.decoder = _DecoderStack(vocab_size, d, num_heads, n_layers, k, norm_first, False, generator)

    def forward_cached(self, tokens: torch.Tensor, past: Cache | None = None) -> tuple[torch.Tensor, Cache]:
        """Logits (B, n, V) of n new tokens after the cached ones, and the grown cache."""
        check_token_ids("tokens", tokens, ("B", "n"), vocab_size=self.vocab_size)
        return self.decoder.run(tokens, None, past)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.forward_cached(tokens)[0]

    def step_fn(self, *, use_cache: bool = True):
        """A ``step(prefix, state)`` for seqmodels.decoding; state: the KV cache (initially None)."""

        @torch.no_grad()
        def step(prefix: torch.Tensor, state: Any):
            if use_cache:
                return _cached_step(self.forward_cached, prefix, state)
            return torch.log_softmax(self(prefix)[:, -1].float(), dim=-1), None

        return step


class TransformerSeq2Seq(nn.Module):
    """Conditional transformer LM: P(y_t | y_<t, x) with an encoder over the source x.

    encode(src (B, S), src_mask) -> C (B, S, d); forward(src, tgt_in (B, n)) ->
    logits (B, n, V_tgt). src_mask (B, S) bool, True = real token (False = padding).
    """

    def __init__(self, src_vocab: int, tgt_vocab: int, d: int = 64, num_heads: int = 4,
                 n_enc: int = 2, n_dec: int = 2, k: int | None = None, *, norm_first: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        check_positive_int("n_enc", n_enc)
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.src_embed = _Embedding(src_vocab, d, generator)
        self.encoder = nn.ModuleList(EncoderBlock(d, num_heads, k, norm_first=norm_first, generator=generator)
                                     for _ in range(n_enc))
        self.ln_enc = nn.LayerNorm(d) if norm_first else nn.Identity()
        self.decoder = _DecoderStack(tgt_vocab, d, num_heads, n_dec, k, norm_first, True, generator)

    @staticmethod
    def _key_mask(src_mask):
        return None if src_mask is None else src_mask[:, None, None, :]   # (B, 1, 1, S)

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        check_token_ids("src", src, ("B", "n"), vocab_size=self.src_vocab)
        if src_mask is not None:
            check_tensor("src_mask", src_mask, tuple(src.shape), floating=False)
        C = self.src_embed(src)
        for block in self.encoder:
            C = block(C, mask=self._key_mask(src_mask))
        return self.ln_enc(C)

    def decode_cached(self, tgt: torch.Tensor, C: torch.Tensor, past: Cache | None = None,
                      src_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, Cache]:
        check_token_ids("tgt", tgt, ("B", "n"), vocab_size=self.tgt_vocab)
        return self.decoder.run(tgt, C, past, self._key_mask(src_mask))

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor,
                src_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.decode_cached(tgt_in, self.encode(src, src_mask), None, src_mask)[0]

    def initial_state(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> tuple:
        """Decoding state (C, src_mask, cache=None) of a batch of sources."""
        with torch.no_grad():
            C = self.encode(src, src_mask)
        mask = torch.ones(src.shape, dtype=torch.bool, device=src.device) if src_mask is None else src_mask
        return (C, mask, None)

    def step_fn(self):
        """A ``step(prefix, state)`` for seqmodels.decoding; start from ``initial_state(src)``."""

        @torch.no_grad()
        def step(prefix: torch.Tensor, state: tuple):
            C, mask, past = state
            log_probs, present = _cached_step(
                lambda tgt, p: self.decode_cached(tgt, C, p, mask), prefix, past)
            return log_probs, (C, mask, present)

        return step
