"""`seqcourse grade DIR`: autograde every submission in DIR/<student_id>/<assignment>/<notebook>.ipynb.

Every submission (one student's assignment) is graded in its own process with a wall-clock
limit, so a crashing kernel, an endless loop or a broken file costs only that submission;
--jobs N grades N at once (default: one per core, as memory allows). Every file found gets a
row in OUT/grades.csv (student_id, assignment, notebook, score, max_score, status) -- nothing
is skipped silently (dot-files excepted) -- and every graded notebook gets feedback in
OUT/feedback/<student>/<assignment>/<notebook>.html, with hidden tests removed. A notebook
that could not be graded gets a short page that says why. OUT/similarity.csv and
OUT/index.html list answers near-identical to the published solution or to each other.

score counts the points the autograder gave (plus manual grades already in the gradebook);
max_score counts all points, manually graded ones included; status says "ok", or what went
wrong, and how many points await manual grading (e.g. with `nbgrader formgrader`).

The gradebook is OUT/gradebook.db (SQLite) unless --db gives a SQLAlchemy URL (PostgreSQL for
many machines). Each submission's rows, feedback and answers are stored in it the moment they
are known (seqcourse.gradebook); running the same command again grades only what is missing or
whose files changed (--fresh starts over). --shard K/N grades only shard K of N (a hash of
student and assignment decides); run `seqcourse report --db URL` once all shards are done.
Work files (an nbgrader course root) go to OUT/work; sources come from the course's solutions/.

Answers run in a bubblewrap sandbox, tests in the grader's process (seqcourse.harness, via
nbgrader_config.py); without bubblewrap the command stops unless --no-sandbox is given, and
then every status says so.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from seqcourse._nbcourse import (CONFIG_FILE, RELEASE_DIR, SOURCE_DIR, CourseError, assignments, course_root,
                                 fmt_points, grade_id, log_tail, nbgrader_meta, read_notebook, step_folder, tool_env)
from seqcourse.gradebook import ANSWER_LIMIT, SOLUTION_ANSWERS, Shard, Store, course_checksum, default_jobs, describe
from seqcourse.harness import sandbox_problem
from seqcourse.report import FEEDBACK_LIMIT, Row, note_page, report, with_status

DEFAULT_WALL_TIMEOUT = 900.0
SUBMISSION_STEPS = ("submitted", "autograded", "feedback")  # nbgrader's per-submission folders
LAYOUT = "<student_id>/<assignment>/<notebook>.ipynb"




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
        "# nbgrader creates no course row for the empty default id, which PostgreSQL's foreign keys reject",
        "if not c.CourseDirectory.get('course_id'):",
        "    c.CourseDirectory.course_id = 'default_course'",
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


def _digest(folder: Path, names: list[str], course: str) -> str:
    """What a submission's grade depends on: its files and the course version graded against."""
    h = hashlib.sha256(course.encode() + b"\0")
    for name in sorted(names) + ["timestamp"]:
        path = folder / (f"{name}.ipynb" if name != "timestamp" else "timestamp.txt")
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-") + b"\0")
    return h.hexdigest()


def _answer_cells(path: Path) -> dict[str, str]:
    """{answer cell id: source} of a notebook (for the copy report), each capped at ANSWER_LIMIT."""
    try:
        nb = read_notebook(path)
    except CourseError:
        return {}
    return {grade_id(c): c.source[:ANSWER_LIMIT] for c in nb.cells
            if nbgrader_meta(c).get("solution") and c.cell_type == "code" and grade_id(c)}


