"""Run a chapter's code cells and measure every figure it shows, as a phone will show it.

    python -m seqcourse.figures.measure book/chapters/rnn_bptt.md [--out DIR]

Each figure is saved as the book saves it (tight box, the figure's dpi) to DIR (default
/tmp/figures-<chapter>/), and one line per figure reports its width in pixels, its smallest
text in points, and how tall that text is on a phone, where a figure wider than the column
(PHONE_COLUMN_PX) is scaled down to fit it. A figure whose smallest text is under
MIN_TEXT_PX there is marked; the exit status is 1 if any is.

Run from the chapter's folder's parent or anywhere: the cells run with the chapter's folder as
the working directory, as the book build runs them.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
from pathlib import Path

# The book's rule for figures, with its one home here (book.mplstyle, architectures.py and the
# tests follow it): on a phone a figure is at most PHONE_COLUMN_PX wide, and its smallest text
# must stay >= MIN_TEXT_PX there; a plot's text is >= PLOT_TEXT_PT, so a plot may be at most
# MAX_PLOT_WIDTH_IN wide (at 100 dpi).
PHONE_COLUMN_PX = 342   # a figure's width at a 390 px viewport (the browser test's phone)
MIN_TEXT_PX = 10.0      # the smallest text a reader should meet on screen
PLOT_TEXT_PT = 10.5
MAX_PLOT_WIDTH_IN = 4.9


def smallest_text_pt(fig) -> float | None:
    """The smallest font size, in points, of the visible, non-empty text in `fig`."""
    from matplotlib.text import Text

    sizes = [text.get_fontsize() for text in fig.findobj(Text)
             if text.get_visible() and text.get_text().strip()]
    return min(sizes) if sizes else None


def on_phone(width_px: int, text_pt: float | None, dpi: float) -> float | None:
    """How tall text of `text_pt` points is on a phone, in CSS px."""
    if text_pt is None:
        return None
    return text_pt * dpi / 72 * min(1.0, PHONE_COLUMN_PX / width_px)


def code_cells(markdown: str) -> list[str]:
    """The code of a MyST chapter's code cells, without their YAML header and magics."""
    cells = []
    for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", markdown, re.S):
        if cell.startswith("---"):
            cell = cell.split("---", 2)[2]
        cells.append("\n".join(line for line in cell.split("\n")
                               if not line.startswith("%") and not re.match(r"^:\w+:", line)))
    return cells


def measure(chapter: Path, out: Path) -> list[dict]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import IPython.display
    from PIL import Image

    from seqcourse.figures import architectures

    out.mkdir(parents=True, exist_ok=True)
    found: list[dict] = []

    def record(png: bytes, text_pt, dpi):
        n = len(found) + 1
        path = out / f"{chapter.stem}-{n}.png"
        path.write_bytes(png)
        width = Image.open(io.BytesIO(png)).width
        found.append({"n": n, "path": path, "width": width, "text_pt": text_pt,
                      "phone_px": on_phone(width, text_pt, dpi)})

    def show(*args, **kwargs):
        for number in plt.get_fignums():
            fig = plt.figure(number)
            buf = io.BytesIO()
            fig.savefig(buf, format="png", bbox_inches="tight")   # what the inline backend does
            record(buf.getvalue(), smallest_text_pt(fig), fig.dpi)
        plt.close("all")

    def display(*objects, **kwargs):   # an image a cell displays itself: its text is unknown
        for obj in objects:
            if isinstance(obj, IPython.display.Image) and obj.data:
                record(obj.data, None, 100)

    def show_diagram(fig):
        record(architectures.png(fig), smallest_text_pt(fig), architectures.DPI)

    plt.close("all")   # a chapter starts with no figure open (a caller's would be counted as its own)
    saved = plt.show, IPython.display.display, architectures.show
    plt.show = show
    IPython.display.display = display
    architectures.show = show_diagram
    namespace = {"__name__": "__main__", "display": display}
    here = os.getcwd()
    os.chdir(chapter.parent)
    try:
        for i, cell in enumerate(code_cells(chapter.read_text())):
            exec(compile(cell, f"{chapter.name} cell {i}", "exec"), namespace)
            show()
    finally:
        os.chdir(here)
        plt.show, IPython.display.display, architectures.show = saved
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    chapter = args.chapter.resolve()
    out = args.out or Path(f"/tmp/figures-{chapter.stem}")
    start = time.time()
    figures = measure(chapter, out)
    bad = 0
    for fig in figures:
        px = fig["phone_px"]
        small = px is not None and px < MIN_TEXT_PX
        bad += small
        pt = "?" if fig["text_pt"] is None else f"{fig['text_pt']:.1f} pt"
        shown = "?" if px is None else f"{px:.1f} px"
        print(f"{fig['path'].name}: {fig['width']} px wide, smallest text {pt}, on a phone {shown}"
              + ("  <-- too small" if small else ""))
    print(f"{len(figures)} figures in {time.time() - start:.0f} s; {bad} with text under "
          f"{MIN_TEXT_PX:g} px on a {PHONE_COLUMN_PX} px column")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
