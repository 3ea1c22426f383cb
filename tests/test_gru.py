"""GRU (seqmodels.recurrent) against torch.nn.GRU, brute force and gradcheck.

The check_* helpers take a device so test_lstm_gpu.py runs the same comparisons on CUDA.
"""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.testing import assert_close
from _helpers import randn, randomize_
from test_lstm import sigma

from seqmodels.recurrent import gated_classifier, GRU, gru_cell, gru_forward

F64 = torch.float64


def random_gru_weights(g, D, Hn):
    return (randn(g, 3 * Hn, D, scale=0.5), randn(g, 3 * Hn, Hn, scale=0.5),
            randn(g, 3 * Hn, scale=0.5), randn(g, 3 * Hn, scale=0.5))


def brute_force_gru(X, h, W_x, W_h, b_x, b_h, reset_after=True):
    """The GRU equations of the book, one sequence and one column vector at a time."""
    T, B, _ = X.shape
    Hn = W_h.shape[1]
    blk = {"r": slice(0, Hn), "z": slice(Hn, 2 * Hn), "n": slice(2 * Hn, 3 * Hn)}
    out = torch.empty(T, B, Hn, dtype=X.dtype)
    for n in range(B):
        h_t = h[n]
        for t in range(T):
            x = X[t, n]
            r = sigma(W_x[blk["r"]] @ x + b_x[blk["r"]] + W_h[blk["r"]] @ h_t + b_h[blk["r"]])
            z = sigma(W_x[blk["z"]] @ x + b_x[blk["z"]] + W_h[blk["z"]] @ h_t + b_h[blk["z"]])
            if reset_after:
                cand = torch.tanh(W_x[blk["n"]] @ x + b_x[blk["n"]] + r * (W_h[blk["n"]] @ h_t + b_h[blk["n"]]))
            else:
                cand = torch.tanh(W_x[blk["n"]] @ x + b_x[blk["n"]] + W_h[blk["n"]] @ (r * h_t) + b_h[blk["n"]])
            h_t = (1 - z) * cand + z * h_t      # PyTorch: z weighs the old state
            out[t, n] = h_t
    return out


