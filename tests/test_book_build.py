"""`seqcourse book` on tiny throw-away books that use the real book/_config.yml.

A page with a formula and a matplotlib figure builds, with MathJax and the
figure served from the site itself; a page whose cell raises fails the build,
and the log names the page and the error.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seqcourse.book import MATHJAX_ENTRY, fetch_mathjax

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
    if not (prefix / "static" / "mathjax" / MATHJAX_ENTRY).is_file():
        fetch_mathjax(prefix)
    return prefix


def make_book(root: Path, mathjax: Path, page_name: str, text: str) -> Path:
    """root/book with the real _config.yml and one page; root/.mathjax -> the repo's."""
    book = root / "book"
    book.mkdir(parents=True)
    shutil.copy(REPO / "book" / "_config.yml", book / "_config.yml")
    (book / "_toc.yml").write_text(f"format: jb-book\nroot: {page_name}\n", encoding="utf-8")
    (book / f"{page_name}.md").write_text(text, encoding="utf-8")
    # _config.yml names MathJax relative to the book folder (../.mathjax/static).
    (root / ".mathjax").symlink_to(mathjax, target_is_directory=True)
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
    assert "cdn.jsdelivr.net" not in page and "mathjax@3" not in page
    assert r"\tanh" in page and r"\frac{\partial L}" in page, "formulas missing from the page"
    images = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', page)
    figures = [src for src in images if src.endswith(".png")]
    assert figures, f"the matplotlib figure was not embedded as an image; <img> sources: {images}"
    for src in figures:
        assert (html_dir / src).is_file() and (html_dir / src).stat().st_size > 1000, src


def test_broken_cell_fails_the_build_and_names_the_page(tmp_path, mathjax):
    book = make_book(tmp_path, mathjax, "broken_chapter", BROKEN_PAGE)
    result = seqcourse_book(book)
    log = result.stdout + result.stderr
    assert result.returncode != 0, f"a cell that raises must fail the build:\n{log[-4000:]}"
    assert "broken_chapter" in log, f"the log does not name the failing page:\n{log[-4000:]}"
    assert "deliberately broken cell" in log and "ValueError" in log, \
        f"the log does not show the error:\n{log[-4000:]}"
