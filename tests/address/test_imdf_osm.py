import json
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo3d.address import assign_addresses, market_from_dict
from geo3d.address.imdf import imdf_features, to_imdf, validate_imdf
from geo3d.address.osm import CSV_COLUMNS, to_osm_geojson, write_addresses_csv

BASE = {"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구", "parent_road": "고산자로36길",
        "parent_number": "3", "crs": "EPSG:5186"}
X0, Y0 = 203400.0, 553300.0


@pytest.fixture
def scene():
    market = market_from_dict(dict(BASE))
    aisles = gpd.GeoDataFrame({"name": ["경동시장1통로"], "floor": [1]},
                              geometry=[shapely.LineString([(X0, Y0), (X0 + 60, Y0)])], crs="EPSG:5186")
    stores = gpd.GeoDataFrame({"object_id": [1, 2], "floor": 1},
                              geometry=[shapely.box(X0 + 4, Y0 + 2, X0 + 7, Y0 + 5),
                                        shapely.box(X0 + 24, Y0 - 5, X0 + 27, Y0 - 2)], crs="EPSG:5186")
    fac = gpd.GeoDataFrame({"object_id": [3, 4, 5, 6, 7], "kind": ["fire_extinguisher", "indoor_hydrant", "exit_sign",
                                                                   "aed", "cctv"], "floor": 1},
                           geometry=[shapely.Point(X0 + 40, Y0 + 1.4), shapely.Point(X0 + 41, Y0 + 1.5),
                                     shapely.Point(X0 + 0.1, Y0 + 1.0), shapely.Point(X0 + 5.5, Y0 + 4),
                                     shapely.Point(X0 + 30, Y0)], crs="EPSG:5186")
    levels = gpd.GeoDataFrame({"floor": [1], "label": ["1층"], "ordinal": [0]},
                              geometry=[shapely.box(X0 - 2, Y0 - 10, X0 + 62, Y0 + 10)], crs="EPSG:5186")
    out = assign_addresses(stores, fac, aisles, levels, market)
    return market, aisles, levels, out


def test_imdf_archive_is_valid(scene, tmp_path):
    market, aisles, levels, out = scene
    path = to_imdf(out, aisles, levels, market, tmp_path / "imdf.zip")
    assert validate_imdf(path) == []
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        venue = json.loads(z.read("venue.geojson"))
        units = json.loads(z.read("unit.geojson"))
        amen = json.loads(z.read("amenity.geojson"))
        opening = json.loads(z.read("opening.geojson"))
        level = json.loads(z.read("level.geojson"))
    assert {"venue.geojson", "address.geojson", "manifest.json", "level.geojson"} <= names
    assert venue["features"][0]["properties"]["category"] == "shoppingcenter"
    cats = sorted(f["properties"]["category"] for f in units["features"])
    assert cats == ["room", "room", "walkway"]
    assert {f["properties"]["category"] for f in amen["features"]} == {
        "fireextinguisher", "x-geo3d-indoorhydrant", "defibrillator", "security"}
    assert "emergencyexit" in {f["properties"]["category"] for f in opening["features"]}
    lon, lat = venue["features"][0]["geometry"]["coordinates"][0][0]
    assert 126 < lon < 128 and 37 < lat < 38
    assert level["features"][0]["properties"]["ordinal"] == 0


def test_imdf_validator_finds_problems(scene):
    market, aisles, levels, out = scene
    data = imdf_features(out, aisles, levels, market)
    data["level"]["features"][0]["properties"]["ordinal"] = None
    data["unit"]["features"][0]["properties"]["level_id"] = "00000000-0000-0000-0000-000000000000"
    data["amenity"]["features"][0]["properties"]["category"] = "teleporter"
    data["amenity"]["features"][1]["geometry"] = {"type": "Point", "coordinates": [203400.0, 553300.0]}
    data["venue"]["features"] = []
    probs = validate_imdf(data)
    text = "\n".join(probs)
    for part in ("ordinal is missing", "does not resolve", "teleporter", "WGS84", "venue: missing"):
        assert part in text, part


def test_addresses_csv(scene, tmp_path):
    _m, _a, _l, out = scene
    p = write_addresses_csv(out, tmp_path / "addresses.csv")
    text = p.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    df = pd.read_csv(p, dtype={"number": str})
    assert len(df) == len(out)
    row = df.set_index("object_id").loc[6]
    assert row["number"] == "1, 101" and row["address"].endswith("1, 101 자동심장충격기")
    assert pd.isna(df.set_index("object_id").loc[7, "address"])


