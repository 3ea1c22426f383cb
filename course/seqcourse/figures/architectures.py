r"""Architecture diagrams of the book, drawn with matplotlib from this file alone.

Each figure function returns a :class:`matplotlib.figure.Figure` (not a pyplot figure: no
pyplot state, so a test can draw all of them and a chapter shows each exactly once). A chapter
shows one with ``show(lstm_cell())`` in a ``remove-input`` cell whose MyST-NB metadata gives the
caption, the label and the alt text.

The letters are the chapters' own: ``rnn_bptt.md`` (W_xh, W_hh, W_hy, z_t, the barred
gradients), ``lstm_gru.md`` (i_t, f_t, g_t = c~_t, o_t, c_t; r_t, z_t, n_t with PyTorch's
h_t = (1 - z_t) n_t + z_t h_{t-1}), ``seq2seq_attention.md`` (F, f_i, s_t, r_t = V s_{t-1}, u_t,
a_t, c_t) and ``transformers.md`` (MHA, F for the MLP, LN, Q, K, V, C, M).

Sizes: every figure is drawn at a fixed scale (``UNIT`` inches per data unit) and at ``DPI``, so
its PNG is about ``MAX_WIDTH * DPI`` + 20 = 475 px wide. A laptop shows it unscaled in the
book's 821 px column, where the smallest font, ``SMALL`` = 11 pt, is 15 px tall; a phone (390 px
viewport) shows it at most 342 px wide, scaled by about 342/475, so that text is about 11 px and a
subscript (matplotlib sets it at 70 %) about 7.5 px: at 10 pt, subscripts were under 7 px.
Box sizes and offsets are in data units but text is in points: a box that holds text is sized
for its text at this scale, and the test suite checks that no two texts overlap and that a
box's text stays inside it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

__all__ = ["show", "png", "bptt_graph", "lstm_cell", "gru_cell", "bidirectional_rnn", "stacked_rnn",
           "encoder_decoder", "encoder_decoder_attention", "attention_computation",
           "transformer_blocks", "decoder_block", "kv_cache"]

DPI = 100
UNIT = 0.6           # inches per data unit: the same scale in every figure
MAX_WIDTH = 4.55     # inches: with the 0.1 in margin of a tight PNG on each side, 475 px at DPI
FONT = 12            # points: labels in boxes
SMALL = 11           # points: weights on arrows, annotations; never smaller

# One colour per role, the same in every figure (the chapter 1 unrolled figure's palette).
COLORS = {
    "input": "#cfe2f3",      # x_t, source words, tokens
    "state": "#fce5cd",      # h_t, c_t, s_t: recurrent states
    "state2": "#e4d9f2",     # the second direction / the decoder's own states
    "output": "#d9ead3",     # y_t, w_t, losses
    "gate": "#f4cccc",       # sigmoid / tanh layers inside a cell
    "attention": "#fff2cc",  # attention, softmax, context vectors
    "norm": "#eeeeee",       # layer norm, initial states, neutral boxes
    "mlp": "#d0e0e3",        # position-wise MLP
    "cell": "#f7f7f7",       # the outline of a cell
}
FORWARD = "#333333"
BACKWARD = "#c0392b"      # gradients
MUTED = "#999999"
WEIGHT_TEXT = "#555555"


# --------------------------------------------------------------------------- output

def png(fig: Figure) -> bytes:
    """The figure as the PNG the book shows: tight box (0.1 in margin), DPI."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def show(fig: Figure) -> None:
    """Display the figure in a notebook as one PNG output (which MyST-NB wraps in the figure)."""
    from IPython.display import Image, display

    display(Image(data=png(fig), format="png"))


# --------------------------------------------------------------------------- primitives

@dataclass(frozen=True)
class Node:
    """A drawn box or operator: its centre and size, with edge points for arrows."""
    x: float
    y: float
    w: float
    h: float

    @property
    def top(self):
        return (self.x, self.y + self.h / 2)

    @property
    def bottom(self):
        return (self.x, self.y - self.h / 2)

    @property
    def left(self):
        return (self.x - self.w / 2, self.y)

    @property
    def right(self):
        return (self.x + self.w / 2, self.y)

    def at(self, dx: float = 0.0, dy: float = 0.0):
        """A point offset from the centre, in units of half the width/height."""
        return (self.x + dx * self.w / 2, self.y + dy * self.h / 2)


