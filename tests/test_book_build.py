"""`seqcourse book` on tiny throw-away books that use the real book/_config.yml.

A page with a formula and a matplotlib figure builds, with MathJax and the
figure served from the site itself; a page whose cell raises fails the build,
and the log names the page and the error; a chapter gets its download links
(executed notebook, exercise notebook, both copied into the site), a finished
progress bar leaves nothing on the page, and citations read author (year).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from seqcourse.book import MATHJAX_ENTRY, MATHJAX_FONT, MATHJAX_FONTS, fetch_mathjax

REPO = Path(__file__).resolve().parents[1]

FRONT_MATTER = """\
---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""

GOOD_PAGE = FRONT_MATTER + textwrap.dedent(r"""
    # A good page

    The hidden state is $h_t = \tanh(W_{xh} x_t + W_{hh} h_{t-1} + b_h)$.

    $$
    \frac{\partial L}{\partial W_{hh}} = \sum_{t} \delta_t \, h_{t-1}^\top
    $$

    ```{code-cell} python3
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2, 3], [0, 1, 4, 9])
    plt.show()
    ```
    """)

BROKEN_PAGE = FRONT_MATTER + textwrap.dedent(r"""
    # A broken page

    $$ y_t = W_{hy} h_t + b_y $$

    ```{code-cell} python3
    x = 1
    ```

    ```{code-cell} python3
    raise ValueError("deliberately broken cell")
    ```
    """)


@pytest.fixture(scope="module")
def mathjax() -> Path:
    """The repository's local MathJax (fetched from npm once, as `make mathjax` does)."""
    prefix = REPO / ".mathjax"
    fetch_mathjax(prefix)  # returns at once when a complete copy of the right version is there
    return prefix


# What the real book's configuration refers to besides its pages.
SITE_FILES = ("_config.yml", "references.bib", "_assets", "_templates")


def make_book(root: Path, mathjax: Path, page_name: str, text: str) -> Path:
    """root/book with the real configuration and one page; root/.mathjax and root/exercises
    point to the repository's (the config names both relative to the book folder)."""
    book = root / "book"
    book.mkdir(parents=True)
    for name in SITE_FILES:
        source = REPO / "book" / name
        if source.is_dir():
            shutil.copytree(source, book / name)
        else:
            shutil.copy(source, book / name)
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: {page_name}\n", encoding="utf-8")
    (book / f"{page_name}.md").parent.mkdir(parents=True, exist_ok=True)
    (book / f"{page_name}.md").write_text(text, encoding="utf-8")
    (root / ".mathjax").symlink_to(mathjax, target_is_directory=True)
    (root / "exercises").symlink_to(REPO / "exercises", target_is_directory=True)
    return book


def seqcourse_book(book: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seqcourse.cli", "book", "--path", str(book)],
                          cwd=book.parent, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONUNBUFFERED="1"))


def test_good_page_builds_with_local_math_and_figure(tmp_path, mathjax):
    book = make_book(tmp_path, mathjax, "good", GOOD_PAGE)
    result = seqcourse_book(book)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"build failed:\n{log[-4000:]}"
    html_dir = book / "_build" / "html"
    index = html_dir / "index.html"
    assert str(index.resolve()) in log, "the build should say where the site is"

    page = (html_dir / "good.html").read_text(encoding="utf-8")
    assert f'src="_static/mathjax/{MATHJAX_ENTRY}' in page, "MathJax is not loaded from the site"
    assert (html_dir / "_static" / "mathjax" / MATHJAX_ENTRY).is_file()
    assert "cdn.jsdelivr.net" not in page
    # MathJax 4 loads its font from cdn.jsdelivr.net unless the page names the site's copy.
    assert '"fonts": "[mathjax]/fonts"' in page, "MathJax's font path is not the site's own"
    font = html_dir / "_static" / "mathjax" / MATHJAX_FONTS / MATHJAX_FONT
    assert (font / "chtml.js").is_file() and any((font / "chtml" / "woff2").glob("*.woff2"))
    assert r"\tanh" in page and r"\frac{\partial L}" in page, "formulas missing from the page"
    images = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', page)
    figures = [src for src in images if src.endswith(".png")]
    assert figures, f"the matplotlib figure was not embedded as an image; <img> sources: {images}"
    for src in figures:
        assert (html_dir / src).is_file() and (html_dir / src).stat().st_size > 1000, src


CHAPTER_PAGE = FRONT_MATTER + textwrap.dedent(r"""
    # A chapter

    As {cite:t}`elman1990finding` showed, and as others did {cite:p}`hochreiter1997long`.
    Two papers of one author-year: {cite:p}`mikolov2013efficient,mikolov2013distributed`.

    ```{code-cell} python3
    import sys
    from tqdm import tqdm

    for _ in tqdm(range(50), desc="training", file=sys.stdout, ncols=80):
        pass
    print("done")
    ```

    ```{code-cell} python3
    import time

    print("row 1", flush=True)
    time.sleep(0.5)      # the kernel sends the rows as two stream messages: two outputs
    print("row 2")
    ```

    ```{bibliography}
    ```
    """)


