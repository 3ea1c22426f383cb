r"""A fast LSTM layer: hoisted matrix products, a hand-written backward, fused cell.

Where the time goes in the plain LSTM (``seqmodels.recurrent``): per step, two
matrix products, a dozen small elementwise kernels, and in the backward pass
autograd replays all of them one by one and adds every weight gradient step by
step. On a GPU at batch 64 the elementwise kernels are each far too small to
fill the device, so the cost is kernel launches and memory round trips.

This module does what cuDNN does, in three moves:

1. The input projection does not depend on h, so it is taken out of the loop:
   ``A_x = X @ W_x.T + b`` is one (T*B, D) x (D, 4H) product for all steps. Only
   ``h_{t-1} @ W_h.T`` stays inside the loop.
2. The backward pass is written out (BPTT for the LSTM, below). The loop only
   carries dh and dc back; the weight gradients are one product each after the
   loop: dW_h = dA^T [h_{-1}, ..., h_{T-2}], dW_x = dA^T X, db = sum dA,
   dX = dA W_x, with dA (T, B, 4H) the gradients of the gate pre-activations.
3. The elementwise part of one step (forward: gates, c_t, h_t; backward: the
   local derivatives) is one function, compiled by ``torch.compile`` into a
   single kernel (Triton on CUDA, C++ on CPU). If compilation is unavailable or
   fails, the same function runs eagerly, so the result never depends on it.

Why torch.compile and not TorchScript or hand-written Triton: TorchScript is in
maintenance mode; a Triton kernel would run on NVIDIA GPUs only and could not be
tested on the CPU machines that build this course, whereas the compiled
function and its eager fallback are the same Python code, tested here against
autograd (gradcheck in float64) and torch.nn.LSTM.

Backward of one step, with a = the pre-activations, i, f, g, o the gates and
dh, dc the total gradients reaching h_t and c_t:

    do = dh * tanh(c_t)
    dc = dc + dh * o * (1 - tanh(c_t)^2)       (c_t reaches the loss two ways)
    di = dc * g,  df = dc * c_{t-1},  dg = dc * i
    da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)]
    dc_{t-1} = dc * f                          (the additive cell path)
    dh_{t-1} = da @ W_h
"""

from __future__ import annotations

import os
import warnings

import torch

from .._checks import check_nonempty_time, check_tensor

__all__ = ["fused_lstm_forward", "compile_enabled"]


def _cell_forward(a: torch.Tensor, c_prev: torch.Tensor):
    """a (B, 4H) pre-activations, c_prev (B, H) -> h, c (B, H), gates (B, 4H) = [i, f, g, o]."""
    i, f, g, o = a.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c_prev + i * g
    h = o * torch.tanh(c)
    return h, c, torch.cat([i, f, g, o], dim=-1)


def _cell_backward(dh_out, dh_next, dc_next, gates, c, c_prev):
    """Local backward of one step. dh_out: direct gradient on h_t (or zeros);
    dh_next, dc_next: gradients carried from step t+1. Returns da (B, 4H), dc_prev (B, H)."""
    i, f, g, o = gates.chunk(4, dim=-1)
    dh = dh_out + dh_next
    tc = torch.tanh(c)
    do = dh * tc
    dc = dc_next + dh * o * (1 - tc * tc)
    da = torch.cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                    dc * i * (1 - g * g), do * o * (1 - o)], dim=-1)
    return da, dc * f


class _Kernels:
    """The two elementwise functions, compiled on first use when enabled; eager otherwise."""

    def __init__(self) -> None:
        self._compiled: dict = {}
        self._failed = False

    def get(self, use_compile: bool):
        if not use_compile or self._failed:
            return _cell_forward, _cell_backward
        if not self._compiled:
            self._compiled = {
                "fwd": torch.compile(_cell_forward, dynamic=False, fullgraph=True),
                "bwd": torch.compile(_cell_backward, dynamic=False, fullgraph=True),
            }
        return self._compiled["fwd"], self._compiled["bwd"]

    def fail(self, err: Exception) -> None:
        self._failed = True
        warnings.warn(f"fused_lstm: torch.compile failed ({type(err).__name__}: {err}); "
                      f"using the eager elementwise functions instead", RuntimeWarning, stacklevel=3)


_KERNELS = _Kernels()


def compile_enabled(device: torch.device) -> bool:
    """Whether the elementwise cell is compiled on ``device``.

    SEQ_LSTM_COMPILE=1 or 0 decides; by default compile on CUDA only (on CPU
    the first call would spend many seconds in the C++ compiler, and the
    hoisted products are most of the gain there).
    """
    env = os.environ.get("SEQ_LSTM_COMPILE")
    if env in ("0", "1"):
        return env == "1"
    return device.type == "cuda"


