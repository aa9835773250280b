"""From per-point segment labels to one row per object (a GeoDataFrame)."""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError
from .cloud import take_rows

__all__ = ["objects_from_segments"]

log = logging.getLogger(__name__)


def objects_from_segments(
    cloud: Any,
    labels: ArrayLike,
    *,
    levels: pd.DataFrame | None = None,
    point_levels: ArrayLike | None = None,
    footprint: str = "oriented",
    grid: float = 0.05,
) -> gpd.GeoDataFrame:
    """One row per segment: footprint, heights, size, colour and level.

    Parameters
    ----------
    cloud : PointCloud or array of shape (N, 3)
        With optional ``attrs["rgb"]`` (N×3, 8- or 16-bit) and ``attrs["intensity"]``.
    labels : array of int, shape (N,)
        Segment per point (from :func:`~geo3d.pointcloud.segment.segment_points`); −1 = none.
    levels : DataFrame, optional
        From :func:`~geo3d.indoor.levels.levels_from_cloud`; adds ``floor``,
        ``height_above_slab`` (base of the object above its floor) and ``below_ceiling`` (gap
        between its top and the ceiling).
    point_levels : array of int, optional
        Floor number per point (from :func:`~geo3d.indoor.levels.levels_of_points`); an
        object's floor is its points' most common one. Computed from ``levels`` when omitted.
    footprint : {"oriented", "hull"}
        Minimum rotated rectangle (default) or convex hull of the object's points in plan.
    grid : float
        Plan points are snapped to this grid before the footprint is built (speed).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``object_id`` (the label), with ``n_points``, ``x``, ``y`` (centroid of the
        points), ``z_min``, ``z_max``, ``height``, ``length``, ``width`` (of the oriented
        rectangle, length ≥ width), ``area``, ``red``, ``green``, ``blue`` (0–255 means),
        ``intensity``, and with levels ``floor``, ``height_above_slab``, ``below_ceiling``;
        geometry = footprint Polygon, in the cloud's CRS.

    Examples
    --------
    >>> xyz = np.array([[0, 0, 0], [2, 0, 0], [2, 1, 0.5], [0, 1, 1.0], [5, 5, 0], [5.1, 5, 0.3]])
    >>> objs = objects_from_segments(xyz, [0, 0, 0, 0, 1, 1])
    >>> objs[["n_points", "z_max", "length", "width"]]
               n_points  z_max  length  width
    object_id
    0                 4    1.0     2.0    1.0
    1                 2    0.3     0.1    0.0
    """
    if footprint not in ("oriented", "hull"):
        raise InputError(f"footprint must be 'oriented' or 'hull', not {footprint!r}")
    xyz = np.asarray(getattr(cloud, "xyz", cloud), dtype=np.float64)
    lab = np.asarray(labels, dtype=np.int64)
    if lab.shape != (len(xyz),):
        raise InputError(f"labels has shape {lab.shape}; it must have one label per point ({len(xyz)})")
    attrs: dict[str, np.ndarray] = getattr(cloud, "attrs", {})
    crs = getattr(cloud, "crs", None)
    sel = np.flatnonzero(lab >= 0)
    if len(sel) == 0:
        # no objects: the same columns, empty
        cols = ["x", "y", "z_min", "z_max", "height", "length", "width", "area"]
        if "rgb" in attrs:
            cols += ["red", "green", "blue"]
        if "intensity" in attrs:
            cols.append("intensity")
        if levels is not None and len(levels):
            cols += ["height_above_slab", "below_ceiling"]
        empty: dict[str, Any] = {"n_points": pd.Series(dtype=np.int64)}
        empty.update({c: pd.Series(dtype=np.float64) for c in cols})
        if levels is not None and len(levels):
            empty["floor"] = pd.Series(dtype=np.int64)
        return gpd.GeoDataFrame(
            empty,
            geometry=gpd.GeoSeries([], crs=crs),
            index=pd.Index([], name="object_id", dtype=np.int64),
        )
    order = sel[_label_order(lab[sel])]
    sorted_lab = lab[order]
    starts = np.flatnonzero(np.r_[True, sorted_lab[1:] != sorted_lab[:-1]])  # sorted: no np.unique
    ids, counts = sorted_lab[starts], np.diff(np.r_[starts, len(order)])
    del sorted_lab

    def reduce(fn: Any, values: NDArray[Any]) -> NDArray[Any]:
        return np.asarray(fn.reduceat(values, starts, axis=0))

    # one column at a time (a few bytes per point alive at once, and no (N, 3) fancy gather)
    data: dict[str, Any] = {"n_points": counts}
    q = []
    for k, name in ((0, "x"), (1, "y")):
        pk = np.take(xyz[:, k], order)
        data[name] = reduce(np.add, pk) / counts
        pk /= grid
        q.append(np.round(pk, out=pk).astype(np.int64))  # the plan cell (round half to even)
        del pk
    pz = np.take(xyz[:, 2], order)
    data["z_min"], data["z_max"] = reduce(np.minimum, pz), reduce(np.maximum, pz)
    del pz
    data["height"] = data["z_max"] - data["z_min"]
    if "rgb" in attrs:
        rgb = take_rows(np.asarray(attrs["rgb"]), order).astype(np.float64)
        if max(rgb[:, k].max(initial=0) for k in range(rgb.shape[1])) > 255:
            rgb = rgb / 257.0
        mean = reduce(np.add, rgb) / counts[:, None]
        data["red"], data["green"], data["blue"] = mean[:, 0], mean[:, 1], mean[:, 2]
        del rgb
    if "intensity" in attrs:
        data["intensity"] = reduce(np.add, take_rows(np.asarray(attrs["intensity"]), order).astype(np.float64)) / counts

    # footprints: plan points snapped to a grid, deduplicated per object, then one vectorised call
    qx, qy = q
    del q
    xy0 = np.array([qx.min(), qy.min()])
    qx -= xy0[0]
    qy -= xy0[1]
    # one int64 key per (object, cell), (object · span_x + x) · span_y + y, built in place: a 1-D
    # sort is far faster than a row-wise unique
    span = (int(qx.max()) + 1, int(qy.max()) + 1)
    key = np.repeat(np.arange(len(ids), dtype=np.int64), counts)
    key *= span[0]
    key += qx
    del qx
    key *= span[1]
    key += qy
    del qy
    key.sort()
    # a vertex of the footprint's convex hull (or rectangle) is the lowest or highest occupied
    # cell of its column and of its row: keys sort by (object, column, row), so the column
    # extremes are the first and last of each run; the row extremes are then found among those
    col = key // span[1]
    edge = np.r_[True, col[1:] != col[:-1]] | np.r_[col[:-1] != col[1:], True]
    ukey = key[edge]
    ukey = ukey[np.r_[True, ukey[1:] != ukey[:-1]]]
    useg = ukey // (span[0] * span[1])
    cx, cy = np.divmod(ukey % (span[0] * span[1]), span[1])
    by_row = np.lexsort((cx, cy, useg))
    row = useg[by_row] * span[1] + cy[by_row]
    row_edge = np.r_[True, row[1:] != row[:-1]] | np.r_[row[:-1] != row[1:], True]
    vertex = np.sort(by_row[row_edge])  # back in (object, column, row) order
    useg, cx, cy = useg[vertex], cx[vertex], cy[vertex]
    plan = (np.column_stack([cx, cy]) + xy0) * grid
    # one LineString through each object's candidates (its hull and rectangle are those of the
    # points, and GEOS builds one geometry per object instead of one per point); an object of
    # a single cell repeats it, as a LineString needs two coordinates
    per = np.bincount(useg, minlength=len(ids))  # useg is sorted
    single = np.flatnonzero(per == 1)
    if len(single):
        at = np.r_[0, np.cumsum(per)][single]
        plan = np.insert(plan, at, plan[at], axis=0)
        per[single] = 2
    lines = shapely.from_ragged_array(shapely.GeometryType.LINESTRING, plan, (np.r_[0, np.cumsum(per)],))
    rect = shapely.oriented_envelope(lines)
    geom = shapely.convex_hull(lines) if footprint == "hull" else rect
    length, width = _rect_sides(rect)
    data["length"], data["width"] = length, width
    data["area"] = shapely.area(geom)

    objects = gpd.GeoDataFrame(data, geometry=geom, crs=crs, index=pd.Index(ids, name="object_id"))
    if levels is not None and len(levels):
        if point_levels is None:
            # the storey whose slab is the highest at most 0.3 m above the point (the rule of
            # geo3d.indoor.levels.levels_of_points, without the top of each storey's range)
            z = np.take(xyz[:, 2], order)
            lv_sorted = levels.sort_values("slab_z")
            i = np.searchsorted(lv_sorted["slab_z"].to_numpy(dtype=float) - 0.3, z, side="right") - 1
            floors = np.where(i >= 0, lv_sorted["floor"].to_numpy()[np.clip(i, 0, None)], 0)
        else:
            floors = np.asarray(point_levels)[order]
        seg = np.repeat(np.arange(len(ids), dtype=np.int64), counts)
        objects["floor"] = _mode_per_segment(seg, floors.astype(np.int64), len(ids))
        lv = levels.set_index("floor")
        slab = lv["slab_z"].reindex(objects["floor"]).to_numpy(dtype=float)
        ceiling = lv["ceiling_z"].reindex(objects["floor"]).to_numpy(dtype=float)
        objects["height_above_slab"] = objects["z_min"].to_numpy() - slab
        objects["below_ceiling"] = ceiling - objects["z_max"].to_numpy()
    log.info("objects_from_segments: %s labelled points -> %d objects", f"{len(sel):,}", len(objects))
    return objects


