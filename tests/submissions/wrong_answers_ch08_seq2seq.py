"""Plausible wrong answers for assignment ch08_seq2seq (notebook seq2seq_attention.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test grade_ids expected to fail]).
"""

_NO_MASK = '''
def lecture_attention_step(s_prev, F, V, mask):
    r = s_prev @ V.T
    u = torch.bmm(F, r[:, :, None])[:, :, 0]
    a = u.softmax(dim=-1)                              # forgets the padding mask
    c = torch.bmm(a[:, None, :], F)[:, 0]
    return c, a
'''

_MASK_AFTER_SOFTMAX = '''
def lecture_attention_step(s_prev, F, V, mask):
    r = s_prev @ V.T
    u = torch.bmm(F, r[:, :, None])[:, :, 0]
    a = u.softmax(dim=-1) * mask                       # zeroes padding after the softmax: rows no longer sum to 1
    c = torch.bmm(a[:, None, :], F)[:, 0]
    return c, a
'''

_SOFTMAX_OVER_BATCH = '''
def lecture_attention_step(s_prev, F, V, mask):
    r = s_prev @ V.T
    u = torch.bmm(F, r[:, :, None])[:, :, 0]
    a = u.masked_fill(~mask, -math.inf).softmax(dim=0)  # normalizes over the batch instead of the words
    c = torch.bmm(a[:, None, :], F)[:, 0]
    return c, a
'''

_ADDITIVE_NO_TANH = '''
def additive_energies(s, F, W_s, W_f, w):
    return ((s @ W_s.T)[:, None, :] + F @ W_f.T) @ w   # forgets the tanh: a linear score


def multiplicative_energies(s, F, W):
    return torch.bmm(F, (s @ W.T)[:, :, None])[:, :, 0]
'''

_MULTIPLICATIVE_TRANSPOSED = '''
def additive_energies(s, F, W_s, W_f, w):
    return torch.tanh((s @ W_s.T)[:, None, :] + F @ W_f.T) @ w


def multiplicative_energies(s, F, W):
    return torch.bmm(F @ W.T, s[:, :, None])[:, :, 0]   # f_i^T W^T s: W on the wrong side
'''

WRONG_ANSWERS = [
    ("attention without the padding mask", {"lecture_attention": _NO_MASK}, ["test_attention_mask"]),
    ("padding zeroed after the softmax", {"lecture_attention": _MASK_AFTER_SOFTMAX}, ["test_attention_mask"]),
    ("softmax over the batch dimension", {"lecture_attention": _SOFTMAX_OVER_BATCH},
     ["test_attention_values", "test_attention_mask"]),
    ("additive score without tanh", {"energies": _ADDITIVE_NO_TANH}, ["test_additive"]),
    ("multiplicative score with W transposed", {"energies": _MULTIPLICATIVE_TRANSPOSED}, ["test_multiplicative"]),
]
