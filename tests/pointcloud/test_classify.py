"""classify_objects: the default rule table on objects of known shape."""

import numpy as np
import pandas as pd
import pytest

from geo3d.errors import InputError, SchemaError
from geo3d.pointcloud.classify import DEFAULT_RULES, Rule, classify_objects, colour_classes


def objects(**cols):
    base = {"n_points": 400, "length": 3.0, "width": 2.0, "height": 2.9, "height_above_slab": 0.05,
            "red": 150.0, "green": 140.0, "blue": 130.0, "wall_distance": np.inf}
    n = max(len(v) if isinstance(v, list) else 1 for v in cols.values())
    return pd.DataFrame({k: (cols.get(k, v) if isinstance(cols.get(k, v), list) else [cols.get(k, v)] * n)
                         for k, v in base.items()})


def test_open_and_closed_stalls_are_stores_but_wall_residue_is_not():
    # an open stall; a closed one seen only through its shutter (a thin sheet clear of the
    # walls); the same thin sheet 5 cm off a wall (what is left of the wall's face)
    objs = objects(width=[2.0, 0.36, 0.3], wall_distance=[np.inf, np.inf, 0.05])
    assert classify_objects(objs).tolist() == [1, 1, 0]


def test_facilities_by_colour_height_and_mounting():
    red, green, white = (200.0, 22.0, 28.0), (24.0, 172.0, 74.0), (226.0, 226.0, 222.0)
    rows = [  # (rgb, length, width, height, base, wall) -> expected code
        (red, 0.3, 0.2, 0.55, 0.02, 0.05, 2),     # extinguisher standing at a column's foot
        (red, 0.75, 0.25, 0.9, 0.6, 0.02, 3),     # hydrant cabinet on a wall
        (green, 0.4, 0.05, 0.2, 2.25, 0.02, 4),   # exit sign over a door
        (green, 0.4, 0.25, 0.0, 2.35, 1.5, 0),    # a flat green patch of awning up there
        (green, 0.4, 0.2, 0.45, 1.2, 0.02, 5),    # AED cabinet on a column
        (green, 0.4, 0.2, 0.45, 1.2, 1.5, 5),     # an AED on a store's own partition (no wall near)
        (green, 0.4, 0.2, 0.3, 0.85, 1.5, 0),     # a green box on a counter: goods
        (red, 0.15, 0.1, 0.3, 1.3, 0.02, 6),      # fire alarm call point
        (white, 0.2, 0.2, 0.2, 2.6, 0.1, 7),      # camera under the ceiling
    ]
    objs = pd.DataFrame({
        "n_points": 60, "red": [r[0][0] for r in rows], "green": [r[0][1] for r in rows],
        "blue": [r[0][2] for r in rows], "length": [r[1] for r in rows], "width": [r[2] for r in rows],
        "height": [r[3] for r in rows], "height_above_slab": [r[4] for r in rows],
        "wall_distance": [r[5] for r in rows]})
    assert classify_objects(objs).tolist() == [r[6] for r in rows]


def test_rules_callable_and_errors():
    objs = objects(width=[2.0, 0.1])
    custom = [Rule("store", "length >= 2.5"), *DEFAULT_RULES[1:]]
    assert classify_objects(objs, rules=custom).tolist() == [1, 1]
    assert classify_objects(objs, method=lambda o: np.full(len(o), 8)).tolist() == [8, 8]
    with pytest.raises(InputError, match="returned"):
        classify_objects(objs, method=lambda o: [1])
    with pytest.raises(InputError, match="not one of"):
        classify_objects(objs, rules=[Rule("bench", "length > 0")])
    with pytest.raises(SchemaError, match="lack columns"):
        classify_objects(objs.drop(columns=["height_above_slab"]))


def test_colour_classes_16_bit():
    rgb = np.array([[200, 22, 28], [24, 172, 74], [128, 126, 120]]) * 257
    assert colour_classes(rgb).tolist() == [1, 2, 0]


def test_furniture_and_room_partitions_are_not_stores():
    # a 0.75 m table, a 1 m cart, a cupboard filling a 2.9 m room to its ceiling, a stall under a
    # 4.2 m hall ceiling, and a stall on a level without a scanned ceiling
    objs = objects(height=[0.75, 1.0, 2.8, 2.6, 2.6], length=[3.0, 1.6, 2.5, 3.0, 3.0])
    objs["below_ceiling"] = [2.1, 1.9, 0.05, 1.55, np.nan]
    assert classify_objects(objs).tolist() == [0, 0, 0, 1, 1]


def test_facilities_need_points_and_a_body():
    # issue 11: 962 false cctv on one scene were 3-9 points of off-white wall residue
    wall = (212.0, 205.0, 188.0)
    dark = (40.0, 40.0, 45.0)
    rows = [  # (rgb, n_points, length, width, height, base, below_ceiling) -> code
        (wall, 4, 0.3, 0.05, 0.3, 2.5, 1.2, 0),    # a few points of a wall: nothing
        (wall, 40, 0.4, 0.03, 0.4, 2.5, 1.2, 0),   # a flat patch of wall: nothing
        (dark, 40, 0.25, 0.12, 0.15, 3.6, 0.25, 7),  # a dark box hanging from the ceiling: CCTV
        (wall, 40, 0.25, 0.12, 0.15, 3.0, 1.5, 7),   # a white one on a wall bracket: CCTV
        ((200.0, 22.0, 28.0), 4, 0.12, 0.1, 0.15, 1.3, 2.5, 0),  # 4 red points: unclassified
        ((200.0, 22.0, 28.0), 30, 0.12, 0.1, 0.15, 1.3, 2.5, 6),  # a call point at hand height
        ((200.0, 22.0, 28.0), 30, 0.12, 0.1, 0.15, 2.2, 1.5, 0),  # red box too high for one
    ]
    objs = objects(red=[r[0][0] for r in rows], green=[r[0][1] for r in rows], blue=[r[0][2] for r in rows],
                   n_points=[r[1] for r in rows], length=[r[2] for r in rows], width=[r[3] for r in rows],
                   height=[r[4] for r in rows], height_above_slab=[r[5] for r in rows],
                   wall_distance=[0.05] * len(rows))
    objs["below_ceiling"] = [r[6] for r in rows]
    assert classify_objects(objs).tolist() == [r[7] for r in rows]


def test_no_camera_without_colour():
    # a real room scanned without RGB: a compact box under the ceiling may be a lamp or a speaker
    objs = objects(length=0.25, width=0.12, height=0.15, height_above_slab=2.6, wall_distance=np.inf)
    objs["below_ceiling"] = 0.2
    assert classify_objects(objs.drop(columns=["red", "green", "blue"])).tolist() == [0]
    assert classify_objects(objs.assign(red=40.0, green=40.0, blue=45.0)).tolist() == [7]
