import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo3d.address import AddressError, assign_addresses, market_from_dict, validate_addresses
from geo3d.errors import Geo3DError

BASE = {"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구", "parent_road": "고산자로36길",
        "parent_number": "3", "crs": "EPSG:5186"}


@pytest.fixture
def setup():
    market = market_from_dict(dict(BASE))
    aisles = gpd.GeoDataFrame({"name": ["경동시장1통로"], "floor": [1]},
                              geometry=[shapely.LineString([(0, 0), (60, 0)])], crs="EPSG:5186")
    stores = gpd.GeoDataFrame({"object_id": [1, 2, 3], "floor": 1, "entrance_x": [5.0, 9.0, 25.0],
                               "entrance_y": [2.0, 2.0, -2.0]},
                              geometry=[shapely.box(4, 2, 6, 5), shapely.box(8, 2, 10, 5),
                                        shapely.box(24, -5, 26, -2)], crs="EPSG:5186")
    fac = gpd.GeoDataFrame({"object_id": [4], "kind": ["fire_extinguisher"], "floor": [1]},
                           geometry=[shapely.Point(50, 1.4)], crs="EPSG:5186")
    out = assign_addresses(stores, fac, aisles, None, market)
    return market, aisles, out


def test_clean_result_passes(setup):
    market, aisles, out = setup
    v = validate_addresses(out, aisles, market, raise_on_error=True)
    assert v.errors == [] and v.warnings == []


def break_(out, oid, **values):
    bad = out.copy()
    for k, val in values.items():
        bad.loc[bad["object_id"] == oid, k] = val
    return bad


@pytest.mark.parametrize(("change", "rule"), [
    ({"address": "서울특별시 동대문구 경동시장 1통로 1"}, "form"),
    ({"base_number": 2, "number": "2"}, "parity"),
    ({"base_number": 5, "number": "5"}, "distance"),
    ({"floor": 0}, "floor"),
    ({"label": "1F"}, "floors"),
    ({"ordinal": 1}, "floors"),
])
def test_each_error_rule(setup, change, rule):
    market, aisles, out = setup
    bad = break_(out, 1, **change)
    v = validate_addresses(bad, aisles, market)
    assert any(rule in e for e in v.errors), v.errors
    with pytest.raises(AddressError) as e:
        validate_addresses(bad, aisles, market, raise_on_error=True)
    assert isinstance(e.value, Geo3DError) and isinstance(e.value, ValueError)
    assert "1" in str(e.value)


def test_unique_and_monotonic(setup):
    market, aisles, out = setup
    bad = break_(out, 2, sub=pd.NA, number="1")
    assert any("unique" in e for e in validate_addresses(bad, aisles, market).errors)
    bad = break_(break_(out, 1, sub=2, number="1-2"), 2, sub=1, number="1-1")
    assert any("monotonic" in e for e in validate_addresses(bad, aisles, market).errors)


def test_missing_facility_address_is_an_error(setup):
    market, aisles, out = setup
    bad = break_(out, 4, address=None)
    errs = validate_addresses(bad, aisles, market).errors
    assert any("must get an address" in e for e in errs)


def test_reversed_aisle_warns(setup):
    market, _aisles, _out = setup
    long_ = gpd.GeoDataFrame({"name": ["경동시장1통로"], "floor": [1]},
                             geometry=[shapely.LineString([(0, 0), (200, 0)])], crs="EPSG:5186")
    stores = gpd.GeoDataFrame({"object_id": [1], "floor": [1], "entrance_x": [5.0], "entrance_y": [2.0]},
                              geometry=[shapely.box(4, 2, 6, 5)], crs="EPSG:5186")
    out = assign_addresses(stores, None, long_, None, market)
    v = validate_addresses(out, long_, market)
    assert v.errors == [] and any("reversed" in w for w in v.warnings)


