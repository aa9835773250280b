"""Check a pipes frame once, at the boundary, and repair what can be repaired (every command).

:func:`validate_pipes` is run by :func:`geo3d.underground.read_pipes` on everything it reads, so
``excavate``, ``section``, ``stats`` and ``tiles`` see the same checked pipes. The rules (stated
once here, and in the user guide's "agency data" page):

Refused (listed together in one :class:`~geo3d.errors.SchemaError`)
    no ``utility`` or geometry column; unknown utilities; missing, empty,
    non-line or zero-length geometries; a missing, geographic or non-metre CRS; unknown depth
    references or kinds, or a depth that does not say what it measures; cover deeper than 30 m;
    sizes over 10 m or whose median looks like metres or inches; length attributes that total
    the geometry length × 3.28 or × 0.3048 (feet against metres); a 3D pipe with no finite z.
Repaired, with a warning that counts them (the row is kept, the value becomes *unknown*)
    negative cover depths; non-positive sizes; install years before :data:`MIN_INSTALL_YEAR`
    or after this year; a cover depth of exactly 0 (see :mod:`~geo3d.underground.harmonise`);
    NaN z at some vertices of a 3D pipe (interpolated along the line from its other vertices);
    MultiLineStrings (exploded); invalid geometries (made valid).
Reported only
    unknown material codes (``material`` stays unknown, ``material_raw`` keeps the code);
    self-intersecting lines; duplicate ``source_id`` within a layer.

With ``repair=False`` the repairable findings are problems too.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .._checks import crs_label, is_metric
from ..errors import InputError, SchemaError
from . import schema
from .harmonise import conform_pipes

__all__ = ["LENGTH_COLUMNS", "MAX_COVER_M", "MIN_INSTALL_YEAR", "PipeValidation",
           "validate_pipes"]

logger = logging.getLogger(__name__)

#: Attribute columns taken to hold a segment length (checked against the geometry).
LENGTH_COLUMNS: tuple[str, ...] = (
    "length", "length_m", "pip_len", "len", "shape_leng", "shape_length", "seg_len",
)
#: Deepest plausible cover (m).
MAX_COVER_M = 30.0
#: Earliest plausible install year (cast-iron mains of the early 1800s are still in service).
MIN_INSTALL_YEAR = 1800
FOOT_M = 0.3048
_DEPTHS = ["depth_m", "depth_start_m", "depth_end_m"]


class PipeValidation(NamedTuple):
    """What :func:`validate_pipes` found.

    Attributes
    ----------
    pipes : geopandas.GeoDataFrame
        A repaired copy (canonical columns added and typed, multi-part lines exploded, invalid
        geometries made valid); the input is never changed.
    problems : list of str
        What cannot be repaired (empty when the frame is fine). With ``strict=True`` these are
        raised as one :class:`~geo3d.errors.SchemaError` instead.
    warnings : list of str
        What was repaired or looks doubtful (also logged).
    """

    pipes: gpd.GeoDataFrame
    problems: list[str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        """True when there are no problems."""
        return not self.problems


def _rows(mask: pd.Series | np.ndarray, index: pd.Index, k: int = 5) -> str:
    where = index[np.asarray(mask, dtype=bool)]
    head = ", ".join(str(i) for i in where[:k])
    more = f", … (+{len(where) - k})" if len(where) > k else ""
    return f"{len(where)} row(s) (index {head}{more})"


def _values(s: pd.Series, k: int = 8) -> str:
    counts = s.value_counts()
    head = ", ".join(f"{v!r} ({c})" for v, c in counts.head(k).items())
    return head + (f", … (+{len(counts) - k} more)" if len(counts) > k else "")


def _near(ratio: float, target: float, tol: float = 0.015) -> bool:
    return math.isfinite(ratio) and abs(ratio / target - 1.0) < tol


def validate_pipes(
    pipes: gpd.GeoDataFrame,
    *,
    strict: bool = True,
    repair: bool = True,
    year: int | None = None,
    duplicates: bool = True,
) -> PipeValidation:
    """Check a pipes frame against the canonical schema and report every problem at once.

    The rules are in the module docstring: what is refused, what is repaired to *unknown*
    with a warning, and what is only reported.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Pipes, e.g. from :func:`read_pipes`. Not modified.
    strict : bool
        Raise one :class:`~geo3d.errors.SchemaError` listing every problem (default). With
        ``False`` the problems are returned (and logged) instead.
    repair : bool
        Apply the repairs to the returned copy (default true); without, they are problems.
    year : int, optional
        Reference year for "install year in the future" (default: this year).
    duplicates : bool
        Also look for duplicate ``source_id`` within a layer (a note only; about 1 s per
        million rows, so :func:`read_pipes` leaves it to an explicit call).

    Returns
    -------
    PipeValidation
        ``(pipes, problems, warnings)``: the repaired copy and the findings.

    Raises
    ------
    SchemaError
        With ``strict=True``, when any problem is found (``.problems`` holds the list).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(
    ...     {"utility": ["water", "steam", "gas"], "install_year": [1750, 1990, 2099],
    ...      "depth_m": [-1.0, 1.0, 0.0], "depth_reference": ["top"] * 3,
    ...      "depth_kind": ["cover"] * 3},
    ...     geometry=[shapely.LineString([(0, 0), (10, 0)]), shapely.Point(1, 1),
    ...               shapely.LineString([(5, 5), (5, 5)])], crs="EPSG:5186")
    >>> r = validate_pipes(g, strict=False)
    >>> for p in r.problems:
    ...     print(p)
    unknown utility: 'steam' (1); valid: water, sewer, power, telecom, gas, heat, oil, lpg
    geometry must be LineString: 1 row(s) (index 1) are Point
    zero-length line: 1 row(s) (index 2); a pipe needs two distinct points (fix or delete it)
    >>> for w in r.warnings[1:]:  # [0]: the canonical columns added
    ...     print(w)
    negative cover depth in depth_m: 1 row(s) (index 0); set to unknown
    install_year before 1800: 1 row(s) (index 0); set to unknown
    install_year after ...: 1 row(s) (index 2); set to unknown
    >>> r.pipes["depth_unknown"].tolist()
    [True, False, True]
    >>> validate_pipes(g)
    Traceback (most recent call last):
    ...
    geo3d.errors.SchemaError: validate_pipes: 3 problem(s) ...
    """
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"validate_pipes needs a GeoDataFrame, got {type(pipes).__name__}"
        raise InputError(msg)
    f = _Findings(repair)
    missing = [c for c in schema.REQUIRED_COLUMNS if c != "geometry" and c not in pipes.columns]
    if pipes.geometry.name not in pipes.columns:
        missing.append("geometry")
    if missing:
        f.problem(f"missing required column(s): {', '.join(missing)}")
    absent = [c for c in schema.CANONICAL_COLUMNS
              if c not in pipes.columns and c not in schema.REQUIRED_COLUMNS]
    if absent and not missing:
        f.notes.append(f"added missing canonical column(s) as unknown: {', '.join(absent)}")
    frame = pipes.copy() if missing or _conformed(pipes) else conform_pipes(pipes,
                                                                              keep_extra=True)
    _check_crs(frame.crs, f)
    if missing:
        return _finish(frame, f, strict)
    _check_codes(frame, f)
    frame, lines = _check_geometry(frame, f, repair)
    frame = _check_values(frame, f, year or _dt.date.today().year)
    _check_units(frame, lines, f)
    if duplicates:
        _check_duplicates(frame, f)
    multi = pd.Series(shapely.get_type_id(frame.geometry.to_numpy()) == 5, index=frame.index)
    if multi.any():
        f.notes.append(f"MultiLineString exploded into LineStrings (parts keep their row's "
                       f"index and source_id): {_rows(multi, frame.index)}")
        if repair:
            frame = frame.explode(index_parts=False)
    return _finish(frame, f, strict)


def _check_duplicates(frame: gpd.GeoDataFrame, f: _Findings) -> None:
    layer_code, _ = pd.factorize(frame["source_layer"])
    id_code, _ = pd.factorize(frame["source_id"])  # -1: missing
    key = layer_code.astype(np.int64) * (int(id_code.max(initial=0)) + 1) + id_code
    dup = pd.Series(key).duplicated(keep=False).to_numpy() & (id_code >= 0)
    if dup.any():
        f.notes.append(f"duplicate source_id within a layer: {_rows(dup, frame.index)}")


def _conformed(frame: gpd.GeoDataFrame) -> bool:
    """Every canonical column present in its canonical dtype (e.g. straight from read_pipes)."""
    for col, dtype in schema.CANONICAL_COLUMNS.items():
        if col == "geometry":
            continue
        if col not in frame.columns:
            return False
        have = frame[col].dtype
        ok = (pd.api.types.is_string_dtype(have) and have is not np.dtype(object)
              if dtype == "str"
              else str(have) == dtype)
        if not ok:
            return False
    return True


class _Findings:
    """Problems (Python and command-line words) and notes of one validation."""

    def __init__(self, repair: bool) -> None:
        self.repair = repair
        self.problems: list[str] = []
        self.cli_problems: list[str] = []
        self.notes: list[str] = []

    def problem(self, py: str, cli: str | None = None) -> None:
        self.problems.append(py)
        self.cli_problems.append(py if cli is None else cli)

    def repaired(self, text: str) -> bool:
        """A repairable finding: a note when repairing (returns True), else a problem."""
        if self.repair:
            self.notes.append(f"{text}; set to unknown")
        else:
            self.problem(text)
        return self.repair


def _check_crs(crs: Any, f: _Findings) -> None:
    if is_metric(crs):
        return
    if crs is None:
        what = "no CRS"
    elif CRS.from_user_input(crs).is_geographic:
        what = f"geographic CRS {crs_label(crs)} (degrees)"
    else:
        what = f"CRS {crs_label(crs)} is not in metres"
    f.problem(f"{what}; lengths need metres: pipes.to_crs(<projected CRS in metres>) or "
              "read_pipes(..., crs=...) (read_pipes reprojects feet and degrees itself)",
              f"{what}; give the CRS of the coordinates with --crs (geo3d reprojects feet "
              "and degrees to metres)")


def _check_codes(frame: gpd.GeoDataFrame, f: _Findings) -> None:
    idx = frame.index
    valid_u = (*schema.UTILITIES, *schema.OPTIONAL_UTILITIES)
    u = frame["utility"]
    bad = u.notna() & ~u.isin(valid_u)
    if bad.any():
        f.problem(f"unknown utility: {_values(u[bad])}; valid: {', '.join(valid_u)}",
                  f"unknown utility: {_values(u[bad])}; valid: {', '.join(valid_u)} (map them "
                  "with [layer.utility_values] in the --schema map)")
    if u.isna().any():
        f.problem(f"utility missing: {_rows(u.isna(), idx)}")
    mat, raw = frame["material"], frame["material_raw"]
    unknown_mat = raw.notna() & (raw.str.strip() != "") & mat.isna()
    if unknown_mat.any():  # material is not needed for lengths or clearances: unknown, said
        f.notes.append(f"unknown material code(s): {_values(raw[unknown_mat])}: material left "
                       "unknown (material_raw keeps the code); map them with "
                       "[layer.material_values] in a schema map (Python: read_pipes(..., "
                       "materials={...}))")
    bad = mat.notna() & ~mat.isin(schema.MATERIALS)
    if bad.any():
        f.problem(f"material not a normalised name: {_values(mat[bad])}; valid: "
                  f"{', '.join(schema.MATERIALS)}")
    for col, valid in (("depth_reference", schema.DEPTH_REFERENCES),
                       ("depth_kind", schema.DEPTH_KINDS), ("pressure", schema.PRESSURES)):
        v = frame[col]
        bad = v.notna() & ~v.isin(valid)
        if bad.any():
            f.problem(f"unknown {col}: {_values(v[bad])}; valid: {', '.join(valid)}")
    has_depth = frame[_DEPTHS].notna().any(axis=1)
    for col in ("depth_reference", "depth_kind"):
        lack = has_depth & frame[col].isna()
        if lack.any():
            f.problem(f"{col} missing where a depth is given: {_rows(lack, idx)}; every depth "
                      "must say what it measures")


def _check_geometry(frame: gpd.GeoDataFrame, f: _Findings, repair: bool
                    ) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    idx = frame.index
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        f.problem(f"missing or empty geometry: {_rows(empty, idx)}")
    types = shapely.get_type_id(geoms)
    other = ~np.isin(types, [1, 5]) & ~empty
    if other.any():
        names = pd.Series(types[other]).map(
            {0: "Point", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon",
             7: "GeometryCollection"})
        f.problem(f"geometry must be LineString: {_rows(other, idx)} are "
                  f"{', '.join(sorted(set(names.astype(str))))}")
    lines = ~empty & ~other
    zero = lines & (shapely.length(geoms) == 0)
    if zero.any():
        f.problem(f"zero-length line: {_rows(zero, idx)}; a pipe needs two distinct points "
                  "(fix or delete it)")
    bendy = lines & ~zero & (shapely.get_num_coordinates(geoms) >= 4)  # fewer cannot cross
    crossing = np.zeros(len(geoms), dtype=bool)
    crossing[bendy] = ~shapely.is_simple(geoms[bendy])
    if crossing.any():
        f.notes.append(f"self-intersecting line (kept as drawn): {_rows(crossing, idx)}")
    invalid = lines & ~zero & ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        ok = np.isin(shapely.get_type_id(fixed), [1, 5]) & ~shapely.is_empty(fixed)
        if (~ok).any():
            f.problem("invalid geometry that make_valid cannot keep as a line: "
                      f"{_rows(~ok, idx[invalid])}")
        if ok.any():
            f.notes.append(f"invalid geometry made valid: {_rows(ok, idx[invalid])}")
            if repair:
                geoms = geoms.copy()
                geoms[np.flatnonzero(invalid)[ok]] = fixed[ok]
    geoms = _fill_z(geoms, lines, idx, f)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=idx, crs=frame.crs))
    return frame, lines


def _fill_z(geoms: np.ndarray, lines: np.ndarray, idx: pd.Index, f: _Findings) -> np.ndarray:
    """NaN z of 3D lines, linear in 2D length between the line's known vertices."""
    is3d = lines & shapely.has_z(geoms)
    if not is3d.any():
        return geoms
    xyz, part = shapely.get_coordinates(geoms[is3d], include_z=True, return_index=True)
    nan = np.isnan(xyz[:, 2])
    if not nan.any():
        return geoms
    rows = np.flatnonzero(is3d)
    known_any = np.bincount(part, weights=~nan, minlength=len(rows)) > 0
    none = np.zeros(len(geoms), dtype=bool)
    none[rows[~known_any]] = True
    if none.any():
        f.problem(f"3D line with no finite z: {_rows(none, idx)}; give the elevations, or "
                  "drop the z and give depths")
    some = np.zeros(len(geoms), dtype=bool)
    some[rows[known_any & (np.bincount(part, weights=nan, minlength=len(rows)) > 0)]] = True
    if not f.repaired(f"NaN z at some vertices of a 3D line: {_rows(some, idx)} "
                      "(interpolated along the line)") or not some.any():
        return geoms
    step = np.r_[0.0, np.hypot(*np.diff(xyz[:, :2], axis=0).T)]
    step[np.r_[True, part[1:] != part[:-1]]] = 0.0
    d = np.cumsum(step)
    pos = np.arange(len(xyz))
    prev = np.maximum.accumulate(np.where(~nan, pos, -1))
    nxt = np.minimum.accumulate(np.where(~nan, pos, len(xyz))[::-1])[::-1]
    ok_p = (prev >= 0) & (part[np.clip(prev, 0, None)] == part)
    ok_n = (nxt < len(xyz)) & (part[np.clip(nxt, None, len(xyz) - 1)] == part)
    zp = np.where(ok_p, xyz[np.clip(prev, 0, None), 2], np.nan)
    zn = np.where(ok_n, xyz[np.clip(nxt, None, len(xyz) - 1), 2], np.nan)
    dp, dn = d[np.clip(prev, 0, None)], d[np.clip(nxt, None, len(xyz) - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(dn > dp, (d - dp) / (dn - dp), 0.5)
    z = np.where(ok_p & ok_n, zp + (zn - zp) * t, np.where(ok_p, zp, zn))
    xyz[:, 2] = np.where(nan, z, xyz[:, 2])
    out = geoms.copy()
    out[rows] = shapely.linestrings(xyz, indices=part)
    out[none] = geoms[none]
    return out


def _check_values(frame: gpd.GeoDataFrame, f: _Findings, year: int) -> gpd.GeoDataFrame:
    """Impossible depths, sizes and years: unknown with a note (problems without repair)."""
    idx = frame.index
    cover = (frame["depth_kind"] == "cover").fillna(False).astype(bool)
    for col in _DEPTHS:
        v = frame[col]
        neg = (v < 0).fillna(False).astype(bool) & cover
        if neg.any() and f.repaired(f"negative cover depth in {col}: {_rows(neg, idx)}"):
            frame[col] = v.mask(neg)
        deep = (v > MAX_COVER_M).fillna(False).astype(bool) & cover
        if deep.any():
            f.problem(f"implausible cover depth (> {MAX_COVER_M:g} m) in {col}: "
                      f"{_rows(deep, idx)}; is it in cm or mm?",
                      f"implausible cover depth (> {MAX_COVER_M:g} m) in {col}: "
                      f"{_rows(deep, idx)}; give its unit in the --schema map (depth = "
                      "{ field = ..., unit = \"cm\" })")
    frame["depth_unknown"] = frame["depth_unknown"] | frame[_DEPTHS].isna().all(axis=1)
    iy = frame["install_year"]
    for bad, text in (((iy < MIN_INSTALL_YEAR), f"install_year before {MIN_INSTALL_YEAR}"),
                      ((iy > year), f"install_year after {year}")):
        bad = bad.fillna(False).astype(bool)
        if bad.any() and f.repaired(f"{text}: {_rows(bad, idx)}"):
            frame["install_year"] = frame["install_year"].mask(bad)
    for col in ("diameter_mm", "width_mm", "height_mm"):
        v = frame[col]
        nonpos = (v <= 0).fillna(False).astype(bool)
        if nonpos.any() and f.repaired(f"non-positive {col}: {_rows(nonpos, idx)}"):
            frame[col] = v.mask(nonpos)
        huge = (v > 10_000).fillna(False).astype(bool)
        if huge.any():
            f.problem(f"implausible {col} (> 10 m): {_rows(huge, idx)}")
    return frame


def _check_units(frame: gpd.GeoDataFrame, lines: np.ndarray, f: _Findings) -> None:
    d = frame["diameter_mm"].dropna()
    d = d[d > 0]
    if len(d) >= 3 and float(d.median()) < 20.0:
        head = (f"diameter_mm median is {float(d.median()):g}: the sizes look like metres or "
                "inches, not millimetres")
        f.problem(f"{head}; read with read_pipes(..., units='m' or 'in')",
                  f"{head}; give the unit in the --schema map (diameter = {{ field = ..., "
                  "unit = \"m\" }} or \"in\")")
    crs = frame.crs
    if crs is None or not CRS.from_user_input(crs).is_projected:
        return
    unit = CRS.from_user_input(crs).axis_info[0].unit_name
    geom_len = float(shapely.length(frame.geometry.to_numpy()[lines]).sum())
    for col in LENGTH_COLUMNS:
        if col not in frame.columns or not pd.api.types.is_numeric_dtype(frame[col].dtype):
            continue
        total = float(pd.to_numeric(frame[col], errors="coerce")[lines].sum())
        if geom_len <= 0 or total <= 0:
            continue
        ratio = total / geom_len
        if _near(ratio, 1 / FOOT_M) or _near(ratio, FOOT_M):
            label = "feet" if ratio > 1 else "metres"
            other_u = "metres" if ratio > 1 else "feet"
            f.problem(f"column {col!r} totals {total:,.0f} but the geometries measure "
                      f"{geom_len:,.0f} CRS units ({unit}): ratio {ratio:.4f} is the foot/metre factor, so "
                      f"{col!r} looks like {label} while the coordinates are in {other_u}; "
                      "check the CRS of the coordinates")


def _finish(frame: gpd.GeoDataFrame, f: _Findings, strict: bool) -> PipeValidation:
    for note in f.notes:
        logger.warning("validate_pipes: %s", note)
    logger.info("validate_pipes: %s segments, %d problem(s), %d warning(s)", f"{len(frame):,}",
                len(f.problems), len(f.notes))
    if f.problems and strict:
        msg = (f"validate_pipes: {len(f.problems)} problem(s) (call with strict=False to get "
               "them as a list)")
        raise SchemaError(msg, f.problems, cli=f"the pipes fail {len(f.problems)} check(s)",
                          cli_problems=f.cli_problems)
    for p in f.problems:
        logger.warning("validate_pipes: problem: %s", p)
    return PipeValidation(frame, f.problems, f.notes)
