"""The real files in ../shared/data open with their own libraries (skipped when absent)."""

import hashlib

import geopandas as gpd
import laspy
import numpy as np
import pytest

pytestmark = pytest.mark.shared_data

LIDAR = {
    "simple.las": 1065,
    "room_scan1.las": 112_586,
    "autzen_trim.las": 110_000,
    "autzen_trim.laz": 110_000,
    "lone-star.copc.laz": 518_862,
    "test_data_77050_627755_LA93_IGN69.laz": 84_524,
}


def test_checksums_match_provenance(shared_data):
    for line in (shared_data / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        path = shared_data / name.lstrip("*").removeprefix("./")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize(("name", "count"), sorted(LIDAR.items()))
def test_lidar_files_open_with_laspy(shared_data, name, count):
    las = laspy.read(shared_data / "lidar" / name)
    assert len(las.points) == count
    xyz = np.column_stack([las.x, las.y, las.z])
    assert np.isfinite(xyz).all()


def test_room_scan_heights(shared_data):
    las = laspy.read(shared_data / "lidar" / "room_scan1.las")
    z = np.asarray(las.z)
    assert z.min() == pytest.approx(-1.27, abs=0.1)
    assert z.max() == pytest.approx(1.67, abs=0.15)


def test_seoul_boundaries(shared_data):
    dong = gpd.read_file(shared_data / "seoul" / "seoul_hangjeongdong_2021.geojson")
    gu = gpd.read_file(shared_data / "seoul" / "seoul_gu.geojson")
    assert len(dong) == 425 and len(gu) == 25
    assert dong.crs.to_epsg() == 4326
    assert {"adm_nm", "adm_cd", "adm_cd2"} <= set(dong.columns)
    area_km2 = gu.to_crs(5186).make_valid().area.sum() / 1e6
    assert area_km2 == pytest.approx(605.7, rel=0.01)
    jegi = dong[dong["adm_nm"].str.endswith("제기동")]
    assert len(jegi) == 1
    market = gpd.points_from_xy([127.0395], [37.5797], crs=4326)[0]
    assert jegi.geometry.iloc[0].contains(market)


def test_pipe_networks(shared_data):
    ky4 = gpd.read_file(shared_data / "pipes" / "ky4_pipes.geojson")
    assert len(ky4) == 1156
    arcs = gpd.read_file(shared_data / "pipes" / "RefactoredWaterArcs.shp")
    assert len(arcs) == 532
    assert arcs.crs.to_epsg() == 4326
    assert "pipetype" in arcs.columns
