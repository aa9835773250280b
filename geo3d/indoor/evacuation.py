"""Evacuation: every store's route and walking distance to the nearest exit, checked against the law.

Distances come from one multi-source Dijkstra (:func:`scipy.sparse.csgraph.dijkstra` from all
exits at once, lifts and escalators excluded). The rule table ``evacuation_rules.csv`` (package
data) cites its source: on a 피난층 (a floor with a door straight outside) the walking distance
from every part of a store to an outside exit is limited by 건축물의 피난·방화구조 등의 기준에 관한
규칙 제11조제1항 (twice the 건축법 시행령 제34조제1항 distance); on other floors the distance to the
nearest direct stair (직통계단, ramps included) by 건축법 시행령 제34조제1항. "Every part" is taken
as the store's farthest footprint corner, straight to its door, then along the network.

Examples
--------
>>> from geo3d.indoor.evacuation import read_evacuation_rules
>>> r = read_evacuation_rules()
>>> float(r.set_index("rule_id").loc["KR-BA-34-1", "max_walk_m"])
30.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from ..errors import InputError
from .network import PathNetwork

__all__ = ["STRUCTURES", "Evacuation", "evacuation_routes", "network_adjacency", "read_evacuation_rules"]

#: ``structure`` values of the rule table: general, or 주요구조부 내화구조/불연재료.
STRUCTURES = ("general", "fire_resistant")
_VERTICAL = ("stairs", "ramp", "lift", "escalator")


def read_evacuation_rules() -> pd.DataFrame:
    """The rule table (rule_id, floor_type, measured_to, structure, max_walk_m, source, condition)."""
    with resources.as_file(resources.files("geo3d.indoor") / "evacuation_rules.csv") as p:
        return pd.read_csv(p, dtype={"max_walk_m": float})


@dataclass
class Evacuation:
    """Result of :func:`evacuation_routes`."""

    routes: gpd.GeoDataFrame
    rules: pd.DataFrame
    structure: str
    warnings: list[str] = field(default_factory=list)

    @property
    def over_limit(self) -> gpd.GeoDataFrame:
        """Stores whose walking distance exceeds their rule's limit."""
        return self.routes[self.routes["over_limit"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``geo3d evacuation --json``)."""
        r = self.routes
        cols = ["object_id", "address", "floor", "distance_m", "exit_address", "rule_id", "rule_distance_m",
                "limit_m"]
        return {"stores": len(r), "reachable": int(np.isfinite(r["distance_m"]).sum()),
                "max_distance_m": round(float(r["distance_m"].replace(np.inf, np.nan).max()), 1) if len(r) else None,
                "structure": self.structure, "over_limit": _records(self.over_limit[cols]),
                "unreachable": _records(r.loc[~np.isfinite(r["distance_m"]), ["object_id", "address", "floor"]]),
                "rules": self.rules.to_dict("records"), "warnings": self.warnings}


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): (round(v, 1) if isinstance(v, float) and np.isfinite(v) else (None if isinstance(v, float) else v))
             for k, v in rec.items()} for rec in df.to_dict("records")]


def network_adjacency(net: PathNetwork, exclude: tuple[str, ...] = ()) -> Any:
    """Symmetric sparse adjacency (CSR, metres) of the network without the edges of ``exclude`` kinds."""
    e = net.edges
    ok = ~e["kind"].isin(list(exclude)).to_numpy()
    n = len(net.nodes)
    u, v, w = e["u"].to_numpy()[ok], e["v"].to_numpy()[ok], np.maximum(e["length_m"].to_numpy(float)[ok], 1e-9)
    return coo_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=(n, n)).tocsr()


def _chains(pred: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Node sequences from each start back to its source along ``pred`` (all starts at once)."""
    cur = start.copy()
    seq = [cur]
    while True:
        nxt = np.where(cur >= 0, pred[np.maximum(cur, 0)], -9999)
        nxt = np.where(nxt < 0, -1, nxt)
        if (nxt < 0).all():
            break
        seq.append(nxt)
        cur = nxt
    m = np.stack(seq, axis=1)  # (stores, steps), −1 after the source
    counts = (m >= 0).sum(axis=1)
    return m[m >= 0], counts


def evacuation_routes(net: PathNetwork, *, structure: str = "general",
                      rules: pd.DataFrame | None = None) -> Evacuation:
    """Route and distance from every store to its nearest exit, with the stores over the limit.

    Parameters
    ----------
    net : PathNetwork
    structure : {"general", "fire_resistant"}
        Whether the building's main structure (주요구조부) is fire-resistant or non-combustible;
        selects the limit (30/60 m or 50/100 m). ``general`` is the stricter, assumed default.
    rules : DataFrame, optional
        A rule table of the form of :func:`read_evacuation_rules`.

    Returns
    -------
    Evacuation
        ``routes``: one row per store: object_id, address, floor, distance_m (store point to the
        nearest exit), exit_node, exit_address, rule_id, rule_distance_m (farthest corner, see the
        module text), limit_m, over_limit, source, and the route as a LineString Z.
    """
    if structure not in STRUCTURES:
        msg = f"structure={structure!r}; valid: {', '.join(STRUCTURES)}"
        raise InputError(msg)
    rules = read_evacuation_rules() if rules is None else rules
    n = net.nodes
    warnings = []
    exits = net.nodes_of("exit")
    if not exits.size:
        msg = "the network has no exit: give exits in MARKET.toml ([[exits]] or principal_entrance)"
        raise InputError(msg)
    g = network_adjacency(net, ("lift", "escalator"))
    dist, pred, src = dijkstra(g, directed=False, indices=exits, min_only=True, return_predecessors=True)
    stores = net.nodes_of("store")
    doors = pd.Series(np.flatnonzero(n["kind"].to_numpy() == "door"),
                      index=n.loc[n["kind"] == "door", "object_id"].to_numpy())
    door = doors.reindex(n["object_id"].to_numpy()[stores]).to_numpy()
    stairs = np.flatnonzero((n["kind"] == "connector").to_numpy() & n["address"].isin(["stairs", "ramp"]).to_numpy())
    exit_floors = set(n["floor"].to_numpy()[exits].tolist())
    if stairs.size:
        d_stair = dijkstra(network_adjacency(net, _VERTICAL), directed=False, indices=stairs, min_only=True)
    else:
        d_stair = np.full(len(n), np.inf)
    floor = n["floor"].to_numpy()[stores]
    on_exit_floor = np.isin(floor, list(exit_floors))
    depth = np.nan_to_num(n["depth_m"].to_numpy(float)[stores])
    door_ok = np.nan_to_num(door, nan=-1).astype(np.int64)
    dd = np.where(door_ok >= 0, door_ok, stores)
    rule_dist = depth + np.where(on_exit_floor, dist[dd], d_stair[dd])
    r = rules[rules["structure"] == structure].set_index("floor_type")
    ev_rule: dict[Any, Any] = r.loc["evacuation_floor"].to_dict()
    other: dict[Any, Any] = r.loc["other"].to_dict()
    lim = np.where(on_exit_floor, float(ev_rule["max_walk_m"]), float(other["max_walk_m"]))
    rid = np.where(on_exit_floor, str(ev_rule["rule_id"]), str(other["rule_id"]))
    srcs = np.where(on_exit_floor, str(ev_rule["source"]), str(other["source"]))
    if (~on_exit_floor).any() and not stairs.size:
        warnings.append("floors without an exit have no stairs in the network: give [[connectors]] in MARKET.toml")
    if structure == "general":
        warnings.append("assumed: main structure (주요구조부) not fire-resistant, limits 30 m / 60 m; "
                        "declare it fire-resistant for 50 m / 100 m")
    geoms = _route_lines(n, pred, stores, np.isfinite(dist[stores]))
    ex = np.where(np.isfinite(dist[stores]), src[stores], -1)
    routes = gpd.GeoDataFrame({
        "object_id": n["object_id"].to_numpy()[stores].astype(np.int64),
        "address": n["address"].to_numpy()[stores], "floor": floor,
        "distance_m": np.round(dist[stores], 2), "exit_node": ex,
        "exit_address": np.where(ex >= 0, n["address"].to_numpy()[np.maximum(ex, 0)], None),
        "rule_id": rid, "rule_distance_m": np.round(rule_dist, 2), "limit_m": lim,
        "over_limit": ~(rule_dist <= lim), "source": srcs}, geometry=geoms, crs=net.nodes.crs)
    return Evacuation(routes, rules, structure, warnings)


def _route_lines(n: pd.DataFrame, pred: np.ndarray, stores: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """LineString Z through the route's nodes, from the store to its exit (None when unreachable)."""
    out = np.full(stores.size, None, dtype=object)
    if not ok.any():
        return out
    flat, counts = _chains(pred, stores[ok])
    xyz = n[["x", "y", "z"]].to_numpy(float)[flat]
    good = counts >= 2
    idx = np.repeat(np.arange(counts.size), counts)
    keep = good[idx]
    lines = shapely.linestrings(xyz[keep], indices=(np.cumsum(good) - 1)[idx[keep]])
    tmp = np.full(counts.size, None, dtype=object)
    tmp[good] = lines
    out[ok] = tmp
    return out
