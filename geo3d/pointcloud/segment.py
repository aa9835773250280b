"""Split points into segments (objects): one integer label per point, −1 for noise.

The default, ``"voxel_cc"``, puts the points on a voxel grid and labels the connected components
of occupied voxels (26-connectivity), which is what DBSCAN with ``eps ≈ voxel size`` and a low
``min_points`` finds, at a fraction of the time and memory: each voxel is looked at once and no
neighbour lists are built. ``"dbscan"`` runs Open3D's ``cluster_dbscan`` for comparison, and any
callable ``f(xyz, **kwargs) -> labels`` can be given instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from .._compat import import_open3d
from ..errors import InputError
from .cloud import take_rows

__all__ = ["SEGMENT_METHODS", "merge_in_plan", "segment_points", "split_at_gaps", "voxel_components"]

log = logging.getLogger(__name__)

Labels = NDArray[np.int64]

# dense grids are labelled in slabs of at most this many cells (a few MB of grid and labels)
_SLAB_CELLS = 1_000_000
# a grid with more cells per point than this goes to the sparse graph (labelling an empty cell
# costs ~1 ns, a point in the sparse graph ~200 ns)
_SPARSE_RATIO = 200


def _xyz(cloud: Any) -> NDArray[np.float64]:
    xyz = np.asarray(getattr(cloud, "xyz", cloud), dtype=np.float64)
    if xyz.ndim != 2 or xyz.shape[1] < 3:
        raise InputError(f"expected a PointCloud or an (N, 3) array, got shape {xyz.shape}")
    return xyz[:, :3]


def voxel_components(
    xyz: NDArray[np.float64], voxel_size: float, *, min_points: int = 1
) -> tuple[Labels, int]:
    """Connected components of the occupied voxels of ``xyz``.

    The grid is labelled slab by slab along its longest axis (connected-components-3d on at
    most ``_SLAB_CELLS`` cells at a time), and components that meet across a slab boundary are
    joined afterwards, so memory stays a few bytes per point whatever the extent. A grid whose
    cross-section alone is larger than a slab, or that is nearly empty (a few points spread
    far apart), goes to a sparse neighbour graph instead.

    Parameters
    ----------
    xyz : ndarray of shape (N, 3)
    voxel_size : float
        Edge of the cubic voxels; points in touching voxels (faces, edges or corners) join.
    min_points : int
        Components with fewer points are labelled −1.

    Returns
    -------
    labels : ndarray of int64, shape (N,)
        0..n−1 in order of each component's first point, −1 for noise.
    n : int
        Number of components kept.

    Examples
    --------
    >>> xyz = np.array([[0, 0, 0], [0.05, 0, 0], [0.15, 0.1, 0], [1, 1, 1], [5, 5, 5.0]])
    >>> voxel_components(xyz, 0.1, min_points=2)
    (array([ 0,  0,  0, -1, -1]), 1)
    """
    if voxel_size <= 0:
        raise InputError(f"voxel_size must be > 0, got {voxel_size}")
    if len(xyz) == 0:
        return np.empty(0, dtype=np.int64), 0
    # per column: a reduction along axis 0 of an (N, 3) array is ~20x slower than three of these
    lo = np.array([xyz[:, k].min() for k in range(3)])
    span = (np.array([xyz[:, k].max() for k in range(3)]) - lo) / voxel_size
    itype = np.int32 if span.max() < 2**31 - 2 else np.int64
    ijk = [_cells(xyz[:, k], lo[k], voxel_size, itype) for k in range(3)]
    shape = [int(c.max()) + 1 for c in ijk]
    along = int(np.argmax(shape))  # slabs across the longest axis: the smallest cross-section
    rest = [k for k in range(3) if k != along]
    n_cells = float(np.prod(np.array(shape, dtype=np.float64)))
    if shape[rest[0]] * shape[rest[1]] > _SLAB_CELLS or n_cells > max(_SLAB_CELLS, _SPARSE_RATIO * len(xyz)):
        comp: NDArray[np.integer[Any]] = _sparse_components(np.column_stack(ijk).astype(np.int64), np.array(shape))
    else:
        comp = _slab_components(ijk, along, shape)
    return _relabel(comp, min_points)


def _cells(x: NDArray[np.float64], lo: float, size: float, itype: Any) -> NDArray[np.integer[Any]]:
    """Cell index along one axis (one float temporary per call; truncation of values ≥ 0 = floor)."""
    t = x - lo
    t *= 1.0 / size
    return t.astype(itype)


def _slab_components(ijk: list[NDArray[np.integer[Any]]], along: int, shape: list[int]) -> NDArray[np.integer[Any]]:
    """Components (0-based) of the occupied cells ``ijk`` of a grid, labelled in slabs across ``along``.

    Each slab of at most ``_SLAB_CELLS`` cells is labelled on its own; two components of
    neighbouring slabs are one when cells of the one's last layer and the other's first layer
    touch, and those pairs are joined with a sparse graph at the end. ``ijk`` (one index array
    per axis) is emptied as its arrays are used, so that they can be freed early.
    """
    na, nb, nc = shape[along], *(shape[k] for k in range(3) if k != along)
    a = ijk.pop(along)
    b, c = ijk.pop(0), ijk.pop(0)
    layer = nb * nc
    width = max(1, _SLAB_CELLS // layer)
    n_slabs = -(-na // width)
    cell = b * nc  # keeps b's int32: a layer holds at most _SLAB_CELLS cells
    cell += c
    del b, c
    groups: list[Any]
    if n_slabs == 1:
        cell += a * layer
        groups = [slice(None)]
    else:
        slab, within = np.divmod(a, width)
        within *= layer
        cell += within  # the cell's index inside its slab (< _SLAB_CELLS)
        del within
        order = np.argsort(slab.astype(np.int16 if n_slabs < 2**15 else np.int32), kind="stable")
        bounds = np.searchsorted(slab[order], np.arange(n_slabs + 1))
        del slab
        groups = [order[bounds[s]:bounds[s + 1]] for s in range(n_slabs)]
    del a
    comp: NDArray[np.integer[Any]] = np.empty(len(cell), dtype=np.int64 if len(cell) >= 2**31 else np.int32)
    offset = 0
    pairs = []
    last = None  # labels (global, 1-based; 0 = empty) of the previous slab's last layer
    for s, pts in enumerate(groups):
        depth = min(width, na - s * width)
        at = cell[pts]
        grid = np.zeros(depth * layer, dtype=bool)
        grid[at] = True
        lab, n_lab = _label_grid(grid.reshape(depth, nb, nc))
        lab = lab.reshape(-1)
        del grid
        comp[pts] = lab[at]
        comp[pts] += offset - 1
        first = lab[:layer].reshape(nb, nc).astype(np.int64)
        if last is not None:
            pairs.append(_touching(last, np.where(first > 0, first + offset, 0)))
        top = lab[(depth - 1) * layer:].reshape(nb, nc).astype(np.int64)
        last = np.where(top > 0, top + offset, 0)
        offset += n_lab
        del lab
    if pairs:
        pa = np.concatenate([p[0] for p in pairs]) - 1
        pb = np.concatenate([p[1] for p in pairs]) - 1
        graph = sparse.coo_matrix((np.ones(len(pa), dtype=np.int8), (pa, pb)), shape=(offset, offset))
        _, root = csgraph.connected_components(graph, directed=False)
        comp = np.asarray(root.astype(comp.dtype)[comp])
    return comp


def _touching(lo: NDArray[np.int64], hi: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Label pairs of occupied cells in two adjacent layers that are 26-neighbours."""
    nb, nc = lo.shape
    ib, ic = np.nonzero(lo)  # the occupied cells of one layer (few), each against its 9 neighbours
    db, dc = (d.ravel() for d in np.meshgrid([-1, 0, 1], [-1, 0, 1], indexing="ij"))
    jb, jc = ib[:, None] + db, ic[:, None] + dc
    inside = (jb >= 0) & (jb < nb) & (jc >= 0) & (jc < nc)
    src = np.broadcast_to(lo[ib, ic][:, None], jb.shape)[inside]
    dst = hi[jb[inside], jc[inside]]
    hit = dst > 0
    return src[hit], dst[hit]


