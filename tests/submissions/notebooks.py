"""Building student submissions from an assignment's notebooks (for the grading tests)."""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from seqcourse._nbcourse import grade_id, is_autograded_test, nbgrader_meta, points


def strip_solution_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n")
                     if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)


def solution_cells(source_nb) -> dict[str, str]:
    """{grade_id: answer} for every solution cell of an instructor notebook, markers removed."""
    return {grade_id(c): strip_solution_markers(c.source) for c in source_nb.cells if nbgrader_meta(c).get("solution")}


def fill(released_nb, answers: dict[str, str]):
    """A copy of the student notebook with the given solution cells' sources replaced."""
    nb = copy.deepcopy(released_nb)
    unknown = set(answers) - {grade_id(c) for c in nb.cells if nbgrader_meta(c).get("solution")}
    assert not unknown, f"no solution cells {sorted(unknown)} in the notebook"
    for cell in nb.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    return nb


def solved(released_nb, source_nb):
    """What a student who writes the instructor's solution submits."""
    return fill(released_nb, solution_cells(source_nb))


def test_points(nb) -> dict[str, float]:
    """{grade_id: points} of the autograded test cells."""
    return {grade_id(c): points(c) for c in nb.cells if is_autograded_test(c)}


def total_points(nb) -> float:
    return sum(points(c) for c in nb.cells if nbgrader_meta(c).get("grade") or nbgrader_meta(c).get("task"))


def auto_points(nb) -> float:
    return sum(test_points(nb).values())


def first_code_solution_id(nb) -> str:
    return next(grade_id(c) for c in nb.cells if nbgrader_meta(c).get("solution") and c.cell_type == "code")


def write(nb, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)
    return dest


def read(path: Path):
    return nbformat.read(path, as_version=4)
