"""Sequence classifiers on a recurrent stack: max-over-time scores (chapters 1 and 3).

y_t = W_hy h_t + b_y at every step, and a sequence's class scores are the elementwise maximum over
t, so the evidence for a class may appear anywhere in the sequence.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_positive_int
from .._sequence import check_lengths, length_mask
from .activations import Activation
from .rnn import ElmanRNN
from .stack import RecurrentStack

__all__ = ["MaxOverTimeClassifier", "RNNSequenceClassifier", "gated_classifier"]


class MaxOverTimeClassifier(nn.Module):
    """Sequence classification with max-pooling over time, on any recurrent stack.

    y_t = W_hy h_t + b_y for every t, where h_t (dirs * H) is the last layer's
    output of ``encoder``, and the class scores of a sequence are the
    elementwise maximum over t of y_t, so evidence for a class may appear
    anywhere in the sequence.

    Args:
        encoder: a RecurrentStack (ElmanRNN, LSTM, GRU); kept as ``rnn``.
        num_classes: K.
        generator: a torch.Generator for the initial W_hy, b_y.

    Parameters: those of ``rnn``, ``W_hy`` (K, dirs * H), ``b_y`` (K,), on the
    encoder's device and dtype.
    """

    def __init__(self, encoder: RecurrentStack, num_classes: int, *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if not isinstance(encoder, RecurrentStack):
            raise TypeError(f"encoder: expected an ElmanRNN, LSTM or GRU from seqmodels, "
                            f"got {type(encoder).__name__}")
        check_positive_int("num_classes", num_classes)
        self.rnn = encoder
        self.num_classes = num_classes
        p = next(encoder.parameters())
        d_out = encoder.hidden_size * encoder.num_directions
        self.W_hy = nn.Parameter(torch.empty(num_classes, d_out, device=p.device, dtype=p.dtype))
        self.b_y = nn.Parameter(torch.empty(num_classes, device=p.device, dtype=p.dtype))
        bound = 1.0 / math.sqrt(d_out)
        nn.init.uniform_(self.W_hy, -bound, bound, generator=generator)
        nn.init.uniform_(self.b_y, -bound, bound, generator=generator)

    def scores(self, X: torch.Tensor, h_init=None, lengths=None) -> torch.Tensor:
        """Per-step outputs Y (T, B, K), y_t = W_hy h_t + b_y. Arguments as in ``forward``."""
        H_out, _ = self.rnn(X, h_init, lengths)
        return H_out @ self.W_hy.T + self.b_y

    def forward(self, X: torch.Tensor, h_init=None, lengths=None) -> torch.Tensor:
        """Logits (B, K) = max over t of y_t.

        Args:
            X: (T, B, D). h_init: the encoder's initial state ((L * dirs, B, H),
                a pair (h0, c0) for an LSTM) or None.
            lengths: optional (B,); the maximum is then taken over t < lengths[b] only.
        """
        Y = self.scores(X, h_init, lengths)
        if lengths is not None:
            T, B = X.shape[:2]
            valid = length_mask(check_lengths(lengths, T, B, X.device), T)
            Y = Y.masked_fill(~valid[:, :, None], float("-inf"))
        return Y.max(dim=0).values


def gated_classifier(encoder: RecurrentStack, num_classes: int, *,
                     generator: torch.Generator | None = None) -> MaxOverTimeClassifier:
    """Max-pooling-over-time classifier of chapter 1 around an LSTM or GRU.

    The returned classifier computes y_t = W_hy h_t + b_y and the logits
    max_t y_t exactly as for the Elman RNN; its ``rnn`` is ``encoder``.
    ``generator`` draws the initial W_hy, b_y.
    """
    if not isinstance(encoder, RecurrentStack):
        raise TypeError(f"gated_classifier: expected an LSTM or GRU from seqmodels, got {type(encoder).__name__}")
    return MaxOverTimeClassifier(encoder, num_classes, generator=generator)


class RNNSequenceClassifier(MaxOverTimeClassifier):
    """Sequence classification with max-pooling over time, on an Elman RNN.

    y_t = W_hy h_t + b_y for every t, and the class scores of a sequence are
    the elementwise maximum over t of y_t, so evidence for a class may appear
    anywhere in the sequence (``forward``, ``scores``: see MaxOverTimeClassifier).

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
        check_positive_int("num_classes", num_classes)
        rnn = ElmanRNN(input_size, hidden_size, num_layers, bidirectional, activation,
                       device=device, dtype=dtype, generator=generator)
        super().__init__(rnn, num_classes, generator=generator)
