r"""How far back does the gradient reach? (chapter 2, vanishing and exploding gradients)

For an Elman RNN, z_t = W_xh x_t + W_hh h_{t-1} + b_h and h_t = f(z_t), the
gradient of a loss J on the last state reaches an earlier state through a
product of Jacobians

    dJ/dh_t = dJ/dh_{T-1} \prod_{m=t+1}^{T-1} diag(f'(z_m)) W_hh ,

whose norm is at most ||dJ/dh_{T-1}|| (gamma ||W_hh||)^{T-1-t} when
|f'| <= gamma. ``hidden_gradient_norms`` measures ||dJ/dh_t|| for every t
with autograd, so the product can be watched shrink or grow.
"""

from __future__ import annotations

from typing import Callable

import torch

from .._checks import check_int, check_nonempty_time, check_tensor
from .activations import Activation, resolve_activation
from .rnn import _step, check_weights

__all__ = ["hidden_gradient_norms", "spectral_radius", "jacobian_product_norms"]


def hidden_gradient_norms(
    X: torch.Tensor,
    h_init: torch.Tensor | None,
    W_xh: torch.Tensor,
    W_hh: torch.Tensor,
    b_h: torch.Tensor,
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    activation: Activation = "tanh",
) -> torch.Tensor:
    """Norms ||dJ/dh_t|| of the total gradient of a loss with respect to every state.

    The states are kept as separate tensors so that autograd returns the
    *total* derivative of J with respect to h_t: every path, through the
    outputs read from h_t and through all later states. (The gradient with
    respect to a stacked ``H`` would give the direct part only.)

    Args:
        X: (T, B, D) inputs. h_init: (B, H) initial state h_{-1} or ``None`` (zeros).
        W_xh: (H, D). W_hh: (H, H). b_h: (H,).
        loss_fn: maps the states H (T, B, H) to a scalar loss J, e.g.
            ``lambda H: (H[-1] * v).sum()`` for a loss on the last state.
        activation: "tanh", "relu", "sigmoid" or a callable.

    Returns:
        (T,) tensor, entry t = Frobenius norm of dJ/dh_t (over the batch and
        hidden units), detached.
    """
    dims: dict = {}
    check_tensor("X", X, ("T", "B", "D"), dims)
    check_nonempty_time("X", X)
    like = ("X", X)
    check_weights(dims, W_xh, W_hh, b_h, like)
    if h_init is None:
        h_init = X.new_zeros(X.shape[1], W_hh.shape[0])
    check_tensor("h_init", h_init, ("B", "H"), dims, like=like)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a function of H (T, B, H), got {type(loss_fn).__name__}")
    f = resolve_activation(activation)

    with torch.enable_grad():
        # A fresh leaf start, so the measurement works on weights with or without requires_grad.
        h = h_init.detach().requires_grad_(True)
        states = []
        for t in range(X.shape[0]):
            h = _step(X[t], h, W_xh, W_hh, b_h, f)   # kept apart: autograd then gives the total dJ/dh_t
            states.append(h)
        J = loss_fn(torch.stack(states))
        if not isinstance(J, torch.Tensor) or J.numel() != 1:
            raise ValueError("loss_fn: expected a scalar tensor (one number), "
                             f"got {getattr(J, 'shape', type(J).__name__)}")
        grads = torch.autograd.grad(J.reshape(()), states, allow_unused=True)
    return torch.stack([torch.zeros((), dtype=X.dtype, device=X.device) if g is None
                        else g.detach().norm() for g in grads])


def spectral_radius(W_hh: torch.Tensor) -> float:
    """max_i |lambda_i| of a square matrix (eigenvalues may be complex)."""
    check_tensor("W_hh", W_hh, ("H", "H"))
    return torch.linalg.eigvals(W_hh.detach()).abs().max().item()


def jacobian_product_norms(W_hh: torch.Tensor, steps: int) -> torch.Tensor:
    """Spectral norms ||W_hh^n||_2 for n = 0 .. steps: the linear RNN's ||dh_{t+n}/dh_t||.

    For the linear RNN h_t = W_hh h_{t-1} + W_xh x_t, dh_{t+n}/dh_t = W_hh^n;
    its norm grows like rho(W_hh)^n for large n (Gelfand's formula), where
    rho is the spectral radius, even when ||W_hh|| > 1 makes it grow at first.

    Returns:
        (steps + 1,) tensor.
    """
    check_tensor("W_hh", W_hh, ("H", "H"))
    check_int("steps", steps, min=0)
    W = W_hh.detach()
    P = torch.eye(W.shape[0], dtype=W.dtype, device=W.device)
    norms = [torch.linalg.matrix_norm(P, ord=2)]
    for _ in range(steps):
        P = W @ P
        norms.append(torch.linalg.matrix_norm(P, ord=2))
    return torch.stack(norms)
