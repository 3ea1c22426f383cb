r"""Long short-term memory (chapter 3): cell, layer and stacked module.

Notation (time-major, gate order i, f, g, o as torch.nn.LSTM):

    X (T, B, D) inputs; H, C (T, B, H) hidden and cell states; h_init, c_init (B, H)
    W_x (4H, D) = [W_xi; W_xf; W_xg; W_xo],  W_h (4H, H) = [W_hi; W_hf; W_hg; W_ho],
    b (4H,) = [b_i; b_f; b_g; b_o]

    i_t = sigma(W_xi x_t + W_hi h_{t-1} + b_i)          input gate
    f_t = sigma(W_xf x_t + W_hf h_{t-1} + b_f)          forget gate
    g_t = tanh (W_xg x_t + W_hg h_{t-1} + b_g)          candidate  \tilde c_t
    o_t = sigma(W_xo x_t + W_ho h_{t-1} + b_o)          output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

In code, with a batch of rows: ``A = x_t @ W_x.T + h_prev @ W_h.T + b`` (B, 4H),
split into four (B, H) blocks. torch.nn.LSTM keeps two biases; b = b_ih + b_hh.

Variants:
    peephole (Gers & Schmidhuber 2000): the gates also see the cell through
        diagonal weights w_ci, w_cf, w_co (H,): i_t and f_t see c_{t-1}, o_t sees c_t.
    coupled (CIFG): i_t = 1 - f_t. There is no input gate, so W_x, W_h, b have
        3H rows, in the order f, g, o.
"""

from __future__ import annotations

import torch
from torch import nn

from .._checks import check_nonempty_time, check_tensor
from .stack import RecurrentStack

__all__ = ["lstm_cell", "lstm_forward", "LSTM", "gate_names"]


def gate_names(coupled: bool = False) -> tuple[str, ...]:
    """The row blocks of W_x, W_h and b, in order."""
    return ("f", "g", "o") if coupled else ("i", "f", "g", "o")


def _check_stacked(name: str, x, shape, gates: tuple[str, ...], dims: dict, like) -> None:
    """check_tensor, with a reminder of the stacked-gate layout when it fails."""
    try:
        check_tensor(name, x, shape, dims, like=like)
    except ValueError as err:
        G = len(gates)
        raise ValueError(
            f"{err} [the LSTM stacks {G} gates ({', '.join(gates)}) along the first "
            f"dimension, so it has {G}H rows]"
        ) from None


def _check_lstm(dims: dict, W_x, W_h, b, peep, coupled: bool, like) -> None:
    gates = gate_names(coupled)
    G, Hn = len(gates), dims["H"][0]
    _check_stacked("W_x", W_x, (G * Hn, "D"), gates, dims, like)
    _check_stacked("W_h", W_h, (G * Hn, "H"), gates, dims, like)
    _check_stacked("b", b, (G * Hn,), gates, dims, like)
    w_ci, w_cf, w_co = peep
    if coupled and w_ci is not None:
        raise ValueError("w_ci: the coupled LSTM has no input gate (i_t = 1 - f_t), so no w_ci")
    for name, w in zip(("w_ci", "w_cf", "w_co"), peep):
        if w is not None:
            check_tensor(name, w, ("H",), dims, like=like)


def _step(x_t, h, c, W_x, W_h, b, peep, coupled):
    """One LSTM step without checks; returns (h_t, c_t)."""
    w_ci, w_cf, w_co = peep
    A = x_t @ W_x.T + h @ W_h.T + b
    if coupled:
        a_f, a_g, a_o = A.chunk(3, dim=-1)
    else:
        a_i, a_f, a_g, a_o = A.chunk(4, dim=-1)
    if w_cf is not None:
        a_f = a_f + w_cf * c
    f = torch.sigmoid(a_f)
    if coupled:
        i = 1 - f
    else:
        i = torch.sigmoid(a_i if w_ci is None else a_i + w_ci * c)
    g = torch.tanh(a_g)
    c = f * c + i * g
    o = torch.sigmoid(a_o if w_co is None else a_o + w_co * c)  # peephole sees the new c_t
    return o * torch.tanh(c), c


