"""PipeIndex keeps no hidden state: the DEM-CRS check is remembered per live DEM object (not
per ``id()``, which Python reuses), envelope sizes and bounds are fields, ``attrs`` holds only
per-pipe columns, and an index pickles."""

from __future__ import annotations

import gc
import pickle

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine

from geo3d.errors import CRSError
from geo3d.io.raster import Dem
from geo3d.underground.excavation import build_index, excavate

CRS = "EPSG:5186"
PIT = shapely.box(0, 0, 4, 4)


def _pipes():
    return gpd.GeoDataFrame(
        {"source_id": ["w"], "utility": ["water"], "diameter_mm": [300.0],
         "accuracy_h_m": [0.2]},
        geometry=[shapely.LineString([(-10, 2, 28.65), (10, 2, 28.65)])], crs=CRS)


def _dem(crs):
    return Dem(np.full((40, 40), 30.0), Affine(1.0, 0, -20.0, 0, -1.0, 20.0), crs)


def test_dem_crs_check_is_remembered_only_while_the_dem_lives():
    index = build_index(_pipes())
    good = _dem(CRS)
    excavate(index, PIT, depth=2.5, dem=good)
    assert good in index._checked and len(index._checked) == 1
    del good
    gc.collect()
    assert len(index._checked) == 0     # a new DEM reusing the id() is not taken as checked
    with pytest.raises(CRSError, match="DEM"):
        excavate(index, PIT, depth=2.5, dem=_dem("EPSG:5179"))


def test_index_sizes_are_fields_and_attrs_hold_only_columns():
    index = build_index(_pipes())
    assert not [k for k in index.attrs if k.startswith("_")]
    assert all(len(v) == len(index) for v in index.attrs.values())
    assert index.max_a == pytest.approx((0.35, 0.0))        # 0.15 half width + 0.2 accuracy
    assert index.max_half_width(0.5) == pytest.approx(0.5)
    assert index.bounds.tolist() == [-10.0, 2.0, 10.0, 2.0]
    assert np.isnan(build_index(_pipes().iloc[:0]).bounds).all()


def test_index_pickles_and_scan_search_uses_its_series():
    index = build_index(_pipes())
    excavate(index, PIT, depth=2.5, dem=_dem(CRS))
    again = pickle.loads(pickle.dumps(index))
    assert len(again._checked) == 0 and again.max_a == index.max_a
    a = excavate(again, PIT, depth=2.5, ground=30.0, search="scan")
    b = excavate(index, PIT, depth=2.5, ground=30.0)
    assert a.conflicts["exposed_length_m"].tolist() == b.conflicts["exposed_length_m"].tolist()
    assert again.series2d() is again.series2d()
