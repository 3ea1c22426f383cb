r"""Count-based n-gram language models (chapter 4).

An n-gram model keeps only the last n-1 tokens of the history,

    P(x_t | x_<t) ~ P(x_t | x_{t-n+1} .. x_{t-1}) = P(w | h),

and estimates it from counts c(h w) of the training stream. The maximum
likelihood estimate c(h w) / c(h) gives probability 0 to every n-gram not seen
in training (infinite perplexity on new text) and is undefined for a context
h never seen. The smoothings here:

``"mle"``         c(h w) / c(h)                                 (zeros stay zero)
``"add"``         (c(h w) + delta) / (c(h) + delta |V|)          (add-delta / Laplace)
``"interpolated"`` lambda c(h w)/c(h) + (1 - lambda) P(w | h')    (Jelinek-Mercer)
``"kneser_ney"``  max(c(h w) - D, 0)/c(h) + D N1+(h .)/c(h) P_cont(w | h')
                  (interpolated Kneser-Ney, Chen & Goodman 1998: the lower
                  orders count the distinct words *preceding* an n-gram,
                  N1+(. h' w), instead of its occurrences)

where h' is h without its first token and the recursion ends at the uniform
distribution 1/|V|. For "mle" and "add", a context never seen in training
backs off to its longest seen suffix (ultimately the unigram estimate), so
every model here is a normalized distribution over the |V| tokens for every
context: sum_w P(w | h) = 1, which the tests check by brute force.

Storage. Counts are kept as sorted tables of integer keys, one per order
(the n-gram w_1..w_k as the base-|V| number sum_j w_j |V|^(k-j)), so lookups
are vectorized ``searchsorted`` calls and a whole corpus is scored at once.
The number of distinct n-grams (:attr:`NGramLM.num_ngrams`) grows with both n
and the corpus size: that table *is* the model.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Sequence

import torch

from .._checks import check_choice, check_positive_int, check_token_ids

__all__ = ["NGramLM", "SMOOTHINGS", "distinct_ngrams"]

SMOOTHINGS = ("mle", "add", "interpolated", "kneser_ney")


@dataclass
class _Table:
    """Counts of the k-grams g = (h, w): sorted keys, and per context h its total and types."""

    keys: torch.Tensor          # (G,) sorted unique k-gram keys
    counts: torch.Tensor        # (G,) c(g) (or continuation counts N1+(. g))
    ctx_keys: torch.Tensor      # (C,) sorted unique context keys h = key // V
    ctx_total: torch.Tensor     # (C,) sum_w c(h w)
    ctx_types: torch.Tensor     # (C,) N1+(h .): number of distinct w after h


def _lookup(keys: torch.Tensor, values: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
    """values[i] where keys[i] == query, else 0 (keys sorted)."""
    if keys.numel() == 0:
        return torch.zeros_like(query, dtype=values.dtype)
    idx = torch.searchsorted(keys, query).clamp_(max=keys.numel() - 1)
    found = keys[idx] == query
    return torch.where(found, values[idx], torch.zeros((), dtype=values.dtype))


def _make_table(keys: torch.Tensor, counts: torch.Tensor, V: int) -> _Table:
    ctx = keys // V  # sorted because keys are
    ctx_keys, inverse, ctx_types = torch.unique_consecutive(ctx, return_inverse=True, return_counts=True)
    ctx_total = torch.zeros(ctx_keys.numel(), dtype=torch.long).index_add_(0, inverse, counts)
    return _Table(keys, counts, ctx_keys, ctx_total, ctx_types)


def _ngram_keys(ids: torch.Tensor, k: int, V: int) -> torch.Tensor:
    """Keys sum_j w_j V^(k-1-j) of all k-grams of a 1-D stream: (N - k + 1,)."""
    windows = ids.unfold(0, k, 1)
    key = torch.zeros(windows.shape[0], dtype=torch.long)
    for j in range(k):
        key = key * V + windows[:, j]
    return key


def distinct_ngrams(ids, k: int, vocab_size: int) -> int:
    """Number of distinct k-grams in a stream (what a k-gram model must store)."""
    check_positive_int("k", k)
    if vocab_size ** k >= 2 ** 63:
        raise ValueError(f"k={k} is too large for vocab_size={vocab_size}: keys must fit in int64")
    ids = NGramLM._check_ids("ids", ids, vocab_size)
    if ids.numel() < k:
        return 0
    return torch.unique(_ngram_keys(ids, k, vocab_size)).numel()


class NGramLM:
    """An n-gram language model estimated from a stream of token ids.

    Args:
        ids: the training stream, 1-D integer tensor or list of ints in [0, V).
        n: the order (1 = unigram, 2 = bigram, ...). Needs V**n < 2**63.
        vocab_size: V.
        smoothing: one of ``"mle"``, ``"add"``, ``"interpolated"``, ``"kneser_ney"``.
        delta: the pseudo-count of ``"add"`` (1 = Laplace).
        lam: weight of the order-k estimate in ``"interpolated"`` at every
            order (the rest goes to the order below; the unigram is mixed
            with the uniform distribution the same way).
        discount: D of ``"kneser_ney"``, in (0, 1].
    """

    def __init__(self, ids, n: int, vocab_size: int, smoothing: str = "kneser_ney", *,
                 delta: float = 1.0, lam: float = 0.7, discount: float = 0.75):
        check_positive_int("n", n)
        check_positive_int("vocab_size", vocab_size)
        check_choice("smoothing", smoothing, SMOOTHINGS)
        if vocab_size ** n >= 2 ** 63:
            raise ValueError(f"n={n} is too large for vocab_size={vocab_size}: the n-gram keys "
                             f"V**n must fit in int64")
        self._check_params(smoothing, delta, lam, discount)
        ids = self._check_ids("ids", ids, vocab_size)
        if ids.numel() < n:
            raise ValueError(f"ids: need at least n={n} tokens to count {n}-grams, got {ids.numel()}")
        self.n, self.V, self.smoothing = n, vocab_size, smoothing
        self.delta, self.lam, self.discount = float(delta), float(lam), float(discount)
        self.num_tokens = ids.numel()

        # raw[k-1]: counts of k-grams, k = 1..n (all k-grams of the stream).
        self.raw: list[_Table] = []
        for k in range(1, n + 1):
            keys, counts = torch.unique(self._keys(ids, k), return_counts=True)
            self.raw.append(_make_table(keys, counts, vocab_size))
        # cont[k-1]: continuation counts N1+(. g) of k-grams g, k = 1..n-1:
        # the number of distinct (k+1)-grams that end with g.
        self.cont: list[_Table] = []
        for k in range(1, n):
            suffix = self.raw[k].keys % vocab_size ** k
            keys, counts = torch.unique(suffix, return_counts=True)
            self.cont.append(_make_table(keys, counts, vocab_size))

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _check_ids(name: str, ids, V: int) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor):
            ids = torch.as_tensor(list(ids), dtype=torch.long)
        ids = check_token_ids(name, ids, ("T",), vocab_size=V)
        return ids

    def _keys(self, ids: torch.Tensor, k: int) -> torch.Tensor:
        return _ngram_keys(ids, k, self.V)

    def view(self, n: int | None = None, smoothing: str | None = None, **params) -> "NGramLM":
        """The same counts as a model of order ``n`` (<= this one's) and/or other smoothing.

        No recounting: the count tables of orders 1..n are shared. ``params``
        are ``delta``, ``lam``, ``discount`` as in the constructor.
        """
        n = self.n if n is None else check_positive_int("n", n)
        if n > self.n:
            raise ValueError(f"n: a view can only lower the order ({self.n}), got {n}")
        unknown = set(params) - {"delta", "lam", "discount"}
        if unknown:
            raise TypeError(f"unknown parameters {sorted(unknown)}; expected delta, lam, discount")
        new = copy.copy(self)
        new.n, new.raw, new.cont = n, self.raw[:n], self.cont[:n - 1]
        new.smoothing = check_choice("smoothing", smoothing or self.smoothing, SMOOTHINGS)
        for name, value in params.items():
            setattr(new, name, float(value))
        NGramLM._check_params(new.smoothing, new.delta, new.lam, new.discount)
        return new

    @staticmethod
    def _check_params(smoothing, delta, lam, discount) -> None:
        if not delta > 0 and smoothing == "add":
            raise ValueError(f"delta: expected a number > 0, got {delta!r}")
        if not 0 <= lam <= 1:
            raise ValueError(f"lam: expected a number in [0, 1], got {lam!r}")
        if not 0 < discount <= 1:
            raise ValueError(f"discount: expected a number in (0, 1], got {discount!r}")

    @property
    def num_ngrams(self) -> dict[int, int]:
        """Number of distinct k-grams stored, k = 1..n."""
        return {k: t.keys.numel() for k, t in enumerate(self.raw, start=1)}

    # ----------------------------------------------------------- probabilities
    def prob(self, contexts: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        """P(w | h) for M queries, float64.

        Args:
            contexts: (M, n-1) long, the previous n-1 tokens, oldest first;
                -1 marks a missing token (start of the stream) and must only
                appear at the left.
            words: (M,) long, the predicted tokens.
        """
        M, m_max = words.shape[0], self.n - 1
        if contexts.shape != (M, m_max):
            raise ValueError(f"contexts: expected shape (M, n-1) = ({M}, {m_max}), got {tuple(contexts.shape)}")
        V = self.V
        # ctx_key[m]: key of the last m context tokens; avail[m]: they all exist.
        ctx_key = [torch.zeros(M, dtype=torch.long)]
        avail = [torch.ones(M, dtype=torch.bool)]
        for m in range(1, m_max + 1):
            tok = contexts[:, m_max - m]
            ctx_key.append(tok.clamp(min=0) * V ** (m - 1) + ctx_key[-1])
            avail.append(avail[-1] & (tok >= 0))
        uniform = torch.full((M,), 1.0 / V, dtype=torch.float64)

        if self.smoothing in ("mle", "add"):
            delta = self.delta if self.smoothing == "add" else 0.0
            p = torch.zeros(M, dtype=torch.float64)
            done = torch.zeros(M, dtype=torch.bool)
            for m in range(m_max, -1, -1):  # longest seen context first
                table = self.raw[m]
                total = _lookup(table.ctx_keys, table.ctx_total, ctx_key[m]).double()
                use = avail[m] & ~done & (total > 0)
                c = _lookup(table.keys, table.counts, ctx_key[m] * V + words).double()
                p = torch.where(use, (c + delta) / (total + delta * V), p)
                done |= use
            return p

        p = uniform
        for m in range(0, m_max + 1):  # lowest order first
            top = m == m_max or self.smoothing == "interpolated"
            table = self.raw[m] if top else self.cont[m]
            key = ctx_key[m] * V + words
            c = _lookup(table.keys, table.counts, key).double()
            total = _lookup(table.ctx_keys, table.ctx_total, ctx_key[m]).double()
            seen = total > 0
            safe = total.clamp(min=1)
            if self.smoothing == "interpolated":
                p_m = self.lam * c / safe + (1 - self.lam) * p
            else:
                types = _lookup(table.ctx_keys, table.ctx_types, ctx_key[m]).double()
                D = self.discount
                p_m = (c - D).clamp(min=0) / safe + D * types / safe * p
            p = torch.where(avail[m] & seen, p_m, p)
        return p

    def _contexts(self, ids: torch.Tensor) -> torch.Tensor:
        """(N, n-1) contexts of every position of a stream, -1 before its start."""
        padded = torch.cat([torch.full((self.n - 1,), -1, dtype=torch.long), ids])
        return padded.unfold(0, self.n, 1)[:, :-1] if self.n > 1 else torch.zeros(ids.numel(), 0, dtype=torch.long)

    def log_probs(self, ids) -> torch.Tensor:
        """log P(x_t | previous n-1 tokens) of every token of a stream: (N,) float64.

        The first n-1 tokens are scored with the shorter history they have.
        """
        ids = self._check_ids("ids", ids, self.V)
        return self.prob(self._contexts(ids), ids).log()

    def cross_entropy(self, ids) -> float:
        """Average negative log-likelihood per token (nats)."""
        return float(-self.log_probs(ids).mean())

    def perplexity(self, ids) -> float:
        """exp(cross-entropy): inf when a token gets probability 0 ("mle")."""
        return math.exp(self.cross_entropy(ids))

    def next_log_probs(self, context: Sequence[int]) -> torch.Tensor:
        """log P(w | context) for all w: (V,) float64. Only the last n-1 tokens matter."""
        context = self._check_ids("context", context, self.V)
        m_max = self.n - 1
        h = context[-m_max:] if m_max else context[:0]
        h = torch.cat([torch.full((m_max - h.numel(),), -1, dtype=torch.long), h])
        return self.prob(h.expand(self.V, m_max), torch.arange(self.V)).log()

    def generate(self, prefix: Sequence[int], num_tokens: int, *, temperature: float = 1.0,
                 top_k: int | None = None, generator: torch.Generator | None = None) -> list[int]:
        """Sample ``num_tokens`` tokens after ``prefix``; returns prefix + sample."""
        from ..decoding.sampling import sample_next

        out = list(self._check_ids("prefix", prefix, self.V).tolist())
        for _ in range(num_tokens):
            log_p = self.next_log_probs(out).float()[None]
            out.append(int(sample_next(log_p, temperature=temperature, top_k=top_k, generator=generator)))
        return out
