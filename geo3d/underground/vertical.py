"""The vertical model: depth references → 3D pipe centrelines.

Every depth says what it measures (``depth_reference``: ``top``, ``centre``, ``invert`` or
``bottom`` of the pipe) and whether it is a ``cover`` depth below ground or an absolute
``elevation`` (``depth_kind``). Conversions are explicit functions; a conversion fed rows of
another reference raises instead of guessing. With ``h`` the pipe's vertical size (the box
``height_mm`` for ducts, else ``diameter_mm``)::

    centre z = ground − cover − h/2      (top-of-pipe cover, Korean UIS)
    top z    = centre z + h/2
    invert z = centre z − inner h/2      (inner = ``inner_diameter_mm`` when given, else h)

Examples
--------
A 400 mm pipe with 1.2 m cover to its top under ground at 30 m:

>>> import geopandas as gpd, shapely
>>> pipes = gpd.GeoDataFrame({"utility": ["water"], "diameter_mm": [400.0], "depth_m": [1.2],
...                           "depth_reference": ["top"], "depth_kind": ["cover"]},
...                          geometry=[shapely.LineString([(0, 0), (10, 0)])], crs="EPSG:5186")
>>> centre = centre_from_cover(pipes, ground=30.0)
>>> round(float(centre.iloc[0]), 3), round(float(top_from_centre(pipes, centre).iloc[0]), 3)
(28.6, 28.8)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from .._checks import require_metric_crs
from .._numeric import float_values
from ..errors import InputError, SchemaError
from ..io.raster import as_dem, check_same_crs, sample_dem
from . import schema
from .pipes import conform_pipes

__all__ = [
    "centre_from_cover",
    "inner_height_m",
    "invert_from_centre",
    "pipe_height_m",
    "pipes_to_3d",
    "top_from_centre",
]

logger = logging.getLogger(__name__)

_float = float_values  # the shared numeric helper (geo3d._numeric)


def pipe_height_m(pipes: pd.DataFrame) -> pd.Series:
    """Vertical outer size in metres: ``height_mm`` for box ducts, else ``diameter_mm``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"diameter_mm": [300.0, None], "height_mm": [None, 600.0]})
    >>> pipe_height_m(df).tolist()
    [0.3, 0.6]
    """
    idx = pipes.index
    nan = pd.Series(np.nan, index=idx)
    d = pipes["diameter_mm"] if "diameter_mm" in pipes else nan
    h = pipes["height_mm"] if "height_mm" in pipes else nan
    d_arr = _float(d, idx)
    h_arr = _float(h, idx)
    return pd.Series(np.where(np.isnan(h_arr), d_arr, h_arr) / 1000.0, index=idx, dtype="Float64")


def inner_height_m(pipes: pd.DataFrame) -> NDArray[np.float64]:
    """Vertical inner size in metres: ``inner_diameter_mm`` where given, else the outer
    :func:`pipe_height_m` (NaN where neither is known).

    Examples
    --------
    >>> import pandas as pd
    >>> inner_height_m(pd.DataFrame({"diameter_mm": [300.0, 300.0],
    ...                              "inner_diameter_mm": [280.0, None]})).tolist()
    [0.28, 0.3]
    """
    outer = _float(pipe_height_m(pipes), pipes.index)
    if "inner_diameter_mm" in pipes:
        inner = _float(pipes["inner_diameter_mm"], pipes.index) / 1000.0
        return np.where(np.isnan(inner), outer, inner)
    return outer


_inner_height_m = inner_height_m  # the former private name


def _require(pipes: pd.DataFrame, used: NDArray[np.bool_], reference: str, kind: str,
             what: str) -> None:
    """Raise when rows used by a conversion do not have the reference and kind it expects."""
    problems = []
    for col, want in (("depth_reference", reference), ("depth_kind", kind)):
        if col not in pipes:
            continue
        v = pipes[col].astype(object).to_numpy()
        bad = used & (v != want) & pd.notna(v)
        if bad.any():
            found = sorted({str(x) for x in v[bad]})
            problems.append(f"{int(bad.sum())} row(s) have {col} {', '.join(found)}, not {want!r}")
    if problems:
        msg = (f"{what} needs {kind} depths to the {reference} of the pipe; convert the other "
               "rows first (or use pipes_to_3d, which converts each reference explicitly)")
        raise SchemaError(msg, problems)


def centre_from_cover(
    pipes: pd.DataFrame, ground: ArrayLike | pd.Series, *, cover: ArrayLike | pd.Series | None = None
) -> pd.Series:
    """Centre elevation from a top-of-pipe cover depth: ``ground − cover − h/2``.

    Parameters
    ----------
    pipes : DataFrame
        Needs ``diameter_mm`` or ``height_mm``; its ``depth_reference``/``depth_kind`` (when
        present) must be ``top``/``cover`` on the rows converted, else SchemaError.
    ground : scalar, array or Series
        Ground elevation per row (aligned to ``pipes``).
    cover : scalar, array or Series, optional
        Cover depth to the top of the pipe, metres; default ``pipes["depth_m"]``.

    Returns
    -------
    pandas.Series
        Float64 centre elevation aligned to ``pipes.index`` (NA where an input is unknown).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"height_mm": [600.0], "diameter_mm": [None], "depth_m": [1.0]})
    >>> centre_from_cover(df, ground=[20.0]).tolist()
    [18.7]
    """
    idx = pipes.index
    c = _float(pipes["depth_m"] if cover is None else cover, idx)
    g = _float(ground, idx)
    _require(pipes, ~np.isnan(c), "top", "cover", "centre_from_cover")
    h = _float(pipe_height_m(pipes), idx)
    out = g - c - h / 2.0
    return pd.Series(out, index=idx, dtype="Float64").mask(np.isnan(out))


def top_from_centre(pipes: pd.DataFrame, centre_z: ArrayLike | pd.Series) -> pd.Series:
    """Top-of-pipe elevation: ``centre + h/2`` (Series aligned to ``pipes``).

    Examples
    --------
    >>> import pandas as pd
    >>> top_from_centre(pd.DataFrame({"diameter_mm": [500.0]}), [10.0]).tolist()
    [10.25]
    """
    idx = pipes.index
    out = _float(centre_z, idx) + _float(pipe_height_m(pipes), idx) / 2.0
    return pd.Series(out, index=idx, dtype="Float64").mask(np.isnan(out))


def invert_from_centre(pipes: pd.DataFrame, centre_z: ArrayLike | pd.Series) -> pd.Series:
    """Invert elevation (inside bottom): ``centre − inner h/2``.

    The inner size is ``inner_diameter_mm`` when the frame has it, else the outer size (wall
    thickness unknown: the invert is then the outside bottom, a few centimetres low at most).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"diameter_mm": [500.0], "inner_diameter_mm": [460.0]})
    >>> invert_from_centre(df, [10.0]).tolist()
    [9.77]
    """
    idx = pipes.index
    out = _float(centre_z, idx) - _inner_height_m(pipes) / 2.0
    return pd.Series(out, index=idx, dtype="Float64").mask(np.isnan(out))


def _default_cover(
    default_cover: float | Mapping[str, float] | None,
) -> dict[str, float]:
    table = dict(schema.DEFAULT_COVER_M)
    if default_cover is None:
        return table
    if isinstance(default_cover, Mapping):
        table.update({str(k): float(v) for k, v in default_cover.items()})
        return table
    value = float(default_cover)
    return dict.fromkeys((*schema.UTILITIES, *schema.OPTIONAL_UTILITIES), value)


def pipes_to_3d(
    pipes: gpd.GeoDataFrame,
    dem: Any,
    *,
    default_cover: float | Mapping[str, float] | None = None,
    densify: float | None = None,
) -> gpd.GeoDataFrame:
    """3D centrelines (LineString Z) from depths and a DEM, fully vectorised.

    Per vertex: ground from the DEM (bilinear), the depth interpolated along the line by
    length from ``depth_start_m`` to ``depth_end_m`` (one of them, or ``depth_m``, is held
    constant when the other is unknown; ``depth_m`` alone is constant), then converted to the
    centre with the row's own reference::

        cover:     centre = ground − depth − h/2 (top) | − depth (centre) | − depth + h/2 (bottom)
                            | − depth + inner h/2 (invert)
        elevation: centre = depth − h/2 (top) | depth (centre) | depth + h/2 (bottom/invert)

    Rows in ``elevation`` kind with no depth column but Z coordinates use their Z as is (as
    the stated reference). Rows without any depth take ``default_cover`` for their utility
    (a cover to the top of the pipe) and are flagged ``depth_assumed``. A pipe of unknown size
    is placed with ``h = 0``.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Canonical pipes (LineStrings; run :func:`~geo3d.underground.validate_pipes` first to
        explode MultiLineStrings), projected CRS in metres.
    dem : Dem, raster path or DEM-like
        Ground elevation in the pipes' CRS (only needed for cover depths).
    default_cover : float or mapping, optional
        Cover (m, to top of pipe) for rows without depth: one number for all, or
        ``{utility: metres}`` over :data:`~geo3d.underground.schema.DEFAULT_COVER_M` (legal
        minimum covers; the default).
    densify : float, optional
        Insert vertices so that no segment is longer than this (m) before sampling the ground,
        so the pipe follows the terrain between its vertices.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with LineString Z centreline geometries and a bool ``depth_assumed`` column. Z
        is NaN where the ground is unknown (off the DEM or nodata); this is logged.

    Raises
    ------
    SchemaError
        A row has a depth but no (or an unknown) ``depth_reference``/``depth_kind``, a
        geometry is not a LineString, or a utility without a default needs one.
    CRSError
        The DEM and the pipes are in different CRSs, or the pipes have no projected CRS.

    Examples
    --------
    Flat ground at 30 m; a 500\\600 box duct with 1.0 m cover to its top:

    >>> import numpy as np, geopandas as gpd, shapely
    >>> from affine import Affine
    >>> from geo3d.io.raster import Dem
    >>> dem = Dem(np.full((10, 10), 30.0), Affine(1, 0, 0, 0, -1, 10), "EPSG:5186")
    >>> pipes = gpd.GeoDataFrame(
    ...     {"utility": ["power"], "width_mm": [500.0], "height_mm": [600.0], "depth_m": [1.0],
    ...      "depth_reference": ["top"], "depth_kind": ["cover"]},
    ...     geometry=[shapely.LineString([(1, 5), (9, 5)])], crs="EPSG:5186")
    >>> shapely.get_coordinates(pipes_to_3d(pipes, dem).geometry, include_z=True)[:, 2].tolist()
    [28.7, 28.7]
    """
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"pipes_to_3d needs a GeoDataFrame, got {type(pipes).__name__}"
        raise InputError(msg)
    require_metric_crs(pipes.crs, what="pipes_to_3d: the pipes", name="pipes")
    frame = conform_pipes(pipes, keep_extra=True)
    idx = frame.index
    n = len(frame)
    geoms = frame.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms)
    problems: list[str] = []
    if (present & (types != 1)).any():
        problems.append(f"{int((present & (types != 1)).sum())} geometries are not LineStrings; "
                        "run validate_pipes (it explodes MultiLineStrings) first")

    # per-row depth description
    kind = frame["depth_kind"].astype(object).to_numpy()
    ref = frame["depth_reference"].astype(object).to_numpy()
    start = _float(frame["depth_start_m"], idx)
    end = _float(frame["depth_end_m"], idx)
    single = _float(frame["depth_m"], idx)
    s = np.where(np.isnan(start), np.where(np.isnan(single), end, single), start)
    e = np.where(np.isnan(end), np.where(np.isnan(single), start, single), end)
    has_depth = ~np.isnan(s)
    has_z = present & shapely.has_z(geoms)
    z_rows = ~has_depth & has_z & (kind == "elevation")
    described = has_depth | z_rows
    for col, values, valid in (("depth_kind", kind, schema.DEPTH_KINDS),
                               ("depth_reference", ref, schema.DEPTH_REFERENCES)):
        bad = described & ~np.isin(values.astype(str), valid)
        if bad.any():
            problems.append(f"{int(bad.sum())} row(s) with a depth have {col} "
                            f"{sorted({str(v) for v in values[bad]})}; valid: {', '.join(valid)}")
    assumed = ~described
    utilities = frame["utility"].astype(object).to_numpy()
    table = _default_cover(default_cover)
    defaults = frame["utility"].map(table).astype("Float64").to_numpy(np.float64, na_value=np.nan)
    lack = assumed & np.isnan(defaults) & present
    if lack.any():
        problems.append(f"no default cover for utility {sorted({str(u) for u in utilities[lack]})}; "
                        "pass default_cover={utility: metres}")
    if problems:
        raise SchemaError("pipes_to_3d: cannot place the pipes in 3D", problems)
    kind = np.where(assumed, "cover", kind)
    ref = np.where(assumed, "top", ref)
    s = np.where(assumed, defaults, s)
    e = np.where(assumed, defaults, e)

    # vertices
    line_geoms = shapely.force_2d(geoms[present])
    old_z = None
    if z_rows.any():
        old_z = shapely.get_coordinates(geoms[present], include_z=True)[:, 2]
    if densify is not None:
        if not densify > 0:
            msg = f"densify must be a positive length in metres, got {densify!r}"
            raise InputError(msg)
        if z_rows.any():
            msg = "densify cannot be combined with per-vertex Z elevations; drop densify"
            raise InputError(msg)
        line_geoms = shapely.segmentize(line_geoms, densify)
    xy, part = shapely.get_coordinates(line_geoms, return_index=True)
    rows = np.flatnonzero(present)[part]          # frame position of each vertex
    # fraction of the line's length at each vertex
    step = np.zeros(len(xy))
    if len(xy) > 1:
        step[1:] = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
        step[1:][part[1:] != part[:-1]] = 0.0
    cum = np.cumsum(step)
    first = np.r_[0, np.flatnonzero(part[1:] != part[:-1]) + 1]
    counts = np.diff(np.r_[first, len(xy)])
    along = cum - np.repeat(cum[first], counts)
    total = np.repeat(along[np.r_[first[1:] - 1, len(xy) - 1]] if len(xy) else along, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > 0, along / total, 0.0)
    depth = s[rows] + (e[rows] - s[rows]) * frac
    if old_z is not None:
        depth = np.where(z_rows[rows], old_z, depth)

    h = np.nan_to_num(_float(pipe_height_m(frame), idx), nan=0.0)
    inner = np.nan_to_num(_inner_height_m(frame), nan=0.0)
    offset = np.select(
        [ref == "top", ref == "centre", ref == "bottom", ref == "invert"],
        [-h / 2.0, np.zeros(n), h / 2.0, inner / 2.0], default=np.nan,
    )  # centre = reference point + offset (z up)
    is_cover = kind == "cover"
    z = depth + offset[rows]
    if is_cover.any():
        if dem is None:
            msg = ("cover depths need the ground: pass a DEM (a GeoTIFF path or "
                   "geo3d.io.raster.read_dem(...)) to pipes_to_3d")
            raise InputError(msg, cli="cover depths need the ground: give --dem DEM.tif, or "
                             "--ground Z for flat ground")
        d = as_dem(dem)
        check_same_crs(d, frame.crs, what="the pipes")
        ground = sample_dem(d, xy[:, 0], xy[:, 1])
        z = np.where(is_cover[rows], ground - depth + offset[rows], z)
    off_dem = np.isnan(z)
    coords = np.column_stack([xy, z])
    new = np.full(n, None, dtype=object)
    if len(coords):
        new[present] = shapely.linestrings(coords, indices=part)
    out = frame.copy()
    out = out.set_geometry(gpd.GeoSeries(new, index=idx, crs=frame.crs))
    out["depth_assumed"] = assumed & present
    if off_dem.any():
        logger.warning("pipes_to_3d: %s vertices of %s pipes have no ground (off the DEM or "
                       "nodata): their z is NaN", f"{int(off_dem.sum()):,}",
                       f"{len(np.unique(rows[off_dem])):,}")
    logger.info("pipes_to_3d: %s pipes, %s vertices, %s depth assumed", f"{n:,}",
                f"{len(xy):,}", f"{int(out['depth_assumed'].sum()):,}")
    return out
