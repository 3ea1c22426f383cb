r"""Encoder–decoder models with attention (chapter 8): a conditional language model

    p(w | x) = prod_t p(w_t | x, w_<t)

Encoder. A bidirectional RNN reads the source x_1..x_S (embedded) and gives
one column per word, f_i = [h->_i; h<-_i] (D_f = 2 H_enc), stacked in the
source matrix F, and a summary [h->_S; h<-_1] of the whole sentence.

Decoder (one step, t = 1, 2, ...; s_0 = tanh(W_init summary + b_init))::

    c_t, a_t = attention(s_{t-1}, F, mask)          see seq2seq.attention
    s_t      = RNN([e(w_{t-1}); c_t], s_{t-1})      GRU or LSTM cell
    o_t      = tanh(W_o [s_t; c_t; e(w_{t-1})] + b_o)
    p(w_t | x, w_<t) = softmax(W_hy o_t + b_y)

Without attention (``attention=None``, Cho et al. 2014) the source matrix
has a single column, the summary, so c_t is the same fixed vector at every
step: the whole sentence must squeeze through it (the bottleneck).

Tensors are time-major as in the rest of the course: src (S, B), tgt (T, B),
logits (T, B, V); the decoder state is batch-first (one row per hypothesis,
``state_batch_dim=0`` for ``seqmodels.decoding``). The recurrent layers are
torch.nn.GRU / LSTM (chapter 3 checked that seqmodels.recurrent.GRU/LSTM compute the
same function); the built-ins are used here for speed, cuDNN on a GPU.

Token ids: ``pad``, ``bos`` and ``eos`` default to ``seqmodels.specials`` (the ids of a default
``seqmodels.data.Vocab``). Training is in ``seq2seq.training``, decoding in ``seq2seq.translate``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .._checks import check_choice, check_positive_int, check_tensor, check_token_ids
from ..recurrent.builtin import TORCH_CELLS, TORCH_LAYERS
from ..specials import BOS, EOS, PAD
from .._sequence import length_mask
from .attention import ATTENTION_KINDS, Attention

__all__ = ["DecoderState", "Encoder", "AttentionDecoder", "Seq2Seq"]

#: the recurrent cells an encoder-decoder can use
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


def _check_src(src, src_lengths, device=None):
    check_token_ids("src", src, ("S", "B"))
    S, B = src.shape
    mask = length_mask(src_lengths, S, batch_first=True, device=src.device)
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
        self.rnn = TORCH_LAYERS[cell](emb_size, hidden_size, num_layers=num_layers, bidirectional=True,
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
        self.rnn_cell = TORCH_CELLS[cell](emb_size + source_size, hidden_size)
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
        mask = length_mask(src_lengths, src.shape[0], batch_first=True, device=src.device)
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
