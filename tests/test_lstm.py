"""LSTM (seqmodels.recurrent, seqmodels.recurrent) against torch.nn.LSTM, brute force and gradcheck.

The check_* helpers take a device so test_lstm_gpu.py runs the same comparisons on CUDA.
"""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.testing import assert_close
from _helpers import randn, randomize_

from seqmodels.recurrent import gate_names, gated_classifier, LSTM, lstm_cell, lstm_forward

F64 = torch.float64


def sigma(x):
    return 1 / (1 + torch.exp(-x))


def brute_force_lstm(X, h, c, W_x, W_h, b, w_ci=None, w_cf=None, w_co=None, coupled=False):
    """The gate equations of the book, one sequence and one column vector at a time."""
    T, B, _ = X.shape
    Hn = W_h.shape[1]
    blocks = dict(zip(gate_names(coupled), range(len(gate_names(coupled)))))

    def W(M, gate):
        k = blocks[gate]
        return M[k * Hn:(k + 1) * Hn]

    Hs, Cs = torch.empty(T, B, Hn, dtype=X.dtype), torch.empty(T, B, Hn, dtype=X.dtype)
    zero = torch.zeros(Hn, dtype=X.dtype)
    w_ci, w_cf, w_co = (zero if w is None else w for w in (w_ci, w_cf, w_co))
    for n in range(B):
        h_t, c_t = h[n], c[n]
        for t in range(T):
            x = X[t, n]

            def pre(gate):
                return W(W_x, gate) @ x + W(W_h, gate) @ h_t + W(b, gate)

            f = sigma(pre("f") + w_cf * c_t)
            i = 1 - f if coupled else sigma(pre("i") + w_ci * c_t)
            g_ = torch.tanh(pre("g"))
            c_t = f * c_t + i * g_
            o = sigma(pre("o") + w_co * c_t)
            h_t = o * torch.tanh(c_t)
            Hs[t, n], Cs[t, n] = h_t, c_t
    return Hs, Cs


def random_weights(g, D, Hn, G=4, device="cpu"):
    return (randn(g, G * Hn, D, device=device, scale=0.5), randn(g, G * Hn, Hn, device=device, scale=0.5),
            randn(g, G * Hn, device=device, scale=0.5))


# ---------------------------------------------------------------- helpers shared with the GPU tests


def check_lstm_matches_torch(device, num_layers, bidirectional, T=4, B=3, D=3, H=5, seed=1, fused=False):
    """Outputs, final states and every gradient equal nn.LSTM's with copied weights."""
    g = torch.Generator().manual_seed(seed)
    lstm = randomize_(nn.LSTM(D, H, num_layers, bidirectional=bidirectional, device=device, dtype=F64), g)
    model = LSTM.from_torch(lstm, fused=fused)
    dirs = 2 if bidirectional else 1
    X = randn(g, T, B, D, device=device)
    h0, c0 = randn(g, num_layers * dirs, B, H, device=device), randn(g, num_layers * dirs, B, H, device=device)
    R_out, R_h, R_c = (randn(g, *s, device=device) for s in
                       [(T, B, dirs * H), (num_layers * dirs, B, H), (num_layers * dirs, B, H)])
    results = []
    for net in (lstm, model):
        X_, h0_, c0_ = (t.clone().requires_grad_() for t in (X, h0, c0))
        out, (h_n, c_n) = net(X_, (h0_, c0_))
        # A random linear loss reaches every output and final state with a distinct weight.
        ((out * R_out).sum() + (h_n * R_h).sum() + (c_n * R_c).sum()).backward()
        results.append((out, h_n, c_n, X_.grad, h0_.grad, c0_.grad))
    assert results[1][0].shape == (T, B, dirs * H)
    for name, theirs, ours in zip(["H_out", "h_n", "c_n", "dX", "dh0", "dc0"], *results):
        assert_close(ours, theirs, msg=name)
    for layer in range(num_layers):
        for direction in range(dirs):
            s = f"_l{layer}" + ("_reverse" if direction else "")
            p = model.layer_params(layer, direction)
            assert_close(p["W_x"].grad, getattr(lstm, "weight_ih" + s).grad, msg=f"W_x{s}")
            assert_close(p["W_h"].grad, getattr(lstm, "weight_hh" + s).grad, msg=f"W_h{s}")
            # b = b_ih + b_hh, so its gradient equals each of theirs.
            assert_close(p["b"].grad, getattr(lstm, "bias_ih" + s).grad, msg=f"b{s}")
            assert_close(p["b"].grad, getattr(lstm, "bias_hh" + s).grad, msg=f"b{s}")


