"""Fixtures for the path tests: true layers of the sample and of a generated scene, scans of both,
and a reference network built straight from the generator's truth (aisles, openings, entrances).

The reference network is independent of :mod:`geo3d.indoor.network`: every aisle end is a door
opening (the generator cuts an opening wherever an aisle meets the outer wall), every true store
entrance and facility is joined straight to the foot of its perpendicular on the nearest aisle,
and aisles are joined where they cross.
"""

from __future__ import annotations

import itertools
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

import geo3d

SAMPLE_DIR = geo3d.datasets.get_path("market").parent


def truth_layers(objects: gpd.GeoDataFrame, aisles: gpd.GeoDataFrame, levels: pd.DataFrame,
                 addresses: pd.DataFrame) -> dict[str, Any]:
    """Levels, aisles, stores and facilities (with address, x, y, z) of a generated scene."""
    a = addresses.set_index("object_id")
    obj = objects.copy()
    for c in ("address", "number", "x", "y", "z"):
        obj[c] = a[c].reindex(obj["object_id"]).to_numpy()
    obj["address"] = obj["address"].where(obj["address"].astype(str).str.len() > 0, None)
    obj["address"] = obj["address"].where(obj["address"].notna(), None)
    st = obj["kind"] == "store"
    return {"levels": levels, "aisles": aisles, "stores": obj[st].reset_index(drop=True),
            "facilities": obj[~st].reset_index(drop=True)}


def reference_graph(layers: dict[str, Any]) -> tuple[nx.Graph, list[Any]]:
    """The true network: (graph, opening node keys). Nodes: ("open", i), ("store", id), ("fac", id)."""
    g = nx.Graph()
    openings = []
    for floor, grp in layers["aisles"].groupby("floor"):
        lines = list(grp.geometry)
        on_line: list[list[tuple[float, Any, tuple[float, float]]]] = [[] for _ in lines]
        for i, ln in enumerate(lines):
            for end, s in ((ln.coords[0], 0.0), (ln.coords[-1], ln.length)):
                key = ("open", floor, i, s)
                on_line[i].append((s, key, end))
                openings.append(key)
            for j in range(i + 1, len(lines)):
                x = ln.intersection(lines[j])
                for p in shapely.get_parts(x):
                    if p.geom_type != "Point" or p.is_empty:
                        continue
                    key = ("cross", floor, round(p.x, 2), round(p.y, 2))
                    on_line[i].append((ln.project(p), key, (p.x, p.y)))
                    on_line[j].append((lines[j].project(p), key, (p.x, p.y)))
        objs = pd.concat([layers["stores"], layers["facilities"]])
        objs = objs[(objs["floor"] == floor) & (objs["kind"] != "cctv")]
        for r in objs.itertuples():
            ex = getattr(r, "entrance_x", np.nan)
            pt = shapely.Point(ex, r.entrance_y) if np.isfinite(ex) else shapely.Point(r.x, r.y)
            d = [ln.distance(pt) for ln in lines]
            i = int(np.argmin(d))
            s = lines[i].project(pt)
            foot = lines[i].interpolate(s)
            key = ("obj", int(r.object_id))
            g.add_edge(key, ("foot", int(r.object_id)), length=pt.distance(foot))
            on_line[i].append((s, ("foot", int(r.object_id)), (foot.x, foot.y)))
        for stops in on_line:
            stops.sort(key=lambda t: t[0])
            for (s0, k0, _), (s1, k1, _) in itertools.pairwise(stops):
                g.add_edge(k0, k1, length=s1 - s0)
    return g, openings


@pytest.fixture(scope="session")
def sample_truth() -> dict[str, Any]:
    objects = gpd.read_file(SAMPLE_DIR / "market_objects.geojson")
    aisles = gpd.read_file(SAMPLE_DIR / "market_aisles.geojson")
    levels = pd.read_csv(SAMPLE_DIR / "market_levels.csv")
    addresses = pd.read_csv(SAMPLE_DIR / "market_addresses.csv", dtype={"number": str, "address": str})
    return truth_layers(objects, aisles, levels, addresses)


@pytest.fixture(scope="session")
def l_shaped(tmp_path_factory) -> dict[str, Any]:
    """A generated one-level L-shaped market: its truth and its ``geo3d scan`` folder."""
    from geo3d.address.pipeline import scan_to_addresses
    from geo3d.datasets.market import make_market, write_market

    tmp = tmp_path_factory.mktemp("l_shaped")
    scene = make_market("l_shaped")
    write_market(scene, tmp / "in")
    with geo3d.options.context(progress=False):
        scan_to_addresses(tmp / "in" / "market.laz", tmp / "in" / "market.toml", tmp / "out")
    return {"truth": truth_layers(scene.objects, scene.aisles, scene.levels, scene.addresses),
            "scan": tmp / "out"}
