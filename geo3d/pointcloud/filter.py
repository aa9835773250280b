"""Thinning and denoising: voxel downsampling with a map back to every point, outlier removal.

Both functions are vectorised numpy/scipy; neither imports open3d.

Examples
--------
>>> import numpy as np
>>> from geo3d.pointcloud import PointCloud, voxel_thin
>>> pc = PointCloud(np.array([[0.01, 0, 0], [0.02, 0, 0], [1.5, 0, 0]]))
>>> thin, inverse = voxel_thin(pc, 1.0)
>>> len(thin), inverse.tolist()
(2, [0, 0, 1])
>>> labels_thin = np.array([5, 8])
>>> labels_thin[inverse].tolist()   # labels spread back to every original point
[5, 5, 8]
"""

from __future__ import annotations

import logging
import math

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from .cloud import PointCloud

__all__ = ["remove_outliers", "voxel_keys", "voxel_thin"]

log = logging.getLogger(__name__)

_QUERY_BLOCK = 500_000  # points per KD-tree query block: bounds memory to ~block * (k+1) * 16 bytes


def voxel_keys(xyz: npt.NDArray[np.float64], size: float) -> npt.NDArray[np.int64]:
    """One int64 key per point naming its voxel (cube of edge ``size``), or an (N, 3) key array.

    Voxels are anchored at the minimum corner of the points. When the grid is too large for one
    int64 key, the integer (i, j, k) triples are returned instead (shape (N, 3)).

    Examples
    --------
    >>> import numpy as np
    >>> voxel_keys(np.array([[0.0, 0, 0], [0.4, 0, 0], [0.6, 0.6, 0]]), 0.5).tolist()
    [0, 0, 3]
    """
    size = _check_size(size)
    if len(xyz) == 0:
        return np.empty(0, dtype=np.int64)
    lo = xyz.min(axis=0)
    ijk = np.empty(xyz.shape, dtype=np.int64)
    tmp = np.empty(len(xyz))
    for c in range(3):  # column by column: no (N, 3) float temporaries
        np.subtract(xyz[:, c], lo[c], out=tmp)
        tmp /= size
        np.floor(tmp, out=tmp)
        ijk[:, c] = tmp
    dims = ijk.max(axis=0) + 1
    if math.prod(int(d) for d in dims) < 2**62:
        key = ijk[:, 0] * int(dims[1] * dims[2])
        key += ijk[:, 1] * int(dims[2])
        key += ijk[:, 2]
        return key
    return ijk


def voxel_thin(
    cloud: PointCloud, size: float
) -> tuple[PointCloud, npt.NDArray[np.int64]]:
    """Keep one point per voxel: the point nearest the centroid of the voxel's points.

    Deterministic (ties go to the earlier point) and the kept points stay in their original
    order, with their real attributes and original ``index``.

    Parameters
    ----------
    cloud : PointCloud
    size : float
        Voxel edge length in the cloud's units (metres), > 0.

    Returns
    -------
    thinned : PointCloud
        One point per occupied voxel.
    inverse : ndarray of int64, shape (len(cloud),)
        For every input point, the position of its voxel's representative in ``thinned``.
        Spread labels computed on ``thinned`` back to every point with ``labels[inverse]``.

    Raises
    ------
    InputError
        When ``size`` is not a positive finite number.

    Examples
    --------
    >>> import numpy as np
    >>> pc = PointCloud(np.array([[0.0, 0, 0], [0.1, 0, 0], [0.2, 0, 0], [5, 5, 5]]))
    >>> thin, inv = voxel_thin(pc, 1.0)
    >>> thin.index.tolist(), inv.tolist()   # (0.1, 0, 0) is nearest the centroid
    ([1, 3], [0, 0, 0, 1])
    """
    size = _check_size(size)
    n = len(cloud)
    if n == 0:
        return cloud.subset(np.empty(0, dtype=np.intp)), np.empty(0, dtype=np.int64)
    keys = voxel_keys(cloud.xyz, size)
    # group points by voxel with one sort (voxels numbered in key order)
    if keys.ndim == 1:
        order = np.argsort(keys)
        sk = keys[order]
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(sk[1:], sk[:-1], out=new[1:])
    else:
        order = np.lexsort(keys.T[::-1])
        sk = keys[order]
        new = np.empty(n, dtype=bool)
        new[0] = True
        new[1:] = np.any(sk[1:] != sk[:-1], axis=1)
    del sk
    gid = np.cumsum(new) - 1  # voxel id along the sorted order
    starts = np.flatnonzero(new)
    n_vox = len(starts)
    vox = np.empty(n, dtype=np.int64)
    vox[order] = gid
    counts = np.diff(np.append(starts, n))
    # squared distance of each point to its voxel's centroid (centred on the cloud's minimum
    # corner to keep float precision with large projected coordinates)
    local = cloud.xyz - cloud.xyz.min(axis=0)
    d2 = np.zeros(n)
    for c in range(3):
        centroid = np.bincount(vox, weights=local[:, c], minlength=n_vox) / counts
        d2 += (local[:, c] - centroid[vox]) ** 2
    # per voxel: the nearest point, ties to the earliest position
    d2s = d2[order]
    nearest = d2s == np.minimum.reduceat(d2s, starts)[gid]
    cand_pos = order[nearest]
    cand_gid = gid[nearest]
    cand_new = np.empty(len(cand_gid), dtype=bool)
    cand_new[0] = True
    np.not_equal(cand_gid[1:], cand_gid[:-1], out=cand_new[1:])
    reps = np.minimum.reduceat(cand_pos, np.flatnonzero(cand_new))  # voxels in key order
    by_position = np.argsort(reps, kind="stable")
    rank = np.empty(n_vox, dtype=np.int64)
    rank[by_position] = np.arange(n_vox)
    thinned = cloud.subset(reps[by_position])
    inverse = rank[vox].astype(np.int64, copy=False)
    log.info("voxel_thin: %s points -> %s (voxel %g)", f"{n:,}", f"{n_vox:,}", size)
    return thinned, inverse


