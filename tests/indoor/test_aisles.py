
import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo3d.indoor.aisles import centrelines_from_free, dominant_angle, name_aisles


def test_dominant_angle_of_rotated_boxes():
    boxes = [shapely.affinity.rotate(shapely.box(i * 4, 0, i * 4 + 3, 2), 30, origin=(0, 0)) for i in range(5)]
    assert np.degrees(dominant_angle(boxes)) == pytest.approx(30, abs=0.5)


def test_grid_of_aisles_with_a_column_in_one():
    cell = 0.25
    free = np.zeros((320, 160), bool)  # 80 m × 40 m
    for y0 in (4, 16, 28):  # three 3 m aisles along x
        free[:, int(y0 / cell):int((y0 + 3) / cell)] = True
    free[int(38 / cell):int(42 / cell), :] = True  # a 4 m cross aisle along y
    free[100:103, 20:23] = False  # a column in the first aisle
    free[:, :2] = True  # a narrow strip along the wall: too narrow to be an aisle
    lines = centrelines_from_free(free, cell=cell, min_length=20)
    assert len(lines) == 4
    horiz = sorted(round(ln.coords[0][1], 2) for ln in lines if abs(ln.coords[0][1] - ln.coords[-1][1]) < 1e-6)
    assert horiz == [5.5, 17.5, 29.5]
    vert = [ln for ln in lines if abs(ln.coords[0][0] - ln.coords[-1][0]) < 1e-6]
    assert len(vert) == 1 and vert[0].coords[0][0] == pytest.approx(40.0)
    assert vert[0].length == pytest.approx(40, abs=0.5)


def test_l_shaped_leg_is_joined():
    cell = 0.25
    free = np.zeros((240, 160), bool)
    free[:, 40:52] = True            # aisle along x, 60 m, centre y = 11.5
    free[228:240, 52:100] = True     # a leg up from its far end, 3 m wide, 12 m long
    lines = centrelines_from_free(free, cell=cell, min_length=20)
    assert len(lines) == 1
    c = np.asarray(lines[0].coords)
    assert len(c) == 3 and c[-1][1] > 20


def test_names_follow_distance_from_the_entrance_and_floors():
    lines = gpd.GeoDataFrame({"floor": [1, 1, 2, -1, 1]}, geometry=[
        shapely.LineString([(0, 20), (80, 20)]), shapely.LineString([(80, 0), (0, 0)]),
        shapely.LineString([(0, 0), (80, 0)]), shapely.LineString([(0, 0), (80, 0)]),
        shapely.LineString([(40, -10), (40, 30)])])
    out = name_aisles(lines, (0, 0), name="경동시장")
    assert out["name"].tolist() == [f"경동시장{i}통로" for i in range(1, 6)]
    assert out["floor"].tolist() == [1, 1, 1, 2, -1]
    assert out.geometry.iloc[0].coords[0] == (0, 0)  # reversed to start at the entrance
    assert out.geometry.iloc[1].coords[0] == (0, 20)
    assert out.geometry.iloc[2].coords[0] == (40, -10)


@pytest.mark.slow
def test_sample_market_aisle_count(monkeypatch):
    import geo3d
    from geo3d.address import read_market
    from geo3d.indoor.aisles import aisles_from_cloud
    from geo3d.indoor.scan import segment_scan
    from geo3d.io.las import read_las

    monkeypatch.setattr(geo3d.options, "progress", False)
    cloud = read_las(geo3d.datasets.get_path("market"))
    result = segment_scan(cloud)
    m = read_market(geo3d.datasets.get_path("market_toml"))
    found = aisles_from_cloud(cloud, result, entrance=m.principal_entrance, name=m.name)
    assert len(found) == len(m.aisles)
    for name, g in zip(m.aisles["name"], m.aisles.geometry, strict=True):
        det = found.loc[found["name"] == name].geometry.iloc[0]
        assert det.hausdorff_distance(g) < 3.0, name
