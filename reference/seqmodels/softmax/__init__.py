"""The expensive softmax (chapter 6): noise-contrastive estimation, Huffman trees, hierarchical softmax.

Modules, in the order the chapter introduces them:

- ``nce``: Noise-contrastive estimation and negative sampling (chapter 6).
- ``huffman``: Binary trees over a vocabulary for the hierarchical softmax (chapter 6): Huffman and balanced.
- ``hsoftmax``: Hierarchical softmax (chapter 6): P(w | h) as a product of binary decisions down a tree.
"""

from .nce import (
    NCEOutput,
    nce_expected_loss,
    nce_gradient_weights,
    nce_logits,
    nce_loss,
    negative_sampling_loss,
    sampled_scores,
)
from .huffman import Tree, balanced_tree, code_lengths, expected_code_length, huffman_tree
from .hsoftmax import HierarchicalSoftmax, hsoftmax_log_prob, hsoftmax_log_probs

__all__ = [
    "HierarchicalSoftmax",
    "NCEOutput",
    "Tree",
    "balanced_tree",
    "code_lengths",
    "expected_code_length",
    "hsoftmax_log_prob",
    "hsoftmax_log_probs",
    "huffman_tree",
    "nce_expected_loss",
    "nce_gradient_weights",
    "nce_logits",
    "nce_loss",
    "negative_sampling_loss",
    "sampled_scores",
]
