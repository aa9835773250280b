"""One self-contained HTML page for a 3D scene: deck.gl and geo3d's viewer inlined, no network.

A :class:`Scene3D` holds what the viewer draws (layers in local metres around an origin, the
attribute tables behind them, legend, levels, search entries); :meth:`Scene3D.to_html` writes
it atomically and :meth:`Scene3D._repr_html_` shows it in a notebook (an ``<iframe srcdoc>``,
so JupyterLab needs no CDN either). The JavaScript is the vendored deck.gl bundle of
``geo3d/viz/static`` (see its README for version and licence) and ``map3d.js``.

Examples
--------
>>> import numpy as np
>>> frame = LocalFrame.around("EPSG:5186", 203400.0, 553300.0)
>>> x, y = frame.local(np.array([203410.0]), np.array([553300.0]))
>>> round(float(x[0]), 2), round(float(y[0]), 2)
(10.0, 0.0)
>>> s = Scene3D(title="t", frame=frame)
>>> "deck" in s.html() and "https://" not in s.html().split("GEO3D_SCENE")[1]
True
"""

from __future__ import annotations

import base64
import html as html_lib
import json
import logging
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from ..errors import InputError
from ..io.atomic import atomic_path

__all__ = ["DECKGL_FILE", "LocalFrame", "Scene3D", "binary", "decode_column", "encode_column",
           "table_columns"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
#: The vendored deck.gl bundle (npm ``deck.gl`` ``dist.min.js``, MIT).
DECKGL_FILE = "deck.gl-9.3.11.min.js"


@cache
def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def binary(values: NDArray[Any], dtype: str = "f32") -> dict[str, str]:
    """A numpy array as the viewer's base64 little-endian binary (``f32``, ``u8``, ``u32``).

    Examples
    --------
    >>> binary(np.array([1.0, 2.0]))["dtype"]
    'f32'
    """
    np_type = {"f32": "<f4", "u8": "u1", "u32": "<u4", "i32": "<i4"}[dtype]
    data = np.ascontiguousarray(np.asarray(values).ravel(), dtype=np_type).tobytes()
    return {"dtype": dtype, "b64": base64.b64encode(data).decode("ascii")}


def table_columns(frame: pd.DataFrame, columns: list[str], *, digits: int = 3) -> dict[str, list[Any]]:
    """Columns as JSON-ready lists for the attribute panel (missing values as ``""``).

    Floats are rounded to ``digits``; whole floats print without a decimal point.

    Examples
    --------
    >>> table_columns(pd.DataFrame({"a": [1.0, None], "b": ["x", None]}), ["a", "b"])
    {'a': [1, ''], 'b': ['x', '']}
    """
    out: dict[str, list[Any]] = {}
    for c in columns:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s.dtype):
            out[c] = ["yes" if v is True else ("no" if v is False else "") for v in s.astype(object)]
        elif pd.api.types.is_numeric_dtype(s.dtype):
            v = pd.to_numeric(s, errors="coerce").astype("Float64").round(digits)
            arr = v.to_numpy(dtype=np.float64, na_value=np.nan)
            finite = np.isfinite(arr)
            obj = arr.astype(object)
            whole = finite & (np.nan_to_num(arr) == np.round(np.nan_to_num(arr)))
            obj[whole] = np.round(arr[whole]).astype(np.int64).astype(object)
            obj[~finite] = ""
            out[c] = obj.tolist()
        else:
            o = s.astype(object)
            out[c] = [str(x) for x in o.where(o.notna(), "").to_numpy()]
    return out


def encode_column(values: list[Any]) -> Any:
    """A column of the attribute table as the page stores it: the list itself, or — when few
    distinct values repeat (utility, agency, material …) — ``{"dict": [...], "codes": binary}``.

    Examples
    --------
    >>> encode_column(["gas"] * 100)["dict"]
    ['gas']
    >>> encode_column(["a", "b"])
    ['a', 'b']
    """
    if len(values) < 64:
        return values
    codes, uniq = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    if len(uniq) * 4 > len(values):
        return values
    return {"dict": list(uniq), "codes": binary(codes, "u32")}


def decode_column(value: Any) -> list[Any]:
    """The inverse of :func:`encode_column` (for reading a page's scene in Python)."""
    if isinstance(value, dict) and "dict" in value:
        codes = np.frombuffer(base64.b64decode(value["codes"]["b64"]), dtype="<u4")
        return [value["dict"][int(i)] for i in codes]
    return list(value)


