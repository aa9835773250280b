"""pydeck maps for notebooks: area statistics and pipes in 2D, saved as self-contained HTML.

Small, general building blocks — :func:`areas_layer`, :func:`pipes_layer`,
:func:`statistics_deck`, :func:`deck_to_html` — so 3D layers can be added beside them later.
Colours are computed with numpy (no matplotlib needed); geometries go to pydeck in EPSG:4326.

Examples
--------
>>> import geopandas as gpd, shapely
>>> pipes = gpd.GeoDataFrame({"utility": ["gas", "water"]},
...     geometry=[shapely.LineString([(203400, 553300), (203500, 553320)]),
...               shapely.LineString([(203400, 553350), (203500, 553350)])], crs="EPSG:5186")
>>> layer = pipes_layer(pipes)
>>> layer.type
'GeoJsonLayer'
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._compat import import_optional
from ..errors import InputError
from ..io.atomic import atomic_path
from ..stats.aging import areas_with_statistics

# <script src="https://…"> and <link rel="stylesheet" href="https://…"> in pydeck's page head
_EXTERNAL_TAG = re.compile(r'[ \t]*<(?:script src|link rel="stylesheet" href)="?https?://[^"\s>]*"?[^>]*>'
                           r'(?:</script>)?[ \t]*\n?')

__all__ = [
    "UTILITY_COLOURS",
    "OfflineHTML",
    "areas_layer",
    "deck_html",
    "deck_to_html",
    "offline_view",
    "pipes_layer",
    "statistics_deck",
    "value_colours",
]

logger = logging.getLogger(__name__)

UTILITY_COLOURS: dict[str, tuple[int, int, int]] = {
    "power": (255, 127, 0),    # orange (Korean convention for electric)
    "telecom": (128, 0, 160),  # purple
    "gas": (240, 200, 0),      # yellow
    "water": (0, 90, 220),     # blue
    "sewer": (0, 150, 60),     # green
    "heat": (200, 30, 60),     # crimson (heat needs a colour of its own)
}
"""Korean utility palette (RGB) used for pipes."""

_YLORRD = np.array([[255, 255, 204], [254, 217, 118], [253, 141, 60], [227, 26, 28],
                    [128, 0, 38]], dtype=float)


def value_colours(values: pd.Series | np.ndarray, *, vmin: float | None = None,
                  vmax: float | None = None, alpha: int = 180,
                  missing: tuple[int, int, int, int] = (200, 200, 200, 120)) -> list[list[int]]:
    """RGBA colours on a yellow→red ramp for numbers (grey for missing).

    Examples
    --------
    >>> value_colours([0.0, 1.0, float("nan")])
    [[255, 255, 204, 180], [128, 0, 38, 180], [200, 200, 200, 120]]
    """
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    finite = np.isfinite(v)
    lo = float(np.nanmin(v)) if vmin is None and finite.any() else (vmin or 0.0)
    hi = float(np.nanmax(v)) if vmax is None and finite.any() else (vmax if vmax is not None
                                                                    else 1.0)
    t = np.clip((v - lo) / (hi - lo), 0, 1) if hi > lo else np.zeros_like(v)
    pos = np.nan_to_num(t) * (len(_YLORRD) - 1)
    i = np.minimum(pos.astype(int), len(_YLORRD) - 2)
    f = (pos - i)[:, None]
    rgb = np.rint(_YLORRD[i] * (1 - f) + _YLORRD[i + 1] * f).astype(int)
    out = [[*map(int, c), alpha] for c in rgb]
    for k in np.flatnonzero(~finite):
        out[k] = list(missing)
    return out


def _geojson(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    if frame.crs is None:
        msg = "the layer has no CRS; set it (e.g. .set_crs('EPSG:5186')) before mapping"
        raise InputError(msg)
    data: dict[str, Any] = json.loads(frame.to_crs(4326).to_json(na="null", drop_id=True))
    return data


def pipes_layer(pipes: gpd.GeoDataFrame, *, palette: Mapping[str, tuple[int, int, int]] | None = None,
                width_m: float = 2.0, columns: list[str] | None = None, **kwargs: Any) -> Any:
    """A pydeck ``GeoJsonLayer`` of pipes in 2D, coloured by utility.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Pipes with a ``utility`` column (any CRS).
    palette : mapping, optional
        utility → RGB; default :data:`UTILITY_COLOURS`.
    width_m : float
        Line width in metres (at least 1 pixel on screen).
    columns : list of str, optional
        Properties for the tooltip; default utility, source_id, diameter_mm, material,
        install_year (those present).
    **kwargs
        Passed to ``pydeck.Layer``.
    """
    pdk = import_optional("pydeck", extra="viz")
    palette = {**UTILITY_COLOURS, **(palette or {})}
    keep = columns or [c for c in ("utility", "source_id", "diameter_mm", "material",
                                   "install_year") if c in pipes.columns]
    frame = gpd.GeoDataFrame(pipes[keep].copy(), geometry=pipes.geometry.values, crs=pipes.crs)
    utility = pipes["utility"].astype(str) if "utility" in pipes.columns else \
        pd.Series("", index=pipes.index)
    frame["colour"] = [list(palette.get(u, (90, 90, 90))) for u in utility]
    options = {"get_line_color": "properties.colour", "get_line_width": width_m,
               "line_width_min_pixels": 1, "pickable": True, "stroked": True, "filled": False,
               **kwargs}
    return pdk.Layer("GeoJsonLayer", _geojson(frame), id=kwargs.pop("id", "pipes"), **options)


def areas_layer(areas: gpd.GeoDataFrame, *, column: str | None = None, vmin: float | None = None,
                vmax: float | None = None, extruded: bool = False, **kwargs: Any) -> Any:
    """A pydeck ``GeoJsonLayer`` of polygons filled by ``column`` (yellow→red).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Polygons (any CRS).
    column : str, optional
        Numeric column for the fill; default a neutral fill.
    vmin, vmax : float, optional
        Colour range; default the column's range.
    extruded : bool
        Extrude polygons by ``column`` (scaled to at most ~1 km).
    **kwargs
        Passed to ``pydeck.Layer``.
    """
    pdk = import_optional("pydeck", extra="viz")
    frame = areas.copy()
    if column is not None:
        if column not in frame.columns:
            msg = f"areas have no column {column!r}"
            raise InputError(msg)
        frame["fill"] = value_colours(frame[column], vmin=vmin, vmax=vmax)
    else:
        frame["fill"] = [[180, 180, 200, 90]] * len(frame)
    options: dict[str, Any] = {"get_fill_color": "properties.fill", "get_line_color": [60, 60, 60],
                               "line_width_min_pixels": 1, "pickable": True, "stroked": True,
                               "filled": True, **kwargs}
    if extruded and column is not None:
        top = float(np.nanmax(frame[column].to_numpy(dtype=float))) or 1.0
        frame["elevation"] = frame[column].fillna(0.0).astype(float) / top * 1000.0
        options.update(extruded=True, get_elevation="properties.elevation")
    return pdk.Layer("GeoJsonLayer", _geojson(frame), id=kwargs.pop("id", "areas"), **options)


def statistics_deck(
    stats: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str,
    utility: str | None = None,
    column: str = "share_over_threshold",
    pipes: gpd.GeoDataFrame | None = None,
    label: str | None = None,
    map_style: str | None = None,
    height: int = 500,
    title: str | None = None,
) -> Any:
    """An interactive pydeck map of one statistic per area (and optionally the pipes).

    Parameters
    ----------
    stats : pandas.DataFrame
        From :func:`geo3d.aging_statistics`.
    areas : geopandas.GeoDataFrame
        The area polygons.
    area_id : str
        Field of ``areas`` matching ``stats["area_id"]``.
    utility : str, optional
        One utility; default all pooled.
    column : str
        Statistic for the fill (shares are coloured on 0–1).
    pipes : geopandas.GeoDataFrame, optional
        Also draw these pipes (filtered to ``utility`` when given).
    label : str, optional
        Field with area names for the tooltip; default ``adm_nm`` when present.
    map_style : str, optional
        Carto base map style (``light``, ``dark``, ``road`` …; no API key, but the tiles need the
        network). Default none: the page works offline.
    height : int
        Height in pixels in a notebook.
    title : str, optional
        Title of the page and its legend; default the statistic and the utility.

    Returns
    -------
    pydeck.Deck

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> from geo3d.stats import aging_statistics
    >>> areas = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(203000, 553000, 204000, 554000)],
    ...                          crs="EPSG:5186")
    >>> pipes = gpd.GeoDataFrame({"utility": ["water"], "install_year": pd.array([1980])},
    ...     geometry=[shapely.LineString([(203100, 553100), (203900, 553100)])], crs="EPSG:5186")
    >>> deck = statistics_deck(aging_statistics(pipes, areas, area_id="id", reference_date=2025),
    ...                        areas, area_id="id", pipes=pipes)
    >>> [layer.id for layer in deck.layers]
    ['areas', 'pipes']
    """
    pdk = import_optional("pydeck", extra="viz")
    joined = areas_with_statistics(stats, areas, area_id=area_id, utility=utility)
    if column not in joined.columns:
        msg = f"column {column!r} is not a statistic of the table"
        raise InputError(msg)
    name = label or ("adm_nm" if "adm_nm" in joined.columns else area_id)
    keep = list(dict.fromkeys([area_id, name, column, "length_m", "density_km_per_km2"]))
    frame = gpd.GeoDataFrame(joined[keep].copy(), geometry=joined.geometry.values, crs=areas.crs)
    frame[column] = frame[column].astype(float).round(4)
    share = column.startswith("share_over_")
    layers = [areas_layer(frame, column=column, vmin=0.0 if share else None,
                          vmax=1.0 if share else None)]
    if pipes is not None:
        sub = pipes if utility is None else pipes[pipes["utility"].astype(str) == utility]
        layers.append(pipes_layer(sub))
    lon_lat = gpd.GeoSeries(joined.geometry.values, crs=areas.crs).to_crs(4326).total_bounds
    # fit the areas in a ~1000 × `height` px view (Web Mercator: 512 px for 360° at zoom 0)
    lat_mid = float((lon_lat[1] + lon_lat[3]) / 2)
    span_x = max(lon_lat[2] - lon_lat[0], 1e-5)
    span_y = max(lon_lat[3] - lon_lat[1], 1e-5) / np.cos(np.radians(lat_mid))
    zoom = float(np.clip(min(np.log2(1000 * 360.0 / (512 * span_x)),
                             np.log2(height * 360.0 / (512 * span_y))) - 0.3, 1, 18))
    view = pdk.ViewState(longitude=float((lon_lat[0] + lon_lat[2]) / 2),
                         latitude=float((lon_lat[1] + lon_lat[3]) / 2), zoom=zoom)
    tooltip = {"html": f"<b>{{{name}}}</b><br/>{column}: {{{column}}}<br/>"
                       "density km/km²: {density_km_per_km2}",
               "style": {"fontSize": "12px"}}
    deck = pdk.Deck(layers=layers, initial_view_state=view, map_provider="carto" if map_style else None,
                    map_style=map_style, tooltip=tooltip, height=height)
    share_lo, share_hi = (0.0, 1.0) if share else (float(frame[column].min()), float(frame[column].max()))
    what = _STATISTIC_LABELS.get(column, column)
    deck._geo3d_title = title or f"{what} · {utility or 'all utilities'}"
    deck._geo3d_legend = _legend_html(deck._geo3d_title, column, share_lo, share_hi,
                                      utility if pipes is not None else None)
    return deck


_STATISTIC_LABELS = {"share_over_threshold": "노후 비율 aged share", "density_km_per_km2": "밀도 km/km²",
                     "length_m": "연장 length (m)"}


def _legend_html(title: str, column: str, lo: float, hi: float, utility: str | None) -> str:
    """A legend box (title, the yellow→red ramp with its range, the pipes' colour) for the page."""
    import html as html_lib

    stops = ", ".join(f"rgb({r},{g},{b})" for r, g, b in _YLORRD.astype(int))
    pipes = ""
    if utility is not None:
        r, g, b = UTILITY_COLOURS.get(utility, (90, 90, 90))
        pipes = (f'<div style="margin-top:6px"><span style="display:inline-block;width:24px;height:4px;'
                 f'background:rgb({r},{g},{b});vertical-align:middle"></span> {html_lib.escape(utility)} pipes</div>')
    return (f'<div id="geo3d-legend" style="position:absolute;left:10px;bottom:10px;z-index:10;background:'
            f'rgba(255,255,255,.94);padding:8px 10px;border-radius:6px;font:13px sans-serif;'
            f'box-shadow:0 1px 4px rgba(0,0,0,.3)"><div style="font-weight:bold;font-size:15px">'
            f'{html_lib.escape(title)}</div><div>{html_lib.escape(column)}</div>'
            f'<div style="width:180px;height:10px;background:linear-gradient(to right,{stops})"></div>'
            f'<div style="display:flex;justify-content:space-between;width:180px"><span>{lo:.3g}</span>'
            f'<span>{hi:.3g}</span></div><div style="color:#666">grey: no data</div>{pipes}</div>')


def deck_html(deck: Any, *, offline: bool = True) -> str:
    """A pydeck map as one HTML string: deck.gl bundled (``offline``), the page titled and a
    legend added when the Deck came from :func:`statistics_deck`; for a map with no base map the
    stylesheets pydeck links from CDNs are left out, so the page opens with no network."""
    import html as html_lib

    html = str(deck.to_html(as_string=True, notebook_display=False, offline=offline))
    if offline and not getattr(deck, "map_style", None):
        head, sep, body = html.partition("<body>")  # the page's own tags, not the bundle's strings
        html = _EXTERNAL_TAG.sub("", head) + sep + body
    title = getattr(deck, "_geo3d_title", None)
    if title:
        html = html.replace("<title>pydeck</title>", f"<title>{html_lib.escape(title)}</title>", 1)
    legend = getattr(deck, "_geo3d_legend", None)
    if legend:
        html = html.replace('<div id="deck-container">', legend + '\n    <div id="deck-container">', 1)
    return html


class OfflineHTML:
    """A page shown in a notebook as a sandboxed ``<iframe srcdoc>`` (no CDN, works offline)."""

    def __init__(self, html: str, *, height: int = 600) -> None:
        self.html = html
        self.height = height

    def _repr_html_(self) -> str:
        import html as html_lib

        return (f'<iframe style="width:100%;height:{self.height}px;border:0" sandbox="allow-scripts" '
                f'srcdoc="{html_lib.escape(self.html, quote=True)}"></iframe>')


def offline_view(obj: Any, *, height: int = 600) -> OfflineHTML:
    """Show a pydeck ``Deck`` or a :class:`~geo3d.viz.page.Scene3D` in JupyterLab with no network.

    pydeck's own notebook display loads its JavaScript from a CDN (blank on an office network
    with no internet); this puts the self-contained page in an iframe instead.

    Examples
    --------
    >>> import pydeck
    >>> view = offline_view(pydeck.Deck(map_style=None))
    >>> view._repr_html_().startswith("<iframe")
    True
    """
    html = obj.html() if hasattr(obj, "frame") and hasattr(obj, "html") else deck_html(obj)
    return OfflineHTML(html, height=height)


def deck_to_html(deck: Any, path: str | os.PathLike[str], *, overwrite: bool = False,
                 offline: bool = True) -> Path:
    """Write a pydeck map to an HTML file atomically (no half file on failure).

    With ``offline`` (the default) deck.gl is bundled into the page, and for a map with no
    base map (``map_style=None``) the base-map and widget stylesheets pydeck links from CDNs
    are left out: the page opens with no network at all. A map on a base map still needs the
    network for its tiles. See :func:`deck_html`.

    Examples
    --------
    >>> import pydeck, tempfile, pathlib
    >>> p = deck_to_html(pydeck.Deck(map_style=None), pathlib.Path(tempfile.mkdtemp()) / "m.html")
    >>> p.suffix, "https://" in p.read_text(encoding="utf-8").split("<script type")[0]
    ('.html', False)
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        msg = f"pydeck maps are written as .html, not {path.name!r}; name the file .html"
        raise InputError(msg)
    html = deck_html(deck, offline=offline)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(html, encoding="utf-8")
    logger.info("deck_to_html: %s", path)
    return path