def check_lstm_lengths_match_packed(device, seed=2):
    g = torch.Generator().manual_seed(seed)
    T, B, D, H, L = 6, 4, 3, 5, 2
    lstm = randomize_(nn.LSTM(D, H, L, bidirectional=True, device=device, dtype=F64), g)
    model = LSTM.from_torch(lstm)
    lengths = torch.tensor([3, 6, 1, 4])
    X = randn(g, T, B, D, device=device)
    h0, c0 = randn(g, 2 * L, B, H, device=device), randn(g, 2 * L, B, H, device=device)
    packed = pack_padded_sequence(X, lengths, enforce_sorted=False)
    out_packed, (h_n, c_n) = lstm(packed, (h0, c0))
    expected, _ = pad_packed_sequence(out_packed, total_length=T)
    got, (h_last, c_last) = model(X, (h0, c0), lengths=lengths)
    assert_close(got, expected)
    assert_close(h_last, h_n)
    assert_close(c_last, c_n)
    # A PackedSequence goes in, a PackedSequence comes out.
    ours_packed, (h_p, _) = model(packed, (h0, c0))
    assert_close(pad_packed_sequence(ours_packed, total_length=T)[0], expected)
    assert_close(h_p, h_n)
    # Padding must not matter at all.
    X_noisy = X.clone()
    X_noisy[(torch.arange(T)[:, None] >= lengths[None, :]).to(device)] = 1e3
    got_noisy, (h_noisy, _) = model(X_noisy, (h0, c0), lengths=lengths)
    assert_close(got_noisy, got)
    assert_close(h_noisy, h_last)


# ---------------------------------------------------------------- the cell


@pytest.mark.parametrize("coupled,peephole", [(False, False), (False, True), (True, False), (True, True)])
def test_lstm_forward_is_the_gate_equations(coupled, peephole):
    g = torch.Generator().manual_seed(0)
    T, B, D, Hn = 4, 2, 3, 5
    W_x, W_h, b = random_weights(g, D, Hn, 3 if coupled else 4)
    peep = {}
    if peephole:
        peep = {k: randn(g, Hn) for k in ("w_cf", "w_co") + (() if coupled else ("w_ci",))}
    X, h0, c0 = randn(g, T, B, D), randn(g, B, Hn), randn(g, B, Hn)
    H, C = lstm_forward(X, h0, c0, W_x, W_h, b, coupled=coupled, **peep)
    H_bf, C_bf = brute_force_lstm(X, h0, c0, W_x, W_h, b, coupled=coupled, **peep)
    assert H.shape == C.shape == (T, B, Hn)
    assert_close(H, H_bf)
    assert_close(C, C_bf)
    h1, c1 = lstm_cell(X[0], h0, c0, W_x, W_h, b, coupled=coupled, **peep)
    assert_close(h1, H[0])
    assert_close(c1, C[0])


def test_lstm_cell_matches_torch_lstm_cell():
    g = torch.Generator().manual_seed(1)
    cell = randomize_(nn.LSTMCell(3, 4, dtype=F64), g)
    x, h, c = randn(g, 2, 3), randn(g, 2, 4), randn(g, 2, 4)
    expected = cell(x, (h, c))
    got = lstm_cell(x, h, c, cell.weight_ih, cell.weight_hh, cell.bias_ih + cell.bias_hh)
    assert_close(got[0], expected[0])
    assert_close(got[1], expected[1])


