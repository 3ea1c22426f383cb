"""Decoding a sequence model (chapter 7): greedy, beam and exhaustive search.

The goal is the most probable output X* = argmax_X prod_t P(X_t | X_<t), where
an output ends with the token <end> (``eos``) or is cut at ``max_len`` tokens.

Step-function protocol
----------------------
Every decoder here drives the model through one function::

    step(prefix, state) -> (log_probs, new_state)

    prefix     (N, t) long   the tokens of N hypotheses so far; prefix[:, 0] is
                             <bos>. A recurrent model reads prefix[:, -1] only,
                             a transformer without a cache reads all of it.
    state      whatever the model carries per hypothesis, or None: a tensor,
               or a tuple / list / dict nesting tensors (and None), whose
               dimension ``state_batch_dim`` indexes the N hypotheses; or an
               object with a method ``reorder(index) -> new object``.
               Examples: a GRU state (layers, N, H) with state_batch_dim=1;
               (decoder h, encoder outputs); a KV cache of (N, t, d) tensors.
    log_probs  (N, V) float  log P(next token | prefix), normalized rows.

The decoders call ``step`` on all hypotheses of all inputs at once and keep
each hypothesis's state in line with its tokens through
``reorder_state(state, index, dim)`` (``index_select`` on every tensor), so
the same search runs an RNN LM, a seq2seq decoder or a transformer decoder,
on the CPU or a GPU. Rows of hypotheses that are finished or dead are still
computed (shapes stay fixed, which is what a GPU wants) and then ignored:
``step`` must accept any prefix.

Scores. ``log_probs`` of a hypothesis is the sum of its token log-probs
(<end> included). The ranking ``score`` divides it by a length penalty
lp(L), L = number of generated tokens (<end> included, <bos> not):
lp = 1 (none), lp = L ("average") or lp = ((5 + L) / 6) ** alpha (GNMT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, Union

import torch

from .._checks import check_int, check_positive_int, check_tensor, check_token_ids

__all__ = [
    "Hypotheses",
    "StepFn",
    "average_length_penalty",
    "beam_search",
    "exhaustive_search",
    "gnmt_length_penalty",
    "greedy_search",
    "reorder_state",
    "table_step",
]

StepFn = Callable[[torch.Tensor, Any], "tuple[torch.Tensor, Any]"]
LengthPenalty = Union[None, str, float, Callable[[torch.Tensor], torch.Tensor]]


# --------------------------------------------------------------------------- state


def reorder_state(state: Any, index: torch.Tensor, dim: int = 0) -> Any:
    """Select hypotheses ``index`` (1-D long) from every tensor of ``state`` along ``dim``.

    Used both to copy each input's state to its K beams (index repeats rows)
    and to follow the beams that survive a step (index = surviving parent).
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        if state.dim() <= dim:
            raise ValueError(
                f"state: a tensor of shape {tuple(state.shape)} has no hypothesis dimension "
                f"state_batch_dim={dim}"
            )
        return state.index_select(dim, index.to(state.device))
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # namedtuple
        return type(state)(*(reorder_state(s, index, dim) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(reorder_state(s, index, dim) for s in state)
    if isinstance(state, dict):
        return {k: reorder_state(v, index, dim) for k, v in state.items()}
    if hasattr(state, "reorder"):
        return state.reorder(index)
    raise TypeError(
        "state: expected None, a tensor, a tuple/list/dict of tensors, or an object with a "
        f"reorder(index) method, got {type(state).__name__}"
    )


# ------------------------------------------------------------------ length penalty


def average_length_penalty(lengths: torch.Tensor) -> torch.Tensor:
    """lp(L) = L: rank by the average log-prob per token."""
    return lengths


def gnmt_length_penalty(alpha: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """lp(L) = ((5 + L) / 6) ** alpha (Wu et al., 2016); alpha = 0 is no penalty."""
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or alpha < 0:
        raise ValueError(f"alpha: expected a number >= 0, got {alpha!r}")

    def lp(lengths: torch.Tensor) -> torch.Tensor:
        return ((5.0 + lengths) / 6.0) ** alpha

    return lp


def _resolve_penalty(length_penalty: LengthPenalty) -> Callable[[torch.Tensor], torch.Tensor]:
    if length_penalty is None:
        return lambda lengths: torch.ones_like(lengths)
    if isinstance(length_penalty, str):
        if length_penalty == "average":
            return average_length_penalty
        raise ValueError(f"length_penalty: expected None, 'average', a GNMT alpha or a callable, "
                         f"got {length_penalty!r}")
    if isinstance(length_penalty, (int, float)) and not isinstance(length_penalty, bool):
        return gnmt_length_penalty(float(length_penalty))
    if callable(length_penalty):
        return length_penalty
    raise TypeError(f"length_penalty: expected None, 'average', a GNMT alpha or a callable, "
                    f"got {type(length_penalty).__name__}")


# -------------------------------------------------------------------------- result


@dataclass
class Hypotheses:
    """An n-best list per input, best first.

    tokens    (B, n, L) long   generated tokens (no <bos>; <end> included when
                               finished), padded with ``pad`` after ``lengths``
    lengths   (B, n) long      number of generated tokens
    log_probs (B, n) float     sum of the token log-probs
    scores    (B, n) float     log_probs / lp(lengths): the ranking key
    finished  (B, n) bool      ended with <end> (False: cut at max_len)

    Where fewer than n hypotheses exist the empty entries have length 0 and
    score -inf.
    """

    tokens: torch.Tensor
    lengths: torch.Tensor
    log_probs: torch.Tensor
    scores: torch.Tensor
    finished: torch.Tensor

    def sequences(self, b: int = 0) -> list[list[int]]:
        """Token lists of input ``b``, best first (empty entries left out)."""
        out = []
        for i in range(self.tokens.shape[1]):
            if math.isfinite(float(self.scores[b, i])):
                out.append(self.tokens[b, i, : int(self.lengths[b, i])].tolist())
        return out

    def best(self) -> list[list[int]]:
        """The best token list of every input."""
        return [self.tokens[b, 0, : int(self.lengths[b, 0])].tolist() for b in range(self.tokens.shape[0])]


def _sort_pool(tokens, lengths, log_probs, finished, lp, n: int) -> Hypotheses:
    """Rank a pool (B, P, ...) by penalized score and keep the best n."""
    scores = log_probs / lp(lengths.to(log_probs.dtype)).clamp_min(1e-12)
    scores = torch.where(lengths > 0, scores, torch.full_like(scores, -math.inf))
    order = scores.argsort(dim=1, descending=True, stable=True)[:, :n]
    take = lambda x: x.gather(1, order)  # noqa: E731
    tokens = tokens.gather(1, order[:, :, None].expand(-1, -1, tokens.shape[2]))
    L = int(lengths.max()) if lengths.numel() else 0
    return Hypotheses(tokens[:, :, : max(L, 1)].contiguous(), take(lengths), take(log_probs),
                      take(scores), take(finished))


# ------------------------------------------------------------------- common checks


def _start(bos, batch_size, eos, max_len):
    check_positive_int("max_len", max_len)
    check_int("eos", eos, min=0)
    if isinstance(bos, torch.Tensor):
        bos = check_token_ids("bos", bos, ("B",))
        if batch_size is not None and batch_size != bos.shape[0]:
            raise ValueError(f"batch_size={batch_size} but bos has {bos.shape[0]} entries")
        return bos
    check_int("bos", bos, min=0)
    batch_size = 1 if batch_size is None else check_positive_int("batch_size", batch_size)
    return torch.full((batch_size,), bos, dtype=torch.long)


def _call_step(step: StepFn, prefix: torch.Tensor, state: Any):
    out = step(prefix, state)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError("step(prefix, state) must return a pair (log_probs, new_state), "
                        f"got {type(out).__name__}")
    log_probs, state = out
    check_tensor("log_probs returned by step", log_probs, (prefix.shape[0], "V"))
    return log_probs, state


# -------------------------------------------------------------------------- greedy


def _single_path(step: StepFn, state: Any, bos: torch.Tensor, eos: int, max_len: int,
                 choose: Callable[[torch.Tensor], torch.Tensor], pad: int,
                 length_penalty: LengthPenalty, state_batch_dim: int) -> Hypotheses:
    """One hypothesis per input, next token = choose(log_probs (B, V)) -> (B,).

    Shared by greedy search and sampling. A finished row keeps its tokens and
    score: later choices for it are replaced by ``pad`` and add nothing.
    """
    B = bos.shape[0]
    prefix = bos[:, None]
    total = None
    finished = torch.zeros(B, dtype=torch.bool, device=bos.device)
    lengths = torch.zeros(B, dtype=torch.long, device=bos.device)
    for _ in range(max_len):
        log_probs, state = _call_step(step, prefix, state)
        if total is None:
            total = log_probs.new_zeros(B)
        token = choose(log_probs).to(bos.device)
        token_lp = log_probs.gather(1, token[:, None].to(log_probs.device))[:, 0]
        alive = ~finished
        total = total + torch.where(alive.to(total.device), token_lp, torch.zeros_like(token_lp))
        token = torch.where(alive, token, torch.full_like(token, pad))
        prefix = torch.cat([prefix, token[:, None]], dim=1)
        lengths = lengths + alive.long()
        finished = finished | (alive & (token == eos))
        if bool(finished.all()):
            break
    tokens = prefix[:, None, 1:]
    return _sort_pool(tokens, lengths[:, None], total[:, None].to(total.device),
                      finished[:, None], _resolve_penalty(length_penalty), 1)


def greedy_search(step: StepFn, state: Any = None, *, bos, eos: int, max_len: int,
                  batch_size: int | None = None, pad: int | None = None,
                  length_penalty: LengthPenalty = None, state_batch_dim: int = 0) -> Hypotheses:
    """Greedy decoding: at every step take the most probable next token.

    Args:
        step: the model, ``step(prefix (N, t), state) -> (log_probs (N, V), state)``.
        state: initial state of the B inputs (hypothesis dimension
            ``state_batch_dim``), or None.
        bos: start token, an int (with ``batch_size``) or a (B,) long tensor;
            its device is the device of the search.
        eos: the <end> token. max_len: most generated tokens per output.
        pad: fills ``tokens`` after an output's end (default ``eos``).

    Returns:
        Hypotheses with n = 1.
    """
    bos = _start(bos, batch_size, eos, max_len)
    return _single_path(step, state, bos, eos, max_len, lambda lp: lp.argmax(dim=1),
                        eos if pad is None else pad, length_penalty, state_batch_dim)


# --------------------------------------------------------------------- beam search


def beam_search(step: StepFn, state: Any = None, *, bos, eos: int, beam_size: int, max_len: int,
                n_best: int | None = None, length_penalty: LengthPenalty = None,
                batch_size: int | None = None, pad: int | None = None, state_batch_dim: int = 0,
                trace: list | None = None) -> Hypotheses:
    """Beam search with beam size K for B inputs at once (B * K hypotheses per step call).

    Each input keeps at most K partial hypotheses, ranked by their partial
    log-probability. A step expands each by its K best next tokens and ranks
    the K * K candidates (the same as the top of all K * V); the best
    ``K - (number finished so far)`` candidates survive. A survivor ending in
    <end> leaves the beam for the input's list of finished hypotheses, where
    it is never extended again (so the beam shrinks, as in Jurafsky & Martin).
    An input stops when ``n_best`` hypotheses have finished or none is left;
    at ``max_len`` the unfinished survivors join the list, marked
    ``finished=False``. The list is ranked by score = log_probs / lp(L).

    With K = 1 this is greedy search; with K at least the number of possible
    outputs it is exhaustive search.

    Args:
        step, state, bos, eos, max_len, pad: as in :func:`greedy_search`.
        beam_size: K.
        n_best: stop an input after this many finished hypotheses and return
            this many (default K, at most K).
        length_penalty: None, "average" (1/L), a float alpha (GNMT) or a
            callable lp(lengths) -> divisor.
        state_batch_dim: the hypothesis dimension of the state's tensors.
        trace: if a list, one dict per step is appended (for teaching;
            costs a copy per step): ``prefix`` (B, K, t) before the step,
            ``scores`` (B, K), the model's ``log_probs`` (B, K, V), and for the K ranked candidates ``parent``,
            ``token``, ``cand_scores`` (B, K), ``finished`` and ``kept`` masks.

    Returns:
        Hypotheses with n = n_best, best first.
    """
    K = check_positive_int("beam_size", beam_size)
    n_best = K if n_best is None else check_positive_int("n_best", n_best)
    if n_best > K:
        raise ValueError(f"n_best: at most beam_size = {K} hypotheses can finish, got n_best={n_best}")
    bos = _start(bos, batch_size, eos, max_len)
    pad = eos if pad is None else pad
    lp = _resolve_penalty(length_penalty)
    device, B, N = bos.device, bos.shape[0], bos.shape[0] * K

    rows = torch.arange(B, device=device)
    state = reorder_state(state, rows.repeat_interleave(K), state_batch_dim)
    prefix = bos.repeat_interleave(K)[:, None]                     # (N, 1)
    rank = torch.arange(K, device=device)[None, :]                 # (1, K)
    n_finished = torch.zeros(B, dtype=torch.long, device=device)
    stopped = torch.zeros(B, dtype=torch.bool, device=device)
    scores, pool = None, None

    for t in range(max_len):
        log_probs, state = _call_step(step, prefix, state)         # (N, V)
        V = log_probs.shape[1]
        if scores is None:
            # Only beam 0 is alive at first: K copies of <bos> would fill the
            # beam with K identical hypotheses.
            scores = torch.full((B, K), -math.inf, dtype=log_probs.dtype, device=device)
            scores[:, 0] = 0.0
            pool = _Pool.empty(B, K, max_len, pad, log_probs.dtype, device)
        cand = (scores.reshape(N, 1) + log_probs.to(device)).reshape(B, K * V)
        cand_scores, flat = cand.topk(min(K, K * V), dim=1)         # sorted, best first
        if cand_scores.shape[1] < K:                                # V = 1: pad the ranks
            fill = K - cand_scores.shape[1]
            cand_scores = torch.cat([cand_scores, cand_scores.new_full((B, fill), -math.inf)], 1)
            flat = torch.cat([flat, flat.new_zeros(B, fill)], 1)
        parent, token = flat // V, flat % V                         # (B, K)
        survive = (rank < (K - n_finished)[:, None]) & torch.isfinite(cand_scores) & ~stopped[:, None]
        ends = survive & (token == eos)
        kept = survive & (token != eos)

        src = (rows[:, None] * K + parent).reshape(N)
        new_prefix = torch.cat([prefix.index_select(0, src), token.reshape(N, 1)], dim=1)
        if trace is not None:
            trace.append({"t": t, "prefix": prefix.reshape(B, K, -1).clone(),
                          "scores": scores.clone(), "log_probs": log_probs.reshape(B, K, V).clone(),
                          "parent": parent.clone(), "token": token.clone(),
                          "cand_scores": cand_scores.clone(), "finished": ends.clone(),
                          "kept": kept.clone()})
        n_finished = pool.add(ends, n_finished, new_prefix[:, 1:].reshape(B, K, t + 1), cand_scores, t + 1, True)

        scores = torch.where(kept, cand_scores, torch.full_like(cand_scores, -math.inf))
        prefix = new_prefix
        state = reorder_state(state, src, state_batch_dim)
        stopped = stopped | (n_finished >= n_best) | ~kept.any(dim=1)
        if bool(stopped.all()):
            break
    else:
        # max_len reached: the survivors are outputs too, cut short.
        alive = torch.isfinite(scores) & ~stopped[:, None]
        pool.add(alive, n_finished, prefix[:, 1:].reshape(B, K, max_len), scores, max_len, False)

    return pool.ranked(lp, n_best)


@dataclass
class _Pool:
    """Each input's finished hypotheses: K slots per input, plus a scratch slot K that absorbs the
    writes of non-finishing candidates (no data-dependent shapes, no device sync)."""

    tokens: torch.Tensor      # (B, K + 1, max_len)
    lengths: torch.Tensor     # (B, K + 1)
    log_probs: torch.Tensor   # (B, K + 1)
    finished: torch.Tensor    # (B, K + 1) bool: ended in <end> (False: cut at max_len)

    @classmethod
    def empty(cls, B: int, K: int, max_len: int, pad: int, dtype, device) -> "_Pool":
        return cls(torch.full((B, K + 1, max_len), pad, dtype=torch.long, device=device),
                   torch.zeros(B, K + 1, dtype=torch.long, device=device),
                   torch.full((B, K + 1), -math.inf, dtype=dtype, device=device),
                   torch.zeros(B, K + 1, dtype=torch.bool, device=device))

    def add(self, mask, n_finished, cand_tokens, cand_lp, length: int, is_finished: bool) -> torch.Tensor:
        """Append the candidates in ``mask`` (B, K) after each input's ``n_finished``; return the new counts."""
        B, K = mask.shape
        slot = n_finished[:, None] + mask.long().cumsum(1) - 1
        slot = torch.where(mask, slot, torch.full_like(slot, K))
        r = torch.arange(B, device=mask.device)[:, None].expand(-1, K)
        self.tokens[r, slot, :length] = cand_tokens
        self.lengths[r, slot] = length
        self.log_probs[r, slot] = cand_lp
        self.finished[r, slot] = is_finished
        return n_finished + mask.long().sum(1)

    def ranked(self, lp, n: int) -> Hypotheses:
        K = self.lengths.shape[1] - 1
        return _sort_pool(self.tokens[:, :K], self.lengths[:, :K], self.log_probs[:, :K], self.finished[:, :K],
                          lp, n)


# --------------------------------------------------------------- exhaustive search


def exhaustive_search(step: StepFn, state: Any = None, *, bos: int, eos: int, max_len: int,
                      n_best: int = 1, length_penalty: LengthPenalty = None,
                      state_batch_dim: int = 0, max_hypotheses: int = 2_000_000) -> Hypotheses:
    """Score every output of at most ``max_len`` tokens of one input; return the n best.

    Outputs are the sequences ending in <end> plus those cut at ``max_len``
    (as in beam search). Cost: one step call per length on all prefixes, i.e.
    about (V - 1) ** t prefixes at length t; refused beyond ``max_hypotheses``.

    Args:
        state: state of ONE input (hypothesis dimension of size 1), or None.
        bos: the start token (int). Others as in :func:`beam_search`.
    """
    check_positive_int("n_best", n_best)
    bos_t = _start(bos, 1, eos, max_len)
    lp = _resolve_penalty(length_penalty)
    prefix, scores = bos_t[:, None], None
    done_tokens, done_len, done_lp, done_fin = [], [], [], []

    def collect(tokens, logp, finished):
        done_tokens.append(torch.nn.functional.pad(tokens, (0, max_len - tokens.shape[1]), value=eos))
        done_len.append(torch.full((tokens.shape[0],), tokens.shape[1], dtype=torch.long,
                                   device=tokens.device))
        done_lp.append(logp)
        done_fin.append(torch.full((tokens.shape[0],), finished, device=tokens.device))

    for t in range(max_len):
        log_probs, state = _call_step(step, prefix, state)
        M, V = log_probs.shape
        if M * V > max_hypotheses:
            raise ValueError(f"exhaustive_search: {M * V} hypotheses at length {t + 1} exceed "
                             f"max_hypotheses={max_hypotheses}; use a smaller max_len or vocabulary")
        if scores is None:
            scores = log_probs.new_zeros(1)
        log_probs = log_probs.to(prefix.device)
        cand = scores[:, None] + log_probs                         # (M, V)
        parent = torch.arange(M, device=prefix.device)[:, None].expand(M, V)
        token = torch.arange(V, device=prefix.device)[None, :].expand(M, V)
        possible = torch.isfinite(cand)
        ends = possible & (token == eos)
        go_on = possible & (token != eos)
        collect(torch.cat([prefix[parent[ends], 1:], token[ends][:, None]], 1), cand[ends], True)
        src = parent[go_on]
        prefix = torch.cat([prefix[src], token[go_on][:, None]], 1)
        scores = cand[go_on]
        if src.numel() == 0:
            break
        state = reorder_state(state, src, state_batch_dim)
    else:
        collect(prefix[:, 1:], scores, False)

    tokens = torch.cat(done_tokens)[None]
    return _sort_pool(tokens, torch.cat(done_len)[None], torch.cat(done_lp)[None],
                      torch.cat(done_fin)[None], lp, min(n_best, tokens.shape[1]))


# ----------------------------------------------------------------- a table "model"


def table_step(probs: Mapping[tuple, Sequence[float]], vocab_size: int,
               default: Sequence[float] | None = None) -> StepFn:
    """A step function from a table P(next | generated prefix), for hand-made examples.

    ``probs[(x_1, ..., x_t)]`` is the distribution of x_{t+1} after the
    generated tokens x_1..x_t (<bos> not included; ``()`` is the first step).
    Prefixes not in the table get ``default`` (uniform if None). The state is
    unused (None).
    """
    check_positive_int("vocab_size", vocab_size)
    table = {}
    for key, p in list(probs.items()) + [(None, default or [1.0 / vocab_size] * vocab_size)]:
        p = torch.as_tensor(p, dtype=torch.float64)
        if p.shape != (vocab_size,) or (p < 0).any() or abs(float(p.sum()) - 1) > 1e-9:
            raise ValueError(f"table_step: the row for prefix {key} must be {vocab_size} "
                             f"probabilities summing to 1, got {p.tolist()}")
        table[key] = p.log()

    def step(prefix: torch.Tensor, state: Any):
        rows = [table.get(tuple(row[1:]), table[None]) for row in prefix.tolist()]
        return torch.stack(rows).to(prefix.device), state

    return step
