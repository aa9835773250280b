"""Routes and path addresses on the market's 3D map: the navigation network and evacuation routes.

:func:`path_layers` turns the ``edges`` and ``evacuation`` layers of ``geo3d scan``'s
``paths.gpkg`` into viewer layers (thin lines at floor height, one layer per level and class so
the legend's check boxes and the level switcher apply), the attribute tables the click panel
lists (an edge's kind, 3D length and path address; a route's store address, distance and
limit) and the legend entries. :func:`~geo3d.viz.market3d.market_scene` calls it.

Edges are coloured by kind (:data:`EDGE_COLOURS`). Routes are coloured by the law's walking
distance (``rule_distance_m``, or ``distance_m`` when absent) against the rule's ``limit_m``:
green within :data:`NEAR_LIMIT` of the limit, orange within the limit but nearer, red over it.

Examples
--------
>>> import geopandas as gpd, shapely
>>> from geo3d.viz.page import LocalFrame
>>> frame = LocalFrame.around("EPSG:5186", 203400.0, 553300.0)
>>> routes = gpd.GeoDataFrame({"address": ["가1통로 1", "가1통로 2"], "floor": [1, 1],
...     "distance_m": [12.0, 70.0], "limit_m": [60.0, 60.0]},
...     geometry=[shapely.LineString([(203400, 553300, 32), (203410, 553300, 32)])] * 2, crs="EPSG:5186")
>>> layers, tables, legend = path_layers(None, routes, frame=frame, z_ref=32.0)
>>> [(l["id"], l["w"]["dtype"]) for l in layers]
[('evacuation-ok-1', 'f32'), ('evacuation-over-1', 'f32')]
>>> tables["evacuation"]["values"]["status"]
['within limit', 'over limit']
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputError
from .page import LocalFrame, binary, table_columns

__all__ = ["EDGE_COLOURS", "EDGE_LABELS", "NEAR_LIMIT", "ROUTE_CLASSES", "path_layers"]

#: Edge colour (RGB) per network edge kind (:mod:`geo3d.indoor.network`).
EDGE_COLOURS: dict[str, tuple[int, int, int]] = {
    "aisle": (120, 90, 30), "access": (90, 150, 200), "room": (150, 150, 165), "exit": (0, 120, 130),
    "stairs": (150, 60, 190), "ramp": (190, 110, 200), "lift": (220, 30, 140), "escalator": (240, 120, 170)}
#: Legend names per edge kind.
EDGE_LABELS: dict[str, str] = {
    "aisle": "통로 구간 aisle", "access": "접근로 access", "room": "점포 안 in store", "exit": "출구 연결 exit",
    "stairs": "계단 stairs", "ramp": "경사로 ramp", "lift": "승강기 lift", "escalator": "에스컬레이터 escalator"}
#: A route whose distance exceeds this share of its limit is orange (near the limit).
NEAR_LIMIT = 0.8
#: Route classes: key, status text, colour (RGB), legend label; drawn in this order (red on top).
ROUTE_CLASSES: tuple[tuple[str, str, tuple[int, int, int], str], ...] = (
    ("ok", "within limit", (30, 170, 70), f"피난 경로 ≤ {NEAR_LIMIT:.0%} 한도 evacuation route within limit"),
    ("near", "near limit", (245, 145, 20), f"피난 경로 > {NEAR_LIMIT:.0%} 한도 route near its limit"),
    ("over", "over limit", (220, 35, 35), "피난 경로 한도 초과 route over its limit"))
_EDGE_COLUMNS = ("name", "kind", "length_m", "path_address", "floor", "aisle", "base_from", "base_to")
_ROUTE_COLUMNS = ("address", "status", "distance_m", "rule_distance_m", "limit_m", "floor", "exit_address",
                  "rule_id", "source", "object_id")
_EDGE_LIFT, _ROUTE_LIFT = 0.10, 0.20  # metres above the slab (the slab's top is at its z)


def _segments(geoms: np.ndarray, frame: LocalFrame, z: np.ndarray, z_ref: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive vertex pairs of line strings in local metres: ``a``, ``b`` (n, 3) and the
    index of the line each segment belongs to. ``z`` (one per line) fills vertices without z."""
    xyz, part = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    zz = np.where(np.isfinite(xyz[:, 2]), xyz[:, 2], z[part]) - z_ref
    x, y = frame.local(xyz[:, 0], xyz[:, 1])
    pts = np.column_stack([x, y, zz])
    same = part[1:] == part[:-1]
    return pts[:-1][same], pts[1:][same], part[:-1][same]


