"""Scan-scale segmentation: a LAS/LAZ file streamed tile by tile with bounded memory.

:func:`segment_file` runs :func:`~geo3d.indoor.scan.segment_scan` on a file of any size. It never
holds the whole cloud: memory is bounded by one streamed chunk plus the largest tile.

1. **Levels** (skipped when ``levels=`` is given): the file is streamed once, keeping one point per
   occupied (0.5 m plan cell, 5 cm height bin) — exactly what
   :func:`~geo3d.indoor.levels.levels_from_cloud` measures footprint coverage with. On very large
   scans a seeded, spatially uniform subset of plan cells is kept (at most ``max_level_cells``),
   so coverage shares are estimated from a sample of the footprint. Levels are thus global: every
   tile uses the same floors.
2. **Bucket**: the file is streamed again and each point appended to the temporary files of the
   plan tile it lies in (``tile_size`` square) and of every neighbouring tile whose ``margin``
   band it falls in, with its original index.
3. **Tiles**: each tile (core + margin) is segmented with ``segment_scan(levels=<global>)``.
   Only objects whose centroid lies in the tile's *core* are kept, so an object crossing a tile
   edge is found once, whole (when it reaches less than ``margin`` into the neighbour tile).
   Per-point results go to memory-mapped arrays indexed by original point index: ``level`` for
   the tile's core points, ``object_id``/``object_class`` for the points of the kept objects.
4. **Number** the objects 1..n by floor, class, then position (as ``segment_scan`` does), and
   **write** the input points, in order, with ``level``, ``object_id`` and ``object_class``
   (:func:`~geo3d.io.las.write_las`, streamed, atomic).

Temporary files live in a fresh folder under ``work_dir`` (default: the system temp folder) and
are removed at the end, also on failure.

Examples
--------
>>> from geo3d.datasets import get_path
>>> result = segment_file(get_path("market"), "points.laz", tile_size=40.0)  # doctest: +SKIP
>>> result.objects["kind"].value_counts()  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._progress import progress
from ..errors import EmptyResultError, InputError
from ..io.atomic import check_can_write
from ..io.las import LasReader, open_las, write_las
from ..pointcloud.cloud import PointCloud
from . import scan as _scan
from .levels import levels_from_cloud, levels_of_points

__all__ = ["TiledSegmentation", "segment_file"]

log = logging.getLogger(__name__)

#: plan cell and height bin of the level sample (the defaults of levels_from_cloud)
_LEVEL_CELL = 0.5
_LEVEL_BIN = 0.05
#: attributes segment_scan uses (colour classes, object colour and intensity)
_TILE_FIELDS = ("rgb", "intensity")
#: points per block when renumbering the object ids on disk
_BLOCK = 8_000_000
#: objects of two tiles sharing this share of the smaller one's points are one object
_DUPLICATE_SHARE = 0.25


@dataclass
class TiledSegmentation:
    """What :func:`segment_file` found.

    Attributes
    ----------
    levels : DataFrame
        One row per level (as :func:`~geo3d.indoor.levels.levels_from_cloud`), global.
    objects : GeoDataFrame
        One row per store or facility, indexed by ``object_id`` (1..n, the ids written to the
        output file), with the columns of :attr:`ScanSegmentation.objects` plus ``tile`` (the
        tile that found it).
    n_points : int
        Points in the file.
    n_tiles : int
        Tiles segmented (tiles with points in their core).
    tile_size, margin : float
        The tiling used (metres).
    out_path : Path or None
        The written LAS/LAZ file, if any.
    timings : dict
        Seconds per pass: ``levels``, ``bucket``, ``tiles``, ``number``, ``write``, ``total``.
    peak_rss : int or None
        Peak resident memory of this process so far, in bytes (None where the OS does not say).
    largest_tile : int
        Points in the largest tile (core + margin).
    """

    levels: pd.DataFrame
    objects: gpd.GeoDataFrame
    n_points: int
    n_tiles: int
    tile_size: float
    margin: float
    out_path: Path | None = None
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss: int | None = None
    largest_tile: int = 0

    @property
    def stores(self) -> gpd.GeoDataFrame:
        """The store objects."""
        return self.objects[self.objects["object_class"] == _scan.STORE]

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facility objects (every class but stores)."""
        return self.objects[self.objects["object_class"] != _scan.STORE]


