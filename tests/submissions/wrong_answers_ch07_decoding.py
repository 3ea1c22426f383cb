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

_EXACT = '''
def exact_search(step, bos, eos, max_len):
    best_tokens, best_score = None, -math.inf

    def expand(prefix, score):
        nonlocal best_tokens, best_score
        log_probs = step(prefix).tolist()
        for x in {order}:
            child = score + log_probs[x]
            if {prune}:
                {on_prune}
            if {complete}:
                {record}
            else:
                expand(prefix + [x], child)

    expand([bos], 0.0)
    return best_tokens, float(best_score)
'''


def _exact(order="sorted(range(len(log_probs)), key=lambda v: log_probs[v], reverse=True)", prune="child <= best_score",
           on_prune="break", complete="x == eos or len(prefix) == max_len",
           record="best_tokens, best_score = prefix[1:] + [x], child"):
    return {"exact_search": _EXACT.format(order=order, prune=prune, on_prune=on_prune, complete=complete, record=record)}


_EXACT_FIRST_FOUND = '''
def exact_search(step, bos, eos, max_len):
    prefix, score = [bos], 0.0
    while True:                                            # best first, and the first complete output is returned
        log_probs = step(prefix)
        x = int(log_probs.argmax())
        prefix, score = prefix + [x], score + float(log_probs[x])
        if x == eos or len(prefix) - 1 == max_len:
            return prefix[1:], score
'''

WRONG_ANSWERS = [
    ("beam_step ranks by the next-token log-prob only, ignoring the hypotheses' scores",
     {"beam_step": _BEAM_STEP_NO_SCORES}, ["test_beam_step_values", "test_beam_step_indices"]),
    ("beam_step keeps one (the best) token per hypothesis",
     {"beam_step": _BEAM_STEP_ONE_PER_BEAM}, ["test_beam_step_values"]),
    ("beam_step recovers (hypothesis, token) with N instead of V",
     {"beam_step": _BEAM_STEP_SWAPPED_INDEX}, ["test_beam_step_indices"]),
    ("beam_step returns the best K but not sorted best first",
     {"beam_step": _BEAM_STEP_UNSORTED}, ["test_beam_step_values"]),
    ("exact_search visits the whole tree (exact, but prunes nothing)",
     _exact(prune="False", record="if child > best_score: best_tokens, best_score = prefix[1:] + [x], child"),
     ["test_exact_pruning"]),
    ("exact_search counts only outputs that end with <end>: the outputs cut at max_len are dropped",
     _exact(record="if x == eos: best_tokens, best_score = prefix[1:] + [x], child"),
     ["test_exact_toy", "test_exact_random"]),
    ("exact_search is greedy search: it returns the first complete output it reaches",
     {"exact_search": _EXACT_FIRST_FOUND}, ["test_exact_toy", "test_exact_random", "test_exact_pruning"]),
    ("exact_search cuts outputs one token too late (max_len + 1 tokens)",
     _exact(complete="x == eos or len(prefix) == max_len + 1"), ["test_exact_toy", "test_exact_random"]),
    # Tuned to the visible tests, whose <end> is always token 0: only the hidden tests catch it.
    ("exact_search hard-codes <end> = 0 instead of reading eos",
     _exact(complete="x == 0 or len(prefix) == max_len"), ["test_exact_random"]),
    ("a table on which greedy is already optimal",
     {"my_table": "def my_table():\n    return {(): [0.0, 0.6, 0.4], (1,): [0.9, 0.05, 0.05], (2,): [0.0, 0.9, 0.1], (2, 1): [1.0, 0.0, 0.0]}"},
     ["test_my_table"]),
    ("a table on which beam 2 also misses the optimum",
     {"my_table": ("def my_table():\n    return {(): [0.0, 0.55, 0.45], (1,): [0.0, 0.6, 0.4], (2,): [0.0, 0.45, 0.55], "
                  "(1, 1): [0.5, 0.25, 0.25], (1, 2): [1.0, 0.0, 0.0], (2, 1): [1.0, 0.0, 0.0], (2, 2): [0.5, 0.25, 0.25]}")},
     ["test_my_table"]),
]