@dataclass(frozen=True)
class LocalFrame:
    """Local east/north metres around an origin (a transverse Mercator tangent at the origin).

    Attributes
    ----------
    crs : pyproj.CRS
        The data's projected CRS.
    lon, lat : float
        The origin in WGS84 degrees (deck.gl's ``coordinateOrigin``).
    """

    crs: CRS
    lon: float
    lat: float

    @classmethod
    def around(cls, crs: Any, x: float, y: float) -> LocalFrame:
        """The frame whose origin is the point ``(x, y)`` of ``crs``."""
        if crs is None:
            msg = "the data has no CRS; set it (e.g. .set_crs('EPSG:5186')) before mapping"
            raise InputError(msg)
        c = CRS.from_user_input(crs)
        lon, lat = Transformer.from_crs(c, "EPSG:4326", always_xy=True).transform(x, y)
        return cls(c, float(lon), float(lat))

    @property
    def _transformer(self) -> Transformer:
        local = CRS.from_proj4(f"+proj=tmerc +lat_0={self.lat} +lon_0={self.lon} +k=1 +x_0=0 "
                               "+y_0=0 +ellps=GRS80 +units=m +no_defs")
        return Transformer.from_crs(self.crs, local, always_xy=True)

    def local(self, x: NDArray[np.float64], y: NDArray[np.float64]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Data coordinates → local metres east and north of the origin."""
        ex, ny = self._transformer.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(ex, dtype=np.float64), np.asarray(ny, dtype=np.float64)


@dataclass
class Scene3D:
    """What one map shows; written as one offline HTML page by :meth:`to_html`.

    Attributes
    ----------
    title, subtitle : str
        Page title (also the browser tab) and a line under it.
    frame : LocalFrame
        Local metres ↔ the data's CRS.
    layers : list of dict
        Viewer layers (``tubes``, ``mesh``, ``polygons``, ``points``, ``paths``, ``text``) in
        local metres, elevations relative to ``z_ref``.
    tables : dict
        ``{name: {"columns": [...], "values": {col: [...]}, "hover": [...], "title_column": c}}``
        — the attributes the click panel lists.
    legend : list of dict
        ``{"label", "color": [r, g, b(, a)], "shape": line|box|dot|plane|outline, "group"}``;
        an entry with a ``group`` gets a check box that shows/hides the layers of that group.
    bounds : list of float
        ``[xmin, ymin, zmin, xmax, ymax, zmax]`` in local metres (the view fits it).
    """

    title: str
    frame: LocalFrame
    subtitle: str = ""
    z_ref: float = 0.0
    layers: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    legend: list[dict[str, Any]] = field(default_factory=list)
    legend_title: str = "Legend"
    legend_note: str = ""
    levels: list[dict[str, Any]] = field(default_factory=list)
    search: list[dict[str, Any]] = field(default_factory=list)
    bounds: list[float] = field(default_factory=lambda: [-50.0, -50.0, 0.0, 50.0, 50.0, 0.0])
    view: dict[str, float] = field(default_factory=lambda: {"pitch": 45.0, "bearing": 0.0})
    lists: list[dict[str, Any]] = field(default_factory=list)
    search_features: str | None = None
    exaggerations: list[float] | None = None
    exaggeration: float = 1.0
    background: tuple[int, int, int] = (236, 239, 242)

    def to_dict(self) -> dict[str, Any]:
        """The scene as the viewer reads it (``window.GEO3D_SCENE``); repetitive attribute
        columns are dictionary-coded (:func:`encode_column`)."""
        tables = {name: {**t, "values": {c: encode_column(v) for c, v in t["values"].items()}}
                  for name, t in self.tables.items()}
        return {"title": self.title, "subtitle": self.subtitle, "origin": [self.frame.lon, self.frame.lat],
                "z_ref": self.z_ref, "layers": self.layers, "tables": tables, "legend": self.legend,
                "legend_title": self.legend_title, "legend_note": self.legend_note,
                "levels": self.levels, "search": self.search, "bounds": [float(b) for b in self.bounds],
                "view": self.view, "lists": self.lists, "search_features": self.search_features,
                "exaggerations": self.exaggerations,
                "exaggeration": self.exaggeration, "background": list(self.background)}

    def html(self) -> str:
        """The whole page as a string (deck.gl, viewer and data inlined)."""
        data = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        data = data.replace("</", "<\\/")  # never close the script element from inside the data
        parts = {"TITLE": html_lib.escape(self.title), "CSS": _static("map3d.css"),
                 "DECK": _static(DECKGL_FILE).replace("</script", "<\\/script"), "DATA": data,
                 "VIEWER": _static("map3d.js")}
        pieces = _PAGE.split("@@")  # odd pieces are the names of what goes there
        return "".join(parts[p] if i % 2 else p for i, p in enumerate(pieces))

    def to_html(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the page atomically to ``path`` (``.html``); returns the path."""
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            msg = f"a 3D map is written as .html, not {path.name!r}; name the file .html"
            raise InputError(msg)
        text = self.html()
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
        logger.info("map: %s (%.1f MB)", path, len(text.encode("utf-8")) / 1e6)
        return path

    def _repr_html_(self) -> str:
        """Notebook display: the page in a sandboxed ``<iframe srcdoc>`` (works offline)."""
        return ('<iframe style="width:100%;height:620px;border:0" sandbox="allow-scripts" '
                f'srcdoc="{html_lib.escape(self.html(), quote=True)}"></iframe>')


_PAGE = """<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="generator" content="geo3d"/>
<title>@@TITLE@@</title>
<style>
@@CSS@@
</style>
</head>
<body>
<div id="g3-map"></div>
<div id="g3-head" class="g3-panel"><h1 id="g3-title"></h1><div id="g3-subtitle"></div></div>
<div id="g3-tools" class="g3-panel">
 <div id="g3-levels"></div>
 <div id="g3-search"><input id="g3-search-input" list="g3-search-list" placeholder="주소 검색 / search address"/>
  <datalist id="g3-search-list"></datalist><button id="g3-search-go">Go</button><span id="g3-search-msg"></span></div>
 <div id="g3-exag-box">vertical <select id="g3-exag"></select></div>
</div>
<div id="g3-legend" class="g3-panel"></div>
<div id="g3-list" class="g3-panel"></div>
<div id="g3-info" class="g3-panel"><button id="g3-info-close" title="close">×</button>
 <div id="g3-info-title"></div><table id="g3-info-body"></table></div>
<div id="g3-nav" class="g3-panel">
 <button id="g3-fit" title="fit the view to the data">fit</button>
 <div id="g3-scale"><div id="g3-scale-bar"></div><div id="g3-scale-label"></div></div>
 <div id="g3-compass" title="north up"><div id="g3-compass-needle"></div></div>
</div>
<script>
@@DECK@@
</script>
<script>
window.GEO3D_SCENE = @@DATA@@;
</script>
<script>
@@VIEWER@@
</script>
</body>
</html>
"""
