"""geo3d.pointcloud.filter: voxel_thin and remove_outliers."""

from __future__ import annotations

import numpy as np
import pytest

from geo3d.errors import InputError
from geo3d.pointcloud import PointCloud, remove_outliers, voxel_thin
from geo3d.pointcloud.filter import voxel_keys


def random_cloud(n=20_000, seed=0, offset=(0.0, 0.0, 0.0)):
    rng = np.random.default_rng(seed)
    xyz = rng.uniform(0, 10, (n, 3)) + np.asarray(offset)
    return PointCloud(xyz, {"intensity": rng.integers(0, 1000, n).astype(np.uint16)},
                      index=np.arange(100, 100 + n))


@pytest.mark.parametrize("offset", [(0.0, 0.0, 0.0), (200_000.0, 550_000.0, 30.0)])
def test_voxel_thin_inverse_maps_every_point_to_its_voxel(offset):
    pc = random_cloud(offset=offset)
    size = 0.5
    thin, inverse = voxel_thin(pc, size)
    assert inverse.dtype == np.int64 and inverse.shape == (len(pc),)
    assert inverse.min() == 0 and inverse.max() == len(thin) - 1
    # one representative per occupied voxel
    lo = pc.xyz.min(axis=0)
    vox = np.floor((pc.xyz - lo) / size).astype(np.int64)
    assert len(thin) == len(np.unique(vox, axis=0))
    # every point shares its voxel with its representative
    rep_vox = np.floor((thin.xyz - lo) / size).astype(np.int64)
    np.testing.assert_array_equal(rep_vox[inverse], vox)
    # representatives are real points, in original order, with their attributes
    pos = thin.index - 100
    assert np.all(np.diff(thin.index) > 0)
    np.testing.assert_array_equal(thin.xyz, pc.xyz[pos])
    np.testing.assert_array_equal(thin.attrs["intensity"], pc.attrs["intensity"][pos])
    # a representative maps to itself
    np.testing.assert_array_equal(inverse[pos], np.arange(len(thin)))
    # labels spread back
    labels = np.arange(len(thin)) * 3
    assert (labels[inverse] % 3 == 0).all()


def test_voxel_thin_picks_point_nearest_centroid_and_is_deterministic():
    xyz = np.array([[0.1, 0.1, 0.1], [0.5, 0.5, 0.5], [0.9, 0.9, 0.9], [0.45, 0.5, 0.5],
                    [3.2, 0.2, 0.2]])
    pc = PointCloud(xyz)
    thin, inverse = voxel_thin(pc, 1.0)
    assert thin.index.tolist() == [1, 4]  # centroid (0.4875, 0.5, 0.5): nearest is point 1
    assert inverse.tolist() == [0, 0, 0, 0, 1]
    pc2 = random_cloud(5000, seed=3)
    a = voxel_thin(pc2, 0.7)
    b = voxel_thin(pc2, 0.7)
    np.testing.assert_array_equal(a[0].index, b[0].index)
    np.testing.assert_array_equal(a[1], b[1])


def test_voxel_thin_ties_go_to_the_earlier_point():
    pc = PointCloud(np.array([[0.25, 0.5, 0.5], [0.75, 0.5, 0.5]]))
    thin, inverse = voxel_thin(pc, 1.0)
    assert thin.index.tolist() == [0] and inverse.tolist() == [0, 0]


def test_voxel_thin_edge_cases():
    empty, inv = voxel_thin(PointCloud(np.empty((0, 3))), 1.0)
    assert len(empty) == 0 and inv.shape == (0,)
    one, inv = voxel_thin(PointCloud(np.ones((1, 3))), 1.0)
    assert len(one) == 1 and inv.tolist() == [0]
    for bad in (0, -1.0, float("nan"), float("inf"), "1", True):
        with pytest.raises(InputError):
            voxel_thin(PointCloud(np.ones((1, 3))), bad)


def test_voxel_keys_fall_back_to_triples_for_huge_grids():
    xyz = np.array([[0.0, 0.0, 0.0], [1e7, 1e7, 1e7], [1e-6, 0, 0]])
    keys = voxel_keys(xyz, 1e-4)
    assert keys.shape == (3, 3)
    pc = PointCloud(xyz)
    thin, inverse = voxel_thin(pc, 1e-4)
    assert thin.index.tolist() == [0, 1] and inverse.tolist() == [0, 1, 0]


def test_remove_outliers_finds_planted_outliers():
    rng = np.random.default_rng(7)
    # a dense 10 m x 10 m floor with a little noise...
    floor = np.column_stack([rng.uniform(0, 10, 20_000), rng.uniform(0, 10, 20_000),
                             rng.normal(0, 0.01, 20_000)])
    # ...and 50 isolated points floating 2-5 m above it
    outliers = np.column_stack([rng.uniform(0, 10, 50), rng.uniform(0, 10, 50), rng.uniform(2, 5, 50)])
    xyz = np.vstack([floor, outliers])
    perm = rng.permutation(len(xyz))
    pc = PointCloud(xyz[perm])
    planted = perm >= len(floor)
    keep = remove_outliers(pc, k=16, std_ratio=2.0)
    assert keep.dtype == bool and keep.shape == (len(pc),)
    assert not keep[planted].any()  # every planted outlier removed
    assert keep[~planted].mean() > 0.97  # almost every floor point kept
    # a stricter ratio removes at least as many
    assert remove_outliers(pc, k=16, std_ratio=1.0).sum() <= keep.sum()


def test_remove_outliers_blocks_agree(monkeypatch):
    from geo3d.pointcloud import filter as filt

    pc = random_cloud(3000, seed=5)
    whole = remove_outliers(pc, k=8)
    monkeypatch.setattr(filt, "_QUERY_BLOCK", 700)
    np.testing.assert_array_equal(remove_outliers(pc, k=8), whole)


def test_remove_outliers_edge_cases():
    assert remove_outliers(PointCloud(np.empty((0, 3)))).shape == (0,)
    assert remove_outliers(PointCloud(np.ones((1, 3)))).tolist() == [True]
    assert remove_outliers(PointCloud(np.random.default_rng(0).random((5, 3))), k=16).shape == (5,)
    for kw in ({"k": 0}, {"k": 2.5}, {"std_ratio": 0}, {"std_ratio": float("nan")}):
        with pytest.raises(InputError):
            remove_outliers(PointCloud(np.ones((3, 3))), **kw)
