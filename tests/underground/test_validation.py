"""Values refused or flagged at the boundary (issue 12: pipes, excavation, sections, stats)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo3d.errors import Geo3DError, SchemaError, cli_text
from geo3d.underground import read_pipes, validate_pipes
from geo3d.underground.rules import load_rules


def _frame(**cols) -> gpd.GeoDataFrame:
    n = len(next(iter(cols.values())))
    geoms = cols.pop("geometry", [shapely.LineString([(0, i), (10, i)]) for i in range(n)])
    base = {"utility": ["water"] * n, "depth_reference": ["top"] * n, "depth_kind": ["cover"] * n}
    return gpd.GeoDataFrame({**base, **cols}, geometry=geoms, crs=5186)


def test_negative_cover_and_diameter_become_unknown_with_a_warning(caplog):
    g = _frame(depth_m=[-1.456, 1.2], diameter_mm=[-300.0, 300.0])
    with caplog.at_level(logging.WARNING):
        p = read_pipes(g)
    assert p.depth_m.isna().tolist() == [True, False] and p.depth_unknown.tolist() == [True, False]
    assert p.diameter_mm.isna().tolist() == [True, False]
    assert "negative cover depth" in caplog.text and "non-positive diameter_mm" in caplog.text


def test_zero_length_line_is_refused_and_self_crossing_reported(caplog):
    bowtie = shapely.LineString([(0, 0), (10, 10), (10, 0), (0, 10)])
    with pytest.raises(SchemaError, match="zero-length line"):
        read_pipes(_frame(utility=["gas"], geometry=[shapely.LineString([(3, 3), (3, 3)])]))
    with caplog.at_level(logging.WARNING):
        p = read_pipes(_frame(utility=["gas"], geometry=[bowtie]))
    assert len(p) == 1 and "self-intersecting line" in caplog.text


def test_nan_z_is_interpolated_not_dropped():
    line = shapely.LineString([(0, 0, 10.0), (5, 0, np.nan), (10, 0, 12.0)])
    p = read_pipes(_frame(depth_kind=["elevation"], depth_reference=["centre"],
                          geometry=[line]))
    z = shapely.get_coordinates(p.geometry, include_z=True)[:, 2]
    assert z.tolist() == [10.0, 11.0, 12.0]
    none = shapely.LineString([(0, 0, np.nan), (5, 0, np.nan)])
    other = shapely.LineString([(0, 1, 3.0), (5, 1, 3.0)])
    with pytest.raises(SchemaError, match="3D line with no finite z"):
        read_pipes(_frame(depth_kind=["elevation"] * 2, depth_reference=["centre"] * 2,
                          geometry=[none, other]))


def test_install_years_outside_the_plausible_range_are_unknown():
    p = read_pipes(_frame(install_year=[0, 2099, 1990, 1750]))
    assert p.install_year.isna().tolist() == [True, True, False, True]


def test_depth_zero_is_unknown_in_every_source():
    canonical = read_pipes(_frame(depth_m=[0.0, 1.0]))
    uis = gpd.GeoDataFrame({"ftr_idn": [1, 2], "pip_dip": [100, 100], "mop_cde": ["DIP"] * 2,
                            "low_dep": [0.0, 1.0], "hgh_dep": [0.0, 1.0]},
                           geometry=_frame(depth_m=[0, 0]).geometry, crs=5186)
    uis = read_pipes(uis, layers=["WTL_PIPE_LM"])
    for p in (canonical, uis):
        assert p.depth_m.isna().tolist() == [True, False]
        assert p.depth_unknown.tolist() == [True, False]
    elevation = read_pipes(_frame(depth_m=[0.0], depth_kind=["elevation"]))
    assert elevation.depth_m.tolist() == [0.0]  # sea level is a height


def test_huge_real_ids_do_not_crash():
    g = gpd.GeoDataFrame({"ftr_idn": [1e20, 7.0], "pip_dip": [100, 100], "mop_cde": ["DIP"] * 2,
                          "low_dep": [1.0, 1.0], "hgh_dep": [1.0, 1.0]},
                         geometry=_frame(depth_m=[0, 0]).geometry, crs=5186)
    p = read_pipes(g, layers=["WTL_PIPE_LM"])
    assert p.source_id.tolist() == ["100000000000000000000", "7"]
    big = read_pipes(_frame(install_year=[1e20, 1990.0]))
    assert big.install_year.isna().tolist() == [True, False]


def test_cp949_shapefile_with_a_utf8_cpg(tmp_path):
    g = gpd.GeoDataFrame({"ftr_idn": [1], "pip_dip": [100], "mop_cde": ["덕타일주철관"],
                          "low_dep": [1.0], "hgh_dep": [1.0], "mng_cde": ["서울시"]},
                         geometry=_frame(depth_m=[0]).geometry, crs=5186)
    path = tmp_path / "WTL_PIPE_LM.shp"
    g.to_file(path, encoding="cp949")
    path.with_suffix(".cpg").write_text("UTF-8")
    p = read_pipes(path)
    assert p.agency.tolist() == ["서울시"] and p.material.tolist() == ["ductile_iron"]


def test_malformed_rules_csv_is_a_geo3d_error(tmp_path):
    bad = tmp_path / "rules.csv"
    bad.write_text('rule_id,utility\n"a,b\n1,2,3,4\n')
    with pytest.raises(Geo3DError) as err:
        load_rules(bad)
    assert cli_text(err.value).startswith("--rules ")


def test_unrepaired_values_are_problems():
    r = validate_pipes(_frame(depth_m=[-1.0], install_year=[0]), strict=False, repair=False)
    assert any("negative cover depth" in p for p in r.problems)
    assert any("install_year before" in p for p in r.problems)


def test_negative_groundwater_depths_are_flagged(caplog):
    """Water above the ground (artesian wells exist) is drawn as given, never silently."""
    from geo3d.underground.groundwater import read_wells

    wells = gpd.GeoDataFrame({"gw_depth_m": [-2.0, 3.0], "ground_z": [30.0, 30.0]},
                             geometry=[shapely.Point(0, 0), shapely.Point(5, 0)], crs=5186)
    with caplog.at_level(logging.WARNING):
        out = read_wells(wells)
    assert out["gw_elev_m"].tolist() == [32.0, 27.0]
    assert "negative depth" in caplog.text and "1 well" in caplog.text
