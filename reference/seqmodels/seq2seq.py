r"""Encoder–decoder models with attention (chapter 8): a conditional language model

    p(w | x) = prod_t p(w_t | x, w_<t)

Encoder. A bidirectional RNN reads the source x_1..x_S (embedded) and gives
one column per word, f_i = [h->_i; h<-_i] (D_f = 2 H_enc), stacked in the
source matrix F, and a summary [h->_S; h<-_1] of the whole sentence.

Decoder (one step, t = 1, 2, ...; s_0 = tanh(W_init summary + b_init))::

    c_t, a_t = attention(s_{t-1}, F, mask)          see seq2seq_attention
    s_t      = RNN([e(w_{t-1}); c_t], s_{t-1})      GRU or LSTM cell
    o_t      = tanh(W_o [s_t; c_t; e(w_{t-1})] + b_o)
    p(w_t | x, w_<t) = softmax(W_hy o_t + b_y)

Without attention (``attention=None``, Cho et al. 2014) the source matrix
has a single column, the summary, so c_t is the same fixed vector at every
step: the whole sentence must squeeze through it (the bottleneck).

Tensors are time-major as in the rest of the course: src (S, B), tgt (T, B),
logits (T, B, V); the decoder state is batch-first (one row per hypothesis,
``state_batch_dim=0`` for ``seqmodels.decoding``). The recurrent layers are
torch.nn.GRU / LSTM (chapter 3 checked that seqmodels.GRU/LSTM compute the
same function); the built-ins are used here for speed, cuDNN on a GPU.

Token ids: ``PAD``, ``BOS`` and ``EOS`` are fixed by the model's arguments;
the synthetic task below uses 0, 1, 2.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple, Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from ._checks import check_choice, check_positive_int, check_tensor
from .decoding import beam_search, greedy_search
from .seq2seq_attention import ATTENTION_KINDS, Attention, padding_mask

__all__ = [
    "BOS", "EOS", "PAD",
    "DecoderState",
    "Encoder",
    "AttentionDecoder",
    "Seq2Seq",
    "batch_pairs",
    "reversal_pairs",
    "split_punctuation",
    "detokenize",
    "sequence_nll",
    "teacher_forcing_loss",
    "train_step",
    "fit",
    "translate",
]

PAD, BOS, EOS = 0, 1, 2
CELLS = ("gru", "lstm")


class DecoderState(NamedTuple):
    """Everything one hypothesis carries; every tensor has the hypotheses on dimension 0.

    s (N, H) decoder state s_{t-1}; cell (N, H) LSTM memory or None;
    F (N, S, D_f) source matrix; keys (N, S, A) its precomputed attention
    keys; mask (N, S) bool, True at real source words.
    """

    s: torch.Tensor
    cell: torch.Tensor | None
    F: torch.Tensor
    keys: torch.Tensor
    mask: torch.Tensor


def _rnn(cell: str, *args, **kwargs) -> nn.Module:
    return (nn.GRU if cell == "gru" else nn.LSTM)(*args, **kwargs)


def _check_src(src, src_lengths, device=None):
    check_tensor("src", src, ("S", "B"), floating=False)
    if src.is_floating_point() or src.dtype == torch.bool:
        raise TypeError(f"src: expected token ids (a long tensor (S, B)), got {src.dtype}")
    S, B = src.shape
    mask = padding_mask(src_lengths, S, device=src.device)
    if mask.shape[0] != B:
        raise ValueError(f"src_lengths: expected {B} lengths (one per column of src (S, B)), "
                         f"got {mask.shape[0]}")
    return mask


# ------------------------------------------------------------------------ encoder


class Encoder(nn.Module):
    """Embedding + bidirectional RNN: src (S, B), lengths (B,) -> F (B, S, 2H), summary (B, 2H).

    F is zero at padded positions; the summary is [h->_{L_b}; h<-_1], each
    sentence's own last forward and reverse states (top layer).
    """

    def __init__(self, vocab_size: int, emb_size: int, hidden_size: int, *, cell: str = "gru",
                 num_layers: int = 1, dropout: float = 0.0, pad: int = PAD) -> None:
        super().__init__()
        self.cell = check_choice("cell", cell, CELLS)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.embedding = nn.Embedding(check_positive_int("vocab_size", vocab_size),
                                      check_positive_int("emb_size", emb_size), padding_idx=pad)
        self.rnn = _rnn(cell, emb_size, hidden_size, num_layers=num_layers, bidirectional=True,
                        dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)

    @property
    def output_size(self) -> int:
        return 2 * self.hidden_size

    def forward(self, src: torch.Tensor, src_lengths) -> tuple[torch.Tensor, torch.Tensor]:
        mask = _check_src(src, src_lengths)
        lengths = mask.sum(1)
        X = self.dropout(self.embedding(src))                      # (S, B, E)
        packed = pack_padded_sequence(X, lengths.cpu(), enforce_sorted=False)
        out, final = self.rnn(packed)
        H_out, _ = pad_packed_sequence(out, total_length=src.shape[0])   # (S, B, 2H), 0 at padding
        h_n = final[0] if self.cell == "lstm" else final            # (layers * 2, B, H)
        summary = torch.cat([h_n[-2], h_n[-1]], dim=-1)             # [h->_L; h<-_1] of the top layer
        return H_out.transpose(0, 1), summary


# ------------------------------------------------------------------------ decoder


class AttentionDecoder(nn.Module):
    """An RNN language model over the target conditioned on the source through attention."""

    def __init__(self, vocab_size: int, emb_size: int, hidden_size: int, source_size: int, *,
                 attention: str | None = "lecture", cell: str = "gru", attention_size: int | None = None,
                 dropout: float = 0.0, pad: int = PAD) -> None:
        super().__init__()
        self.cell = check_choice("cell", cell, CELLS)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.source_size = check_positive_int("source_size", source_size)
        self.embedding = nn.Embedding(check_positive_int("vocab_size", vocab_size),
                                      check_positive_int("emb_size", emb_size), padding_idx=pad)
        self.attention = None if attention is None else Attention(
            attention, hidden_size, source_size, attention_size)
        self.rnn_cell = (nn.GRUCell if cell == "gru" else nn.LSTMCell)(emb_size + source_size, hidden_size)
        self.init = nn.Linear(source_size, hidden_size)             # s_0 = tanh(W_init summary + b_init)
        self.readout = nn.Linear(hidden_size + source_size + emb_size, hidden_size)   # W_o, b_o
        self.out = nn.Linear(hidden_size, vocab_size)               # W_hy, b_y
        self.dropout = nn.Dropout(dropout)

    def initial_state(self, F: torch.Tensor, summary: torch.Tensor, mask: torch.Tensor) -> DecoderState:
        """State before the first target word; without attention F becomes the summary alone."""
        s0 = torch.tanh(self.init(summary))
        cell = torch.zeros_like(s0) if self.cell == "lstm" else None
        if self.attention is None:
            F, mask = summary[:, None, :], mask[:, :1]
        keys = F if self.attention is None else self.attention.keys(F)
        return DecoderState(s0, cell, F, keys, mask)

    def _attend(self, state: DecoderState):
        if self.attention is None:
            return state.F[:, 0], state.F.new_ones(state.F.shape[:2])
        return self.attention.attend(state.s, state.F, state.mask, state.keys)

    def _advance(self, w_prev, state: DecoderState):
        """Attention and RNN step: returns e(w_{t-1}), c_t, a_t and the new state."""
        e = self.dropout(self.embedding(w_prev))
        c, a = self._attend(state)
        x = torch.cat([e, c], dim=-1)
        if self.cell == "gru":
            s, cell = self.rnn_cell(x, state.s), None
        else:
            s, cell = self.rnn_cell(x, (state.s, state.cell))
        return e, c, a, state._replace(s=s, cell=cell)

    def _logits(self, s, c, e):
        o = torch.tanh(self.readout(torch.cat([s, c, e], dim=-1)))
        return self.out(self.dropout(o))

    def step(self, w_prev: torch.Tensor, state: DecoderState):
        """One step: w_prev (N,) -> logits (N, V), new state, attention weights a_t (N, S)."""
        e, c, a, state = self._advance(w_prev, state)
        return self._logits(state.s, c, e), state, a

    def forward(self, tgt_in: torch.Tensor, state: DecoderState):
        """Teacher forcing: tgt_in (T, B) = <bos> w_1 .. w_{T-1} -> logits (T, B, V), a (T, B, S)."""
        es, cs, ss, attn = [], [], [], []
        for t in range(tgt_in.shape[0]):
            e, c, a, state = self._advance(tgt_in[t], state)
            es.append(e), cs.append(c), ss.append(state.s), attn.append(a)
        # The output layer does not feed back, so all steps go through it at once.
        logits = self._logits(torch.stack(ss), torch.stack(cs), torch.stack(es))
        return logits, torch.stack(attn)


# -------------------------------------------------------------------------- model


class Seq2Seq(nn.Module):
    """Bidirectional encoder + attentional decoder.

    Args:
        src_vocab_size, tgt_vocab_size: V_src, V_tgt.
        emb_size, hidden_size: embedding size E and RNN size H (the encoder's
            columns have 2H entries, the decoder state H).
        attention: one of ``ATTENTION_KINDS`` ("lecture", "lecture_scaled", "multiplicative",
            "dot", "scaled_dot", "additive") or None (no attention: the bottleneck model).
            "dot" and "scaled_dot" need D_f = 2H = H_s, so they use a decoder of size 2H.
        cell: "gru" or "lstm" (encoder and decoder).
        num_layers: encoder layers. dropout: on embeddings and the readout.
        pad, bos, eos: special token ids of the target (pad also of the source).
        generator: draws the initial weights (None: torch's global generator).
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, emb_size: int = 32,
                 hidden_size: int = 64, *, attention: str | None = "lecture", cell: str = "gru",
                 num_layers: int = 1, attention_size: int | None = None, dropout: float = 0.0,
                 pad: int = PAD, bos: int = BOS, eos: int = EOS,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if attention is not None:
            check_choice("attention", attention, ATTENTION_KINDS)
        self.pad, self.bos, self.eos = pad, bos, eos
        self.encoder = Encoder(src_vocab_size, emb_size, hidden_size, cell=cell,
                               num_layers=num_layers, dropout=dropout, pad=pad)
        dec_size = 2 * hidden_size if attention in ("dot", "scaled_dot") else hidden_size
        self.decoder = AttentionDecoder(tgt_vocab_size, emb_size, dec_size, self.encoder.output_size,
                                        attention=attention, cell=cell, attention_size=attention_size,
                                        dropout=dropout, pad=pad)
        if generator is not None:
            self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator) -> None:
        """Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) from ``generator``, reproducibly."""
        with torch.no_grad():
            for p in self.parameters():
                bound = 1.0 / math.sqrt(p.shape[-1])
                p.uniform_(-bound, bound, generator=generator)

    def encode(self, src: torch.Tensor, src_lengths) -> DecoderState:
        """The decoder's initial state for the sources src (S, B) of lengths src_lengths (B,)."""
        F, summary = self.encoder(src, src_lengths)
        mask = padding_mask(src_lengths, src.shape[0], device=src.device)
        return self.decoder.initial_state(F, summary, mask)

    def forward(self, src: torch.Tensor, src_lengths, tgt_in: torch.Tensor):
        """Teacher-forced scores: logits (T, B, V_tgt) and attention weights (T, B, S)."""
        check_tensor("tgt_in", tgt_in, ("T", src.shape[1] if src.dim() == 2 else "B"), floating=False)
        return self.decoder(tgt_in, self.encode(src, src_lengths))

    def step_fn(self):
        """``step(prefix, state) -> (log_probs, state)`` for seqmodels.decoding."""
        def step(prefix: torch.Tensor, state: DecoderState):
            logits, state, _ = self.decoder.step(prefix[:, -1], state)
            return torch.log_softmax(logits, dim=-1), state
        return step


