"""`seqcourse grade` on a batch of broken submissions: every file gets a row saying why,
nothing stops the batch, feedback never shows hidden tests, and --db is honoured."""
from __future__ import annotations

import html
import re

import pytest

from submissions import fixture
from submissions.runs import fixture_run, real_run

def _cases():
    return fixture_run().bad_cases


def _text(path):
    """Visible text of an HTML page (tags removed; code is split into highlighting spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


def test_batch_completes_with_exit_code_zero():
    run = fixture_run()
    assert run.exit_code == 0
    assert (run.out / "grades.csv").read_text().splitlines()[0] == \
        "student_id,assignment,notebook,score,max_score,status"


@pytest.mark.parametrize("student", ["kernel_dies", "endless_loop", "syntax_error", "deleted_test",
                                     "edited_tests", "not_json", "not_notebook", "unknown_assignment",
                                     "stray_file"])
def test_bad_submission_rows(student):
    run = fixture_run()
    cases = [c for c in _cases() if c.student == student]
    assert cases
    for case in cases:
        row = run.row(case.student, case.assignment or fixture.ASSIGNMENT, case.notebook)
        assert case.status in row.status, row
        assert row.score == case.score, row
        assert row.max_score == case.max_score, row
        page = run.feedback(case.student, case.assignment or fixture.ASSIGNMENT, fixture.NOTEBOOK)
        if case.feedback:
            assert page.is_file(), f"no feedback for {row}"


def test_no_file_is_lost():
    run = fixture_run()
    submissions = run.out.parent / "submissions"
    files = {tuple(p.relative_to(submissions).parts) for p in submissions.rglob("*") if p.is_file()}
    rows = {(r.student_id, r.assignment, r.notebook) for r in run.rows}
    assert files == rows


def test_failed_notebook_feedback_says_why():
    run = fixture_run()
    text = _text(run.feedback("kernel_dies", fixture.ASSIGNMENT, fixture.NOTEBOOK))
    assert "kernel died" in text
    text = _text(run.feedback("not_json", fixture.ASSIGNMENT, fixture.NOTEBOOK))
    assert "not valid JSON" in text


def test_manual_points_pending_are_reported():
    run = fixture_run()
    row = run.row("solution", fixture.ASSIGNMENT, f"{fixture.NOTEBOOK}.ipynb")
    assert row.status == "ok; 1 point awaits manual grading"
    assert (row.score, row.max_score) == (3, 4)


def test_feedback_never_shows_hidden_tests():
    run = fixture_run()
    pages = list((run.out / "feedback").rglob("*.html"))
    assert len(pages) >= 8
    for page in pages:
        assert fixture.HIDDEN_MARKER not in page.read_text(encoding="utf-8"), page
    # ... while visible failures still explain themselves, and hidden failures are named as such.
    wrong = _text(run.feedback("wrong_1", fixture.ASSIGNMENT, fixture.NOTEBOOK))
    assert fixture.VISIBLE_MESSAGE in wrong
    hidden_only = _text(run.feedback("wrong_3", fixture.ASSIGNMENT, fixture.NOTEBOOK))
    assert "AssertionError in a hidden test" in hidden_only


def test_course_feedback_never_shows_hidden_tests():
    from submissions import notebooks as nbs

    run = real_run()
    for assignment, notebook in run.course.notebooks():
        source = run.course.source_nb(assignment, notebook)
        released_text = "\n".join(c.source for c in run.course.released_nb(assignment, notebook).cells)
        hidden = set()
        for cell in source.cells:
            inside = False
            for line in cell.source.split("\n"):
                if "BEGIN HIDDEN TESTS" in line:
                    inside = True
                elif "END HIDDEN TESTS" in line:
                    inside = False
                elif inside and len(line.strip()) >= 12 and line.strip() not in released_text:
                    hidden.add(line.strip())
        for page in (run.out / "feedback").rglob(f"{assignment}/{notebook}.html"):
            text = _text(page)
            leaked = [line for line in hidden if line in text]
            assert not leaked, f"{page} shows hidden test lines: {leaked[:3]}"
        assert nbs.test_points(source)


def test_custom_db_url_holds_the_grades():
    from nbgrader.api import Gradebook

    run = fixture_run()
    assert run.db_url.endswith("custom-db/grades.sqlite")
    assert not (run.out / "gradebook.db").exists()
    with Gradebook(run.db_url) as gb:
        students = {s.id for s in gb.students}
        assert {"solution", "untouched", "deleted_test"} <= students
        assert gb.find_submission_notebook(fixture.NOTEBOOK, fixture.ASSIGNMENT, "solution").score == 3
