"""Address look-up and routes on a scan's navigation network: ``locate``, ``where``, ``route``.

A :class:`ScanPaths` holds a ``geo3d scan`` output folder's objects and network (from
``paths.gpkg``, or built from ``objects.gpkg`` for folders written before it existed).

Examples
--------
>>> from geo3d.indoor.routes import address_key
>>> address_key(" 서울특별시  동대문구 경동시장1통로 4 - 1 ")
'서울특별시동대문구경동시장1통로4-1'
"""

from __future__ import annotations

import itertools
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from ..address.format import FACILITY_SUFFIX, floor_label
from ..errors import InputError, MissingFileError
from .network import PathNetwork
from .steps import route_steps, walking_time

__all__ = ["AGENTS", "KIND_ALIASES", "Route", "ScanPaths", "address_key", "graph_of", "locate",
           "open_scan_paths", "route", "where"]

#: Edge kinds each agent may not use.
AGENTS: dict[str, frozenset[str]] = {
    "pedestrian": frozenset(),
    "wheelchair": frozenset({"stairs", "escalator"}),
    "evacuation": frozenset({"lift", "escalator"}),
}
#: Names accepted after ``nearest:`` (English, the facility kinds, their Korean suffixes).
KIND_ALIASES: dict[str, str] = {
    "exit": "exit", "출구": "exit", "비상구": "exit", "출입구": "exit",
    "aed": "aed", "defibrillator": "aed", "extinguisher": "fire_extinguisher", "hydrant": "indoor_hydrant",
    "alarm": "fire_alarm", "firstaid": "other_facility", "first_aid": "other_facility",
    "stairs": "stairs", "계단": "stairs", "lift": "lift", "elevator": "lift", "승강기": "lift",
    **{k: k for k in FACILITY_SUFFIX}, **{v: k for k, v in FACILITY_SUFFIX.items() if k != "exit_sign"},
    "exit_sign": "exit",
}


def address_key(text: str) -> str:
    """An address with every space removed: the form compared by :func:`locate` (tolerant spacing)."""
    return re.sub(r"\s+", "", str(text))


@dataclass
class ScanPaths:
    """A scan's addressed objects and navigation network, ready for queries."""

    network: PathNetwork
    objects: gpd.GeoDataFrame  # stores and facilities: object_id, kind, floor, address, x, y, z
    levels: pd.DataFrame
    sido: str = ""
    sigungu: str = ""
    _graphs: dict[str, nx.Graph] = field(default_factory=dict, repr=False)
    _keys: dict[str, int] = field(default_factory=dict, repr=False)
    _object_node: dict[int, int] = field(default_factory=dict, repr=False)
    _obj: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        ok = self.objects["address"].notna().to_numpy()
        self._obj = {"floor": self.objects["floor"].to_numpy().astype(int), "addressed": ok,
                     "kind": self.objects["kind"].to_numpy(), "geom": np.asarray(self.objects.geometry.values)}
        keys = [address_key(a) for a in self.objects.loc[ok, "address"]]
        self._keys = dict(zip(keys, np.flatnonzero(ok).tolist(), strict=True))

    def floor_label(self, floor: int) -> str:
        """``1층`` / ``지하1층``."""
        return floor_label(int(floor))


def open_scan_paths(scan_dir: str | os.PathLike[str], *, market: Any = None) -> ScanPaths:
    """Read a ``geo3d scan`` output folder for :func:`locate`, :func:`where` and :func:`route`.

    The network comes from ``paths.gpkg``; a folder without it (written before) gets one built
    from ``objects.gpkg`` (with ``market``'s stairs and exits when given).

    Raises
    ------
    MissingFileError
        ``scan_dir`` has no ``objects.gpkg``.
    """
    from .paths_output import network_from_folder

    d = Path(scan_dir)
    if not (d / "objects.gpkg").is_file():
        msg = f"{d} is not a `geo3d scan` output folder (no objects.gpkg); pass the folder given to --out"
        raise MissingFileError(msg)
    levels = gpd.read_file(d / "objects.gpkg", layer="levels")
    objs = pd.concat([gpd.read_file(d / "objects.gpkg", layer=k) for k in ("stores", "facilities")],
                     ignore_index=True)
    objs = gpd.GeoDataFrame(objs, geometry="geometry", crs=levels.crs)
    net, sido, sigungu = network_from_folder(d, market=market)
    if "z" not in objs:
        slab = dict(zip(levels["floor"].astype(int), levels["slab_z"].astype(float), strict=True))
        objs["z"] = np.where(objs["kind"] == "store", objs["floor"].map(slab).to_numpy(float),
                             (objs["z_min"].to_numpy(float) + objs["z_max"].to_numpy(float)) / 2)
    return ScanPaths(net, objs.sort_values("object_id").reset_index(drop=True), levels, sido, sigungu)


