"""Store entrances: the face of each store footprint that opens onto an aisle.

Each footprint is reduced to its oriented rectangle; of its four faces the one whose midpoint
lies nearest an aisle centreline on the store's floor is the entrance. Vectorised over stores
(one STRtree query per floor), so it scales linearly with the number of stores.

Examples
--------
>>> import geopandas as gpd, shapely
>>> aisles = gpd.GeoDataFrame({"name": ["가1통로"], "floor": [1]},
...                           geometry=[shapely.LineString([(0, 0), (100, 0)])])
>>> stores = gpd.GeoDataFrame({"floor": [1]}, geometry=[shapely.box(10, 2, 13, 5)])
>>> store_entrances(stores, aisles)[["entrance_x", "entrance_y", "aisle"]]
   entrance_x  entrance_y aisle
0        11.5         2.0  가1통로
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

__all__ = ["project_on_aisles", "store_entrances"]


def project_on_aisles(
    xy: NDArray[np.float64],
    floor: NDArray[np.int64],
    aisles: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Nearest aisle on the same floor for each point: its row, arc length s, signed offset d.

    ``d`` is positive on the left of the aisle's direction (start → end). Points on a floor
    without aisles get ``aisle_row = -1`` and NaN measures. Vectorised (STRtree per floor).

    Examples
    --------
    >>> import geopandas as gpd, shapely, numpy as np
    >>> a = gpd.GeoDataFrame({"name": ["가1통로"], "floor": [1]},
    ...                      geometry=[shapely.LineString([(0, 0), (100, 0)])])
    >>> project_on_aisles(np.array([[30.0, 2.0], [50.0, -1.0]]), np.array([1, 1]), a)
       aisle_row     s    d  distance
    0          0  30.0  2.0       2.0
    1          0  50.0 -1.0       1.0
    """
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    floor = np.asarray(floor, dtype=np.int64)
    n = len(xy)
    row = np.full(n, -1, dtype=np.int64)
    s = np.full(n, np.nan)
    dist = np.full(n, np.nan)
    a_floor = aisles["floor"].to_numpy(dtype=np.int64)
    a_geom = np.asarray(aisles.geometry.values, dtype=object)
    pts = shapely.points(xy)
    # points and aisles grouped by floor with one sort each (not one pass per floor)
    p_order = np.argsort(floor, kind="stable")
    p_floors, p_start = np.unique(floor[p_order], return_index=True)
    p_end = np.r_[p_start[1:], n][: len(p_start)]  # no points: no group (not one ending at 0)
    a_order = np.argsort(a_floor, kind="stable")
    a_floors, a_start = np.unique(a_floor[a_order], return_index=True)
    a_end = np.r_[a_start[1:], len(a_floor)][: len(a_start)]
    a_at = dict(zip(a_floors.tolist(), zip(a_start.tolist(), a_end.tolist(), strict=True), strict=True))
    for f, i0, i1 in zip(p_floors.tolist(), p_start.tolist(), p_end.tolist(), strict=True):
        if f not in a_at:
            continue
        sel = p_order[i0:i1]
        arows = a_order[slice(*a_at[f])]
        tree = shapely.STRtree(a_geom[arows])
        (pi, ai), dd = tree.query_nearest(pts[sel], return_distance=True, all_matches=True)
        # ties (a point equally near two aisles): keep the first aisle in table order
        order = np.lexsort((arows[ai], pi))
        pi, ai, dd = pi[order], ai[order], dd[order]
        first = np.ones(len(pi), dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        pi, ai, dd = pi[first], ai[first], dd[first]
        idx = sel[pi]
        row[idx] = arows[ai]
        s[idx] = shapely.line_locate_point(a_geom[arows[ai]], pts[idx])
        dist[idx] = dd
    # side from the segment under the foot: left of the aisle's direction is positive
    d = np.full(n, np.nan)
    ok = np.flatnonzero(row >= 0)
    if len(ok):
        foot, tangent = _foot_and_tangent(a_geom, row[ok], s[ok])
        v = xy[ok] - foot
        cross = tangent[:, 0] * v[:, 1] - tangent[:, 1] * v[:, 0]
        d[ok] = np.where(cross >= 0, 1.0, -1.0) * dist[ok]
    return pd.DataFrame({"aisle_row": row, "s": s, "d": d, "distance": dist})


def store_entrances(stores: gpd.GeoDataFrame, aisles: gpd.GeoDataFrame, *,
                    max_offset: float = 6.0) -> gpd.GeoDataFrame:
    """The entrance face of every store: the footprint face that opens onto an aisle.

    Stalls stand in rows whose fronts line up along an aisle. For every store and aisle the face
    parallel to the aisle and nearest it is a candidate; candidates on one side of an aisle whose
    offsets agree (±0.75 m) form a row, which only another aisle crossing it ends (vacant lots
    and columns do not). The candidate in the longest row wins, then the nearest one — so a
    corner stall at a crossing opens onto its row's aisle, not the cross aisle along its side
    (there the side faces of corner stalls line up only in pairs, between two main aisles).

    Parameters
    ----------
    stores : GeoDataFrame
        Footprint polygons with a ``floor`` column.
    aisles : GeoDataFrame
        Centrelines (``name``, ``floor``, LineString).

    max_offset : float
        Faces farther than this from every aisle do not count as fronts of a row.

    Returns
    -------
    GeoDataFrame aligned to ``stores.index``: ``entrance_x``, ``entrance_y`` (face midpoint),
    ``aisle`` (name of the aisle it faces, None when its floor has none), ``distance`` (m) and the
    face as LineString geometry.
    """
    n = len(stores)
    geoms = np.asarray(stores.geometry.values, dtype=object)
    floor = stores["floor"].to_numpy(dtype=np.int64)
    env = shapely.oriented_envelope(geoms)
    is_poly = shapely.get_type_id(env) == 3
    cx = shapely.get_coordinates(shapely.centroid(geoms))
    corners = np.repeat(cx[:, None, :], 5, axis=1)
    if is_poly.any():
        ring = shapely.get_coordinates(shapely.get_exterior_ring(env[is_poly]), return_index=False)
        counts = shapely.get_num_coordinates(shapely.get_exterior_ring(env[is_poly]))
        ok = counts == 5
        if ok.all():
            corners[is_poly] = ring.reshape(-1, 5, 2)
        else:  # rare: envelope rings with other vertex counts → use the first 4 edges
            starts = np.r_[0, np.cumsum(counts)[:-1]]
            take = starts[:, None] + np.minimum(np.arange(5)[None, :], (counts - 1)[:, None])
            c = ring[take]
            c[:, 4] = c[:, 0]
            corners[is_poly] = c
    mids = (corners[:, :4] + corners[:, 1:5]) / 2  # (n, 4, 2)
    proj = project_on_aisles(mids.reshape(-1, 2), np.repeat(floor, 4), aisles)
    dist = proj["distance"].to_numpy().reshape(n, 4)
    a_row4 = proj["aisle_row"].to_numpy().reshape(n, 4)
    flen = np.hypot(*(corners[:, 1:5] - corners[:, :4]).transpose(2, 0, 1))
    run = _row_runs(corners, mids, flen, proj, floor, aisles, max_offset=max_offset)
    # the face with the longest row of collinear neighbouring store fronts wins (a corner store
    # faces its row's aisle, not the cross aisle beside it); then the nearest face
    dist_key = np.where(np.isnan(dist), np.inf, dist) + np.where(flen > 1e-6, 0.0, 1e6)
    score = dist_key - 1000.0 * np.minimum(run, 50)
    best = np.argmin(score, axis=1)
    r = np.arange(n)
    mid = mids[r, best]
    a_row = a_row4[r, best]
    names = aisles["name"].to_numpy(dtype=object)
    aisle = np.where(a_row >= 0, names[np.maximum(a_row, 0)] if len(names) else None, None)
    faces = shapely.linestrings(np.stack([corners[r, best], corners[r, best + 1]], axis=1))
    return gpd.GeoDataFrame(
        {"entrance_x": mid[:, 0], "entrance_y": mid[:, 1], "aisle": aisle,
         "distance": dist[r, best]},
        geometry=faces, index=stores.index, crs=stores.crs,
    )


def _row_runs(corners: NDArray[np.float64], mids: NDArray[np.float64], flen: NDArray[np.float64],
              proj: pd.DataFrame, floor: NDArray[np.int64], aisles: gpd.GeoDataFrame, *,
              max_offset: float, d_tol: float = 0.75, gap: float = np.inf) -> NDArray[np.int64]:
    """Length (in stores) of the row of store fronts each face belongs to; 0 = not a front.

    A row is a run of faces parallel to one aisle, on one side, on one front line (offsets
    chained within ``d_tol``), in order along the aisle; it ends where another aisle crosses it
    (or at a gap wider than ``gap`` metres). Vacant lots and columns do not end a row; a cross
    aisle does, so the side faces of the corner stalls along a cross aisle only pair up between
    two main aisles.
    """
    n = len(corners)
    run = np.zeros((n, 4), dtype=np.int64)
    a_row = proj["aisle_row"].to_numpy()
    s = proj["s"].to_numpy()
    d = proj["d"].to_numpy()
    valid = (a_row >= 0) & (np.abs(d) <= max_offset) & (flen.ravel() > 1e-6)
    if not valid.any():
        return run
    # direction of the aisle at the projection vs direction of the face
    lines = np.asarray(aisles.geometry.values, dtype=object)
    idx = np.flatnonzero(valid)
    _foot, t = _foot_and_tangent(lines, a_row[idx], s[idx])
    fv = (corners[:, 1:5] - corners[:, :4]).reshape(-1, 2)[idx]
    cos = np.abs((t * fv).sum(1)) / (np.linalg.norm(fv, axis=1) + 1e-12)
    par = cos > np.cos(np.radians(25))
    idx = idx[par]
    if not len(idx):
        return run
    store = idx // 4
    ar, ss, dd, half = a_row[idx], s[idx], d[idx], flen.ravel()[idx] / 2
    side = (dd >= 0).astype(np.int64)
    leg = _legs(lines, ar, ss)  # an L-shaped aisle has two legs: a corner stall faces each
    # per (store, aisle leg, side) keep the face nearest the aisle: the front towards that leg
    o = np.lexsort((np.abs(dd), side, leg, store))
    key = np.column_stack([store, leg, side])[o]
    keep = np.ones(len(o), dtype=bool)
    keep[1:] = np.any(key[1:] != key[:-1], axis=1)
    o = o[keep]
    idx, store, ar, ss, dd, half, side, leg = idx[o], store[o], ar[o], ss[o], dd[o], half[o], side[o], leg[o]
    fl = floor[store]
    # front lines: offsets on one (floor, aisle leg, side) chained within d_tol
    o = np.lexsort((np.abs(dd), side, leg, fl))
    same = np.zeros(len(o), dtype=bool)
    same[1:] = ((leg[o][1:] == leg[o][:-1]) & (side[o][1:] == side[o][:-1]) & (fl[o][1:] == fl[o][:-1])
                & (np.abs(dd[o][1:] - dd[o][:-1]) <= d_tol))
    line_id = np.empty(len(o), dtype=np.int64)
    line_id[o] = np.cumsum(~same)
    o = np.lexsort((ss, line_id))
    idx, ar, ss, half, fl, line_id = idx[o], ar[o], ss[o], half[o], fl[o], line_id[o]
    link = np.zeros(len(o), dtype=bool)
    link[1:] = (line_id[1:] == line_id[:-1]) & ((ss[1:] - half[1:]) - (ss[:-1] + half[:-1]) <= gap)
    cand = np.flatnonzero(link)
    if len(cand):
        mids2 = mids.reshape(-1, 2)
        seg = shapely.linestrings(np.stack([mids2[idx[cand - 1]], mids2[idx[cand]]], axis=1))
        a_floor = aisles["floor"].to_numpy(dtype=np.int64)
        si, ai = shapely.STRtree(lines).query(seg, predicate="intersects")
        cross = (a_floor[ai] == fl[cand[si]]) & (ai != ar[cand[si]])
        link[cand[np.unique(si[cross])]] = False
    grp = np.cumsum(~link)
    size = np.bincount(grp)[grp]
    run.ravel()[idx] = size
    return run


def _legs(lines: NDArray[np.object_], rows: NDArray[np.int64], s: NDArray[np.float64], *,
          turn_deg: float = 25.0) -> NDArray[np.int64]:
    """Leg of aisle ``rows[i]`` at arc length ``s[i]``: a global id of the run of segments that
    turn by less than ``turn_deg`` (a straight aisle is one leg; an L has two). Vectorised.

    Examples
    --------
    >>> ell = np.array([shapely.LineString([(0, 0), (30, 0), (30.5, 10), (30, 30)])], dtype=object)
    >>> _legs(ell, np.array([0, 0, 0]), np.array([10.0, 35.0, 45.0])).tolist()
    [1, 2, 2]
    """
    c, li = shapely.get_coordinates(lines, return_index=True)
    inner = li[1:] == li[:-1]
    v = (c[1:] - c[:-1])[inner]
    seg_line = li[1:][inner]
    seg_len = np.hypot(v[:, 0], v[:, 1])
    ang = np.arctan2(v[:, 1], v[:, 0])
    first = np.r_[True, seg_line[1:] != seg_line[:-1]]
    turn = np.abs((np.diff(ang, prepend=ang[:1]) + np.pi) % (2 * np.pi) - np.pi)
    leg = np.cumsum(first | (turn > np.radians(turn_deg)))
    end = np.cumsum(seg_len)
    line_start = (end - seg_len)[first]
    start = end - seg_len - np.repeat(line_start, np.diff(np.r_[np.flatnonzero(first), len(first)]))
    span = float(end[-1]) + 1.0 if len(end) else 1.0
    keys = seg_line * span + start
    k = np.searchsorted(keys, np.asarray(rows, dtype=np.float64) * span + np.asarray(s, dtype=np.float64),
                        side="right") - 1
    return np.asarray(leg[np.clip(k, 0, max(len(leg) - 1, 0))], dtype=np.int64)


def _foot_and_tangent(lines: NDArray[np.object_], rows: NDArray[np.int64],
                      s: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Point at arc length ``s`` along ``lines[rows]`` and the unit direction of the segment it
    lies on; vectorised (one sorted table of every segment's start, one ``searchsorted``).

    Examples
    --------
    >>> ell = np.array([shapely.LineString([(0, 0), (30, 0), (30, 30)])], dtype=object)
    >>> foot, t = _foot_and_tangent(ell, np.array([0, 0]), np.array([10.0, 40.0]))
    >>> foot.tolist(), t.tolist()
    ([[10.0, 0.0], [30.0, 10.0]], [[1.0, 0.0], [0.0, 1.0]])
    """
    c, li = shapely.get_coordinates(lines, return_index=True)
    inner = li[1:] == li[:-1]
    p0, v, seg_line = c[:-1][inner], (c[1:] - c[:-1])[inner], li[1:][inner]
    length = np.hypot(v[:, 0], v[:, 1])
    first = np.r_[True, seg_line[1:] != seg_line[:-1]] if len(seg_line) else np.zeros(0, bool)
    end = np.cumsum(length)
    starts = np.flatnonzero(first)
    s0 = end - length - np.repeat((end - length)[starts], np.diff(np.r_[starts, len(first)]))
    keep = length > 0
    p0, v, seg_line, length, s0 = p0[keep], v[keep], seg_line[keep], length[keep], s0[keep]
    span = float(end[-1]) + 1.0 if len(end) else 1.0
    k = np.searchsorted(seg_line * span + s0, rows * span + s, side="right") - 1
    k = np.clip(k, 0, len(s0) - 1)
    u = v[k] / length[k, None]
    return p0[k] + (s - s0[k])[:, None] * u, u
