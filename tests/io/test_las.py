"""geo3d.io.las: reading, streaming, cleaning, CRS checks, bad files and write-back."""

from __future__ import annotations

import logging
import struct
import sys
from pathlib import Path

import laspy
import numpy as np
import pytest
from pyproj import CRS

from geo3d.errors import (
    CRSError,
    FileFormatError,
    Geo3DError,
    InputError,
    MissingFileError,
    OutputExistsError,
)
from geo3d.io.las import open_las, read_las, write_las
from geo3d.pointcloud import PointCloud

REPO = Path(__file__).resolve().parents[2]
LIDAR = REPO / ".." / "shared" / "data" / "lidar"

ROOM = "room_scan1.las"
IGN = "test_data_77050_627755_LA93_IGN69.laz"
AUTZEN_LAS = "autzen_trim.las"
AUTZEN_LAZ = "autzen_trim.laz"
COPC = "lone-star.copc.laz"
SIMPLE = "simple.las"
ALL_FILES = [ROOM, IGN, AUTZEN_LAS, AUTZEN_LAZ, COPC, SIMPLE]
COPC_CRS = "EPSG:26912"  # NAD83 / UTM 12N: what its coordinates are (Lone Star Geyser, Wyoming)


def shared(name: str) -> Path:
    path = LIDAR / name
    if not path.exists():
        pytest.skip(f"shared test data {path} is absent (expected beside the repo in ../shared/data)")
    return path


def crs_for(name: str) -> str | None:
    return COPC_CRS if name == COPC else None


def make_las(path: Path, xyz, *, return_number=None, point_format=3, version="1.2", scale=0.01, **dims):
    """Write a tiny LAS/LAZ file with laspy."""
    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array([scale, scale, scale])
    header.offsets = np.zeros(3)
    las = laspy.LasData(header)
    xyz = np.asarray(xyz, dtype=float)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    las.return_number = np.ones(len(xyz), np.uint8) if return_number is None else return_number
    las.number_of_returns = np.ones(len(xyz), np.uint8)
    for name, values in dims.items():
        setattr(las, name, values)
    las.write(path)
    return path


# ------------------------------------------------------------------------------------------
# real files
# ------------------------------------------------------------------------------------------
@pytest.mark.shared_data
@pytest.mark.parametrize("name", ALL_FILES)
def test_read_every_real_file_matches_laspy(name):
    path = shared(name)
    ref = laspy.read(path)
    cloud = read_las(path, clean=False, crs=crs_for(name))
    assert len(cloud) == len(ref.points) == ref.header.point_count
    np.testing.assert_array_equal(cloud.xyz, np.stack([ref.x, ref.y, ref.z], axis=1))
    np.testing.assert_array_equal(cloud.index, np.arange(len(ref.points)))
    assert cloud.xyz.dtype == np.float64 and cloud.xyz.shape == (len(ref.points), 3)
    np.testing.assert_array_equal(cloud.attrs["intensity"], ref.intensity)
    np.testing.assert_array_equal(cloud.attrs["classification"], ref.classification)
    np.testing.assert_array_equal(cloud.attrs["return_number"], ref.return_number)
    if "red" in ref.point_format.dimension_names:
        assert cloud.attrs["rgb"].dtype == np.uint16 and cloud.attrs["rgb"].shape == (len(ref.points), 3)
        np.testing.assert_array_equal(cloud.attrs["rgb"], np.stack([ref.red, ref.green, ref.blue], axis=1))
    assert cloud.source is not None and cloud.source.point_count == len(ref.points)


@pytest.mark.shared_data
def test_crs_of_real_files():
    assert read_las(shared(IGN)).crs.to_epsg() == 2154
    autzen = read_las(shared(AUTZEN_LAZ)).crs
    assert autzen.is_projected and "Lambert" in autzen.name
    assert "foot" in autzen.axis_info[0].unit_name
    assert read_las(shared(AUTZEN_LAS)).crs == autzen
    assert read_las(shared(SIMPLE)).crs is None


