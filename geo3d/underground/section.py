"""Cross-sections (횡단면) through a pipe network: the geometry behind a section sheet.

:func:`cross_section` cuts every pipe with a polyline and returns a :class:`Section`: one row per
crossing (chainage along the line, the pipe's centre/top/invert elevation and cover, its
attributes and crossing angle), the ground profile from the DEM, the water table from boreholes,
the excavation pit in section, and the rule checks (minimum cover, clearances). Drawing is in
:mod:`geo3d.sheets`.

How the numbers are made
------------------------
* Candidates come from the pipes' STRtree (``pipes.sindex``) queried with the corridor
  ``line.buffer(width)``; all candidates are cut with one vectorised ``shapely.intersection``.
* Chainage = ``line.project(crossing point)`` (metres from the line's first vertex).
* Elevations come from the 3D centrelines of
  :func:`~geo3d.underground.pipes_to_3d` (the input's own Z when it is already 3D, i.e. has
  Z and a ``depth_assumed`` column): the centre z is interpolated linearly along the pipe at the
  crossing, top = centre + h/2, invert = centre − inner h/2, cover = ground − top with the
  ground sampled from the DEM at the crossing (bilinear).
* An oblique pipe cuts the section plane in an ellipse: its extent *along the section* is
  ``w / sin(angle)`` (``draw_width_m``); its height stays ``h``. Rule checks use the true
  outer size.
* Pipes that run within ``width`` of the line at less than ``min_angle`` to it (a service
  lateral in the plane of the section) are ``kind="along"``: the part inside the corridor is
  projected onto the section as a band from ``chainage_start_m`` to ``chainage_end_m``.
* Clearance = the clear distance between the pipes' outlines in the section plane (circles of
  the outer diameter, rectangles for box ducts), checked between crossings of different
  utilities (bands lie beside the plane, and one utility's pipes meeting on the line are a
  junction).

Examples
--------
Flat ground at 30 m; a 300 mm water main with 1.2 m cover crossed at right angles 4 m along:

>>> import numpy as np, geopandas as gpd, shapely
>>> from affine import Affine
>>> from geo3d.io.raster import Dem
>>> dem = Dem(np.full((20, 20), 30.0), Affine(1, 0, 0, 0, -1, 20), "EPSG:5186")
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["water"], "diameter_mm": [300.0], "depth_m": [1.2],
...      "depth_reference": ["top"], "depth_kind": ["cover"]},
...     geometry=[shapely.LineString([(5, 0), (5, 20)])], crs="EPSG:5186")
>>> sec = cross_section(pipes, [(1, 10), (15, 10)], ground=dem)
>>> sec.crossings[["chainage_m", "centre_z", "top_z", "cover_m"]].round(3).values.tolist()
[[4.0, 28.65, 28.8, 1.2]]
>>> list(sec.table().columns)[:4]
['chainage_m', 'utility', 'source_id', 'diameter_mm']
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from .._checks import require_metric_crs
from .._numeric import float_values as _float
from ..errors import CRSError, InputError
from ..io.atomic import atomic_path
from ..io.raster import Dem, as_dem, check_same_crs, dem_gap_reason, flat_dem, sample_dem
from .groundwater import GroundwaterProfile, ReadWells, groundwater_profile, read_wells
from .pipes import conform_pipes
from .pit import pit_polygon
from .vertical import inner_height_m as _inner_height_m
from .vertical import pipes_to_3d

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_CLEARANCE_M",
    "GROUND_MODES",
    "STRUCTURE_SECTION_COLUMNS",
    "Section",
    "as_line",
    "atlas_table",
    "cross_section",
    "section_ground",
    "section_lines",
    "sections_along",
    "structures_in_section",
]

logger = logging.getLogger(__name__)

#: Columns of the section CSV (docs/contracts.md): the numbers drawn on the sheet.
CSV_COLUMNS: tuple[str, ...] = ("chainage_m", "utility", "source_id", "diameter_mm", "centre_z",
                                "top_z", "cover_m", "material", "install_year")

#: Minimum clear distance (m, surface to surface) to any other pipe, per utility, used by the
#: clearance check unless ``clearance=`` is given. From the rules table (docs/underground.md): gas
#: ≥ 0.3 m from other facilities, water distribution mains ≥ 0.3 m. The requirement of a pair
#: is the larger of its two values; pipes that overlap are always flagged.
DEFAULT_CLEARANCE_M: dict[str, float] = {"gas": 0.3, "water": 0.3}

_CROSSING_COLUMNS = (
    "chainage_m", "kind", "chainage_start_m", "chainage_end_m", "x", "y", "utility",
    "source_layer", "source_id", "agency", "diameter_mm", "width_mm", "height_mm", "shape",
    "size_h_m", "size_v_m", "draw_width_m", "angle_deg", "offset_m", "centre_z", "top_z",
    "invert_z", "centre_z_start", "centre_z_end", "ground_z", "cover_m", "required_cover_m",
    "material", "material_raw", "install_year", "depth_assumed", "accuracy_h_m",
    "accuracy_v_m", "pipe", "violation",
)


@dataclass(eq=False)
class Section:
    """A cross-section: what :func:`cross_section` found along a line.

    Attributes
    ----------
    line : shapely.LineString
        The section line (2D), chainage 0 at its first vertex.
    crs : pyproj.CRS or None
        CRS of the line and the pipes.
    crossings : pandas.DataFrame
        One row per pipe crossing, sorted by chainage (columns in the module docstring and
        :data:`CSV_COLUMNS`; ``pipe`` is the row's index label in the input pipes).
    ground : pandas.DataFrame
        Ground profile ``chainage_m, x, y, z`` (every ``ground_step`` m; empty without a DEM).
    groundwater : GroundwaterProfile or None
        The water table along the line.
    pit : pandas.DataFrame
        The pit in section: ``chainage_start_m, chainage_end_m, top_z, bottom_z, name``.
    violations : pandas.DataFrame
        ``kind`` (``cover``, ``clearance``, ``overlap``), ``a``, ``b`` (crossing row numbers;
        −1 for none), ``value_m``, ``required_m``, ``message``.
    nearby : geopandas.GeoDataFrame
        The pipes around the line (2D; ``utility`` and geometry) for a key plan.
    name : str
        Name of the section (e.g. ``"A-A'"``).
    sources : dict
        Data sources and dates for a title block (``pipes``, ``ground``, ``groundwater``).
    station_m : float or None
        For a cut of an atlas: its station along the road (m).
    ground_mode : str
        Where the ground comes from (:data:`GROUND_MODES`): ``"dem"`` (a raster), ``"flat"``
        (one elevation given), ``"relative"`` (no ground known: levels are depths below a
        ground line at 0, from the pipes' cover depths) or ``"none"`` (3D pipes with no
        ground: no ground line, no covers). The sheet says which.
    structures : pandas.DataFrame
        Point structures near the line (:func:`structures_in_section`).
    """

    line: shapely.LineString
    crs: Any
    crossings: pd.DataFrame
    ground: pd.DataFrame
    groundwater: GroundwaterProfile | None
    pit: pd.DataFrame
    violations: pd.DataFrame
    nearby: gpd.GeoDataFrame
    name: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    station_m: float | None = None
    ground_mode: str = "dem"
    structures: pd.DataFrame = field(default_factory=lambda: _empty_structures())

    @property
    def length_m(self) -> float:
        """Length of the section line."""
        return float(self.line.length)

    def table(self) -> pd.DataFrame:
        """The numbers drawn on the sheet, in :data:`CSV_COLUMNS` (rounded to mm).

        Examples
        --------
        >>> sec = Section.empty(shapely.LineString([(0, 0), (1, 0)]))
        >>> sec.table().shape
        (0, 9)
        """
        t = self.crossings.loc[:, list(CSV_COLUMNS)].copy()
        for c in ("chainage_m", "centre_z", "top_z", "cover_m"):
            t[c] = t[c].astype("Float64").round(3)
        t["diameter_mm"] = t["diameter_mm"].astype("Float64")
        t["install_year"] = t["install_year"].astype("Int64")
        return t.reset_index(drop=True)

    def to_csv(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write :meth:`table` as UTF-8 CSV, atomically. Returns the path."""
        with atomic_path(path, overwrite=overwrite) as tmp:
            self.table().to_csv(tmp, index=False, encoding="utf-8")
        return Path(path)

    @classmethod
    def empty(cls, line: shapely.LineString, crs: Any = None, name: str = "") -> Section:
        """A section with nothing on it (used for tests and as a template)."""
        return cls(line=line, crs=crs, crossings=_empty_crossings(),
                   ground=pd.DataFrame({c: pd.Series(dtype=float)
                                        for c in ("chainage_m", "x", "y", "z")}),
                   groundwater=None, pit=_empty_pit(), violations=_empty_violations(),
                   nearby=gpd.GeoDataFrame({"utility": pd.Series(dtype=str)},
                                           geometry=gpd.GeoSeries([], crs=crs), crs=crs),
                   name=name)


def atlas_table(sections: Sequence[Section]) -> pd.DataFrame:
    """The numbers drawn on an atlas: :meth:`Section.table` of each sheet, one after another.

    Each row carries its ``sheet`` (page number in the atlas PDF: page 1 is the key map, so the
    first section is sheet 2) and the sheet's ``station_m`` along the road.

    Examples
    --------
    >>> sec = Section.empty(shapely.LineString([(0, 0), (1, 0)]))
    >>> list(atlas_table([sec, sec]).columns[:3])
    ['sheet', 'station_m', 'chainage_m']
    """
    tables = []
    for k, sec in enumerate(sections):
        t = sec.table()
        t.insert(0, "station_m", sec.station_m)
        t.insert(0, "sheet", k + 2)
        tables.append(t)
    if not tables:
        return pd.DataFrame(columns=["sheet", "station_m", *CSV_COLUMNS])
    return pd.concat(tables, ignore_index=True)


def _empty_crossings() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("kind", "utility", "source_layer",
                                                            "source_id", "agency", "shape",
                                                            "material", "material_raw",
                                                            "violation", "pipe")
                                      else ("Int64" if c == "install_year" else
                                            (bool if c == "depth_assumed" else float)))
                         for c in _CROSSING_COLUMNS})


