"""The chapters' plots are drawn for the narrowest column the book is read in, a phone's.

A figure is shown at most 342 px wide at a 390 px viewport and at its natural size on a laptop.
The book style (course/seqcourse/figures/book.mplstyle) sets text no smaller than MIN_TEXT_PT and
plots at most MAX_PLOT_WIDTH_IN wide (both from seqcourse.figures.measure), so the smallest
text stays >= 10 px on a phone; these
tests keep the chapters to it, and test seqcourse.figures.measure, the tool that measures a
chapter's real figures (the browser test measures them once more on the built site).
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from seqcourse.figures import measure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "book" / "chapters").glob("*.md"))
STYLE = REPO / "course" / "seqcourse" / "figures" / "book.mplstyle"
MIN_TEXT_PT, MAX_PLOT_WIDTH_IN = measure.PLOT_TEXT_PT, measure.MAX_PLOT_WIDTH_IN
SIZE_KEYS = ["font.size", "axes.titlesize", "axes.labelsize", "xtick.labelsize",
             "ytick.labelsize", "legend.fontsize", "legend.title_fontsize", "figure.titlesize"]


def code_of(chapter: Path) -> str:
    return "\n".join(measure.code_cells(chapter.read_text(encoding="utf-8")))


def test_book_style_is_sized_for_a_phone():
    style = matplotlib.rc_params_from_file(str(STYLE), use_default_template=False)
    for key in SIZE_KEYS:
        assert float(style[key]) >= MIN_TEXT_PT, f"{key} = {style[key]} in {STYLE.name}"
    assert style["figure.figsize"][0] <= MAX_PLOT_WIDTH_IN
    assert style["figure.dpi"] == style["savefig.dpi"] == 100
    smallest_px = MIN_TEXT_PT * 100 / 72 * measure.PHONE_COLUMN_PX / (MAX_PLOT_WIDTH_IN * 100)
    assert smallest_px >= measure.MIN_TEXT_PX


def test_book_style_is_found_by_its_package_name():
    import matplotlib.pyplot as plt

    with plt.style.context("seqcourse.figures.book"):
        assert plt.rcParams["xtick.labelsize"] == MIN_TEXT_PT


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_uses_the_book_style_and_no_smaller_text(chapter):
    code = code_of(chapter)
    if "matplotlib" not in code:
        return
    assert 'plt.style.use("seqcourse.figures.book")' in code, f"{chapter.name} does not use the book style"
    small = [m.group(0) for m in re.finditer(r"\b(?:fontsize|labelsize|size)\s*=\s*([0-9.]+)", code)
             if float(m.group(1)) < MIN_TEXT_PT]
    small += re.findall(r"(?:fontsize|labelsize)\s*=\s*[\"'](?:xx-small|x-small|small|smaller)[\"']", code)
    small += re.findall(r"[\"']size[\"']\s*:\s*[0-9.]+", code)
    assert not small, f"{chapter.name} sets text below {MIN_TEXT_PT} pt: {small}"
    wide = [m.group(0) for m in re.finditer(r"figsize\s*=\s*\(\s*([0-9.]+)", code)
            if float(m.group(1)) > MAX_PLOT_WIDTH_IN]
    assert not wide, f"{chapter.name} draws plots wider than {MAX_PLOT_WIDTH_IN} in: {wide}"


def test_measure_reports_text_too_small_for_a_phone(tmp_path, capsys):
    chapter = tmp_path / "tiny.md"
    chapter.write_text(textwrap.dedent('''\
        # A tiny chapter

        ```{code-cell} ipython3
        ---
        tags: [hide-input]
        ---
        import matplotlib.pyplot as plt
        plt.style.use("seqcourse.figures.book")
        fig, ax = plt.subplots(figsize=(4.5, 3))
        ax.plot([0, 1], [0, 1], label="fits")
        ax.legend()
        plt.show()
        ```

        Some prose.

        ```{code-cell} ipython3
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.set_title("too wide, too small", fontsize=7)
        ax.plot([0, 1], [1, 0])
        ```
        '''))
    status = measure.main([str(chapter), "--out", str(tmp_path / "out")])
    lines = capsys.readouterr().out.splitlines()
    assert status == 1
    assert len(lines) == 3, lines
    good, bad = lines[:2]
    assert "smallest text 10.5 pt" in good and "too small" not in good
    assert "smallest text 7.0 pt" in bad and "too small" in bad
    assert "2 figures" in lines[2] and "1 with text under 10 px" in lines[2]
    width = int(re.search(r"(\d+) px wide", bad).group(1))
    assert width > 600     # 8 in at 100 dpi, less the margins a tight box crops
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["tiny-1.png", "tiny-2.png"]