def canvas(xlim: tuple[float, float], ylim: tuple[float, float]):
    """A figure whose axes span xlim x ylim at the common scale UNIT, axes hidden."""
    width = (xlim[1] - xlim[0]) * UNIT
    height = (ylim[1] - ylim[0]) * UNIT
    if width > MAX_WIDTH + 1e-9:
        raise ValueError(f"figure {width:.2f} in wide exceeds MAX_WIDTH = {MAX_WIDTH} in: "
                         "it would be scaled down in the book's column")
    fig = Figure(figsize=(width, height), dpi=DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def box(ax, x, y, text, kind="norm", w=1.0, h=0.6, fontsize=FONT, dashed=False, alpha=1.0,
        textcolor="black"):
    """A rounded box centred at (x, y) filled with the colour of its role, with centred text."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                                fc=COLORS[kind], ec=FORWARD if alpha == 1 else MUTED,
                                lw=1.1, ls="--" if dashed else "-", alpha=alpha, zorder=2))
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=textcolor, zorder=3)
    return Node(x, y, w, h)


def op(ax, x, y, symbol, r=0.2, fontsize=FONT):
    r"""A small circle with an operator symbol (mathtext, e.g. '+' or r'\times')."""
    ax.add_patch(Circle((x, y), r, fc="white", ec=FORWARD, lw=1.1, zorder=2))
    ax.text(x, y, f"${symbol}$", ha="center", va="center", fontsize=fontsize, zorder=3)
    return Node(x, y, 2 * r, 2 * r)


def arrow(ax, start, end, color=FORWARD, ls="-", lw=1.3, rad=0.0, alpha=1.0, head=True):
    """A straight (or, with rad, curved) arrow from start to end."""
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>" if head else "-", mutation_scale=11,
                                 color=color, lw=lw, ls=ls, alpha=alpha, shrinkA=0, shrinkB=0,
                                 connectionstyle=f"arc3,rad={rad}", zorder=1))


def path(ax, points, color=FORWARD, ls="-", lw=1.3, alpha=1.0, head=True):
    """A polyline through points with an arrow head on its last segment (routed connections)."""
    xs, ys = zip(*points)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=color, ls=ls, lw=lw, alpha=alpha, zorder=1,
                solid_capstyle="butt")
    arrow(ax, points[-2], points[-1], color=color, ls=ls, lw=lw, alpha=alpha, head=head)


def label(ax, x, y, text, fontsize=SMALL, color=WEIGHT_TEXT, ha="center", va="center", **kw):
    """Annotation text (weights on arrows, notes); never below SMALL points."""
    if fontsize < SMALL:
        raise ValueError(f"fontsize {fontsize} < SMALL = {SMALL}: unreadable at column width")
    return ax.text(x, y, text, fontsize=fontsize, color=color, ha=ha, va=va, zorder=4, **kw)


def title(ax, x, y, text, fontsize=FONT):
    return ax.text(x, y, text, fontsize=fontsize, ha="center", va="center", weight="bold", zorder=4)


def dots(ax, x, y, fontsize=FONT):
    ax.text(x, y, r"$\cdots$", ha="center", va="center", fontsize=fontsize, color=MUTED)


# --------------------------------------------------------------------------- chapter 1

def bptt_graph():
    r"""BPTT on the unrolled Elman RNN: forward arrows, backward arrows, and the two gradient
    paths into h_t, \bar h_t = W_hy^T \bar y_t + W_hh^T \bar z_{t+1} (rnn_bptt.md)."""
    fig, ax = canvas((-0.5, 7.05), (-0.45, 4.6))
    dx, w = 2.4, 1.0
    cols = {"t-1": 0.85, "t": 0.85 + dx, "t+1": 0.85 + 2 * dx}
    y_x, y_h, y_y, y_L = 0, 1.5, 2.75, 3.85
    nodes = {}
    for name, x in cols.items():
        sub = name if name == "t" else "{" + name + "}"
        nodes[name] = dict(
            x=box(ax, x, y_x, f"$x_{sub}$", "input", w=w, h=0.6),
            h=box(ax, x, y_h, f"$h_{sub}$", "state", w=w, h=0.6),
            y=box(ax, x, y_y, f"$y_{sub}$", "output", w=w, h=0.55),
            L=box(ax, x, y_L, f"$L_{sub}$", "output", w=w, h=0.55))
    off = 0.12   # forward arrows left/above, backward arrows right/below
    for name, n in nodes.items():
        hot = name == "t"
        bcol, balpha, blw = (BACKWARD, 1.0, 2.0) if hot else (BACKWARD, 0.45, 1.3)
        # forward
        arrow(ax, n["x"].at(-0.3, 1), n["h"].at(-0.3, -1))
        arrow(ax, n["h"].at(-0.3, 1), n["y"].at(-0.3, -1))
        arrow(ax, n["y"].at(-0.3, 1), n["L"].at(-0.3, -1))
        # backward: from the loss down to h (the direct path)
        arrow(ax, n["L"].at(0.3, -1), n["y"].at(0.3, 1), BACKWARD, "--", blw, alpha=balpha)
        arrow(ax, n["y"].at(0.3, -1), n["h"].at(0.3, 1), bcol, "--", blw, alpha=balpha)
    x0, xt = cols["t-1"], cols["t"]
    label(ax, x0 - 0.3, (y_h + y_y) / 2, "$W_{hy}$", ha="right")
    label(ax, x0 - 0.3, (y_x + y_h) / 2, "$W_{xh}$", ha="right")
    label(ax, xt + 0.3, (y_y + y_L) / 2, r"$\bar y_t$", color=BACKWARD, ha="left")
    # horizontal: forward above, backward below
    xs = [-0.1] + list(cols.values()) + [6.6]
    for i in range(len(xs) - 1):
        a = xs[i] + (w / 2 if i > 0 else 0.0)
        b = xs[i + 1] - (w / 2 if i < len(xs) - 2 else 0.0)
        arrow(ax, (a, y_h + off), (b, y_h + off))
        hot = i == 2                       # h_{t+1} -> h_t
        arrow(ax, (b, y_h - off), (a, y_h - off), BACKWARD, "--", 2.0 if hot else 1.3,
              alpha=1.0 if hot else 0.45)
    label(ax, (x0 + xt) / 2, y_h + 0.38, "$W_{hh}$")
    dots(ax, -0.3, y_h)
    dots(ax, 6.83, y_h)
    # the two paths into h_t, named as in the chapter's equation
    label(ax, xt + 0.3, (y_h + y_y) / 2, r"$W_{hy}^{\top}\bar y_t$", color=BACKWARD, ha="left")
    label(ax, xt + dx / 2, y_h - 0.3, r"$W_{hh}^{\top}\bar z_{t+1}$", color=BACKWARD, va="top")
    # legend
    arrow(ax, (-0.4, 4.4), (0.2, 4.4))
    label(ax, 0.3, 4.4, "forward", ha="left", color=FORWARD)
    arrow(ax, (2.0, 4.4), (2.6, 4.4), BACKWARD, "--", 1.6)
    label(ax, 2.7, 4.4, "backward (gradients)", ha="left", color=BACKWARD)
    return fig


# --------------------------------------------------------------------------- chapter 3: cells

def lstm_cell():
    r"""The LSTM cell of lstm_gru.md: gates i_t, f_t, o_t (sigmoid), candidate g_t = c~_t (tanh),
    c_t = f_t * c_{t-1} + i_t * c~_t, h_t = o_t * tanh(c_t)."""
    fig, ax = canvas((-1.0, 6.55), (-1.65, 4.85))
    ax.add_patch(FancyBboxPatch((-0.15, -0.45), 5.95, 4.75, boxstyle="round,pad=0,rounding_size=0.2",
                                fc=COLORS["cell"], ec=MUTED, lw=1.0, zorder=0))
    y_c, y_bus, y_gate = 3.7, 0.3, 1.55
    x_f, x_i, x_g, x_o, x_out = 0.9, 1.8, 2.85, 4.0, 5.1
    # the cell path along the top: c_{t-1} -> (x f_t) -> (+ i_t c~_t) -> c_t
    label(ax, -0.62, y_c, "$c_{t-1}$", fontsize=FONT, color="black")
    mul_f = op(ax, x_f, y_c, r"\times")
    add = op(ax, x_g, y_c, "+")
    arrow(ax, (-0.3, y_c), mul_f.left, lw=2.2)
    arrow(ax, mul_f.right, add.left, lw=2.2)
    arrow(ax, add.right, (6.05, y_c), lw=2.2)
    label(ax, 6.12, y_c, "$c_t$", fontsize=FONT, color="black", ha="left")
    # inputs: h_{t-1} from the left, x_t from below, on one bus to the four gates
    label(ax, -0.62, y_bus, "$h_{t-1}$", fontsize=FONT, color="black")
    xin = box(ax, 0.4, -1.15, "$x_t$", "input", w=0.7, h=0.5)
    ax.plot([-0.3, x_o], [y_bus, y_bus], color=FORWARD, lw=1.3, zorder=1)
    arrow(ax, xin.top, (0.4, y_bus), head=False)
    gates = {}
    for name, x, f in (("f", x_f, r"$\sigma$"), ("i", x_i, r"$\sigma$"), ("g", x_g, r"$\tanh$"),
                       ("o", x_o, r"$\sigma$")):
        gates[name] = box(ax, x, y_gate, f, "gate", w=0.8 if name == "g" else 0.6, h=0.5)
        arrow(ax, (x, y_bus), gates[name].bottom)
    label(ax, 0.6, -0.12, r"gates: $\sigma$ or $\tanh$ of $W_{x\cdot} x_t + W_{h\cdot} h_{t-1} + b_\cdot$",
          ha="left")
    # f_t gates the old cell
    arrow(ax, gates["f"].top, mul_f.bottom)
    label(ax, x_f + 0.1, 2.7, "$f_t$", fontsize=FONT, color="black", ha="left")
    # i_t * c~_t is added to it
    mul_i = op(ax, x_g, 2.65, r"\times")
    arrow(ax, gates["g"].top, mul_i.bottom)
    label(ax, x_g + 0.1, 2.1, r"$\tilde c_t = g_t$", fontsize=FONT, color="black", ha="left")
    path(ax, [gates["i"].top, (x_i, 2.65), mul_i.left])
    label(ax, x_i - 0.08, 2.2, "$i_t$", fontsize=FONT, color="black", ha="right")
    arrow(ax, mul_i.top, add.bottom)
    # h_t = o_t * tanh(c_t)
    tanh_c = box(ax, x_out, 2.65, r"$\tanh$", "gate", w=0.8, h=0.45)
    mul_o = op(ax, x_out, y_gate, r"\times")
    arrow(ax, (x_out, y_c), tanh_c.top)
    arrow(ax, tanh_c.bottom, mul_o.top)
    arrow(ax, gates["o"].right, mul_o.left)
    label(ax, (x_o + 0.3 + x_out - 0.2) / 2, y_gate + 0.25, "$o_t$", fontsize=FONT, color="black")
    path(ax, [mul_o.bottom, (x_out, y_bus + 0.25), (6.05, y_bus + 0.25)])
    label(ax, 6.12, y_bus + 0.25, "$h_t$", fontsize=FONT, color="black", ha="left")
    label(ax, 2.8, y_c + 0.8, r"cell path: $c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t$",
          color=FORWARD)
    return fig


def gru_cell():
    r"""The GRU cell in the book's and PyTorch's convention (lstm_gru.md, seqmodels.recurrent):
    n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn)), h_t = (1 - z_t) * n_t + z_t * h_{t-1}."""
    fig, ax = canvas((-0.93, 6.65), (-1.65, 5.2))
    ax.add_patch(FancyBboxPatch((-0.2, -0.45), 6.5, 5.05, boxstyle="round,pad=0,rounding_size=0.2",
                                fc=COLORS["cell"], ec=MUTED, lw=1.0, zorder=0))
    y_h, y_bus, y_gate, y_mid, y_z = 4.1, 0.3, 1.4, 2.45, 3.3
    x_z, x_r, x_hn, x_mz, x_xn, x_tanh, x_out = 0.55, 1.25, 2.6, 3.7, 4.35, 5.2, 6.0
    # the state path along the top: h_{t-1} -> (x z_t) -> (+ (1 - z_t) n_t) -> h_t
    label(ax, -0.28, y_h, "$h_{t-1}$", fontsize=FONT, color="black", ha="right")
    mul_z = op(ax, x_mz, y_h, r"\times")
    add = op(ax, x_out, y_h, "+")
    arrow(ax, (-0.25, y_h), mul_z.left, lw=2.2)
    arrow(ax, mul_z.right, add.left, lw=2.2)
    path(ax, [add.right, (6.6, y_h)], lw=2.2)
    label(ax, 6.5, y_h + 0.3, "$h_t$", fontsize=FONT, color="black")
    # inputs on one bus: h_{t-1} drops from the top line, x_t comes from below
    ax.plot([-0.05, -0.05, x_xn], [y_h, y_bus, y_bus], color=FORWARD, lw=1.3, zorder=1)
    xin = box(ax, 0.15, -1.15, "$x_t$", "input", w=0.7, h=0.5)
    arrow(ax, xin.top, (0.15, y_bus), head=False)
    z_gate = box(ax, x_z, y_gate, r"$\sigma$", "gate", w=0.6, h=0.5)
    r_gate = box(ax, x_r, y_gate, r"$\sigma$", "gate", w=0.6, h=0.5)
    hn = box(ax, x_hn, y_gate, r"$W_{hn} h_{t-1} + b_{hn}$", "norm", w=1.8, h=0.5, fontsize=SMALL)
    xn = box(ax, x_xn, y_gate, r"$W_{xn} x_t + b_{xn}$", "norm", w=1.45, h=0.5, fontsize=SMALL)
    for node in (z_gate, r_gate, hn, xn):
        arrow(ax, (node.x, y_bus), node.bottom)
    label(ax, 0.4, -0.12, r"gates: $\sigma(W_{x\cdot}\, x_t + b_{x\cdot} + W_{h\cdot}\, h_{t-1} + b_{h\cdot})$",
          ha="left")
    # candidate: n_t = tanh(W_xn x_t + b_xn + r_t * (W_hn h_{t-1} + b_hn))
    mul_r = op(ax, x_hn, y_mid, r"\times")
    plus_x = op(ax, x_xn, y_mid, "+")
    tanh_n = box(ax, x_tanh, y_mid, r"$\tanh$", "gate", w=0.7, h=0.45)
    mul_n = op(ax, x_out, y_mid, r"\times")
    path(ax, [r_gate.top, (x_r, y_mid), mul_r.left])
    label(ax, x_r + 0.1, 2.05, "$r_t$", fontsize=FONT, color="black", ha="left")
    arrow(ax, hn.top, mul_r.bottom)
    arrow(ax, mul_r.right, plus_x.left)
    arrow(ax, xn.top, plus_x.bottom)
    arrow(ax, plus_x.right, tanh_n.left)
    arrow(ax, tanh_n.right, mul_n.left)
    label(ax, (tanh_n.right[0] + mul_n.left[0]) / 2, y_mid - 0.32, "$n_t$", fontsize=FONT, color="black")
    # z_t weighs the old state, 1 - z_t the candidate
    one_minus = box(ax, 5.0, y_z, r"$1-$", "norm", w=0.5, h=0.4, fontsize=SMALL)
    path(ax, [z_gate.top, (x_z, y_z), one_minus.left])
    arrow(ax, (x_mz, y_z), mul_z.bottom)
    label(ax, x_z + 0.1, 2.8, "$z_t$", fontsize=FONT, color="black", ha="left")
    arrow(ax, one_minus.right, mul_n.at(-0.72, 0.72))
    label(ax, 5.0, y_z + 0.38, "$1 - z_t$")
    arrow(ax, mul_n.top, add.bottom)
    label(ax, 2.8, y_h + 0.8, r"$h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$", color=FORWARD)
    return fig


# --------------------------------------------------------------------------- chapter 3: stacks

BACK_DIRECTION = "#7b5ea7"   # arrows of the right-to-left RNN


def bidirectional_rnn(steps: int = 4):
    r"""A bidirectional RNN: a forward RNN (left to right) and a backward RNN (right to left)
    over the same x_t; y_t reads the concatenation [h->_t; h<-_t] (rnn_bptt.md, lstm_gru.md)."""
    dx, end = 1.45, 1.15       # column spacing; the initial states' distance from the end columns
    fig, ax = canvas((-end - 0.4, dx * (steps - 1) + end + 0.4), (-0.55, 4.75))
    y_x, y_f, y_b, y_y = 0.0, 1.35, 2.6, 4.1
    for t in range(steps):
        x = dx * t
        xn = box(ax, x, y_x, f"$x_{t}$", "input", w=0.8, h=0.5)
        fw = box(ax, x, y_f, rf"$\overrightarrow{{h}}_{t}$", "state", w=0.8, h=0.55)
        bw = box(ax, x, y_b, rf"$\overleftarrow{{h}}_{t}$", "state2", w=0.8, h=0.55)
        yn = box(ax, x, y_y, f"$y_{t}$", "output", w=0.8, h=0.5)
        arrow(ax, xn.top, fw.bottom)
        # x_t -> backward state: routed right of the forward box
        path(ax, [xn.at(0.6, 1), (x + 0.24, 0.55), (x + 0.62, 0.55), (x + 0.62, 2.0), (x + 0.24, 2.0),
                  bw.at(0.6, -1)], color=BACK_DIRECTION)
        # both states -> y_t: the forward one routed left of the backward box
        path(ax, [fw.at(-0.6, 1), (x - 0.24, 1.95), (x - 0.62, 1.95), (x - 0.62, 3.3), (x - 0.24, 3.3),
                  yn.at(-0.6, -1)])
        arrow(ax, bw.at(0.6, 1), yn.at(0.6, -1), color=BACK_DIRECTION)
        if t < steps - 1:
            arrow(ax, fw.right, (x + dx - 0.4, y_f))
            arrow(ax, (x + dx - 0.4, y_b), bw.right, color=BACK_DIRECTION)
    # initial states at both ends
    last = dx * (steps - 1)
    h0 = box(ax, -end, y_f, "", "norm", w=0.55, h=0.45)
    arrow(ax, h0.right, (-0.4, y_f))
    hT = box(ax, last + end, y_b, "", "norm", w=0.55, h=0.45)
    arrow(ax, hT.left, (last + 0.4, y_b), color=BACK_DIRECTION)
    label(ax, -end, y_f + 0.5, r"$\overrightarrow{h}_{-1}$")
    label(ax, last + end, y_b + 0.5, r"$\overleftarrow{h}_{T}$")
    label(ax, last / 2, y_y + 0.5, r"$y_t$ reads $[\overrightarrow{h}_t;\ \overleftarrow{h}_t]$: the whole sequence",
          color=FORWARD)
    label(ax, -end, y_f - 0.35, "left\nto right", va="top")
    label(ax, last + end, y_b - 0.35, "right\nto left", va="top", color=BACK_DIRECTION)
    return fig


def stacked_rnn(steps: int = 3, layers: int = 3):
    r"""A stacked RNN: layer l reads layer l-1's states, h^(l)_t = f(W^(l)_xh h^(l-1)_t +
    W^(l)_hh h^(l)_{t-1} + b^(l)_h), h^(0)_t = x_t; the output reads the top layer."""
    dx, dy, w = 1.75, 1.2, 0.95
    fig, ax = canvas((-2.05, dx * (steps - 1) + 1.8), (-0.5, dy * (layers + 1) + 0.55))
    for t in range(steps):
        x = dx * t
        below = box(ax, x, 0, f"$x_{t}$", "input", w=0.9, h=0.5)
        for l in range(1, layers + 1):
            node = box(ax, x, dy * l, f"$h^{{({l})}}_{t}$", "state", w=w, h=0.55, fontsize=SMALL)
            arrow(ax, below.top, node.bottom)
            if t == 0:
                init = box(ax, -1.45, dy * l, f"$h^{{({l})}}_{{-1}}$", "norm", w=w, h=0.5,
                           fontsize=SMALL)
                arrow(ax, init.right, node.left)
            else:
                arrow(ax, (x - dx + w / 2, dy * l), node.left)
            below = node
        out = box(ax, x, dy * (layers + 1), f"$y_{t}$", "output", w=0.9, h=0.5)
        arrow(ax, below.top, out.bottom)
    # the weights: W_xh on the first column's upward arrows, W_hh between the next two columns
    for l in range(1, layers + 1):
        label(ax, dx * (steps - 1) + 0.55, dy * l, f"layer {l}", ha="left")
        label(ax, 0.1, dy * l - dy / 2, f"$W^{{({l})}}_{{xh}}$", ha="left")
        label(ax, dx * 1.5, dy * l + 0.3, f"$W^{{({l})}}_{{hh}}$")
    label(ax, dx * (steps - 1) + 0.55, 0.0, "$h^{(0)}_t = x_t$", ha="left")
    return fig


# --------------------------------------------------------------------------- chapter 8

def _encoder(ax, S, dx, state_text=lambda i: f"$h_{i}$", both_ways=False, w=0.75):
    """Source words x_1..x_S and one encoder state per word (linked both ways for a
    bidirectional encoder); returns the state nodes."""
    states = []
    for i in range(1, S + 1):
        x = dx * (i - 1)
        xn = box(ax, x, 0, f"$x_{i}$", "input", w=0.7, h=0.5)
        hn = box(ax, x, 1.35, state_text(i), "state", w=w, h=0.55)
        arrow(ax, xn.top, hn.bottom)
        if i > 1:
            y = 1.45 if both_ways else 1.35      # two directions: one arrow above the other
            arrow(ax, (x - dx + w / 2, y), (x - w / 2, y))
            if both_ways:
                arrow(ax, (x - w / 2, 1.25), (x - dx + w / 2, 1.25), color=BACK_DIRECTION)
        states.append(hn)
    return states


def encoder_decoder():
    r"""Encoder-decoder without attention (seq2seq_attention.md): one vector c summarizes the
    source; the decoder starts from it and reads it at every step,
    s_t = RNN(s_{t-1}, [e(w_{t-1}); c])."""
    S, T, dx = 3, 3, 1.1
    fig, ax = canvas((-0.5, 7.05), (-0.95, 3.65))
    enc = _encoder(ax, S, dx)
    xc = dx * (S - 1) + 1.05
    c = box(ax, xc, 1.35, "$c$", "attention", w=0.6, h=0.6)
    arrow(ax, enc[-1].right, c.left)
    x0 = xc + 1.05
    prev = c
    inputs = ["<bos>"] + [f"$w_{t}$" for t in range(1, T)]
    for t in range(1, T + 1):
        x = x0 + dx * (t - 1)
        s = box(ax, x, 1.35, f"$s_{t}$", "state2", w=0.75, h=0.55)
        w_in = box(ax, x + 0.12, 0, inputs[t - 1], "input", w=0.95 if t == 1 else 0.7, h=0.5,
                   fontsize=SMALL if t == 1 else FONT)
        w_out = box(ax, x, 2.7, f"$w_{t}$", "output", w=0.7, h=0.5)
        arrow(ax, prev.right, s.left)
        arrow(ax, (x + 0.12, 0.25), (x + 0.12, s.bottom[1]))
        arrow(ax, (x - 0.22, 0.62), (x - 0.22, s.bottom[1]), color=MUTED)
        arrow(ax, s.top, w_out.bottom)
        prev = s
    # c is also an input of every decoder step (Cho et al.'s version)
    ax.plot([xc, xc, x0 + dx * (T - 1) - 0.22], [1.05, 0.62, 0.62], color=MUTED, lw=1.3, zorder=1)
    title(ax, dx * (S - 1) / 2, 3.35, "encoder")
    title(ax, x0 + dx * (T - 1) / 2, 3.35, "decoder")
    label(ax, xc - 0.15, 2.0, "one vector\nfor the\nwhole source", va="bottom")
    label(ax, dx * (S - 1) / 2, -0.62, "source words", va="top")
    label(ax, x0 + dx * (T - 1) / 2, -0.62, "previous target word $e(w_{t-1})$", va="top")
    return fig


EXAMPLE_WEIGHTS = (0.06, 0.12, 0.67, 0.15)   # a_{t,i} drawn in the attention figure (sum 1)


def encoder_decoder_attention():
    r"""Encoder-decoder with attention (seq2seq_attention.md): a bidirectional encoder gives the
    columns f_i of F; at step t, s_{t-1} scores them, a_t = softmax(u_t), c_t = F a_t feeds s_t."""
    S, dx = 4, 1.0
    fig, ax = canvas((-0.5, 7.0), (-0.95, 5.95))
    cols = _encoder(ax, S, dx, state_text=lambda i: f"$f_{i}$", both_ways=True, w=0.6)
    att = box(ax, 1.7, 3.35, r"attention", "attention", w=1.6, h=0.6)
    for i, (node, a) in enumerate(zip(cols, EXAMPLE_WEIGHTS), start=1):
        end = att.at(-0.75 + 1.5 * (i - 1) / (S - 1), -1)
        arrow(ax, node.top, end, color="#b8860b", lw=0.8 + 4 * a)
        mid = (0.65 * node.top[0] + 0.35 * end[0], 0.65 * node.top[1] + 0.35 * end[1])
        label(ax, mid[0] - 0.08, mid[1], f"$a_{{t,{i}}}$", ha="right")
    x_prev, x_t = 4.3, 6.2
    s_prev = box(ax, x_prev, 1.35, "$s_{t-1}$", "state2", w=0.9, h=0.55)
    s_t = box(ax, x_t, 1.35, "$s_t$", "state2", w=0.75, h=0.55)
    c_t = box(ax, 3.6, 4.55, "$c_t$", "attention", w=0.7, h=0.55)
    w_t = box(ax, x_t, 3.35, "$w_t$", "output", w=0.75, h=0.5)
    w_in = box(ax, x_t, 0.0, "$e(w_{t-1})$", "input", w=1.1, h=0.5, fontsize=SMALL)
    arrow(ax, (3.45, 1.35), s_prev.left, color=MUTED)
    path(ax, [s_prev.top, (x_prev, att.y), att.right])
    label(ax, 3.4, att.y + 0.1, "query", va="bottom")
    arrow(ax, s_prev.right, s_t.left)
    path(ax, [att.top, (att.x, c_t.y), c_t.left])
    label(ax, att.x - 0.1, 4.1, r"$a_t = \mathrm{softmax}(u_t)$", ha="right")
    label(ax, c_t.x, c_t.y + 0.4, r"$c_t = F a_t = \sum_i a_{t,i} f_i$", va="bottom")
    path(ax, [c_t.right, (5.5, c_t.y), (5.5, 1.6), s_t.at(-1, 0.6)])
    path(ax, [c_t.right, (x_t, c_t.y), w_t.top])
    arrow(ax, s_t.top, w_t.bottom)
    arrow(ax, w_in.top, s_t.bottom)
    title(ax, dx * (S - 1) / 2, 5.72, "encoder: $F = [f_1 \\cdots f_S]$")
    title(ax, 5.6, 5.72, "decoder, step $t$")
    label(ax, dx * (S - 1) / 2, -0.62, "source words (bidirectional RNN)", va="top")
    return fig


def _cells(ax, x0, y0, values, cell=0.34, vmax=None, cmap="PuOr", horizontal=False, alpha=1.0):
    """A vector (column, or row if horizontal) of cells coloured by value; returns its extent."""
    from matplotlib import colormaps

    values = np.asarray(values, dtype=float)
    vmax = float(np.abs(values).max()) if vmax is None else vmax
    colors = colormaps[cmap]
    for k, v in enumerate(values):
        x, y = (x0 + k * cell, y0) if horizontal else (x0, y0 - (k + 1) * cell)
        ax.add_patch(Rectangle((x, y), cell, cell, fc=colors(0.5 + 0.45 * v / vmax), ec=FORWARD,
                               lw=0.8, alpha=alpha, zorder=2))
    n = len(values)
    return (x0, y0, x0 + n * cell, y0 + cell) if horizontal else (x0, y0 - n * cell, x0 + cell, y0)


def _bars(ax, x0, y0, values, scale, width=0.3, step=0.44, color="#b8860b"):
    """A small bar chart on baseline y0 (values may be negative); returns the bar centres."""
    xs = []
    for k, v in enumerate(values):
        x = x0 + k * step
        ax.add_patch(Rectangle((x, min(y0, y0 + v * scale)), width, abs(v) * scale, fc=color,
                               ec=FORWARD, lw=0.6, zorder=2))
        xs.append(x + width / 2)
    ax.plot([x0 - 0.1, x0 + (len(values) - 1) * step + width + 0.1], [y0, y0], color=FORWARD, lw=0.8)
    return xs


def attention_example(S: int = 5, D_f: int = 4, H: int = 3, seed: int = 1):
    """The small example drawn in attention_computation: F (D_f, S), s_{t-1} (H,), V (D_f, H)."""
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(D_f, S))
    s_prev = rng.normal(size=H)
    V = rng.normal(size=(D_f, H))
    r = V @ s_prev
    u = F.T @ r
    a = np.exp(u - u.max())
    a /= a.sum()
    return dict(F=F, s_prev=s_prev, V=V, r=r, u=u, a=a, c=F @ a)


def attention_computation():
    r"""The attention step of seq2seq_attention.md on a small numeric example: r_t = V s_{t-1},
    energies u_t = F^T r_t, weights a_t = softmax(u_t), context c_t = F a_t."""
    ex = attention_example()
    D_f, S = ex["F"].shape
    cell = 0.34
    fig, ax = canvas((-0.3, 7.15), (0.3, 7.6))
    # top row, left: the query path s_{t-1} -> V -> r_t
    y_q = 6.2                                   # the middle of the query row
    _cells(ax, 0.0, y_q + 1.5 * cell, ex["s_prev"], cell)
    label(ax, cell / 2, y_q + 1.5 * cell + 0.1, "$s_{t-1}$", va="bottom", fontsize=FONT, color="black")
    vbox = box(ax, 1.05, y_q, "$V$", "norm", w=0.55, h=0.5)
    arrow(ax, (cell + 0.08, y_q), vbox.left)
    r_x, r_top = 1.6, y_q + D_f * cell / 2
    _cells(ax, r_x, r_top, ex["r"], cell)
    arrow(ax, vbox.right, (r_x, y_q))
    label(ax, r_x + cell + 0.12, y_q, r"$r_t = V s_{t-1}$", ha="left", fontsize=FONT, color="black")
    # top row, right: F, one column f_i per source word
    f_x, f_top = 4.6, 6.9
    vmax = float(np.abs(ex["F"]).max())
    for i in range(S):
        _cells(ax, f_x + i * 0.42, f_top, ex["F"][:, i], cell, vmax)
        label(ax, f_x + i * 0.42 + cell / 2, f_top - D_f * cell - 0.2, f"$f_{i + 1}$", va="top")
    f_right = f_x + (S - 1) * 0.42 + cell
    label(ax, (f_x + f_right) / 2, f_top + 0.1, "$F$, one column\nper source word", color="black",
          va="bottom")
    # middle row: energies u_t = F^T r_t, one score per source word
    y_u = 3.6
    _bars(ax, 0.3, y_u, ex["u"], scale=0.75 / float(np.abs(ex["u"]).max()))
    u_mid = 0.3 + (2 * 0.44 + 0.15)
    label(ax, u_mid, 2.5, r"$u_t = F^{\top} r_t$", fontsize=FONT, color="black")
    label(ax, u_mid, 2.1, r"$u_{t,i} = f_i^{\top} r_t$")
    arrow(ax, (r_x + cell / 2, r_top - D_f * cell), (r_x + cell / 2, y_u + 0.85))
    y_f = f_top - D_f * cell + 0.17           # F's lines leave below the r_t label
    path(ax, [(f_x - 0.1, y_f), (2.3, y_f), (2.3, y_u + 0.85)])   # into the energies, beside r_t
    # weights a_t = softmax(u_t)
    sm = box(ax, 3.25, y_u, "softmax", "attention", w=1.2, h=0.5, fontsize=SMALL)
    arrow(ax, (2.5, y_u), sm.left)
    a_x, y_a, a_scale = 4.25, 2.9, 2.0
    bar_x = _bars(ax, a_x, y_a, ex["a"], scale=a_scale)
    arrow(ax, sm.right, (a_x - 0.12, y_u))
    a_mid = a_x + 2 * 0.44 + 0.15
    label(ax, a_mid, 2.5, r"$a_t = \mathrm{softmax}(u_t)$", fontsize=FONT, color="black")
    label(ax, a_mid, 2.05, r"$a_{t,i} \geq 0,\ \sum_i a_{t,i} = 1$")
    for x, a in zip(bar_x, ex["a"]):
        label(ax, x, y_a + a * a_scale + 0.05, f"{a:.2f}".lstrip("0"), va="bottom")
    # bottom row: the context c_t = F a_t, the weighted average of the columns
    c_x, c_y = 4.6, 0.9
    _cells(ax, c_x, c_y, ex["c"], cell, vmax, horizontal=True)
    c_mid = c_y + cell / 2
    path(ax, [(a_x - 0.1, y_a - 0.05), (a_x - 0.1, c_mid), (c_x - 0.03, c_mid)])
    label(ax, a_x - 0.25, c_mid + 0.17, r"$c_t = F a_t$", ha="right", fontsize=FONT, color="black")
    label(ax, a_x - 0.25, c_mid - 0.3, r"$= \sum_i a_{t,i} f_i$", ha="right")
    c_right = c_x + D_f * cell
    path(ax, [(f_right + 0.05, y_f), (6.95, y_f), (6.95, c_mid),
              (c_right + 0.03, c_mid)], color=MUTED)
    label(ax, 6.85, c_mid + 0.25, "the same $F$", color=MUTED, ha="right", va="bottom")
    return fig


# --------------------------------------------------------------------------- chapter 9

def _stack(ax, x, layers, y0=0.0, gap=0.78, w=2.3, side=1.55):
    """A vertical residual stack. layers: ('box', text, kind) | ('add',) | ('io', text) |
    ('branch',): 'branch' marks where a residual line leaves the stream and the next 'add'
    is where it comes back. Returns the nodes by index."""
    nodes, y, branch = [], y0, None
    for item in layers:
        kind = item[0]
        if kind == "branch":
            branch = y - gap / 2
            nodes.append(None)
            continue
        if kind == "add":
            node = op(ax, x, y, "+")
            if branch is not None:
                path(ax, [(x, branch), (x + side, branch), (x + side, y), node.right])
                ax.plot([x], [branch], "o", ms=4, color=FORWARD, zorder=3)
                branch = None
        elif kind == "io":
            node = box(ax, x, y, item[1], "input", w=w, h=0.5, fontsize=SMALL)
        else:
            node = box(ax, x, y, item[1], item[2], w=w, h=0.52, fontsize=SMALL)
        prev = next((n for n in reversed(nodes) if n is not None), None)
        if prev is not None:
            arrow(ax, prev.top, node.bottom)
        nodes.append(node)
        y += gap
    return nodes


def transformer_blocks():
    r"""The transformer block of transformers.md in its two placements of layer norm:
    post-norm X <- LN(X + MHA(X)), X <- LN(X + F(X)) and pre-norm X <- X + MHA(LN(X)),
    X <- X + F(LN(X))."""
    gap = 0.85
    w, side = 1.7, 1.15
    fig, ax = canvas((-0.45, 6.75), (-0.45, 7 * gap + 1.0))
    post = [("io", "$X$"), ("branch",), ("box", "MHA", "attention"), ("add",), ("box", "LN", "norm"),
            ("branch",), ("box", "$F$ (MLP)", "mlp"), ("add",), ("box", "LN", "norm"), ("io", "$X$")]
    pre = [("io", "$X$"), ("branch",), ("box", "LN", "norm"), ("box", "MHA", "attention"), ("add",),
           ("branch",), ("box", "LN", "norm"), ("box", "$F$ (MLP)", "mlp"), ("add",), ("io", "$X$")]
    for x, layers, name, sub1, sub2 in (
            (0.95, post, "post-norm (original)", r"$\mathrm{LN}(X + \mathrm{MHA}(X))$", r"$\mathrm{LN}(X + F(X))$"),
            (4.85, pre, "pre-norm", r"$X + \mathrm{MHA}(\mathrm{LN}(X))$", r"$X + F(\mathrm{LN}(X))$")):
        _stack(ax, x, layers, gap=gap, w=w, side=side)
        title(ax, x + 0.3, 7 * gap + 0.7, name)
        label(ax, x - w / 2 - 0.3, 2 * gap, sub1, rotation=90)
        label(ax, x - w / 2 - 0.3, 5 * gap, sub2, rotation=90)
        label(ax, x + side + 0.22, 1.5 * gap, "residual", rotation=90)
    return fig


def _mask_inset(ax, x0, y0, n=4, cell=0.22):
    """The causal mask M: row i may see columns j <= i; the grey cells are -inf."""
    for i in range(n):
        for j in range(n):
            ax.add_patch(Rectangle((x0 + j * cell, y0 - (i + 1) * cell), cell, cell,
                                   fc=COLORS["attention"] if j <= i else "#9e9e9e", ec=FORWARD,
                                   lw=0.6, zorder=2))


def decoder_block():
    r"""A decoder block with cross-attention, in the pre-norm order of seqmodels' DecoderBlock:
    masked self-attention (causal mask M), cross-attention to the encoder output C (queries from
    X, keys and values from C), position-wise MLP F, each with LN and a residual."""
    fig, ax = canvas((-2.95, 3.95), (-0.45, 10 * 0.8 + 1.0))
    layers = [("io", "$X$ (decoder input)"), ("branch",), ("box", "LN", "norm"),
              ("box", "masked self-attention", "attention"), ("add",), ("branch",), ("box", "LN", "norm"),
              ("box", "cross-attention", "attention"), ("add",), ("branch",), ("box", "LN", "norm"),
              ("box", "$F$ (MLP)", "mlp"), ("add",), ("io", "$X$ (to the next block)")]
    nodes = _stack(ax, 2.0, layers, gap=0.8, w=3.0, side=1.75)
    masked, cross = nodes[3], nodes[7]
    # encoder output C: keys and values of the cross-attention
    enc = box(ax, -1.85, cross.y, "encoder\noutput $C$", "state", w=1.5, h=0.9, fontsize=SMALL)
    arrow(ax, enc.right, cross.left, lw=1.8)
    label(ax, -0.32, cross.y + 0.12, "$K, V$", ha="center", va="bottom", fontsize=SMALL)
    label(ax, 2.15, cross.y - 0.42, "$Q$", ha="left", fontsize=SMALL)
    label(ax, -1.85, cross.y - 0.6, "(no mask: all of\nthe source is known)", va="top")
    # the causal mask of the self-attention
    _mask_inset(ax, -2.29, masked.y + 0.45)
    arrow(ax, (-1.29, masked.y), masked.left, color=MUTED)
    label(ax, -1.85, masked.y + 0.55, "$M$", fontsize=FONT, color="black", va="bottom")
    label(ax, -1.85, masked.y - 0.55, r"grey: $-\infty$" + "\n(the future)", va="top")
    label(ax, 0.5, 10 * 0.8 + 0.7, "one pre-norm decoder block (seqmodels' DecoderBlock)", color=FORWARD)
    return fig


def kv_cache(t: int = 5, d: int = 4):
    r"""Incremental decoding with a key/value cache (transformers.md): at step t only the new token
    x_t is fed; its k_t, v_t are appended to the cached K, V of positions 1..t-1, and its query q_t
    attends to all t keys: softmax(q_t K^T / sqrt(l)) V."""
    cell = 0.36
    fig, ax = canvas((-0.25, 7.2), (-2.1, 4.75))

    def matrix(x0, top, name, new_color):
        for i in range(t):
            for j in range(d):
                ax.add_patch(Rectangle((x0 + j * cell, top - (i + 1) * cell), cell, cell,
                                       fc=new_color if i == t - 1 else COLORS["norm"], ec=FORWARD,
                                       lw=0.7, zorder=2))
            label(ax, x0 - 0.08, top - (i + 0.5) * cell, str(i + 1), ha="right")
        label(ax, x0 + d * cell / 2, top + 0.12, name, va="bottom", fontsize=FONT, color="black")
        return x0 + d * cell, top - t * cell

    top, x_k, x_v, mid = 3.3, 0.35, 5.25, 3.5
    k_right, bottom = matrix(x_k, top, "cache $K$", COLORS["state"])
    v_right, _ = matrix(x_v, top, "cache $V$", COLORS["state2"])
    k_mid, v_mid = x_k + d * cell / 2, x_v + d * cell / 2
    xt = box(ax, mid, -1.15, "new token $x_t$ only", "input", w=2.45, h=0.5, fontsize=SMALL)
    # its key and value are appended as row t; its query attends to all t keys
    path(ax, [xt.at(-0.6, 1), (xt.x - 0.74, -0.55), (k_mid, -0.55), (k_mid, bottom - 0.05)])
    label(ax, k_mid + 0.1, -0.2, "$k_t$", ha="left", fontsize=FONT, color="black")
    path(ax, [xt.at(0.6, 1), (xt.x + 0.74, -0.55), (v_mid, -0.55), (v_mid, bottom - 0.05)])
    label(ax, v_mid - 0.1, -0.2, "$v_t$", ha="right", fontsize=FONT, color="black")
    label(ax, k_mid - 0.1, bottom - 0.15, "new row $t$", ha="right", va="top")
    label(ax, v_mid + 0.1, bottom - 0.15, "new row $t$", ha="left", va="top")
    q = box(ax, mid, 0.55, "$q_t$", "input", w=0.6, h=0.45)
    arrow(ax, xt.top, q.bottom)
    att = box(ax, mid, 2.2, r"$\mathrm{softmax}(q_t K^{\top}/\sqrt{\ell})$", "attention", w=2.45, h=0.55,
              fontsize=SMALL)
    arrow(ax, q.top, att.bottom)
    arrow(ax, (k_right + 0.05, 2.2), att.left)
    label(ax, mid - 0.12, 1.45, "1 query,\n$t$ keys", ha="right")   # beside the arrow, not on it
    out = box(ax, mid, 4.1, r"$o_t = a V$", "attention", w=1.4, h=0.5, fontsize=SMALL)
    arrow(ax, att.top, out.bottom)
    label(ax, mid + 0.1, 3.15, r"$a$ ($1 \times t$)", ha="left")
    path(ax, [(v_right, top - cell / 2), (v_right + 0.3, top - cell / 2), (v_right + 0.3, 4.1), out.right])
    label(ax, mid, -1.6, "attention per layer: $O(td)$ instead of $O(t^2 d)$", va="top")
    return fig
