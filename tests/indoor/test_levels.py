"""levels_from_cloud, ground_level and levels_of_points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo3d.errors import EmptyResultError, InputError
from geo3d.indoor.levels import floor_label, ground_level, levels_from_cloud, levels_of_points
from geo3d.io.las import read_las
from geo3d.pointcloud.cloud import PointCloud

RNG = np.random.default_rng(7)


def plane(z: float, n: int = 6000) -> np.ndarray:
    return np.column_stack([RNG.uniform(0, 30, n), RNG.uniform(0, 15, n), RNG.normal(z, 0.005, n)])


def walls(z0: float, z1: float, n: int = 6000) -> np.ndarray:
    """The four outer walls of the 30 × 15 m hall."""
    t = RNG.uniform(0, 90, n)
    x = np.where(t < 30, t, np.where(t < 60, t - 30, np.where(t < 75, 0.0, 30.0)))
    y = np.where(t < 30, 0.0, np.where(t < 60, 15.0, np.where(t < 75, t - 60, t - 75)))
    return np.column_stack([x, y, RNG.uniform(z0, z1, n)])


def stalls(z0: float, top: float, n: int = 4000) -> np.ndarray:
    return np.column_stack([RNG.uniform(2, 28, n), RNG.uniform(2, 13, n), RNG.uniform(z0, z0 + top, n)])


def sparse_band(pts: np.ndarray, z0: float, z1: float, keep: float) -> np.ndarray:
    """Thin out the points between z0 and z1 (a sparse scan misses most of that band)."""
    inside = (pts[:, 2] > z0) & (pts[:, 2] < z1)
    return pts[~inside | (RNG.random(len(pts)) < keep)]


def test_two_storeys_with_a_counter_plane() -> None:
    pts = np.vstack([plane(0.0), plane(0.9, 9000)[:2000], walls(0, 3.9), stalls(0, 2.9), plane(3.9),
                     plane(4.2), walls(4.2, 8.1), stalls(4.2, 2.9), plane(8.1)])
    lv = levels_from_cloud(pts)
    assert lv["floor"].tolist() == [1, 2]
    assert lv["label"].tolist() == ["1층", "2층"]
    np.testing.assert_allclose(lv["slab_z"], [0.0, 4.2], atol=0.05)
    np.testing.assert_allclose(lv["ceiling_z"], [3.9, 8.1], atol=0.05)


def test_nearly_empty_bands_inside_a_storey_are_no_slab() -> None:
    # a sparse scan: the band at the scanner's height and the air between stall tops and the
    # ceiling hold only a few points; the slab between the storeys holds none
    pts = np.vstack([plane(0.0), walls(0, 3.9, 20000), stalls(0, 2.9), plane(3.9),
                     plane(4.2), walls(4.2, 8.1, 20000), stalls(4.2, 2.9), plane(8.1)])
    pts = sparse_band(pts, 1.45, 1.6, 0.0)  # a true gap, but with no floor on top of it
    pts = sparse_band(pts, 3.0, 3.85, 0.12)  # a few wall points only (coverage ~1.5 %)
    lv = levels_from_cloud(pts)
    assert len(lv) == 2
    np.testing.assert_allclose(lv["slab_z"], [0.0, 4.2], atol=0.05)
    np.testing.assert_allclose(lv["ceiling_z"], [3.9, 8.1], atol=0.05)


def test_no_ceiling_and_entrance_level() -> None:
    pts = np.vstack([plane(-4.2), walls(-4.2, -0.3), stalls(-4.2, 2.5), plane(-0.3),
                     plane(0.0), walls(0, 3.0), stalls(0, 2.5)])
    lv = levels_from_cloud(pts, entrance_level=1)
    assert lv["floor"].tolist() == [-1, 1]
    assert lv["label"].tolist() == ["지하1층", "1층"]
    assert lv["ordinal"].tolist() == [-1, 0]
    assert np.isnan(lv["ceiling_z"].iloc[1])
    assert levels_from_cloud(pts, ground_z=0.1)["floor"].tolist() == [-1, 1]
    with pytest.raises(InputError):
        levels_from_cloud(pts, entrance_level=2)


def test_no_storey_raises_and_ground_level_falls_back() -> None:
    terrain = np.column_stack([RNG.uniform(0, 50, 5000), RNG.uniform(0, 50, 5000), RNG.normal(12, 0.3, 5000)])
    trees = np.column_stack([RNG.uniform(0, 50, 2000), RNG.uniform(0, 50, 2000), RNG.uniform(12, 30, 2000)])
    pts = np.vstack([terrain, trees])
    with pytest.raises(EmptyResultError, match="no storey found"):
        levels_from_cloud(pts)
    lv = ground_level(pts)
    assert lv["floor"].tolist() == [1] and np.isnan(lv["ceiling_z"].iloc[0])
    assert 10.5 < lv["slab_z"].iloc[0] < 12.0  # a low percentile
    cls = np.r_[np.full(5000, 2, dtype=np.uint8), np.full(2000, 5, dtype=np.uint8)]
    lv = ground_level(PointCloud(pts, attrs={"classification": cls}))
    assert abs(lv["slab_z"].iloc[0] - 12.0) < 0.05  # the median of the ground class


def test_levels_of_points_and_labels() -> None:
    levels = pd.DataFrame({"floor": [-1, 1], "slab_z": [-4.0, 0.0], "z_max": [-0.4, 3.6]})
    z = np.array([-5.0, -3.9, -0.2, 0.1, 3.8, 4.5])
    got = levels_of_points(np.column_stack([np.zeros(6), np.zeros(6), z]), levels)
    assert got.tolist() == [0, -1, 1, 1, 1, 0]
    assert floor_label(-2) == "지하2층"


@pytest.mark.shared_data
def test_real_room_floor_and_ceiling(shared_data) -> None:
    cloud = read_las(shared_data / "lidar" / "room_scan1.las")
    lv = levels_from_cloud(cloud)
    assert len(lv) == 1
    assert abs(lv["slab_z"].iloc[0] - -1.27) <= 0.1
    assert abs(lv["ceiling_z"].iloc[0] - 1.67) <= 0.1


@pytest.mark.shared_data
def test_real_ign_tile_has_no_storey_but_a_ground(shared_data) -> None:
    cloud = read_las(shared_data / "lidar" / "test_data_77050_627755_LA93_IGN69.laz")
    with pytest.raises(EmptyResultError):
        levels_from_cloud(cloud)
    lv = ground_level(cloud)
    ground = np.median(cloud.xyz[cloud.attrs["classification"] == 2, 2])
    assert abs(lv["slab_z"].iloc[0] - ground) < 0.01


def _hall(z: float, *, x1: float = 30.0, door: bool = False, n: int = 6000) -> np.ndarray:
    """Floor, four walls (a door in the south wall at x 10-13 m when ``door``) and stalls of a storey."""
    f = np.column_stack([RNG.uniform(0, x1, n), RNG.uniform(0, 15, n), RNG.normal(z, 0.005, n)])
    w = walls(z, z + 3.9, n)
    w = w[(w[:, 0] <= x1) & ~(door & (w[:, 1] == 0.0) & (w[:, 0] > 10) & (w[:, 0] < 13))]
    return np.vstack([f, w, stalls(z, 2.5)[: n // 2]])


def test_basement_below_the_street_is_found_from_the_ground_outside() -> None:
    # a basement (slab 0.3 m thick) under the street floor; the pavement seen through the
    # street floor's door lies 0.12 m below that floor, inside the slab's height band
    pavement = np.column_stack([RNG.uniform(9, 14, 3000), RNG.uniform(-5, -0.4, 3000), RNG.normal(-0.12, 0.005, 3000)])
    pts = np.vstack([_hall(-4.2), plane(-0.3), _hall(0.0, door=True), plane(3.9), pavement])
    lv = levels_from_cloud(pts)
    assert lv["floor"].tolist() == [-1, 1]
    np.testing.assert_allclose(lv["slab_z"], [-4.2, 0.0], atol=0.05)
    # without the pavement nothing says which storey is the street's: the lowest, with a warning
    assert levels_from_cloud(np.vstack([_hall(-4.2), plane(-0.3), _hall(0.0, door=True), plane(3.9)]))[
        "floor"].tolist() == [1, 2]


def test_partial_upper_floor_without_ceiling() -> None:
    # a mezzanine over the west half (x < 15 m), nothing scanned above it; the east half is
    # double height (its walls go on up, through the mezzanine's height)
    west = np.column_stack([RNG.uniform(0, 15, 6000), RNG.uniform(0, 15, 6000)])
    under = np.column_stack([west, RNG.normal(3.9, 0.005, 6000)])
    mezz = np.column_stack([west, RNG.normal(4.2, 0.005, 6000)])
    high = walls(4.2, 8.0, 6000)
    pts = np.vstack([_hall(0.0), under, mezz, high, stalls(4.2, 2.5)[:2000] * [0.5, 1, 1]])
    lv = levels_from_cloud(pts)
    assert lv["floor"].tolist() == [1, 2]
    np.testing.assert_allclose(lv["slab_z"], [0.0, 4.2], atol=0.05)
    assert np.isnan(lv["ceiling_z"].iloc[1])


@pytest.mark.parametrize("seed", [4, 8])
def test_family_levels(seed: int) -> None:
    """Tuning scenes of the family: basements, partial top floor, stair voids (geo3d.datasets.family)."""
    from geo3d.datasets.family import market_scene
    from geo3d.pointcloud.filter import voxel_thin

    s = market_scene(seed, density="sparse", length=40.0)
    cloud = PointCloud(np.column_stack([s.points["x"], s.points["y"], s.points["z"]]))
    lv = levels_from_cloud(voxel_thin(cloud, 0.04)[0])
    assert lv["floor"].tolist() == s.levels["floor"].tolist()
    np.testing.assert_allclose(lv["slab_z"], s.levels["slab_z"], atol=0.15)


def test_a_cloud_too_sparse_for_any_height_bin_is_refused_not_crashed():
    # regression: scattered returns (an outdoor tile) filled no height bin -> IndexError
    rng = np.random.default_rng(3)
    pts = np.column_stack([rng.uniform(0, 500, 50), rng.uniform(0, 500, 50), rng.uniform(0, 30, 50)])
    with pytest.raises(EmptyResultError, match="no storey found"):
        levels_from_cloud(pts)