def _label_grid(grid: NDArray[np.bool_]) -> tuple[NDArray[np.integer[Any]], int]:
    """26-connected labels of a boolean grid (1..n, 0 = empty), and n.

    connected-components-3d (``cc3d``, in the ``pointcloud`` extra) does this several times
    faster than :func:`scipy.ndimage.label`, which is the fallback; both give the same
    components, and the caller renumbers them, so results do not depend on which ran.
    """
    # cc3d 4.1.1 sizes its union-find array from an estimate of the provisional labels that is
    # wrong for a line of voxels (every axis but one of length 1) with 26-connectivity: [1,1,0,1,0,1]
    # in a (6,1,1) grid raises "Label 3 cannot be mapped to union-find array of length 3". A
    # line is cheap for scipy, which labels it correctly.
    line = sum(int(d) > 1 for d in grid.shape) <= 1
    try:
        if line:
            raise ImportError
        import cc3d
    except ImportError:
        lab, n = ndimage.label(grid, structure=np.ones((3, 3, 3), dtype=bool))
        return np.asarray(lab), int(n)
    lab, n = cc3d.connected_components(grid, connectivity=26, return_N=True)
    return np.asarray(lab), int(n)


def _sparse_components(ijk: NDArray[np.int64], shape: NDArray[np.int64]) -> Labels:
    """Components of occupied voxels via a sparse adjacency graph (any extent)."""
    s = shape + 2  # room for the −1/+1 neighbours
    key = ((ijk[:, 0] + 1) * s[1] + (ijk[:, 1] + 1)) * s[2] + (ijk[:, 2] + 1)
    ukey, inverse = np.unique(key, return_inverse=True)
    # the 13 "forward" neighbour offsets of 26-connectivity
    offs = np.array(
        [(a, b, c) for a in (-1, 0, 1) for b in (-1, 0, 1) for c in (-1, 0, 1) if (a, b, c) > (0, 0, 0)]
    )
    shifts = (offs[:, 0] * s[1] + offs[:, 1]) * s[2] + offs[:, 2]
    rows, cols = [], []
    for shift in shifts:
        target = ukey + shift
        pos = np.searchsorted(ukey, target)
        pos = np.minimum(pos, len(ukey) - 1)
        hit = ukey[pos] == target
        rows.append(np.flatnonzero(hit))
        cols.append(pos[hit])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    graph = sparse.coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(len(ukey), len(ukey)))
    _, vox_label = csgraph.connected_components(graph, directed=False)
    return vox_label[inverse].astype(np.int64)