def test_concatenated_form_equals_separate_weights():
    """W [h_{t-1}; x_t] with W = [W_h, W_x] is W_h h_{t-1} + W_x x_t: one product instead of two."""
    g = torch.Generator().manual_seed(2)
    W_x, W_h, b = random_weights(g, 3, 4)
    x, h, c = randn(g, 2, 3), randn(g, 2, 4), randn(g, 2, 4)
    W = torch.cat([W_h, W_x], dim=1)                         # (4H, H + D)
    A = torch.cat([h, x], dim=1) @ W.T + b
    i, f, g_, o = A.chunk(4, dim=1)
    c_cat = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g_)
    h_cat = torch.sigmoid(o) * torch.tanh(c_cat)
    h_sep, c_sep = lstm_cell(x, h, c, W_x, W_h, b)
    assert_close(h_sep, h_cat)
    assert_close(c_sep, c_cat)


def test_default_initial_states_are_zeros():
    g = torch.Generator().manual_seed(3)
    W_x, W_h, b = random_weights(g, 3, 4)
    X = randn(g, 3, 2, 3)
    zeros = torch.zeros(2, 4, dtype=F64)
    for got, expected in zip(lstm_forward(X, None, None, W_x, W_h, b),
                             lstm_forward(X, zeros, zeros, W_x, W_h, b)):
        assert_close(got, expected)


def test_forget_one_input_zero_passes_cell_gradient_unchanged():
    """With f_t = 1, i_t = 0 (saturated biases) dc_{t-1} = dc_t: the additive path of the book."""
    g = torch.Generator().manual_seed(4)
    Hn, T = 3, 20
    W_x, W_h, b = random_weights(g, 2, Hn)
    with torch.no_grad():
        b[:Hn], b[Hn:2 * Hn] = -60.0, 60.0                  # i = sigma(-60) ~ 0, f = sigma(60) ~ 1
    c0 = randn(g, 1, Hn).requires_grad_()
    _, C = lstm_forward(randn(g, T, 1, 2), None, c0, W_x, W_h, b)
    R = randn(g, 1, Hn)
    (dc0,) = torch.autograd.grad((C[-1] * R).sum(), c0)
    assert_close(dc0, R)
    assert_close(C[-1], c0.detach())


@pytest.mark.parametrize("coupled,peephole", [(False, True), (True, True), (True, False)])
def test_lstm_forward_gradcheck_float64(coupled, peephole):
    g = torch.Generator().manual_seed(5)
    T, B, D, Hn = 3, 2, 2, 3
    W_x, W_h, b = random_weights(g, D, Hn, 3 if coupled else 4)
    names = [k for k in ("w_ci", "w_cf", "w_co") if peephole and not (coupled and k == "w_ci")]
    peep = [randn(g, Hn) for _ in names]
    inputs = [t.requires_grad_() for t in (randn(g, T, B, D), randn(g, B, Hn), randn(g, B, Hn), W_x, W_h, b, *peep)]

    def f(X, h0, c0, W_x, W_h, b, *peep):
        return lstm_forward(X, h0, c0, W_x, W_h, b, coupled=coupled, **dict(zip(names, peep)))

    assert torch.autograd.gradcheck(f, inputs)


# ---------------------------------------------------------------- the module


@pytest.mark.parametrize("num_layers,bidirectional", list(itertools.product([1, 2, 3], [False, True])))
def test_lstm_matches_torch_outputs_and_gradients(num_layers, bidirectional):
    check_lstm_matches_torch("cpu", num_layers, bidirectional)


def test_lengths_and_packed_sequences_match_torch():
    check_lstm_lengths_match_packed("cpu")


