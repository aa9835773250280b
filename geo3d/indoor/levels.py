"""Levels (storeys) of a building from an indoor scan.

A scanner inside a building sees the top of each floor slab and the underside of each ceiling,
never the inside of a slab. So the height profile of the scan, measured as the share of the
building's footprint occupied at each height, shows *storeys* (runs of occupied heights) split
by *empty bands* (slab interiors). In each storey the floor is the lowest height that covers
much of the footprint, and the ceiling the highest one (if any).

This is robust to what real indoor scans do: desk- and counter-height planes can hold more
points than the floor (they are inside a storey, not at its bottom); some scans have no ceiling
(the storey then has ``ceiling_z = NaN``); stairwells and atria only add a small share of the
footprint to a slab's empty band.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import EmptyResultError, InputError

__all__ = ["floor_label", "ground_level", "levels_from_cloud", "levels_of_points"]

log = logging.getLogger(__name__)


def floor_label(floor: int) -> str:
    """Korean floor label for a floor number (no floor 0).

    Examples
    --------
    >>> floor_label(1), floor_label(3), floor_label(-1)
    ('1층', '3층', '지하1층')
    >>> floor_label(0)
    Traceback (most recent call last):
    ...
    geo3d.errors.InputError: there is no floor 0: floors run ..., -2, -1, 1, 2, ...
    """
    if floor == 0:
        raise InputError("there is no floor 0: floors run ..., -2, -1, 1, 2, ...")
    return f"{floor}층" if floor > 0 else f"지하{-floor}층"


def _xyz(cloud: Any) -> NDArray[np.float64]:
    xyz = getattr(cloud, "xyz", cloud)
    xyz = np.asarray(xyz, dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] < 3:
        raise InputError(f"expected a PointCloud or an (N, 3) array, got shape {xyz.shape}")
    return xyz


def _runs(mask: NDArray[np.bool_]) -> NDArray[np.int64]:
    """(start, stop) index pairs of the runs of True in a 1-D boolean array."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return edges.reshape(-1, 2)