def _relabel(comp: NDArray[np.integer[Any]], min_points: int) -> tuple[Labels, int]:
    """Drop small components and renumber 0..n−1 in order of first appearance."""
    valid = comp >= 0
    if not valid.any():
        return np.full(len(comp), -1, dtype=np.int64), 0
    every = bool(valid.all())  # voxel components label every point: no index of the valid ones
    where = np.flatnonzero(valid) if not every else None
    del valid
    part = comp if where is None else comp[where]
    n = int(part.max()) + 1
    counts = np.bincount(part, minlength=n)
    # a component's first point starts a run of equal labels: the minimum over run starts is it
    starts = np.flatnonzero(np.r_[True, part[1:] != part[:-1]])
    first = np.full(n, len(comp), dtype=np.int64)
    np.minimum.at(first, part[starts], starts if where is None else where[starts])
    del starts
    keep = np.flatnonzero(counts >= max(min_points, 1))
    new = np.full(n, -1, dtype=np.int64)
    new[keep[np.argsort(first[keep], kind="stable")]] = np.arange(len(keep))
    if where is None:
        return new[part], len(keep)
    out = np.full(len(comp), -1, dtype=np.int64)
    out[where] = new[part]
    return out, len(keep)


def _voxel_cc(xyz: NDArray[np.float64], *, voxel_size: float = 0.1, min_points: int = 10) -> Labels:
    return voxel_components(xyz, voxel_size, min_points=min_points)[0]


def _dbscan(xyz: NDArray[np.float64], *, voxel_size: float = 0.1, min_points: int = 10) -> Labels:
    """Open3D's DBSCAN with eps = voxel_size·√3 (the reach of a 26-connected voxel step)."""
    o3d = import_open3d()
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(xyz))
    labels = np.asarray(pcd.cluster_dbscan(eps=voxel_size * np.sqrt(3), min_points=4), dtype=np.int64)
    return _relabel(labels, min_points)[0]


SEGMENT_METHODS: dict[str, Callable[..., Labels]] = {"voxel_cc": _voxel_cc, "dbscan": _dbscan}


