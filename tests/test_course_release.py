"""exercises/ is exactly what nbgrader generates from solutions/, solutions carry no
outputs, and no released notebook carries solution code or hidden tests.

That the released notebooks are really unsolved when *executed* (nbgrader validate
--invert semantics: no test passes) is checked by test_course_roundtrip.py, where the
untouched exercise must score zero.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from seqcourse import cli, release
from seqcourse._nbcourse import CourseError, nbgrader_meta
from submissions import fixture
from submissions import notebooks as nbs
from submissions.runs import REPO, all_notebooks, course, real_course

NOTEBOOKS = all_notebooks()
IDS = [f"{c}:{a}/{n}" for c, a, n in NOTEBOOKS]
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
            and ".ipynb_checkpoints" not in p.parts}


def _comparable(path: Path):
    nb = nbformat.read(path, as_version=4)
    return nb.metadata, [(c.cell_type, c.source, c.metadata) for c in nb.cells]


def test_exercises_match_what_nbgrader_generates(tmp_path):
    crs = real_course()
    release.generate(crs.source, tmp_path, REPO)
    fix = "exercises/ is out of date with solutions/: run `make release` and commit exercises/"
    generated, committed = _files(tmp_path), _files(crs.released)
    assert generated == committed, f"{fix} (files differ: {sorted(generated ^ committed)})"
    for name in sorted(generated):
        if name.endswith(".ipynb"):
            assert _comparable(tmp_path / name) == _comparable(crs.released / name), f"{fix} ({name} differs)"
        else:
            assert (tmp_path / name).read_bytes() == (crs.released / name).read_bytes(), f"{fix} ({name} differs)"


def test_release_regenerates_and_removes_stale_assignments(tmp_path):
    root = tmp_path / "course"
    fixture.make_course(root)
    (root / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text())
    stale = root / "exercises" / "old_assignment"
    stale.mkdir(parents=True)
    (stale / "old.ipynb").write_text("{}")
    edited = root / "exercises" / fixture.ASSIGNMENT / "scratch.txt"
    edited.parent.mkdir(parents=True)
    edited.write_text("left over")
    assert cli.main(["release", "--root", str(root)]) == 0
    assert _files(root / "exercises") == {f"{fixture.ASSIGNMENT}/{fixture.NOTEBOOK}.ipynb"}


def test_release_refuses_solutions_with_outputs(tmp_path):
    root = tmp_path / "course"
    source = fixture.make_course(root)
    path = source / fixture.ASSIGNMENT / f"{fixture.NOTEBOOK}.ipynb"
    nb = nbs.read(path)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="3\n")]
    nb.cells[1].execution_count = 1
    nbs.write(nb, path)
    with pytest.raises(CourseError, match="(?s)without outputs.*nbconvert --clear-output"):
        release.release(root)
    assert not (root / "exercises").exists()


@pytest.mark.parametrize("assignment, notebook", real_course().notebooks())
def test_solutions_have_no_outputs(assignment, notebook):
    nb = real_course().source_nb(assignment, notebook)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"solutions/{assignment}/{notebook}.ipynb has outputs in cells {dirty}: clear them"


def _split_regions(nb) -> tuple[set[str], set[str]]:
    """(lines inside solution or hidden-test regions, lines outside every region), stripped."""
    inside, region, outside = False, set(), set()
    for cell in nb.cells:
        for line in cell.source.split("\n"):
            if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END SOLUTION" in line or "END HIDDEN TESTS" in line:
                inside = False
            elif line.strip():
                (region if inside else outside).add(line.strip())
    return region, outside


@pytest.mark.parametrize("label, assignment, notebook", NOTEBOOKS, ids=IDS)
def test_released_notebook_has_no_solutions_or_hidden_tests(label, assignment, notebook):
    crs = course(label)
    source, released = crs.source_nb(assignment, notebook), crs.released_nb(assignment, notebook)
    released_lines = {line.strip() for c in released.cells for line in c.source.split("\n")}
    for cell in released.cells:
        assert not any(m in cell.source for m in MARKERS), cell.source
    region, outside = _split_regions(source)
    leaks = sorted((region - outside) & released_lines)
    assert not leaks, f"released {assignment}/{notebook} contains solution or hidden-test lines: {leaks[:5]}"
    solution_ids = {nbgrader_meta(c)["grade_id"] for c in source.cells if nbgrader_meta(c).get("solution")}
    stubs = {nbgrader_meta(c)["grade_id"]: c.source for c in released.cells if nbgrader_meta(c).get("solution")}
    assert set(stubs) == solution_ids
    for grade_id, text in stubs.items():
        assert "NotImplementedError" in text or "YOUR ANSWER HERE" in text, (grade_id, text)