def graph_of(paths: ScanPaths, agent: str = "pedestrian") -> nx.DiGraph:
    """The networkx graph an agent may use: every edge both ways (attributes ``length`` in metres
    and ``eid``, the row in ``paths.network.edges``). ``nearest:`` queries add a sink per kind
    that only the targets lead into, so one early-stopping Dijkstra finds the nearest target."""
    if agent not in AGENTS:
        msg = f"unknown agent {agent!r}; valid: {', '.join(AGENTS)}"
        raise InputError(msg)
    if agent not in paths._graphs:
        e = paths.network.edges
        ok = ~e["kind"].isin(list(AGENTS[agent])).to_numpy()
        g = nx.DiGraph()
        g.add_nodes_from(range(len(paths.network.nodes)))
        rows = list(zip(np.flatnonzero(ok).tolist(), e["u"].to_numpy()[ok].tolist(), e["v"].to_numpy()[ok].tolist(),
                        e["length_m"].to_numpy(float)[ok].tolist(), strict=True))
        g.add_edges_from((u, v, {"length": w, "eid": i}) for i, u, v, w in rows)
        g.add_edges_from((v, u, {"length": w, "eid": i}) for i, u, v, w in rows)
        paths._graphs[agent] = g
    return paths._graphs[agent]


def _record(paths: ScanPaths, row: int) -> dict[str, Any]:
    o = paths.objects.iloc[row]
    return {"address": o["address"] if isinstance(o["address"], str) else None, "object_id": int(o["object_id"]),
            "kind": str(o["kind"]), "floor": int(o["floor"]), "floor_label": paths.floor_label(int(o["floor"])),
            "x": round(float(o["x"]), 3), "y": round(float(o["y"]), 3), "z": round(float(o["z"]), 3)}


def locate(paths: ScanPaths, address: str, *, entrance: bool = True) -> dict[str, Any]:
    """Address → position: the object, its floor and x, y, z (raises :class:`InputError` if unknown).

    Spacing is free (``경동시장1통로 4-1`` = ``경동시장1통로 4 - 1``), and ``시도 시군구`` may be left out
    when the rest names one object. An address without an object (``…경동시장1통로 9``, a base
    number only) gives the point on that road's centreline: kind ``path``.
    """
    key = address_key(address)
    row = paths._keys.get(key)
    if row is None:
        head = address_key(f"{paths.sido} {paths.sigungu}")
        row = paths._keys.get(head + key) if head and not key.startswith(head) else None
    if row is not None:
        rec = _record(paths, row)
        a = paths.network.arrays
        door: Any = np.flatnonzero((a["n_object_id"] == rec["object_id"]) & (a["n_kind"] == "door")) if entrance else []
        if len(door):
            rec["entrance"] = [round(float(a["n_x"][door[0]]), 3), round(float(a["n_y"][door[0]]), 3)]
        return rec
    return _locate_path(paths, address)


def _locate_path(paths: ScanPaths, address: str) -> dict[str, Any]:
    """A road name and base number → the point at the middle of that base interval."""
    m = re.search(r"([가-힣0-9.]+?)\s*([1-9][0-9]*)\s*$", str(address).strip())
    n = paths.network
    aisles = n.edges[n.edges["kind"] == "aisle"]
    if m is None or m.group(1) not in set(aisles["aisle"]):
        msg = (f"{address!r} names no store, facility or road of this scan; give an address as "
               f"'시도 시군구 도로명 번호[-부번][, 상세][ 유형]' (see addresses.csv)")
        raise InputError(msg)
    road, num = m.group(1), int(m.group(2))
    s = (math.ceil(num / 2) - 0.5) * n.interval_m
    seg = aisles[(aisles["aisle"] == road) & (aisles["s_from"] <= s) & (aisles["s_to"] >= s)]
    if seg.empty:
        msg = f"{road} has no base number {num}: it is shorter than {s:.0f} m"
        raise InputError(msg)
    e = seg.iloc[0]
    t = (s - float(e["s_from"])) / max(float(e["s_to"]) - float(e["s_from"]), 1e-9)
    p = shapely.line_interpolate_point(e.geometry, t, normalized=True)
    return {"address": f"{paths.sido} {paths.sigungu} {road} {num}", "object_id": None, "kind": "path",
            "floor": int(e["floor"]), "floor_label": paths.floor_label(int(e["floor"])),
            "x": round(p.x, 3), "y": round(p.y, 3), "z": round(shapely.get_coordinates(p, include_z=True)[0, 2], 3)}


