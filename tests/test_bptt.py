"""Explicit BPTT (seqmodels.recurrent) against torch.autograd and central finite differences.

The check_* helpers take a device so test_rnn_gpu.py runs the same comparisons on CUDA.
"""

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close

from seqmodels.recurrent import elman_forward_backward, rnn_bptt, rnn_forward

F64 = torch.float64
ACTIVATIONS = ["tanh", "relu", "sigmoid"]
RNN_ARGS = ["X", "h_init", "W_xh", "W_hh", "b_h"]
PARAM_NAMES = ["W_xh", "W_hh", "b_h", "W_hy", "b_y"]


def randn(g, *shape, device="cpu"):
    return torch.randn(*shape, generator=g, dtype=F64).to(device)


def random_rnn_args(g, T, B, D, H, device="cpu"):
    return {"X": randn(g, T, B, D, device=device), "h_init": randn(g, B, H, device=device),
            "W_xh": randn(g, H, D, device=device) / D**0.5,
            "W_hh": randn(g, H, H, device=device) / H**0.5,
            "b_h": randn(g, H, device=device)}


def forward_detached_every(args, activation, k):
    """Plain autograd forward that detaches the state every k steps (truncated BPTT)."""
    f = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[activation]
    h, states = args["h_init"], []
    for t in range(args["X"].shape[0]):
        if k is not None and t > 0 and t % k == 0:
            h = h.detach()
        h = f(args["X"][t] @ args["W_xh"].T + h @ args["W_hh"].T + args["b_h"])
        states.append(h)
    return torch.stack(states)


def autograd_rnn_grads(args, dL_dH, activation, truncate_every=None):
    leaves = {k: v.clone().requires_grad_() for k, v in args.items()}
    H = forward_detached_every(leaves, activation, truncate_every)
    (H * dL_dH).sum().backward()  # so that dL/dH[t] is exactly dL_dH[t]
    return H.detach(), {k: v.grad for k, v in leaves.items()}


def random_elman(g, T, B, D, H, K, device="cpu"):
    args = random_rnn_args(g, T, B, D, H, device)
    params = {k: args[k] for k in ("W_xh", "W_hh", "b_h")}
    params["W_hy"] = randn(g, K, H, device=device)
    params["b_y"] = randn(g, K, device=device)
    targets = torch.randint(0, K, (T, B), generator=g).to(device)
    return args["X"], targets, args["h_init"], params


def elman_loss_autograd(X, targets, h_init, params, activation="tanh", truncate_every=None):
    """Loss by torch built-ins on top of a plain forward loop."""
    H = forward_detached_every({"X": X, "h_init": h_init, **params}, activation, truncate_every)
    Y = H @ params["W_hy"].T + params["b_y"]
    return F.cross_entropy(Y.reshape(-1, Y.shape[-1]), targets.reshape(-1))


# ---------------------------------------------------------------- helpers shared with the GPU tests


