"""Sampling from a sequence model (chapter 7): temperature, top-k and nucleus (top-p).

For generation one usually wants varied, plausible text rather than the
single most probable output. These samplers reshape the next-token
distribution P(x | prefix) before drawing from it:

    temperature tau:  P_tau(x) ∝ P(x) ** (1 / tau)    (tau -> 0: greedy, tau = 1: the model)
    top-k:            keep the k most probable tokens, renormalize
    nucleus (top-p):  keep the smallest set of most probable tokens whose
                      probability reaches p, renormalize (Holtzman et al., 2020)

applied in that order. ``sample`` drives a model through the step-function
protocol of :mod:`seqmodels.decoding`.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .._checks import check_positive_int, check_tensor
from .search import Hypotheses, StepFn, _single_path, _start

__all__ = ["apply_temperature", "nucleus_filter", "sample", "sample_next", "top_k_filter"]


def apply_temperature(log_probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """log P_tau = log_softmax(log P / tau). log_probs (N, V) -> (N, V); tau > 0."""
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature <= 0:
        raise ValueError(f"temperature: expected a number > 0, got {temperature!r}")
    return torch.log_softmax(log_probs / temperature, dim=-1)


def top_k_filter(log_probs: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k most probable tokens of each row (others -inf), renormalized. (N, V) -> (N, V)."""
    check_positive_int("top_k", k)
    k = min(k, log_probs.shape[-1])
    kth = log_probs.topk(k, dim=-1).values[..., -1:]
    kept = log_probs.masked_fill(log_probs < kth, -math.inf)
    # Ties at the k-th value would keep more than k tokens: keep the first k by index.
    order = kept.argsort(dim=-1, descending=True, stable=True)
    drop = torch.zeros_like(kept, dtype=torch.bool).scatter(-1, order[..., k:], True)
    return torch.log_softmax(kept.masked_fill(drop, -math.inf), dim=-1)


def nucleus_filter(log_probs: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of most probable tokens with total probability >= p. (N, V) -> (N, V)."""
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 < p <= 1:
        raise ValueError(f"top_p: expected a number in (0, 1], got {p!r}")
    sorted_lp, order = log_probs.sort(dim=-1, descending=True, stable=True)
    mass_before = sorted_lp.exp().cumsum(dim=-1) - sorted_lp.exp()
    # A token is in the nucleus if the tokens ranked above it hold less than p;
    # the most probable token is always in.
    drop_sorted = mass_before >= p
    drop_sorted[..., 0] = False
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return torch.log_softmax(log_probs.masked_fill(drop, -math.inf), dim=-1)


def _check_options(temperature, top_k, top_p):
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature < 0:
        raise ValueError(f"temperature: expected a number >= 0 (0 = greedy), got {temperature!r}")
    if top_k is not None:
        check_positive_int("top_k", top_k)
    if top_p is not None and (not isinstance(top_p, (int, float)) or not 0 < top_p <= 1):
        raise ValueError(f"top_p: expected a number in (0, 1], got {top_p!r}")


def sample_next(log_probs: torch.Tensor, *, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one next token per row. log_probs (N, V) -> tokens (N,) long.

    temperature 0 means the most probable token (greedy). ``generator`` must
    live on the device of ``log_probs``.
    """
    check_tensor("log_probs", log_probs, ("N", "V"))
    _check_options(temperature, top_k, top_p)
    if temperature == 0:
        return log_probs.argmax(dim=-1)
    lp = apply_temperature(log_probs, temperature)
    if top_k is not None:
        lp = top_k_filter(lp, top_k)
    if top_p is not None:
        lp = nucleus_filter(lp, top_p)
    return torch.multinomial(lp.exp(), 1, generator=generator)[:, 0]


def sample(step: StepFn, state: Any = None, *, bos, eos: int, max_len: int,
           batch_size: int | None = None, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, generator: torch.Generator | None = None,
           pad: int | None = None, state_batch_dim: int = 0) -> Hypotheses:
    """Generate one output per input by sampling each next token.

    Args: as in :func:`seqmodels.decoding.greedy_search`, plus the sampler
    options of :func:`sample_next`. Draw several samples of one input by
    repeating it (``bos`` of shape (S,), state repeated S times).
    ``state_batch_dim`` is accepted for symmetry with the searches (one
    path per input: the state is never reordered).

    Returns:
        Hypotheses with n = 1. ``log_probs`` is the sum of the token log-probs
        under the MODEL (before temperature and filtering), so samples and
        beam-search outputs can be compared on the same scale.
    """
    _check_options(temperature, top_k, top_p)
    bos = _start(bos, batch_size, eos, max_len)

    def choose(log_probs):
        return sample_next(log_probs, temperature=temperature, top_k=top_k, top_p=top_p,
                           generator=generator)

    return _single_path(step, state, bos, eos, max_len, choose, eos if pad is None else pad,
                        None, state_batch_dim)
