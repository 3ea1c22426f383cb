"""Hierarchical softmax (seqmodels.softmax): normalization, brute-force path products, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from seqmodels.softmax import (balanced_tree, HierarchicalSoftmax, hsoftmax_log_prob, hsoftmax_log_probs,
                               huffman_tree)

DT = torch.float64


def random_setup(tree, B=4, H=5, seed=0, dtype=DT, bias=True):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(B, H, generator=g, dtype=dtype)
    N = torch.randn(tree.num_internal, H, generator=g, dtype=dtype)
    c = torch.randn(tree.num_internal, generator=g, dtype=dtype) if bias else None
    nodes, signs = tree.padded()
    return h, N, c, nodes, signs.to(dtype)


def brute_force_log_prob(tree, h, N, c, w):
    """Product over the path with plain Python floats: P(left | n) = 1 / (1 + exp(-(n^T h + c)))."""
    logp = 0.0
    for node, d in zip(tree.paths[w], tree.codes[w]):
        a = float(N[node] @ h) + (float(c[node]) if c is not None else 0.0)
        p_left = 1.0 / (1.0 + math.exp(-a))
        logp += math.log(p_left if d == 0 else 1.0 - p_left)
    return logp


def trees():
    g = torch.Generator().manual_seed(7)
    counts = (torch.rand(37, generator=g) * 100).floor() + 1
    return [("huffman", huffman_tree(counts)), ("balanced", balanced_tree(37)),
            ("chain", huffman_tree([2.0 ** i for i in range(12)]))]


@pytest.mark.parametrize("name, tree", trees(), ids=[n for n, _ in trees()])
def test_distribution_sums_to_one(name, tree):
    h, N, c, nodes, signs = random_setup(tree)
    total = hsoftmax_log_probs(h * 3, N, c, nodes, signs).exp().sum(-1)
    assert (total - 1).abs().max() < 1e-12, f"{name}: sum_w P(w|h) - 1 = {(total - 1).tolist()}"
    h32, N32, c32, nodes, signs32 = random_setup(tree, dtype=torch.float32)
    total32 = hsoftmax_log_probs(h32, N32, c32, nodes, signs32).exp().sum(-1)
    assert (total32 - 1).abs().max() < 1e-5


@pytest.mark.parametrize("name, tree", trees(), ids=[n for n, _ in trees()])
@pytest.mark.parametrize("bias", [True, False])
def test_log_prob_is_the_product_along_the_path(name, tree, bias):
    h, N, c, nodes, signs = random_setup(tree, B=3, seed=1, bias=bias)
    V = tree.num_words
    targets = torch.tensor([0, V // 2, V - 1])
    got = hsoftmax_log_prob(h, N, c, nodes, signs, targets)
    expected = torch.tensor([brute_force_log_prob(tree, h[b], N, c, int(w)) for b, w in enumerate(targets)], dtype=DT)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    full = hsoftmax_log_probs(h, N, c, nodes, signs)
    torch.testing.assert_close(full.gather(1, targets[:, None])[:, 0], expected, rtol=1e-12, atol=1e-12)
    for w in range(V):
        assert full[0, w].item() == pytest.approx(brute_force_log_prob(tree, h[0], N, c, w), abs=1e-12)


def test_gradients_match_finite_differences():
    tree = huffman_tree([9, 4, 4, 2, 1, 1, 1])
    h, N, c, nodes, signs = random_setup(tree, B=3, H=4, seed=2)
    targets = torch.tensor([0, 4, 6])
    for x in (h, N, c):
        x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda h, N, c: hsoftmax_log_prob(h, N, c, nodes, signs, targets), (h, N, c))


def test_module_trains_towards_the_data_distribution():
    # One context, targets from a fixed distribution: maximum likelihood makes P(w|h) = p_data.
    g = torch.Generator().manual_seed(3)
    p_data = torch.tensor([0.4, 0.25, 0.15, 0.1, 0.05, 0.05], dtype=DT)
    layer = HierarchicalSoftmax(huffman_tree(p_data), hidden_size=2).to(DT)
    h = torch.ones(1, 2, dtype=DT)
    opt = torch.optim.LBFGS(layer.parameters(), max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14, line_search_fn="strong_wolfe")
    every = torch.arange(6)

    def closure():
        opt.zero_grad()
        loss = -(p_data * layer(h.expand(6, 2), every)).sum()
        loss.backward()
        return loss

    opt.step(closure)
    torch.testing.assert_close(layer.log_probs(h).exp()[0], p_data, atol=1e-6, rtol=0)


def test_module_parameter_count_and_single_word():
    layer = HierarchicalSoftmax(balanced_tree(100), hidden_size=8)
    assert layer.node_vectors.shape == (99, 8) and layer.node_bias.shape == (99,)
    one = HierarchicalSoftmax(balanced_tree(1), hidden_size=3)
    h = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(one.log_probs(h), torch.zeros(2, 1))
    assert torch.equal(one(h, torch.zeros(2, dtype=torch.long)), torch.zeros(2))


def test_bad_input_is_reported():
    tree = balanced_tree(6)
    h, N, c, nodes, signs = random_setup(tree, B=2, H=3)
    with pytest.raises(ValueError, match=r"word ids must lie in \[0, V\) = \[0, 6\)"):
        hsoftmax_log_prob(h, N, c, nodes, signs, torch.tensor([0, 6]))
    with pytest.raises(TypeError, match="torch.long"):
        hsoftmax_log_prob(h, N, c, nodes, signs, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"h: expected 2-D tensor of shape \(B, H\)"):
        hsoftmax_log_probs(h[0], N, c, nodes, signs)
    with pytest.raises(ValueError, match="hidden size H"):
        hsoftmax_log_probs(h, N[:, :2], c, nodes, signs)
    with pytest.raises(TypeError, match="Tree"):
        HierarchicalSoftmax([[0, 1]], 3)