def where(paths: ScanPaths, x: float, y: float, *, floor: int | None = None,
          radius: float = 3.0) -> dict[str, Any]:
    """Position → the nearest address: a facility within 0.5 m, else the store under the point,
    else the nearest object within ``radius``; always with ``path_address``, the base number of the
    nearest aisle point (odd on the left, even on the right)."""
    floors = sorted(int(f) for f in paths.levels["floor"])
    if floor is None:
        floor = 1 if 1 in floors else floors[0]
    if int(floor) not in floors:
        msg = f"--floor {floor} is not a level of this scan; levels: {', '.join(map(str, floors))}"
        raise InputError(msg)
    o = paths._obj
    on = np.flatnonzero((o["floor"] == int(floor)) & o["addressed"])
    pt = shapely.Point(float(x), float(y))
    d = shapely.distance(o["geom"][on], pt) if on.size else np.zeros(0)
    fac = o["kind"][on] != "store"
    best = None
    if (fac & (d <= 0.5)).any():
        best = on[fac][np.argmin(d[fac])]
    elif (~fac & (d <= 0.25)).any():
        best = on[~fac][np.argmin(d[~fac])]
    elif on.size and d.min() <= radius:
        best = on[np.argmin(d)]
    rec = _record(paths, best) if best is not None else {
        "address": None, "object_id": None, "kind": None, "floor": int(floor),
        "floor_label": paths.floor_label(int(floor)), "x": float(x), "y": float(y), "z": None}
    if best is not None:
        rec["distance_m"] = round(float(d[on == best][0]), 3)
    rec["path_address"] = _path_address(paths, pt, int(floor))
    return rec


def _path_address(paths: ScanPaths, pt: shapely.Point, floor: int) -> str | None:
    a = paths.network.arrays
    sel = np.flatnonzero((a["e_kind"] == "aisle") & (a["e_floor"] == floor))
    if not sel.size:
        return None
    i = sel[int(np.argmin(shapely.distance(a["e_geom"][sel], pt)))]
    c = a["e_coords"][i][:, :2]
    line = shapely.LineString(c)
    s = float(a["e_s_from"][i]) + line.project(pt)
    u = c[-1] - c[0]
    left = u[0] * (pt.y - c[0, 1]) - u[1] * (pt.x - c[0, 0]) > 0
    k = math.floor(max(s, 0.0) / paths.network.interval_m)
    return f"{paths.sido} {paths.sigungu} {a['e_aisle'][i]} {2 * k + 1 if left else 2 * k + 2}"


