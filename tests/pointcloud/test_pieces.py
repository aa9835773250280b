"""Label steps of geo3d.pointcloud.pieces (moved from indoor/scan.py, issue 11)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo3d.pointcloud.pieces import (
    attach_trim,
    into_hosts,
    join_pieces,
    labels_of,
    point_wall_distance,
    relink,
    segment_wall_distance,
)


def test_join_pieces_keeps_kinds_and_floors_apart() -> None:
    xyz = np.array([[0, 0, 1.0], [0.2, 0, 1.0], [0.1, 0.1, 1.0], [0.3, 0, 1.0]])
    kinds = pd.Series([5, 5, 7, 5])
    assert join_pieces(xyz, np.array([0, 1, 2, 3]), kinds).tolist() == [0, 0, 2, 0]
    by = np.array([1, 1, 1, 2])
    assert join_pieces(xyz, np.array([0, 1, 2, 3]), kinds, by=by).tolist() == [0, 0, 2, 3]


def test_attach_trim_and_into_hosts() -> None:
    xyz = np.array([[0, 0, 3.0], [0.1, 0, 3.05], [0.5, 0, 3.0], [0.55, 0, 3.0]])
    out = attach_trim(xyz, np.array([0, 1, 2, 2]), facilities=np.array([0]), trim=np.array([1, 2]))
    assert out.tolist() == [0, 0, 2, 2]
    import geopandas as gpd
    import shapely

    objs = gpd.GeoDataFrame({"x": [1.0, 1.0, 1.0], "y": [1.0, 1.0, 1.5], "z_max": [2.9, 2.0, 3.5],
                             "floor": [1, 1, 1]},
                            geometry=[shapely.box(0, 0, 3, 2), shapely.box(0.9, 0.9, 1.1, 1.1),
                                      shapely.box(0.9, 1.4, 1.1, 1.6)])
    moved = into_hosts(objs, np.array([0, 1, 2]), movers=pd.Index([1, 2]), hosts=pd.Index([0]))
    assert moved.tolist() == [0, 0, 2]  # the one above the stall's top stays a facility


def test_oversized_segment_is_linked_again_finer() -> None:
    """Two stalls 0.4 m apart that one diagonal voxel step joined come apart at half the voxel."""
    from geo3d.pointcloud.segment import voxel_components

    t = np.arange(0, 2.87, 0.05)
    a = np.column_stack([t, np.full(len(t), 0.01), np.zeros(len(t))])        # ends at (2.86, 0.01)
    b = np.column_stack([3.14 + t, np.full(len(t), 0.29), np.zeros(len(t))])  # starts at (3.14, 0.29)
    xyz = np.concatenate([a, b])
    assert np.hypot(3.14 - 2.86, 0.29 - 0.01) > 0.35
    assert voxel_components(xyz, 0.15)[1] == 1  # diagonal neighbours: one segment
    out = relink(xyz, np.zeros(len(xyz), dtype=np.int64), np.array([0]), voxel=0.075)
    assert len(set(out[: len(a)])) == 1 and len(set(out[len(a):])) == 1 and out[0] != out[-1]


def test_wall_distances_and_labels_of() -> None:
    xyz = np.array([[0, 0, 1.0], [0.3, 0, 1.0], [0.6, 0, 1.0], [9, 0, 1.0]])
    d = point_wall_distance(xyz, np.array([True, False, False, False]), np.array([False, True, True, True]))
    np.testing.assert_allclose(d, [np.inf, 0.3, 0.6, np.inf])
    assert segment_wall_distance(d, np.array([-1, 0, 0, 1]), 2).tolist() == [0.3, np.inf]
    assert labels_of(np.array([-1, 0, 0, 1]), np.array([True, True, False, False])).tolist() == [0]
    assert point_wall_distance(xyz, np.zeros(4, dtype=bool), np.ones(4, dtype=bool)).tolist() == [np.inf] * 4


def test_pointcloud_never_imports_indoor() -> None:
    import ast
    from pathlib import Path

    import geo3d.pointcloud

    for path in Path(geo3d.pointcloud.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert "indoor" not in (node.module or ""), f"{path.name} imports {node.module}"
            elif isinstance(node, ast.Import):
                assert not any("indoor" in a.name for a in node.names), path.name
