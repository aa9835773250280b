"""The navigation network of a market scan: aisles, doors, facilities, exits and stairs as a graph.

One network per scan, every level in it. Nodes are the aisles' ends and junctions, the foot of
every store entrance and facility on its aisle, the stores (a point inside each footprint),
their doors, the facilities, the building's exits and the ends of stairs, ramps and lifts.
Edges carry their 3D length, their kind and the address of the way they belong to (internal
road name and the base numbers along it, docs/paths-and-routes.md), so a point on a path can be named.

Stairs, ramps and lifts are not detected in the point cloud: MARKET.toml gives them
(:mod:`geo3d.indoor.connectors`).

Examples
--------
>>> import geopandas as gpd, shapely
>>> from geo3d.indoor.network import network_from_layers
>>> levels = gpd.GeoDataFrame({"floor": [1], "label": ["1층"], "slab_z": [0.0]}, geometry=[None])
>>> aisles = gpd.GeoDataFrame({"name": ["시장1통로"], "floor": [1]},
...                           geometry=[shapely.LineString([(0, 0), (40, 0)])])
>>> stores = gpd.GeoDataFrame({"object_id": [1], "kind": ["store"], "floor": [1], "aisle": ["시장1통로"],
...                            "address": ["서울특별시 동대문구 시장1통로 1"]},
...                           geometry=[shapely.box(5, 2, 8, 5)])
>>> empty = gpd.GeoDataFrame({"object_id": [], "kind": [], "floor": [], "aisle": [], "address": []},
...                          geometry=[])
>>> net = network_from_layers(levels, aisles, stores, empty, sido="서울특별시", sigungu="동대문구",
...                           exits=[(1, 0.0, 0.0)])
>>> sorted(set(net.nodes["kind"]))
['aisle_end', 'door', 'exit', 'foot', 'store']
>>> round(float(net.edges["length_m"].sum()), 1)
44.1
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .connectors import CONNECTOR_KINDS

__all__ = ["NODE_COLUMNS", "PathNetwork", "network_from_layers"]

log = logging.getLogger(__name__)

#: Columns of :attr:`PathNetwork.nodes` (besides geometry).
NODE_COLUMNS = ["kind", "floor", "x", "y", "z", "object_id", "aisle", "s_m", "name", "address", "depth_m"]
_EDGE_COLUMNS = ["u", "v", "kind", "floor", "length_m", "aisle", "s_from", "s_to", "base_from", "base_to",
                 "path_address"]


@dataclass
class PathNetwork:
    """Nodes and edges of a navigation network (one table each, node ids are row numbers).

    Attributes
    ----------
    nodes : GeoDataFrame
        ``kind`` (aisle_end, junction, foot, store, door, facility, exit, connector), ``floor``,
        ``x``, ``y``, ``z`` (slab height), ``object_id`` (−1 when none), ``aisle``, ``s_m`` (arc
        length on it), ``name``, ``address``, ``depth_m`` (stores: farthest footprint corner from
        the door); Point Z geometry.
    edges : GeoDataFrame
        ``u``, ``v`` (node ids), ``kind`` (aisle, access, room, exit, stairs, ramp, lift,
        escalator), ``floor`` (lower floor for vertical links), ``length_m`` (3D), ``aisle``,
        ``s_from``/``s_to``, ``base_from``/``base_to`` (base numbers spanned, docs/paths-and-routes.md) and
        ``path_address``; LineString Z geometry.
    interval_m : float
        Base interval of the numbering.
    warnings : list of str
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    interval_m: float = 20.0
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """Columns as NumPy arrays (``n_`` node, ``e_`` edge columns) for fast per-route look-ups."""
        out = {f"n_{c}": self.nodes[c].to_numpy() for c in NODE_COLUMNS}
        out |= {f"e_{c}": self.edges[c].to_numpy() for c in _EDGE_COLUMNS}
        coords = np.empty(len(self.edges), dtype=object)
        coords[:] = [np.asarray(g.coords, float) for g in self.edges.geometry]
        out["e_coords"] = coords
        out["e_geom"] = np.asarray(self.edges.geometry.values, dtype=object)
        for c in ("n_x", "n_y", "n_z", "e_length_m"):
            out[c] = out[c].astype(float)
        return out

    def nodes_of(self, kind: str, floor: int | None = None) -> np.ndarray:
        """Ids of the nodes of one kind (optionally on one floor)."""
        sel = self.nodes["kind"].to_numpy() == kind
        if floor is not None:
            sel &= self.nodes["floor"].to_numpy() == int(floor)
        return np.flatnonzero(sel)


