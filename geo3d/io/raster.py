"""Ground-elevation rasters (DEM): read with rasterio, sample bilinearly, vectorised.

Examples
--------
>>> import numpy as np
>>> from affine import Affine
>>> dem = Dem(np.array([[10.0, 12.0], [14.0, 16.0]]), Affine(1, 0, 0, 0, -1, 2), "EPSG:5186")
>>> sample_dem(dem, [0.5, 1.0, 1.5, 5.0], [1.5, 1.0, 0.5, 5.0]).tolist()
[10.0, 13.0, 16.0, nan]
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from ..errors import CRSError, FileFormatError, InputError

__all__ = ["Dem", "as_dem", "check_same_crs", "dem_gap_reason", "flat_dem", "read_dem",
           "sample_dem"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Dem:
    """A ground-elevation grid in memory.

    Attributes
    ----------
    elevation : numpy.ndarray
        ``(rows, cols)`` float64 heights in metres; NaN where the raster has no data.
    transform : affine.Affine
        Pixel → CRS transform of the cells' upper-left corners (rasterio convention).
    crs : pyproj.CRS or CRS-like or None
        The raster's CRS (``None`` when the file has none).
    """

    elevation: NDArray[np.float64]
    transform: Affine
    crs: Any = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (int(self.elevation.shape[0]), int(self.elevation.shape[1]))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of a north-up raster."""
        h, w = self.shape
        xs = [self.transform.c, self.transform.c + w * self.transform.a]
        ys = [self.transform.f, self.transform.f + h * self.transform.e]
        return (min(xs), min(ys), max(xs), max(ys))


def read_dem(path: str | os.PathLike[str], *, band: int = 1) -> Dem:
    """Read one band of a DEM raster (GeoTIFF or any GDAL raster) into a :class:`Dem`.

    Nodata cells (the band's nodata value or mask) become NaN.

    Parameters
    ----------
    path : path
        The raster file.
    band : int
        Band number, from 1.

    Returns
    -------
    Dem

    Raises
    ------
    InputError
        The file does not exist, the band is out of range, or every cell is nodata.
    FileFormatError
        The file is not a readable raster (truncated, corrupt).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, rasterio
    >>> from affine import Affine
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "dem.tif"
    >>> with rasterio.open(p, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
    ...                    crs="EPSG:5186", transform=Affine(1, 0, 0, 0, -1, 2), nodata=-9999) as d:
    ...     d.write(np.array([[1, 2], [3, -9999]], dtype="float32"), 1)
    >>> dem = read_dem(p)
    >>> dem.elevation.tolist(), dem.crs.to_epsg()
    ([[1.0, 2.0], [3.0, nan]], 5186)
    """
    import rasterio
    from rasterio.errors import RasterioIOError

    path = Path(path)
    if not path.exists():
        msg = f"DEM {path} does not exist"
        raise InputError(msg, cli=f"--dem {path} does not exist")
    try:
        with rasterio.open(path) as src:
            if not 1 <= band <= src.count:
                msg = f"band {band} out of range: {path} has {src.count} band(s)"
                raise InputError(msg)
            data = src.read(band, masked=True)
            transform = src.transform
            nodata = src.nodata
            crs = CRS.from_user_input(src.crs) if src.crs else None
    except RasterioIOError as exc:
        msg = f"cannot read {path} as a raster (truncated or corrupt?): {exc}"
        raise FileFormatError(msg) from exc
    elevation = np.ma.filled(data.astype(np.float64), np.nan)
    if elevation.size == 0 or np.isnan(elevation).all():
        msg = (f"the DEM {path} holds only nodata cells (band {band}, nodata value "
               f"{nodata!r}); give a DEM with ground elevations, or check its nodata value "
               "(gdalinfo -stats)")
        raise InputError(msg)
    if crs is None:
        logger.warning("read_dem: %s has no CRS", path)
    logger.info("read_dem: %s %d x %d cells, %s nodata", path.name, elevation.shape[1],
                elevation.shape[0], f"{int(np.isnan(elevation).sum()):,}")
    return Dem(elevation, transform, crs)


def as_dem(dem: Dem | str | os.PathLike[str] | Any) -> Dem:
    """A :class:`Dem` from a Dem, a raster path, or an object with ``elevation``/``transform``/``crs``.

    An object's ``nodata`` attribute (if any) is turned into NaN.
    """
    if isinstance(dem, Dem):
        return dem
    if isinstance(dem, str | os.PathLike):
        return read_dem(dem)
    if all(hasattr(dem, a) for a in ("elevation", "transform", "crs")):
        z = np.asarray(dem.elevation, dtype=np.float64)
        nodata = getattr(dem, "nodata", None)
        if nodata is not None and not np.isnan(nodata):
            z = np.where(z == nodata, np.nan, z)
        crs = CRS.from_user_input(dem.crs) if dem.crs is not None else None
        return Dem(z, Affine(*tuple(dem.transform)[:6]), crs)
    msg = f"expected a Dem, a raster path or a DEM-like object, got {type(dem).__name__}"
    raise InputError(msg)


