"""Building structure in an indoor scan: slabs, ceilings, walls, columns, lintels.

Per level:

1. points within a thin band over the floor slab or under the ceiling are slab or ceiling;
2. the remaining points are grouped into voxel-connected components; walls, columns and the
   wall over a door all reach up to the ceiling, while stalls, goods and facilities stop short
   of it, so only components that reach the top band are candidates;
3. in each candidate, vertical planes are found by a seeded RANSAC of lines in plan (a vertical
   plane projects to a line) and kept when their inliers span a good part of the storey
   height. Their inliers are structure. What sticks out of a wall or column by more than
   ``plane_tol`` — a hydrant cabinet, an AED, an exit sign — is not, and is segmented later.

Sparse, far-away walls are found as well as near ones, because a plane is supported by all of
its points, however far apart.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..pointcloud.segment import voxel_components
from .levels import levels_of_points

__all__ = ["CEILING", "OUTSIDE", "SLAB", "VERTICAL", "structure_classes", "structure_mask", "vertical_planes"]

#: codes of :func:`structure_classes`
OUTSIDE, SLAB, CEILING, VERTICAL = 4, 1, 2, 3

log = logging.getLogger(__name__)


def vertical_planes(
    xyz: NDArray[np.float64],
    *,
    tol: float = 0.03,
    min_span: float = 1.0,
    bin_width: float = 0.3,
    max_hole: float = 1.0,
    reach_z: float | None = None,
    min_points: int = 20,
    max_planes: int = 60,
    n_hypotheses: int = 256,
    sample: int = 4000,
    seed: int = 0,
) -> NDArray[np.bool_]:
    """Points lying on large vertical planes (walls, column faces), by RANSAC of plan lines.

    Parameters
    ----------
    xyz : ndarray of shape (N, 3)
    tol : float
        Largest distance from a plane for an inlier (m).
    min_span : float
        Height the inliers must span (m).
    bin_width : float
        Planes are accepted piecewise, in bins of this width along them: a bin counts when its
        inliers span ``min_span``...
    max_hole : float
        ... has no vertical gap larger than this (m)...
    reach_z : float, optional
        ... and, when given, reach up to this height (walls and columns reach the ceiling; a
        hydrant cabinet's face or a row of stall shutters does not).
    min_points : int
        A plane needs at least this many inliers.
    max_planes : int
        Planes searched at most.
    n_hypotheses : int
        Lines tried per plane (all scored at once).
    sample : int
        Hypotheses are scored on at most this many points; inliers are then taken from all.
    seed : int
        Seed of the random line samples (same input and seed, same result).

    Returns
    -------
    ndarray of bool, shape (N,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> wall = np.column_stack([rng.uniform(0, 5, 3000), np.zeros(3000), rng.uniform(0, 3.5, 3000)])
    >>> box = np.column_stack([rng.uniform(1, 1.7, 300), np.full(300, 0.15), rng.uniform(0.5, 1.5, 300)])
    >>> m = vertical_planes(np.vstack([wall, box]))
    >>> bool(m[:3000].all()), bool(m[3000:].any())
    (True, False)
    """
    n = len(xyz)
    mask = np.zeros(n, dtype=bool)
    if n < min_points:
        return mask
    rng = np.random.default_rng(seed)
    xy = xyz[:, :2] - xyz[:, :2].mean(axis=0)
    z = xyz[:, 2]
    free = np.arange(n)
    for _ in range(max_planes):
        if len(free) < min_points:
            break
        pts = xy[free]
        probe = pts if len(pts) <= sample else pts[rng.choice(len(pts), sample, replace=False)]
        a = probe[rng.integers(0, len(probe), n_hypotheses)]
        b = probe[rng.integers(0, len(probe), n_hypotheses)]
        d = b - a
        norm = np.hypot(d[:, 0], d[:, 1])
        ok = norm > 0.05
        if not ok.any():
            break
        normal = np.column_stack([-d[ok, 1], d[ok, 0]]) / norm[ok, None]
        offset = np.einsum("ij,ij->i", normal, a[ok])
        dist = np.abs(probe @ normal.T - offset)  # (sample, hypotheses)
        best = int(np.argmax((dist <= tol).sum(axis=0)))
        nrm, off = normal[best], offset[best]
        inl = np.abs(pts @ nrm - off) <= tol
        if inl.sum() < min_points:
            break
        # refine: the line through the inliers' centroid along their main direction
        c = pts[inl].mean(axis=0)
        _, _, vt = np.linalg.svd(pts[inl] - c, full_matrices=False)
        nrm = np.array([-vt[0, 1], vt[0, 0]])
        inl = np.abs((pts - c) @ nrm) <= tol
        if inl.sum() < min_points:
            break
        # accept the plane piecewise: bins along it that stand tall (and reach up to reach_z)
        hit = free[inl]
        along = np.floor(((pts[inl] - c) @ vt[0]) / bin_width).astype(np.int64)
        along -= along.min()
        z_hi = np.full(along.max() + 1, -np.inf)
        z_lo = np.full(along.max() + 1, np.inf)
        np.maximum.at(z_hi, along, z[hit])
        np.minimum.at(z_lo, along, z[hit])
        # and stand without holes: things stacked on a column (an extinguisher at its foot, an
        # AED, a camera high up) may share a front plane, but leave metres of air between them
        order = np.lexsort((z[hit], along))
        zs, bs = z[hit][order], along[order]
        step = np.where(bs[1:] == bs[:-1], np.diff(zs), 0.0)
        holes = np.zeros(len(z_hi))
        np.maximum.at(holes, bs[1:], step)
        good = (z_hi - z_lo >= min_span) & (holes <= max_hole)
        if reach_z is not None:
            good &= z_hi >= reach_z
        mask[hit[good[along]]] = True
        free = free[~inl]  # a rejected line's points are set aside too, so the search moves on
    return mask


def structure_mask(cloud: Any, levels: pd.DataFrame, **kwargs: Any) -> NDArray[np.bool_]:
    """True for points of the building's structure (and for points outside every level).

    Same parameters as :func:`structure_classes`.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> floor = np.column_stack([rng.uniform(0, 10, 2000), rng.uniform(0, 10, 2000), np.zeros(2000)])
    >>> wall = np.column_stack([np.zeros(4000), rng.uniform(0, 10, 4000), rng.uniform(0, 4, 4000)])
    >>> box = np.column_stack([rng.uniform(4, 5, 500), rng.uniform(4, 5, 500), rng.uniform(0, 1, 500)])
    >>> levels = pd.DataFrame({"floor": [1], "slab_z": [0.0], "ceiling_z": [4.0], "z_max": [4.1]})
    >>> m = structure_mask(np.vstack([floor, wall, box]), levels)
    >>> bool(m[:6000].mean() > 0.95), bool(m[6000:].mean() < 0.1)  # the box loses its foot
    (True, True)
    """
    return structure_classes(cloud, levels, **kwargs) > 0


def structure_classes(
    cloud: Any,
    levels: pd.DataFrame,
    *,
    point_levels: NDArray[np.int8] | None = None,
    slab_band: float = 0.08,
    ceiling_band: float = 0.08,
    top_band: float = 0.3,
    voxel: float = 0.25,
    plane_tol: float = 0.03,
    min_span: float = 0.25,
    seed: int = 0,
) -> NDArray[np.uint8]:
    """Structure class of every point: 0 not structure, 1 slab, 2 ceiling, 3 wall/column, 4 outside.

    Parameters
    ----------
    cloud : PointCloud or array of shape (N, 3)
    levels : DataFrame
        From :func:`~geo3d.indoor.levels.levels_from_cloud`.
    point_levels : array of int8, optional
        Floor number per point, when already computed.
    slab_band, ceiling_band : float
        Thickness of the floor and ceiling bands (m).
    top_band : float
        Components with points this close under the ceiling band reach the ceiling.
    voxel : float
        Voxel size linking points into components (m); coarse, so that sparse far-away walls
        hold together.
    plane_tol : float
        Distance from a wall or column face within which points are structure (m); things
        mounted on walls stand further out.
    min_span : float
        Planes must span this share of the storey height (lintels over doors span ~25 %).
    seed : int
        Seed of the plane search.

    Returns
    -------
    ndarray of uint8, shape (N,)
    """
    xyz = np.asarray(getattr(cloud, "xyz", cloud), dtype=np.float64)
    floors = levels_of_points(xyz, levels) if point_levels is None else np.asarray(point_levels)
    codes = np.where(floors == 0, OUTSIDE, 0).astype(np.uint8)
    ceilings = levels["ceiling_z"] if "ceiling_z" in levels else pd.Series(np.nan, index=levels.index)
    for floor, slab, ceiling, z_max in zip(
        levels["floor"].to_numpy(dtype=int),
        levels["slab_z"].to_numpy(dtype=float),
        ceilings.to_numpy(dtype=float),
        levels["z_max"].to_numpy(dtype=float),
        strict=True,
    ):
        idx = np.flatnonzero(floors == floor)
        if len(idx) == 0:
            continue
        z = xyz[idx, 2] - slab
        has_ceiling = bool(np.isfinite(ceiling))
        top = (ceiling if has_ceiling else z_max) - slab
        band = z < slab_band
        codes[idx[band]] = SLAB
        if has_ceiling:
            up = z > top - ceiling_band
            codes[idx[up]] = CEILING
            band |= up
        rest = idx[~band]
        if len(rest) == 0:
            continue
        comp, n_comp = voxel_components(xyz[rest], voxel)
        reach = z[~band] >= top - (ceiling_band if has_ceiling else 0.0) - top_band
        tall = np.unique(comp[reach & (comp >= 0)])
        order = np.argsort(comp, kind="stable")
        bounds = np.searchsorted(comp[order], np.arange(n_comp + 1))
        span = min_span * (top - slab_band - (ceiling_band if has_ceiling else 0.0))
        reach_z = slab + top - (ceiling_band if has_ceiling else 0.0) - top_band
        for c in tall:  # a few dozen walls and columns per level
            members = rest[order[bounds[c]:bounds[c + 1]]]
            on_plane = vertical_planes(
                xyz[members], tol=plane_tol, min_span=span, reach_z=reach_z, seed=seed + int(c)
            )
            codes[members[on_plane]] = VERTICAL
    n_struct = int((codes > 0).sum())
    log.info("structure_classes: %s of %s points are structure (%.0f %%; %s on walls and columns)",
             f"{n_struct:,}", f"{len(codes):,}", 100.0 * n_struct / max(len(codes), 1),
             f"{int((codes == VERTICAL).sum()):,}")
    return codes
