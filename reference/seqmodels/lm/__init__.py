"""Language models (chapter 4): n-gram models, recurrent LMs and their training loop.

Modules, in the order the chapter introduces them:

- ``ngram``: Count-based n-gram language models (chapter 4).
- ``rnn_lm``: Recurrent language models (chapter 4): embedding, RNN/LSTM/GRU, softmax output.
- ``training``: Training a recurrent language model for many epochs (chapter 4).
"""

from .ngram import NGramLM, SMOOTHINGS, distinct_ngrams
from .rnn_lm import RNNLM, detach_state, evaluate, generate, lm_loss, sequence_log_probs
from .training import fit_lm, plot_lm_history

__all__ = [
    "NGramLM",
    "RNNLM",
    "SMOOTHINGS",
    "detach_state",
    "distinct_ngrams",
    "evaluate",
    "fit_lm",
    "generate",
    "lm_loss",
    "plot_lm_history",
    "sequence_log_probs",
]
