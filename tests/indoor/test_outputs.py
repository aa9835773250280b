import json

import geopandas as gpd
import laspy
import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

from geo3d import datasets
from geo3d.cli.main import cli
from geo3d.indoor.outputs import write_segmentation
from geo3d.indoor.scan import segment_scan
from geo3d.io.las import read_las


@pytest.fixture(scope="module")
def segmented():
    cloud = read_las(datasets.get_path("market"))
    return cloud, segment_scan(cloud)


def test_outputs_follow_the_contract(segmented, tmp_path):
    cloud, result = segmented
    files = write_segmentation(cloud, result, tmp_path / "out")
    assert [f.name for f in files] == ["points.laz", "objects.gpkg", "report.json"]
    las = laspy.read(tmp_path / "out" / "points.laz")
    src = laspy.read(datasets.get_path("market"))
    assert len(las.points) == len(src.points)
    np.testing.assert_array_equal(las.X, src.X)  # same points, same order
    assert las.level.dtype == np.int8 and las.object_id.dtype == np.int32
    assert las.object_class.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(las.object_id), result.object_id)
    layers = dict(pyogrio.list_layers(tmp_path / "out" / "objects.gpkg"))
    assert set(layers) == {"levels", "stores", "facilities"}
    stores = gpd.read_file(tmp_path / "out" / "objects.gpkg", layer="stores")
    assert {"object_id", "kind", "floor", "aisle", "number", "address", "z_min", "z_max",
            "n_points"} <= set(stores.columns)
    assert (stores.geom_type == "Polygon").all()
    # n_points counts the file's points
    ids, counts = np.unique(np.asarray(las.object_id), return_counts=True)
    lookup = dict(zip(ids, counts, strict=True))
    assert all(lookup[i] == n for i, n in zip(stores["object_id"], stores["n_points"], strict=True))
    facilities = gpd.read_file(tmp_path / "out" / "objects.gpkg", layer="facilities")
    assert (facilities.geom_type == "Point").all() and facilities.crs.to_epsg() == 5186
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["points"] == len(src.points)
    assert [lv["label"] for lv in report["levels"]] == ["1층", "2층"]
    assert report["counts"]["per_class"]["store"] == len(stores)


def test_cli_segment_and_overwrite(tmp_path):
    out = tmp_path / "seg"
    runner = CliRunner()
    from geo3d.cli import commands  # noqa: F401

    res = runner.invoke(cli, ["segment", str(datasets.get_path("market")), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "2 levels" in res.output and (out / "points.laz").exists()
    res = runner.invoke(cli, ["segment", str(datasets.get_path("market")), "--out", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output


def test_cli_segment_bad_file_leaves_nothing(tmp_path):
    bad = tmp_path / "bad.laz"
    bad.write_bytes(b"LASF" + b"\0" * 50)
    out = tmp_path / "seg"
    from geo3d.cli import commands  # noqa: F401

    res = CliRunner().invoke(cli, ["segment", str(bad), "--out", str(out)])
    assert res.exit_code == 2
    assert "Error:" in res.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.laz"]


def test_cli_segment_streamed_tile_by_tile(tmp_path, monkeypatch):
    """--tile-size (or a scan above STREAM_ABOVE points) streams; same three files, same contract."""
    import geopandas as gpd
    import laspy
    import numpy as np

    import geo3d.cli.segment as seg_cli
    from geo3d.cli import commands  # noqa: F401

    scan = datasets.get_path("market")
    monkeypatch.setattr(seg_cli, "STREAM_ABOVE", 1000)  # the sample counts as "big"
    out = tmp_path / "streamed"
    res = CliRunner().invoke(cli, ["segment", str(scan), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "streamed in" in res.output and "2 levels" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["objects.gpkg", "points.laz", "report.json"]
    las = laspy.read(out / "points.laz")
    assert len(las.points) == laspy.open(scan).header.point_count
    stores = gpd.read_file(out / "objects.gpkg", layer="stores")
    levels = gpd.read_file(out / "objects.gpkg", layer="levels")
    assert len(stores) > 200 and levels["label"].tolist() == ["1층", "2층"]
    assert (levels.geometry.area > 100).all()  # outlines of the objects on each floor
    ids = np.unique(np.asarray(las.object_id)[np.asarray(las.object_class) == 1])
    assert set(stores["object_id"]) == set(ids.tolist())
    import json

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["streamed"] and report["tiles"]["n"] >= 4 and report["points"] == len(las.points)


def test_level_footprints_of_a_sparse_tile_is_one_outline():
    # regression (issue 11): a 1 km aerial tile spent minutes in the union of 0.5 m boxes; the
    # outline now comes from an occupancy raster at >= 2x the point spacing (linear in points)
    import types

    import pandas as pd

    from geo3d.indoor.outputs import level_footprints, plan_spacing
    from geo3d.pointcloud.cloud import PointCloud

    rng = np.random.default_rng(0)
    g = np.mgrid[0:600:1.5, 0:400:1.5].reshape(2, -1).T
    xy = g + rng.uniform(-0.3, 0.3, size=g.shape)
    cloud = PointCloud(np.column_stack([xy, rng.normal(0, 0.1, len(xy))]))
    assert 1.0 < plan_spacing(xy) < 1.6
    res = types.SimpleNamespace(levels=pd.DataFrame({"floor": [1]}), level=np.ones(len(xy), np.int8))
    outline = level_footprints(cloud, res).iloc[0]
    assert outline.geom_type == "Polygon" and len(outline.interiors) == 0
    assert abs(outline.area - 600 * 400) / (600 * 400) < 0.02
