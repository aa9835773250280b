"""underground_scene: tubes and boxes at true size and depth, attributes, points, pit, section."""

from __future__ import annotations

import base64

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from geo3d.cli.map3d import read_point_layers
from geo3d.errors import InputError
from geo3d.io.raster import Dem
from geo3d.underground.excavation import excavate
from geo3d.viz.page import Scene3D
from geo3d.viz.underground3d import pipes_in_3d, underground_scene

X0, Y0 = 203400.0, 553300.0


def arr(v, dtype="<f4"):
    return np.frombuffer(base64.b64decode(v["b64"]), dtype=dtype)


@pytest.fixture
def pipes():
    return gpd.GeoDataFrame(
        {"utility": ["water", "gas", "power"], "source_layer": ["WTL_PIPE_LM", "UFL_GPIP_LM", "UFL_BPIP_LM"],
         "source_id": ["w1", "g1", "p1"], "diameter_mm": [300.0, 100.0, np.nan],
         "width_mm": [np.nan, np.nan, 500.0], "height_mm": [np.nan, np.nan, 600.0],
         "depth_m": [1.0, np.nan, 1.5], "depth_reference": ["top", None, "top"],
         "depth_kind": ["cover", None, "cover"]},
        geometry=[shapely.LineString([(X0, Y0), (X0 + 40, Y0)]),
                  shapely.LineString([(X0 + 20, Y0 - 20), (X0 + 20, Y0 + 20)]),
                  shapely.LineString([(X0, Y0 + 10), (X0 + 40, Y0 + 10)])], crs="EPSG:5186")


@pytest.fixture
def dem():
    return Dem(np.full((20, 20), 30.0), Affine(5, 0, X0 - 30, 0, -5, Y0 + 60), "EPSG:5186")


def test_tubes_boxes_depths_and_attributes(pipes, dem):
    p3 = pipes_in_3d(pipes, dem=dem)
    scene = underground_scene(p3, dem=dem)
    assert isinstance(scene, Scene3D) and scene.z_ref == 30.0
    layers = {layer["id"]: layer for layer in scene.layers}
    assert {"pipes-water-round", "pipes-gas-round", "pipes-power-box", "ground"} <= set(layers)
    water = layers["pipes-water-round"]
    a = arr(water["a"]).reshape(-1, 3)
    # centre = ground 30 − cover 1.0 − D/2 0.15, relative to z_ref 30; 40 m long, 0.3 m wide
    assert np.allclose(a[:, 2], -1.15, atol=1e-4)
    assert np.allclose(arr(water["w"]), 0.3) and np.allclose(arr(water["h"]), 0.3)
    assert np.allclose(np.diff(np.r_[a[0, 0], arr(water["b"])[0]]), 40.0, atol=0.01)
    box = layers["pipes-power-box"]
    assert box["shape"] == "box" and np.allclose(arr(box["w"]), 0.5) and np.allclose(arr(box["h"]), 0.6)
    assert np.allclose(arr(box["a"]).reshape(-1, 3)[:, 2], -1.5 - 0.3, atol=1e-4)
    assert list(arr(water["color"], "u1")[:3]) == [0, 90, 220]
    values = scene.tables["pipes"]["values"]
    gas = values["utility"].index("gas")
    assert values["depth_source"][gas].startswith("assumed")
    assert values["depth_source"][values["utility"].index("water")].startswith("measured")
    assert values["source_layer"][gas] == "UFL_GPIP_LM" and values["diameter_mm"][gas] == 100
    assert [e["label"].split()[0] for e in scene.legend[:3]] == ["상수", "전력", "가스"]
    html = scene.html()
    assert "<title>지하시설물 3D 지도" in html


def test_pit_section_and_points(pipes, dem, tmp_path):
    p3 = pipes_in_3d(pipes, dem=dem)
    p3.index = [10, 20, 30]  # the excavation reports index labels; the map draws rows
    pit = shapely.box(X0 + 15, Y0 - 5, X0 + 25, Y0 + 5)
    ex = excavate(p3, gpd.GeoSeries([pit], crs="EPSG:5186"), depth=2.5, dem=dem)
    src = tmp_path / "u.gpkg"
    gpd.GeoDataFrame({"ftr_idn": [7]}, geometry=[shapely.Point(X0 + 5, Y0)], crs="EPSG:5186").to_file(
        src, layer="WTL_MANH_PS")
    points = read_point_layers(src)
    assert points["utility"].tolist() == ["water"] and points["source_layer"].tolist() == ["WTL_MANH_PS"]
    scene = underground_scene(p3, dem=dem, excavation=ex, points=points,
                              section_line=[(X0 + 30, Y0 - 15), (X0 + 30, Y0 + 15)])
    ids = [layer["id"] for layer in scene.layers]
    assert ids[0] == "reached" and {"pit", "points", "section", "section-labels"} <= set(ids)
    reached = {r["text"].split()[0] for r in scene.lists[0]["rows"]}
    assert reached == {"water", "gas"}  # the pit (2.5 m) reaches both; the duct runs outside it
    util = scene.tables["pipes"]["values"]["utility"]
    assert {util[r["feature"]] for r in scene.lists[0]["rows"]} == {"water", "gas"}
    halo = next(layer for layer in scene.layers if layer["id"] == "reached")
    assert set(np.frombuffer(base64.b64decode(halo["feature"]["b64"]), "<u4").tolist()) == {0, 1}
    assert scene.search[0]["text"] == "pit 굴착"
    pit_layer = next(layer for layer in scene.layers if layer["id"] == "pit")
    assert pit_layer["base"][0] == pytest.approx(27.5 - 30.0) and pit_layer["height"][0] == pytest.approx(2.5)
    assert scene.tables["points"]["values"]["ftr_idn"] == [7]


def test_bad_input(pipes):
    with pytest.raises(InputError, match="3D pipes"):
        underground_scene(pipes)
    with pytest.raises(InputError, match="no pipes"):
        underground_scene(pipes.iloc[:0])
    with pytest.raises(InputError, match="palette"):
        underground_scene(pipes_in_3d(pipes), palette="rainbow")
    with pytest.raises(InputError, match=r"\.html"):
        underground_scene(pipes_in_3d(pipes)).to_html("x.png")