def _line_layer(layer_id: str, group: str, level: int, table: str, a: np.ndarray, b: np.ndarray,
                feature: np.ndarray, rgb: tuple[int, int, int], width_px: float) -> dict[str, Any]:
    n = len(a)
    return {"type": "tubes", "id": layer_id, "group": group, "level": level, "table": table, "mesh": False,
            "a": binary(a), "b": binary(b), "w": binary(np.full(n, 0.05)), "h": binary(np.full(n, 0.05)),
            "color": binary(np.tile(np.array([*rgb, 255], np.uint8), (n, 1)), "u8"),
            "feature": binary(feature, "u32"), "line_px": width_px}


def _lines(df: gpd.GeoDataFrame, slab: dict[int, float]) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    ok = df.geometry.notna().to_numpy() & ~df.geometry.is_empty.to_numpy()
    out = df[ok].reset_index(drop=True)
    z = pd.Series(out["floor"].to_numpy(np.int64)).map(slab).to_numpy(dtype=float) if slab else np.zeros(len(out))
    return out, np.nan_to_num(z)


def _network(edges: gpd.GeoDataFrame, frame: LocalFrame, z_ref: float, slab: dict[int, float]
             ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    e, z = _lines(edges, slab)
    kind = e["kind"].astype(str).to_numpy()
    floor = e["floor"].to_numpy(np.int64)
    a, b, idx = _segments(e.geometry.to_numpy(), frame, z, z_ref - _EDGE_LIFT)
    layers = []
    kinds = [k for k in EDGE_COLOURS if k in set(kind)] + sorted(set(kind) - set(EDGE_COLOURS))
    for k in kinds:
        for f in np.unique(floor[kind == k]):
            s = (kind[idx] == k) & (floor[idx] == f)
            layers.append(_line_layer(f"network-{k}-{f}", f"network-{k}", int(f), "network", a[s], b[s], idx[s],
                                      EDGE_COLOURS.get(k, (90, 90, 90)), 3 if k in ("stairs", "ramp", "lift",
                                                                                    "escalator") else 1.5))
    table = pd.DataFrame(e.drop(columns=e.geometry.name))
    names = table["path_address"] if "path_address" in table else pd.Series(None, index=table.index, dtype=object)
    table["name"] = names.astype(object).where(names.notna(), pd.Series(kind).map(lambda k: EDGE_LABELS.get(k, k)))
    cols = [c for c in _EDGE_COLUMNS if c in table]
    counts = pd.Series(kind).value_counts()
    legend = [{"label": f"{EDGE_LABELS.get(k, k)} ({int(counts[k])})", "color": list(EDGE_COLOURS.get(k, (90, 90, 90))),
               "shape": "line", "group": f"network-{k}"} for k in kinds]
    return layers, {"columns": cols, "values": table_columns(table, cols), "title_column": "name",
                    "hover": ["kind", "path_address"] if "path_address" in table else ["kind"]}, legend


def _evacuation(routes: gpd.GeoDataFrame, frame: LocalFrame, z_ref: float, slab: dict[int, float]
                ) -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]]]:
    r, z = _lines(routes, slab)
    dist = pd.to_numeric(r["rule_distance_m"] if "rule_distance_m" in r else r["distance_m"],
                         errors="coerce").to_numpy(float)
    limit = pd.to_numeric(r["limit_m"], errors="coerce").to_numpy(float)
    cls = np.select([~(dist <= limit), dist > NEAR_LIMIT * limit], [2, 1], 0)
    floor = r["floor"].to_numpy(np.int64)
    a, b, idx = _segments(r.geometry.to_numpy(), frame, z, z_ref - _ROUTE_LIFT)
    layers, legend = [], []
    for c, (key, _, rgb, label) in enumerate(ROUTE_CLASSES):
        lift = np.array([0.0, 0.0, 0.02 * c])  # red drawn over orange over green where routes share a way
        for f in np.unique(floor[cls == c]):  # a route follows its store's level
            s = (cls[idx] == c) & (floor[idx] == f)
            layers.append(_line_layer(f"evacuation-{key}-{f}", f"evacuation-{key}", int(f), "evacuation",
                                      a[s] + lift, b[s] + lift, idx[s], rgb, 4))
        if (cls == c).any():
            legend.append({"label": f"{label} ({int((cls == c).sum())})", "color": list(rgb), "shape": "line",
                           "group": f"evacuation-{key}"})
    table = pd.DataFrame(r.drop(columns=r.geometry.name))
    table["status"] = np.array([s for _, s, _, _ in ROUTE_CLASSES], dtype=object)[cls]
    cols = [c for c in _ROUTE_COLUMNS if c in table]
    return layers, {"columns": cols, "values": table_columns(table, cols), "title_column": "address",
                    "hover": [c for c in ("address", "distance_m", "limit_m") if c in table]}, legend