class _Builder:
    """Collects node columns (NumPy arrays, one block per call) and edge blocks."""

    _KINDS: ClassVar[dict[str, Any]] = {"object_id": np.int64, "s_m": float, "depth_m": float}

    def __init__(self, slab: dict[int, float]) -> None:
        self.slab = slab
        self.cols: dict[str, list[np.ndarray]] = {c: [] for c in NODE_COLUMNS}
        self.edges: list[dict[str, np.ndarray]] = []
        self.n = 0
        self._cache: dict[str, np.ndarray] = {}

    def col(self, c: str) -> np.ndarray:
        """One node column over every node so far."""
        if c not in self._cache:
            self._cache[c] = np.concatenate(self.cols[c]) if self.cols[c] else np.zeros(0)
        return self._cache[c]

    def frame(self) -> pd.DataFrame:
        """All nodes so far as a table (index = node id)."""
        return pd.DataFrame({c: self.col(c) for c in NODE_COLUMNS})

    def add_nodes(self, kind: str, floor: Any, x: Any, y: Any, **cols: Any) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, float))
        k = x.size
        fl = np.broadcast_to(np.asarray(floor, np.int64), (k,)).copy()
        z = np.array([self.slab.get(int(f), np.nan) for f in np.unique(fl)], float)
        vals = {"kind": np.full(k, kind, dtype=object), "floor": fl, "x": x,
                "y": np.broadcast_to(np.asarray(y, float), (k,)).copy(),
                "z": z[np.searchsorted(np.unique(fl), fl)] if k else np.zeros(0)}
        defaults = {"object_id": -1, "s_m": np.nan, "depth_m": np.nan}
        for c in NODE_COLUMNS[5:]:
            v = cols.get(c, defaults.get(c))
            arr = np.empty(k, dtype=self._KINDS.get(c, object))
            arr[:] = v if not isinstance(v, list | tuple) else np.asarray(v, dtype=object)
            vals[c] = arr
        for c in NODE_COLUMNS:
            self.cols[c].append(vals[c])
        ids = np.arange(self.n, self.n + k)
        self.n += k
        self._cache.clear()
        return ids

    def add_edges(self, u: Any, v: Any, kind: str, floor: Any, **cols: Any) -> None:
        u = np.atleast_1d(np.asarray(u, np.int64))
        k = u.size
        block: dict[str, np.ndarray] = {"u": u, "v": np.asarray(v, np.int64).reshape(k),
                                        "kind": np.full(k, kind, dtype=object),
                                        "floor": np.broadcast_to(np.asarray(floor, np.int64), (k,)).copy()}
        for c in _EDGE_COLUMNS[5:]:
            arr = np.empty(k, dtype=object)
            v_ = cols.get(c)
            arr[:] = None if v_ is None else (np.asarray(v_, dtype=object) if isinstance(v_, list | tuple) else v_)
            block[c] = arr
        block["length_m"] = np.asarray(cols.get("length_m", np.full(k, np.nan)), float).reshape(k)
        geom = np.empty(k, dtype=object)
        geom[:] = list(cols["geometry"])
        block["geometry"] = geom
        self.edges.append(block)


def _floor_aisles(aisles: gpd.GeoDataFrame, floor: int) -> tuple[list[str], np.ndarray]:
    sel = aisles["floor"].to_numpy().astype(int) == floor
    return [str(n) for n in aisles.loc[sel, "name"]], np.asarray(aisles.geometry[sel].values)


