"""environment.yml (conda users) and pyproject.toml (pip users) must ask for the same packages."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> str:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + spec.replace(" ", "")


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {_normalise(r) for r in reqs}


def _environment_pip_requirements() -> set[str]:
    # A tiny reader for the one shape this file has (a `- pip:` list), to avoid needing PyYAML's
    # exact layout rules here; the test of the reader itself is that the sets compare equal.
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
    reqs = []
    for line in lines[start + 1:]:
        if not line.strip() or len(line) - len(line.lstrip()) < indent:
            break
        item = line.strip()[2:].split("#")[0].strip()
        if not item.startswith("-e"):
            reqs.append(item)
    return {_normalise(r) for r in reqs}


def test_environment_yml_matches_pyproject():
    pyproject, conda = _pyproject_requirements(), _environment_pip_requirements()
    assert pyproject == conda, (
        f"dependency lists drifted apart. Only in pyproject.toml: {sorted(pyproject - conda)}; "
        f"only in environment.yml: {sorted(conda - pyproject)}")


def test_environment_yml_python_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert f"python{project['requires-python']}" in (ROOT / "environment.yml").read_text()
