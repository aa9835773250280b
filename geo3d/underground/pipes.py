"""Read pipe layers into the canonical schema, and validate them.

:func:`read_pipes` reads a GeoPackage, a folder of files or any OGR source holding the canonical
schema (UNDERGROUND.md) or Korean UIS layers (``WTL_PIPE_LM``, ``SWL_PIPE_LM``, ``UFL_BPIP_LM``,
``UFL_KPIP_LS``, ``UFL_GPIP_LM``, ``UFL_HPIP_LM``), or any other line layer through a
``column_map``, and returns **one** GeoDataFrame in **one** CRS. :func:`validate_pipes` checks a
frame and reports every problem at once.

Examples
--------
A UIS water layer built inline (depth 0 means unknown):

>>> import geopandas as gpd, shapely
>>> wtl = gpd.GeoDataFrame(
...     {"ftr_idn": [1, 2], "pip_dip": [300, 150], "mop_cde": ["DIP", "CIP"],
...      "ist_ymd": ["19950312", ""], "low_dep": [1.2, 0.0], "hgh_dep": [1.4, 0.0],
...      "mng_cde": ["W1123", "W1123"]},
...     geometry=[shapely.LineString([(0, 0), (10, 0)]), shapely.LineString([(0, 5), (10, 5)])],
...     crs="EPSG:5186")
>>> pipes = read_pipes(wtl, layers=["WTL_PIPE_LM"])
>>> pipes[["utility", "source_id", "diameter_mm", "material", "install_year", "depth_m"]]
  utility source_id  diameter_mm     material  install_year  depth_m
0   water         1        300.0 ductile_iron          1995      1.3
1   water         2        150.0    cast_iron          <NA>     <NA>
>>> result = validate_pipes(pipes)
>>> result.problems, len(result.pipes)
([], 2)
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS

from ..errors import CRSError, EmptyResultError, FileFormatError, InputError, SchemaError
from . import schema

__all__ = [
    "DEPTH_UNITS",
    "DIAMETER_UNITS",
    "LENGTH_COLUMNS",
    "PipeValidation",
    "conform_pipes",
    "parse_install_year",
    "parse_size",
    "read_pipes",
    "validate_pipes",
]

logger = logging.getLogger(__name__)

#: Diameter / size units → millimetres.
DIAMETER_UNITS: dict[str, float] = {"mm": 1.0, "cm": 10.0, "m": 1000.0, "in": 25.4, "ft": 304.8}
#: Depth units → metres.
DEPTH_UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "in": 0.0254}
#: Attribute columns taken to hold a segment length (checked against the geometry).
LENGTH_COLUMNS: tuple[str, ...] = (
    "length", "length_m", "pip_len", "len", "shape_leng", "shape_length", "seg_len",
)
#: File suffixes read from a folder.
VECTOR_SUFFIXES: tuple[str, ...] = (
    ".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".sqlite", ".kml", ".gdb",
)
MAX_COVER_M = 30.0
FOOT_M = 0.3048

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
    factor = _unit_factor(unit, DIAMETER_UNITS, "diameter")
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
        v = v.mask(v >= 1e7, (v // 10000)).mask((v >= 1e5) & (v < 1e7), v // 100)
        year = v.round().astype("Int64")
    else:
        text = s.astype(object).where(s.notna(), None).astype("str")
        year = pd.to_numeric(text.str.extract(r"^\s*(\d{4})")[0], errors="coerce").astype("Int64")
    return year.mask(year == 0)


def _unit_factor(unit: str, table: Mapping[str, float], what: str) -> float:
    try:
        return table[unit]
    except KeyError:
        msg = f"unknown {what} unit {unit!r}; valid units: {', '.join(table)}"
        raise InputError(msg) from None


def _numeric(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(object).where(s.notna(), None), errors="coerce").astype(
        "Float64"
    )


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
                if dtype == "Int64":
                    values = values.round().astype("Int64")
            elif dtype == "bool":
                values = values.astype("boolean").fillna(False).astype(bool)
            else:
                values = values.astype(object).where(values.notna(), None).astype("str")
            out[col] = values
        elif col == "depth_unknown":
            out[col] = None  # filled below
        else:
            out[col] = pd.Series(pd.NA if dtype != "str" else None, index=frame.index,
                                 dtype=dtype if dtype != "str" else "str")
    if "depth_unknown" not in frame.columns:
        known = (
            out["depth_m"].notna() | out["depth_start_m"].notna() | out["depth_end_m"].notna()
        )
        out["depth_unknown"] = ~known.astype(bool)
    data = pd.DataFrame(out, index=frame.index)
    if keep_extra:
        extra = [c for c in frame.columns if c not in schema.CANONICAL_COLUMNS and c != geom_name]
        for c in extra:
            data[c] = frame[c]
    geometry = frame[geom_name] if geom_name in frame.columns else gpd.GeoSeries([None] * n)
    crs = frame.crs if isinstance(frame, gpd.GeoDataFrame) else None
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, index=frame.index), crs=crs)


def _harmonise(
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
    dfac = _unit_factor(diameter_unit, DIAMETER_UNITS, "diameter")
    zfac = _unit_factor(depth_unit, DEPTH_UNITS, "depth")
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
        out["utility"] = key.map({**canonical, **schema.UTILITY_ALIASES}).fillna(key)
    else:
        out["utility"] = pd.Series(mapping.get("utility"), index=idx, dtype="str")
    out["source_layer"] = pd.Series(layer, index=idx, dtype="str")
    if "source_id" in out:
        sid = out["source_id"]
        if pd.api.types.is_float_dtype(sid.dtype) and (sid.dropna() % 1 == 0).all():
            sid = sid.astype("Int64")
        out["source_id"] = sid.astype(object).where(sid.notna(), None).astype("str")
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
        out["material"] = schema.normalise_material(out["material_raw"], extra=materials)
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


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
def _detect_encoding(path: Path) -> str | None:
    """Encoding for a shapefile's .dbf: its .cpg (None: let GDAL use it), else UTF-8, else CP949."""
    if path.suffix.lower() != ".shp":
        return None
    for cpg in (path.with_suffix(".cpg"), path.with_suffix(".CPG")):
        if cpg.exists():
            return None
    dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()), None)
    if dbf is None:
        return None
    data = dbf.read_bytes()
    if len(data) < 32:
        return None
    header_len = int.from_bytes(data[8:10], "little")
    body = data[header_len:]
    try:
        body.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        body.decode("cp949")
        return "CP949"
    except UnicodeDecodeError:
        return None


