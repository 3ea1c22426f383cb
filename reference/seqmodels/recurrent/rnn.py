"""Elman recurrent neural networks (chapter 1), forward pass.

Notation (time-major, as torch.nn.RNN):

    X  (T, B, D)   inputs x_0 .. x_{T-1}
    H  (T, B, H)   hidden states h_0 .. h_{T-1}; h_init = h_{-1} is (B, H)
    W_xh (H, D), W_hh (H, H), b_h (H,), W_hy (K, H), b_y (K,)

    h_t = f(W_xh x_t + W_hh h_{t-1} + b_h)      (math, column vectors)
        = f(x_t @ W_xh.T + h_{t-1} @ W_hh.T + b_h)   (code, a batch of rows)
    y_t = W_hy h_t + b_y

The functions ``rnn_cell`` and ``rnn_forward`` take the weights as
arguments; ``ElmanRNN`` stacks layers and directions like torch.nn.RNN and
can copy its weights from and to one. The stacking, the reverse direction and
padded batches are shared with the LSTM and GRU (``seqmodels.recurrent``);
what is Elman-specific here is the step, ``_unroll``.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from .._checks import check_nonempty_time, check_tensor
from .activations import Activation, resolve_activation
from .stack import RecurrentStack

__all__ = ["rnn_cell", "rnn_forward", "ElmanRNN"]


def check_weights(dims: dict, W_xh, W_hh, b_h, like) -> None:
    """W_xh (H, D), W_hh (H, H), b_h (H,) against ``dims``; shared by every function that takes them."""
    check_tensor("W_xh", W_xh, ("H", "D"), dims, like=like)
    check_tensor("W_hh", W_hh, ("H", "H"), dims, like=like)
    check_tensor("b_h", b_h, ("H",), dims, like=like)


def _step(x_t, h_prev, W_xh, W_hh, b_h, f):
    """h_t = f(x_t @ W_xh.T + h_prev @ W_hh.T + b_h), without checks: the one place the step is written."""
    return f(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


def _unroll(
    X: torch.Tensor,
    h: torch.Tensor,
    W_xh: torch.Tensor,
    W_hh: torch.Tensor,
    b_h: torch.Tensor,
    f: Callable[[torch.Tensor], torch.Tensor],
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """The loop over time, without checks. X (T, B, D), h (B, H) -> H (T, B, H).

    mask (T, B, 1) bool, optional: where False (padding) the state is carried
    over unchanged, so H[T-1] is each sequence's state at its own last step.
    """
    states = []
    for t in range(X.shape[0]):
        h_new = _step(X[t], h, W_xh, W_hh, b_h, f)
        h = h_new if mask is None else torch.where(mask[t], h_new, h)
        states.append(h)
    return torch.stack(states)


def rnn_cell(
    x_t: torch.Tensor,
    h_prev: torch.Tensor,
    W_xh: torch.Tensor,
    W_hh: torch.Tensor,
    b_h: torch.Tensor,
    activation: Activation = "tanh",
) -> torch.Tensor:
    """One step h_t = f(x_t @ W_xh.T + h_prev @ W_hh.T + b_h).

    Args:
        x_t: (B, D) inputs at time t.
        h_prev: (B, H) previous hidden state h_{t-1}.
        W_xh: (H, D). W_hh: (H, H). b_h: (H,).
        activation: "tanh", "relu", "sigmoid" or a callable applied elementwise.

    Returns:
        h_t: (B, H).
    """
    dims: dict = {}
    check_tensor("x_t", x_t, ("B", "D"), dims)
    check_weights(dims, W_xh, W_hh, b_h, like=("x_t", x_t))
    check_tensor("h_prev", h_prev, ("B", "H"), dims, like=("x_t", x_t))
    return _step(x_t, h_prev, W_xh, W_hh, b_h, resolve_activation(activation))


def rnn_forward(
    X: torch.Tensor,
    h_init: torch.Tensor | None,
    W_xh: torch.Tensor,
    W_hh: torch.Tensor,
    b_h: torch.Tensor,
    activation: Activation = "tanh",
) -> torch.Tensor:
    """All hidden states of a one-layer Elman RNN.

    h_t = f(x_t @ W_xh.T + h_{t-1} @ W_hh.T + b_h) for t = 0 .. T-1, h_{-1} = h_init.

    Args:
        X: (T, B, D) inputs, time-major.
        h_init: (B, H) initial state h_{-1}; ``None`` means zeros.
        W_xh: (H, D). W_hh: (H, H). b_h: (H,).
        activation: "tanh", "relu", "sigmoid" or a callable applied elementwise.

    Returns:
        H: (T, B, H), H[t] = h_t.
    """
    dims: dict = {}
    check_tensor("X", X, ("T", "B", "D"), dims)
    check_nonempty_time("X", X)
    check_weights(dims, W_xh, W_hh, b_h, like=("X", X))
    if h_init is None:
        h_init = X.new_zeros(X.shape[1], W_hh.shape[0])
    check_tensor("h_init", h_init, ("B", "H"), dims, like=("X", X))
    return _unroll(X, h_init, W_xh, W_hh, b_h, resolve_activation(activation))


class ElmanRNN(RecurrentStack):
    """Multi-layer, optionally bidirectional Elman RNN, laid out like torch.nn.RNN.

    Parameters are named like the math, per layer l and direction:
    ``W_xh_l{l}`` (H, D_l), ``W_hh_l{l}`` (H, H), ``b_h_l{l}`` (H,), and the
    same with suffix ``_reverse`` for the backward direction. D_0 = D, and
    D_l = dirs * H for l > 0 (layer l reads both directions of layer l-1).
    torch.nn.RNN has two biases; b_h = b_ih + b_hh.

    Args:
        input_size: D. hidden_size: H. num_layers: L.
        bidirectional: also run each layer from t = T-1 down to 0 (dirs = 2).
        activation: "tanh", "relu", "sigmoid" or a callable.
        device, dtype: for the parameters.
        generator: a torch.Generator for the initial weights (reproducible without global seeding).
            Every parameter starts Uniform(-1/sqrt(H), 1/sqrt(H)), as in torch.nn.RNN.
    """

    TORCH_NAMES = {"W_xh": "weight_ih", "W_hh": "weight_hh", "b_h": ("bias_ih", "bias_hh")}

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        activation: Activation = "tanh",
        *,
        device=None,
        dtype=None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, bidirectional,
                         device=device, dtype=dtype, generator=generator)
        resolve_activation(activation)  # fail early on an unknown name
        self.activation = activation
        self._build()

    def _layer_shapes(self, d_in: int) -> dict[str, tuple[int, ...]]:
        Hn = self.hidden_size
        return {"W_xh": (Hn, d_in), "W_hh": (Hn, Hn), "b_h": (Hn,)}

    def _scan(self, layer, direction, X, state0, mask):
        p = self.layer_params(layer, direction)
        H = _unroll(X, state0[0], p["W_xh"], p["W_hh"], p["b_h"], resolve_activation(self.activation), mask)
        return H, (H[-1],)

    def forward(
        self,
        X: torch.Tensor,
        h_init: torch.Tensor | None = None,
        lengths: Sequence[int] | torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run all layers and directions.

        Args:
            X: (T, B, D) inputs, time-major (or a PackedSequence, then H_out
                is packed too and ``lengths`` must be None).
            h_init: (L * dirs, B, H) initial states, index ``layer * dirs +
                direction`` as in torch.nn.RNN; ``None`` means zeros.
            lengths: optional (B,) true lengths in [1, T] of a right-padded
                batch. Padding does not influence any state: outputs there are
                zero and the reverse direction starts at each sequence's end
                (the same as torch.nn.utils.rnn.pack_padded_sequence).

        Returns:
            H_out: (T, B, dirs * H) states of the last layer, the forward
                direction in [..., :H] and the reverse one in [..., H:].
            h_last: (L * dirs, B, H) final state of each layer and direction
                (for the reverse direction that is its state at t = 0).
        """
        return super().forward(X, h_init, lengths)

    @classmethod
    def from_torch(cls, rnn: nn.RNN) -> "ElmanRNN":
        """A new ElmanRNN with the weights of ``rnn`` (same dtype and device).

        W_xh = weight_ih, W_hh = weight_hh, b_h = bias_ih + bias_hh (zeros
        when ``rnn`` has no bias). ElmanRNN is always time-major, whatever
        ``rnn.batch_first`` says.
        """
        return cls._from_torch(rnn, nn.RNN, activation=getattr(rnn, "nonlinearity", None))

    def to_torch(self) -> nn.RNN:
        """A new time-major torch.nn.RNN computing the same function.

        bias_ih = b_h and bias_hh = 0. Only "tanh" and "relu" exist in torch.
        """
        if self.activation not in ("tanh", "relu"):
            raise ValueError(
                f"to_torch: torch.nn.RNN supports activation 'tanh' or 'relu', got {self.activation!r}"
            )
        return self._to_torch(nn.RNN, nonlinearity=self.activation)

    def extra_repr(self) -> str:
        act = self.activation if isinstance(self.activation, str) else getattr(self.activation, "__name__", "callable")
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, bidirectional={self.bidirectional}, activation={act}")
