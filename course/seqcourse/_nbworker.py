"""Grade one submission (one student, one assignment) in its own process.

    python -m seqcourse._nbworker WORK STUDENT ASSIGNMENT RESULT.json
    python -m seqcourse._nbworker --serve WORK          (a fork server; see serve())
    python -m seqcourse._nbworker --nbgrader ARGS...    (nbgrader ARGS under the gradebook's lock)

WORK is an nbgrader course root prepared by `seqcourse grade` (nbgrader_config.py,
solutions/, exercises/, submitted/STUDENT/ASSIGNMENT/). Runs nbgrader autograde and
generate_feedback in-process, then writes RESULT.json: {notebook: {score, max_score,
status}} for every notebook of the assignment that was submitted. A crash of this
process (or its kernel) never takes other submissions down: the caller gives every
notebook a row whatever happens here.
"""
from __future__ import annotations

import io
import json
import logging
import os
import sys
import traceback
from pathlib import Path

import nbformat

from seqcourse._nbcourse import first_line, grade_id, nbgrader_meta, step_folder
from seqcourse.gradebook import serialize_gradebooks

def _load(work: Path):
    from traitlets.config.loader import PyFileConfigLoader
    from nbgrader.coursedir import CourseDirectory

    config = PyFileConfigLoader("nbgrader_config.py", path=str(work)).load_config()
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(work)
    return config, coursedir


def _run_converter(cls, config, coursedir, log: logging.Logger, **attrs) -> bool:
    from nbgrader.converters.base import NbGraderException

    converter = cls(coursedir=coursedir, config=config, log=log)
    for name, value in attrs.items():
        setattr(converter, name, value)
    try:
        converter.start()
    except NbGraderException:
        return False
    except Exception:  # nbgrader lets some failures escape; the log holds the traceback
        log.exception("nbgrader failed")
        return False
    return True


