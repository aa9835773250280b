"""Aisles (internal roads) from a market scan: walkable floor space → named centrelines.

Per level: floor cells with nothing standing on them (no point between 0.2 m and 2.2 m above
the slab) form the free-space raster; small unscanned patches that the floor surrounds (the
blind spot under each scanner station) count as floor. Market aisles run along the stall rows,
so the raster is turned into the rows' frame (the dominant orientation of the store footprints)
and scanned along both axes: bands of cells on long free runs are aisles, their middles the
centrelines; narrow corridors (< ``min_width``) and short runs (< ``min_length``) are pruned,
and a short perpendicular free leg at an aisle's end makes it an L (unless it runs on to a
parallel aisle: then it only connects the two). Aisle ends are prolonged to the inner face of
the wall they meet (a facility in the mouth or the opening cuts the free space short). Aisles
are oriented from the principal entrance (given, or the aisle end nearest the building
outline) and named ``{name}{n}통로`` in order of distance from it — entrance floor first, then
upper floors upward, then basements.

Examples
--------
>>> import numpy as np
>>> free = np.zeros((200, 40), bool); free[:, 16:28] = True   # one 3 m wide corridor, 50 m long
>>> lines = centrelines_from_free(free, cell=0.25)
>>> [(round(ln.length), round(ln.coords[0][1], 1)) for ln in lines]
[(50, 5.5)]
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ..errors import InputError

__all__ = ["aisles_from_cloud", "centrelines_from_free", "dominant_angle", "extend_to_walls", "floor_holes",
           "name_aisles", "walkable_space"]

log = logging.getLogger(__name__)


def dominant_angle(footprints: Any) -> float:
    """Dominant orientation (radians, in [0, π/2)) of the edges of oriented footprints.

    Examples
    --------
    >>> import shapely
    >>> round(float(np.degrees(dominant_angle([shapely.box(0, 0, 2, 3)]))), 1)
    0.0
    """
    g = shapely.oriented_envelope(np.asarray(list(footprints), dtype=object))
    g = g[shapely.get_type_id(g) == 3]
    if not len(g):
        return 0.0
    c = shapely.get_coordinates(shapely.get_exterior_ring(g), return_index=False)
    counts = shapely.get_num_coordinates(shapely.get_exterior_ring(g))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    e = c[starts + 1] - c[starts]
    w = np.hypot(e[:, 0], e[:, 1])
    ang = np.mod(np.arctan2(e[:, 1], e[:, 0]), np.pi / 2)
    # circular mean on the 90°-periodic circle
    z = (w * np.exp(4j * ang)).sum()
    return float(np.mod(np.angle(z) / 4, np.pi / 2))


def _runs_long(free: NDArray[np.bool_], min_cells: int) -> NDArray[np.bool_]:
    """Cells that lie on a run of ≥ ``min_cells`` free cells along axis 0."""
    n, m = free.shape
    pad = np.zeros((n + 2, m), dtype=np.int8)
    pad[1:-1] = free
    d = np.diff(pad, axis=0)
    out = np.zeros_like(free)
    for j in range(m):  # per column (a few hundred), vectorised inside
        st = np.flatnonzero(d[:, j] == 1)
        en = np.flatnonzero(d[:, j] == -1)
        for a, b in zip(st[(en - st) >= min_cells], en[(en - st) >= min_cells], strict=True):
            out[a:b, j] = True
    return out


def _bands(profile: NDArray[np.float64], thresh: float, min_bins: int, gap: int = 1) -> list[tuple[int, int]]:
    on = profile >= thresh
    if gap:
        on = ndi.binary_closing(on, structure=np.ones(2 * gap + 1, bool)) | on
    lab, k = ndi.label(on)
    out = []
    for i in range(1, k + 1):
        idx = np.flatnonzero(lab == i)
        if len(idx) >= min_bins:
            out.append((int(idx[0]), int(idx[-1]) + 1))
    return out


def centrelines_from_free(free: NDArray[np.bool_], *, cell: float, min_length: float = 12.0,
                          min_width: float = 1.8, hook_min: float = 4.0,
                          bridge: float = 1.5, min_open: float = 0.0) -> list[shapely.LineString]:
    """Centrelines of the aisles in a free-space raster aligned with the stall rows.

    ``min_open`` is the smallest share of free cells in an aisle's core band (before the
    gaps of up to ``bridge`` metres are closed).

    ``free[i, j]`` covers x ∈ [i·cell, (i+1)·cell), y ∈ [j·cell, (j+1)·cell). Returns lines in
    raster coordinates (metres from the raster origin).
    """
    lines: list[shapely.LineString] = []
    min_cells = max(round(min_length / cell), 2)
    min_bins = max(round(min_width / cell), 1)
    found: list[tuple[int, float, float, float, float]] = []  # axis, centre, lo, hi, width
    for axis in (0, 1):
        f = free if axis == 0 else free.T
        # columns and facilities standing in an aisle break it for ≤ ``bridge`` metres
        k = max(round(bridge / cell) | 1, 3)
        fc = ndi.binary_closing(np.pad(f, ((k, k), (0, 0))), structure=np.ones((k, 1), bool))[k:-k] | f
        long_ = _runs_long(fc, min_cells)
        prof = long_.sum(axis=0) * cell
        for a, b in _bands(prof, min_length, min_bins):
            # the aisle is the core of the band: a vacant lot beside it adds free runs too, but
            # shorter ones, that would pull the centreline off the aisle's middle
            core = np.flatnonzero(prof[a:b] >= 0.5 * prof[a:b].max())
            a, b = a + int(core[0]), a + int(core[-1]) + 1
            if b - a < min_bins:
                continue
            band = long_[:, a:b]
            frac = band.mean(axis=1)
            on = ndi.binary_closing(frac >= 0.5, structure=np.ones(int(2 / cell) | 1, bool)) | (frac >= 0.5)
            lab, k = ndi.label(on)
            if not k:
                continue
            sizes = ndi.sum(on, lab, index=np.arange(1, k + 1))
            best = int(np.argmax(sizes)) + 1
            idx = np.flatnonzero(lab == best)
            lo, hi = idx[0] * cell, (idx[-1] + 1) * cell
            if hi - lo < min_length:
                continue
            # an aisle is open over its whole length and width; a path through vacant lots
            # and stall gaps across the rows is open only here and there
            m = 1 if b - a >= 5 else 0  # the band's middle: stall fronts are ragged, goods stick out
            core_free = f[idx[0]:idx[-1] + 1, a + m:b - m].mean()
            if core_free < min_open:
                continue
            w = band.any(axis=0)
            centre = (a + b) / 2 * cell
            found.append((axis, centre, lo, hi, float(w.sum() * cell)))
    # pass 2: a free leg leaving an aisle end at right angles (an L); only when no other aisle
    # already runs there
    for axis, centre, lo, hi, width in found:
        pts: list[tuple[float, float]] = [(lo, centre), (hi, centre)]
        legs: dict[int, tuple[float, float]] = {}
        f = free if axis == 0 else free.T
        half = width / 2
        j0 = int(centre / cell)
        cands: dict[int, list[tuple[float, float, float]]] = {}
        for end_i, u_end in ((0, lo), (1, hi)):
            # the leg's centre across the aisle: half an aisle width to one width from the end
            # (the free space at a corner may reach a little past the leg's far side; an aisle
            # that goes on farther past a free strip does not turn there)
            for back in np.arange(half, width + cell / 2, cell):
                u_in = float(u_end + (back if end_i == 0 else -back))
                ua = int(np.clip((u_in - half) / cell, 0, f.shape[0] - 1))
                ub = int(np.clip((u_in + half) / cell, ua + 1, f.shape[0]))
                col = f[ua:ub].mean(axis=0) >= 0.6
                for sign in (-1, 1):
                    run = col[j0::-1] if sign < 0 else col[j0:]
                    steps = int(np.argmin(run)) if not run.all() else len(run)
                    leg = steps * cell - half - half  # centreline to the leg's centreline end
                    if leg < hook_min:
                        continue
                    v_end = centre + sign * (steps * cell - half)
                    clash = any(ax2 != axis and abs(c2 - u_in) < w2 / 2 + half for ax2, c2, _l, _h, w2 in found)
                    # a free strip that runs on to a parallel aisle connects the two: not an L
                    lo_v, hi_v = sorted((centre, v_end))
                    clash |= any(ax2 == axis and c2 != centre and lo_v - w2 <= c2 <= hi_v + w2
                                 and l2 - half <= u_in <= h2 + half for ax2, c2, l2, h2, w2 in found)
                    if not clash:
                        cands.setdefault(end_i, []).append((leg, u_in, v_end))
        for end_i, cs in cands.items():
            # the longest leg; of the positions that reach as far, the middle one
            longest = max(leg for leg, _u, _v in cs)
            top = sorted((u, v) for leg, u, v in cs if leg >= longest - cell)
            legs[end_i] = top[len(top) // 2]
        if 1 in legs:
            pts = [(lo, centre), (legs[1][0], centre), legs[1]]
        if 0 in legs:
            pts = [legs[0], (legs[0][0], centre), *pts[1:]]
        coords = [(u, v) if axis == 0 else (v, u) for u, v in pts]
        lines.append(shapely.LineString(coords))
    return lines


def floor_holes(floor: NDArray[np.bool_], blocked: NDArray[np.bool_], *, cell: float,
                max_area: float = 4.0, min_floor: float = 0.9) -> NDArray[np.bool_]:
    """Unscanned patches of the floor: small gaps that the floor itself surrounds.

    A terrestrial scanner does not see the floor right under its station (below its lowest
    elevation angle: a disc of about 0.9 m radius for a 1.55 m high station and −60°), and its
    stations stand in mid-aisle; left as "not floor", such a disc cuts a narrow aisle in two.
    Cells that hold no point at all, in connected patches of at most ``max_area`` m² whose
    rim is at least ``min_floor`` floor cells, are returned (occluded space inside stalls is
    rimmed by the stalls themselves and stays out). Vectorised: one labelling, per-patch sums.

    Examples
    --------
    >>> floor = np.ones((40, 12), bool); floor[18:24, 3:9] = False   # a 1.5 m blind spot
    >>> blocked = np.zeros_like(floor)
    >>> int(floor_holes(floor, blocked, cell=0.25).sum())
    36
    """
    unknown = ~(floor | blocked)
    lab, k = ndi.label(unknown)
    if not k:
        return np.zeros_like(floor)
    idx = np.arange(1, k + 1)
    area = ndi.sum(unknown, lab, index=idx) * cell * cell
    rim_lab = ndi.grey_dilation(lab, size=(3, 3))
    rim = ~unknown & (rim_lab > 0)
    n_rim = ndi.sum(rim, rim_lab, index=idx)
    n_floor = ndi.sum(rim & floor, rim_lab, index=idx)
    ok = (area <= max_area) & (n_floor >= min_floor * np.maximum(n_rim, 1))
    keep = np.r_[False, ok]
    return keep[lab]


def extend_to_walls(lines: list[shapely.LineString], occupied: NDArray[np.bool_], *, cell: float,
                    max_extend: float = 4.0, beyond: float = 0.75,
                    wall_points: NDArray[np.float64] | None = None,
                    half_width: float = 2.0) -> list[shapely.LineString]:
    """Prolong each centreline end to the building's wall when the wall is near.

    Free space stops short of the wall where a facility stands at an aisle's mouth (an
    extinguisher, a hydrant cabinet), under a scanner station (its blind spot) or where the
    opening erodes it; the aisle itself runs to the wall. From each end, along the end segment,
    the line is prolonged to the last ``occupied`` cell (anything scanned: floor, objects,
    walls) when nothing is scanned for at least ``beyond`` metres after it, within
    ``max_extend`` metres: the scan ends there, at the wall. An end that meets more scanned
    space (stalls, and another aisle behind them) stays where it is.

    With ``wall_points`` (plan coordinates of the points at wall height, same frame) the new end
    is placed on the wall's inner face: the densest 5 cm slice, across the end direction, of
    the points within ``half_width`` of the line near the coarse end (the face of a wall seen
    from the aisle outweighs the jambs of its opening and the facilities in front of it).

    ``occupied[i, j]`` covers x ∈ [i·cell, (i+1)·cell), y ∈ [j·cell, (j+1)·cell); lines are in
    the same raster coordinates (metres).

    Examples
    --------
    >>> occ = np.zeros((100, 20), bool); occ[:80] = True   # the hall ends at x = 20 m
    >>> extend_to_walls([shapely.LineString([(2, 2.5), (18, 2.5)])], occ, cell=0.25)[0].coords[-1]
    (19.875, 2.5)
    """
    step = cell / 2
    t = np.arange(step, max_extend + beyond + step / 2, step)
    n_beyond = max(round(beyond / step), 1)
    out = []
    for line in lines:
        c = shapely.get_coordinates(line).copy()
        for end, prev in ((0, 1), (-1, -2)):
            u = c[end] - c[prev]
            norm = float(np.hypot(*u))
            if norm == 0:
                continue
            u = u / norm
            q = c[end] + t[:, None] * u
            ij = np.floor(q / cell).astype(np.int64)
            ok = (ij >= 0).all(axis=1) & (ij[:, 0] < occupied.shape[0]) & (ij[:, 1] < occupied.shape[1])
            inside = np.zeros(len(t), dtype=bool)
            inside[ok] = occupied[ij[ok, 0], ij[ok, 1]]
            hits = np.flatnonzero(inside)
            if not len(hits) or t[hits[-1]] > max_extend:
                continue  # nothing scanned ahead, or scanned space goes on: no wall within reach
            last = int(hits[-1])
            if len(t) - 1 - last < n_beyond:
                continue
            centre = (np.floor(q[last] / cell) + 0.5) * cell
            along = float(np.dot(centre - c[end], u))
            if wall_points is not None and len(wall_points):
                rel = wall_points - c[end]
                a = rel @ u
                lat = rel @ np.array([-u[1], u[0]])
                near = (np.abs(lat) <= half_width) & (np.abs(a - along) <= 2 * cell)
                if near.sum() >= 20:
                    bins = np.arange(along - 2 * cell, along + 2 * cell + 0.05, 0.05)
                    hist, edges = np.histogram(a[near], bins=bins)
                    k = int(np.argmax(hist))
                    along = float((edges[k] + edges[k + 1]) / 2)
            if along > 0:
                c[end] = c[end] + u * along
        out.append(shapely.LineString(c))
    return out


def _wall_gap(line: shapely.LineString, dist: NDArray[np.float64], cell: float) -> NDArray[np.float64]:
    """Distance (m) from the building outline of points every 2 m along ``line`` (``dist``: the
    inside's distance transform in metres, raster coordinates)."""
    q = shapely.get_coordinates(line.segmentize(2.0))
    ij = np.clip(np.floor(q / cell).astype(np.int64), 0, np.array(dist.shape) - 1)
    return np.asarray(dist[ij[:, 0], ij[:, 1]])


def _drop_wall_legs(line: shapely.LineString, dist: NDArray[np.float64], cell: float,
                    wall_band: float) -> shapely.LineString:
    """The line without end legs (the segments other than its longest) that hug the outer wall.

    A vacant row along the wall leaves a free strip there, which the L test of
    :func:`centrelines_from_free` takes for a leg; a real L leg runs away from the wall.
    """
    c = shapely.get_coordinates(line)
    if len(c) < 3:
        return line
    seg = np.hypot(*(c[1:] - c[:-1]).T)
    main = int(np.argmax(seg))
    lo, hi = 0, len(c) - 1
    if main > 0 and _wall_gap(shapely.LineString(c[: main + 1]), dist, cell).max() < wall_band:
        lo = main
    if main + 1 < len(c) - 1 and _wall_gap(shapely.LineString(c[main + 1:]), dist, cell).max() < wall_band:
        hi = main + 1
    return shapely.LineString(c[lo: hi + 1]) if (lo, hi) != (0, len(c) - 1) else line


def _without_dead_ends(lines: list[shapely.LineString], dist: NDArray[np.float64], cell: float, *,
                       at_wall: float = 1.0, at_aisle: float = 3.0) -> list[shapely.LineString]:
    """The lines whose both ends reach the outline (a wall, a door, a mezzanine's edge) or
    another line: an aisle is a road between entrances and other aisles. A free path across
    the stall rows through aligned vacant lots stops in a stall row (a dead end).
    """
    if len(lines) == 0:
        return lines
    g = np.asarray(lines, dtype=object)
    keep = []
    for i, ln in enumerate(lines):
        ends = shapely.get_coordinates(shapely.boundary(ln))
        ij = np.clip(np.floor(ends / cell).astype(np.int64), 0, np.array(dist.shape) - 1)
        walled = dist[ij[:, 0], ij[:, 1]] <= at_wall
        others = np.delete(g, i)
        near = (np.array([shapely.distance(others, shapely.Point(e)).min() <= at_aisle for e in ends])
                if len(others) else np.zeros(len(ends), bool))
        keep.append(bool((walled | near).all()))
    return [ln for ln, k in zip(lines, keep, strict=True) if k]


def _extended(g: NDArray[Any], by: float) -> NDArray[Any]:
    """Lines prolonged by ``by`` metres past both ends along their end segments."""
    out = []
    for line in g:
        c = shapely.get_coordinates(line)
        d0 = c[0] - c[1]
        d1 = c[-1] - c[-2]
        d0 = d0 / (np.hypot(*d0) or 1.0)
        d1 = d1 / (np.hypot(*d1) or 1.0)
        out.append(shapely.LineString(np.vstack([c[0] + by * d0, c, c[-1] + by * d1])))
    return np.asarray(out, dtype=object)


def name_aisles(lines: gpd.GeoDataFrame, entrance: tuple[float, float], *, name: str,
                entrance_floor: int = 1, snap: float = 1.5) -> gpd.GeoDataFrame:
    """Orient each line from its end nearer ``entrance`` and name them ``{name}{n}통로``.

    Order: entrance floor first, then upper floors upward, then basements downward; on a floor,
    by distance from the entrance to the centreline (then to its start).
    """
    if not len(lines):
        return lines.assign(name=pd.Series([], dtype=object))
    pe = shapely.Point(entrance)
    g = np.asarray(lines.geometry.values, dtype=object)
    fl0 = lines["floor"].to_numpy(np.int64) == entrance_floor
    if snap and fl0.any():  # an entrance at an aisle's mouth: measure from the aisle itself
        dd = shapely.distance(g[fl0], pe)
        j = int(np.argmin(dd))
        if dd[j] <= snap:
            pe = shapely.line_interpolate_point(g[fl0][j], shapely.line_locate_point(g[fl0][j], pe))
    first = shapely.get_point(g, 0)
    last = shapely.get_point(g, -1)
    flip = shapely.distance(last, pe) < shapely.distance(first, pe)
    g = np.where(flip, shapely.reverse(g), g)
    fl = lines["floor"].to_numpy(np.int64)
    rank = np.where(fl == entrance_floor, 0, np.where(fl > entrance_floor, fl, 1000 - fl))
    d_line = shapely.distance(_extended(g, 1000.0), pe)
    d_start = shapely.distance(shapely.get_point(g, 0), pe)
    order = np.lexsort((d_start, np.round(d_line, 3), rank))
    out = gpd.GeoDataFrame({"floor": fl[order]}, geometry=list(g[order]), crs=lines.crs)
    out.insert(0, "name", [f"{name}{i}통로" for i in range(1, len(out) + 1)])
    return out


def walkable_space(ij: NDArray[np.int64], h: NDArray[np.float64], *, cell: float, max_door: float = 6.0,
                   floor_reach: float = 2.0, underside: NDArray[np.int64] | None = None
                   ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Free (walkable), scanned and inside rasters of one level.

    ``ij`` are the plan cells of the level's points, ``h`` their heights above its slab.

    - **blocked**: a cell with a point 0.2–2.2 m above the slab and at least two in its 3 × 3
      neighbourhood (something a person cannot walk through; a lone stray return does not
      block), grown by one cell;
    - **inside**: the building's outline — what blocks on the level, grown by half of
      ``max_door`` (so door gaps close: no market door is wider), filled and shrunk back — so
      the street seen through a door is not walkable space of the hall;
    - **free**: inside and not blocked. On an upper level (``underside`` given: the plan cells
      where the slab's underside was seen from the storey below) *inside* is also limited to
      within ``floor_reach`` metres of a scanned floor cell (|h| < 0.15 m) or of the slab's
      underside: the void of a double-height hall beside a mezzanine has neither, while a sparse
      scan that sees its dark floor only near its stations still sees the ceiling below.

    Examples
    --------
    >>> walls = [[i, j] for i in range(40) for j in (0, 11)] + [[i, j] for i in (0, 39) for j in range(12)]
    >>> ij = np.array(walls + [[i, 5] for i in range(40)])   # a 10 × 3 m room, a floor strip in it
    >>> h = np.r_[np.full(len(walls), 1.0), np.zeros(40)]
    >>> free, scanned, inside = walkable_space(ij, h, cell=0.25, max_door=2.0)
    >>> int(free[20].sum()), int(inside[20].sum())   # the walls and the cell beside them are blocked
    (8, 12)
    """
    shape = tuple(ij.max(axis=0) + 1)
    flat = ij[:, 0] * shape[1] + ij[:, 1]
    stand = (h > 0.2) & (h < 2.2)
    cnt = np.bincount(flat[stand], minlength=shape[0] * shape[1]).reshape(shape).astype(np.float64)
    blk0 = cnt > 0
    blk = blk0 & (ndi.uniform_filter(cnt, size=3, mode="constant") * 9 >= 2 - 1e-9)
    fl = np.zeros(shape, bool)
    fl.flat[flat[np.abs(h) < 0.15]] = True
    n = max(1, int(np.ceil(max_door / cell / 2)))
    square = np.ones((3, 3), bool)  # a square element keeps the wall face flat across a door
    grown = ndi.binary_fill_holes(ndi.binary_dilation(np.pad(blk, n + 1), square, iterations=n))
    inside = ndi.binary_erosion(grown, square, iterations=n)[n + 1:-n - 1, n + 1:-n - 1]
    blk = ndi.binary_dilation(blk)
    free = inside & ~blk
    if underside is not None:
        held = fl.copy()
        ok = (underside >= 0).all(axis=1) & (underside[:, 0] < shape[0]) & (underside[:, 1] < shape[1])
        held[underside[ok, 0], underside[ok, 1]] = True
        inside &= ndi.distance_transform_edt(~held) * cell <= floor_reach
        free &= inside
    free = ndi.binary_closing(free, iterations=2) & ~blk & inside
    free = ndi.binary_opening(free, iterations=2)
    return free, fl | blk0, inside


def _refine_with_fronts(rows: list[dict[str, Any]], stores: gpd.GeoDataFrame, *,
                        min_stores: int = 0) -> list[dict[str, Any]]:
    """Shift each line sideways to the middle of the store fronts that face it (both sides);
    drop lines that fewer than ``min_stores`` stores open onto."""
    from .entrances import project_on_aisles, store_entrances

    lines = gpd.GeoDataFrame(rows, geometry="geometry")
    lines["name"] = [f"a{i}" for i in range(len(lines))]
    ent = store_entrances(stores, lines, max_offset=4.0)
    pr = project_on_aisles(ent[["entrance_x", "entrance_y"]].to_numpy(float),
                           stores["floor"].to_numpy(np.int64), lines)
    out = []
    for i, r in enumerate(rows):
        m = (pr["aisle_row"].to_numpy() == i) & (pr["distance"].to_numpy() < 4.0)
        d = pr["d"].to_numpy()[m]
        left, right = d[d > 0], d[d < 0]
        g = r["geometry"]
        if len(d) < min_stores:  # no stall opens onto it: a corridor along a wall, not an aisle
            continue
        if len(left) >= 2 and len(right) >= 2:
            shift = (float(np.median(left)) + float(np.median(right))) / 2
            if 0.02 < abs(shift) < 1.0:
                moved = g.offset_curve(shift, join_style="mitre")
                if moved.geom_type == "LineString" and len(moved.coords) == len(g.coords):
                    c0 = np.asarray(g.coords)
                    c1 = np.asarray(moved.coords)
                    if np.hypot(*(c1[0] - c0[0])) > np.hypot(*(c1[-1] - c0[0])):
                        c1 = c1[::-1]
                    g = shapely.LineString(c1)
        out.append({**r, "geometry": g})
    return out


def aisles_from_cloud(cloud: Any, result: Any, *, entrance: tuple[float, float] | None = None,
                      name: str = "시장", entrance_floor: int | None = None, cell: float = 0.25,
                      min_length: float = 20.0, min_width: float = 1.8, refine: bool = True,
                      wall_band: float = 4.0, to_walls: float = 4.0,
                      max_hole: float = 4.0, max_door: float = 6.0, floor_reach: float = 2.0,
                      min_open: float = 0.965) -> gpd.GeoDataFrame:
    """Detect, orient and name the aisles of every level of a segmented market scan.

    Parameters
    ----------
    cloud : PointCloud
        The scan.
    result : ScanSegmentation
        From :func:`geo3d.indoor.scan.segment_scan` (levels, per-point levels, objects).
    entrance : (x, y), optional
        Principal entrance; detected as the aisle end nearest the building outline when absent.
    name : str
        Place name of the aisle names (``경동시장`` → ``경동시장1통로``).
    entrance_floor : int, optional
        Floor of the street entrance (default 1 when present, else the lowest floor).
    cell, min_length, min_width : float
        Raster cell (m), shortest aisle (m), narrowest aisle (m).
    wall_band : float
        Lines that never get farther than this from the level's outline are corridors along the
        outer wall, not aisles, and are dropped: a corridor's centreline lies within about one
        corridor width (2.5 m) of the wall, an aisle's has a stall row (at least 2 m deep) and
        half the aisle (at least 1.25 m) between it and the wall.
    refine : bool
        Re-centre each aisle midway between the store fronts on its two sides.
    max_hole : float
        Unused (kept for compatibility): free space no longer needs the floor seen in every
        cell (see :func:`walkable_space`).
    max_door, floor_reach : float
        Widest door (m) and farthest a free cell may be from a scanned floor cell (m); see
        :func:`walkable_space`.
    min_open : float
        Smallest share of free cells in the middle of an aisle's core band: an aisle is open
        over its whole length (measured 0.97–1.0 on the tuning scenes and the sample, with
        stalls, columns and facilities at its edges), a path across the stall rows through
        vacant lots and stall gaps is not (0.75–0.92, and 0.96 once on the sample's 2층: the
        margin is thin, see docs/indoor-evaluation.md).
    to_walls : float
        Prolong aisle ends to a wall within this many metres (:func:`extend_to_walls`; 0 = off):
        aisles run to the wall, where an entrance opens, even when a facility stands in the mouth.

    Returns
    -------
    GeoDataFrame with ``name``, ``floor`` and LineString geometry (start → end).
    """
    xyz = cloud.xyz
    levels = result.levels
    if not len(levels):
        msg = "no levels were found, so no aisles can be detected; give [[aisles]] in MARKET.toml"
        raise InputError(msg)
    objects = result.objects
    stores = objects[objects["object_class"] == 1]
    theta = dominant_angle(stores.geometry) if len(stores) else 0.0
    c, s = np.cos(theta), np.sin(theta)
    rows: list[dict[str, Any]] = []
    outlines = {}
    for lv in levels.itertuples():
        sel = result.level == lv.floor
        if sel.sum() < 100:
            continue
        p = xyz[sel]
        h = p[:, 2] - float(lv.slab_z)
        u = p[:, 0] * c + p[:, 1] * s
        v = -p[:, 0] * s + p[:, 1] * c
        o = np.array([u.min(), v.min()])
        ij = np.floor((np.column_stack([u, v]) - o) / cell).astype(np.int64)
        under = None
        if lv.slab_z > levels["slab_z"].min():  # an upper level: where is its slab's underside?
            zc = xyz[:, 2]
            q = xyz[(zc > lv.slab_z - 1.0) & (zc < lv.slab_z - 0.05)]
            under = np.floor((np.column_stack([q[:, 0] * c + q[:, 1] * s, -q[:, 0] * s + q[:, 1] * c]) - o)
                             / cell).astype(np.int64)
        free, scanned, inside = walkable_space(ij, h, cell=cell, max_door=max_door, floor_reach=floor_reach,
                                               underside=under)
        lines = centrelines_from_free(free, cell=cell, min_length=min_length, min_width=min_width,
                                      min_open=min_open)
        if inside.any():  # corridors hugging the outer wall (within wall_band) are not aisles
            dist = ndi.distance_transform_edt(np.pad(inside, 1))[1:-1, 1:-1] * cell
            lines = [_drop_wall_legs(ln, dist, cell, wall_band) for ln in lines
                     if _wall_gap(ln, dist, cell).max() >= wall_band]
        if to_walls:
            wall_h = (h > 0.2) & (h < 2.2)
            lines = extend_to_walls(lines, inside, cell=cell, max_extend=to_walls,
                                    wall_points=np.column_stack([u[wall_h], v[wall_h]]) - o)
            if inside.any():
                lines = _without_dead_ends(lines, dist, cell)
        for ln in lines:
            q = shapely.get_coordinates(ln) + o
            x = q[:, 0] * c - q[:, 1] * s
            y = q[:, 0] * s + q[:, 1] * c
            rows.append({"floor": int(lv.floor), "geometry": shapely.LineString(np.column_stack([x, y]))})
        occ = np.argwhere(inside | scanned)
        if len(occ):
            hull = shapely.convex_hull(shapely.multipoints((occ + 0.5) * cell + o))
            outlines[int(lv.floor)] = shapely.affinity.rotate(hull, theta, origin=(0, 0), use_radians=True)
    if not rows:
        msg = "no aisles were detected; give [[aisles]] in MARKET.toml"
        raise InputError(msg)
    if refine and len(stores):
        rows = _refine_with_fronts(rows, stores)
    floors = sorted({r["floor"] for r in rows})
    ef = entrance_floor if entrance_floor is not None else (1 if 1 in floors else floors[0])
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=cloud.crs)
    if entrance is None:
        gdf_e = gdf[gdf["floor"] == ef]
        ends = np.concatenate([shapely.get_coordinates(shapely.get_point(gdf_e.geometry.values, k)) for k in (0, -1)])
        outline = outlines.get(ef)
        if outline is not None:
            dd = shapely.distance(shapely.points(ends), outline.exterior)
        else:
            dd = ends[:, 1]
        e = ends[int(np.lexsort((ends[:, 0], ends[:, 1], np.round(dd, 1)))[0])]
        entrance = (float(e[0]), float(e[1]))
        log.info("aisles_from_cloud: principal entrance detected at (%.2f, %.2f)", *entrance)
    out = name_aisles(gdf, entrance, name=name, entrance_floor=ef)
    log.info("aisles_from_cloud: %d aisles on %d levels", len(out), len(floors))
    return out