def flat_dem(elevation: float, bounds: tuple[float, float, float, float], crs: Any = None,
             *, margin: float = 1.0) -> Dem:
    """A DEM of flat ground at ``elevation`` over ``bounds`` (left, bottom, right, top) grown by
    ``margin``: the ground when a user gives one elevation instead of a raster.

    Raises
    ------
    InputError
        ``elevation`` is not a finite number.

    Examples
    --------
    >>> d = flat_dem(30.0, (0, 0, 10, 5), "EPSG:5186")
    >>> sample_dem(d, [0.0, 5.0, 10.0], [0.0, 2.5, 5.0]).tolist()
    [30.0, 30.0, 30.0]
    """
    try:
        value = float(elevation)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value):
        msg = f"the ground elevation must be a finite number of metres, got {elevation!r}"
        raise InputError(msg, cli=f"--ground must be a finite elevation in metres, got "
                         f"{elevation!r}")
    left, bottom, right, top = (float(v) for v in bounds)
    if not all(np.isfinite([left, bottom, right, top])):
        left = bottom = right = top = 0.0
    w = max(right - left, 1.0) + 2.0 * margin
    h = max(top - bottom, 1.0) + 2.0 * margin
    return Dem(np.full((2, 2), value), Affine(w / 2, 0, left - margin, 0, -h / 2, top + margin),
               CRS.from_user_input(crs) if crs is not None else None)


def dem_gap_reason(dem: Dem, x: ArrayLike, y: ArrayLike) -> str:
    """Why the DEM gives no ground at points ``x, y``: off the raster, or nodata cells there.

    Examples
    --------
    >>> dem = Dem(np.array([[np.nan, 1.0]]), Affine(1, 0, 0, 0, -1, 1))
    >>> dem_gap_reason(dem, [0.5], [0.5]), dem_gap_reason(dem, [9.0], [9.0])
    ('nodata', 'outside')
    """
    left, bottom, right, top = as_dem(dem).bounds
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    on = (xa >= left) & (xa <= right) & (ya >= bottom) & (ya <= top)
    return "nodata" if bool(np.any(on)) else "outside"


def check_same_crs(dem: Dem, crs: Any, *, what: str = "the data") -> None:
    """Raise :class:`~geo3d.errors.CRSError` unless the DEM's CRS equals ``crs``."""
    if crs is None:
        return
    want = CRS.from_user_input(crs)
    if dem.crs is None:
        msg = (f"the DEM has no CRS while {what} is in {want.to_string()}; set the DEM's CRS "
               "(e.g. gdal_edit.py -a_srs EPSG:5186 dem.tif)")
        raise CRSError(msg)
    have = CRS.from_user_input(dem.crs)
    if have != want:
        msg = (f"the DEM is in {have.to_string()} but {what} is in {want.to_string()}; "
               "reproject one of them (gdalwarp -t_srs …, or pipes.to_crs(…))")
        raise CRSError(msg, cli=(f"the --dem is in {have.to_string()} but {what} is in "
                                 f"{want.to_string()}; reproject the DEM (gdalwarp -t_srs "
                                 f"{want.to_string()} dem.tif dem2.tif)"))


def sample_dem(
    dem: Dem | str | os.PathLike[str] | Any,
    x: ArrayLike,
    y: ArrayLike,
    *,
    crs: Any = None,
) -> NDArray[np.float64]:
    """Bilinear ground elevation at points ``x, y`` (vectorised); NaN off the raster or on nodata.

    Values are interpolated between cell centres; within the outer half cell the edge values are
    held. A nodata neighbour is left out and the remaining weights renormalised, so a point on
    a valid cell centre always gets that cell's value.

    Parameters
    ----------
    dem : Dem, path or DEM-like
        The ground raster.
    x, y : array-like
        Coordinates in the DEM's CRS (any matching shapes).
    crs : CRS-like, optional
        The CRS of ``x, y``; when given it must equal the DEM's (:class:`~geo3d.errors.CRSError`).

    Returns
    -------
    numpy.ndarray
        float64 heights, the shape of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> dem = Dem(np.array([[0.0, 1.0, 2.0], [3.0, 4.0, np.nan]]), Affine(2, 0, 100, 0, -2, 50))
    >>> sample_dem(dem, [101.0, 102.0, 103.0, 105.0, 99.0], [49.0, 48.0, 47.0, 47.0, 49.0]).tolist()
    [0.0, 2.0, 4.0, nan, nan]
    """
    d = as_dem(dem)
    check_same_crs(d, crs, what="the points")
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    shape = np.broadcast_shapes(xa.shape, ya.shape)
    xa = np.broadcast_to(xa, shape).ravel()
    ya = np.broadcast_to(ya, shape).ravel()
    inv = ~d.transform
    col = inv.a * xa + inv.b * ya + inv.c
    row = inv.d * xa + inv.e * ya + inv.f
    h, w = d.shape
    inside = (col >= 0) & (col <= w) & (row >= 0) & (row <= h)
    # fractional position between cell centres, held at the edges
    fc = np.clip(col - 0.5, 0.0, max(w - 1, 0))
    fr = np.clip(row - 0.5, 0.0, max(h - 1, 0))
    fc = np.where(inside, fc, 0.0)
    fr = np.where(inside, fr, 0.0)
    c0 = np.minimum(np.floor(fc).astype(np.int64), max(w - 2, 0))
    r0 = np.minimum(np.floor(fr).astype(np.int64), max(h - 2, 0))
    c1 = np.minimum(c0 + 1, w - 1)
    r1 = np.minimum(r0 + 1, h - 1)
    tc = fc - c0
    tr = fr - r0
    z = d.elevation
    total = np.zeros(xa.shape)
    weight = np.zeros(xa.shape)
    for rr, cc, wgt in ((r0, c0, (1 - tc) * (1 - tr)), (r0, c1, tc * (1 - tr)),
                        (r1, c0, (1 - tc) * tr), (r1, c1, tc * tr)):
        v = z[rr, cc]
        ok = ~np.isnan(v)
        total += np.where(ok, v * wgt, 0.0)
        weight += np.where(ok, wgt, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(inside & (weight > 1e-12), total / weight, np.nan)
    return out.reshape(shape)
