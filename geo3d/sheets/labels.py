"""Deterministic, non-overlapping label placement along one row.

Labels are boxes of known widths that want to sit centred at given positions (the crossings'
chainages on paper). :func:`spread_labels` keeps them in order and moves them as little as it
can so that no two overlap and all stay inside ``[lo, hi]``: neighbouring labels that would
collide are merged into a cluster that sits where its members want to be on average (the
classic "pool adjacent violators" step of isotonic regression), then clusters are clamped to
the bounds. Because order is kept, leader lines from the pipes (in chainage order) to their
labels never cross.

Examples
--------
>>> spread_labels([10.0, 11.0, 30.0], [4.0, 4.0, 4.0], lo=0.0, hi=100.0, gap=1.0).tolist()
[8.0, 13.0, 30.0]
>>> spread_labels([1.0, 1.0], [4.0, 4.0], lo=0.0, hi=100.0, gap=0.0).tolist()
[2.0, 6.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["overlaps", "spread_labels"]


def spread_labels(
    want: Sequence[float] | NDArray[np.float64],
    widths: Sequence[float] | NDArray[np.float64],
    *,
    lo: float,
    hi: float,
    gap: float = 1.0,
) -> NDArray[np.float64]:
    """Centres for labels in the given (sorted) order, no overlaps, inside ``[lo, hi]``.

    Parameters
    ----------
    want : sequence of float
        Desired centre of each label, in the order the labels must keep (sorted).
    widths : sequence of float
        Width of each label.
    lo, hi : float
        Bounds for the labels' outer edges. When the labels do not fit, they start at ``lo``
        and run past ``hi`` (the caller shrinks the font and tries again).
    gap : float
        Free space between neighbours.

    Returns
    -------
    numpy.ndarray
        Centres.
    """
    w = np.asarray(widths, dtype=np.float64)
    x = np.asarray(want, dtype=np.float64)
    n = len(x)
    if n == 0:
        return np.zeros(0)
    # offset of each label's left edge within a cluster that starts at 0
    lefts_wanted = x - w / 2.0
    clusters: list[list[int]] = []
    starts: list[float] = []

    def best_start(members: list[int]) -> float:
        offs = np.cumsum([0.0] + [w[k] + gap for k in members[:-1]])
        return float(np.mean(lefts_wanted[members] - offs))

    def extent(members: list[int]) -> float:
        return float(w[members].sum() + gap * (len(members) - 1))

    for i in range(n):  # labels, not pipes or vertices
        clusters.append([i])
        starts.append(float(lefts_wanted[i]))
        while len(clusters) > 1 and starts[-2] + extent(clusters[-2]) + gap > starts[-1]:
            last = clusters.pop()
            starts.pop()
            clusters[-1].extend(last)
            starts[-1] = best_start(clusters[-1])
    # clamp to the bounds, right to left then left to right
    ends_limit = hi
    for c in range(len(clusters) - 1, -1, -1):
        ext = extent(clusters[c])
        starts[c] = min(starts[c], ends_limit - ext)
        ends_limit = starts[c] - gap
    begin_limit = lo
    for c in range(len(clusters)):
        starts[c] = max(starts[c], begin_limit)
        begin_limit = starts[c] + extent(clusters[c]) + gap
    out = np.zeros(n)
    for c, members in enumerate(clusters):
        left = starts[c]
        for k in members:
            out[k] = left + w[k] / 2.0
            left += w[k] + gap
    return out


def overlaps(boxes: NDArray[np.float64]) -> list[tuple[int, int]]:
    """Pairs of boxes ``(x0, y0, x1, y1)`` that overlap (touching is not overlapping).

    Examples
    --------
    >>> overlaps(np.array([[0, 0, 2, 2], [1, 1, 3, 3], [2, 0, 4, 1]], dtype=float))
    [(0, 1)]
    """
    b = np.asarray(boxes, dtype=np.float64)
    if len(b) < 2:
        return []
    i, j = np.triu_indices(len(b), 1)
    hit = ((b[i, 0] < b[j, 2]) & (b[j, 0] < b[i, 2]) & (b[i, 1] < b[j, 3]) & (b[j, 1] < b[i, 3]))
    return [(int(a), int(c)) for a, c in zip(i[hit], j[hit], strict=True)]