def segment_points(
    cloud: Any,
    *,
    method: str | Callable[..., Labels] = "voxel_cc",
    voxel_size: float = 0.1,
    min_points: int = 10,
    mask: NDArray[np.bool_] | None = None,
    **kwargs: Any,
) -> Labels:
    """Label every point with a segment number (−1 = noise or not segmented).

    Parameters
    ----------
    cloud : PointCloud or array of shape (N, 3)
    method : {"voxel_cc", "dbscan"} or callable
        ``"voxel_cc"`` (default): connected components of ``voxel_size`` voxels.
        ``"dbscan"``: Open3D ``cluster_dbscan`` with ``eps = voxel_size·√3``.
        A callable is called as ``method(xyz, voxel_size=..., min_points=..., **kwargs)`` and must
        return one integer label per row of ``xyz`` (−1 for noise).
    voxel_size : float
        Linking distance (metres).
    min_points : int
        Segments with fewer points become noise (−1).
    mask : ndarray of bool, optional
        Segment only these points (e.g. not structure); the others get −1.

    Returns
    -------
    ndarray of int64, shape (N,)

    Examples
    --------
    >>> xyz = np.array([[0, 0, 0], [0.05, 0, 0], [3, 3, 3], [3.05, 3, 3]])
    >>> segment_points(xyz, min_points=2)
    array([0, 0, 1, 1])
    >>> segment_points(xyz, method="kmeans")
    Traceback (most recent call last):
    ...
    geo3d.errors.InputError: unknown segmentation method 'kmeans'; valid: dbscan, voxel_cc, or a callable
    """
    xyz = _xyz(cloud)
    if callable(method):
        fn = method
        name = getattr(method, "__name__", "callable")
    elif method in SEGMENT_METHODS:
        fn, name = SEGMENT_METHODS[method], method
    else:
        valid = ", ".join(sorted(SEGMENT_METHODS))
        raise InputError(f"unknown segmentation method {method!r}; valid: {valid}, or a callable")
    sel = None if mask is None else np.flatnonzero(mask)
    pts = xyz if sel is None else take_rows(xyz, sel)  # no copy of the whole cloud
    n_pts = len(pts)
    sub = np.full(0, -1, dtype=np.int64)
    if n_pts:
        sub = np.asarray(fn(pts, voxel_size=voxel_size, min_points=min_points, **kwargs))
        if sub.shape != (n_pts,):
            msg = f"segmentation method {name!r} returned {sub.shape} labels for {n_pts} points"
            raise InputError(msg)
    del pts
    if sel is None:
        labels = sub.astype(np.int64, copy=False)
    else:
        labels = np.full(len(xyz), -1, dtype=np.int64)
        labels[sel] = sub
    n_seg = int(sub.max()) + 1 if n_pts else 0
    log.info(
        "segment_points: %s points -> %s segments (%s noise) [%s]",
        f"{n_pts:,}", f"{n_seg:,}", f"{int(np.count_nonzero(sub < 0)):,}", name,
    )
    return labels


