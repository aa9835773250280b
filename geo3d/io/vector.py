"""Vector files as users have them: encodings, CSV, TopoJSON, GeoParquet, CRSs and datums.

Every underground reader (pipes, structures, areas, wells) reads its files through
:func:`read_vector`, so every input gets the same treatment:

Encodings
    Text attributes are decoded as UTF-8 when the bytes are valid UTF-8, else as CP949 (Korean
    government files), whatever a shapefile's ``.cpg`` claims (a ``.cpg`` that disagrees with the
    bytes is reported). See :func:`detect_encoding`.
Formats
    Anything GDAL reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, File GDB …); TopoJSON
    (lon/lat unless it states a CRS); CSV with ``x``/``y``, ``lon``/``lat`` (and other common
    names) or a WKT column; GeoParquet (needs ``pyarrow``).
CRS
    ``crs=`` declares the CRS of a file that states none, or overrides a wrong one (with a
    warning). Without either, a file is refused, except lon/lat columns and TopoJSON, which are
    EPSG:4326 when their coordinates fit.
Datums
    A CRS on the Bessel 1841 ellipsoid with no known datum (a ``.prj`` without ``TOWGS84``, as
    Korean files often have) is taken as the Korean 1985 datum, so that reprojection applies the
    standard shift to GRS80 ("Korean 1985 to KGD2002 (1)", the one pyproj uses for EPSG:5174 →
    5186) instead of none (≈ 350 m off). See :func:`bessel_fixed`.
Lengths
    :func:`to_metric` reprojects a frame whose CRS is not in metres (feet, degrees) or is on a
    Bessel datum to a metric GRS80 CRS (a Korea 2000 belt inside Korea, else the UTM zone) and
    says so.

Examples
--------
>>> from geo3d import datasets
>>> dongs = read_vector(datasets.get_path("neighbourhoods"))
>>> dongs.crs.to_epsg(), len(dongs)
(5186, 5)
"""

from __future__ import annotations

import codecs
import json
import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS
from pyproj import exceptions as pyproj_exceptions

from .._checks import crs_label
from .._compat import import_optional
from ..errors import CRSError, FileFormatError, MissingFileError, SchemaError, two_forms
from .datums import KOREA_BELTS, bessel_fixed, is_bessel, metric_crs_for, to_metric

__all__ = [
    "CSV_LONLAT_COLUMNS",
    "CSV_WKT_COLUMNS",
    "CSV_XY_COLUMNS",
    "KOREA_BELTS",
    "VECTOR_SUFFIXES",
    "bessel_fixed",
    "detect_encoding",
    "metric_crs_for",
    "read_areas",
    "read_vector",
    "to_metric",
    "vector_layers",
]

logger = logging.getLogger(__name__)

#: File suffixes read from a folder.
VECTOR_SUFFIXES: tuple[str, ...] = (
    ".gpkg", ".shp", ".geojson", ".json", ".topojson", ".fgb", ".gml", ".sqlite", ".kml",
    ".gdb", ".csv", ".tsv", ".parquet", ".geoparquet",
)
#: CSV column pairs read as projected coordinates (a CRS must be given or stated).
CSV_XY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("x", "y"), ("easting", "northing"), ("east", "north"), ("x좌표", "y좌표"),
    ("point_x", "point_y"), ("coord_x", "coord_y"),
)
#: CSV column pairs read as longitude / latitude (EPSG:4326 unless a CRS is given).
CSV_LONLAT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("lon", "lat"), ("lng", "lat"), ("long", "lat"), ("longitude", "latitude"),
    ("경도", "위도"),
)
#: CSV columns read as WKT geometries.
CSV_WKT_COLUMNS: tuple[str, ...] = ("wkt", "geometry", "geom", "the_geom", "geometry_wkt", "shape")
_SAMPLE = 16 << 20  # bytes read to detect an encoding

_PYOGRIO_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.GeometryError,
)


