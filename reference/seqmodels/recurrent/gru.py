r"""Gated recurrent unit (chapter 3): cell, layer and stacked module.

Notation (time-major, gate order r, z, n as torch.nn.GRU):

    W_x (3H, D) = [W_xr; W_xz; W_xn],  W_h (3H, H) = [W_hr; W_hz; W_hn],
    b_x (3H,), b_h (3H,)   (two biases: b_hn sits inside the reset product)

    r_t = sigma(W_xr x_t + b_xr + W_hr h_{t-1} + b_hr)        reset gate
    z_t = sigma(W_xz x_t + b_xz + W_hz h_{t-1} + b_hz)        update gate
    n_t = tanh (W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn)) candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

This is PyTorch's (and cuDNN's) convention: z_t weighs the *old* state, and
the reset gate multiplies W_hn h_{t-1} after the product ("reset after").
Cho et al. (2014) write the candidate with the gate before the product,
n_t = tanh(W_xn x_t + W_hn (r_t * h_{t-1}) + b_n), available here with
``reset_after=False``; some texts (e.g. Chung et al. 2014) swap the roles of
z_t and 1 - z_t, which is the same model with z_t relabelled 1 - z_t.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_nonempty_time, check_tensor
from .stack import RecurrentStack

__all__ = ["gru_cell", "gru_forward", "GRU"]


def _check_gru(dims: dict, W_x, W_h, b_x, b_h, like) -> None:
    Hn = dims["H"][0]
    for name, x, shape in (("W_x", W_x, (3 * Hn, "D")), ("W_h", W_h, (3 * Hn, "H")),
                           ("b_x", b_x, (3 * Hn,)), ("b_h", b_h, (3 * Hn,))):
        try:
            check_tensor(name, x, shape, dims, like=like)
        except ValueError as err:
            raise ValueError(f"{err} [the GRU stacks 3 gates (r, z, n) along the first "
                             f"dimension, so it has 3H rows]") from None


def _step(x_t, h, W_x, W_h, b_x, b_h, reset_after=True):
    """One GRU step without checks; returns h_t."""
    return _step_from_input(x_t @ W_x.T + b_x, h, W_h, b_h, reset_after)


def _step_from_input(a_x, h, W_h, b_h, reset_after=True):
    """One step given the input part a_x = W_x x_t + b_x (B, 3H), which needs no h."""
    a_xr, a_xz, a_xn = a_x.chunk(3, dim=-1)
    if reset_after:
        a_hr, a_hz, a_hn = (h @ W_h.T + b_h).chunk(3, dim=-1)   # one product for all gates
    else:
        W_hr, W_hz, W_hn = W_h.chunk(3, dim=0)
        b_hr, b_hz, b_hn = b_h.chunk(3)
        a_hr, a_hz = h @ W_hr.T + b_hr, h @ W_hz.T + b_hz
    r = torch.sigmoid(a_xr + a_hr)
    z = torch.sigmoid(a_xz + a_hz)
    if reset_after:
        n = torch.tanh(a_xn + r * a_hn)
    else:
        n = torch.tanh(a_xn + (r * h) @ W_hn.T + b_hn)
    return (1 - z) * n + z * h


def _unroll(X, h, W_x, W_h, b_x, b_h, reset_after=True, mask=None):
    """X (T, B, D) -> H (T, B, H) without checks; mask as in lstm._unroll.

    The input parts of all steps are one matrix product before the loop.
    """
    A_x = X @ W_x.T + b_x
    states = []
    for t in range(X.shape[0]):
        h_new = _step_from_input(A_x[t], h, W_h, b_h, reset_after)
        h = h_new if mask is None else torch.where(mask[t], h_new, h)
        states.append(h)
    return torch.stack(states)


def gru_cell(x_t, h_prev, W_x, W_h, b_x, b_h, *, reset_after: bool = True) -> torch.Tensor:
    """One GRU step h_t from h_{t-1} and x_t.

    Args:
        x_t: (B, D). h_prev: (B, H).
        W_x: (3H, D), W_h: (3H, H), b_x: (3H,), b_h: (3H,); gate blocks r, z, n.
        reset_after: PyTorch's candidate r * (W_hn h + b_hn) (True) or
            Cho et al.'s W_hn (r * h) + b_hn (False).

    Returns:
        h_t: (B, H).
    """
    dims: dict = {}
    check_tensor("x_t", x_t, ("B", "D"), dims)
    check_tensor("h_prev", h_prev, ("B", "H"), dims, like=("x_t", x_t))
    _check_gru(dims, W_x, W_h, b_x, b_h, like=("x_t", x_t))
    return _step(x_t, h_prev, W_x, W_h, b_x, b_h, reset_after)


def gru_forward(X, h_init, W_x, W_h, b_x, b_h, *, reset_after: bool = True) -> torch.Tensor:
    """All hidden states (T, B, H) of a one-layer GRU; ``h_init`` (B, H) or None for zeros."""
    dims: dict = {}
    check_tensor("X", X, ("T", "B", "D"), dims)
    check_nonempty_time("X", X)
    check_tensor("W_h", W_h, (None, None), like=("X", X))
    if W_h.shape[0] % 3:
        raise ValueError(f"W_h: expected shape (3H, H) with gates r, z, n, got {tuple(W_h.shape)}")
    dims["H"] = (W_h.shape[0] // 3, "W_h")
    _check_gru(dims, W_x, W_h, b_x, b_h, like=("X", X))
    if h_init is None:
        h_init = X.new_zeros(X.shape[1], dims["H"][0])
    check_tensor("h_init", h_init, ("B", "H"), dims, like=("X", X))
    return _unroll(X, h_init, W_x, W_h, b_x, b_h, reset_after)


class GRU(RecurrentStack):
    """Multi-layer, optionally bidirectional GRU, laid out like torch.nn.GRU.

    Parameters per layer l and direction: ``W_x`` (3H, D_l), ``W_h`` (3H, H),
    ``b_x`` (3H,), ``b_h`` (3H,) with suffix ``_l{l}`` or ``_l{l}_reverse``
    (torch's weight_ih, weight_hh, bias_ih, bias_hh).

    ``forward(X, h_init=None, lengths=None)`` returns ``(H_out, h_n)`` like
    torch.nn.GRU; see ``RecurrentStack.forward``. ``residual`` and
    ``reset_after``, ``generator`` as in ``LSTM`` and ``gru_cell``.
    """

    TORCH_NAMES = {"W_x": "weight_ih", "W_h": "weight_hh", "b_x": "bias_ih", "b_h": "bias_hh"}

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, *, reset_after: bool = True, residual: bool = False,
                 device=None, dtype=None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bidirectional, residual,
                         device=device, dtype=dtype, generator=generator)
        self.reset_after = bool(reset_after)
        self._build()

    def _layer_shapes(self, d_in: int) -> dict[str, tuple[int, ...]]:
        Hn = self.hidden_size
        return {"W_x": (3 * Hn, d_in), "W_h": (3 * Hn, Hn), "b_x": (3 * Hn,), "b_h": (3 * Hn,)}

    def _scan(self, layer, direction, X, state0, mask):
        p = self.layer_params(layer, direction)
        H = _unroll(X, state0[0], p["W_x"], p["W_h"], p["b_x"], p["b_h"], self.reset_after, mask)
        return H, (H[-1],)

    @classmethod
    def from_torch(cls, gru: nn.GRU) -> "GRU":
        """A new GRU with the weights of ``gru`` (zero biases when it has none)."""
        return cls._from_torch(gru, nn.GRU)

    def to_torch(self) -> nn.GRU:
        """A new time-major torch.nn.GRU computing the same function."""
        if not self.reset_after or self.residual:
            raise ValueError("to_torch: torch.nn.GRU has no reset-before or residual variant")
        return self._to_torch(nn.GRU)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"
