"""`seqcourse grade DIR`: autograde every submission in DIR/<student_id>/<assignment>/<notebook>.ipynb.

Every submission (one student's assignment) is graded in its own process with a wall-clock
limit, so a crashing kernel, an endless loop or a broken file costs only that submission.
Every file found gets a row in OUT/grades.csv (student_id, assignment, notebook, score,
max_score, status) -- nothing is skipped silently (dot-files excepted) -- and every graded
notebook gets feedback in OUT/feedback/<student>/<assignment>/<notebook>.html, with hidden
tests removed. A notebook that could not be graded gets a short page that says why.

score counts the points the autograder gave (plus manual grades already in the gradebook);
max_score counts all points, manually graded ones included; status says "ok", or what went
wrong, and how many points await manual grading (e.g. with `nbgrader formgrader`).

Work files (an nbgrader course root) go to OUT/work, the gradebook to OUT/gradebook.db
unless --db gives another SQLAlchemy URL. Sources come from the course's solutions/.

Answers run in a bubblewrap sandbox, tests in the grader's process (seqcourse.harness, via
nbgrader_config.py); without bubblewrap the command stops unless --no-sandbox is given, and
then every status says so. Each submission's rows are appended to OUT/journal.jsonl the
moment they are known; running the same command again grades only the submissions the
journal lacks or whose files changed (--fresh starts over). grade_one() is the unit of work
a pool of processes could share.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from seqcourse._nbcourse import (CONFIG_FILE, RELEASE_DIR, SOURCE_DIR, CourseError, assignments,
                                 course_root, fmt_points, log_tail, read_notebook, run_nbgrader, step_folder, tool_env)
from seqcourse.harness import sandbox_problem

DEFAULT_WALL_TIMEOUT = 900.0
SUBMISSION_STEPS = ("submitted", "autograded", "feedback")  # nbgrader's per-submission folders
JOURNAL = "journal.jsonl"
FEEDBACK_LIMIT = 8 << 20  # bytes; each cell's output is already capped (harness.Limits.output_bytes)
LAYOUT = "<student_id>/<assignment>/<notebook>.ipynb"


@dataclass
class Row:
    student_id: str
    assignment: str
    notebook: str
    score: float | None
    max_score: float | None
    status: str

    def csv(self) -> list[str]:
        values = list(astuple(self))
        values[3], values[4] = fmt_points(self.score), fmt_points(self.max_score)
        return values


COLUMNS = [f.name for f in fields(Row)]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def _prepare_work(out: Path, source: Path, root: Path, db_url: str, cell_timeout: float | None,
                  sandbox: bool, fresh: bool) -> Path:
    work = out / "work"
    # A resumed run keeps the submitted/autograded/feedback folders of what the journal holds.
    for sub in ((*SUBMISSION_STEPS, "results") if fresh else ()) + (RELEASE_DIR, SOURCE_DIR):
        shutil.rmtree(work / sub, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, work / SOURCE_DIR, ignore=shutil.ignore_patterns(".*"))
    overrides = [
        "",
        "# --- added by `seqcourse grade` for this grading run ---",
        f"c.CourseDirectory.root = {str(work)!r}",
        f"c.CourseDirectory.source_directory = {SOURCE_DIR!r}",
        f"c.CourseDirectory.release_directory = {RELEASE_DIR!r}",
        f"c.CourseDirectory.db_url = {db_url!r}",
        f"c.SandboxedExecute.sandbox = {sandbox!r}",
    ]
    if cell_timeout is not None:
        overrides.append(f"c.Execute.timeout = {int(cell_timeout)}")
    config = (root / CONFIG_FILE).read_text(encoding="utf-8") + "\n".join(overrides) + "\n"
    (work / CONFIG_FILE).write_text(config, encoding="utf-8")
    return work


def _max_scores(db_url: str) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {(a.name, nb.name): float(nb.max_score) for a in gb.assignments for nb in a.notebooks}


def scan(submissions: Path, known: dict[str, list[str]], max_scores: dict) -> tuple[list[Row], dict]:
    """Rows for everything that cannot be graded, and {(student, assignment): [notebook ids]} to grade."""
    rows: list[Row] = []
    todo: dict[tuple[str, str], list[str]] = {}
    unexpected = f"unexpected file: submissions are {LAYOUT}"
    for student_dir in sorted(filter(_visible, submissions.iterdir())):
        if not student_dir.is_dir():
            rows.append(Row("", "", student_dir.name, 0.0, None, unexpected))
            continue
        student = student_dir.name
        entries = sorted(filter(_visible, student_dir.iterdir()))
        if not entries:
            rows.append(Row(student, "", "", 0.0, None, "empty submission folder"))
        for assignment_dir in entries:
            if not assignment_dir.is_dir():
                rows.append(Row(student, "", assignment_dir.name, 0.0, None, unexpected))
                continue
            assignment = assignment_dir.name
            files = sorted(p for p in assignment_dir.rglob("*")
                           if p.is_file() and not any(part.startswith(".") for part in p.relative_to(assignment_dir).parts))
            if assignment not in known:
                choices = ", ".join(known) or "none"
                for path in files or [assignment_dir]:
                    name = path.relative_to(assignment_dir).as_posix() if path != assignment_dir else ""
                    rows.append(Row(student, assignment, name, 0.0, None,
                                    f"unknown assignment (known: {choices})"))
                continue
            expected = known[assignment]
            for path in files:
                name = path.relative_to(assignment_dir).as_posix()
                if name == "timestamp.txt":  # written by `nbgrader collect`; used for late penalties
                    continue
                if path.suffix != ".ipynb":
                    rows.append(Row(student, assignment, name, 0.0, None, "not a notebook file (ignored)"))
                    continue
                if path.parent != assignment_dir or path.stem not in expected:
                    rows.append(Row(student, assignment, name, 0.0, None,
                                    "unknown notebook (expected " + ", ".join(f"{e}.ipynb" for e in expected) + ")"))
                    continue
                try:
                    read_notebook(path)
                except CourseError as err:
                    rows.append(Row(student, assignment, name, 0.0, max_scores.get((assignment, path.stem)),
                                    f"invalid notebook: {err}"))
                    continue
                todo.setdefault((student, assignment), []).append(path.stem)
            for missing in expected:
                if not (assignment_dir / f"{missing}.ipynb").is_file():
                    rows.append(Row(student, assignment, f"{missing}.ipynb", 0.0,
                                    max_scores.get((assignment, missing)), "missing notebook"))
    return rows, todo


class _ForkServer:
    """A `python -m seqcourse._nbworker --serve` process that forks one process per submission."""

    def __init__(self, work: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "seqcourse._nbworker", "--serve", str(work)],
                                     cwd=work, env=tool_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.buffer = b""

    def _readline(self, deadline: float) -> str | None:
        """The next protocol line, or None at the deadline or when the server is gone."""
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def run(self, student: str, assignment: str, result: Path, log: Path, wall_timeout: float) -> str:
        """'' when the submission's process finished, else why not."""
        try:
            self.proc.stdin.write(f"{student}\t{assignment}\t{result}\t{log}\n".encode())
            self.proc.stdin.flush()
        except OSError:
            return "grading failed: the fork server is gone"
        deadline = time.monotonic() + wall_timeout
        started = self._readline(time.monotonic() + 120)
        if not started or not started.startswith("started "):
            return "grading failed: the fork server is gone"
        pid = int(started.split()[1])
        done = self._readline(deadline)
        if done is None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._readline(time.monotonic() + 60)  # "done": the server has reaped it
            return f"timeout: grading took longer than {wall_timeout:g} s"
        return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


