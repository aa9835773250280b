"""market_scene: levels at their slab heights, objects by class, search entries, scan folders."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo3d.errors import InputError
from geo3d.viz.market3d import STORE_COLOUR, market_scene, market_scene_from_scan
from geo3d.viz.market_paths import ROUTE_CLASSES

X0, Y0 = 203400.0, 553300.0


@pytest.fixture
def market():
    objects = gpd.GeoDataFrame(
        {"object_id": [1, 2, 3], "kind": ["store", "store", "aed"], "floor": [1, 2, 2],
         "address": ["가1통로 1", "가2통로 1", None], "z_min": [32.0, 36.2, 36.5], "z_max": [34.5, 38.0, 36.9]},
        geometry=[shapely.box(X0, Y0, X0 + 3, Y0 + 3), shapely.box(X0, Y0, X0 + 3, Y0 + 3),
                  shapely.Point(X0 + 5, Y0)], crs="EPSG:5186")
    levels = gpd.GeoDataFrame({"floor": [1, 2], "label": ["1층", "2층"], "slab_z": [32.0, 36.2]},
                              geometry=[shapely.box(X0 - 1, Y0 - 1, X0 + 10, Y0 + 5)] * 2, crs="EPSG:5186")
    aisles = gpd.GeoDataFrame({"name": ["가1통로", "가2통로"], "floor": [1, 2]},
                              geometry=[shapely.LineString([(X0, Y0 - 0.5), (X0 + 9, Y0 - 0.5)])] * 2,
                              crs="EPSG:5186")
    return objects, aisles, levels


def test_levels_classes_and_search(market):
    objects, aisles, levels = market
    scene = market_scene(objects, aisles, levels, title="가 시장")
    assert scene.z_ref == 32.0 and [lv["label"] for lv in scene.levels] == ["1층", "2층"]
    stores = {layer["level"]: layer for layer in scene.layers if layer["id"].startswith("stores-")}
    assert stores[1]["base"] == [0.0] and stores[2]["base"] == [pytest.approx(4.2)]
    assert stores[1]["height"] == [2.5] and stores[1]["colors"][0][:3] == list(STORE_COLOUR)
    assert {layer["id"] for layer in scene.layers if layer.get("level") == 2} >= {
        "slab-2", "aisles-2", "stores-2", "facilities-2"}
    # the unaddressed AED is listed and drawn but not searchable
    assert [(e["text"], e["level"]) for e in scene.search] == [("가1통로 1", 1), ("가2통로 1", 2)]
    assert scene.tables["objects"]["values"]["level"] == ["1층", "2층", "2층"]
    assert [e["label"].split()[0] for e in scene.legend[:2]] == ["점포", "AED"]


def test_bad_input(market, tmp_path):
    objects, _, _ = market
    with pytest.raises(InputError, match="kind"):
        market_scene(objects.drop(columns="kind"))
    with pytest.raises(InputError, match="geo3d scan"):
        market_scene_from_scan(tmp_path)
    edges = gpd.GeoDataFrame({"floor": [1]}, geometry=[shapely.LineString([(X0, Y0), (X0 + 1, Y0)])], crs="EPSG:5186")
    with pytest.raises(InputError, match=r"network lacks the column\(s\) \['kind'\]"):
        market_scene(objects, network=edges)


def _decoded(layer, key, dtype):
    import base64

    return np.frombuffer(base64.b64decode(layer[key]["b64"]), dtype=dtype)


def test_scan_folder_maps_the_network_and_evacuation_routes(sample_scan):
    edges = gpd.read_file(sample_scan / "paths.gpkg", layer="edges")
    routes = gpd.read_file(sample_scan / "paths.gpkg", layer="evacuation")
    scene = market_scene_from_scan(sample_scan)
    layers = {layer["id"]: layer for layer in scene.layers}
    # one line layer per edge kind and level; every edge drawn once, on its own level
    net = [layer for layer in scene.layers if layer["id"].startswith("network-")]
    drawn = {}
    for layer in net:
        kind, floor = layer["id"].split("-")[1], layer["level"]
        feats = np.unique(_decoded(layer, "feature", "<u4"))
        assert (edges["kind"].to_numpy()[feats] == kind).all() and (edges["floor"].to_numpy()[feats] == floor).all()
        drawn.update(dict.fromkeys(feats.tolist(), kind))
    assert len(drawn) == len(edges)
    n_seg = sum(len(_decoded(layer, "feature", "<u4")) for layer in net)
    assert n_seg == len(shapely.get_coordinates(edges.geometry)) - len(edges)
    assert {"network-stairs-1", "network-lift-1"} <= set(layers)  # the MARKET.toml connectors
    table = scene.tables["network"]["values"]
    i = int(np.flatnonzero(edges["kind"].to_numpy() == "aisle")[0])
    assert table["path_address"][i] == edges["path_address"][i] and table["kind"][i] == "aisle"
    assert table["length_m"][i] == pytest.approx(edges["length_m"][i], abs=1e-3)
    # every store's route, on its store's level, coloured by its class
    ev = [layer for layer in scene.layers if layer["id"].startswith("evacuation-")]
    feats = np.concatenate([np.unique(_decoded(layer, "feature", "<u4")) for layer in ev])
    assert sorted(feats.tolist()) == list(range(len(routes)))
    values = scene.tables["evacuation"]["values"]
    assert values["address"] == routes["address"].tolist() and values["limit_m"] == routes["limit_m"].tolist()
    ok = (routes["rule_distance_m"] <= 0.8 * routes["limit_m"]).to_numpy()
    for layer in ev:
        f = np.unique(_decoded(layer, "feature", "<u4"))
        assert (routes["floor"].to_numpy()[f] == layer["level"]).all()
        assert ok[f].all() == (layer["group"] == "evacuation-ok")
        colour = {key: list(rgb) for key, _, rgb, _ in ROUTE_CLASSES}[layer["group"].split("-")[1]]
        assert (_decoded(layer, "color", "u1").reshape(-1, 4)[:, :3] == colour).all()
    groups = {e.get("group") for e in scene.legend}
    assert {"network-aisle", "network-access", "network-stairs", "evacuation-ok"} <= groups


def test_route_classes_follow_the_limit(market):
    objects, aisles, levels = market
    line = shapely.LineString([(X0, Y0 - 0.5, 36.2), (X0 + 9, Y0 - 0.5, 36.2), (X0 + 9, Y0 - 0.5, 32.0)])
    routes = gpd.GeoDataFrame({"address": ["가2통로 1", "가2통로 2", "가2통로 3"], "floor": [2, 2, 2],
                               "distance_m": [10.0, 20.0, 40.0], "rule_distance_m": [20.0, 27.0, 31.0],
                               "limit_m": [30.0, 30.0, 30.0]}, geometry=[line] * 3, crs="EPSG:5186")
    scene = market_scene(objects, aisles, levels, evacuation=routes)
    by_id = {layer["id"]: layer for layer in scene.layers if layer["id"].startswith("evacuation")}
    assert set(by_id) == {"evacuation-ok-2", "evacuation-near-2", "evacuation-over-2"}
    assert _decoded(by_id["evacuation-over-2"], "feature", "<u4").tolist() == [2, 2]
    a = _decoded(by_id["evacuation-ok-2"], "a", "<f4").reshape(-1, 3)
    b = _decoded(by_id["evacuation-ok-2"], "b", "<f4").reshape(-1, 3)
    # at floor height above the lowest slab (32.0), down the stair to the level below
    assert a[0, 2] == pytest.approx(4.2 + 0.2, abs=1e-3) and b[1, 2] == pytest.approx(0.2, abs=1e-3)
    assert scene.tables["evacuation"]["values"]["status"] == ["within limit", "near limit", "over limit"]
    assert "network" not in scene.tables
