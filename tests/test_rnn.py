"""Forward pass of the Elman RNN (seqmodels.recurrent) against torch.nn.RNN and brute force.

The check_* helpers take a device so test_rnn_gpu.py runs the same comparisons on CUDA.
"""

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.testing import assert_close
from _helpers import randn, randomize_

from seqmodels.recurrent import ElmanRNN, rnn_cell, rnn_forward, RNNSequenceClassifier

F64 = torch.float64


def torch_rnn(g, D, H, num_layers=1, bidirectional=False, activation="tanh", device="cpu"):
    rnn = nn.RNN(D, H, num_layers, nonlinearity=activation, bidirectional=bidirectional,
                 device=device, dtype=F64)
    return randomize_(rnn, g)


def brute_force_states(X, h_init, W_xh, W_hh, b_h, f):
    """h_t = f(W_xh x_t + W_hh h_{t-1} + b_h), one sequence and one column vector at a time."""
    T, B, _ = X.shape
    H = torch.empty(T, B, W_hh.shape[0], dtype=X.dtype, device=X.device)
    for b in range(B):
        h = h_init[b]
        for t in range(T):
            h = f(W_xh @ X[t, b] + W_hh @ h + b_h)
            H[t, b] = h
    return H


# ---------------------------------------------------------------- helpers shared with the GPU tests


