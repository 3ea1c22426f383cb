"""Reference implementations for the sequence-modeling course."""

from .activations import ACTIVATIONS
from .bptt import elman_forward_backward, rnn_bptt
from .rnn import ElmanRNN, RNNSequenceClassifier, rnn_cell, rnn_forward

__all__ = [
    "ACTIVATIONS",
    "ElmanRNN",
    "RNNSequenceClassifier",
    "elman_forward_backward",
    "rnn_bptt",
    "rnn_cell",
    "rnn_forward",
]
