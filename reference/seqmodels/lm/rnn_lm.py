r"""Recurrent language models (chapter 4): embedding, RNN/LSTM/GRU, softmax output.

    e_t = E[x_t]                                   (embedding, E: (V, D))
    h_t = RNN(e_t, h_{t-1})                        (tanh RNN, LSTM or GRU; h_t: (B, H))
    y_t = h_t W_hy^T + b_y,  P(x_{t+1} | x_<=t) = softmax(y_t)     (W_hy: (V, H), b_y: (V,))

Training uses teacher forcing: the input at step t is the true token x_t and
the target is x_{t+1} (:func:`seqmodels.data.bptt_batches` makes the pairs),
the loss is the cross-entropy averaged over all B * T target tokens, and the
state is carried from one window to the next but detached (truncated BPTT).
Perplexity is exp(average cross-entropy).

The recurrent layers are ``torch.nn.RNN``/``LSTM``/``GRU`` (tested against
the course's own cells in chapters 1 and 3): here the subject is the language
model around them, and the built-ins are what make a full WikiText-2 epoch
affordable on a CPU.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_choice, check_positive_int, check_tensor, check_token_ids
from ..recurrent.builtin import TORCH_LAYERS

__all__ = ["RNNLM", "detach_state", "evaluate", "generate", "lm_loss", "sequence_log_probs"]


def detach_state(state: Any) -> Any:
    """Cut the graph behind a state (tensor or tuple of tensors): the truncation of BPTT."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(detach_state(s) for s in state)


class RNNLM(nn.Module):
    """Word- or character-level recurrent language model.

    Args:
        vocab_size: V.
        emb_size: D, the size of the embeddings e_t = E[x_t].
        hidden_size: H.
        num_layers: stacked recurrent layers.
        cell: ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``.
        dropout: on embeddings, between layers and before the output layer.
        tie_weights: share E and W_hy (needs D == H; Press & Wolf, 2017).
        generator: makes the initialization reproducible.

    ``forward(X (T, B) long, state) -> (logits (T, B, V), state)``; the state
    is ``h`` (L, B, H), or ``(h, c)`` for the LSTM, and ``None`` means zeros.
    """

    def __init__(self, vocab_size: int, emb_size: int, hidden_size: int, num_layers: int = 1,
                 cell: str = "lstm", dropout: float = 0.0, tie_weights: bool = False,
                 generator: torch.Generator | None = None):
        super().__init__()
        for name, value in [("vocab_size", vocab_size), ("emb_size", emb_size),
                            ("hidden_size", hidden_size), ("num_layers", num_layers)]:
            check_positive_int(name, value)
        check_choice("cell", cell, tuple(TORCH_LAYERS))
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout: expected a number in [0, 1), got {dropout!r}")
        if tie_weights and emb_size != hidden_size:
            raise ValueError(f"tie_weights needs emb_size == hidden_size, got {emb_size} and {hidden_size}")
        self.V, self.D, self.H, self.cell = vocab_size, emb_size, hidden_size, cell
        self.E = nn.Embedding(vocab_size, emb_size)
        self.rnn = TORCH_LAYERS[cell](emb_size, hidden_size, num_layers,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.W_hy = nn.Linear(hidden_size, vocab_size)  # weight W_hy (V, H), bias b_y (V,)
        self.drop = nn.Dropout(dropout)
        if tie_weights:
            self.W_hy.weight = self.E.weight
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Uniform(-0.1, 0.1) embeddings and output, U(-1/sqrt(H), 1/sqrt(H)) recurrent weights."""
        self.E.weight.uniform_(-0.1, 0.1, generator=generator)
        self.W_hy.weight.uniform_(-0.1, 0.1, generator=generator)
        self.W_hy.bias.zero_()
        bound = 1.0 / math.sqrt(self.H)
        for p in self.rnn.parameters():
            p.uniform_(-bound, bound, generator=generator)

    def forward(self, X: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        check_token_ids("X", X, ("T", "B"), vocab_size=self.V)
        e = self.drop(self.E(X))                      # (T, B, D)
        h, state = self.rnn(e, state)                 # (T, B, H)
        return self.W_hy(self.drop(h)), state         # (T, B, V)

    def step(self, prefix: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Step function of :mod:`seqmodels.decoding` (state_batch_dim=1).

        prefix (N, t) long -> log P(next | prefix) (N, V); reads prefix[:, -1] only.
        """
        logits, state = self(prefix[:, -1][None], state)
        return torch.log_softmax(logits[0], dim=-1), state


def lm_loss(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int | None = None) -> torch.Tensor:
    """Cross-entropy averaged over all target tokens: -(1/N) sum log softmax(y_t)[x_{t+1}].

    logits (T, B, V), targets (T, B) long; positions equal to ``ignore_index``
    (padding) are left out of the sum and of N.
    """
    dims: dict = {}
    check_tensor("logits", logits, ("T", "B", "V"), dims)
    check_token_ids("targets", targets, ("T", "B"))
    if targets.shape != logits.shape[:2]:
        raise ValueError(f"targets: expected shape (T, B) = {tuple(logits.shape[:2])} like logits, "
                         f"got {tuple(targets.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=-100 if ignore_index is None else ignore_index)


@torch.no_grad()
def evaluate(model: RNNLM, data: torch.Tensor, seq_len: int = 64) -> tuple[float, float]:
    """(mean cross-entropy in nats, perplexity) over every target of a (T, B) stream."""
    from ..data import bptt_batches

    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    for inputs, targets in bptt_batches(data, seq_len):
        logits, state = model(inputs, state)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                 reduction="sum").item()
        count += targets.numel()
    model.train(was_training)
    ce = total / count
    return ce, math.exp(ce)


@torch.no_grad()
def sequence_log_probs(model: RNNLM, ids: torch.Tensor, state: Any = None) -> torch.Tensor:
    """log P(x_t | x_<t) of tokens 1..T-1 of each column: ids (T, B) -> (T-1, B).

    Token 0 is the given start (e.g. ``<eos>`` of the previous line) and is not
    scored. The sum over a column is log P(sentence), the score used to rank
    candidate sentences.
    """
    check_token_ids("ids", ids, ("T", "B"))
    if ids.shape[0] < 2:
        raise ValueError(f"ids: need T >= 2 (a start token and one token to score), got T = {ids.shape[0]}")
    was_training = model.training
    model.eval()
    logits, _ = model(ids[:-1], state)
    model.train(was_training)
    return torch.log_softmax(logits, dim=-1).gather(-1, ids[1:, :, None])[..., 0]


@torch.no_grad()
def generate(model: RNNLM, prefix: Sequence[int], num_tokens: int, *, temperature: float = 1.0,
             top_k: int | None = None, generator: torch.Generator | None = None) -> list[int]:
    """Sample ``num_tokens`` tokens after ``prefix`` (>= 1 token); returns prefix + sample.

    The prefix is read in one forward pass; then each sampled token is fed
    back as the next input. temperature 0 = greedy.
    """
    from ..decoding.sampling import sample_next

    prefix = list(prefix)
    if not prefix:
        raise ValueError("prefix: give at least one token to start from (e.g. <eos> or a newline)")
    was_training = model.training
    model.eval()
    device = model.W_hy.weight.device
    logits, state = model(torch.tensor(prefix, device=device)[:, None])
    out = prefix
    for _ in range(num_tokens):
        log_p = torch.log_softmax(logits[-1], dim=-1)          # (1, V)
        token = sample_next(log_p, temperature=temperature, top_k=top_k, generator=generator)
        out.append(int(token))
        logits, state = model(token.view(1, 1).to(device), state)
    model.train(was_training)
    return out
