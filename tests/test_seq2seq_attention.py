"""Attention (seqmodels.seq2seq) against the formulas written one word at a time,
finite differences, and unpadded computations; BLEU (seqmodels.seq2seq) against sacrebleu."""

import math

import pytest
import torch
from torch.testing import assert_close

from seqmodels.seq2seq import (Attention, additive_energies, attention_context, bleu_from_tokens, lecture_attention,
                               length_mask, masked_softmax, multiplicative_energies, sacre_bleu)

F64 = torch.float64


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=F64)


def brute_force_lecture(s, F, V, lengths, scale=1.0):
    """r = V s, u_i = scale * f_i . r, a = softmax over the real words, c = sum_i a_i f_i;
    one sentence at a time."""
    B, S, D = F.shape
    c_all, a_all = torch.zeros(B, D, dtype=F64), torch.zeros(B, S, dtype=F64)
    for b in range(B):
        r = V @ s[b]
        u = [scale * float(F[b, i] @ r) for i in range(lengths[b])]
        z = sum(math.exp(x) for x in u)
        for i in range(lengths[b]):
            a_all[b, i] = math.exp(u[i]) / z
            c_all[b] += a_all[b, i] * F[b, i]
    return c_all, a_all


def make_case(seed, B=4, S=6, D_f=5, H_s=3):
    g = torch.Generator().manual_seed(seed)
    lengths = [S, 2, 1, 4][:B]
    return (randn(g, B, H_s), randn(g, B, S, D_f), randn(g, D_f, H_s), lengths,
            length_mask(lengths, S, batch_first=True))


def test_padding_mask_marks_real_words():
    m = length_mask([3, 1], 4, batch_first=True)
    assert m.tolist() == [[True, True, True, False], [True, False, False, False]]
    assert length_mask(torch.tensor([2, 5]), batch_first=True).shape == (2, 5)


def test_lecture_attention_matches_word_by_word_formula():
    s, F, V, lengths, mask = make_case(0)
    c, a = lecture_attention(s, F, V, mask)
    c_ref, a_ref = brute_force_lecture(s, F, V, lengths)
    assert_close(a, a_ref)
    assert_close(c, c_ref)


def test_scaled_lecture_attention_matches_word_by_word_formula():
    # u_i = f_i^T V s / sqrt(D_f); D_f = 64 and large states make the unscaled softmax saturate,
    # so the scaled and unscaled weights must differ visibly (the scaling is not a no-op).
    g = torch.Generator().manual_seed(11)
    B, S, D_f, H_s = 3, 7, 64, 8
    lengths = [7, 3, 1]
    s, F, mask = 3 * randn(g, B, H_s), randn(g, B, S, D_f), length_mask(lengths, S, batch_first=True)
    att = Attention("lecture_scaled", H_s, D_f, dtype=F64, generator=g)
    c, a = att(s, F, mask)
    c_ref, a_ref = brute_force_lecture(s, F, att.V.detach(), lengths, scale=1 / math.sqrt(D_f))
    assert_close(a, a_ref)
    assert_close(c, c_ref)
    _, a_unscaled = brute_force_lecture(s, F, att.V.detach(), lengths)
    assert (a_unscaled[0] - a_ref[0]).abs().max() > 0.05
    assert a_ref[2, 0] == 1 and (a_ref[2, 1:] == 0).all()          # one real word: all weight on it


def test_seq2seq_accepts_scaled_lecture_attention():
    from seqmodels.seq2seq import Seq2Seq, batch_pairs
    model = Seq2Seq(7, 7, emb_size=4, hidden_size=5, attention="lecture_scaled",
                    generator=torch.Generator().manual_seed(0))
    src, lengths, tgt = batch_pairs([([3, 4, 5], [4, 3]), ([5, 6], [6])])
    logits, attn = model(src, lengths, tgt[:-1])
    assert logits.shape == (tgt.shape[0] - 1, 2, 7) and attn.shape == (tgt.shape[0] - 1, 2, 3)
    assert_close(attn.sum(-1), torch.ones(attn.shape[:2]))


