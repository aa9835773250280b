import laspy
import numpy as np
import pytest

from geo3d.errors import FileFormatError, MissingFileError
from geo3d.io.las import open_las, read_las, write_las
from geo3d.pointcloud.segment import voxel_components

pye57 = pytest.importorskip("pye57")


@pytest.fixture(scope="module")
def same_cloud(tmp_path_factory):
    """One small coloured cloud written as LAS and as a two-scan E57 (second scan with a pose)."""
    d = tmp_path_factory.mktemp("e57")
    rng = np.random.default_rng(3)
    n = 3000
    # coordinates on the 1 mm grid of both files, blobs so that segmentation has something to do
    centres = rng.uniform(0, 20, size=(6, 3))
    xyz = np.round(np.repeat(centres, n // 6, axis=0) + rng.normal(scale=0.2, size=(n, 3)), 3)
    xyz += np.array([200000.0, 500000.0, 30.0])
    rgb8 = rng.integers(0, 256, size=(n, 3))
    inten = rng.integers(0, 65536, size=n)
    inten[[0, 1, n // 2, n // 2 + 1]] = [0, 65535, 0, 65535]  # the E57 writer takes each scan's range as its limits
    header = laspy.LasHeader(point_format=7, version="1.4")
    header.scales = np.full(3, 0.001)
    header.offsets = np.floor(xyz.min(axis=0))
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz.T
    las.red, las.green, las.blue = (rgb8 * 257).T
    las.intensity = inten
    las.return_number = np.ones(n, dtype=np.uint8)
    las.number_of_returns = np.ones(n, dtype=np.uint8)
    las.write(str(d / "cloud.las"))
    e57 = pye57.E57(str(d / "cloud.e57"), mode="w")
    half = n // 2
    origin = np.array([200000.0, 500000.0, 30.0])
    for sl, shift in ((slice(0, half), origin), (slice(half, n), origin + np.array([5.0, -3.0, 1.0]))):
        # stored in the scan's own frame (pye57 writes single-precision coordinates, so the
        # georeference goes into the pose, as scanners do), moved back by the pose's translation
        part = xyz[sl] - shift
        e57.write_scan_raw({"cartesianX": part[:, 0], "cartesianY": part[:, 1], "cartesianZ": part[:, 2],
                            "intensity": inten[sl].astype(float),
                            "colorRed": rgb8[sl, 0].astype(np.uint8), "colorGreen": rgb8[sl, 1].astype(np.uint8),
                            "colorBlue": rgb8[sl, 2].astype(np.uint8)},
                           translation=shift, rotation=np.array([1.0, 0, 0, 0]))
    e57.close()
    return d / "cloud.las", d / "cloud.e57"


def test_e57_reads_as_the_same_cloud_as_las(same_cloud):
    las_path, e57_path = same_cloud
    a = read_las(las_path, crs="EPSG:5186")
    b = read_las(e57_path, crs="EPSG:5186")
    assert len(a) == len(b) == 3000
    np.testing.assert_array_equal(b.xyz, a.xyz)
    np.testing.assert_array_equal(b.attrs["rgb"], a.attrs["rgb"])
    np.testing.assert_array_equal(b.attrs["intensity"], a.attrs["intensity"])
    la, na = voxel_components(a.xyz, 0.15, min_points=5)
    lb, nb = voxel_components(b.xyz, 0.15, min_points=5)
    assert na == nb and np.array_equal(la, lb)


def test_e57_streams_and_writes_back(same_cloud, tmp_path):
    _, e57_path = same_cloud
    with open_las(e57_path, crs="EPSG:5186") as reader:
        assert reader.count == 3000
        cloud = reader.read()
    out = write_las(cloud, tmp_path / "points.laz", object_id=np.arange(len(cloud), dtype=np.int32))
    back = laspy.read(out)
    assert len(back) == 3000 and back["object_id"][-1] == 2999


def test_bad_e57(tmp_path):
    with pytest.raises(MissingFileError):
        read_las(tmp_path / "none.e57")
    bad = tmp_path / "bad.e57"
    bad.write_bytes(b"not an e57 file at all" * 100)
    with pytest.raises(FileFormatError, match="not a readable E57"):
        read_las(bad)


def test_geo3d_segment_reads_e57(same_cloud, tmp_path):
    import json

    from click.testing import CliRunner

    from geo3d.cli import commands  # noqa: F401
    from geo3d.cli.main import cli

    _, e57_path = same_cloud
    out = tmp_path / "seg"
    res = CliRunner().invoke(cli, ["segment", str(e57_path), "--out", str(out), "--crs", "EPSG:5186"])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["source"] == str(e57_path) and report["points"] == 3000
    assert len(laspy.read(out / "points.laz").points) == 3000
