"""Word embeddings (chapter 5): word2vec (skip-gram, CBOW, negative sampling), the noise distribution, evaluation.

Modules, in the order the chapter introduces them:

- ``word2vec``: Word2vec: skip-gram and CBOW with negative sampling (or a full softmax).
- ``noise``: The noise distribution of negative sampling and NCE: q(w) ∝ count(w)^0.75.
- ``evaluation``: Intrinsic evaluation of word vectors: analogies, word similarity, neighbours.
"""

from .word2vec import (
    Word2VecResult,
    build_corpus,
    cbow_contexts,
    cbow_ns_grad,
    cbow_ns_loss,
    sgns_grad,
    sgns_loss,
    softmax_loss,
    subsample,
    subsample_keep_probs,
    train_word2vec,
    window_pairs,
)
from .noise import NoiseSampler, unigram_noise_probs
from .evaluation import (
    analogy,
    eval_data_path,
    evaluate_analogies,
    evaluate_word_pairs,
    load_analogies,
    load_word_pairs,
    nearest_neighbours,
    spearman,
)

__all__ = [
    "NoiseSampler",
    "Word2VecResult",
    "analogy",
    "build_corpus",
    "cbow_contexts",
    "cbow_ns_grad",
    "cbow_ns_loss",
    "eval_data_path",
    "evaluate_analogies",
    "evaluate_word_pairs",
    "load_analogies",
    "load_word_pairs",
    "nearest_neighbours",
    "sgns_grad",
    "sgns_loss",
    "softmax_loss",
    "spearman",
    "subsample",
    "subsample_keep_probs",
    "train_word2vec",
    "unigram_noise_probs",
    "window_pairs",
]
