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
can copy its weights from and to one.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from ._checks import check_positive_int, check_tensor
from .activations import Activation, resolve_activation

__all__ = ["rnn_cell", "rnn_forward", "ElmanRNN", "RNNSequenceClassifier"]


def _check_weights(dims: dict, W_xh, W_hh, b_h, like) -> None:
    check_tensor("W_xh", W_xh, ("H", "D"), dims, like=like)
    check_tensor("W_hh", W_hh, ("H", "H"), dims, like=like)
    check_tensor("b_h", b_h, ("H",), dims, like=like)


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
        h_new = f(X[t] @ W_xh.T + h @ W_hh.T + b_h)
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
    _check_weights(dims, W_xh, W_hh, b_h, like=("x_t", x_t))
    check_tensor("h_prev", h_prev, ("B", "H"), dims, like=("x_t", x_t))
    f = resolve_activation(activation)
    return f(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)


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
    if X.shape[0] == 0:
        raise ValueError("X: the sequence length T must be at least 1, got shape (0, ...)")
    _check_weights(dims, W_xh, W_hh, b_h, like=("X", X))
    if h_init is None:
        h_init = X.new_zeros(X.shape[1], W_hh.shape[0])
    check_tensor("h_init", h_init, ("B", "H"), dims, like=("X", X))
    return _unroll(X, h_init, W_xh, W_hh, b_h, resolve_activation(activation))


def _check_lengths(lengths, T: int, B: int, device) -> torch.Tensor:
    """lengths: B ints in [1, T] (list or integer tensor) -> (B,) long tensor on ``device``."""
    lengths = torch.as_tensor(lengths)
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise TypeError(f"lengths: expected integers, got {lengths.dtype}")
    if lengths.shape != (B,):
        raise ValueError(f"lengths: expected shape (B,) = ({B},), got {tuple(lengths.shape)}")
    if B and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"lengths: expected values in [1, T] = [1, {T}], got {lengths.tolist()}")
    return lengths.to(device=device, dtype=torch.long)


