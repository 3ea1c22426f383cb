"""Grading a class in shards into one real PostgreSQL gradebook, the copy report, and the inputs
that must stop `grade` before it grades anything (issue 16).

The course is the tiny fixture (no torch) with a longer `add` so that copies can be told from
forced answers. Two shards grade concurrently against a PostgreSQL server the test starts; a
third run, killed half-way and run again, must resume without duplicating a row.
"""
from __future__ import annotations

import csv
import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import _postgres
from seqcourse import cli, release
from seqcourse.gradebook import Shard
from seqcourse.similarity import flags
from submissions import fixture
from submissions import notebooks as nbs
from submissions.runs import FIXTURE_CELL_TIMEOUT, REPO, _scratch

A, N = fixture.ASSIGNMENT, fixture.NOTEBOOK
SOLUTION = '''def add(a, b):
    ### BEGIN SOLUTION
    """Add by counting: a + b for numbers."""
    total = a
    steps = 0
    if isinstance(b, float) or isinstance(a, float):
        return float(a) + float(b)
    while steps < abs(b):
        total = total + (1 if b > 0 else -1)
        steps += 1
    return total
    ### END SOLUTION'''
COPY = '''def add(x, y):
    # my own work
    acc = x
    i = 0
    if isinstance(y, float) or isinstance(x, float):
        return float(x) + float(y)
    while i < abs(y):
        acc = acc + (1 if y > 0 else -1)
        i += 1
    return acc'''
SHARED = '''def add(a, b):
    parts = [a, b]
    result = 0
    for part in parts:
        result = result + part
    if any(isinstance(p, float) for p in parts):
        return float(result)
    return result'''
OWN = "def add(a, b):\n    return sum((a, b))"


@functools.cache
def course() -> tuple[Path, Path]:
    tmp = _scratch("seqcourse-shards-course-")
    source = fixture.make_course(tmp)
    nb = nbs.read(source / A / f"{N}.ipynb")
    next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "add").source = SOLUTION
    nbs.write(nb, source / A / f"{N}.ipynb")
    release.generate(source, tmp / "exercises", REPO)
    return source, tmp / "exercises"


def _class(dest: Path, students: int) -> dict[str, str]:
    """students submissions of the toy assignment: {student: answer}."""
    source, released = course()
    rel = nbs.read(released / A / f"{N}.ipynb")
    answers = {"copycat": COPY, "twin_a": SHARED, "twin_b": SHARED.replace("part", "piece"),
               "solution": nbs.strip_solution_markers(SOLUTION)}
    for i in range(students - len(answers)):
        answers[f"student_{i:02d}"] = OWN if i % 3 else "def add(a, b):\n    return a - b"
    for student, answer in answers.items():
        nbs.write(nbs.fill(rel, {"add": answer}), dest / student / A / f"{N}.ipynb")
    (dest / "stray").mkdir()
    (dest / "stray" / "notes.txt").write_text("not a submission")
    return answers


def _grade_cmd(subs: Path, out: Path, *extra: str) -> list[str]:
    source, _ = course()
    return [sys.executable, "-m", "seqcourse.cli", "grade", str(subs), "--out", str(out), "--solutions", str(source),
            "--root", str(REPO), "--timeout", str(FIXTURE_CELL_TIMEOUT), "--jobs", "1", *extra]


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@functools.cache
def pg_url() -> str:
    """A PostgreSQL server for this module's tests, stopped when the session ends."""
    import atexit

    stack = _postgres.server()
    url = stack.__enter__()
    atexit.register(stack.__exit__, None, None, None)
    return url


