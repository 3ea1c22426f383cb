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