@pytest.mark.shared_data
def test_no_crs_is_a_logged_warning_not_an_error(caplog):
    with caplog.at_level(logging.WARNING, logger="geo3d.io.las"):
        cloud = read_las(shared(SIMPLE))
    assert cloud.crs is None
    assert "has no CRS" in caplog.text and "crs=" in caplog.text


@pytest.mark.shared_data
def test_copc_geocentric_crs_is_rejected_unless_crs_given(caplog):
    path = shared(COPC)
    with pytest.raises(CRSError, match="geocentric") as err:
        read_las(path)
    assert "crs=" in str(err.value)  # says how to fix it
    with pytest.raises(CRSError):
        open_las(path)  # fails before any point is decompressed
    with caplog.at_level(logging.WARNING, logger="geo3d.io.las"):
        cloud = read_las(path, crs=COPC_CRS)
    assert cloud.crs == CRS.from_user_input(COPC_CRS)
    assert len(cloud) == 518_862
    assert "EPSG:4978" in caplog.text  # the disagreement is reported


@pytest.mark.shared_data
def test_caller_crs_wins_with_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="geo3d.io.las"):
        cloud = read_las(shared(IGN), crs="EPSG:2154")
    assert cloud.crs.to_epsg() == 2154
    assert "using crs" not in caplog.text  # same CRS: no warning
    with caplog.at_level(logging.WARNING, logger="geo3d.io.las"):
        cloud = read_las(shared(IGN), crs="EPSG:3857")
    assert cloud.crs.to_epsg() == 3857
    assert "EPSG:2154" in caplog.text


def test_bad_crs_argument(tmp_path):
    path = make_las(tmp_path / "a.las", [[0, 0, 0]])
    with pytest.raises(CRSError, match="cannot understand"):
        read_las(path, crs="EPSG:not-a-code")


def test_geographic_crs_with_projected_coordinates_is_rejected(tmp_path):
    las = laspy.create(point_format=3, file_version="1.2")
    las.header.scales = [0.01, 0.01, 0.01]
    las.header.add_crs(CRS.from_epsg(4326))
    las.x, las.y, las.z = [200_000.0, 200_100.0], [550_000.0, 550_050.0], [10.0, 20.0]
    las.write(tmp_path / "geo.las")
    with pytest.raises(CRSError, match="geographic"):
        read_las(tmp_path / "geo.las")
    assert read_las(tmp_path / "geo.las", crs="EPSG:5186").crs.to_epsg() == 5186


def test_projected_crs_with_degrees_is_rejected(tmp_path):
    las = laspy.create(point_format=3, file_version="1.2")
    las.header.scales = [1e-7, 1e-7, 0.01]
    las.header.offsets = [127.0, 37.0, 0.0]
    las.header.add_crs(CRS.from_epsg(5186))
    las.x, las.y, las.z = np.array([127.03, 127.04]), np.array([37.57, 37.58]), np.array([10.0, 20.0])
    las.write(tmp_path / "deg.las")
    with pytest.raises(CRSError, match=r"area of use.*degrees"):
        read_las(tmp_path / "deg.las")