def _empty_pit() -> pd.DataFrame:
    return pd.DataFrame({"chainage_start_m": pd.Series(dtype=float),
                         "chainage_end_m": pd.Series(dtype=float),
                         "top_z": pd.Series(dtype=float), "bottom_z": pd.Series(dtype=float),
                         "name": pd.Series(dtype=object)})


def _empty_violations() -> pd.DataFrame:
    return pd.DataFrame({"kind": pd.Series(dtype=object), "a": pd.Series(dtype=int),
                         "b": pd.Series(dtype=int), "value_m": pd.Series(dtype=float),
                         "required_m": pd.Series(dtype=float), "message": pd.Series(dtype=object)})


# --------------------------------------------------------------------------------------------
# the line
# --------------------------------------------------------------------------------------------
def as_line(line: Any) -> shapely.LineString:
    """A 2D LineString from a LineString, a coordinate sequence, a ``"x1,y1,x2,y2,…"`` string,
    or a one-row GeoDataFrame/GeoSeries.

    Raises
    ------
    InputError
        Malformed coordinates, fewer than two points, or a zero-length line.

    Examples
    --------
    >>> as_line("0,0,3,4").length
    5.0
    >>> as_line("0,0,3")
    Traceback (most recent call last):
    ...
    geo3d.errors.InputError: ...
    """
    if isinstance(line, gpd.GeoDataFrame | gpd.GeoSeries):
        geoms = line.geometry.to_numpy() if isinstance(line, gpd.GeoDataFrame) else line.to_numpy()
        if len(geoms) != 1:
            msg = (f"the section line must be one line, got {len(geoms)} features; "
                   "select one row (e.g. gdf.iloc[[0]])")
            raise InputError(msg)
        line = geoms[0]
    if isinstance(line, str):
        try:
            vals = [float(v) for v in line.replace(";", ",").split(",") if v.strip()]
        except ValueError:
            msg = f"--line must be numbers 'x1,y1,x2,y2[,…]', got {line!r}"
            raise InputError(msg) from None
        if len(vals) % 2 or len(vals) < 4:
            msg = (f"--line needs an even number (≥ 4) of coordinates 'x1,y1,x2,y2[,…]', "
                   f"got {len(vals)} in {line!r}")
            raise InputError(msg)
        line = shapely.LineString(np.asarray(vals).reshape(-1, 2))
    if isinstance(line, shapely.MultiLineString):
        merged = shapely.line_merge(line)
        if isinstance(merged, shapely.LineString):
            line = merged
    if not isinstance(line, shapely.Geometry):
        try:
            arr = np.asarray(line, dtype=np.float64)
        except (TypeError, ValueError):
            msg = f"cannot read a section line from {type(line).__name__}"
            raise InputError(msg) from None
        if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] not in (2, 3):
            msg = f"a section line needs at least two (x, y) points, got shape {arr.shape}"
            raise InputError(msg)
        line = shapely.LineString(arr)
    if not isinstance(line, shapely.LineString):
        msg = f"the section line must be a LineString, got {line.geom_type}"
        raise InputError(msg)
    line = shapely.force_2d(line)
    coords = shapely.get_coordinates(line)
    if not np.isfinite(coords).all():
        msg = "the section line has non-finite coordinates"
        raise InputError(msg)
    if line.length <= 0:
        msg = "the section line has zero length; give two distinct points"
        raise InputError(msg)
    return line


