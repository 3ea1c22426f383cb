"""Plausible wrong answers for assignment ch05_word2vec (notebook word2vec.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test grade_ids expected to fail]).
"""

_SGNS_TEMPLATE = '''
def sgns_loss_and_grad(w, c_pos, c_neg):
    s_pos = (w * c_pos).sum(-1)
    s_neg = (c_neg @ w.unsqueeze(-1)).squeeze(-1)
    loss = {loss}
    e_pos = {e_pos}
    e_neg = {e_neg}
    g_w = e_pos.unsqueeze(-1) * c_pos + (e_neg.unsqueeze(-1) * c_neg).sum(1)
    g_c_pos = e_pos.unsqueeze(-1) * w
    g_c_neg = e_neg.unsqueeze(-1) * w.unsqueeze(1)
    return loss, g_w, g_c_pos, g_c_neg
'''


def _sgns(loss="-F.logsigmoid(s_pos) - F.logsigmoid(-s_neg).sum(-1)", e_pos="torch.sigmoid(s_pos) - 1",
          e_neg="torch.sigmoid(s_neg)"):
    return _SGNS_TEMPLATE.format(loss=loss, e_pos=e_pos, e_neg=e_neg)


_NOISE_TEMPLATE = '''
def noise_distribution(counts, power=0.75):
    {noise}


def keep_probability(counts, t):
    f = counts / counts.sum()
    {keep}
'''


def _noise(noise="weights = counts ** power\n    return weights / weights.sum()",
           keep="return torch.clamp(((f / t).sqrt() + 1) * t / f, max=1.0)"):
    return _NOISE_TEMPLATE.format(noise=noise, keep=keep)


_ANALOGY_NO_EXCLUSION = '''
def solve_analogy(E, itos, a, b, c):
    U = E / E.norm(dim=1, keepdim=True)
    stoi = {word: i for i, word in enumerate(itos)}
    query = U[stoi[b]] - U[stoi[a]] + U[stoi[c]]
    return itos[int((U @ query).argmax())]          # the query words are candidates too
'''

WRONG_ANSWERS = [
    ("SGNS gradient: noise words weighted by sigma(-w.n) instead of sigma(w.n)",
     {"sgns": _sgns(e_neg="torch.sigmoid(-s_neg)")},
     ["test_sgns_grad"]),
    ("SGNS loss and gradient: log sigma(+w.n) for the noise words (noise treated as positives)",
     {"sgns": _sgns(loss="-F.logsigmoid(s_pos) - F.logsigmoid(s_neg).sum(-1)", e_neg="torch.sigmoid(s_neg) - 1")},
     ["test_sgns_loss", "test_sgns_grad"]),
    ("noise distribution without the 0.75 power (plain unigram)",
     {"noise": _noise(noise="return counts / counts.sum()")},
     ["test_noise"]),
    ("subsampling with the paper's sqrt(t / f) instead of the code's formula",
     {"noise": _noise(keep="return torch.clamp((t / f).sqrt(), max=1.0)")},
     ["test_keep"]),
    ("analogy that does not exclude the query words",
     {"analogy": _ANALOGY_NO_EXCLUSION},
     ["test_analogy_excludes", "test_analogy_unit"]),
]

_TIED = '''def tied_sgns_loss_and_grad(E, words, contexts, noise):
    B, K = noise.shape
    w, c, n = E[words], E[contexts], E[noise]
    s = (w * c).sum(-1)
    s_n = (n @ w.unsqueeze(-1)).squeeze(-1)
    loss = {loss}
    d = torch.sigmoid(s) - 1
    d_n = {d_n}
    g_w = d[:, None] * c + (d_n[:, :, None] * n).sum(1)
    g_c = d[:, None] * w
    g_n = d_n[:, :, None] * w[:, None, :]
    g_E = torch.zeros_like(E)
{scatter}
    return loss, {result}
'''

_ADD = '''    g_E.index_add_(0, words, g_w)
    g_E.index_add_(0, contexts, g_c)
    g_E.index_add_(0, noise.reshape(-1), g_n.reshape(B * K, -1))'''


def _tied(loss="-F.logsigmoid(s) - F.logsigmoid(-s_n).sum(-1)", d_n="torch.sigmoid(s_n)", scatter=_ADD, result="g_E"):
    return {"tied_sgns": _TIED.format(loss=loss, d_n=d_n, scatter=scatter, result=result)}


WRONG_ANSWERS += [
    ("tied SGNS: g_E[idx] += ... (an indexed assignment keeps one update per repeated row instead of adding them)",
     _tied(scatter='''    g_E[words] += g_w
    g_E[contexts] += g_c
    g_E[noise.reshape(-1)] += g_n.reshape(B * K, -1)'''), ["test_tied_repeats"]),
    ("tied SGNS: only the word rows get a gradient, as if the context and noise vectors were another table",
     _tied(scatter="    g_E.index_add_(0, words, g_w)"), ["test_tied_grad", "test_tied_repeats"]),
    ("tied SGNS: the noise rows get no gradient",
     _tied(scatter='''    g_E.index_add_(0, words, g_w)
    g_E.index_add_(0, contexts, g_c)'''), ["test_tied_grad", "test_tied_repeats"]),
    ("tied SGNS: noise scores weighted by sigma(-s_k) instead of sigma(s_k)",
     _tied(d_n="torch.sigmoid(-s_n)"), ["test_tied_grad", "test_tied_repeats"]),
    ("tied SGNS: the loss summed over the batch (one number) instead of one per row",
     _tied(loss="(-F.logsigmoid(s) - F.logsigmoid(-s_n).sum(-1)).sum()"), ["test_tied_shapes", "test_tied_loss"]),
    ("tied SGNS: returns the gradients of the gathered word rows (B, D), not of the table",
     _tied(result="g_w"), ["test_tied_shapes", "test_tied_grad", "test_tied_repeats"]),
    ("tied SGNS: log(sigmoid(x)) instead of logsigmoid (fails only for large scores, a hidden test)",
     _tied(loss="-torch.sigmoid(s).log() - torch.sigmoid(-s_n).log().sum(-1)"), ["test_tied_loss"]),
]
