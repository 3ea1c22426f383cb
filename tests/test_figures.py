"""The book's architecture diagrams (course/seqcourse/figures/architectures.py).

Each figure function must run, return a Figure that carries the chapter's symbols (so a renamed
letter in the book or the code is caught here), fit the book's column without being scaled
down, and use no font below the readable minimum.
"""
from __future__ import annotations

import re
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from seqcourse.figures import architectures as arch
from seqcourse.figures import measure

# Symbols each figure must show (each inside some text of the figure), as the chapters write them.
EXPECTED = {
    "bptt_graph": ["$h_t$", "$h_{t+1}$", "$h_{t-1}$", "$x_t$", "$y_t$", "$L_t$", "$W_{xh}$",
                   "$W_{hh}$", "$W_{hy}$", r"$W_{hy}^{\top}\bar y_t$", r"$W_{hh}^{\top}\bar z_{t+1}$",
                   "forward", "backward"],
    "lstm_cell": ["$f_t$", "$i_t$", "$o_t$", r"$\tilde c_t = g_t$", "$c_t$", "$c_{t-1}$", "$h_t$",
                  "$h_{t-1}$", "$x_t$", r"$c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t$"],
    "gru_cell": ["$r_t$", "$z_t$", "$n_t$", "$1 - z_t$", "$h_t$", "$h_{t-1}$", "$x_t$",
                 r"$W_{hn} h_{t-1} + b_{hn}$", r"$W_{xn} x_t + b_{xn}$",
                 r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$"],
    "bidirectional_rnn": [r"$\overrightarrow{h}_0$", r"$\overleftarrow{h}_3$", "$x_0$", "$y_3$"],
    "stacked_rnn": ["$h^{(1)}_0$", "$h^{(3)}_2$", "$W^{(2)}_{xh}$", "$W^{(1)}_{hh}$", "$x_0$",
                    "$y_2$", "layer 3"],
    "encoder_decoder": ["$c$", "$h_3$", "$s_1$", "$s_3$", "$x_1$", "$w_1$", "<bos>", "encoder",
                        "decoder"],
    "encoder_decoder_attention": ["$f_1$", "$f_4$", "$s_{t-1}$", "$s_t$", "$c_t$", "$w_t$",
                                  "$a_{t,1}$", "attention"],
    "attention_computation": ["$s_{t-1}$", "$r_t = V s_{t-1}$", r"$u_t = F^{\top} r_t$", "softmax",
                              r"$a_t = \mathrm{softmax}(u_t)$", "$c_t = F a_t$", "$f_1$"],
    "transformer_blocks": ["post-norm (original)", "pre-norm", "MHA", "LN", "$F$ (MLP)",
                           r"$\mathrm{LN}(X + \mathrm{MHA}(X))$", r"$X + F(\mathrm{LN}(X))$"],
    "decoder_block": ["masked self-attention", "cross-attention", "encoder\noutput $C$", "$M$",
                      "$K, V$", "$Q$", "$F$ (MLP)"],
    "kv_cache": ["cache $K$", "cache $V$", "$q_t$", "$k_t$", "$v_t$", "new token $x_t$ only",
                 r"$\mathrm{softmax}(q_t K^{\top}/\sqrt{\ell})$"],
}


def texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_text()]


