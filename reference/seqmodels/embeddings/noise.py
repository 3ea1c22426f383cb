"""The noise distribution of negative sampling and NCE: q(w) ∝ count(w)^0.75.

Word2vec draws its negative words from the unigram distribution raised to
the power 3/4 and renormalized (Mikolov et al. 2013). The power flattens the
distribution: frequent words are still drawn more often than rare ones, but
less than their frequency says, so rare words get to be negatives too.
NCE (chapter 6) uses the same distribution and also needs ``log q(w)``.

Sampling is by inverse CDF (``torch.searchsorted`` on the cumulative
probabilities): exact, one vectorized call, and it runs on the GPU; the
classic C implementation instead fills a table of 10^8 ids and draws
uniform positions in it, which quantizes q.
"""

from __future__ import annotations

import torch

from .._checks import check_tensor

__all__ = ["NoiseSampler", "unigram_noise_probs"]


def unigram_noise_probs(counts, power: float = 0.75) -> torch.Tensor:
    """q(w) = count(w)^power / sum_v count(v)^power, shape (V,), float64.

    Args:
        counts: (V,) word counts (a tensor or a sequence of numbers), >= 0,
            not all zero. A word with count 0 is never drawn.
        power: 0.75 in word2vec; 1 gives the unigram distribution, 0 the
            uniform distribution over words with a nonzero count.
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    check_tensor("counts", counts, ("V",))
    if counts.numel() == 0:
        raise ValueError("counts: expected at least one word, got an empty vector")
    if not torch.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("counts: expected finite counts >= 0")
    if not (counts > 0).any():
        raise ValueError("counts: all counts are zero; there is nothing to sample")
    # 0 ** 0 == 1 in torch: keep never-seen words at probability 0 for power=0 too.
    weights = torch.where(counts > 0, counts.pow(power), torch.zeros_like(counts))
    return weights / weights.sum()


class NoiseSampler:
    """Draws word ids from q(w) ∝ count(w)^power.

    Args:
        counts: (V,) word counts, see :func:`unigram_noise_probs`.
        power: the exponent, 0.75 by default.
        device: where the samples (and ``probs``) live.

    Attributes:
        probs: (V,) float64 probabilities q(w).
        log_probs: (V,) float32 log q(w) (``-inf`` for words never drawn).
    """

    def __init__(self, counts, power: float = 0.75, device=None):
        self.probs = unigram_noise_probs(counts, power).to(device)
        self.log_probs = self.probs.log().float()
        # Float64 CDF: in float32 the steps of rare words (q ~ 1e-7 on a large
        # vocabulary) would round away. The last entry is forced to 1 so that a
        # uniform draw just below 1 cannot fall off the end.
        self._cdf = self.probs.cumsum(0)
        self._cdf[-1] = 1.0
        self.device = self.probs.device

    @property
    def num_words(self) -> int:
        return self.probs.numel()

    def sample(self, *shape: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Long tensor of the given shape with ids drawn independently from q.

        ``generator`` must live on ``self.device`` (pass one for reproducible draws).
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
            shape = tuple(shape[0])
        u = torch.rand(shape, generator=generator, device=self.device, dtype=torch.float64)
        ids = torch.searchsorted(self._cdf, u.reshape(-1), right=True)
        # right=True: id i is chosen when cdf[i-1] <= u < cdf[i], an interval of
        # length q(i), so a zero-probability word (flat CDF) is never chosen.
        return ids.clamp_(max=self.num_words - 1).reshape(shape)

    def __repr__(self) -> str:
        return f"NoiseSampler(V={self.num_words}, device={self.device})"
