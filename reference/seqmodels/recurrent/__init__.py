"""Recurrent networks (chapters 1-3): the Elman RNN and BPTT, vanishing/exploding gradients, LSTM and GRU.

Modules, in the order the chapter introduces them:

- ``activations``: Hidden-state nonlinearities f and their derivatives f'.
- ``rnn``: Elman recurrent neural networks (chapter 1), forward pass.
- ``bptt``: Backpropagation through time, written out by hand (chapter 1).
- ``stack``: Stacks of recurrent layers: layers, directions, skip connections, padding (chapter 3).
- ``classifiers``: Sequence classifiers on a recurrent stack: max-over-time scores (chapters 1 and 3).
- ``lstm``: Long short-term memory (chapter 3): cell, layer and stacked module.
- ``gru``: Gated recurrent unit (chapter 3): cell, layer and stacked module.
- ``fused_lstm``: A fast LSTM layer: hoisted matrix products, a hand-written backward, fused cell.
- ``builtin``: torch.nn's own recurrent layers and cells, by name.
- ``gradients``: How far back does the gradient reach? (chapter 2, vanishing and exploding gradients)
- ``clipping``: Gradient norm clipping (Pascanu, Mikolov and Bengio, 2013).
- ``init``: Initializations of the recurrent weights that keep |lambda_max(W_hh)| = 1 (chapter 2).
- ``truncated``: Truncated backpropagation through time as a training loop (chapter 2).
"""

from .activations import ACTIVATIONS, Activation, derivative_from_output, resolve_activation
from .rnn import ElmanRNN, rnn_cell, rnn_forward
from .bptt import elman_forward_backward, rnn_bptt
from .stack import RecurrentStack, run_stack
from .classifiers import MaxOverTimeClassifier, RNNSequenceClassifier, gated_classifier
from .lstm import LSTM, gate_names, lstm_cell, lstm_forward
from .gru import GRU, gru_cell, gru_forward
from .fused_lstm import compile_enabled, fused_lstm_forward
from .builtin import TORCH_CELLS, TORCH_LAYERS
from .gradients import hidden_gradient_norms, jacobian_product_norms, spectral_radius
from .clipping import clip_grad_norm
from .init import identity_matrix, init_recurrent_, orthogonal_matrix
from .truncated import RNNTagger, truncated_bptt

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ElmanRNN",
    "GRU",
    "LSTM",
    "MaxOverTimeClassifier",
    "RNNSequenceClassifier",
    "RNNTagger",
    "RecurrentStack",
    "TORCH_CELLS",
    "TORCH_LAYERS",
    "clip_grad_norm",
    "compile_enabled",
    "derivative_from_output",
    "elman_forward_backward",
    "fused_lstm_forward",
    "gate_names",
    "gated_classifier",
    "gru_cell",
    "gru_forward",
    "hidden_gradient_norms",
    "identity_matrix",
    "init_recurrent_",
    "jacobian_product_norms",
    "lstm_cell",
    "lstm_forward",
    "orthogonal_matrix",
    "resolve_activation",
    "rnn_bptt",
    "rnn_cell",
    "rnn_forward",
    "run_stack",
    "spectral_radius",
    "truncated_bptt",
]
