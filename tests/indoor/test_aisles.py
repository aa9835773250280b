
import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo3d.indoor.aisles import centrelines_from_free, dominant_angle, name_aisles, walkable_space


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


def test_blind_spots_under_stations_do_not_cut_a_narrow_aisle():
    from geo3d.indoor.aisles import floor_holes

    cell = 0.25
    floor = np.zeros((320, 40), bool)  # 80 m × 10 m
    floor[:, 16:26] = True  # a 2.5 m aisle between two stall rows
    blocked = np.zeros_like(floor)
    blocked[:, 8:15] = blocked[:, 27:34] = True
    for x in range(6, 80, 12):  # a station every 12 m: no floor seen within 0.9 m of it
        i, j = np.ogrid[:320, :40]
        floor[(i - x / cell) ** 2 + (j - 21) ** 2 <= (0.9 / cell) ** 2] = False
    holes = floor_holes(floor, blocked, cell=cell)
    assert holes.sum() > 0 and not (holes & blocked).any()
    assert not holes[:, :8].any()  # occluded space behind the stalls is not floor
    without = centrelines_from_free(floor & ~blocked, cell=cell, min_length=20)
    with_ = centrelines_from_free((floor | holes) & ~blocked, cell=cell, min_length=20)
    assert without == [] or max(ln.length for ln in without) < 20
    assert len(with_) == 1 and with_[0].length == pytest.approx(80, abs=1)


def test_ends_reach_the_wall_past_a_facility_in_the_mouth():
    from geo3d.indoor.aisles import extend_to_walls

    cell = 0.25
    occupied = np.zeros((240, 40), bool)
    occupied[4:236] = True  # scanned from x = 1 m (the wall's inner face) to x = 59 m
    line = shapely.LineString([(3.6, 5.0), (57.0, 5.0)])  # cut short by an extinguisher at x ≈ 2
    rng = np.random.default_rng(1)
    wall = np.column_stack([rng.normal(1.0, 0.01, 400), rng.uniform(2, 8, 400)])  # the wall face
    clutter = np.column_stack([rng.uniform(1.4, 2.0, 60), rng.uniform(4.5, 5.5, 60)])
    out = extend_to_walls([line], occupied, cell=cell, wall_points=np.vstack([wall, clutter]))[0]
    assert out.coords[0][0] == pytest.approx(1.0, abs=0.05)  # on the inner face
    assert out.coords[-1][0] == pytest.approx(58.9, abs=0.15)  # cell centre (no wall points there)
    # more scanned space ahead (stalls, then the next aisle): no wall, the end stays
    occupied = np.ones((400, 40), bool)  # scanned on to x = 100 m
    assert extend_to_walls([line], occupied, cell=cell)[0].coords[-1] == (57.0, 5.0)


def test_a_vacant_lot_beside_an_aisle_does_not_pull_its_centreline():
    cell = 0.25
    free = np.zeros((400, 60), bool)  # 100 m × 15 m
    free[:, 24:36] = True  # a 3 m aisle, centre y = 7.5
    free[120:220, 8:24] = True  # a 25 m run of vacant lots on one side
    lines = centrelines_from_free(free, cell=cell, min_length=20)
    assert len(lines) == 1
    assert lines[0].coords[0][1] == pytest.approx(7.5, abs=0.15)


def test_a_free_strip_to_the_next_aisle_is_not_an_l():
    cell = 0.25
    free = np.zeros((320, 160), bool)
    free[:, 20:32] = True   # aisle along x, centre y = 6.5
    free[:, 60:72] = True  # a parallel aisle, centre y = 16.5
    free[300:312, 32:60] = True  # a 3 m strip along the end wall joining them
    lines = centrelines_from_free(free, cell=cell, min_length=20)
    assert sorted(len(ln.coords) for ln in lines) == [2, 2]


def test_l_corner_where_the_free_space_reaches_past_the_leg():
    cell = 0.25
    free = np.zeros((260, 160), bool)
    free[:244, 40:52] = True       # aisle along x, centre y = 11.5; free on to x = 61 at the corner
    free[228:240, 52:100] = True   # the leg leaves at x = 57–60 (centre 58.5), 12 m long
    lines = centrelines_from_free(free, cell=cell, min_length=20)
    assert len(lines) == 1
    c = np.asarray(lines[0].coords)
    assert len(c) == 3 and c[1][0] == pytest.approx(58.5, abs=0.3) and c[-1][1] > 20


def _room_points(cell: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Cells and heights: a 20 × 10 m hall (walls, a 2.5 m door in the south wall at x 8-10.5 m),
    a sparse floor, the street outside the door, a stray return in mid-hall."""
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 60, 40000)
    t = t[(t < 8) | (t > 10.5)]
    x = np.where(t < 20, t, np.where(t < 40, t - 20, np.where(t < 50, 0.0, 20.0)))
    y = np.where(t < 20, 0.0, np.where(t < 40, 10.0, np.where(t < 50, t - 40, t - 50)))
    wall = np.column_stack([x, y + 5.0, rng.uniform(0.0, 3.0, len(t))])
    floor = np.column_stack([rng.uniform(0, 20, 600), rng.uniform(5, 15, 600), np.zeros(600)])
    street = np.column_stack([rng.uniform(7, 12, 3000), rng.uniform(0, 4.5, 3000), np.full(3000, -0.1)])
    stray = np.array([[5.0, 10.0, 1.0]])
    p = np.vstack([wall, floor, street, stray])
    return np.floor(p[:, :2] / cell).astype(np.int64), p[:, 2]


def test_walkable_space_is_inside_the_hall_not_the_street():
    ij, h = _room_points()
    free, _scanned, inside = walkable_space(ij, h, cell=0.25)
    assert not inside[int(9 / 0.25), : int(4.5 / 0.25)].any()  # the street outside the door
    assert inside[int(9 / 0.25), int(5.5 / 0.25):int(14.5 / 0.25)].all()  # the door is sealed
    assert free[int(5 / 0.25), int(10 / 0.25)]  # a lone stray return does not block
    assert free[int(10 / 0.25), int(7 / 0.25):int(13 / 0.25)].all()


def test_walkable_space_of_an_upper_level_needs_a_floor_or_a_slab_under_it():
    ij, h = _room_points()
    # the slab's underside was seen from below only under the west half (a mezzanine)
    under = np.array([[i, j] for i in range(0, 40) for j in range(20, 60)])
    free, _, _ = walkable_space(ij, np.where(h == 0.0, 5.0, h), cell=0.25, underside=under)  # no floor seen
    assert free[int(5 / 0.25), int(10 / 0.25)]
    assert not free[int(16 / 0.25), int(10 / 0.25)]  # over the void
