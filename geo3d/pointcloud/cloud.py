"""PointCloud: per-point numpy arrays plus a CRS, and the map back to the file they came from.

A :class:`PointCloud` is deliberately small: coordinates (``xyz``, float64 N×3), a dict of
per-point attribute arrays, an optional :class:`pyproj.CRS`, and ``index`` — the original
position of every point in its source file, so results computed on a cleaned, thinned or
cropped cloud can be written back to the file's points in their original order.

Examples
--------
>>> import numpy as np
>>> from geo3d.pointcloud import PointCloud
>>> pc = PointCloud(np.array([[0.0, 0, 0], [1, 2, 3], [4, 5, 6]]),
...                 attrs={"intensity": np.array([10, 20, 30], dtype=np.uint16)})
>>> len(pc), pc.bounds
(3, (0.0, 0.0, 0.0, 4.0, 5.0, 6.0))
>>> sub = pc.subset(pc.xyz[:, 2] > 1)
>>> sub.index.tolist(), sub.attrs["intensity"].tolist()
([1, 2], [20, 30])
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import CRS

from ..errors import CRSError, EmptyResultError, InputError

__all__ = ["PointCloud", "SourceInfo"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class SourceInfo:
    """Where a cloud's points came from, so results can be written back to that file.

    Attributes
    ----------
    path : Path
        The LAS/LAZ file read.
    point_count : int
        Number of points in that file (the length of full-resolution label arrays).
    duplicate_of : ndarray of int64 or None
        Only when cleaning dropped points: for every point of the file, the original index of the
        point kept in its place (itself when kept; the kept twin for an exact duplicate; −1 for a
        point dropped without a twin, e.g. NaN coordinates). ``None`` means nothing was dropped.
    """

    path: Path
    point_count: int
    duplicate_of: npt.NDArray[np.int64] | None = None


@dataclass(eq=False, repr=False)
class PointCloud:
    """Points as numpy arrays: coordinates, per-point attributes, CRS and original indices.

    Parameters
    ----------
    xyz : array_like, shape (N, 3)
        Coordinates (x = easting, y = northing, z = up), converted to float64 (no copy when they
        already are).
    attrs : dict of str to ndarray, optional
        Per-point arrays whose first dimension is N, e.g. ``intensity`` (uint16),
        ``rgb`` (uint16, N×3), ``return_number``, ``classification``, ``point_source_id``,
        ``gps_time`` and extra-bytes dimensions.
    crs : pyproj.CRS, optional
        Coordinate reference system of ``xyz``; ``None`` when unknown.
    index : array_like of int, optional
        Original index of every point in its source (default ``0 .. N-1``).
    source : SourceInfo, optional
        The file the points were read from (set by :func:`geo3d.io.las.read_las`).

    Examples
    --------
    >>> import numpy as np
    >>> pc = PointCloud(np.zeros((2, 3)))
    >>> pc
    PointCloud(2 points, attrs=[], crs=None)
    >>> pc.index
    array([0, 1])
    """

    xyz: npt.NDArray[np.float64]
    attrs: dict[str, np.ndarray] = field(default_factory=dict)
    crs: CRS | None = None
    index: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    source: SourceInfo | None = None

    def __post_init__(self) -> None:
        xyz = np.asarray(self.xyz, dtype=np.float64)
        if xyz.ndim != 2 or xyz.shape[1] != 3:
            msg = f"xyz must have shape (N, 3); got {xyz.shape}. Stack columns with np.column_stack((x, y, z))."
            raise InputError(msg)
        self.xyz = xyz
        n = xyz.shape[0]
        if len(self.index) == 0 and n > 0:
            self.index = np.arange(n, dtype=np.int64)
        else:
            self.index = np.asarray(self.index, dtype=np.int64)
            if self.index.shape != (n,):
                msg = f"index must have shape ({n},) like xyz; got {self.index.shape}"
                raise InputError(msg)
        attrs = {}
        bad = []
        for name, values in dict(self.attrs).items():
            arr = np.asarray(values)
            if arr.ndim == 0 or arr.shape[0] != n:
                bad.append(f"{name!r} has shape {arr.shape}")
            attrs[name] = arr
        if bad:
            msg = f"every attribute must have {n} rows like xyz: " + ", ".join(bad)
            raise InputError(msg)
        self.attrs = attrs
        if self.crs is not None and not isinstance(self.crs, CRS):
            try:
                self.crs = CRS.from_user_input(self.crs)
            except Exception as exc:
                msg = f"cannot understand crs={self.crs!r} ({exc}); pass e.g. 'EPSG:5186'"
                raise CRSError(msg) from exc

    def __len__(self) -> int:
        return int(self.xyz.shape[0])

    def __repr__(self) -> str:
        crs = None if self.crs is None else (self.crs.to_string() if self.crs.to_epsg() else self.crs.name)
        return f"PointCloud({len(self):,} points, attrs={sorted(self.attrs)}, crs={crs})"

    # convenient views -------------------------------------------------------------------
    @property
    def x(self) -> npt.NDArray[np.float64]:
        """Easting (a view of ``xyz[:, 0]``)."""
        return self.xyz[:, 0]

    @property
    def y(self) -> npt.NDArray[np.float64]:
        """Northing (a view of ``xyz[:, 1]``)."""
        return self.xyz[:, 1]

    @property
    def z(self) -> npt.NDArray[np.float64]:
        """Height (a view of ``xyz[:, 2]``)."""
        return self.xyz[:, 2]

    @property
    def bounds(self) -> tuple[float, float, float, float, float, float]:
        """``(xmin, ymin, zmin, xmax, ymax, zmax)`` of the points.

        Raises
        ------
        EmptyResultError
            When the cloud has no points.
        """
        if len(self) == 0:
            msg = "an empty point cloud has no bounds"
            raise EmptyResultError(msg)
        lo = self.xyz.min(axis=0)
        hi = self.xyz.max(axis=0)
        return (float(lo[0]), float(lo[1]), float(lo[2]), float(hi[0]), float(hi[1]), float(hi[2]))

    # selection and combination ----------------------------------------------------------
    def subset(self, selection: npt.ArrayLike) -> PointCloud:
        """A new cloud with the selected points (boolean mask of length N, or integer positions).

        Arrays are copied (numpy fancy indexing); ``index`` keeps the original indices, so
        results on the subset still map to the source file.

        Examples
        --------
        >>> import numpy as np
        >>> pc = PointCloud(np.arange(12.0).reshape(4, 3))
        >>> pc.subset([3, 1]).index.tolist()
        [3, 1]
        >>> len(pc.subset(np.array([True, False, True, False])))
        2
        """
        sel = np.asarray(selection)
        if sel.dtype == bool:
            if sel.shape != (len(self),):
                msg = f"a boolean mask must have shape ({len(self)},); got {sel.shape}"
                raise InputError(msg)
        elif sel.size == 0:
            sel = np.empty(0, dtype=np.intp)
        elif not np.issubdtype(sel.dtype, np.integer):
            msg = f"select points with a boolean mask or integer positions, not {sel.dtype}"
            raise InputError(msg)
        return PointCloud(
            take_rows(self.xyz, sel),
            {k: take_rows(v, sel) for k, v in self.attrs.items()},
            self.crs,
            take_rows(self.index, sel),
            self.source,
        )

    @staticmethod
    def concat(clouds: Iterable[PointCloud]) -> PointCloud:
        """Join clouds end to end (e.g. the chunks of a streamed file).

        All clouds must share the CRS and the attribute names.

        Raises
        ------
        InputError
            When no cloud is given or the attribute names differ.
        CRSError
            When the CRSs differ (mixing CRSs is an error, never a guess).

        Examples
        --------
        >>> import numpy as np
        >>> a = PointCloud(np.zeros((2, 3)), index=np.array([0, 1]))
        >>> b = PointCloud(np.ones((1, 3)), index=np.array([2]))
        >>> PointCloud.concat([a, b]).index.tolist()
        [0, 1, 2]
        """
        parts = list(clouds)
        if not parts:
            msg = "concat needs at least one PointCloud"
            raise InputError(msg)
        first = parts[0]
        names = set(first.attrs)
        for i, p in enumerate(parts[1:], start=1):
            if set(p.attrs) != names:
                msg = (
                    f"cloud {i} has attributes {sorted(p.attrs)} but cloud 0 has {sorted(names)}; "
                    "subset the attrs to the same names first"
                )
                raise InputError(msg)
            if not _same_crs(first.crs, p.crs):
                msg = f"cloud {i} has CRS {_crs_name(p.crs)} but cloud 0 has {_crs_name(first.crs)}; reproject first"
                raise CRSError(msg)
        source = first.source if all(p.source is first.source for p in parts) else None
        return PointCloud(
            np.concatenate([p.xyz for p in parts]),
            {k: np.concatenate([p.attrs[k] for p in parts]) for k in first.attrs},
            first.crs,
            np.concatenate([p.index for p in parts]),
            source,
        )

    # interop ------------------------------------------------------------------------------
    def to_open3d(self) -> Any:
        """An ``open3d.geometry.PointCloud`` with the points and, when present, colours.

        Colours come from ``attrs["rgb"]``, scaled to 0–1 (16-bit values, or 8-bit values when
        none exceeds 255). open3d is imported only here (``pip install 'geo3d[pointcloud]'``).
        """
        from .._compat import import_open3d

        o3d = import_open3d()
        pcd = o3d.geometry.PointCloud()
        pcd.points = o3d.utility.Vector3dVector(np.ascontiguousarray(self.xyz))
        rgb = self.attrs.get("rgb")
        if rgb is not None and rgb.ndim == 2 and rgb.shape[1] == 3 and len(rgb):
            top = 255.0 if rgb.max() <= 255 else 65535.0
            pcd.colors = o3d.utility.Vector3dVector(np.asarray(rgb, dtype=np.float64) / top)
        normals = self.attrs.get("normals")
        if normals is not None and normals.ndim == 2 and normals.shape[1] == 3:
            pcd.normals = o3d.utility.Vector3dVector(np.asarray(normals, dtype=np.float64))
        return pcd

    def to_file_order(
        self, values: npt.ArrayLike, *, fill: Any = 0, point_count: int | None = None
    ) -> np.ndarray:
        """Spread per-point ``values`` of this cloud to every point of its source file.

        Points dropped while reading as exact duplicates get the value of their kept twin;
        other points absent from this cloud get ``fill``.

        Parameters
        ----------
        values : array_like, length ``len(self)``
            One value per point of this cloud.
        fill : scalar, default 0
            Value for file points not represented in the cloud.
        point_count : int, optional
            Number of points in the file; default ``source.point_count`` (or ``index.max()+1``).

        Examples
        --------
        >>> import numpy as np
        >>> pc = PointCloud(np.zeros((2, 3)), index=np.array([3, 0]))
        >>> pc.to_file_order([7, 9], fill=-1, point_count=5).tolist()
        [9, -1, -1, 7, -1]
        """
        vals = np.asarray(values)
        if vals.shape[:1] != (len(self),):
            msg = f"values must have {len(self)} rows (one per point of the cloud); got {vals.shape}"
            raise InputError(msg)
        if point_count is None:
            if self.source is not None:
                point_count = self.source.point_count
            else:
                point_count = int(self.index.max()) + 1 if len(self) else 0
        out = np.full((point_count, *vals.shape[1:]), fill, dtype=vals.dtype)
        out[self.index] = vals
        twin = self.source.duplicate_of if self.source is not None else None
        if twin is not None and len(twin) == point_count:
            has = twin >= 0
            out[has] = out[twin[has]]
            out[~has] = fill
        return out


def _same_crs(a: CRS | None, b: CRS | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a is b or a == b


def _crs_name(crs: CRS | None) -> str:
    return "None" if crs is None else (crs.to_string() if crs.to_epsg() else repr(crs.name))


def take_rows(a: npt.NDArray[Any], selection: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``a[selection]`` along the first axis, by :func:`numpy.compress` / :func:`numpy.take`.

    The same rows as fancy indexing, several times faster on (N, 3) arrays: 8 ms instead of
    49 for the sample scan's 843 k points in a scattered order.

    Examples
    --------
    >>> import numpy as np
    >>> take_rows(np.arange(6).reshape(3, 2), np.array([2, 0])).tolist()
    [[4, 5], [0, 1]]
    >>> take_rows(np.arange(3), np.array([True, False, True])).tolist()
    [0, 2]
    """
    sel = np.asarray(selection)
    if sel.dtype == bool:
        if sel.shape != (len(a),):  # np.compress would silently cut or pad; indexing refuses
            raise IndexError(f"boolean selection of shape {sel.shape} for {len(a)} rows")
        return np.compress(sel, a, axis=0)
    return np.take(a, sel, axis=0)
