"""Attention (chapter 9): the lecture's form equals the Q/K/V form, both equal torch's
built-ins with copied weights; masks; positional encoding. Batch-first X (B, n, d)."""

import math

import pytest
import torch
import torch.nn.functional as F

from seqmodels.transformer import (MultiHeadAttention, causal_mask, lecture_self_attention, lecture_weights,
                                 merge_heads, multi_head_attention, scaled_dot_product_attention,
                                 simple_self_attention, split_heads)
from seqmodels.transformer import sinusoidal_positional_encoding

DT = torch.float64


def _randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=DT)


def _weights(g, d):
    return [_randn(g, d, d) / math.sqrt(d) for _ in range(4)]


# ------------------------------------------------------------------ single head


def test_causal_mask_values_and_cache_offset():
    M = causal_mask(3, dtype=DT)
    expected = torch.tensor([[0, -math.inf, -math.inf], [0, 0, -math.inf], [0, 0, 0]], dtype=DT)
    assert torch.equal(M, expected)
    # 2 new queries after 3 cached positions: they sit at positions 3 and 4.
    M = causal_mask(2, 5, dtype=DT)
    assert torch.equal(M, torch.tensor([[0, 0, 0, 0, -math.inf], [0, 0, 0, 0, 0]], dtype=DT))
    with pytest.raises(ValueError, match="m >= n"):
        causal_mask(4, 3)


@pytest.mark.parametrize("mask_kind", [None, "causal", "bool"])
def test_sdpa_equals_torch(mask_kind):
    g = torch.Generator().manual_seed(1)
    Q, K, V = _randn(g, 2, 3, 5, 4), _randn(g, 2, 3, 5, 4), _randn(g, 2, 3, 5, 6)
    mask = {None: None, "causal": causal_mask(5, dtype=DT),
            "bool": torch.rand(5, 5, generator=g) < 0.7}[mask_kind]
    if mask_kind == "bool":
        mask[:, 0] = True                        # no fully masked row (NaN in both)
    Y, A = scaled_dot_product_attention(Q, K, V, mask)
    expected = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
    torch.testing.assert_close(Y, expected)
    torch.testing.assert_close(A.sum(-1), torch.ones(2, 3, 5, dtype=DT))
    if mask_kind == "causal":
        torch.testing.assert_close(Y, F.scaled_dot_product_attention(Q, K, V, is_causal=True))
        assert (A.triu(1) == 0).all()


def test_sdpa_scale_is_one_over_sqrt_l():
    g = torch.Generator().manual_seed(2)
    Q, K, V = _randn(g, 4, 16), _randn(g, 6, 16), _randn(g, 6, 3)
    _, A = scaled_dot_product_attention(Q, K, V)
    torch.testing.assert_close(A, torch.softmax(Q @ K.T / 4.0, dim=-1))
    _, A1 = scaled_dot_product_attention(Q, K, V, scale=1.0)
    torch.testing.assert_close(A1, torch.softmax(Q @ K.T, dim=-1))


def test_sdpa_bad_shapes_have_clear_messages():
    g = torch.Generator().manual_seed(3)
    with pytest.raises(ValueError, match="same last size l"):
        scaled_dot_product_attention(_randn(g, 4, 8), _randn(g, 5, 7), _randn(g, 5, 7))
    with pytest.raises(ValueError, match="number of rows m"):
        scaled_dot_product_attention(_randn(g, 4, 8), _randn(g, 5, 8), _randn(g, 6, 8))
    with pytest.raises(ValueError, match="mask"):
        scaled_dot_product_attention(_randn(g, 4, 8), _randn(g, 5, 8), _randn(g, 5, 8), causal_mask(4))
    with pytest.raises(TypeError, match="Q"):
        scaled_dot_product_attention(torch.ones(4, 8, dtype=torch.long), _randn(g, 5, 8), _randn(g, 5, 8))