# ---------------------------------------------------------------- training glue


def sequence_nll(logits: torch.Tensor, targets: torch.Tensor, pad: int = PAD) -> tuple[torch.Tensor, int]:
    """Summed -log p(target) over the non-pad targets, and their number.

    logits (T, B, V), targets (T, B) long. Perplexity = exp(sum / count).
    """
    dims: dict = {}
    check_tensor("logits", logits, ("T", "B", "V"), dims)
    check_tensor("targets", targets, ("T", "B"), dims, floating=False)
    nll = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                      ignore_index=pad, reduction="sum")
    return nll, int((targets != pad).sum())


def teacher_forcing_loss(model: Seq2Seq, src: torch.Tensor, src_lengths, tgt: torch.Tensor) -> torch.Tensor:
    """Mean -log p(w_t | x, w_<t) per target token.

    tgt (T + 1, B) = <bos> w_1 .. w_T <eos> and padding; the decoder reads
    tgt[:-1] (the true previous words, not its own guesses) and predicts tgt[1:].
    """
    logits, _ = model(src, src_lengths, tgt[:-1])
    nll, count = sequence_nll(logits, tgt[1:], model.pad)
    return nll / max(count, 1)


def train_step(model: Seq2Seq, optimizer: torch.optim.Optimizer, batch, clip: float | None = 1.0) -> float:
    """One teacher-forced update on batch = (src, src_lengths, tgt); returns the loss."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    loss = teacher_forcing_loss(model, *batch)
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return float(loss.detach())


def batch_pairs(pairs: Sequence[tuple[Sequence[int], Sequence[int]]], *, pad: int = PAD, bos: int = BOS,
                eos: int = EOS, device=None):
    """Token-id pairs -> (src (S, B), src_lengths (B,), tgt (T + 1, B) = <bos> .. <eos>), right-padded."""
    if not pairs:
        raise ValueError("batch_pairs: got no pairs")
    for k, (x, y) in enumerate(pairs):
        if len(x) == 0:
            raise ValueError(f"batch_pairs: source {k} is empty")
    src = [torch.as_tensor(list(x), dtype=torch.long) for x, _ in pairs]
    tgt = [torch.as_tensor([bos, *y, eos], dtype=torch.long) for _, y in pairs]
    lengths = torch.tensor([len(x) for x in src])
    return (pad_sequence(src, padding_value=pad).to(device), lengths.to(device),
            pad_sequence(tgt, padding_value=pad).to(device))


def fit(model: Seq2Seq, pairs, *, epochs: int = 1, batch_size: int = 64, lr: float = 1e-3,
        clip: float | None = 1.0, generator: torch.Generator | None = None, device=None,
        max_seconds: float | None = None, callback=None,
        optimizer: torch.optim.Optimizer | None = None) -> list[float]:
    """Adam on shuffled mini-batches (sorted by length within pools of 20 batches,
    which cuts padding); returns the loss of every step. ``callback(step, loss)``
    is called after each step; training stops early after ``max_seconds``.
    Pass ``optimizer`` to continue with its state across calls (one call per
    epoch, say, with an evaluation between); ``lr`` is then ignored."""
    import time

    device = device or next(model.parameters()).device
    opt = optimizer if optimizer is not None else torch.optim.Adam(model.parameters(), lr=lr)
    losses, start = [], time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(pairs), generator=generator).tolist()
        pool = 20 * batch_size
        batches = []
        for p in range(0, len(order), pool):
            chunk = sorted(order[p:p + pool], key=lambda i: len(pairs[i][0]))
            batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
        for k in torch.randperm(len(batches), generator=generator).tolist():
            batch = batch_pairs([pairs[i] for i in batches[k]], pad=model.pad, bos=model.bos,
                                eos=model.eos, device=device)
            losses.append(train_step(model, opt, batch, clip))
            if callback is not None:
                callback(len(losses), losses[-1])
            if max_seconds is not None and time.perf_counter() - start > max_seconds:
                return losses
    return losses


# ----------------------------------------------------------------------- decoding


@torch.no_grad()
def translate(model: Seq2Seq, src: torch.Tensor, src_lengths, *, beam_size: int = 1,
              max_len: int | None = None, length_penalty=None) -> list[list[int]]:
    """Decode every source with greedy (beam_size=1) or beam search; <eos> is stripped.

    Beam search runs until K hypotheses have finished and returns the best of
    them under ``length_penalty`` (see :func:`seqmodels.decoding.beam_search`).
    max_len defaults to 2 * S + 10 target tokens.
    """
    check_positive_int("beam_size", beam_size)
    was_training = model.training
    model.eval()
    try:
        state = model.encode(src, src_lengths)
        max_len = max_len or 2 * src.shape[0] + 10
        bos = torch.full((src.shape[1],), model.bos, dtype=torch.long, device=src.device)
        kw = dict(bos=bos, eos=model.eos, max_len=max_len, length_penalty=length_penalty, pad=model.pad)
        if beam_size == 1:
            hyps = greedy_search(model.step_fn(), state, **kw)
        else:
            # run until all K hypotheses have finished (chapter 7's default): stopping at the first
            # finished one would return it before longer, better-scoring ones can finish, and leave
            # a length penalty nothing to rank
            hyps = beam_search(model.step_fn(), state, beam_size=beam_size, **kw)
    finally:
        model.train(was_training)
    return [[w for w in seq if w != model.eos] for seq in hyps.best()]


# -------------------------------------------------------------------------- text


_WORD = re.compile(r"[\w'’-]+|[^\w\s]")


def split_punctuation(text: str, lowercase: bool = False) -> list[str]:
    """Words and punctuation marks as separate tokens: "Hi, Tom!" -> ["Hi", ",", "Tom", "!"].

    Apostrophes and hyphens stay inside words ("don't", "aujourd'hui"), as in
    sacrebleu's 13a tokenizer, so " ".join(tokens) scores the same BLEU as
    the detokenized sentence would.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    return _WORD.findall(text.lower() if lowercase else text)


