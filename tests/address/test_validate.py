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
