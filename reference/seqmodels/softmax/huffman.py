"""Binary trees over a vocabulary for the hierarchical softmax (chapter 6): Huffman and balanced.

A tree with V leaves (the words) has V - 1 internal nodes, numbered 0 .. V-2.
Each word w is reached from the root by a path of internal nodes
n_1(w), ..., n_L(w) and a code d_1(w), ..., d_L(w) in {0, 1}: bit 0 = go left,
bit 1 = go right. The hierarchical softmax puts a binary classifier at every
internal node, P(left | n, h) = sigmoid(n^T h), so

    P(w | h) = prod_j sigmoid(s_j(w) * n_j^T h),   s_j(w) = +1 if d_j(w) = 0 else -1.

Computing one P(w | h) costs L(w) dot products. The expected cost under the
word distribution P(w) is the expected code length H = sum_w P(w) L(w); the
Huffman tree minimizes it over all binary trees (Huffman, 1952), the balanced
tree gives L(w) = ceil(log2 V) or floor(log2 V) for every word.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Sequence

import torch

from .._checks import check_positive_int

__all__ = ["Tree", "balanced_tree", "code_lengths", "expected_code_length", "huffman_tree"]


@dataclass(frozen=True)
class Tree:
    """A full binary tree over V words.

    paths[w]: the internal nodes from the root to word w (ints in [0, V-2]).
    codes[w]: the turns along that path (0 = left, 1 = right), same length.
    """

    paths: tuple[tuple[int, ...], ...]
    codes: tuple[tuple[int, ...], ...]

    @property
    def num_words(self) -> int:
        return len(self.paths)

    @property
    def num_internal(self) -> int:
        return self.num_words - 1

    @property
    def depth(self) -> int:
        return max((len(p) for p in self.paths), default=0)

    def padded(self, device=None) -> tuple[torch.Tensor, torch.Tensor]:
        """Paths and signs as (V, L) tensors, L = depth, for batched gathers.

        nodes: long, the internal node ids (0 where the path is shorter than L).
        signs: +1 for a left turn, -1 for a right turn, 0 on the padding, so a
        padded entry contributes nothing once multiplied by the sign.
        """
        V, L = self.num_words, self.depth
        pad = [L - len(p) for p in self.paths]
        nodes = torch.tensor([list(p) + [0] * n for p, n in zip(self.paths, pad)], dtype=torch.long)
        signs = torch.tensor([[1.0 - 2.0 * d for d in c] + [0.0] * n for c, n in zip(self.codes, pad)])
        nodes, signs = nodes.reshape(V, L), signs.reshape(V, L)  # keeps (V, 0) when V = 1
        return nodes.to(device), signs.to(device)


def _counts_list(counts) -> list[float]:
    if isinstance(counts, torch.Tensor):
        if counts.dim() != 1:
            raise ValueError(f"counts: expected a 1-D tensor of shape (V,), got shape {tuple(counts.shape)}")
        counts = counts.tolist()
    counts = [float(c) for c in counts]
    if not counts:
        raise ValueError("counts: expected at least one word, got an empty sequence")
    bad = [c for c in counts if not math.isfinite(c) or c < 0]
    if bad:
        raise ValueError(f"counts: expected finite non-negative numbers, got {bad[0]!r}")
    return counts


def _tree_from_children(children: dict[int, tuple[int, int]], root: int, V: int) -> Tree:
    """Walk down from ``root``; leaves are ids < V, internal nodes ids >= V."""
    paths: list[tuple[int, ...]] = [()] * V
    codes: list[tuple[int, ...]] = [()] * V
    # Renumber the internal nodes 0 .. V-2 in breadth-first order (the root is 0).
    number: dict[int, int] = {}
    stack = [(root, (), ())]
    while stack:
        node, path, code = stack.pop()
        if node < V:
            paths[node], codes[node] = path, code
            continue
        number.setdefault(node, len(number))
        left, right = children[node]
        here = path + (number[node],)
        stack.append((right, here, code + (1,)))
        stack.append((left, here, code + (0,)))
    return Tree(paths=tuple(paths), codes=tuple(codes))


def huffman_tree(counts: Sequence[float] | torch.Tensor) -> Tree:
    """The Huffman tree of word counts (or probabilities): minimal sum_w counts[w] * L(w).

    Repeatedly merges the two least frequent subtrees. Ties are broken by
    creation order, so the tree is deterministic. Words of count 0 are allowed
    (they end up deepest). V = 1 gives the empty code.
    """
    counts = _counts_list(counts)
    V = len(counts)
    heap = [(c, w, w) for w, c in enumerate(counts)]  # (weight, tie-break order, node id)
    heapq.heapify(heap)
    children: dict[int, tuple[int, int]] = {}
    next_id = V
    while len(heap) > 1:
        c1, _, a = heapq.heappop(heap)
        c2, _, b = heapq.heappop(heap)
        children[next_id] = (a, b)
        heapq.heappush(heap, (c1 + c2, next_id, next_id))
        next_id += 1
    return _tree_from_children(children, heap[0][2], V)


def balanced_tree(V: int) -> Tree:
    """A balanced tree over words 0 .. V-1: every code has length floor or ceil of log2 V."""
    check_positive_int("V", V)
    children: dict[int, tuple[int, int]] = {}
    next_id = V

    def build(lo: int, hi: int) -> int:  # words lo .. hi-1
        nonlocal next_id
        if hi - lo == 1:
            return lo
        mid = (lo + hi) // 2
        left, right = build(lo, mid), build(mid, hi)
        node, next_id = next_id, next_id + 1
        children[node] = (left, right)
        return node

    return _tree_from_children(children, build(0, V), V)


def code_lengths(tree: Tree) -> torch.Tensor:
    """L(w) for every word, shape (V,), long."""
    return torch.tensor([len(c) for c in tree.codes], dtype=torch.long)


def expected_code_length(tree: Tree, probs: Sequence[float] | torch.Tensor) -> float:
    """H = sum_w P(w) L(w): the expected number of node classifiers per word.

    ``probs`` may be counts; they are normalized.
    """
    p = _counts_list(probs)
    if len(p) != tree.num_words:
        raise ValueError(f"probs: expected {tree.num_words} entries (one per word), got {len(p)}")
    total = sum(p)
    if total <= 0:
        raise ValueError("probs: expected a positive total, got all zeros")
    return sum(pw * len(c) for pw, c in zip(p, tree.codes)) / total
