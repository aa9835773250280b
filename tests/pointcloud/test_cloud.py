"""geo3d.pointcloud.cloud.PointCloud."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from pyproj import CRS

from geo3d.errors import CRSError, EmptyResultError, InputError
from geo3d.pointcloud import PointCloud, SourceInfo


def cloud(n=5, **kw):
    xyz = np.arange(n * 3, dtype=float).reshape(n, 3)
    attrs = {
        "intensity": np.arange(n, dtype=np.uint16) * 10,
        "rgb": np.tile(np.array([[65535, 0, 256]], dtype=np.uint16), (n, 1)),
    }
    return PointCloud(xyz, attrs, **kw)


def test_basics():
    pc = cloud(4, crs="EPSG:5186")
    assert len(pc) == 4
    assert isinstance(pc.crs, CRS) and pc.crs.to_epsg() == 5186
    assert pc.index.dtype == np.int64 and pc.index.tolist() == [0, 1, 2, 3]
    assert pc.bounds == (0.0, 1.0, 2.0, 9.0, 10.0, 11.0)
    assert pc.x.tolist() == [0.0, 3.0, 6.0, 9.0]
    assert "4 points" in repr(pc) and "EPSG:5186" in repr(pc)


def test_xyz_is_float64_without_copy_when_possible():
    xyz = np.zeros((3, 3))
    assert PointCloud(xyz).xyz is xyz
    assert PointCloud(np.zeros((3, 3), dtype=np.float32)).xyz.dtype == np.float64


@pytest.mark.parametrize("bad", [np.zeros(3), np.zeros((3, 2)), np.zeros((2, 3, 1))])
def test_bad_xyz(bad):
    with pytest.raises(InputError, match=r"shape \(N, 3\)"):
        PointCloud(bad)


def test_bad_attrs_and_index():
    with pytest.raises(InputError, match="'intensity'"):
        PointCloud(np.zeros((3, 3)), {"intensity": np.zeros(2)})
    with pytest.raises(InputError, match="index"):
        PointCloud(np.zeros((3, 3)), index=np.arange(4))
    with pytest.raises(CRSError):
        PointCloud(np.zeros((3, 3)), crs="EPSG:nope")


def test_empty_cloud():
    pc = PointCloud(np.empty((0, 3)))
    assert len(pc) == 0 and pc.index.shape == (0,)
    with pytest.raises(EmptyResultError):
        _ = pc.bounds
    assert len(pc.subset(np.zeros(0, dtype=bool))) == 0


def test_subset_mask_and_indices_keep_original_index():
    pc = cloud(5, index=np.array([10, 11, 12, 13, 14]))
    sub = pc.subset(pc.attrs["intensity"] >= 20)
    assert sub.index.tolist() == [12, 13, 14]
    assert sub.attrs["intensity"].tolist() == [20, 30, 40]
    assert sub.attrs["rgb"].shape == (3, 3)
    sub2 = sub.subset([2, 0])
    assert sub2.index.tolist() == [14, 12]
    np.testing.assert_array_equal(sub2.xyz, pc.xyz[[4, 2]])
    assert sub2.crs == pc.crs
    with pytest.raises(InputError, match="boolean mask"):
        pc.subset(np.array([True, False]))
    with pytest.raises(InputError):
        pc.subset(np.array([0.5]))
    # the original is not changed
    assert len(pc) == 5 and pc.index.tolist() == [10, 11, 12, 13, 14]


def test_concat():
    pc = cloud(6, crs="EPSG:5186")
    parts = [pc.subset([0, 1]), pc.subset([2]), pc.subset([3, 4, 5])]
    joined = PointCloud.concat(parts)
    np.testing.assert_array_equal(joined.xyz, pc.xyz)
    np.testing.assert_array_equal(joined.attrs["rgb"], pc.attrs["rgb"])
    assert joined.index.tolist() == list(range(6))
    assert joined.crs == pc.crs
    with pytest.raises(CRSError, match="reproject"):
        PointCloud.concat([pc, cloud(2, crs="EPSG:5179")])
    with pytest.raises(CRSError):
        PointCloud.concat([pc, cloud(2)])
    with pytest.raises(InputError, match="attributes"):
        PointCloud.concat([pc, PointCloud(np.zeros((1, 3)), crs="EPSG:5186")])
    with pytest.raises(InputError):
        PointCloud.concat([])


def test_to_file_order_spreads_to_duplicates():
    # file of 6 points: 2 and 5 duplicate 0, 4 duplicates 1; point 3 was dropped (NaN)
    twin = np.array([0, 1, 0, -1, 1, 0])
    src = SourceInfo(path=None, point_count=6, duplicate_of=twin)
    pc = PointCloud(np.zeros((2, 3)), index=np.array([0, 1]), source=src)
    assert pc.to_file_order([7, 8], fill=-1).tolist() == [7, 8, 7, -1, 8, 7]
    # after a subset the twin of point 1 is gone -> fill
    assert pc.subset([0]).to_file_order([7], fill=-1).tolist() == [7, -1, 7, -1, -1, 7]
    with pytest.raises(InputError, match="2 rows"):
        pc.to_file_order([1, 2, 3])


def test_to_open3d():
    from geo3d._compat import import_open3d
    from geo3d.errors import MissingDependencyError

    try:
        import_open3d()
    except MissingDependencyError:
        pytest.skip("open3d (geo3d[pointcloud]) is not installed")
    pc = cloud(4)
    pcd = pc.to_open3d()
    np.testing.assert_allclose(np.asarray(pcd.points), pc.xyz)
    colors = np.asarray(pcd.colors)
    assert colors.shape == (4, 3)
    np.testing.assert_allclose(colors[0], [1.0, 0.0, 256 / 65535])
    # 8-bit colours stored in 16-bit fields are scaled by 255
    pc8 = PointCloud(np.zeros((1, 3)), {"rgb": np.array([[255, 0, 51]], dtype=np.uint16)})
    np.testing.assert_allclose(np.asarray(pc8.to_open3d().colors)[0], [1.0, 0.0, 0.2])


def test_import_does_not_load_open3d():
    import subprocess

    code = "import sys, geo3d.pointcloud; print('open3d' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_take_rows_is_indexing():
    import numpy as np
    import pytest

    from geo3d.pointcloud.cloud import take_rows

    a = np.arange(12.0).reshape(4, 3)
    idx = np.array([3, 0, 3, -1])
    np.testing.assert_array_equal(take_rows(a, idx), a[idx])
    mask = np.array([True, False, True, True])
    np.testing.assert_array_equal(take_rows(a, mask), a[mask])
    with pytest.raises(IndexError):
        take_rows(a, np.array([True, False]))
    with pytest.raises(IndexError):
        take_rows(a, np.array([4]))
