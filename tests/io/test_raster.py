"""DEM reading and bilinear sampling (geo3d.io.raster)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from geo3d.errors import CRSError, FileFormatError, InputError
from geo3d.io.raster import Dem, as_dem, read_dem, sample_dem


def plane(x, y):
    return 50.0 + 0.02 * x - 0.01 * y


def write_tif(path, z, transform, *, crs="EPSG:5186", nodata=-9999.0):
    with rasterio.open(path, "w", driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                       dtype="float64", crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(z, 1)
    return path


@pytest.fixture
def plane_dem():
    # 20 x 30 cells of 2 m, upper-left corner (1000, 2060); cell centres sampled from a plane
    t = Affine(2.0, 0.0, 1000.0, 0.0, -2.0, 2060.0)
    cols, rows = np.meshgrid(np.arange(30), np.arange(20))
    x = 1000.0 + (cols + 0.5) * 2.0
    y = 2060.0 - (rows + 0.5) * 2.0
    return Dem(plane(x, y), t, "EPSG:5186")


def test_bilinear_is_exact_on_a_plane(plane_dem):
    rng = np.random.default_rng(0)
    x = rng.uniform(1001.0, 1059.0, 500)   # inside the cell-centre hull
    y = rng.uniform(2021.0, 2059.0, 500)
    np.testing.assert_allclose(sample_dem(plane_dem, x, y), plane(x, y), atol=1e-9)


def test_outside_is_nan_and_shape_kept(plane_dem):
    x = np.array([[999.0, 1030.0], [1061.0, 1030.0]])
    y = np.array([[2040.0, 2040.0], [2040.0, 2061.0]])
    out = sample_dem(plane_dem, x, y)
    assert out.shape == (2, 2)
    assert np.isnan(out[0, 0]) and np.isnan(out[1, 0]) and np.isnan(out[1, 1])
    assert out[0, 1] == pytest.approx(plane(1030.0, 2040.0))


def test_edge_half_cell_holds_edge_value(plane_dem):
    # left edge of the raster, at a row centre: the first column's centre value
    z = sample_dem(plane_dem, [1000.2], [2059.0])
    assert z[0] == pytest.approx(plane(1001.0, 2059.0))


def test_nodata_neighbour_is_left_out():
    z = np.array([[1.0, 2.0], [3.0, np.nan]])
    dem = Dem(z, Affine(1, 0, 0, 0, -1, 2))
    assert sample_dem(dem, [0.5], [1.5])[0] == 1.0              # on a valid centre
    assert sample_dem(dem, [1.0], [1.0])[0] == pytest.approx(2.0)  # (1+2+3)/3
    assert np.isnan(sample_dem(dem, [1.5], [0.5])[0])           # on the nodata centre


def test_read_dem_nodata_and_crs(tmp_path):
    z = np.array([[1.0, 2.0, 3.0], [4.0, -9999.0, 6.0]])
    path = write_tif(tmp_path / "dem.tif", z, Affine(1, 0, 0, 0, -1, 2))
    dem = read_dem(path)
    assert np.isnan(dem.elevation[1, 1]) and dem.elevation[0, 2] == 3.0
    assert dem.crs.to_epsg() == 5186
    assert dem.bounds == (0.0, 0.0, 3.0, 2.0)
    # sampling straight from a path
    assert sample_dem(path, [0.5], [1.5])[0] == 1.0


def test_crs_check(plane_dem):
    sample_dem(plane_dem, [1030.0], [2040.0], crs="EPSG:5186")
    with pytest.raises(CRSError, match="reproject"):
        sample_dem(plane_dem, [1030.0], [2040.0], crs="EPSG:5179")
    no_crs = Dem(plane_dem.elevation, plane_dem.transform, None)
    with pytest.raises(CRSError, match="no CRS"):
        sample_dem(no_crs, [1030.0], [2040.0], crs="EPSG:5186")


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_dem(tmp_path / "missing.tif")
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 20)
    with pytest.raises(FileFormatError):
        read_dem(bad)
    path = write_tif(tmp_path / "one.tif", np.ones((2, 2)), Affine(1, 0, 0, 0, -1, 2))
    with pytest.raises(InputError, match="band 2"):
        read_dem(path, band=2)


def test_as_dem_accepts_dem_like_objects():
    class Like:
        elevation = np.array([[1.0, -9999.0]], dtype=np.float32)
        transform = Affine(1, 0, 0, 0, -1, 1)
        crs = "EPSG:5186"
        nodata = -9999.0

    dem = as_dem(Like())
    assert np.isnan(dem.elevation[0, 1]) and dem.crs.to_epsg() == 5186
    with pytest.raises(InputError):
        as_dem(42)


def test_all_nodata_dem_is_called_all_nodata(tmp_path):
    t = Affine(1.0, 0.0, 0.0, 0.0, -1.0, 10.0)
    path = write_tif(tmp_path / "empty.tif", np.full((10, 10), -9999.0), t)
    with pytest.raises(InputError, match="only nodata"):
        read_dem(path)


def test_gap_reason_tells_nodata_from_outside():
    from geo3d.io.raster import dem_gap_reason

    z = np.full((4, 4), 10.0)
    z[:, :2] = np.nan
    dem = Dem(z, Affine(1.0, 0.0, 0.0, 0.0, -1.0, 4.0), "EPSG:5186")
    assert dem_gap_reason(dem, [0.5, 1.5], [2.0, 2.0]) == "nodata"
    assert dem_gap_reason(dem, [50.0], [50.0]) == "outside"
