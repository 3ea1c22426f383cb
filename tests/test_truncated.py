"""seqmodels.recurrent: the truncated-BPTT loop carries the state and cuts the gradient."""
import math

import pytest
import torch

from seqmodels.recurrent import ElmanRNN, rnn_bptt, rnn_forward, RNNTagger, truncated_bptt


def _stream(T, B, D, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(T, B, D, generator=g, dtype=torch.float64), g


def _rnn(D, H, seed):
    rnn = ElmanRNN(D, H, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64) / math.sqrt(H))
    return rnn


@pytest.mark.parametrize("T, k", [(12, 4), (11, 4), (9, 1), (8, 8)])
def test_accumulated_gradient_equals_explicit_truncated_bptt(T, k):
    # Without an optimizer the chunk gradients accumulate: the truncated gradient of
    # L = sum_t <G_t, h_t>, which rnn_bptt(truncate_every=k) computes with an explicit loop.
    B, D, H = 3, 2, 4
    X, g = _stream(T, B, D, seed=T + k)
    G = torch.randn(T, B, H, generator=g, dtype=torch.float64)
    rnn = _rnn(D, H, seed=1)
    losses, _ = truncated_bptt(rnn, X, G, k, lambda H_c, G_c: (H_c * G_c).sum())
    assert len(losses) == math.ceil(T / k)
    W_xh, W_hh, b_h = rnn.layer_params(0).values()
    h0 = torch.zeros(B, H, dtype=torch.float64)
    with torch.no_grad():
        H_seq = rnn_forward(X, h0, W_xh, W_hh, b_h)
    expected = rnn_bptt(X, h0, W_xh.detach(), W_hh.detach(), b_h.detach(), H_seq, G, truncate_every=k)
    for name, p in zip(["W_xh", "W_hh", "b_h"], (W_xh, W_hh, b_h)):
        torch.testing.assert_close(p.grad, expected[name], msg=lambda m: f"{name}: {m}")


def test_gradient_of_a_chunk_does_not_reach_the_previous_chunk():
    T, k, B, D, H = 12, 4, 2, 3, 5
    X, g = _stream(T, B, D, seed=5)
    X.requires_grad_(True)
    rnn = _rnn(D, H, seed=2)
    received = []

    def loss_fn(H_c, G_c):
        received.append(X.grad.clone() if X.grad is not None else torch.zeros_like(X))
        return (H_c * G_c).sum()

    truncated_bptt(rnn, X, torch.ones(T, B, H, dtype=torch.float64), k, loss_fn)
    received.append(X.grad.clone())
    for c in range(T // k):
        increment = received[c + 1] - received[c]        # what the backward pass of chunk c added
        outside = torch.cat([increment[: c * k], increment[(c + 1) * k:]])
        assert torch.count_nonzero(outside) == 0, f"chunk {c}'s gradient leaked outside the chunk"
        assert increment[c * k:(c + 1) * k].abs().sum() > 0


def test_state_is_carried_across_chunks():
    # With a zero learning rate the weights do not change, so the final state must be that
    # of one forward pass over the whole stream (a reset state would differ).
    T, k, B, D, H = 10, 3, 2, 3, 4
    X, _ = _stream(T, B, D, seed=6)
    rnn = _rnn(D, H, seed=3)
    h_init = torch.randn(1, B, H, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    _, h_last = truncated_bptt(rnn, X, torch.zeros(T, B), k, lambda H_c, d: H_c.sum(),
                               optimizer=torch.optim.SGD(rnn.parameters(), lr=0.0), h_init=h_init)
    with torch.no_grad():
        H_full, _ = rnn(X, h_init)
    torch.testing.assert_close(h_last[0], H_full[-1])
    assert not h_last.requires_grad


def test_one_update_per_chunk_with_clipping():
    T, k, B, D, H = 9, 3, 2, 3, 4
    X, _ = _stream(T, B, D, seed=8)
    rnn = _rnn(D, H, seed=4)
    steps, norms = [], []
    optimizer = torch.optim.SGD(rnn.parameters(), lr=0.1)
    original_step = optimizer.step

    def spy_step(*args, **kwargs):
        norms.append(math.sqrt(sum(p.grad.pow(2).sum().item() for p in rnn.parameters())))
        steps.append(1)
        return original_step(*args, **kwargs)

    optimizer.step = spy_step
    truncated_bptt(rnn, X, torch.zeros(T, B), k, lambda H_c, d: 100 * H_c.sum(), optimizer, max_norm=0.5)
    assert len(steps) == 3
    assert all(n == pytest.approx(0.5, rel=1e-4) for n in norms)


def test_training_a_tagger_reduces_the_loss():
    # Predict the previous input symbol: a one-step dependency, inside every chunk but the first step.
    g = torch.Generator().manual_seed(9)
    tokens = torch.randint(3, (400, 8), generator=g)
    X = torch.nn.functional.one_hot(tokens, 3).double()
    targets = torch.roll(tokens, 1, dims=0)
    model = RNNTagger(3, 16, 3, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    loss_fn = lambda Y, d: torch.nn.functional.cross_entropy(Y.flatten(0, 1), d.flatten())
    losses, _ = truncated_bptt(model, X, targets, 10, loss_fn, optimizer)
    assert losses[0] > 1.0 and sum(losses[-5:]) / 5 < 0.3


def test_tagger_is_reproducible_and_has_the_right_shapes():
    a = RNNTagger(3, 5, 4, generator=torch.Generator().manual_seed(11))
    b = RNNTagger(3, 5, 4, generator=torch.Generator().manual_seed(11))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    Y, h = a(torch.zeros(6, 2, 3))
    assert Y.shape == (6, 2, 4) and h.shape == (1, 2, 5)


def test_bad_arguments():
    rnn = _rnn(3, 4, seed=0)
    X, _ = _stream(6, 2, 3, seed=0)
    with pytest.raises(ValueError, match="chunk_length"):
        truncated_bptt(rnn, X, torch.zeros(6, 2), 0, lambda H_c, d: H_c.sum())
    with pytest.raises(ValueError, match="targets"):
        truncated_bptt(rnn, X, torch.zeros(5, 2), 2, lambda H_c, d: H_c.sum())
    with pytest.raises(ValueError, match=r"X: expected 3-D"):
        truncated_bptt(rnn, X[0], torch.zeros(2), 2, lambda H_c, d: H_c.sum())
