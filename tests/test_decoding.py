"""Greedy, beam and exhaustive search (seqmodels.decoding) against a brute-force oracle.

The oracle enumerates every output of a tiny random model by depth-first
search, calling the model on one prefix at a time, so it shares no code with
the batched decoders.
"""

from __future__ import annotations

import math
from collections import namedtuple

import pytest
import torch

from seqmodels.decoding import (
    Hypotheses,
    beam_search,
    exhaustive_search,
    gnmt_length_penalty,
    greedy_search,
    reorder_state,
    table_step,
)

DT = torch.float64


class TinyRNNLM:
    """A random tanh RNN language model; state h (N, H) (or (1, N, H) with batch_dim=1)."""

    def __init__(self, V: int, H: int, seed: int, eos: int, batch_dim: int = 0, sharp: float = 2.0):
        g = torch.Generator().manual_seed(seed)
        self.V, self.H, self.batch_dim = V, H, batch_dim
        self.E = torch.randn(V, H, generator=g, dtype=DT)
        self.W_hh = torch.randn(H, H, generator=g, dtype=DT) / math.sqrt(H) * 1.5
        self.W_hy = torch.randn(V, H, generator=g, dtype=DT) * sharp
        self.b_y = torch.zeros(V, dtype=DT)
        self.b_y[eos] = -0.5  # outputs end, but not at once
        self.calls = 0

    def init_state(self, B: int, seed: int) -> torch.Tensor:
        h = torch.randn(B, self.H, generator=torch.Generator().manual_seed(seed), dtype=DT) * 0.5
        return h if self.batch_dim == 0 else h[None]

    def step(self, prefix, h):
        self.calls += 1
        h2 = h if self.batch_dim == 0 else h[0]
        h2 = torch.tanh(self.E[prefix[:, -1]] + h2 @ self.W_hh.T)
        log_probs = torch.log_softmax(h2 @ self.W_hy.T + self.b_y, dim=-1)
        return log_probs, (h2 if self.batch_dim == 0 else h2[None])


def brute_force(model: TinyRNNLM, h0, bos: int, eos: int, max_len: int):
    """Every output of one input (state h0 of batch size 1): list of (tokens, log_prob, finished)."""
    out = []

    def visit(tokens, h, logp):
        log_probs, h = model.step(torch.tensor([[bos] + tokens]), h)
        for v in range(model.V):
            lp = logp + float(log_probs[0, v])
            if v == eos:
                out.append((tokens + [v], lp, True))
            elif len(tokens) + 1 == max_len:
                out.append((tokens + [v], lp, False))
            else:
                visit(tokens + [v], h, lp)

    visit([], h0, 0.0)
    return out


def ranked(outputs, lp=lambda L: 1.0):
    return sorted(((lp(len(t)) and s / lp(len(t)), t, s, f) for t, s, f in outputs), key=lambda r: -r[0])


def teacher_forced_log_prob(model, h0, bos, tokens):
    logp, h = 0.0, h0
    for i, v in enumerate(tokens):
        log_probs, h = model.step(torch.tensor([[bos] + tokens[:i]]), h)
        logp += float(log_probs[0, v])
    return logp


V, BOS, EOS = 4, 3, 0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("penalty, lp", [(None, lambda L: 1.0), ("average", lambda L: float(L)),
                                         (0.8, lambda L: ((5 + L) / 6) ** 0.8)])
def test_beam_with_large_K_equals_brute_force_argmax(seed, penalty, lp):
    model = TinyRNNLM(V, 5, seed, EOS)
    h0 = model.init_state(1, 100 + seed)
    max_len = 4
    expected = ranked(brute_force(model, h0, BOS, EOS, max_len), lp)
    K = len(expected)  # at least the number of possible outputs
    hyp = beam_search(model.step, h0, bos=BOS, eos=EOS, beam_size=K, max_len=max_len,
                      length_penalty=penalty)
    assert hyp.sequences(0)[0] == expected[0][1], "beam search with K >= #outputs missed the argmax"
    torch.testing.assert_close(hyp.scores[0, 0].item(), expected[0][0], rtol=0, atol=1e-10)
    # The whole n-best list is the exhaustive ranking.
    got_scores = hyp.scores[0].tolist()
    torch.testing.assert_close(got_scores, [r[0] for r in expected], rtol=0, atol=1e-10)
    assert hyp.finished[0].tolist() == [r[3] for r in expected]


