"""`seqcourse release`: regenerate exercises/ from solutions/ with nbgrader.

exercises/ holds exactly what `nbgrader generate_assignment --force` writes for every
assignment in solutions/ (folders of deleted assignments are removed), so it can be
checked for drift (tests/test_course_release.py) and never needs hand edits.

Solution notebooks must be committed without outputs: an output can show a solution's
result or a hidden test's message, and the tooling would otherwise have to rewrite the
instructor's files. release refuses such notebooks and prints the command that clears
them, instead of stripping them silently.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from seqcourse._nbcourse import (RELEASE_DIR, SOURCE_DIR, CourseError, assignments, course_root, has_outputs,
                                 log_tail, read_notebook, run_nbgrader)


def notebooks_with_outputs(source: Path) -> list[Path]:
    found = []
    for assignment, notebooks in assignments(source).items():
        for name in notebooks:
            path = source / assignment / f"{name}.ipynb"
            try:
                nb = read_notebook(path)
            except CourseError as err:
                raise CourseError(f"{path}: {err}") from None
            if has_outputs(nb):
                found.append(path)
    return found


def generate(source: Path, dest: Path, root: Path) -> list[str]:
    """Run nbgrader generate_assignment for every assignment in `source`, writing to `dest`.

    Uses root's nbgrader_config.py; no gradebook is touched (--no-db). Returns the
    assignments generated.
    """
    names = list(assignments(source))
    if not names:
        return []
    result = run_nbgrader(["generate_assignment", "*", "--force", "--no-db",
                           f"--CourseDirectory.root={root}",
                           f"--CourseDirectory.source_directory={source.resolve()}",
                           f"--CourseDirectory.release_directory={dest.resolve()}"], cwd=root)
    missing = [a for a in names if not (dest / a).is_dir()]
    if result.returncode != 0 or missing or "ERROR" in result.stderr:
        raise CourseError("nbgrader generate_assignment failed"
                          + (f" for {', '.join(missing)}" if missing else "")
                          + ":\n" + log_tail(result.stderr + result.stdout, 25))
    return names


def release(root: Path, source: Path | None = None, exercises: Path | None = None) -> list[str]:
    source = source or root / SOURCE_DIR
    exercises = exercises or root / RELEASE_DIR
    dirty = notebooks_with_outputs(source)
    if dirty:
        listing = " ".join(str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in dirty)
        raise CourseError("solution notebooks must be committed without outputs; clear them with\n"
                          f"  jupyter nbconvert --clear-output --inplace {listing}")
    # Generate into a scratch folder first, so a failure leaves exercises/ as it was.
    with tempfile.TemporaryDirectory(prefix="seqcourse-release-") as scratch:
        names = generate(source, Path(scratch), root)
        exercises.mkdir(parents=True, exist_ok=True)
        for stale in sorted(p for p in exercises.iterdir() if p.is_dir() and p.name not in names):
            if not stale.name.startswith("."):
                print(f"removing {stale} (no longer in {source.name}/)")
                shutil.rmtree(stale)
        for name in names:
            shutil.rmtree(exercises / name, ignore_errors=True)
            shutil.copytree(Path(scratch) / name, exercises / name)
    return names


def run(args: argparse.Namespace) -> int:
    try:
        root = Path(args.root).resolve() if args.root else None
        root = root or course_root()
        names = release(root)
    except CourseError as err:
        print(f"seqcourse release: {err}", file=sys.stderr)
        return 1
    if not names:
        print(f"no assignments under {root / SOURCE_DIR}")
    for name in names:
        print(f"released {SOURCE_DIR}/{name} -> {RELEASE_DIR}/{name}")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("release", help="regenerate exercises/ from solutions/ (nbgrader)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", help="course root (default: found from the current directory)")
    parser.set_defaults(run=run)
