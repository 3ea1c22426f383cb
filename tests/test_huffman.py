"""Huffman and balanced trees (seqmodels.softmax) against brute force over code lengths."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from seqmodels.softmax import balanced_tree, code_lengths, expected_code_length, huffman_tree


def check_is_prefix_code(tree):
    """Every word has a distinct leaf: no code is a prefix of another, and the tree is full."""
    codes = [tuple(c) for c in tree.codes]
    for a, b in itertools.permutations(codes, 2):
        assert b[: len(a)] != a, f"code {a} is a prefix of {b}"
    assert abs(sum(2.0 ** -len(c) for c in codes) - 1.0) < 1e-12, "Kraft sum != 1: the tree is not full"
    # The paths name V - 1 internal nodes, the root first, and a shared prefix of codes
    # means a shared prefix of nodes.
    nodes = {n for p in tree.paths for n in p}
    assert nodes == set(range(tree.num_words - 1))
    for (pa, ca), (pb, cb) in itertools.combinations(zip(tree.paths, tree.codes), 2):
        common = next((i for i, (x, y) in enumerate(zip(ca, cb)) if x != y), min(len(ca), len(cb)))
        assert pa[: common + 1] == pb[: common + 1], "words with a common code prefix must share those nodes"


def optimal_expected_length(p):
    """Brute force: the least sum_w p(w) L(w) over lengths with Kraft sum exactly 1 (full trees)."""
    V = len(p)
    best = math.inf
    for lengths in itertools.product(range(1, V), repeat=V):
        if abs(sum(2.0 ** -l for l in lengths) - 1.0) < 1e-12:
            best = min(best, sum(pw * l for pw, l in zip(p, lengths)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_huffman_is_optimal_against_brute_force(seed):
    g = torch.Generator().manual_seed(seed)
    V = 2 + seed % 5  # 2 .. 6 words
    p = (torch.rand(V, generator=g, dtype=torch.float64) ** 3).tolist()
    total = sum(p)
    p = [x / total for x in p]
    tree = huffman_tree(p)
    check_is_prefix_code(tree)
    assert expected_code_length(tree, p) == pytest.approx(optimal_expected_length(p), abs=1e-12)


def test_huffman_known_code_lengths_and_entropy_bound():
    # Dyadic probabilities: Huffman lengths are exactly -log2 p and H equals the entropy.
    p = [0.5, 0.25, 0.125, 0.0625, 0.0625]
    tree = huffman_tree(p)
    assert code_lengths(tree).tolist() == [1, 2, 3, 4, 4]
    entropy = -sum(x * math.log2(x) for x in p)
    assert expected_code_length(tree, p) == pytest.approx(entropy)
    # Zipf-like counts: entropy <= H < entropy + 1, and frequent words get short codes.
    counts = [1000 / r for r in range(1, 201)]
    tree = huffman_tree(counts)
    check_is_prefix_code(tree)
    q = [c / sum(counts) for c in counts]
    entropy = -sum(x * math.log2(x) for x in q)
    assert entropy <= expected_code_length(tree, counts) < entropy + 1
    lengths = code_lengths(tree)
    assert (lengths[1:] >= lengths[:-1]).all(), "a more frequent word got a longer code"
    assert expected_code_length(tree, counts) < expected_code_length(balanced_tree(200), counts)


@pytest.mark.parametrize("V", [1, 2, 3, 5, 8, 13, 64])
def test_balanced_tree_depths(V):
    tree = balanced_tree(V)
    lengths = code_lengths(tree)
    assert tree.num_words == V and tree.num_internal == V - 1
    if V > 1:
        check_is_prefix_code(tree)
        assert lengths.min() >= math.floor(math.log2(V)) and lengths.max() == math.ceil(math.log2(V))
    else:
        assert lengths.tolist() == [0]


def test_single_word_and_zero_counts():
    assert huffman_tree([3.0]).codes == ((),)
    tree = huffman_tree([5, 0, 0, 2])
    check_is_prefix_code(tree)
    assert len(tree.codes[0]) == 1


def test_padded_tensors_match_paths():
    tree = huffman_tree([5, 1, 1, 2, 7, 3])
    nodes, signs = tree.padded()
    assert nodes.shape == signs.shape == (6, tree.depth)
    for w in range(6):
        L = len(tree.paths[w])
        assert nodes[w, :L].tolist() == list(tree.paths[w])
        assert signs[w, :L].tolist() == [1.0 if d == 0 else -1.0 for d in tree.codes[w]]
        assert (signs[w, L:] == 0).all()


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="counts"):
        huffman_tree([])
    with pytest.raises(ValueError, match="non-negative"):
        huffman_tree([1.0, -2.0])
    with pytest.raises(ValueError, match="1-D"):
        huffman_tree(torch.ones(2, 2))
    with pytest.raises(ValueError, match="positive int"):
        balanced_tree(0)
    with pytest.raises(ValueError, match="one per word"):
        expected_code_length(balanced_tree(4), [1, 2, 3])
