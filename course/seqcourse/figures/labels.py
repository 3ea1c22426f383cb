"""Labels for a scatter plot of words that never cover each other, a point, or the legend.

The word2vec chapter's 2-D map has tight clusters: a label placed blindly covers its
neighbours, and one placed only where it covers nothing may sit closer to another group's
point than to its own, which reads as a wrong label. Each label therefore takes the first of
four places beside its point (above right, above left, below right, below left) that
* stays inside the axes' data range (their 5 % margins),
* covers no label already drawn and no other point's marker,
* has its own point nearest to its middle, and every point of another group clearly farther;
a point with no such place gets no label (its colour in the legend still names its group).
"""
from __future__ import annotations

import numpy as np

# Sizes on the page, in em of the label's font or in points, turned into data units through the
# axes' size: a label's width per character (DejaVu Sans digits; lowercase letters are narrower), its height,
# the gap to its point, and half a default scatter marker (36 pt^2).
CHAR_EM, LINE_EM = 0.65, 1.25
GAP_PT, MARKER_PT = 2.5, 3.5
MARGIN = 0.04                    # how far past the outermost points a label may reach
CLEAR = 0.7                      # own point at most this fraction of the nearest other group's distance


def data_per_point(ax) -> tuple[float, float]:
    """How many data units one typographic point spans in x and in y, at the axes' current size."""
    fig, box = ax.figure, ax.get_position()
    width_pt, height_pt = 72 * fig.get_figwidth() * box.width, 72 * fig.get_figheight() * box.height
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return abs(x1 - x0) / width_pt, abs(y1 - y0) / height_pt


def place_labels(ax, points, names, groups, fontsize: float | None = None) -> list[int]:
    """Draw names[k] beside points[k] where it is unambiguous; return the indices labelled.

    Call it after the points are plotted (the axes' limits fix the scale) and before changes of
    the figure's size; the text takes the style's font size unless `fontsize` is given.
    """
    import matplotlib

    fontsize = matplotlib.rcParams["font.size"] if fontsize is None else fontsize
    P = np.asarray(points, dtype=float)
    span = np.ptp(P, axis=0)
    span[span == 0] = 1.0
    px, py = data_per_point(ax)
    lo, hi = P.min(0) - MARGIN * span, P.max(0) + MARGIN * span
    page = np.array([px, py])
    scaled = P / page                 # positions on the page, in points: "nearest" as a reader sees it
    groups = np.asarray(groups)
    boxes, labelled = [], []

    def free(k, box) -> bool:
        (x0, y0), (x1, y1) = box
        if x0 < lo[0] or y0 < lo[1] or x1 > hi[0] or y1 > hi[1]:
            return False
        if any(x1 >= a and x0 <= c and y1 >= b and y0 <= d for (a, b), (c, d) in boxes):
            return False
        mx, my = MARKER_PT * px, MARKER_PT * py
        others = np.arange(len(P)) != k
        covered = ((P[:, 0] + mx >= x0) & (P[:, 0] - mx <= x1) & (P[:, 1] + my >= y0) & (P[:, 1] - my <= y1))
        if (covered & others).any():
            return False
        dist = np.linalg.norm(scaled - (np.array([x0 + x1, y0 + y1]) / 2) / page, axis=1)
        other_group = groups != groups[k]
        return dist.argmin() == k and (not other_group.any() or dist[k] < CLEAR * dist[other_group].min())

    for k, (x, y) in enumerate(P):
        w, h = CHAR_EM * fontsize * px * len(names[k]), LINE_EM * fontsize * py
        gap = GAP_PT * px
        for dx, dy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
            x0 = x + gap if dx > 0 else x - gap - w
            y0 = y + GAP_PT * py if dy > 0 else y - GAP_PT * py - h
            box = ((x0, y0), (x0 + w, y0 + h))
            if free(k, box):
                ax.text(x + dx * gap, y + dy * GAP_PT * py, names[k], fontsize=fontsize,
                        ha="left" if dx > 0 else "right", va="bottom" if dy > 0 else "top")
                boxes.append(box)
                labelled.append(k)
                break
    return labelled
