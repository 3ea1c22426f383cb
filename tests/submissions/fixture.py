"""A tiny nbgrader course used to test the tooling independently of the real chapters.

One assignment `toy` with notebook `add.ipynb`: a solution cell `add`, an autograded
test cell `add_tests` (visible and hidden tests, 2 points), a second test cell
`add_type_tests` (1 point) and a manually graded markdown answer `explain` (1 point).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

ASSIGNMENT = "toy"
NOTEBOOK = "add"
# Appears only inside the hidden-test region: it must never reach a student.
HIDDEN_MARKER = "HIDDEN-MARKER-7f3a"
VISIBLE_MESSAGE = "add(1, 2) should be 3"


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Toy assignment\nImplement `add(a, b)`."),
        nbformat.v4.new_code_cell(
            "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
            metadata=_meta("add", grade=False, solution=True, locked=False)),
        nbformat.v4.new_code_cell(
            f'assert add(1, 2) == 3, "{VISIBLE_MESSAGE}"\n'
            "### BEGIN HIDDEN TESTS\n"
            f"# {HIDDEN_MARKER}\n"
            f'assert add(-1, 1) == 0, "{HIDDEN_MARKER}: add(-1, 1)"\n'
            "### END HIDDEN TESTS",
            metadata=_meta("add_tests", grade=True, solution=False, locked=True, points=2)),
        nbformat.v4.new_code_cell(
            'assert add(0.5, 0.25) == 0.75, "add should work on floats"',
            metadata=_meta("add_type_tests", grade=True, solution=False, locked=True, points=1)),
        nbformat.v4.new_markdown_cell("Why is addition commutative?"),
        nbformat.v4.new_markdown_cell(
            "### BEGIN SOLUTION\nBecause a + b = b + a.\n### END SOLUTION",
            metadata=_meta("explain", grade=True, solution=True, locked=False, points=1)),
    ]
    return nb


# Wrong answers for the toy assignment, same shape as tests/submissions/wrong_answers.py.
WRONG_ANSWERS = [
    ("subtracts instead of adding", {"add": "def add(a, b):\n    return a - b"},
     {"add_tests", "add_type_tests"}),
    ("truncates to integers", {"add": "def add(a, b):\n    return int(a) + int(b)"},
     {"add_type_tests"}),
    ("passes visible, fails hidden", {"add": "def add(a, b):\n    return 3 if (a, b) == (1, 2) else a + b + 0.0 if a >= 0 else 1"},
     {"add_tests"}),
]


def make_course(root: Path) -> Path:
    """Write `root/solutions/toy/add.ipynb` and return `root/solutions`."""
    solutions = root / "solutions"
    (solutions / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), solutions / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    return solutions
