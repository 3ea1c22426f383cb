"""Plausible wrong answers for assignment ch04_language_models (solutions/ch04_language_models/language_models.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test cell grade_ids that must lose points]).
"""

_KN = '''def kneser_ney_bigram(train_ids, V, discounts):
    ids = train_ids.long()
    table = torch.zeros(V, V, dtype=torch.float64)
    table.index_put_((ids[:-1], ids[1:]), torch.ones(ids.numel() - 1, dtype=torch.float64), accumulate=True)
    D = torch.tensor([0.0, *discounts], dtype=torch.float64)
    taken = {taken}
    c_h = {c_h}
    cont = {cont}
    p_cont = {p_cont}
    gamma = {gamma}
    seen = (table - taken) / c_h.clamp(min=1) + gamma * p_cont
    return torch.where(c_h > 0, seen, {unseen})
'''


def _kn(taken="D[table.clamp(max=3).long()]", c_h="table.sum(dim=1, keepdim=True)",
        cont="(table > 0).sum(dim=0).double()", p_cont="(cont + 1) / (cont.sum() + V)",
        gamma="taken.sum(dim=1, keepdim=True) / c_h.clamp(min=1)", unseen="p_cont.expand(V, V)"):
    return {"kneser_ney_bigram": _KN.format(taken=taken, c_h=c_h, cont=cont, p_cont=p_cont, gamma=gamma, unseen=unseen)}


_UNK = '''def unk_adjusted_perplexity(P, ids, unk, unk_types):
    unknown = ids < 0
    as_vocab = {as_vocab}
    probs = P[as_vocab[:-1], as_vocab[1:]].double()
    probs = {adjust}
    return math.exp(-{mean})
'''


def _unk(as_vocab="torch.where(unknown, torch.full_like(ids, unk), ids)",
         adjust="torch.where(unknown[1:], probs / unk_types, probs)", mean="probs.log().mean().item()"):
    return {"unk_adjusted_perplexity": _UNK.format(as_vocab=as_vocab, adjust=adjust, mean=mean)}


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
    ("Kneser-Ney with the chapter's single discount D1 for every count (normalised, but not the asked model)",
     _kn(taken="D[table.clamp(max=1).long()]"), ["test_kn_values"]),
    ("Kneser-Ney with the chapter's gamma(h) = D1 N1+(h .) / c(h) although the counts get three discounts",
     _kn(gamma="discounts[0] * (table > 0).sum(dim=1, keepdim=True) / c_h.clamp(min=1)"),
     ["test_kn_distribution", "test_kn_values"]),
    ("Kneser-Ney lower order from how often w occurs (add-one unigram), not from how many words precede it",
     _kn(cont="table.sum(dim=0)"), ["test_kn_continuation", "test_kn_values"]),
    ("Kneser-Ney: an unseen context gets the uniform distribution instead of P_cont",
     _kn(unseen="torch.full((V, V), 1.0 / V, dtype=torch.float64)"), ["test_kn_continuation", "test_kn_values"]),
    ("Kneser-Ney: c(h) counted as the occurrences of h, so the last token of the stream is a context too",
     _kn(c_h="torch.bincount(ids, minlength=V).double().unsqueeze(1)"), ["test_kn_distribution", "test_kn_values"]),
    ("Kneser-Ney: count classes off by one (D2 from count 1 on, D3 from count 2 on)",
     _kn(taken="torch.cat([D[:1], D[2:], D[3:]])[table.clamp(max=3).long()]"), ["test_kn_values"]),
    ("unknown words: -1 used as an index, so an unknown context reads the LAST row and an unknown target the last column",
     _unk(as_vocab="ids"), ["test_unk_values"]),
    ("unknown words: <unk>'s probability not divided among the unk_types words it stands for",
     _unk(adjust="probs"), ["test_unk_values"]),
    ("unknown words: unknown targets dropped from the average instead of scored",
     _unk(mean="probs[~unknown[1:]].log().mean().item()"), ["test_unk_values"]),
    ("unknown words: the mean taken over N tokens instead of the N - 1 predictions",
     _unk(mean="probs.log().sum().item() / ids.numel()"), ["test_unk_closed_vocabulary", "test_unk_values"]),
]
