"""`seqcourse mathjax` (seqcourse.book.fetch_mathjax) with a stand-in for npm: what it copies
into the site's static folder, that it replaces an old MathJax 3 copy, and that a missing or
failing npm is a clear CourseError; `seqcourse book` refuses to build on a MathJax 3 copy."""
from __future__ import annotations

import json
import os
import stat
import textwrap
from pathlib import Path

import pytest

from seqcourse._nbcourse import CourseError
from seqcourse.book import (MATHJAX_ENTRY, MATHJAX_FONT, MATHJAX_FONTS, check_local_mathjax,
                           fetch_mathjax)

# Lays out node_modules as `npm install --prefix PREFIX mathjax@4` does (package and font).
FAKE_NPM = textwrap.dedent("""\
    #!/bin/sh
    [ -n "$FAKE_NPM_FAIL" ] && exit 1
    while [ "$1" != "--prefix" ]; do shift; done
    m="$2/node_modules"
    mkdir -p "$m/mathjax/sre" "$m/@mathjax/mathjax-newcm-font/chtml/woff2" \\
             "$m/@mathjax/mathjax-newcm-font/mjs"
    echo '{"version": "4.1.3"}' > "$m/mathjax/package.json"
    echo 'tex' > "$m/mathjax/tex-chtml.js"
    echo 'worker' > "$m/mathjax/sre/speech-worker.js"
    f="$m/@mathjax/mathjax-newcm-font"
    echo '{"version": "4.1.3"}' > "$f/package.json"
    echo 'font' > "$f/chtml.js"
    echo 'woff2' > "$f/chtml/woff2/mjx-ncm-n.woff2"
    echo 'node only' > "$f/mjs/chtml.js"
    """)


@pytest.fixture
def fake_npm(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM)
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return npm


def test_copies_mathjax_and_the_browser_part_of_its_font(tmp_path, fake_npm):
    static = fetch_mathjax(tmp_path / ".mathjax")
    mathjax = static / "mathjax"
    assert (mathjax / MATHJAX_ENTRY).read_text().strip() == "tex"
    assert (mathjax / "sre" / "speech-worker.js").is_file()
    font = mathjax / MATHJAX_FONTS / MATHJAX_FONT
    assert (font / "chtml.js").is_file() and (font / "chtml" / "woff2" / "mjx-ncm-n.woff2").is_file()
    assert not (font / "mjs").exists(), "the font's node-only modules should not be served"
    assert [p.name for p in static.iterdir()] == ["mathjax"], "a partial copy was left behind"


def test_replaces_a_mathjax_3_copy(tmp_path, fake_npm):
    old = tmp_path / ".mathjax" / "static" / "mathjax"
    old.mkdir(parents=True)
    (old / MATHJAX_ENTRY).write_text("mathjax 3")
    (old / "package.json").write_text(json.dumps({"version": "3.2.2"}))
    fetch_mathjax(tmp_path / ".mathjax")
    assert (old / MATHJAX_ENTRY).read_text().strip() == "tex"
    assert (old / MATHJAX_FONTS / MATHJAX_FONT / "chtml.js").is_file()


def test_missing_npm_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(CourseError, match="npm not found"):
        fetch_mathjax(tmp_path / ".mathjax")


def test_failing_npm_is_a_clear_error(tmp_path, fake_npm, monkeypatch):
    monkeypatch.setenv("FAKE_NPM_FAIL", "1")
    with pytest.raises(CourseError, match="npm install mathjax@4` failed"):
        fetch_mathjax(tmp_path / ".mathjax")
    assert not (tmp_path / ".mathjax" / "static" / "mathjax").exists()


def test_book_build_refuses_a_mathjax_3_copy(tmp_path, fake_npm):
    book = tmp_path / "book"
    book.mkdir()
    config = {"sphinx": {"config": {"mathjax_path": "mathjax/tex-chtml.js",
                                    "html_static_path": ["../.mathjax/static"]}}}
    old = tmp_path / ".mathjax" / "static" / "mathjax"
    old.mkdir(parents=True)
    (old / MATHJAX_ENTRY).write_text("mathjax 3")
    (old / "package.json").write_text(json.dumps({"version": "3.2.2"}))
    with pytest.raises(CourseError, match="seqcourse mathjax"):
        check_local_mathjax(book, config)
    fetch_mathjax(tmp_path / ".mathjax")
    assert check_local_mathjax(book, config) == (old / MATHJAX_ENTRY).resolve()
