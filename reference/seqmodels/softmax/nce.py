"""Noise-contrastive estimation and negative sampling (chapter 6).

The model scores a word w after a context h by s(w, h) = W_hy[w]^T h + b_y[w];
the softmax normalizes u(w, h) = exp(s(w, h)) by Z(h) = sum_w u(w, h), a sum
over the whole vocabulary. NCE (Gutmann & Hyvarinen 2010; Mnih & Teh 2012)
avoids Z: it trains a classifier that tells the data word from k words drawn
from a noise distribution q, with the unnormalized model taken as normalized
(self-normalization, Z(h) = 1):

    P(+ | w, h) = u(w, h) / (u(w, h) + k q(w)) = sigmoid(Delta(w, h)),
    Delta(w, h) = s(w, h) - log(k q(w)),

    loss = -log sigmoid(Delta(w+, h)) - sum_{j=1..k} log sigmoid(-Delta(w_j, h)),
    w+ the data word, w_1..w_k ~ q.

Its expected gradient is -sum_w k q(w) / (u(w,h) + k q(w)) (P~(w|h) - u(w,h)) grad s(w,h),
which tends to the maximum-likelihood gradient -sum_w (P~(w|h) - P(w|h)) grad s(w,h)
as k -> infinity when Z(h) = 1 (the proof is in the book). Negative sampling
(Mikolov et al. 2013) drops the k q(w) term: Delta = s. It is NCE only when
k q(w) = 1 for every w, i.e. q uniform and k = V.

Noise samples come from :class:`seqmodels.embeddings.NoiseSampler` (q ∝ count^0.75).

Shapes: s_pos (B,), s_noise (B, k); log_q_pos (B,), log_q_noise (B, k) or (k,)
when the k noise words are shared by the batch; full scores (B, V).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_choice, check_positive_int, check_tensor, check_token_ids
from ..embeddings.noise import NoiseSampler

__all__ = [
    "NCEOutput",
    "negative_sampling_loss",
    "nce_expected_loss",
    "nce_gradient_weights",
    "nce_logits",
    "nce_loss",
    "sampled_scores",
]


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    check_choice("reduction", reduction, ("mean", "sum", "none"))
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def nce_logits(scores: torch.Tensor, log_q: torch.Tensor, k: int) -> torch.Tensor:
    """Delta = s - log(k q): the logit of P(+ | w, h) with the self-normalized model."""
    check_positive_int("k", k)
    return scores - log_q - math.log(k)


def _check_sampled(s_pos, s_noise):
    dims: dict = {}
    check_tensor("s_pos", s_pos, ("B",), dims)
    check_tensor("s_noise", s_noise, ("B", None), dims, like=("s_pos", s_pos))
    if s_noise.shape[1] < 1:
        raise ValueError("s_noise: expected at least one noise sample (k >= 1), got k = 0")
    return dims


def nce_loss(s_pos, s_noise, log_q_pos, log_q_noise, reduction: str = "mean") -> torch.Tensor:
    """The NCE loss of one data word and k noise words per row.

    Args:
        s_pos: (B,) model scores s(w+, h) of the data words.
        s_noise: (B, k) scores s(w_j, h) of the noise words.
        log_q_pos: (B,) log q(w+).
        log_q_noise: (B, k), or (k,) for noise words shared by the batch: log q(w_j).
        reduction: "mean" over rows (default), "sum" or "none" (-> (B,)).
    """
    dims = _check_sampled(s_pos, s_noise)
    k = s_noise.shape[1]
    check_tensor("log_q_pos", log_q_pos, ("B",), dims)
    if log_q_noise.dim() == 1:
        check_tensor("log_q_noise", log_q_noise, (k,), dims)
    else:
        check_tensor("log_q_noise", log_q_noise, ("B", k), dims)
    pos = F.logsigmoid(nce_logits(s_pos, log_q_pos.to(s_pos.dtype), k))
    neg = F.logsigmoid(-nce_logits(s_noise, log_q_noise.to(s_pos.dtype), k)).sum(-1)
    return _reduce(-(pos + neg), reduction)


def negative_sampling_loss(s_pos, s_noise, reduction: str = "mean") -> torch.Tensor:
    """-log sigmoid(s(w+, h)) - sum_j log sigmoid(-s(w_j, h)): word2vec's objective.

    s_pos (B,), s_noise (B, k). Equal to :func:`nce_loss` only when k q(w) = 1.
    """
    _check_sampled(s_pos, s_noise)
    return _reduce(-(F.logsigmoid(s_pos) + F.logsigmoid(-s_noise).sum(-1)), reduction)


def nce_expected_loss(scores, p_data, log_q, k: int) -> torch.Tensor:
    """The exact expectation of :func:`nce_loss` over w+ ~ p_data and w_1..w_k ~ q.

    J_k(h) = -sum_w p_data(w) log sigmoid(Delta(w)) - k sum_w q(w) log sigmoid(-Delta(w)).

    scores, p_data: (V,) or (B, V); log_q: (V,). Returns a scalar or (B,).
    No sampling: the oracle against which sampled losses and gradients are checked.
    """
    check_tensor("scores", scores, (None,) * scores.dim())
    if scores.dim() not in (1, 2):
        raise ValueError(f"scores: expected shape (V,) or (B, V), got {tuple(scores.shape)}")
    V = scores.shape[-1]
    check_tensor("p_data", p_data, tuple(scores.shape))
    check_tensor("log_q", log_q, (V,))
    delta = nce_logits(scores, log_q.to(scores.dtype), k)
    q = log_q.to(scores.dtype).exp()
    return -(p_data * F.logsigmoid(delta)).sum(-1) - k * (q * F.logsigmoid(-delta)).sum(-1)


def nce_gradient_weights(scores, log_q, k: int) -> torch.Tensor:
    """k q(w) / (u(w, h) + k q(w)) = sigmoid(-Delta), in (0, 1); -> 1 as k -> infinity.

    d J_k / d s(w, h) = -weights(w) * (p_data(w) - exp(s(w, h))).
    """
    return torch.sigmoid(-nce_logits(scores, log_q.to(scores.dtype), k))


def sampled_scores(h, W_hy, b_y, targets, noise):
    """Scores of the data words and of the noise words without the (B, V) product.

    h (B, H), W_hy (V, H), b_y (V,) or None, targets (B,) long,
    noise (k,) long shared by the batch or (B, k) long
    -> s_pos (B,), s_noise (B, k).
    """
    dims: dict = {}
    check_tensor("h", h, ("B", "H"), dims)
    check_tensor("W_hy", W_hy, ("V", "H"), dims, like=("h", h))
    if b_y is not None:
        check_tensor("b_y", b_y, ("V",), dims, like=("h", h))
    V = W_hy.shape[0]
    targets = check_token_ids("targets", targets, ("B",), dims, vocab_size=V, what="word ids")
    noise = check_token_ids("noise", noise, None, vocab_size=V, what="word ids")
    s_pos = (W_hy[targets] * h).sum(-1)
    if noise.dim() == 1:  # shared: one (B, H) x (H, k) product
        s_noise = h @ W_hy[noise].T
        bias_noise = None if b_y is None else b_y[noise][None, :]
    else:
        check_tensor("noise", noise, ("B", None), dims, floating=False)
        s_noise = torch.einsum("bkh,bh->bk", W_hy[noise], h)
        bias_noise = None if b_y is None else b_y[noise]
    if b_y is not None:
        s_pos, s_noise = s_pos + b_y[targets], s_noise + bias_noise
    return s_pos, s_noise


class NCEOutput(nn.Module):
    """Output layer trained by NCE (or negative sampling), evaluated as a full softmax.

    forward(h, targets, generator) -> the mean sampled loss over the batch
    (k noise words drawn from ``noise`` and shared by the batch, or one set per
    row with ``shared=False``). log_probs(h) -> (B, V) normalized log-probabilities
    (costs the full softmax: for evaluation only). scores(h) -> (B, V) the raw s(w, h),
    whose logsumexp is log Z(h).

    b_y starts at log q(w): exp(s) then starts near a normalized distribution, Z(h) ~ 1.
    """

    def __init__(self, hidden_size: int, noise: NoiseSampler, k: int,
                 objective: str = "nce", shared: bool = True):
        super().__init__()
        if not isinstance(noise, NoiseSampler):
            raise TypeError(f"noise: expected a seqmodels.embeddings.NoiseSampler, got {type(noise).__name__}")
        check_positive_int("k", k)
        self.objective = check_choice("objective", objective, ("nce", "negative_sampling"))
        self.noise, self.k, self.shared = noise, k, shared
        V = noise.num_words
        self.W_hy = nn.Parameter(torch.randn(V, hidden_size) * 0.01)
        log_q = noise.log_probs.float().cpu().clamp(min=-30.0)
        self.b_y = nn.Parameter(log_q.clone())
        self.register_buffer("log_q", log_q, persistent=False)

    def forward(self, h, targets, generator: torch.Generator | None = None) -> torch.Tensor:
        shape = (self.k,) if self.shared else (h.shape[0], self.k)
        noise = self.noise.sample(shape, generator=generator).to(h.device)
        s_pos, s_noise = sampled_scores(h, self.W_hy, self.b_y, targets, noise)
        if self.objective == "negative_sampling":
            return negative_sampling_loss(s_pos, s_noise)
        return nce_loss(s_pos, s_noise, self.log_q[targets], self.log_q[noise])

    def scores(self, h) -> torch.Tensor:
        return h @ self.W_hy.T + self.b_y

    def log_probs(self, h) -> torch.Tensor:
        return torch.log_softmax(self.scores(h), dim=-1)
