"""seqmodels.lm against a brute-force dictionary implementation of the formulas."""

import math
from collections import Counter

import pytest
import torch

from seqmodels.lm import distinct_ngrams, NGramLM, SMOOTHINGS

V = 6


def _stream(n_tokens=300, seed=0):
    gen = torch.Generator().manual_seed(seed)
    # tokens 0..4 only: token 5 never occurs in training (an unseen word)
    return torch.randint(0, 5, (n_tokens,), generator=gen).tolist()


def _oracle(train, n, smoothing, delta=1.0, lam=0.7, D=0.75):
    """P(w | h) straight from Counter tables, one query at a time."""
    raw = Counter()
    for k in range(1, n + 1):
        for i in range(len(train) - k + 1):
            raw[tuple(train[i:i + k])] += 1
    ngrams = set(raw)
    cont = Counter(g[1:] for g in ngrams if len(g) >= 2)  # N1+(. g)

    def c(g, counts):
        return counts.get(g, 0)

    def ctx_stats(h, counts, k):
        gs = [g for g in counts if len(g) == k and g[:-1] == h]
        return sum(counts[g] for g in gs), len(gs)

    def prob(h, w):
        h = tuple(h)[-(n - 1):] if n > 1 else ()
        if smoothing in ("mle", "add"):
            d = delta if smoothing == "add" else 0.0
            for m in range(len(h), -1, -1):
                hm = h[len(h) - m:]
                total, _ = ctx_stats(hm, raw, m + 1)
                if total > 0:
                    return (c(hm + (w,), raw) + d) / (total + d * V)
        p = 1.0 / V
        for m in range(0, len(h) + 1):
            hm = h[len(h) - m:]
            top = m == n - 1 or smoothing == "interpolated"
            counts = raw if top else cont
            total, types = ctx_stats(hm, counts, m + 1)
            if total == 0:
                continue
            cw = c(hm + (w,), counts)
            if smoothing == "interpolated":
                p = lam * cw / total + (1 - lam) * p
            else:
                p = max(cw - D, 0) / total + D * types / total * p
        return p

    return prob


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_probabilities_match_brute_force(smoothing, n):
    train = _stream()
    lm = NGramLM(train, n, V, smoothing, delta=0.5, lam=0.6, discount=0.8)
    oracle = _oracle(train, n, smoothing, delta=0.5, lam=0.6, D=0.8)
    test = _stream(40, seed=1) + [5, 2, 5, 5, 1]
    got = lm.log_probs(test)
    for t, w in enumerate(test):
        expected = oracle(test[max(0, t - n + 1):t], w)
        want = math.log(expected) if expected > 0 else -math.inf
        assert got[t].item() == pytest.approx(want, rel=1e-9, abs=1e-12), (smoothing, n, t)


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_context_is_a_distribution(smoothing, n):
    lm = NGramLM(_stream(), n, V, smoothing)
    # seen, unseen (token 5) and partially seen contexts, and short ones
    for context in [[], [0], [5], [1, 2], [5, 5], [0, 5, 1], [2, 2, 2]]:
        p = lm.next_log_probs(context).exp()
        assert p.shape == (V,)
        assert p.sum().item() == pytest.approx(1.0, abs=1e-12), (smoothing, n, context)


def test_mle_gives_zero_to_unseen_words_and_infinite_perplexity():
    train = [0, 1, 2, 0, 1, 2, 0, 1]
    lm = NGramLM(train, 2, 4, "mle")
    assert lm.next_log_probs([0]).exp().tolist() == [0.0, 1.0, 0.0, 0.0]
    assert lm.perplexity([0, 1, 2]) < math.inf
    assert lm.perplexity([0, 3]) == math.inf
    assert NGramLM(train, 2, 4, "add").perplexity([0, 3]) < math.inf


def test_huge_delta_tends_to_the_uniform_model_whose_perplexity_is_V():
    lm = NGramLM(_stream(), 2, V, "add", delta=1e12)
    assert lm.perplexity(_stream(50, seed=3)) == pytest.approx(V, rel=1e-6)


def test_num_ngrams_counts_distinct_ngrams():
    train = _stream(500, seed=4)
    lm = NGramLM(train, 3, V)
    for k in (1, 2, 3):
        distinct = {tuple(train[i:i + k]) for i in range(len(train) - k + 1)}
        assert lm.num_ngrams[k] == len(distinct) == distinct_ngrams(train, k, V)


def test_view_equals_a_model_fitted_with_those_settings():
    train, test = _stream(), _stream(60, seed=5)
    big = NGramLM(train, 3, V, "kneser_ney")
    for n, smoothing, params in [(2, "add", {"delta": 0.1}), (3, "interpolated", {"lam": 0.4}),
                                 (1, "kneser_ney", {}), (2, "kneser_ney", {"discount": 0.5})]:
        want = NGramLM(train, n, V, smoothing, **params).log_probs(test)
        torch.testing.assert_close(big.view(n, smoothing, **params).log_probs(test), want)
    assert big.n == 3 and big.smoothing == "kneser_ney"  # the original is unchanged
    with pytest.raises(ValueError, match="lower"):
        big.view(4)
    with pytest.raises(ValueError, match="delta"):
        big.view(2, "add", delta=0)


def test_generate_follows_a_deterministic_corpus_and_is_reproducible():
    lm = NGramLM([0, 1, 2, 3] * 20, 2, 4, "mle")
    assert lm.generate([1], 6) == [1, 2, 3, 0, 1, 2, 3]
    kn = NGramLM(_stream(), 3, V)
    a = kn.generate([0, 1], 20, generator=torch.Generator().manual_seed(7))
    b = kn.generate([0, 1], 20, generator=torch.Generator().manual_seed(7))
    assert a == b and len(a) == 22
    assert kn.generate([0, 1], 5, temperature=0) == kn.generate([0, 1], 5, top_k=1)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        NGramLM([0, 1, 6], 2, V)
    with pytest.raises(ValueError, match="int64"):
        NGramLM([0, 1, 2], 5, 40000)
    with pytest.raises(ValueError, match="smoothing"):
        NGramLM([0, 1, 2], 2, V, "witten_bell")
    with pytest.raises(TypeError, match="integer"):
        NGramLM(torch.zeros(5), 2, V)
    with pytest.raises(ValueError, match="discount"):
        NGramLM([0, 1, 2], 2, V, discount=1.5)
