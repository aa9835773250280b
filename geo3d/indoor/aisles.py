"""Aisles (internal roads) from a market scan: walkable floor space → named centrelines.

Per level: floor cells with nothing standing on them (no point between 0.2 m and 2.2 m above
the slab, no object footprint) form the free-space raster. Market aisles run along the stall
rows, so the raster is turned into the rows' frame (the dominant orientation of the store
footprints) and scanned along both axes: bands of cells on long free runs are aisles, their
middles the centrelines; narrow corridors (< ``min_width``) and short runs (< ``min_length``)
are pruned, and a short perpendicular free leg at an aisle's end makes it an L. Aisles are
oriented from the principal entrance (given, or the aisle end nearest the building outline)
and named ``{name}{n}통로`` in order of distance from it — entrance floor first, then upper
floors upward, then basements.

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

__all__ = ["aisles_from_cloud", "centrelines_from_free", "dominant_angle", "name_aisles"]

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
                          bridge: float = 1.5) -> list[shapely.LineString]:
    """Centrelines of the aisles in a free-space raster aligned with the stall rows.

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
            w = band.any(axis=0)
            centre = (a + b) / 2 * cell
            found.append((axis, centre, lo, hi, float(w.sum() * cell)))
    # pass 2: a free leg leaving an aisle end at right angles (an L); only when no other aisle
    # already runs there
    for axis, centre, lo, hi, width in found:
        pts: list[tuple[float, float]] = [(lo, centre), (hi, centre)]
        legs: dict[int, tuple[float, float]] = {}
        f = free if axis == 0 else free.T
        for end_i, u_end in ((0, lo), (1, hi)):
            half = width / 2
            u_in = u_end + (half if end_i == 0 else -half)  # centre of the leg across the aisle
            ua = int(np.clip((u_in - half) / cell, 0, f.shape[0] - 1))
            ub = int(np.clip((u_in + half) / cell, ua + 1, f.shape[0]))
            for sign in (-1, 1):
                j = int(centre / cell)
                steps = 0
                while 0 <= j < f.shape[1] and f[ua:ub, j].mean() >= 0.6:
                    j += sign
                    steps += 1
                leg = steps * cell - half - half  # from the centreline to the leg's centreline end
                if leg < hook_min:
                    continue
                v_end = centre + sign * (steps * cell - half)
                clash = any(ax2 != axis and abs(c2 - u_in) < w2 for ax2, c2, _l, _h, w2 in found)
                if not clash and (end_i not in legs or leg > abs(legs[end_i][1] - centre)):
                    legs[end_i] = (u_in, v_end)
        if 1 in legs:
            pts = [(lo, centre), (legs[1][0], centre), legs[1]]
        if 0 in legs:
            pts = [legs[0], (legs[0][0], centre), *pts[1:]]
        coords = [(u, v) if axis == 0 else (v, u) for u, v in pts]
        lines.append(shapely.LineString(coords))
    return lines


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
                      wall_band: float = 4.0) -> gpd.GeoDataFrame:
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
        outer wall, not aisles, and are dropped.
    refine : bool
        Re-centre each aisle midway between the store fronts on its two sides.

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
        shape = tuple(ij.max(axis=0) + 1)
        floor_ = np.zeros(shape, bool)
        blk = np.zeros(shape, bool)
        fm = np.abs(h) < 0.15
        floor_[ij[fm, 0], ij[fm, 1]] = True
        bm = (h > 0.2) & (h < 2.2)
        blk[ij[bm, 0], ij[bm, 1]] = True
        blk = ndi.binary_dilation(blk)
        free = ndi.binary_closing(floor_ & ~blk, iterations=2) & ~blk
        free = ndi.binary_opening(free, iterations=2)
        lines = centrelines_from_free(free, cell=cell, min_length=min_length, min_width=min_width)
        occ_all = np.argwhere(floor_ | blk)
        if len(occ_all):  # corridors hugging the outer wall (within wall_band) are not aisles
            hull_r = shapely.convex_hull(shapely.multipoints((occ_all + 0.5) * cell))
            lines = [ln for ln in lines
                     if shapely.distance(shapely.points(shapely.get_coordinates(ln.segmentize(2.0))),
                                         hull_r.exterior).max() >= wall_band]
        for ln in lines:
            q = shapely.get_coordinates(ln) + o
            x = q[:, 0] * c - q[:, 1] * s
            y = q[:, 0] * s + q[:, 1] * c
            rows.append({"floor": int(lv.floor), "geometry": shapely.LineString(np.column_stack([x, y]))})
        occ = np.argwhere(floor_ | blk)
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
