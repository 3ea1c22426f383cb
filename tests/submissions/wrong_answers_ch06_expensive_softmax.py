"""Plausible wrong answers for assignment ch06_expensive_softmax (notebook expensive_softmax.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test grade_ids expected to fail]).
"""

_NCE = '''
def nce_loss(s_pos, s_noise, log_q_pos, log_q_noise):
    k = s_noise.shape[1]
    logsig = torch.nn.functional.logsigmoid
    delta_pos = s_pos - log_q_pos{shift}
    delta_noise = s_noise - log_q_noise{shift}
    return -logsig(delta_pos) - logsig(-delta_noise).{reduce}(dim=1)
'''

_PATH_SWAPPED = '''
def path_log_prob(h, node_vectors, path, code):
    if len(path) == 0:
        return h.new_zeros(())
    nodes = node_vectors[torch.tensor(path, dtype=torch.long)]
    signs = 2.0 * torch.tensor(code, dtype=h.dtype) - 1.0      # right = +1: the convention reversed
    return torch.nn.functional.logsigmoid(signs * (nodes @ h)).sum()
'''

_SHANNON = '''
def huffman_code_lengths(counts):
    # Shannon's code: L(w) = ceil(-log2 P(w)); within one bit of the entropy, but not a full tree
    total = sum(counts)
    return [0 if c == total else math.ceil(-math.log2(c / total)) for c in counts]
'''

_BALANCED = '''
def huffman_code_lengths(counts):
    # a balanced tree, with the shallower leaves given to the more frequent words
    V = len(counts)
    if V == 1:
        return [0]
    deep = math.ceil(math.log2(V))
    n_shallow = 2 ** deep - V                   # leaves one level up
    order = sorted(range(V), key=lambda w: -counts[w])
    lengths = [deep] * V
    for w in order[:n_shallow]:
        lengths[w] = deep - 1
    return lengths
'''

WRONG_ANSWERS = [
    ("NCE without the factor k in Delta = s - log q",
     {"nce_loss": _NCE.format(shift="", reduce="sum")},
     ["test_nce_values", "test_nce_noise_terms"]),
    ("NCE averaging the noise terms instead of summing them",
     {"nce_loss": _NCE.format(shift=" - math.log(k)", reduce="mean")},
     ["test_nce_values", "test_nce_noise_terms"]),
    ("hierarchical softmax with left and right swapped",
     {"path_log_prob": _PATH_SWAPPED},
     ["test_path_values", "test_path_convention"]),
    ("Shannon code lengths ceil(-log2 p) instead of Huffman's",
     {"huffman_code_lengths": _SHANNON},
     ["test_huffman_tree", "test_huffman_optimal"]),
    ("balanced tree instead of the Huffman tree",
     {"huffman_code_lengths": _BALANCED},
     ["test_huffman_dyadic", "test_huffman_optimal"]),
]

_HS_GRAD = '''def path_log_prob_grad(h, node_vectors, path, code):
    g_nodes = torch.zeros_like(node_vectors)
    if len(path) == 0:
        return h.new_zeros(()), torch.zeros_like(h), g_nodes
    idx = torch.tensor(path, dtype=torch.long)
    sign = 1.0 - 2.0 * torch.tensor(code, dtype=h.dtype)
    x = sign * (node_vectors[idx] @ h)
    slope = {slope}
    g_nodes[idx] = {g_nodes}
    return torch.nn.functional.logsigmoid(x).sum(), {g_h}, g_nodes
'''


def _hs_grad(slope="sign * torch.sigmoid(-x)", g_nodes="slope[:, None] * h[None, :]", g_h="slope @ node_vectors[idx]"):
    return {"path_log_prob_grad": _HS_GRAD.format(slope=slope, g_nodes=g_nodes, g_h=g_h)}


WRONG_ANSWERS += [
    ("hierarchical-softmax gradient: sigma(x) instead of sigma(-x) (the derivative of log sigma taken as sigma)",
     _hs_grad(slope="sign * torch.sigmoid(x)"), ["test_hs_grad_h", "test_hs_grad_nodes"]),
    ("hierarchical-softmax gradient: the sign of the turn forgotten in the chain rule",
     _hs_grad(slope="torch.sigmoid(-x)"), ["test_hs_grad_h", "test_hs_grad_nodes"]),
    ("hierarchical-softmax gradient: g_nodes written for every node (h broadcast to the rows off the path)",
     _hs_grad(g_nodes="slope[:, None] * h[None, :]\n    g_nodes[g_nodes == 0] = h.repeat(g_nodes.shape[0], 1)[g_nodes == 0]"),
     ["test_hs_grad_nodes"]),
    ("hierarchical-softmax gradient: g_h from the gradient rows of the nodes (h and n_j swapped)",
     _hs_grad(g_h="slope @ g_nodes[idx]"), ["test_hs_grad_h"]),
]
