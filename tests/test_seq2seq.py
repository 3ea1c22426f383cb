"""Encoder–decoder (seqmodels.seq2seq): encoder against torch.nn.GRU on unpadded sentences,
teacher forcing against step-by-step decoding, padding invariance, search glue, learning."""

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from seqmodels.decoding import beam_search, greedy_search
from seqmodels.seq2seq import batch_pairs, fit, Seq2Seq, sequence_nll, teacher_forcing_loss, translate
from seqmodels.data import Vocab
from seqmodels.specials import BOS, EOS, PAD, SPECIALS
from seqmodels.tasks import reversal_pairs

F64 = torch.float64


def small_model(attention="lecture", cell="gru", seed=0, V=9):
    g = torch.Generator().manual_seed(seed)
    return Seq2Seq(V, V + 2, 6, 5, attention=attention, cell=cell, generator=g).double()


def small_batch(seed=0, V=9):
    pairs = reversal_pairs(4, vocab_size=V, min_len=1, max_len=6, generator=torch.Generator().manual_seed(seed))
    pairs[0] = (pairs[0][0] + [3] * (6 - len(pairs[0][0])), pairs[0][1])  # one source of full length
    return pairs, batch_pairs(pairs)


def test_batch_pairs_layout():
    src, lengths, tgt = batch_pairs([([3, 4, 5], [5, 4]), ([6], [7, 8, 9])])
    assert src.T.tolist() == [[3, 4, 5], [6, PAD, PAD]]
    assert lengths.tolist() == [3, 1]
    assert tgt.T.tolist() == [[BOS, 5, 4, EOS, PAD], [BOS, 7, 8, 9, EOS]]


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_encoder_columns_are_forward_and_backward_states(cell):
    model = small_model(cell=cell)
    pairs, (src, lengths, _) = small_batch()
    F, summary = model.encoder(src, lengths)
    rnn = model.encoder.rnn
    for b, (x, _) in enumerate(pairs):
        X = model.encoder.embedding(torch.tensor(x))[:, None, :]
        fwd = (nn.GRU if cell == "gru" else nn.LSTM)(6, 5).double()
        bwd = (nn.GRU if cell == "gru" else nn.LSTM)(6, 5).double()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(fwd, name + "_l0").data.copy_(getattr(rnn, name + "_l0"))
            getattr(bwd, name + "_l0").data.copy_(getattr(rnn, name + "_l0_reverse"))
        h_fwd, _ = fwd(X)
        h_bwd = bwd(X.flip(0))[0].flip(0)
        L = len(x)
        assert_close(F[b, :L], torch.cat([h_fwd, h_bwd], -1)[:, 0])
        assert (F[b, L:] == 0).all(), "columns at padding must be zero"
        assert_close(summary[b], torch.cat([h_fwd[L - 1, 0], h_bwd[0, 0]]))


@pytest.mark.parametrize("attention,cell", [("lecture", "gru"), ("additive", "lstm"),
                                            ("dot", "gru"), ("scaled_dot", "lstm"), (None, "gru")])
def test_teacher_forcing_equals_step_by_step(attention, cell):
    model = small_model(attention, cell)
    _, (src, lengths, tgt) = small_batch()
    logits, attn = model(src, lengths, tgt[:-1])
    state, step = model.encode(src, lengths), model.step_fn()
    for t in range(tgt.shape[0] - 1):
        log_probs, state = step(tgt[:t + 1].T, state)
        assert_close(log_probs, torch.log_softmax(logits[t], -1), msg=f"step {t}")
    S = src.shape[0] if attention else 1
    assert attn.shape == (tgt.shape[0] - 1, src.shape[1], S)
    # the loss is the mean -log p over real target tokens
    lp = torch.log_softmax(logits, -1).gather(2, tgt[1:, :, None])[:, :, 0]
    real = tgt[1:] != PAD
    assert_close(teacher_forcing_loss(model, src, lengths, tgt), -lp[real].mean())


