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

_BACKWARD = '''
def lecture_attention_backward(s_prev, F, V, mask, dL_dc):
    r = s_prev @ V.T
    u = {energies}
    a = {softmax}
    c = torch.bmm(a[:, None, :], F)[:, 0]
    d_u = {d_u}
    d_F = {d_F}
    d_r = torch.bmm(d_u[:, None, :], F)[:, 0]
    return {{"s_prev": {d_s}, "F": d_F, "V": {d_V}}}
'''


def _backward(energies="torch.bmm(F, r[:, :, None])[:, :, 0]", softmax="u.masked_fill(~mask, -math.inf).softmax(dim=-1)",
              d_u="a * torch.bmm(F - c[:, None, :], dL_dc[:, :, None])[:, :, 0]",
              d_F="a[:, :, None] * dL_dc[:, None, :] + d_u[:, :, None] * r[:, None, :]", d_s="d_r @ V", d_V="d_r.T @ s_prev"):
    return {"attention_backward": _BACKWARD.format(energies=energies, softmax=softmax, d_u=d_u, d_F=d_F, d_s=d_s, d_V=d_V)}


_REVERSAL = '''
def reversal_attention_V(S, p, scaled=False):
    {guard}beta = {beta}
    if scaled:
        beta {scale}
    return beta * {pattern}
'''


def _reversal(guard="if S == 1:\n        return torch.zeros(1, 1)\n    ", beta="math.log(p * (S - 1) / (1 - p))",
              scale="*= math.sqrt(S)", pattern="torch.eye(S).flip(0)"):
    return {"reversal_attention_V": _REVERSAL.format(guard=guard, beta=beta, scale=scale, pattern=pattern)}


WRONG_ANSWERS = [
    ("attention without the padding mask", {"lecture_attention": _NO_MASK}, ["test_attention_mask"]),
    ("padding zeroed after the softmax", {"lecture_attention": _MASK_AFTER_SOFTMAX}, ["test_attention_mask"]),
    ("softmax over the batch dimension", {"lecture_attention": _SOFTMAX_OVER_BATCH},
     ["test_attention_values", "test_attention_mask"]),
    ("attention backward treats the weights as constants: only the value path a_i g reaches F, nothing reaches V or s",
     _backward(d_u="torch.zeros_like(a)"), ["test_backward_F", "test_backward_V_s", "test_backward_padding"]),
    ("attention backward forgets the value path: F gets only the key-path term",
     _backward(d_F="d_u[:, :, None] * r[:, None, :]"), ["test_backward_F", "test_backward_padding"]),
    ("attention backward differentiates the softmax elementwise, a_i (1 - a_i) f_i.g, forgetting the other words' terms",
     _backward(d_u="a * (1 - a) * torch.bmm(F, dL_dc[:, :, None])[:, :, 0]"),
     ["test_backward_F", "test_backward_V_s", "test_backward_padding"]),
    ("attention backward returns the gradient of V transposed, (H_s, D_f)",
     _backward(d_V="s_prev.T @ d_r"), ["test_backward_shapes", "test_backward_V_s", "test_backward_padding"]),
    ("attention backward ignores the mask in its forward recomputation (weight on padding)",
     _backward(softmax="u.softmax(dim=-1)"), ["test_backward_padding"]),
    # Tuned to the visible tests (S = 5 or 6): .squeeze() also drops the word dimension when S = 1.
    ("attention backward squeezes every singleton dimension (wrong for one-word sources, S = 1)",
     _backward(energies="torch.bmm(F, r[:, :, None]).squeeze()",
               d_u="a * torch.bmm(F - c[:, None, :], dL_dc[:, :, None]).squeeze()"),
     ["test_backward_F"]),
    ("reversal V attends to position t instead of S - 1 - t (the identity)",
     _reversal(pattern="torch.eye(S)"), ["test_reversal_unscaled", "test_reversal_scaled", "test_reversal_sizes"]),
    ("reversal V takes beta = log(p / (1 - p)), forgetting the S - 1 other words",
     _reversal(beta="math.log(p / (1 - p))"), ["test_reversal_unscaled", "test_reversal_scaled", "test_reversal_sizes"]),
    ("reversal V divides by sqrt(D_f) for the scaled score instead of multiplying",
     _reversal(scale="/= math.sqrt(S)"), ["test_reversal_scaled", "test_reversal_sizes"]),
    # Tuned to the visible tests (S >= 2): log(0) for S = 1.
    ("reversal V has no case for S = 1 (log of 0)",
     _reversal(guard=""), ["test_reversal_sizes"]),
]