def check_gru_matches_torch(device, num_layers, bidirectional, T=4, B=3, D=3, H=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    gru = randomize_(nn.GRU(D, H, num_layers, bidirectional=bidirectional, device=device, dtype=F64), g)
    model = GRU.from_torch(gru)
    dirs = 2 if bidirectional else 1
    X = randn(g, T, B, D, device=device)
    h0 = randn(g, num_layers * dirs, B, H, device=device)
    R_out, R_h = randn(g, T, B, dirs * H, device=device), randn(g, num_layers * dirs, B, H, device=device)
    results = []
    for net in (gru, model):
        X_, h0_ = X.clone().requires_grad_(), h0.clone().requires_grad_()
        out, h_n = net(X_, h0_)
        ((out * R_out).sum() + (h_n * R_h).sum()).backward()
        results.append((out, h_n, X_.grad, h0_.grad))
    for name, theirs, ours in zip(["H_out", "h_n", "dX", "dh0"], *results):
        assert_close(ours, theirs, msg=name)
    names = {"W_x": "weight_ih", "W_h": "weight_hh", "b_x": "bias_ih", "b_h": "bias_hh"}
    for layer in range(num_layers):
        for direction in range(dirs):
            s = f"_l{layer}" + ("_reverse" if direction else "")
            for ours, p in model.layer_params(layer, direction).items():
                assert_close(p.grad, getattr(gru, names[ours] + s).grad, msg=ours + s)


def check_gru_lengths_match_packed(device, seed=2):
    g = torch.Generator().manual_seed(seed)
    T, B, D, H, L = 6, 4, 3, 5, 2
    gru = randomize_(nn.GRU(D, H, L, bidirectional=True, device=device, dtype=F64), g)
    model = GRU.from_torch(gru)
    lengths = torch.tensor([3, 6, 1, 4])
    X, h0 = randn(g, T, B, D, device=device), randn(g, 2 * L, B, H, device=device)
    out_packed, h_n = gru(pack_padded_sequence(X, lengths, enforce_sorted=False), h0)
    expected, _ = pad_packed_sequence(out_packed, total_length=T)
    got, h_last = model(X, h0, lengths=lengths)
    assert_close(got, expected)
    assert_close(h_last, h_n)


def test_gru_forward_is_the_equations_both_conventions():
    g = torch.Generator().manual_seed(0)
    W_x, W_h, b_x, b_h = random_gru_weights(g, 3, 4)
    X, h0 = randn(g, 4, 2, 3), randn(g, 2, 4)
    for reset_after in (True, False):
        H = gru_forward(X, h0, W_x, W_h, b_x, b_h, reset_after=reset_after)
        assert H.shape == (4, 2, 4)
        assert_close(H, brute_force_gru(X, h0, W_x, W_h, b_x, b_h, reset_after))
        assert_close(gru_cell(X[0], h0, W_x, W_h, b_x, b_h, reset_after=reset_after), H[0])
    # The two conventions are different functions.
    assert not torch.allclose(gru_forward(X, h0, W_x, W_h, b_x, b_h, reset_after=False),
                              gru_forward(X, h0, W_x, W_h, b_x, b_h))


def test_gru_cell_matches_torch_gru_cell():
    g = torch.Generator().manual_seed(1)
    cell = randomize_(nn.GRUCell(3, 4, dtype=F64), g)
    x, h = randn(g, 2, 3), randn(g, 2, 4)
    assert_close(gru_cell(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh), cell(x, h))


def test_update_gate_one_keeps_the_state():
    """PyTorch's convention: z_t = 1 copies h_{t-1} (and its gradient) unchanged."""
    g = torch.Generator().manual_seed(2)
    Hn = 3
    W_x, W_h, b_x, b_h = random_gru_weights(g, 2, Hn)
    with torch.no_grad():
        b_x[Hn:2 * Hn] = 60.0
    h0 = randn(g, 1, Hn).requires_grad_()
    H = gru_forward(randn(g, 15, 1, 2), h0, W_x, W_h, b_x, b_h)
    assert_close(H[-1], h0.detach())
    (dh0,) = torch.autograd.grad(H[-1].sum(), h0)
    assert_close(dh0, torch.ones_like(dh0))


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_forward_gradcheck_float64(reset_after):
    g = torch.Generator().manual_seed(3)
    inputs = [t.requires_grad_() for t in (randn(g, 3, 2, 2), randn(g, 2, 3), *random_gru_weights(g, 2, 3))]
    assert torch.autograd.gradcheck(lambda *a: gru_forward(*a, reset_after=reset_after), inputs)


@pytest.mark.parametrize("num_layers,bidirectional", list(itertools.product([1, 2, 3], [False, True])))
def test_gru_matches_torch_outputs_and_gradients(num_layers, bidirectional):
    check_gru_matches_torch("cpu", num_layers, bidirectional)


def test_gru_lengths_match_packed_sequence():
    check_gru_lengths_match_packed("cpu")


def test_gru_round_trip_and_parameter_count():
    g = torch.Generator().manual_seed(4)
    model = randomize_(GRU(3, 4, 2, bidirectional=True, dtype=F64), g)
    X = randn(g, 5, 2, 3)
    assert_close(model.to_torch()(X)[0], model(X)[0])
    back = GRU.from_torch(model.to_torch())
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), back.named_parameters()):
        assert n1 == n2
        assert_close(p1, p2)
    D, Hn = 7, 5
    assert sum(p.numel() for p in GRU(D, Hn).parameters()) == 3 * (Hn * (D + Hn) + 2 * Hn)
    assert sum(p.numel() for p in GRU(D, Hn).parameters()) == sum(p.numel() for p in nn.GRU(D, Hn).parameters())


def test_gru_residual_and_classifier():
    g = torch.Generator().manual_seed(5)
    m = randomize_(GRU(2, 3, num_layers=2, residual=True, reset_after=False, dtype=F64), g)
    X = randn(g, 4, 2, 2)
    p0, p1 = m.layer_params(0), m.layer_params(1)
    H0 = gru_forward(X, None, *p0.values(), reset_after=False)
    H1 = gru_forward(H0, None, *p1.values(), reset_after=False) + H0
    assert_close(m(X)[0], H1)
    clf = gated_classifier(m, 2)
    assert_close(clf(X), (H1 @ clf.W_hy.T + clf.b_y).max(0).values)


def test_gru_errors():
    g = torch.Generator().manual_seed(6)
    W_x, W_h, b_x, b_h = random_gru_weights(g, 3, 4)
    x, h = randn(g, 2, 3), randn(g, 2, 4)
    with pytest.raises(ValueError, match=r"b_h: expected shape \(12,\).*3 gates \(r, z, n\)"):
        gru_cell(x, h, W_x, W_h, b_x, b_h[:8])
    with pytest.raises(ValueError, match=r"h_prev: expected shape \(B, H\) = \(2, \?\)|h_prev: expected shape \(B, H\) = \(2, 4\)"):
        gru_cell(x, h[:1], W_x, W_h, b_x, b_h)
    with pytest.raises(TypeError, match="expected a torch.nn.GRU, got LSTM"):
        GRU.from_torch(nn.LSTM(2, 3))
    with pytest.raises(ValueError, match="reset-before"):
        GRU(2, 3, reset_after=False).to_torch()
    with pytest.raises(ValueError, match=r"h_init: expected shape \(1, B, H\) = \(1, 2, 3\)"):
        GRU(2, 3)(torch.zeros(4, 2, 2), torch.zeros(1, 2, 4))