def drawn_texts(fig: Figure):
    """(text, window extent in px) of every visible non-empty text, the figure drawn at DPI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    shown = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return [(t, t.get_window_extent(renderer)) for t in shown], renderer


def _inside(inner, outer, tol=1.0):
    return (inner.x0 >= outer.x0 - tol and inner.x1 <= outer.x1 + tol
            and inner.y0 >= outer.y0 - tol and inner.y1 <= outer.y1 + tol)


def png_size(fig: Figure) -> tuple[int, int]:
    """Pixel size of the PNG that the chapters show (the IHDR chunk of arch.png's output)."""
    data = arch.png(fig)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_every_figure_is_checked():
    assert sorted(EXPECTED) == sorted(set(arch.__all__) - {"show", "png"})


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_figure_has_the_chapter_symbols_and_fits_the_column(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # a warning in a chapter cell fails the book build
        fig = getattr(arch, name)()
        width, height = png_size(fig)
    assert isinstance(fig, Figure)
    shown = [t.get_text() for t in texts(fig)]
    missing = [s for s in EXPECTED[name] if not any(s in text for text in shown)]
    assert not missing, f"{name} lacks {missing}; it shows {shown}"
    phone_px = measure.on_phone(width, arch.SMALL, arch.DPI)
    assert phone_px >= measure.MIN_TEXT_PX, (f"{name} is {width} px wide: on a {measure.PHONE_COLUMN_PX} px "
                                             f"phone column its {arch.SMALL} pt text is {phone_px:.1f} px tall")
    assert height <= 700
    small = [(t.get_text(), t.get_fontsize()) for t in texts(fig) if t.get_fontsize() < arch.SMALL]
    assert not small, f"text below {arch.SMALL} pt: {small}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_two_texts_of_a_figure_overlap(name):
    extents, _ = drawn_texts(getattr(arch, name)())
    tol = 1.0     # px: texts that only touch do not collide
    clashes = []
    for k, (a, ea) in enumerate(extents):
        for b, eb in extents[k + 1:]:
            if (min(ea.x1, eb.x1) - max(ea.x0, eb.x0) > tol
                    and min(ea.y1, eb.y1) - max(ea.y0, eb.y0) > tol):
                clashes.append((a.get_text(), b.get_text()))
    assert not clashes, f"{name}: overlapping texts {clashes}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_text_in_a_box_fits_the_box(name):
    """A centred text whose anchor lies in a box or operator circle stays inside it."""
    from matplotlib.patches import Circle, FancyBboxPatch

    fig = getattr(arch, name)()
    extents, renderer = drawn_texts(fig)
    shapes = [p.get_window_extent(renderer) for p in fig.findobj(lambda o: isinstance(o, (FancyBboxPatch, Circle)))]
    overruns = []
    for text, extent in extents:
        if text.get_ha() != "center" or text.get_va() != "center":
            continue
        anchor = text.get_transform().transform(text.get_position())
        holders = [s for s in shapes if s.contains(*anchor)]
        if holders:
            holder = min(holders, key=lambda s: s.width * s.height)
            if not _inside(extent, holder):
                overruns.append(text.get_text())
    assert not overruns, f"{name}: text overruns its box: {overruns}"


def test_transformer_panels_place_layer_norm_differently():
    shown = [t.get_text() for t in texts(arch.transformer_blocks())]
    assert shown.count("LN") == 4 and shown.count("MHA") == 2
    assert [t.get_text() for t in texts(arch.decoder_block())].count("LN") == 3


def test_attention_example_is_the_chapter_computation():
    ex = arch.attention_example()
    np.testing.assert_allclose(ex["r"], ex["V"] @ ex["s_prev"])
    np.testing.assert_allclose(ex["u"], ex["F"].T @ ex["r"])
    np.testing.assert_allclose(ex["a"], np.exp(ex["u"]) / np.exp(ex["u"]).sum())
    np.testing.assert_allclose(ex["c"], ex["F"] @ ex["a"])
    # the weights printed on the bars are these weights
    shown = {t.get_text() for t in texts(arch.attention_computation())}
    assert {f"{a:.2f}".lstrip("0") for a in ex["a"]} <= shown


def test_layout_limits_are_enforced():
    with pytest.raises(ValueError, match="MAX_WIDTH"):
        arch.canvas((0, 20), (0, 2))
    fig, ax = arch.canvas((0, 2), (0, 2))
    with pytest.raises(ValueError, match="unreadable"):
        arch.label(ax, 1, 1, "tiny", fontsize=7)


def test_chapters_need_no_path_of_the_repository():
    """A chapter downloaded from the site runs in any folder: it imports the diagrams from the
    installed course package and never edits sys.path to reach files beside it."""
    chapters = sorted((Path(__file__).resolve().parents[1] / "book" / "chapters").glob("*.md"))
    assert chapters
    for chapter in chapters:
        text = chapter.read_text(encoding="utf-8")
        assert "sys.path" not in text, f"{chapter.name} edits sys.path"
        assert not re.search(r"^\s*(from|import) figures\b", text, re.M), f"{chapter.name} imports figures by path"
    assert any("from seqcourse.figures import" in c.read_text(encoding="utf-8") for c in chapters)