@dataclass(frozen=True)
class _Grid:
    """Square plan tiles of ``size`` metres from ``(x0, y0)``, ``nx`` × ``ny`` of them."""

    x0: float
    y0: float
    size: float
    nx: int
    ny: int

    @classmethod
    def over(cls, bounds: Sequence[float], size: float) -> _Grid:
        xmin, ymin, xmax, ymax = (float(v) for v in bounds)
        nx = max(1, math.ceil((xmax - xmin) / size))
        ny = max(1, math.ceil((ymax - ymin) / size))
        return cls(xmin, ymin, size, nx, ny)

    def ij(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Column and row of the tile whose core holds each point (edges clipped into the grid)."""
        i = np.clip(np.floor((np.asarray(x) - self.x0) / self.size), 0, self.nx - 1).astype(
            np.int64
        )
        j = np.clip(np.floor((np.asarray(y) - self.y0) / self.size), 0, self.ny - 1).astype(
            np.int64
        )
        return i, j

    def tile_of(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Id of the tile whose core holds each point."""
        i, j = self.ij(x, y)
        return j * self.nx + i

    def members(
        self, x: NDArray[np.float64], y: NDArray[np.float64], margin: float
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(point position, tile id) for every tile whose core + ``margin`` holds a point.

        Each point is in its core tile and in up to three neighbours (``margin < size``).
        """
        x = np.asarray(x)
        y = np.asarray(y)
        i, j = self.ij(x, y)
        fx = x - (self.x0 + i * self.size)  # offset inside the core tile
        fy = y - (self.y0 + j * self.size)
        everyone = np.ones(len(x), dtype=bool)
        steps_x = [
            (0, everyone),
            (-1, (fx < margin) & (i > 0)),
            (1, (fx >= self.size - margin) & (i < self.nx - 1)),
        ]
        steps_y = [
            (0, everyone),
            (-1, (fy < margin) & (j > 0)),
            (1, (fy >= self.size - margin) & (j < self.ny - 1)),
        ]
        positions = []
        tiles = []
        for di, mx in steps_x:
            for dj, my in steps_y:
                pos = np.flatnonzero(mx & my).astype(np.int64)
                positions.append(pos)
                tiles.append((j[pos] + dj) * self.nx + (i[pos] + di))
        return np.concatenate(positions), np.concatenate(tiles)

    def core(self, tile: int) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of a tile's core."""
        j, i = divmod(int(tile), self.nx)
        left, bottom = self.x0 + i * self.size, self.y0 + j * self.size
        return (left, bottom, left + self.size, bottom + self.size)


def segment_file(
    path: str | os.PathLike[str],
    out_path: str | os.PathLike[str] | None = None,
    *,
    tile_size: float = 40.0,
    margin: float = 2.0,
    chunk_size: int = 5_000_000,
    levels: pd.DataFrame | None = None,
    crs: Any = None,
    work_dir: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    max_level_cells: int = 200_000,
    **segment_kwargs: Any,
) -> TiledSegmentation:
    """Levels, stores and facilities of a LAS/LAZ scan of any size, streamed tile by tile.

    The same work as ``segment_scan(read_las(path))``, with memory bounded by one chunk plus the
    largest tile (plus 6 bytes per point of memory-mapped results, which the OS can page out).

    Parameters
    ----------
    path : str or path-like
        The scan (LAS/LAZ/COPC), in metres.
    out_path : str or path-like, optional
        Where to write the input points, in input order, with the extra dimensions ``level``,
        ``object_id`` and ``object_class`` (docs/contracts.md); ``.las`` or ``.laz``. Written
        atomically. Without it only the objects are returned.
    tile_size : float, default 40.0
        Side of the square plan tiles (m). Memory grows with the points of one tile.
    margin : float, default 2.0
        Overlap around each tile (m). An object crossing a tile edge is found whole when it
        reaches no further than ``margin`` into the neighbouring tile; make it at least the
        largest object's half-size. Must be below ``tile_size``.
    chunk_size : int, default 5_000_000
        Points per streamed chunk.
    levels : DataFrame, optional
        Known levels (skips the levels pass); else detected on the whole file.
    crs : optional
        The points' CRS when the file has none or a wrong one (see :func:`open_las`).
    work_dir : str or path-like, optional
        Where the temporary tile files go (a fresh folder inside it, removed at the end); about
        40 bytes per point, plus the overlap. Default: the system temp folder.
    overwrite : bool, default False
        Replace an existing ``out_path``.
    max_level_cells : int, default 200_000
        Most plan cells (0.5 m) sampled for level detection; larger footprints are sampled.
    **segment_kwargs
        Passed to :func:`~geo3d.indoor.scan.segment_scan` (``thin``, ``voxel_size``, ``rules``,
        ``seed``, ...); ``entrance_level`` and ``ground_z`` also go to level detection.

    Returns
    -------
    TiledSegmentation

    Raises
    ------
    InputError
        Bad tiling parameters, or ``classify="file"``/``point_class`` (not supported per tile).
    OutputExistsError
        ``out_path`` exists and ``overwrite`` is false (checked before any work).
    MissingFileError, FileFormatError, CRSError
        The input file is missing or bad.
    EmptyResultError
        No level is found.

    Examples
    --------
    >>> from geo3d.datasets import get_path
    >>> res = segment_file(get_path("market"), "points.laz", tile_size=40.0)  # doctest: +SKIP
    >>> res.n_tiles, len(res.objects), res.timings["total"]  # doctest: +SKIP
    """
    t_start = time.perf_counter()
    _check_params(tile_size, margin, chunk_size, segment_kwargs)
    out = None if out_path is None else check_can_write(out_path, overwrite=overwrite)
    if out is not None and out.suffix.lower() not in (".las", ".laz"):
        msg = f"output {out.name!r} must end in .las or .laz"
        raise InputError(msg)
    timings: dict[str, float] = {}
    tmp = Path(
        tempfile.mkdtemp(prefix="geo3d-tiles-", dir=None if work_dir is None else Path(work_dir))
    )
    try:
        with open_las(path, crs=crs) as reader:
            n = reader.count
            if n == 0:
                msg = f"{Path(path).name} has no points"
                raise InputError(msg)
            t = time.perf_counter()
            if levels is None:
                sample, bounds = _level_sample(reader, chunk_size, max_level_cells)
                level_kwargs = {
                    k: segment_kwargs[k]
                    for k in ("entrance_level", "ground_z")
                    if k in segment_kwargs
                }
                levels = levels_from_cloud(sample, **level_kwargs)
                del sample
            else:
                b = reader.bounds
                bounds = (b[0], b[1], b[3], b[4])
            timings["levels"] = time.perf_counter() - t

            grid = _Grid.over(bounds, float(tile_size))
            t = time.perf_counter()
            fields = [f for f in _TILE_FIELDS if f in reader.fields]
            counts, layout = _bucket(reader, grid, float(margin), chunk_size, fields, tmp)
            timings["bucket"] = time.perf_counter() - t
            crs_found = reader.crs

        t = time.perf_counter()
        arrays = {
            name: np.lib.format.open_memmap(tmp / f"{name}.npy", mode="w+", dtype=dtype, shape=(n,))
            for name, dtype in (
                ("level", np.int8),
                ("object_id", np.int32),
                ("object_class", np.uint8),
            )
        }
        arrays["object_id"][:] = -1
        for arr in arrays.values():
            arr.flush()
        del arrays
        found, n_tiles, sizes, overlaps = _segment_tiles(
            grid, counts, layout, tmp, levels, crs_found, segment_kwargs
        )
        timings["tiles"] = time.perf_counter() - t

        t = time.perf_counter()
        rep = _duplicates(sizes, overlaps, share=_DUPLICATE_SHARE)
        n_merged = int((rep != np.arange(len(rep))).sum())
        objects = _number(found, rep, tmp, n)
        del found
        timings["number"] = time.perf_counter() - t

        t = time.perf_counter()
        if out is not None:
            write_las(
                path,
                out,
                level=np.load(tmp / "level.npy", mmap_mode="r"),
                object_id=np.load(tmp / "object_id.npy", mmap_mode="r"),
                object_class=np.load(tmp / "object_class.npy", mmap_mode="r"),
                overwrite=overwrite,
                chunk_size=min(int(chunk_size), 2_000_000),
                crs=crs_found,  # a --crs given is stored in points.laz
            )
        timings["write"] = time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    timings["total"] = time.perf_counter() - t_start
    result = TiledSegmentation(
        levels=levels,
        objects=objects,
        n_points=n,
        n_tiles=n_tiles,
        tile_size=float(tile_size),
        margin=float(margin),
        out_path=out,
        timings=timings,
        peak_rss=_peak_rss(),
        largest_tile=max(counts.values(), default=0),
    )
    kinds = objects["kind"].value_counts()
    stores = int(kinds.get("store", 0))
    log.info(
        "segment_file: %s points, %d tiles of %g m (largest %s points) -> %d levels, %d stores, "
        "%d facilities (%d found twice at tile edges, merged) in %.1f s%s",
        f"{n:,}",
        n_tiles,
        tile_size,
        f"{result.largest_tile:,}",
        len(levels),
        stores,
        len(objects) - stores,
        n_merged,
        timings["total"],
        "" if result.peak_rss is None else f", peak RSS {result.peak_rss / 2**20:,.0f} MB",
    )
    return result


# --------------------------------------------------------------------------------------------
# passes
# --------------------------------------------------------------------------------------------
def _check_params(
    tile_size: float, margin: float, chunk_size: int, segment_kwargs: dict[str, Any]
) -> None:
    problems = []
    if not isinstance(tile_size, int | float) or not math.isfinite(tile_size) or tile_size <= 0:
        problems.append(f"tile_size must be a positive number of metres; got {tile_size!r}")
    elif not isinstance(margin, int | float) or not 0 <= margin < tile_size:
        problems.append(f"margin must be >= 0 and below tile_size ({tile_size}); got {margin!r}")
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int | np.integer)
        or chunk_size < 1
    ):
        problems.append(f"chunk_size must be a positive integer; got {chunk_size!r}")
    if segment_kwargs.get("classify") == "file" or "point_class" in segment_kwargs:
        problems.append(
            "classify='file' / point_class are not supported tile by tile; run segment_scan on "
            "read_las(path) instead, or classify with rules"
        )
    if problems:
        msg = "segment_file: " + "; ".join(problems)
        raise InputError(msg)


