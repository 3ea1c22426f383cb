"""`seqcourse check NOTEBOOK`: a student's self-check of an exercise notebook.

Runs the notebook with the grading harness (seqcourse.harness): the answer cells in a
process of their own, the setup and test cells of the released notebook in this one, with
a time limit per cell, and reports every autograded test cell: PASS or FAIL, its points,
and for a failure the error's last line; a broken rule (a forbidden API) is reported as
grading reports it. Only answer cells run: code in cells you added does not. Only the visible tests run:
the hidden tests exist only in the instructor's notebook and run at grading time, so this
total is an upper bound. Instructor notebooks (solutions/) are refused, since running them
would print hidden tests.

Exit status: 0 when every visible test passes, 1 when one fails, 2 when the notebook
cannot be checked (missing, not a notebook, an instructor notebook).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

from seqcourse._nbcourse import (HIDDEN_BEGIN, RELEASE_DIR, SOURCE_DIR, CourseError, course_root, first_line,
                                 fmt_points, grade_id, is_autograded_test, nbgrader_meta, points, read_notebook)
from seqcourse.harness import Limits, run_notebook

DEFAULT_TIMEOUT = 60


def error_line(output) -> str:
    """'Name: message' for an error output (the message's first line, not the traceback)."""
    ename, evalue = output.get("ename", "Error"), first_line(output.get("evalue", ""))
    if ename == "CellTimeoutError":
        return "CellTimeoutError: the cell ran past the time limit (an endless loop?)"
    if ename == "NotImplementedError" and not evalue:
        return "NotImplementedError (not done yet: replace `raise NotImplementedError()` with your code)"
    return f"{ename}: {evalue}" if evalue else ename


def refuse_instructor_notebook(path: Path, nb) -> None:
    if any(HIDDEN_BEGIN in cell.source for cell in nb.cells):
        raise CourseError(f"{path} holds hidden tests: it is an instructor notebook. "
                          "Check the student version in exercises/ instead (running this one would show the hidden tests).")
    try:
        source = course_root(path.parent) / SOURCE_DIR
    except CourseError:
        return
    if path.resolve().is_relative_to(source.resolve()):
        raise CourseError(f"{path} is an instructor notebook (under {SOURCE_DIR}/); "
                          "check the student version in exercises/ instead.")


def released_original(path: Path, nb):
    """The released notebook this one was copied from (its tests as the instructor wrote them),
    when the course checkout has it; else the notebook itself."""
    try:
        original = course_root(path.parent) / RELEASE_DIR / path.parent.name / path.name
    except CourseError:
        return nb
    if original.is_file() and original.resolve() != path.resolve():
        with contextlib.suppress(CourseError):
            return read_notebook(original)
    return nb


def check(path: Path, timeout: int = DEFAULT_TIMEOUT, echo=print) -> int:
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"{path}: no such notebook")
    if path.suffix != ".ipynb":
        raise CourseError(f"{path}: not a notebook (expected a .ipynb file)")
    try:
        nb = read_notebook(path)
    except CourseError as err:
        raise CourseError(f"{path}: {err}") from None
    refuse_instructor_notebook(path, nb)
    tests = [c for c in nb.cells if is_autograded_test(c)]
    if not tests:
        raise CourseError(f"{path} has no autograded test cells: is it an exercise notebook from exercises/?")

    from nbgrader.utils import compute_checksum

    edited = [grade_id(c) for c in tests
              if nbgrader_meta(c).get("checksum") and compute_checksum(c) != nbgrader_meta(c)["checksum"]]
    echo(f"Checking {path} (visible tests only; {timeout} s per cell) ...")
    # The same harness as grading: answers in their own process (not sandboxed here), the tests
    # of the released notebook in this one.
    with tempfile.TemporaryDirectory(prefix="seqcourse-check-") as box:
        outcome = run_notebook(released_original(path, nb), nb, Path(box),
                               limits=Limits(cell_timeout=float(timeout)), sandbox=False)

    width = max(len(grade_id(c) or "") for c in tests)
    earned = possible = 0.0
    for index, cell in enumerate(nb.cells):
        if not is_autograded_test(cell):
            continue
        worth = points(cell)
        possible += worth
        run = outcome.cells.get(grade_id(cell))
        error = error_line(run.error) if run and run.error else None if run else "not run"
        if error is None:
            earned += worth
            echo(f"  PASS  {grade_id(cell):<{width}}  {fmt_points(worth)}/{fmt_points(worth)}")
        else:
            echo(f"  FAIL  {grade_id(cell):<{width}}  0/{fmt_points(worth)}  {error}")
    for problem in outcome.problems:
        echo(f"  note: {problem}")
    for name in edited:
        echo(f"  note: test cell {name} was edited; grading restores the original test")
    manual = [(grade_id(c), points(c)) for c in nb.cells
              if nbgrader_meta(c).get("grade") and not is_autograded_test(c)]
    echo(f"Visible tests: {fmt_points(earned)}/{fmt_points(possible)} points.")
    echo("Hidden tests are not run here: grading also runs hidden tests (other sizes and cases), "
         "so your grade can be lower than this.")
    if manual:
        echo("Graded by hand, not checked here: "
             + ", ".join(f"{name} ({fmt_points(p)} point{'s' if p != 1 else ''})" for name, p in manual) + ".")
    return 0 if earned == possible and not outcome.problems else 1


def run(args: argparse.Namespace) -> int:
    try:
        return check(Path(args.notebook), timeout=args.timeout)
    except CourseError as err:
        print(f"seqcourse check: {err}", file=sys.stderr)
        return 2


def register(subparsers) -> None:
    parser = subparsers.add_parser("check", help="self-check an exercise notebook (visible tests only)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebook", metavar="NOTEBOOK", help="a student notebook, e.g. exercises/ch01_rnn/rnn_bptt.ipynb")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT,
                        help=f"time limit per cell in seconds (default: {DEFAULT_TIMEOUT})")
    parser.set_defaults(run=run)