def _published_answers(work: Path, known: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """{"assignment/notebook/cell": {"solution": source, "released": source}} for the copy report."""
    published = {}
    for assignment, names in known.items():
        for name in names:
            solution = _answer_cells(work / SOURCE_DIR / assignment / f"{name}.ipynb")
            released = _answer_cells(step_folder(work, "release", ".", assignment) / f"{name}.ipynb")
            for cell, source in solution.items():
                published[f"{assignment}/{name}/{cell}"] = {"solution": source, "released": released.get(cell, "")}
    return published


def _generate(work: Path) -> subprocess.CompletedProcess:
    """nbgrader generate_assignment for every assignment, under the gradebook's lock (seqcourse._nbworker)."""
    return subprocess.run([sys.executable, "-m", "seqcourse._nbworker", "--nbgrader", "generate_assignment", "*",
                           "--force"], cwd=work, env=tool_env(), capture_output=True, text=True)


def grade(submissions: Path, out: Path, *, root: Path | None = None, source: Path | None = None,
          db_url: str | None = None, cell_timeout: float | None = None,
          wall_timeout: float = DEFAULT_WALL_TIMEOUT, jobs: int | None = None, sandbox: bool = True,
          fresh: bool = False, shard: Shard = Shard(), echo=print) -> list[Row]:
    """Grade shard `shard` of submissions into the gradebook; returns the rows of that shard.

    Unsharded (1/1), it also writes the class's grades.csv, feedback and copy report into out
    (seqcourse.report); a shard leaves that to `seqcourse report` after the last shard.
    """
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if not submissions.is_dir():
        raise CourseError(f"{submissions} is not a folder of submissions ({LAYOUT})")
    if sandbox and (problem := sandbox_problem()):
        raise CourseError(problem)
    root = root or course_root()
    source = (source or root / SOURCE_DIR).resolve()
    known = assignments(source)
    jobs = max(1, jobs or default_jobs())
    out.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    # Everything that can stop the run is checked before anything is graded or written.
    store = Store(db_url)
    checksum = course_checksum(source)
    store.check_course(checksum, replace=fresh)
    try:
        return _grade(store, submissions, out, root, source, known, db_url, cell_timeout, wall_timeout, jobs,
                      sandbox, fresh, shard, checksum, echo)
    finally:
        store.close()


def _grade(store: Store, submissions: Path, out: Path, root: Path, source: Path, known: dict, db_url: str,
           cell_timeout, wall_timeout: float, jobs: int, sandbox: bool, fresh: bool, shard: Shard,
           checksum: str, echo) -> list[Row]:
    work = _prepare_work(out, source, root, db_url, cell_timeout, sandbox, fresh)
    if known:  # registers assignments and their test cells in the gradebook, writes work/exercises
        result = _generate(work)
        if result.returncode != 0 or any(not step_folder(work, "release", ".", a).is_dir() for a in known):
            raise CourseError("nbgrader generate_assignment failed in " + str(work) + ":\n"
                              + log_tail(result.stderr + result.stdout, 25))
        store.set_course_value(SOLUTION_ANSWERS, json.dumps(_published_answers(work, known), sort_keys=True))
    max_scores = _max_scores(db_url) if known else {}
    scanned, todo = scan(submissions, known, max_scores)
    # This shard's share: rows that need no grading by their (student, assignment), like submissions.
    scanned = [r for r in scanned if shard.owns(r.student_id, r.assignment)]
    todo = {key: names for key, names in todo.items() if shard.owns(*key)}
    if fresh:
        store.forget(shard.owns)
    by_key: dict[tuple[str, str], list[Row]] = {}
    for row in scanned:
        by_key.setdefault((row.student_id, row.assignment), []).append(row)
    # A submission is graded again when its notebooks, its other files' rows or the course change.
    digests = {key: _digest(submissions / key[0] / key[1], names,
                            checksum + json.dumps([r.csv() for r in by_key.get(key, [])]))
               for key, names in todo.items()}
    stored = store.digests()
    for key in set(by_key) - set(todo):
        store.record(key, "", by_key[key])
    todo = {key: names for key, names in todo.items() if stored.get(key) != digests[key]}
    store.prune(set(by_key) | set(digests), shard.owns)

    def grade_one(key: tuple[str, str]) -> None:
        student, assignment = key
        for step in SUBMISSION_STEPS:
            shutil.rmtree(step_folder(work, step, student, assignment), ignore_errors=True)
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
        finally:
            if servers:
                servers.put(server)
        graded, pages, answers = list(by_key.get(key, [])), {}, {}
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
            if page.exists() and got is not None and page.stat().st_size <= FEEDBACK_LIMIT:
                pages[row.notebook] = with_status(page.read_text(encoding="utf-8", errors="replace"), row)
            else:
                if page.exists() and got is not None:
                    row.status += f"; feedback page over {FEEDBACK_LIMIT >> 20} MB replaced by a summary"
                pages[row.notebook] = note_page(row)
            answers[row.notebook] = _answer_cells(target / f"{name}.ipynb")
        store.record(key, digests[key], graded, pages, answers)
        echo(f"graded {student}/{assignment} in {time.monotonic() - started:.1f} s")

    # Each submission is its own process, forked from a server that has nbgrader and torch
    # imported; the threads only wait for them. Their gradebook writes take turns under the
    # gradebook's lock (seqcourse.gradebook), so no row is lost to a race.
    servers: queue.Queue | None = None
    if hasattr(os, "fork") and todo:
        servers = queue.Queue()
        for _ in range(min(jobs, len(todo))):
            servers.put(_ForkServer(work))
    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(grade_one, sorted(todo)))
    finally:
        while servers is not None and not servers.empty():
            servers.get().close()

    if shard.n == 1:
        return report(store, out)
    return [Row(*r.row) for r in store.results() if shard.owns(*r.row[:2])]