def _level_sample(
    reader: LasReader, chunk_size: int, max_cells: int
) -> tuple[NDArray[np.float64], tuple[float, float, float, float]]:
    """One point per occupied (0.5 m cell, 5 cm bin) of a uniform subset of cells; plan bounds.

    The points are returned in *local* plan coordinates at their cell centres (exact binary
    fractions, so ``levels_from_cloud`` puts each in the same cell), with their real heights.
    """
    lo = np.asarray(reader.header.mins, dtype=np.float64)
    hi = np.asarray(reader.header.maxs, dtype=np.float64)
    ncx = int((hi[0] - lo[0]) // _LEVEL_CELL) + 2
    ncy = int((hi[1] - lo[1]) // _LEVEL_CELL) + 2
    nzb = int((hi[2] - lo[2]) // _LEVEL_BIN) + 2
    share = min(1.0, max_cells / max(1.0, ncx * ncy * 0.8))  # ~0.8: a hall fills most of its box
    threshold = np.uint64(min(2**16, math.ceil(share * 2**16)))
    keys = np.empty(0, dtype=np.int64)
    zs = np.empty(0, dtype=np.float64)
    bmin = np.full(3, np.inf)
    bmax = np.full(3, -np.inf)
    lowest: tuple[int, float] | None = None
    total = max(1, math.ceil(reader.count / chunk_size))
    for chunk in progress(
        reader.chunks(chunk_size, fields=[]), total=total, desc="levels", unit="chunk"
    ):
        xyz = chunk.xyz
        if len(xyz) == 0:
            continue
        ok = np.isfinite(xyz).all(axis=1)
        if not ok.all():
            xyz = xyz[ok]
        if len(xyz) == 0:
            continue
        bmin = np.minimum(bmin, xyz.min(axis=0))
        bmax = np.maximum(bmax, xyz.max(axis=0))
        ci = np.clip(np.floor((xyz[:, 0] - lo[0]) / _LEVEL_CELL), 0, ncx - 1).astype(np.int64)
        cj = np.clip(np.floor((xyz[:, 1] - lo[1]) / _LEVEL_CELL), 0, ncy - 1).astype(np.int64)
        cell = ci * ncy + cj
        k = int(np.argmin(xyz[:, 2]))
        if lowest is None or xyz[k, 2] < lowest[1]:
            lowest = (int(cell[k]), float(xyz[k, 2]))
        if threshold < 2**16:
            h = cell.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # wraps: a hash
            keep = (h >> np.uint64(48)) < threshold
            cell = cell[keep]
            z = xyz[keep, 2]
        else:
            z = xyz[:, 2]
        zb = np.clip(np.floor((z - lo[2]) / _LEVEL_BIN), 0, nzb - 1).astype(np.int64)
        key = cell * nzb + zb
        key, first = np.unique(np.concatenate([keys, key]), return_index=True)
        zs = np.concatenate([zs, z])[first]
        keys = key
    if lowest is None:
        msg = f"{reader.path.name}: no finite point to detect levels from"
        raise EmptyResultError(msg)
    # the lowest point, so the height bins of levels_from_cloud start where these do
    keys = np.append(keys, lowest[0] * nzb)
    zs = np.append(zs, lowest[1])
    cell = keys // nzb
    xyz = np.column_stack(
        [(cell // ncy + 0.5) * _LEVEL_CELL, (cell % ncy + 0.5) * _LEVEL_CELL, zs]
    ).astype(np.float64)
    log.debug(
        "segment_file: level sample of %s points (%.0f%% of the cells)",
        f"{len(xyz):,}",
        100 * share,
    )
    return xyz, (float(bmin[0]), float(bmin[1]), float(bmax[0]), float(bmax[1]))


def _bucket(
    reader: LasReader,
    grid: _Grid,
    margin: float,
    chunk_size: int,
    fields: list[str],
    tmp: Path,
) -> tuple[dict[int, int], dict[str, tuple[np.dtype[Any], tuple[int, ...]]]]:
    """Append every point to the raw files of its tile(s); return points per tile and the layout."""
    counts: dict[int, int] = {}
    layout: dict[str, tuple[np.dtype[Any], tuple[int, ...]]] = {}
    total = max(1, math.ceil(reader.count / chunk_size))
    for chunk in progress(
        reader.chunks(chunk_size, fields=fields), total=total, desc="tiles: bucket", unit="chunk"
    ):
        if len(chunk) == 0:
            continue
        pos, tile = grid.members(chunk.x, chunk.y, margin)
        order = np.argsort(tile, kind="stable")
        pos = pos[order]
        tile = tile[order]
        del order
        starts = np.flatnonzero(np.r_[True, tile[1:] != tile[:-1]])
        ends = np.r_[starts[1:], len(tile)]
        ids = tile[starts]
        del tile
        columns: dict[str, np.ndarray] = {"xyz": chunk.xyz, "index": chunk.index}
        columns.update({name: chunk.attrs[name] for name in fields})
        for name, values in columns.items():
            layout.setdefault(name, (values.dtype, values.shape[1:]))
            picked = np.ascontiguousarray(values[pos])
            for t, s, e in zip(ids.tolist(), starts.tolist(), ends.tolist(), strict=True):
                with open(tmp / f"{t}.{name}", "ab") as fh:
                    picked[s:e].tofile(fh)
            del picked
        for t, s, e in zip(ids.tolist(), starts.tolist(), ends.tolist(), strict=True):
            counts[t] = counts.get(t, 0) + e - s
    return counts, layout


def _load_tile(
    tile: int, layout: dict[str, tuple[np.dtype[Any], tuple[int, ...]]], tmp: Path
) -> dict[str, np.ndarray]:
    out = {}
    for name, (dtype, shape) in layout.items():
        arr = np.fromfile(tmp / f"{tile}.{name}", dtype=dtype)
        out[name] = arr.reshape((-1, *shape)) if shape else arr
        (tmp / f"{tile}.{name}").unlink()
    return out


def _segment_tiles(
    grid: _Grid,
    counts: dict[int, int],
    layout: dict[str, tuple[np.dtype[Any], tuple[int, ...]]],
    tmp: Path,
    levels: pd.DataFrame,
    crs: Any,
    segment_kwargs: dict[str, Any],
) -> tuple[list[gpd.GeoDataFrame], int, NDArray[np.int64], NDArray[np.int64]]:
    """Segment every tile and write the per-point results.

    Returns the kept objects (provisional ids 1..m), the number of tiles segmented, the points
    of every provisional id (index = id) and the (new id, earlier id, shared points) of objects
    of two tiles that claimed the same points.
    """
    found: list[gpd.GeoDataFrame] = []
    sizes: list[NDArray[np.int64]] = [np.zeros(1, dtype=np.int64)]  # points per provisional id
    overlaps: list[NDArray[np.int64]] = [np.empty((0, 3), dtype=np.int64)]  # (new, old, shared)
    next_id = 0
    n_tiles = 0
    tiles = sorted(counts)
    for t in progress(tiles, total=len(tiles), desc="tiles: segment", unit="tile"):
        cols = _load_tile(t, layout, tmp)
        xyz = cols.pop("xyz")
        index = cols.pop("index")
        core = grid.tile_of(xyz[:, 0], xyz[:, 1]) == t
        if not core.any():
            continue
        n_tiles += 1
        cloud = PointCloud(xyz, cols, crs, index)
        try:
            seg = _scan.segment_scan(cloud, levels=levels, check_market=False, **segment_kwargs)
        except EmptyResultError as exc:  # e.g. a tile of a few stray points
            log.debug(
                "segment_file: tile %d (%s points) gave nothing: %s", t, f"{len(cloud):,}", exc
            )
            _write(tmp, "level", index[core], levels_of_points(xyz[core], levels))
            continue
        _write(tmp, "level", index[core], seg.level[core])
        objs = seg.objects
        if len(objs) == 0:
            continue
        mine = grid.tile_of(objs["x"].to_numpy(), objs["y"].to_numpy()) == t
        kept = objs[mine].copy()
        if len(kept) == 0:
            continue
        local = kept.index.to_numpy(dtype=np.int64)
        new = np.arange(next_id + 1, next_id + 1 + len(kept), dtype=np.int32)
        next_id += len(kept)
        lut = np.full(int(objs.index.max()) + 2, -1, dtype=np.int32)  # local id + 1 -> new id
        lut[local + 1] = new
        gid = lut[seg.object_id.astype(np.int64) + 1]
        sel = gid >= 0
        before = _write(tmp, "object_id", index[sel], gid[sel])
        sizes.append(np.bincount(gid[sel], minlength=next_id + 1)[next_id + 1 - len(kept) :])
        shared = before >= 0  # points another tile already gave to one of its objects
        if shared.any():
            pair, n_shared = np.unique(
                np.column_stack([gid[sel][shared], before[shared]]), axis=0, return_counts=True
            )
            overlaps.append(np.column_stack([pair, n_shared]))
        _write(tmp, "object_class", index[sel], seg.object_class[sel])
        kept.index = pd.Index(new, name="object_id")
        kept["tile"] = t
        found.append(kept)
    return found, n_tiles, np.concatenate(sizes), np.concatenate(overlaps)


def _write(tmp: Path, name: str, where: NDArray[np.int64], values: np.ndarray) -> np.ndarray:
    """Scatter ``values`` into the memory-mapped array ``name``; return the values replaced.

    The file is mapped only meanwhile, so its pages do not pile up in resident memory.
    """
    arr = np.load(tmp / f"{name}.npy", mmap_mode="r+")
    before = np.asarray(arr[where])
    if len(where):
        arr[where] = values
        arr.flush()
    del arr
    return before


def _duplicates(
    sizes: NDArray[np.int64], overlaps: NDArray[np.int64], *, share: float
) -> NDArray[np.int64]:
    """For every provisional id, the id it stays under: objects of neighbouring tiles sharing at
    least ``share`` of the smaller one's points are one object, kept under the larger one's id.
    """
    n = len(sizes)
    rep = np.arange(n, dtype=np.int64)
    if len(overlaps) == 0:
        return rep
    a, b, shared = overlaps[:, 0], overlaps[:, 1], overlaps[:, 2]
    same = shared >= share * np.minimum(sizes[a], sizes[b])
    if not same.any():
        return rep
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    # the representative of each group: its largest member (ties: the lowest id)
    order = np.lexsort((np.arange(n), -sizes, group))
    first = np.ones(n, dtype=bool)
    first[1:] = group[order][1:] != group[order][:-1]
    best = np.empty(int(group.max()) + 1, dtype=np.int64)
    best[group[order][first]] = order[first]
    return best[group]


def _number(
    found: list[gpd.GeoDataFrame], rep: NDArray[np.int64], tmp: Path, n: int
) -> gpd.GeoDataFrame:
    """Drop duplicates, number the objects 1..n by floor, class, then position; rewrite on disk.

    ``rep`` maps every provisional id to the id it is kept under. The per-point ``object_id``
    and ``object_class`` arrays in ``tmp`` are rewritten block by block (each point's class is
    its object's class).
    """
    if not found:
        return gpd.GeoDataFrame(
            {"object_class": pd.Series(dtype=np.uint8), "kind": pd.Series(dtype=str)},
            geometry=gpd.GeoSeries([]),
            index=pd.Index([], dtype=np.int32, name="object_id"),
        )
    objects = gpd.GeoDataFrame(pd.concat(found), crs=found[0].crs)
    provisional = objects.index.to_numpy(dtype=np.int64)
    objects = objects[rep[provisional] == provisional]
    objects = objects.sort_values(["floor", "object_class", "x", "y"], kind="stable")
    final = np.zeros(len(rep), dtype=np.int32)
    final[objects.index.to_numpy(dtype=np.int64)] = np.arange(1, len(objects) + 1, dtype=np.int32)
    id_lut = np.full(len(rep) + 1, -1, dtype=np.int32)  # provisional id + 1 -> final id
    id_lut[2:] = final[rep[1:]]
    class_lut = np.zeros(len(objects) + 2, dtype=np.uint8)  # final id + 1 -> class
    class_lut[2:] = objects["object_class"].to_numpy(dtype=np.uint8)
    for start in range(0, n, _BLOCK):
        ids = np.load(tmp / "object_id.npy", mmap_mode="r+")
        classes = np.load(tmp / "object_class.npy", mmap_mode="r+")
        block = ids[start : start + _BLOCK]
        block[:] = id_lut[block.astype(np.int64) + 1]
        classes[start : start + _BLOCK] = class_lut[block.astype(np.int64) + 1]
        ids.flush()
        classes.flush()
        del ids, classes, block
    objects.index = pd.Index(np.arange(1, len(objects) + 1, dtype=np.int32), name="object_id")
    return objects


def _peak_rss() -> int | None:
    """Peak resident memory of this process in bytes (None where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)
