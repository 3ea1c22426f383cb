"""Plausible wrong answers per assignment, and the tests each must fail (no more, no fewer).

{assignment: [(description, {solution_cell_grade_id: wrong_source}, {failed_test_grade_ids})]}

Entries come from this file and from wrong_answers_<assignment>.py files next to it (each
defining a WRONG_ANSWERS list). Every assignment in solutions/ needs at least one entry
(tests/test_course_roundtrip.py checks it). A wrong answer replaces whole solution cells of the solved notebook; the other
solution cells keep the instructor's answer.
"""
from __future__ import annotations

_FORWARD = '''def rnn_forward(X, h_init, W_xh, W_hh, b_h):
    h = {h0}
    states = []
    for x_t in X:
        h = torch.tanh({pre})
        states.append(h)
    return torch.stack(states{stack})
'''


def _forward(h0="h_init", pre="x_t @ W_xh.T + h @ W_hh.T + b_h", stack=""):
    return _FORWARD.format(h0=h0, pre=pre, stack=stack)


_BPTT = '''def rnn_bptt(X, h_init, W_xh, W_hh, b_h, H, dL_dH):
    T = X.shape[0]
    dW_xh, dW_hh, db_h = torch.zeros_like(W_xh), torch.zeros_like(W_hh), torch.zeros_like(b_h)
    dX = torch.zeros_like(X)
    dh_next = torch.zeros_like(h_init)
    for t in reversed(range(T)):
        dh = {dh}
        dz = {dz}
        h_prev = H[t - 1] if t > 0 else h_init
        dW_xh += dz.T @ X[t]
        dW_hh += dz.T @ h_prev
        db_h += dz.sum(0)
        dX[t] = dz @ W_xh
        dh_next = {carry}
    return {{"W_xh": dW_xh, "W_hh": dW_hh, "b_h": db_h, "h_init": dh_next, "X": dX}}
'''


def _bptt(dh="dL_dH[t] + dh_next", dz="dh * (1 - H[t] ** 2)", carry="dz @ W_hh"):
    return _BPTT.format(dh=dh, dz=dz, carry=carry)


_FORWARD_TESTS = {"test_forward_shape", "test_forward_values", "test_forward_initial_state"}

WRONG_ANSWERS = {
    "ch01_rnn": [
        ("rnn_forward stacks batch-major (B, T, H)", {"rnn_forward": _forward(stack=", dim=1")},
         _FORWARD_TESTS),
        ("rnn_forward forgets the bias b_h", {"rnn_forward": _forward(pre="x_t @ W_xh.T + h @ W_hh.T")},
         {"test_forward_values", "test_forward_initial_state"}),
        ("rnn_forward uses W_hh transposed", {"rnn_forward": _forward(pre="x_t @ W_xh.T + h @ W_hh + b_h")},
         {"test_forward_values", "test_forward_initial_state"}),
        ("rnn_forward starts from zeros instead of h_init", {"rnn_forward": _forward(h0="torch.zeros_like(h_init)")},
         {"test_forward_values", "test_forward_initial_state"}),
        ("rnn_bptt forgets to add the gradient carried from t+1", {"bptt_backward": _bptt(dh="dL_dH[t]")},
         {"test_bptt_weights", "test_bptt_inputs"}),
        ("rnn_bptt forgets the tanh' factor", {"bptt_backward": _bptt(dz="dh")},
         {"test_bptt_one_step", "test_bptt_weights", "test_bptt_inputs"}),
    ],
}


def _collect_per_assignment_files() -> None:
    """Merge tests/submissions/wrong_answers_<assignment>.py (each a WRONG_ANSWERS list)."""
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("wrong_answers_*.py")):
        assignment = path.stem[len("wrong_answers_"):]
        module = importlib.import_module(f"{__package__}.{path.stem}")
        entries = [(description, dict(answers), set(failed)) for description, answers, failed in module.WRONG_ANSWERS]
        WRONG_ANSWERS.setdefault(assignment, []).extend(entries)


_collect_per_assignment_files()
