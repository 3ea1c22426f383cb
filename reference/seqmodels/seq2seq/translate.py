"""Translating with a trained encoder-decoder: greedy or beam search over its decoder (chapters 7-8)."""

from __future__ import annotations

import torch

from .._checks import check_positive_int
from ..decoding.search import beam_search, greedy_search
from .model import Seq2Seq

__all__ = ["translate"]


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
