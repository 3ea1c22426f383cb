"""seqcourse.figures.labels: word labels on a scatter plot, judged by what the renderer draws.

The oracle is matplotlib's own layout: each label's drawn extent in display pixels (not the
module's estimate of it) must not overlap another label, cover another point's marker, leave
the axes, or lie nearer another point than its own, at the figure sizes the book uses.
"""
from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from seqcourse.figures import labels  # noqa: E402


def clusters(seed=0, groups=4, per_group=9):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(groups, 2)) * 2
    group_of = [g for g in range(groups) for _ in range(per_group)]
    points = np.array([centres[g] + 0.35 * rng.normal(size=2) for g in group_of])
    names = [f"word{k:02d}" + "x" * (k % 5) for k in range(len(points))]
    return points, names, group_of


@pytest.mark.parametrize("figsize", [(4.8, 4.8), (7, 6)])
@pytest.mark.parametrize("seed", [0, 1])
def test_labels_drawn_cover_nothing_and_sit_nearest_their_own_point(figsize, seed):
    points, names, group_of = clusters(seed)
    with plt.style.context("seqcourse.figures.book"):
        fig, ax = plt.subplots(figsize=figsize)
        marker = ax.scatter(points[:, 0], points[:, 1])
        fig.tight_layout()
        placed = labels.place_labels(ax, points, names, group_of)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [text.get_window_extent(renderer) for text in ax.texts]
        assert ax.texts[0].get_fontsize() == plt.rcParams["font.size"]
    assert len(placed) >= len(points) // (3 if figsize[0] >= 7 else 6) and len(boxes) == len(placed)
    centres = ax.transData.transform(points)                    # display px
    radius = np.sqrt(marker.get_sizes()[0]) / 2 * fig.dpi / 72  # marker's half width, px
    inside = ax.get_window_extent(renderer)
    for n, (k, box) in enumerate(zip(placed, boxes)):
        assert box.x0 >= inside.x0 and box.x1 <= inside.x1 and box.y0 >= inside.y0 and box.y1 <= inside.y1, \
            f"{names[k]} leaves the axes"
        for other in boxes[:n]:
            assert not box.overlaps(other), f"{names[k]} overlaps another label"
        others = np.arange(len(points)) != k
        near_x = (centres[:, 0] + radius > box.x0) & (centres[:, 0] - radius < box.x1)
        near_y = (centres[:, 1] + radius > box.y0) & (centres[:, 1] - radius < box.y1)
        assert not (near_x & near_y & others).any(), f"{names[k]} covers another point"
        middle = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
        assert np.linalg.norm(centres - middle, axis=1).argmin() == k, f"{names[k]} is nearer another point"
    plt.close(fig)
