"""Walkable space of each level: the slab where no object or structure stands, from the points.

A plan grid at the scan's resolution (the median spacing of the floor points unless given):
a cell is walkable when floor points fall in it and nothing stands on it between ``min_h`` and
``max_h`` above the slab (walls, columns, stalls, goods, facilities); small scan shadows are
closed, stores' footprints are taken out, and the cells are turned into polygons.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from geo3d.indoor.walkable import walkable_area
>>> g = np.mgrid[0:10:0.1, 0:4:0.1].reshape(2, -1).T
>>> xyz = np.column_stack([g, np.zeros(len(g))])
>>> wall = np.column_stack([np.full(40, 5.0), np.linspace(0, 3.9, 40), np.full(40, 1.0)])
>>> pts = np.vstack([xyz, wall])
>>> levels = pd.DataFrame({"floor": [1], "slab_z": [0.0]})
>>> areas = walkable_area(pts, np.ones(len(pts), np.int8), levels, cell=0.1)
>>> 36 < float(areas["area_m2"].iloc[0]) < 40
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import ndimage

__all__ = ["floor_spacing", "walkable_area"]


def floor_spacing(xy: np.ndarray) -> float:
    """Median spacing of plan points (m): from their count per occupied 1 m cell."""
    if len(xy) == 0:
        return 0.1
    key = np.floor(xy - xy.min(axis=0)).astype(np.int64)
    _, counts = np.unique(key[:, 0] * (int(key[:, 1].max()) + 1) + key[:, 1], return_counts=True)
    return float(np.clip(1.0 / np.sqrt(np.median(counts)), 0.03, 0.5))


def _level_cells(xyz: np.ndarray, slab: float, cell: float, min_h: float,
                 max_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Walkable mask of one level and the grid origin."""
    h = xyz[:, 2] - slab
    origin = xyz[:, :2].min(axis=0) - cell
    ij = np.floor((xyz[:, :2] - origin) / cell).astype(np.int64)
    shape = tuple(ij.max(axis=0) + 2)
    flat = ij[:, 0] * shape[1] + ij[:, 1]
    floor = np.bincount(flat[np.abs(h) < min_h], minlength=shape[0] * shape[1]).reshape(shape) > 0
    block = np.bincount(flat[(h >= min_h) & (h < max_h)], minlength=shape[0] * shape[1]).reshape(shape) > 0
    floor = ndimage.binary_closing(floor, iterations=2)  # scan shadows a few cells wide
    free = floor & ~ndimage.binary_dilation(block)
    return ndimage.binary_opening(free), origin


def walkable_area(xyz: np.ndarray, level: np.ndarray, levels: pd.DataFrame, *, cell: float | None = None,
                  stores: Any = None, min_h: float = 0.12, max_h: float = 2.0) -> pd.DataFrame:
    """Walkable (Multi)Polygon of every level.

    Parameters
    ----------
    xyz : (n, 3) ndarray
        The scan's points.
    level : (n,) ndarray of int
        Floor number of every point (0 = none), as ``segment_scan`` gives it.
    levels : DataFrame
        ``floor`` and ``slab_z`` per level.
    cell : float, optional
        Grid cell (m); default the median spacing of each level's floor points.
    stores : GeoDataFrame, optional
        Store footprints (``floor``, geometry) taken out of the walkable space.
    min_h, max_h : float
        Heights above the slab: floor points lie below ``min_h``; anything between ``min_h`` and
        ``max_h`` blocks the way.

    Returns
    -------
    DataFrame
        ``floor``, ``cell_m``, ``area_m2`` and ``geometry`` (shapely), one row per level.
    """
    from rasterio import features
    from rasterio.transform import Affine

    rows = []
    for floor, slab in zip(levels["floor"].to_numpy(int), levels["slab_z"].to_numpy(float), strict=True):
        pts = xyz[level == floor]
        if len(pts) == 0:
            rows.append({"floor": int(floor), "cell_m": np.nan, "area_m2": 0.0, "geometry": shapely.Polygon()})
            continue
        c = cell or floor_spacing(pts[np.abs(pts[:, 2] - slab) < min_h, :2])
        c = max(float(c), 0.05)  # a 5 cm grid is finer than any walking need
        free, origin = _level_cells(pts, float(slab), c, min_h, max_h)
        tr = Affine(0.0, c, origin[0], c, 0.0, origin[1])  # rows run along x, columns along y
        polys = [shapely.geometry.shape(g) for g, v in features.shapes(free.astype(np.uint8), mask=free,
                                                                      transform=tr) if v == 1]
        geom = shapely.union_all(polys) if polys else shapely.Polygon()
        if stores is not None and len(stores):
            fp = np.asarray(stores.geometry.values)[stores["floor"].to_numpy().astype(int) == floor]
            if len(fp):
                geom = shapely.difference(geom, shapely.union_all(fp))
        geom = shapely.simplify(geom, c / 2)
        rows.append({"floor": int(floor), "cell_m": round(c, 3), "area_m2": round(float(geom.area), 1),
                     "geometry": geom})
    return pd.DataFrame(rows)
