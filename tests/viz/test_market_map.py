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
    p = market_map_to_html(a, tmp_path / "map.html", aisles=aisles, title="가 시장")
    text = p.read_text(encoding="utf-8")
    assert "<title>가 시장</title>" in text
    # the scene is embedded as JSON: decode it to find the addresses, levels and legend
    start = text.index("window.GEO3D_SCENE = ") + len("window.GEO3D_SCENE = ")
    scene, _ = json.JSONDecoder().raw_decode(text[start:])
    addresses = scene["tables"]["objects"]["values"]["address"]
    assert any(a.endswith("소화기") for a in addresses)
    assert [lv["label"] for lv in scene["levels"]] == ["1층", "2층"]
    assert any(e["label"].startswith("소화기") for e in scene["legend"])
    # nothing fetched from the network: no external scripts or stylesheets (the bundled
    # deck.gl source mentions CDN addresses of optional loaders, which a map never loads)
    skeleton = re.sub(r"<script>.*?</script>", "<script></script>", text, flags=re.S)
    assert skeleton.count("<script></script>") == 3  # deck.gl, the scene, the viewer: all inline
    assert not re.search(r'(src|href)="?https?://', skeleton)


def test_plan_draws_one_level_by_class_with_aisles_and_facilities(addresses):
    import types

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from geo3d.pointcloud.cloud import PointCloud
    from geo3d.viz.market_map import CLASS_COLOURS, plot_scan_plan

    a, aisles = addresses
    xyz = np.array([[X0 + 1, Y0 + 1, 32.0], [X0 + 6, Y0 + 3, 33.0], [X0 + 20, Y0 + 1.4, 36.5], [X0 + 9, Y0, 32.0]])
    res = types.SimpleNamespace(level=np.array([1, 1, 2, 1], np.int8), object_class=np.array([0, 1, 2, 0], np.uint8))
    fig, ax = plot_scan_plan(PointCloud(xyz), res, floor=1, aisles=aisles, addresses=a)
    assert fig is ax.figure
    pts = ax.collections[0]
    assert len(pts.get_offsets()) == 3  # the 2층 point is not drawn
    assert np.allclose(pts.get_facecolors()[1][:3], np.array(CLASS_COLOURS[1]) / 255)
    assert [ln.get_xdata()[0] for ln in ax.lines] == [X0]  # only the 1층 aisle
    assert {t.get_text() for t in ax.texts if t.get_text()} == {"가1통로"}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["structure / other", "store 점포"]
    _fig2, ax2 = plot_scan_plan(PointCloud(xyz), res, floor=2, addresses=a)
    assert len(ax2.collections) == 2  # the extinguisher marked on 2층
    assert "extinguisher 소화기" in [t.get_text() for t in ax2.get_legend().get_texts()]


def test_level_profile_marks_every_slab():
    import matplotlib
    import numpy as np
    import pandas as pd

    matplotlib.use("Agg")
    from geo3d.pointcloud.cloud import PointCloud
    from geo3d.viz.market_map import plot_level_profile

    z = np.r_[np.full(300, 27.8), np.full(300, 32.0), np.full(300, 36.2), np.linspace(27.8, 40, 300)]
    cloud = PointCloud(np.column_stack([np.zeros_like(z), np.zeros_like(z), z]))
    lv = pd.DataFrame({"floor": [-1, 1, 2], "label": ["지하1층", "1층", "2층"], "slab_z": [27.8, 32.0, 36.2],
                       "ceiling_z": [31.7, 35.9, np.nan]})
    _fig, ax = plot_level_profile(cloud, lv)
    solid = [ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() == "-"]
    dashed = [ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() == "--"]
    assert solid == [27.8, 32.0, 36.2] and dashed == [31.7, 35.9]
    assert [t.get_text().split()[0] for t in ax.texts] == ["지하1층", "1층", "2층"]
    assert sum(p.get_width() for p in ax.patches) == pytest.approx(len(z), abs=3)