def _reverse_index(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """(T, B) index that reverses each sequence within its own length.

    Position t < L_b maps to L_b - 1 - t; padding stays in place. Applying it
    twice is the identity, so the same index reverses the outputs back.
    """
    t = torch.arange(T, device=lengths.device)[:, None]
    L = lengths[None, :]
    return torch.where(t < L, L - 1 - t, t)


def _gather_time(X: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return X.gather(0, index[:, :, None].expand_as(X))


class ElmanRNN(nn.Module):
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
    """

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
        super().__init__()
        check_positive_int("input_size", input_size)
        check_positive_int("hidden_size", hidden_size)
        check_positive_int("num_layers", num_layers)
        resolve_activation(activation)  # fail early on an unknown name
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.activation = activation
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            d_in = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                s = self._suffix(layer, direction)
                setattr(self, "W_xh" + s, nn.Parameter(torch.empty(hidden_size, d_in, **factory)))
                setattr(self, "W_hh" + s, nn.Parameter(torch.empty(hidden_size, hidden_size, **factory)))
                setattr(self, "b_h" + s, nn.Parameter(torch.empty(hidden_size, **factory)))
        self.reset_parameters(generator)

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction else "")

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter, as torch.nn.RNN."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound, generator=generator)

    def layer_params(self, layer: int, direction: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W_xh, W_hh, b_h) of one layer and direction (0 forward, 1 reverse)."""
        s = self._suffix(layer, direction)
        return getattr(self, "W_xh" + s), getattr(self, "W_hh" + s), getattr(self, "b_h" + s)

    def forward(
        self,
        X: torch.Tensor,
        h_init: torch.Tensor | None = None,
        lengths: Sequence[int] | torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run all layers and directions.

        Args:
            X: (T, B, D) inputs, time-major.
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
        W0 = self.W_xh_l0
        dims: dict = {"D": (self.input_size, "ElmanRNN.input_size"),
                      "H": (self.hidden_size, "ElmanRNN.hidden_size")}
        check_tensor("X", X, ("T", "B", "D"), dims, like=("W_xh_l0", W0))
        T, B, _ = X.shape
        if T == 0:
            raise ValueError("X: the sequence length T must be at least 1, got shape (0, ...)")
        n_states = self.num_layers * self.num_directions
        if h_init is None:
            h_init = X.new_zeros(n_states, B, self.hidden_size)
        check_tensor("h_init", h_init, (n_states, "B", "H"), dims, like=("X", X))

        mask = rev = None
        if lengths is not None:
            lengths = _check_lengths(lengths, T, B, X.device)
            mask = (torch.arange(T, device=X.device)[:, None] < lengths[None, :])[:, :, None]
            rev = _reverse_index(lengths, T)

        f = resolve_activation(self.activation)
        layer_input, h_last = X, []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                W_xh, W_hh, b_h = self.layer_params(layer, direction)
                h0 = h_init[layer * self.num_directions + direction]
                inp = layer_input
                if direction == 1:
                    inp = inp.flip(0) if rev is None else _gather_time(inp, rev)
                H = _unroll(inp, h0, W_xh, W_hh, b_h, f, mask)
                h_last.append(H[-1])
                if direction == 1:
                    H = H.flip(0) if rev is None else _gather_time(H, rev)
                if mask is not None:
                    H = H * mask
                outputs.append(H)
            layer_input = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
        return layer_input, torch.stack(h_last)

    @classmethod
    def from_torch(cls, rnn: nn.RNN) -> "ElmanRNN":
        """A new ElmanRNN with the weights of ``rnn`` (same dtype and device).

        W_xh = weight_ih, W_hh = weight_hh, b_h = bias_ih + bias_hh (zeros
        when ``rnn`` has no bias). ElmanRNN is always time-major, whatever
        ``rnn.batch_first`` says.
        """
        if not isinstance(rnn, nn.RNN):
            raise TypeError(f"from_torch: expected a torch.nn.RNN, got {type(rnn).__name__}")
        if rnn.dropout:
            raise ValueError(
                f"from_torch: ElmanRNN has no dropout between layers, got an nn.RNN with dropout={rnn.dropout}"
            )
        ref = rnn.weight_ih_l0
        model = cls(rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.bidirectional,
                    rnn.nonlinearity, device=ref.device, dtype=ref.dtype)
        with torch.no_grad():
            for layer in range(model.num_layers):
                for direction in range(model.num_directions):
                    s = f"_l{layer}" + ("_reverse" if direction else "")
                    W_xh, W_hh, b_h = model.layer_params(layer, direction)
                    W_xh.copy_(getattr(rnn, "weight_ih" + s))
                    W_hh.copy_(getattr(rnn, "weight_hh" + s))
                    if rnn.bias:
                        b_h.copy_(getattr(rnn, "bias_ih" + s) + getattr(rnn, "bias_hh" + s))
                    else:
                        b_h.zero_()
        return model

    def to_torch(self) -> nn.RNN:
        """A new time-major torch.nn.RNN computing the same function.

        bias_ih = b_h and bias_hh = 0. Only "tanh" and "relu" exist in torch.
        """
        if self.activation not in ("tanh", "relu"):
            raise ValueError(
                f"to_torch: torch.nn.RNN supports activation 'tanh' or 'relu', got {self.activation!r}"
            )
        W0 = self.W_xh_l0
        rnn = nn.RNN(self.input_size, self.hidden_size, self.num_layers,
                     nonlinearity=self.activation, bias=True, batch_first=False,
                     bidirectional=self.bidirectional, device=W0.device, dtype=W0.dtype)
        with torch.no_grad():
            for layer in range(self.num_layers):
                for direction in range(self.num_directions):
                    s = self._suffix(layer, direction)
                    W_xh, W_hh, b_h = self.layer_params(layer, direction)
                    getattr(rnn, "weight_ih" + s).copy_(W_xh)
                    getattr(rnn, "weight_hh" + s).copy_(W_hh)
                    getattr(rnn, "bias_ih" + s).copy_(b_h)
                    getattr(rnn, "bias_hh" + s).zero_()
        return rnn

    def extra_repr(self) -> str:
        act = self.activation if isinstance(self.activation, str) else getattr(self.activation, "__name__", "callable")
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, bidirectional={self.bidirectional}, activation={act}")


class RNNSequenceClassifier(nn.Module):
    """Sequence classification with max-pooling over time.

    y_t = W_hy h_t + b_y for every t, and the class scores of a sequence are
    the elementwise maximum over t of y_t, so evidence for a class may appear
    anywhere in the sequence.

    Args:
        input_size: D. hidden_size: H. num_classes: K.
        num_layers, bidirectional, activation, device, dtype, generator: as in ``ElmanRNN``.

    Parameters: ``rnn`` (an ElmanRNN), ``W_hy`` (K, dirs * H), ``b_y`` (K,).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_classes: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        activation: Activation = "tanh",
        *,
        device=None,
        dtype=None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        check_positive_int("num_classes", num_classes)
        self.rnn = ElmanRNN(input_size, hidden_size, num_layers, bidirectional, activation,
                            device=device, dtype=dtype, generator=generator)
        d_out = hidden_size * self.rnn.num_directions
        self.num_classes = num_classes
        self.W_hy = nn.Parameter(torch.empty(num_classes, d_out, device=device, dtype=dtype))
        self.b_y = nn.Parameter(torch.empty(num_classes, device=device, dtype=dtype))
        bound = 1.0 / math.sqrt(d_out)
        nn.init.uniform_(self.W_hy, -bound, bound, generator=generator)
        nn.init.uniform_(self.b_y, -bound, bound, generator=generator)

    def scores(self, X: torch.Tensor, h_init: torch.Tensor | None = None, lengths=None) -> torch.Tensor:
        """Per-step outputs Y (T, B, K), y_t = W_hy h_t + b_y. Arguments as in ``forward``."""
        H_out, _ = self.rnn(X, h_init, lengths)
        return H_out @ self.W_hy.T + self.b_y

    def forward(self, X: torch.Tensor, h_init: torch.Tensor | None = None, lengths=None) -> torch.Tensor:
        """Logits (B, K) = max over t of y_t.

        Args:
            X: (T, B, D). h_init: (L * dirs, B, H) or None.
            lengths: optional (B,); the maximum is then taken over t < lengths[b] only.
        """
        Y = self.scores(X, h_init, lengths)
        if lengths is not None:
            T, B = X.shape[:2]
            lengths = _check_lengths(lengths, T, B, X.device)
            valid = torch.arange(T, device=X.device)[:, None, None] < lengths[None, :, None]
            Y = Y.masked_fill(~valid, float("-inf"))
        return Y.max(dim=0).values