def _unroll(X, h, c, W_x, W_h, b, peep=(None, None, None), coupled=False, mask=None):
    """The loop over time without checks: X (T, B, D) -> H, C (T, B, H).

    mask (T, B, 1) bool, optional: where False (padding) h and c are carried over.
    """
    Hs, Cs = [], []
    for t in range(X.shape[0]):
        h_new, c_new = _step(X[t], h, c, W_x, W_h, b, peep, coupled)
        if mask is not None:
            h_new, c_new = torch.where(mask[t], h_new, h), torch.where(mask[t], c_new, c)
        h, c = h_new, c_new
        Hs.append(h)
        Cs.append(c)
    return torch.stack(Hs), torch.stack(Cs)


def lstm_cell(
    x_t: torch.Tensor,
    h_prev: torch.Tensor,
    c_prev: torch.Tensor,
    W_x: torch.Tensor,
    W_h: torch.Tensor,
    b: torch.Tensor,
    *,
    w_ci: torch.Tensor | None = None,
    w_cf: torch.Tensor | None = None,
    w_co: torch.Tensor | None = None,
    coupled: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step (h_t, c_t) from (h_{t-1}, c_{t-1}) and x_t.

    Args:
        x_t: (B, D). h_prev, c_prev: (B, H).
        W_x: (4H, D), W_h: (4H, H), b: (4H,), gate blocks i, f, g, o
            (3H rows f, g, o when ``coupled``).
        w_ci, w_cf, w_co: optional (H,) peephole weights.
        coupled: use i_t = 1 - f_t.

    Returns:
        h_t, c_t: (B, H) each.
    """
    dims: dict = {}
    check_tensor("x_t", x_t, ("B", "D"), dims)
    check_tensor("h_prev", h_prev, ("B", "H"), dims, like=("x_t", x_t))
    check_tensor("c_prev", c_prev, ("B", "H"), dims, like=("x_t", x_t))
    peep = (w_ci, w_cf, w_co)
    _check_lstm(dims, W_x, W_h, b, peep, coupled, like=("x_t", x_t))
    return _step(x_t, h_prev, c_prev, W_x, W_h, b, peep, coupled)


def lstm_forward(
    X: torch.Tensor,
    h_init: torch.Tensor | None,
    c_init: torch.Tensor | None,
    W_x: torch.Tensor,
    W_h: torch.Tensor,
    b: torch.Tensor,
    *,
    w_ci: torch.Tensor | None = None,
    w_cf: torch.Tensor | None = None,
    w_co: torch.Tensor | None = None,
    coupled: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """All hidden and cell states of a one-layer LSTM.

    Args:
        X: (T, B, D) inputs, time-major.
        h_init, c_init: (B, H) initial states h_{-1}, c_{-1}; ``None`` means zeros.
        W_x, W_h, b, w_ci, w_cf, w_co, coupled: as in ``lstm_cell``.

    Returns:
        H, C: (T, B, H) each; H[t] = h_t, C[t] = c_t.
    """
    dims: dict = {}
    check_tensor("X", X, ("T", "B", "D"), dims)
    check_nonempty_time("X", X)
    G = len(gate_names(coupled))
    check_tensor("W_h", W_h, (None, None), like=("X", X))
    if W_h.shape[0] % G:
        raise ValueError(f"W_h: expected shape ({G}H, H) with gates {', '.join(gate_names(coupled))}, "
                         f"got {tuple(W_h.shape)}")
    dims["H"] = (W_h.shape[0] // G, "W_h")
    peep = (w_ci, w_cf, w_co)
    _check_lstm(dims, W_x, W_h, b, peep, coupled, like=("X", X))
    B, Hn = X.shape[1], dims["H"][0]
    h_init = X.new_zeros(B, Hn) if h_init is None else h_init
    c_init = X.new_zeros(B, Hn) if c_init is None else c_init
    check_tensor("h_init", h_init, ("B", "H"), dims, like=("X", X))
    check_tensor("c_init", c_init, ("B", "H"), dims, like=("X", X))
    return _unroll(X, h_init, c_init, W_x, W_h, b, peep, coupled)


class LSTM(RecurrentStack):
    """Multi-layer, optionally bidirectional LSTM, laid out like torch.nn.LSTM.

    Parameters per layer l and direction (suffix ``_l{l}`` or ``_l{l}_reverse``):
    ``W_x`` (4H, D_l), ``W_h`` (4H, H), ``b`` (4H,) and, with ``peephole``,
    ``w_ci``, ``w_cf``, ``w_co`` (H,). D_0 = D and D_l = dirs * H for l > 0.

    Args:
        input_size: D. hidden_size: H. num_layers: L.
        bidirectional: also run each layer from the end of the sequence.
        peephole: add the diagonal peephole connections.
        coupled: i_t = 1 - f_t (3H rows, gates f, g, o; no w_ci).
        residual: h^{(l)} = LSTM_l(h^{(l-1)}) + h^{(l-1)} for l >= 1.
        fused: use the fast path of ``seqmodels.recurrent`` (plain LSTM
            without lengths only; anything else raises).
        device, dtype: for the parameters; generator: a torch.Generator for their
            initial values (reproducible without global seeding).

    ``forward(X, state_init=None, lengths=None)`` returns ``(H_out, (h_n, c_n))``
    like torch.nn.LSTM; see ``RecurrentStack.forward``.
    """

    STATE_NAMES = ("h", "c")
    TORCH_NAMES = {"W_x": "weight_ih", "W_h": "weight_hh", "b": ("bias_ih", "bias_hh")}

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, *, peephole: bool = False, coupled: bool = False,
                 residual: bool = False, fused: bool = False, device=None, dtype=None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bidirectional, residual,
                         device=device, dtype=dtype, generator=generator)
        self.peephole = bool(peephole)
        self.coupled = bool(coupled)
        self.fused = bool(fused)
        if self.fused and (self.peephole or self.coupled):
            raise ValueError("fused=True: the fast path implements the plain LSTM only "
                             "(no peephole, no coupled gate)")
        self._build()

    def _layer_shapes(self, d_in: int) -> dict[str, tuple[int, ...]]:
        G, Hn = len(gate_names(self.coupled)), self.hidden_size
        shapes = {"W_x": (G * Hn, d_in), "W_h": (G * Hn, Hn), "b": (G * Hn,)}
        if self.peephole:
            shapes.update({name: (Hn,) for name in ("w_ci", "w_cf", "w_co")
                           if not (self.coupled and name == "w_ci")})
        return shapes

    def _scan(self, layer, direction, X, state0, mask):
        p = self.layer_params(layer, direction)
        h0, c0 = state0
        if self.fused:
            if mask is not None:
                raise ValueError("fused=True does not support lengths or packed sequences; "
                                 "use fused=False for variable-length batches")
            from .fused_lstm import fused_lstm_forward
            H, C = fused_lstm_forward(X, h0, c0, p["W_x"], p["W_h"], p["b"])
        else:
            peep = (p.get("w_ci"), p.get("w_cf"), p.get("w_co"))
            H, C = _unroll(X, h0, c0, p["W_x"], p["W_h"], p["b"], peep, self.coupled, mask)
        return H, (H[-1], C[-1])

    def init_forget_bias_(self, value: float = 1.0) -> "LSTM":
        """Set b_f to ``value`` in every layer (f_t starts near sigma(value)); returns self."""
        Hn = self.hidden_size
        start = 0 if self.coupled else Hn  # f is the first block when coupled
        with torch.no_grad():
            for layer in range(self.num_layers):
                for direction in range(self.num_directions):
                    self.layer_params(layer, direction)["b"][start:start + Hn] = value
        return self

    @classmethod
    def from_torch(cls, lstm: nn.LSTM, *, fused: bool = False) -> "LSTM":
        """A new LSTM with the weights of ``lstm`` (same dtype and device).

        W_x = weight_ih, W_h = weight_hh, b = bias_ih + bias_hh (zeros without
        bias). Always time-major, whatever ``lstm.batch_first`` says.
        """
        if getattr(lstm, "proj_size", 0):
            raise ValueError(f"from_torch: projected LSTMs are not supported, got proj_size={lstm.proj_size}")
        return cls._from_torch(lstm, nn.LSTM, fused=fused)

    def to_torch(self) -> nn.LSTM:
        """A new time-major torch.nn.LSTM computing the same function (bias_ih = b, bias_hh = 0)."""
        if self.peephole or self.coupled or self.residual:
            raise ValueError("to_torch: torch.nn.LSTM has no peephole, coupled or residual variant")
        return self._to_torch(nn.LSTM)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", peephole={self.peephole}, coupled={self.coupled}"
                + (", fused=True" if self.fused else ""))
