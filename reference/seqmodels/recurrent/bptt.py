r"""Backpropagation through time, written out by hand (chapter 1).

No autograd is used here: the backward pass is a loop from t = T-1 down to 0,
so every term of the textbook formula can be pointed at in the code.

With z_t = W_xh x_t + W_hh h_{t-1} + b_h, h_t = f(z_t), y_t = W_hy h_t + b_y
and a loss L = \sum_j L_j(y_j), the gradient for a recurrent weight W is a
double sum, over the loss terms j and over the steps k <= j where W acted:

    dL/dW = \sum_j \sum_{k<=j} (dL_j/dy_j) (dy_j/dh_j)
                               (\prod_{m=k+1}^{j} dh_m/dh_{m-1}) (dh_k/dW),
    dh_m/dh_{m-1} = diag(f'(z_m)) W_hh.

Computing it term by term costs O(T^2) products. BPTT reorders the sums:
delta_t = dL/dh_t collects every path from a loss term back to h_t,

    delta_t = dL_t/dh_t + delta_{t+1} (dh_{t+1}/dh_t)        ("note the addition")
            = dL_dH[t] + (delta_{t+1} * f'(z_{t+1})) W_hh,

and then the inner factor dh_k/dW is applied once per step k. In batched row
form, with dz_t = delta_t * f'(z_t) (B, H):

    dW_hh += dz_t^T h_{t-1},  dW_xh += dz_t^T x_t,  db_h += sum_b dz_t,
    dx_t = dz_t W_xh,         carried gradient to h_{t-1} = dz_t W_hh.
"""

from __future__ import annotations

import torch

from .._checks import check_nonempty_time, check_positive_int, check_tensor, check_token_ids
from .activations import derivative_from_output, resolve_activation
from .rnn import _unroll, check_weights

__all__ = ["rnn_bptt", "elman_forward_backward"]


def rnn_bptt(
    X: torch.Tensor,
    h_init: torch.Tensor,
    W_xh: torch.Tensor,
    W_hh: torch.Tensor,
    b_h: torch.Tensor,
    H: torch.Tensor,
    dL_dH: torch.Tensor,
    activation: str = "tanh",
    truncate_every: int | None = None,
) -> dict[str, torch.Tensor]:
    """Gradients of a one-layer Elman RNN by an explicit backward loop.

    Args:
        X: (T, B, D) inputs of the forward pass.
        h_init: (B, H) initial state h_{-1}.
        W_xh: (H, D). W_hh: (H, H). b_h: (H,).
        H: (T, B, H) hidden states from the forward pass (``rnn_forward``).
        dL_dH: (T, B, H) direct gradient of the loss w.r.t. each h_t through
            the output at the same step, dL_dH[t] = (dL_t/dy_t)(dy_t/dh_t), as
            the output layer gives it (the j = k terms of the formula). The
            paths through later states (the products over m) are added here.
        activation: "tanh", "relu" or "sigmoid"; f'(z_t) is computed from h_t.
        truncate_every: k for truncated BPTT: no gradient flows from step
            t = k, 2k, ... back into h_{t-1}, as if the forward pass had
            detached the state every k steps. The product over m in the
            formula then stops at chunk boundaries, and "h_init" only gets
            gradient from the first chunk. ``None``: full BPTT.

    Returns:
        dict with "W_xh" (H, D), "W_hh" (H, H), "b_h" (H,), "h_init" (B, H)
        and "X" (T, B, D): dL w.r.t. each argument.
    """
    dims: dict = {}
    check_tensor("X", X, ("T", "B", "D"), dims)
    like = ("X", X)
    check_weights(dims, W_xh, W_hh, b_h, like)
    check_tensor("h_init", h_init, ("B", "H"), dims, like=like)
    check_tensor("H", H, ("T", "B", "H"), dims, like=like)
    check_tensor("dL_dH", dL_dH, ("T", "B", "H"), dims, like=like)
    _check_options(activation, truncate_every)
    return _bptt(X, h_init, W_xh, W_hh, b_h, H, dL_dH, activation, truncate_every)


def _check_options(activation, truncate_every) -> None:
    check_positive_int("truncate_every", truncate_every, allow_none=True)
    if callable(activation):
        raise ValueError("rnn_bptt: activation must be a name ('tanh', 'relu', 'sigmoid'), "
                         "since f' is written through h_t; got a callable")