def test_osm_geojson(scene, tmp_path):
    _m, _a, _l, out = scene
    fc = to_osm_geojson(out, tmp_path / "o.geojson")
    tags = {f["properties"]["geo3d:object_id"]: f["properties"] for f in fc["features"]}
    assert tags[3]["emergency"] == "fire_extinguisher" and tags[3]["addr:street"] == "경동시장1통로"
    assert tags[4]["fire_hydrant:type"] == "wall"
    assert tags[5]["entrance"] == "emergency"
    assert tags[7]["man_made"] == "surveillance" and "addr:full" not in tags[7]
    assert tags[1]["level"] == "0" and tags[1]["level:ref"] == "1층"
    assert json.loads((tmp_path / "o.geojson").read_text(encoding="utf-8"))["type"] == "FeatureCollection"


def test_imdf_validator_checks_structure_and_reference_types(scene, tmp_path):
    market, aisles, levels, out = scene
    data = imdf_features(out, aisles, levels, market)
    assert validate_imdf(data) == []
    level_id = data["level"]["features"][0]["id"]
    building_id = data["building"]["features"][0]["id"]
    data["unit"]["features"][0]["properties"]["level_id"] = building_id      # a building, not a level
    data["anchor"]["features"][0]["properties"]["unit_id"] = None             # required
    data["opening"]["features"][0]["type"] = "Featur"
    data["occupant"]["features"][0]["properties"] = None
    data["level"]["features"][0]["properties"]["ordinal"] = "0"
    data["venue"]["features"][0]["properties"]["address_id"] = level_id      # a level, not an address
    bowtie = {"type": "Polygon", "coordinates": [[[127.0, 37.5], [127.001, 37.501], [127.001, 37.5],
                                                  [127.0, 37.501], [127.0, 37.5]]]}
    data["footprint"]["features"][0]["geometry"] = bowtie
    data["amenity"] = {"type": "Collection", "features": data["amenity"]["features"]}
    text = "\n".join(validate_imdf(data))
    for part in ("is of type 'building'; it must be 'level'", "unit_id is missing", "not 'Feature'", "properties must be an object",
                 "ordinal must be an integer", "is of type 'level'; it must be 'address'", "geometry is invalid",
                 "amenity: not a GeoJSON FeatureCollection"):
        assert part in text, part


def test_imdf_archive_with_a_stray_file(scene, tmp_path):
    market, aisles, levels, out = scene
    path = to_imdf(out, aisles, levels, market, tmp_path / "imdf.zip")
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("notes.txt", "hello")
    assert validate_imdf(path) == ["archive: notes.txt is not an IMDF file (<feature type>.geojson or manifest.json)"]


def test_imdf_levels_of_three_floors_with_a_basement(tmp_path):
    market = market_from_dict(dict(BASE))
    aisles = gpd.GeoDataFrame({"name": ["경동시장1통로", "경동시장2통로", "경동시장3통로"], "floor": [1, 2, -1]},
                              geometry=[shapely.LineString([(X0, Y0), (X0 + 60, Y0)])] * 3, crs="EPSG:5186")
    stores = gpd.GeoDataFrame({"object_id": [1, 2, 3], "floor": [-1, 1, 2]},
                              geometry=[shapely.box(X0 + 4, Y0 + 2, X0 + 7, Y0 + 5)] * 3, crs="EPSG:5186")
    levels = gpd.GeoDataFrame({"floor": [-1, 1, 2], "label": ["지하1층", "1층", "2층"], "ordinal": [-1, 0, 1]},
                              geometry=[shapely.box(X0 - 2, Y0 - 10, X0 + 62, Y0 + 10)] * 3, crs="EPSG:5186")
    out = assign_addresses(stores, None, aisles, levels, market)
    path = to_imdf(out, aisles, levels, market, tmp_path / "imdf.zip")
    assert validate_imdf(path) == []
    with zipfile.ZipFile(path) as z:
        lv = json.loads(z.read("level.geojson"))["features"]
        units = json.loads(z.read("unit.geojson"))["features"]
    by_ord = {f["properties"]["ordinal"]: f["properties"]["short_name"]["ko"] for f in lv}
    assert by_ord == {-1: "지하1층", 0: "1층", 1: "2층"}
    level_of = {f["id"]: f["properties"]["ordinal"] for f in lv}
    rooms = [level_of[f["properties"]["level_id"]] for f in units if f["properties"]["category"] == "room"]
    assert sorted(rooms) == [-1, 0, 1]
