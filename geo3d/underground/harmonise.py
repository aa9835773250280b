"""Source values into the canonical pipe schema: sizes, dates, units, codes, one layer at a time.

:func:`parse_size` and :func:`parse_install_year` parse the messy values of source files;
:func:`conform_pipes` gives any frame every canonical column in canonical dtypes;
:func:`harmonise_layer` turns one source layer into canonical rows through a layer mapping
(:mod:`geo3d.underground.schema`). :func:`geo3d.underground.read_pipes` uses them for every layer.

The rule for a depth of 0 (stated once, applied by :func:`conform_pipes` to every source): a
*cover* depth of exactly 0 is **unknown**, in UIS layers, in the canonical schema and in mapped
layers alike — a pipe whose top is flush with the road is not a buried utility, while 0 is what
source systems write for "not surveyed" (85 % of one city's water rows). The row keeps its
place, with ``depth_unknown`` true, and downstream commands use the assumed default cover and
say so. An *elevation* of 0 is kept (sea level is a height).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import InputError
from . import schema

__all__ = [
    "DEPTH_UNITS",
    "DIAMETER_UNITS",
    "conform_pipes",
    "harmonise_layer",
    "parse_install_year",
    "parse_size",
    "unit_factor",
]

logger = logging.getLogger(__name__)


#: Diameter / size units → millimetres.
DIAMETER_UNITS: dict[str, float] = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4, "ft": 304.8}
#: Depth units → metres.
DEPTH_UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "in": 0.0254}

_SIZE_RE = (
    r"^\s*(?:[ΦφØøDd]\s*)?(\d+(?:\.\d*)?)\s*(?:mm)?\s*"
    r"(?:[\\xX×*]\s*(\d+(?:\.\d*)?)\s*(?:mm)?\s*)?$"
)


# --------------------------------------------------------------------------------------------
# parsers (vectorised)
# --------------------------------------------------------------------------------------------
def parse_size(values: pd.Series | Sequence[object], *, unit: str = "mm") -> pd.DataFrame:
    """Parse pipe size strings into ``diameter_mm``, ``width_mm`` and ``height_mm``.

    ``"300"`` (or the number 300, ``"Φ300"``, ``"D300"``) is a diameter; two numbers joined by
    ``\\``, ``x``, ``×`` or ``*`` are a box ``width × height``. 0, empty and unparseable values
    are unknown (``<NA>``).

    Parameters
    ----------
    values : Series or sequence
        Size strings or numbers.
    unit : str
        Unit of the numbers, a key of :data:`DIAMETER_UNITS` (default ``"mm"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``diameter_mm``, ``width_mm``, ``height_mm`` (Float64), aligned to ``values``.

    Examples
    --------
    >>> parse_size(["300", "500\\\\600", "1000x1200", "2.5×2", "", "0", "abc", 150])
       diameter_mm  width_mm  height_mm
    0        300.0      <NA>       <NA>
    1         <NA>     500.0      600.0
    2         <NA>    1000.0     1200.0
    3         <NA>       2.5        2.0
    4         <NA>      <NA>       <NA>
    5         <NA>      <NA>       <NA>
    6         <NA>      <NA>       <NA>
    7        150.0      <NA>       <NA>
    """
    factor = unit_factor(unit, DIAMETER_UNITS, "diameter")
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        a = pd.to_numeric(s).astype("Float64")
        b = pd.Series(pd.NA, index=s.index, dtype="Float64")
    else:
        text = s.astype(object).where(s.notna(), None).astype("str")
        # numbers stored as text keep their float form ("300.0"): the regex handles it
        parts = text.str.extract(_SIZE_RE)
        a = pd.to_numeric(parts[0], errors="coerce").astype("Float64")
        b = pd.to_numeric(parts[1], errors="coerce").astype("Float64")
    box = b.notna()
    a = a.mask(a == 0)
    b = b.mask(b == 0)
    out = pd.DataFrame(
        {
            "diameter_mm": a.where(~box) * factor,
            "width_mm": a.where(box) * factor,
            "height_mm": b.where(box) * factor,
        },
        index=s.index,
    )
    return out.astype("Float64")


def parse_install_year(values: pd.Series | Sequence[object]) -> pd.Series:
    """Install years from dates: ``'YYYYMMDD'``, ``'YYYY-MM-DD'``, ``'YYYYMM'``, years, datetimes.

    Empty strings, 0 and unparseable values are ``<NA>`` (never 0). Out-of-range years are kept
    for :func:`validate_pipes` to report.

    Examples
    --------
    >>> parse_install_year(["19950312", "", "2001-05-01", "0", None, "199903"]).tolist()
    [1995, <NA>, 2001, <NA>, <NA>, 1999]
    >>> parse_install_year([19950312, 1987, 0]).tolist()
    [1995, 1987, <NA>]
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        year = s.dt.year.astype("Int64")
    elif pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        v = pd.to_numeric(s).astype("Float64")
        v = v.mask(v.abs() >= 2.0**53)
        v = v.mask(v >= 1e7, (v // 10000)).mask((v >= 1e5) & (v < 1e7), v // 100)
        year = v.round().astype("Int64")
    else:
        text = s.astype(object).where(s.notna(), None).astype("str")
        year = pd.to_numeric(text.str.extract(r"^\s*(\d{4})")[0], errors="coerce").astype("Int64")
    return year.mask(year == 0)


def _id_text(sid: pd.Series) -> pd.Series:
    """Source ids as text: whole floats without ``.0`` (``1.0`` → ``"1"``), any size (``1e20``)."""
    if pd.api.types.is_float_dtype(sid.dtype):
        v = pd.to_numeric(sid, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.isfinite(v) & (v % 1 == 0) & (np.abs(v) < 2.0**63)
        text = np.char.mod("%d", np.where(whole, v, 0).astype(np.int64)).astype(object)
        rest = np.flatnonzero(~whole & np.isfinite(v))  # rare: fractions, ids beyond int64
        text[rest] = [np.format_float_positional(x, trim="-") for x in v[rest]]
        return pd.Series(text, index=sid.index, dtype="str").mask(sid.isna())
    return sid.astype(object).where(sid.notna(), None).astype("str")


def unit_factor(unit: str, table: Mapping[str, float], what: str) -> float:
    try:
        return table[unit]
    except KeyError:
        msg = f"unknown {what} unit {unit!r}; valid units: {', '.join(table)}"
        raise InputError(msg) from None


def _numeric(s: pd.Series) -> pd.Series:
    """Float64 (missing: <NA>); numbers as they are, text parsed, the unparseable missing."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        out = s.astype("Float64")  # the fast path: no detour through Python objects
        return out.mask(~np.isfinite(out.to_numpy(dtype=np.float64, na_value=np.nan)))
    return pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce").astype(
        "Float64"
    ).pipe(lambda v: v.mask(~np.isfinite(v.to_numpy(dtype=np.float64, na_value=np.nan))))


def _lookup(s: pd.Series, table: Mapping[str, Any]) -> pd.Series:
    """Map codes through ``table`` (case-insensitive keys); unknown codes → NA."""
    upper = {str(k).strip().upper(): v for k, v in table.items()}
    key = s.astype(object).where(s.notna(), None).astype("str").str.strip().str.upper()
    return key.map(upper)


def _parse_voltage(s: pd.Series) -> pd.Series:
    coded = _lookup(s, schema.VOLTAGE_CODES).astype("Float64")
    text = s.astype(object).where(s.notna(), None).astype("str")
    parts = text.str.extract(r"^\s*(\d+(?:\.\d+)?)\s*(kv|v)?\s*$", flags=re.IGNORECASE)
    num = pd.to_numeric(parts[0], errors="coerce").astype("Float64")
    volts = parts[1].str.lower() == "v"
    num = num.where(~volts.fillna(False).astype(bool), num / 1000.0)
    return coded.fillna(num)


# --------------------------------------------------------------------------------------------
# canonical frame
# --------------------------------------------------------------------------------------------
def conform_pipes(frame: pd.DataFrame, *, keep_extra: bool = True) -> gpd.GeoDataFrame:
    """Return a copy with every canonical column (missing ones all unknown) in canonical dtypes.

    Columns come in :data:`~geo3d.underground.schema.CANONICAL_COLUMNS` order, then the extra
    columns (when ``keep_extra``), then the geometry. ``depth_unknown`` is derived when absent.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"utility": ["gas"]}, geometry=[shapely.LineString([(0, 0), (1, 0)])],
    ...                      crs="EPSG:5186")
    >>> c = conform_pipes(g)
    >>> c["install_year"].dtype, bool(c["depth_unknown"].iloc[0])
    (Int64Dtype(), True)
    """
    geom_name = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else "geometry"
    out: dict[str, Any] = {}
    n = len(frame)
    for col, dtype in schema.CANONICAL_COLUMNS.items():
        if col == "geometry":
            continue
        if col in frame.columns:
            values = frame[col]
            if dtype in ("Float64", "Int64"):
                values = _numeric(values)
                if dtype == "Int64":  # beyond ±2**53 no float is a whole number we can trust
                    values = values.mask(values.abs() >= 2.0**53).round().astype("Int64")
            elif dtype == "bool":
                values = values.astype("boolean").fillna(False).astype(bool)
            elif not pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
                values = values.astype(object).where(values.notna(), None).astype("str")
            out[col] = values
        elif col == "depth_unknown":
            out[col] = None  # filled below
        else:
            out[col] = pd.Series(pd.NA if dtype != "str" else None, index=frame.index,
                                 dtype=dtype if dtype != "str" else "str")
    cover = out["depth_kind"].fillna("cover") != "elevation"
    for c in ("depth_m", "depth_start_m", "depth_end_m"):
        out[c] = out[c].mask((out[c] == 0).fillna(False).astype(bool) & cover)  # the 0 rule
    known = (out["depth_m"].notna() | out["depth_start_m"].notna() | out["depth_end_m"].notna())
    if out["depth_unknown"] is None:
        out["depth_unknown"] = ~known.astype(bool)
    else:
        out["depth_unknown"] = out["depth_unknown"] | ~known.astype(bool)
    data = pd.DataFrame(out, index=frame.index)
    if keep_extra:
        extra = [c for c in frame.columns if c not in schema.CANONICAL_COLUMNS and c != geom_name]
        for c in extra:
            data[c] = frame[c]
    geometry = frame[geom_name] if geom_name in frame.columns else gpd.GeoSeries([None] * n)
    crs = frame.crs if isinstance(frame, gpd.GeoDataFrame) else None
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, index=frame.index), crs=crs)


def harmonise_layer(
    frame: gpd.GeoDataFrame,
    mapping: Mapping[str, Any],
    *,
    layer: str,
    materials: Mapping[str, str] | None,
    diameter_unit: str,
    depth_unit: str,
    keep_extra: bool,
) -> tuple[gpd.GeoDataFrame, int]:
    """One source layer (lower-cased columns) → canonical frame; returns it and #unparsed sizes."""
    fields: Mapping[str, str] = {k: str(v).lower() for k, v in mapping.get("fields", {}).items()}
    zero_unknown = bool(mapping.get("zero_is_unknown", False))
    dfac = unit_factor(diameter_unit, DIAMETER_UNITS, "diameter")
    zfac = unit_factor(depth_unit, DEPTH_UNITS, "depth")
    idx = frame.index
    out: dict[str, Any] = {}

    def col(role: str) -> pd.Series | None:
        name = fields.get(role)
        return frame[name] if name is not None and name in frame.columns else None

    # direct copies (canonical roles)
    for role in fields:
        if role in schema.CANONICAL_COLUMNS and role != "geometry":
            values = col(role)
            if values is not None:
                out[role] = values
    # utility: a constant of the mapping, or a field (role "utility")
    if "utility" in out:
        key = out["utility"].astype(object).where(out["utility"].notna(), None).astype("str")
        key = key.str.strip().str.lower()
        canonical = {u: u for u in (*schema.UTILITIES, *schema.OPTIONAL_UTILITIES)}
        given = {str(k).strip().lower(): v for k, v in mapping.get("utility_values", {}).items()}
        out["utility"] = key.map({**canonical, **schema.UTILITY_ALIASES, **given}).fillna(key)
    else:
        out["utility"] = pd.Series(mapping.get("utility"), index=idx, dtype="str")
    out["source_layer"] = pd.Series(layer, index=idx, dtype="str")
    if "agency" not in out and mapping.get("agency_value"):
        out["agency"] = pd.Series(mapping["agency_value"], index=idx, dtype="str")
    if "source_id" in out:
        out["source_id"] = _id_text(out["source_id"])
    else:
        out["source_id"] = pd.Series(np.arange(len(frame)).astype(str), index=idx, dtype="str")
    # sizes
    unparsed = 0
    size = col("size")
    if size is not None:
        parsed = parse_size(size, unit=diameter_unit)
        text = size.astype(object).where(size.notna(), None).astype("str").str.strip()
        has_text = text.notna() & (text != "") & (_numeric(size).fillna(1) != 0)
        bad = has_text & parsed.isna().all(axis=1)
        unparsed = int(bad.sum())
        if unparsed:
            logger.warning("read_pipes: %s: %d size value(s) not understood (kept as unknown), "
                           "e.g. %s", layer, unparsed, ", ".join(map(repr, text[bad].unique()[:5])))
        for c in parsed.columns:
            out.setdefault(c, parsed[c])
    elif "diameter_mm" in out:
        out["diameter_mm"] = _numeric(out["diameter_mm"]) * dfac
    width, height = col("width"), col("height")
    if width is not None and height is not None:
        w = _numeric(width) * dfac
        h = _numeric(height) * dfac
        box = (w > 0).fillna(False) & (h > 0).fillna(False)
        base = out.get("width_mm", pd.Series(pd.NA, index=idx, dtype="Float64"))
        out["width_mm"] = w.where(box, base)
        base = out.get("height_mm", pd.Series(pd.NA, index=idx, dtype="Float64"))
        out["height_mm"] = h.where(box, base)
        if "diameter_mm" in out:
            out["diameter_mm"] = out["diameter_mm"].mask(box)
    for c in ("diameter_mm", "width_mm", "height_mm"):
        if c in out:
            v = _numeric(out[c])
            out[c] = v.mask(v == 0)
    # material
    raw = col("material")
    if raw is None and "material_raw" in out:
        raw = out["material_raw"]
    if raw is not None:
        out["material_raw"] = raw.astype(object).where(raw.notna(), None).astype("str")
        extra = {**(materials or {}), **mapping.get("material_values", {})}
        out["material"] = schema.normalise_material(out["material_raw"], extra=extra or None)
    # install year
    date = col("install_date")
    if date is not None:
        out["install_year"] = parse_install_year(date)
    # depths (m); 0 = unknown where the source says so
    for c in ("depth_m", "depth_start_m", "depth_end_m"):
        if c in out:
            out[c] = _numeric(out[c]) * zfac
    lo, hi = col("depth_min"), col("depth_max")
    if lo is not None or hi is not None:
        both = pd.concat(
            [_numeric(s) * zfac for s in (lo, hi) if s is not None], axis=1
        )
        if zero_unknown:
            both = both.mask(both == 0)
        out["depth_m"] = both.mean(axis=1, skipna=True).astype("Float64")
    if zero_unknown:
        for c in ("depth_m", "depth_start_m", "depth_end_m"):
            if c in out:
                out[c] = out[c].mask(out[c] == 0)
    depth_cols = [c for c in ("depth_m", "depth_start_m", "depth_end_m") if c in out]
    if depth_cols:
        known = pd.concat([out[c].notna() for c in depth_cols], axis=1).any(axis=1)
    else:
        known = pd.Series(False, index=idx)
    out["depth_unknown"] = ~known.astype(bool)
    for key in ("depth_reference", "depth_kind"):
        if key not in out and mapping.get(key):
            out[key] = pd.Series(mapping[key], index=idx, dtype="str")
    # codes
    pcode = col("pressure_code")
    if pcode is not None:
        table = {**schema.PRESSURE_CODES, **{p: p for p in schema.PRESSURES}}
        out["pressure"] = _lookup(pcode, table)
    vcode = col("voltage_code")
    if vcode is not None:
        out["voltage_kv"] = _parse_voltage(vcode)
    data = pd.DataFrame(out, index=idx)
    used = set(fields.values())
    geom_name = frame.geometry.name
    if keep_extra:
        for c in frame.columns:
            if c not in used and c != geom_name and c not in data.columns:
                data[c] = frame[c]
    data["geometry"] = frame.geometry.to_numpy()
    return conform_pipes(gpd.GeoDataFrame(data, geometry="geometry", crs=frame.crs),
                         keep_extra=keep_extra), unparsed


