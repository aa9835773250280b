"""Fixtures for the address tests: a market and small scenes built from literal geometries."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo3d.address import market_from_dict

BASE = {"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구", "parent_road": "고산자로36길",
        "parent_number": "3", "crs": "EPSG:5186"}


@pytest.fixture
def market():
    return market_from_dict(dict(BASE))


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
