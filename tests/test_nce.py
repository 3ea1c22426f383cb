"""NCE and negative sampling (seqmodels.softmax) against direct formulas, exact expectations and autograd."""

from __future__ import annotations

import math

import pytest
import torch

from seqmodels.embeddings import NoiseSampler
from seqmodels.softmax import (NCEOutput, negative_sampling_loss, nce_expected_loss, nce_gradient_weights,
                           nce_loss, sampled_scores)

DT = torch.float64


def gen(seed):
    return torch.Generator().manual_seed(seed)


def test_nce_loss_matches_the_posterior_formula():
    # -log P(+|w+) - sum_j log P(-|w_j), P(+|w) = u / (u + k q), written with plain floats.
    g = gen(0)
    B, k = 3, 4
    s_pos, s_noise = torch.randn(B, generator=g, dtype=DT), torch.randn(B, k, generator=g, dtype=DT)
    q_pos, q_noise = torch.rand(B, generator=g, dtype=DT) * 0.1, torch.rand(B, k, generator=g, dtype=DT) * 0.1
    expected = []
    for b in range(B):
        u = math.exp(s_pos[b])
        loss = -math.log(u / (u + k * q_pos[b]))
        for j in range(k):
            u = math.exp(s_noise[b, j])
            loss -= math.log(k * q_noise[b, j] / (u + k * q_noise[b, j]))
        expected.append(loss)
    got = nce_loss(s_pos, s_noise, q_pos.log(), q_noise.log(), reduction="none")
    torch.testing.assert_close(got, torch.tensor(expected, dtype=DT))
    assert nce_loss(s_pos, s_noise, q_pos.log(), q_noise.log()).item() == pytest.approx(sum(expected) / B)
    # Noise shared by the batch: a (k,) log q is broadcast over rows.
    shared = nce_loss(s_pos, s_noise, q_pos.log(), q_noise[0].log(), reduction="none")
    torch.testing.assert_close(shared, nce_loss(s_pos, s_noise, q_pos.log(), q_noise[0].log().expand(B, k),
                                                reduction="none"))


def test_negative_sampling_is_nce_only_for_uniform_noise_with_k_equal_V():
    g = gen(1)
    V, B = 6, 5
    s_pos, s_noise = torch.randn(B, generator=g, dtype=DT), torch.randn(B, V, generator=g, dtype=DT)
    uniform = torch.full((V,), -math.log(V), dtype=DT)
    ns = negative_sampling_loss(s_pos, s_noise, reduction="none")
    torch.testing.assert_close(ns, nce_loss(s_pos, s_noise, uniform[:B], uniform, reduction="none"))
    # k != V, or q not uniform: different losses.
    assert not torch.allclose(negative_sampling_loss(s_pos, s_noise[:, :3]),
                              nce_loss(s_pos, s_noise[:, :3], uniform[:B], uniform[:3]))
    skewed = torch.log_softmax(torch.randn(V, generator=g, dtype=DT), 0)
    assert not torch.allclose(ns, nce_loss(s_pos, s_noise, skewed[:B], skewed, reduction="none"))


def test_sampled_loss_is_an_unbiased_estimate_of_the_expected_loss():
    g = gen(2)
    V, k = 8, 5
    counts = torch.randint(1, 50, (V,), generator=g)
    sampler = NoiseSampler(counts)
    log_q = sampler.probs.log()
    scores = torch.randn(V, generator=g, dtype=DT) - math.log(V)
    p_data = torch.softmax(torch.randn(V, generator=g, dtype=DT), 0)
    n = 200_000
    w_pos = torch.multinomial(p_data, n, replacement=True, generator=g)
    noise = sampler.sample(n, k, generator=g)
    sampled = nce_loss(scores[w_pos], scores[noise], log_q[w_pos], log_q[noise], reduction="none")
    exact = nce_expected_loss(scores, p_data, log_q, k)
    se = sampled.std() / math.sqrt(n)
    assert abs(sampled.mean() - exact) < 4 * se, f"sampled {sampled.mean():.5f} vs exact {exact:.5f} (se {se:.5f})"


