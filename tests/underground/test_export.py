"""Export: canonical GeoPackage and the round trip through the Korean UIS layers."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo3d.datasets import get_path
from geo3d.errors import InputError, OutputExistsError, SchemaError
from geo3d.underground import read_pipes
from geo3d.underground.export import pipes_to_file
from geo3d.underground.schema import CANONICAL_COLUMNS


def _key(frame):
    cols = [c for c in CANONICAL_COLUMNS if c != "geometry"]
    out = frame.set_index(["source_layer", "source_id"]).sort_index()
    return out[[c for c in cols if c not in ("source_layer", "source_id")]], out.geometry


def test_uis_round_trip(tmp_path):
    original = read_pipes(get_path("utilities"))
    path = tmp_path / "uis.gpkg"
    layers = pipes_to_file(original, path, layout="uis")
    assert sorted(layers) == sorted(name for name, _ in pyogrio.list_layers(path))
    assert set(layers) == {"WTL_PIPE_LM", "SWL_PIPE_LM", "UFL_BPIP_LM", "UFL_KPIP_LS",
                           "UFL_GPIP_LM", "UFL_HPIP_LM"}
    back = read_pipes(path)
    a, ga = _key(original)
    b, gb = _key(back)
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9)
    assert shapely.equals_exact(ga.to_numpy(), gb.to_numpy(), tolerance=1e-9).all()
    # UIS conventions on disk
    water = pyogrio.read_dataframe(path, layer="WTL_PIPE_LM")
    assert {"ftr_idn", "pip_dip", "mop_cde", "low_dep", "hgh_dep", "ist_ymd"} <= set(water.columns)
    assert (water["low_dep"] == 0).any()           # unknown depth written as 0
    gas = pyogrio.read_dataframe(path, layer="UFL_GPIP_LM")
    assert set(gas["prs_cde"]) <= {"저압", "중압", "고압", ""}


def test_canonical_round_trip(tmp_path):
    original = read_pipes(get_path("utilities"))
    path = tmp_path / "pipes.gpkg"
    assert pipes_to_file(original, path) == ["pipes"]
    back = read_pipes(path)
    a, _ = _key(original)
    b, _ = _key(back)
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9)
    with pytest.raises(OutputExistsError):
        pipes_to_file(original, path)
    pipes_to_file(original.iloc[:3], path, overwrite=True)
    assert len(read_pipes(path)) == 3


def test_bad_exports(tmp_path):
    pipes = gpd.GeoDataFrame(
        {"utility": ["oil", "water"], "depth_m": [1.0, 30.0], "depth_reference": ["top", "top"],
         "depth_kind": ["cover", "elevation"]},
        geometry=[shapely.LineString([(0, 0), (1, 0)])] * 2, crs="EPSG:5186")
    with pytest.raises(SchemaError) as info:
        pipes_to_file(pipes, tmp_path / "x.gpkg", layout="uis")
    assert len(info.value.problems) == 2
    with pytest.raises(InputError, match="gpkg"):
        pipes_to_file(pipes, tmp_path / "x.geojson", layout="uis")
    with pytest.raises(InputError, match="layout"):
        pipes_to_file(pipes, tmp_path / "x.gpkg", layout="dxf")
    assert not list(tmp_path.iterdir())
