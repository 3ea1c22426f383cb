"""The package reads like the book: one subpackage per part, imports between parts without cycles, one
definition of each public name."""
import ast
import importlib
from pathlib import Path

import seqmodels

PKG = Path(seqmodels.__file__).parent
PARTS = ["data", "recurrent", "lm", "embeddings", "softmax", "decoding", "seq2seq", "transformer"]
TOP_LEVEL = {"__init__.py", "_checks.py", "_sequence.py", "specials.py", "tasks.py"}


def _imports(path: Path) -> set[str]:
    """Absolute names (seqmodels.x.y or seqcourse...) that a module imports."""
    mod = ".".join(("seqmodels",) + path.relative_to(PKG).with_suffix("").parts)
    package = mod.rsplit(".", 1)[0] if path.name != "__init__.py" else mod.removesuffix(".__init__")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_top_level_holds_only_the_parts_and_the_shared_helpers():
    files = {p.name for p in PKG.glob("*.py")}
    folders = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert files == TOP_LEVEL, f"flat modules at the top: {sorted(files - TOP_LEVEL)}"
    assert folders == set(PARTS)


def test_imports_between_parts_point_one_way():
    edges: dict[str, set[str]] = {part: set() for part in PARTS}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).parts
        for name in _imports(path):
            assert not name.startswith("seqcourse"), f"{path}: model code imports course tooling ({name})"
            parts = name.split(".")
            if parts[0] != "seqmodels" or len(parts) < 2 or parts[1] not in PARTS or parts[1] == rel[0]:
                continue
            assert rel[0] in PARTS, f"{path}: a top-level helper imports the chapter code {name}"
            edges[rel[0]].add(parts[1])
    # no cycle: repeatedly remove the parts that import no remaining part
    remaining = dict(edges)
    while remaining:
        leaves = [p for p, deps in remaining.items() if not deps & remaining.keys()]
        assert leaves, f"the parts import each other in a cycle: { {p: sorted(d) for p, d in remaining.items()} }"
        for p in leaves:
            del remaining[p]


def test_every_public_name_has_one_home():
    homes: dict[str, list[str]] = {}
    for part in PARTS:
        face = importlib.import_module(f"seqmodels.{part}")
        for name in face.__all__:
            obj = getattr(face, name)
            home = getattr(obj, "__module__", None) or f"seqmodels.{part}"
            homes.setdefault(name, [])
            if home not in homes[name]:
                homes[name].append(home)
    twice = {n: h for n, h in homes.items() if len(h) > 1}
    assert not twice, f"names defined in two modules: {twice}"
