"""seqmodels.lm: the RNN language model against step-by-step oracles."""

import math

import pytest
import torch

from seqmodels.data import batchify
from seqmodels.decoding import greedy_search
from seqmodels.lm import evaluate, fit_lm, generate, lm_loss, RNNLM, sequence_log_probs

V, D, H = 7, 5, 6


def _model(cell, seed=0, **kw):
    return RNNLM(V, D, H, cell=cell, generator=torch.Generator().manual_seed(seed), **kw).double()


def _ids(T, B, seed=1):
    return torch.randint(0, V, (T, B), generator=torch.Generator().manual_seed(seed))


def _oracle_logits(model, X):
    """Step-by-step: e_t = E[x_t], one cell step, y_t = W_hy h_t + b_y."""
    p = dict(model.rnn.named_parameters())
    W_ih, W_hh, b = p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"] + p["bias_hh_l0"]
    B = X.shape[1]
    h = torch.zeros(B, H, dtype=torch.float64)
    c = torch.zeros(B, H, dtype=torch.float64)
    out = []
    for t in range(X.shape[0]):
        e = model.E.weight[X[t]]
        if model.cell == "rnn":
            h = torch.tanh(e @ W_ih.T + h @ W_hh.T + b)
        elif model.cell == "lstm":
            i, f, g, o = (e @ W_ih.T + h @ W_hh.T + b).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            cell = torch.nn.GRUCell(D, H).double()
            cell.load_state_dict({k.replace("_l0", ""): v for k, v in p.items()})
            h = cell(e, h)
        out.append(h @ model.W_hy.weight.T + model.W_hy.bias)
    return torch.stack(out)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_forward_matches_step_by_step_oracle(cell):
    model = _model(cell)
    X = _ids(9, 3)
    logits, _ = model(X)
    assert logits.shape == (9, 3, V)
    torch.testing.assert_close(logits, _oracle_logits(model, X).detach())


def test_state_carries_across_windows():
    model = _model("lstm")
    X = _ids(10, 2)
    full, _ = model(X)
    a, state = model(X[:4])
    b, _ = model(X[4:], state)
    torch.testing.assert_close(torch.cat([a, b]), full)


def test_lm_loss_is_mean_negative_log_prob_of_targets():
    gen = torch.Generator().manual_seed(2)
    logits = torch.randn(4, 3, V, generator=gen, dtype=torch.float64)
    targets = _ids(4, 3, seed=3)
    manual = -sum(torch.log_softmax(logits[t, b], 0)[targets[t, b]]
                  for t in range(4) for b in range(3)) / 12
    assert lm_loss(logits, targets).item() == pytest.approx(manual.item(), rel=1e-12)
    targets[0, 0] = 0
    kept = [(t, b) for t in range(4) for b in range(3) if targets[t, b] != 0]
    manual = -sum(torch.log_softmax(logits[t, b], 0)[targets[t, b]] for t, b in kept) / len(kept)
    assert lm_loss(logits, targets, ignore_index=0).item() == pytest.approx(manual.item(), rel=1e-12)
    with pytest.raises(ValueError, match=r"targets: expected shape \(T, B\)"):
        lm_loss(logits, targets.T)


def test_evaluate_equals_one_pass_over_the_stream_and_uniform_model_has_perplexity_V():
    model = _model("lstm")
    data = _ids(23, 3)
    logits, _ = model(data[:-1])
    ce = lm_loss(logits, data[1:]).item()
    got_ce, got_ppl = evaluate(model, data, seq_len=5)
    assert got_ce == pytest.approx(ce, rel=1e-10) and got_ppl == pytest.approx(math.exp(ce), rel=1e-10)
    with torch.no_grad():
        model.W_hy.weight.zero_()
        model.W_hy.bias.zero_()
    assert evaluate(model, data, seq_len=5)[1] == pytest.approx(V, rel=1e-12)


def test_sequence_log_probs_sum_to_log_prob_of_the_sentence():
    model = _model("gru")
    ids = _ids(6, 2)
    lp = sequence_log_probs(model, ids)
    assert lp.shape == (5, 2)
    for b in range(2):
        state, total = None, 0.0
        for t in range(5):
            log_p, state = model.step(ids[:t + 1, b][None], state)
            total += log_p[0, ids[t + 1, b]].item()
        assert lp[:, b].sum().item() == pytest.approx(total, rel=1e-10)


def test_training_learns_a_periodic_stream_and_generation_continues_it():
    gen = torch.Generator().manual_seed(0)
    model = RNNLM(V, 8, 16, cell="lstm", generator=gen)
    data = batchify(torch.arange(V).repeat(24), 4)  # 0 1 2 ... 6 0 1 2 ...
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    before = evaluate(model, data, seq_len=8)[1]
    log = fit_lm(model, data, opt, seq_len=8, epochs=6, max_norm=1.0, progress=False)
    assert log["steps"] == 6 * math.ceil((data.shape[0] - 1) / 8)
    after = evaluate(model, data, seq_len=8)[1]
    assert before > 5 and after < 1.1, (before, after)
    # every training stream starts at token 0 from the zero state, so start there too
    assert generate(model, [0, 1], 6, temperature=0) == [0, 1, 2, 3, 4, 5, 6, 0]
    hyps = greedy_search(model.step, None, bos=torch.tensor([0]), eos=V + 1, max_len=4,
                         state_batch_dim=1)
    assert hyps.best()[0] == [1, 2, 3, 4]


def test_sampling_reproducible():
    model = _model("rnn").float()
    a = generate(model, [1], 10, generator=torch.Generator().manual_seed(5), top_k=3)
    b = generate(model, [1], 10, generator=torch.Generator().manual_seed(5), top_k=3)
    assert a == b and len(a) == 11


def test_bad_arguments():
    model = _model("lstm")
    with pytest.raises(ValueError, match=r"\[0, 7\)"):
        model(torch.tensor([[7]]))
    with pytest.raises(TypeError, match="integer"):
        model(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"X: expected 2-D"):
        model(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="tie_weights"):
        RNNLM(V, 4, 5, tie_weights=True)
    with pytest.raises(ValueError, match="cell"):
        RNNLM(V, 4, 5, cell="transformer")
    with pytest.raises(ValueError, match="prefix"):
        generate(model, [], 3)