def _run_worker(work: Path, student: str, assignment: str, wall_timeout: float,
                server: _ForkServer | None = None) -> tuple[dict | None, str]:
    """(results or None, reason) from grading one submission in its own process.

    With a fork server, the process is forked from it (nbgrader already imported);
    without, a fresh interpreter. Either way its process group dies at the time limit.
    """
    result_path = work / "results" / f"{student}__{assignment}.json"
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.unlink(missing_ok=True)
    log_path = result_path.with_suffix(".log")
    if server is not None:
        reason = server.run(student, assignment, result_path, log_path, wall_timeout)
        returncode = "?"
    else:
        reason, returncode = "", None
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "seqcourse._nbworker", str(work), student, assignment,
                                     str(result_path)], cwd=work, env=tool_env(), stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            try:
                returncode = proc.wait(timeout=wall_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                reason = f"timeout: grading took longer than {wall_timeout:g} s"
    if reason:
        return None, reason
    if result_path.exists():
        return json.loads(result_path.read_text()), ""
    tail = log_tail(log_path.read_text(errors="replace") if log_path.exists() else "", 1)
    return None, f"grading failed (exit {returncode}): {tail[:160]}"


def _with_status(page: str, row: Row) -> str:
    """nbgrader's feedback page with the row's status on top (timeouts, limits, broken rules)."""
    banner = (f"<div style='border:1px solid #c90;padding:.5em;margin:.5em'><strong>Grading status:</strong> "
              f"{html.escape(row.status)} (score {fmt_points(row.score)} / {fmt_points(row.max_score) or '?'})</div>")
    match = re.search(r"<body[^>]*>", page)
    return page[:match.end()] + banner + page[match.end():] if match else banner + page


def _note_page(row: Row) -> str:
    title = f"{row.assignment}/{row.notebook}"
    return ("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>Feedback: " + html.escape(title)
            + "</title></head><body>\n<h1>Feedback: " + html.escape(title) + "</h1>\n"
            + f"<p>Score: {fmt_points(row.score)} / {fmt_points(row.max_score) or '?'}</p>\n"
            + "<p>Your notebook could not be graded: <strong>" + html.escape(row.status) + "</strong>.</p>\n"
            + "<p>Run <code>make check NOTEBOOK=...</code> (or Restart &amp; Run All) before you submit, "
            + "and keep the notebook's name and test cells.</p>\n</body></html>\n")


class Journal:
    """OUT/journal.jsonl: one line per graded submission, appended and synced the moment it is known.

    A line holds the submission's key, a digest of its files and its rows; a re-run reuses the
    rows of every submission whose files are unchanged and grades only the rest.
    """

    def __init__(self, path: Path, fresh: bool):
        self.path, self.lock = path, threading.Lock()
        if fresh:
            path.unlink(missing_ok=True)
        self.done: dict[tuple[str, str], tuple[str, list[Row]]] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    rows = [Row(*r) for r in entry["rows"]]
                    self.done[tuple(entry["key"])] = (entry["digest"], rows)
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a kill: that submission is graded again

    def rows(self, key: tuple[str, str], digest: str) -> list[Row] | None:
        entry = self.done.get(key)
        return entry[1] if entry and entry[0] == digest else None

    def record(self, key: tuple[str, str], digest: str, rows: list[Row]) -> None:
        line = json.dumps({"key": list(key), "digest": digest, "rows": [astuple(r) for r in rows]}) + "\n"
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


def _digest(folder: Path, names: list[str]) -> str:
    h = hashlib.sha256()
    for name in sorted(names) + ["timestamp"]:
        path = folder / (f"{name}.ipynb" if name != "timestamp" else "timestamp.txt")
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
    return h.hexdigest()


def _write_csv(path: Path, rows: list[Row]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(row.csv() for row in rows)
    os.replace(tmp, path)  # a reader never sees half a file


def grade(submissions: Path, out: Path, *, root: Path | None = None, source: Path | None = None,
          db_url: str | None = None, cell_timeout: float | None = None,
          wall_timeout: float = DEFAULT_WALL_TIMEOUT, jobs: int = 1, sandbox: bool = True,
          fresh: bool = False, echo=print) -> list[Row]:
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if not submissions.is_dir():
        raise CourseError(f"{submissions} is not a folder of submissions ({LAYOUT})")
    if sandbox and (problem := sandbox_problem()):
        raise CourseError(problem)
    root = root or course_root()
    source = (source or root / SOURCE_DIR).resolve()
    known = assignments(source)
    out.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    work = _prepare_work(out, source, root, db_url, cell_timeout, sandbox, fresh)
    journal = Journal(out / JOURNAL, fresh)

    if known:  # registers assignments and their test cells in the gradebook, writes work/exercises
        result = run_nbgrader(["generate_assignment", "*", "--force"], cwd=work)
        if result.returncode != 0 or any(not step_folder(work, "release", ".", a).is_dir() for a in known):
            raise CourseError("nbgrader generate_assignment failed in " + str(work) + ":\n"
                              + log_tail(result.stderr + result.stdout, 25))
    max_scores = _max_scores(db_url) if known else {}
    rows, todo = scan(submissions, known, max_scores)

    feedback = out / "feedback"
    if fresh:
        shutil.rmtree(feedback, ignore_errors=True)
    digests = {key: _digest(submissions / key[0] / key[1], names) for key, names in todo.items()}
    for key in list(todo):
        done = journal.rows(key, digests[key])
        if done is not None:
            rows.extend(done)
            del todo[key]

    def grade_one(key: tuple[str, str]) -> list[Row]:
        student, assignment = key
        for step in SUBMISSION_STEPS:
            shutil.rmtree(step_folder(work, step, student, assignment), ignore_errors=True)
        shutil.rmtree(feedback / student / assignment, ignore_errors=True)
        target = step_folder(work, "submitted", student, assignment)
        target.mkdir(parents=True)
        for name in todo[key]:
            shutil.copy2(submissions / student / assignment / f"{name}.ipynb", target / f"{name}.ipynb")
        if (submissions / student / assignment / "timestamp.txt").is_file():
            shutil.copy2(submissions / student / assignment / "timestamp.txt", target / "timestamp.txt")
        started = time.monotonic()
        server = servers.get() if servers else None
        try:
            if server is not None and not server.alive():
                server = _ForkServer(work)
            results, reason = _run_worker(work, student, assignment, wall_timeout, server)
            if "database is locked" in reason + json.dumps(results):  # lost a race for SQLite (--jobs > 1)
                results, reason = _run_worker(work, student, assignment, wall_timeout, server)
        finally:
            if servers:
                servers.put(server)
        graded = []
        for name in todo[key]:
            got = (results or {}).get(name)
            if got is None:
                row = Row(student, assignment, f"{name}.ipynb", 0.0, max_scores.get((assignment, name)),
                          reason or "not graded")
            else:
                row = Row(student, assignment, f"{name}.ipynb", got["score"], got["max_score"], got["status"])
            if not sandbox and "without a sandbox" not in row.status:
                row.status += "; graded without a sandbox (--no-sandbox)"
            graded.append(row)
            page = step_folder(work, "feedback", student, assignment) / f"{name}.html"
            dest = feedback / student / assignment / f"{name}.html"
            dest.parent.mkdir(parents=True, exist_ok=True)
            if page.exists() and got is not None and page.stat().st_size <= FEEDBACK_LIMIT:
                dest.write_text(_with_status(page.read_text(encoding="utf-8", errors="replace"), row), encoding="utf-8")
            else:
                if page.exists() and got is not None:
                    row.status += f"; feedback page over {FEEDBACK_LIMIT >> 20} MB replaced by a summary"
                dest.write_text(_note_page(row), encoding="utf-8")
        journal.record(key, digests[key], graded)
        echo(f"graded {student}/{assignment} in {time.monotonic() - started:.1f} s")
        return graded

    # Each submission is its own process; --jobs > 1 runs several at once (their kernels
    # compete for CPU, so keep it at most the number of cores).
    servers: queue.Queue | None = None
    if hasattr(os, "fork") and todo:
        servers = queue.Queue()
        for _ in range(max(1, jobs)):
            servers.put(_ForkServer(work))
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for graded in pool.map(grade_one, sorted(todo)):
                rows.extend(graded)
    finally:
        while servers is not None and not servers.empty():
            servers.get().close()

    # A student whose only problem is an unreadable file still hears why.
    for row in rows:
        if row.student_id and row.assignment in known and row.notebook.endswith(".ipynb") \
                and not row.status.startswith(("ok", "unknown")) and "/" not in row.notebook:
            dest = feedback / row.student_id / row.assignment / f"{row.notebook[:-len('.ipynb')]}.html"
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(_note_page(row), encoding="utf-8")

    rows.sort(key=lambda r: (r.student_id, r.assignment, r.notebook))
    _write_csv(out / "grades.csv", rows)
    return rows


def run(args: argparse.Namespace) -> int:
    try:
        rows = grade(Path(args.submissions), Path(args.out), db_url=args.db, cell_timeout=args.timeout,
                     wall_timeout=args.wall_timeout, jobs=args.jobs, sandbox=not args.no_sandbox,
                     fresh=args.fresh,
                     root=Path(args.root).resolve() if args.root else None,
                     source=Path(args.solutions).resolve() if args.solutions else None)
    except CourseError as err:
        print(f"seqcourse grade: {err}", file=sys.stderr)
        return 2
    width = max([len(f"{r.student_id}/{r.assignment}/{r.notebook}") for r in rows] + [10])
    for r in rows:
        score = f"{fmt_points(r.score)}/{fmt_points(r.max_score) or '?'}"
        print(f"{r.student_id}/{r.assignment}/{r.notebook:<{max(0, width - len(r.student_id) - len(r.assignment) - 2)}}"
              f"  {score:>9}  {r.status}")
    print(f"wrote {Path(args.out) / 'grades.csv'} ({len(rows)} rows) and feedback in {Path(args.out) / 'feedback'}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("grade", help="autograde DIR/<student>/<assignment>/<notebook>.ipynb",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", metavar="DIR", help=f"folder of submissions: DIR/{LAYOUT}")
    parser.add_argument("--out", default="grading", help="output folder (default: grading)")
    parser.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite:///OUT/gradebook.db)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="per-cell time limit in seconds (default: c.Execute.timeout in nbgrader_config.py)")
    parser.add_argument("--wall-timeout", type=float, default=DEFAULT_WALL_TIMEOUT,
                        help=f"limit in seconds for grading one submission (default: {DEFAULT_WALL_TIMEOUT:g})")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at once (default: 1; at most the number of CPU cores)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run answers without the bubblewrap sandbox (only where none can be made; "
                             "every status then says so)")
    parser.add_argument("--fresh", action="store_true",
                        help="grade everything again (default: resume, grading only what the journal lacks)")
    parser.add_argument("--solutions", help="folder of source notebooks (default: the course's solutions/)")
    parser.add_argument("--root", help="course root with nbgrader_config.py (default: found from the current directory)")
    parser.set_defaults(run=run)
