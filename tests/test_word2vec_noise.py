"""Tests for seqmodels.embeddings: the unigram^0.75 noise distribution and its sampler."""

import pytest
import torch

from seqmodels.embeddings import NoiseSampler, unigram_noise_probs


def test_probs_match_formula_by_hand():
    counts = [16, 1, 81, 0]
    q = unigram_noise_probs(counts)
    weights = torch.tensor([8.0, 1.0, 27.0, 0.0], dtype=torch.float64)   # c^0.75 exactly
    torch.testing.assert_close(q, weights / 36.0)


def test_power_one_is_unigram_and_power_zero_is_uniform_over_seen_words():
    counts = torch.tensor([5.0, 3.0, 0.0, 2.0])
    torch.testing.assert_close(unigram_noise_probs(counts, power=1.0),
                               torch.tensor([0.5, 0.3, 0.0, 0.2], dtype=torch.float64))
    torch.testing.assert_close(unigram_noise_probs(counts, power=0.0),
                               torch.tensor([1 / 3, 1 / 3, 0.0, 1 / 3], dtype=torch.float64))


def test_power_flattens_the_distribution():
    counts = torch.tensor([1000.0, 10.0])
    q = unigram_noise_probs(counts)
    assert q[1] > 10 / 1010, "the rare word must be drawn more often than its frequency"
    assert q[0] > q[1]


def test_sample_frequencies_match_probs():
    gen = torch.Generator().manual_seed(0)
    counts = torch.tensor([50.0, 0.0, 7.0, 1.0, 300.0, 2.0])
    sampler = NoiseSampler(counts)
    ids = sampler.sample(200_000, generator=gen)
    assert ids.dtype == torch.long and ids.shape == (200_000,)
    freq = torch.bincount(ids, minlength=6).double() / ids.numel()
    assert freq[1] == 0, "a word with count 0 must never be drawn"
    # 4.5 standard errors of a binomial proportion
    se = (sampler.probs * (1 - sampler.probs) / ids.numel()).sqrt()
    assert ((freq - sampler.probs).abs() <= 4.5 * se + 1e-12).all(), (freq, sampler.probs)


def test_sample_shape_and_reproducibility():
    sampler = NoiseSampler([3, 1, 4, 1, 5])
    a = sampler.sample(7, 3, generator=torch.Generator().manual_seed(1))
    b = sampler.sample((7, 3), generator=torch.Generator().manual_seed(1))
    assert a.shape == (7, 3)
    assert torch.equal(a, b)
    assert a.min() >= 0 and a.max() < 5
    torch.testing.assert_close(sampler.log_probs.exp().double(), sampler.probs, rtol=1e-6, atol=0)


def test_first_and_last_words_reachable_and_zero_count_edges_never():
    sampler = NoiseSampler([0, 1, 1, 0])
    ids = sampler.sample(5000, generator=torch.Generator().manual_seed(2))
    assert set(ids.unique().tolist()) == {1, 2}


@pytest.mark.parametrize("counts, match", [
    ([], "empty"),
    ([0, 0], "all counts are zero"),
    ([1, -2], ">= 0"),
    ([[1, 2]], "1-D"),
])
def test_bad_counts_raise_clear_errors(counts, match):
    with pytest.raises(ValueError, match=match):
        unigram_noise_probs(counts)


@pytest.mark.gpu
def test_sampler_on_cuda():
    sampler = NoiseSampler([1, 2, 3], device="cuda")
    ids = sampler.sample(10, generator=torch.Generator(device="cuda").manual_seed(0))
    assert ids.device.type == "cuda" and ids.max() < 3