def run(args: argparse.Namespace) -> int:
    try:
        shard = Shard.parse(args.shard) if args.shard else Shard()
        rows = grade(Path(args.submissions), Path(args.out), db_url=args.db, cell_timeout=args.timeout,
                     wall_timeout=args.wall_timeout, jobs=args.jobs, sandbox=not args.no_sandbox,
                     fresh=args.fresh, shard=shard,
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
    out = Path(args.out)
    if shard.n == 1:
        print(f"wrote {out / 'grades.csv'} ({len(rows)} rows), feedback in {out / 'feedback'}, "
              f"the copy report in {out / 'similarity.csv'} and {out / 'index.html'}")
    else:
        db = describe(args.db) if args.db else f"sqlite:///{out.resolve() / 'gradebook.db'}"
        print(f"shard {shard}: {len(rows)} rows in the gradebook {db}; when every shard is done, write the "
              f"class's grades.csv and feedback with:  seqcourse report --db URL --out DIR")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("grade", help="autograde DIR/<student>/<assignment>/<notebook>.ipynb",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", metavar="DIR", help=f"folder of submissions: DIR/{LAYOUT}")
    parser.add_argument("--out", default="grading", help="output folder (default: grading)")
    parser.add_argument("--db", help="gradebook SQLAlchemy URL (default: sqlite:///OUT/gradebook.db); "
                                     "postgresql://user:password@host:5432/db for shards on many machines")
    parser.add_argument("--shard", metavar="K/N",
                        help="grade only shard K of N (1 <= K <= N) into --db; then `seqcourse report --db URL`")
    parser.add_argument("--timeout", type=float, default=None,
                        help="per-cell time limit in seconds (default: c.Execute.timeout in nbgrader_config.py)")
    parser.add_argument("--wall-timeout", type=float, default=DEFAULT_WALL_TIMEOUT,
                        help=f"limit in seconds for grading one submission (default: {DEFAULT_WALL_TIMEOUT:g})")
    parser.add_argument("--jobs", type=int, default=None,
                        help=f"submissions graded at once (default: one per CPU core, as memory allows: "
                             f"{default_jobs()} here)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run answers without the bubblewrap sandbox (only where none can be made; "
                             "every status then says so)")
    parser.add_argument("--fresh", action="store_true",
                        help="grade everything (of this shard) again, also after solutions/ changed "
                             "(default: resume, grading only what the gradebook lacks)")
    parser.add_argument("--solutions", help="folder of source notebooks (default: the course's solutions/)")
    parser.add_argument("--root", help="course root with nbgrader_config.py (default: found from the current directory)")
    parser.set_defaults(run=run)
