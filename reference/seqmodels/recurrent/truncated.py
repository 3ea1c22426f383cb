r"""Truncated backpropagation through time as a training loop (chapter 2).

A long stream X (T, B, D) is cut into chunks of k steps. For each chunk the
forward pass starts from the state the previous chunk ended in (so the model
still *reads* the whole past), but that state is detached first, so the
backward pass stops at the chunk boundary: the gradient of chunk c's loss
never reaches chunk c-1. The weights are updated after every chunk.

    h = h_init
    for each chunk (X_c, d_c):
        Y_c, h_last = model(X_c, h)
        loss_fn(Y_c, d_c).backward();  clip;  step
        h = h_last.detach()            # carry the value, cut the gradient

The explicit-gradient counterpart is ``seqmodels.recurrent.rnn_bptt(...,
truncate_every=k)``; the tests check that both give the same gradient.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from .._checks import check_nonempty_time, check_positive_int, check_tensor
from .clipping import clip_grad_norm
from .rnn import ElmanRNN

__all__ = ["truncated_bptt", "RNNTagger"]


def truncated_bptt(
    model: nn.Module,
    X: torch.Tensor,
    targets: torch.Tensor,
    chunk_length: int,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer | None = None,
    h_init: torch.Tensor | None = None,
    max_norm: float | None = None,
) -> tuple[list[float], torch.Tensor]:
    """One pass of truncated BPTT over a stream; returns (chunk losses, final state).

    Args:
        model: maps (X_c (k, B, D), h) to (Y_c, h_last), like ``ElmanRNN`` or
            ``RNNTagger``; ``h`` is ``None`` for the first chunk when
            ``h_init`` is ``None``.
        X: (T, B, D) the stream, time-major.
        targets: (T, ...) targets, cut into chunks along dim 0 like X.
        chunk_length: k >= 1; the last chunk is shorter when k does not divide T.
        loss_fn: (Y_c, targets_c) -> scalar loss of one chunk.
        optimizer: after each chunk: ``zero_grad()``, backward, clip, ``step()``.
            ``None``: no update, the gradients of all chunks accumulate in
            ``.grad`` (the truncated gradient of the summed loss).
        h_init: initial state in the format ``model`` expects, or ``None``.
        max_norm: if given, clip the gradient norm of ``model.parameters()``
            to it before each step (``clip_grad_norm``).

    Returns:
        losses: one float per chunk. h_last: the final state (detached).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    dims: dict = {}
    check_tensor("X", X, ("T", "B", "D"), dims)
    if not isinstance(targets, torch.Tensor) or targets.dim() == 0 or targets.shape[0] != X.shape[0]:
        got = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ValueError(f"targets: expected a tensor with the sequence length T = {X.shape[0]} "
                         f"as its first dimension, got {got}")
    check_positive_int("chunk_length", chunk_length)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn: expected a function (Y_c, targets_c) -> loss, got {type(loss_fn).__name__}")

    T = check_nonempty_time("X", X).shape[0]
    h = h_init
    losses: list[float] = []
    for start in range(0, T, chunk_length):
        stop = min(start + chunk_length, T)
        if h is not None:
            h = h.detach()  # the truncation: no gradient flows into the previous chunk
        Y, h = model(X[start:stop], h)
        loss = loss_fn(Y, targets[start:stop])
        if optimizer is not None:
            optimizer.zero_grad()
        loss.backward()
        if optimizer is not None:
            if max_norm is not None:
                clip_grad_norm(model.parameters(), max_norm)
            optimizer.step()
        losses.append(loss.item())
    return losses, h.detach()


class RNNTagger(nn.Module):
    """An ElmanRNN with an output y_t = W_hy h_t + b_y at every step.

    ``forward(X, h_init)`` returns ``(Y, h_last)``: Y (T, B, K) logits and the
    final state (L * dirs, B, H), so it can be used by ``truncated_bptt``.

    Args:
        input_size: D. hidden_size: H. num_outputs: K.
        activation, num_layers: as in ``ElmanRNN``.
        generator: a ``torch.Generator`` for the initial weights (uniform in
            +-1/sqrt(H), as torch.nn.RNN).
    """

    def __init__(self, input_size: int, hidden_size: int, num_outputs: int, num_layers: int = 1,
                 activation="tanh", *, generator: torch.Generator | None = None, dtype=None) -> None:
        super().__init__()
        check_positive_int("num_outputs", num_outputs)
        self.rnn = ElmanRNN(input_size, hidden_size, num_layers, activation=activation, dtype=dtype)
        self.W_hy = nn.Parameter(torch.empty(num_outputs, hidden_size, dtype=dtype))
        self.b_y = nn.Parameter(torch.empty(num_outputs, dtype=dtype))
        bound = 1.0 / math.sqrt(hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.rand(p.shape, generator=generator, dtype=torch.float64) * 2 * bound - bound)

    def forward(self, X: torch.Tensor, h_init: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        H_out, h_last = self.rnn(X, h_init)
        return H_out @ self.W_hy.T + self.b_y, h_last
