"""Word2vec: skip-gram and CBOW with negative sampling (or a full softmax).

Notation (chapter "Word embeddings and word2vec"): every word id ``v`` has a
*word vector* ``W[v]`` and a *context vector* ``C[v]``, both of size D.
The positive pair (w, c) is a word and one of the words around it, at most
R positions away; its probability of being a real pair is

    P(+ | w, c) = sigmoid(w^T c),       w = W[word],  c = C[context].

Skip-gram with negative sampling (SGNS) minimizes, for every real pair and
K noise words n_1..n_K drawn from q(w) ∝ count(w)^0.75
(:class:`seqmodels.embeddings.NoiseSampler`),

    L = -log sigmoid(w^T c) - sum_k log sigmoid(-w^T n_k),

whose gradient (derived in the chapter, :func:`sgns_grad`) is

    dL/dw   = (sigmoid(w^T c) - 1) c + sum_k sigmoid(w^T n_k) n_k
    dL/dc   = (sigmoid(w^T c) - 1) w
    dL/dn_k = sigmoid(w^T n_k) w.

CBOW swaps the roles: the mean h of the word vectors W[.] of the context
words predicts the centre word through its context vector C[centre].

The trainer (:func:`train_word2vec`) builds all (centre, context) pairs of
a chunk of the corpus with tensor operations (dynamic windows, sentence
boundaries), and applies the hand-derived gradient with ``index_add_``
(sparse SGD: only the rows used by a batch move), on the CPU or a GPU.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import torch
import torch.nn.functional as F

from .._checks import check_choice, check_positive_int, check_tensor, check_token_ids
from .noise import NoiseSampler

__all__ = [
    "Word2VecResult",
    "build_corpus",
    "cbow_contexts",
    "cbow_ns_grad",
    "cbow_ns_loss",
    "sgns_grad",
    "sgns_loss",
    "softmax_loss",
    "subsample",
    "subsample_keep_probs",
    "train_word2vec",
    "window_pairs",
]


# --------------------------------------------------------------------------
# Corpus preparation
# --------------------------------------------------------------------------

def build_corpus(sentences: Iterable[Sequence[str]], min_count: int = 5, max_vocab: int | None = None):
    """Number the words of tokenized sentences for word2vec.

    Words seen fewer than ``min_count`` times are dropped from the text (as
    gensim and the original word2vec do), not mapped to an unknown token.

    Args:
        sentences: an iterable of token lists (e.g. ``line.lower().split()``).
        min_count: keep words with at least this many occurrences.
        max_vocab: keep at most this many (the most frequent) words.

    Returns:
        ``(ids, sentence_ids, itos, counts)``: ``ids`` (N,) long, the kept
        tokens in order; ``sentence_ids`` (N,) long, the sentence each comes
        from (pairs never cross a sentence boundary); ``itos`` the words by
        decreasing count (ties in order of first occurrence); ``counts`` (V,)
        long, their counts.
    """
    check_positive_int("min_count", min_count)
    check_positive_int("max_vocab", max_vocab, allow_none=True)
    sentences = [list(s) for s in sentences]
    for s in sentences[:1]:
        if isinstance(s, str) or (s and not isinstance(s[0], str)):
            raise TypeError("sentences: expected an iterable of token lists (list of str)")
    counter = Counter(tok for s in sentences for tok in s)
    ranked = [(t, c) for t, c in sorted(counter.items(), key=lambda item: -item[1]) if c >= min_count]
    if max_vocab is not None:
        ranked = ranked[:max_vocab]
    if not ranked:
        raise ValueError(f"no word occurs min_count={min_count} times; lower min_count")
    itos = [t for t, _ in ranked]
    stoi = {t: i for i, t in enumerate(itos)}
    ids, sent = [], []
    for k, s in enumerate(sentences):
        kept = [stoi[t] for t in s if t in stoi]
        ids.extend(kept)
        sent.extend([k] * len(kept))
    counts = torch.tensor([c for _, c in ranked], dtype=torch.long)
    return torch.tensor(ids, dtype=torch.long), torch.tensor(sent, dtype=torch.long), itos, counts


def subsample_keep_probs(counts, t: float = 1e-3, formula: str = "word2vec") -> torch.Tensor:
    """Probability of keeping each occurrence of a word, shape (V,), float64.

    With f(w) = count(w) / total:

    - ``"paper"`` (Mikolov et al. 2013b): keep with sqrt(t / f(w)), capped at 1;
    - ``"word2vec"`` (the released C code and gensim): keep with
      (sqrt(f(w) / t) + 1) * t / f(w), capped at 1.

    Words with f(w) well above t are thinned out; rare words are always kept.
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    check_tensor("counts", counts, ("V",))
    check_choice("formula", formula, ("word2vec", "paper"))
    if not t > 0:
        raise ValueError(f"t: expected a positive threshold such as 1e-3 or 1e-5, got {t!r}")
    if (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("counts: expected counts >= 0 with a positive total")
    f = counts / counts.sum()
    with torch.no_grad():
        if formula == "paper":
            keep = (t / f).sqrt()
        else:
            keep = ((f / t).sqrt() + 1) * t / f
    # f = 0 gives inf: a word never seen is "always kept" (it never occurs anyway).
    return keep.clamp(max=1.0)


def subsample(ids: torch.Tensor, keep_probs: torch.Tensor, generator: torch.Generator | None = None):
    """Boolean mask (N,): True for the tokens of ``ids`` that survive subsampling."""
    u = torch.rand(ids.shape, generator=generator, device=ids.device, dtype=torch.float64)
    return u < keep_probs.to(ids.device)[ids]


def _positions_and_radii(n, window, dynamic, generator, device):
    """Positions 0..n-1 and each centre's window radius r_i (uniform in 1..R when dynamic, else R)."""
    check_positive_int("window", window)
    pos = torch.arange(n, device=device)
    if dynamic:
        return pos, torch.randint(1, window + 1, (n,), generator=generator, device=device)
    return pos, torch.full((n,), window, device=device)


def window_pairs(n: int, window: int, *, dynamic: bool = True, sentence_ids: torch.Tensor | None = None,
                 generator: torch.Generator | None = None, device=None):
    """All (centre, context) position pairs of a stream of n tokens.

    Position j is a context of centre i when 1 <= |i - j| <= r_i and both are
    in the same sentence. With ``dynamic`` (word2vec's default) r_i is drawn
    uniformly from 1..R for every centre, which weights near words more
    (offset o is used with probability (R - o + 1) / R); otherwise r_i = R.

    Returns:
        ``(centres, contexts)``: two (P,) long tensors of positions.
    """
    pos, radius = _positions_and_radii(n, window, dynamic, generator, device)
    centres, contexts = [], []
    for o in range(1, window + 1):
        for s in (-o, o):
            j = pos + s
            ok = (radius >= o) & (j >= 0) & (j < n)
            if sentence_ids is not None:
                ok &= sentence_ids == sentence_ids[j.clamp(0, n - 1)]
            centres.append(pos[ok])
            contexts.append(j[ok])
    return torch.cat(centres), torch.cat(contexts)


def cbow_contexts(n: int, window: int, *, dynamic: bool = True, sentence_ids: torch.Tensor | None = None,
                  generator: torch.Generator | None = None, device=None):
    """The context positions of every centre for CBOW, as a padded matrix.

    Returns:
        ``(positions, mask)``: (n, 2R) long and bool; ``positions[i, m]`` is a
        context of centre i where ``mask[i, m]`` (same rule as
        :func:`window_pairs`); masked entries hold position i itself.
    """
    pos, radius = _positions_and_radii(n, window, dynamic, generator, device)
    offsets = torch.tensor([s for o in range(1, window + 1) for s in (-o, o)], device=device)
    j = pos[:, None] + offsets[None, :]
    mask = (radius[:, None] >= offsets.abs()[None, :]) & (j >= 0) & (j < n)
    if sentence_ids is not None:
        mask &= sentence_ids[:, None] == sentence_ids[j.clamp(0, n - 1)]
    return torch.where(mask, j, pos[:, None]), mask


# --------------------------------------------------------------------------
# Losses and their hand-derived gradients
# --------------------------------------------------------------------------

def sgns_loss(w: torch.Tensor, c_pos: torch.Tensor, c_neg: torch.Tensor) -> torch.Tensor:
    """Skip-gram negative-sampling loss of each pair, shape (B,).

    L_b = -log sigmoid(w_b^T c_b) - sum_k log sigmoid(-w_b^T n_bk)

    Args:
        w: (B, D) word vectors W[word].
        c_pos: (B, D) context vectors C[context] of the real pairs.
        c_neg: (B, K, D) context vectors C[n_k] of the K noise words.
    """
    dims: dict = {}
    check_tensor("w", w, ("B", "D"), dims)
    check_tensor("c_pos", c_pos, ("B", "D"), dims, like=("w", w))
    check_tensor("c_neg", c_neg, ("B", "K", "D"), dims, like=("w", w))
    s_pos = (w * c_pos).sum(-1)
    s_neg = torch.bmm(c_neg, w.unsqueeze(-1)).squeeze(-1)
    return -F.logsigmoid(s_pos) - F.logsigmoid(-s_neg).sum(-1)


def sgns_grad(w: torch.Tensor, c_pos: torch.Tensor, c_neg: torch.Tensor):
    """Gradient of ``sgns_loss(w, c_pos, c_neg).sum()`` derived by hand.

    Returns:
        ``(g_w, g_c_pos, g_c_neg)`` with the shapes of ``(w, c_pos, c_neg)``.
    """
    dims: dict = {}
    check_tensor("w", w, ("B", "D"), dims)
    check_tensor("c_pos", c_pos, ("B", "D"), dims, like=("w", w))
    check_tensor("c_neg", c_neg, ("B", "K", "D"), dims, like=("w", w))
    return _sgns_grad(w, c_pos, c_neg)


def _sgns_grad(w, c_pos, c_neg):
    e_pos = torch.sigmoid((w * c_pos).sum(-1)) - 1                      # (B,)   sigma(w.c) - 1
    e_neg = torch.sigmoid(torch.bmm(c_neg, w.unsqueeze(-1)).squeeze(-1))  # (B, K) sigma(w.n_k)
    g_w = e_pos.unsqueeze(-1) * c_pos + torch.bmm(e_neg.unsqueeze(1), c_neg).squeeze(1)
    g_c_pos = e_pos.unsqueeze(-1) * w
    g_c_neg = e_neg.unsqueeze(-1) * w.unsqueeze(1)
    return g_w, g_c_pos, g_c_neg


def cbow_ns_loss(w_ctx: torch.Tensor, mask: torch.Tensor, c_pos: torch.Tensor, c_neg: torch.Tensor) -> torch.Tensor:
    """CBOW negative-sampling loss of each centre, shape (B,).

    h_b = mean of the word vectors of the context words of centre b, then
    L_b = -log sigmoid(h_b^T c_b) - sum_k log sigmoid(-h_b^T n_bk).

    Args:
        w_ctx: (B, M, D) word vectors W[.] of the (padded) context words.
        mask: (B, M) bool, which of the M entries are real context words.
        c_pos: (B, D) context vectors C[centre].
        c_neg: (B, K, D) context vectors of the noise words.
    """
    dims: dict = {}
    check_tensor("w_ctx", w_ctx, ("B", "M", "D"), dims)
    check_tensor("mask", mask, ("B", "M"), dims, floating=False)
    h = _masked_mean(w_ctx, mask)
    return sgns_loss(h, c_pos, c_neg)


def cbow_ns_grad(w_ctx, mask, c_pos, c_neg):
    """Gradient of ``cbow_ns_loss(...).sum()`` by hand: ``(g_w_ctx, g_c_pos, g_c_neg)``.

    The gradient with respect to h is the SGNS one; each real context word
    receives dL/dh / (number of context words), padded entries receive 0.
    """
    dims: dict = {}
    check_tensor("w_ctx", w_ctx, ("B", "M", "D"), dims)
    check_tensor("mask", mask, ("B", "M"), dims, floating=False)
    check_tensor("c_pos", c_pos, ("B", "D"), dims, like=("w_ctx", w_ctx))
    check_tensor("c_neg", c_neg, ("B", "K", "D"), dims, like=("w_ctx", w_ctx))
    return _cbow_ns_grad(w_ctx, mask, c_pos, c_neg)


def _masked_mean(w_ctx, mask):
    m = mask.to(w_ctx.dtype).unsqueeze(-1)
    return (w_ctx * m).sum(1) / m.sum(1).clamp(min=1)


def _cbow_ns_grad(w_ctx, mask, c_pos, c_neg):
    m = mask.to(w_ctx.dtype).unsqueeze(-1)
    count = m.sum(1).clamp(min=1)                                       # (B, 1)
    h = (w_ctx * m).sum(1) / count
    g_h, g_c_pos, g_c_neg = _sgns_grad(h, c_pos, c_neg)
    g_w_ctx = (g_h / count).unsqueeze(1) * m
    return g_w_ctx, g_c_pos, g_c_neg


def softmax_loss(h: torch.Tensor, C: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Full-softmax loss -log P(target | h) = -log softmax(C h)[target], shape (B,).

    Costs O(V D) per example: only for small vocabularies. For skip-gram h is
    W[word] and the target a context word; for CBOW h is the mean context
    word vector and the target the centre word.

    Args:
        h: (B, D); C: (V, D) context vectors; targets: (B,) long word ids.
    """
    dims: dict = {}
    check_tensor("h", h, ("B", "D"), dims)
    check_tensor("C", C, ("V", "D"), dims, like=("h", h))
    check_tensor("targets", targets, ("B",), dims, floating=False)
    return F.cross_entropy(h @ C.T, targets, reduction="none")


# --------------------------------------------------------------------------
# Trainer
# --------------------------------------------------------------------------

@dataclass
class Word2VecResult:
    """Trained vectors and what the run measured.

    W: (V, D) word vectors (the ones usually kept); C: (V, D) context vectors.
    words: raw corpus tokens processed (N times epochs), pairs: training
    examples (pairs for skip-gram, centres for CBOW), seconds: wall time of
    the training loop, losses: mean loss per logged chunk.
    """

    W: torch.Tensor
    C: torch.Tensor
    words: int
    pairs: int
    seconds: float
    losses: list = field(default_factory=list)

    @property
    def words_per_second(self) -> float:
        return self.words / max(self.seconds, 1e-9)


def train_word2vec(ids: torch.Tensor, counts, *, dim: int = 100, window: int = 5, negatives: int = 5,
                   model: str = "skipgram", loss: str = "ns", epochs: int = 1, lr: float | None = None,
                   min_lr: float = 1e-4, sample: float | None = 1e-3, dynamic_window: bool = True,
                   sentence_ids: torch.Tensor | None = None, batch_size: int = 1024,
                   chunk_tokens: int = 200_000, average_rows: bool = True, seed: int = 0, device=None,
                   progress: bool = False) -> Word2VecResult:
    """Train word2vec on a corpus of word ids with batched sparse SGD.

    Args:
        ids: (N,) long word ids in [0, V), the corpus in order.
        counts: (V,) corpus counts of each id (for subsampling and the noise
            distribution).
        dim: D, the vector size. window: R, the largest context distance.
        negatives: K noise words per example (``loss="ns"``).
        model: ``"skipgram"`` or ``"cbow"``.
        loss: ``"ns"`` (negative sampling, hand-derived gradient) or
            ``"softmax"`` (full softmax through autograd; small V only).
        epochs: passes over the corpus.
        lr: start learning rate, decayed linearly to ``min_lr`` over the run
            (word2vec's schedule). Default 0.1: higher than word2vec's 0.025
            because ``average_rows`` gives a frequent row one averaged step
            per batch instead of one step per occurrence.
        sample: subsampling threshold t (None or 0: no subsampling).
        dynamic_window: draw each centre's radius from 1..R.
        sentence_ids: (N,) long; no pair crosses a change of sentence id.
        batch_size: examples per SGD step.
        chunk_tokens: tokens whose pairs are built and shuffled together.
        average_rows: in a negative-sampling step, average (instead of sum)
            the gradients a row receives from several examples of the batch;
            needed for stability with large batches (see ``_row_scale``).
            ``False`` gives plain SGD on the summed loss of the batch.
        seed: seeds a local generator on ``device``.
        device: where to train (e.g. ``"cuda"``); default CPU.
        progress: print a line per chunk to stdout.

    Returns:
        A :class:`Word2VecResult` (vectors on ``device``).
    """
    counts = torch.as_tensor(counts)
    check_tensor("counts", counts, ("V",), floating=False)
    ids = check_token_ids("ids", ids, ("N",), vocab_size=counts.numel(), what="word ids")
    check_choice("model", model, ("skipgram", "cbow"))
    check_choice("loss", loss, ("ns", "softmax"))
    for name, value in (("dim", dim), ("window", window), ("negatives", negatives), ("epochs", epochs),
                        ("batch_size", batch_size), ("chunk_tokens", chunk_tokens)):
        check_positive_int(name, value)
    V = counts.numel()
    if ids.numel() == 0:
        raise ValueError("ids: the corpus is empty")
    if sentence_ids is not None:
        check_tensor("sentence_ids", sentence_ids, (ids.numel(),), floating=False)
    device = torch.device(device) if device is not None else torch.device("cpu")
    if lr is None:
        lr = 0.1

    gen = torch.Generator(device=device).manual_seed(seed)
    ids = ids.to(device)
    sentence_ids = sentence_ids.to(device) if sentence_ids is not None else None
    # word2vec's initialization: small uniform word vectors, zero context vectors.
    W = (torch.rand(V, dim, generator=gen, device=device) - 0.5) / dim
    C = torch.zeros(V, dim, device=device)
    sampler = NoiseSampler(counts, device=device)
    keep = subsample_keep_probs(counts, sample).to(device) if sample else None

    N = ids.numel()
    total = epochs * N
    losses, pairs_done = [], 0
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for epoch in range(epochs):
        for c0 in range(0, N, chunk_tokens):
            chunk = ids[c0:c0 + chunk_tokens]
            sent = sentence_ids[c0:c0 + chunk_tokens] if sentence_ids is not None else None
            if keep is not None:
                kept = subsample(chunk, keep, gen)
                chunk = chunk[kept]
                sent = sent[kept] if sent is not None else None
            if chunk.numel() < 2:
                continue
            inputs, targets, ctx_mask = _examples(chunk, sent, model, window, dynamic_window, gen)
            P = targets.numel()
            chunk_loss, chunk_steps = 0.0, 0
            for b0 in range(0, P, batch_size):
                # Linear decay by the fraction of the corpus consumed (as word2vec).
                done = epoch * N + c0 + min(chunk_tokens, N - c0) * (b0 / max(P, 1))
                alpha = max(min_lr, lr * (1 - done / total))
                x, y = inputs[b0:b0 + batch_size], targets[b0:b0 + batch_size]
                m = ctx_mask[b0:b0 + batch_size] if ctx_mask is not None else None
                if loss == "ns":
                    step_loss = _ns_step(W, C, x, y, m, sampler, negatives, alpha, gen,
                                         want_loss=(b0 // batch_size) % 16 == 0, average_rows=average_rows)
                else:
                    step_loss = _softmax_step(W, C, x, y, m, alpha)
                if step_loss is not None:
                    chunk_loss += step_loss
                    chunk_steps += 1
            pairs_done += P
            if chunk_steps:
                losses.append(chunk_loss / chunk_steps)
                if progress:
                    print(f"epoch {epoch + 1} tokens {min(c0 + chunk_tokens, N):,}/{N:,} "
                          f"lr {alpha:.4f} loss {losses[-1]:.3f}", file=sys.stdout, flush=True)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return Word2VecResult(W=W, C=C, words=total, pairs=pairs_done, seconds=seconds, losses=losses)


def _examples(chunk: torch.Tensor, sent, model: str, window: int, dynamic: bool, gen: torch.Generator):
    """One chunk's training examples in random order: (inputs, targets, context mask or None).

    skip-gram: inputs (P,) centre ids, targets (P,) context ids, one pair per (centre, context);
    CBOW: inputs (P, 2R) context ids with their mask, targets (P,) centre ids.
    """
    n, device = chunk.numel(), chunk.device
    if model == "skipgram":
        centres, contexts = window_pairs(n, window, dynamic=dynamic, sentence_ids=sent, generator=gen,
                                         device=device)
        order = torch.randperm(centres.numel(), generator=gen, device=device)
        return chunk[centres[order]], chunk[contexts[order]], None
    positions, ctx_mask = cbow_contexts(n, window, dynamic=dynamic, sentence_ids=sent, generator=gen,
                                        device=device)
    has = ctx_mask.any(1)
    order = torch.randperm(int(has.sum()), generator=gen, device=device)
    return chunk[positions[has][order]], chunk[has][order], ctx_mask[has][order]


def _row_scale(index: torch.Tensor, num_rows: int) -> torch.Tensor:
    """1 / (times each entry's row occurs in ``index``), shape of ``index``.

    A row used m times in one batch would otherwise move by m gradient steps
    all computed at the same stale point: for frequent words (and for every
    word of a small vocabulary) that overshoots and diverges, where
    one-pair-at-a-time SGD corrects itself. Averaging a row's gradients
    keeps big batches stable; a word seen once per batch (most words of a
    real vocabulary) gets exactly the SGD step.
    """
    counts = torch.bincount(index.reshape(-1), minlength=num_rows)
    return counts[index].reciprocal().to(torch.float32)


def _ns_step(W, C, x, y, m, sampler, K, alpha, gen, want_loss, average_rows=True):
    """One sparse SGD step with the hand-derived negative-sampling gradient."""
    B = y.numel()
    D = W.shape[1]
    neg = sampler.sample(B, K, generator=gen)
    c_pos, c_neg = C[y], C[neg]
    if m is None:                                   # skip-gram: x = word ids
        w = W[x]
        g_w, g_c_pos, g_c_neg = _sgns_grad(w, c_pos, c_neg)
        rows_w, g_rows_w = x, g_w
        h = w
    else:                                           # CBOW: x = (B, 2R) context ids
        w_ctx = W[x]
        g_w_ctx, g_c_pos, g_c_neg = _cbow_ns_grad(w_ctx, m, c_pos, c_neg)
        rows_w, g_rows_w = x.reshape(-1), g_w_ctx.reshape(-1, D)
        h = _masked_mean(w_ctx, m) if want_loss else None
    rows_c = torch.cat([y, neg.reshape(-1)])
    g_rows_c = torch.cat([g_c_pos, g_c_neg.reshape(-1, D)])
    if average_rows:
        g_rows_w = g_rows_w * _row_scale(rows_w, W.shape[0]).unsqueeze(1)
        g_rows_c = g_rows_c * _row_scale(rows_c, C.shape[0]).unsqueeze(1)
    W.index_add_(0, rows_w, g_rows_w, alpha=-alpha)
    C.index_add_(0, rows_c, g_rows_c, alpha=-alpha)
    if not want_loss:
        return None
    s_pos = (h * c_pos).sum(-1)
    s_neg = torch.bmm(c_neg, h.unsqueeze(-1)).squeeze(-1)
    return float((-F.logsigmoid(s_pos) - F.logsigmoid(-s_neg).sum(-1)).mean())


def _softmax_step(W, C, x, y, m, alpha):
    """One SGD step on the full-softmax loss through autograd (small V)."""
    Wg = W.detach().requires_grad_(True)
    Cg = C.detach().requires_grad_(True)
    h = Wg[x] if m is None else _masked_mean(Wg[x], m)
    loss = softmax_loss(h, Cg, y).sum()
    loss.backward()
    with torch.no_grad():
        W.add_(Wg.grad, alpha=-alpha)
        C.add_(Cg.grad, alpha=-alpha)
    return float(loss.detach()) / y.numel()
