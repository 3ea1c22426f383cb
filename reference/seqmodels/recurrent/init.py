r"""Initializations of the recurrent weights that keep |lambda_max(W_hh)| = 1 (chapter 2).

A linear RNN multiplies the state by W_hh at every step, so after n steps a
component along an eigenvector is scaled by lambda^n: it explodes when
|lambda| > 1 and is forgotten when |lambda| < 1. Two choices start training
on the edge between the two:

* identity (IRNN, Le, Jaitly and Hinton 2015): W_hh = I, b_h = 0, with ReLU.
  At the start the RNN copies its state and adds the input.
* orthogonal (Saxe et al. 2014): W_hh = Q with Q^T Q = I, so every
  eigenvalue has |lambda| = 1 and every singular value is 1: the state is
  rotated, never shrunk or stretched.

Both functions take a ``torch.Generator`` where randomness is involved.
"""

from __future__ import annotations

import torch

from .._checks import check_positive_int
from .rnn import ElmanRNN

__all__ = ["identity_matrix", "orthogonal_matrix", "init_recurrent_"]


def identity_matrix(hidden_size: int, gain: float = 1.0, *, dtype=None, device=None) -> torch.Tensor:
    """gain * I, (H, H): the IRNN's W_hh."""
    check_positive_int("hidden_size", hidden_size)
    return gain * torch.eye(hidden_size, dtype=dtype, device=device)


def orthogonal_matrix(hidden_size: int, gain: float = 1.0, *, generator: torch.Generator | None = None,
                      dtype=None, device=None) -> torch.Tensor:
    """gain * Q for a random orthogonal Q (H, H), uniformly distributed (Haar measure).

    Q comes from the QR decomposition of a Gaussian matrix; multiplying its
    columns by the signs of diag(R) makes the decomposition unique and the
    distribution uniform (Mezzadri 2007), as torch.nn.init.orthogonal_ does.
    """
    check_positive_int("hidden_size", hidden_size)
    A = torch.randn(hidden_size, hidden_size, generator=generator, dtype=torch.float64)
    Q, R = torch.linalg.qr(A)
    signs = torch.sign(torch.diagonal(R))
    signs[signs == 0] = 1.0
    Q = Q * signs
    return (gain * Q).to(dtype=dtype or torch.get_default_dtype(), device=device)


def init_recurrent_(rnn, scheme: str, gain: float = 1.0, *, generator: torch.Generator | None = None,
                    input_std: float | None = None):
    """Set W_hh of every layer and direction of an ``ElmanRNN`` in place; return ``rnn``.

    Args:
        rnn: a ``seqmodels.recurrent.ElmanRNN`` (parameters ``W_hh_l{l}[_reverse]``, ...).
        scheme: "identity" (W_hh = gain I and b_h = 0: the IRNN when the
            activation is ReLU) or "orthogonal" (W_hh = gain Q, a random
            orthogonal Q; b_h is left as it is).
        gain: scale of W_hh, so |lambda_max| = gain.
        generator: for "orthogonal" and for ``input_std``.
        input_std: if given, also redraw W_xh from N(0, input_std^2) (the IRNN
            paper uses small input weights).
    """
    if scheme not in ("identity", "orthogonal"):
        raise ValueError(f"scheme: expected 'identity' or 'orthogonal', got {scheme!r}")
    if not isinstance(rnn, ElmanRNN):
        raise TypeError(f"rnn: expected a seqmodels.recurrent.ElmanRNN (these schemes set W_hh of a plain RNN), "
                        f"got {type(rnn).__name__}; for an LSTM or GRU set its weights through layer_params()")
    with torch.no_grad():
        for layer in range(rnn.num_layers):
            for direction in range(rnn.num_directions):
                W_xh, W_hh, b_h = rnn.layer_params(layer, direction).values()
                H = W_hh.shape[0]
                if scheme == "identity":
                    W_hh.copy_(identity_matrix(H, gain, dtype=W_hh.dtype, device=W_hh.device))
                    b_h.zero_()
                else:
                    W_hh.copy_(orthogonal_matrix(H, gain, generator=generator,
                                                 dtype=W_hh.dtype, device=W_hh.device))
                if input_std is not None:
                    noise = torch.randn(W_xh.shape, generator=generator, dtype=torch.float64)
                    W_xh.copy_(input_std * noise)
    return rnn
