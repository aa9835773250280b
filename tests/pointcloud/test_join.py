"""Plan joins of stall pieces (geo3d.pointcloud.join, moved from indoor/scan.py, issue 11)."""

from __future__ import annotations

import numpy as np

from geo3d.pointcloud.join import join_fragments


def test_join_fragments_keeps_neighbours_floors_and_facilities_apart() -> None:
    import geopandas as gpd
    import shapely

    # a stall in three pieces (0, 1, 2), its neighbour 0.35 m away (3), a piece on the floor
    # above (4), and a facility next to it that may not join (5)
    geoms = [shapely.box(0, 0, 1.2, 2.5), shapely.box(1.5, 0, 2.8, 2.5), shapely.box(0, 2.6, 2.8, 2.9),
             shapely.box(3.15, 0, 6.0, 2.5), shapely.box(1.3, 0, 1.4, 2.5), shapely.box(2.9, 1, 3.0, 1.2)]
    objs = gpd.GeoDataFrame({"floor": [1, 1, 1, 1, 2, 1]}, index=range(6), geometry=geoms)
    labels = np.array([0, 1, 2, 3, 4, 5, -1])
    eligible = np.array([True, True, True, True, True, False])
    out = join_fragments(objs, labels, eligible=eligible)
    # 0+1+2 is 2.9 m x 2.8 m (a stall); with 3 it would be 6 m long
    assert out.tolist() == [0, 0, 0, 3, 4, 5, -1]
    assert join_fragments(objs, labels, eligible=eligible, gap=0.0).tolist() == labels.tolist()


def test_join_fragments_across_an_open_stall() -> None:
    import geopandas as gpd
    import shapely

    # an open stall seen by its counter (0) and back shelf (1), 2.2 m apart; a counter and a
    # shelf (2, 3) with a long stall (4, too long to join either) standing between them; a short
    # box (5) 2 m from 0
    geoms = [shapely.box(0, 0, 2.5, 0.4), shapely.box(0.1, 2.6, 2.4, 2.7),
             shapely.box(10, 0, 12.5, 0.4), shapely.box(10, 2.6, 12.5, 2.7), shapely.box(8.0, 0.9, 12.1, 1.9),
             shapely.box(4.5, 0, 4.9, 0.4)]
    objs = gpd.GeoDataFrame({"floor": [1] * 6, "n_points": [400, 60, 400, 60, 400, 80]}, index=range(6),
                            geometry=geoms)
    objs["length"] = [2.5, 2.3, 2.5, 2.5, 4.1, 0.4]
    objs["width"] = [0.4, 0.1, 0.4, 0.1, 1.0, 0.4]
    labels = np.arange(6)
    out = join_fragments(objs, labels, gap=0.75, across=2.5)
    assert out[1] == out[0] == 0  # counter and shelf: one stall
    assert len({out[2], out[3], out[4]}) == 3  # not across the stall between
    assert out[5] == 5  # too short to be a counter or shelf
    assert join_fragments(objs, labels, gap=0.75).tolist() == labels.tolist()  # off by default
    # the stall on the floor above does not count as "between"
    objs2 = objs.assign(floor=[1, 1, 1, 1, 2, 1])
    assert join_fragments(objs2, labels, gap=0.75, across=2.5)[3] == 2
