"""Label steps that turn segments into objects: facility pieces, trim, goods, oversized links.

Each function takes per-point labels (−1 = none) and returns new labels; none loops over
points. :func:`geo3d.indoor.scan.segment_scan` chains them (with :mod:`geo3d.pointcloud.join`
for the plan joins of stall pieces).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .segment import Labels, voxel_components

__all__ = ["attach_trim", "into_hosts", "join_pieces", "labels_of", "point_wall_distance", "relink",
           "segment_wall_distance"]


def labels_of(labels: Labels, keep: NDArray[np.bool_]) -> NDArray[np.int64]:
    """The labels (sorted, once each) of the ``keep`` points that have one.

    Examples
    --------
    >>> labels_of(np.array([3, 3, -1, 1, 2]), np.array([True, True, True, True, False])).tolist()
    [1, 3]
    """
    return np.unique(labels[keep & (labels >= 0)])


def point_wall_distance(xyz: NDArray[np.float64], vertical: NDArray[np.bool_], candidates: NDArray[np.bool_],
                         reach: float = 1.0) -> NDArray[np.float64]:
    """3D distance from each ``candidates`` point to the nearest wall or column point.

    ``inf`` beyond ``reach``, for points that are not candidates, or when there is no wall.
    Computed once per scan: segments change as they are split and joined, their points do not.

    Examples
    --------
    >>> xyz = np.array([[0, 0, 1.0], [0.3, 0, 1.0], [5, 0, 1.0]])
    >>> point_wall_distance(xyz, np.array([True, False, False]), np.array([False, True, True])).tolist()
    [inf, 0.3, inf]
    """
    out = np.full(len(xyz), np.inf)
    if not vertical.any():
        return out
    sel = np.flatnonzero(candidates)
    d, _ = cKDTree(xyz[vertical]).query(xyz[sel], k=1, distance_upper_bound=reach, workers=-1)
    out[sel] = d
    return out


def segment_wall_distance(point_distance: NDArray[np.float64], labels: Labels, n: int) -> NDArray[np.float64]:
    """Smallest distance from each segment 0..n−1 to a wall or column (per-point distances in).

    Examples
    --------
    >>> segment_wall_distance(np.array([0.5, 0.2, 1.0]), np.array([0, 0, 1]), 3).tolist()
    [0.2, 1.0, inf]
    """
    out = np.full(n, np.inf)
    sel = np.flatnonzero(labels >= 0)
    np.minimum.at(out, labels[sel], point_distance[sel])
    return out


def join_pieces(xyz: NDArray[np.float64], labels: Labels, kinds: pd.Series, *, reach: float = 0.25,
                by: NDArray[np.integer[Any]] | None = None) -> Labels:
    """Join segments of the same facility kind whose points come within about ``reach``.

    Two facilities of one kind are never mounted a hand's width apart, so two such pieces are
    one object broken by an occlusion or by the edge of the column it wraps around.

    Parameters
    ----------
    xyz : ndarray of shape (N, 3)
    labels : ndarray of int, shape (N,)
        Segment per point (−1 none).
    kinds : Series
        Class code per segment (index = label); segments with code 0 are left alone.
    reach : float
        Linking distance (m; voxel size of the join).
    by : ndarray of int, shape (N,), optional
        Group per point (the floor): pieces of different groups never join.

    Returns
    -------
    ndarray of int64: labels with joined pieces sharing the smallest label of their group.

    Examples
    --------
    >>> xyz = np.array([[0, 0, 1.0], [0.2, 0, 1.0], [3, 0, 1.0]])
    >>> join_pieces(xyz, np.array([0, 1, 2]), pd.Series([5, 5, 5])).tolist()
    [0, 0, 2]
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(kinds) == 0 or reach <= 0:
        return labels
    lut = np.zeros(int(labels.max()) + 2, dtype=np.int64)
    lut[kinds.index.to_numpy()] = kinds.to_numpy()
    code = np.where(labels >= 0, lut[np.clip(labels, 0, None)], 0)
    idx = np.flatnonzero(code > 0)
    if len(idx) < 2:
        return labels
    group = code[idx].astype(np.float64) + (0.0 if by is None else np.asarray(by)[idx] * 100.0)
    # kinds and floors on layers far apart in a 4th coordinate folded into x
    span = float(np.ptp(xyz[idx, 0])) + 10 * reach
    pts = xyz[idx].copy()
    pts[:, 0] += (group - group.min()) * span
    comp, _ = voxel_components(pts, reach)
    seg_u, seg_inv = np.unique(labels[idx], return_inverse=True)
    # the smallest label of each component
    first = np.full(int(comp.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, comp, labels[idx])
    seg_new = np.full(len(seg_u), np.iinfo(np.int64).max)
    np.minimum.at(seg_new, seg_inv, first[comp])
    out = labels.copy()
    out[idx] = seg_new[seg_inv]
    return out


def attach_trim(xyz: NDArray[np.float64], labels: Labels, *, facilities: NDArray[np.int64],
                trim: NDArray[np.int64], reach: float = 0.15,
                by: NDArray[np.integer[Any]] | None = None) -> Labels:
    """Give each ``trim`` segment touching a ``facilities`` segment (within ``reach``) to it.

    Parameters
    ----------
    xyz : ndarray of shape (N, 3)
    labels : ndarray of int, shape (N,)
    facilities, trim : ndarray of int
        Labels of the facility segments and of the small unclassified ones that may belong to
        one.
    reach : float
        Linking distance (voxel size, m).
    by : ndarray of int, shape (N,), optional
        Group per point (the floor): segments of different groups never join.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> xyz = np.array([[0, 0, 3.0], [0.1, 0, 3.0], [2, 0, 3.0]])
    >>> attach_trim(xyz, np.array([0, 1, 2]), facilities=np.array([0]), trim=np.array([1, 2])).tolist()
    [0, 0, 2]
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(facilities) == 0 or len(trim) == 0:
        return labels
    is_fac = np.isin(labels, facilities)
    idx = np.flatnonzero(is_fac | np.isin(labels, trim))
    pts = xyz[idx].copy()
    if by is not None:
        g = np.asarray(by)[idx].astype(np.float64)
        pts[:, 0] += (g - g.min()) * (float(np.ptp(pts[:, 0])) + 10 * reach)
    comp, _ = voxel_components(pts, reach)
    big = np.iinfo(np.int64).max
    target = np.full(int(comp.max()) + 1, big)
    np.minimum.at(target, comp[is_fac[idx]], labels[idx][is_fac[idx]])
    frame = pd.DataFrame({"seg": labels[idx], "to": target[comp]})[~is_fac[idx]]
    to = frame.groupby("seg")["to"].min()
    to = to[to < big]
    if to.empty:
        return labels
    lut = np.arange(int(labels.max()) + 1)
    lut[to.index.to_numpy()] = to.to_numpy()
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)


def into_hosts(objects: gpd.GeoDataFrame, labels: Labels, *, movers: pd.Index, hosts: pd.Index,
               headroom: float = 0.2) -> Labels:
    """Merge each mover into the host whose footprint holds its centroid (same floor).

    A mover joins only a host at least as tall as it (its top at most ``headroom`` above the
    host's top): goods on a stall's shelf, not a sign hanging over the aisle beside it.

    Examples
    --------
    >>> import shapely
    >>> objs = gpd.GeoDataFrame({"x": [1.0, 1.0], "y": [1.0, 5.0], "z_max": [2.9, 1.5], "floor": [1, 1]},
    ...     geometry=[shapely.box(0, 0, 3, 2), shapely.box(0.9, 4.9, 1.1, 5.1)])
    >>> into_hosts(objs, np.array([0, 1]), movers=pd.Index([1]), hosts=pd.Index([0])).tolist()
    [0, 1]
    """
    import shapely

    if len(movers) == 0 or len(hosts) == 0:
        return labels
    h = objects.loc[hosts]
    m = objects.loc[movers]
    tree = shapely.STRtree(h.geometry.to_numpy())
    mi, hi = tree.query(shapely.points(m["x"].to_numpy(), m["y"].to_numpy()), predicate="within")
    ok = ((m["floor"].to_numpy()[mi] == h["floor"].to_numpy()[hi])
          & (m["z_max"].to_numpy()[mi] <= h["z_max"].to_numpy()[hi] + headroom))
    if not ok.any():
        return labels
    pairs = pd.DataFrame({"m": movers.to_numpy()[mi[ok]], "h": hosts.to_numpy()[hi[ok]]}).drop_duplicates("m")
    lut = np.arange(int(labels.max()) + 1)
    lut[pairs["m"].to_numpy()] = pairs["h"].to_numpy()
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)


def relink(xyz: NDArray[np.float64], labels: Labels, which: NDArray[np.int64], *, voxel: float) -> Labels:
    """Segment the points of the segments ``which`` again at a finer ``voxel`` (new labels).

    A stall-like segment larger than any stall is two stalls that a voxel step linked across
    the gap between them; linked again at half the voxel they come apart.

    Examples
    --------
    >>> xyz = np.array([[0, 0, 0], [0.1, 0, 0], [0.5, 0, 0], [0.6, 0, 0.0]])
    >>> relink(xyz, np.zeros(4, dtype=np.int64), np.array([0]), voxel=0.2).tolist()
    [1, 1, 2, 2]
    """
    out = labels.copy()
    base = int(labels.max()) + 1
    for seg in which:  # a loop over a few oversized segments, each labelled in one call
        idx = np.flatnonzero(labels == seg)
        sub, _ = voxel_components(xyz[idx], voxel)
        out[idx] = np.where(sub >= 0, base + sub, -1)
        base += int(sub.max()) + 1
    return out
