"""Plan shapes, partial levels, slab voids, stairs, street and furniture of a market hall.

The general-plan path of :func:`geo3d.datasets._scene.build_scene` (used by the scene family of
:mod:`geo3d.datasets.family`): the hall's interior is a polygon made of axis-aligned edges
(a rectangle with corner cut-outs: ``rect``, ``L``, ``T``, ``cross``), an upper level may cover
only part of it (a mezzanine over a double-height hall), slabs may have a stair void with a flight
of steps under it, the street is seen through the entrance floor's doors, and vacant lots may hold
tables, benches or carts, which are *not* stores.

Everything is in the building's local frame (see :mod:`geo3d.datasets._scene`). Private module.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

if TYPE_CHECKING:
    from ._scene import Layout

__all__ = ["aisle_pieces", "floor_plan", "hall_plan", "plan_structure", "rect_cover", "stair_void",
           "street_and_furniture_free", "vacant_furniture"]

STRUCTURE = 0
SLAB_T = 0.3
WALL_T = 0.3
DOOR_H = 2.8
RAIL_H = 1.1  # guard-rail height (m), the usual building-code minimum
RISER = 0.175  # stair riser height (m), a standard step


def hall_plan(lay: Layout, aisle_y: list[float]) -> shapely.Polygon:
    """Interior outline of the hall: the ``length`` × ``width`` rectangle minus corner cut-outs.

    Cut-outs end half-way between two west–east aisles (where two stall rows stand back to back),
    so no aisle runs along a cut wall; their lengths are ``plan_cut`` × ``length``.
    """
    L, W = lay.length, lay.width
    full = shapely.box(0.0, 0.0, L, W)
    if lay.plan == "rect" or len(aisle_y) < 2:
        return full
    lo = (aisle_y[0] + aisle_y[1]) / 2  # between the two southern aisles
    hi = (aisle_y[-2] + aisle_y[-1]) / 2  # between the two northern aisles
    a, c = lay.plan_cut[0] * L, lay.plan_cut[1] * L
    cuts = {
        "L": [(L - c, hi, L, W)],
        "T": [(0.0, 0.0, a, lo), (L - c, 0.0, L, lo)],
        "cross": [(0.0, 0.0, a, lo), (L - c, 0.0, L, lo), (0.0, hi, a, W), (L - c, hi, L, W)],
    }[lay.plan]
    out = full.difference(shapely.union_all([shapely.box(*r) for r in cuts]))
    return shapely.orient_polygons(out) if hasattr(shapely, "orient_polygons") else shapely.geometry.polygon.orient(out)


def floor_plan(lay: Layout, plan: shapely.Polygon, floor: int) -> shapely.Polygon:
    """Outline of one floor: the hall, or its west part on a partial (mezzanine) floor."""
    if floor not in lay.partial_floors:
        return plan
    part = plan.intersection(shapely.box(-1.0, -1.0, lay.partial_fraction * lay.length, lay.width + 1.0))
    return shapely.geometry.polygon.orient(part)


def aisle_pieces(lines: list[tuple[np.ndarray, float]], plan: shapely.Polygon,
                 min_length: float = 10.0) -> list[tuple[np.ndarray, float]]:
    """The aisle centrelines clipped to a floor's outline (pieces shorter than ``min_length`` go)."""
    out = []
    for line, w in lines:
        g = shapely.LineString(line).intersection(plan)
        parts = [g] if g.geom_type == "LineString" else list(getattr(g, "geoms", []))
        for p in parts:
            if p.geom_type == "LineString" and p.length >= min_length:
                out.append((np.asarray(p.coords, dtype=float), w))
    return out


def rect_cover(poly: Any) -> list[tuple[float, float, float, float]]:
    """Axis-aligned rectangles whose union is ``poly`` (a polygon with axis-aligned edges).

    The plan is cut on every distinct vertex x and y; the cells inside are merged along x.
    """
    c = shapely.get_coordinates(poly)
    xs, ys = np.unique(np.round(c[:, 0], 6)), np.unique(np.round(c[:, 1], 6))
    cx, cy = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2
    gx, gy = np.meshgrid(cx, cy, indexing="ij")
    inside = shapely.contains_xy(poly, gx, gy)
    rects = []
    for j in range(len(cy)):
        run = np.flatnonzero(np.diff(np.r_[0, inside[:, j].astype(np.int8), 0]))
        for a, b in run.reshape(-1, 2):
            rects.append((float(xs[a]), float(ys[j]), float(xs[b]), float(ys[j + 1])))
    return rects