@pytest.mark.parametrize("attention", ["lecture", "additive", None])
def test_padded_batch_equals_each_sentence_alone(attention):
    model = small_model(attention, "lstm" if attention == "additive" else "gru")
    pairs, (src, lengths, tgt) = small_batch(1)
    logits, attn = model(src, lengths, tgt[:-1])
    for b, (x, y) in enumerate(pairs):
        s1, l1, t1 = batch_pairs([(x, y)])
        alone, a1 = model(s1, l1, t1[:-1])
        T = t1.shape[0] - 1
        assert_close(alone[:, 0], logits[:T, b])
        if attention:
            assert_close(a1[:, 0], attn[:T, b, :len(x)])
            assert (attn[:, b, len(x):] == 0).all()


def test_attention_weights_sum_to_one_over_real_words():
    model = small_model("additive")
    _, (src, lengths, tgt) = small_batch(2)
    _, attn = model(src, lengths, tgt[:-1])
    assert_close(attn.sum(-1), torch.ones(attn.shape[:2], dtype=F64))


def test_translate_greedy_follows_argmax_and_beam_one_is_greedy():
    model = small_model("lecture", seed=3)
    _, (src, lengths, _) = small_batch(3)
    out = translate(model, src, lengths, max_len=7)
    state, step = model.encode(src, lengths), model.step_fn()
    for b in range(src.shape[1]):  # a plain argmax loop, one sentence at a time
        st = type(state)(*(None if x is None else x[b:b + 1] for x in state))
        prefix, words = torch.tensor([[BOS]]), []
        for _ in range(7):
            lp, st = step(prefix, st)
            w = int(lp.argmax())
            if w == EOS:
                break
            words.append(w)
            prefix = torch.cat([prefix, torch.tensor([[w]])], 1)
        assert out[b] == words, f"sentence {b}"
    assert translate(model, src, lengths, beam_size=1, max_len=7) == out
    beam1 = greedy_search(model.step_fn(), model.encode(src, lengths), bos=torch.full((4,), BOS),
                          eos=EOS, max_len=7)
    assert [[w for w in s if w != EOS] for s in beam1.best()] == out


def test_translate_with_beam_search_finds_more_probable_outputs():
    model = small_model("lecture", seed=2)
    with torch.no_grad():  # peaked, input-dependent next-word distributions
        model.decoder.out.weight.mul_(6)
    _, (src, lengths, _) = small_batch(4)
    kw = dict(bos=torch.full((4,), BOS), eos=EOS, max_len=8)
    greedy = greedy_search(model.step_fn(), model.encode(src, lengths), **kw)
    beam = beam_search(model.step_fn(), model.encode(src, lengths), beam_size=8, **kw)  # n_best = K
    assert translate(model, src, lengths, beam_size=8, max_len=8) == \
        [[w for w in s if w != EOS] for s in beam.best()]
    assert (beam.log_probs[:, 0] >= greedy.log_probs[:, 0] - 1e-9).all()
    assert (beam.log_probs[:, 0] > greedy.log_probs[:, 0] + 1e-6).any(), \
        "with K = 8 beam search should beat greedy on some sentence"


def test_learns_reversal_in_a_few_seconds(one_thread):
    g = torch.Generator().manual_seed(0)
    train = reversal_pairs(1500, vocab_size=8, min_len=2, max_len=6, generator=g)
    test = reversal_pairs(100, vocab_size=8, min_len=2, max_len=6, generator=g)
    model = Seq2Seq(8, 8, 16, 32, attention="lecture", generator=torch.Generator().manual_seed(1))
    losses = fit(model, train, epochs=4, batch_size=32, lr=1e-2, generator=torch.Generator().manual_seed(2))
    src, lengths, _ = batch_pairs(test)
    outs = translate(model, src, lengths)
    acc = sum(o == y for o, (_, y) in zip(outs, test)) / len(test)
    assert losses[-1] < 0.3 * losses[0]
    assert acc >= 0.9, f"exact-match accuracy {acc:.2f} after {len(losses)} steps"