@pytest.mark.parametrize("seed", range(4))
def test_exhaustive_search_equals_brute_force(seed):
    model = TinyRNNLM(V, 5, seed, EOS)
    h0 = model.init_state(1, 200 + seed)
    expected = ranked(brute_force(model, h0, BOS, EOS, 5), lambda L: float(L))
    got = exhaustive_search(model.step, h0, bos=BOS, eos=EOS, max_len=5, n_best=10,
                            length_penalty="average")
    assert got.sequences(0) == [r[1] for r in expected[:10]]
    torch.testing.assert_close(got.scores[0].tolist(), [r[0] for r in expected[:10]], rtol=0, atol=1e-10)


def test_beam_search_is_not_exhaustive_with_small_K():
    """Some tiny model must show a gap between greedy / beam 2 and the optimum (else the chapter's point fails)."""
    gaps = []
    for seed in range(30):
        model = TinyRNNLM(V, 5, seed, EOS)
        h0 = model.init_state(1, 300 + seed)
        best = ranked(brute_force(model, h0, BOS, EOS, 4))[0][0]
        greedy = greedy_search(model.step, h0, bos=BOS, eos=EOS, max_len=4).scores[0, 0].item()
        beam2 = beam_search(model.step, h0, bos=BOS, eos=EOS, beam_size=2, max_len=4).scores[0, 0].item()
        assert greedy <= best + 1e-12 and beam2 <= best + 1e-12, "a search beat the exhaustive optimum"
        gaps.append(best - greedy)
    assert max(gaps) > 1e-3, "greedy was optimal on every random model: the test models are too easy"


@pytest.mark.parametrize("seed", range(5))
def test_beam_size_1_equals_greedy(seed):
    model = TinyRNNLM(6, 7, seed, EOS)
    B = 8
    h0 = model.init_state(B, 400 + seed)
    bos = torch.full((B,), BOS)
    beam = beam_search(model.step, h0, bos=bos, eos=EOS, beam_size=1, max_len=9)
    greedy = greedy_search(model.step, h0, bos=bos, eos=EOS, max_len=9)
    for b in range(B):
        assert beam.sequences(b) == greedy.sequences(b), f"input {b}"
    torch.testing.assert_close(beam.log_probs, greedy.log_probs)
    assert torch.equal(beam.finished, greedy.finished)


def test_greedy_takes_the_argmax_at_every_step():
    model = TinyRNNLM(6, 7, 11, EOS)
    h0 = model.init_state(1, 11)
    tokens = greedy_search(model.step, h0, bos=BOS, eos=EOS, max_len=12).sequences(0)[0]
    h = h0
    for i, v in enumerate(tokens):
        log_probs, h = model.step(torch.tensor([[BOS] + tokens[:i]]), h)
        assert v == int(log_probs.argmax()), f"step {i}: not the most probable token"


@pytest.mark.parametrize("K, penalty", [(2, None), (3, "average"), (4, 0.6)])
def test_batched_equals_one_input_at_a_time(K, penalty):
    model = TinyRNNLM(7, 8, 5, EOS)
    B = 6
    h0 = model.init_state(B, 500 + K)
    bos = torch.full((B,), BOS)
    batched = beam_search(model.step, h0, bos=bos, eos=EOS, beam_size=K, max_len=10, length_penalty=penalty)
    for b in range(B):
        alone = beam_search(model.step, h0[b:b + 1], bos=BOS, eos=EOS, beam_size=K, max_len=10,
                            length_penalty=penalty)
        assert batched.sequences(b) == alone.sequences(0), f"input {b}"
        torch.testing.assert_close(batched.scores[b], alone.scores[0])
        torch.testing.assert_close(batched.log_probs[b], alone.log_probs[0])


def test_scores_equal_sum_of_token_log_probs():
    model = TinyRNNLM(6, 6, 8, EOS)
    B, K, alpha = 4, 3, 0.7
    h0 = model.init_state(B, 600)
    hyp = beam_search(model.step, h0, bos=torch.full((B,), BOS), eos=EOS, beam_size=K, max_len=8,
                      length_penalty=alpha)
    assert hyp.tokens.shape[:2] == (B, K)
    for b in range(B):
        seqs = hyp.sequences(b)
        assert len(seqs) == K
        for i, tokens in enumerate(seqs):
            expected = teacher_forced_log_prob(model, h0[b:b + 1], BOS, tokens)
            assert abs(hyp.log_probs[b, i].item() - expected) < 1e-10, f"input {b}, hypothesis {i}"
            L = len(tokens)
            assert abs(hyp.scores[b, i].item() - expected / ((5 + L) / 6) ** alpha) < 1e-10
        assert hyp.scores[b].tolist() == sorted(hyp.scores[b].tolist(), reverse=True), "n-best not sorted"
        assert len({tuple(s) for s in seqs}) == K, "duplicate hypotheses in the n-best list"


