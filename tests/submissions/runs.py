"""The courses the tooling tests run on, and their grading runs (each made once per session).

Two courses: the repository's (every assignment under solutions/, released in exercises/)
and a tiny fixture course (tests/submissions/fixture.py) that exercises the tooling
without torch. Grading is the slow part (a kernel per submission), so each course is
graded once, with every submission the tests need, and the tests read the CSV rows.
"""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from seqcourse import cli, release
from seqcourse._nbcourse import assignments
from seqcourse.grade import Row

from . import bad, fixture
from . import notebooks as nbs
from .wrong_answers import WRONG_ANSWERS

REPO = Path(__file__).resolve().parents[2]
FIXTURE_CELL_TIMEOUT = 3  # the fixture has no torch import, so a short per-cell limit is safe
# Two submissions at a time (CI has 2 cores); also exercises concurrent use of the SQLite gradebook.
JOBS = 2
# SEQ_COURSE_ASSIGNMENTS=ch07_decoding,ch08_seq2seq restricts the repository's course to those assignments (its
# round-trip grading run then grades only them): for checking a few rewritten assignments on a busy machine.
ONLY = frozenset(a for a in os.environ.get("SEQ_COURSE_ASSIGNMENTS", "").split(",") if a.strip())


@dataclass
class Course:
    label: str
    source: Path          # solutions/ (nbgrader source)
    released: Path        # exercises/
    wrong_answers: dict
    only: frozenset = frozenset()  # when not empty, the only assignments of this course

    def notebooks(self) -> list[tuple[str, str]]:
        return [(a, n) for a, names in assignments(self.source).items() for n in names if not self.only or a in self.only]

    def source_nb(self, assignment: str, notebook: str):
        return nbs.read(self.source / assignment / f"{notebook}.ipynb")

    def released_nb(self, assignment: str, notebook: str):
        path = self.released / assignment / f"{notebook}.ipynb"
        assert path.is_file(), f"{path} is missing: run `make release` and commit exercises/"
        return nbs.read(path)


def _scratch(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def real_course() -> Course:
    return Course("course", REPO / "solutions", REPO / "exercises", WRONG_ANSWERS, ONLY)


@functools.cache
def fixture_course() -> Course:
    tmp = _scratch("seqcourse-fixture-")
    source = fixture.make_course(tmp)
    release.generate(source, tmp / "exercises", REPO)
    return Course("fixture", source, tmp / "exercises", {fixture.ASSIGNMENT: fixture.WRONG_ANSWERS})


def course(label: str) -> Course:
    return fixture_course() if label == "fixture" else real_course()


def all_notebooks() -> list[tuple[str, str, str]]:
    """(course label, assignment, notebook) for the fixture and every assignment in solutions/."""
    real = [("course", a, n) for a, n in real_course().notebooks()]
    return [("fixture", fixture.ASSIGNMENT, fixture.NOTEBOOK), *real]


@dataclass
class Run:
    course: Course
    out: Path
    db_url: str
    rows: list[Row]
    exit_code: int
    # (student, assignment, notebook) -> failed test ids expected, for roundtrip students
    roundtrip: dict = field(default_factory=dict)
    bad_cases: list = field(default_factory=list)

    def row(self, student: str, assignment: str, notebook_file: str) -> Row:
        found = [r for r in self.rows if (r.student_id, r.assignment, r.notebook) == (student, assignment, notebook_file)]
        assert len(found) == 1, f"expected one row for {student}/{assignment}/{notebook_file}, got {found}"
        return found[0]

    def test_scores(self, student: str, assignment: str, notebook: str) -> dict[str, float | None]:
        """{test grade_id: auto score} from the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            grades = gb.find_submission_notebook(notebook, assignment, student).grades
            return {g.name: g.auto_score for g in grades if g.cell_type == "code"}

    def feedback(self, student: str, assignment: str, notebook: str) -> Path:
        return self.out / "feedback" / student / assignment / f"{notebook}.html"


def roundtrip_students(dest: Path, crs: Course) -> dict:
    """solution / untouched / wrong_<i> submissions for every notebook; returns expectations."""
    expected = {}
    for assignment, notebook in crs.notebooks():
        if not (crs.released / assignment / f"{notebook}.ipynb").is_file():
            continue  # not released yet: that notebook's own tests fail and say `make release`
        released, source = crs.released_nb(assignment, notebook), crs.source_nb(assignment, notebook)
        solved = nbs.solved(released, source)
        nbs.write(solved, dest / "solution" / assignment / f"{notebook}.ipynb")
        expected[("solution", assignment, notebook)] = set()
        nbs.write(released, dest / "untouched" / assignment / f"{notebook}.ipynb")
        expected[("untouched", assignment, notebook)] = set(nbs.test_points(released))
        own_cells = set(nbs.solution_cells(source))
        for i, (_, answers, failed) in enumerate(crs.wrong_answers.get(assignment, []), start=1):
            if set(answers) <= own_cells:
                student = f"wrong_{i}"
                nbs.write(nbs.fill(solved, answers), dest / student / assignment / f"{notebook}.ipynb")
                expected[(student, assignment, notebook)] = set(failed)
    return expected


def _grade(crs: Course, subs: Path, out: Path, db_url: str, *extra: str) -> tuple[list[Row], int]:
    import csv

    code = cli.main(["grade", str(subs), "--out", str(out), "--db", db_url, "--solutions", str(crs.source),
                     "--root", str(REPO), *extra])
    with open(out / "grades.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = [Row(r["student_id"], r["assignment"], r["notebook"],
                    float(r["score"]) if r["score"] else None,
                    float(r["max_score"]) if r["max_score"] else None, r["status"]) for r in reader]
    return rows, code


@functools.cache
def fixture_run() -> Run:
    """The fixture course graded with the bad batch, the roundtrip students and a custom --db."""
    crs = fixture_course()
    tmp = _scratch("seqcourse-grade-fixture-")
    subs, out = tmp / "submissions", tmp / "out"
    a, n = fixture.ASSIGNMENT, fixture.NOTEBOOK
    cases = bad.build(subs, a, n, crs.released_nb(a, n), crs.source_nb(a, n), score_if_first_solution_broken=0)
    expected = roundtrip_students(subs, crs)
    db_url = f"sqlite:///{tmp / 'custom-db' / 'grades.sqlite'}"
    (tmp / "custom-db").mkdir()
    rows, code = _grade(crs, subs, out, db_url, "--timeout", str(FIXTURE_CELL_TIMEOUT), "--wall-timeout", "300",
                        "--jobs", str(JOBS))
    return Run(crs, out, db_url, rows, code, roundtrip=expected, bad_cases=cases)


@functools.cache
def real_run() -> Run:
    """Every assignment of the course graded with the roundtrip students."""
    crs = real_course()
    tmp = _scratch("seqcourse-grade-course-")
    subs, out = tmp / "submissions", tmp / "out"
    expected = roundtrip_students(subs, crs)
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    rows, code = _grade(crs, subs, out, db_url, "--jobs", str(JOBS))
    return Run(crs, out, db_url, rows, code, roundtrip=expected)


def run_for(label: str) -> Run:
    return fixture_run() if label == "fixture" else real_run()