def test_fit_with_a_given_optimizer_continues_its_state(one_thread):
    # two calls of one epoch with one optimizer == one call of two epochs (same batches, same Adam moments)
    train = reversal_pairs(200, vocab_size=8, min_len=2, max_len=5, generator=torch.Generator().manual_seed(0))
    whole = Seq2Seq(8, 8, 8, 16, generator=torch.Generator().manual_seed(1))
    g = torch.Generator().manual_seed(2)
    expected = fit(whole, train, epochs=2, batch_size=32, lr=1e-2, generator=g)
    split = Seq2Seq(8, 8, 8, 16, generator=torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(split.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(2)
    got = [loss for _ in range(2) for loss in fit(split, train, batch_size=32, optimizer=opt, generator=g)]
    assert got == pytest.approx(expected, rel=1e-5)
    assert opt.state  # the optimizer passed in is the one that stepped


def test_sequence_nll_ignores_padding():
    logits = torch.zeros(2, 1, 4)
    nll, count = sequence_nll(logits, torch.tensor([[3], [PAD]]))
    assert count == 1
    assert_close(nll, torch.log(torch.tensor(4.0)))


def test_bad_inputs_give_clear_errors():
    model = small_model()
    src = torch.tensor([[3, 4], [5, PAD]])
    with pytest.raises(TypeError, match="token ids"):
        model.encode(src.double(), [2, 1])
    with pytest.raises(ValueError, match=r"in \[1, T\] = \[1, 2\]"):
        model.encode(src, [3, 1])
    with pytest.raises(ValueError, match="expected 2 lengths"):
        model.encode(src, [2, 1, 1])
    with pytest.raises(ValueError, match="attention"):
        Seq2Seq(5, 5, attention="cosine")
    with pytest.raises(ValueError, match="source 1 is empty"):
        batch_pairs([([3], [3]), ([], [4])])


@pytest.mark.gpu
def test_cuda_matches_cpu():
    model = small_model("additive", "lstm")
    _, (src, lengths, tgt) = small_batch()
    cpu, _ = model(src, lengths, tgt[:-1])
    gpu, _ = model.cuda()(src.cuda(), lengths.cuda(), tgt[:-1].cuda())
    assert_close(gpu.cpu(), cpu)
    assert translate(model, src.cuda(), lengths.cuda(), beam_size=3) == \
        translate(model.cpu(), src, lengths, beam_size=3)


def test_default_model_with_default_vocabulary_decodes_its_words(one_thread):
    # Seq2Seq, batch_pairs and Vocab all take their special ids from seqmodels.specials: a model built
    # with its defaults must start at the vocabulary's <bos> and stop at its <eos> (it once used <unk>
    # as BOS and <bos> as EOS).
    vocab = Vocab("the cat sat on a mat".split())
    assert (vocab["<pad>"], vocab["<bos>"], vocab["<eos>"]) == (PAD, BOS, EOS)
    g = torch.Generator().manual_seed(0)
    words = vocab.itos[len(SPECIALS):]

    def sentence():
        n = int(torch.randint(2, 5, (), generator=g))
        return [words[int(i)] for i in torch.randint(len(words), (n,), generator=g)]

    texts = [sentence() for _ in range(1600)]
    pairs = [(vocab.encode(t), vocab.encode(t[::-1])) for t in texts]
    model = Seq2Seq(len(vocab), len(vocab), 16, 32, generator=torch.Generator().manual_seed(1))
    assert (model.pad, model.bos, model.eos) == (PAD, BOS, EOS)
    fit(model, pairs[:1500], epochs=4, batch_size=32, lr=1e-2, generator=torch.Generator().manual_seed(2))
    src, lengths, tgt = batch_pairs(pairs[1500:])
    assert (tgt[0] == vocab["<bos>"]).all()
    outs = [vocab.decode(o) for o in translate(model, src, lengths)]
    exact = sum(o == t[::-1] for o, t in zip(outs, texts[1500:])) / 100
    assert exact >= 0.9, f"exact reversals {exact:.2f}; outputs like {outs[:3]}"
    assert not any(tok in SPECIALS for o in outs for tok in o)
