"""A batch of broken submissions for one assignment notebook, with the rows grading must give.

Each case is a student folder DIR/<student>/<assignment>/...; mutations of the released
notebook express most breakages, committed files in files/ the rest (not JSON, JSON that
is not a notebook, a stray text file).
"""
from __future__ import annotations

import copy
import shutil
from dataclasses import dataclass
from pathlib import Path

from seqcourse._nbcourse import grade_id, is_autograded_test, nbgrader_meta

from . import notebooks as nbs

FILES = Path(__file__).parent / "files"


@dataclass
class Expected:
    student: str
    notebook: str            # file name in the CSV's notebook column
    score: float
    max_score: float | None
    status: str              # a substring the status must contain
    feedback: bool = True    # a feedback page must exist for this row
    assignment: str | None = None  # default: the batch's assignment


def build(dest: Path, assignment: str, notebook: str, released_nb, source_nb,
          score_if_first_solution_broken: float) -> list[Expected]:
    """Write the bad batch into `dest` and return what each row of grades.csv must say.

    `score_if_first_solution_broken`: the automatic score of the solved notebook when its
    first code solution cell defines nothing (the tests that do not depend on it).
    """
    full = nbs.auto_points(source_nb)
    total = nbs.total_points(source_nb)
    filled = nbs.solved(released_nb, source_nb)
    target = nbs.first_code_solution_id(released_nb)
    file = f"{notebook}.ipynb"
    cases: list[Expected] = []

    def put(student: str, nb, name: str = file, folder: str = assignment) -> None:
        nbs.write(nb, dest / student / folder / name)

    # The kernel dies in the first solution cell: nothing can be graded.
    put("kernel_dies", nbs.fill(filled, {target: "import os\nos._exit(0)"}))
    cases.append(Expected("kernel_dies", file, 0, total, "kernel died"))

    # An endless loop is interrupted at the cell timeout; the tests then fail, the batch goes on.
    put("endless_loop", nbs.fill(filled, {target: "while True:\n    pass"}))
    cases.append(Expected("endless_loop", file, score_if_first_solution_broken, total, f"timeout: cell {target} ran past"))

    # A syntax error in the student's code: tests depending on it fail, nothing crashes.
    put("syntax_error", nbs.fill(filled, {target: "def broken(:\n    return"}))
    cases.append(Expected("syntax_error", file, score_if_first_solution_broken, total, f"error in cell {target} (SyntaxError"))

    # The first test cell deleted: it counts 0 and the status names it.
    first_test = next(c for c in filled.cells if is_autograded_test(c))
    deleted = copy.deepcopy(filled)
    deleted.cells = [c for c in deleted.cells if grade_id(c) != grade_id(first_test)]
    put("deleted_test", deleted)
    cases.append(Expected("deleted_test", file, full - nbs.test_points(filled)[grade_id(first_test)], total,
                          f"deleted test cells: {grade_id(first_test)}"))

    # Every test cell of the untouched notebook replaced by `pass`: nbgrader restores them -> 0.
    edited = copy.deepcopy(released_nb)
    for cell in edited.cells:
        if is_autograded_test(cell):
            cell.source = "pass"
    put("edited_tests", edited)
    cases.append(Expected("edited_tests", file, 0, total, "edited locked cells restored: "
                          + ", ".join(sorted(nbs.test_points(released_nb)))))

    # Files that are not notebooks in a notebook's name.
    (dest / "not_json" / assignment).mkdir(parents=True)
    shutil.copy(FILES / "not_json.ipynb", dest / "not_json" / assignment / file)
    cases.append(Expected("not_json", file, 0, total, "invalid notebook: not valid JSON"))
    (dest / "not_notebook" / assignment).mkdir(parents=True)
    shutil.copy(FILES / "not_a_notebook.ipynb", dest / "not_notebook" / assignment / file)
    cases.append(Expected("not_notebook", file, 0, total, "invalid notebook: valid JSON but not a Jupyter notebook"))

    # A correct notebook under an assignment name the course does not have.
    put("unknown_assignment", filled, folder="no_such_assignment")
    cases.append(Expected("unknown_assignment", file, 0, None, "unknown assignment", feedback=False,
                          assignment="no_such_assignment"))

    # A stray text file next to a correct notebook: its own row; the notebook is graded normally.
    put("stray_file", filled)
    shutil.copy(FILES / "notes.txt", dest / "stray_file" / assignment / "notes.txt")
    cases.append(Expected("stray_file", "notes.txt", 0, None, "not a notebook file", feedback=False))
    cases.append(Expected("stray_file", file, full, total, "ok"))
    return cases


def manual_points(nb) -> float:
    return sum(float(nbgrader_meta(c).get("points", 0) or 0) for c in nb.cells
               if nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("solution"))
