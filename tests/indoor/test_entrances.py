import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo3d.indoor.entrances import project_on_aisles, store_entrances


def aisles(*lines, floors=None):
    return gpd.GeoDataFrame({"name": [f"가{i + 1}통로" for i in range(len(lines))],
                             "floor": floors or [1] * len(lines)},
                            geometry=[shapely.LineString(c) for c in lines])


def test_projection_signed_offset():
    a = aisles([(0, 0), (100, 0)])
    pr = project_on_aisles(np.array([[10, 3], [20, -2], [5, 0.5]]), np.array([1, 1, 1]), a)
    assert pr["s"].tolist() == [10, 20, 5]
    assert pr["d"].tolist() == [3, -2, 0.5]


def test_projection_other_floor_has_no_aisle():
    a = aisles([(0, 0), (100, 0)], floors=[2])
    pr = project_on_aisles(np.array([[10, 3]]), np.array([1]), a)
    assert pr["aisle_row"].iloc[0] == -1 and np.isnan(pr["s"].iloc[0])


def test_front_face_is_the_entrance():
    a = aisles([(0, 0), (100, 0)])
    st = gpd.GeoDataFrame({"floor": [1, 1]}, geometry=[shapely.box(10, 2, 13, 6),
                                                        shapely.box(20, -6, 23, -2).exterior.convex_hull])
    e = store_entrances(st, a)
    assert e["entrance_x"].tolist() == pytest.approx([11.5, 21.5])
    assert e["entrance_y"].tolist() == pytest.approx([2.0, -2.0])
    assert e.geometry.iloc[0].length == pytest.approx(3.0)


def test_corner_stall_faces_its_row_not_the_cross_aisle():
    # a row of stalls along y = 2 on the main aisle; a cross aisle at x = 0 right beside the first
    a = aisles([(0, 0), (100, 0)], [(0, -20), (0, 20)])
    boxes = [shapely.box(1.2 + 3 * i, 2, 1.2 + 3 * i + 3, 7) for i in range(6)]
    st = gpd.GeoDataFrame({"floor": [1] * 6}, geometry=boxes)
    e = store_entrances(st, a)
    assert (e["aisle"] == "가1통로").all()
    assert e["entrance_y"].tolist() == pytest.approx([2.0] * 6)


def test_rotated_stall():
    a = aisles([(0, 0), (70.71, 70.71)])
    box = shapely.affinity.rotate(shapely.box(10, 2, 13, 5), 45, origin=(0, 0))
    e = store_entrances(gpd.GeoDataFrame({"floor": [1]}, geometry=[box]), a)
    pr = project_on_aisles(e[["entrance_x", "entrance_y"]].to_numpy(), np.array([1]), a)
    assert pr["s"].iloc[0] == pytest.approx(11.5, abs=1e-6)
    assert pr["d"].iloc[0] == pytest.approx(2.0, abs=1e-6)


def test_corner_stall_after_a_vacant_lot_still_faces_its_row():
    # main aisles along x at y = 0 and y = 8.35, a cross aisle at x = 50. The corner stalls A
    # (front on y = 0) and B (back to back with it, front on y = 8.35) line up along the cross
    # aisle as a pair; along their own aisles the next stalls stand 6 m away (vacant lots).
    a = aisles([(0, 0), (100, 0)], [(0, 8.35), (100, 8.35)], [(50, -20), (50, 30)])
    boxes = [shapely.box(52, 1.6, 55, 4.0), shapely.box(52, 4.35, 55, 6.75)]          # A, B
    boxes += [shapely.box(x, 1.6, x + 3, 4.0) for x in (61, 64.35, 67.7)]             # A's row
    boxes += [shapely.box(x, 4.35, x + 3, 6.75) for x in (61, 64.35, 67.7)]           # B's row
    st = gpd.GeoDataFrame({"floor": [1] * len(boxes)}, geometry=boxes)
    e = store_entrances(st, a)
    assert e["aisle"].tolist()[:2] == ["가1통로", "가2통로"]
    assert e["entrance_y"].tolist()[:2] == pytest.approx([1.6, 6.75])
    assert e["entrance_x"].tolist()[:2] == pytest.approx([53.5, 53.5])


def test_corner_stall_of_an_l_faces_the_leg_of_its_row():
    # an L aisle: east along y = 0, then north along x = 30; a row of stalls on the inside of
    # the corner. The last one's side is nearer the north leg (1.70 m) than its front is to the
    # east leg (1.75 m), yet it belongs to the row along the east leg.
    a = aisles([(0, 0), (30, 0), (30, 30)])
    boxes = [shapely.box(x, 1.75, x + 2.8, 4.5) for x in (13.5, 16.65, 19.8, 22.95, 25.5)]
    e = store_entrances(gpd.GeoDataFrame({"floor": [1] * 5}, geometry=boxes), a)
    assert e["entrance_y"].tolist() == pytest.approx([1.75] * 5)
    assert e["entrance_x"].iloc[-1] == pytest.approx(26.9)


def test_projection_of_no_points():
    # regression (issue 11, a pump room): geo3d scan with 0 objects failed in a zip()
    pr = project_on_aisles(np.empty((0, 2)), np.empty(0, dtype=np.int64), aisles([(0, 0), (100, 0)]))
    assert len(pr) == 0 and list(pr.columns) == ["aisle_row", "s", "d", "distance"]
    pr = project_on_aisles(np.array([[1.0, 1.0]]), np.array([1]), aisles([(0, 0), (1, 0)]).iloc[:0])
    assert pr["aisle_row"].tolist() == [-1]
