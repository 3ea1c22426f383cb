"""Decoding (chapter 7): greedy, beam and exhaustive search over a step function, and sampling.

Modules, in the order the chapter introduces them:

- ``search``: Decoding a sequence model (chapter 7): greedy, beam and exhaustive search.
- ``sampling``: Sampling from a sequence model (chapter 7): temperature, top-k and nucleus (top-p).
"""

from .search import (
    Hypotheses,
    StepFn,
    average_length_penalty,
    beam_search,
    exhaustive_search,
    gnmt_length_penalty,
    greedy_search,
    reorder_state,
    table_step,
)
from .sampling import apply_temperature, nucleus_filter, sample, sample_next, top_k_filter

__all__ = [
    "Hypotheses",
    "StepFn",
    "apply_temperature",
    "average_length_penalty",
    "beam_search",
    "exhaustive_search",
    "gnmt_length_penalty",
    "greedy_search",
    "nucleus_filter",
    "reorder_state",
    "sample",
    "sample_next",
    "table_step",
    "top_k_filter",
]