_NO_SPACE_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_NO_SPACE_AFTER = re.compile(r"([(\[{]) ")


def detokenize(tokens: Sequence[str]) -> str:
    """Join English tokens into text: ["Hi", ",", "Tom", "!"] -> "Hi, Tom!" (what sacrebleu expects)."""
    return _NO_SPACE_AFTER.sub(r"\1", _NO_SPACE_BEFORE.sub(r"\1", " ".join(tokens)))


# ------------------------------------------------------------------ synthetic task


def reversal_pairs(n: int, *, vocab_size: int = 12, min_len: int = 3, max_len: int = 10,
                   generator: torch.Generator | None = None) -> list[tuple[list[int], list[int]]]:
    """n pairs (x, reversed x) of random words 3 .. vocab_size-1 (ids 0, 1, 2 are PAD, BOS, EOS).

    Output word t copies input word S + 1 - t, so a trained attention
    concentrates on the anti-diagonal; a model without attention must keep the
    whole sentence in one vector.
    """
    check_positive_int("n", n)
    if vocab_size < 4:
        raise ValueError(f"vocab_size: expected at least 4 (3 special ids + 1 word), got {vocab_size}")
    if not (isinstance(min_len, int) and isinstance(max_len, int) and 1 <= min_len <= max_len):
        raise ValueError(f"expected 1 <= min_len <= max_len, got {min_len}, {max_len}")
    lengths = torch.randint(min_len, max_len + 1, (n,), generator=generator).tolist()
    pairs = []
    for L in lengths:
        x = torch.randint(3, vocab_size, (L,), generator=generator).tolist()
        pairs.append((x, x[::-1]))
    return pairs
