"""market_scene: levels at their slab heights, objects by class, search entries, scan folders."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo3d.errors import InputError
from geo3d.viz.market3d import STORE_COLOUR, market_scene, market_scene_from_scan

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
