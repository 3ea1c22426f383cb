r"""Gradient norm clipping (Pascanu, Mikolov and Bengio, 2013).

    g <- dL/dtheta (all parameters together)
    if ||g|| >= threshold:  g <- (threshold / ||g||) g

The direction of the step is kept and only its length is bounded, so a step
taken at a "cliff" of the loss surface (where the gradient is huge) does not
throw the parameters far away. ``clip_grad_norm`` computes exactly what
``torch.nn.utils.clip_grad_norm_`` computes, including its small epsilon in
the denominator, its behaviour on all-zero gradients (unchanged) and on
non-finite norms (an error on request, otherwise the scale is applied as is).
"""

from __future__ import annotations

import math
from typing import Iterable

import torch

__all__ = ["clip_grad_norm"]


def clip_grad_norm(
    parameters: torch.Tensor | Iterable[torch.Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> torch.Tensor:
    """Rescale the ``.grad`` of ``parameters`` in place so that their joint norm is at most ``max_norm``.

    Args:
        parameters: a tensor or an iterable of tensors; those whose ``.grad`` is
            ``None`` are skipped.
        max_norm: the threshold (> 0 for clipping to have an effect; >= 0).
        norm_type: p of the p-norm over all gradient entries together; ``inf``
            for the largest absolute entry.
        error_if_nonfinite: raise ``RuntimeError`` when the total norm is nan
            or inf instead of scaling by a nan/zero factor.

    Returns:
        The total norm of the gradients *before* clipping (0-dim tensor).
    """
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if math.isnan(max_norm) or max_norm < 0:
        raise ValueError(f"max_norm: expected a number >= 0, got {max_norm}")
    if math.isnan(norm_type) or norm_type <= 0:
        raise ValueError(f"norm_type: expected a positive number or inf, got {norm_type}")
    if not grads:
        return torch.tensor(0.0)

    # Norm of the per-tensor norms = norm over all entries together.
    device = grads[0].device  # the total is reported on the first gradient's device, as torch does
    per_tensor = torch.stack([torch.linalg.vector_norm(g.detach(), norm_type).to(device) for g in grads])
    total_norm = torch.linalg.vector_norm(per_tensor, norm_type)
    if error_if_nonfinite and not torch.isfinite(total_norm):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    # The epsilon avoids 0/0 when every gradient is zero; the clamp leaves small gradients alone.
    scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    for g in grads:
        g.detach().mul_(scale.to(device=g.device, dtype=g.dtype))
    return total_norm
