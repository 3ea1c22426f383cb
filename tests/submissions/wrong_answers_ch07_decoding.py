"""Plausible wrong answers for assignment ch07_decoding (notebook beam_search.ipynb).

Each entry: (description, {solution cell grade_id: wrong source}, [test grade_ids expected to fail]).
"""

_BEAM_STEP_NO_SCORES = '''
def beam_step(beam_scores, log_probs, K):
    N, V = log_probs.shape
    scores, flat = log_probs.flatten().topk(min(K, N * V))   # forgets the hypotheses' scores
    return scores, flat // V, flat % V
'''

_BEAM_STEP_ONE_PER_BEAM = '''
def beam_step(beam_scores, log_probs, K):
    # K separate greedy searches: each hypothesis keeps only its best token
    best, tokens = log_probs.max(dim=1)
    scores, beam_index = (beam_scores + best).sort(descending=True)
    return scores[:K], beam_index[:K], tokens[beam_index][:K]
'''

_BEAM_STEP_SWAPPED_INDEX = '''
def beam_step(beam_scores, log_probs, K):
    N, V = log_probs.shape
    scores, flat = (beam_scores[:, None] + log_probs).flatten().topk(min(K, N * V))
    return scores, flat % N, flat // N                     # divides by N instead of V
'''

_BEAM_STEP_UNSORTED = '''
def beam_step(beam_scores, log_probs, K):
    N, V = log_probs.shape
    scores, flat = (beam_scores[:, None] + log_probs).flatten().topk(min(K, N * V), sorted=False)
    order = flat.argsort()                                  # returned in index order, not best first
    scores, flat = scores[order], flat[order]
    return scores, flat // V, flat % V
'''

_SEARCH_TEMPLATE = '''
def beam_search(step, bos, eos, K, max_len, length_norm=True):
    beam = [([bos], 0.0)]
    finished = []
    for t in range(max_len):
        log_probs = torch.stack([step(prefix) for prefix, _ in beam])
        beam_scores = torch.tensor([s for _, s in beam])
        scores, beam_index, tokens = beam_step(beam_scores, log_probs, {width})
        new_beam = []
        for s, n, x in zip(scores.tolist(), beam_index.tolist(), tokens.tolist()):
            if s == -math.inf:
                continue
            prefix = beam[n][0] + [x]
            if {is_end}:
                finished.append((prefix[1:], s))
            else:
                new_beam.append((prefix, s))
        beam = new_beam
        if not beam:
            break
    finished += [(prefix[1:], s) for prefix, s in beam]
    score = {score}
    tokens, s = max(finished, key=lambda h: score(*h))
    return tokens, float(score(tokens, s))
'''


def _search(width="K - len(finished)", is_end="x == eos",
            score="(lambda tokens, s: s / len(tokens)) if length_norm else (lambda tokens, s: s)"):
    return _SEARCH_TEMPLATE.format(width=width, is_end=is_end, score=score)


_SEARCH_FIRST_FINISHED = '''
def beam_search(step, bos, eos, K, max_len, length_norm=True):
    beam = [([bos], 0.0)]
    for t in range(max_len):
        log_probs = torch.stack([step(prefix) for prefix, _ in beam])
        scores, beam_index, tokens = beam_step(torch.tensor([s for _, s in beam]), log_probs, K)
        new_beam = []
        for s, n, x in zip(scores.tolist(), beam_index.tolist(), tokens.tolist()):
            if s == -math.inf:
                continue
            prefix = beam[n][0] + [x]
            if x == eos:                                    # stops at the first output that ends
                tokens = prefix[1:]
                return tokens, float(s / len(tokens) if length_norm else s)
            new_beam.append((prefix, s))
        beam = new_beam
    tokens, s = beam[0][0][1:], beam[0][1]
    return tokens, float(s / len(tokens) if length_norm else s)
'''

WRONG_ANSWERS = [
    ("beam_step ranks by the next-token log-prob only, ignoring the hypotheses' scores",
     {"beam_step": _BEAM_STEP_NO_SCORES},
     ["test_beam_step_values", "test_beam_step_indices", "test_search_toy", "test_search_exhaustive",
      "test_search_end", "test_search_length_norm"]),
    ("beam_step keeps one (the best) token per hypothesis",
     {"beam_step": _BEAM_STEP_ONE_PER_BEAM},
     ["test_beam_step_values", "test_search_toy", "test_search_exhaustive", "test_search_length_norm"]),
    ("beam_step recovers (hypothesis, token) with N instead of V",
     {"beam_step": _BEAM_STEP_SWAPPED_INDEX},
     ["test_beam_step_indices", "test_search_exhaustive", "test_search_toy"]),
    ("beam_step returns the best K but not sorted best first",
     {"beam_step": _BEAM_STEP_UNSORTED},
     ["test_beam_step_values"]),
    ("beam_search never normalizes by length",
     {"beam_search": _search(score="lambda tokens, s: s")},
     ["test_search_length_norm", "test_search_exhaustive"]),
    ("beam_search normalizes by the length without <end>",
     {"beam_search": _search(score="(lambda tokens, s: s / max(len(tokens) - 1, 1)) if length_norm else (lambda tokens, s: s)")},
     ["test_search_length_norm", "test_search_exhaustive"]),
    ("beam_search keeps finished hypotheses in the beam and extends them",
     {"beam_search": _search(is_end="False")},
     ["test_search_end", "test_search_exhaustive", "test_search_length_norm", "test_search_toy"]),
    ("beam_search returns the first hypothesis that ends",
     {"beam_search": _SEARCH_FIRST_FINISHED},
     ["test_search_length_norm", "test_search_exhaustive"]),
    ("a table on which greedy is already optimal",
     {"my_table": "MY_TABLE = {(): [0.0, 0.6, 0.4], (1,): [0.9, 0.05, 0.05], (2,): [0.0, 0.9, 0.1], (2, 1): [1.0, 0.0, 0.0]}"},
     ["test_my_table"]),
    ("a table on which beam 2 also misses the optimum",
     {"my_table": ("MY_TABLE = {(): [0.0, 0.55, 0.45], (1,): [0.0, 0.6, 0.4], (2,): [0.0, 0.45, 0.55], "
                  "(1, 1): [0.5, 0.25, 0.25], (1, 2): [1.0, 0.0, 0.0], (2, 1): [1.0, 0.0, 0.0], (2, 2): [0.5, 0.25, 0.25]}")},
     ["test_my_table"]),
]