def check_rnn_forward_matches_torch(device, activation, T=5, B=3, D=4, H=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    rnn = torch_rnn(g, D, H, activation=activation, device=device)
    X, h0 = randn(g, T, B, D, device=device), randn(g, B, H, device=device)
    expected, h_n = rnn(X, h0[None])
    got = rnn_forward(X, h0, rnn.weight_ih_l0, rnn.weight_hh_l0,
                      rnn.bias_ih_l0 + rnn.bias_hh_l0, activation)
    assert got.shape == (T, B, H)
    assert_close(got, expected)
    assert_close(got[-1], h_n[0])


def check_elman_matches_torch(device, num_layers, bidirectional, activation,
                              T=4, B=3, D=3, H=5, seed=1):
    """Outputs, final states and every gradient equal nn.RNN's with copied weights."""
    g = torch.Generator().manual_seed(seed)
    rnn = torch_rnn(g, D, H, num_layers, bidirectional, activation, device)
    model = ElmanRNN.from_torch(rnn)
    dirs = 2 if bidirectional else 1
    X = randn(g, T, B, D, device=device)
    h0 = randn(g, num_layers * dirs, B, H, device=device)
    R_out = randn(g, T, B, dirs * H, device=device)
    R_last = randn(g, num_layers * dirs, B, H, device=device)

    results = []
    for net in (rnn, model):
        X_ = X.clone().requires_grad_()
        h0_ = h0.clone().requires_grad_()
        out, last = net(X_, h0_)
        # A random linear loss reaches every output and final state with a distinct weight.
        ((out * R_out).sum() + (last * R_last).sum()).backward()
        results.append((out, last, X_.grad, h0_.grad))
    (out_t, last_t, dX_t, dh_t), (out_m, last_m, dX_m, dh_m) = results
    assert out_m.shape == (T, B, dirs * H) and last_m.shape == (num_layers * dirs, B, H)
    assert_close(out_m, out_t)
    assert_close(last_m, last_t)
    assert_close(dX_m, dX_t)
    assert_close(dh_m, dh_t)
    for layer in range(num_layers):
        for direction in range(dirs):
            s = f"_l{layer}" + ("_reverse" if direction else "")
            W_xh, W_hh, b_h = model.layer_params(layer, direction).values()
            assert_close(W_xh.grad, getattr(rnn, "weight_ih" + s).grad, msg=f"W_xh{s}")
            assert_close(W_hh.grad, getattr(rnn, "weight_hh" + s).grad, msg=f"W_hh{s}")
            # b_h = b_ih + b_hh, so its gradient equals each of theirs.
            assert_close(b_h.grad, getattr(rnn, "bias_ih" + s).grad, msg=f"b_h{s}")
            assert_close(b_h.grad, getattr(rnn, "bias_hh" + s).grad, msg=f"b_h{s}")


def check_lengths_match_packed_sequence(device, num_layers=2, bidirectional=True, seed=2):
    g = torch.Generator().manual_seed(seed)
    T, B, D, H = 6, 4, 3, 5
    rnn = torch_rnn(g, D, H, num_layers, bidirectional, device=device)
    model = ElmanRNN.from_torch(rnn)
    lengths = torch.tensor([3, 6, 1, 4])
    X = randn(g, T, B, D, device=device)
    h0 = randn(g, num_layers * 2, B, H, device=device)
    packed = pack_padded_sequence(X, lengths, enforce_sorted=False)
    out_packed, h_n = rnn(packed, h0)
    expected, _ = pad_packed_sequence(out_packed, total_length=T)
    got, last = model(X, h0, lengths=lengths)
    assert_close(got, expected)
    assert_close(last, h_n)
    # A PackedSequence goes in, a PackedSequence comes out.
    ours_packed, last_packed = model(packed, h0)
    assert_close(pad_packed_sequence(ours_packed, total_length=T)[0], expected)
    assert_close(last_packed, h_n)
    # Padding must not matter at all.
    X_noisy = X.clone()
    X_noisy[(torch.arange(T)[:, None] >= lengths[None, :]).to(device)] = 1e3
    got_noisy, last_noisy = model(X_noisy, h0, lengths=lengths)
    assert_close(got_noisy, got)
    assert_close(last_noisy, last)


def check_classifier_is_max_over_time(device, bidirectional, seed=3):
    g = torch.Generator().manual_seed(seed)
    T, B, D, H, K = 5, 3, 2, 4, 3
    clf = RNNSequenceClassifier(D, H, K, num_layers=2, bidirectional=bidirectional,
                                device=device, dtype=F64)
    randomize_(clf, g)
    X = randn(g, T, B, D, device=device)
    logits = clf(X)
    assert logits.shape == (B, K)
    H_out, _ = clf.rnn.to_torch()(X)  # the recurrent part is checked elsewhere
    expected = torch.empty(B, K, dtype=F64, device=device)
    for b in range(B):
        for k in range(K):
            expected[b, k] = max(clf.W_hy[k] @ H_out[t, b] + clf.b_y[k] for t in range(T))
    assert_close(logits, expected)

    lengths = [2, 5, 1]
    logits_len = clf(X, lengths=lengths)
    H_len, _ = clf.rnn(X, lengths=lengths)
    for b in range(B):
        for k in range(K):
            best = max(clf.W_hy[k] @ H_len[t, b] + clf.b_y[k] for t in range(lengths[b]))
            assert_close(logits_len[b, k], best)


# ---------------------------------------------------------------- CPU tests


def test_rnn_cell_is_the_column_vector_formula():
    g = torch.Generator().manual_seed(10)
    B, D, H = 3, 4, 5
    x, h = randn(g, B, D), randn(g, B, H)
    W_xh, W_hh, b_h = randn(g, H, D), randn(g, H, H), randn(g, H)
    got = rnn_cell(x, h, W_xh, W_hh, b_h)
    for b in range(B):
        assert_close(got[b], torch.tanh(W_xh @ x[b] + W_hh @ h[b] + b_h))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnn_forward_matches_torch_rnn(activation):
    check_rnn_forward_matches_torch("cpu", activation)


@pytest.mark.parametrize("activation", ["sigmoid", torch.sin])
def test_rnn_forward_other_activations_match_brute_force(activation):
    g = torch.Generator().manual_seed(11)
    T, B, D, H = 4, 2, 3, 5
    X, h0 = randn(g, T, B, D), randn(g, B, H)
    W_xh, W_hh, b_h = randn(g, H, D), randn(g, H, H), randn(g, H)
    f = torch.sigmoid if activation == "sigmoid" else activation
    assert_close(rnn_forward(X, h0, W_xh, W_hh, b_h, activation),
                 brute_force_states(X, h0, W_xh, W_hh, b_h, f))


def test_rnn_forward_default_h_init_is_zeros():
    g = torch.Generator().manual_seed(12)
    X, W_xh, W_hh, b_h = randn(g, 3, 2, 4), randn(g, 5, 4), randn(g, 5, 5), randn(g, 5)
    assert_close(rnn_forward(X, None, W_xh, W_hh, b_h),
                 rnn_forward(X, torch.zeros(2, 5, dtype=F64), W_xh, W_hh, b_h))


def test_rnn_forward_T1():
    g = torch.Generator().manual_seed(13)
    X, h0 = randn(g, 1, 2, 3), randn(g, 2, 4)
    W_xh, W_hh, b_h = randn(g, 4, 3), randn(g, 4, 4), randn(g, 4)
    assert_close(rnn_forward(X, h0, W_xh, W_hh, b_h), rnn_cell(X[0], h0, W_xh, W_hh, b_h)[None])


@pytest.mark.parametrize(
    "num_layers,bidirectional,activation",
    list(itertools.product([1, 2, 3], [False, True], ["tanh", "relu"])),
)
def test_elman_rnn_matches_torch_outputs_and_gradients(num_layers, bidirectional, activation):
    check_elman_matches_torch("cpu", num_layers, bidirectional, activation)


def test_elman_rnn_sigmoid_one_layer_is_rnn_forward():
    g = torch.Generator().manual_seed(14)
    model = randomize_(ElmanRNN(3, 4, activation="sigmoid", dtype=F64), g)
    X, h0 = randn(g, 5, 2, 3), randn(g, 1, 2, 4)
    out, last = model(X, h0)
    expected = brute_force_states(X, h0[0], model.W_xh_l0, model.W_hh_l0, model.b_h_l0, torch.sigmoid)
    assert_close(out, expected)
    assert_close(last[0], expected[-1])


def test_elman_rnn_parameter_names_follow_the_math():
    model = ElmanRNN(3, 4, num_layers=2, bidirectional=True)
    shapes = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert shapes == {
        "W_xh_l0": (4, 3), "W_hh_l0": (4, 4), "b_h_l0": (4,),
        "W_xh_l0_reverse": (4, 3), "W_hh_l0_reverse": (4, 4), "b_h_l0_reverse": (4,),
        "W_xh_l1": (4, 8), "W_hh_l1": (4, 4), "b_h_l1": (4,),
        "W_xh_l1_reverse": (4, 8), "W_hh_l1_reverse": (4, 4), "b_h_l1_reverse": (4,),
    }


def test_from_torch_to_torch_round_trip():
    g = torch.Generator().manual_seed(15)
    rnn = torch_rnn(g, 3, 4, num_layers=2, bidirectional=True, activation="relu")
    model = ElmanRNN.from_torch(rnn)
    assert model.activation == "relu" and model.num_layers == 2 and model.bidirectional
    back = model.to_torch()
    assert isinstance(back, nn.RNN) and back.nonlinearity == "relu"
    for name, p in rnn.named_parameters():
        if name.startswith("weight"):
            assert torch.equal(getattr(back, name), p), name
        elif name.startswith("bias_ih"):
            # Only the sum of the two torch biases is defined by the model.
            other = name.replace("bias_ih", "bias_hh")
            assert_close(getattr(back, name) + getattr(back, other), p + getattr(rnn, other))
    X = randn(g, 4, 2, 3)
    assert_close(back(X)[0], rnn(X)[0])
    again = ElmanRNN.from_torch(back)
    for (n1, p1), (n2, p2) in zip(model.named_parameters(), again.named_parameters()):
        assert n1 == n2 and torch.equal(p1, p2), n1


def test_from_torch_without_bias_has_zero_b_h():
    g = torch.Generator().manual_seed(16)
    rnn = randomize_(nn.RNN(3, 4, bias=False, dtype=F64), g)
    model = ElmanRNN.from_torch(rnn)
    assert torch.equal(model.b_h_l0, torch.zeros(4, dtype=F64))
    X = randn(g, 3, 2, 3)
    assert_close(model(X)[0], rnn(X)[0])


def test_from_torch_rejects_dropout_and_other_modules():
    with pytest.raises(ValueError, match="dropout"):
        ElmanRNN.from_torch(nn.RNN(3, 4, num_layers=2, dropout=0.5))
    with pytest.raises(TypeError, match="nn.RNN"):
        ElmanRNN.from_torch(nn.LSTM(3, 4))


def test_to_torch_rejects_sigmoid():
    with pytest.raises(ValueError, match="'tanh' or 'relu'"):
        ElmanRNN(3, 4, activation="sigmoid").to_torch()


def test_lengths_match_packed_sequence():
    check_lengths_match_packed_sequence("cpu")


@pytest.mark.parametrize("bidirectional", [False, True])
def test_classifier_logits_are_max_over_time_of_y_t(bidirectional):
    check_classifier_is_max_over_time("cpu", bidirectional)


# ---------------------------------------------------------------- bad input


def _weights(H=4, D=3):
    return torch.zeros(H, D), torch.zeros(H, H), torch.zeros(H)


def test_error_wrong_rank_names_expected_shape():
    with pytest.raises(ValueError, match=r"X: expected 3-D tensor of shape \(T, B, D\), got shape \(3, 5\)"):
        rnn_forward(torch.zeros(3, 5), None, *_weights())


def test_error_W_hh_not_square():
    W_xh, _, b_h = _weights()
    with pytest.raises(ValueError, match=r"W_hh: expected shape \(H, H\) = \(4, 4\), got \(4, 5\)"):
        rnn_forward(torch.zeros(2, 1, 3), None, W_xh, torch.zeros(4, 5), b_h)


def test_error_input_size_disagrees():
    _, W_hh, b_h = _weights()
    with pytest.raises(ValueError, match="X and W_xh disagree on the input size D: 3 vs 5") as err:
        rnn_forward(torch.zeros(2, 1, 3), None, torch.zeros(4, 5), W_hh, b_h)
    assert r"(H, D) = (4, 3)" in str(err.value)


def test_error_h_init_wrong_shape():
    with pytest.raises(ValueError, match=r"h_init: expected shape \(B, H\) = \(2, 4\), got \(4, 2\)"):
        rnn_forward(torch.zeros(5, 2, 3), torch.zeros(4, 2), *_weights())


def test_error_integer_input():
    with pytest.raises(TypeError, match="X: expected a floating-point tensor"):
        rnn_forward(torch.zeros(2, 1, 3, dtype=torch.long), None, *_weights())


def test_error_dtype_mismatch():
    W_xh, W_hh, b_h = _weights()
    with pytest.raises(TypeError, match="W_hh has dtype torch.float64 but X has dtype torch.float32"):
        rnn_forward(torch.zeros(2, 1, 3), None, W_xh, W_hh.double(), b_h)


def test_error_device_mismatch():
    W_xh, W_hh, b_h = _weights()
    with pytest.raises(ValueError, match="W_xh is on device meta but X is on device cpu"):
        rnn_forward(torch.zeros(2, 1, 3), None, W_xh.to("meta"), W_hh, b_h)


def test_error_not_a_tensor_and_unknown_activation():
    with pytest.raises(TypeError, match="X: expected a torch.Tensor, got list"):
        rnn_forward([[[0.0]]], None, *_weights(D=1))
    with pytest.raises(ValueError, match="activation: expected one of 'tanh', 'relu', 'sigmoid'"):
        rnn_forward(torch.zeros(2, 1, 3), None, *_weights(), activation="softplus")


def test_error_rnn_cell_batch_sizes_disagree():
    with pytest.raises(ValueError, match="x_t and h_prev disagree on the batch size B: 2 vs 3"):
        rnn_cell(torch.zeros(2, 3), torch.zeros(3, 4), *_weights())


def test_error_elman_rnn_wrong_input_size_and_h_init():
    model = ElmanRNN(3, 4, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"X: expected shape \(T, B, D\) = \(5, 2, 3\), got \(5, 2, 6\)"):
        model(torch.zeros(5, 2, 6))
    with pytest.raises(ValueError, match=r"h_init: expected shape \(4, B, H\) = \(4, 2, 4\), got \(2, 2, 4\)"):
        model(torch.zeros(5, 2, 3), torch.zeros(2, 2, 4))
    with pytest.raises(TypeError, match="X has dtype torch.float64 but W_xh_l0 has dtype torch.float32"):
        model(torch.zeros(5, 2, 3, dtype=F64))


def test_error_layer_params_of_a_missing_layer_or_direction():
    model = ElmanRNN(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="no layer 2, direction 0"):
        model.layer_params(2)
    with pytest.raises(ValueError, match="no layer 0, direction 1"):
        model.layer_params(0, 1)


def test_error_bad_lengths():
    model = ElmanRNN(3, 4)
    X = torch.zeros(5, 2, 3)
    with pytest.raises(ValueError, match=r"lengths: expected values in \[1, T\] = \[1, 5\]"):
        model(X, lengths=[0, 5])
    with pytest.raises(ValueError, match=r"lengths: expected shape \(B,\) = \(2,\)"):
        model(X, lengths=[1, 2, 3])
    with pytest.raises(TypeError, match="lengths: expected integers"):
        model(X, lengths=torch.tensor([1.0, 2.0]))


def test_generator_makes_initial_weights_reproducible_without_global_seed():
    from seqmodels.recurrent import RNNSequenceClassifier

    a = RNNSequenceClassifier(3, 4, 2, num_layers=2, generator=torch.Generator().manual_seed(7))
    torch.rand(5)  # the global generator must play no part
    b = RNNSequenceClassifier(3, 4, 2, num_layers=2, generator=torch.Generator().manual_seed(7))
    c = RNNSequenceClassifier(3, 4, 2, num_layers=2, generator=torch.Generator().manual_seed(8))
    for (name, p), q, r in zip(a.named_parameters(), b.parameters(), c.parameters()):
        assert torch.equal(p, q), name
        assert not torch.equal(p, r), name