def _eos_then_free_tokens(V=3, eos=0):
    """<end> is fairly likely at once; after it, token 1 has probability 1 (log 0).

    Extending a finished hypothesis would cost nothing and, under the average
    length penalty, would raise its score: a decoder that extends finished
    hypotheses picks the extended one.
    """
    table = {(): [0.6, 0.2, 0.2], (1,): [0.5, 0.25, 0.25], (2,): [0.4, 0.3, 0.3]}
    for t in range(1, 8):
        table[(eos,) + (1,) * (t - 1)] = [0.0, 1.0, 0.0]
    return table_step(table, V, default=[0.5, 0.25, 0.25])


@pytest.mark.parametrize("search", ["beam", "greedy"])
def test_finished_hypotheses_are_never_extended(search):
    step = _eos_then_free_tokens()
    if search == "beam":
        hyp = beam_search(step, bos=2, eos=0, beam_size=3, max_len=6, length_penalty="average")
    else:
        hyp = greedy_search(step, bos=2, eos=0, max_len=6, length_penalty="average")
    assert hyp.sequences(0)[0] == [0], f"expected the finished output [<end>], got {hyp.sequences(0)[0]}"
    for i, tokens in enumerate(hyp.sequences(0)):
        L = int(hyp.lengths[0, i])
        if hyp.finished[0, i]:
            assert tokens.index(0) == L - 1, f"tokens after <end> in {tokens}"
        assert (hyp.tokens[0, i, L:] == 0).all(), "padding after the end must be the pad token"


def test_n_best_stops_early_and_max_len_cuts():
    model = TinyRNNLM(V, 5, 3, EOS)
    h0 = model.init_state(2, 700)
    bos = torch.full((2,), BOS)
    hyp = beam_search(model.step, h0, bos=bos, eos=EOS, beam_size=4, n_best=2, max_len=6)
    assert hyp.tokens.shape[:2] == (2, 2)
    cut = beam_search(model.step, h0, bos=bos, eos=EOS, beam_size=4, max_len=1)
    for b in range(2):
        for i, tokens in enumerate(cut.sequences(b)):
            assert len(tokens) == 1
            assert bool(cut.finished[b, i]) == (tokens[-1] == EOS)


def test_fewer_outputs_than_beam_gives_empty_entries():
    step = table_step({(): [0.7, 0.3]}, 2, default=[1.0, 0.0])
    hyp = beam_search(step, bos=1, eos=0, beam_size=4, max_len=3)
    assert hyp.sequences(0) == [[0], [1, 0]]
    assert hyp.scores[0, 2:].tolist() == [-math.inf, -math.inf]
    assert hyp.lengths[0, 2:].tolist() == [0, 0]


def test_state_with_batch_dim_1_gives_the_same_result():
    a = TinyRNNLM(5, 6, 9, EOS, batch_dim=0)
    b = TinyRNNLM(5, 6, 9, EOS, batch_dim=1)
    h0 = a.init_state(3, 800)
    bos = torch.full((3,), BOS)
    r0 = beam_search(a.step, h0, bos=bos, eos=EOS, beam_size=3, max_len=7)
    r1 = beam_search(b.step, h0[None], bos=bos, eos=EOS, beam_size=3, max_len=7, state_batch_dim=1)
    assert torch.equal(r0.tokens, r1.tokens)
    torch.testing.assert_close(r0.scores, r1.scores)


def test_reorder_state_walks_nested_states():
    Pair = namedtuple("Pair", "h c")

    class Cache:
        def __init__(self, x):
            self.x = x

        def reorder(self, index):
            return Cache(self.x[index])

    x = torch.arange(6.0).reshape(3, 2)
    state = {"rnn": Pair(x, x * 10), "enc": [x[:, None, :], None], "cache": Cache(x)}
    index = torch.tensor([2, 2, 0])
    out = reorder_state(state, index)
    assert torch.equal(out["rnn"].h, x[index]) and isinstance(out["rnn"], Pair)
    assert torch.equal(out["rnn"].c, 10 * x[index])
    assert torch.equal(reorder_state(x.T, index, dim=1), x.T[:, index])
    assert torch.equal(out["enc"][0], x[index][:, None, :]) and out["enc"][1] is None
    assert torch.equal(out["cache"].x, x[index])
    with pytest.raises(TypeError, match="reorder"):
        reorder_state({"n": 3}, index)


