"""MARKET.toml: the market's address parameters and (optionally) its named aisles (docs/contracts.md).

Examples
--------
>>> import geo3d
>>> m = read_market(geo3d.datasets.get_path("market_toml"))
>>> m.name, m.scheme, m.interval_m, len(m.aisles)
('경동시장', 'internal_road', 20.0, 10)
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from ..errors import FileFormatError, MissingFileError, SchemaError
from .format import check_road_name

__all__ = ["SCHEMES", "Market", "market_from_dict", "market_text", "read_market"]

#: Address schemes of docs/addresses.md (one per market building).
SCHEMES = ("internal_road", "ground_road", "detail")
_STARTS = ("given", "west_south")


@dataclass(frozen=True)
class Market:
    """Validated MARKET.toml.

    Attributes mirror the file; ``aisles`` is a GeoDataFrame (name, floor, LineString start → end)
    or ``None`` when aisles are to be detected.
    """

    name: str
    sido: str
    sigungu: str
    parent_road: str
    parent_number: str
    crs: str | None = None
    scheme: str = "internal_road"
    interval_m: float = 20.0
    principal_entrance: tuple[float, float] | None = None
    entrance_floor: int | None = None
    aisles: gpd.GeoDataFrame | None = None
    max_offset_m: float = 6.0
    start: str = "given"
    first_sub: int = 1
    basement_prefix: str = "지하"
    extra: dict[str, Any] = field(default_factory=dict)


def _num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def market_from_dict(data: dict[str, Any], *, source: str = "MARKET.toml") -> Market:
    """Validate a parsed MARKET.toml; every problem is reported at once as a :class:`SchemaError`.

    Examples
    --------
    >>> m = market_from_dict({"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구",
    ...                       "parent_road": "고산자로36길", "parent_number": "3"})
    >>> m.aisles is None, m.interval_m
    (True, 20.0)
    >>> market_from_dict({"name": "경동 시장"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo3d.errors.SchemaError: MARKET.toml has 5 problems; fix them and run again
      - ...
    """
    problems: list[str] = []
    out: dict[str, Any] = {}
    for key in ("name", "sido", "sigungu", "parent_road"):
        v = data.get(key)
        if not isinstance(v, str) or not v.strip():
            problems.append(f"'{key}' is missing or empty; give it as a string, e.g. {key} = \"...\"")
        elif any(c.isspace() for c in v):
            problems.append(f"'{key}' = {v!r} must not contain spaces")
        else:
            out[key] = v
    if "name" in out:
        problems += [f"'name': {p}" for p in check_road_name(out["name"])]
    if "parent_road" in out:
        problems += [f"'parent_road': {p}" for p in check_road_name(out["parent_road"])]
    pn = data.get("parent_number")
    if isinstance(pn, int) and not isinstance(pn, bool):
        pn = str(pn)
    if not isinstance(pn, str) or not pn.strip():
        problems.append("'parent_number' is missing; give the building number as a string, e.g. \"3\"")
    else:
        out["parent_number"] = pn
    crs = data.get("crs")
    if crs is not None:
        try:
            import pyproj

            pyproj.CRS.from_user_input(crs)
            out["crs"] = str(crs)
        except Exception:
            problems.append(f"'crs' = {crs!r} is not a CRS pyproj understands (e.g. \"EPSG:5186\")")
    scheme = data.get("scheme", "internal_road")
    if scheme not in SCHEMES:
        problems.append(f"'scheme' = {scheme!r}; valid: {', '.join(SCHEMES)}")
    else:
        out["scheme"] = scheme
    for key, default in (("interval_m", 20.0), ("max_offset_m", 6.0)):
        v = data.get(key, default)
        if not _num(v) or v <= 0:
            problems.append(f"'{key}' = {v!r} must be a positive number of metres")
        else:
            out[key] = float(v)
    start = data.get("start", "given")
    if start not in _STARTS:
        problems.append(f"'start' = {start!r}; valid: {', '.join(_STARTS)}")
    else:
        out["start"] = start
    fs = data.get("first_sub", 1)
    if not isinstance(fs, int) or isinstance(fs, bool) or fs < 1:
        problems.append(f"'first_sub' = {fs!r} must be an integer ≥ 1")
    else:
        out["first_sub"] = fs
    bp = data.get("basement_prefix", "지하")
    if bp not in ("지하", "B"):
        problems.append(f"'basement_prefix' = {bp!r}; valid: '지하', 'B'")
    else:
        out["basement_prefix"] = bp
    pe = data.get("principal_entrance")
    if pe is not None:
        if not isinstance(pe, list) or len(pe) != 2 or not all(_num(v) for v in pe):
            problems.append(f"'principal_entrance' = {pe!r} must be [x, y] in metres")
        else:
            out["principal_entrance"] = (float(pe[0]), float(pe[1]))
    ef = data.get("entrance_floor")
    if ef is not None:
        if not isinstance(ef, int) or isinstance(ef, bool) or ef == 0:
            problems.append(f"'entrance_floor' = {ef!r} must be a non-zero integer (there is no floor 0)")
        else:
            out["entrance_floor"] = ef
    aisles = data.get("aisles")
    if aisles is not None:
        if not isinstance(aisles, list) or not aisles:
            problems.append("'aisles' must be a list of [[aisles]] tables (or be left out to detect them)")
        else:
            names, floors, lines = [], [], []
            for i, a in enumerate(aisles, start=1):
                where = f"aisle #{i}"
                if not isinstance(a, dict):
                    problems.append(f"{where} must be a table with name, floor, line")
                    continue
                name = a.get("name")
                where = f"aisle #{i} ({name!r})"
                problems += [f"{where}: {p}" for p in check_road_name(name)]
                if isinstance(name, str) and name in names:
                    problems.append(f"{where}: the name is used twice; road names are unique in the 시군구")
                fl = a.get("floor")
                if not isinstance(fl, int) or isinstance(fl, bool) or fl == 0:
                    problems.append(f"{where}: 'floor' = {fl!r} must be a non-zero integer")
                line = a.get("line")
                ok = (isinstance(line, list) and len(line) >= 2
                      and all(isinstance(p, list) and len(p) == 2 and all(_num(v) for v in p) for p in line))
                geom = shapely.LineString(line) if ok else None
                if not ok:
                    problems.append(f"{where}: 'line' must be [[x1, y1], [x2, y2], ...] with at least 2 points")
                elif geom is not None and geom.length <= 0:
                    problems.append(f"{where}: 'line' has zero length")
                names.append(name)
                floors.append(fl)
                lines.append(geom)
            if not any(p.startswith("aisle #") for p in problems):
                out["aisles"] = gpd.GeoDataFrame(
                    {"name": names, "floor": floors}, geometry=lines, crs=out.get("crs"))
    known = {"name", "sido", "sigungu", "parent_road", "parent_number", "crs", "scheme", "interval_m",
             "principal_entrance", "entrance_floor", "aisles", "max_offset_m", "start", "first_sub",
             "basement_prefix"}
    extra = {k: v for k, v in data.items() if k not in known}
    if problems:
        n = len(problems)
        msg = f"{source} has {n} problem{'s' if n > 1 else ''}; fix them and run again"
        raise SchemaError(msg, problems)
    return Market(**out, extra=extra)


def read_market(path: str | os.PathLike[str]) -> Market:
    """Read and validate a MARKET.toml file.

    Raises
    ------
    MissingFileError
        The file does not exist.
    FileFormatError
        It is not valid TOML.
    SchemaError
        Fields are missing or wrong (all problems listed at once).
    """
    p = Path(path)
    if not p.is_file():
        msg = f"market file {p} does not exist; pass the MARKET.toml that describes the market"
        raise MissingFileError(msg)
    text = market_text(p.read_bytes(), name=str(p))
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        msg = f"{p} is not valid TOML ({exc or 'nested too deeply'}); check quotes and brackets"
        raise FileFormatError(msg) from exc
    return market_from_dict(data, source=str(p))


def market_text(raw: bytes, *, name: str = "MARKET.toml") -> str:
    """The text of a MARKET.toml file: UTF-8, with or without a byte-order mark.

    TOML is UTF-8. A file saved in another encoding (e.g. CP949/EUC-KR by an older Korean
    Windows editor, or UTF-16) is refused with a message naming the encoding it looks like and
    how to convert it, instead of a TOML syntax error.

    Examples
    --------
    >>> market_text("name = '시장'".encode("utf-8-sig"))
    "name = '시장'"
    >>> market_text("name = '시장'".encode("cp949"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geo3d.errors.FileFormatError: MARKET.toml is not UTF-8: it looks like CP949 (EUC-KR)...
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        guess = "UTF-16"
    else:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        guess = "an unknown encoding"
        try:
            raw.decode("cp949")
            guess = "CP949 (EUC-KR)"
        except UnicodeDecodeError:
            pass
    msg = (f"{name} is not UTF-8: it looks like {guess}. TOML files must be UTF-8; save it as "
           "UTF-8 in your editor, or convert it, e.g. `iconv -f CP949 -t UTF-8 old.toml > MARKET.toml`")
    raise FileFormatError(msg)
