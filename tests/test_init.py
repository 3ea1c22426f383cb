"""seqmodels.recurrent: identity and orthogonal recurrent weights."""
import pytest
import torch

from seqmodels.recurrent import ElmanRNN, identity_matrix, init_recurrent_, LSTM, orthogonal_matrix


def test_orthogonal_matrix_is_orthogonal_with_unit_eigenvalues():
    Q = orthogonal_matrix(16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    torch.testing.assert_close(Q.T @ Q, torch.eye(16, dtype=torch.float64))
    torch.testing.assert_close(torch.linalg.eigvals(Q).abs(), torch.ones(16, dtype=torch.float64))


def test_gain_scales_every_singular_value():
    Q = orthogonal_matrix(8, gain=0.7, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(torch.linalg.svdvals(Q), torch.full((8,), 0.7, dtype=torch.float64))


def test_orthogonal_matrix_is_reproducible_and_varies_with_the_seed():
    a = orthogonal_matrix(5, generator=torch.Generator().manual_seed(2))
    b = orthogonal_matrix(5, generator=torch.Generator().manual_seed(2))
    c = orthogonal_matrix(5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.allclose(a, c)
    assert a.dtype == torch.get_default_dtype()


def test_orthogonal_matrix_is_uniformly_distributed():
    # Haar measure: E[Q] = 0, and each entry has variance 1/n. Without the sign fix of QR
    # the diagonal of Q is biased (positive mean), which this test detects.
    g = torch.Generator().manual_seed(4)
    Qs = torch.stack([orthogonal_matrix(3, generator=g, dtype=torch.float64) for _ in range(500)])
    # entries have standard deviation 1/sqrt(3); the mean of 500 has 0.026, the biased diagonal about 0.5
    assert Qs.mean(0).abs().max() < 0.15
    torch.testing.assert_close(Qs.var(0), torch.full((3, 3), 1 / 3, dtype=torch.float64), atol=0.08, rtol=0)


def test_identity_matrix():
    assert torch.equal(identity_matrix(4, 0.5), 0.5 * torch.eye(4))


def test_init_recurrent_identity_sets_every_layer_and_direction():
    rnn = ElmanRNN(3, 6, num_layers=2, bidirectional=True, activation="relu")
    before = {n: p.clone() for n, p in rnn.named_parameters()}
    init_recurrent_(rnn, "identity", input_std=0.001, generator=torch.Generator().manual_seed(5))
    for layer in range(2):
        for direction in range(2):
            W_xh, W_hh, b_h = rnn.layer_params(layer, direction).values()
            assert torch.equal(W_hh, torch.eye(6)) and torch.equal(b_h, torch.zeros(6))
            assert 0 < W_xh.abs().max() < 0.01
    changed = [n for n, p in rnn.named_parameters() if not torch.equal(p, before[n])]
    assert len(changed) == len(before)


def test_init_recurrent_orthogonal_keeps_inputs_and_bias():
    rnn = ElmanRNN(3, 5)
    W_xh, W_hh, b_h = (p.clone() for p in rnn.layer_params(0).values())
    init_recurrent_(rnn, "orthogonal", gain=1.0, generator=torch.Generator().manual_seed(6))
    new = rnn.layer_params(0)
    assert torch.equal(new["W_xh"], W_xh) and torch.equal(new["b_h"], b_h)
    torch.testing.assert_close(new["W_hh"].T @ new["W_hh"], torch.eye(5), atol=1e-5, rtol=0)


def test_an_orthogonal_linear_rnn_keeps_the_norm_of_its_state():
    Q = orthogonal_matrix(10, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    h = torch.ones(10, dtype=torch.float64) / 10 ** 0.5
    for _ in range(200):
        h = Q @ h
    assert h.norm().item() == pytest.approx(1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="scheme"):
        init_recurrent_(ElmanRNN(2, 3), "xavier")
    with pytest.raises(TypeError, match="ElmanRNN"):
        init_recurrent_(torch.nn.Linear(2, 3), "identity")
    with pytest.raises(ValueError, match="hidden_size"):
        orthogonal_matrix(0)


def test_init_recurrent_of_a_gated_network_is_refused_with_a_clear_message():
    with pytest.raises(TypeError, match="ElmanRNN.*got LSTM"):
        init_recurrent_(LSTM(3, 4), "orthogonal")