def test_simple_self_attention_flaws():
    # softmax(X X^T): each row's largest score is usually its own (x_i . x_i = |x_i|^2), and A is
    # symmetric before the softmax; with W the scores need not be symmetric.
    g = torch.Generator().manual_seed(4)
    X = _randn(g, 6, 8) * 2
    Y, A = simple_self_attention(X)
    torch.testing.assert_close(Y, A @ X)
    torch.testing.assert_close(A, torch.softmax(X @ X.T, dim=-1))
    W = _randn(g, 8, 8)
    _, AW = simple_self_attention(X, W)
    torch.testing.assert_close(AW, torch.softmax(X @ W @ X.T, dim=-1))


# ------------------------------------------------------------------- multi-head


def test_split_and_merge_heads_are_inverse_and_take_column_blocks():
    Z = torch.arange(2 * 3 * 6, dtype=DT).reshape(2, 3, 6)
    H = split_heads(Z, 3)
    assert H.shape == (2, 3, 3, 2)
    assert torch.equal(H[:, 1], Z[:, :, 2:4])         # head 1 = columns 2, 3
    assert torch.equal(merge_heads(H), Z)


@pytest.mark.parametrize("h", [1, 2, 4])
@pytest.mark.parametrize("cross", [False, True])
def test_lecture_form_equals_qkv_form(h, cross):
    """softmax(X L_j R_j C^T / sqrt(l)) C P_j, concatenated, times O == the Q/K/V computation."""
    g = torch.Generator().manual_seed(10 + h)
    B, n, m, d = 2, 5, 7, 8
    X = _randn(g, B, n, d)
    C = _randn(g, B, m, d) if cross else None
    W_Q, W_K, W_V, W_O = _weights(g, d)
    mask = None if cross else causal_mask(n, dtype=DT)
    Y, A = multi_head_attention(X, W_Q, W_K, W_V, W_O, h, C=C, mask=mask)
    L, R, P, O = lecture_weights(W_Q, W_K, W_V, W_O, h)
    assert L.shape == (h, d, d // h) and R.shape == (h, d // h, d) and P.shape == (h, d, d // h)
    Y2, A2 = lecture_self_attention(X, L, R, P, O, C=C, mask=mask)
    torch.testing.assert_close(Y2, Y)
    torch.testing.assert_close(A2, A)
    # Each head's bilinear form X L_j R_j C^T has rank at most l = d / h.
    for j in range(h):
        assert torch.linalg.matrix_rank(L[j] @ R[j]) <= d // h


@pytest.mark.parametrize("h", [1, 2, 4])
def test_multi_head_attention_equals_torch_mha(h):
    g = torch.Generator().manual_seed(20 + h)
    B, n, m, d = 3, 6, 4, 8
    X, C = _randn(g, B, n, d), _randn(g, B, m, d)
    W_Q, W_K, W_V, W_O = _weights(g, d)
    b_Q, b_K, b_V, b_O = (_randn(g, d) for _ in range(4))
    mha = torch.nn.MultiheadAttention(d, h, batch_first=True, dtype=DT)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([W_Q.T, W_K.T, W_V.T]))   # torch.nn stores W^T
        mha.in_proj_bias.copy_(torch.cat([b_Q, b_K, b_V]))
        mha.out_proj.weight.copy_(W_O.T)
        mha.out_proj.bias.copy_(b_O)
    kw = dict(b_Q=b_Q, b_K=b_K, b_V=b_V, b_O=b_O)
    # self-attention with the causal mask
    M = causal_mask(n, dtype=DT)
    Y, A = multi_head_attention(X, W_Q, W_K, W_V, W_O, h, mask=M, **kw)
    Y_t, A_t = mha(X, X, X, attn_mask=M, average_attn_weights=False)
    torch.testing.assert_close(Y, Y_t)
    torch.testing.assert_close(A, A_t)
    # cross-attention to C
    Y, A = multi_head_attention(X, W_Q, W_K, W_V, W_O, h, C=C, **kw)
    Y_t, A_t = mha(X, C, C, average_attn_weights=False)
    torch.testing.assert_close(Y, Y_t)
    torch.testing.assert_close(A, A_t)