@dataclass
class Route:
    """A route: node ids, 3D line, length, walking time and Korean turn-by-turn steps."""

    from_address: str | None
    to_address: str | None
    nodes: list[int]
    edges: list[int]
    coordinates: list[list[float]]
    length_m: float
    time_s: float
    steps: list[dict[str, Any]]
    agent: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the fields of ``geo3d route --json``."""
        return {"from_address": self.from_address, "to_address": self.to_address,
                "length_m": round(self.length_m, 2), "time_s": round(self.time_s, 1),
                "time_min": round(self.time_s / 60, 1), "agent": self.agent,
                "steps": self.steps, "coordinates": self.coordinates}


def _node_of(paths: ScanPaths, place: Any) -> tuple[int, str | None, list[float] | None]:
    """A route end: an address (its store or facility node) or (x, y[, floor]) (nearest node)."""
    a = paths.network.arrays
    if isinstance(place, str) and not re.fullmatch(r"\s*-?[\d.]+\s*,\s*-?[\d.]+\s*(,\s*-?\d+\s*)?", place):
        rec = locate(paths, place, entrance=False)
        node = _object_nodes(paths).get(rec["object_id"]) if rec["object_id"] is not None else None
        if node is not None:
            return node, rec["address"], None
        place = (rec["x"], rec["y"], rec["floor"])
    if isinstance(place, str):
        place = tuple(float(v) for v in place.split(","))
    x, y = float(place[0]), float(place[1])
    fl = a["n_floor"]
    floor = int(place[2]) if len(place) > 2 else (1 if (fl == 1).any() else int(fl.min()))
    on = np.flatnonzero((fl == floor) & np.isin(a["n_kind"], ["foot", "junction", "aisle_end"]))
    if not on.size:
        msg = f"floor {floor} has no path; pick another --floor"
        raise InputError(msg)
    i = on[np.argmin(np.hypot(a["n_x"][on].astype(float) - x, a["n_y"][on].astype(float) - y))]
    return int(i), where(paths, x, y, floor=floor)["path_address"], [x, y, float(a["n_z"][i])]


def _object_nodes(paths: ScanPaths) -> dict[int, int]:
    """object_id → its store, facility or exit node (cached)."""
    if not paths._object_node:
        a = paths.network.arrays
        ids = np.flatnonzero(np.isin(a["n_kind"], ["store", "facility", "exit"]))
        paths._object_node.update(zip(a["n_object_id"][ids].tolist(), ids.tolist(), strict=True))
    return paths._object_node


def _targets(paths: ScanPaths, kind: str) -> tuple[str, np.ndarray]:
    k = KIND_ALIASES.get(kind.strip().lower(), KIND_ALIASES.get(kind.strip()))
    if k is None:
        msg = f"nearest:{kind} is not a known kind; valid: {', '.join(sorted(set(KIND_ALIASES)))}"
        raise InputError(msg)
    a = paths.network.arrays
    if k == "exit":
        sel = a["n_kind"] == "exit"
    elif k in ("stairs", "lift"):
        sel = (a["n_kind"] == "connector") & (a["n_address"] == k)
    else:
        sel = (a["n_kind"] == "facility") & (a["n_name"] == k)
    ids = np.flatnonzero(sel)
    if not ids.size:
        msg = f"this scan has no {k} to route to"
        raise InputError(msg)
    return k, ids


def _sink(paths: ScanPaths, g: nx.DiGraph, kind: str) -> tuple[str, str]:
    k, ids = _targets(paths, kind)
    sink = f"nearest:{k}"
    if sink not in g:
        g.add_edges_from((int(t), sink, {"length": 0.0, "eid": -1}) for t in ids)
    return k, sink


def route(paths: ScanPaths, origin: Any, destination: Any, *, agent: str = "pedestrian") -> Route:
    """Shortest route from an address or (x, y[, floor]) to an address, a position or
    ``"nearest:KIND"`` (``exit``, ``aed``, ``fire_extinguisher``, … see :data:`KIND_ALIASES`).

    Raises :class:`InputError` for an unknown place or kind, or when nothing is reachable.
    """
    g = graph_of(paths, agent)
    src, from_addr, src_xyz = _node_of(paths, origin)
    dst_xyz = None
    try:
        if isinstance(destination, str) and destination.strip().lower().startswith("nearest:"):
            _, sink = _sink(paths, g, destination.split(":", 1)[1])
            path = nx.dijkstra_path(g, src, sink, weight="length")[:-1]
        else:
            dst, _, dst_xyz = _node_of(paths, destination)
            path = nx.bidirectional_dijkstra(g, src, dst, weight="length")[1]
    except nx.NetworkXNoPath as exc:
        msg = f"no {agent} route from {origin!r} to {destination!r} (no path in the network)"
        raise InputError(msg) from exc
    a = paths.network.arrays
    end = path[-1]
    to_addr = a["n_address"][end] if isinstance(a["n_address"][end], str) else None
    if to_addr is None or to_addr in ("stairs", "lift", "ramp", "escalator"):
        to_addr = a["n_name"][end] if isinstance(a["n_name"][end], str) else to_addr
    eids = [g.edges[u, v]["eid"] for u, v in itertools.pairwise(path)]
    coords = _coordinates(paths.network, path, eids, src_xyz, dst_xyz)
    length = float(a["e_length_m"][eids].astype(float).sum()) if eids else 0.0
    for xyz, node in ((src_xyz, path[0]), (dst_xyz, path[-1])):
        if xyz is not None:
            length += float(np.hypot(xyz[0] - a["n_x"][node], xyz[1] - a["n_y"][node]))
    steps = route_steps(paths, path, eids, from_address=from_addr, to_address=to_addr)
    return Route(from_addr, to_addr, [int(p) for p in path], eids, coords, length,
                 walking_time(a["e_kind"][eids], a["e_length_m"][eids], agent=agent), steps, agent)


def _coordinates(net: PathNetwork, path: list[int], eids: list[int], src_xyz: list[float] | None,
                 dst_xyz: list[float] | None) -> list[list[float]]:
    """The route as a 3D line: each edge's geometry, turned to run along the path."""
    a = net.arrays
    out: list[np.ndarray] = []
    if src_xyz is not None:
        out.append(np.asarray([src_xyz], float))
    if not eids:
        out.append(np.array([[a["n_x"][path[0]], a["n_y"][path[0]], a["n_z"][path[0]]]], float))
    for u, eid in zip(path[:-1], eids, strict=True):
        c = a["e_coords"][eid]
        out.append(c if int(a["e_u"][eid]) == u else c[::-1])
    if dst_xyz is not None:
        out.append(np.asarray([dst_xyz], float))
    c = np.concatenate(out)
    keep = np.r_[True, np.any(np.abs(np.diff(c, axis=0)) > 1e-6, axis=1)]
    return np.round(c[keep], 3).tolist()
