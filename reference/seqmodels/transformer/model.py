r"""Transformer language models (chapter 9), built from the blocks of ``transformer.blocks``.

Layout batch-first: tokens (B, n) long, X (B, n, d).

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
from .attention import xavier
from .blocks import Cache, DecoderBlock, EncoderBlock
from .positional import sinusoidal_positional_encoding

__all__ = ["TransformerLM", "TransformerSeq2Seq"]


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