def test_chapter_links_its_notebooks_and_hides_progress_bars(tmp_path, mathjax):
    # A page named like a chapter of book/_config.yml's course_exercises (the toc is not numbered
    # here, so only what the extension adds is checked).
    book = make_book(tmp_path, mathjax, "chapters/rnn_bptt", CHAPTER_PAGE)
    result = seqcourse_book(book)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"build failed:\n{log[-4000:]}"
    html_dir = book / "_build" / "html"
    page = (html_dir / "chapters" / "rnn_bptt.html").read_text(encoding="utf-8")
    links = re.findall(r'<a class="[^"]*course-download[^"]*" href="([^"]+)"', page)
    assert links == ["../downloads/chapters/rnn_bptt.ipynb",
                     "../downloads/exercises/ch01_rnn/rnn_bptt.ipynb"], links
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "make check NOTEBOOK=exercises/ch01_rnn/rnn_bptt.ipynb" in text
    executed = json.loads((html_dir / "downloads" / "chapters" / "rnn_bptt.ipynb").read_text())
    code_cells = [cell for cell in executed["cells"] if cell["cell_type"] == "code"]
    outputs = code_cells[0].get("outputs", [])
    assert any("done" in "".join(out.get("text", "")) for out in outputs), "not the executed notebook"
    exercise = html_dir / "downloads" / "exercises" / "ch01_rnn" / "rnn_bptt.ipynb"
    assert exercise.read_bytes() == (REPO / "exercises" / "ch01_rnn" / "rnn_bptt.ipynb").read_bytes()
    # The finished progress bar leaves no trace: the cell's only output is its print.
    shown = "".join("".join(out.get("text", "")) for out in outputs)
    assert shown.strip() == "done", f"cell outputs: {shown!r}"
    assert "50/50" not in text and "%|" not in text
    # Two prints that reached the notebook as two outputs are one box on the page, in order; the
    # downloaded notebook keeps each print once.
    rows = [out for out in code_cells[1]["outputs"] if out.get("output_type") == "stream"]
    assert len(rows) == 2, f"the test needs two stream outputs, got {rows}"
    assert "".join("".join(out["text"]) for out in rows) == "row 1\nrow 2\n"
    boxes = re.findall(r"<pre>(?:<span></span>)?(.*?)</pre>", page, re.S)
    assert "row 1\nrow 2\n" in boxes, [b for b in boxes if "row" in b]
    assert "Elman (1990)" in text and "(Hochreiter and Schmidhuber, 1997)" in text, \
        "citations do not read author (year)"
    # Two entries with one author-year label: the text names each as the bibliography lists it.
    assert "(Mikolov et al., 2013a, Mikolov et al., 2013b)" in text, \
        re.findall(r"\(Mikolov[^)]*\)", text)
    assert "Mikolov et al., 2013a" in text and "Mikolov et al., 2013b" in text


def test_broken_cell_fails_the_build_and_names_the_page(tmp_path, mathjax):
    book = make_book(tmp_path, mathjax, "broken_chapter", BROKEN_PAGE)
    result = seqcourse_book(book)
    log = result.stdout + result.stderr
    assert result.returncode != 0, f"a cell that raises must fail the build:\n{log[-4000:]}"
    assert "broken_chapter" in log, f"the log does not name the failing page:\n{log[-4000:]}"
    assert "deliberately broken cell" in log and "ValueError" in log, \
        f"the log does not show the error:\n{log[-4000:]}"


SLOW_PAGE = FRONT_MATTER + textwrap.dedent(r"""
    # A slow page

    ```{code-cell} python3
    import os
    import time

    # reads SEQ_FULL as the chapters do, so that a SEQ_FULL=1 build marks this page too
    FULL = os.environ.get("SEQ_FULL") == "1"
    time.sleep(4)
    print("slept")
    ```
    """)


@pytest.mark.parametrize("full", [False, True], ids=["default", "SEQ_FULL=1"])
def test_cell_time_limit_fits_the_full_runs(tmp_path, mathjax, monkeypatch, full):
    """The configured per-cell limit stops a default build; SEQ_FULL=1 (minutes per cell) lifts it."""
    book = make_book(tmp_path, mathjax, "chapters/rnn_bptt", SLOW_PAGE)   # a chapter name: it gets the note
    config = yaml.safe_load((book / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["timeout"] = 2
    (book / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("SEQ_FULL", "1" if full else "0")
    result = seqcourse_book(book)
    log = result.stdout + result.stderr
    if full:
        assert result.returncode == 0, f"SEQ_FULL=1 should allow a slow cell:\n{log[-4000:]}"
        # A chapter with larger runs says that its text was checked against the default runs.
        page = (book / "_build" / "html" / "chapters" / "rnn_bptt.html").read_text(encoding="utf-8")
        assert "built with SEQ_FULL=1" in page and "course-full-build" in page
    else:
        assert result.returncode != 0 and "rnn_bptt" in log and "timed out" in log.lower(), \
            f"the 2 s limit should stop the 4 s cell:\n{log[-4000:]}"
