"""Plausible wrong answers for assignment ch09_transformers (notebook transformers.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test grade_ids expected to fail]).
The multi-head tests call the student's ``attention``, so a wrong ``attention`` fails them too.
"""

WRONG_ANSWERS = [
    ("attention without the 1/sqrt(l) scaling",
     {"attention": '''def attention(Q, K, V, mask=None):
    scores = Q @ K.transpose(-2, -1)
    if mask is not None:
        scores = scores + mask
    A = torch.softmax(scores, dim=-1)
    return A @ V, A
'''},
     ["test_attention_values", "test_attention_causal", "test_mha_single_head", "test_mha_vs_torch"]),
    ("softmax over the queries (dim=-2) instead of over the keys",
     {"attention": '''def attention(Q, K, V, mask=None):
    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores + mask
    A = torch.softmax(scores, dim=-2)
    return A @ V, A
'''},
     ["test_attention_shapes", "test_attention_values", "test_attention_causal", "test_mha_single_head",
      "test_mha_vs_torch"]),
    ("causal mask that also hides the diagonal (a position cannot see itself)",
     {"causal_mask": '''def causal_mask(n):
    return torch.zeros(n, n).masked_fill(torch.ones(n, n, dtype=torch.bool).triu(0), -math.inf)
'''},
     ["test_causal_mask"]),
    ("heads split with a reshape to (B, h, n, l) without a transpose (mixes positions and heads)",
     {"multi_head_attention": '''def multi_head_attention(X, W_Q, W_K, W_V, W_O, h, mask=None):
    B, n, d = X.shape
    l = d // h
    def split(Z):
        return Z.reshape(B, h, n, l)
    Y, _ = attention(split(X @ W_Q), split(X @ W_K), split(X @ W_V), mask)
    return Y.reshape(B, n, d) @ W_O
'''},
     ["test_mha_vs_torch"]),
    ("multi-head attention without the output projection W_O",
     {"multi_head_attention": '''def multi_head_attention(X, W_Q, W_K, W_V, W_O, h, mask=None):
    B, n, d = X.shape
    l = d // h
    def split(Z):
        return Z.reshape(B, n, h, l).transpose(1, 2)
    Y, _ = attention(split(X @ W_Q), split(X @ W_K), split(X @ W_V), mask)
    return Y.transpose(1, 2).reshape(B, n, d)
'''},
     ["test_mha_single_head", "test_mha_vs_torch"]),
]

_SHIFT = '''def shift_rotation(k, d, base=10000.0):
    R = torch.zeros(d, d, dtype=torch.float64)
    for i in range(d // 2):
        phi = k * base ** ({exponent})
        c, s = math.cos(phi), math.sin(phi)
        rows, cols = {where}
        R[rows[0], cols[0]], R[rows[0], cols[1]] = {top}
        R[rows[1], cols[0]], R[rows[1], cols[1]] = {bottom}
    return R
'''


# question 4's layout puts the sine of frequency i in column i and its cosine in column i + d/2
def _shift(exponent="-2 * i / d", where="(i, i + d // 2), (i, i + d // 2)", top="c, -s", bottom="s, c"):
    return {"shift_rotation": _SHIFT.format(exponent=exponent, where=where, top=top, bottom=bottom)}


_STEP = '''def attention_step(x_t, K_cache, V_cache, W_Q, W_K, W_V, window):
    q = x_t @ W_Q
    K = torch.cat([K_cache, (x_t @ W_K).unsqueeze(1)], dim=1)
    V = torch.cat([V_cache, (x_t @ W_V).unsqueeze(1)], dim=1)
    keys, values = {attend}
    scores = (keys @ q.unsqueeze(2)).squeeze(2) {scale}
    y = (torch.softmax(scores, dim=-1).unsqueeze(1) @ values).squeeze(1)
    return {result}
'''

_KEEP = "y, K[:, K.shape[1] - min(K.shape[1], {kept}):], V[:, V.shape[1] - min(V.shape[1], {kept}):]"


def _step(attend="K, V", scale="/ math.sqrt(q.shape[-1])", result=_KEEP.format(kept="window - 1")):
    return {"attention_step": _STEP.format(attend=attend, scale=scale, result=result)}


WRONG_ANSWERS += [
    ("shift rotation transposed: for a row vector it turns every pair backwards (PE_(t-k))",
     _shift(top="c, s", bottom="-s, c"), ["test_shift_values"]),
    ("shift rotation with the frequencies base^(-i/d) instead of base^(-2i/d)",
     _shift(exponent="-i / d"), ["test_shift_values"]),
    ("shift rotation for the chapter's interleaved layout (pairs 2i, 2i + 1), not the sines-then-cosines one asked for",
     _shift(where="(2 * i, 2 * i + 1), (2 * i, 2 * i + 1)"), ["test_shift_values"]),
    ("shift rotation with the sine and cosine of the angle swapped (not a rotation by k omega_i)",
     _shift(top="s, -c", bottom="c, s"), ["test_shift_is_a_rotation", "test_shift_values"]),
    ("KV cache: the new token attends only to the cached past, not to itself",
     _step(attend="K_cache, V_cache"), ["test_step_first_token", "test_step_matches_full_attention"]),
    ("KV cache: scores not scaled by 1/sqrt(l)", _step(scale=""), ["test_step_matches_full_attention"]),
    # Tuned to the visible tests, where the key size l equals the width d: only the hidden tests catch it.
    ("KV cache: scores scaled by sqrt(d), the model width, instead of sqrt(l), the key size",
     _step(scale="/ math.sqrt(x_t.shape[-1])"), ["test_step_matches_full_attention"]),
    ("KV cache: returns the caches it was given, not grown by the new token",
     _step(result="y, K_cache, V_cache"), ["test_step_shapes", "test_step_matches_full_attention"]),
    ("KV cache: the chapter's growing cache, the window ignored (every position attends to the whole prefix)",
     _step(result="y, K, V"), ["test_step_matches_full_attention"]),
    ("KV cache: keeps the last window positions instead of window - 1 (each step then attends to one too many)",
     _step(result=_KEEP.format(kept="window")), ["test_step_matches_full_attention"]),
    # [-0:] is the whole tensor: only window = 1 (a hidden test) shows it
    ("KV cache: trimmed with K[:, -(window - 1):], which keeps everything for window = 1",
     _step(result="y, K[:, -(window - 1):], V[:, -(window - 1):]"), ["test_step_matches_full_attention"]),
]