_PYOGRIO_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.GeometryError,
)


def _bad_file(path: Path, exc: Exception) -> FileFormatError:
    msg = (
        f"cannot read {path} as a vector dataset (truncated, corrupt or not a GIS file?): {exc}. "
        "Re-export or re-download it; check it opens with `ogrinfo`."
    )
    return FileFormatError(msg)


def _list_layers(source: Path) -> list[tuple[Path, str]]:
    if not source.exists():
        msg = f"{source} does not exist; pass a GeoPackage, a shapefile, a folder of files or any OGR source"
        raise InputError(msg)
    files: list[Path]
    if source.is_dir() and source.suffix.lower() != ".gdb":
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in VECTOR_SUFFIXES)
        if not files:
            msg = f"folder {source} holds no vector files ({', '.join(VECTOR_SUFFIXES)})"
            raise EmptyResultError(msg)
    else:
        files = [source]
    out: list[tuple[Path, str]] = []
    for f in files:
        try:
            layers = pyogrio.list_layers(f)
        except _PYOGRIO_ERRORS as exc:
            raise _bad_file(f, exc) from exc
        out.extend((f, str(name)) for name, _gtype in layers)
    return out


def _read_layer(path: Path, layer: str, encoding: str | None) -> gpd.GeoDataFrame:
    enc = encoding or _detect_encoding(path)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=enc)
    except _PYOGRIO_ERRORS as exc:
        raise _bad_file(path, exc) from exc
    if not isinstance(frame, gpd.GeoDataFrame):  # a table without geometry
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)))
    return frame


