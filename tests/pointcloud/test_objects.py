import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.errors import InputError
from geo3d.pointcloud import PointCloud
from geo3d.pointcloud.objects import objects_from_segments


def box_points(x0, y0, z0, dx, dy, dz, n, rng):
    return np.column_stack([rng.uniform(x0, x0 + dx, n), rng.uniform(y0, y0 + dy, n), rng.uniform(z0, z0 + dz, n)])


@pytest.fixture
def cloud():
    rng = np.random.default_rng(0)
    a = box_points(0, 0, 0.0, 3.0, 2.0, 1.5, 2000, rng)   # a stall on level 1
    b = box_points(10, 0, 0.0, 0.2, 0.2, 0.5, 200, rng)   # an extinguisher
    c = box_points(0, 5, 4.6, 0.3, 0.2, 0.3, 100, rng)    # something on level 2
    xyz = np.vstack([a, b, c])
    rgb = np.zeros((len(xyz), 3), dtype=np.uint16)
    rgb[2000:2200] = [255 * 257, 0, 0]
    labels = np.r_[np.zeros(2000), np.full(200, 3), np.full(100, 7)].astype(int)
    labels[::50] = -1
    return PointCloud(xyz, attrs={"rgb": rgb}, crs="EPSG:5186"), labels


def test_measures_match_direct_computation(cloud):
    pc, labels = cloud
    objs = objects_from_segments(pc, labels)
    assert objs.index.tolist() == [0, 3, 7]
    assert objs.crs.to_epsg() == 5186
    for oid, row in objs.iterrows():
        pts = pc.xyz[labels == oid]
        assert row.n_points == len(pts)
        assert row.z_min == pts[:, 2].min() and row.z_max == pts[:, 2].max()
        assert row.x == pytest.approx(pts[:, 0].mean())
    stall = objs.loc[0]
    assert stall.length == pytest.approx(3.0, abs=0.1)
    assert stall.width == pytest.approx(2.0, abs=0.1)
    assert objs.loc[3, "red"] == pytest.approx(255.0)
    assert objs.loc[0, "red"] == 0.0
    hull = shapely.MultiPoint(pc.xyz[labels == 0][:, :2]).convex_hull
    assert objs.loc[0].geometry.buffer(0.05).contains(hull)


def test_levels_give_floor_and_heights(cloud):
    pc, labels = cloud
    levels = pd.DataFrame({"floor": [1, 2], "slab_z": [0.0, 4.5], "ceiling_z": [4.0, 8.5], "z_max": [4.1, 8.6]})
    objs = objects_from_segments(pc, labels, levels=levels)
    assert objs["floor"].tolist() == [1, 1, 2]
    assert objs.loc[7, "height_above_slab"] == pytest.approx(0.1, abs=0.01)
    assert objs.loc[3, "below_ceiling"] == pytest.approx(3.5, abs=0.01)


def test_no_objects_gives_empty_frame():
    objs = objects_from_segments(np.zeros((3, 3)), [-1, -1, -1])
    assert len(objs) == 0 and "n_points" in objs


def test_label_length_checked():
    with pytest.raises(InputError, match="one label per point"):
        objects_from_segments(np.zeros((3, 3)), [0, 1])


@pytest.mark.parametrize("footprint", ["hull", "oriented"])
def test_footprints_equal_those_of_all_snapped_points(footprint):
    """Only column and row extremes are handed to GEOS; the footprints are those of every point."""
    rng = np.random.default_rng(11)
    n_obj = 40
    centre = rng.uniform(0, 50, (n_obj, 2))
    pts = [np.column_stack([c + rng.normal(0, rng.uniform(0.1, 1.5), (300, 2)), rng.uniform(0, 2, 300)])
           for c in centre]
    xyz = np.vstack(pts)
    labels = np.repeat(np.arange(n_obj), 300)
    objs = objects_from_segments(xyz, labels, footprint=footprint, grid=0.05)
    snapped = np.round(xyz[:, :2] / 0.05) * 0.05
    every = shapely.multipoints(snapped, indices=labels)
    ref = shapely.convex_hull(every) if footprint == "hull" else shapely.oriented_envelope(every)
    if footprint == "hull":
        assert shapely.equals(objs.geometry.values, ref).all()
    np.testing.assert_allclose(shapely.area(objs.geometry.values), shapely.area(ref), rtol=1e-9)


def test_an_object_of_one_cell_has_a_point_footprint():
    xyz = np.array([[0, 0, 0], [0.01, 0.01, 0.5], [3, 3, 0], [4, 3, 0], [4, 4, 1.0]])
    objs = objects_from_segments(xyz, [0, 0, 1, 1, 1], footprint="hull")
    assert objs.geometry.iloc[0].geom_type == "Point" and objs.loc[0, "length"] == 0.0
    assert objs.geometry.iloc[1].geom_type == "Polygon" and objs.loc[1, "area"] == pytest.approx(0.5)


@pytest.mark.parametrize("top", [10, 70_000, 2**40])
def test_label_order_is_the_stable_argsort(top):
    from geo3d.pointcloud.objects import _label_order

    lab = np.random.default_rng(2).integers(0, top, 5000)
    np.testing.assert_array_equal(_label_order(lab), np.argsort(lab, kind="stable"))
