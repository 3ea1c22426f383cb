"""Build the course website: `seqcourse mathjax` and `seqcourse book [--path book]`.

The website is a Jupyter Book 1.x (Sphinx + MyST-NB) whose chapters are executed
at every build. Two things need care:

* Math must render offline. Pages would load MathJax from a CDN, so `mathjax`
  fetches MathJax 3 from npm once (the npm registry is allowed) and copies its
  `es5/` bundle to `.mathjax/static/mathjax/`; `book/_config.yml` points
  `html_static_path` and `mathjax_path` there.
* A broken chapter must fail the build. MyST-NB reports a failing notebook only
  as a warning, and an incremental `-W` build passes when nothing is rebuilt,
  hence `--all -W --keep-going`: every chapter is executed every time, every
  warning is collected, and the exit status is non-zero if there was any.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from seqcourse._nbcourse import CourseError, strip_ansi

MATHJAX_SPEC = "mathjax@3"
MATHJAX_PREFIX = Path(".mathjax")
# The file Sphinx loads; the rest of es5/ (fonts, TeX extensions) is found relative to it.
MATHJAX_ENTRY = "tex-chtml.js"
JUPYTER_BOOK = "from jupyter_book.cli.main import main; main()"


# --------------------------------------------------------------------------- mathjax

def fetch_mathjax(prefix: Path = MATHJAX_PREFIX) -> Path:
    """Install MathJax 3 from npm under `prefix` (once) and return the static folder.

    Returns `prefix/static`, which holds `mathjax/tex-chtml.js` and the rest of
    MathJax's `es5/` bundle.
    """
    prefix = Path(prefix)
    static_root = prefix / "static"
    target = static_root / "mathjax"
    if (target / MATHJAX_ENTRY).is_file():
        print(f"MathJax already present: {target}")
        return static_root

    es5 = prefix / "node_modules" / "mathjax" / "es5"
    if not (es5 / MATHJAX_ENTRY).is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise CourseError("npm not found: install Node.js/npm (it fetches MathJax from the npm "
                            "registry so that formulas render without a CDN)")
        prefix.mkdir(parents=True, exist_ok=True)
        command = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                   "--loglevel=error", MATHJAX_SPEC]
        print("+", " ".join(command), flush=True)
        if subprocess.run(command).returncode != 0 or not (es5 / MATHJAX_ENTRY).is_file():
            raise CourseError(f"`npm install {MATHJAX_SPEC}` failed (see above)")

    # Copy next to the target, then rename: an interrupted copy never looks complete.
    static_root.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".mathjax-", dir=static_root))
    shutil.copytree(es5, partial / "mathjax")
    if target.exists():
        shutil.rmtree(target)
    (partial / "mathjax").rename(target)
    partial.rmdir()
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
        "mathjax", help="fetch MathJax 3 from npm so the website renders math offline")
    mathjax.add_argument("--prefix", default=str(MATHJAX_PREFIX),
                         help="npm prefix; MathJax is copied to PREFIX/static/mathjax "
                              "(default: %(default)s)")
    mathjax.set_defaults(run=_run_mathjax)

    book = subparsers.add_parser(
        "book", help="execute every chapter and build the website (fails on any error or warning)")
    book.add_argument("--path", default="book", help="the book folder (default: %(default)s)")
    book.set_defaults(run=_run_book)