@functools.cache
def sharded():
    tmp = _scratch("seqcourse-shards-")
    subs = tmp / "submissions"
    answers = _class(subs, 10)
    url = pg_url()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    shards = [subprocess.Popen(_grade_cmd(subs, tmp / f"out{k}", "--db", url, "--shard", f"{k}/2"), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for k in (1, 2)]
    logs = [p.communicate(timeout=900)[0] for p in shards]
    codes = [p.returncode for p in shards]
    report = subprocess.run([sys.executable, "-m", "seqcourse.cli", "report", "--db", url, "--out", str(tmp / "class")],
                            capture_output=True, text=True, timeout=300)
    return dict(tmp=tmp, subs=subs, url=url, answers=answers, logs=logs, codes=codes, report=report, env=env)


def test_two_concurrent_shards_grade_every_file_once_into_postgresql():
    run = sharded()
    assert run["codes"] == [0, 0], run["logs"]
    assert run["report"].returncode == 0, run["report"].stderr
    graded = [line.split()[1] for log in run["logs"] for line in log.splitlines() if line.startswith("graded ")]
    assert sorted(graded) == sorted(f"{s}/{A}" for s in run["answers"])  # each graded once, by one shard
    assert all(0 < sum(line.startswith("graded ") for line in log.splitlines()) for log in run["logs"])
    rows = _csv(run["tmp"] / "class" / "grades.csv")
    keys = [(r["student_id"], r["assignment"], r["notebook"]) for r in rows]
    files = sorted((p.relative_to(run["subs"]).parts[0], p.relative_to(run["subs"]).parts[1]
                    if len(p.relative_to(run["subs"]).parts) > 2 else "", p.name)
                   for p in run["subs"].rglob("*") if p.is_file())
    assert sorted(keys) == files  # one row per submitted file, none twice
    from nbgrader.api import Gradebook

    with Gradebook(run["url"]) as gb:
        assert len(gb.find_assignment(A).submissions) == len(run["answers"])
        for r in rows:
            if r["notebook"] == f"{N}.ipynb":
                assert gb.find_submission_notebook(N, A, r["student_id"]).score == float(r["score"]), r
    by_student = {r["student_id"]: r for r in rows}
    assert float(by_student["solution"]["score"]) == 3 and float(by_student["student_00"]["score"]) == 0
    pages = list((run["tmp"] / "class" / "feedback").rglob("*.html"))
    assert len(pages) == len(run["answers"])
    assert "unexpected file" in by_student["stray"]["status"]


def test_the_copy_report_names_copies_of_the_solution_and_of_each_other():
    run = sharded()
    flagged = {(f["kind"], f["student_a"], f["student_b"]) for f in _csv(run["tmp"] / "class" / "similarity.csv")}
    assert ("solution", "copycat", "(published solution)") in flagged
    assert ("solution", "solution", "(published solution)") in flagged
    assert ("pair", "twin_a", "twin_b") in flagged
    assert not any("student_" in a + b for _, a, b in flagged)  # short, forced answers are not compared
    assert ("pair", "copycat", "solution") not in flagged  # both already shown against the solution
    index = (run["tmp"] / "class" / "index.html").read_text()
    assert "copycat" in index and "no score was changed" in index


def test_a_shard_killed_half_way_resumes_without_duplicates():
    run = sharded()
    before = _csv(run["tmp"] / "class" / "grades.csv")
    cmd = _grade_cmd(run["subs"], run["tmp"] / "out1", "--db", run["url"], "--shard", "1/2", "--fresh")
    proc = subprocess.Popen(cmd, env=run["env"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    first = ""
    while not first.startswith("graded "):  # let it store one submission, then kill it mid-batch
        first = proc.stdout.readline()
        assert first or proc.poll() is None, "shard 1 ended before grading anything"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = subprocess.run(_grade_cmd(run["subs"], run["tmp"] / "out1", "--db", run["url"], "--shard", "1/2"),
                             env=run["env"], capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    regraded = [line for line in resumed.stdout.splitlines() if line.startswith("graded ")]
    shard1 = [s for s in run["answers"] if Shard(1, 2).owns(s, A)]
    assert first.split()[1] not in {line.split()[1] for line in regraded}
    assert len(regraded) == len(shard1) - 1, resumed.stdout
    out = run["tmp"] / "class-again"
    assert cli.main(["report", "--db", run["url"], "--out", str(out)]) == 0
    assert _csv(out / "grades.csv") == before
    from nbgrader.api import Gradebook

    with Gradebook(run["url"]) as gb:
        assert len(gb.find_assignment(A).submissions) == len(run["answers"])


# --- inputs that stop grade before it grades anything ------------------------------------------

@pytest.mark.parametrize("spec", ["3/2", "0/0", "0/3", "1/0", "2", "a/b", "-1/2"])
def test_a_bad_shard_spec_stops_with_a_clear_message(spec, tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    code = cli.main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), f"--shard={spec}",
                     "--no-sandbox"])
    err = capsys.readouterr().err
    assert code == 2 and f"--shard {spec}" in err and ("K/N" in err or "between 1 and N" in err), err
    assert not (tmp_path / "out").exists()


def test_an_unreachable_database_stops_before_grading(tmp_path, capsys):
    subs = tmp_path / "subs"
    _class(subs, 4)
    port = _postgres._free_port()  # nothing listens there
    started = time.monotonic()
    code = cli.main(["grade", str(subs), "--out", str(tmp_path / "out"), "--db",
                     f"postgresql://grader:secret@127.0.0.1:{port}/class", "--solutions", str(course()[0]),
                     "--root", str(REPO)])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the gradebook at postgresql://grader:***@127.0.0.1" in err, err
    assert "secret" not in err and "server runs" in err
    assert time.monotonic() - started < 60
    assert not (tmp_path / "out" / "work").exists()


def test_shards_of_another_course_version_stop_before_grading(tmp_path, capsys):
    import shutil

    source, _ = course()
    other = tmp_path / "solutions"
    shutil.copytree(source, other)
    nb = nbs.read(other / A / f"{N}.ipynb")
    nb.cells[0].source += "\n(version 2)"
    nbs.write(nb, other / A / f"{N}.ipynb")
    db = f"sqlite:///{tmp_path / 'class.db'}"
    (tmp_path / "empty").mkdir()
    base = ["grade", str(tmp_path / "empty"), "--db", db, "--root", str(REPO), "--no-sandbox"]
    assert cli.main([*base, "--out", str(tmp_path / "a"), "--solutions", str(source), "--shard", "1/2"]) == 0
    subs = tmp_path / "subs"
    _class(subs, 4)
    code = cli.main(["grade", str(subs), "--db", db, "--root", str(REPO), "--no-sandbox", "--out",
                     str(tmp_path / "b"), "--solutions", str(other), "--shard", "2/2"])
    err = capsys.readouterr().err
    assert code == 2 and "graded against other solutions/" in err and "--fresh" in err, err
    assert not (tmp_path / "b" / "work").exists()


# --- the lock, shards and copies, in isolation -----------------------------------------------

_HOLD = """
import sys, time
from seqcourse.gradebook import GradebookLock
lock, log = GradebookLock(sys.argv[1]), open(sys.argv[2], "a", buffering=1)
for _ in range(3):
    with lock:
        log.write("in\\n"); time.sleep(0.15); log.write("out\\n")
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_gradebook_lock_lets_one_process_in_at_a_time(backend, tmp_path):
    url = f"sqlite:///{tmp_path / 'gb.db'}" if backend == "sqlite" else pg_url()
    log = tmp_path / "log"
    procs = [subprocess.Popen([sys.executable, "-c", _HOLD, url, str(log)]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert log.read_text().split() == ["in", "out"] * 9  # never two "in" without an "out" between



def test_shards_partition_the_class_and_keep_their_share_as_it_grows():
    keys = [(f"s{i}", a) for i in range(300) for a in ("ch01_rnn", "ch02_gradients")]
    owners = {key: [k for k in range(1, 5) if Shard(k, 4).owns(*key)] for key in keys}
    assert all(len(o) == 1 for o in owners.values())
    sizes = [sum(o == [k] for o in owners.values()) for k in range(1, 5)]
    assert min(sizes) > 0.8 * len(keys) / 4  # a hash spreads the class evenly
    late = keys + [(f"late{i}", "ch01_rnn") for i in range(50)]
    assert all([k for k in range(1, 5) if Shard(k, 4).owns(*key)] == owners[key] for key in late[:len(keys)])
    assert all(Shard(1, 1).owns(*key) for key in late)


def test_similarity_ignores_names_comments_layout_and_docstrings():
    solution = nbs.strip_solution_markers(SOLUTION)
    cell = (A, N, "add")
    answers = {cell: {"copy": COPY, "own": OWN, "twin_a": SHARED, "twin_b": SHARED.replace("result", "r"),
                      "other": "def add(a, b):\n    import operator\n    values = [a, b]\n    out = operator.add(*values)\n"
                               "    while False:\n        out = out - 1\n    return out if not any(isinstance(v, float) "
                               "for v in values) else float(out)"}}
    found = {(f.kind, f.student_a, f.student_b): f.similarity for f in flags(answers, {cell: solution})}
    assert found[("solution", "copy", "(published solution)")] == 1.0
    assert found[("pair", "twin_a", "twin_b")] == 1.0
    assert set(found) == {("solution", "copy", "(published solution)"), ("pair", "twin_a", "twin_b")}
    # an answer still equal to the released stub, or one that does not parse, is not compared
    stub = "def add(a, b):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert flags({cell: {"x": stub, "y": stub, "z": "def add(:"}}, {cell: solution}, {cell: stub}) == []
