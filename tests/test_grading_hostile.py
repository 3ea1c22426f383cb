"""Hostile submissions (tests/submissions/hostile.py) graded in one sandboxed batch on chapter 1:
none scores more than its honest worth, each gets the status it must, nothing it does reaches
the grader, another submission, the gradebook, the checkout or the network; the batch resumes."""
from __future__ import annotations

import csv
import functools
import socket
import sys
import threading
from pathlib import Path

import pytest

from seqcourse import cli
from submissions import hostile
from submissions import notebooks as nbs
from submissions.runs import REPO, _scratch, real_course

CELL_TIMEOUT = 20  # the setup cell imports torch, which takes seconds on a loaded 2-core machine


class _Listener:
    """A loopback TCP server that records whether anyone reached it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port, self.reached, self.stop = self.sock.getsockname()[1], [], False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.reached.append(conn.recv(100))
                conn.close()
            except OSError:
                continue


def _rows(out: Path) -> dict:
    with open(out / "grades.csv", newline="") as fh:
        return {(r["student_id"], r["notebook"]): r for r in csv.DictReader(fh)}


@functools.cache
def hostile_run():
    crs = real_course()
    a, n = hostile.ASSIGNMENT, hostile.NOTEBOOK
    released, source = crs.released_nb(a, n), crs.source_nb(a, n)
    tmp = _scratch("seqcourse-hostile-")
    subs, out = tmp / "submissions", tmp / "out"
    listener = _Listener()
    plant = [str(REPO / "reference" / "seqmodels" / "_hostile_plant.py"),
             str(Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
                 / "site-packages" / "_hostile_plant.pth"),
             str(REPO / "solutions" / "_hostile_plant.txt")]
    nbs.write(nbs.solved(released, source), subs / "honest" / a / f"{n}.ipynb")
    nbs.write(released, subs / "blank" / a / f"{n}.ipynb")
    for case in hostile.HOSTILE:
        answers = {cell: src.replace("{port}", str(listener.port)).replace("{plant!r}", repr(plant))
                   for cell, src in case.answers.items()}
        nbs.write(nbs.fill(released, answers), subs / case.student / a / f"{n}.ipynb")
    args = ["grade", str(subs), "--out", str(out), "--solutions", str(crs.source), "--root", str(REPO),
            "--timeout", str(CELL_TIMEOUT), "--jobs", "2"]
    code = cli.main(args)
    listener.stop = True
    return {"code": code, "out": out, "subs": subs, "args": args, "listener": listener, "plant": plant,
            "source": source, "rows": _rows(out)}


def _row(student: str) -> dict:
    return hostile_run()["rows"][(student, f"{hostile.NOTEBOOK}.ipynb")]


def test_batch_completes_with_one_row_per_file():
    run = hostile_run()
    assert run["code"] == 0
    files = {(p.parts[-3], p.name) for p in run["subs"].rglob("*.ipynb")}
    assert set(run["rows"]) == files


def test_honest_full_marks_blank_zero():
    auto = nbs.auto_points(hostile_run()["source"])
    honest, blank = _row("honest"), _row("blank")
    assert float(honest["score"]) == auto and honest["status"].startswith("ok"), honest
    assert float(blank["score"]) == 0, blank


@pytest.mark.parametrize("case", hostile.HOSTILE, ids=[c.student for c in hostile.HOSTILE])
def test_hostile_submission_is_held(case):
    row = _row(case.student)
    assert float(row["score"]) <= case.max_score, (case.attack, row)
    assert case.status in row["status"], (case.attack, row)
    assert "without a sandbox" not in row["status"]


def test_gradebook_equals_grades_csv():
    from nbgrader.api import Gradebook

    run = hostile_run()
    with Gradebook(f"sqlite:///{run['out'] / 'gradebook.db'}") as gb:
        for (student, notebook), row in run["rows"].items():
            score = gb.find_submission_notebook(notebook[:-len(".ipynb")], hostile.ASSIGNMENT, student).score
            assert score == float(row["score"]), (student, score, row)


def test_nothing_leaves_the_sandbox():
    run = hostile_run()
    assert run["listener"].reached == []
    for path in run["plant"]:
        assert not Path(path).exists(), path
    pages = list((run["out"] / "feedback").rglob("*.html"))
    assert len(pages) == len(run["rows"])
    for page in pages:
        assert page.read_text(encoding="utf-8") != "pwned", page
    # The output cap keeps a 50 MB print out of the feedback page.
    assert (run["out"] / "feedback" / "big_output" / hostile.ASSIGNMENT / f"{hostile.NOTEBOOK}.html").stat().st_size < 3 << 20


def test_rerun_resumes_and_grades_only_what_is_missing(capsys):
    from sqlalchemy import create_engine, text

    run = hostile_run()
    engine = create_engine(f"sqlite:///{run['out'] / 'gradebook.db'}")
    with engine.begin() as conn:  # as if the batch had been killed before it stored "honest"
        stored = conn.execute(text("SELECT count(*) FROM seqcourse_result")).scalar()
        assert stored == len(run["rows"])
        conn.execute(text("DELETE FROM seqcourse_result WHERE student_id = 'honest'"))
    engine.dispose()
    capsys.readouterr()
    assert cli.main(run["args"]) == 0
    graded = [line for line in capsys.readouterr().out.splitlines() if line.startswith("graded ")]
    assert len(graded) == 1 and graded[0].startswith(f"graded honest/{hostile.ASSIGNMENT}"), graded
    assert _rows(run["out"]) == run["rows"]


def test_grade_without_a_sandbox_stops_with_a_clear_message(tmp_path, monkeypatch, capsys):
    (tmp_path / "subs").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    code = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "bubblewrap is not installed" in err and "--no-sandbox" in err, err


def test_check_reports_a_broken_rule_as_grading_does(tmp_path, capsys):
    crs = real_course()
    released = crs.released_nb(hostile.ASSIGNMENT, hostile.NOTEBOOK)
    case = next(c for c in hostile.HOSTILE if c.student == "autograd")
    path = nbs.write(nbs.fill(released, case.answers), tmp_path / hostile.ASSIGNMENT / f"{hostile.NOTEBOOK}.ipynb")
    code = cli.main(["check", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"note: {case.status}" in out, out
    assert "FAIL  test_leaky_weights" in out and "ForbiddenAPIError" in out, out