def test_padding_gets_zero_weight_and_no_influence():
    s, F, V, lengths, mask = make_case(1)
    c, a = lecture_attention(s, F, V, mask)
    assert (a[~mask] == 0).all(), "padded positions must get weight exactly 0"
    assert_close(a.sum(1), torch.ones(4, dtype=F64))
    F2 = F.clone()
    F2[~mask] = 1e3  # garbage at padding changes nothing
    c2, a2 = lecture_attention(s, F2, V, mask)
    assert_close(c2, c)
    for b, L in enumerate(lengths):  # each sentence alone, unpadded
        c_b, a_b = lecture_attention(s[b:b + 1], F[b:b + 1, :L], V)
        assert_close(c_b[0], c[b])
        assert_close(a_b[0], a[b, :L])


def test_padding_receives_no_gradient():
    s, F, V, lengths, mask = make_case(2)
    F.requires_grad_(True)
    c, _ = lecture_attention(s, F, V, mask)
    c.sum().backward()
    assert (F.grad[~mask] == 0).all()
    assert (F.grad[mask] != 0).any()


def test_multiplicative_energies_are_the_lecture_energies():
    s, F, V, lengths, mask = make_case(3)
    u = multiplicative_energies(s, F, V)
    brute = torch.tensor([[float(F[b, i] @ (V @ s[b])) for i in range(F.shape[1])]
                          for b in range(F.shape[0])], dtype=F64)
    assert_close(u, brute)
    _, a = lecture_attention(s, F, V, mask)
    assert_close(masked_softmax(u, mask), a)


def test_dot_energies_and_context():
    g = torch.Generator().manual_seed(4)
    s, F = randn(g, 2, 5), randn(g, 2, 3, 5)
    u = multiplicative_energies(s, F)
    assert_close(u, torch.einsum("bsd,bd->bs", F, s))
    a = masked_softmax(u)
    assert_close(attention_context(a, F), sum(a[:, i, None] * F[:, i] for i in range(3)))


def test_additive_energies_match_formula():
    g = torch.Generator().manual_seed(5)
    s, F = randn(g, 3, 4), randn(g, 3, 5, 6)
    W_s, W_f, w = randn(g, 7, 4), randn(g, 7, 6), randn(g, 7)
    u = additive_energies(s, F, W_s, W_f, w)
    brute = torch.tensor([[float(w @ torch.tanh(W_s @ s[b] + W_f @ F[b, i])) for i in range(5)]
                          for b in range(3)], dtype=F64)
    assert_close(u, brute)


@pytest.mark.parametrize("kind", ["lecture", "lecture_scaled", "multiplicative", "dot", "scaled_dot",
                                  "additive"])
def test_attention_module_equals_functions(kind):
    g = torch.Generator().manual_seed(6)
    H_s = D_f = 5
    att = Attention(kind, H_s, D_f, attention_size=4, dtype=F64, generator=g)
    s, F = randn(g, 3, H_s), randn(g, 3, 4, D_f)
    mask = length_mask([4, 2, 3], 4, batch_first=True)
    c, a = att(s, F, mask)
    if kind == "additive":
        u = additive_energies(s, F, att.W_s, att.W_f, att.w)
    elif kind == "dot":
        u = multiplicative_energies(s, F)
    elif kind == "scaled_dot":
        u = multiplicative_energies(s, F) / math.sqrt(D_f)
    elif kind == "lecture_scaled":
        u = multiplicative_energies(s, F, att.V) / math.sqrt(D_f)
    else:
        u = multiplicative_energies(s, F, att.V)
    assert_close(a, masked_softmax(u, mask))
    assert_close(c, attention_context(a, F))
    c_keys, _ = att(s, F, mask, keys=att.keys(F))
    assert_close(c_keys, c)


