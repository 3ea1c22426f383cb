"""Every exercise round-trips through nbgrader: the solution scores full marks, the untouched
student notebook scores zero without breaking the grader, and each plausible wrong answer
(tests/submissions/wrong_answers.py) fails exactly the tests it should."""
from __future__ import annotations

import pytest

from submissions import notebooks as nbs
from submissions.runs import all_notebooks, course, real_course, run_for
from submissions.wrong_answers import WRONG_ANSWERS

NOTEBOOKS = all_notebooks()
IDS = [f"{c}:{a}/{n}" for c, a, n in NOTEBOOKS]


def _failed(run, student, assignment, notebook):
    scores = run.test_scores(student, assignment, notebook)
    tests = nbs.test_points(run.course.source_nb(assignment, notebook))
    return {name for name, worth in tests.items() if scores.get(name) != worth}


@pytest.mark.parametrize("label, assignment, notebook", NOTEBOOKS, ids=IDS)
def test_solution_scores_full_marks(label, assignment, notebook):
    run = run_for(label)
    row = run.row("solution", assignment, f"{notebook}.ipynb")
    source = run.course.source_nb(assignment, notebook)
    assert row.score == nbs.auto_points(source) > 0, row
    assert row.max_score == nbs.total_points(source), row
    assert row.status.startswith("ok"), row
    assert _failed(run, "solution", assignment, notebook) == set()


@pytest.mark.parametrize("label, assignment, notebook", NOTEBOOKS, ids=IDS)
def test_untouched_exercise_scores_zero(label, assignment, notebook):
    run = run_for(label)
    row = run.row("untouched", assignment, f"{notebook}.ipynb")
    source = run.course.source_nb(assignment, notebook)
    assert row.score == 0, row
    assert row.max_score == nbs.total_points(source), row
    assert not any(word in row.status for word in ("kernel died", "timeout", "failed", "invalid")), row
    answers = sorted(nbs.solution_cells(source))
    assert "unanswered: " + ", ".join(answers) in row.status, row
    assert _failed(run, "untouched", assignment, notebook) == set(nbs.test_points(source))


WRONG = [(c, a, n, i, desc, failed)
         for c, a, n in NOTEBOOKS
         for i, (desc, answers, failed) in enumerate(course(c).wrong_answers.get(a, []), start=1)
         if set(answers) <= set(nbs.solution_cells(course(c).source_nb(a, n)))]


@pytest.mark.parametrize("label, assignment, notebook, index, description, failed", WRONG,
                         ids=[f"{c}:{a}:{d}" for c, a, n, i, d, f in WRONG])
def test_wrong_answer_loses_exactly_its_points(label, assignment, notebook, index, description, failed):
    run = run_for(label)
    student = f"wrong_{index}"
    source = run.course.source_nb(assignment, notebook)
    points = nbs.test_points(source)
    assert set(failed) <= set(points), f"{description}: unknown test ids {set(failed) - set(points)}"
    assert _failed(run, student, assignment, notebook) == set(failed), description
    row = run.row(student, assignment, f"{notebook}.ipynb")
    assert row.score == nbs.auto_points(source) - sum(points[t] for t in failed), (description, row)


def test_every_assignment_has_wrong_answers():
    missing = [a for a in real_course().notebooks() if not WRONG_ANSWERS.get(a[0])]
    assert not missing, f"add plausible wrong answers for {missing} to tests/submissions/wrong_answers.py"