def section_lines(road: Any, *, step: float = 20.0, length: float = 30.0,
                  start: float | None = None) -> gpd.GeoDataFrame:
    """Perpendicular cuts every ``step`` metres along a road line (for a section atlas).

    Each cut is ``length`` m long, centred on the road, drawn from the road's left to its right
    (looking along the road). Named ``"S-001"`` … with the station (m along the road).

    Parameters
    ----------
    road : LineString, GeoDataFrame or GeoSeries
        The road centreline (one line).
    step : float
        Distance between cuts (m).
    length : float
        Length of each cut (m).
    start : float, optional
        Station of the first cut (default ``step / 2``, or mid-road when shorter).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name, station_m, geometry`` (LineStrings).

    Examples
    --------
    >>> cuts = section_lines(shapely.LineString([(0, 0), (100, 0)]), step=40, length=10)
    >>> cuts["station_m"].tolist(), shapely.get_coordinates(cuts.geometry.iloc[0]).tolist()
    ([20.0, 60.0, 100.0], [[20.0, 5.0], [20.0, -5.0]])
    """
    crs = getattr(road, "crs", None)
    line = as_line(road)
    if not step > 0 or not length > 0:
        msg = f"step and length must be positive metres, got step={step!r}, length={length!r}"
        raise InputError(msg)
    total = line.length
    first = min(step / 2.0, total / 2.0) if start is None else float(start)
    stations = np.arange(first, total + 1e-9, step)
    eps = min(0.5, total / 100.0)
    p = shapely.line_interpolate_point(line, stations)
    a = shapely.line_interpolate_point(line, np.clip(stations - eps, 0, total))
    b = shapely.line_interpolate_point(line, np.clip(stations + eps, 0, total))
    dx = shapely.get_x(b) - shapely.get_x(a)
    dy = shapely.get_y(b) - shapely.get_y(a)
    norm = np.hypot(dx, dy)
    nx, ny = -dy / norm, dx / norm                      # left normal
    half = length / 2.0
    x, y = shapely.get_x(p), shapely.get_y(p)
    coords = np.stack([np.column_stack([x + nx * half, y + ny * half]),
                       np.column_stack([x - nx * half, y - ny * half])], axis=1)
    geoms = shapely.linestrings(coords)
    names = [f"S-{i + 1:03d}" for i in range(len(stations))]
    return gpd.GeoDataFrame({"name": names, "station_m": np.round(stations, 3)},
                            geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def _is_3d(pipes: gpd.GeoDataFrame) -> bool:
    if "depth_assumed" not in pipes or len(pipes) == 0:
        return False
    g = pipes.geometry.to_numpy()
    present = ~(shapely.is_missing(g) | shapely.is_empty(g))
    return bool(shapely.has_z(g[present]).all())


def _to_3d(pipes: gpd.GeoDataFrame, dem: Any, default_cover: Any,
           densify: float | None) -> gpd.GeoDataFrame:
    """pipes_to_3d, densified where the rows allow it (per-vertex Z rows cannot be)."""
    if densify is not None:
        try:
            return pipes_to_3d(pipes, dem, default_cover=default_cover, densify=densify)
        except InputError as exc:
            if "densify" not in str(exc):
                raise
    return pipes_to_3d(pipes, dem, default_cover=default_cover)


def _direction(lines: NDArray[Any], dist: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unit tangent (dx, dy) of each line at a distance along it (vectorised)."""
    length = shapely.length(lines)
    eps = np.minimum(0.05, length / 4.0)
    a = shapely.line_interpolate_point(lines, np.clip(dist - eps, 0, length))
    b = shapely.line_interpolate_point(lines, np.clip(dist + eps, 0, length))
    d = np.column_stack([shapely.get_x(b) - shapely.get_x(a), shapely.get_y(b) - shapely.get_y(a)])
    n = np.hypot(d[:, 0], d[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return d / n[:, None]


def _z_at(lines3d: NDArray[Any], dist: NDArray[np.float64]) -> NDArray[np.float64]:
    """Centreline z at a 2D distance along each 3D line (linear between vertices)."""
    if len(lines3d) == 0:
        return np.zeros(0)
    pts = shapely.line_interpolate_point(lines3d, dist)
    return np.asarray(shapely.get_z(pts), dtype=np.float64)


def _pit_frame(pit: Any, pit_depth: float | None) -> gpd.GeoDataFrame | None:
    if pit is None:
        return None
    if isinstance(pit, str | os.PathLike):
        pit = gpd.read_file(pit)
    if isinstance(pit, shapely.Geometry):
        pit = gpd.GeoDataFrame({"depth_m": [pit_depth]}, geometry=[pit])
    if isinstance(pit, gpd.GeoSeries):
        pit = gpd.GeoDataFrame({"depth_m": [pit_depth] * len(pit)}, geometry=pit)
    if not isinstance(pit, gpd.GeoDataFrame):
        msg = f"pit must be a Polygon, a GeoDataFrame or a path, got {type(pit).__name__}"
        raise InputError(msg)
    pit = pit.copy()
    if pit_depth is not None:
        pit["depth_m"] = float(pit_depth)
    if "depth_m" not in pit and "bottom_z" not in pit:
        msg = "the pit needs a depth: a depth_m (or bottom_z) column, or pit_depth=…"
        raise InputError(msg, cli="the --pit file needs a depth: a depth_m (or bottom_z) "
                         "column")
    geoms = pit.geometry.to_numpy()
    bad = ~shapely.is_valid(geoms) | shapely.is_empty(geoms) | (shapely.get_type_id(geoms) == 0)
    for g in geoms[bad][:1]:   # the first bad pit: refused as excavate refuses it
        pit_polygon(g)
    return pit


def _pit_in_section(pit: gpd.GeoDataFrame, line: shapely.LineString,
                    dem: Dem | None) -> pd.DataFrame:
    """Chainage intervals of the line inside each pit polygon; flat floor.

    The floor is the pit's ``bottom_z`` when given, else the ground reference minus
    ``depth_m``, with the ground reference taken as in
    :func:`~geo3d.underground.excavation.excavate`: the mean DEM along the pit outline
    (every metre) and at a point inside.
    """
    geoms = pit.geometry.to_numpy()
    inter = shapely.intersection(line, geoms)
    parts, idx = shapely.get_parts(inter, return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)
    parts, idx = parts[keep], idx[keep]
    if len(parts) == 0:
        return _empty_pit()
    s = shapely.line_locate_point(line, shapely.get_point(parts, 0))
    e = shapely.line_locate_point(line, shapely.get_point(parts, -1))
    c0, c1 = np.minimum(s, e), np.maximum(s, e)
    top = np.full(len(parts), np.nan)
    if dem is not None:
        for k, i in enumerate(idx):  # one per pit interval, a handful
            poly = geoms[i]
            if isinstance(poly, shapely.MultiPolygon):
                poly = max(poly.geoms, key=lambda g: g.area)
            ring = shapely.get_coordinates(shapely.segmentize(poly.exterior, 1.0))
            pts = np.vstack([ring, shapely.get_coordinates(poly.representative_point())])
            z = sample_dem(dem, pts[:, 0], pts[:, 1])
            top[k] = float(np.nanmean(z)) if np.isfinite(z).any() else np.nan
    depth = (pd.to_numeric(pit["depth_m"], errors="coerce").to_numpy(np.float64)[idx]
             if "depth_m" in pit else np.full(len(idx), np.nan))
    bottom = top - depth
    if "bottom_z" in pit:
        bz = pd.to_numeric(pit["bottom_z"], errors="coerce").to_numpy(np.float64)[idx]
        bottom = np.where(np.isnan(bz), bottom, bz)
    name_col = next((c for c in ("pit_id", "name", "id") if c in pit), None)
    names = (pit[name_col].astype(str).to_numpy()[idx] if name_col
             else np.array([f"pit {i + 1}" for i in idx], dtype=object))
    return pd.DataFrame({"chainage_start_m": c0, "chainage_end_m": c1, "top_z": top,
                         "bottom_z": bottom, "name": names})


def _required_cover(pipes: gpd.GeoDataFrame, *, road_width: float | None,
                    under_traffic: bool, rules: Any) -> NDArray[np.float64]:
    """Minimum cover per row from :func:`geo3d.underground.rules.required_cover`."""
    try:
        from .rules import required_cover
    except ImportError:  # pragma: no cover - rules.py is shipped with the package
        logger.warning("cross_section: geo3d.underground.rules is not available; "
                       "the minimum-cover check is skipped")
        return np.full(len(pipes), np.nan)
    req = required_cover(pipes, road_width=road_width, under_traffic=under_traffic, rules=rules)
    return _float(req, pipes.index)


def _clearance_required(util_a: NDArray[Any], util_b: NDArray[Any],
                        clearance: float | Mapping[str, float] | Callable[..., Any] | None,
                        ) -> NDArray[np.float64]:
    if callable(clearance):
        return np.asarray(clearance(util_a, util_b), dtype=np.float64)
    if clearance is None or isinstance(clearance, Mapping):
        table = DEFAULT_CLEARANCE_M if clearance is None else {str(k): float(v)
                                                               for k, v in clearance.items()}
        from .rules import no_na as _no_na

        ua, ub = _no_na(util_a), _no_na(util_b)
        va = np.zeros(len(ua))
        vb = np.zeros(len(ub))
        for u, v in table.items():  # a few utilities
            va[ua == u] = v
            vb[ub == u] = v
        return np.maximum(np.where(np.isnan(va), 0.0, va), np.where(np.isnan(vb), 0.0, vb))
    return np.full(len(util_a), float(clearance))


def _outlines(c: NDArray[np.float64], z: NDArray[np.float64], w: NDArray[np.float64],
              h: NDArray[np.float64], box: NDArray[np.bool_], c0: NDArray[np.float64],
              c1: NDArray[np.float64], along: NDArray[np.bool_],
              z0: NDArray[np.float64], z1: NDArray[np.float64]) -> NDArray[Any]:
    """Pipe outlines in the section plane (chainage, z): circles, boxes, bands."""
    circles = shapely.buffer(shapely.points(c, z), np.maximum(w, 1e-3) / 2.0, quad_segs=8)
    boxes = shapely.box(c - w / 2, z - h / 2, c + w / 2, z + h / 2)
    band_lines = shapely.linestrings(np.stack([np.column_stack([c0, z0]),
                                               np.column_stack([c1, z1])], axis=1))
    bands = shapely.buffer(band_lines, np.maximum(h, 1e-3) / 2.0, cap_style="flat")
    return np.where(along, bands, np.where(box, boxes, circles))



#: Where a section's ground comes from (:attr:`Section.ground_mode`).
GROUND_MODES: tuple[str, ...] = ("dem", "flat", "relative", "none")


def section_ground(ground: Any, pipes: gpd.GeoDataFrame, line: shapely.LineString | None = None
                   ) -> tuple[Dem | None, str, str]:
    """The ground of a section: ``(DEM or None, mode, description for the sheet)``.

    ``ground`` is a DEM or raster path (mode ``"dem"``), a number (flat ground at that
    elevation, ``"flat"``), or None: then 2D pipes with cover depths are placed below a ground
    line at 0 (``"relative"``: every level is a depth below ground), and pipes that are 3D
    already are drawn at their elevations with no ground (``"none"``).

    Examples
    --------
    >>> p = gpd.GeoDataFrame({"utility": ["gas"]}, geometry=[shapely.LineString([(0, 0), (9, 0)])],
    ...                      crs="EPSG:5186")
    >>> section_ground(31.5, p)[1:]
    ('flat', 'flat at EL 31.50 m (given; no DEM)')
    >>> section_ground(None, p)[1]
    'relative'
    """
    crs = pipes.crs
    bounds = np.asarray(pipes.total_bounds if len(pipes) else (0.0, 0.0, 1.0, 1.0), dtype=float)
    if line is not None:
        lb = np.asarray(line.bounds, dtype=float)
        bounds = np.r_[np.fmin(bounds[:2], lb[:2]), np.fmax(bounds[2:], lb[2:])]
    if ground is None:
        if _is_3d(pipes):
            return None, "none", "none (3D pipes at their elevations; no DEM, no covers)"
        return (flat_dem(0.0, tuple(bounds), crs), "relative",
                "relative: 0.00 = ground surface (no DEM); levels are depths below ground")
    if isinstance(ground, bool):
        msg = f"ground must be a DEM, a raster path or an elevation, got {ground!r}"
        raise InputError(msg)
    if isinstance(ground, int | float | np.integer | np.floating):
        value = float(ground)
        dem = flat_dem(value, tuple(bounds), crs)   # refuses NaN and infinities
        return dem, "flat", f"flat at EL {value:.2f} m (given; no DEM)"
    dem = as_dem(ground)
    check_same_crs(dem, crs, what="the pipes")
    text = Path(ground).name if isinstance(ground, str | os.PathLike) else "DEM"
    return dem, "dem", text


def _check_relative(pipes: gpd.GeoDataFrame) -> None:
    """Without a ground, pipes given by absolute elevation cannot share the relative datum."""
    if "depth_kind" not in pipes or not len(pipes):
        return
    elev = (pipes["depth_kind"].astype(object).to_numpy() == "elevation")
    if elev.any():
        msg = (f"{int(elev.sum())} pipe(s) near the line give absolute elevations, which cannot "
               "be drawn below a relative ground line; pass ground= (a DEM, or one elevation "
               "for flat ground)")
        raise InputError(msg, cli=(f"{int(elev.sum())} pipe(s) near the line give absolute "
                                   "elevations, which cannot be drawn below a relative ground "
                                   "line; give --dem DEM.tif, or --ground Z for flat ground"))


def _empty_structures() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("structure_id", "kind", "utility",
                                                           "source_layer") else float)
                         for c in STRUCTURE_SECTION_COLUMNS})


#: Columns of :attr:`Section.structures`.
STRUCTURE_SECTION_COLUMNS: tuple[str, ...] = (
    "structure_id", "kind", "utility", "source_layer", "chainage_m", "offset_m", "ground_z",
    "depth_m", "bottom_z")


def structures_in_section(structures: gpd.GeoDataFrame, line: shapely.LineString, *,
                          width: float, dem: Dem | None, crs: Any = None) -> pd.DataFrame:
    """Point structures within ``width`` of the line, at their chainage: the ground there
    (``ground_z``, from ``dem``) and their bottom (``ground_z − depth_m``; NaN when unknown).

    Examples
    --------
    >>> st = gpd.GeoDataFrame({"kind": ["manhole"], "structure_id": ["MH1"], "utility": ["sewer"],
    ...                        "depth_m": [2.0]}, geometry=[shapely.Point(3, 1)], crs="EPSG:5186")
    >>> from geo3d.io.raster import flat_dem
    >>> t = structures_in_section(st, shapely.LineString([(0, 0), (10, 0)]), width=2.0,
    ...                           dem=flat_dem(30.0, (0, 0, 10, 5)))
    >>> t[["structure_id", "chainage_m", "offset_m", "bottom_z"]].values.tolist()
    [['MH1', 3.0, 1.0, 28.0]]
    """
    from .pit import structures_in_pit

    near = structures_in_pit(structures, line.buffer(width, cap_style="flat"), band=0.0,
                             crs=crs)
    g = near.geometry.to_numpy()
    ch = shapely.line_locate_point(line, g) if len(g) else np.zeros(0)
    x, y = (shapely.get_x(g), shapely.get_y(g)) if len(g) else (np.zeros(0), np.zeros(0))
    gz = sample_dem(dem, x, y) if dem is not None and len(g) else np.full(len(g), np.nan)
    depth = near["depth_m"].to_numpy(np.float64)
    out = pd.DataFrame({
        "structure_id": near["structure_id"].astype(object).to_numpy(),
        "kind": near["kind"].astype(object).to_numpy(),
        "utility": near["utility"].astype(object).to_numpy(),
        "source_layer": near["source_layer"].astype(object).to_numpy(),
        "chainage_m": ch, "offset_m": shapely.distance(line, g) if len(g) else np.zeros(0),
        "ground_z": gz, "depth_m": depth, "bottom_z": gz - depth})
    return out.sort_values("chainage_m", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# the section
# --------------------------------------------------------------------------------------------
def cross_section(
    pipes: gpd.GeoDataFrame,
    line: Any,
    *,
    ground: Dem | str | os.PathLike[str] | float | Any = None,
    groundwater: Any = None,
    width: float = 2.0,
    pit: Any = None,
    pit_depth: float | None = None,
    default_cover: float | Mapping[str, float] | None = None,
    densify: float | None = 0.5,
    road_width: float | None = None,
    under_traffic: bool = True,
    rules: Any = None,
    clearance: float | Mapping[str, float] | Callable[..., Any] | None = None,
    min_angle: float = 15.0,
    ground_step: float = 0.25,
    groundwater_method: str = "idw",
    nearby: float = 60.0,
    name: str = "",
    groundwater_fields: Mapping[str, str] | None = None,
    structures: gpd.GeoDataFrame | None = None,
    _plan: NDArray[np.object_] | None = None,
    _ground: tuple[Dem | None, str, str] | None = None,
) -> Section:
    """Cut the pipes with a polyline: crossings, ground, water table, pit and rule checks.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Canonical pipes (:func:`~geo3d.underground.read_pipes`), 2D with depths (placed with
        :func:`~geo3d.underground.pipes_to_3d` over ``ground``) or already 3D (Z and a
        ``depth_assumed`` column, e.g. the output of ``pipes_to_3d``).
    line : LineString, coordinates, ``"x1,y1,x2,y2,…"`` or one-row GeoDataFrame
        The section line in the pipes' CRS; chainage runs from its first vertex.
    ground : Dem, raster path or float, optional
        The ground: a DEM (profile and cover depths), or one elevation for flat ground. With
        neither, levels are drawn relative to the ground (0 = ground surface) from the pipes'
        cover depths (pipes with absolute elevations then need a ground); see
        :func:`section_ground`.
    groundwater : GeoDataFrame or path, optional
        Boreholes/wells (:func:`~geo3d.underground.groundwater.read_wells`).
    width : float
        Corridor half-width (m): pipes running within it at less than ``min_angle`` to the line
        are shown as bands (``kind="along"``).
    pit : Polygon, GeoDataFrame or path, optional
        Excavation pit(s) with ``depth_m`` (or ``bottom_z``), or give ``pit_depth``.
    pit_depth : float, optional
        Depth of the pit below the ground (m).
    default_cover : float or mapping, optional
        Passed to :func:`~geo3d.underground.pipes_to_3d` (cover for pipes of unknown depth).
    densify : float or None
        Vertex spacing (m) of the 3D centrelines of the pipes near the line, so that the ground
        under a crossing is sampled at the crossing (``None``: the pipes' own vertices). Not
        used for input that is already 3D.
    road_width, under_traffic, rules
        Passed to :func:`geo3d.underground.rules.required_cover` for the minimum-cover check.
    clearance : float, mapping or callable, optional
        Minimum clear distance between crossings: one number, ``{utility: m}`` (a pair needs the
        larger value), or ``f(util_a, util_b) -> array``; default :data:`DEFAULT_CLEARANCE_M`.
    min_angle : float
        Crossings flatter than this (degrees) are drawn as bands.
    ground_step : float
        Spacing of the ground profile (m; ≤ 0.5).
    groundwater_method : {"idw", "linear"}
        See :mod:`geo3d.underground.groundwater`.
    nearby : float
        Radius (m) around the line of the pipes kept for the key plan.
    name : str
        Name of the section (printed on the sheet).
    groundwater_fields : mapping, optional
        Column names of the wells, ``{"elevation": …, "depth": …, "date": …}``, when they are
        not among the recognised ones (:func:`~geo3d.underground.groundwater.read_wells`).
    structures : GeoDataFrame, optional
        Point structures (manholes, valves...; ``utility, kind, structure_id, source_layer,
        depth_m``): those within ``width`` of the line are drawn (manholes as shafts from the
        ground down to their depth).
    _plan : array, optional
        Internal (:func:`sections_along`): the key-plan geometry of every row of ``pipes``
        (2D, simplified), computed once for many sections.
    _ground : tuple, optional
        Internal (:func:`sections_along`): :func:`section_ground` worked out once.

    Returns
    -------
    Section

    Raises
    ------
    InputError
        A malformed or zero-length line, a line outside the pipes' extent, a line with no DEM
        coverage, or cover depths without a DEM.
    CRSError
        The pipes have no projected CRS, or the DEM / wells are in another CRS.
    """
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"cross_section needs a GeoDataFrame of pipes, got {type(pipes).__name__}"
        raise InputError(msg)
    require_metric_crs(pipes.crs, what="cross_section: the pipes", name="pipes")
    line_crs = getattr(line, "crs", None)
    if line_crs is not None and not pipes.crs.equals(line_crs):
        msg = (f"the section line is in {line_crs.to_string()} but the pipes are in "
               f"{pipes.crs.to_string()}; reproject the line with .to_crs(...)")
        raise CRSError(msg)
    line = as_line(line)
    if not width > 0:
        msg = f"width must be a positive corridor half-width in metres, got {width!r}"
        raise InputError(msg, cli=msg.replace("width", "--width", 1))
    crs = pipes.crs
    pit_gdf = _pit_frame(pit, pit_depth)   # a bad pit fails before any work
    dem, ground_mode, ground_text = (section_ground(ground, pipes, line) if _ground is None
                                     else _ground)

    # --- the line must touch the data (no pipe within `nearby` m: outside) ----------------
    near_idx = (np.sort(pipes.sindex.query(line.buffer(max(nearby, width)),
                                           predicate="intersects"))
                if len(pipes) else np.zeros(0, dtype=np.int64))
    if len(near_idx) == 0:
        left, bottom, right, top = pipes.total_bounds if len(pipes) else (np.nan,) * 4
        lb = ", ".join(f"{v:.1f}" for v in line.bounds)
        pb = ", ".join(f"{v:.1f}" for v in (left, bottom, right, top))
        msg = (f"the section line (bounds {lb}) lies outside the pipes (bounds {pb}; none "
               f"within {max(nearby, width):g} m); give coordinates in the pipes' CRS inside "
               "their extent")
        raise InputError(msg)

    # --- ground profile ---------------------------------------------------------------------
    step = min(float(ground_step), 0.5)
    n = max(math.ceil(line.length / step), 1) + 1
    ch = np.linspace(0.0, line.length, n)
    pts = shapely.line_interpolate_point(line, ch)
    gx, gy = shapely.get_x(pts), shapely.get_y(pts)
    if dem is not None:
        gz = sample_dem(dem, gx, gy)
        if np.isnan(gz).all():
            db = ", ".join(f"{v:.1f}" for v in dem.bounds)
            if dem_gap_reason(dem, gx, gy) == "nodata":
                msg = (f"the DEM has only nodata cells along the section line (DEM bounds "
                       f"{db}); fill the gap in the DEM, or give flat ground (ground=Z)")
                cli = (f"the --dem has only nodata cells along the section line (DEM bounds "
                       f"{db}); fill the gap in the DEM, or give --ground Z for flat ground")
            else:
                msg = (f"the DEM (bounds {db}) does not cover the section line; give a DEM "
                       "that covers it")
                cli = msg.replace("the DEM", "the --dem", 1)
            raise InputError(msg, cli=cli)
        if np.isnan(gz).any():
            logger.warning("cross_section: %.0f %% of the line has no ground (off the DEM)",
                           100.0 * np.isnan(gz).mean())
    else:
        gz = np.full(n, np.nan)
    ground_df = pd.DataFrame({"chainage_m": ch, "x": gx, "y": gy, "z": gz})
    if dem is None:
        ground_df = ground_df.iloc[0:0]

    # --- candidates and 3D ------------------------------------------------------------------
    corridor = line.buffer(width, cap_style="flat")
    all_geoms = pipes.geometry.to_numpy()
    near_geoms = all_geoms[near_idx]
    cand = near_idx[shapely.intersects(near_geoms, corridor)]
    g3 = all_geoms[cand]
    present = ~(shapely.is_missing(g3) | shapely.is_empty(g3))
    sub3: gpd.GeoDataFrame | None = None   # None: the input rows are 3D already
    if not (len(cand) and "depth_assumed" in pipes and shapely.has_z(g3[present]).all()):
        sub = pipes.iloc[cand]
        if ground_mode == "relative":
            _check_relative(sub)
        if len(sub):
            sub3 = _to_3d(sub, dem, default_cover, densify)
        else:
            sub3 = conform_pipes(sub, keep_extra=True)
            sub3["depth_assumed"] = pd.Series(dtype=bool)
        g3 = sub3.geometry.to_numpy()
    utilities = (pipes["utility"].iloc[cand] if sub3 is None else sub3["utility"]).astype(
        str).to_numpy()
    g2 = shapely.force_2d(g3)

    # crossing points
    inter = shapely.intersection(line, g2) if len(g2) else np.zeros(0, dtype=object)
    parts, pidx = (shapely.get_parts(inter, return_index=True) if len(inter)
                   else (np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)))
    is_point = shapely.get_type_id(parts) == 0
    xp = parts[is_point]
    ip = pidx[is_point]
    d_pipe = shapely.line_locate_point(g2[ip], xp) if len(ip) else np.zeros(0)
    d_line = shapely.line_locate_point(line, xp) if len(ip) else np.zeros(0)
    if len(ip):
        tp = _direction(g2[ip], d_pipe)
        tl = _direction(np.full(len(ip), line, dtype=object), d_line)
        cosang = np.abs(tp[:, 0] * tl[:, 0] + tp[:, 1] * tl[:, 1])
        angle = np.degrees(np.arccos(np.clip(cosang, 0.0, 1.0)))
    else:
        angle = np.zeros(0)
    crossing = angle >= min_angle
    xp, ip, d_pipe, d_line, angle = (xp[crossing], ip[crossing], d_pipe[crossing],
                                     d_line[crossing], angle[crossing])
    # dedupe: two segments that meet on the line give the same point
    if len(ip):
        key = pd.DataFrame({"u": utilities[ip],
                            "c": np.round(d_line, 3),
                            "z": np.round(_z_at(g3[ip], d_pipe), 3)})
        keep = ~key.duplicated().to_numpy()
        xp, ip, d_pipe, d_line, angle = xp[keep], ip[keep], d_pipe[keep], d_line[keep], angle[keep]

    # bands: pipes in the corridor, near-parallel to the line, not crossing it steeply
    crossed = np.zeros(len(g2), dtype=bool)
    crossed[ip] = True
    clip = shapely.intersection(g2, corridor) if len(g2) else np.zeros(0, dtype=object)
    clip_len = shapely.length(clip) if len(g2) else np.zeros(0)
    cand_b = np.flatnonzero(~crossed & (clip_len > 0.05))
    band_rows: dict[str, NDArray[Any]] = {}
    if len(cand_b):
        xy, grp = shapely.get_coordinates(clip[cand_b], return_index=True)
        vch = shapely.line_locate_point(line, shapely.points(xy))
        frame = pd.DataFrame({"g": grp, "c": vch, "i": np.arange(len(grp))})
        lo = frame.loc[frame.groupby("g")["c"].idxmin()]
        hi = frame.loc[frame.groupby("g")["c"].idxmax()]
        c0 = lo["c"].to_numpy()
        c1 = hi["c"].to_numpy()
        p0 = shapely.points(xy[lo["i"].to_numpy()])
        p1 = shapely.points(xy[hi["i"].to_numpy()])
        rows_b = cand_b[lo["g"].to_numpy()]
        # direction of the clipped piece vs the line at its middle
        vec = shapely.get_coordinates(p1) - shapely.get_coordinates(p0)
        span = np.hypot(vec[:, 0], vec[:, 1])
        mid_c = (c0 + c1) / 2.0
        tl = _direction(np.full(len(rows_b), line, dtype=object), mid_c)
        along_len = c1 - c0
        clip_l = clip_len[rows_b]
        with np.errstate(invalid="ignore", divide="ignore"):
            cosang = np.clip(along_len / np.maximum(clip_l, 1e-9), 0.0, 1.0)
        ang_b = np.degrees(np.arccos(cosang))
        ok = (ang_b < min_angle) & (span > 0.05)
        if ok.any():
            rows_b, c0, c1, p0, p1, ang_b = (rows_b[ok], c0[ok], c1[ok], p0[ok], p1[ok],
                                             ang_b[ok])
            z0 = _z_at(g3[rows_b], shapely.line_locate_point(g2[rows_b], p0))
            z1 = _z_at(g3[rows_b], shapely.line_locate_point(g2[rows_b], p1))
            mid = (c0 + c1) / 2.0
            band_rows = {"rows": rows_b, "c0": c0, "c1": c1, "z0": z0, "z1": z1, "mid": mid,
                         "angle": ang_b, "offset": shapely.distance(line, g2[rows_b]),
                         "pt": shapely.line_interpolate_point(line, mid)}
        del tl
    nb = len(band_rows.get("rows", ()))
    rows = np.concatenate([ip, band_rows.get("rows", np.zeros(0, dtype=np.int64))]).astype(np.int64)
    kind = np.array(["cross"] * len(ip) + ["along"] * nb, dtype=object)
    chain = np.concatenate([d_line, band_rows.get("mid", np.zeros(0))])
    c_start = np.concatenate([d_line, band_rows.get("c0", np.zeros(0))])
    c_end = np.concatenate([d_line, band_rows.get("c1", np.zeros(0))])
    ptg = np.concatenate([xp, band_rows.get("pt", np.zeros(0, dtype=object))])
    angle_all = np.concatenate([angle, band_rows.get("angle", np.zeros(0))])
    offset = np.concatenate([np.zeros(len(ip)), band_rows.get("offset", np.zeros(0))])
    zc_cross = _z_at(g3[ip], d_pipe) if len(ip) else np.zeros(0)
    z0_all = np.concatenate([zc_cross, band_rows.get("z0", np.zeros(0))])
    z1_all = np.concatenate([zc_cross, band_rows.get("z1", np.zeros(0))])
    centre = (z0_all + z1_all) / 2.0

    sel = pipes.iloc[cand[rows]] if sub3 is None else sub3.iloc[rows]
    sidx = sel.index
    dia = _float(sel["diameter_mm"], sidx)
    wmm = _float(sel["width_mm"], sidx)
    hmm = _float(sel["height_mm"], sidx)
    box = ~np.isnan(wmm) & ~np.isnan(hmm)
    size_h = np.where(box, wmm, dia) / 1000.0
    size_v = np.where(box, hmm, dia) / 1000.0
    size_h0 = np.nan_to_num(size_h, nan=0.0)
    size_v0 = np.nan_to_num(size_v, nan=0.0)
    inner = np.nan_to_num(_inner_height_m(sel), nan=0.0)
    with np.errstate(divide="ignore"):
        sin = np.sin(np.radians(np.maximum(angle_all, min_angle)))
    draw_w = np.where(kind == "cross", size_h0 / sin, size_h0)
    top_z = centre + size_v0 / 2.0
    invert_z = centre - inner / 2.0
    x = shapely.get_x(ptg) if len(ptg) else np.zeros(0)
    y = shapely.get_y(ptg) if len(ptg) else np.zeros(0)
    ground_at = sample_dem(dem, x, y) if (dem is not None and len(x)) else np.full(len(x), np.nan)
    cover = ground_at - top_z
    required = (_required_cover(sel, road_width=road_width, under_traffic=under_traffic,
                                rules=rules) if len(sel) else np.zeros(0))

    def col(name: str, dtype: str = "object") -> pd.Series:
        if name in sel:
            return sel[name].reset_index(drop=True)
        return pd.Series([pd.NA] * len(sel), dtype=dtype)

    data: dict[str, Any] = {
        "chainage_m": chain, "kind": kind, "chainage_start_m": c_start, "chainage_end_m": c_end,
        "x": x, "y": y,
    }
    for c in ("utility", "source_layer", "source_id", "agency"):
        data[c] = col(c).astype(object).to_numpy()
    data.update({
        "diameter_mm": dia, "width_mm": wmm, "height_mm": hmm,
        "shape": np.where(box, "box", "circle").astype(object),
        "size_h_m": size_h, "size_v_m": size_v, "draw_width_m": draw_w, "angle_deg": angle_all,
        "offset_m": offset, "centre_z": centre, "top_z": top_z, "invert_z": invert_z,
        "centre_z_start": z0_all, "centre_z_end": z1_all, "ground_z": ground_at,
        "cover_m": cover, "required_cover_m": required,
        "material": col("material").astype(object).to_numpy(),
        "material_raw": col("material_raw").astype(object).to_numpy(),
        "install_year": pd.array(col("install_year", "Int64").to_numpy(), dtype="Int64"),
        "depth_assumed": col("depth_assumed", "boolean").fillna(False).astype(bool).to_numpy(),
        "accuracy_h_m": (_float(sel["accuracy_h_m"], sidx) if "accuracy_h_m" in sel
                         else np.full(len(sel), np.nan)),
        "accuracy_v_m": (_float(sel["accuracy_v_m"], sidx) if "accuracy_v_m" in sel
                         else np.full(len(sel), np.nan)),
        "pipe": np.asarray(sidx, dtype=object),
    })
    cr = pd.DataFrame(data)   # one construction (column by column costs ~30 inserts)
    cr = cr.sort_values(["chainage_m", "centre_z"], ascending=[True, False],
                        kind="stable").reset_index(drop=True)

    # --- rule checks ------------------------------------------------------------------------
    messages: list[list[str]] = [[] for _ in range(len(cr))]
    vio: list[dict[str, Any]] = []
    cv = cr["cover_m"].to_numpy(np.float64)
    rq = cr["required_cover_m"].to_numpy(np.float64)
    bad_cover = np.flatnonzero(~np.isnan(cv) & ~np.isnan(rq) & (cv < rq - 1e-6))
    for k in bad_cover:  # one per violating crossing
        m = f"cover {cv[k]:.2f} m < {rq[k]:.2f} m"
        messages[k].append(m)
        vio.append({"kind": "cover", "a": int(k), "b": -1, "value_m": float(cv[k]),
                    "required_m": float(rq[k]), "message": f"{cr['utility'][k]}: {m}"})
    if len(cr) > 1:
        out = _outlines(cr["chainage_m"].to_numpy(), cr["centre_z"].to_numpy(),
                        np.nan_to_num(cr["size_h_m"].to_numpy(np.float64)),
                        np.nan_to_num(cr["size_v_m"].to_numpy(np.float64)),
                        (cr["shape"] == "box").to_numpy(), cr["chainage_start_m"].to_numpy(),
                        cr["chainage_end_m"].to_numpy(), (cr["kind"] == "along").to_numpy(),
                        cr["centre_z_start"].to_numpy(), cr["centre_z_end"].to_numpy())
        ia, ib = np.triu_indices(len(cr), 1)
        ok_geom = ~np.isnan(cr["centre_z"].to_numpy())
        pair_ok = ok_geom[ia] & ok_geom[ib]
        ia, ib = ia[pair_ok], ib[pair_ok]
        dist = shapely.distance(out[ia], out[ib])
        ua = cr["utility"].to_numpy(dtype=object)
        need = _clearance_required(ua[ia], ua[ib], clearance)
        # only true cuts lie in the section plane (bands are projected from beside it), and
        # pipes of one utility meeting on the line are a junction, not a clash
        is_cut = (cr["kind"] == "cross").to_numpy()
        distinct = is_cut[ia] & is_cut[ib] & (ua[ia] != ua[ib])
        bad = distinct & ((dist < need - 1e-6) | (dist <= 0.0))
        for a, b, d, r in zip(ia[bad], ib[bad], dist[bad], need[bad], strict=True):
            kind_v = "overlap" if d <= 0 else "clearance"
            m = (f"overlaps {ua[b]}" if d <= 0 else f"{d:.2f} m to {ua[b]} < {r:.2f} m")
            messages[a].append(m)
            messages[b].append(f"overlaps {ua[a]}" if d <= 0 else f"{d:.2f} m to {ua[a]} < {r:.2f} m")
            vio.append({"kind": kind_v, "a": int(a), "b": int(b), "value_m": float(d),
                        "required_m": float(r),
                        "message": f"{ua[a]} / {ua[b]}: clear distance {d:.2f} m < {r:.2f} m"})
    cr["violation"] = np.array(["; ".join(m) for m in messages], dtype=object)
    violations = pd.DataFrame(vio) if vio else _empty_violations()

    # --- groundwater, pit, key plan ---------------------------------------------------------
    gw = None
    if groundwater is not None:
        gw = groundwater_profile(groundwater, line, chainage=ch, dem=dem,
                                 method=groundwater_method, crs=crs, fields=groundwater_fields,
                                 relative=ground_mode == "relative")
    pit_df = _empty_pit()
    if pit_gdf is not None:
        if pit_gdf.crs is not None and not pit_gdf.crs.equals(crs):
            msg = "the pit is in another CRS than the pipes; reproject it with .to_crs(...)"
            raise CRSError(msg, cli=(f"the --pit file is in {pit_gdf.crs.to_string()}, the "
                                     f"pipes in {crs.to_string()}; reproject it (ogr2ogr "
                                     f"-t_srs {crs.to_string()} pit2.geojson pit.geojson)"))
        pit_df = _pit_in_section(pit_gdf, line, dem)
    plan = (_plan[near_idx] if _plan is not None
            else shapely.simplify(shapely.force_2d(near_geoms), 0.001))
    near_gdf = gpd.GeoDataFrame(
        {"utility": pipes["utility"].iloc[near_idx].astype(str).to_numpy()},
        geometry=gpd.GeoSeries(plan, crs=crs), crs=crs)

    sources: dict[str, str] = {}
    layers = sorted({str(v) for v in cr["source_layer"].dropna()}) if len(cr) else []
    if layers:
        sources["pipes"] = ", ".join(layers)
    if ground_text:
        sources["ground"] = ground_text
    if gw is not None:
        sources["groundwater"] = gw.describe()
    logger.info("cross_section: %.1f m line, %d candidates -> %d crossings (%d along), "
                "%d violations", line.length, len(cand), len(cr), nb, len(violations))
    st_df = (structures_in_section(structures, line, width=width, dem=dem, crs=crs)
             if structures is not None else _empty_structures())
    return Section(line=line, crs=crs, crossings=cr, ground=ground_df, groundwater=gw,
                   pit=pit_df, violations=violations, nearby=near_gdf, name=name,
                   sources=sources, ground_mode=ground_mode, structures=st_df)


def sections_along(
    pipes: gpd.GeoDataFrame,
    lines: Sequence[Any] | gpd.GeoDataFrame,
    **kwargs: Any,
) -> list[Section]:
    """:func:`cross_section` for many lines, placing the pipes in 3D once.

    The pipes near any of the lines are placed in 3D with one
    :func:`~geo3d.underground.pipes_to_3d` call; each line then only queries the spatial
    index. Keyword arguments are those of :func:`cross_section`; a GeoDataFrame of lines
    (e.g. :func:`section_lines`) names each section from its ``name`` column.
    """
    if isinstance(lines, gpd.GeoDataFrame):
        names = (lines["name"].astype(str).tolist() if "name" in lines
                 else [""] * len(lines))
        geoms = list(lines.geometry.to_numpy())
    else:
        geoms = [as_line(g) for g in lines]
        names = [""] * len(geoms)
    if not geoms:
        return []
    ground = kwargs.pop("ground", None)
    width = float(kwargs.get("width", 2.0))
    nearby = float(kwargs.get("nearby", 60.0))
    region = shapely.union_all(shapely.buffer(np.asarray(geoms, dtype=object),
                                              max(width, nearby)))
    near = pipes.iloc[np.sort(pipes.sindex.query(region, predicate="intersects"))]
    dem, mode, text = section_ground(ground, near if len(near) else pipes,
                                     shapely.LineString(shapely.get_coordinates(region.envelope
                                                                                .exterior)))
    if not _is_3d(near) and len(near):
        if mode == "relative":
            _check_relative(near)
        near = _to_3d(near, dem, kwargs.get("default_cover"), kwargs.get("densify", 0.5))
    plan = shapely.simplify(shapely.force_2d(near.geometry.to_numpy()), 0.001)
    gw = kwargs.get("groundwater")
    if gw is not None:   # read (and checked) once for all the sections
        kwargs["groundwater"] = ReadWells(read_wells(
            gw, dem=dem, relative=mode == "relative",
            **{k: v for k, v in (kwargs.get("groundwater_fields") or {}).items() if v}))
    stations = (lines["station_m"].to_numpy(np.float64) if isinstance(lines, gpd.GeoDataFrame)
                and "station_m" in lines else np.full(len(geoms), np.nan))
    out = []
    for g, nm, st in zip(geoms, names, stations, strict=True):  # one per section line
        kw = dict(kwargs)
        if not kwargs.get("name"):
            kw["name"] = nm
        sec = cross_section(near, g, _plan=plan, _ground=(dem, mode, text), **kw)
        sec.station_m = None if np.isnan(st) else float(st)
        out.append(sec)
    return out
