"""Training an encoder-decoder by teacher forcing (chapter 8): loss, one update, mini-batches, epochs."""

from __future__ import annotations

import time
from typing import Sequence

import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence

from .._checks import check_tensor
from ..recurrent.clipping import clip_grad_norm
from ..specials import BOS, EOS, PAD
from .model import Seq2Seq

__all__ = ["batch_pairs", "fit", "sequence_nll", "teacher_forcing_loss", "train_step"]


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
        clip_grad_norm(model.parameters(), clip)
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
