"""Warnings name the user's line, however deep in geo3d they are raised."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import shapely

from geo3d._warnings import PACKAGE_DIR, warn_at_caller
from geo3d.stats import aging_statistics


def test_warning_from_a_test_points_at_the_test():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_at_caller("look here", RuntimeWarning)
    assert caught[0].filename == __file__ and caught[0].category is RuntimeWarning


def test_warnings_raised_three_and_four_calls_deep_point_at_the_caller():
    bowtie = shapely.Polygon([(0, 0), (100, 100), (100, 0), (0, 100)])   # repaired: 4 deep
    areas = gpd.GeoDataFrame({"code": ["A", "B"]}, crs="EPSG:5186",
                             geometry=[bowtie, shapely.box(50, 0, 150, 100)])  # overlap: 5 deep
    pipes = gpd.GeoDataFrame({"utility": ["gas"], "install_year": pd.array([2000], "Int64")},
                             geometry=[shapely.LineString([(0, 50), (300, 50)])],
                             crs="EPSG:5186")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aging_statistics(pipes, areas, area_id="code", reference_date=2025)
    text = [str(w.message) for w in caught]
    assert any("make_valid" in t for t in text) and any("overlap" in t for t in text)
    assert any("outside every area" in t for t in text)
    assert {w.filename for w in caught} == {__file__}
    assert not __file__.startswith(PACKAGE_DIR)