class TinyAttentionLM:
    """One causal self-attention layer; decodes with a KV cache or by recomputing the prefix."""

    def __init__(self, V, d, seed):
        g = torch.Generator().manual_seed(seed)
        self.E = torch.randn(V, d, generator=g, dtype=DT)
        self.P = torch.randn(16, d, generator=g, dtype=DT) * 0.5
        self.Wq, self.Wk, self.Wv = (torch.randn(d, d, generator=g, dtype=DT) / math.sqrt(d) for _ in range(3))
        self.Wo = torch.randn(V, d, generator=g, dtype=DT) * 1.5

    def _embed(self, tokens, pos):
        return self.E[tokens] + self.P[pos]

    def _out(self, q, K, Vv):
        att = torch.softmax(q[:, None, :] @ K.transpose(1, 2) / math.sqrt(K.shape[-1]), dim=-1)
        return torch.log_softmax((att @ Vv)[:, 0] @ self.Wo.T, dim=-1)

    def step_full(self, prefix, state):
        x = self._embed(prefix, torch.arange(prefix.shape[1]))          # (N, t, d)
        return self._out(x[:, -1] @ self.Wq.T, x @ self.Wk.T, x @ self.Wv.T), state

    def step_cached(self, prefix, cache):
        t = prefix.shape[1] - 1
        x = self._embed(prefix[:, -1], torch.full((prefix.shape[0],), t))  # (N, d)
        K = torch.cat([cache["k"], (x @ self.Wk.T)[:, None]], 1)
        Vv = torch.cat([cache["v"], (x @ self.Wv.T)[:, None]], 1)
        return self._out(x @ self.Wq.T, K, Vv), {"k": K, "v": Vv}


def test_kv_cache_state_gives_the_same_beams_as_recomputing_the_prefix():
    model = TinyAttentionLM(6, 8, 12)
    B, d = 3, 8
    bos = torch.tensor([1, 2, 3])
    empty = {"k": torch.zeros(B, 0, d, dtype=DT), "v": torch.zeros(B, 0, d, dtype=DT)}
    full = beam_search(model.step_full, None, bos=bos, eos=EOS, beam_size=3, max_len=8)
    cached = beam_search(model.step_cached, empty, bos=bos, eos=EOS, beam_size=3, max_len=8)
    assert torch.equal(full.tokens, cached.tokens)
    torch.testing.assert_close(full.scores, cached.scores)


def test_trace_shows_K_survivors_per_step():
    step = table_step({(): [0.1, 0.5, 0.4], (1,): [0.6, 0.2, 0.2], (2,): [0.1, 0.1, 0.8]}, 3,
                      default=[1.0, 0.0, 0.0])
    trace = []
    beam_search(step, bos=2, eos=0, beam_size=2, max_len=4, trace=trace)
    first = trace[0]
    assert first["token"][0].tolist() == [1, 2] and first["kept"][0].tolist() == [True, True]
    second = trace[1]
    # Candidates: (2,2) 0.32 > (1,<end>) 0.30: both survive, (1,<end>) finishes.
    assert second["token"][0].tolist() == [2, 0]
    assert second["finished"][0].tolist() == [False, True]


