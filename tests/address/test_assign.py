"""ADDRESS.md's worked example and fixtures: straight, reversed, L-shaped and ring aisles; two
extinguishers in one interval; an AED inside a store; three levels with a basement."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.address import assign_addresses, market_from_dict, validate_addresses

BASE = {"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구", "parent_road": "고산자로36길",
        "parent_number": "3", "crs": "EPSG:5186"}


def make_market(**kw):
    return market_from_dict({**BASE, **kw})


def aisle_frame(lines, floors=None, names=None):
    n = len(lines)
    return gpd.GeoDataFrame({"name": names or [f"경동시장{i + 1}통로" for i in range(n)],
                             "floor": floors or [1] * n},
                            geometry=[shapely.LineString(c) for c in lines], crs="EPSG:5186")


def stores_frame(rows):
    """rows: (object_id, floor, entrance_x, entrance_y, footprint)"""
    return gpd.GeoDataFrame({"object_id": [r[0] for r in rows], "floor": [r[1] for r in rows],
                             "entrance_x": [r[2] for r in rows], "entrance_y": [r[3] for r in rows]},
                            geometry=[r[4] for r in rows], crs="EPSG:5186")


def facilities_frame(rows):
    """rows: (object_id, kind, floor, x, y)"""
    return gpd.GeoDataFrame({"object_id": [r[0] for r in rows], "kind": [r[1] for r in rows],
                             "floor": [r[2] for r in rows]},
                            geometry=[shapely.Point(r[3], r[4]) for r in rows], crs="EPSG:5186")


P = "서울특별시 동대문구 "


def store(oid, x, y, *, floor=1, left=True, w=3.0, depth=3.0):
    """A stall whose entrance (front midpoint) is (x, y) on an aisle along +x at y = 0."""
    if left:
        box = shapely.box(x - w / 2, y, x + w / 2, y + depth)
    else:
        box = shapely.box(x - w / 2, y - depth, x + w / 2, y)
    return (oid, floor, x, y, box)


@pytest.fixture
def straight():
    return aisle_frame([[(0, 0), (120, 0)]])


def test_worked_example(market, straight):
    stores = stores_frame([store(1, 7.5, 2), store(2, 12, 2), store(3, 31, -2, left=False)])
    fac = facilities_frame([(4, "fire_extinguisher", 1, 44, -1.5), (5, "fire_extinguisher", 1, 52, -1.5)])
    out = assign_addresses(stores, fac, straight, None, market)
    assert out["address"].tolist() == [
        P + "경동시장1통로 1", P + "경동시장1통로 1-1", P + "경동시장1통로 4",
        P + "경동시장1통로 6 소화기", P + "경동시장1통로 6-1 소화기"]
    assert out["side"].tolist() == ["left", "left", "right", "right", "right"]
    assert out["s_m"].tolist() == [7.5, 12.0, 31.0, 44.0, 52.0]
    assert out["label"].tolist() == ["1층"] * 5 and out["ordinal"].tolist() == [0] * 5
    v = validate_addresses(out, straight, market)
    assert v.errors == [] and v.unaddressed == []


def test_output_record_columns(market, straight):
    out = assign_addresses(stores_frame([store(1, 7.5, 2)]), None, straight, None, market)
    for col in ("object_id", "object_class", "kind", "floor", "label", "ordinal", "aisle", "s_m", "offset_m",
                "side", "number", "sub", "address", "address_components", "x", "y", "z", "geometry",
                "warnings"):
        assert col in out.columns, col
    import json

    comp = json.loads(out["address_components"].iloc[0])
    assert comp["road"] == "경동시장1통로" and comp["number"] == 1 and comp["sub"] is None


def test_reversed_aisle_numbers_from_its_first_point(market):
    rev = aisle_frame([[(120, 0), (0, 0)]])
    # seen from the reversed direction, y > 0 is on the right and s = 120 - x
    stores = stores_frame([store(1, 110, 2), store(2, 5, -2, left=False)])
    out = assign_addresses(stores, None, rev, None, market)
    assert out["number"].tolist() == ["2", "11"]
    assert validate_addresses(out, rev, market).errors == []
    ws_market = make_market(start="west_south")
    ws = assign_addresses(stores, None, rev, None, ws_market)
    assert ws["number"].tolist() == ["11", "2"]
    assert validate_addresses(ws, rev, ws_market).errors == []  # it orients the aisles as numbering did


def test_l_shaped_aisle(market):
    ell = aisle_frame([[(0, 0), (30, 0), (30, 30)]])
    stores = stores_frame([store(1, 10, 2), (2, 1, 32, 20, shapely.box(32, 18.5, 35, 21.5))])
    out = assign_addresses(stores, None, ell, None, market)
    # store 2 faces the second leg at s = 30 + 20 = 50 m, on its right (x > 30) -> 2*2+2 = 6
    assert out["s_m"].iloc[1] == pytest.approx(50.0)
    assert out["number"].tolist() == ["1", "6"]
    assert validate_addresses(out, ell, market).errors == []


def test_ring_aisle(market):
    ring = aisle_frame([[(0, 0), (40, 0), (40, 40), (0, 40), (0, 0)]])
    stores = stores_frame([(1, 1, 20, 2, shapely.box(18, 2, 22, 5)),      # s = 20 inside ring -> left
                           (2, 1, 42, 20, shapely.box(42, 18, 45, 22)),    # s = 60 outside -> right
                           (3, 1, 20, 38, shapely.box(18, 35, 22, 38))])   # s = 100 inside -> left
    out = assign_addresses(stores, None, ring, None, market)
    assert out["s_m"].tolist() == pytest.approx([20, 60, 100])
    assert out["number"].tolist() == ["3", "8", "11"]
    assert validate_addresses(out, ring, market).errors == []


def test_two_extinguishers_in_one_interval_and_types_apart(market, straight):
    fac = facilities_frame([(1, "fire_extinguisher", 1, 3, 1.4), (2, "fire_extinguisher", 1, 11.5, 1.4),
                            (3, "fire_alarm", 1, 11.5, 1.4), (4, "cctv", 1, 11.5, 1.4),
                            (5, "exit_sign", 1, 0.05, 1.0), (6, "indoor_hydrant", 1, 0.1, 1.5),
                            (7, "other_facility", 1, 21.8, 1.5)])
    out = assign_addresses(None, fac, straight, None, market).set_index("object_id")
    assert out.loc[1, "address"] == P + "경동시장1통로 1 소화기"
    assert out.loc[2, "address"] == P + "경동시장1통로 1-1 소화기"
    assert out.loc[3, "address"] == P + "경동시장1통로 1 발신기"
    assert pd.isna(out.loc[4, "address"]) and "not addressed" in out.loc[4, "reason"]
    assert out.loc[5, "address"] == P + "경동시장1통로 1 비상구"
    assert out.loc[6, "address"] == P + "경동시장1통로 1 옥내소화전"
    assert out.loc[7, "address"] == P + "경동시장1통로 3 구급함"


def test_aed_inside_a_store(market, straight):
    stores = stores_frame([store(1, 25, 2), store(2, 50, 2), store(3, 55, 2)])
    fac = facilities_frame([(9, "aed", 1, 55.5, 3.0)])
    out = assign_addresses(stores, fac, straight, None, market).set_index("object_id")
    assert out.loc[3, "number"] == "5-1"
    assert out.loc[9, "number"] == "5-1, 101"
    assert out.loc[9, "address"] == P + "경동시장1통로 5-1, 101 자동심장충격기"
    assert out.loc[9, "host_store"] == 3
    assert validate_addresses(out.reset_index(), straight, market).errors == []


def test_three_levels_with_a_basement(market):
    aisles = aisle_frame([[(0, 0), (60, 0)]] * 3, floors=[1, 2, -1],
                         names=["경동시장1통로", "경동시장2통로", "경동시장3통로"])
    levels = pd.DataFrame({"floor": [-1, 1, 2], "label": ["지하1층", "1층", "2층"], "ordinal": [-1, 0, 1]})
    stores = stores_frame([store(1, 5, 2, floor=-1), store(2, 5, 2, floor=1), store(3, 5, 2, floor=2)])
    fac = facilities_frame([(4, "aed", -1, 5.5, 3.5)])
    out = assign_addresses(stores, fac, aisles, levels, market).set_index("object_id")
    assert out.loc[1, "address"] == P + "경동시장3통로 1"
    assert out.loc[2, "address"] == P + "경동시장1통로 1"
    assert out.loc[3, "address"] == P + "경동시장2통로 1"
    assert out.loc[4, "address"] == P + "경동시장3통로 1, 지하101 자동심장충격기"
    assert out["label"].tolist() == ["지하1층", "1층", "2층", "지하1층"]
    assert out["ordinal"].tolist() == [-1, 0, 1, -1]
    assert validate_addresses(out.reset_index(), aisles, market, raise_on_error=True).errors == []
    b = assign_addresses(stores, fac, aisles, levels, make_market(basement_prefix="B"))
    assert b.set_index("object_id").loc[4, "number"] == "1, B101"


def test_ties_break_on_s_offset_id(market, straight):
    stores = stores_frame([(5, 1, 10, 2.5, shapely.box(9, 2.5, 11, 5)), (3, 1, 10, 2.0, shapely.box(9, 2, 11, 5)),
                           (4, 1, 10, 2.0, shapely.box(9, 2, 11, 5))])
    out = assign_addresses(stores, None, straight, None, market).set_index("object_id")
    assert out.loc[[3, 4, 5], "number"].tolist() == ["1", "1-1", "1-2"]
    assert make_market(first_sub=2) is not None
    out2 = assign_addresses(stores, None, straight, None, make_market(first_sub=2)).set_index("object_id")
    assert out2.loc[[3, 4, 5], "number"].tolist() == ["1", "1-2", "1-3"]


def test_unaddressed_store_is_listed_with_reason(market, straight):
    stores = stores_frame([store(1, 10, 2), store(2, 10, 30)])
    out = assign_addresses(stores, None, straight, None, market).set_index("object_id")
    assert pd.isna(out.loc[2, "address"]) and "max_offset" in out.loc[2, "reason"]
    v = validate_addresses(out.reset_index(), straight, market)
    assert v.errors == [] and v.unaddressed[0]["object_id"] == 2


def test_nearest_aisle_wins(market):
    aisles = aisle_frame([[(0, 0), (60, 0)], [(0, 10), (60, 10)]])
    stores = stores_frame([store(1, 5, 2), (2, 1, 5, 8, shapely.box(4, 5, 6, 8))])
    out = assign_addresses(stores, None, aisles, None, market)
    assert out["aisle"].tolist() == ["경동시장1통로", "경동시장2통로"]


def test_faces_give_the_entrance(market, straight):
    stores = stores_frame([store(1, 7.5, 2), store(2, 31, -2, left=False)]).drop(columns=["entrance_x", "entrance_y"])
    out = assign_addresses(stores, None, straight, None, market)
    assert out["entrance_x"].tolist() == pytest.approx([7.5, 31])
    assert out["number"].tolist() == ["1", "4"]


def test_detail_and_ground_road_schemes(straight):
    stores = stores_frame([store(1, 7.5, 2), store(2, 12, 2), store(3, 31, -2, left=False)])
    fac = facilities_frame([(4, "fire_extinguisher", 1, 44, -1.5)])
    d = assign_addresses(stores, fac, straight, None, make_market(scheme="detail"))
    assert d["address"].tolist() == [P + "고산자로36길 3, 101호", P + "고산자로36길 3, 102호",
                                     P + "고산자로36길 3, 103호", P + "고산자로36길 3, 101 소화기"]
    g = assign_addresses(stores, fac, aisle_frame([[(0, 0), (120, 0)]], names=["고산자로36가길"]),
                         None, make_market(scheme="ground_road"))
    assert g["address"].iloc[0] == P + "고산자로36가길 1"


def test_deterministic_and_order_free(market, straight):
    rng = np.random.default_rng(0)
    rows = [store(i, float(x), 2.0 if i % 2 else -2.0, left=bool(i % 2)) for i, x in
            enumerate(rng.uniform(1, 118, 60), start=1)]
    a = assign_addresses(stores_frame(rows), None, straight, None, market)
    b = assign_addresses(stores_frame(rows[::-1]), None, straight, None, market)
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert validate_addresses(a, straight, market).errors == []


def test_facility_on_a_column_at_a_stall_front_stays_on_the_aisle(market, straight):
    # a scanned footprint that took in the column at its front corner (it reaches 0.6 m into
    # the aisle edge): the extinguisher on the column is not inside the store
    stores = stores_frame([(1, 1, 25, 2.0, shapely.box(23.5, 1.0, 27, 5))])
    fac = facilities_frame([(2, "fire_extinguisher", 1, 26.6, 1.3), (3, "aed", 1, 25.5, 4.5)])
    out = assign_addresses(stores, fac, straight, None, market).set_index("object_id")
    assert out.loc[2, "address"] == P + "경동시장1통로 3 소화기" and pd.isna(out.loc[2, "host_store"])
    assert out.loc[3, "address"] == P + "경동시장1통로 3, 101 자동심장충격기"
    assert out.loc[3, "host_store"] == 1


def test_detail_scheme_validates_and_has_no_aisle_warning(straight):
    stores = stores_frame([store(1, 7.5, 2), store(2, 31, -2, left=False)])
    fac = facilities_frame([(3, "fire_extinguisher", 1, 44, -1.5)])
    m = make_market(scheme="detail")
    out = assign_addresses(stores, fac, straight, None, m)
    v = validate_addresses(out, straight, m, raise_on_error=True)
    assert v.errors == [] and v.warnings == [] and out["warnings"].isna().all()
    bad = out.copy()
    bad.loc[0, "address"] = P + "고산자로36길 4, 101호"  # not the parent building's number
    assert any(e.startswith("form: address parts disagree") for e in validate_addresses(bad, straight, m).errors)