# --------------------------------------------------------------------------------------------
# encodings
# --------------------------------------------------------------------------------------------
def _sample(path: Path, offset: int = 0, head: bytes = b"") -> tuple[bytes, bool]:
    """``head`` + up to 16 MB of ``path`` from ``offset``, and whether the file goes on."""
    with path.open("rb") as fh:
        fh.seek(offset)
        data = fh.read(_SAMPLE)
        return head + data, bool(fh.read(1))


def _decodes(data: bytes, more: bool, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=not more)
    except UnicodeDecodeError:
        return False
    return True


def _dbf_names(dbf: Path) -> tuple[bytes, int]:
    """The field names of a .dbf (newline-joined bytes) and the offset of its records."""
    with dbf.open("rb") as fh:
        head = fh.read(32)
        offset = int.from_bytes(head[8:10], "little")
        fields = fh.read(max(offset - 32, 0))
    names = [fields[i:i + 11].split(b"\0", 1)[0] for i in range(0, len(fields) - 31, 32)
             if fields[i:i + 1] != b"\r"]
    return b"\n".join(names) + b"\n", offset


def detect_encoding(path: str | os.PathLike[str]) -> str | None:
    """The encoding of a file's text attributes: ``"UTF-8"``, ``"CP949"``, or None (leave it to GDAL).

    Shapefiles are judged by their ``.dbf`` records, text files (CSV, GeoJSON, TopoJSON) by
    their bytes (the first 16 MB). Valid UTF-8 is UTF-8; otherwise bytes that decode as CP949
    are CP949, even when the ``.cpg`` says UTF-8 (a warning says so). Binary formats
    (GeoPackage, FlatGeobuf, GeoParquet) store UTF-8 by definition: None.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "w.csv"
    >>> _ = p.write_bytes("x,y,name\\n1,2,제기동\\n".encode("cp949"))
    >>> detect_encoding(p)
    'CP949'
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".shp":
        dbf = next((p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF"))
                    if p.exists()), None)
        if dbf is None or dbf.stat().st_size < 32:
            return None
        names, offset = _dbf_names(dbf)  # field names count too (Korean column names)
        data, more = _sample(dbf, offset, names)
        target, stated = path, _cpg(path)
    elif suffix in (".csv", ".tsv", ".txt", ".geojson", ".json", ".topojson"):
        data, more = _sample(path)
        target, stated = path, None
    else:
        return None
    if _decodes(data, more, "utf-8"):
        found = "UTF-8"
    elif _decodes(data, more, "cp949"):
        found = "CP949"
    else:
        return None
    if stated is not None and codecs.lookup(stated).name != codecs.lookup(found).name:
        logger.warning("%s: its .cpg says %s but the attributes are %s; read as %s",
                       target.name, stated, found, found)
    return found


def _cpg(path: Path) -> str | None:
    for cpg in (path.with_suffix(".cpg"), path.with_suffix(".CPG")):
        if cpg.exists():
            text = cpg.read_text(encoding="ascii", errors="replace").strip()
            try:
                return codecs.lookup({"949": "cp949", "65001": "utf-8"}.get(text, text)).name
            except LookupError:
                return None
    return None


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------
def vector_layers(source: str | os.PathLike[str]) -> list[tuple[Path, str]]:
    """``(file, layer)`` pairs of a vector file or of every vector file in a folder.

    Raises
    ------
    MissingFileError
        ``source`` does not exist.
    FileFormatError
        A file cannot be opened, or a folder holds no vector file.
    """
    source = Path(source)
    if not source.exists():
        msg = f"{source} does not exist"
        raise MissingFileError(msg)
    if source.is_dir() and source.suffix.lower() != ".gdb":
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in VECTOR_SUFFIXES)
        if not files:
            msg = f"folder {source} holds no vector files ({', '.join(VECTOR_SUFFIXES)})"
            raise FileFormatError(msg)
    else:
        files = [source]
    out: list[tuple[Path, str]] = []
    for f in files:
        if f.suffix.lower() in (".csv", ".tsv", ".parquet", ".geoparquet"):
            out.append((f, f.stem))
            continue
        try:
            out.extend((f, str(name)) for name, _ in pyogrio.list_layers(f))
        except _PYOGRIO_ERRORS as exc:
            raise _bad_file(f, exc) from exc
    return out


def _bad_file(path: Path, exc: BaseException, what: str = "file") -> FileFormatError:
    msg = (f"cannot read {what} {path} as a vector dataset (truncated, corrupt or not a GIS "
           f"file?): {exc}. Re-export or re-download it; check it opens with `ogrinfo`.")
    return FileFormatError(msg)


def read_vector(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: Any = None,
    encoding: str | None = None,
    what: str = "file",
) -> gpd.GeoDataFrame:
    """Read one layer of any vector file into a GeoDataFrame with a stated, datum-aware CRS.

    Parameters
    ----------
    path : path
        GeoPackage, Shapefile, GeoJSON, TopoJSON, FlatGeobuf, CSV, GeoParquet … (module doc).
    layer : str, optional
        Layer to read (default: the only or first one).
    crs : CRS-like, optional
        The CRS the coordinates are in: declares it when the file states none, overrides it
        (with a warning) when the file states another.
    encoding : str, optional
        Attribute encoding (default: :func:`detect_encoding`).
    what : str
        What the file is, for messages (``"pipes"``, ``"areas"`` …).

    Returns
    -------
    geopandas.GeoDataFrame
        In the file's (or the given) CRS, Bessel datums fixed (:func:`bessel_fixed`); not
        reprojected (see :func:`to_metric`).

    Raises
    ------
    MissingFileError, FileFormatError, CRSError
        No such file; unreadable file or CSV without coordinate columns; no CRS stated or given.
    """
    path = Path(path)
    if not path.exists():
        msg = f"{what} {path} does not exist"
        raise MissingFileError(msg)
    suffix = path.suffix.lower()
    enc = encoding or detect_encoding(path)
    default: CRS | None = None
    if suffix in (".csv", ".tsv", ".txt"):
        frame, default = _read_csv(path, enc, sep="\t" if suffix == ".tsv" else ",")
    elif suffix in (".parquet", ".geoparquet"):
        import_optional("pyarrow", extra="parquet")
        try:
            frame = gpd.read_parquet(path)
        except (ValueError, OSError, TypeError) as exc:
            raise _bad_file(path, exc, what) from exc
    else:
        try:
            info = pyogrio.read_info(path, layer=layer)
            frame = pyogrio.read_dataframe(path, layer=layer, encoding=enc)
        except _PYOGRIO_ERRORS as exc:
            raise _bad_file(path, exc, what) from exc
        except UnicodeDecodeError as exc:
            msg = (f"{path.name}: text attributes are in neither UTF-8 nor CP949 ({exc}); "
                   "re-save the file in UTF-8")
            raise FileFormatError(msg) from exc
        if info.get("driver") == "TopoJSON":  # lon/lat unless it says otherwise
            default = _topojson_crs(path) or CRS(4326)
        if not isinstance(frame, gpd.GeoDataFrame):
            frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)))
    return _with_crs(frame, declared=crs, default=default, path=path, what=what)


def _with_crs(frame: gpd.GeoDataFrame, *, declared: Any, default: CRS | None, path: Path,
              what: str) -> gpd.GeoDataFrame:
    if declared is not None:
        given = CRS.from_user_input(declared)
        if frame.crs is not None and not CRS(frame.crs).equals(given):
            logger.warning("%s %s states %s; using the CRS given, %s, instead", what, path.name,
                           crs_label(frame.crs), crs_label(given))
        frame = frame.set_crs(given, allow_override=True)
    elif frame.crs is None and default is not None:
        if default.is_geographic and not _fits_lonlat(frame):
            py, cli = two_forms(
                "{what} {name} has coordinates outside longitude/latitude and states no CRS; "
                "{fix}", what=(what, what), name=(path.name, path.name),
                fix=("pass crs=... (the CRS of its coordinates)", "give it with --crs"))
            raise CRSError(py, cli=cli)
        frame = frame.set_crs(default)
    elif frame.crs is None:
        py, cli = two_forms(
            "{what} {name} states no CRS; {fix}", what=(what, what), name=(path.name, path.name),
            fix=("pass crs='EPSG:5186' (the CRS its coordinates are really in), or add a .prj",
                 "give the CRS its coordinates are in with --crs (e.g. --crs EPSG:5186)"))
        raise CRSError(py, cli=cli)
    if is_bessel(CRS(frame.crs)):
        fixed = bessel_fixed(frame.crs)
        how = ("states no datum shift (no TOWGS84): taken as the Korean 1985 datum"
               if fixed is not None else "has a known datum")
        logger.warning("%s %s: %s is on the Bessel 1841 ellipsoid and %s; it is shifted to "
                       "GRS80 with the standard transformation (Korean 1985 to KGD2002 (1)) "
                       "when reprojected", what, path.name, crs_label(frame.crs), how)
        if fixed is not None:
            frame = frame.set_crs(fixed, allow_override=True)
    return frame


def _fits_lonlat(frame: gpd.GeoDataFrame) -> bool:
    if len(frame) == 0 or frame.geometry.is_empty.all():
        return True
    x0, y0, x1, y1 = frame.geometry.total_bounds
    return bool(-180.0 <= x0 <= x1 <= 180.0 and -90.0 <= y0 <= y1 <= 90.0)


def _read_csv(path: Path, encoding: str | None, *, sep: str) -> tuple[gpd.GeoDataFrame, CRS | None]:
    enc = "utf-8-sig" if encoding in (None, "UTF-8") else encoding
    try:
        table = pd.read_csv(path, sep=sep, encoding=enc, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as exc:
        msg = f"cannot read {path.name} as a CSV table: {exc}"
        raise FileFormatError(msg) from exc
    lower = {str(c).strip().lower(): c for c in table.columns}
    for name in CSV_WKT_COLUMNS:
        if name in lower:
            text = table[lower[name]].astype(object).where(table[lower[name]].notna(), None)
            try:
                geoms = shapely.from_wkt(text.to_numpy(dtype=object), on_invalid="raise")
            except shapely.errors.GEOSException as exc:
                msg = f"{path.name}: column {lower[name]!r} holds text that is not WKT: {exc}"
                raise FileFormatError(msg) from exc
            frame = gpd.GeoDataFrame(table.drop(columns=[lower[name]]), geometry=geoms)
            return frame, (CRS(4326) if _fits_lonlat(frame) and _looks_lonlat(lower) else None)
    for pairs, default in ((CSV_LONLAT_COLUMNS, CRS(4326)), (CSV_XY_COLUMNS, None)):
        for xname, yname in pairs:
            if xname in lower and yname in lower:
                x = pd.to_numeric(table[lower[xname]], errors="coerce").to_numpy(np.float64)
                y = pd.to_numeric(table[lower[yname]], errors="coerce").to_numpy(np.float64)
                bad = ~(np.isfinite(x) & np.isfinite(y))
                if bad.any():
                    rows = ", ".join(str(i + 2) for i in np.flatnonzero(bad)[:5])
                    msg = (f"{path.name}: {int(bad.sum())} row(s) have no numeric "
                           f"{lower[xname]}/{lower[yname]} (lines {rows}); fix or delete them")
                    raise FileFormatError(msg)
                rest = table.drop(columns=[lower[xname], lower[yname]])
                return gpd.GeoDataFrame(rest, geometry=shapely.points(x, y)), default
    msg = (f"{path.name} has no coordinate columns; name them x/y (or lon/lat) or give a WKT "
           f"column named wkt. Columns: {', '.join(map(str, table.columns))}")
    raise SchemaError(msg)


def _looks_lonlat(lower: dict[str, Any]) -> bool:
    return any(x in lower or y in lower for x, y in CSV_LONLAT_COLUMNS)


def read_areas(
    path: str | os.PathLike[str],
    *,
    area_id: str | None = None,
    crs: Any = None,
    source_crs: Any = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read area polygons (행정동, 법정동, 구 …) for :func:`geo3d.stats.aging_statistics`.

    Any format of :func:`read_vector` (TopoJSON as lon/lat, CP949 names decoded, Bessel
    ``.prj`` shifted to GRS80). The ``area_id`` field is read as text (codes such as
    ``1123054500`` keep their digits; missing values stay missing), and the polygons are
    reprojected to ``crs`` when given (e.g. the pipes' CRS).

    Parameters
    ----------
    path : str or Path
        The areas file.
    area_id : str, optional
        Field identifying an area; checked to exist.
    crs : optional
        Target CRS (anything :meth:`geopandas.GeoDataFrame.to_crs` takes).
    source_crs : optional
        The CRS of the file's coordinates when it states none or a wrong one.
    layer : str, optional
        Layer of a multi-layer file.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    MissingFileError, FileFormatError, CRSError
        As :func:`read_vector`.
    SchemaError
        ``area_id`` is not a field (the fields are listed), the file holds no polygon, or no
        feature at all.

    Examples
    --------
    >>> from geo3d import datasets
    >>> dongs = read_areas(datasets.get_path("neighbourhoods"), area_id="adm_cd2", crs=4326)
    >>> len(dongs), dongs.crs.to_epsg(), dongs["adm_cd2"].iloc[0]
    (5, 4326, '1123054500')
    """
    path = Path(path)
    try:
        areas = read_vector(path, layer=layer, crs=source_crs, what="areas file")
    except CRSError as exc:
        if "states no CRS" not in str(exc) or "outside longitude" in str(exc):
            raise
        py, cli = two_forms(
            "areas file {p} states no CRS; {fix}", p=(str(path),) * 2,
            fix=("pass read_areas(..., source_crs=5186) with the CRS its coordinates are in",
                 f"assign the one its coordinates are in, e.g. `ogr2ogr -a_srs EPSG:5186 "
                 f"areas_5186.gpkg {path}`"))
        raise CRSError(py, cli=cli) from None
    if len(areas) == 0:
        msg = f"areas file {path.name} is empty (no feature); it needs one polygon per area"
        raise SchemaError(msg)
    kinds = set(areas.geom_type.dropna())
    if not kinds & {"Polygon", "MultiPolygon"}:
        msg = (f"areas file {path.name} holds {', '.join(sorted(kinds)) or 'no geometry'}, not "
               "polygons; statistics per area need one polygon per area")
        raise SchemaError(msg)
    if area_id is not None:
        if area_id not in areas.columns:
            fields = ", ".join(str(c) for c in areas.columns if c != areas.geometry.name)
            py, cli = two_forms("areas file {n} has no field {a!r} for {opt}; available fields: "
                                "{f}", n=(path.name,) * 2, a=(area_id,) * 2, f=(fields,) * 2,
                                opt=("area_id", "--area-id"))
            raise SchemaError(py, cli=cli)
        areas[area_id] = areas[area_id].astype("string")
    if crs is not None and not CRS(areas.crs).equals(CRS.from_user_input(crs)):
        logger.info("read_areas: %s -> %s", crs_label(areas.crs), crs_label(crs))
        areas = areas.to_crs(crs)
    return areas


def _topojson_crs(path: Path) -> CRS | None:
    """A CRS named in a TopoJSON's ``crs`` member (GeoJSON 2008 style), if any."""
    try:
        head = json.loads(path.read_bytes())
        name = (head.get("crs") or {}).get("properties", {}).get("name")
        return CRS.from_user_input(name) if name else None
    except (ValueError, OSError, AttributeError, pyproj_exceptions.CRSError):
        return None