def test_module_round_trips_through_torch():
    g = torch.Generator().manual_seed(30)
    X = _randn(g, 2, 5, 12)
    mine = MultiHeadAttention(12, 3).double()
    with torch.no_grad():
        for p in mine.parameters():
            p.copy_(_randn(g, *p.shape) / 3)
    theirs = mine.to_torch()
    torch.testing.assert_close(mine(X), theirs(X, X, X, need_weights=False)[0])
    other = MultiHeadAttention(12, 3).double().load_torch(theirs)
    torch.testing.assert_close(other(X), mine(X))
    out = mine.attend(X)
    assert out.A.shape == (2, 3, 5, 5) and out.K.shape == (2, 3, 5, 4) and out.V.shape == (2, 3, 5, 4)


def test_module_key_padding_mask_broadcasts():
    """A (B, 1, 1, m) bool mask hides padded keys: outputs equal those of the unpadded context."""
    g = torch.Generator().manual_seed(31)
    mha = MultiHeadAttention(8, 2).double()
    X, C = _randn(g, 1, 3, 8), _randn(g, 1, 4, 8)
    padded = torch.cat([C, _randn(g, 1, 2, 8)], dim=1)
    keep = torch.tensor([[True] * 4 + [False] * 2])[:, None, None, :]
    torch.testing.assert_close(mha(X, padded, mask=keep), mha(X, C))


def test_permutation_equivariance_without_positions():
    """Self-attention treats its rows as a set: permuting X permutes Y (why positions are needed)."""
    g = torch.Generator().manual_seed(32)
    mha = MultiHeadAttention(8, 2).double()
    X = _randn(g, 1, 6, 8)
    perm = torch.randperm(6, generator=g)
    torch.testing.assert_close(mha(X[:, perm]), mha(X)[:, perm])


def test_multi_head_bad_inputs():
    g = torch.Generator().manual_seed(33)
    X = _randn(g, 2, 5, 8)
    W = _weights(g, 8)
    with pytest.raises(ValueError, match="divisible"):
        multi_head_attention(X, *W, 3)
    with pytest.raises(ValueError, match=r"X: expected 3-D tensor of shape \(B, n, d\)"):
        multi_head_attention(X[0], *W, 2)
    with pytest.raises(ValueError, match="W_K"):
        multi_head_attention(X, W[0], _randn(g, 8, 4), W[2], W[3], 2)
    with pytest.raises(TypeError, match="dtype"):
        multi_head_attention(X, W[0].float(), *W[1:], 2)
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 4)


# ------------------------------------------------------------------- positions


def test_sinusoidal_encoding_formula():
    n, d = 7, 10
    PE = sinusoidal_positional_encoding(n, d, dtype=DT)
    for t in range(n):
        for i in range(d // 2):
            w = 10000.0 ** (-2 * i / d)
            assert math.isclose(PE[t, 2 * i], math.sin(t * w), abs_tol=1e-12)
            assert math.isclose(PE[t, 2 * i + 1], math.cos(t * w), abs_tol=1e-12)
    torch.testing.assert_close(sinusoidal_positional_encoding(3, d, offset=4, dtype=DT), PE[4:7])
    assert sinusoidal_positional_encoding(5, 7).shape == (5, 7)


def test_sinusoidal_offset_is_a_rotation():
    """PE[t + k] = PE[t] R_k for one matrix R_k (block rotations) for every t."""
    n, d, k = 40, 16, 5
    PE = sinusoidal_positional_encoding(n + k, d, dtype=DT)
    R = torch.zeros(d, d, dtype=DT)
    for i in range(d // 2):
        a = k * 10000.0 ** (-2 * i / d)
        # (sin(x + a), cos(x + a)) = (sin x cos a + cos x sin a, cos x cos a - sin x sin a)
        R[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.tensor([[math.cos(a), -math.sin(a)],
                                                            [math.sin(a), math.cos(a)]], dtype=DT)
    torch.testing.assert_close(PE[:n] @ R, PE[k:])


def test_sinusoidal_bad_arguments():
    with pytest.raises(ValueError, match="d"):
        sinusoidal_positional_encoding(4, 0)
    with pytest.raises(ValueError, match="offset"):
        sinusoidal_positional_encoding(4, 8, offset=-1)