def _call(which: int, use_compile: bool, *args):
    fn = _KERNELS.get(use_compile)[which]
    if fn is _cell_forward or fn is _cell_backward:
        return fn(*args)
    try:
        return fn(*args)
    except Exception as err:  # compilation problems surface at the first call
        _KERNELS.fail(err)
        return (_cell_forward, _cell_backward)[which](*args)


class _FusedLSTM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, h0, c0, W_x, W_h, b, use_compile):
        T, B, D = X.shape
        G = W_h.shape[0]
        A_x = torch.addmm(b, X.reshape(T * B, D), W_x.T).view(T, B, G)  # move 1
        h, c = h0, c0
        Hs, Cs, gates = [], [], []
        for t in range(T):
            h, c, act = _call(0, use_compile, torch.addmm(A_x[t], h, W_h.T), c)
            Hs.append(h)
            Cs.append(c)
            gates.append(act)
        H, C, Gt = torch.stack(Hs), torch.stack(Cs), torch.stack(gates)
        ctx.save_for_backward(X, h0, c0, W_x, W_h, H, C, Gt)
        ctx.use_compile = use_compile
        ctx.set_materialize_grads(False)
        return H, C

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dH, dC):
        X, h0, c0, W_x, W_h, H, C, Gt = ctx.saved_tensors
        T, B, D = X.shape
        Hn = h0.shape[1]
        dh_next, dc_next = torch.zeros_like(h0), torch.zeros_like(c0)
        zeros = torch.zeros_like(h0)
        dA = []
        for t in reversed(range(T)):
            dc_carry = dc_next if dC is None else dc_next + dC[t]
            c_prev = C[t - 1] if t > 0 else c0
            da, dc_next = _call(1, ctx.use_compile, zeros if dH is None else dH[t],
                                dh_next, dc_carry, Gt[t], C[t], c_prev)
            dh_next = da @ W_h
            dA.append(da)
        dA = torch.stack(dA[::-1]).view(T * B, -1)                       # move 2
        H_prev = torch.cat([h0[None], H[:-1]]).view(T * B, Hn)
        dW_h = dA.T @ H_prev
        dW_x = dA.T @ X.reshape(T * B, D)
        db = dA.sum(0)
        dX = (dA @ W_x).view(T, B, D)
        return dX, dh_next, dc_next, dW_x, dW_h, db, None


def fused_lstm_forward(
    X: torch.Tensor,
    h_init: torch.Tensor | None,
    c_init: torch.Tensor | None,
    W_x: torch.Tensor,
    W_h: torch.Tensor,
    b: torch.Tensor,
    *,
    compile: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One plain LSTM layer, same function as ``seqmodels.recurrent.lstm_forward``, faster.

    Args:
        X: (T, B, D). h_init, c_init: (B, H) or None for zeros.
        W_x: (4H, D), W_h: (4H, H), b: (4H,), gate blocks i, f, g, o.
        compile: compile the elementwise cell with torch.compile; ``None``
            means ``compile_enabled(X.device)``.

    Returns:
        H, C: (T, B, H) each. Differentiable in every tensor argument (first
        order; the backward pass is the hand-written one above).
    """
    dims: dict = {}
    check_tensor("X", X, ("T", "B", "D"), dims)
    check_nonempty_time("X", X)
    check_tensor("W_h", W_h, (None, None), like=("X", X))
    if W_h.shape[0] % 4:
        raise ValueError(f"W_h: expected shape (4H, H) with gates i, f, g, o, got {tuple(W_h.shape)}")
    Hn = W_h.shape[0] // 4
    dims["H"] = (Hn, "W_h")
    check_tensor("W_x", W_x, (4 * Hn, "D"), dims, like=("X", X))
    check_tensor("W_h", W_h, (4 * Hn, "H"), dims, like=("X", X))
    check_tensor("b", b, (4 * Hn,), dims, like=("X", X))
    B = X.shape[1]
    h_init = X.new_zeros(B, Hn) if h_init is None else h_init
    c_init = X.new_zeros(B, Hn) if c_init is None else c_init
    check_tensor("h_init", h_init, ("B", "H"), dims, like=("X", X))
    check_tensor("c_init", c_init, ("B", "H"), dims, like=("X", X))
    use_compile = compile_enabled(X.device) if compile is None else bool(compile)
    return _FusedLSTM.apply(X.contiguous(), h_init.contiguous(), c_init.contiguous(),
                            W_x, W_h, b, use_compile)