def test_parameter_names_and_shapes_follow_the_math():
    m = LSTM(3, 4, num_layers=2, bidirectional=True, peephole=True)
    shapes = {n: tuple(p.shape) for n, p in m.named_parameters()}
    assert shapes["W_x_l0"] == (16, 3) and shapes["W_h_l0"] == (16, 4) and shapes["b_l0"] == (16,)
    assert shapes["W_x_l1_reverse"] == (16, 8)
    assert shapes["w_ci_l1"] == shapes["w_cf_l0_reverse"] == shapes["w_co_l0"] == (4,)
    c = LSTM(3, 4, coupled=True, peephole=True)
    assert {n: tuple(p.shape) for n, p in c.named_parameters()} == {
        "W_x_l0": (12, 3), "W_h_l0": (12, 4), "b_l0": (12,), "w_cf_l0": (4,), "w_co_l0": (4,)}


def test_parameter_count_formula():
    """4 (H (D + H) + H) per layer with one bias; torch.nn.LSTM keeps a second bias of 4H."""
    D, Hn = 7, 5
    ours = sum(p.numel() for p in LSTM(D, Hn).parameters())
    theirs = sum(p.numel() for p in nn.LSTM(D, Hn).parameters())
    assert ours == 4 * (Hn * (D + Hn) + Hn)
    assert theirs == ours + 4 * Hn


def test_to_torch_from_torch_round_trip():
    g = torch.Generator().manual_seed(6)
    model = randomize_(LSTM(3, 4, 2, bidirectional=True, dtype=F64), g)
    X = randn(g, 5, 2, 3)
    out, (h, c) = model(X)
    out_t, (h_t, c_t) = model.to_torch()(X)
    assert_close(out_t, out)
    assert_close(c_t, c)
    back = LSTM.from_torch(model.to_torch())
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), back.named_parameters()):
        assert n1 == n2
        assert_close(p1, p2)


def test_peephole_and_coupled_stack_match_per_layer_forward():
    """The module chains lstm_forward per layer (bidirectional: on the reversed sequence)."""
    g = torch.Generator().manual_seed(7)
    m = randomize_(LSTM(2, 3, num_layers=2, bidirectional=True, peephole=True, coupled=True, dtype=F64), g)
    X = randn(g, 4, 2, 2)
    out, (h_n, c_n) = m(X)
    inp = X
    for layer in range(2):
        outs = []
        for d in range(2):
            p = m.layer_params(layer, d)
            seq = inp if d == 0 else inp.flip(0)
            H, C = lstm_forward(seq, None, None, p["W_x"], p["W_h"], p["b"], w_cf=p["w_cf"],
                                w_co=p["w_co"], coupled=True)
            assert_close(h_n[2 * layer + d], H[-1])
            assert_close(c_n[2 * layer + d], C[-1])
            outs.append(H if d == 0 else H.flip(0))
        inp = torch.cat(outs, dim=-1)
    assert_close(out, inp)


def test_residual_stack_adds_the_layer_input():
    g = torch.Generator().manual_seed(8)
    m = randomize_(LSTM(2, 3, num_layers=3, residual=True, dtype=F64), g)
    X = randn(g, 4, 2, 2)
    out, _ = m(X)
    p = [m.layer_params(k) for k in range(3)]
    H0, _ = lstm_forward(X, None, None, p[0]["W_x"], p[0]["W_h"], p[0]["b"])   # no skip: D != H
    H1 = lstm_forward(H0, None, None, p[1]["W_x"], p[1]["W_h"], p[1]["b"])[0] + H0
    H2 = lstm_forward(H1, None, None, p[2]["W_x"], p[2]["W_h"], p[2]["b"])[0] + H1
    assert_close(out, H2)


def test_module_gradcheck_with_lengths():
    g = torch.Generator().manual_seed(9)
    m = randomize_(LSTM(2, 2, num_layers=2, bidirectional=True, peephole=True, dtype=F64), g)
    X = randn(g, 4, 3, 2).requires_grad_()
    h0 = randn(g, 4, 3, 2).requires_grad_()
    assert torch.autograd.gradcheck(lambda X, h0: m(X, (h0, h0 * 0.5), lengths=[2, 4, 1])[0], (X, h0))


