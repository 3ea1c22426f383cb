"""The fast LSTM path (seqmodels.recurrent): hand-written backward against autograd and torch.nn.LSTM."""

import itertools
import warnings

import pytest
import torch
from torch.testing import assert_close
from _helpers import randn
from test_lstm import check_lstm_matches_torch, random_weights

from seqmodels.recurrent import fused_lstm, fused_lstm_forward, LSTM, lstm_forward


def check_fused_matches_plain(device, compile, T=6, B=3, D=4, Hn=5, seed=0, dtype=torch.float64):
    """Values and all gradients equal those of autograd through the plain lstm_forward."""
    g = torch.Generator().manual_seed(seed)
    args = [t.to(dtype) for t in (randn(g, T, B, D, device=device), randn(g, B, Hn, device=device),
                                  randn(g, B, Hn, device=device), *random_weights(g, D, Hn, device=device))]
    R_H, R_c = randn(g, T, B, Hn, device=device).to(dtype), randn(g, B, Hn, device=device).to(dtype)
    results = []
    for fn in (lstm_forward, lambda *a: fused_lstm_forward(*a, compile=compile)):
        inputs = [a.clone().requires_grad_() for a in args]
        H, C = fn(*inputs)
        grads = torch.autograd.grad((H * R_H).sum() + (C[-1] * R_c).sum(), inputs)
        results.append((H, C, *grads))
    tol = {} if dtype == torch.float64 else {"atol": 1e-4, "rtol": 1e-4}
    for name, plain, fused in zip(["H", "C", "dX", "dh0", "dc0", "dW_x", "dW_h", "db"], *results):
        assert_close(fused, plain, msg=lambda m, name=name: f"{name}: {m}", **tol)


def test_fused_matches_plain_values_and_gradients():
    check_fused_matches_plain("cpu", compile=False)


def test_fused_gradcheck_float64():
    g = torch.Generator().manual_seed(1)
    inputs = [t.requires_grad_() for t in (randn(g, 4, 2, 3), randn(g, 2, 3), randn(g, 2, 3), *random_weights(g, 3, 3))]
    # Outputs H and C both carry gradient into the hand-written backward.
    assert torch.autograd.gradcheck(lambda *a: fused_lstm_forward(*a, compile=False), inputs)


def test_fused_only_final_cell_used():
    """When only C (not H) reaches the loss, the backward receives dH = None and must still be right."""
    g = torch.Generator().manual_seed(2)
    inputs = [t.requires_grad_() for t in (randn(g, 3, 2, 2), randn(g, 2, 2), randn(g, 2, 2), *random_weights(g, 2, 2))]
    assert torch.autograd.gradcheck(lambda *a: fused_lstm_forward(*a, compile=False)[1][-1], inputs)


@pytest.mark.parametrize("num_layers,bidirectional", list(itertools.product([1, 2], [False, True])))
def test_fused_module_matches_torch(num_layers, bidirectional):
    check_lstm_matches_torch("cpu", num_layers, bidirectional, fused=True)


def test_fused_rejects_what_it_does_not_implement():
    with pytest.raises(ValueError, match="plain LSTM only"):
        LSTM(2, 3, peephole=True, fused=True)
    with pytest.raises(ValueError, match="does not support lengths"):
        LSTM(2, 3, fused=True)(torch.zeros(4, 2, 2), lengths=[2, 4])
    with pytest.raises(ValueError, match=r"W_h: expected shape \(4H, H\)"):
        fused_lstm_forward(torch.zeros(4, 2, 2), None, None, torch.zeros(12, 2), torch.zeros(10, 3), torch.zeros(12))


def test_compile_failure_falls_back_to_eager(monkeypatch):
    """A broken compiler must cost speed, never correctness."""
    def broken(*args):
        raise RuntimeError("no compiler here")

    kernels = fused_lstm._Kernels()
    kernels._compiled = {"fwd": broken, "bwd": broken}
    monkeypatch.setattr(fused_lstm, "_KERNELS", kernels)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_fused_matches_plain("cpu", compile=True)
    assert any("torch.compile failed" in str(w.message) for w in caught)
    assert kernels._failed


def test_compile_default_follows_device_and_environment(monkeypatch):
    monkeypatch.delenv("SEQ_LSTM_COMPILE", raising=False)
    assert not fused_lstm.compile_enabled(torch.device("cpu"))
    assert fused_lstm.compile_enabled(torch.device("cuda"))
    monkeypatch.setenv("SEQ_LSTM_COMPILE", "1")
    assert fused_lstm.compile_enabled(torch.device("cpu"))
    monkeypatch.setenv("SEQ_LSTM_COMPILE", "0")
    assert not fused_lstm.compile_enabled(torch.device("cuda"))


@pytest.mark.slow
def test_compiled_cell_on_cpu_matches_plain():
    """Runs the C++ compiler (tens of seconds), hence slow."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # a silent fallback would not test compile
        check_fused_matches_plain("cpu", compile=True, dtype=torch.float32)
