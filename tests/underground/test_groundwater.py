import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

import geo3d
from geo3d.errors import CRSError, InputError, SchemaError
from geo3d.io.raster import Dem
from geo3d.underground.groundwater import groundwater_profile, read_wells, water_table_at

CRS = "EPSG:5186"


def wells(**cols):
    pts = cols.pop("pts", [shapely.Point(0, 5), shapely.Point(10, 5)])
    return gpd.GeoDataFrame(cols, geometry=pts, crs=CRS)


def test_linear_in_chainage_held_at_the_ends():
    w = wells(gw_elev_m=[30.0, 32.0], measured=["2024-05-01", "2025-03-02"],
              pts=[shapely.Point(2, 5), shapely.Point(8, -5)])
    prof = groundwater_profile(w, shapely.LineString([(0, 0), (10, 0)]), method="linear",
                               spacing=1.0)
    assert prof.z[0] == 30.0 and prof.z[-1] == 32.0
    assert prof.z[5] == pytest.approx(31.0)
    assert prof.dates == ("2024-05-01", "2025-03-02")
    assert sorted(prof.wells["chainage_m"]) == [2.0, 8.0]


def test_idw_exact_at_wells_and_between():
    w = wells(gw_elev_m=[10.0, 20.0], pts=[shapely.Point(0, 0), shapely.Point(2, 0)])
    assert water_table_at(w, [0.0, 1.0, 2.0], [0.0, 0.0, 0.0]).tolist() == [10.0, 15.0, 20.0]
    assert np.isnan(water_table_at(w, [100.0], [0.0], max_distance=5.0)[0])


def test_depth_to_elevation_from_ground_z_or_dem():
    w = wells(gw_depth_m=[2.0, 3.0], ground_z=[30.0, np.nan])
    dem = Dem(np.full((20, 20), 40.0), Affine(1, 0, -5, 0, -1, 15), CRS)
    r = read_wells(w, dem=dem)
    assert r["gw_elev_m"].tolist() == [28.0, 37.0]
    assert r["date"].tolist() == [None, None]


def test_missing_columns_and_bad_method():
    with pytest.raises(SchemaError, match="gw_elev_m"):
        read_wells(wells(level=[1.0, 2.0]))
    with pytest.raises(InputError, match="idw, linear"):
        groundwater_profile(wells(gw_elev_m=[1.0, 2.0]), shapely.LineString([(0, 0), (1, 0)]),
                            method="kriging")


def test_crs_mismatch():
    with pytest.raises(CRSError):
        groundwater_profile(wells(gw_elev_m=[1.0, 2.0]), shapely.LineString([(0, 0), (1, 0)]),
                            crs="EPSG:5179")


def test_sample_boreholes():
    line = gpd.read_file(geo3d.datasets.get_path("section_line")).geometry.iloc[0]
    prof = groundwater_profile(geo3d.datasets.get_path("boreholes"), line)
    bh = gpd.read_file(geo3d.datasets.get_path("boreholes"))
    assert np.isfinite(prof.z).all()
    assert bh["gw_elev_m"].min() <= prof.z.min() <= prof.z.max() <= bh["gw_elev_m"].max()
    assert len(prof.wells) == 4
    assert "IDW" in prof.describe()