def levels_from_cloud(
    cloud: Any,
    *,
    bin_size: float = 0.05,
    cell_size: float = 0.5,
    min_coverage: float = 0.25,
    empty_coverage: float = 0.02,
    min_gap: float = 0.1,
    min_storey_height: float = 1.8,
    surface_band: float = 1.2,
    entrance_level: int | None = None,
    ground_z: float | None = None,
) -> pd.DataFrame:
    """Detect the levels (storeys) of an indoor scan.

    Parameters
    ----------
    cloud : PointCloud or array of shape (N, 3)
        Points of the building (x, y, z in metres).
    bin_size : float
        Height resolution of the profile.
    cell_size : float
        Size of the plan cells used to measure footprint coverage.
    min_coverage : float
        Share of the footprint a horizontal surface must cover to count as a floor or ceiling.
    empty_coverage : float
        Heights covering less than this share of the footprint are empty; an empty band is a
        slab interior when it is at least ``min_gap`` thick, its mean coverage is under half of
        this, and a floor lies within 0.15 m above it.
    min_gap : float
        Shortest empty band that separates two storeys (a thin slab is ≥ 0.1 m).
    min_storey_height : float
        Occupied runs shorter than this are not storeys (clutter, noise).
    surface_band : float
        The floor is searched in the lowest, the ceiling in the highest ``surface_band`` metres
        of a storey.
    entrance_level : int, optional
        Index, in height order from 0, of the storey that is the street-entrance floor ``1층``.
    ground_z : float, optional
        Street level; the storey whose floor is nearest to it becomes ``1층``. Without this and
        ``entrance_level`` the lowest storey is ``1층``.

    Returns
    -------
    pandas.DataFrame
        One row per level, lowest first: ``floor`` (no 0), ``label`` (``1층``, ``지하1층``),
        ``ordinal`` (IMDF: 1층 → 0, 지하1층 → −1), ``slab_z``, ``ceiling_z`` (NaN when the storey
        has no ceiling), ``z_min``, ``z_max`` (the storey's occupied heights), ``floor_coverage``,
        ``ceiling_coverage``.

    Raises
    ------
    EmptyResultError
        When no storey is found (the message says which parameter to relax).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> def plane(z, n=4000):
    ...     return np.column_stack([rng.uniform(0, 20, n), rng.uniform(0, 10, n), np.full(n, z)])
    >>> def walls(z0, z1, n=3000):
    ...     t = rng.uniform(0, 20, n)
    ...     return np.column_stack([t, np.zeros(n), rng.uniform(z0, z1, n)])
    >>> pts = np.vstack([plane(0.0), plane(0.9, 6000)[:1000], walls(0, 3.5), plane(3.5),
    ...                  plane(3.8), walls(3.8, 7.3), plane(7.3)])
    >>> levels_from_cloud(pts)[["floor", "label", "slab_z", "ceiling_z"]]
       floor label  slab_z  ceiling_z
    0      1    1층     0.0        3.5
    1      2    2층     3.8        7.3
    """
    xyz = _xyz(cloud)
    finite = np.isfinite(xyz[:, :3]).all(axis=1)
    xyz = xyz[finite]
    if len(xyz) == 0:
        raise EmptyResultError("levels_from_cloud: the cloud has no finite points")

    z0 = float(xyz[:, 2].min())
    zbin = np.floor((xyz[:, 2] - z0) / bin_size).astype(np.int64)
    nb = int(zbin.max()) + 1
    ij = np.floor((xyz[:, :2] - xyz[:, :2].min(axis=0)) / cell_size).astype(np.int64)
    cell = ij[:, 0] * (int(ij[:, 1].max()) + 1) + ij[:, 1]
    footprint = len(np.unique(cell))

    # distinct plan cells occupied per height bin, as a share of the footprint
    keys = np.unique(zbin * (int(cell.max()) + 1) + cell)
    coverage = np.bincount(keys // (int(cell.max()) + 1), minlength=nb) / footprint
    # a surface straddling two bins (noise, slight tilt) counts as one
    cov3 = np.maximum(coverage, np.maximum(np.r_[0, coverage[:-1]], np.r_[coverage[1:], 0]))

    occupied = coverage >= empty_coverage
    # an empty band inside the scan is a slab only when it is at least min_gap thick, truly
    # empty (a slab's inside shows only through stair openings: mean coverage under half of
    # empty_coverage) and has the next storey's floor right on top of it. Others are closed:
    # noise, the thin band at the scanner's own height that a sparse scan misses, the air
    # between stall tops and the ceiling in a sparse scan.
    gap_bins = max(1, round(min_gap / bin_size))
    margin = max(1, round(0.15 / bin_size))
    for start, stop in _runs(~occupied):
        if start == 0 or stop == nb:
            continue
        floor_above = bool(cov3[stop:stop + margin].max(initial=0.0) >= min_coverage)
        empty = bool(coverage[start:stop].mean() < 0.5 * empty_coverage)
        if stop - start < gap_bins or not floor_above or not empty:
            occupied[start:stop] = True

    band = max(1, round(surface_band / bin_size))
    rows = []
    for start, stop in _runs(occupied):
        if (stop - start) * bin_size < min_storey_height:
            continue
        low = np.arange(start, min(stop, start + band))
        floor_bins = low[cov3[low] >= min_coverage]
        if len(floor_bins) == 0:
            continue
        fb = int(floor_bins[np.argmax(cov3[floor_bins] >= 0.8 * cov3[floor_bins].max())])
        fb = _peak(coverage, fb)
        high = np.arange(max(start, stop - band), stop)
        high = high[high > fb + round(min_storey_height / bin_size) - 1]
        ceil_bins = high[cov3[high] >= min_coverage]
        cb = None
        if len(ceil_bins):
            cb = int(ceil_bins[::-1][np.argmax(cov3[ceil_bins[::-1]] >= 0.8 * cov3[ceil_bins].max())])
            cb = _peak(coverage, cb)
        rows.append(
            {
                "slab_z": _surface_z(xyz[:, 2], zbin, fb),
                "ceiling_z": np.nan if cb is None else _surface_z(xyz[:, 2], zbin, cb),
                "z_min": z0 + start * bin_size,
                "z_max": z0 + stop * bin_size,
                "floor_coverage": float(cov3[fb]),
                "ceiling_coverage": np.nan if cb is None else float(cov3[cb]),
            }
        )
    if not rows:
        msg = (
            "levels_from_cloud: no storey found (no horizontal surface covers "
            f"{min_coverage:.0%} of the footprint near the bottom of an occupied height range); "
            "check the cloud is one building in metres, or lower min_coverage"
        )
        raise EmptyResultError(msg)

    levels = pd.DataFrame(rows)
    one = _entrance_index(levels, entrance_level=entrance_level, ground_z=ground_z)
    index = np.arange(len(levels)) - one
    levels.insert(0, "floor", np.where(index >= 0, index + 1, index).astype(int))
    levels.insert(1, "label", [floor_label(int(f)) for f in levels["floor"]])
    levels.insert(2, "ordinal", index.astype(int))
    levels[["slab_z", "ceiling_z"]] = levels[["slab_z", "ceiling_z"]].round(3)
    log.info(
        "levels_from_cloud: %s points -> %d levels (%s)",
        f"{len(xyz):,}",
        len(levels),
        ", ".join(f"{r.label} {r.slab_z:.2f} m" for r in levels.itertuples()),
    )
    return levels


def ground_level(cloud: Any, *, percentile: float = 1.0, ground_class: int | None = 2) -> pd.DataFrame:
    """One level standing on the ground, for clouds with no storey structure (outdoor tiles).

    :func:`levels_from_cloud` finds storeys from floors and ceilings that cover the footprint;
    an airborne or street tile has neither, so this gives the fallback: a single level ``1층``
    whose slab is the ground — the median height of the points classified as ground
    (ASPRS class ``ground_class``) when the cloud has a ``classification`` attribute holding
    that class, else the ``percentile``-th percentile of z — with no ceiling, spanning every
    point.

    Parameters
    ----------
    cloud : PointCloud or array of shape (N, 3)
    percentile : float
        Low percentile of z taken as the ground without classification (robust to low noise).
    ground_class : int or None
        Classification code of ground points (2 in ASPRS LAS); None: ignore classification.

    Returns
    -------
    pandas.DataFrame
        Same columns as :func:`levels_from_cloud`, one row.

    Examples
    --------
    >>> pts = np.array([[0, 0, 10.0], [1, 0, 10.2], [0, 1, 10.1], [1, 1, 25.0]])
    >>> ground_level(pts)[["floor", "label", "slab_z", "ceiling_z", "z_max"]]
       floor label  slab_z  ceiling_z  z_max
    0      1    1층  10.003        NaN   25.0
    """
    xyz = _xyz(cloud)
    z = xyz[:, 2][np.isfinite(xyz[:, :3]).all(axis=1)]
    if len(z) == 0:
        raise EmptyResultError("ground_level: the cloud has no finite points")
    attrs = getattr(cloud, "attrs", {})
    cls = attrs.get("classification") if ground_class is not None else None
    ground = None
    if cls is not None:
        cls = np.asarray(cls)
        finite = np.isfinite(xyz[:, :3]).all(axis=1)
        on_ground = (cls == ground_class)[finite]
        if on_ground.any():
            ground = float(np.median(z[on_ground]))
    slab = float(np.percentile(z, percentile)) if ground is None else ground
    levels = pd.DataFrame(
        {
            "floor": [1], "label": [floor_label(1)], "ordinal": [0],
            "slab_z": [round(slab, 3)], "ceiling_z": [np.nan],
            "z_min": [float(z.min())], "z_max": [float(z.max())],
            "floor_coverage": [np.nan], "ceiling_coverage": [np.nan],
        }
    )
    log.info("ground_level: %s points -> one level on the ground at %.2f (%s)", f"{len(z):,}", slab,
             "ground class" if ground is not None else f"{percentile:g}th percentile of z")
    return levels


def _peak(coverage: NDArray[np.float64], b: int) -> int:
    """Move to the locally highest coverage bin next to ``b``."""
    lo, hi = max(0, b - 1), min(len(coverage), b + 2)
    return lo + int(np.argmax(coverage[lo:hi]))


def _surface_z(z: NDArray[np.float64], zbin: NDArray[np.int64], b: int) -> float:
    """Median height of the points in bin ``b`` and its neighbours (a surface's height)."""
    sel = (zbin >= b - 1) & (zbin <= b + 1)
    return float(np.median(z[sel]))


def _entrance_index(levels: pd.DataFrame, *, entrance_level: int | None, ground_z: float | None) -> int:
    if entrance_level is not None and ground_z is not None:
        raise InputError("give entrance_level or ground_z, not both")
    if entrance_level is not None:
        if not 0 <= entrance_level < len(levels):
            msg = f"entrance_level={entrance_level} but only {len(levels)} storeys were found (0..{len(levels) - 1})"
            raise InputError(msg)
        return entrance_level
    if ground_z is not None:
        return int(np.argmin(np.abs(levels["slab_z"].to_numpy() - ground_z)))
    return 0


def levels_of_points(cloud: Any, levels: pd.DataFrame, *, below: float = 0.3) -> NDArray[np.int8]:
    """Floor number of every point (0 for points outside every storey).

    A point belongs to the storey whose floor is the highest one at most ``below`` metres above
    the point, and whose occupied range (``z_max``) it does not exceed by more than ``below``.

    Examples
    --------
    >>> levels = pd.DataFrame({"floor": [1, 2], "slab_z": [0.0, 4.0], "z_max": [3.6, 7.6]})
    >>> levels_of_points(np.array([[0, 0, -1.0], [0, 0, 0.1], [0, 0, 3.5], [0, 0, 4.2]]), levels)
    array([0, 1, 1, 2], dtype=int8)
    """
    z = _xyz(cloud)[:, 2]
    slab = levels["slab_z"].to_numpy(dtype=float)
    top = levels["z_max"].to_numpy(dtype=float)
    i = np.searchsorted(slab - below, z, side="right") - 1
    ok = (i >= 0) & (z <= top[np.clip(i, 0, None)] + below)
    floors = levels["floor"].to_numpy(dtype=np.int8)
    return np.where(ok, floors[np.clip(i, 0, None)], 0).astype(np.int8)