def test_expected_gradient_formula_and_its_limit():
    # dJ_k/ds = -k q / (u + k q) * (p_data - u); as k grows it tends to the MLE gradient
    # -(p_data - softmax(s)) of the normalized model when Z = sum_w exp(s) = 1.
    g = gen(3)
    V = 7
    log_q = torch.log_softmax(torch.randn(V, generator=g, dtype=DT), 0)
    p_data = torch.softmax(torch.randn(V, generator=g, dtype=DT), 0)
    scores = torch.log_softmax(torch.randn(V, generator=g, dtype=DT), 0).requires_grad_(True)  # Z = 1
    mle = torch.autograd.grad(-(p_data * torch.log_softmax(scores, 0)).sum(), scores)[0]
    errors = []
    for k in (1, 10, 100, 1000, 10000):
        grad = torch.autograd.grad(nce_expected_loss(scores, p_data, log_q, k), scores)[0]
        weights = nce_gradient_weights(scores.detach(), log_q, k)
        torch.testing.assert_close(grad, -weights * (p_data - scores.detach().exp()))
        errors.append(((grad - mle).norm() / mle.norm()).item())
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-3 and errors[0] > 0.1, errors
    # The error decays like 1/k: max_w u(w) / (k q(w)) bounds it.
    bound = (scores.detach().exp() / log_q.exp()).max().item()
    assert errors[-1] <= bound / 10000


def test_sampled_scores_equal_the_full_product():
    g = gen(4)
    B, H, V, k = 4, 3, 10, 6
    h, W, b = torch.randn(B, H, generator=g, dtype=DT), torch.randn(V, H, generator=g, dtype=DT), torch.randn(V, generator=g, dtype=DT)
    full = h @ W.T + b
    targets = torch.randint(0, V, (B,), generator=g)
    for noise in (torch.randint(0, V, (k,), generator=g), torch.randint(0, V, (B, k), generator=g)):
        s_pos, s_noise = sampled_scores(h, W, b, targets, noise)
        torch.testing.assert_close(s_pos, full[torch.arange(B), targets])
        expected = full[:, noise] if noise.dim() == 1 else full.gather(1, noise)
        torch.testing.assert_close(s_noise, expected)


def test_nce_output_layer_learns_a_self_normalized_distribution(one_thread):
    # One context, many steps of sampled NCE: the model's exp(s) approaches p_data and Z approaches 1.
    g = gen(5)
    V, H = 20, 4
    p_data = torch.softmax(torch.randn(V, generator=g) * 1.5, 0)
    layer = NCEOutput(H, NoiseSampler(torch.ones(V)), k=20)
    h = torch.ones(256, H)
    opt = torch.optim.Adam(layer.parameters(), lr=0.05)
    decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 / (1 + step / 20))
    for step in range(200):
        targets = torch.multinomial(p_data, 256, replacement=True, generator=g)
        opt.zero_grad()
        layer(h, targets, generator=g).backward()
        opt.step()
        decay.step()
    log_Z = torch.logsumexp(layer.scores(h[:1]), -1).item()
    assert abs(log_Z) < 0.15, f"log Z(h) = {log_Z:.3f} after NCE training"
    tv = 0.5 * (layer.log_probs(h[:1]).exp()[0] - p_data).abs().sum().item()
    assert tv < 0.08, f"total variation to p_data: {tv:.3f}"


def test_bad_input_is_reported():
    s = torch.zeros(3)
    with pytest.raises(ValueError, match="at least one noise sample"):
        negative_sampling_loss(s, torch.zeros(3, 0))
    with pytest.raises(ValueError, match="s_noise"):
        nce_loss(s, torch.zeros(2, 4), torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="log_q_noise"):
        nce_loss(s, torch.zeros(3, 4), torch.zeros(3), torch.zeros(5))
    with pytest.raises(ValueError, match="reduction"):
        nce_loss(s, torch.zeros(3, 4), torch.zeros(3), torch.zeros(4), reduction="avg")
    with pytest.raises(ValueError, match="positive int"):
        nce_expected_loss(torch.zeros(4), torch.zeros(4), torch.zeros(4), k=0)
    with pytest.raises(ValueError, match=r"\[0, V\) = \[0, 5\)"):
        sampled_scores(torch.zeros(2, 3), torch.zeros(5, 3), None, torch.tensor([0, 5]), torch.tensor([1]))
    with pytest.raises(TypeError, match="NoiseSampler"):
        NCEOutput(3, torch.ones(5), k=2)