def test_init_forget_bias_sets_the_f_block_only():
    for coupled, start in [(False, 4), (True, 0)]:
        m = LSTM(3, 4, num_layers=2, coupled=coupled).init_forget_bias_(1.0)
        b = m.layer_params(1)["b"].detach()
        assert torch.all(b[start:start + 4] == 1.0)
        assert not torch.any(torch.cat([b[:start], b[start + 4:]]) == 1.0)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_gated_classifier_logits_are_max_over_time(bidirectional):
    g = torch.Generator().manual_seed(10)
    clf = randomize_(gated_classifier(LSTM(2, 3, bidirectional=bidirectional, dtype=F64), 4), g)
    X = randn(g, 5, 3, 2)
    H_out, _ = clf.rnn(X)
    Y = H_out @ clf.W_hy.T + clf.b_y
    assert_close(clf(X), Y.max(0).values)
    lengths = [2, 5, 1]
    H_len, _ = clf.rnn(X, lengths=lengths)
    logits = clf(X, lengths=lengths)
    for n, L in enumerate(lengths):
        assert_close(logits[n], (H_len[:L, n] @ clf.W_hy.T + clf.b_y).max(0).values)


# ---------------------------------------------------------------- bad input


def test_error_stacked_weights_wrong_rows_mention_the_gates():
    g = torch.Generator().manual_seed(11)
    W_x, W_h, b = random_weights(g, 3, 4)
    x, h = randn(g, 2, 3), randn(g, 2, 4)
    with pytest.raises(ValueError, match=r"W_x: expected shape \(16, D\).*4 gates \(i, f, g, o\)"):
        lstm_cell(x, h, h, W_x[:12], W_h, b)
    with pytest.raises(ValueError, match=r"b: expected shape \(12,\).*3 gates \(f, g, o\)"):
        lstm_cell(x, h, h, W_x[:12], W_h[:12], b, coupled=True)
    with pytest.raises(ValueError, match=r"W_h: expected shape \(4H, H\)"):
        lstm_forward(randn(g, 2, 2, 3), None, None, W_x, W_h[:7], b)


def test_error_coupled_has_no_input_peephole():
    g = torch.Generator().manual_seed(12)
    W_x, W_h, b = random_weights(g, 3, 4, G=3)
    x, h = randn(g, 2, 3), randn(g, 2, 4)
    with pytest.raises(ValueError, match="no input gate"):
        lstm_cell(x, h, h, W_x, W_h, b, w_ci=randn(g, 4), coupled=True)


def test_error_module_inputs():
    m = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, D\) = \(\?, \?, 3\)|X: expected shape \(T, B, D\) = \(5, 2, 3\)"):
        m(torch.zeros(5, 2, 6))
    with pytest.raises(TypeError, match=r"expected a tuple \(h0, c0\)"):
        m(torch.zeros(5, 2, 3), torch.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"c0: expected shape \(2, B, H\) = \(2, 2, 4\), got \(1, 2, 4\)"):
        m(torch.zeros(5, 2, 3), (torch.zeros(2, 2, 4), torch.zeros(1, 2, 4)))
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, T\]"):
        m(torch.zeros(5, 2, 3), lengths=[0, 5])


def test_error_torch_conversions():
    with pytest.raises(TypeError, match="expected a torch.nn.LSTM, got GRU"):
        LSTM.from_torch(nn.GRU(2, 3))
    with pytest.raises(ValueError, match="proj_size=2"):
        LSTM.from_torch(nn.LSTM(2, 3, proj_size=2))
    with pytest.raises(ValueError, match="dropout"):
        LSTM.from_torch(nn.LSTM(2, 3, 2, dropout=0.5))
    with pytest.raises(ValueError, match="no peephole"):
        LSTM(2, 3, peephole=True).to_torch()


def test_generator_makes_initial_weights_reproducible():
    a = LSTM(3, 4, 2, generator=torch.Generator().manual_seed(5))
    b = LSTM(3, 4, 2, generator=torch.Generator().manual_seed(5))
    c = LSTM(3, 4, 2, generator=torch.Generator().manual_seed(6))
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)
    bound = 1 / 4 ** 0.5
    assert all(p.abs().max() <= bound for p in a.parameters())
