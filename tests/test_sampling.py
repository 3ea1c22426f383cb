"""Samplers (seqmodels.decoding): filters against direct definitions, draws against frequencies."""

from __future__ import annotations

import math

import pytest
import torch

from seqmodels.decoding import (apply_temperature, nucleus_filter, sample, sample_next, table_step,
                                top_k_filter)

DT = torch.float64


def random_log_probs(N, V, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.log_softmax(torch.randn(N, V, generator=g, dtype=DT) * 2, dim=-1)


def test_temperature_is_a_renormalized_power():
    lp = random_log_probs(4, 7, 0)
    for tau in (0.3, 1.0, 2.5):
        p = lp.exp() ** (1 / tau)
        torch.testing.assert_close(apply_temperature(lp, tau).exp(), p / p.sum(-1, keepdim=True))
    # tau -> 0 concentrates on the argmax, large tau flattens towards uniform.
    cold = apply_temperature(lp, 0.01).exp()
    assert torch.equal(cold.argmax(-1), lp.argmax(-1)) and (cold.max(-1).values > 0.99).all()
    hot = apply_temperature(lp, 100.0).exp()
    assert (hot - 1 / 7).abs().max() < 0.02
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(lp, 0.0)


@pytest.mark.parametrize("k", [1, 3, 7, 20])
def test_top_k_keeps_the_k_most_probable(k):
    lp = random_log_probs(5, 7, 1)
    out = top_k_filter(lp, k)
    kept = torch.isfinite(out)
    assert (kept.sum(-1) == min(k, 7)).all(), f"expected {min(k, 7)} tokens kept per row"
    for n in range(5):
        expected = set(lp[n].argsort(descending=True)[:k].tolist())
        assert set(kept[n].nonzero().flatten().tolist()) == expected
        p = lp[n].exp() * kept[n]
        torch.testing.assert_close(out[n].exp(), p / p.sum())


def test_top_k_breaks_ties_to_exactly_k():
    lp = torch.log(torch.tensor([[0.25, 0.25, 0.25, 0.25]], dtype=DT))
    assert torch.isfinite(top_k_filter(lp, 2)).sum() == 2


def nucleus_oracle(p_row, top_p):
    """Smallest set of most probable tokens with mass >= top_p, by trying sizes 1, 2, ..."""
    order = sorted(range(len(p_row)), key=lambda i: -p_row[i])
    for size in range(1, len(order) + 1):
        if sum(p_row[i] for i in order[:size]) >= top_p - 1e-12:
            return set(order[:size])
    return set(order)


@pytest.mark.parametrize("top_p", [0.05, 0.3, 0.6, 0.9, 0.99, 1.0])
def test_nucleus_keeps_the_smallest_set_reaching_p(top_p):
    lp = random_log_probs(6, 8, 2)
    out = nucleus_filter(lp, top_p)
    for n in range(6):
        kept = set(torch.isfinite(out[n]).nonzero().flatten().tolist())
        assert kept == nucleus_oracle(lp[n].exp().tolist(), top_p), f"row {n}, p = {top_p}"
        p = lp[n].exp() * torch.isfinite(out[n])
        torch.testing.assert_close(out[n].exp(), p / p.sum())


def test_sample_next_draws_from_the_filtered_distribution():
    lp = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]], dtype=DT)).expand(20000, 4)
    g = torch.Generator().manual_seed(3)
    for kwargs, expected in [({}, [0.5, 0.3, 0.15, 0.05]),
                             ({"top_k": 2}, [0.625, 0.375, 0, 0]),
                             ({"top_p": 0.9}, [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0]),
                             ({"temperature": 0.5}, [x ** 2 / 0.365 for x in (0.5, 0.3, 0.15, 0.05)])]:
        tokens = sample_next(lp, generator=g, **kwargs)
        freq = torch.bincount(tokens, minlength=4).to(DT) / tokens.numel()
        # 20000 draws: standard error <= 0.0036, so 0.02 is over 5 sigma.
        assert (freq - torch.tensor(expected, dtype=DT)).abs().max() < 0.02, f"{kwargs}: {freq.tolist()}"


def test_sample_next_greedy_limits():
    lp = random_log_probs(50, 9, 4)
    assert torch.equal(sample_next(lp, temperature=0), lp.argmax(-1))
    g = torch.Generator().manual_seed(0)
    assert torch.equal(sample_next(lp, top_k=1, generator=g), lp.argmax(-1))
    assert torch.equal(sample_next(lp, top_p=1e-9, generator=g), lp.argmax(-1))


def bigram_step(V, seed):
    """log P(next | last token) from a random table; no state."""
    table = random_log_probs(V, V, seed)
    return table, lambda prefix, state: (table[prefix[:, -1]], state)


def test_sample_scores_outputs_under_the_model_and_stops_at_end():
    V, eos, bos = 6, 0, 5
    table, step = bigram_step(V, 5)
    g = torch.Generator().manual_seed(6)
    out = sample(step, bos=torch.full((200,), bos), eos=eos, max_len=12, temperature=0.7, top_k=4,
                 generator=g)
    assert out.tokens.shape[:2] == (200, 1)
    for b in range(200):
        tokens = out.sequences(b)[0]
        L = len(tokens)
        assert eos not in tokens[:-1], "a sample went on after <end>"
        assert bool(out.finished[b, 0]) == (tokens[-1] == eos)
        assert L == 12 or tokens[-1] == eos
        prev = [bos] + tokens[:-1]
        expected = sum(float(table[a, v]) for a, v in zip(prev, tokens))
        assert abs(out.log_probs[b, 0].item() - expected) < 1e-10, "log_probs must be under the model"
        for a, v in zip(prev, tokens):
            assert v in table[a].topk(4).indices.tolist(), "top_k=4 drew a token outside the top 4"


def test_sample_is_reproducible_with_a_generator():
    _, step = bigram_step(5, 7)
    run = lambda seed: sample(step, bos=torch.full((30,), 4), eos=0, max_len=10,  # noqa: E731
                              generator=torch.Generator().manual_seed(seed)).tokens
    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_sample_with_temperature_0_is_greedy():
    from seqmodels.decoding import greedy_search

    _, step = bigram_step(6, 8)
    bos = torch.arange(6)
    a = sample(step, bos=bos, eos=0, max_len=9, temperature=0)
    b = greedy_search(step, bos=bos, eos=0, max_len=9)
    assert torch.equal(a.tokens, b.tokens)


def test_sampler_options_are_checked():
    step = table_step({(): [0.5, 0.5]}, 2)
    for kwargs, word in [({"temperature": -1}, "temperature"), ({"top_k": 0}, "top_k"),
                         ({"top_p": 1.5}, "top_p")]:
        with pytest.raises(ValueError, match=word):
            sample(step, bos=1, eos=0, max_len=3, **kwargs)
    with pytest.raises(ValueError, match="log_probs"):
        sample_next(torch.zeros(3))
    assert math.isinf(float(top_k_filter(random_log_probs(1, 3, 0), 1).min()))
