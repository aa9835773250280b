"""segment_file: the sample scan streamed tile by tile agrees with segment_scan on the whole cloud."""

from __future__ import annotations

from pathlib import Path

import laspy
import numpy as np
import pytest
import shapely

from geo3d.datasets import get_path
from geo3d.errors import InputError, OutputExistsError
from geo3d.indoor import tiled
from geo3d.indoor.scan import segment_scan
from geo3d.indoor.tiled import _Grid, segment_file
from geo3d.io.las import read_las
from geo3d.pointcloud.evaluate import match_instances

TILE = 20.0  # the sample hall is ~65 m x 87 m: 4 x 5 tiles, many objects on tile edges


@pytest.fixture(scope="module")
def market() -> Path:
    return get_path("market")


@pytest.fixture(scope="module")
def whole(market: Path):
    return segment_scan(read_las(market, clean=False))


@pytest.fixture(scope="module")
def streamed(market: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("tiled") / "points.laz"
    work = tmp_path_factory.mktemp("work")
    result = segment_file(
        market, out, tile_size=TILE, margin=2.0, chunk_size=200_000, work_dir=work
    )
    return result, out, work


# ------------------------------------------------------------------------------------------
# fast
# ------------------------------------------------------------------------------------------
def test_grid_members_core_and_margin():
    grid = _Grid.over((0.0, 0.0, 30.0, 20.0), 10.0)
    assert (grid.nx, grid.ny) == (3, 2)
    x = np.array([5.0, 9.5, 10.5, 9.5, 30.0, 0.0])
    y = np.array([5.0, 5.0, 5.0, 9.5, 20.0, 0.0])
    assert grid.tile_of(x, y).tolist() == [0, 0, 1, 0, 5, 0]  # edges clip into the grid
    pos, tile = grid.members(x, y, 1.0)
    got = {p: sorted(tile[pos == p].tolist()) for p in range(len(x))}
    assert got == {0: [0], 1: [0, 1], 2: [0, 1], 3: [0, 1, 3, 4], 4: [5], 5: [0]}


def test_bad_parameters_are_refused(market: Path, tmp_path: Path):
    with pytest.raises(InputError, match="margin"):
        segment_file(market, tile_size=10.0, margin=10.0)
    with pytest.raises(InputError, match="tile_size"):
        segment_file(market, tile_size=0)
    with pytest.raises(InputError, match="classify='file'"):
        segment_file(market, classify="file")
    with pytest.raises(InputError, match=r"\.las or \.laz"):
        segment_file(market, tmp_path / "out.txt")


def test_existing_output_is_refused_before_any_work(market: Path, tmp_path: Path, monkeypatch):
    out = tmp_path / "points.laz"
    out.write_bytes(b"keep me")
    monkeypatch.setattr(tiled, "open_las", lambda *a, **k: pytest.fail("read before the check"))
    with pytest.raises(OutputExistsError):
        segment_file(market, out)
    assert out.read_bytes() == b"keep me"


def test_failure_mid_run_leaves_no_output_and_no_temporary_files(
    market: Path, tmp_path: Path, monkeypatch, whole
):
    out = tmp_path / "out" / "points.laz"
    work = tmp_path / "work"
    work.mkdir()
    calls = []

    def broken(cloud, **kwargs):
        calls.append(len(cloud))
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return segment_scan(cloud, **kwargs)

    monkeypatch.setattr(tiled._scan, "segment_scan", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        segment_file(market, out, tile_size=30.0, levels=whole.levels, work_dir=work)
    assert len(calls) == 2
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
    assert list(work.iterdir()) == []  # the tile files and memory maps are gone


# ------------------------------------------------------------------------------------------
# agreement with the whole-cloud pipeline (one tiled run of the sample scan, ~1 min)
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_levels_are_global_and_match(streamed, whole):
    result, _, _ = streamed
    assert result.levels["floor"].tolist() == whole.levels["floor"].tolist()
    np.testing.assert_allclose(result.levels["slab_z"], whole.levels["slab_z"], atol=0.05)
    np.testing.assert_allclose(result.levels["ceiling_z"], whole.levels["ceiling_z"], atol=0.05)


@pytest.mark.slow
def test_objects_agree_with_whole_cloud(streamed, whole):
    result, out, _ = streamed
    assert result.n_tiles > 4
    found = result.objects["kind"].value_counts()
    truth = whole.objects["kind"].value_counts()
    for kind, n in truth.items():
        assert abs(int(found.get(kind, 0)) - int(n)) <= max(2, 0.1 * n), (
            kind,
            found.get(kind, 0),
            n,
        )
    object_id = np.asarray(laspy.read(out).object_id)
    matched = match_instances(object_id, whole.object_id, iou=0.5)
    assert len(matched) >= 0.9 * len(whole.objects)
    assert len(matched) >= 0.9 * len(result.objects)


@pytest.mark.slow
def test_objects_on_tile_edges_are_found_once(streamed):
    result, _, _ = streamed
    objects = result.objects
    assert objects.index.is_unique
    assert objects.index.tolist() == list(range(1, len(objects) + 1))
    # the test means something: objects do cross tile edges
    lines = [
        shapely.LineString([(x, -1e9), (x, 1e9)]) for x in result_grid_lines(result, objects, 0)
    ]
    lines += [
        shapely.LineString([(-1e9, y), (1e9, y)]) for y in result_grid_lines(result, objects, 1)
    ]
    crossing = shapely.intersects(
        objects.geometry.to_numpy()[:, None], np.array(lines)[None, :]
    ).any(axis=1)
    assert crossing.sum() >= 10
    # no object found twice by two tiles: no cross-tile pair on a floor overlapping heavily
    geoms = objects.geometry.to_numpy()
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = (a < b) & (objects["floor"].to_numpy()[a] == objects["floor"].to_numpy()[b])
    pair &= objects["tile"].to_numpy()[a] != objects["tile"].to_numpy()[b]
    a, b = a[pair], b[pair]
    inter = shapely.area(shapely.intersection(geoms[a], geoms[b]))
    smaller = np.minimum(shapely.area(geoms[a]), shapely.area(geoms[b]))
    assert not np.any(inter > 0.8 * np.maximum(smaller, 1e-9))


def result_grid_lines(result, objects, axis: int) -> list[float]:
    """Tile edges inside the objects' extent (the grid starts at the scan's lower left)."""
    hi = objects.geometry.bounds.to_numpy()[:, axis + 2].max()
    with laspy.open(get_path("market")) as r:
        start = float(r.header.mins[axis])
    return [
        start + k * result.tile_size for k in range(1, 100) if start + k * result.tile_size < hi
    ]


@pytest.mark.slow
def test_output_has_original_points_in_order_and_extra_dims(streamed, market: Path):
    result, out, work = streamed
    src, got = laspy.read(market), laspy.read(out)
    assert len(got.points) == len(src.points) == result.n_points
    for dim in ("X", "Y", "Z", "intensity", "red", "gps_time"):
        np.testing.assert_array_equal(np.asarray(got[dim]), np.asarray(src[dim]))
    assert np.asarray(got.level).dtype == np.int8
    assert np.asarray(got.object_id).dtype == np.int32
    assert np.asarray(got.object_class).dtype == np.uint8
    oid, cls = np.asarray(got.object_id), np.asarray(got.object_class)
    assert set(np.unique(oid[oid >= 0]).tolist()) == set(result.objects.index.tolist())
    assert np.all(cls[oid < 0] == 0)
    expected = result.objects["object_class"].reindex(oid[oid >= 0]).to_numpy()
    np.testing.assert_array_equal(cls[oid >= 0], expected)
    assert set(np.unique(got.level).tolist()) <= {0, *result.levels["floor"].tolist()}
    assert list(work.iterdir()) == []
