"""Plausible wrong answers for assignment ch04_language_models (solutions/ch04_language_models/language_models.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test cell grade_ids that must lose points]).
"""

WRONG_ANSWERS = [
    ("perplexity exponentiates the SUM of negative log-probs instead of the mean",
     {"perplexity": '''def perplexity(log_probs):
    return math.exp(-log_probs.double().sum().item())
'''},
     ["test_perplexity_uniform", "test_perplexity_values"]),
    ("perplexity as 2 ** cross-entropy although the log-probs are natural logarithms",
     {"perplexity": '''def perplexity(log_probs):
    return 2 ** (-log_probs.double().mean().item())
'''},
     ["test_perplexity_uniform", "test_perplexity_values"]),
    ("batchify reshapes to (T, B) directly, so the columns interleave the stream",
     {"batchify": '''def batchify(ids, B):
    T = ids.numel() // B
    return ids[:T * B].view(T, B)
'''},
     ["test_batchify_values"]),
    ("bptt_windows drops the last, shorter window",
     {"bptt_windows": '''def bptt_windows(data, seq_len):
    T = data.shape[0]
    return [(data[i:i + seq_len], data[i + 1:i + 1 + seq_len]) for i in range(0, T - seq_len, seq_len)]
'''},
     ["test_bptt_coverage"]),
    ("interpolated bigram: an unseen context gets (1 - lambda) P_1 instead of backing off to P_1",
     {"interpolated_bigram": '''def interpolated_bigram(train_ids, V, lam):
    ids = train_ids.long()
    P1 = lam * torch.bincount(ids, minlength=V).double() / ids.numel() + (1 - lam) / V
    pairs = torch.zeros(V, V, dtype=torch.float64)
    pairs.index_put_((ids[:-1], ids[1:]), torch.ones(ids.numel() - 1, dtype=torch.float64), accumulate=True)
    return lam * pairs / pairs.sum(dim=1, keepdim=True).clamp(min=1) + (1 - lam) * P1
'''},
     ["test_bigram_distribution", "test_bigram_values"]),
]