def test_bad_inputs_give_clear_errors():
    model = TinyRNNLM(V, 5, 0, EOS)
    h0 = model.init_state(2, 0)
    bos = torch.full((2,), BOS)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(model.step, h0, bos=bos, eos=EOS, beam_size=0, max_len=3)
    with pytest.raises(ValueError, match="n_best"):
        beam_search(model.step, h0, bos=bos, eos=EOS, beam_size=2, n_best=3, max_len=3)
    with pytest.raises(ValueError, match="max_len"):
        greedy_search(model.step, h0, bos=bos, eos=EOS, max_len=0)
    with pytest.raises(ValueError, match="log_probs returned by step"):
        beam_search(lambda p, s: (torch.zeros(p.shape[0], 1, V), s), h0, bos=bos, eos=EOS,
                    beam_size=2, max_len=3)
    with pytest.raises(TypeError, match="pair"):
        greedy_search(lambda p, s: torch.zeros(p.shape[0], V), h0, bos=bos, eos=EOS, max_len=3)
    with pytest.raises(ValueError, match="bos"):
        greedy_search(model.step, h0, bos=torch.zeros(2, 1), eos=EOS, max_len=3)
    with pytest.raises(ValueError, match="alpha"):
        gnmt_length_penalty(-1.0)
    with pytest.raises(ValueError, match="length_penalty"):
        beam_search(model.step, h0, bos=bos, eos=EOS, beam_size=2, max_len=3, length_penalty="avg")
    with pytest.raises(ValueError, match="max_hypotheses"):
        exhaustive_search(model.step, h0[:1], bos=BOS, eos=EOS, max_len=8, max_hypotheses=100)
    with pytest.raises(ValueError, match="probabilities"):
        table_step({(): [0.5, 0.2]}, 2)


def test_gnmt_penalty_matches_its_formula():
    L = torch.tensor([1.0, 4.0, 10.0])
    torch.testing.assert_close(gnmt_length_penalty(0.6)(L), ((5 + L) / 6) ** 0.6)
    torch.testing.assert_close(gnmt_length_penalty(0.0)(L), torch.ones(3))


@pytest.mark.gpu
def test_beam_search_on_gpu_equals_cpu():
    model = TinyRNNLM(7, 8, 21, EOS)
    h0 = model.init_state(5, 21)
    bos = torch.full((5,), BOS)
    cpu = beam_search(model.step, h0, bos=bos, eos=EOS, beam_size=4, max_len=10, length_penalty=0.6)
    for name in ("E", "W_hh", "W_hy", "b_y"):
        setattr(model, name, getattr(model, name).cuda())
    gpu = beam_search(model.step, h0.cuda(), bos=bos.cuda(), eos=EOS, beam_size=4, max_len=10,
                      length_penalty=0.6)
    assert isinstance(gpu, Hypotheses) and gpu.tokens.is_cuda
    assert torch.equal(cpu.tokens, gpu.tokens.cpu())
    torch.testing.assert_close(cpu.scores, gpu.scores.cpu())


class TinySeq2SeqDecoder:
    """An RNN decoder attending over encoder outputs; state = (h (N, H), (enc (N, S, H), mask (N, S)))."""

    def __init__(self, V, H, seed):
        g = torch.Generator().manual_seed(seed)
        self.E = torch.randn(V, H, generator=g, dtype=DT)
        self.W_hh = torch.randn(H, H, generator=g, dtype=DT) / math.sqrt(H)
        self.W_hy = torch.randn(V, 2 * H, generator=g, dtype=DT) * 1.5

    def step(self, prefix, state):
        h, (enc, mask) = state
        h = torch.tanh(self.E[prefix[:, -1]] + h @ self.W_hh.T)
        att = (enc @ h[:, :, None])[:, :, 0].masked_fill(~mask, -math.inf).softmax(dim=1)  # (N, S)
        context = (att[:, :, None] * enc).sum(1)
        return torch.log_softmax(torch.cat([h, context], 1) @ self.W_hy.T, dim=-1), (h, (enc, mask))


def test_seq2seq_state_with_padded_sources_batched_equals_one_by_one():
    dec = TinySeq2SeqDecoder(6, 5, 13)
    g = torch.Generator().manual_seed(13)
    lengths = torch.tensor([3, 7, 1, 5])
    B, S = 4, 7
    enc = torch.randn(B, S, 5, generator=g, dtype=DT)
    mask = torch.arange(S)[None, :] < lengths[:, None]
    h0 = torch.randn(B, 5, generator=g, dtype=DT)
    bos = torch.full((B,), 5)
    batched = beam_search(dec.step, (h0, (enc, mask)), bos=bos, eos=EOS, beam_size=3, max_len=9,
                          length_penalty="average")
    for b in range(B):
        L = int(lengths[b])  # alone, each source is unpadded
        alone = beam_search(dec.step, (h0[b:b + 1], (enc[b:b + 1, :L], mask[b:b + 1, :L])), bos=5,
                            eos=EOS, beam_size=3, max_len=9, length_penalty="average")
        assert batched.sequences(b) == alone.sequences(0), f"input {b}"
        torch.testing.assert_close(batched.scores[b], alone.scores[0])