def edited_locked_cells(submitted: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[str]:
    """Read-only cells whose source the student changed (nbgrader restores them when grading)."""
    original = {grade_id(c): c.source.strip() for c in released.cells if nbgrader_meta(c).get("locked")}
    return [grade_id(c) for c in submitted.cells
            if grade_id(c) in original and c.source.strip() != original[grade_id(c)]]


def unanswered_cells(submitted: nbformat.NotebookNode, released: nbformat.NotebookNode) -> list[str]:
    """Answer cells the student left exactly as released."""
    original = {grade_id(c): c.source.strip() for c in released.cells if nbgrader_meta(c).get("solution")}
    return [grade_id(c) for c in submitted.cells
            if grade_id(c) in original and c.source.strip() == original[grade_id(c)]]


def failure_reason(log_text: str) -> str:
    if "DeadKernelError" in log_text or "Kernel died" in log_text:
        return "kernel died"
    if "database is locked" in log_text:
        return "autograde failed: database is locked"
    if "kernel became unresponsive" in log_text:
        return "timeout: the kernel stopped responding"
    errors = [line for line in log_text.splitlines() if "ERROR" in line and "There was an error" not in line
              and "Please see" not in line]
    return "autograde failed: " + (first_line(errors[-1].split("]", 1)[-1], 160) if errors else "see the log")


def grade_submission(work: Path, student: str, assignment: str) -> dict:
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.converters import Autograde, GenerateFeedback

    from seqcourse._nbexecute import OUTCOMES

    config, coursedir = _load(work)
    serialize_gradebooks(coursedir.db_url)  # other graders write the same gradebook: take turns
    coursedir.assignment_id = assignment
    coursedir.student_id = student
    buffer = io.StringIO()
    log = logging.getLogger(f"seqcourse.worker.{student}.{assignment}")
    log.setLevel(logging.INFO)
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    log.addHandler(handler)
    echo = logging.StreamHandler(sys.stderr)
    echo.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    log.addHandler(echo)

    _run_converter(Autograde, config, coursedir, log, force=True, create_student=True)
    autograded_dir = step_folder(work, "autograded", student, assignment)
    if any(autograded_dir.glob("*.ipynb")):
        _run_converter(GenerateFeedback, config, coursedir, log, force=True)
    log_text = buffer.getvalue()

    results = {}
    submitted_dir = step_folder(work, "submitted", student, assignment)
    with Gradebook(coursedir.db_url) as gb:
        for source_nb in gb.find_assignment(assignment).notebooks:
            name = source_nb.name
            if not (submitted_dir / f"{name}.ipynb").exists():
                continue
            max_score = float(source_nb.max_score)
            autograded_path = autograded_dir / f"{name}.ipynb"
            if not autograded_path.exists():
                results[name] = {"score": 0.0, "max_score": max_score, "status": failure_reason(log_text)}
                continue
            autograded = nbformat.read(autograded_path, as_version=4)
            present = {grade_id(c) for c in autograded.cells if nbgrader_meta(c).get("grade")}
            try:
                grades = gb.find_submission_notebook(name, assignment, student).grades
            except MissingEntry:
                grades = []
            score, pending, deleted_tests, deleted_answers = 0.0, 0.0, [], []
            for grade in grades:
                if grade.name not in present:
                    try:
                        gb.find_solution_cell(grade.name, name, assignment)
                        deleted_answers.append(grade.name)
                    except MissingEntry:
                        deleted_tests.append(grade.name)
                    continue
                score += float(grade.score or 0.0)
                if grade.needs_manual_grade and grade.manual_score is None:
                    pending += float(grade.max_score)
            outcome = OUTCOMES.get((student, assignment, name))
            if outcome is None:
                results[name] = {"score": 0.0, "max_score": max_score, "status": failure_reason(log_text)}
                continue
            problems = list(outcome.problems)
            released_path = step_folder(work, "release", ".", assignment) / f"{name}.ipynb"
            unanswered = []
            if released_path.exists():
                submitted = nbformat.read(submitted_dir / f"{name}.ipynb", as_version=4)
                released = nbformat.read(released_path, as_version=4)
                edited = edited_locked_cells(submitted, released)
                if edited:
                    problems.append("edited locked cells restored: " + ", ".join(sorted(edited)))
                unanswered = unanswered_cells(submitted, released)
            if deleted_tests:
                problems.append("deleted test cells: " + ", ".join(sorted(deleted_tests)))
            if deleted_answers:
                problems.append("deleted answer cells: " + ", ".join(sorted(deleted_answers)))
            status = problems or ["ok"]
            if not outcome.sandboxed:
                status.append("graded without a sandbox (--no-sandbox)")
            if unanswered:
                status.append("unanswered: " + ", ".join(sorted(unanswered)))
            if pending:
                status.append(f"{pending:g} point{'' if pending == 1 else 's'} "
                              f"await{'s' if pending == 1 else ''} manual grading")
            results[name] = {"score": score, "max_score": max_score, "status": "; ".join(status)}
    return results


def grade_to_file(work: Path, student: str, assignment: str, result_path: str) -> None:
    results = grade_submission(Path(work), student, assignment)
    Path(result_path).write_text(json.dumps(results, indent=1))


def serve(work: Path) -> int:
    """Fork server: import nbgrader once, then fork one process per submission.

    Protocol on stdin/stdout, one line each: the caller sends
    "STUDENT<TAB>ASSIGNMENT<TAB>RESULT.json<TAB>LOG", this process answers "started PID"
    and, once that child has exited, "done PID EXITCODE". Each child is its own session
    (process group PID, which the caller kills at its time limit) and never returns here.
    Importing nbgrader costs more CPU than grading a small notebook; forking skips that.
    """
    import nbclient  # noqa: F401  (preloaded for the children)
    import nbconvert.exporters  # noqa: F401
    from nbgrader import api, converters  # noqa: F401
    from seqcourse import _nbexecute  # noqa: F401
    try:  # the tests of every real assignment import torch: once here, not once per submission
        import torch  # noqa: F401
    except ImportError:
        pass

    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)  # nothing but the protocol may reach the caller's pipe
    for line in sys.stdin:
        student, assignment, result_path, log_path = line.rstrip("\n").split("\t")
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setsid()
                log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.dup2(devnull, 0)
                protocol.close()
                grade_to_file(work, student, assignment, result_path)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        protocol.write(f"started {pid}\n")
        _, status = os.waitpid(pid, 0)
        protocol.write(f"done {pid} {os.waitstatus_to_exitcode(status)}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = argv or sys.argv[1:]
    if args[0] == "--nbgrader":  # an nbgrader command (generate_assignment) that writes the shared gradebook
        serialize_gradebooks(_load(Path.cwd())[1].db_url)
        from nbgrader.apps.nbgraderapp import main as nbgrader_main

        sys.argv = ["nbgrader", *args[1:]]
        nbgrader_main()
        return 0
    if args[0] == "--serve":
        return serve(Path(args[1]))
    work, student, assignment, result_path = args[:4]
    grade_to_file(Path(work), student, assignment, result_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
