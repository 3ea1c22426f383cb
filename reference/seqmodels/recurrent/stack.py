"""Stacks of recurrent layers: layers, directions, skip connections, padding (chapter 3).

Every recurrent layer of the course is a *scan*: a loop over t that maps a
sequence X (T, B, D_l) and an initial state to the hidden states (T, B, H)
and a final state. What differs between an Elman RNN, an LSTM and a GRU is
the state (h alone, or the pair h, c) and the step. What is the same is how
layers are stacked, how the reverse direction reads the sequence, and how a
right-padded batch is handled; that part lives here, once.

State tensors are laid out as in torch.nn.RNN/LSTM/GRU: (L * dirs, B, H),
index ``layer * dirs + direction``. ``seqmodels.recurrent.classifiers`` puts
chapter 1's max-over-time classifier on any of these stacks.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .._checks import check_nonempty_time, check_positive_int, check_tensor
from .._sequence import check_lengths, gather_time, length_mask, reverse_index

__all__ = ["run_stack", "RecurrentStack"]

State = tuple[torch.Tensor, ...]
#: scan(layer, direction, X_in (T, B, D_l), state0 (each (B, H)), mask (T, B, 1) bool or None)
#:   -> (hidden states (T, B, H), final state (each (B, H)))
Scan = Callable[[int, int, torch.Tensor, State, "torch.Tensor | None"], tuple[torch.Tensor, State]]


def run_stack(
    X: torch.Tensor,
    init_states: State,
    scan: Scan,
    num_layers: int,
    num_directions: int,
    lengths: torch.Tensor | None = None,
    residual: bool = False,
) -> tuple[torch.Tensor, State]:
    """Run ``num_layers`` layers of ``num_directions`` scans over X (no argument checks).

    Args:
        X: (T, B, D) inputs, time-major.
        init_states: one tensor (L * dirs, B, H) per state component
            (``(h0,)`` for an RNN or GRU, ``(h0, c0)`` for an LSTM).
        scan: the recurrent layer, see ``Scan``. With a mask it must carry the
            state over unchanged where the mask is False, so its final state is
            each sequence's state at its own last step.
        lengths: optional (B,) long tensor of true lengths (already checked).
            The reverse direction then starts at each sequence's own end, and
            outputs at padded positions are zero.
        residual: add each layer's input to its output for layers l >= 1
            (their input and output both have dirs * H features).

    Returns:
        H_out: (T, B, dirs * H) the last layer's states, forward direction first.
        final: one tensor (L * dirs, B, H) per state component.
    """
    T, B = X.shape[:2]
    mask = rev = None
    if lengths is not None:
        mask = length_mask(lengths, T)[:, :, None]
        rev = reverse_index(lengths, T)

    def reverse(Y: torch.Tensor) -> torch.Tensor:
        return Y.flip(0) if rev is None else gather_time(Y, rev)

    layer_input, finals = X, []
    for layer in range(num_layers):
        outputs = []
        for direction in range(num_directions):
            k = layer * num_directions + direction
            state0 = tuple(s[k] for s in init_states)
            inp = layer_input if direction == 0 else reverse(layer_input)
            Y, last = scan(layer, direction, inp, state0, mask)
            if direction == 1:
                Y = reverse(Y)
            if mask is not None:
                Y = Y * mask
            outputs.append(Y)
            finals.append(last)
        out = torch.cat(outputs, dim=-1) if num_directions > 1 else outputs[0]
        if residual and layer > 0:
            out = out + layer_input
        layer_input = out
    n = len(init_states)
    return layer_input, tuple(torch.stack([f[i] for f in finals]) for i in range(n))


class RecurrentStack(nn.Module):
    """Base class: parameters per layer and direction, and the forward pass over a stack.

    A subclass sets ``STATE_NAMES`` (e.g. ``("h", "c")``), implements
    ``_layer_shapes(d_in) -> {name: shape}`` for the parameters of one layer,
    and ``_scan(layer, direction, X, state0, mask)``. Parameters are named
    ``<name>_l{layer}`` and ``<name>_l{layer}_reverse`` like torch.nn.LSTM's.
    ``TORCH_NAMES`` maps each name to its torch.nn counterpart for
    ``_from_torch``/``_to_torch``; a pair of torch names means ours is their
    sum (one bias b = b_ih + b_hh).
    """

    STATE_NAMES: tuple[str, ...] = ("h",)
    TORCH_NAMES: dict[str, str | tuple[str, str]] = {}

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, residual: bool = False, *, device=None, dtype=None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        check_positive_int("input_size", input_size)
        check_positive_int("hidden_size", hidden_size)
        check_positive_int("num_layers", num_layers)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.residual = bool(residual)
        self._factory = {"device": device, "dtype": dtype}
        self._generator = generator

    def _build(self) -> None:
        """Create the parameters; subclasses call it at the end of __init__."""
        for layer in range(self.num_layers):
            d_in = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for direction in range(self.num_directions):
                s = self._suffix(layer, direction)
                for name, shape in self._layer_shapes(d_in).items():
                    setattr(self, name + s, nn.Parameter(torch.empty(*shape, **self._factory)))
        del self._factory
        self.reset_parameters(self._generator)
        del self._generator

    def _layer_shapes(self, d_in: int) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def _scan(self, layer, direction, X, state0, mask):
        raise NotImplementedError

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction else "")

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Uniform(-1/sqrt(H), 1/sqrt(H)) for every parameter, as torch.nn.RNN/LSTM/GRU."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound, generator=generator)

    def layer_params(self, layer: int, direction: int = 0) -> dict[str, torch.Tensor]:
        """The parameters of one layer and direction (0 forward, 1 reverse), by math name.

        The dict is ordered as the step's equation names them (ElmanRNN: W_xh, W_hh, b_h), so
        ``W_xh, W_hh, b_h = rnn.layer_params(0).values()`` unpacks it.
        """
        if not 0 <= layer < self.num_layers or direction not in range(self.num_directions):
            raise ValueError(f"layer_params: no layer {layer}, direction {direction} in {self!r}")
        s = self._suffix(layer, direction)
        return {name: getattr(self, name + s) for name in self._layer_shapes(1)}

    def _torch_pairs(self):
        """(our parameter, torch names with suffix) for every layer, direction and name."""
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                s = self._suffix(layer, direction)
                for name, p in self.layer_params(layer, direction).items():
                    theirs = self.TORCH_NAMES[name]
                    yield p, [t + s for t in ((theirs,) if isinstance(theirs, str) else theirs)]

    @classmethod
    def _from_torch(cls, module: nn.Module, torch_cls: type, **kwargs) -> "RecurrentStack":
        """A new model with the weights of ``module`` (a ``torch_cls``), same dtype and device.

        Biases are zero when ``module`` has none. Always time-major, whatever
        ``module.batch_first`` says. ``kwargs`` go to the constructor.
        """
        if not isinstance(module, torch_cls):
            raise TypeError(f"from_torch: expected a torch.nn.{torch_cls.__name__}, got {type(module).__name__}")
        if module.dropout:
            raise ValueError(f"from_torch: {cls.__name__} has no dropout between layers, got an "
                             f"nn.{torch_cls.__name__} with dropout={module.dropout}")
        ref = module.weight_ih_l0
        model = cls(module.input_size, module.hidden_size, module.num_layers, module.bidirectional,
                    device=ref.device, dtype=ref.dtype, **kwargs)
        with torch.no_grad():
            for p, theirs in model._torch_pairs():
                if theirs[0].startswith("bias") and not module.bias:
                    p.zero_()
                else:
                    p.copy_(sum(getattr(module, t) for t in theirs))
        return model

    def _to_torch(self, torch_cls: type, **kwargs) -> nn.Module:
        """A new time-major ``torch_cls`` computing the same function.

        Where one of our biases is the sum of two torch biases, the first gets
        it and the second is zero. ``kwargs`` go to the torch constructor.
        """
        W0 = next(self.parameters())
        module = torch_cls(self.input_size, self.hidden_size, self.num_layers, bias=True,
                           batch_first=False, bidirectional=self.bidirectional,
                           device=W0.device, dtype=W0.dtype, **kwargs)
        with torch.no_grad():
            for p, (first, *rest) in self._torch_pairs():
                getattr(module, first).copy_(p)
                for t in rest:
                    getattr(module, t).zero_()
        return module

    def forward(self, X, state_init=None, lengths: Sequence[int] | torch.Tensor | None = None):
        """Run all layers and directions.

        Args:
            X: (T, B, D) inputs, time-major, or a PackedSequence (then the
                output is packed too and ``lengths`` must be None).
            state_init: initial state, (L * dirs, B, H) per state component:
                a tensor for one component (RNN, GRU), a tuple ``(h0, c0)``
                for an LSTM; ``None`` means zeros.
            lengths: optional (B,) true lengths in [1, T] of a right-padded
                batch; padding then influences nothing (the same as packing).

        Returns:
            H_out: (T, B, dirs * H) states of the last layer.
            final: the final state of every layer and direction, (L * dirs, B, H)
                per component, shaped like ``state_init``; for the reverse
                direction it is the state after reading t = 0.
        """
        packed = isinstance(X, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError("lengths: pass either a PackedSequence or lengths, not both")
            X, lengths = pad_packed_sequence(X)
        first_name, first = next(self.named_parameters())
        name = type(self).__name__
        dims: dict = {"D": (self.input_size, f"{name}.input_size"),
                      "H": (self.hidden_size, f"{name}.hidden_size")}
        check_tensor("X", X, ("T", "B", "D"), dims, like=(first_name, first))
        check_nonempty_time("X", X)
        T, B, _ = X.shape
        n_states = self.num_layers * self.num_directions
        init = self._check_state(state_init, n_states, B, X, dims)
        if lengths is not None:
            lengths = check_lengths(lengths, T, B, X.device)
        H_out, final = run_stack(X, init, self._scan, self.num_layers, self.num_directions,
                                 lengths, self.residual)
        if packed:
            H_out = pack_padded_sequence(H_out, lengths.cpu(), enforce_sorted=False)
        return H_out, (final if len(final) > 1 else final[0])

    def _check_state(self, state_init, n_states: int, B: int, X, dims) -> State:
        names = self.STATE_NAMES
        if state_init is None:
            return tuple(X.new_zeros(n_states, B, self.hidden_size) for _ in names)
        if len(names) == 1:
            state_init = (state_init,)
        elif not isinstance(state_init, (tuple, list)) or len(state_init) != len(names):
            raise TypeError(
                f"state_init: expected a tuple ({', '.join(n + '0' for n in names)}) of tensors "
                f"(L * dirs, B, H), got {type(state_init).__name__}"
            )
        for name, s in zip(names, state_init):
            check_tensor(name + "0" if len(names) > 1 else "h_init", s, (n_states, "B", "H"), dims,
                         like=("X", X))
        return tuple(state_init)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, bidirectional={self.bidirectional}, "
                f"residual={self.residual}")
