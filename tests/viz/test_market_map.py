import json
import re

import geopandas as gpd
import pytest
import shapely

from geo3d.address import assign_addresses, market_from_dict
from geo3d.viz.market_map import market_deck, market_map_to_html

X0, Y0 = 203400.0, 553300.0


@pytest.fixture
def addresses():
    m = market_from_dict({"name": "가", "sido": "서울특별시", "sigungu": "동대문구", "parent_road": "고산자로36길",
                          "parent_number": "3", "crs": "EPSG:5186"})
    aisles = gpd.GeoDataFrame({"name": ["가1통로", "가2통로"], "floor": [1, 2]},
                              geometry=[shapely.LineString([(X0, Y0), (X0 + 40, Y0)])] * 2, crs="EPSG:5186")
    stores = gpd.GeoDataFrame({"object_id": [1, 2], "floor": [1, 2]},
                              geometry=[shapely.box(X0 + 5, Y0 + 2, X0 + 8, Y0 + 5)] * 2, crs="EPSG:5186")
    fac = gpd.GeoDataFrame({"object_id": [3], "kind": ["fire_extinguisher"], "floor": [2]},
                           geometry=[shapely.Point(X0 + 20, Y0 + 1.4)], crs="EPSG:5186")
    return assign_addresses(stores, fac, aisles, None, m), aisles


def test_deck_layers_and_stacking(addresses):
    a, aisles = addresses
    deck = market_deck(a, aisles, level_spacing=10)
    types = [layer.type for layer in deck.layers]
    assert types == ["PathLayer", "PolygonLayer", "ScatterplotLayer"]
    polys = deck.layers[1].data
    zs = sorted({p["polygon"][0][2] for p in polys})
    assert zs == [0, 10]
    pt = deck.layers[2].data[0]
    assert pt["address"].endswith("소화기") and pt["position"][2] > 10
    assert "{address}" in deck._tooltip["html"]


def test_html_is_self_contained(addresses, tmp_path):
    a, aisles = addresses
    p = market_map_to_html(a, tmp_path / "map.html", aisles=aisles)
    text = p.read_text(encoding="utf-8")
    assert "deck" in text.lower()
    # the layers are embedded as JSON (non-ASCII escaped): decode it to find the address
    start = text.index("const jsonInput = ") + len("const jsonInput = ")
    spec, _ = json.JSONDecoder().raw_decode(text[start:])
    addresses = [d.get("address", "") for layer in spec["layers"] for d in layer["data"]]
    assert any(a.endswith("소화기") for a in addresses)
    # nothing fetched from the network: no external scripts or stylesheets (the bundled
    # deck.gl source mentions CDN addresses of optional loaders, which a map never loads)
    assert not re.search(r'<script src="https?://', text)
    assert not re.search(r'<link rel="stylesheet" href="https?://', text)
