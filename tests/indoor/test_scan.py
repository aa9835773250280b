"""segment_scan end to end: a crop of the committed sample market, synthetic edge cases, real files."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from geo3d import datasets
from geo3d.errors import InputError
from geo3d.indoor.scan import (
    ScanSegmentation,
    attach_trim,
    into_hosts,
    join_fragments,
    join_pieces,
    segment_scan,
)
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


def test_join_pieces_keeps_kinds_and_floors_apart() -> None:
    xyz = np.array([[0, 0, 1.0], [0.2, 0, 1.0], [0.1, 0.1, 1.0], [0.3, 0, 1.0]])
    kinds = pd.Series([5, 5, 7, 5])
    assert join_pieces(xyz, np.array([0, 1, 2, 3]), kinds).tolist() == [0, 0, 2, 0]
    by = np.array([1, 1, 1, 2])
    assert join_pieces(xyz, np.array([0, 1, 2, 3]), kinds, by=by).tolist() == [0, 0, 2, 3]


def test_join_fragments_keeps_neighbours_floors_and_facilities_apart() -> None:
    import geopandas as gpd
    import shapely

    # a stall in three pieces (0, 1, 2), its neighbour 0.35 m away (3), a piece on the floor
    # above (4), and a facility next to it that may not join (5)
    geoms = [shapely.box(0, 0, 1.2, 2.5), shapely.box(1.5, 0, 2.8, 2.5), shapely.box(0, 2.6, 2.8, 2.9),
             shapely.box(3.15, 0, 6.0, 2.5), shapely.box(1.3, 0, 1.4, 2.5), shapely.box(2.9, 1, 3.0, 1.2)]
    objs = gpd.GeoDataFrame({"floor": [1, 1, 1, 1, 2, 1]}, index=range(6), geometry=geoms)
    labels = np.array([0, 1, 2, 3, 4, 5, -1])
    eligible = np.array([True, True, True, True, True, False])
    out = join_fragments(objs, labels, eligible=eligible)
    # 0+1+2 is 2.9 m x 2.8 m (a stall); with 3 it would be 6 m long
    assert out.tolist() == [0, 0, 0, 3, 4, 5, -1]
    assert join_fragments(objs, labels, eligible=eligible, gap=0.0).tolist() == labels.tolist()


def test_attach_trim_and_into_hosts() -> None:
    xyz = np.array([[0, 0, 3.0], [0.1, 0, 3.05], [0.5, 0, 3.0], [0.55, 0, 3.0]])
    out = attach_trim(xyz, np.array([0, 1, 2, 2]), facilities=np.array([0]), trim=np.array([1, 2]))
    assert out.tolist() == [0, 0, 2, 2]
    import geopandas as gpd
    import shapely

    objs = gpd.GeoDataFrame({"x": [1.0, 1.0, 1.0], "y": [1.0, 1.0, 1.5], "z_max": [2.9, 2.0, 3.5],
                             "floor": [1, 1, 1]},
                            geometry=[shapely.box(0, 0, 3, 2), shapely.box(0.9, 0.9, 1.1, 1.1),
                                      shapely.box(0.9, 1.4, 1.1, 1.6)])
    moved = into_hosts(objs, np.array([0, 1, 2]), movers=pd.Index([1, 2]), hosts=pd.Index([0]))
    assert moved.tolist() == [0, 0, 2]  # the one above the stall's top stays a facility


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


def test_oversized_segment_is_linked_again_finer() -> None:
    """Two stalls 0.4 m apart that one diagonal voxel step joined come apart at half the voxel."""
    from geo3d.indoor.scan import _relink
    from geo3d.pointcloud.segment import voxel_components

    t = np.arange(0, 2.87, 0.05)
    a = np.column_stack([t, np.full(len(t), 0.01), np.zeros(len(t))])        # ends at (2.86, 0.01)
    b = np.column_stack([3.14 + t, np.full(len(t), 0.29), np.zeros(len(t))])  # starts at (3.14, 0.29)
    xyz = np.concatenate([a, b])
    assert np.hypot(3.14 - 2.86, 0.29 - 0.01) > 0.35
    assert voxel_components(xyz, 0.15)[1] == 1  # diagonal neighbours: one segment
    out = _relink(xyz, np.zeros(len(xyz), dtype=np.int64), np.array([0]), 0.075)
    assert len(set(out[: len(a)])) == 1 and len(set(out[len(a):])) == 1 and out[0] != out[-1]


def test_join_fragments_across_an_open_stall() -> None:
    import geopandas as gpd
    import shapely

    # an open stall seen by its counter (0) and back shelf (1), 2.2 m apart; a counter and a
    # shelf (2, 3) with a long stall (4, too long to join either) standing between them; a short
    # box (5) 2 m from 0
    geoms = [shapely.box(0, 0, 2.5, 0.4), shapely.box(0.1, 2.6, 2.4, 2.7),
             shapely.box(10, 0, 12.5, 0.4), shapely.box(10, 2.6, 12.5, 2.7), shapely.box(8.0, 0.9, 12.1, 1.9),
             shapely.box(4.5, 0, 4.9, 0.4)]
    objs = gpd.GeoDataFrame({"floor": [1] * 6, "n_points": [400, 60, 400, 60, 400, 80]}, index=range(6),
                            geometry=geoms)
    objs["length"] = [2.5, 2.3, 2.5, 2.5, 4.1, 0.4]
    objs["width"] = [0.4, 0.1, 0.4, 0.1, 1.0, 0.4]
    labels = np.arange(6)
    out = join_fragments(objs, labels, gap=0.75, across=2.5)
    assert out[1] == out[0] == 0  # counter and shelf: one stall
    assert len({out[2], out[3], out[4]}) == 3  # not across the stall between
    assert out[5] == 5  # too short to be a counter or shelf
    assert join_fragments(objs, labels, gap=0.75).tolist() == labels.tolist()  # off by default
    # the stall on the floor above does not count as "between"
    objs2 = objs.assign(floor=[1, 1, 1, 1, 2, 1])
    assert join_fragments(objs2, labels, gap=0.75, across=2.5)[3] == 2
