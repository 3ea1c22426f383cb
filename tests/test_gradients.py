"""seqmodels.recurrent: ||dJ/dh_t|| against closed forms and explicit Jacobian products."""
import math

import pytest
import torch

from seqmodels.recurrent import hidden_gradient_norms, jacobian_product_norms, rnn_forward, spectral_radius


def _problem(T, B, D, H, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(T, B, D, generator=g, dtype=torch.float64)
    h_init = torch.randn(B, H, generator=g, dtype=torch.float64) * 0.5
    W_xh = torch.randn(H, D, generator=g, dtype=torch.float64) / math.sqrt(D)
    W_hh = scale * torch.randn(H, H, generator=g, dtype=torch.float64) / math.sqrt(H)
    b_h = torch.randn(H, generator=g, dtype=torch.float64) * 0.1
    v = torch.randn(B, H, generator=g, dtype=torch.float64)
    return X, h_init, W_xh, W_hh, b_h, v


def test_linear_rnn_gradient_is_a_matrix_power():
    # J = <v, h_{T-1}> with h_t = W_hh h_{t-1} + ...: dJ/dh_t = v W_hh^{T-1-t} (batch rows).
    T = 9
    X, h_init, W_xh, W_hh, b_h, v = _problem(T, 3, 2, 4, seed=0)
    norms = hidden_gradient_norms(X, h_init, W_xh, W_hh, b_h, lambda H: (H[-1] * v).sum(),
                                  activation=lambda z: z)
    expected = torch.stack([(v @ torch.linalg.matrix_power(W_hh, T - 1 - t)).norm() for t in range(T)])
    assert norms.shape == (T,)
    torch.testing.assert_close(norms, expected)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_nonlinear_rnn_matches_product_of_jacobians(activation):
    # dJ/dh_t = dJ/dh_{t+1} diag(f'(z_{t+1})) W_hh, from the stored forward states.
    T = 7
    X, h_init, W_xh, W_hh, b_h, v = _problem(T, 2, 3, 5, seed=1, scale=1.5)
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[activation]
    Z, h = [], h_init
    for t in range(T):
        Z.append(X[t] @ W_xh.T + h @ W_hh.T + b_h)
        h = f(Z[-1])
    z = torch.stack(Z).requires_grad_(True)
    fprime = torch.autograd.grad(f(z).sum(), z)[0]
    delta = v.clone()
    expected = [None] * T
    for t in range(T - 1, -1, -1):
        expected[t] = delta.norm()
        delta = (delta * fprime[t]) @ W_hh
    norms = hidden_gradient_norms(X, h_init, W_xh, W_hh, b_h, lambda H: (H[-1] * v).sum(), activation)
    torch.testing.assert_close(norms, torch.stack(expected))


def test_total_gradient_includes_the_direct_and_the_recurrent_path():
    # A loss on every state: dJ/dh_t = direct term + carried term. Oracle: autograd w.r.t. a
    # perturbation added to each h_t, which sees every path downstream of h_t.
    T = 6
    X, h_init, W_xh, W_hh, b_h, v = _problem(T, 2, 3, 4, seed=2)
    G = torch.randn(T, 2, 4, generator=torch.Generator().manual_seed(20), dtype=torch.float64)
    eps = torch.zeros(T, 2, 4, dtype=torch.float64, requires_grad=True)
    h, states = h_init, []
    for t in range(T):
        h = torch.tanh(X[t] @ W_xh.T + h @ W_hh.T + b_h) + eps[t]
        states.append(h)
    (grad,) = torch.autograd.grad((torch.stack(states) * G).sum(), eps)
    norms = hidden_gradient_norms(X, h_init, W_xh, W_hh, b_h, lambda H: (H * G).sum())
    torch.testing.assert_close(norms, grad.flatten(1).norm(dim=1))


def test_works_on_weights_that_require_grad_and_leaves_them_untouched():
    X, h_init, W_xh, W_hh, b_h, v = _problem(4, 2, 3, 4, seed=3)
    W_hh = W_hh.clone().requires_grad_(True)
    norms = hidden_gradient_norms(X, None, W_xh, W_hh, b_h, lambda H: H[-1].sum())
    assert W_hh.grad is None and not norms.requires_grad
    H = rnn_forward(X, torch.zeros(2, 4, dtype=torch.float64), W_xh, W_hh.detach(), b_h)
    assert norms[-1].item() == pytest.approx(math.sqrt(H[-1].numel()))  # dJ/dh_{T-1} = ones


def test_bad_arguments_are_reported():
    X, h_init, W_xh, W_hh, b_h, v = _problem(4, 2, 3, 4, seed=4)
    with pytest.raises(ValueError, match="W_hh"):
        hidden_gradient_norms(X, h_init, W_xh, W_hh[:, :3], b_h, lambda H: H.sum())
    with pytest.raises(ValueError, match="scalar"):
        hidden_gradient_norms(X, h_init, W_xh, W_hh, b_h, lambda H: H[-1])
    with pytest.raises(TypeError, match="loss_fn"):
        hidden_gradient_norms(X, h_init, W_xh, W_hh, b_h, None)


def test_spectral_radius_of_a_rotation_and_a_non_normal_matrix():
    c, s = math.cos(0.3), math.sin(0.3)
    assert spectral_radius(1.2 * torch.tensor([[c, -s], [s, c]])) == pytest.approx(1.2, rel=1e-6)
    # Upper triangular: the eigenvalues are the diagonal, whatever the off-diagonal entry.
    assert spectral_radius(torch.tensor([[0.5, 10.0], [0.0, -0.9]])) == pytest.approx(0.9, rel=1e-6)


def test_jacobian_product_norms_are_spectral_norms_of_powers():
    W = torch.tensor([[0.9, 3.0], [0.0, 0.8]], dtype=torch.float64)
    norms = jacobian_product_norms(W, 100)
    expected = torch.stack([torch.linalg.svdvals(torch.linalg.matrix_power(W, n))[0] for n in range(101)])
    torch.testing.assert_close(norms, expected)
    assert norms[1] > 3 and norms[-1] < 0.01  # non-normal: grows first, vanishes eventually
    with pytest.raises(ValueError, match="steps"):
        jacobian_product_norms(W, -1)
