"""Tests for seqmodels.embeddings: losses and hand-derived gradients against autograd,
subsampling, window pairs against brute force, and the trainer on a tiny synthetic corpus."""

import math

import pytest
import torch

from seqmodels.embeddings import (
    build_corpus,
    cbow_contexts,
    cbow_ns_grad,
    cbow_ns_loss,
    sgns_grad,
    sgns_loss,
    softmax_loss,
    subsample,
    subsample_keep_probs,
    train_word2vec,
    window_pairs,
)


def _rand(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def test_sgns_loss_matches_formula_for_one_pair():
    w = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    c = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    n = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    sig = lambda x: 1 / (1 + math.exp(-x))
    expected = -math.log(sig(-1.5)) - math.log(sig(-1.0)) - math.log(sig(-2.0))
    assert sgns_loss(w, c, n).item() == pytest.approx(expected, rel=1e-12)


def test_sgns_grad_matches_autograd():
    gen = torch.Generator().manual_seed(0)
    w, c, n = _rand(gen, 6, 4), _rand(gen, 6, 4), _rand(gen, 6, 3, 4)
    leaves = [t.clone().requires_grad_(True) for t in (w, c, n)]
    sgns_loss(*leaves).sum().backward()
    for name, mine, ref in zip(("w", "c_pos", "c_neg"), sgns_grad(w, c, n), leaves):
        torch.testing.assert_close(mine, ref.grad, msg=f"gradient for {name} differs from autograd")


def test_cbow_grad_matches_autograd_with_padding():
    gen = torch.Generator().manual_seed(1)
    w_ctx, c, n = _rand(gen, 5, 4, 3), _rand(gen, 5, 3), _rand(gen, 5, 2, 3)
    mask = torch.tensor([[1, 1, 1, 1], [1, 0, 0, 0], [0, 1, 1, 0], [1, 1, 0, 1], [1, 0, 1, 0]], dtype=torch.bool)
    leaves = [t.clone().requires_grad_(True) for t in (w_ctx, c, n)]
    cbow_ns_loss(leaves[0], mask, leaves[1], leaves[2]).sum().backward()
    for name, mine, ref in zip(("w_ctx", "c_pos", "c_neg"), cbow_ns_grad(w_ctx, mask, c, n), leaves):
        torch.testing.assert_close(mine, ref.grad, msg=f"gradient for {name} differs from autograd")
    assert (cbow_ns_grad(w_ctx, mask, c, n)[0][~mask] == 0).all(), "padded context slots must get no gradient"


def test_softmax_loss_matches_log_softmax():
    gen = torch.Generator().manual_seed(2)
    h, C = _rand(gen, 4, 3), _rand(gen, 7, 3)
    y = torch.tensor([0, 6, 3, 3])
    expected = -torch.log_softmax(h @ C.T, dim=1)[torch.arange(4), y]
    torch.testing.assert_close(softmax_loss(h, C, y), expected)


def test_shape_errors_are_clear():
    w = torch.zeros(4, 3)
    with pytest.raises(ValueError, match=r"c_neg: expected 3-D tensor of shape \(B, K, D\)"):
        sgns_loss(w, torch.zeros(4, 3), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="c_pos: expected shape"):
        sgns_grad(w, torch.zeros(5, 3), torch.zeros(4, 2, 3))


def test_subsample_keep_probs_formulas():
    counts = torch.tensor([900.0, 90.0, 9.0, 1.0])     # f = 0.9, 0.09, 0.009, 0.001
    t = 0.01
    paper = subsample_keep_probs(counts, t, formula="paper")
    torch.testing.assert_close(paper, torch.tensor([math.sqrt(t / 0.9), math.sqrt(t / 0.09), 1.0, 1.0],
                                                   dtype=torch.float64))
    code = subsample_keep_probs(counts, t)
    f = counts.double() / 1000
    torch.testing.assert_close(code, torch.minimum(((f / t).sqrt() + 1) * t / f, torch.ones(4, dtype=torch.float64)))
    assert code[0] < code[1] < 1 and code[3] == 1


def test_subsample_rate_matches_probability():
    gen = torch.Generator().manual_seed(3)
    keep = torch.tensor([0.2, 1.0], dtype=torch.float64)
    ids = torch.zeros(50_000, dtype=torch.long)
    ids[::2] = 1
    kept = subsample(ids, keep, gen)
    assert kept[ids == 1].all()
    rate = kept[ids == 0].double().mean().item()
    assert abs(rate - 0.2) < 0.01, rate


def _brute_pairs(n, radius, sent):
    return sorted((i, j) for i in range(n) for j in range(n)
                  if 1 <= abs(i - j) <= radius[i] and sent[i] == sent[j])


@pytest.mark.parametrize("dynamic", [False, True])
def test_window_pairs_match_brute_force(dynamic):
    n, R = 23, 3
    sent = torch.tensor([0] * 7 + [1] * 1 + [2] * 15)
    pairs = window_pairs(n, R, dynamic=dynamic, sentence_ids=sent, generator=torch.Generator().manual_seed(4))
    if dynamic:   # the same generator state gives the same radii
        radius = torch.randint(1, R + 1, (n,), generator=torch.Generator().manual_seed(4)).tolist()
    else:
        radius = [R] * n
    got = sorted(zip(*(p.tolist() for p in pairs)))
    assert got == _brute_pairs(n, radius, sent.tolist())


def test_cbow_contexts_agree_with_window_pairs():
    n, R = 30, 4
    sent = torch.tensor([0] * 12 + [1] * 18)
    pos, mask = cbow_contexts(n, R, sentence_ids=sent, generator=torch.Generator().manual_seed(5))
    centres, contexts = window_pairs(n, R, sentence_ids=sent, generator=torch.Generator().manual_seed(5))
    from_cbow = sorted((i, int(pos[i, m])) for i in range(n) for m in range(2 * R) if mask[i, m])
    assert from_cbow == sorted(zip(centres.tolist(), contexts.tolist()))


def test_build_corpus_drops_rare_words_and_keeps_sentence_ids():
    sents = [["a", "b", "a", "z"], ["b", "a"], ["c", "c", "b"]]
    ids, sid, itos, counts = build_corpus(sents, min_count=2)
    assert itos == ["a", "b", "c"]
    assert counts.tolist() == [3, 3, 2]
    assert [itos[i] for i in ids] == ["a", "b", "a", "b", "a", "c", "c", "b"]
    assert sid.tolist() == [0, 0, 0, 1, 1, 2, 2, 2]
    with pytest.raises(ValueError, match="min_count"):
        build_corpus(sents, min_count=10)


def _two_topic_corpus(gen, n_sent=300, length=10):
    """Words 0-9 only co-occur with each other, words 10-19 likewise."""
    topic = torch.randint(0, 2, (n_sent,), generator=gen)
    words = torch.randint(0, 10, (n_sent, length), generator=gen) + 10 * topic[:, None]
    return words.reshape(-1), torch.arange(n_sent).repeat_interleave(length)


@pytest.mark.parametrize("model, loss", [("skipgram", "ns"), ("cbow", "ns"), ("skipgram", "softmax"),
                                         ("cbow", "softmax")])
def test_trainer_separates_two_topics(model, loss):
    gen = torch.Generator().manual_seed(6)
    ids, sid = _two_topic_corpus(gen)
    counts = torch.bincount(ids, minlength=20)
    r = train_word2vec(ids, counts, dim=8, window=3, negatives=3, model=model, loss=loss, epochs=2,
                       sentence_ids=sid, batch_size=128, sample=None, seed=0, lr=0.1 if loss == "ns" else 0.02, average_rows=False)
    U = torch.nn.functional.normalize(r.W, dim=1)
    sim = U @ U.T
    topic = torch.arange(20) // 10
    same = sim[(topic[:, None] == topic[None, :]) & ~torch.eye(20, dtype=torch.bool)].mean()
    other = sim[topic[:, None] != topic[None, :]].mean()
    assert same - other > 0.2, f"{model}/{loss}: same-topic cos {same:.2f} vs other-topic {other:.2f}"
    nearest = (sim - 2 * torch.eye(20)).argmax(1)
    assert (topic[nearest] == topic).float().mean() >= 0.9, "nearest neighbours should share the topic"
    assert r.losses[-1] < r.losses[0], "the loss should go down"
    assert r.words == ids.numel() * 2 and r.words_per_second > 0


def test_ns_step_is_one_sgd_step_on_the_summed_loss():
    """One batch through the trainer equals a manual SGD step computed with autograd."""
    gen = torch.Generator().manual_seed(7)
    ids = torch.tensor([0, 1, 2, 1, 0, 3, 2])
    counts = torch.bincount(ids, minlength=4)
    kw = dict(dim=5, window=2, negatives=2, epochs=1, lr=0.3, min_lr=0.3, sample=None, batch_size=10_000,
              dynamic_window=False, seed=11, average_rows=False)
    r = train_word2vec(ids, counts, **kw)
    # Rebuild the same random draws: init, window radius (not drawn: fixed), permutation, negatives.
    g = torch.Generator().manual_seed(11)
    W0 = (torch.rand(4, 5, generator=g) - 0.5) / 5
    C0 = torch.zeros(4, 5)
    centres, contexts = window_pairs(7, 2, dynamic=False)
    order = torch.randperm(centres.numel(), generator=g)
    from seqmodels.embeddings import NoiseSampler
    neg = NoiseSampler(counts).sample(centres.numel(), 2, generator=g)
    x, y = ids[centres[order]], ids[contexts[order]]
    W, C = W0.clone().requires_grad_(True), C0.clone().requires_grad_(True)
    sgns_loss(W[x], C[y], C[neg]).sum().backward()
    torch.testing.assert_close(r.W, W0 - 0.3 * W.grad)
    torch.testing.assert_close(r.C, C0 - 0.3 * C.grad)


def test_trainer_rejects_bad_input():
    counts = torch.tensor([3, 2])
    with pytest.raises(ValueError, match=r"ids: word ids must lie in \[0, V\) = \[0, 2\)"):
        train_word2vec(torch.tensor([0, 5]), counts)
    with pytest.raises(ValueError, match="model: expected one of"):
        train_word2vec(torch.tensor([0, 1]), counts, model="glove")
    with pytest.raises(TypeError, match="ids"):
        train_word2vec(torch.tensor([0.0, 1.0]), counts)


@pytest.mark.gpu
def test_trainer_on_cuda():
    gen = torch.Generator().manual_seed(8)
    ids, sid = _two_topic_corpus(gen, n_sent=200)
    counts = torch.bincount(ids, minlength=20)
    r = train_word2vec(ids, counts, dim=8, window=3, epochs=2, sentence_ids=sid, batch_size=256, device="cuda",
                       sample=None, lr=0.1)
    assert r.W.device.type == "cuda" and torch.isfinite(r.W).all()
