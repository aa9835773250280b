"""What ``geo3d scan`` adds: paths.gpkg (walkable space, network, evacuation), report entry, and
IMDF openings and amenities that sit on the network."""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import Transformer

from geo3d.indoor.paths_output import network_from_folder, read_network

pytestmark = pytest.mark.slow


def test_paths_gpkg_holds_walkable_space_network_and_evacuation(sample_scan):
    gp = sample_scan / "paths.gpkg"
    assert set(pyogrio.list_layers(gp)[:, 0]) == {"walkable", "nodes", "edges", "evacuation", "info"}
    walk = gpd.read_file(gp, layer="walkable")
    levels = gpd.read_file(sample_scan / "objects.gpkg", layer="levels")
    stores = gpd.read_file(sample_scan / "objects.gpkg", layer="stores")
    for w, outline, f in zip(walk.geometry, levels.geometry, levels["floor"], strict=True):
        assert w.area > 500 and w.difference(outline.buffer(0.5)).area < 0.01 * w.area
        fp = shapely.union_all(stores.geometry[stores["floor"] == f].to_numpy())
        assert w.intersection(fp).area < 0.01 * fp.area  # stores are not walkable
    assert (walk["cell_m"] < 0.3).all()
    net, info = read_network(gp)
    assert info["sido"] == "서울특별시" and float(info["interval_m"]) == 20.0
    ways = net.edges[net.edges["kind"].isin(["aisle", "access", "exit"])]
    assert ways["path_address"].str.startswith("서울특별시 동대문구 경동시장").all()
    from scipy.sparse.csgraph import dijkstra

    from geo3d.indoor.evacuation import network_adjacency

    d = dijkstra(network_adjacency(net), directed=False, indices=net.nodes_of("exit"), min_only=True)
    objs = np.flatnonzero(net.nodes["kind"].isin(["store", "facility"]).to_numpy())
    assert np.isfinite(d[objs]).all()  # every store and facility of the scan reaches an exit
    ev = gpd.read_file(gp, layer="evacuation")
    assert len(ev) == len(stores) and ev["distance_m"].gt(0).all()
    report = json.loads((sample_scan / "report.json").read_text(encoding="utf-8"))["paths"]
    assert report["nodes"] == len(net.nodes) and report["evacuation"]["reachable"] == len(stores)
    assert report["timings_s"]["network"] < 1.0 * len(levels) * 3  # bench_paths.py: < 1 s per level


def test_imdf_openings_and_amenities_lie_on_the_network(sample_scan):
    net, _ = read_network(sample_scan / "paths.gpkg")
    to_local = Transformer.from_crs("EPSG:4326", "EPSG:5186", always_xy=True)
    with zipfile.ZipFile(sample_scan / "imdf.zip") as z:
        openings = json.loads(z.read("opening.geojson"))["features"]
        amenities = json.loads(z.read("amenity.geojson"))["features"]
    n = net.nodes

    def local(coords):
        x, y = to_local.transform(*np.asarray(coords, float).reshape(-1, 2).T)
        return np.column_stack([x, y])

    def nearest(kind, xy):
        sel = n[n["kind"] == kind]
        return np.hypot(sel["x"].to_numpy() - xy[0], sel["y"].to_numpy() - xy[1]).min()

    for o in openings:
        mid = local(o["geometry"]["coordinates"]).mean(axis=0)
        kind = "exit" if o["properties"]["category"] == "emergencyexit" else "door"
        assert nearest(kind, mid) < 0.05, o["properties"]
    assert sum(o["properties"]["category"] == "emergencyexit" for o in openings) == len(net.nodes_of("exit"))
    for a in amenities:
        assert nearest("facility", local(a["geometry"]["coordinates"])[0]) < 0.05


def test_a_folder_without_paths_gpkg_gets_its_network_from_objects_gpkg(sample_scan, tmp_path):
    import shutil

    shutil.copy(sample_scan / "objects.gpkg", tmp_path / "objects.gpkg")
    shutil.copy(sample_scan / "report.json", tmp_path / "report.json")
    net, sido, sigungu = network_from_folder(tmp_path)
    saved, _ = read_network(sample_scan / "paths.gpkg")
    assert (sido, sigungu) == ("서울특별시", "동대문구")
    assert len(net.nodes_of("store")) == len(saved.nodes_of("store"))
    assert len(net.nodes_of("exit")) == len(saved.nodes_of("exit"))
