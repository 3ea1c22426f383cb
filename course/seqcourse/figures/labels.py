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

# A 10-pt label and a default scatter marker, as fractions of the data span (7 x 6 in figure).
CHAR_WIDTH, TEXT_HEIGHT, GAP = 0.016, 0.035, 0.008
MARKER = (0.012, 0.014)          # half a marker, in x and in y
MARGIN = 0.04                    # how far past the outermost points a label may reach
CLEAR = 0.7                      # own point at most this fraction of the nearest other group's distance


def place_labels(ax, points, names, groups, fontsize: float = 10) -> list[int]:
    """Draw names[k] beside points[k] where it is unambiguous; return the indices labelled."""
    P = np.asarray(points, dtype=float)
    span = np.ptp(P, axis=0)
    span[span == 0] = 1.0
    lo, hi = P.min(0) - MARGIN * span, P.max(0) + MARGIN * span
    scaled = P / span
    groups = np.asarray(groups)
    boxes, labelled = [], []

    def free(k, box) -> bool:
        (x0, y0), (x1, y1) = box
        if x0 < lo[0] or y0 < lo[1] or x1 > hi[0] or y1 > hi[1]:
            return False
        if any(x1 >= a and x0 <= c and y1 >= b and y0 <= d for (a, b), (c, d) in boxes):
            return False
        mx, my = MARKER[0] * span[0], MARKER[1] * span[1]
        others = np.arange(len(P)) != k
        covered = ((P[:, 0] + mx >= x0) & (P[:, 0] - mx <= x1) & (P[:, 1] + my >= y0) & (P[:, 1] - my <= y1))
        if (covered & others).any():
            return False
        dist = np.linalg.norm(scaled - (np.array([x0 + x1, y0 + y1]) / 2) / span, axis=1)
        other_group = groups != groups[k]
        return dist.argmin() == k and (not other_group.any() or dist[k] < CLEAR * dist[other_group].min())

    for k, (x, y) in enumerate(P):
        w, h, gap = CHAR_WIDTH * span[0] * len(names[k]), TEXT_HEIGHT * span[1], GAP * span[0]
        for dx, dy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
            x0 = x + gap if dx > 0 else x - gap - w
            y0 = y + gap if dy > 0 else y - gap - h
            box = ((x0, y0), (x0 + w, y0 + h))
            if free(k, box):
                ax.text(x + dx * gap, y + dy * gap, names[k], fontsize=fontsize,
                        ha="left" if dx > 0 else "right", va="bottom" if dy > 0 else "top")
                boxes.append(box)
                labelled.append(k)
                break
    return labelled