def merge_in_plan(
    xyz: NDArray[np.float64],
    labels: NDArray[np.int64],
    *,
    cell: float = 0.15,
    keep: NDArray[np.bool_] | None = None,
    by: NDArray[np.integer[Any]] | None = None,
) -> Labels:
    """Merge segments whose points come within about ``cell`` of each other in plan.

    Parts of one stall that do not touch in 3D (an awning over a table, a shutter housing over
    the front) overlap in plan; this joins them, the way a person outlines stalls on a floor
    plan. Segments flagged in ``keep`` (per point) are left alone.

    Parameters
    ----------
    xyz : ndarray of shape (N, 3)
    labels : ndarray of int, shape (N,)
        Segments to merge; −1 = none.
    cell : float
        Plan cell size: points in touching cells (8-neighbourhood) join.
    keep : ndarray of bool, shape (N,), optional
        Points whose segments are not merged (e.g. detected facilities).
    by : ndarray of int, shape (N,), optional
        Group of every point (e.g. its floor); segments of different groups never merge.

    Returns
    -------
    ndarray of int64: new labels, 0..n−1 in order of first appearance, −1 kept as −1.

    Examples
    --------
    >>> xyz = np.array([[0, 0, 0.5], [0.1, 0, 2.4], [1, 1, 0], [1.05, 1, 3.0]])
    >>> merge_in_plan(xyz, np.array([0, 1, 2, 3]))
    array([0, 0, 1, 1])
    """
    labels = np.asarray(labels, dtype=np.int64)
    movable = labels >= 0 if keep is None else (labels >= 0) & ~np.asarray(keep, dtype=bool)
    out = labels.copy()
    idx = np.flatnonzero(movable)
    if len(idx):
        layer = np.zeros(len(idx)) if by is None else np.asarray(by)[idx] * (3.0 * cell)
        flat = np.column_stack([xyz[idx, :2], layer])
        groups, _ = voxel_components(flat, cell)
        # a segment split across plan groups stays whole: join groups sharing a segment
        seg_u, seg_inv = np.unique(labels[idx], return_inverse=True)
        n_seg, n_grp = len(seg_u), int(groups.max()) + 1
        edges = sparse.coo_matrix(
            (np.ones(len(idx), dtype=np.int8), (seg_inv, n_seg + groups)),
            shape=(n_seg + n_grp, n_seg + n_grp),
        )
        _, comp = csgraph.connected_components(edges, directed=False)
        out[idx] = comp[seg_inv] + labels.max() + 1
    return _relabel(out, 1)[0]


def split_at_gaps(
    xyz: NDArray[np.float64],
    labels: Labels,
    *,
    which: NDArray[np.int64],
    min_gap: float = 0.07,
    largest_only: bool = False,
) -> Labels:
    """Split the segments ``which`` where their points leave a gap along their longest axis.

    Two objects that stand almost touching (an extinguisher 10 cm beside a hydrant cabinet)
    join in a voxel segmentation; along the line through both there is a clear gap between
    them, which this finds. Each segment is cut at every gap of at least ``min_gap`` metres in
    the projection of its points on its principal plan axis; with ``largest_only``, only at
    its widest gap (two objects side by side, not the scan-line gaps of a sparse one).

    Examples
    --------
    >>> xyz = np.array([[0, 0, 0], [0.1, 0, 0.2], [0.2, 0, 0.1], [0.32, 0, 0.3], [0.4, 0, 0.5]])
    >>> split_at_gaps(xyz, np.zeros(5, dtype=int), which=np.array([0]), min_gap=0.11)
    array([0, 0, 0, 1, 1])
    """
    labels = np.asarray(labels, dtype=np.int64).copy()
    sel = np.flatnonzero(np.isin(labels, which))
    if len(sel) == 0:
        return labels
    seg = labels[sel]
    order = np.argsort(seg, kind="stable")
    sel, seg = sel[order], seg[order]
    _, start, counts = np.unique(seg, return_index=True, return_counts=True)
    xy = xyz[sel, :2]
    mean = np.add.reduceat(xy, start, axis=0) / counts[:, None]
    d = xy - np.repeat(mean, counts, axis=0)
    # principal axis per segment from the 2x2 covariance (closed form)
    sxx = np.add.reduceat(d[:, 0] ** 2, start)
    syy = np.add.reduceat(d[:, 1] ** 2, start)
    sxy = np.add.reduceat(d[:, 0] * d[:, 1], start)
    angle = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    axis = np.column_stack([np.cos(angle), np.sin(angle)])
    t = np.einsum("ij,ij->i", d, np.repeat(axis, counts, axis=0))
    o = np.lexsort((t, seg))
    sel, seg, t = sel[o], seg[o], t[o]
    gap = np.where(seg[1:] == seg[:-1], np.diff(t), -np.inf)
    cut = np.r_[False, gap >= min_gap]
    if largest_only and len(gap):
        widest = np.full(int(seg.max()) + 1, -np.inf)
        np.maximum.at(widest, seg[1:], gap)
        at = np.r_[False, gap == widest[seg[1:]]]
        # the first widest gap of each segment only
        first = np.r_[False, np.diff(np.cumsum(at) - np.repeat(np.cumsum(at)[start], counts) > 0) > 0]
        cut &= at & first
    piece = np.cumsum(cut) - np.repeat(np.cumsum(cut)[start], counts)  # 0.. within each segment
    base = int(labels.max()) + 1
    labels[sel] = np.where(piece == 0, seg, base + np.cumsum(cut) - 1)
    return labels