def remove_outliers(
    cloud: PointCloud, *, k: int = 16, std_ratio: float = 2.0
) -> npt.NDArray[np.bool_]:
    """Statistical outlier removal: flag points far from their ``k`` nearest neighbours.

    For every point the mean distance to its ``k`` nearest neighbours (itself excluded) is
    computed with :class:`scipy.spatial.cKDTree` (all cores); points whose mean distance exceeds
    ``mean + std_ratio * std`` of all those means are outliers. Same rule as Open3D's
    ``remove_statistical_outlier``. Queries run in blocks, so memory stays bounded.

    Parameters
    ----------
    cloud : PointCloud
    k : int, default 16
        Number of neighbours (≥ 1).
    std_ratio : float, default 2.0
        Threshold in standard deviations (> 0); smaller removes more.

    Returns
    -------
    ndarray of bool, shape (len(cloud),)
        True for points to keep (inliers). Use ``cloud.subset(mask)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> pts = np.vstack([rng.normal(0, 0.1, (200, 3)), [[5.0, 5.0, 5.0]]])
    >>> keep = remove_outliers(PointCloud(pts), k=8)
    >>> bool(keep[-1]), int(keep.sum()) >= 190
    (False, True)
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        msg = f"k must be a positive integer; got {k!r}"
        raise InputError(msg)
    if not (isinstance(std_ratio, int | float) and math.isfinite(std_ratio) and std_ratio > 0):
        msg = f"std_ratio must be a positive number; got {std_ratio!r}"
        raise InputError(msg)
    n = len(cloud)
    if n < 2:
        return np.ones(n, dtype=bool)
    from scipy.spatial import cKDTree  # lazy: keeps `import geo3d.io.las` light

    k = min(int(k), n - 1)
    local = cloud.xyz - cloud.xyz.min(axis=0)
    tree = cKDTree(local)
    mean_d = np.empty(n)
    for start in range(0, n, _QUERY_BLOCK):
        stop = min(start + _QUERY_BLOCK, n)
        dist, _ = tree.query(local[start:stop], k=k + 1, workers=-1)
        # column 0 is the point itself (distance 0), unless an exact duplicate takes its place:
        # either way it is a zero distance, and the k others are the neighbours.
        mean_d[start:stop] = dist[:, 1:].mean(axis=1)
    threshold = mean_d.mean() + std_ratio * mean_d.std()
    keep = mean_d <= threshold
    log.info(
        "remove_outliers: %s points -> %s outliers (k=%d, std_ratio=%g)",
        f"{n:,}",
        f"{int(n - keep.sum()):,}",
        k,
        std_ratio,
    )
    return keep


def _check_size(size: float) -> float:
    if isinstance(size, bool) or not isinstance(size, int | float | np.floating | np.integer):
        msg = f"voxel size must be a number; got {size!r}"
        raise InputError(msg)
    size = float(size)
    if not (math.isfinite(size) and size > 0):
        msg = f"voxel size must be a positive finite number (metres); got {size!r}"
        raise InputError(msg)
    return size
