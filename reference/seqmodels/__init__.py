"""Reference implementations for the sequence-modeling course.

One module per concept, named after the chapter's idea; the most used names are re-exported
here (``import seqmodels as sm; sm.rnn_forward(...)``), the rest are imported from their module:

- ``seqmodels.rnn``, ``seqmodels.bptt``: the Elman RNN and its explicit backward pass (chapter 1)
- ``seqmodels.gradients``, ``clipping``, ``init``, ``truncated``: vanishing/exploding gradients (chapter 2)
- ``seqmodels.lstm``, ``gru``, ``recurrent``, ``fused_lstm``: gated RNNs (chapter 3)
- ``seqmodels.decoding``, ``sampling``: greedy and beam search over a step function, samplers
- ``seqmodels.tasks``: synthetic tasks that train in seconds
"""

from .activations import ACTIVATIONS
from .bptt import elman_forward_backward, rnn_bptt
from .clipping import clip_grad_norm
from .decoding import beam_search, greedy_search
from .gru import GRU, gru_cell, gru_forward
from .lstm import LSTM, lstm_cell, lstm_forward
from .rnn import ElmanRNN, RNNSequenceClassifier, rnn_cell, rnn_forward
from .sampling import sample

__all__ = [
    "ACTIVATIONS",
    "GRU",
    "LSTM",
    "ElmanRNN",
    "RNNSequenceClassifier",
    "beam_search",
    "clip_grad_norm",
    "elman_forward_backward",
    "greedy_search",
    "gru_cell",
    "gru_forward",
    "lstm_cell",
    "lstm_forward",
    "rnn_bptt",
    "rnn_cell",
    "rnn_forward",
    "sample",
]
