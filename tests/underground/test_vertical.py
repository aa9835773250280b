"""The vertical model (geo3d.underground.vertical)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from geo3d.errors import CRSError, SchemaError
from geo3d.io.raster import Dem
from geo3d.underground import pipes_to_3d, read_pipes
from geo3d.underground.vertical import (
    centre_from_cover,
    invert_from_centre,
    pipe_height_m,
    top_from_centre,
)

CRS = "EPSG:5186"


def flat_dem(z=30.0):
    return Dem(np.full((20, 20), z), Affine(1, 0, 0, 0, -1, 20), CRS)


def ramp_dem():
    """Ground = 40 + 0.05 x, sampled at cell centres (bilinear is exact on it)."""
    x = np.arange(200) + 0.5                      # 200 x 20 cells of 1 m, x from 0 to 200
    return Dem(np.tile(40.0 + 0.05 * x, (20, 1)), Affine(1, 0, 0, 0, -1, 20), CRS)


def pipes(**cols):
    n = len(next(iter(cols.values())))
    base = {"utility": ["water"] * n, "depth_reference": ["top"] * n,
            "depth_kind": ["cover"] * n}
    base.update(cols)
    geoms = base.pop("geometry", [shapely.LineString([(2, 10), (12, 10)])] * n)
    return gpd.GeoDataFrame(base, geometry=geoms, crs=CRS)


def zs(gdf):
    return shapely.get_coordinates(gdf.geometry.to_numpy(), include_z=True)[:, 2]


def test_known_cover_gives_exact_centre_top_invert():
    # ground 30.00; cover to top 1.20; outer D 400 mm; inner 360 mm
    p = pipes(diameter_mm=[400.0], inner_diameter_mm=[360.0], depth_m=[1.2])
    centre = centre_from_cover(p, ground=30.0)
    assert float(centre.iloc[0]) == pytest.approx(30.0 - 1.2 - 0.2)         # 28.60
    assert float(top_from_centre(p, centre).iloc[0]) == pytest.approx(28.8)  # 30 − 1.2
    assert float(invert_from_centre(p, centre).iloc[0]) == pytest.approx(28.6 - 0.18)
    out = pipes_to_3d(p, flat_dem(30.0))
    np.testing.assert_allclose(zs(out), [28.6, 28.6])
    assert out.geometry.has_z.all() and not out.depth_assumed.any()


def test_box_duct_uses_height():
    p = pipes(utility=["power"], width_mm=[1000.0], height_mm=[1200.0], depth_m=[1.5])
    assert pipe_height_m(p).tolist() == [1.2]
    np.testing.assert_allclose(zs(pipes_to_3d(p, flat_dem(30.0))), [30 - 1.5 - 0.6] * 2)


def test_box_from_uis_size_string():
    uis = gpd.GeoDataFrame({"ftr_idn": [1], "std_dip": ["500\\600"], "std_dep": [1.0]},
                           geometry=[shapely.LineString([(2, 10), (12, 10)])], crs=CRS)
    p = read_pipes(uis, layers=["UFL_BPIP_LM"])
    np.testing.assert_allclose(zs(pipes_to_3d(p, flat_dem(30.0))), [28.7, 28.7])


def test_start_end_cover_interpolated_along_the_line_over_sloping_ground():
    # sewer from x=10 to x=110 (100 m); cover 2.0 -> 3.0; D 600; ground 40 + 0.05 x
    line = shapely.LineString([(10.5, 10.5), (110.5, 10.5)])
    p = pipes(utility=["sewer"], diameter_mm=[600.0], depth_start_m=[2.0], depth_end_m=[3.0],
              geometry=[line])
    out = pipes_to_3d(p, ramp_dem(), densify=25.0)
    xyz = shapely.get_coordinates(out.geometry.to_numpy(), include_z=True)
    assert len(xyz) == 5
    x = xyz[:, 0]
    cover = 2.0 + (x - 10.5) / 100.0
    np.testing.assert_allclose(xyz[:, 2], 40.0 + 0.05 * x - cover - 0.3, atol=1e-9)


def test_references_are_converted_explicitly():
    p = pipes(diameter_mm=[400.0] * 4, depth_m=[1.0, 1.0, 1.0, 25.0],
              depth_reference=["top", "centre", "bottom", "centre"],
              depth_kind=["cover", "cover", "cover", "elevation"])
    out = pipes_to_3d(p, flat_dem(30.0))
    z = zs(out)[::2]
    np.testing.assert_allclose(z, [30 - 1.0 - 0.2, 30 - 1.0, 30 - 1.0 + 0.2, 25.0])


def test_invert_cover_uses_inner_diameter():
    p = pipes(diameter_mm=[500.0], inner_diameter_mm=[460.0], depth_m=[2.0],
              depth_reference=["invert"])
    np.testing.assert_allclose(zs(pipes_to_3d(p, flat_dem(30.0))), [28.0 + 0.23] * 2)


def test_elevation_z_used_as_is():
    line = shapely.LineString([(0, 0, 12.0), (5, 0, 11.5)])
    p = pipes(diameter_mm=[200.0], depth_kind=["elevation"], depth_reference=["centre"],
              geometry=[line])
    out = pipes_to_3d(p, dem=None)  # elevations need no DEM
    np.testing.assert_allclose(zs(out), [12.0, 11.5])


def test_mixing_references_without_conversion_is_an_error():
    p = pipes(diameter_mm=[400.0, 400.0], depth_m=[1.0, 1.0], depth_reference=["top", "centre"])
    with pytest.raises(SchemaError, match="centre"):
        centre_from_cover(p, ground=30.0)


def test_missing_depth_gets_default_cover_and_flag():
    p = pipes(utility=["gas", "gas", "water"], diameter_mm=[100.0, 100.0, 200.0],
              depth_m=[1.0, None, None])
    out = pipes_to_3d(p, flat_dem(30.0))
    assert out.depth_assumed.tolist() == [False, True, True]
    z = zs(out)[::2]
    np.testing.assert_allclose(z, [30 - 1.0 - 0.05, 30 - 1.2 - 0.05, 30 - 1.2 - 0.1])
    out = pipes_to_3d(p, flat_dem(30.0), default_cover={"gas": 0.8})
    np.testing.assert_allclose(zs(out)[::2], [28.95, 30 - 0.8 - 0.05, 30 - 1.2 - 0.1])
    out = pipes_to_3d(p, flat_dem(30.0), default_cover=2.0)
    np.testing.assert_allclose(zs(out)[2::2], [30 - 2.0 - 0.05, 30 - 2.0 - 0.1])


def test_depth_without_reference_is_an_error():
    p = pipes(diameter_mm=[100.0], depth_m=[1.0], depth_reference=[None])
    with pytest.raises(SchemaError, match="depth_reference"):
        pipes_to_3d(p, flat_dem())


def test_crs_mismatch_and_geographic():
    p = pipes(diameter_mm=[100.0], depth_m=[1.0])
    dem = Dem(np.full((20, 20), 30.0), Affine(1, 0, 0, 0, -1, 20), "EPSG:5179")
    with pytest.raises(CRSError, match="EPSG:5179"):
        pipes_to_3d(p, dem)
    with pytest.raises(CRSError, match="not metres"):
        pipes_to_3d(p.set_crs(4326, allow_override=True), flat_dem())


def test_off_dem_vertices_are_nan(caplog):
    p = pipes(diameter_mm=[100.0], depth_m=[1.0],
              geometry=[shapely.LineString([(5, 5), (50, 5)])])
    out = pipes_to_3d(p, flat_dem())
    z = zs(out)
    assert z[0] == pytest.approx(28.95) and np.isnan(z[1])
    assert "no ground" in caplog.text


def test_input_not_mutated_and_index_kept():
    p = pipes(diameter_mm=[100.0, 200.0], depth_m=[1.0, None])
    p.index = [7, 3]
    before = p.copy()
    out = pipes_to_3d(p, flat_dem())
    pd.testing.assert_frame_equal(p, before)
    assert out.index.tolist() == [7, 3]
    assert not p.geometry.has_z.any()


def test_missing_and_multi_geometries():
    p = pipes(diameter_mm=[100.0, 100.0], depth_m=[1.0, 1.0],
              geometry=[None, shapely.LineString([(1, 1), (2, 2)])])
    out = pipes_to_3d(p, flat_dem())
    assert out.geometry.iloc[0] is None and out.geometry.iloc[1].has_z
    multi = pipes(diameter_mm=[100.0], depth_m=[1.0],
                  geometry=[shapely.MultiLineString([[(1, 1), (2, 2)], [(3, 3), (4, 4)]])])
    with pytest.raises(SchemaError, match="validate_pipes"):
        pipes_to_3d(multi, flat_dem())


def test_generated_district_matches_its_truth(tmp_path):
    und = pytest.importorskip("geo3d.datasets.underground")
    d = und.make_district(seed=5, size_m=400.0)
    und.write_district(d, tmp_path)
    p = read_pipes(tmp_path / "utilities.gpkg", layers=["UFL_GPIP_LM", "UFL_BPIP_LM"])
    out = pipes_to_3d(p, tmp_path / "dem.tif")
    known = ~out.depth_assumed.to_numpy()
    xyz, idx = shapely.get_coordinates(out.geometry.to_numpy(), include_z=True, return_index=True)
    truth_ground = und.ground_elevation(xyz[:, 0], xyz[:, 1], seed=5)
    h = pipe_height_m(out).to_numpy(dtype=float)
    truth = truth_ground - out.depth_m.to_numpy(dtype=float, na_value=np.nan)[idx] - h[idx] / 2
    sel = known[idx]
    # the DEM holds the analytic surface at 2 m cells rounded to cm: a few cm at most
    assert np.nanmax(np.abs(xyz[sel, 2] - truth[sel])) < 0.05


def test_cover_depths_need_a_dem():
    p = pipes(diameter_mm=[100.0], depth_m=[1.0])
    with pytest.raises(Exception, match="need the ground"):
        pipes_to_3d(p, None)


def test_sample_district_in_3d(repo):
    folder = repo / "sample_data" / "underground"
    if not (folder / "utilities.gpkg").exists():
        pytest.skip("sample_data/underground not generated yet")
    p = read_pipes(folder / "utilities.gpkg")
    out = pipes_to_3d(p, folder / "dem.tif", densify=10.0)
    z = zs(out)
    assert not np.isnan(z).any()
    assert out.depth_assumed.sum() == p.depth_unknown.sum()
    assert 10.0 < z.min() and z.max() < 50.0
