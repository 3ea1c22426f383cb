"""torch.nn's own recurrent layers and cells, by name.

Chapters 4 and 8 use the built-ins for speed (cuDNN on a GPU); chapters 1 and 3 test the course's
own cells against them.
"""

from __future__ import annotations

from torch import nn

__all__ = ["TORCH_CELLS", "TORCH_LAYERS"]

#: whole layers over a sequence (time-major by default)
TORCH_LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
#: one step
TORCH_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