def check_rnn_bptt_matches_autograd(device, T, B, D, H, activation, truncate_every=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    args = random_rnn_args(g, T, B, D, H, device)
    dL_dH = randn(g, T, B, H, device=device)
    H_states, expected = autograd_rnn_grads(args, dL_dH, activation, truncate_every)
    got = rnn_bptt(args["X"], args["h_init"], args["W_xh"], args["W_hh"], args["b_h"],
                   H_states, dL_dH, activation, truncate_every=truncate_every)
    assert set(got) == set(RNN_ARGS)
    for name in RNN_ARGS:
        assert got[name].shape == args[name].shape, name
        assert_close(got[name], expected[name], msg=lambda m, n=name: f"d{n}: {m}")


def check_elman_matches_autograd(device, activation="tanh", truncate_every=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    X, targets, h_init, params = random_elman(g, T=5, B=3, D=2, H=4, K=3, device=device)
    loss, grads = elman_forward_backward(X, targets, h_init, params, activation, truncate_every)
    leaves = {k: v.clone().requires_grad_() for k, v in params.items()}
    h_leaf = h_init.clone().requires_grad_()
    expected_loss = elman_loss_autograd(X, targets, h_leaf, leaves, activation, truncate_every)
    expected_loss.backward()
    assert loss.shape == ()
    assert_close(loss, expected_loss.detach())
    assert set(grads) == set(PARAM_NAMES) | {"h_init"}
    for name in PARAM_NAMES:
        assert_close(grads[name], leaves[name].grad, msg=lambda m, n=name: f"d{n}: {m}")
    assert_close(grads["h_init"], h_leaf.grad)


# ---------------------------------------------------------------- rnn_bptt


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("T,B,D,H", [(1, 1, 1, 1), (2, 3, 4, 5), (7, 2, 3, 3), (12, 4, 6, 2)])
def test_rnn_bptt_matches_autograd(T, B, D, H, activation):
    check_rnn_bptt_matches_autograd("cpu", T, B, D, H, activation)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("k", [1, 2, 3, 5, 9, 20])
def test_truncated_bptt_matches_detached_forward(k, activation):
    check_rnn_bptt_matches_autograd("cpu", 9, 2, 3, 4, activation, truncate_every=k)


def test_truncation_changes_the_gradient():
    """Guards the test above: with T > k the truncated gradient really differs from the full one."""
    g = torch.Generator().manual_seed(1)
    args = random_rnn_args(g, 6, 2, 3, 4)
    dL_dH = randn(g, 6, 2, 4)
    H = rnn_forward(*(args[k] for k in RNN_ARGS))
    full = rnn_bptt(*(args[k] for k in RNN_ARGS), H, dL_dH)
    cut = rnn_bptt(*(args[k] for k in RNN_ARGS), H, dL_dH, truncate_every=2)
    assert not torch.allclose(full["W_hh"], cut["W_hh"])
    # Only the first chunk (t = 0, 1) reaches h_init; its direct terms are the same.
    only_first = dL_dH.clone()
    only_first[2:] = 0
    assert_close(cut["h_init"], rnn_bptt(*(args[k] for k in RNN_ARGS), H, only_first)["h_init"])


def test_rnn_bptt_T1_is_a_single_step():
    g = torch.Generator().manual_seed(2)
    a = random_rnn_args(g, 1, 3, 2, 4)
    dL_dH = randn(g, 1, 3, 4)
    H = rnn_forward(*(a[k] for k in RNN_ARGS))
    got = rnn_bptt(*(a[k] for k in RNN_ARGS), H, dL_dH)
    dz = dL_dH[0] * (1 - H[0] ** 2)
    assert_close(got["W_hh"], dz.T @ a["h_init"])
    assert_close(got["W_xh"], dz.T @ a["X"][0])
    assert_close(got["b_h"], dz.sum(0))
    assert_close(got["h_init"], dz @ a["W_hh"])


def test_rnn_bptt_builds_no_graph():
    g = torch.Generator().manual_seed(3)
    a = {k: v.requires_grad_() for k, v in random_rnn_args(g, 3, 2, 2, 3).items()}
    H = rnn_forward(*(a[k] for k in RNN_ARGS))
    got = rnn_bptt(*(a[k] for k in RNN_ARGS), H, torch.ones_like(H))
    assert not any(v.requires_grad for v in got.values())


# ---------------------------------------------------------------- elman_forward_backward


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_elman_forward_backward_matches_autograd(activation):
    check_elman_matches_autograd("cpu", activation)


def test_elman_forward_backward_truncated_matches_autograd():
    check_elman_matches_autograd("cpu", "tanh", truncate_every=2)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_elman_forward_backward_matches_finite_differences(activation):
    g = torch.Generator().manual_seed(4)
    X, targets, h_init, params = random_elman(g, T=3, B=2, D=2, H=3, K=3)
    _, grads = elman_forward_backward(X, targets, h_init, params, activation)
    variables = {**params, "h_init": h_init}
    eps = 1e-6

    def loss_of(values):
        p = {k: values[k] for k in PARAM_NAMES}
        return elman_forward_backward(X, targets, values["h_init"], p, activation)[0].item()

    for name, value in variables.items():
        numeric = torch.empty_like(value)
        for i in range(value.numel()):
            shifted = []
            for sign in (1, -1):
                v = value.clone()
                v.view(-1)[i] += sign * eps
                shifted.append(loss_of({**variables, name: v}))
            numeric.view(-1)[i] = (shifted[0] - shifted[1]) / (2 * eps)
        assert_close(grads[name], numeric, rtol=1e-6, atol=1e-8, msg=lambda m, n=name: f"d{n}: {m}")


def test_elman_loss_of_uniform_scores_is_log_K():
    g = torch.Generator().manual_seed(5)
    X, targets, h_init, params = random_elman(g, T=4, B=2, D=2, H=3, K=7)
    params["W_hy"] = torch.zeros_like(params["W_hy"])
    params["b_y"] = torch.zeros_like(params["b_y"])
    loss, grads = elman_forward_backward(X, targets, h_init, params)
    assert_close(loss, torch.log(torch.tensor(7.0, dtype=F64)))
    # With W_hy = 0 no gradient reaches the recurrent part.
    assert torch.equal(grads["W_hh"], torch.zeros_like(grads["W_hh"]))


# ---------------------------------------------------------------- bad input


def test_rnn_bptt_rejects_callable_activation_and_bad_shapes():
    g = torch.Generator().manual_seed(6)
    a = random_rnn_args(g, 3, 2, 2, 4)
    H = rnn_forward(*(a[k] for k in RNN_ARGS))
    with pytest.raises(ValueError, match="activation must be a name"):
        rnn_bptt(*(a[k] for k in RNN_ARGS), H, torch.ones_like(H), activation=torch.sin)
    with pytest.raises(ValueError, match=r"dL_dH: expected shape \(T, B, H\) = \(3, 2, 4\), got \(2, 3, 4\)"):
        rnn_bptt(*(a[k] for k in RNN_ARGS), H, torch.ones(2, 3, 4, dtype=F64))
    with pytest.raises(ValueError, match="truncate_every: expected a positive int, got 0"):
        rnn_bptt(*(a[k] for k in RNN_ARGS), H, torch.ones_like(H), truncate_every=0)


def test_elman_forward_backward_rejects_bad_targets_and_params():
    g = torch.Generator().manual_seed(7)
    X, targets, h_init, params = random_elman(g, T=3, B=2, D=2, H=3, K=4)
    with pytest.raises(ValueError, match=r"targets: class indices must lie in \[0, K\) = \[0, 4\)"):
        elman_forward_backward(X, targets + 4, h_init, params)
    with pytest.raises(TypeError, match="targets: expected integer class indices"):
        elman_forward_backward(X, targets.double(), h_init, params)
    with pytest.raises(ValueError, match=r"targets: expected shape \(T, B\) = \(3, 2\), got \(2, 3\)"):
        elman_forward_backward(X, targets.T, h_init, params)
    with pytest.raises(ValueError, match="params: missing W_hy"):
        elman_forward_backward(X, targets, h_init, {k: v for k, v in params.items() if k != "W_hy"})
    bad = {**params, "W_hy": torch.zeros(4, 5, dtype=F64)}
    with pytest.raises(ValueError, match="W_xh and W_hy disagree on the hidden size H: 3 vs 5"):
        elman_forward_backward(X, targets, h_init, bad)
