"""Groundwater: the water table along a section line, from boreholes or wells.

Observations are points with a water-table elevation (``gw_elev_m``) or a depth below ground
(``gw_depth_m``, turned into an elevation with the point's ``ground_z`` or the DEM) and the date
they were measured. Between them the water table is interpolated in one of two documented ways:

``"idw"`` (default)
    inverse-distance weighting in plan: at every point of the line, the ``k`` nearest wells
    (within ``max_distance`` when given) weighted by ``1 / d**power``. A well exactly on the
    line gives its own value there. Smooth, uses wells on both sides of the line.
``"linear"``
    the wells within ``max_distance`` of the line are projected onto it (chainage =
    ``line.project(well)``) and the water table is linear in chainage between them, held
    constant beyond the first and last well. Reads like a hand-drawn section.

A water table is a snapshot: the profile keeps every well it used with its date, and
:attr:`GroundwaterProfile.dates` gives the range to print on a sheet.

Examples
--------
>>> import geopandas as gpd, shapely
>>> wells = gpd.GeoDataFrame(
...     {"bh_id": ["A", "B"], "gw_elev_m": [30.0, 32.0], "measured": ["2024-05-01", "2025-03-02"]},
...     geometry=[shapely.Point(0, 5), shapely.Point(10, 5)], crs="EPSG:5186")
>>> line = shapely.LineString([(0, 0), (10, 0)])
>>> prof = groundwater_profile(wells, line, method="linear", spacing=5.0)
>>> prof.chainage_m.tolist(), prof.z.tolist()
([0.0, 5.0, 10.0], [30.0, 31.0, 32.0])
>>> prof.dates
('2024-05-01', '2025-03-02')
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..errors import CRSError, InputError, SchemaError
from ..io.raster import as_dem, sample_dem

__all__ = ["DATE_COLUMNS", "DEPTH_COLUMNS", "ELEVATION_COLUMNS", "GROUND_COLUMNS",
           "GroundwaterProfile", "groundwater_profile", "read_wells", "water_table_at"]

logger = logging.getLogger(__name__)

#: Column names recognised, per role, first match wins (compared case-insensitively, with
#: spaces, dots and dashes read as ``_``). Plain ``지하수위`` is read as a depth below ground
#: (borehole logs give it as GL−m); an elevation is ``지하수위표고`` or ``수위표고``.
ELEVATION_COLUMNS: tuple[str, ...] = (
    "gw_elev_m", "gw_elev", "wt_elev_m", "wt_elev", "wl_elev_m", "wl_elev", "gwl_elev_m",
    "gwl_elev", "water_table_elev", "water_table_elev_m", "water_level_elev", "gw_el", "wt_el",
    "지하수위표고", "수위표고")
DEPTH_COLUMNS: tuple[str, ...] = (
    "gw_depth_m", "gw_depth", "wt_depth_m", "wt_depth", "wl_depth_m", "wl_depth", "gwl_depth_m",
    "gwl_depth", "depth_to_water", "depth_to_water_m", "dtw", "dtw_m", "water_depth_m",
    "지하수위", "지하수위심도", "수위심도")
GROUND_COLUMNS: tuple[str, ...] = (
    "ground_z", "ground_elev_m", "ground_elev", "ground_m", "gl_elev", "gl_m", "surface_elev",
    "surface_elev_m", "elev_ground", "지반고", "지표고")
DATE_COLUMNS: tuple[str, ...] = ("measured", "date", "measured_date", "obs_date", "survey_date",
                                 "date_measured", "sample_date", "측정일", "관측일", "측정일자",
                                 "관측일자", "조사일")
_ID_COLUMNS = ("bh_id", "well_id", "id", "name")
METHODS: tuple[str, ...] = ("idw", "linear")


@dataclass(eq=False)
class GroundwaterProfile:
    """The water table along a line.

    Attributes
    ----------
    chainage_m, z : numpy.ndarray
        Water-table elevation at each chainage (NaN where no well is in reach).
    wells : pandas.DataFrame
        The wells used: ``well_id, x, y, chainage_m, offset_m, gw_elev_m, date``.
    method : str
        ``"idw"`` or ``"linear"`` (see the module docstring).
    """

    chainage_m: NDArray[np.float64]
    z: NDArray[np.float64]
    wells: pd.DataFrame
    method: str

    @property
    def dates(self) -> tuple[str, str] | None:
        """``(earliest, latest)`` measurement date of the wells used, or None when unknown."""
        d = self.wells["date"].dropna().astype(str)
        d = d[d != ""]
        if d.empty:
            return None
        return (str(d.min()), str(d.max()))

    def describe(self) -> str:
        """One line for a sheet: method, number of wells and their dates."""
        what = {"idw": "IDW", "linear": "linear in chainage"}.get(self.method, self.method)
        dates = self.dates
        span = "" if dates is None else (f", {dates[0]}" if dates[0] == dates[1]
                                          else f", {dates[0]} – {dates[1]}")
        return f"{len(self.wells)} well(s), {what}{span}"


@dataclass(frozen=True, eq=False)
class ReadWells:
    """Wells already through :func:`read_wells` (``sections_along`` reads them once for all
    its sections instead of once per section); :func:`read_wells` returns ``frame`` as is."""

    frame: gpd.GeoDataFrame


_ReadWells = ReadWells  # the former private name


def _norm(name: str) -> str:
    return "".join("_" if ch in " .-" else ch for ch in str(name).strip().lower())


def _pick(wells: pd.DataFrame, role: str, given: str | None, names: tuple[str, ...],
          option: str, problems: list[str]) -> str | None:
    """The column of ``wells`` playing ``role``: the one named ``given``, else the first of
    ``names`` present."""
    if given is not None:
        if given in wells.columns:
            return given
        fields = ", ".join(str(c) for c in wells.columns if c != wells.geometry.name)
        problems.append(f"no column {given!r} for the {role} ({option}); columns: {fields}")
        return None
    cols = {_norm(c): c for c in wells.columns if c != wells.geometry.name}
    return next((cols[n] for n in names if n in cols), None)


def read_wells(wells: Any, *, dem: Any = None, elevation: str | None = None,
               depth: str | None = None, date: str | None = None,
               ground: str | None = None, relative: bool = False) -> gpd.GeoDataFrame:
    """Boreholes or wells as points with ``well_id``, ``gw_elev_m`` and ``date``.

    Parameters
    ----------
    wells : GeoDataFrame or path
        Points with a water-table elevation (:data:`ELEVATION_COLUMNS`, e.g. ``gw_elev_m``,
        ``wt_elev_m``) or a depth below ground (:data:`DEPTH_COLUMNS`, e.g. ``gw_depth_m``,
        ``wt_depth_m``, with a ground elevation :data:`GROUND_COLUMNS` such as ``ground_z``, or
        ``dem``) and a date (:data:`DATE_COLUMNS`, e.g. ``survey_date``).
    dem : Dem or path, optional
        Ground for wells that give only a depth and no ground elevation.
    elevation, depth, date, ground : str, optional
        Name the columns when they are not among the recognised names (CLI: ``--gw-elev``,
        ``--gw-depth``, ``--gw-date``).
    relative : bool
        Water levels relative to the ground (0 = ground surface, for a section without a
        DEM): ``−depth``; wells that give only an elevation are left out (warned).

    Returns
    -------
    geopandas.GeoDataFrame
        Rows with a known elevation: ``well_id, gw_elev_m, date, geometry``.

    Raises
    ------
    SchemaError
        No elevation or depth column, a named column that does not exist, or geometries that
        are not points.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> w = gpd.GeoDataFrame({"WT_Depth_m": [2.0], "ground_z": [30.0],
    ...                       "survey_date": ["2024-05-01"]},
    ...                      geometry=[shapely.Point(0, 0)], crs="EPSG:5186")
    >>> read_wells(w)[["well_id", "gw_elev_m", "date"]].values.tolist()
    [['0', 28.0, '2024-05-01']]
    """
    if isinstance(wells, ReadWells):
        return wells.frame
    if isinstance(wells, str | os.PathLike):
        from ..io.vector import read_vector

        wells = read_vector(wells, what="groundwater file")
    if not isinstance(wells, gpd.GeoDataFrame):
        msg = f"groundwater must be a GeoDataFrame of points or a file path, got {type(wells).__name__}"
        raise InputError(msg)
    problems: list[str] = []
    geoms = wells.geometry.to_numpy()
    if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
        problems.append("geometries must be Points (one per borehole or well)")
    c_elev = _pick(wells, "water-table elevation", elevation, ELEVATION_COLUMNS, "--gw-elev",
                   problems)
    c_depth = _pick(wells, "depth to water", depth, DEPTH_COLUMNS, "--gw-depth", problems)
    c_date = _pick(wells, "date", date, DATE_COLUMNS, "--gw-date", problems)
    c_ground = _pick(wells, "ground elevation", ground, GROUND_COLUMNS, "ground", problems)
    if c_elev is None and c_depth is None and elevation is None and depth is None:
        fields = ", ".join(str(c) for c in wells.columns if c != wells.geometry.name)
        problems.append(f"no water-table column among {fields or '(none)'}: name it with "
                        "--gw-elev FIELD (elevation) or --gw-depth FIELD (depth below ground); "
                        f"recognised: {', '.join(ELEVATION_COLUMNS[:4])}, "
                        f"{', '.join(DEPTH_COLUMNS[:4])} ...")
    if problems:
        raise SchemaError("groundwater: cannot read the wells", problems)
    elev = _wells_elevation(wells, geoms, c_elev, c_depth, c_ground, dem, relative)
    id_col = next((c for c in wells.columns if _norm(c) in _ID_COLUMNS), None)
    ids = (wells[id_col].astype(str) if id_col else pd.Series(wells.index.astype(str),
                                                              index=wells.index))
    dates = (wells[c_date].astype(object).where(wells[c_date].notna(), None)
             if c_date else pd.Series([None] * len(wells), index=wells.index, dtype=object))
    if c_date is None:
        logger.warning("groundwater: no date column (%s, or name it with --gw-date); the sheet "
                       "will say 'date unknown'", ", ".join(DATE_COLUMNS[:5]))
    out = gpd.GeoDataFrame(
        {"well_id": ids.to_numpy(dtype=object),
         "gw_elev_m": elev,
         "date": [None if v is None else str(v)[:10] for v in dates.to_numpy(dtype=object)]},
        geometry=gpd.GeoSeries(geoms, crs=wells.crs), crs=wells.crs)
    ok = ~np.isnan(elev)
    if not ok.all():
        logger.info("groundwater: %d well(s) without a water-table value left out",
                    int((~ok).sum()))
    return out.loc[ok].reset_index(drop=True)


def _fields(fields: Mapping[str, str] | None) -> dict[str, str]:
    """``fields`` checked against the roles of :func:`read_wells`."""
    roles = ("elevation", "depth", "date", "ground")
    given = dict(fields or {})
    unknown = sorted(set(given) - set(roles))
    if unknown:
        msg = f"unknown groundwater field role(s) {unknown}; valid: {', '.join(roles)}"
        raise InputError(msg)
    return {k: str(v) for k, v in given.items() if v is not None}


def _wells_elevation(wells: gpd.GeoDataFrame, geoms: NDArray[Any], c_elev: str | None,
                     c_depth: str | None, c_ground: str | None, dem: Any,
                     relative: bool) -> NDArray[np.float64]:
    """Water-table elevation per well (NaN where unknown), from the elevation column, or from
    the depth and the ground (its column or the DEM); ``relative``: ``−depth``."""
    def num(col: str | None) -> NDArray[np.float64]:
        if col is None:
            return np.full(len(wells), np.nan)
        return pd.to_numeric(wells[col], errors="coerce").to_numpy(np.float64)

    depth = num(c_depth)
    if (depth < 0).any():
        logger.warning("groundwater: %d well(s) have a negative depth to water (water above the "
                       "ground: artesian?); used as given", int((depth < 0).sum()))
    if relative:
        if c_depth is None or np.isnan(depth).all():
            logger.warning("groundwater: no depth below ground in the wells; without a DEM or "
                           "--ground the water table cannot be drawn")
        return -depth
    elev = num(c_elev)
    ground = num(c_ground)
    need = np.isnan(ground) & ~np.isnan(depth)
    if need.any() and dem is not None:
        d = as_dem(dem)
        ground = np.where(need, sample_dem(d, shapely.get_x(geoms), shapely.get_y(geoms)), ground)
    return np.where(np.isnan(elev), ground - depth, elev)


def water_table_at(
    wells: gpd.GeoDataFrame,
    x: NDArray[np.float64] | list[float],
    y: NDArray[np.float64] | list[float],
    *,
    k: int = 4,
    power: float = 2.0,
    max_distance: float | None = None,
) -> NDArray[np.float64]:
    """Inverse-distance-weighted water-table elevation at points (vectorised, KD-tree).

    Parameters
    ----------
    wells : GeoDataFrame
        From :func:`read_wells`.
    x, y : array-like
        Where to interpolate (the wells' CRS).
    k : int
        Number of nearest wells used.
    power : float
        Weight ``1 / d**power``.
    max_distance : float, optional
        Wells farther than this are ignored (NaN where none is in reach).

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> w = gpd.GeoDataFrame({"gw_elev_m": [10.0, 20.0]},
    ...                      geometry=[shapely.Point(0, 0), shapely.Point(2, 0)])
    >>> water_table_at(w, [0.0, 1.0, 2.0], [0.0, 0.0, 0.0]).tolist()
    [10.0, 15.0, 20.0]
    """
    from scipy.spatial import cKDTree

    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if len(wells) == 0:
        return np.full(xa.shape, np.nan)
    g = wells.geometry.to_numpy()
    tree = cKDTree(np.column_stack([shapely.get_x(g), shapely.get_y(g)]))
    kk = int(min(max(k, 1), len(wells)))
    dist, idx = tree.query(np.column_stack([xa.ravel(), ya.ravel()]), k=kk,
                           distance_upper_bound=np.inf if max_distance is None else max_distance)
    dist = np.asarray(dist, dtype=np.float64).reshape(len(xa.ravel()), kk)
    idx = np.asarray(idx).reshape(len(xa.ravel()), kk)
    valid = np.isfinite(dist)
    vals = wells["gw_elev_m"].to_numpy(np.float64)[np.where(valid, idx, 0)]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(valid, 1.0 / np.maximum(dist, 1e-12) ** power, 0.0)
        out = (w * vals).sum(axis=1) / w.sum(axis=1)
    exact = valid & (dist < 1e-9)
    hit = exact.any(axis=1)
    out[hit] = vals[hit, np.argmax(exact[hit], axis=1)]
    out[~valid.any(axis=1)] = np.nan
    return out.reshape(xa.shape)


def groundwater_profile(
    wells: Any,
    line: shapely.LineString,
    *,
    chainage: NDArray[np.float64] | None = None,
    spacing: float = 0.5,
    dem: Any = None,
    method: str = "idw",
    k: int = 4,
    power: float = 2.0,
    max_distance: float | None = None,
    crs: Any = None,
    fields: Mapping[str, str] | None = None,
    relative: bool = False,
) -> GroundwaterProfile:
    """The water table along ``line`` (see the module docstring for the two methods).

    Parameters
    ----------
    wells : GeoDataFrame or path
        Boreholes/wells (:func:`read_wells`).
    line : shapely.LineString
        The section line (2D, the wells' CRS).
    chainage : array, optional
        Chainages (m from the line's start) to evaluate; default every ``spacing`` metres.
    spacing : float
        Step of the default chainages.
    dem : Dem or path, optional
        Ground for wells that give only a depth.
    method : {"idw", "linear"}
        Interpolation method.
    k, power : int, float
        IDW parameters.
    max_distance : float, optional
        Ignore wells farther than this from the point (IDW) or from the line (linear; default
        for linear: no limit).
    crs : CRS-like, optional
        CRS of the line; must equal the wells' (CRSError).
    fields : mapping, optional
        Column names for :func:`read_wells`: ``{"elevation": …, "depth": …, "date": …,
        "ground": …}``.
    relative : bool
        Levels relative to the ground (see :func:`read_wells`).

    Returns
    -------
    GroundwaterProfile

    Raises
    ------
    InputError
        Unknown method.
    CRSError
        The wells and the line are in different CRSs.
    """
    if method not in METHODS:
        msg = f"unknown groundwater method {method!r}; valid: {', '.join(METHODS)}"
        raise InputError(msg)
    w = read_wells(wells, dem=dem, relative=relative, **_fields(fields))
    if crs is not None and w.crs is not None and not w.crs.equals(crs):
        msg = (f"the groundwater points are in {w.crs.to_string()} but the section is in "
               f"{gpd.GeoSeries([], crs=crs).crs.to_string()}; reproject with .to_crs(...)")
        raise CRSError(msg, cli=msg.replace("the groundwater points", "the --groundwater file")
                       .replace("reproject with .to_crs(...)", "reproject it (ogr2ogr -t_srs "
                                f"{gpd.GeoSeries([], crs=crs).crs.to_string()} ...)"))
    line = shapely.force_2d(line)
    if chainage is None:
        n = max(int(np.ceil(line.length / spacing)), 1) + 1
        chainage = np.linspace(0.0, line.length, n)
    ch = np.asarray(chainage, dtype=np.float64)
    g = w.geometry.to_numpy()
    well_ch = shapely.line_locate_point(line, g) if len(g) else np.zeros(0)
    offset = shapely.distance(line, g) if len(g) else np.zeros(0)
    used = np.ones(len(w), dtype=bool)
    if method == "idw":
        pts = shapely.line_interpolate_point(line, ch)
        z = water_table_at(w, shapely.get_x(pts), shapely.get_y(pts), k=k, power=power,
                           max_distance=max_distance)
        # which wells contributed: the k nearest of any evaluated point
        if len(w):
            from scipy.spatial import cKDTree

            tree = cKDTree(np.column_stack([shapely.get_x(g), shapely.get_y(g)]))
            kk = int(min(max(k, 1), len(w)))
            d, i = tree.query(np.column_stack([shapely.get_x(pts), shapely.get_y(pts)]), k=kk,
                              distance_upper_bound=np.inf if max_distance is None else max_distance)
            i = np.asarray(i).ravel()[np.isfinite(np.asarray(d).ravel())]
            used = np.zeros(len(w), dtype=bool)
            used[np.unique(i)] = True
    else:
        if max_distance is not None:
            used = offset <= max_distance
        if used.any():
            order = np.argsort(well_ch[used], kind="stable")
            z = np.interp(ch, well_ch[used][order], w["gw_elev_m"].to_numpy(np.float64)[used][order])
        else:
            z = np.full(ch.shape, np.nan)
    wells_used = pd.DataFrame({
        "well_id": w["well_id"].to_numpy(dtype=object)[used],
        "x": shapely.get_x(g)[used] if len(g) else np.zeros(0),
        "y": shapely.get_y(g)[used] if len(g) else np.zeros(0),
        "chainage_m": well_ch[used],
        "offset_m": offset[used],
        "gw_elev_m": w["gw_elev_m"].to_numpy(np.float64)[used],
        "date": w["date"].to_numpy(dtype=object)[used],
    }).sort_values("offset_m", kind="stable").reset_index(drop=True)
    if np.isnan(z).all():
        logger.warning("groundwater_profile: no well in reach of the line; no water table drawn")
    return GroundwaterProfile(ch, np.asarray(z, dtype=np.float64), wells_used, method)