def _rect_sides(rect: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Longer and shorter side of each oriented rectangle (degenerate ones: a line or point)."""
    coords, idx = shapely.get_coordinates(rect, return_index=True)
    n = np.bincount(idx, minlength=len(rect))
    first = np.r_[0, np.cumsum(n)[:-1]]
    a = np.zeros(len(rect))
    b = np.zeros(len(rect))
    poly = n >= 4
    p0 = coords[first[poly]]
    a[poly] = np.hypot(*(coords[first[poly] + 1] - p0).T)
    b[poly] = np.hypot(*(coords[first[poly] + 2] - coords[first[poly] + 1]).T)
    line = n == 2
    a[line] = np.hypot(*(coords[first[line] + 1] - coords[first[line]]).T)
    return np.maximum(a, b), np.minimum(a, b)


def _mode_per_segment(seg: NDArray[np.int64], values: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Most common value per segment (ties: the smallest value)."""
    offset = values.min()
    width = int(values.max() - offset) + 1
    counts = np.bincount(seg * width + (values - offset), minlength=n * width).reshape(n, width)
    return np.asarray(counts.argmax(axis=1) + offset, dtype=np.int64)


def _label_order(labels: NDArray[np.int64]) -> NDArray[np.intp]:
    """``np.argsort(labels, kind="stable")`` for labels ≥ 0, as one or two 16-bit radix passes.

    NumPy sorts 16-bit integers by radix (linear time): several times faster than its
    stable sort of 64-bit ones, same order.
    """
    if len(labels) == 0 or int(labels.max()) >= 2**32:
        return np.argsort(labels, kind="stable")
    low = np.argsort((labels & 0xFFFF).astype(np.uint16), kind="stable")
    if int(labels.max()) < 2**16:
        return low
    high = (labels[low] >> 16).astype(np.uint16)
    return low[np.argsort(high, kind="stable")]