def _edges(poly: shapely.Polygon) -> list[tuple[np.ndarray, np.ndarray, bool, bool]]:
    """Edges of the outline (CCW) with whether each end is a convex corner."""
    c = np.asarray(poly.exterior.coords)[:-1]
    n = len(c)
    e = np.roll(c, -1, axis=0) - c
    prev = np.roll(e, 1, axis=0)
    turn = prev[:, 0] * e[:, 1] - prev[:, 1] * e[:, 0]  # > 0: left turn at vertex i (convex, CCW ring)
    return [(c[i], c[(i + 1) % n], bool(turn[i] > 0), bool(turn[(i + 1) % n] > 0)) for i in range(n)]


def _wall(b: Any, p: np.ndarray, q: np.ndarray, a0: float, a1: float, z0: float, z1: float,
          fl: int, mat: str = "wall", t: float = WALL_T) -> None:
    """A wall box of thickness ``t`` outside the CCW edge p→q, between arc positions a0..a1."""
    u = (q - p) / np.hypot(*(q - p))
    out = np.array([u[1], -u[0]])  # right of a CCW edge = outside
    s0, s1 = p + u * a0, p + u * a1 + out * t
    b.box(s0[0], s0[1], z0, s1[0], s1[1], z1, cls=STRUCTURE, inst=-1, floor=fl, mat=mat)


def _wall_letter(p: np.ndarray, q: np.ndarray) -> tuple[str, float]:
    """Outward side of a CCW edge (``w``, ``e``, ``s``, ``n``) and its coordinate."""
    if abs(p[0] - q[0]) < 1e-9:
        return ("e" if q[1] > p[1] else "w"), float(p[0])
    return ("s" if q[0] > p[0] else "n"), float(p[1])


def plan_structure(b: Any, lay: Layout, fl: int, z0: float, ceil: float, *, plan: shapely.Polygon,
                   fplan: shapely.Polygon, lines: list[tuple[np.ndarray, float]], roof: bool,
                   next_plan: shapely.Polygon | None, next_ceil: float, void: tuple[float, ...] | None,
                   openings: list[tuple[Any, ...]], floor_rgb: tuple[int, int, int] | None) -> None:
    """Slab (with its void), roof, outer walls with doors and guard rails of one floor.

    Doors open where an aisle end meets a wall. Where the next floor covers only part of the
    hall, this floor's walls rise to the next floor's ceiling over the rest (a double-height
    hall). A partial floor's open edge gets a guard rail instead of a wall.
    """
    slab = fplan if void is None else fplan.difference(shapely.box(*void))
    for r in rect_cover(slab):
        b.box(r[0], r[1], z0 - SLAB_T, r[2], r[3], z0, cls=STRUCTURE, inst=-1, floor=fl, mat="floor",
              rgb=floor_rgb)
    if roof:
        for r in rect_cover(plan):
            b.box(r[0], r[1], ceil, r[2], r[3], ceil + SLAB_T, cls=STRUCTURE, inst=-1, floor=fl, mat="ceiling")
    hall = plan.exterior
    ends = [pt for line, w in lines for pt in ((line[0], w), (line[-1], w))]
    for p, q, cvx0, cvx1 in _edges(fplan):
        mid = shapely.Point((p + q) / 2)
        length = float(np.hypot(*(q - p)))
        if hall.distance(mid) > 1e-6:  # an open edge inside the hall: a guard rail
            for h in (RAIL_H / 2, RAIL_H):
                _wall(b, p, q, 0.0, length, z0 + h - 0.05, z0 + h, fl, mat="frame", t=0.05)
            continue
        u = (q - p) / length
        cuts = []
        for e, w in ends:
            rel = e - p
            along = float(rel @ u)
            if abs(float(u[0] * rel[1] - u[1] * rel[0])) < 1e-6 and 0.0 < along < length:
                cuts.append((along - w / 2 + 0.5, along + w / 2 - 0.5))
        cuts.sort()
        a = -WALL_T if cvx0 else 0.0
        wall, coord = _wall_letter(p, q)
        for c0, c1 in cuts:
            _wall(b, p, q, a, c0, z0, ceil, fl)
            _wall(b, p, q, c0, c1, z0 + DOOR_H, ceil, fl)
            a = c1
            pos = float((p + u * (c0 + c1) / 2)[1 if wall in ("w", "e") else 0])
            openings.append((wall, pos, c1 - c0, fl, coord))
        _wall(b, p, q, a, length + (WALL_T if cvx1 else 0.0), z0, ceil, fl)
    if next_plan is not None and next_plan.area < plan.area - 1e-6:
        rest = hall.difference(next_plan.buffer(0.01, join_style="mitre"))
        for seg in getattr(rest, "geoms", [rest]):
            c = np.asarray(seg.coords)
            for p, q in itertools.pairwise(c):
                if np.hypot(*(q - p)) > 1e-6:
                    _wall(b, p, q, 0.0, float(np.hypot(*(q - p))), ceil, next_ceil, fl)