def path_layers(
    edges: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
    *,
    frame: LocalFrame,
    z_ref: float,
    slab_z: dict[int, float] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Viewer layers, attribute tables and legend entries of the network and evacuation routes.

    Parameters
    ----------
    edges : GeoDataFrame or None
        ``paths.gpkg`` layer ``edges``: ``kind``, ``floor``, ``length_m``, ``path_address`` and
        LineString Z geometry (:class:`~geo3d.indoor.network.PathNetwork`).
    routes : GeoDataFrame or None
        ``paths.gpkg`` layer ``evacuation``: ``address``, ``floor``, ``distance_m``,
        ``limit_m`` (and ``rule_distance_m``), LineString Z geometry
        (:func:`~geo3d.indoor.evacuation.evacuation_routes`). Rows without a route are left out.
    frame : LocalFrame
        The scene's local frame.
    z_ref : float
        The scene's reference height (the lowest slab).
    slab_z : dict, optional
        Floor → slab height, for geometries without z.

    Raises
    ------
    InputError
        A table lacks a column it needs.

    Returns
    -------
    layers : list of dict
        ``network-<kind>-<floor>`` and ``evacuation-<ok|near|over>-<floor>`` line layers.
    tables : dict
        ``network`` and ``evacuation`` attribute tables.
    legend : list of dict
        One entry (with its check box group) per edge kind and route class present.
    """
    for name, df, need in (("network", edges, {"kind", "floor"}), ("evacuation", routes, {"floor", "limit_m"})):
        missing = need - set(df.columns) if df is not None else set()
        if missing:
            msg = f"{name} lacks the column(s) {sorted(missing)} (paths.gpkg of geo3d scan has them)"
            raise InputError(msg)
    if routes is not None and not {"distance_m", "rule_distance_m"} & set(routes.columns):
        msg = "evacuation needs a distance_m or rule_distance_m column (paths.gpkg of geo3d scan has them)"
        raise InputError(msg)
    layers: list[dict[str, Any]] = []
    tables: dict[str, dict[str, Any]] = {}
    legend: list[dict[str, Any]] = []
    slab = slab_z or {}
    if edges is not None and len(edges):
        lay, tables["network"], leg = _network(edges, frame, z_ref, slab)
        layers += lay
        legend += leg
    if routes is not None and len(routes):
        lay, tables["evacuation"], leg = _evacuation(routes, frame, z_ref, slab)
        layers += lay
        legend += leg
    return layers, tables, legend