def _bptt(X, h_init, W_xh, W_hh, b_h, H, dL_dH, activation, truncate_every) -> dict[str, torch.Tensor]:
    """The backward loop of ``rnn_bptt`` on checked arguments."""
    T = X.shape[0]
    # Every input is a plain tensor; no graph is built even if they require grad.
    with torch.no_grad():
        dW_xh = torch.zeros_like(W_xh)
        dW_hh = torch.zeros_like(W_hh)
        db_h = torch.zeros_like(b_h)
        dX = torch.zeros_like(X)
        carried = torch.zeros_like(h_init)  # delta_{t+1} (dh_{t+1}/dh_t), zero past the end
        for t in range(T - 1, -1, -1):
            delta_h = dL_dH[t] + carried  # note the addition: both paths into h_t
            dz = delta_h * derivative_from_output(activation, H[t])  # delta_t diag(f'(z_t))
            h_prev = H[t - 1] if t > 0 else h_init
            dW_hh += dz.T @ h_prev  # dh_t/dW_hh at step k = t
            dW_xh += dz.T @ X[t]
            db_h += dz.sum(dim=0)
            dX[t] = dz @ W_xh
            carried = dz @ W_hh  # times dh_t/dh_{t-1} = diag(f'(z_t)) W_hh
            if truncate_every is not None and t % truncate_every == 0 and t > 0:
                carried = torch.zeros_like(carried)  # h_{t-1} was detached here
        return {"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h, "h_init": carried, "X": dX}


_PARAM_SHAPES = {"W_xh": ("H", "D"), "W_hh": ("H", "H"), "b_h": ("H",),
                 "W_hy": ("K", "H"), "b_y": ("K",)}


def elman_forward_backward(
    X: torch.Tensor,
    targets: torch.Tensor,
    h_init: torch.Tensor,
    params: dict[str, torch.Tensor],
    activation: str = "tanh",
    truncate_every: int | None = None,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss and all gradients of an Elman network with softmax outputs, no autograd.

    Forward: H = rnn_forward(X, h_init, W_xh, W_hh, b_h), y_t = W_hy h_t + b_y,
    L = mean over the T * B positions of -log softmax(y_t)[target].

    Backward: the output layer gives, for every position, dL/dy_t =
    (softmax(y_t) - onehot(target_t)) / (T B); from it dW_hy, db_y and the
    direct term dL_dH[t] = dL/dy_t W_hy of the BPTT recursion; ``rnn_bptt``
    adds the recurrent part and returns the rest.

    Args:
        X: (T, B, D) inputs.
        targets: (T, B) integer class indices in [0, K).
        h_init: (B, H) initial state h_{-1}.
        params: dict with "W_xh" (H, D), "W_hh" (H, H), "b_h" (H,),
            "W_hy" (K, H), "b_y" (K,).
        activation, truncate_every: as in ``rnn_bptt``.

    Returns:
        loss: 0-dim tensor.
        grads: dict with the keys of ``params`` plus "h_init", same shapes.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict of tensors, got {type(params).__name__}")
    missing = [k for k in _PARAM_SHAPES if k not in params]
    if missing:
        raise ValueError(f"params: missing {', '.join(missing)} (expected keys {', '.join(_PARAM_SHAPES)})")
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in _PARAM_SHAPES)
    dims: dict = {}
    like = ("X", X)
    check_nonempty_time("X", check_tensor("X", X, ("T", "B", "D"), dims))
    check_weights(dims, W_xh, W_hh, b_h, like)
    check_tensor("W_hy", W_hy, ("K", "H"), dims, like=like)
    check_tensor("b_y", b_y, ("K",), dims, like=like)
    check_tensor("h_init", h_init, ("B", "H"), dims, like=like)
    targets = check_token_ids("targets", targets, ("T", "B"), dims, vocab_size=b_y.shape[0],
                              what="class indices", size_name="K")
    _check_options(activation, truncate_every)

    (T, B), K = targets.shape, b_y.shape[0]
    with torch.no_grad():
        H = _unroll(X, h_init, W_xh, W_hh, b_h, resolve_activation(activation))
        Y = H @ W_hy.T + b_y  # (T, B, K)
        log_probs = Y - torch.logsumexp(Y, dim=-1, keepdim=True)
        target_log_probs = log_probs.gather(-1, targets.to(X.device)[..., None]).squeeze(-1)
        loss = -target_log_probs.mean()

        dY = log_probs.exp()  # softmax(y_t)
        dY.scatter_add_(-1, targets.to(X.device)[..., None], -torch.ones_like(dY[..., :1]))
        dY /= T * B  # the mean over positions
        dW_hy = dY.reshape(T * B, K).T @ H.reshape(T * B, -1)  # sum_t dY_t^T h_t
        db_y = dY.sum(dim=(0, 1))
        dL_dH = dY @ W_hy  # (T, B, H): dL_t/dh_t through y_t only
        g = _bptt(X, h_init, W_xh, W_hh, b_h, H, dL_dH, activation, truncate_every)
    grads = {"W_xh": g["W_xh"], "W_hh": g["W_hh"], "b_h": g["b_h"],
             "W_hy": dW_hy, "b_y": db_y, "h_init": g["h_init"]}
    return loss, grads