@pytest.mark.shared_data
def test_reading_does_not_import_open3d_or_matplotlib():
    import subprocess

    code = (
        "import sys; from geo3d.io.las import read_las; "
        f"read_las({str(shared(AUTZEN_LAZ))!r}); "
        "print('open3d' in sys.modules, 'matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------------------------------
# streaming
# ------------------------------------------------------------------------------------------
@pytest.mark.shared_data
@pytest.mark.parametrize("name", [IGN, AUTZEN_LAS, COPC, ROOM])
def test_chunks_equal_whole_read(name):
    path = shared(name)
    whole = read_las(path, clean=False, crs=crs_for(name))
    with open_las(path, crs=crs_for(name)) as reader:
        assert reader.count == len(whole)
        assert reader.bounds == pytest.approx(whole.bounds, abs=0.01)  # header bounds: rounded
        assert reader.crs == whole.crs
        chunks = list(reader.chunks(30_000))
    assert all(len(c) <= 30_000 for c in chunks)
    joined = PointCloud.concat(chunks)
    np.testing.assert_array_equal(joined.xyz, whole.xyz)
    np.testing.assert_array_equal(joined.index, whole.index)
    assert set(joined.attrs) == set(whole.attrs)
    for key in whole.attrs:
        np.testing.assert_array_equal(joined.attrs[key], whole.attrs[key])


@pytest.mark.shared_data
def test_reader_can_be_reused():
    with open_las(shared(AUTZEN_LAZ)) as reader:
        first = reader.read(clean=False)
        again = PointCloud.concat(reader.chunks(50_000))
        third = reader.read(clean=False)
    np.testing.assert_array_equal(first.xyz, again.xyz)
    np.testing.assert_array_equal(first.xyz, third.xyz)


def test_chunks_rejects_bad_size(tmp_path):
    path = make_las(tmp_path / "a.las", [[0, 0, 0]])
    with open_las(path) as reader, pytest.raises(InputError):
        next(reader.chunks(0))


def test_fields(tmp_path):
    path = make_las(tmp_path / "a.las", [[0, 0, 0], [1, 1, 1]], intensity=[3, 4])
    cloud = read_las(path, fields=["intensity"])
    assert list(cloud.attrs) == ["intensity"]
    assert set(read_las(path, fields="all").attrs) >= {"intensity", "rgb", "scan_angle_rank", "user_data"}
    with pytest.raises(InputError, match="available"):
        read_las(path, fields=["nope"])


def test_extra_bytes_dimensions_are_read_by_default(tmp_path):
    las = laspy.create(point_format=6, file_version="1.4")
    las.add_extra_dim(laspy.ExtraBytesParams("gt_class", type=np.uint8))
    las.x, las.y, las.z = [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]
    las.return_number = [1, 1]
    las.gt_class = [2, 7]
    las.write(tmp_path / "gt.las")
    assert read_las(tmp_path / "gt.las").attrs["gt_class"].tolist() == [2, 7]


# ------------------------------------------------------------------------------------------
# cleaning
# ------------------------------------------------------------------------------------------
def test_clean_drops_duplicates_and_fixes_return_zero(tmp_path, caplog):
    xyz = [[0, 0, 0], [1, 1, 1], [0, 0, 0], [2, 2, 2], [1, 1, 1], [0, 0, 0.001]]
    # the last point differs by less than the 0.01 scale: same integer Z -> a duplicate
    path = make_las(tmp_path / "dup.las", xyz, return_number=[1, 0, 1, 0, 2, 1], intensity=[10, 11, 12, 13, 14, 15])
    with caplog.at_level(logging.INFO, logger="geo3d.io.las"):
        cloud = read_las(path)
    assert cloud.index.tolist() == [0, 1, 3]  # first occurrences, file order
    assert cloud.attrs["intensity"].tolist() == [10, 11, 13]
    assert cloud.attrs["return_number"].tolist() == [1, 1, 1]  # return 0 -> 1
    assert cloud.source.duplicate_of.tolist() == [0, 1, 0, 3, 1, 0]
    assert "6 points -> 3 (3 duplicates, 0 NaN, 2 return 0) from dup.las" in caplog.text
    raw = read_las(path, clean=False)
    assert len(raw) == 6 and raw.attrs["return_number"].tolist() == [1, 0, 1, 0, 2, 1]


def test_clean_without_duplicates_keeps_everything(tmp_path):
    path = make_las(tmp_path / "a.las", [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    cloud = read_las(path)
    assert len(cloud) == 3 and cloud.source.duplicate_of is None


@pytest.mark.parametrize(("at", "values", "match"), [
    (131, (0.0, 0.0, 0.0), r"x scale factor is 0\.0.*z scale factor is 0\.0"),   # "1 level at 0.00 m"
    (131, (float("nan"), 0.01, 0.01), "x scale factor is nan"),
    (131, (0.01, float("inf"), 0.01), "y scale factor is inf"),
    (155, (float("nan"),) * 3, "x offset is nan"),                               # "no points"
    (155, (0.0, 0.0, float("-inf")), "z offset is -inf"),
    (131, (1e300, 0.01, 0.01), "overflow"),
])
def test_bad_scales_and_offsets_are_refused(tmp_path, at, values, match):
    """Every point would be the offset, NaN or inf: the header is wrong, not the points."""
    path = make_las(tmp_path / "a.las", [[0, 0, 0], [1, 0, 0]])
    data = bytearray(path.read_bytes())
    data[at:at + 24] = struct.pack("<3d", *values)
    path.write_bytes(bytes(data))
    for read in (lambda: read_las(path), lambda: read_las(path, clean=False), lambda: open_las(path)):
        with pytest.raises(FileFormatError, match=match):
            read()


@pytest.mark.shared_data
def test_room_scan_has_real_duplicates():
    cloud = read_las(shared(ROOM))
    assert len(cloud) == 52_973  # 59,613 of its 112,586 points repeat earlier ones exactly
    ref = laspy.read(shared(ROOM))
    keys = np.stack([ref.X, ref.Y, ref.Z], axis=1)
    assert len(np.unique(keys, axis=0)) == len(cloud)
    _, first = np.unique(keys, axis=0, return_index=True)
    np.testing.assert_array_equal(np.sort(first), cloud.index)


# ------------------------------------------------------------------------------------------
# bad files
# ------------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist") as err:
        read_las(tmp_path / "nope.las")
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, Geo3DError)


def test_empty_file(tmp_path):
    (tmp_path / "empty.las").write_bytes(b"")
    with pytest.raises(FileFormatError, match="empty"):
        read_las(tmp_path / "empty.las")


def test_wrong_signature(tmp_path):
    path = make_las(tmp_path / "a.las", [[0, 0, 0]])
    path.write_bytes(b"PLY\n" + path.read_bytes()[4:])
    with pytest.raises(FileFormatError, match="not a LAS/LAZ file"):
        read_las(path)
    (tmp_path / "text.las").write_text("x y z\n1 2 3\n")
    with pytest.raises(FileFormatError, match="not a LAS/LAZ file"):
        read_las(tmp_path / "text.las")


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(FileFormatError, match="folder"):
        read_las(tmp_path)


@pytest.mark.parametrize("suffix", [".las", ".laz"])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_files(tmp_path, suffix, keep):
    rng = np.random.default_rng(1)
    path = make_las(tmp_path / f"full{suffix}", rng.uniform(0, 100, (5000, 3)))
    data = path.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FileFormatError):
        read_las(cut)
    with pytest.raises(FileFormatError):
        with open_las(cut) as reader:
            for _ in reader.chunks(1000):
                pass


def test_truncated_at_a_record_boundary(tmp_path):
    """A cut exactly between two points must not silently give fewer points."""
    path = make_las(tmp_path / "a.las", np.arange(30.0).reshape(10, 3))
    header = laspy.open(path).header
    size = header.offset_to_point_data + 7 * header.point_format.size
    path.write_bytes(path.read_bytes()[:size])
    with pytest.raises(FileFormatError, match=r"declares 10 points.*room for 7"):
        read_las(path)


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_header_claims_more_points(tmp_path, suffix):
    path = make_las(tmp_path / f"a{suffix}", np.arange(300.0).reshape(100, 3))
    data = bytearray(path.read_bytes())
    data[107:111] = struct.pack("<I", 1000)  # legacy point count (LAS 1.2)
    data[111:115] = struct.pack("<I", 1000)  # points by return 1
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"declares|truncated"):
        read_las(path)
    with pytest.raises(FileFormatError):
        write_las(path, tmp_path / f"out{suffix}")
    assert not (tmp_path / f"out{suffix}").exists()


