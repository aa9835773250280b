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

__all__ = ["floor_label", "ground_level", "levels_from_cloud", "levels_of_points", "street_storey"]

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
    min_surface: float = 0.1,
    max_slab: float = 1.5,
    slab_dip: float = 0.3,
    entrance_level: int | None = None,
    ground_z: float | None = None,
    street: bool = True,
) -> pd.DataFrame:
    """Detect the levels (storeys) of an indoor scan.

    A scanner sees the underside of a slab from the storey below (a ceiling) and its top from
    the storey above (a floor), never its inside. A **slab** is therefore a pair of horizontal
    surfaces — peaks of the footprint coverage per height — a ceiling and, ``min_gap`` to
    ``max_slab`` metres above it, a floor over the same plan cells, with a dip of coverage
    between them. This holds for partial upper floors (a mezzanine covers part of the footprint
    only), for slabs with stair voids (the void only lowers both peaks) and for storeys without
    a scanned ceiling (the top storey's ceiling is then NaN). The lowest storey's floor is the
    lowest surface covering ``min_coverage`` of the footprint.

    Parameters
    ----------
    cloud : PointCloud or array of shape (N, 3)
        Points of the building (x, y, z in metres).
    bin_size : float
        Height resolution of the profile (m); a slab must span at least three bins, so 5 cm
        resolves the thinnest floor slabs (0.15 m). The half-width of a surface's peak follows
        from the measured noise (two standard deviations of the main floor's heights).
    cell_size : float
        Size of the plan cells used to measure footprint coverage.
    min_coverage : float
        Share of the footprint the lowest floor, and the top storey's ceiling, must cover.
    empty_coverage : float
        Heights covering less than this share of the footprint are empty (the ends of the
        occupied height range); a slab's floor has more than this standing on it (0.3–1.8 m
        above), where a roof seen from below has nothing.
    min_gap : float
        Thinnest slab (m): ceiling-to-floor distance of the two surfaces of a slab.
    min_storey_height : float
        Floor to ceiling of a storey at least this (m): 1.8 m, below any habitable storey.
    surface_band : float
        The lowest floor is searched in the lowest ``surface_band`` metres of the scan.
    min_surface : float
        Share of the footprint a slab's surfaces must cover (a mezzanine over a tenth of the hall).
    max_slab : float
        Thickest slab (m): a slab with its beams and services.
    slab_dip : float
        Between a slab's two surfaces the coverage falls under this share of the weaker one.
    entrance_level : int, optional
        Index, in height order from 0, of the storey that is the street-entrance floor ``1층``.
    ground_z : float, optional
        Street level; the storey whose floor is nearest to it becomes ``1층``.
    street : bool
        Without ``entrance_level`` and ``ground_z``, look for the street seen through the doors
        (:func:`street_storey`) to find ``1층``; when there is no such evidence the lowest storey
        is taken, with a warning in the log.

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
    xyz = xyz[np.isfinite(xyz[:, :3]).all(axis=1)]
    if len(xyz) == 0:
        raise EmptyResultError("levels_from_cloud: the cloud has no finite points")
    prof = _Profile(xyz, bin_size, cell_size)
    cov, cov3 = prof.coverage, prof.cov3
    occupied = np.flatnonzero(cov >= empty_coverage)
    storey = round(min_storey_height / bin_size)
    floor_bins = np.zeros(0, dtype=np.int64)
    if len(occupied):  # a sparse cloud (e.g. scattered outdoor returns) may fill no height bin
        start, stop = int(occupied[0]), int(occupied[-1]) + 1
        band = max(1, round(surface_band / bin_size))
        low = np.arange(start, min(stop, start + band))
        floor_bins = low[cov3[low] >= min_coverage]
    if not len(floor_bins) or stop - floor_bins[0] < storey:
        msg = (
            "levels_from_cloud: no storey found (no horizontal surface covers "
            f"{min_coverage:.0%} of the footprint near the bottom of an occupied height range); "
            "check the cloud is one building in metres, or lower min_coverage"
        )
        raise EmptyResultError(msg)
    fb = _peak(cov, int(floor_bins[np.argmax(cov3[floor_bins] >= 0.8 * cov3[floor_bins].max())]))
    k = prof.half_width(fb)
    slabs = [(c, f) for c, f in prof.slabs(k, min_surface=min_surface, min_gap=min_gap, max_slab=max_slab,
                                           dip=slab_dip, storey=storey, min_support=empty_coverage,
                                           top=stop, top_coverage=min_coverage)
             if c >= fb + storey]
    floors = [fb]
    ceilings: list[int | None] = []
    for c, f in slabs:
        if c >= floors[-1] + storey:
            ceilings.append(c)
            floors.append(f)
    high = np.arange(floors[-1] + storey, stop)
    top = high[cov3[high] >= min_coverage]
    ceilings.append(int(top[::-1][np.argmax(cov3[top[::-1]] >= 0.8 * cov3[top].max())]) if len(top) else None)
    rows = []
    for i, (fbin, cbin) in enumerate(zip(floors, ceilings, strict=True)):
        below = ceilings[i - 1] if i else None
        lo = start if below is None else below + k + 1
        hi = stop if i == len(floors) - 1 or cbin is None else cbin + k + 1
        rows.append({
            "slab_z": prof.surface_z(fbin),
            "ceiling_z": np.nan if cbin is None else prof.surface_z(_peak(cov, cbin)),
            "z_min": prof.z0 + lo * bin_size,
            "z_max": prof.z0 + hi * bin_size,
            "floor_coverage": float(cov3[fbin]),
            "ceiling_coverage": np.nan if cbin is None else float(cov3[cbin]),
        })
    levels = pd.DataFrame(rows)
    if entrance_level is None and ground_z is None and street and len(levels) > 1:
        entrance_level = street_storey(xyz, levels)
        if entrance_level is None:
            log.warning("levels_from_cloud: no street seen through a door on any of the %d storeys; the "
                        "lowest is taken as 1층 (give entrance_level / ground_z, or MARKET.toml's "
                        "principal_entrance or entrance_floor)", len(levels))
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


class _Profile:
    """Footprint coverage per height bin, and the plan cells of each bin."""

    def __init__(self, xyz: NDArray[np.float64], bin_size: float, cell_size: float) -> None:
        self.z = xyz[:, 2]
        self.z0 = float(self.z.min())
        self.bin = bin_size
        self.zbin = np.floor((self.z - self.z0) / bin_size).astype(np.int64)
        nb = int(self.zbin.max()) + 1
        ij = np.floor((xyz[:, :2] - xyz[:, :2].min(axis=0)) / cell_size).astype(np.int64)
        cell = ij[:, 0] * (int(ij[:, 1].max()) + 1) + ij[:, 1]
        self.m = int(cell.max()) + 1
        # distinct plan cells occupied per height bin, as a share of the footprint
        self.keys = np.unique(self.zbin * self.m + cell)
        self.coverage = np.bincount(self.keys // self.m, minlength=nb) / len(np.unique(cell))
        c = self.coverage  # a surface straddling two bins (noise, slight tilt) counts as one
        self.cov3 = np.maximum(c, np.maximum(np.r_[0, c[:-1]], np.r_[c[1:], 0]))

    def half_width(self, b: int) -> int:
        """Bins on each side of a surface's peak: two noise sigmas (robust spread of the floor at ``b``)."""
        sel = np.abs(self.zbin - b) <= 1
        z = self.z[sel]
        sigma = 1.4826 * float(np.median(np.abs(z - np.median(z)))) if len(z) else 0.0
        return int(np.clip(np.ceil(2 * sigma / self.bin), 1, 3))

    def cells(self, b0: int, b1: int) -> NDArray[np.int64]:
        """Plan cells occupied in bins b0..b1 (inclusive)."""
        k = self.keys[(self.keys >= b0 * self.m) & (self.keys < (b1 + 1) * self.m)]
        return np.unique(k % self.m)

    def slabs(self, k: int, *, min_surface: float, min_gap: float, max_slab: float, dip: float,
              storey: int, min_support: float, top: int, top_coverage: float) -> list[tuple[int, int]]:
        """(ceiling bin, floor bin) of every slab: see :func:`levels_from_cloud`."""
        c = self.coverage
        # a surface is a sharp peak: twice the median coverage 0.5 m on its quieter side (the
        # slab's inside) and a quarter above the busier one (the clutter of its storey), so the
        # bumps of a storey's clutter are not surfaces
        w = max(k + 3, round(0.5 / self.bin))
        win = np.lib.stride_tricks.sliding_window_view(np.r_[np.zeros(w), c, np.zeros(w)], w - k - 1)
        below = np.median(win[: len(c)], axis=1)  # c[b - w : b - k - 1]
        above = np.median(win[w + k + 2:w + k + 2 + len(c)], axis=1)  # c[b + k + 2 : b + w + 1]
        sharp = (c >= 2 * np.minimum(below, above)) & (c >= 1.25 * np.maximum(below, above))
        peak = np.flatnonzero((c >= np.r_[0, c[:-1]]) & (c > np.r_[c[1:], 0]) & (self.cov3 >= min_surface)
                              & sharp)
        lo_g, hi_g = max(2, round(min_gap / self.bin)), round(max_slab / self.bin)
        # what stands on a floor: the median coverage 0.3-1.8 m above it (walls at least); a
        # roof seen from below has nothing over it
        up0, up1 = round(0.3 / self.bin), round(1.8 / self.bin)
        out: list[tuple[int, int]] = []
        def supported(b: int) -> bool:
            above = np.r_[c[b + up0:b + up1 + 1], np.zeros(up1 + 1 - up0)][: up1 + 1 - up0]
            return bool(np.median(above) >= min_support)

        # the ceiling of the storey above the next slab found; at first the building's top: its
        # highest large surface when nothing stands on it (a roof), else the top of the scan
        large = peak[self.cov3[peak] >= top_coverage]
        limit = int(large[-1]) if len(large) and not supported(int(large[-1])) else top
        # from the top down, each floor with the nearest ceiling under it: a storey's clutter
        # (awnings, stall roofs seen from below) then never pairs with the ceiling above it
        for fb in peak[::-1]:
            if fb + storey > limit or not supported(int(fb)):
                continue
            for cb in peak[(peak >= fb - hi_g) & (peak <= fb - lo_g)][::-1]:
                if c[cb + 1:fb].min() >= dip * min(c[cb], c[fb]):
                    continue
                a, b = self.cells(cb - k, cb + k), self.cells(fb - k, fb + k)
                if len(np.intersect1d(a, b, assume_unique=True)) >= 0.5 * min(len(a), len(b)):
                    out.append((int(cb), int(fb)))
                    limit = int(cb)
                    break
        return out[::-1]

    def surface_z(self, b: int) -> float:
        """Median height of the points in bin ``b`` and its neighbours (a surface's height)."""
        sel = np.abs(self.zbin - b) <= 1
        return float(np.median(self.z[sel]))


