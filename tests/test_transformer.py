"""Transformer blocks and LMs (chapter 9): equal to torch.nn layers with copied weights, no
future leakage, KV-cache decoding equals full recomputation (also through beam search)."""

import math

import pytest
import torch

from seqmodels.transformer import causal_mask
from seqmodels.decoding import beam_search, greedy_search
from seqmodels.transformer import (DecoderBlock, EncoderBlock, PositionwiseMLP, TransformerLM,
                                   TransformerSeq2Seq)

DT = torch.float64


def _randomize(module, g, scale=0.5):
    """Random weights everywhere (LayerNorm gains and biases too), so no parameter goes untested."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * scale)
    return module


def test_mlp_formula():
    g = torch.Generator().manual_seed(0)
    mlp = _randomize(PositionwiseMLP(6, 24).double(), g)
    Y = torch.randn(2, 3, 6, generator=g, dtype=DT)
    expected = torch.relu(Y @ mlp.W + mlp.b) @ mlp.V + mlp.c
    torch.testing.assert_close(mlp(Y), expected)
    # position-wise: one row's output depends on that row only
    Y2 = Y.clone()
    Y2[:, 1] += 1
    torch.testing.assert_close(mlp(Y2)[:, [0, 2]], mlp(Y)[:, [0, 2]])


@pytest.mark.parametrize("norm_first", [True, False])
def test_encoder_block_equals_torch(norm_first):
    g = torch.Generator().manual_seed(1)
    block = _randomize(EncoderBlock(8, 2, 16, norm_first=norm_first).double(), g)
    X = torch.randn(3, 5, 8, generator=g, dtype=DT)
    torch.testing.assert_close(block(X), block.to_torch()(X))


@pytest.mark.parametrize("norm_first", [True, False])
def test_decoder_block_equals_torch(norm_first):
    g = torch.Generator().manual_seed(2)
    block = _randomize(DecoderBlock(8, 4, 12, norm_first=norm_first).double(), g)
    X, C = torch.randn(3, 5, 8, generator=g, dtype=DT), torch.randn(3, 7, 8, generator=g, dtype=DT)
    Y, (K, V) = block(X, C)
    expected = block.to_torch()(X, C, tgt_mask=causal_mask(5, dtype=DT), tgt_is_causal=True)
    torch.testing.assert_close(Y, expected)
    assert K.shape == V.shape == (3, 4, 5, 2)


def test_pre_and_post_norm_differ():
    """The two orders are different functions of the same weights (the test above can tell them apart)."""
    g = torch.Generator().manual_seed(3)
    pre = _randomize(EncoderBlock(8, 2, 16, norm_first=True).double(), g)
    post = EncoderBlock(8, 2, 16, norm_first=False).double()
    post.load_state_dict(pre.state_dict())
    X = torch.randn(2, 4, 8, generator=g, dtype=DT)
    assert not torch.allclose(pre(X), post(X))


def _lm(g, norm_first=True, vocab=13):
    return _randomize(TransformerLM(vocab, d=16, num_heads=4, n_layers=2, k=32,
                                    norm_first=norm_first).double(), g, scale=0.3).eval()


@pytest.mark.parametrize("norm_first", [True, False])
def test_lm_no_future_leakage(norm_first):
    """Changing tokens t..n-1 leaves the logits of positions < t unchanged, and changes position t's."""
    g = torch.Generator().manual_seed(4)
    lm = _lm(g, norm_first)
    tokens = torch.randint(0, 13, (2, 9), generator=g)
    logits = lm(tokens)
    for t in (1, 4, 8):
        changed = tokens.clone()
        changed[:, t:] = (changed[:, t:] + 1 + torch.randint(0, 11, changed[:, t:].shape, generator=g)) % 13
        new = lm(changed)
        torch.testing.assert_close(new[:, :t], logits[:, :t], rtol=0, atol=1e-12)
        assert not torch.allclose(new[:, t], logits[:, t])


