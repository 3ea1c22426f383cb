"""Shared helpers for the nbgrader tooling: where the course is, its assignments, cell roles.

Course layout (nbgrader_config.py at the root): solutions/<assignment>/<notebook>.ipynb are
the instructor notebooks (nbgrader "source"), exercises/<assignment>/ the generated student
notebooks.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

SOURCE_DIR = "solutions"
RELEASE_DIR = "exercises"
CONFIG_FILE = "nbgrader_config.py"
HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
SOLUTION_BEGIN = "BEGIN SOLUTION"


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class CourseError(Exception):
    """A problem the user can fix; the CLI prints the message without a traceback (every verb)."""


def strip_ansi(text: str) -> str:
    """Text without terminal colour codes (IPython tracebacks, Sphinx logs)."""
    return ANSI.sub("", text)


def course_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` (default: cwd) holding nbgrader_config.py
    and solutions/; failing that, the repository this package was installed from."""
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file() and (candidate / SOURCE_DIR).is_dir():
            return candidate
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / CONFIG_FILE).is_file():
        return checkout
    raise CourseError(f"cannot find the course root (a directory with {CONFIG_FILE} and {SOURCE_DIR}/); "
                      "run this command inside the course repository")


def step_folder(root: Path, step: str, student: str, assignment: str) -> Path:
    """nbgrader's folder for one step ("source", "release", "submitted", "autograded", "feedback")
    of one student's assignment (student "." for source and release) under the course root: the
    layout is nbgrader's CourseDirectory.format_path, never joined by hand."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(root=str(root), source_directory=SOURCE_DIR, release_directory=RELEASE_DIR)
    return Path(os.path.normpath(coursedir.format_path(getattr(coursedir, f"{step}_directory"), student, assignment)))


def assignments(source: Path) -> dict[str, list[str]]:
    """{assignment: [notebook names without .ipynb]} for every solutions/<a>/<nb>.ipynb."""
    found: dict[str, list[str]] = {}
    if not source.is_dir():
        return found
    for folder in sorted(source.iterdir()):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        notebooks = sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith("."))
        if notebooks:
            found[folder.name] = notebooks
    return found


def tool_env() -> dict[str, str]:
    """Environment for nbgrader subprocesses: nbgrader runs `alembic` (database migrations)
    by name, so the directory of this interpreter's scripts must come first on PATH."""
    env = dict(os.environ)
    scripts = str(Path(sys.executable).parent)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_nbgrader(args: list[str], cwd: Path, timeout: float | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=tool_env(),
                          capture_output=True, text=True, timeout=timeout)


def log_tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --- reading notebooks -----------------------------------------------------------------

def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and validate a notebook; CourseError with a one-line reason otherwise."""
    try:
        raw = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CourseError("not a text file (is it really a .ipynb?)") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise CourseError(f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise CourseError("valid JSON but not a Jupyter notebook (no 'cells'/'nbformat')")
    try:
        nb = nbformat.reads(raw, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several types for malformed notebooks
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CourseError(f"not a valid Jupyter notebook ({message[:200]})") from None
    return nb


# --- nbgrader cell roles (metadata written by the nbgrader create-assignment toolbar) ---

def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def is_autograded_test(cell) -> bool:
    """A locked code cell worth points whose grade comes from running it."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_manually_graded(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and bool(meta.get("solution")) or bool(meta.get("task"))


def points(cell) -> float:
    return float(nbgrader_meta(cell).get("points", 0) or 0)


def has_outputs(nb) -> bool:
    return any(cell.get("outputs") or cell.get("execution_count") for cell in nb.cells if cell.cell_type == "code")


def first_line(text: str, limit: int = 200) -> str:
    """The first non-blank line of `text`, cut to `limit` characters."""
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def fmt_points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
