"""Build the course website: `seqcourse mathjax` and `seqcourse book [--path book]`.

The website is a Jupyter Book 1.x (Sphinx + MyST-NB) whose chapters are executed
at every build. Two things need care:

* Math must render offline. Pages would load MathJax from a CDN, and MathJax 4
  would fetch its font files from one too, so `mathjax` installs MathJax 4 from
  npm once (the npm registry is allowed) and copies the package, with the parts
  of its font package that a browser loads, to `.mathjax/static/mathjax/`;
  `book/_config.yml` points `html_static_path`, `mathjax_path` and MathJax's
  font path there.
* A broken chapter must fail the build. MyST-NB reports a failing notebook only
  as a warning, and an incremental `-W` build passes when nothing is rebuilt,
  hence `--all -W --keep-going`: every chapter is executed every time, every
  warning is collected, and the exit status is non-zero if there was any.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from seqcourse._nbcourse import CourseError, strip_ansi

MATHJAX_SPEC = "mathjax@4"
MATHJAX_MAJOR = 4
MATHJAX_PREFIX = Path(".mathjax")
# The file Sphinx loads; the rest of the package (TeX extensions, menu, speech) is found
# relative to it.
MATHJAX_ENTRY = "tex-chtml.js"
# MathJax 4's default font lives in its own npm package (a dependency of mathjax@4), and a
# browser would fetch its data and woff2 files from a CDN unless told where they are:
# book/_config.yml sets the loader's `fonts` path to `[mathjax]/fonts`, this folder.
MATHJAX_FONTS = "fonts"
MATHJAX_FONT = "mathjax-newcm-font"
# What a page may load of the font package: CHTML (the output the site uses) and SVG (a
# reader may switch to it in MathJax's menu). Its cjs/, mjs/ and TypeScript are for node.
MATHJAX_FONT_PARTS = ("package.json", "chtml.js", "chtml", "svg.js", "svg")
JUPYTER_BOOK = "from jupyter_book.cli.main import main; main()"


# --------------------------------------------------------------------------- mathjax

def _major_version(package: Path) -> int | None:
    """The major version in package/package.json, None if it is missing or unreadable."""
    try:
        version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
        return int(str(version).split(".")[0])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _is_complete(mathjax: Path, font: Path) -> bool:
    return ((mathjax / MATHJAX_ENTRY).is_file() and _major_version(mathjax) == MATHJAX_MAJOR
            and (font / "chtml.js").is_file())


def fetch_mathjax(prefix: Path = MATHJAX_PREFIX) -> Path:
    """Install MathJax 4 from npm under `prefix` (once) and return the static folder.

    Returns `prefix/static`, which holds `mathjax/tex-chtml.js` with the rest of the
    `mathjax` package, and `mathjax/fonts/mathjax-newcm-font/` with the browser's part
    of its font. A copy of another major version (MathJax 3, from an older checkout) is
    replaced.
    """
    prefix = Path(prefix)
    static_root = prefix / "static"
    target = static_root / "mathjax"
    if _is_complete(target, target / MATHJAX_FONTS / MATHJAX_FONT):
        print(f"MathJax already present: {target}")
        return static_root

    modules = prefix / "node_modules"
    package = modules / "mathjax"

    def font_package() -> Path:
        # npm nests the font under mathjax/ only if another version sits at the top level.
        nested = package / "node_modules" / "@mathjax" / MATHJAX_FONT
        return nested if nested.is_dir() else modules / "@mathjax" / MATHJAX_FONT

    if not _is_complete(package, font_package()):
        npm = shutil.which("npm")
        if npm is None:
            raise CourseError("npm not found: install Node.js/npm (it fetches MathJax from the npm "
                            "registry so that formulas render without a CDN)")
        prefix.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                   "--loglevel=error", MATHJAX_SPEC]
        print("+", " ".join(command), flush=True)
        try:
            returncode = subprocess.run(command).returncode
        except OSError as error:
            raise CourseError(f"`npm install {MATHJAX_SPEC}` could not run: {error}") from error
        if returncode != 0 or not _is_complete(package, font_package()):
            raise CourseError(f"`npm install {MATHJAX_SPEC}` failed (see above): no MathJax "
                            f"{MATHJAX_MAJOR} with its {MATHJAX_FONT} under {modules}")
    font = font_package()

    # Copy next to the target, then rename: an interrupted copy never looks complete.
    static_root.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".mathjax-", dir=static_root))
    try:
        shutil.copytree(package, partial / "mathjax", ignore=shutil.ignore_patterns("node_modules"))
        fonts = partial / "mathjax" / MATHJAX_FONTS / MATHJAX_FONT
        fonts.mkdir(parents=True)
        for part in MATHJAX_FONT_PARTS:
            if (font / part).is_dir():
                shutil.copytree(font / part, fonts / part)
            elif (font / part).is_file():
                shutil.copy2(font / part, fonts / part)
        if target.exists():
            shutil.rmtree(target)
        (partial / "mathjax").rename(target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    print(f"MathJax copied to {target}")
    return static_root


# --------------------------------------------------------------------------- book

def read_config(book: Path) -> dict:
    config_file = book / "_config.yml"
    if not config_file.is_file():
        raise CourseError(f"{config_file} not found: is {book} a Jupyter Book folder?")
    with config_file.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def check_local_mathjax(book: Path, config: dict) -> Path:
    """Return the MathJax script the pages will load; fail if it is not on disk."""
    sphinx = (config.get("sphinx") or {}).get("config") or {}
    mathjax_path = sphinx.get("mathjax_path", "")
    static_paths = sphinx.get("html_static_path") or []
    if not mathjax_path or "://" in mathjax_path:
        raise CourseError(f"{book / '_config.yml'}: sphinx.config.mathjax_path must name a local "
                        "file in html_static_path (a CDN does not work offline)")
    if (book / "_static").is_dir():
        # Jupyter Book adds every .js under html_static_path to every page once
        # book/_static exists: hundreds of MathJax components would be loaded.
        raise CourseError(f"{book / '_static'} exists: Jupyter Book would then load every MathJax "
                        "component as a script on each page; add assets through "
                        "sphinx.config.html_css_files / html_js_files instead")
    for static in static_paths:
        script = (book / static / mathjax_path).resolve()
        if script.is_file():
            if not _is_complete(script.parent, script.parent / MATHJAX_FONTS / MATHJAX_FONT):
                # A MathJax 3 copy from an older checkout: the pages would ask for fonts it lacks.
                raise CourseError(f"{script.parent} is not MathJax {MATHJAX_MAJOR} with its font: "
                                "run `seqcourse mathjax` (or `make mathjax`) to replace it")
            return script
    raise CourseError(f"MathJax not found ({mathjax_path} in {static_paths} relative to {book}): "
                    "run `seqcourse mathjax` (or `make mathjax`) first")


def build_book(book: Path = Path("book")) -> int:
    """Execute every chapter and build the HTML site; return the exit status."""
    book = Path(book)
    config = read_config(book)
    check_local_mathjax(book, config)
    command = [sys.executable, "-c", JUPYTER_BOOK, "build", str(book),
               "--builder", "html", "--all", "-W", "--keep-going"]
    html = book / "_build" / "html"
    # Tracebacks of failing chapters land in reports/; old ones would be misleading.
    shutil.rmtree(html / "reports", ignore_errors=True)
    env = dict(os.environ)
    if not sys.stdout.isatty():
        env.setdefault("NO_COLOR", "1")
    print("+ jupyter-book build", " ".join(command[3:]), flush=True)
    problems = []
    # Stream the log (chapters take a while) while keeping the warnings for a summary.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1, env=env) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            if any(level in line for level in ("WARNING:", "ERROR:", "CRITICAL:")):
                problems.append(strip_ansi(line).strip())
    sys.stdout.flush()
    if process.returncode != 0 or problems:
        print(f"\nBook build FAILED (exit status {process.returncode}):", file=sys.stderr)
        for line in problems:
            print("  " + line, file=sys.stderr)
        for report in sorted((html / "reports").rglob("*.err.log")):
            chapter = report.relative_to(html / "reports").as_posix()[:-len(".err.log")]
            print(f"\n--- {chapter}: the failing cell ---", file=sys.stderr)
            print(_failing_cell(report.read_text(encoding="utf-8")), file=sys.stderr)
        return process.returncode or 1
    print(f"\nWebsite built: {(html / 'index.html').resolve()}")
    return 0


def _failing_cell(traceback: str) -> str:
    """The cell source and its error from a MyST-NB report, without nbclient's own frames."""
    text = strip_ansi(traceback).rstrip()
    marker = "An error occurred while executing the following cell:"
    return text[text.index(marker):] if marker in text else "\n".join(text.splitlines()[-30:])


# --------------------------------------------------------------------------- command line

def _run_mathjax(args: argparse.Namespace) -> int:
    try:
        fetch_mathjax(Path(args.prefix))
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _run_book(args: argparse.Namespace) -> int:
    try:
        return build_book(Path(args.path))
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def register(subparsers) -> None:
    mathjax = subparsers.add_parser(
        "mathjax", help="fetch MathJax 4 from npm so the website renders math offline")
    mathjax.add_argument("--prefix", default=str(MATHJAX_PREFIX),
                         help="npm prefix; MathJax is copied to PREFIX/static/mathjax "
                              "(default: %(default)s)")
    mathjax.set_defaults(run=_run_mathjax)

    book = subparsers.add_parser(
        "book", help="execute every chapter and build the website (fails on any error or warning)")
    book.add_argument("--path", default="book", help="the book folder (default: %(default)s)")
    book.set_defaults(run=_run_book)
