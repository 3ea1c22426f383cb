"""Hierarchical softmax (chapter 6): P(w | h) as a product of binary decisions down a tree.

With a tree from :mod:`seqmodels.softmax` (internal node j has a vector n_j,
shape (H,), and a bias c_j), going left at node j has probability
sigmoid(n_j^T h + c_j), and

    log P(w | h) = sum_{j on the path of w} log sigmoid(s_j(w) * (n_j^T h + c_j)),

s_j(w) = +1 for a left turn, -1 for a right turn. Because sigmoid(a) +
sigmoid(-a) = 1 at every node, the probabilities of the V leaves sum to 1
exactly: the model is normalized without ever computing a sum over V.
Training needs only the L(w) ~ log2 V nodes on the target's path;
evaluating the whole distribution (for perplexity or sampling) costs V - 1
dot products plus a gather, like the full softmax.

Shapes: h (B, H), node_vectors N (V-1, H), node_bias c (V-1,),
targets (B,) long, nodes / signs (V, L) from ``Tree.padded()``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_tensor, check_token_ids
from .huffman import Tree

__all__ = ["HierarchicalSoftmax", "hsoftmax_log_prob", "hsoftmax_log_probs"]


def _check(h, node_vectors, node_bias, nodes, signs):
    dims: dict = {}
    check_tensor("h", h, ("B", "H"), dims)
    check_tensor("node_vectors", node_vectors, (None, "H"), dims, like=("h", h))
    V = node_vectors.shape[0] + 1
    if node_bias is not None:
        check_tensor("node_bias", node_bias, (V - 1,), dims, like=("h", h))
    check_tensor("nodes", nodes, (V, None), dims, floating=False)
    check_tensor("signs", signs, (V, nodes.shape[1]), dims)
    return V


def _node_logits(h, node_vectors, node_bias):
    a = h @ node_vectors.T  # (B, V-1)
    return a if node_bias is None else a + node_bias


def hsoftmax_log_probs(h, node_vectors, node_bias, nodes, signs) -> torch.Tensor:
    """log P(w | h) for every word: (B, H) -> (B, V). Costs V-1 dot products per row."""
    V = _check(h, node_vectors, node_bias, nodes, signs)
    if V == 1:
        return h.new_zeros(h.shape[0], 1)
    a = _node_logits(h, node_vectors, node_bias)  # (B, V-1)
    # a[:, nodes] is (B, V, L); padding has sign 0 and is masked out.
    terms = F.logsigmoid(a[:, nodes] * signs.to(a.dtype))
    return (terms * (signs != 0)).sum(-1)


def hsoftmax_log_prob(h, node_vectors, node_bias, nodes, signs, targets) -> torch.Tensor:
    """log P(targets[b] | h[b]): (B, H), (B,) -> (B,). Costs L(w) dot products per row."""
    V = _check(h, node_vectors, node_bias, nodes, signs)
    targets = check_token_ids("targets", targets, (h.shape[0],), vocab_size=V, what="word ids")
    if V == 1:
        return h.new_zeros(h.shape[0])
    path, sign = nodes[targets], signs[targets].to(h.dtype)  # (B, L)
    a = torch.einsum("blh,bh->bl", node_vectors[path], h)
    if node_bias is not None:
        a = a + node_bias[path]
    return (F.logsigmoid(a * sign) * (sign != 0)).sum(-1)


class HierarchicalSoftmax(nn.Module):
    """Output layer over a binary tree: (V-1) node vectors instead of V word vectors.

    forward(h, targets) -> log P(targets | h), shape (B,): the training loss is
    its negative mean. log_probs(h) -> (B, V), the whole normalized distribution.
    """

    def __init__(self, tree: Tree, hidden_size: int, bias: bool = True):
        super().__init__()
        if not isinstance(tree, Tree):
            raise TypeError(f"tree: expected a seqmodels.softmax.Tree, got {type(tree).__name__}")
        self.tree = tree
        nodes, signs = tree.padded()
        self.register_buffer("nodes", nodes, persistent=False)
        self.register_buffer("signs", signs, persistent=False)
        # Small init: every node starts near P(left) = 1/2, i.e. near the uniform distribution.
        self.node_vectors = nn.Parameter(torch.randn(tree.num_internal, hidden_size) * 0.01)
        self.node_bias = nn.Parameter(torch.zeros(tree.num_internal)) if bias else None

    def forward(self, h: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return hsoftmax_log_prob(h, self.node_vectors, self.node_bias,
                                 self.nodes, self.signs.to(h.dtype), targets)

    def log_probs(self, h: torch.Tensor) -> torch.Tensor:
        return hsoftmax_log_probs(h, self.node_vectors, self.node_bias, self.nodes, self.signs.to(h.dtype))
