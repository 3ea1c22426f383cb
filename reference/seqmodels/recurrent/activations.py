"""Hidden-state nonlinearities f and their derivatives f'.

BPTT needs f'(z_t) at every step. For the three classic choices it is a
function of the output h_t = f(z_t) alone, so the backward pass only has to
keep the hidden states H, not the pre-activations Z:

    tanh:    f'(z) = 1 - h^2
    sigmoid: f'(z) = h (1 - h)
    relu:    f'(z) = 1[h > 0]
"""

from __future__ import annotations

from typing import Callable, Union

import torch

__all__ = ["ACTIVATIONS", "Activation", "derivative_from_output", "resolve_activation"]

Activation = Union[str, Callable[[torch.Tensor], torch.Tensor]]

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
}


def _tanh_grad(h: torch.Tensor) -> torch.Tensor:
    return 1 - h * h


def _sigmoid_grad(h: torch.Tensor) -> torch.Tensor:
    return h * (1 - h)


def _relu_grad(h: torch.Tensor) -> torch.Tensor:
    # At z = 0 the derivative is taken as 0, as torch.relu's backward does.
    return (h > 0).to(h.dtype)


_GRADS_FROM_OUTPUT = {"tanh": _tanh_grad, "sigmoid": _sigmoid_grad, "relu": _relu_grad}


def resolve_activation(activation: Activation) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return f for a name in ``ACTIVATIONS`` or a callable (returned as is)."""
    if callable(activation):
        return activation
    if activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    raise ValueError(
        f"activation: expected one of {', '.join(map(repr, ACTIVATIONS))} or a callable, "
        f"got {activation!r}"
    )


def derivative_from_output(activation: str, h: torch.Tensor) -> torch.Tensor:
    """f'(z) written through h = f(z), elementwise; ``h`` of any shape, same shape out."""
    if activation not in _GRADS_FROM_OUTPUT:
        raise ValueError(
            f"activation: the explicit backward pass supports "
            f"{', '.join(map(repr, _GRADS_FROM_OUTPUT))} (f' written through h_t), "
            f"got {activation!r}"
        )
    return _GRADS_FROM_OUTPUT[activation](h)