def stair_void(lay: Layout, plan: shapely.Polygon, aisle_y: list[float]) -> tuple[float, float, float, float] | None:
    """The stair opening (x0, y0, x1, y1) through the upper slabs, between the two southern aisles.

    One flight of ``RISER`` steps with 0.26 m treads rises along x under it; the opening is that
    long and 2.4 m wide (a common stair width with its margins).
    """
    if len(aisle_y) < 2:
        return None
    n = round(lay.storey_height / RISER)
    length = n * 0.26
    yc = (aisle_y[0] + aisle_y[1]) / 2
    x0 = lay.length * 0.15 + 2.0
    v = (x0, yc - 1.2, x0 + length, yc + 1.2)
    return v if plan.contains(shapely.box(*v).buffer(0.5)) else None


def stairs(b: Any, void: tuple[float, float, float, float], z_low: float, z_high: float, fl_low: int,
           fl_high: int) -> None:
    """A flight of steps from ``z_low`` to ``z_high`` under ``void``, and a rail around the void above."""
    x0, y0, x1, y1 = void
    n = max(2, round((z_high - z_low) / RISER))
    run = (x1 - x0) / n
    rise = (z_high - z_low) / n
    for i in range(n - 1):
        b.box(x0 + i * run, y0 + 0.1, z_low, x0 + (i + 1) * run, y1 - 0.1, z_low + (i + 1) * rise,
              cls=STRUCTURE, inst=-1, floor=fl_low, mat="frame")
    for h in (RAIL_H / 2, RAIL_H):  # rail on three sides (the flight arrives at the east end)
        for r in ((x0, y0 - 0.05, x1, y0), (x0, y1, x1, y1 + 0.05), (x0 - 0.05, y0, x0, y1)):
            b.box(r[0], r[1], z_high + h - 0.05, r[2], r[3], z_high + h, cls=STRUCTURE, inst=-1,
                  floor=fl_high, mat="frame")


def street(b: Any, openings: list[tuple[Any, ...]], fl: int, ground: float, rng: np.random.Generator) -> None:
    """A strip of street (6 m deep) outside every door of the entrance floor, seen through it."""
    drop = float(rng.uniform(0.0, 0.15))  # the pavement is a step below the hall floor, or level
    for wall, pos, w, f, coord in openings:
        if f != fl:
            continue
        h = w / 2 + 2.0
        if wall == "w":
            r = (coord - WALL_T - 6.0, pos - h, coord - WALL_T, pos + h)
        elif wall == "e":
            r = (coord + WALL_T, pos - h, coord + WALL_T + 6.0, pos + h)
        elif wall == "s":
            r = (pos - h, coord - WALL_T - 6.0, pos + h, coord - WALL_T)
        else:
            r = (pos - h, coord + WALL_T, pos + h, coord + WALL_T + 6.0)
        b.box(r[0], r[1], ground - drop - 0.3, r[2], r[3], ground - drop, cls=STRUCTURE, inst=-1,
              floor=0, mat="street")


