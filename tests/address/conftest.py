"""Fixtures for the address tests: the sample market's place names (scenes are built in each test)."""

from __future__ import annotations

import pytest

from geo3d.address import market_from_dict

BASE = {"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구", "parent_road": "고산자로36길",
        "parent_number": "3", "crs": "EPSG:5186"}


@pytest.fixture
def market():
    return market_from_dict(dict(BASE))