@pytest.mark.shared_data
def test_truncated_real_laz(tmp_path):
    data = shared(AUTZEN_LAZ).read_bytes()
    for keep in (100, 2000, len(data) // 2, len(data) - 10):
        cut = tmp_path / "cut.laz"
        cut.write_bytes(data[:keep])
        with pytest.raises(FileFormatError):
            read_las(cut)


# ------------------------------------------------------------------------------------------
# write-back
# ------------------------------------------------------------------------------------------
def _assert_same_points(src: Path, out: Path):
    a, b = laspy.read(src), laspy.read(out)
    assert b.header.point_count == a.header.point_count
    for name in a.point_format.dimension_names:
        np.testing.assert_array_equal(np.asarray(b[name]), np.asarray(a[name]), err_msg=name)
    return b


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_write_back_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(2)
    n = 2345
    src = make_las(
        tmp_path / "src.las",
        rng.uniform(0, 50, (n, 3)),
        intensity=rng.integers(0, 60000, n),
        classification=rng.integers(0, 20, n),
        red=rng.integers(0, 65535, n),
        gps_time=rng.uniform(0, 1e6, n),
    )
    level = rng.integers(-3, 4, n).astype(np.int8)
    object_id = rng.integers(-1, 1_000_000, n)
    object_class = rng.integers(0, 9, n)
    out = write_las(src, tmp_path / f"out{suffix}", level=level, object_id=object_id,
                    object_class=object_class, chunk_size=1000)
    assert out == tmp_path / f"out{suffix}"
    b = _assert_same_points(src, out)
    assert b.header.are_points_compressed == (suffix == ".laz")
    assert list(b.point_format.extra_dimension_names) == ["level", "object_id", "object_class"]
    assert b.level.dtype == np.int8 and b.object_id.dtype == np.int32 and b.object_class.dtype == np.uint8
    np.testing.assert_array_equal(b.level, level)
    np.testing.assert_array_equal(b.object_id, object_id)
    np.testing.assert_array_equal(b.object_class, object_class)
    # and geo3d reads its own output back, extra dims included
    back = read_las(out, clean=False)
    np.testing.assert_array_equal(back.attrs["object_id"], object_id)
    # writing again onto a file with those dims works (values replaced)
    out2 = write_las(out, tmp_path / f"again{suffix}", level=np.zeros(n, np.int8))
    assert laspy.read(out2).level.max() == 0


@pytest.mark.shared_data
@pytest.mark.parametrize("name", [AUTZEN_LAS, COPC, IGN])
def test_write_back_real_files(tmp_path, name):
    src = shared(name)
    n = laspy.open(src).header.point_count
    ids = np.arange(n, dtype=np.int32)
    out = write_las(src, tmp_path / "out.laz", object_id=ids, level=np.ones(n), chunk_size=40_000)
    b = _assert_same_points(src, out)
    np.testing.assert_array_equal(b.object_id, ids)
    assert not any(v.user_id == "copc" for v in b.header.vlrs)  # not a COPC any more
    if name != COPC:
        assert b.header.parse_crs() == laspy.open(src).header.parse_crs()


def test_write_from_cleaned_cloud_spreads_to_duplicates(tmp_path):
    xyz = [[0, 0, 0], [1, 1, 1], [0, 0, 0], [2, 2, 2]]
    src = make_las(tmp_path / "dup.las", xyz)
    cloud = read_las(src)
    assert len(cloud) == 3
    out = write_las(cloud, tmp_path / "out.las", object_id=[10, 11, 12], object_class=[1, 2, 3])
    b = laspy.read(out)
    assert b.object_id.tolist() == [10, 11, 10, 12]
    assert b.object_class.tolist() == [1, 2, 1, 3]
    assert "level" not in b.point_format.dimension_names  # not given, not written
    # a subset: missing points get the "none" value
    out = write_las(cloud.subset([2]), tmp_path / "sub.las", object_id=[7], level=[2])
    b = laspy.read(out)
    assert b.object_id.tolist() == [-1, -1, -1, 7] and b.level.tolist() == [0, 0, 0, 2]


def test_write_rejects_bad_arrays(tmp_path):
    src = make_las(tmp_path / "a.las", np.arange(9.0).reshape(3, 3))
    with pytest.raises(InputError, match=r"2 values; expected 3"):
        write_las(src, tmp_path / "o.las", object_id=[1, 2])
    with pytest.raises(InputError, match="do not fit int8"):
        write_las(src, tmp_path / "o.las", level=[1, 2, 300])
    with pytest.raises(InputError, match="integers"):
        write_las(src, tmp_path / "o.las", object_class=[0.5, 1, 2])
    with pytest.raises(InputError, match=r"\.las or \.laz"):
        write_las(src, tmp_path / "o.ply", level=[1, 2, 3])
    with pytest.raises(InputError, match="does not come from a file"):
        write_las(PointCloud(np.zeros((3, 3))), tmp_path / "o.las", level=[1, 2, 3])
    assert not list(tmp_path.glob("o.*"))


def test_write_refuses_to_overwrite(tmp_path):
    src = make_las(tmp_path / "a.las", np.arange(9.0).reshape(3, 3))
    (tmp_path / "o.las").write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        write_las(src, tmp_path / "o.las", level=[1, 2, 3])
    assert (tmp_path / "o.las").read_bytes() == b"keep me"
    write_las(src, tmp_path / "o.las", level=[1, 2, 3], overwrite=True)
    assert laspy.read(tmp_path / "o.las").level.tolist() == [1, 2, 3]


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_failure_mid_write_leaves_no_file(tmp_path, monkeypatch, suffix):
    src = make_las(tmp_path / "a.las", np.arange(3000.0).reshape(1000, 3))
    calls = {"n": 0}
    original = laspy.LasWriter.write_points

    def failing(self, points):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full (simulated)")
        return original(self, points)

    monkeypatch.setattr(laspy.LasWriter, "write_points", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        write_las(src, tmp_path / f"out{suffix}", level=np.ones(1000), chunk_size=100)
    assert calls["n"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.las"]  # no output, no temp file


def _records(xyz_int):
    arr = np.zeros(len(xyz_int), dtype=[("X", "<i4"), ("Y", "<i4"), ("Z", "<i4"), ("intensity", "<u2")])
    xyz_int = np.asarray(xyz_int, dtype=np.int64)
    arr["X"], arr["Y"], arr["Z"] = xyz_int[:, 0], xyz_int[:, 1], xyz_int[:, 2]
    return arr


def test_duplicate_finder_is_exact_under_hash_collisions():
    from geo3d.io.las import _duplicates

    # (X1, Y1, 0) and (X2, Y2, 1) collide by construction: X2Y2 = X1Y1 ^ multiplier
    mult = 0x9E3779B97F4A7C15
    x1, y1 = 5, 7
    packed = ((x1 << 32) | y1) ^ mult
    x2 = np.array([packed >> 32], dtype=np.uint32).view(np.int32)[0]
    y2 = np.array([packed & 0xFFFFFFFF], dtype=np.uint32).view(np.int32)[0]
    arr = _records([[x1, y1, 0], [x2, y2, 1]])
    assert _duplicates(arr) is None  # same hash, different points
    arr = _records([[x1, y1, 0], [x2, y2, 1], [x1, y1, 0], [x2, y2, 1], [9, 9, 9]])
    later, first = _duplicates(arr)
    assert sorted(zip(later.tolist(), first.tolist(), strict=True)) == [(2, 0), (3, 1)]


def test_duplicate_finder_matches_numpy_unique():
    from geo3d.io.las import _duplicates

    rng = np.random.default_rng(4)
    xyz = rng.integers(-3, 3, (5000, 3))  # many duplicates, negative values included
    later, first = _duplicates(_records(xyz))
    _, idx, inv = np.unique(xyz, axis=0, return_index=True, return_inverse=True)
    expected_first = idx[inv.reshape(-1)]
    dup = expected_first != np.arange(len(xyz))
    order = np.argsort(later)
    np.testing.assert_array_equal(later[order], np.nonzero(dup)[0])
    np.testing.assert_array_equal(first[order], expected_first[dup])


@pytest.mark.parametrize("suffix", [".las", ".laz"])
def test_file_with_zero_points(tmp_path, suffix):
    laspy.create(point_format=3, file_version="1.2").write(tmp_path / f"zero{suffix}")
    cloud = read_las(tmp_path / f"zero{suffix}")
    assert len(cloud) == 0 and cloud.attrs["rgb"].shape == (0, 3)
    with open_las(tmp_path / f"zero{suffix}") as reader:
        assert list(reader.chunks(10)) == []
    out = write_las(tmp_path / f"zero{suffix}", tmp_path / f"out{suffix}", level=np.zeros(0))
    assert laspy.read(out).header.point_count == 0


@pytest.mark.shared_data
def test_implausible_caller_crs_is_refused_like_the_files():
    with pytest.raises(CRSError, match=r"crs=EPSG:4326.*cannot be right.*geographic"):
        read_las(shared(COPC), crs="EPSG:4326")


@pytest.mark.shared_data
def test_reader_metadata():
    with open_las(shared(AUTZEN_LAZ)) as reader:
        assert reader.count == 110_000
        assert reader.header.point_format.id == 3
        assert "rgb" in reader.fields and "red" not in reader.fields
        assert "110,000 points" in repr(reader)
        xmin, ymin, zmin, xmax, ymax, zmax = reader.bounds
        assert xmin < xmax and ymin < ymax and zmin < zmax


@pytest.mark.shared_data
@pytest.mark.parametrize("fields", [(), ("classification",), ("intensity", "gps_time"), ("scan_angle", "withheld")])
def test_field_subsets_of_layered_laz_match_full_read(fields):
    """PF 6+ LAZ decompresses only the layers the fields need; the values must not change."""
    path = shared(COPC)
    full = read_las(path, crs=COPC_CRS, fields="all", clean=False)
    part = read_las(path, crs=COPC_CRS, fields=fields, clean=False)
    assert list(part.attrs) == list(fields)
    np.testing.assert_array_equal(part.xyz, full.xyz)
    for name in fields:
        np.testing.assert_array_equal(part.attrs[name], full.attrs[name])
    with open_las(path, crs=COPC_CRS) as reader:
        joined = PointCloud.concat(reader.chunks(200_000, fields=fields, clean=True))
    np.testing.assert_array_equal(joined.xyz, full.xyz)
    for name in fields:
        np.testing.assert_array_equal(joined.attrs[name], full.attrs[name])


# ------------------------------------------------------------------------------------------
# hostile and wrong headers (issue 12): counts bounded by the file's size
# ------------------------------------------------------------------------------------------
def _patch(path: Path, at: int, fmt: str, *values) -> Path:
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, at, *values)
    path.write_bytes(bytes(data))
    return path


def test_las_holding_more_points_than_declared_is_read_in_full_with_a_warning(tmp_path, caplog):
    xyz = np.random.default_rng(2).uniform(0, 100, (1000, 3))
    path = _patch(make_las(tmp_path / "a.las", xyz), 107, "<I", 500)
    with caplog.at_level(logging.WARNING, logger="geo3d.io.las"):
        cloud = read_las(path, clean=False)
    assert len(cloud) == 1000
    np.testing.assert_allclose(cloud.xyz, xyz, atol=0.006)
    assert "declares 500 points but the file holds 1,000" in caplog.text and "reading all" in caplog.text
    out = write_las(cloud, tmp_path / "out.laz")
    assert laspy.read(out).header.point_count == 1000


@pytest.mark.parametrize("version", ["1.2", "1.4"])
def test_laz_holding_more_points_than_declared_is_refused(tmp_path, version):
    xyz = np.random.default_rng(3).uniform(0, 100, (60_000, 3))
    path = make_las(tmp_path / "a.laz", xyz, version=version, point_format=3 if version == "1.2" else 6)
    at, fmt = (107, "<I") if version == "1.2" else (247, "<Q")
    _patch(path, at, fmt, 30_000)
    holds = "at least 50,001" if version == "1.2" else "60,000"  # layered chunks state their counts
    with pytest.raises(FileFormatError, match=rf"declares 30,000 points.*chunk table holds {holds}"):
        read_las(path)
    _patch(path, at, fmt, 10**12 if version == "1.4" else 4_000_000_000)
    with pytest.raises(FileFormatError, match="at most 100,000" if version == "1.2" else "holds 60,000"):
        read_las(path)


@pytest.mark.parametrize("suffix", [".las", ".laz"])
@pytest.mark.parametrize("count", [4_000_000_000, 10_000_000, 2])
def test_hostile_vlr_count_is_refused_at_once(tmp_path, suffix, count):
    """4e9 VLRs hung laspy; 1e7 grew the process past 6 GB (issue 12)."""
    path = _patch(make_las(tmp_path / f"a{suffix}", [[0, 0, 0]]), 100, "<I", count)
    with pytest.raises(FileFormatError, match=rf"declares {count:,} VLRs.*can hold at most"):
        read_las(path)


def test_hostile_evlr_count_is_refused(tmp_path):
    path = make_las(tmp_path / "a.las", [[0, 0, 0], [1, 1, 1]], version="1.4", point_format=6)
    _patch(path, 235, "<QI", path.stat().st_size - 10, 10_000_000)
    with pytest.raises(FileFormatError, match="10,000,000 extended VLRs"):
        read_las(path)


def test_zero_record_length_is_refused(tmp_path):
    path = _patch(make_las(tmp_path / "a.las", [[0, 0, 0]]), 105, "<H", 0)
    with pytest.raises(FileFormatError, match="record length is 0"):
        read_las(path)


def test_caller_crs_is_written_into_the_output(tmp_path):
    path = make_las(tmp_path / "a.las", [[200_000, 550_000, 0], [200_010, 550_020, 5]])
    assert laspy.read(path).header.parse_crs() is None
    cloud = read_las(path, crs="EPSG:5186")
    out = write_las(cloud, tmp_path / "out.laz")
    assert laspy.read(out).header.parse_crs().to_epsg() == 5186
    same = write_las(read_las(out), tmp_path / "same.laz")  # already stated: kept as it is
    assert laspy.read(same).header.parse_crs().to_epsg() == 5186
    from_path = write_las(path, tmp_path / "from_path.las", crs="EPSG:5186")  # streamed from the file
    assert laspy.read(from_path).header.parse_crs().to_epsg() == 5186


def test_caller_crs_that_cannot_fit_is_refused(tmp_path):
    path = make_las(tmp_path / "a.las", [[200_000, 550_000, 0], [200_010, 550_020, 5]])
    with pytest.raises(CRSError, match=r"crs=EPSG:4326.*cannot be right.*not longitudes"):
        read_las(path, crs="EPSG:4326")


def test_small_layered_laz_holding_more_points_than_declared_is_refused(tmp_path):
    """One chunk of 1,000 points: the count stored in each layered chunk gives it away."""
    xyz = np.random.default_rng(4).uniform(0, 100, (1000, 3))
    path = _patch(make_las(tmp_path / "a.laz", xyz, version="1.4", point_format=6), 247, "<Q", 500)
    with pytest.raises(FileFormatError, match=r"declares 500 points.*chunk table holds 1,000"):
        read_las(path)