def door_zones(plan: shapely.Polygon, lines: list[tuple[np.ndarray, float]]
               ) -> list[tuple[float, float, float, float]]:
    """Rectangles kept free of stalls: 1.2 m strips along the end walls (x = const), and the wall
    beside every door (hydrant cabinets and call points hang there)."""
    out: list[tuple[float, float, float, float]] = []
    for p, q, _c0, _c1 in _edges(plan):
        if abs(p[0] - q[0]) < 1e-9:
            out.append((float(p[0]) - 1.2, float(min(p[1], q[1])), float(p[0]) + 1.2, float(max(p[1], q[1]))))
    for line, w in lines:
        for e, nxt in ((line[0], line[1]), (line[-1], line[-2])):
            if plan.exterior.distance(shapely.Point(e)) < 1e-6:
                u = (nxt - e) / np.hypot(*(nxt - e))  # into the hall, along the aisle
                a = np.array([-u[1], u[0]]) * (w / 2 + 1.0)  # along the wall, beside the door
                c = np.array([e - a - u, e + a - u, e - a + 1.8 * u, e + a + 1.8 * u])
                lo, hi = c.min(axis=0), c.max(axis=0)
                out.append((float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])))
    return out


def vacant_furniture(b: Any, fl: int, z0: float, lot: tuple[float, float, float, float]) -> None:
    """Tables with benches, or a hand cart, on a vacant lot: furniture, not a store (class 0)."""
    rng = b.rng
    x0, y0, x1, y1 = lot
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if rng.random() < 0.6:  # a food-court table (1.2 × 0.8 m top at 0.72–0.76 m) with two benches
        along_x = (x1 - x0) >= (y1 - y0)
        tw, td = (0.6, 0.4) if along_x else (0.4, 0.6)
        top = float(rng.uniform(0.72, 0.76))
        b.box(cx - tw, cy - td, z0 + top - 0.04, cx + tw, cy + td, z0 + top, cls=STRUCTURE, inst=-1,
              floor=fl, mat="table")
        b.box(cx - 0.05, cy - 0.05, z0, cx + 0.05, cy + 0.05, z0 + top - 0.04, cls=STRUCTURE, inst=-1,
              floor=fl, mat="frame")
        seat = float(rng.uniform(0.42, 0.46))
        for s in (-1.0, 1.0):
            if along_x:
                r = (cx - tw, cy + s * (td + 0.25) - 0.15, cx + tw, cy + s * (td + 0.25) + 0.15)
            else:
                r = (cx + s * (tw + 0.25) - 0.15, cy - td, cx + s * (tw + 0.25) + 0.15, cy + td)
            b.box(r[0], r[1], z0 + seat - 0.05, r[2], r[3], z0 + seat, cls=STRUCTURE, inst=-1, floor=fl,
                  mat="table")
    else:  # a hand cart: a crate on a low frame with a push bar
        b.box(cx - 0.5, cy - 0.3, z0 + 0.25, cx + 0.5, cy + 0.3, z0 + 0.75, cls=STRUCTURE, inst=-1,
              floor=fl, mat="goods", rgb=(70, 110, 160))
        b.box(cx + 0.5, cy - 0.3, z0 + 0.9, cx + 0.55, cy + 0.3, z0 + 0.95, cls=STRUCTURE, inst=-1,
              floor=fl, mat="frame")
        b.box(cx - 0.5, cy - 0.3, z0 + 0.1, cx + 0.5, cy + 0.3, z0 + 0.15, cls=STRUCTURE, inst=-1,
              floor=fl, mat="frame")


def street_and_furniture_free(lay: Layout) -> bool:
    """Whether ``lay`` uses none of the general-plan features (the original rectangle path)."""
    return (lay.plan == "rect" and not lay.partial_floors and not lay.stair_void and not lay.street)