def _junctions(names: list[str], lines: np.ndarray, snap_m: float) -> list[tuple[float, float, list[tuple[int, float]]]]:
    """Points where aisles meet: crossings, and an aisle's end within ``snap_m`` of another."""
    out: list[tuple[float, float, list[tuple[int, float]]]] = []
    for i in range(len(lines)):
        for j in range(i + 1, len(lines)):
            a, b = lines[i], lines[j]
            pts = [g for g in shapely.get_parts(shapely.intersection(a, b)) if g.geom_type == "Point"]
            if not pts:  # a T that stops short: snap the nearer end onto the other aisle
                for p_line, q_line, pi, qi in ((a, b, i, j), (b, a, j, i)):
                    for end in (shapely.Point(p_line.coords[0]), shapely.Point(p_line.coords[-1])):
                        if q_line.distance(end) <= snap_m:
                            foot = q_line.interpolate(q_line.project(end))
                            out.append((foot.x, foot.y, [(qi, q_line.project(end)), (pi, p_line.project(end))]))
                            break
                    else:
                        continue
                    break
            for p in pts:
                out.append((p.x, p.y, [(i, a.project(p)), (j, b.project(p))]))
    return out


def _base_numbers(s0: np.ndarray, s1: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Base numbers spanned between arc lengths s0 < s1 (odd left, even right, docs/addresses.md)."""
    lo, hi = np.minimum(s0, s1), np.maximum(s0, s1)
    k0 = np.floor(lo / interval).astype(np.int64)
    k1 = np.floor(np.maximum(hi - 1e-6, lo) / interval).astype(np.int64)
    return 2 * k0 + 1, 2 * k1 + 2


def _aisle_edges(b: _Builder, floor: int, names: list[str], lines: np.ndarray,
                 stops: list[list[tuple[float, int]]], head: str, interval: float) -> None:
    """Split each aisle at its stops (sorted by arc length) into 'aisle' edges."""
    for i, line in enumerate(lines):
        st = sorted(stops[i])
        s = np.array([a for a, _ in st])
        ids = np.array([n for _, n in st], np.int64)
        keep = np.r_[True, ids[1:] != ids[:-1]]
        s, ids = s[keep], ids[keep]
        if ids.size < 2:
            continue
        s0, s1 = s[:-1], s[1:]
        xy = np.column_stack([b.col("x"), b.col("y")])
        p0, p1 = xy[ids[:-1]], xy[ids[1:]]
        coords = np.asarray(line.coords)[:, :2]
        if len(coords) == 2:
            geoms = shapely.linestrings(np.stack([p0, p1], axis=1))
        else:  # keep the bends between two stops
            vs = np.r_[0.0, np.cumsum(np.hypot(*np.diff(coords, axis=0).T))]
            geoms = np.array([shapely.LineString([p0[k], *coords[(vs > s0[k]) & (vs < s1[k])], p1[k]])
                              for k in range(s0.size)], dtype=object)
        bf, bt = _base_numbers(s0, s1, interval)
        b.add_edges(ids[:-1], ids[1:], "aisle", floor, aisle=names[i], s_from=s0, s_to=s1, base_from=bf,
                    base_to=bt, path_address=[f"{head} {names[i]} {f}~{t}" for f, t in zip(bf, bt, strict=True)],
                    geometry=geoms)


def _attach(objs: pd.DataFrame, pts: np.ndarray, names: list[str], lines: np.ndarray,
            max_offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Aisle index (−1 = none) and arc length of each point: its addressed aisle, else the nearest."""
    n = len(pts)
    idx = np.full(n, -1, np.int64)
    if not len(lines) or not n:
        return idx, np.zeros(n)
    lookup = {nm: i for i, nm in enumerate(names)}
    given = np.array([lookup.get(a, -1) if isinstance(a, str) else -1 for a in objs["aisle"]], np.int64) \
        if "aisle" in objs else idx.copy()
    dist = shapely.distance(pts[:, None], lines[None, :])
    near = np.argmin(dist, axis=1)
    ok = dist[np.arange(n), near] <= max_offset
    idx = np.where(given >= 0, given, np.where(ok, near, -1))
    s = np.zeros(n)
    has = idx >= 0
    s[has] = shapely.line_locate_point(lines[idx[has]], pts[has])
    return idx, s


def _feet(b: _Builder, floor: int, names: list[str], lines: np.ndarray, idx: np.ndarray, s: np.ndarray,
          stops: list[list[tuple[float, int]]]) -> np.ndarray:
    """One foot node per attached object on its aisle; returns their ids (−1 where unattached)."""
    out = np.full(idx.size, -1, np.int64)
    has = np.flatnonzero(idx >= 0)
    if not has.size:
        return out
    feet = shapely.line_interpolate_point(lines[idx[has]], s[has])
    ids = b.add_nodes("foot", floor, shapely.get_x(feet), shapely.get_y(feet),
                      aisle=np.array([names[i] for i in idx[has]], object), s_m=s[has])
    out[has] = ids
    for k, j in zip(has, ids, strict=True):
        stops[idx[k]].append((float(s[k]), int(j)))
    return out


def _access(b: _Builder, floor: int, src: np.ndarray, feet: np.ndarray, kind: str = "access") -> None:
    ok = feet >= 0
    if ok.any():
        xy = np.column_stack([b.col("x"), b.col("y")])
        p, q = xy[src[ok]], xy[feet[ok]]
        addr = b.col("address")[src[ok]]
        b.add_edges(src[ok], feet[ok], kind, floor, aisle=b.col("aisle")[feet[ok]],
                    path_address=addr, geometry=shapely.linestrings(np.stack([p, q], axis=1)))


def _stores(b: _Builder, floor: int, stores: gpd.GeoDataFrame, names: list[str], lines: np.ndarray,
            stops: list[list[tuple[float, int]]], max_offset: float) -> None:
    """Store nodes (inside the footprint), door nodes, and their feet on the aisles."""
    if not len(stores):
        return
    fp = np.asarray(stores.geometry.values)
    inside = shapely.point_on_surface(fp)
    if {"entrance_x", "entrance_y"} <= set(stores.columns):
        door = shapely.points(stores["entrance_x"].to_numpy(float), stores["entrance_y"].to_numpy(float))
    else:
        door = np.full(len(fp), None, dtype=object)
    missing = shapely.is_missing(door) | ~np.isfinite(shapely.get_x(door))
    if missing.any():  # the footprint's point nearest to its aisle (or to any aisle on the floor)
        idx0, _ = _attach(stores[missing], inside[missing], names, lines, np.inf)
        tgt = np.where(idx0 >= 0, lines[np.maximum(idx0, 0)] if len(lines) else None, None)
        door[missing] = shapely.get_point(shapely.shortest_line(shapely.boundary(fp[missing]), tgt), 0) \
            if len(lines) else inside[missing]
    oid = stores["object_id"].to_numpy(np.int64)
    addr = stores["address"].to_numpy(object)
    corners = [np.asarray(shapely.get_coordinates(g)) for g in fp]
    dx, dy = shapely.get_x(door), shapely.get_y(door)
    depth = np.array([np.hypot(c[:, 0] - x, c[:, 1] - y).max() for c, x, y in zip(corners, dx, dy, strict=True)])
    sid = b.add_nodes("store", floor, shapely.get_x(inside), shapely.get_y(inside), object_id=oid, address=addr,
                      depth_m=depth, name=stores["number"].to_numpy(object) if "number" in stores else None)
    did = b.add_nodes("door", floor, dx, dy, object_id=oid, address=addr)
    b.add_edges(sid, did, "room", floor, path_address=addr,
                geometry=shapely.linestrings(np.stack([shapely.get_coordinates(inside),
                                                       shapely.get_coordinates(door)], axis=1)))
    idx, s = _attach(stores, door, names, lines, np.inf)  # far ones are warned about
    _access(b, floor, did, _feet(b, floor, names, lines, idx, s, stops))


def _facilities(b: _Builder, floor: int, fac: gpd.GeoDataFrame, stores: gpd.GeoDataFrame, names: list[str],
                lines: np.ndarray, stops: list[list[tuple[float, int]]], max_offset: float) -> None:
    """Facility and exit nodes: inside a store → linked to it; else to their aisle."""
    if not len(fac):
        return
    pts = shapely.points(shapely.get_x(fac.geometry.values), shapely.get_y(fac.geometry.values))
    kind = fac["kind"].to_numpy(object)
    is_exit = kind == "exit_sign"
    st = np.flatnonzero((b.col("kind") == "store") & (b.col("floor") == floor))
    host = np.full(len(pts), -1, np.int64)
    if len(st) and len(stores):
        tree = shapely.STRtree(np.asarray(stores.geometry.values))
        qi, si = tree.query(pts, predicate="within")
        by_oid = pd.Series(st, index=b.col("object_id")[st])
        host[qi] = by_oid.reindex(stores["object_id"].to_numpy()[si]).to_numpy()
        host[is_exit] = -1
    nk = np.where(is_exit, "exit", "facility")
    if is_exit.any() and len(lines):
        pts = pts.copy()
        pts[is_exit] = _exit_doors(pts[is_exit], lines)
    ids = np.empty(len(pts), np.int64)
    for k in ("exit", "facility"):
        sel = nk == k
        if sel.any():
            ids[sel] = b.add_nodes(k, floor, shapely.get_x(pts[sel]), shapely.get_y(pts[sel]),
                                   object_id=fac["object_id"].to_numpy(np.int64)[sel],
                                   address=fac["address"].to_numpy(object)[sel], name=kind[sel])
    hosted = host >= 0
    if hosted.any():
        _access(b, floor, ids[hosted], host[hosted], kind="room")
    free = ~hosted
    idx, s = _attach(fac[free], pts[free], names, lines, np.inf)
    feet = _feet(b, floor, names, lines, idx, s, stops)
    for k in ("exit", "access"):
        sel = (nk[free] == "exit") == (k == "exit")
        _access(b, floor, ids[free][sel], feet[sel], kind=k)


def _exit_doors(signs: np.ndarray, lines: np.ndarray, *, reach: float = 5.0) -> np.ndarray:
    """Where each exit sign's door is: an aisle's end runs into the door it marks, so a sign past
    (or at) the end of its nearest aisle moves onto that aisle's line, extended to the sign's wall;
    a sign beside an aisle's middle (a side door) stays where it is."""
    out = signs.copy()
    near = np.argmin(shapely.distance(signs[:, None], lines[None, :]), axis=1)
    for k, (pt, i) in enumerate(zip(signs, near, strict=True)):
        c = np.asarray(lines[i].coords)[:, :2]
        p = np.array([pt.x, pt.y])
        for end, prev in ((c[0], c[1]), (c[-1], c[-2])):
            u = (end - prev) / max(float(np.hypot(*(end - prev))), 1e-9)
            t = float((p - end) @ u)
            if -0.5 <= t <= reach and abs(float(u[0] * (p - end)[1] - u[1] * (p - end)[0])) <= reach:
                out[k] = shapely.Point(end + u * max(t, 0.0))
                break
    return out


def _extra_exits(b: _Builder, floor: int, exits: Sequence[tuple[int, float, float]], names: list[str],
                 lines: np.ndarray, stops: list[list[tuple[float, int]]], radius: float = 3.0) -> None:
    """Exits given as (floor, x, y), unless an exit node is already within ``radius``."""
    mine = np.array([(x, y) for f, x, y in exits if int(f) == floor], float).reshape(-1, 2)
    if not mine.size:
        return
    ex = (b.col("kind") == "exit") & (b.col("floor") == floor)
    have = np.column_stack([b.col("x")[ex], b.col("y")[ex]])
    if len(have):
        d = np.hypot(mine[:, None, 0] - have[None, :, 0], mine[:, None, 1] - have[None, :, 1]).min(axis=1)
        mine = mine[d > radius]
    if not len(mine):
        return
    ids = b.add_nodes("exit", floor, mine[:, 0], mine[:, 1], name="출입구")
    pts = shapely.points(mine)
    idx, s = _attach(pd.DataFrame(index=range(len(pts))), pts, names, lines, np.inf)
    _access(b, floor, ids, _feet(b, floor, names, lines, idx, s, stops), kind="exit")


def _connectors(b: _Builder, connectors: Sequence[dict[str, Any]], aisles: gpd.GeoDataFrame,
                stops_of: dict[int, tuple[list[str], np.ndarray, list[list[tuple[float, int]]]]]) -> None:
    """Stairs, ramps, lifts: a node per floor, linked to its nearest aisle, and vertical edges."""
    for k, c in enumerate(connectors, start=1):
        floors = sorted(int(f) for f in c["floors"] if int(f) in b.slab)
        if len(floors) < 2:
            continue
        pts = c.get("line") or [c["xy"]] * 2
        lo_xy, hi_xy = np.asarray(pts[0], float), np.asarray(pts[-1], float)
        name = c.get("name") or f"{ {'stairs': '계단', 'ramp': '경사로', 'lift': '승강기', 'escalator': '에스컬레이터'}[c['kind']]}{k}"
        ids = []
        for j, f in enumerate(floors):
            xy = lo_xy if j == 0 else hi_xy if c.get("line") else lo_xy
            nid = int(b.add_nodes("connector", f, xy[0], xy[1], name=name, address=c["kind"])[0])
            ids.append(nid)
            names, lines, stops = stops_of[f]
            pt = np.array([shapely.Point(xy)], dtype=object)
            idx, s = _attach(pd.DataFrame(index=range(1)), pt, names, lines, np.inf)
            _access(b, f, np.array([nid]), _feet(b, f, names, lines, idx, s, stops))
        for j in range(len(floors) - 1):
            f0, a, z = floors[j], ids[j], ids[j + 1]
            z0, z1 = b.slab[f0], b.slab[floors[j + 1]]
            rise = abs(z1 - z0)
            run = float(np.hypot(*(hi_xy - lo_xy))) if c.get("line") else rise * CONNECTOR_KINDS[c["kind"]]
            geom = shapely.LineString([(*lo_xy, z0), (*(hi_xy if c.get("line") else lo_xy), z1)])
            b.add_edges([a], [z], c["kind"], f0, path_address=[name], geometry=[geom],
                        length_m=[float(np.hypot(run, rise))])


def network_from_layers(levels: pd.DataFrame, aisles: gpd.GeoDataFrame, stores: gpd.GeoDataFrame,
                        facilities: gpd.GeoDataFrame, *, sido: str, sigungu: str, interval_m: float = 20.0,
                        max_offset_m: float = 6.0, connectors: Sequence[dict[str, Any]] = (),
                        exits: Sequence[tuple[int, float, float]] = (), snap_m: float = 3.0) -> PathNetwork:
    """Build the navigation network of a scan from its layers (objects.gpkg of ``geo3d scan``).

    Parameters
    ----------
    levels : DataFrame
        ``floor`` and ``slab_z`` per level.
    aisles : GeoDataFrame
        ``name``, ``floor`` and the centreline (numbering direction).
    stores, facilities : GeoDataFrame
        ``object_id``, ``kind``, ``floor``, ``aisle``, ``address``; store footprints (with
        ``entrance_x``/``entrance_y`` when known, else the door is the footprint's point nearest
        to the aisle), facility points. Exit signs (kind ``exit_sign``) become exits.
    sido, sigungu : str
        Head of the path addresses.
    interval_m : float
        Base interval of the numbering (path addresses name the base numbers an edge spans).
    max_offset_m : float
        An object farther than this from every aisle is still linked to the nearest one, with a
        warning.
    connectors : sequence of dict
        Stairs, ramps, lifts (see :func:`connectors_from_market`).
    exits : sequence of (floor, x, y)
        Exits beside the exit signs (e.g. MARKET.toml's principal entrance).
    snap_m : float
        An aisle end this close to another aisle joins it.

    Returns
    -------
    PathNetwork
    """
    slab = {int(f): float(z) for f, z in zip(levels["floor"], levels["slab_z"], strict=True)}
    b = _Builder(slab)
    head = f"{sido} {sigungu}"
    stops_of: dict[int, tuple[list[str], np.ndarray, list[list[tuple[float, int]]]]] = {}
    warnings: list[str] = []
    for floor in sorted(slab):
        names, lines = _floor_aisles(aisles, floor)
        stops: list[list[tuple[float, int]]] = [[] for _ in lines]
        for i, line in enumerate(lines):
            c = np.asarray(line.coords)
            ids = b.add_nodes("aisle_end", floor, c[[0, -1], 0], c[[0, -1], 1], aisle=names[i],
                              s_m=np.array([0.0, line.length]))
            stops[i] += [(0.0, int(ids[0])), (float(line.length), int(ids[1]))]
        for x, y, members in _junctions(names, lines, snap_m):
            nid = int(b.add_nodes("junction", floor, x, y, aisle="·".join(names[i] for i, _ in members))[0])
            for i, s in members:
                stops[i].append((float(s), nid))
        on = stores["floor"].to_numpy().astype(int) == floor
        _stores(b, floor, stores[on], names, lines, stops, max_offset_m)
        fon = facilities["floor"].to_numpy().astype(int) == floor
        _facilities(b, floor, facilities[fon], stores[on], names, lines, stops, max_offset_m)
        _extra_exits(b, floor, exits, names, lines, stops)
        stops_of[floor] = (names, lines, stops)
    _connectors(b, connectors, aisles, stops_of)
    for floor, (names, lines, stops) in stops_of.items():
        _aisle_edges(b, floor, names, lines, stops, head, interval_m)
    net = _finish(b, interval_m, warnings)
    _name_links(net, head)
    far = net.edges[(net.edges["kind"] == "access") & (net.edges["length_m"] > max_offset_m + 1.0)]
    if len(far):
        warnings.append(f"{len(far)} objects are linked to an aisle more than {max_offset_m:g} m away")
    for w in warnings:
        log.warning("network_from_layers: %s", w)
    return net


def _name_links(net: PathNetwork, head: str) -> None:
    """Links without an addressed object take the address of the way at their foot."""
    e, n = net.edges, net.nodes
    conn = n["kind"].to_numpy()[e["u"].to_numpy()] == "connector"
    miss = (e["path_address"].isna().to_numpy() | conn) & e["aisle"].notna().to_numpy()
    if miss.any():
        s = n["s_m"].to_numpy(float)[e["v"].to_numpy()[miss]]
        lo, hi = _base_numbers(s, s, net.interval_m)
        e.loc[miss, "path_address"] = [f"{head} {a} {f}~{t}" for a, f, t in zip(e["aisle"][miss], lo, hi, strict=True)]


def _types(nodes: pd.DataFrame, edges: pd.DataFrame) -> None:
    """Numeric columns as numbers, text as text (blocks were built with object columns)."""
    for df, floats, ints in ((nodes, ("x", "y", "z", "s_m", "depth_m"), ("floor", "object_id")),
                             (edges, ("length_m", "s_from", "s_to"), ("u", "v", "floor"))):
        for c in floats:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
        for c in ints:
            df[c] = pd.to_numeric(df[c]).astype(np.int64)
    for c in ("base_from", "base_to"):
        edges[c] = pd.to_numeric(edges[c], errors="coerce").astype("Int64")
    for df, cols in ((nodes, ("kind", "aisle", "name", "address")), (edges, ("kind", "aisle", "path_address"))):
        for c in cols:
            df[c] = df[c].astype(object).where(df[c].notna(), None)


def _finish(b: _Builder, interval_m: float, warnings: list[str]) -> PathNetwork:
    """One table each; flat edges lifted to their slab; orphan nodes dropped (with a warning)."""
    nodes = b.frame()
    keys = [*_EDGE_COLUMNS, "geometry"]
    edges = pd.DataFrame({c: np.concatenate([blk[c] for blk in b.edges]) if b.edges else np.zeros(0) for c in keys})
    used = np.zeros(len(nodes), bool)
    used[edges["u"].to_numpy(np.int64)] = True
    used[edges["v"].to_numpy(np.int64)] = True
    if not used.all():
        lost = nodes[~used]
        warnings.append(f"{len(lost)} nodes have no aisle on their floor and were left out "
                        f"({', '.join(sorted(set(map(str, lost['kind']))))})")
    new = np.cumsum(used) - 1
    nodes = nodes[used].reset_index(drop=True)
    edges["u"] = new[edges["u"].to_numpy(np.int64)]
    edges["v"] = new[edges["v"].to_numpy(np.int64)]
    geom = edges["geometry"].to_numpy(dtype=object).copy()
    flat = np.flatnonzero(~np.asarray(shapely.has_z(geom), bool))
    floors = edges["floor"].to_numpy(np.int64)[flat]
    uf = np.unique(floors)
    z = np.array([b.slab.get(int(f), 0.0) for f in uf], float)[np.searchsorted(uf, floors)]
    xy, at = shapely.get_coordinates(geom[flat], return_index=True)
    geom[flat] = shapely.linestrings(np.column_stack([xy, z[at]]), indices=at)  # lifted to their slab
    length = edges["length_m"].to_numpy(float)
    length = np.where(np.isfinite(length), length, shapely.length(geom))
    edges["length_m"] = length
    _types(nodes, edges)
    nodes_g = gpd.GeoDataFrame(nodes[NODE_COLUMNS], geometry=shapely.points(
        nodes[["x", "y", "z"]].to_numpy(float)))
    edges_g = gpd.GeoDataFrame(edges[_EDGE_COLUMNS], geometry=list(geom))
    return PathNetwork(nodes_g, edges_g, interval_m, warnings)
