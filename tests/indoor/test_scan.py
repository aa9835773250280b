"""segment_scan end to end: a crop of the committed sample market, synthetic edge cases, real files."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from geo3d import datasets
from geo3d.errors import InputError
from geo3d.indoor.scan import ScanSegmentation, segment_scan
from geo3d.io.las import read_las
from geo3d.pointcloud.cloud import PointCloud
from geo3d.pointcloud.evaluate import score_levels, score_segmentation

# a 30 m x 25 m window of the sample market (both floors): ~166 k points, 58 stores and 33
# facilities of every kind (offsets from the scan's lower-left corner, metres)
WINDOW = (10.0, 0.0, 40.0, 25.0)


@pytest.fixture(scope="module")
def crop() -> tuple[PointCloud, dict[str, np.ndarray], pd.DataFrame]:
    path = datasets.get_path("market")
    cloud = read_las(path)
    gt = dict(np.load(str(path).replace("market.laz", "market_gt.npz")))
    truth = pd.read_csv(str(path).replace("market.laz", "market_levels.csv"))
    lo = cloud.xyz.min(axis=0)
    x, y = cloud.xyz[:, 0] - lo[0], cloud.xyz[:, 1] - lo[1]
    keep = (x >= WINDOW[0]) & (x < WINDOW[2]) & (y >= WINDOW[1]) & (y < WINDOW[3])
    sub = PointCloud(cloud.xyz[keep], attrs={"rgb": cloud.attrs["rgb"][keep]}, crs=cloud.crs)
    return sub, {k: v[cloud.index[keep]] for k, v in gt.items()}, truth


@pytest.fixture(scope="module")
def result(crop: tuple[PointCloud, dict[str, np.ndarray], pd.DataFrame]) -> ScanSegmentation:
    return segment_scan(crop[0])


def test_levels_of_the_crop(result: ScanSegmentation, crop) -> None:
    scored = score_levels(result.levels, crop[2])
    assert len(result.levels) == 2
    assert scored["ok"].all(), scored


def test_stores_and_facilities_score(result: ScanSegmentation, crop) -> None:
    _, gt, _ = crop
    score = score_segmentation(result.object_id, result.object_class, gt["gt_instance"], gt["gt_class"])
    table = score.per_class
    # measured on this crop: stores F1 0.885 (stalls cut by the window edge count); facilities
    # 31 of 33 found (extinguisher R 0.91, other_facility R 0.75, the rest 1.0), no false one
    assert table.loc["store", "f1"] >= 0.8, score.summary()
    fac = table.drop(index="store")
    assert fac["tp"].sum() / fac["n_true"].sum() >= 0.85, score.summary()
    assert fac["tp"].sum() / fac["n_pred"].sum() >= 0.9, score.summary()
    for kind in ("fire_extinguisher", "indoor_hydrant", "exit_sign", "fire_alarm", "cctv"):
        assert table.loc[kind, "f1"] >= 0.75, score.summary()
    # kinds are never confused on matched pairs
    conf = score.confusion
    assert int(np.trace(conf.loc[conf.index.intersection(conf.columns), conf.index.intersection(conf.columns)]
                        .to_numpy())) == int(conf.to_numpy().sum())


def test_result_is_aligned_and_numbered(result: ScanSegmentation, crop) -> None:
    n = len(crop[0])
    assert result.object_id.shape == result.object_class.shape == result.level.shape == (n,)
    ids = np.unique(result.object_id[result.object_id >= 0])
    assert ids.tolist() == result.objects.index.tolist() == list(range(1, len(ids) + 1))
    # every point of an object carries its class
    cls = result.objects["object_class"].reindex(result.object_id[result.object_id >= 0]).to_numpy()
    np.testing.assert_array_equal(cls, result.object_class[result.object_id >= 0])
    assert (result.object_class[result.object_id < 0] == 0).all()
    assert set(result.stores["kind"]) == {"store"}
    assert "store" not in set(result.facilities["kind"])


def test_no_storey_falls_back_to_the_ground() -> None:
    rng = np.random.default_rng(0)
    ground = np.column_stack([rng.uniform(0, 40, 20000), rng.uniform(0, 40, 20000), rng.normal(5.0, 0.02, 20000)])
    box = np.column_stack([rng.uniform(10, 14, 3000), rng.uniform(10, 12, 3000), rng.uniform(5, 7, 3000)])
    cloud = PointCloud(np.vstack([ground, box]))
    with pytest.warns(UserWarning, match="falling back to one level on the ground"):
        r = segment_scan(cloud)
    assert len(r.levels) == 1 and abs(r.levels["slab_z"].iloc[0] - 5.0) < 0.1
    assert np.isnan(r.levels["ceiling_z"].iloc[0])


def test_bad_input() -> None:
    with pytest.raises(InputError):
        segment_scan(np.zeros((10, 3)))  # type: ignore[arg-type]
    with pytest.raises(InputError):
        segment_scan(PointCloud(np.zeros((0, 3))))


@pytest.mark.shared_data
def test_real_room_scan(shared_data) -> None:
    r = segment_scan(read_las(shared_data / "lidar" / "room_scan1.las"))
    assert len(r.levels) == 1
    assert abs(r.levels["slab_z"].iloc[0] - -1.27) <= 0.1
    assert abs(r.levels["ceiling_z"].iloc[0] - 1.67) <= 0.1


@pytest.mark.shared_data
@pytest.mark.parametrize(("name", "crs"), [
    ("test_data_77050_627755_LA93_IGN69.laz", None),
    ("autzen_trim.laz", None),
    ("lone-star.copc.laz", "EPSG:26912"),
])
def test_real_outdoor_tiles_run(shared_data, name: str, crs: str | None) -> None:
    cloud = read_las(shared_data / "lidar" / name, crs=crs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = segment_scan(cloud)
    assert any("falling back" in str(w.message) for w in caught)
    assert len(r.levels) == 1
    z = cloud.xyz[:, 2]
    assert np.percentile(z, 0.1) - 1 <= r.levels["slab_z"].iloc[0] <= np.percentile(z, 50)
    assert r.object_id.shape == (len(cloud),)
    if "classification" in cloud.attrs and (cloud.attrs["classification"] == 2).any():
        ground = np.median(z[cloud.attrs["classification"] == 2])
        assert abs(r.levels["slab_z"].iloc[0] - ground) < 0.01


def test_moved_label_steps_still_import_with_a_warning() -> None:
    import geo3d.indoor.scan as scan
    from geo3d.pointcloud import join, pieces

    with pytest.warns(DeprecationWarning, match="moved to geo3d.pointcloud.pieces.join_pieces"):
        assert scan.join_pieces is pieces.join_pieces
    with pytest.warns(DeprecationWarning, match="geo3d.pointcloud.join.join_fragments"):
        assert scan.join_fragments is join.join_fragments
    with pytest.raises(AttributeError):
        scan.no_such_name  # noqa: B018
