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
        # the leaky-RNN BPTT answers are in wrong_answers_ch01_rnn.py
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
