"""Data QA for 3D pipe networks: impossible crossings, Z jumps at shared nodes, duplicates.

Each check returns a tidy DataFrame (one row per finding, empty when all is well) and logs one
summary line; all are vectorised (STRtree / KD-tree candidate pairs, numpy distances).

Examples
--------
Two pipes drawn through each other (centrelines 0.1 m apart, radii 0.15 + 0.1):

>>> import geopandas as gpd, shapely
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["water", "gas"], "source_id": ["w", "g"], "diameter_mm": [300.0, 200.0]},
...     geometry=[shapely.LineString([(0, 0, 10.0), (10, 0, 10.0)]),
...               shapely.LineString([(5, -5, 10.1), (5, 5, 10.1)])], crs="EPSG:5186")
>>> impossible_crossings(pipes)[["source_id_a", "source_id_b", "centre_distance_m", "overlap_m"]]
  source_id_a source_id_b  centre_distance_m  overlap_m
0           w           g                0.1       0.15
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from ..errors import InputError
from . import rules as _r
from .vertical import pipe_height_m

__all__ = ["duplicate_pipes", "impossible_crossings", "qa_report", "z_jumps"]

logger = logging.getLogger(__name__)


def _need_3d(pipes: gpd.GeoDataFrame, what: str) -> np.ndarray:
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"{what} needs a GeoDataFrame, got {type(pipes).__name__}"
        raise InputError(msg)
    g = pipes.geometry.to_numpy()
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    if ok.any() and not shapely.has_z(g[ok]).all():
        msg = f"{what} needs 3D centrelines; run pipes_to_3d(pipes, dem) first"
        raise InputError(msg)
    out = np.full(len(g), None, dtype=object)
    out[ok] = g[ok]
    return out


def _labels(pipes: pd.DataFrame, col: str) -> np.ndarray:
    return _r.object_column(pipes, col)


def impossible_crossings(pipes3d: gpd.GeoDataFrame, *, tolerance: float = 0.0) -> pd.DataFrame:
    """Pairs of pipes whose 3D centrelines are closer than the sum of their radii (+ tolerance).

    Two solid pipes cannot occupy the same space, so such pairs reveal wrong depths or sizes.
    Radii are half the diameter, or half the *smaller* side of a box (only certain overlaps are
    reported). Pipes of one utility that meet in plan at an end (network connections) are
    skipped.

    Returns
    -------
    pandas.DataFrame
        ``pipe_a``, ``pipe_b`` (index labels), ``source_layer_a/b``, ``source_id_a/b``,
        ``utility_a/b``, ``centre_distance_m``, ``radii_m``, ``overlap_m``.
    """
    geoms = _need_3d(pipes3d, "impossible_crossings")
    radius = _r.pipe_radius_m(pipes3d, box="min")
    reach = 2.0 * float(radius.max(initial=0.0)) + tolerance
    pairs = _r.pair_distances(geoms, reach)
    i = pairs["i"].to_numpy(dtype=np.int64)
    j = pairs["j"].to_numpy(dtype=np.int64)
    util = _labels(pipes3d, "utility")
    d = pairs["dist3d"].to_numpy()
    radii = radius[i] + radius[j]
    connected = pairs["touch2d"].to_numpy(dtype=bool) & (util[i] == util[j])
    bad = (d < radii + tolerance) & ~connected & (radii > 0)
    out = _pair_frame(pipes3d, i[bad], j[bad])
    out["centre_distance_m"] = np.round(d[bad], 4)
    out["radii_m"] = np.round(radii[bad], 4)
    out["overlap_m"] = np.round(radii[bad] - d[bad], 4)
    logger.info("impossible_crossings: %s pipes, %s close pairs -> %s overlapping",
                f"{len(pipes3d):,}", f"{len(i):,}", f"{len(out):,}")
    return out.sort_values("overlap_m", ascending=False, ignore_index=True)


def _pair_frame(pipes: pd.DataFrame, i: np.ndarray, j: np.ndarray) -> pd.DataFrame:
    labels = pipes.index.to_numpy()
    out = pd.DataFrame({"pipe_a": labels[i], "pipe_b": labels[j]})
    for col in ("source_layer", "source_id", "utility"):
        v = _labels(pipes, col)
        out[f"{col}_a"] = pd.Series(v[i], dtype="str")
        out[f"{col}_b"] = pd.Series(v[j], dtype="str")
    return out


def z_jumps(pipes3d: gpd.GeoDataFrame, *, tolerance: float = 0.3,
            xy_tolerance: float = 0.01) -> pd.DataFrame:
    """Ends of pipes of one utility that meet in plan (within ``xy_tolerance``) at different
    heights.

    Pipes of different sizes may legitimately align on their crowns, centres or inverts; a
    jump is reported when none of the three differs by at most ``tolerance`` metres.

    Returns
    -------
    pandas.DataFrame
        ``pipe_a``, ``pipe_b``, ``source_*_a/b``, ``x``, ``y``, ``dz_centre_m``, ``dz_top_m``,
        ``dz_invert_m``, ``jump_m`` (the smallest of the three).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"utility": ["sewer"] * 2, "source_id": ["a", "b"],
    ...                       "diameter_mm": [300.0, 300.0]},
    ...                      geometry=[shapely.LineString([(0, 0, 10), (5, 0, 10)]),
    ...                                shapely.LineString([(5, 0, 9), (9, 0, 9)])], crs="EPSG:5186")
    >>> z_jumps(p)[["source_id_a", "source_id_b", "jump_m"]]
      source_id_a source_id_b  jump_m
    0           a           b     1.0
    """
    geoms = _need_3d(pipes3d, "z_jumps")
    n = len(geoms)
    ok = geoms != None  # noqa: E711  (object array of geometries)
    first = shapely.get_coordinates(shapely.get_point(geoms[ok], 0), include_z=True)
    last = shapely.get_coordinates(shapely.get_point(geoms[ok], -1), include_z=True)
    rows = np.flatnonzero(ok)
    pts = np.vstack([first, last])
    owner = np.r_[rows, rows]
    cols = ["pipe_a", "pipe_b", "x", "y", "dz_centre_m", "dz_top_m", "dz_invert_m", "jump_m"]
    if not len(pts):
        return pd.DataFrame({c: [] for c in cols})
    pairs = cKDTree(pts[:, :2]).query_pairs(xy_tolerance, output_type="ndarray")
    a, b = pairs[:, 0], pairs[:, 1]
    util = _labels(pipes3d, "utility")
    keep = (owner[a] != owner[b]) & (util[owner[a]] == util[owner[b]])
    a, b = a[keep], b[keep]
    half = np.nan_to_num(pipe_height_m(pipes3d).to_numpy(dtype=np.float64, na_value=np.nan)) / 2
    za, zb = pts[a, 2], pts[b, 2]
    ha, hb = half[owner[a]], half[owner[b]]
    dc = np.abs(za - zb)
    dt = np.abs((za + ha) - (zb + hb))
    di = np.abs((za - ha) - (zb - hb))
    jump = np.minimum(np.minimum(dc, dt), di)
    bad = jump > tolerance
    i, j = owner[a][bad], owner[b][bad]
    swap = i > j
    i, j = np.where(swap, j, i), np.where(swap, i, j)
    out = _pair_frame(pipes3d, i, j)
    out["x"] = pts[a[bad], 0]
    out["y"] = pts[a[bad], 1]
    out["dz_centre_m"] = np.round(dc[bad], 4)
    out["dz_top_m"] = np.round(dt[bad], 4)
    out["dz_invert_m"] = np.round(di[bad], 4)
    out["jump_m"] = np.round(jump[bad], 4)
    logger.info("z_jumps: %s pipes, %s shared ends -> %s jumps > %.2f m", f"{n:,}",
                f"{len(a):,}", f"{len(out):,}", tolerance)
    return out.sort_values("jump_m", ascending=False, ignore_index=True)


def duplicate_pipes(pipes: gpd.GeoDataFrame, *, tolerance: float = 0.5,
                    min_length: float = 1.0) -> pd.DataFrame:
    """Near-identical centrelines from two different source layers (or agencies).

    Candidate pairs come from an STRtree (``dwithin tolerance``); a pair is a duplicate when
    the plan Hausdorff distance between the two centrelines is at most ``tolerance`` and both
    are at least ``min_length`` long. Works on 2D or 3D pipes (plan geometry).

    Returns
    -------
    pandas.DataFrame
        ``pipe_a``, ``pipe_b``, ``source_*_a/b``, ``agency_a/b``, ``hausdorff_m``,
        ``same_utility``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame(
    ...     {"utility": ["water", "water"], "source_layer": ["WTL_PIPE_LM", "OTHER"],
    ...      "source_id": ["1", "x"], "agency": ["A", "B"]},
    ...     geometry=[shapely.LineString([(0, 0), (20, 0)]),
    ...               shapely.LineString([(0.1, 0.2), (20.1, 0.1)])], crs="EPSG:5186")
    >>> duplicate_pipes(p)[["source_id_a", "source_id_b", "hausdorff_m", "same_utility"]]
      source_id_a source_id_b  hausdorff_m  same_utility
    0           1           x       0.2236          True
    """
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"duplicate_pipes needs a GeoDataFrame, got {type(pipes).__name__}"
        raise InputError(msg)
    g = shapely.force_2d(pipes.geometry.to_numpy())
    tree = shapely.STRtree(g)
    i, j = tree.query(g, predicate="dwithin", distance=tolerance)
    keep = i < j
    i, j = i[keep], j[keep]
    layer = _labels(pipes, "source_layer")
    agency = _labels(pipes, "agency")
    other = (layer[i] != layer[j]) | ((agency[i] != agency[j]) & pd.notna(agency[i])
                                      & pd.notna(agency[j]))
    i, j = i[other], j[other]
    length = shapely.length(g)
    long_enough = (length[i] >= min_length) & (length[j] >= min_length)
    i, j = i[long_enough], j[long_enough]
    hd = shapely.hausdorff_distance(g[i], g[j])
    dup = hd <= tolerance
    i, j = i[dup], j[dup]
    out = _pair_frame(pipes, i, j)
    out["agency_a"] = pd.Series(agency[i], dtype="str")
    out["agency_b"] = pd.Series(agency[j], dtype="str")
    out["hausdorff_m"] = np.round(hd[dup], 4)
    util = _labels(pipes, "utility")
    out["same_utility"] = util[i] == util[j]
    logger.info("duplicate_pipes: %s pipes -> %s duplicate pairs across layers",
                f"{len(pipes):,}", f"{len(out):,}")
    return out.sort_values("hausdorff_m", ignore_index=True)


def qa_report(pipes3d: gpd.GeoDataFrame, *, z_tolerance: float = 0.3,
              duplicate_tolerance: float = 0.5) -> dict[str, pd.DataFrame]:
    """All three checks: ``{"impossible_crossings": …, "z_jumps": …, "duplicates": …}``."""
    return {
        "impossible_crossings": impossible_crossings(pipes3d),
        "z_jumps": z_jumps(pipes3d, tolerance=z_tolerance),
        "duplicates": duplicate_pipes(pipes3d, tolerance=duplicate_tolerance),
    }
