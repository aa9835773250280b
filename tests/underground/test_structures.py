"""read_structures: manholes, valves, hydrants, break records."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.errors import SchemaError, cli_text
from geo3d.underground import read_pipes, read_structures
from geo3d.underground.schema_map import schema_map_from_dict
from geo3d.underground.structures import STRUCTURE_COLUMNS


def _points(n: int, **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=shapely.points(np.arange(n) * 10.0, np.zeros(n)),
                            crs=5186)


def test_uis_point_layers(tmp_path):
    path = tmp_path / "uis.gpkg"
    _points(2, ftr_idn=[1, 2], dep=[1.8, 0.0]).to_file(path, layer="WTL_MANH_PS")
    _points(3, ftr_idn=[5, 6, 7]).to_file(path, layer="UFL_GVAL_PS")
    _points(1, ftr_idn=[9]).to_file(path, layer="WTL_FIRE_PS")
    gpd.GeoDataFrame({"ftr_idn": [1]}, geometry=[shapely.LineString([(0, 0), (1, 0)])],
                     crs=5186).to_file(path, layer="WTL_PIPE_LM")
    s = read_structures(path)
    assert tuple(s.columns) == STRUCTURE_COLUMNS and len(s) == 6
    assert sorted(zip(s.source_layer, s.utility, s.kind, strict=True))[0] == (
        "UFL_GVAL_PS", "gas", "valve")
    hyd = s[s.kind == "hydrant"]
    assert hyd.utility.tolist() == ["water"] and hyd.structure_id.tolist() == ["9"]
    man = s[s.kind == "manhole"]
    assert man.depth_m.tolist()[0] == 1.8 and np.isnan(man.depth_m.tolist()[1])


def test_break_records_csv_through_a_map(tmp_path):
    csv = tmp_path / "breaks.csv"
    pd.DataFrame({"lon": [127.04, 127.05], "lat": [37.58, 37.58], "what": ["BRK", "VLV"],
                  "no": [11, 12], "depth_ft": [5.0, -2.0]}).to_csv(csv, index=False)
    smap = schema_map_from_dict({"layer": [{
        "source": "breaks", "utility": "water", "id": "no", "kind_field": "what",
        "kind_values": {"BRK": "break", "VLV": "valve"},
        "depth": {"field": "depth_ft", "unit": "ft", "reference": "top", "kind": "cover"}}]})
    s = read_structures(csv, schema=smap)
    assert s.crs.to_epsg() == 5186  # lon/lat in Korea -> Korea 2000 Central Belt
    assert s.kind.tolist() == ["break", "valve"] and s.structure_id.tolist() == ["11", "12"]
    assert s.depth_m.tolist()[0] == pytest.approx(1.524) and np.isnan(s.depth_m.tolist()[1])


def test_pipes_input_with_only_points_says_what_it_needs(tmp_path):
    path = tmp_path / "valves.geojson"
    _points(3, utility=["water"] * 3, kind=["valve"] * 3).to_file(path)
    with pytest.raises(SchemaError, match="only point layers") as err:
        read_pipes(path)
    assert "--pipes needs line layers" in cli_text(err.value)
    assert read_structures(path).kind.tolist() == ["valve"] * 3


def test_nothing_recognised_and_bad_utility(tmp_path):
    path = tmp_path / "x.geojson"
    _points(1, foo=[1]).to_file(path)
    with pytest.raises(SchemaError, match="no point layer recognised"):
        read_structures(path)
    smap = schema_map_from_dict({"layer": [{"source": "x", "utility_field": "foo"}]})
    with pytest.raises(SchemaError, match="unknown utility value"):
        read_structures(path, schema=smap)
