"""Schema maps (MAP.toml): parsing, checks, and read_pipes with them."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo3d.errors import MissingFileError, SchemaError, cli_text
from geo3d.underground import read_pipes, read_schema_map
from geo3d.underground.schema_map import schema_map_from_dict

MAINS = gpd.GeoDataFrame(
    {"ID": ["a", "b", "c"], "TYPE": ["W", "S", "W"], "DIA_IN": [8.0, 12.0, 6.0],
     "COVER_FT": [4.0, 0.0, -1.0], "MAT": ["TJDCI", "VCP", "TTE"], "YEAR": ["1975", "", "2099"]},
    geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 5), (50, 5)]),
              shapely.LineString([(0, 9), (10, 9)])], crs=5186)

MAP = """
[[layer]]
source = "mains.gpkg"
utility_field = "TYPE"
id = "ID"
diameter = { field = "DIA_IN", unit = "in" }
depth = { field = "COVER_FT", unit = "ft", reference = "top", kind = "cover" }
install = "YEAR"
material = { field = "MAT" }
agency = { value = "City water" }

[layer.utility_values]
W = "water"
S = "sewer"

[layer.material_values]
TTE = "other"
"""


def test_a_map_reads_units_values_and_codes(tmp_path):
    MAINS.to_file(tmp_path / "mains.gpkg", layer="mains")
    (tmp_path / "map.toml").write_text(MAP, encoding="utf-8")
    p = read_pipes(None, schema=tmp_path / "map.toml")
    assert p.utility.tolist() == ["water", "sewer", "water"]
    assert p.source_id.tolist() == ["a", "b", "c"]
    assert p.diameter_mm.tolist() == pytest.approx([203.2, 304.8, 152.4])
    assert p.depth_m.tolist()[0] == pytest.approx(1.2192)
    assert p.depth_m.isna().tolist() == [False, True, True]  # 0 unknown; negative unknown
    assert p.material.tolist() == ["ductile_iron", "clay", "other"]
    assert p.install_year.isna().tolist() == [False, True, True]  # 2099 is unknown
    assert set(p.agency) == {"City water"}
    # the same map from Python, with the layer looked up inside a source
    smap = schema_map_from_dict({"layer": [{"source": "mains", "utility": "water",
                                            "diameter": {"field": "DIA_IN", "unit": "in"}}]})
    q = read_pipes(tmp_path / "mains.gpkg", schema=smap)
    assert q.diameter_mm.tolist() == pytest.approx([203.2, 304.8, 152.4])


def test_map_crs_declares_and_overrides(tmp_path):
    MAINS.set_crs(None, allow_override=True).to_file(tmp_path / "nocrs.geojson")
    text = '[[layer]]\nsource = "nocrs.geojson"\nutility = "water"\ncrs = "EPSG:5186"\n'
    (tmp_path / "m.toml").write_text(text)
    assert read_pipes(None, schema=tmp_path / "m.toml").crs.to_epsg() == 5186
    ky = MAINS.set_crs(None, allow_override=True).translate(4_971_350, 3_905_604)  # in Kentucky
    gpd.GeoDataFrame(MAINS.drop(columns="geometry"), geometry=ky).to_file(
        tmp_path / "nocrs.geojson")
    (tmp_path / "m.toml").write_text(text.replace("EPSG:5186", "EPSG:3547"))
    feet = read_pipes(None, schema=tmp_path / "m.toml")  # declared feet: reprojected to metres
    assert feet.crs.to_epsg() != 3547 and feet.crs.axis_info[0].unit_name == "metre"
    assert feet.length.sum() == pytest.approx(160 * 1200 / 3937, rel=2e-3)


def test_unknown_keys_and_values_are_all_listed():
    with pytest.raises(SchemaError) as err:
        schema_map_from_dict({"version": 1, "layer": [
            {"source": "x", "utility": "steam", "colour": "red",
             "diameter": {"field": "d", "units": "mm"},
             "depth": {"field": "z", "unit": "fathom"},
             "material_values": {"A": "wood"}}]})
    text = str(err.value)
    for needle in ("unknown top-level key(s) 'version'", "unknown key 'colour'; valid keys:",
                   "utility 'steam' is not one of", "unknown key(s) 'units' in diameter",
                   "unknown unit 'fathom'", "depth needs reference = one of top",
                   "depth needs kind = one of cover", "unknown material(s) 'wood'"):
        assert needle in text, needle


def test_map_file_errors_name_the_option(tmp_path):
    with pytest.raises(MissingFileError) as err:
        read_schema_map(tmp_path / "none.toml")
    assert cli_text(err.value).startswith("--schema ")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[layer]\nsource=")
    with pytest.raises(SchemaError, match="not valid TOML") as err:
        read_schema_map(bad)
    assert cli_text(err.value).startswith("--schema bad.toml is not valid TOML")


def test_missing_fields_and_layers_are_listed(tmp_path):
    MAINS.to_file(tmp_path / "mains.gpkg", layer="mains")
    smap = schema_map_from_dict({"layer": [{"source": "mains", "utility": "water",
                                            "id": "NOPE", "install": "WHEN"}]})
    with pytest.raises(SchemaError) as err:
        read_pipes(tmp_path / "mains.gpkg", schema=smap)
    text = str(err.value)
    assert "missing field(s) nope, when" in text and "its fields: cover_ft, dia_in, id" in text
    other = schema_map_from_dict({"layer": [{"source": "hydrants", "utility": "water"}]})
    with pytest.raises(SchemaError, match="does not hold: hydrants; layers there: mains") as err:
        read_pipes(tmp_path / "mains.gpkg", schema=other)
    assert "--pipes" in cli_text(err.value)


def test_csv_lines_through_a_map(tmp_path):
    csv = tmp_path / "mains.csv"
    pd.DataFrame({"wkt": shapely.to_wkt(MAINS.geometry.to_numpy()), "dia": [200, 300, 150],
                  "util": ["W", "S", "W"]}).to_csv(csv, index=False)
    smap = schema_map_from_dict({"layer": [{
        "source": "mains", "utility_field": "util", "utility_values": {"W": "water", "S": "sewer"},
        "crs": "EPSG:5186", "diameter": "dia"}]})
    p = read_pipes(csv, schema=smap)
    assert p.utility.tolist() == ["water", "sewer", "water"]
    assert p.length.tolist() == [100.0, 50.0, 10.0]