def _layer_mappings(column_map: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Split ``column_map`` into per-layer mappings (by name) and one generic mapping."""
    tables = {k.upper(): dict(v) for k, v in schema.LAYER_MAPPINGS.items()}
    if not column_map:
        return tables, None
    if all(isinstance(v, Mapping) for v in column_map.values()):
        for k, v in column_map.items():
            tables[k.upper()] = dict(v)
        return tables, None
    return tables, {"fields": dict(column_map)}


_CONSTANT_ROLES: dict[str, tuple[str, ...]] = {
    "utility": (*schema.UTILITIES, *schema.OPTIONAL_UTILITIES),
    "depth_reference": schema.DEPTH_REFERENCES,
    "depth_kind": schema.DEPTH_KINDS,
}


def _generic_for(generic: Mapping[str, Any], cols: set[str], *,
                 units: Mapping[str, str]) -> dict[str, Any]:
    """The flat ``column_map`` as a layer mapping for one layer's columns.

    ``utility``, ``depth_reference`` and ``depth_kind`` may be constants (``"top"``) rather than
    field names; canonical columns the source already has are taken as they are.
    """
    fields = {k: str(v) for k, v in generic["fields"].items()}
    mapping: dict[str, Any] = {k: v for k, v in generic.items() if k != "fields"}
    for role, valid in _CONSTANT_ROLES.items():
        value = fields.get(role)
        if value is not None and value.lower() not in cols and value in valid:
            mapping[role] = fields.pop(role)
    used = {v.lower() for v in fields.values()}
    for c in schema.CANONICAL_COLUMNS:
        if c in cols and c not in fields and c not in used and c != "geometry":
            if not (c == "utility" and mapping.get("utility")):
                fields[c] = c
    mapping["fields"] = fields
    mapping["required"] = list(fields.values())
    mapping["units"] = dict(units)
    return mapping


def _match_by_fields(cols: set[str], tables: Mapping[str, Any]) -> str | None:
    """A layer name whose required fields the columns hold — only when exactly one matches."""
    hits = [
        name for name, m in tables.items()
        if m.get("required") and all(f.lower() in cols for f in m["required"])
        and len(m["required"]) >= 4
    ]
    return hits[0] if len(hits) == 1 else None


def _drop_flat_z(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Drop a Z dimension that is all 0 or NaN (a 2D layer stored as 3D)."""
    values = geoms.to_numpy()
    has_z = shapely.has_z(values)
    if not has_z.any():
        return geoms
    z = shapely.get_coordinates(values[has_z], include_z=True)[:, 2]
    if np.all((z == 0) | np.isnan(z)):
        return gpd.GeoSeries(shapely.force_2d(values), index=geoms.index, crs=geoms.crs)
    return geoms


def _crs_label(crs: Any) -> str:
    if crs is None:
        return "no CRS"
    c = CRS.from_user_input(crs)
    epsg = c.to_epsg()
    return f"EPSG:{epsg}" if epsg else c.name


def read_pipes(
    source: str | os.PathLike[str] | gpd.GeoDataFrame,
    *,
    layers: Sequence[str] | None = None,
    column_map: Mapping[str, Any] | None = None,
    crs: Any = None,
    utility: str | None = None,
    units: str | Mapping[str, str] | None = None,
    materials: Mapping[str, str] | None = None,
    encoding: str | None = None,
    keep_extra: bool = False,
) -> gpd.GeoDataFrame:
    """Read pipe layers into one canonical GeoDataFrame (UNDERGROUND.md schema).

    Each layer is recognised by its name and fields: a Korean UIS layer of
    :data:`~geo3d.underground.schema.LAYER_MAPPINGS` (``WTL_PIPE_LM`` …; also an unknown name
    whose fields match exactly one UIS layer), a layer already in the canonical schema (it has
    a ``utility`` column), or any other layer through ``column_map``. Other layers are skipped
    with a log line. Lineage is kept: ``source_layer``, ``source_id`` (``ftr_idn`` for UIS)
    and ``material_raw``. UIS depth 0 means unknown: such depths are ``<NA>``, the row has
    ``depth_unknown=True`` and each layer logs one line
    ``read_pipes: WTL_PIPE_LM 412 segments, 124 depth unknown (30 %)``. UIS depths are cover
    depths to the top of the pipe (``depth_reference="top"``, ``depth_kind="cover"``); water's
    ``low_dep``/``hgh_dep`` (shallowest/deepest cover along the pipe) become ``depth_m`` = their
    mean (the one known value when the other is 0).

    Parameters
    ----------
    source : path or GeoDataFrame
        A GeoPackage, shapefile, GeoJSON, FlatGeobuf, File GDB, a folder of such files, or an
        in-memory GeoDataFrame (its layer name is taken from ``layers[0]`` when given).
    layers : sequence of str, optional
        Read only these layers (names as in the source, case-insensitive). Default: all.
    column_map : mapping, optional
        For layers that are neither UIS nor canonical: ``{role: source_field}`` where a role is
        a canonical column (``source_id``, ``agency``, ``diameter_mm``, ``material_raw``,
        ``depth_m``, ``depth_start_m``, ``accuracy_h_m`` …) or a parsed role (``size``,
        ``material``, ``install_date``, ``depth_min``/``depth_max``, ``pressure_code``,
        ``voltage_code``; see :mod:`geo3d.underground.schema`). ``utility``,
        ``depth_reference`` and ``depth_kind`` may be constants instead of field names
        (``{"depth_m": "cover", "depth_reference": "top", "depth_kind": "cover"}``); columns
        already named canonically are taken as they are. Alternatively
        ``{layer_name: layer_mapping}`` adds or replaces whole layer mappings for this call
        (a layer mapping may carry ``"units": {"diameter": "in", "depth": "ft"}``).
    crs : CRS-like, optional
        Target projected CRS; every layer is reprojected to it. Without it all layers must share
        one projected CRS.
    utility : str, optional
        The utility of ``column_map`` layers (when no field holds it).
    units : str or mapping, optional
        Units of ``column_map`` sizes: a key of :data:`DIAMETER_UNITS` (``"in"``, ``"m"`` …)
        or ``{"diameter": "in", "depth": "ft"}``. Default millimetres and metres.
    materials : mapping, optional
        Extra raw material spellings → normalised names, on top of the schema tables.
    encoding : str, optional
        Attribute encoding; default: a shapefile's ``.cpg``, else UTF-8 if the ``.dbf`` decodes
        as UTF-8, else CP949 (Korean government files), else GDAL's guess.
    keep_extra : bool
        Keep the source's unmapped columns after the canonical ones (default false).

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical columns in :data:`~geo3d.underground.schema.CANONICAL_COLUMNS` order, a
        fresh RangeIndex, one CRS. Run :func:`validate_pipes` on it before long batch work.

    Raises
    ------
    InputError
        ``source`` does not exist, or a bad ``utility``/``units``.
    FileFormatError
        A file is truncated, corrupt or not a vector dataset.
    SchemaError
        Required fields are missing (every missing field of every layer is listed), or no
        layer could be recognised.
    CRSError
        A layer has no CRS, layers have different CRSs, or the data are geographic and no
        projected ``crs`` was given.
    EmptyResultError
        Every layer is empty (an empty layer among others only warns).

    Examples
    --------
    Any line layer through a ``column_map`` (here diameters in inches):

    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(
    ...     {"pipetype": ["TJDCI", "PLASTIC BLUE BRUTE"], "diameter": [8.0, 6.0], "id": [7, 8]},
    ...     geometry=[shapely.LineString([(0, 0), (50, 0)]), shapely.LineString([(0, 0), (0, 9)])],
    ...     crs="EPSG:32610")
    >>> p = read_pipes(g, column_map={"material": "pipetype", "diameter_mm": "diameter",
    ...                               "source_id": "id"}, utility="water", units="in")
    >>> p[["utility", "source_id", "diameter_mm", "material", "material_raw"]]
      utility source_id  diameter_mm      material        material_raw
    0   water         7        203.2  ductile_iron               TJDCI
    1   water         8        152.4           pvc  PLASTIC BLUE BRUTE
    """
    if utility is not None and utility not in (*schema.UTILITIES, *schema.OPTIONAL_UTILITIES):
        msg = f"unknown utility {utility!r}; valid: {', '.join(schema.UTILITIES + schema.OPTIONAL_UTILITIES)}"
        raise InputError(msg)
    given = {"diameter": units or "mm"} if isinstance(units, str) or units is None else units
    unknown_keys = set(given) - {"diameter", "depth"}
    if unknown_keys:
        msg = f"units keys must be 'diameter' and/or 'depth', got {sorted(unknown_keys)}"
        raise InputError(msg)
    diameter_unit = given.get("diameter", "mm")
    depth_unit = given.get("depth", "m")
    _unit_factor(diameter_unit, DIAMETER_UNITS, "diameter")
    _unit_factor(depth_unit, DEPTH_UNITS, "depth")
    target = None
    if crs is not None:
        target = CRS.from_user_input(crs)
        if not target.is_projected:
            msg = (f"crs={_crs_label(target)} is not a projected CRS; pass a projected CRS in "
                   "metres, e.g. crs='EPSG:5186' (Korea) or a UTM zone")
            raise CRSError(msg)
    tables, generic = _layer_mappings(column_map)
    if generic is not None and utility is not None:
        generic["utility"] = utility
    unit_map = {"diameter": diameter_unit, "depth": depth_unit}
    wanted = {w.upper() for w in layers} if layers is not None else None

    # 1. collect the layers to read
    frames: list[tuple[str, gpd.GeoDataFrame]] = []
    if isinstance(source, gpd.GeoDataFrame):
        name = layers[0] if layers else "frame"
        frames.append((name, source))
    else:
        src = Path(source)
        found = _list_layers(src)
        for path, lname in found:
            if wanted is not None and lname.upper() not in wanted:
                continue
            frames.append((lname, _read_layer(path, lname, encoding)))
        if wanted is not None:
            missing = wanted - {n.upper() for n, _ in frames}
            if missing:
                have = ", ".join(sorted(n for _, n in found)) or "none"
                msg = f"layers {sorted(missing)} not found in {src}; layers there: {have}"
                raise InputError(msg)

    # 2. recognise each layer and check its fields (all problems at once)
    plan: list[tuple[str, gpd.GeoDataFrame, dict[str, Any] | None]] = []
    problems: list[str] = []
    skipped: list[str] = []
    for lname, frame in frames:
        frame = frame.rename(columns={c: c.lower() for c in frame.columns if isinstance(c, str)})
        if frame.geometry.name != "geometry" and "geometry" not in frame.columns:
            frame = frame.rename_geometry("geometry")
        cols = set(frame.columns)
        mapping: dict[str, Any] | None = tables.get(lname.upper())
        if mapping is None and generic is not None:
            mapping = _generic_for(generic, cols, units=unit_map)
        elif mapping is None and "utility" in cols:
            mapping = None  # canonical schema
        elif mapping is None:
            guess = _match_by_fields(cols, tables)
            if guess is None:
                skipped.append(lname)
                continue
            logger.info("read_pipes: layer %s read as %s (matched by its fields)", lname, guess)
            mapping = tables[guess]
        if mapping is not None:
            need = [str(f).lower() for f in mapping.get("required", [])]
            miss = [f for f in need if f not in cols]
            if miss:
                problems.append(f"layer {lname}: missing field(s) {', '.join(miss)}")
            if not mapping.get("utility") and "utility" not in mapping.get("fields", {}):
                problems.append(
                    f"layer {lname}: no utility; pass utility='water' (or map a field with "
                    "column_map={'utility': FIELD})"
                )
        plan.append((lname, frame, mapping))
    if skipped:
        logger.info("read_pipes: skipped layers not recognised as pipes: %s", ", ".join(skipped))
    if problems:
        raise SchemaError("read_pipes: the source layers lack required fields", problems)
    if not plan:
        msg = (f"read_pipes: no pipe layer recognised (layers: {', '.join(skipped) or 'none'}); "
               "expected Korean UIS layer names (" + ", ".join(schema.LAYER_MAPPINGS)
               + "), a 'utility' column, or pass column_map={...} and utility=...")
        raise SchemaError(msg)

    # 3. one CRS for all
    crss = {lname: frame.crs for lname, frame, _ in plan if len(frame)}
    no_crs = [n for n, c in crss.items() if c is None]
    if no_crs:
        msg = (f"layer(s) {', '.join(no_crs)} have no CRS; set it on the source (e.g. add a .prj, "
               "or gdf.set_crs('EPSG:5186') for a GeoDataFrame) — geo3d does not guess CRSs")
        raise CRSError(msg)
    if target is None:
        distinct = {_crs_label(c) for c in crss.values()}
        if len(distinct) > 1:
            listing = "; ".join(f"{n}: {_crs_label(c)}" for n, c in crss.items())
            msg = (f"layers are in different CRSs ({listing}); reproject them to one CRS first, "
                   "or pass crs='EPSG:5186' (or another projected CRS) to reproject all of them")
            raise CRSError(msg)
        if crss:
            first = CRS.from_user_input(next(iter(crss.values())))
            if not first.is_projected:
                msg = (f"pipes are in a geographic CRS ({_crs_label(first)}, degrees); pass a "
                       "projected CRS in metres, e.g. crs='EPSG:5186' (Korea) or the local UTM "
                       "zone, to reproject them")
                raise CRSError(msg)

    # 4. harmonise
    parts: list[gpd.GeoDataFrame] = []
    for lname, frame, mapping in plan:
        if len(frame) == 0:
            warnings.warn(f"read_pipes: layer {lname} is empty; skipped", stacklevel=2)
            continue
        frame = frame.set_geometry(_drop_flat_z(frame.geometry))
        if mapping is None:
            part = conform_pipes(frame, keep_extra=keep_extra)
            if part["source_layer"].isna().all():
                part["source_layer"] = lname
            if part["source_id"].isna().all():
                part["source_id"] = pd.Series(np.arange(len(part)).astype(str), index=part.index,
                                              dtype="str")
            unparsed = 0
        else:
            part, unparsed = _harmonise(
                frame, mapping, layer=lname, materials=materials,
                diameter_unit=mapping.get("units", {}).get("diameter", "mm"),
                depth_unit=mapping.get("units", {}).get("depth", "m"), keep_extra=keep_extra,
            )
        if target is not None:
            part = part.to_crs(target)
        n = len(part)
        unknown = int(part["depth_unknown"].sum())
        extra = f", {unparsed} size strings not understood" if unparsed else ""
        logger.info("read_pipes: %s %s segments, %s depth unknown (%.0f %%)%s", lname,
                    f"{n:,}", f"{unknown:,}", 100.0 * unknown / n, extra)
        parts.append(part)
    if not parts:
        msg = "read_pipes: every pipe layer is empty; nothing to read"
        raise EmptyResultError(msg)
    out = pd.concat(parts, ignore_index=True)
    order = [c for c in out.columns if c != "geometry"] + ["geometry"]
    result = gpd.GeoDataFrame(out[order], geometry="geometry", crs=parts[0].crs)
    unit = result.crs.axis_info[0].unit_name if result.crs is not None else ""
    if result.crs is not None and result.crs.axis_info[0].unit_conversion_factor != 1.0:
        logger.warning("read_pipes: CRS %s is in %s, not metres; pass crs= to reproject",
                       _crs_label(result.crs), unit)
    logger.info("read_pipes: %s segments from %d layer(s), %s", f"{len(result):,}", len(parts),
                _crs_label(result.crs))
    return result


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
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
) -> PipeValidation:
    """Check a pipes frame against the canonical schema and report every problem at once.

    Problems (not repairable): missing required columns (``utility``, ``geometry``), unknown
    utilities or material codes, missing/empty/non-line geometries, a missing, geographic or
    non-metre CRS, negative depths or cover deeper than 30 m, unknown depth references or kinds,
    install years before 1900 or in the future, non-positive or implausible sizes, sizes that
    look like metres or inches, and length attributes (:data:`LENGTH_COLUMNS`) whose total is
    the geometry length × 3.28 or × 0.3048 (feet against metres — e.g. the KY4 network, whose
    ``length`` is in metres while its coordinates are US survey feet).

    Warnings (repaired when ``repair``): canonical columns added, MultiLineStrings exploded into
    LineStrings (lineage kept), invalid geometries made valid, duplicate ``source_id`` within a
    layer.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Pipes, e.g. from :func:`read_pipes`. Not modified.
    strict : bool
        Raise one :class:`~geo3d.errors.SchemaError` listing every problem (default). With
        ``False`` the problems are returned (and logged) instead.
    repair : bool
        Apply the repairs to the returned copy (default true).
    year : int, optional
        Reference year for "install year in the future" (default: this year).

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
    ...     {"utility": ["water", "steam"], "install_year": [1850, 1990], "depth_m": [-1.0, 1.0],
    ...      "depth_reference": ["top", "top"], "depth_kind": ["cover", "cover"]},
    ...     geometry=[shapely.LineString([(0, 0), (10, 0)]), shapely.Point(1, 1)], crs="EPSG:5186")
    >>> r = validate_pipes(g, strict=False)
    >>> for p in r.problems:
    ...     print(p)
    unknown utility: 'steam' (1); valid: water, sewer, power, telecom, gas, heat, oil, lpg
    geometry must be LineString: 1 row(s) (index 1) are Point
    negative depth in depth_m: 1 row(s) (index 0)
    install_year before 1900: 1 row(s) (index 0)
    >>> validate_pipes(g)
    Traceback (most recent call last):
    ...
    geo3d.errors.SchemaError: validate_pipes: 4 problem(s) ...
    """
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"validate_pipes needs a GeoDataFrame, got {type(pipes).__name__}"
        raise InputError(msg)
    year = year or _dt.date.today().year
    problems: list[str] = []
    notes: list[str] = []
    missing = [c for c in schema.REQUIRED_COLUMNS
               if c != "geometry" and c not in pipes.columns]
    if pipes.geometry.name not in pipes.columns:
        missing.append("geometry")
    if missing:
        problems.append(f"missing required column(s): {', '.join(missing)}")
    absent = [c for c in schema.CANONICAL_COLUMNS
              if c not in pipes.columns and c not in schema.REQUIRED_COLUMNS]
    if absent and not missing:
        notes.append(f"added missing canonical column(s) as unknown: {', '.join(absent)}")
    frame = pipes.copy() if missing else conform_pipes(pipes, keep_extra=True)
    idx = frame.index

    # CRS
    crs = frame.crs
    if crs is None:
        problems.append("no CRS; set it with pipes.set_crs('EPSG:5186') (the data's real CRS)")
    elif not crs.is_projected:
        problems.append(f"geographic CRS {_crs_label(crs)}; reproject to a projected CRS in "
                        "metres, e.g. pipes.to_crs('EPSG:5186') or read_pipes(..., crs=...)")
    elif crs.axis_info and crs.axis_info[0].unit_conversion_factor != 1.0:
        problems.append(f"CRS {_crs_label(crs)} is in {crs.axis_info[0].unit_name}, not metres; "
                        "reproject with pipes.to_crs(<projected CRS in metres>) or "
                        "read_pipes(..., crs=...)")
    if missing:
        return _finish(frame, problems, notes, strict)

    # codes
    valid_u = (*schema.UTILITIES, *schema.OPTIONAL_UTILITIES)
    u = frame["utility"]
    bad = u.notna() & ~u.isin(valid_u)
    if bad.any():
        problems.append(f"unknown utility: {_values(u[bad])}; valid: {', '.join(valid_u)}")
    if u.isna().any():
        problems.append(f"utility missing: {_rows(u.isna(), idx)}")
    mat, raw = frame["material"], frame["material_raw"]
    unknown_mat = raw.notna() & (raw.str.strip() != "") & mat.isna()
    if unknown_mat.any():
        problems.append(
            f"unknown material code(s): {_values(raw[unknown_mat])}; add them to "
            "geo3d.underground.schema.MATERIAL_LOOKUP or pass read_pipes(..., materials={...})"
        )
    bad = mat.notna() & ~mat.isin(schema.MATERIALS)
    if bad.any():
        problems.append(f"material not a normalised name: {_values(mat[bad])}; valid: "
                        f"{', '.join(schema.MATERIALS)}")
    for col, valid in (("depth_reference", schema.DEPTH_REFERENCES),
                       ("depth_kind", schema.DEPTH_KINDS), ("pressure", schema.PRESSURES)):
        v = frame[col]
        bad = v.notna() & ~v.isin(valid)
        if bad.any():
            problems.append(f"unknown {col}: {_values(v[bad])}; valid: {', '.join(valid)}")
    depth_cols = ["depth_m", "depth_start_m", "depth_end_m"]
    has_depth = frame[depth_cols].notna().any(axis=1)
    for col in ("depth_reference", "depth_kind"):
        lack = has_depth & frame[col].isna()
        if lack.any():
            problems.append(f"{col} missing where a depth is given: {_rows(lack, idx)}; every "
                            "depth must say what it measures")

    # geometry
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        problems.append(f"missing or empty geometry: {_rows(empty, idx)}")
    types = pd.Series(shapely.get_type_id(geoms), index=idx)
    multi = (types == 5) & ~empty
    other = ~types.isin([1, 5]) & ~empty
    if other.any():
        names = pd.Series(np.asarray(shapely.get_type_id(geoms)), index=idx)[other].map(
            {0: "Point", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon",
             7: "GeometryCollection"})
        problems.append(f"geometry must be LineString: {_rows(other, idx)} are "
                        f"{', '.join(sorted(set(names.astype(str))))}")
    lines = ~empty & ~other
    invalid = lines & ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid.to_numpy()])
        ok = np.isin(shapely.get_type_id(fixed), [1, 5]) & ~shapely.is_empty(fixed)
        inv_idx = idx[invalid.to_numpy()]
        if (~ok).any():
            problems.append("invalid geometry that make_valid cannot keep as a line: "
                            f"{_rows(~ok, inv_idx)}")
        if ok.any():
            notes.append(f"invalid geometry made valid: {_rows(ok, inv_idx)}")
            if repair:
                g = frame.geometry.to_numpy().copy()
                pos = np.flatnonzero(invalid.to_numpy())[ok]
                g[pos] = fixed[ok]
                frame = frame.set_geometry(gpd.GeoSeries(g, index=idx, crs=frame.crs))

    # depths and years
    cover = frame["depth_kind"] == "cover"
    for col in depth_cols:
        v = frame[col]
        neg = (v < 0).fillna(False).astype(bool) & cover.fillna(False).astype(bool)
        if neg.any():
            problems.append(f"negative depth in {col}: {_rows(neg, idx)}")
        deep = (v > MAX_COVER_M).fillna(False).astype(bool) & cover.fillna(False).astype(bool)
        if deep.any():
            problems.append(f"implausible cover depth (> {MAX_COVER_M:g} m) in {col}: "
                            f"{_rows(deep, idx)}; is it in cm or mm?")
    iy = frame["install_year"]
    old = (iy < 1900).fillna(False).astype(bool)
    if old.any():
        problems.append(f"install_year before 1900: {_rows(old, idx)}")
    future = (iy > year).fillna(False).astype(bool)
    if future.any():
        problems.append(f"install_year in the future (after {year}): {_rows(future, idx)}")

    # sizes and units
    for col in ("diameter_mm", "width_mm", "height_mm"):
        v = frame[col]
        nonpos = (v <= 0).fillna(False).astype(bool)
        if nonpos.any():
            problems.append(f"non-positive {col}: {_rows(nonpos, idx)}")
        huge = (v > 10_000).fillna(False).astype(bool)
        if huge.any():
            problems.append(f"implausible {col} (> 10 m): {_rows(huge, idx)}")
    d = frame["diameter_mm"].dropna()
    d = d[d > 0]
    if len(d) >= 3 and float(d.median()) < 20.0:
        problems.append(
            f"diameter_mm median is {float(d.median()):g}: the sizes look like metres or inches, "
            "not millimetres; read with read_pipes(..., units='m' or 'in')")
    if crs is not None and crs.is_projected:
        geom_len = float(shapely.length(geoms[lines.to_numpy()]).sum())
        for col in LENGTH_COLUMNS:
            if col not in frame.columns or not pd.api.types.is_numeric_dtype(frame[col].dtype):
                continue
            total = float(_numeric(frame[col])[lines].sum())
            if geom_len <= 0 or total <= 0:
                continue
            ratio = total / geom_len
            unit = crs.axis_info[0].unit_name
            if _near(ratio, 1 / FOOT_M) or _near(ratio, FOOT_M):
                label = "feet" if ratio > 1 else "metres"
                other_u = "metres" if ratio > 1 else "feet"
                problems.append(
                    f"column {col!r} totals {total:,.0f} but the geometries measure "
                    f"{geom_len:,.0f} CRS units ({unit}): ratio {ratio:.4f} is the foot/metre "
                    f"factor, so {col!r} looks like {label} while the coordinates are in "
                    f"{other_u}; convert one of them")

    # repairs
    sid = frame["source_id"].notna()
    dup = frame[sid].duplicated(["source_layer", "source_id"], keep=False)
    if dup.any():
        notes.append(f"duplicate source_id within a layer: {_rows(dup, frame[sid].index)}")
    if multi.any():
        notes.append(f"MultiLineString exploded into LineStrings (parts keep their row's index "
                     f"and source_id): {_rows(multi, idx)}")
        if repair:
            frame = frame.explode(index_parts=False)
    return _finish(frame, problems, notes, strict)


def _finish(frame: gpd.GeoDataFrame, problems: list[str], notes: list[str],
            strict: bool) -> PipeValidation:
    for note in notes:
        logger.warning("validate_pipes: %s", note)
    logger.info("validate_pipes: %s segments, %d problem(s), %d warning(s)", f"{len(frame):,}",
                len(problems), len(notes))
    if problems and strict:
        msg = (f"validate_pipes: {len(problems)} problem(s) (call with strict=False to get them "
               "as a list)")
        raise SchemaError(msg, problems)
    for p in problems:
        logger.warning("validate_pipes: problem: %s", p)
    return PipeValidation(frame, problems, notes)