@pytest.mark.parametrize("kind", ["lecture", "lecture_scaled", "additive"])
def test_attention_gradients_match_finite_differences(kind):
    g = torch.Generator().manual_seed(7)
    att = Attention(kind, 3, 4, attention_size=3, dtype=F64, generator=g)
    s = randn(g, 2, 3).requires_grad_(True)
    F = randn(g, 2, 5, 4).requires_grad_(True)
    mask = length_mask([5, 3], 5, batch_first=True)
    assert torch.autograd.gradcheck(lambda s, F: att(s, F, mask)[0], (s, F))


def test_bad_inputs_give_clear_errors():
    s, F, V, lengths, mask = make_case(8)
    with pytest.raises(ValueError, match="no real word"):
        masked_softmax(torch.zeros(2, 3), torch.tensor([[True, False, False], [False] * 3]))
    with pytest.raises(TypeError, match="bool"):
        masked_softmax(torch.zeros(2, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"V: expected shape \(D_f, H_s\) = \(5, 3\), got \(3, 5\)"):
        lecture_attention(s, F, V.T, mask)
    with pytest.raises(ValueError, match="mask"):
        lecture_attention(s, F, V, mask[:, :3])
    with pytest.raises(ValueError, match="state_size == source_size"):
        Attention("dot", 3, 4)
    with pytest.raises(ValueError, match="kind"):
        Attention("cosine", 3, 3)
    with pytest.raises(ValueError, match="at least one step"):
        length_mask([2, 0], batch_first=True)


# ---------------------------------------------------------------------------- BLEU


def random_corpus(g, n, vocab=3):
    words = [f"w{i}" for i in range(vocab)]
    def sent():
        L = int(torch.randint(3, 12, (1,), generator=g))
        return [words[int(i)] for i in torch.randint(vocab, (L,), generator=g)]
    return [sent() for _ in range(n)], [sent() for _ in range(n)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleu_from_scratch_equals_sacrebleu(seed):
    hyps, refs = random_corpus(torch.Generator().manual_seed(seed), 20)
    ours = bleu_from_tokens(hyps, refs)
    theirs = sacre_bleu([" ".join(h) for h in hyps], [" ".join(r) for r in refs],
                        tokenize="none", smooth="none")
    assert ours.score > 0
    assert ours.score == pytest.approx(theirs.score, rel=1e-9)
    assert ours.precisions == pytest.approx(theirs.precisions, rel=1e-9)
    assert ours.brevity_penalty == pytest.approx(theirs.brevity_penalty, rel=1e-9)


def test_bleu_hand_example():
    # hyp "a b c d e" vs ref "a b c d f g": p = 4/5, 3/4, 2/3, 1/2; BP = exp(1 - 6/5)
    st = bleu_from_tokens([list("abcde")], [list("abcdfg")])
    assert st.precisions == pytest.approx([4 / 5, 3 / 4, 2 / 3, 1 / 2])
    expected = 100 * math.exp(1 - 6 / 5) * (4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25
    assert st.score == pytest.approx(expected)
    # clipping: "the the the" against "the cat" matches "the" once
    assert bleu_from_tokens([["the"] * 3], [["the", "cat"]], max_n=1).precisions == [1 / 3]


def test_bleu_rejects_mismatched_corpora():
    with pytest.raises(ValueError, match="one to one"):
        bleu_from_tokens([["a"]], [["a"], ["b"]])
    with pytest.raises(TypeError, match="single string"):
        sacre_bleu("a b", "a b")


def test_scaled_dot_attention_is_the_transformers_with_one_query_per_sentence():
    from seqmodels.transformer import scaled_dot_product_attention
    g = torch.Generator().manual_seed(3)
    s, F = torch.randn(3, 6, generator=g, dtype=F64), torch.randn(3, 5, 6, generator=g, dtype=F64)
    mask = length_mask([5, 2, 4], 5, batch_first=True)
    c, a = Attention("scaled_dot", 6, 6, dtype=F64)(s, F, mask)
    c_t, a_t = scaled_dot_product_attention(s[:, None, :], F, F, mask[:, None, :])
    torch.testing.assert_close(c, c_t[:, 0])
    torch.testing.assert_close(a, a_t[:, 0])