def street_storey(cloud: Any, levels: pd.DataFrame, *, cell: float = 0.25, max_door: float = 6.0,
                  max_step: float = 0.35, min_area: float = 2.0) -> int | None:
    """Index (height order from 0) of the storey whose floor continues outside the building.

    Through the doors of the street-entrance floor a scanner sees the pavement outside; a
    basement or an upper floor has no ground outside. The building's outline is the plan of
    what stands 0.3–2.5 m above any storey's floor (walls, stalls …), its door gaps closed
    (openings up to ``max_door`` metres, wider than any market door), its inside filled and
    grown by 0.5 m (the wall's thickness);
    ground is the points from ``max_step`` below the floor (a kerb or steps down to the street)
    to 0.1 m above it, and above the storey's ``z_min`` when ``levels`` has it (not the ceiling
    of the storey below). The storey with at least ``min_area`` m² of ground outside the outline,
    and three times more than any other storey, is the entrance storey; None when no storey
    has such evidence. A storey whose outline is not closed (its walls not scanned: less than
    half of its floor inside) gives no evidence.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> def storey(z, n=20000):   # floor and walls of a 20 × 10 m hall, a door at x 5-8 m
    ...     f = np.column_stack([rng.uniform(0, 20, n), rng.uniform(0, 10, n), np.full(n, z)])
    ...     t = rng.uniform(0, 60, n)
    ...     t = t[(t < 5) | (t > 8)]
    ...     x = np.where(t < 20, t, np.where(t < 40, t - 20, np.where(t < 50, 0.0, 20.0)))
    ...     y = np.where(t < 20, 0.0, np.where(t < 40, 10.0, np.where(t < 50, t - 40, t - 50)))
    ...     return np.vstack([f, np.column_stack([x, y, z + rng.uniform(0, 3, len(t))])])
    >>> pavement = np.column_stack([rng.uniform(4, 9, 2000), rng.uniform(-4, 0, 2000), np.full(2000, 4.1)])
    >>> lv = pd.DataFrame({"slab_z": [0.0, 4.2]})
    >>> street_storey(np.vstack([storey(0.0), storey(4.2), pavement]), lv)
    1
    """
    from scipy import ndimage as ndi

    xyz = _xyz(cloud)
    o = xyz[:, :2].min(axis=0)
    ij = np.floor((xyz[:, :2] - o) / cell).astype(np.int64)
    shape = tuple(ij.max(axis=0) + 1)
    n_close = max(1, int(np.ceil(max_door / cell / 2)))
    z_min = levels["z_min"].to_numpy(float) if "z_min" in levels else np.full(len(levels), -np.inf)
    slab = levels["slab_z"].to_numpy(dtype=float)
    occ = np.zeros(shape, bool)  # what stands on any storey: the whole building's outline
    for z in slab:
        h = xyz[:, 2] - z
        stand = (h > 0.3) & (h < 2.5)
        occ[ij[stand, 0], ij[stand, 1]] = True
    occ = np.pad(occ, n_close + 1)
    # grown by half the widest door (so the doors close), filled, and shrunk back: a closing
    # would not seal a gap in a thin straight wall
    grown = ndi.binary_fill_holes(ndi.binary_dilation(occ, iterations=n_close))
    inside = ndi.binary_erosion(grown, iterations=n_close - 2)[n_close + 1:-n_close - 1, n_close + 1:-n_close - 1]
    area = []
    for z, lowest in zip(slab, z_min, strict=True):
        h = xyz[:, 2] - z
        ground = (h > -max_step) & (h < 0.1) & (xyz[:, 2] >= lowest)
        g = np.zeros(shape, bool)
        g[ij[ground, 0], ij[ground, 1]] = True
        on_floor = np.abs(h) < 0.1
        f = np.zeros(shape, bool)
        f[ij[on_floor, 0], ij[on_floor, 1]] = True
        closed = (f & inside).sum() >= 0.5 * f.sum()
        area.append(float((g & ~inside).sum()) * cell * cell if closed else 0.0)
    order = np.argsort(area)[::-1]
    best = int(order[0])
    second = area[int(order[1])] if len(order) > 1 else 0.0
    log.info("street_storey: ground outside the outline per storey %s m²", [round(a, 1) for a in area])
    if area[best] >= min_area and area[best] >= 3 * second:
        return best
    return None


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
