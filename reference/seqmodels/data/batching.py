"""Batching token ids for training: contiguous streams and padded sentences.

Language models train on one long token stream cut into ``B`` contiguous
streams (:func:`batchify`), read ``seq_len`` steps at a time with the
targets shifted one position ahead (:func:`bptt_batches`, teacher forcing
for truncated BPTT). Sentence-level models (seq2seq) instead pad a list of
sentences to a common length (:func:`pad_batch`). All tensors are time-major:
``(T, B)``.
"""

from __future__ import annotations

from numbers import Integral
from typing import Iterator, Sequence

import torch

from .._checks import check_positive_int, check_tensor, check_token_ids


def _as_ids(name: str, ids) -> torch.Tensor:
    if isinstance(ids, torch.Tensor):
        return check_token_ids(name, ids, None)
    ids = list(ids)
    def bad_id(i) -> bool:
        return not isinstance(i, Integral) or isinstance(i, bool)

    if any(map(bad_id, ids)):
        bad = next(filter(bad_id, ids))
        raise TypeError(f"{name}: expected int token ids, found {bad!r} ({type(bad).__name__})")
    return torch.tensor(ids, dtype=torch.long)


def batchify(ids, batch_size: int) -> torch.Tensor:
    """Cut one token stream into ``B = batch_size`` contiguous streams.

    Stream ``b`` is ``ids[b*T:(b+1)*T]`` with ``T = len(ids) // B``; the last
    ``len(ids) % B`` tokens are dropped. Column ``b`` of the result carries
    stream ``b``, so a hidden state passed from one BPTT window to the next
    keeps reading the same text.

    Args:
        ids: 1-D integer tensor or list of ints, length N.
        batch_size: B, the number of streams.

    Returns:
        LongTensor of shape (T, B).
    """
    check_positive_int("batch_size", batch_size)
    ids = _as_ids("ids", ids)
    if ids.dim() != 1:
        raise ValueError(f"ids: expected a 1-D stream of token ids, got shape {tuple(ids.shape)}")
    T = ids.numel() // batch_size
    if T < 2:
        raise ValueError(f"ids: {ids.numel()} tokens are too few for batch_size={batch_size} "
                         f"(need at least 2 per stream, i.e. {2 * batch_size})")
    return ids[: T * batch_size].view(batch_size, T).t().contiguous()


def bptt_batches(data: torch.Tensor, seq_len: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Windows ``(inputs, targets)`` of a (T, B) stream, targets one step ahead.

    Window ``k`` covers rows ``i = k * seq_len`` to ``i + t`` with
    ``inputs = data[i:i+t]`` and ``targets = data[i+1:i+1+t]`` where
    ``t = min(seq_len, T - 1 - i)`` (the last window may be shorter). The
    windows tile rows ``0..T-2`` of inputs exactly once, so every token but
    the first of each stream is a target exactly once.

    Args:
        data: LongTensor (T, B), e.g. from :func:`batchify`.
        seq_len: truncation length of BPTT.

    Yields:
        (inputs, targets), both (t, B) views of ``data``.
    """
    check_tensor("data", data, ("T", "B"), floating=False)
    if data.is_floating_point():
        raise TypeError(f"data: expected integer token ids, got dtype {data.dtype}")
    check_positive_int("seq_len", seq_len)
    T = data.shape[0]
    for i in range(0, T - 1, seq_len):
        t = min(seq_len, T - 1 - i)
        yield data[i:i + t], data[i + 1:i + 1 + t]


def pad_batch(seqs: Sequence, pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack sequences of different lengths into a (T, B) tensor, padded at the end.

    Args:
        seqs: B sequences of token ids (lists of ints or 1-D integer tensors).
        pad_id: id written after the end of shorter sequences (``<pad>`` is 0
            in a default :class:`~seqmodels.data.Vocab`).

    Returns:
        (padded, lengths): LongTensor (T, B) with ``T = max(lengths)``, and
        LongTensor (B,) of the true lengths.
    """
    if isinstance(seqs, torch.Tensor) or len(seqs) == 0:
        raise ValueError("seqs: expected a non-empty list of id sequences")
    tensors = [_as_ids(f"seqs[{b}]", s) for b, s in enumerate(seqs)]
    for b, s in enumerate(tensors):
        if s.dim() != 1:
            raise ValueError(f"seqs[{b}]: expected a 1-D sequence of ids, got shape {tuple(s.shape)}")
    lengths = torch.tensor([s.numel() for s in tensors], dtype=torch.long)
    padded = torch.full((int(lengths.max()), len(tensors)), pad_id, dtype=torch.long)
    for b, s in enumerate(tensors):
        padded[: s.numel(), b] = s
    return padded, lengths
