"""`seqcourse check`: a student's self-check runs the visible tests only and says what failed."""
from __future__ import annotations

import shutil

import pytest

from seqcourse import cli
from submissions import fixture
from submissions import notebooks as nbs
from submissions.runs import all_notebooks, course

NOTEBOOKS = all_notebooks()
IDS = [f"{c}:{a}/{n}" for c, a, n in NOTEBOOKS]


def _check(capsys, path, *extra):
    code = cli.main(["check", str(path), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _hidden_lines(source_nb):
    lines, inside = set(), False
    for cell in source_nb.cells:
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) >= 12:
                lines.add(line.strip())
    return lines


@pytest.mark.parametrize("label, assignment, notebook", NOTEBOOKS, ids=IDS)
def test_solved_exercise_passes(label, assignment, notebook, tmp_path, capsys):
    crs = course(label)
    released, source = crs.released_nb(assignment, notebook), crs.source_nb(assignment, notebook)
    path = nbs.write(nbs.solved(released, source), tmp_path / f"{notebook}.ipynb")
    code, out = _check(capsys, path)
    assert code == 0, out
    for test_id, worth in nbs.test_points(released).items():
        assert f"PASS  {test_id}" in out
    total = nbs.auto_points(released)
    assert f"Visible tests: {total:g}/{total:g} points." in out
    assert "Hidden tests are not run here" in out
    released_text = "\n".join(c.source for c in released.cells)
    assert not [line for line in _hidden_lines(source) if line in out and line not in released_text]


@pytest.mark.parametrize("label, assignment, notebook", NOTEBOOKS, ids=IDS)
def test_untouched_exercise_fails_per_question(label, assignment, notebook, tmp_path, capsys):
    crs = course(label)
    path = tmp_path / f"{notebook}.ipynb"
    shutil.copy(crs.released / assignment / f"{notebook}.ipynb", path)
    code, out = _check(capsys, path)
    assert code == 1, out
    released = crs.released_nb(assignment, notebook)
    for test_id, worth in nbs.test_points(released).items():
        line = next(l for l in out.splitlines() if f"FAIL  {test_id} " in l)
        assert f"0/{worth:g}" in line
        assert "Error" in line and "Traceback" not in out, line
    assert f"Visible tests: 0/{nbs.auto_points(released):g} points." in out
    assert fixture.HIDDEN_MARKER not in out


def test_failure_message_is_the_exception_line(tmp_path, capsys):
    crs = course("fixture")
    released, source = crs.released_nb("toy", "add"), crs.source_nb("toy", "add")
    wrong = nbs.fill(nbs.solved(released, source), {"add": "def add(a, b):\n    return int(a) + int(b)"})
    code, out = _check(capsys, nbs.write(wrong, tmp_path / "add.ipynb"))
    assert code == 1
    assert "PASS  add_tests " in out
    assert "FAIL  add_type_tests  0/1  AssertionError: add should work on floats" in out
    assert "Visible tests: 2/3 points." in out
    assert "explain (1 point)" in out


def test_kernel_death_and_edited_tests_are_reported(tmp_path, capsys):
    crs = course("fixture")
    released, source = crs.released_nb("toy", "add"), crs.source_nb("toy", "add")
    nb = nbs.solved(released, source)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "add_type_tests":
            cell.source = "assert False, 'edited'"
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "add":
            cell.source = "import os\nos._exit(1)"
    code, out = _check(capsys, nbs.write(nb, tmp_path / "add.ipynb"))
    assert code == 1, out
    assert "FAIL  add_tests" in out and "FAIL  add_type_tests" in out
    assert "kernel died: the student's process died in cell add (exit code 1)" in out, out
    assert "test cell add_type_tests was edited" in out


@pytest.mark.parametrize("label, assignment, notebook", NOTEBOOKS, ids=IDS)
def test_refuses_instructor_notebooks(label, assignment, notebook, tmp_path, capsys):
    crs = course(label)
    code, out = _check(capsys, crs.source / assignment / f"{notebook}.ipynb")
    assert code == 2 and "instructor notebook" in out, out
    # Also when copied elsewhere: the hidden tests give it away.
    copy = shutil.copy(crs.source / assignment / f"{notebook}.ipynb", tmp_path / "mine.ipynb")
    code, out = _check(capsys, copy)
    if any("BEGIN HIDDEN TESTS" in c.source for c in crs.source_nb(assignment, notebook).cells):
        assert code == 2 and "hidden tests" in out, out
    assert fixture.HIDDEN_MARKER not in out


@pytest.mark.parametrize("name, message", [("not_json.ipynb", "not valid JSON"),
                                           ("not_a_notebook.ipynb", "not a Jupyter notebook"),
                                           ("notes.txt", "not a notebook"),
                                           ("missing.ipynb", "no such notebook")])
def test_broken_input_gets_a_clear_message(name, message, capsys):
    from submissions.bad import FILES

    code, out = _check(capsys, FILES / name)
    assert code == 2
    assert message in out and "Traceback" not in out, out
