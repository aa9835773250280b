"""``paths.gpkg`` and ``indoorgml.json`` of ``geo3d scan``: walkable space, network, evacuation routes.

Layers of ``paths.gpkg``: ``walkable`` (one (Multi)Polygon per level), ``nodes`` and ``edges`` of
the navigation network (:mod:`geo3d.indoor.network`), ``evacuation`` (each store's route to its
nearest exit, :mod:`geo3d.indoor.evacuation`) and ``info`` (address head and interval).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..address.format import parse_address
from .connectors import connectors_from_market, exits_from_market
from .network import PathNetwork, network_from_layers

__all__ = ["PATH_FILES", "ScanPathOutputs", "network_from_folder", "network_from_scan", "read_network", "write_paths"]

log = logging.getLogger(__name__)

#: Files :func:`write_paths` adds to a scan folder.
PATH_FILES = ("paths.gpkg", "indoorgml.json")


def network_from_scan(levels: pd.DataFrame, aisles: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame,
                      market: Any) -> PathNetwork:
    """The network of an addressed scan (``address_segmentation``'s addresses and aisles)."""
    a = addresses.reset_index(drop=True)
    st = a["kind"].to_numpy() == "store"
    return network_from_layers(levels, aisles, a[st], a[~st], sido=market.sido, sigungu=market.sigungu,
                               interval_m=market.interval_m, max_offset_m=market.max_offset_m,
                               connectors=connectors_from_market(market), exits=exits_from_market(market))


@dataclass
class ScanPathOutputs:
    """What ``geo3d scan`` adds: the network, walkable space, evacuation routes and IndoorGML."""

    network: PathNetwork
    walkable: pd.DataFrame
    evacuation: Any
    indoorgml: dict[str, Any]
    info: dict[str, str]
    crs: Any
    report: dict[str, Any] = field(default_factory=dict)

    def exit_doors(self) -> dict[int, tuple[float, float]]:
        """Exit sign object_id → x, y of the door it marks (the network's exit node)."""
        n = self.network.nodes
        ex = n[(n["kind"] == "exit") & (n["object_id"] >= 0)]
        return {int(o): (float(x), float(y)) for o, x, y in zip(ex["object_id"], ex["x"], ex["y"], strict=True)}

    def write(self, out_dir: str | os.PathLike[str]) -> list[Path]:
        """Write ``paths.gpkg`` and ``indoorgml.json`` into ``out_dir`` (an existing folder)."""
        out = Path(out_dir)
        gp = out / "paths.gpkg"
        crs = self.crs
        w = self.walkable
        gpd.GeoDataFrame(w.drop(columns="geometry"), geometry=list(w["geometry"]), crs=crs).to_file(
            gp, layer="walkable", driver="GPKG")
        self.network.nodes.set_crs(crs, allow_override=True).to_file(gp, layer="nodes", driver="GPKG")
        self.network.edges.set_crs(crs, allow_override=True).to_file(gp, layer="edges", driver="GPKG")
        ev = self.evacuation.routes
        ev[ev.geometry.notna()].set_crs(crs, allow_override=True).to_file(gp, layer="evacuation", driver="GPKG")
        gpd.GeoDataFrame({"key": list(self.info), "value": list(self.info.values())},
                         geometry=[None] * len(self.info), crs=crs).to_file(gp, layer="info", driver="GPKG")
        (out / "indoorgml.json").write_text(json.dumps(self.indoorgml, ensure_ascii=False), encoding="utf-8")
        return [out / n for n in PATH_FILES]


def write_paths(cloud: Any, result: Any, scan: Any, market: Any, levels: gpd.GeoDataFrame) -> ScanPathOutputs:
    """Network, walkable space, evacuation and IndoorGML of an addressed scan (``write_scan`` calls
    it and writes the result with :meth:`ScanPathOutputs.write`)."""
    from .evacuation import evacuation_routes
    from .indoorgml import to_indoorgml
    from .walkable import walkable_area

    t0 = time.perf_counter()
    net = network_from_scan(levels, scan.aisles, scan.addresses, market)
    t1 = time.perf_counter()
    stores = scan.addresses[scan.addresses["kind"] == "store"]
    walk = walkable_area(cloud.xyz, result.level, levels, stores=stores)
    t2 = time.perf_counter()
    evac = evacuation_routes(net, structure=str(market.extra.get("structure", "general")))
    t3 = time.perf_counter()
    doc = to_indoorgml(net, scan.addresses, levels, aisle_width=3.0)
    t4 = time.perf_counter()
    info = {"sido": market.sido, "sigungu": market.sigungu, "interval_m": str(market.interval_m)}
    report = {"nodes": len(net.nodes), "edges": len(net.edges),
              "edge_kinds": {str(k): int(v) for k, v in net.edges["kind"].value_counts().sort_index().items()},
              "exits": int(net.nodes_of("exit").size),
              "walkable_m2": {str(f): a for f, a in zip(walk["floor"], walk["area_m2"], strict=True)},
              "evacuation": {k: v for k, v in evac.to_dict().items() if k not in ("rules", "over_limit")}
              | {"over_limit": int(evac.routes["over_limit"].sum())},
              "warnings": net.warnings,
              "timings_s": {"network": round(t1 - t0, 3), "walkable": round(t2 - t1, 3),
                            "evacuation": round(t3 - t2, 3), "indoorgml": round(t4 - t3, 3)}}
    return ScanPathOutputs(net, walk, evac, doc, info, levels.crs, report)


def read_network(path: str | os.PathLike[str]) -> tuple[PathNetwork, dict[str, str]]:
    """A network written by :func:`write_paths` and its ``info`` (sido, sigungu, interval_m)."""
    nodes = gpd.read_file(path, layer="nodes")
    edges = gpd.read_file(path, layer="edges")
    info_df = gpd.read_file(path, layer="info")
    info = dict(zip(info_df["key"], info_df["value"], strict=True))
    nodes["object_id"] = nodes["object_id"].fillna(-1).astype(np.int64)
    for df, cols in ((nodes, ("kind", "aisle", "name", "address")), (edges, ("kind", "aisle", "path_address"))):
        for c in cols:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return PathNetwork(nodes, edges, float(info.get("interval_m", 20.0))), info


def network_from_folder(d: Path, *, market: Any = None) -> tuple[PathNetwork, str, str]:
    """The network of a scan folder: ``paths.gpkg`` when present, else built from ``objects.gpkg``."""
    if (d / "paths.gpkg").is_file() and market is None:
        net, info = read_network(d / "paths.gpkg")
        return net, info.get("sido", ""), info.get("sigungu", "")
    gp = d / "objects.gpkg"
    layers = {k: gpd.read_file(gp, layer=k) for k in ("levels", "aisles", "stores", "facilities")}
    addr = pd.concat([layers["stores"]["address"], layers["facilities"]["address"]]).dropna()
    head = parse_address(str(addr.iloc[0])) if len(addr) else {"sido": "", "sigungu": ""}
    interval = 20.0
    if (d / "report.json").is_file():
        rep = json.loads((d / "report.json").read_text(encoding="utf-8"))
        interval = float(rep.get("addresses", {}).get("interval_m", 20.0))
    kw: dict[str, Any] = {}
    if market is not None:
        kw = {"connectors": connectors_from_market(market), "exits": exits_from_market(market),
              "max_offset_m": market.max_offset_m}
        interval = market.interval_m
    net = network_from_layers(layers["levels"], layers["aisles"], layers["stores"], layers["facilities"],
                              sido=head["sido"], sigungu=head["sigungu"], interval_m=interval, **kw)
    return net, head["sido"], head["sigungu"]