@pytest.mark.parametrize(("oid", "change"), [
    (1, {"address": "서울특별시 동대문구 경동시장1통로 1 소화기"}),     # a store with a type suffix
    (4, {"address": "서울특별시 동대문구 경동시장1통로 6 옥내소화전"}),  # the wrong type
    (1, {"address": "서울특별시 동대문구 경동시장9통로 1"}),            # not its aisle
    (3, {"address": "서울특별시 동대문구 경동시장1통로 6"}),            # not its number
    (2, {"address": "서울특별시 동대문구 경동시장1통로 1-2"}),          # not its sub-number
    (1, {"address": "서울특별시 중구 경동시장1통로 1"}),                # not the market's 시군구
])
def test_address_parts_must_agree_with_the_record(setup, oid, change):
    market, aisles, out = setup
    errs = validate_addresses(break_(out, oid, **change), aisles, market).errors
    assert len(errs) == 1 and errs[0].startswith("form: address parts disagree") and errs[0].endswith(f" {oid}")


def test_every_offending_object_is_listed():
    market = market_from_dict(dict(BASE))
    aisles = gpd.GeoDataFrame({"name": ["경동시장1통로"], "floor": [1]},
                              geometry=[shapely.LineString([(0, 0), (400, 0)])], crs="EPSG:5186")
    n = 30
    stores = gpd.GeoDataFrame({"object_id": range(1, n + 1), "floor": 1},
                              geometry=[shapely.box(10 * i + 1, 2, 10 * i + 4, 5) for i in range(n)], crs="EPSG:5186")
    out = assign_addresses(stores, None, aisles, None, market)
    bad = out.copy()
    bad["base_number"] = bad["base_number"] + 1  # every store on the wrong side
    with pytest.raises(AddressError) as e:
        validate_addresses(bad, aisles, market, raise_on_error=True)
    parity = next(p for p in e.value.problems if p.startswith("parity"))
    assert parity.endswith(", ".join(str(i) for i in range(1, n + 1)))
    assert "fix the objects listed" in str(e.value)


def test_numbered_store_far_from_its_aisle(setup):
    market, aisles, out = setup
    bad = break_(out, 3, entrance_y=-9.0, offset_m=-9.0)
    assert any(e.startswith("entrance:") and e.endswith(" 3") for e in validate_addresses(bad, aisles, market).errors)


def test_unaddressed_objects_are_listed_with_their_reason(setup):
    market, aisles, _out = setup
    stores = gpd.GeoDataFrame({"object_id": [1, 2], "floor": [1, 1]},
                              geometry=[shapely.box(4, 2, 6, 5), shapely.box(4, 20, 6, 23)], crs="EPSG:5186")
    fac = gpd.GeoDataFrame({"object_id": [3], "kind": ["cctv"], "floor": [1]},
                           geometry=[shapely.Point(30, 1)], crs="EPSG:5186")
    out = assign_addresses(stores, fac, aisles, None, market)
    v = validate_addresses(out, aisles, market, raise_on_error=True)
    assert [u["object_id"] for u in v.unaddressed] == [2, 3]
    assert "max_offset" in v.unaddressed[0]["reason"] and "not addressed" in v.unaddressed[1]["reason"]
    silent = out.copy()
    silent.loc[silent["object_id"] == 2, "reason"] = None
    assert any("without a reason: 2" in e for e in validate_addresses(silent, aisles, market).errors)


def test_reversed_aisle_is_checked_by_the_validator_itself(setup):
    market, _aisles, _out = setup
    long_ = gpd.GeoDataFrame({"name": ["경동시장1통로"], "floor": [1]},
                             geometry=[shapely.LineString([(0, 0), (200, 0)])], crs="EPSG:5186")
    stores = gpd.GeoDataFrame({"object_id": [1], "floor": [1]}, geometry=[shapely.box(4, 2, 6, 5)], crs="EPSG:5186")
    out = assign_addresses(stores, None, long_, None, market).assign(warnings=None)
    assert any("reversed" in w for w in validate_addresses(out, long_, market).warnings)
