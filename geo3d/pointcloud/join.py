"""Plan joins of stall pieces: fragments of one thinly sampled stall, and its parts.

A stall far from every scanner station falls apart at the linking distance into pieces (its
frame, a counter, a shelf). :func:`join_fragments` joins pieces whose plan outlines come close
while the whole stays stall-sized; :func:`absorb_parts` gives thin parts (a back shelf, a side
partition) to the stall they stand behind.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .segment import Labels

__all__ = ["FLOOR_STANDING", "RESIDUE_WALL_DISTANCE", "absorb_parts", "join_fragments"]

#: segments closer than this (m) to a wall or column are residue of its face, not part of a stall
RESIDUE_WALL_DISTANCE = 0.2
#: base above the slab (m) of what stands on the floor (the store rule's ``base <= 0.3``)
FLOOR_STANDING = 0.3


def join_fragments(objects: gpd.GeoDataFrame, labels: Labels, *, gap: float = 0.6,
                   max_size: tuple[float, float] | None = (4.2, 3.2),
                   eligible: NDArray[np.bool_] | None = None, across: float = 0.0,
                   min_length: float = 1.0, max_thin: float = 0.6) -> Labels:
    """Join pieces of one object: outlines within ``gap`` whose union stays object-sized.

    A stall far from every station is sampled so thinly that it falls apart at the linking
    distance into pieces (its frame, a counter, a shelf). Pieces whose plan outlines (the
    objects' footprints: convex hulls, which never reach beyond the points) come within
    ``gap`` are joined, nearest first, as long as the joined outline's oriented rectangle is no
    larger than ``max_size`` = (length, width): two neighbouring stalls side by side are longer
    than any one stall, the pieces of one are not. Ties break on the labels (deterministic).

    An open stall seen from afar may show only its front counter and its back shelf, with
    nothing between them. With ``across`` > ``gap``, two pieces up to ``across`` apart join
    too when they face each other the way a counter and a shelf do: both at least
    ``min_length`` long, the thinner at most ``max_thin`` wide, both standing on the floor
    (base ≤ 0.3 m above the slab, when ``height_above_slab`` is known), their long axes within
    15° and overlapping over most (60 %) of the shorter one, and no other piece of some size
    (30 points) standing in the joined outline (that would be a stall between them).

    Parameters
    ----------
    objects : GeoDataFrame
        From :func:`objects_from_segments` (``footprint="hull"``), indexed by label, with
        ``floor`` when the scan has levels.
    labels : ndarray of int, shape (N,)
    gap : float
        Largest distance between two outlines that may still join (m).
    max_size : (float, float) or None
        Largest (length, width) of a joined object's oriented rectangle, m (None: no limit).
    eligible : ndarray of bool, optional
        Per row of ``objects``: which segments may join (default all).
    across : float
        Largest distance between a counter-like and a shelf-like piece facing each other that
        may still join (m; 0: off). Needs ``length``, ``width`` and ``n_points`` columns.
    min_length, max_thin : float
        The pieces that may join ``across``: at least ``min_length`` long, the thinner one at
        most ``max_thin`` wide (m).

    Returns
    -------
    ndarray of int64: joined pieces share their smallest label.

    Examples
    --------
    >>> import shapely
    >>> objs = gpd.GeoDataFrame({"floor": [1, 1, 1]}, index=[0, 1, 2],
    ...     geometry=[shapely.box(0, 0, 1, 2), shapely.box(1.2, 0, 2, 2), shapely.box(2.5, 0, 4.5, 2)])
    >>> join_fragments(objs, np.array([0, 1, 2, -1])).tolist()  # 2 would make it 4.5 m long
    [0, 0, 2, -1]
    >>> join_fragments(objs, np.array([0, 1, 2, -1]), max_size=None).tolist()
    [0, 0, 0, -1]
    """
    import shapely

    labels = np.asarray(labels, dtype=np.int64)
    ok = np.ones(len(objects), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    ok &= ~(objects.geometry.isna().to_numpy() | objects.geometry.is_empty.to_numpy())
    ids = objects.index.to_numpy()[ok]
    if len(ids) < 2 or gap <= 0:
        return labels
    geoms = objects.geometry.to_numpy()[ok]
    tree = shapely.STRtree(geoms)
    floor = objects["floor"].to_numpy()[ok] if "floor" in objects.columns else None

    def pairs_within(which: NDArray[np.int64], distance: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        sub = tree if len(which) == len(geoms) else shapely.STRtree(geoms[which])
        pa, pb = sub.query(geoms[which], predicate="dwithin", distance=distance)
        pa, pb = which[pa], which[pb]
        keep = pa < pb
        if floor is not None:
            keep &= floor[pa] == floor[pb]
        return pa[keep], pb[keep]

    a, b = pairs_within(np.arange(len(geoms)), gap)
    far = np.zeros(len(a), dtype=bool)
    if across > gap:
        # only pieces long enough to be a counter or a shelf may join across (see _facing)
        long_ = np.flatnonzero(objects["length"].to_numpy(dtype=float)[ok] >= min_length)
        fa, fb = pairs_within(long_, across)
        beyond = shapely.distance(geoms[fa], geoms[fb]) > gap  # the nearer ones are in (a, b)
        fa, fb = fa[beyond], fb[beyond]
        facing = _facing(objects[ok], fa, fb, min_length=min_length, max_thin=max_thin)
        a, b = np.r_[a, fa[facing]], np.r_[b, fb[facing]]
        far = np.r_[far, np.ones(int(facing.sum()), dtype=bool)]
    if len(a) == 0:
        return labels
    d = shapely.distance(geoms[a], geoms[b])
    order = np.lexsort((ids[b], ids[a], d))
    # union-find over the candidate pairs, nearest first; each union checked for its size. The
    # joined outline is only built when the two bounding boxes together could exceed the size
    # (their diagonal is longer than the smaller side allowed): most pairs are small pieces
    root = np.arange(len(ids))
    box = shapely.bounds(geoms)
    outline: list[Any] = list(geoms)  # the convex hull of each group's pieces; None: not built yet
    members: dict[int, list[int]] = {}
    sizable = objects["n_points"].to_numpy()[ok] >= 30 if across > gap and "n_points" in objects else None
    small = min(max_size) if max_size is not None else np.inf

    def find(k: int) -> int:
        while root[k] != k:
            root[k] = root[root[k]]
            k = int(root[k])
        return k

    def hull(r: int) -> Any:
        if outline[r] is None:
            outline[r] = shapely.convex_hull(shapely.union_all(geoms[members[r]]))
        return outline[r]

    for k in order:  # a loop over candidate pairs, never over points
        ra, rb = find(int(a[k])), find(int(b[k]))
        if ra == rb:
            continue
        x0, y0 = min(box[ra, 0], box[rb, 0]), min(box[ra, 1], box[rb, 1])
        x1, y1 = max(box[ra, 2], box[rb, 2]), max(box[ra, 3], box[rb, 3])
        joined = None
        if max_size is not None and math.hypot(x1 - x0, y1 - y0) > small:
            # a rectangle holding the pieces has a diagonal at least their extent along x or y
            if max(x1 - x0, y1 - y0) > math.hypot(*max_size):
                continue
            joined = shapely.convex_hull(shapely.union(hull(ra), hull(rb)))
            ln, wd = _rect_sides(joined)
            if ln > max_size[0] or wd > max_size[1]:
                continue
        if far[k] and sizable is not None:
            # nothing of some size between a counter and a shelf (it would be a stall there)
            if joined is None:
                joined = shapely.convex_hull(shapely.union(hull(ra), hull(rb)))
            inside = tree.query(joined, predicate="intersects")
            inside = inside[sizable[inside] & (floor[inside] == floor[ra])] if floor is not None else inside[
                sizable[inside]]
            own = set(members.get(ra, [ra])) | set(members.get(rb, [rb]))
            if any(i not in own for i in inside.tolist()):
                continue
        keep_root, gone = (ra, rb) if ids[ra] < ids[rb] else (rb, ra)
        root[gone] = keep_root
        outline[keep_root] = joined
        members[keep_root] = members.pop(ra, [ra]) + members.pop(rb, [rb])
        box[keep_root] = (x0, y0, x1, y1)
    comp = np.array([find(k) for k in range(len(ids))])
    lut = np.arange(int(labels.max()) + 1)
    lut[ids] = ids[comp]
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)


def _facing(objects: gpd.GeoDataFrame, a: NDArray[np.int64], b: NDArray[np.int64], *, min_length: float,
            max_thin: float) -> NDArray[np.bool_]:
    """Which pairs (rows a, b of ``objects``) face each other like a stall's counter and shelf."""
    length = objects["length"].to_numpy(dtype=float)
    width = objects["width"].to_numpy(dtype=float)
    ok = (np.minimum(length[a], length[b]) >= min_length) & (np.minimum(width[a], width[b]) <= max_thin)
    if "height_above_slab" in objects:  # counters and shelves stand on the floor (a sign hangs)
        base = objects["height_above_slab"].to_numpy(dtype=float)
        ok &= (base[a] <= FLOOR_STANDING) & (base[b] <= FLOOR_STANDING)
    if not ok.any():
        return ok
    geoms = objects.geometry.to_numpy()
    short = np.where(length[a] <= length[b], a, b)
    other = np.where(short == a, b, a)
    axis = _long_axis(geoms[short])
    parallel = np.abs(np.einsum("ij,ij->i", axis, _long_axis(geoms[other]))) >= np.cos(np.radians(15))
    # overlap along the shorter piece's axis, as a share of its length
    return ok & parallel & (_overlap_along(geoms[short], geoms[other], axis) >= 0.6)


def _long_axis(geoms: NDArray[Any]) -> NDArray[np.float64]:
    """Unit vector along the long side of each geometry's oriented rectangle (0 for a point)."""
    import shapely

    coords, owner = shapely.get_coordinates(shapely.boundary(shapely.oriented_envelope(geoms)),
                                            return_index=True)
    first = np.searchsorted(owner, np.arange(len(geoms)))
    count = np.r_[first[1:], len(owner)] - first  # 5 for a rectangle, 2 for a line, 0 for a point
    e1 = np.zeros((len(geoms), 2))
    e2 = np.zeros((len(geoms), 2))
    i = np.flatnonzero(count >= 2)
    e1[i] = coords[first[i] + 1] - coords[first[i]]
    i = np.flatnonzero(count >= 3)
    e2[i] = coords[first[i] + 2] - coords[first[i] + 1]
    axis = np.where((np.hypot(*e1.T) >= np.hypot(*e2.T))[:, None], e1, e2)
    return np.asarray(axis / np.maximum(np.hypot(*axis.T), 1e-9)[:, None])


def _overlap_along(these: NDArray[Any], those: NDArray[Any], axis: NDArray[np.float64]) -> NDArray[np.float64]:
    """Share of each of ``these``' extent along ``axis`` that the matching one of ``those`` covers."""
    import shapely

    def extent(geoms: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        c, k = shapely.get_coordinates(geoms, return_index=True)
        proj = np.einsum("ij,ij->i", c, axis[k])
        lo = np.full(len(geoms), np.inf)
        hi = np.full(len(geoms), -np.inf)
        np.minimum.at(lo, k, proj)  # per pair (hundreds), not per point
        np.maximum.at(hi, k, proj)
        return lo, hi

    alo, ahi = extent(these)
    blo, bhi = extent(those)
    return np.asarray((np.minimum(ahi, bhi) - np.maximum(alo, blo)) / np.maximum(ahi - alo, 1e-9))


def _rect_sides(geom: Any) -> tuple[float, float]:
    """Length and width (length ≥ width) of a geometry's minimum rotated rectangle."""
    import shapely

    c = shapely.get_coordinates(shapely.oriented_envelope(geom))
    if len(c) < 4:
        return (float(np.ptp(c[:, 0]) + np.ptp(c[:, 1])), 0.0) if len(c) else (0.0, 0.0)
    e1, e2 = np.hypot(*(c[1] - c[0])), np.hypot(*(c[2] - c[1]))
    return float(max(e1, e2)), float(min(e1, e2))


def absorb_parts(objects: gpd.GeoDataFrame, labels: Labels, *, is_part: NDArray[np.bool_],
                 is_host: NDArray[np.bool_], reach: float = 0.3, min_overlap: float = 0.6) -> Labels:
    """Merge stall parts (a back shelf, a side partition) into the stall they belong to.

    A part joins the nearest other object within ``reach`` metres in plan (on its floor) whose
    footprint covers at least ``min_overlap`` of the part's length when both are projected on
    the part's long axis — the stall behind whose counter it stands, not the neighbour beside it.
    ``reach`` stays below the gap between two stalls (0.35 m in the generated markets): a side
    partition lies as well "behind" the neighbour's counter as its own, so only nearness tells.
    """
    import shapely

    ids = objects.index.to_numpy()
    part_ids = ids[is_part]
    host_ids = ids[is_host]
    if len(part_ids) == 0 or len(host_ids) == 0:
        return labels
    hosts = objects.loc[host_ids]
    parts = objects.loc[part_ids]
    tree = shapely.STRtree(hosts.geometry.to_numpy())
    pi, hi = tree.query(parts.geometry.to_numpy(), predicate="dwithin", distance=reach)
    if len(pi) == 0:
        return labels
    same_floor = parts["floor"].to_numpy()[pi] == hosts["floor"].to_numpy()[hi]
    pi, hi = pi[same_floor], hi[same_floor]
    polygon = shapely.get_type_id(hosts.geometry.to_numpy()[hi]) == 3
    pi, hi = pi[polygon], hi[polygon]
    pg = parts.geometry.to_numpy()[pi]
    hg = hosts.geometry.to_numpy()[hi]
    # overlap along each part's long axis (from its oriented rectangle)
    overlap = _overlap_along(pg, hg, _long_axis(pg))
    dist = shapely.distance(pg, hg)
    ok = overlap >= min_overlap
    if not ok.any():
        return labels
    cand = pd.DataFrame({"part": part_ids[pi[ok]], "host": host_ids[hi[ok]], "d": dist[ok]})
    best = cand.sort_values(["part", "d", "host"]).drop_duplicates("part")
    lut = np.arange(int(labels.max()) + 1)
    lut[best["part"].to_numpy()] = best["host"].to_numpy()
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)