def test_lm_gradient_has_no_future_dependence():
    """d logits[t] / d X[s] = 0 for s > t, measured by autograd on the embedded input."""
    g = torch.Generator().manual_seed(5)
    lm = _lm(g)
    tokens = torch.randint(0, 13, (1, 6), generator=g)
    X = lm.decoder.embed(tokens).detach().requires_grad_(True)
    H = X
    for block in lm.decoder.blocks:
        H, _ = block(H)
    out = lm.decoder.out(lm.decoder.ln_f(H))
    for t in range(6):
        (grad,) = torch.autograd.grad(out[0, t].sum(), X, retain_graph=True)
        assert torch.all(grad[0, t + 1:] == 0), f"position {t} depends on later positions"
        assert torch.all(grad[0, : t + 1].abs().sum(-1) > 0), f"position {t} ignores an earlier position"


def test_kv_cache_equals_full_recomputation():
    g = torch.Generator().manual_seed(6)
    lm = _lm(g)
    tokens = torch.randint(0, 13, (3, 10), generator=g)
    full = lm(tokens)
    logits, past = lm.forward_cached(tokens[:, :4])
    pieces = [logits]
    for t in range(4, 10):                      # one token at a time
        logits, past = lm.forward_cached(tokens[:, t:t + 1], past)
        pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, 1), full)
    assert len(past) == 2 and past[0][0].shape == (3, 4, 10, 4)


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_cached_decoding_equals_uncached(search):
    g = torch.Generator().manual_seed(7)
    lm = _lm(g)
    bos = torch.tensor([2, 5])
    if search == "greedy":
        run = lambda step: greedy_search(step, bos=bos, eos=0, max_len=12)  # noqa: E731
    else:
        run = lambda step: beam_search(step, bos=bos, eos=0, beam_size=4, max_len=12)  # noqa: E731
    cached, full = run(lm.step_fn()), run(lm.step_fn(use_cache=False))
    assert torch.equal(cached.tokens, full.tokens)
    torch.testing.assert_close(cached.log_probs, full.log_probs)
    # and the scores are the model's: recompute the best output's log-probability directly
    seq = [int(bos[0])] + cached.sequences(0)[0]
    with torch.no_grad():
        lp = torch.log_softmax(lm(torch.tensor([seq])).float(), -1)[0, :-1].gather(1, torch.tensor(seq[1:])[:, None])
    assert math.isclose(float(lp.sum()), float(cached.log_probs[0, 0]), rel_tol=1e-5)


def test_step_rejects_a_stale_cache():
    g = torch.Generator().manual_seed(8)
    lm = _lm(g)
    step = lm.step_fn()
    _, state = step(torch.tensor([[1, 2, 3]]), None)
    with pytest.raises(ValueError, match="cache holds 3 positions"):
        step(torch.tensor([[1, 2, 3, 4, 5]]), state)


def test_lm_bad_tokens():
    lm = TransformerLM(5, d=8, num_heads=2, n_layers=1)
    with pytest.raises(ValueError, match=r"token ids must lie in \[0, V\) = \[0, 5\)"):
        lm(torch.tensor([[1, 7]]))
    with pytest.raises(TypeError, match="torch.long"):
        lm(torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"tokens: expected 2-D tensor of shape \(B, n\)"):
        lm(torch.tensor([1, 2]))


def test_seq2seq_padding_cache_and_conditioning():
    g = torch.Generator().manual_seed(9)
    model = _randomize(TransformerSeq2Seq(7, 9, d=16, num_heads=2, n_enc=2, n_dec=2, k=24).double(),
                       g, scale=0.3).eval()
    src = torch.randint(1, 7, (2, 5), generator=g)
    tgt = torch.randint(0, 9, (2, 6), generator=g)
    logits = model(src, tgt)
    # padding: appending masked pad tokens to the source changes nothing
    padded = torch.cat([src, torch.zeros(2, 3, dtype=torch.long)], 1)
    mask = torch.cat([torch.ones(2, 5, dtype=torch.bool), torch.zeros(2, 3, dtype=torch.bool)], 1)
    torch.testing.assert_close(model(padded, tgt, mask), logits)
    # conditioning: another source changes the prediction
    assert not torch.allclose(model(src.flip(1), tgt), logits)
    # cached decoding equals recomputation
    step = model.step_fn()
    state = model.initial_state(src)
    out = greedy_search(step, state, bos=torch.tensor([1, 1]), eos=0, max_len=8)
    for b in range(2):
        seq = [1] + out.tokens[b, 0, : int(out.lengths[b, 0])].tolist()
        full = model(src[b:b + 1], torch.tensor([seq[:-1]]))
        assert full[0].argmax(-1).tolist() == seq[1:]
