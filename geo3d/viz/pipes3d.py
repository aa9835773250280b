"""A 3D pydeck view of pipes (true diameters, utility colours), a pit and what it reaches.

Pipes are deck.gl paths whose width is the pipe's outer size in metres (``width_units =
"meters"``), drawn at their centreline elevation; coordinates are transformed to WGS84 for
deck.gl (``always_xy``) and elevations are made relative to a reference height (the pit's top,
else the highest pipe vertex) so the scene sits at the map plane. The pit is an extruded polygon
from its floor to its top; pipes the excavation reaches are drawn again, wider, in a highlight
colour. pydeck is optional (``pip install 'geo3d[viz]'``) and imported only when a view is made.

For a map to hand out (offline page, tubes of true diameter, attributes on click, pit and
section, legend), use :func:`geo3d.viz.underground3d.underground_scene` (``geo3d map3d``): these
flat paths disappear at district scale.

Examples
--------
>>> import geopandas as gpd, shapely
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["gas", "water"], "source_id": ["g", "w"], "diameter_mm": [100.0, 300.0]},
...     geometry=[shapely.LineString([(200000, 550000, 28.8), (200020, 550000, 28.8)]),
...               shapely.LineString([(200010, 549990, 28.5), (200010, 550010, 28.5)])],
...     crs="EPSG:5186")
>>> deck = pipes_deck(pipes, pit=shapely.box(200005, 549995, 200015, 550005))
>>> [layer.id for layer in deck.layers]
['pit', 'pipes']
>>> deck.layers[1].data[0]["color"][:3], deck.layers[1].data[0]["width_m"]
([240, 200, 0], 0.1)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from .._compat import import_optional
from .._numeric import float_column
from ..errors import CRSError, InputError

__all__ = ["PALETTES", "pipes_deck"]

logger = logging.getLogger(__name__)

#: Utility colours (RGB). ``korean``: electric orange, telecom purple, gas yellow, water blue,
#: sewer green, heat crimson (a colour of its own); ``apwa`` (US uniform colour code): electric
#: red, gas/oil/steam yellow (so heat too), communications orange, potable water blue, sewer
#: green, reclaimed water purple.
PALETTES: dict[str, dict[str, tuple[int, int, int]]] = {
    "korean": {"power": (255, 127, 0), "telecom": (128, 0, 160), "gas": (240, 200, 0),
               "water": (0, 90, 220), "sewer": (0, 150, 60), "heat": (200, 30, 60),
               "oil": (150, 110, 0), "lpg": (240, 200, 0)},
    "apwa": {"power": (255, 0, 0), "telecom": (255, 165, 0), "gas": (255, 255, 0),
             "water": (0, 0, 255), "sewer": (0, 128, 0), "heat": (255, 255, 0),
             "reclaimed": (128, 0, 128), "oil": (255, 255, 0), "lpg": (255, 255, 0)},
}
_OTHER = (120, 120, 120)
_HIGHLIGHT = (255, 0, 80)
_BAND = (255, 255, 255)


def _palette(palette: str | Mapping[str, tuple[int, int, int]]) -> dict[str, tuple[int, int, int]]:
    if isinstance(palette, str):
        if palette not in PALETTES:
            msg = f"unknown palette {palette!r}; valid: {', '.join(PALETTES)} or a dict utility -> RGB"
            raise InputError(msg)
        return dict(PALETTES[palette])
    return {**PALETTES["korean"], **{str(k): tuple(v) for k, v in palette.items()}}  # type: ignore[misc]


_num = float_column  # the shared numeric helper (geo3d._numeric)


def _text(frame: pd.DataFrame, col: str) -> list[str]:
    if col not in frame:
        return [""] * len(frame)
    v = frame[col].astype(object)
    return [str(x) for x in v.where(v.notna(), "").to_numpy()]


def _fmt(values: NDArray[np.float64], spec: str) -> NDArray[np.str_]:
    return np.char.mod(spec.replace("{:", "%").replace("}", ""), np.nan_to_num(values))


def _records(pipes: gpd.GeoDataFrame, to_wgs: Transformer, ref: float, exaggeration: float,
             colours: Mapping[str, tuple[int, int, int]], *, colour: tuple[int, int, int] | None = None,
             widen: float = 1.0) -> list[dict[Any, Any]]:
    geoms = pipes.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pipes = pipes[ok]
    geoms = geoms[ok]
    if not len(pipes):
        return []
    xyz, part = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    z = np.nan_to_num(xyz[:, 2], nan=ref) if shapely.has_z(geoms).all() else np.full(len(xyz), ref)
    lon, lat = to_wgs.transform(xyz[:, 0], xyz[:, 1])
    pts = np.column_stack([lon, lat, (z - ref) * exaggeration])
    cuts = np.flatnonzero(np.diff(part)) + 1
    paths = [p.tolist() for p in np.split(pts, cuts)]   # serialisation for deck.gl
    d = _num(pipes, "diameter_mm")
    w = _num(pipes, "width_mm")
    size = np.where(np.isnan(d), w, d) / 1000.0
    width = np.round(np.nan_to_num(size, nan=0.05) * widen, 3)
    util = _text(pipes, "utility")
    cols = {c: _text(pipes, c) for c in ("source_layer", "source_id", "agency", "material",
                                         "pressure")}
    diam = np.where(np.isnan(d), np.nan_to_num(w), np.nan_to_num(d))
    dep = _num(pipes, "depth_m")
    year = _num(pipes, "install_year")
    names, inv = np.unique(np.asarray(util, dtype=str), return_inverse=True)
    table_rgb = np.array([colour or colours.get(str(u), _OTHER) for u in names],  # utilities
                         dtype=np.int64).reshape(-1, 3)
    rgba = np.column_stack([table_rgb[inv], np.full(len(util), 255)])
    table = pd.DataFrame({
        "path": paths, "color": rgba.tolist(), "width_m": width.astype(float),
        "utility": util, **cols,
        "diameter_mm": np.where(diam == 0, "", _fmt(diam, "{:g}")),
        "depth_m": np.where(np.isnan(dep), "", _fmt(dep, "{:.2f}")),
        "install_year": np.where(np.isnan(year), "", _fmt(np.nan_to_num(year), "{:.0f}")),
    })
    return table.to_dict("records")


def pipes_deck(
    pipes3d: gpd.GeoDataFrame,
    *,
    pit: Any = None,
    excavation: Any = None,
    palette: str | Mapping[str, tuple[int, int, int]] = "korean",
    vertical_exaggeration: float = 1.0,
    map_style: str | None = None,
) -> Any:
    """A pydeck Deck of 3D pipes at true size, optionally with a pit and the pipes it reaches.

    Parameters
    ----------
    pipes3d : geopandas.GeoDataFrame
        Canonical pipes (LineString Z from :func:`~geo3d.underground.pipes_to_3d`; 2D lines are
        drawn flat), projected CRS.
    pit : Polygon, GeoSeries or GeoDataFrame, optional
        A pit outline to draw (flat) when no ``excavation`` is given.
    excavation : Excavation, optional
        From :func:`~geo3d.underground.excavation.excavate`: its pit volume is drawn from floor
        to top, reached pipes are highlighted and gas pipes in the hand-dig band outlined.
    palette : {"korean", "apwa"} or mapping
        Utility colours (:data:`PALETTES`), or your own ``{utility: (r, g, b)}``.
    vertical_exaggeration : float
        Multiplies relative elevations (depths are small next to map distances).
    map_style : str, optional
        A basemap style URL (default none: the scene is underground).

    Returns
    -------
    pydeck.Deck

    Raises
    ------
    CRSError
        The pipes have no CRS.
    MissingDependencyError
        pydeck is not installed (``pip install 'geo3d[viz]'``).
    """
    pdk = import_optional("pydeck", extra="viz")
    if not isinstance(pipes3d, gpd.GeoDataFrame):
        msg = f"pipes_deck needs a GeoDataFrame, got {type(pipes3d).__name__}"
        raise InputError(msg)
    if pipes3d.crs is None:
        msg = "the pipes have no CRS; set it (pipes.set_crs('EPSG:5186')) so they can be mapped"
        raise CRSError(msg)
    if not vertical_exaggeration > 0:
        msg = f"vertical_exaggeration must be > 0, got {vertical_exaggeration!r}"
        raise InputError(msg)
    colours = _palette(palette)
    to_wgs = Transformer.from_crs(CRS.from_user_input(pipes3d.crs), "EPSG:4326", always_xy=True)
    geoms = pipes3d.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    z_all = shapely.get_coordinates(geoms[ok], include_z=True)[:, 2] if ok.any() else np.zeros(0)
    vol = getattr(excavation, "pit", None)
    if vol is not None and math.isfinite(vol.top_z):
        ref = float(vol.top_z)
    elif len(z_all) and np.isfinite(z_all).any():
        ref = float(np.nanmax(z_all))
    else:
        ref = 0.0
    layers = []
    tooltip_parts = ["<b>{utility}</b> {source_layer} {source_id}", "agency {agency}",
                     "D {diameter_mm} mm, {material}", "depth {depth_m} m, installed {install_year}",
                     "{pressure}"]
    if vol is not None:
        floor = _ring_lonlat(vol.floor, to_wgs, (vol.floor_z - ref) * vertical_exaggeration)
        depth = vol.depth if math.isfinite(vol.depth) else 1.0
        layers.append(pdk.Layer(
            "PolygonLayer", id="pit", data=[{"polygon": floor, "depth": depth * vertical_exaggeration,
                                             "utility": "pit", "source_id": "",
                                             "source_layer": f"floor {vol.floor_z:.2f} m"}],
            get_polygon="polygon", extruded=True, wireframe=True, get_elevation="depth",
            get_fill_color=[255, 255, 255, 40], get_line_color=[255, 255, 255, 200],
            pickable=True))
        if vol.side_slope > 0:
            top = _ring_lonlat(vol.top, to_wgs, 0.0)
            layers.append(pdk.Layer("PathLayer", id="pit_top", data=[{"path": top}],
                                    get_path="path", get_color=[255, 255, 255, 200],
                                    get_width=0.1, width_units="meters", width_min_pixels=1))
    elif pit is not None:
        geom = pit.geometry.iloc[0] if isinstance(pit, gpd.GeoDataFrame) else (
            pit.iloc[0] if isinstance(pit, gpd.GeoSeries) else pit)
        if not isinstance(geom, shapely.Polygon):
            msg = "pit must be a Polygon (or a GeoDataFrame/GeoSeries holding one)"
            raise InputError(msg)
        layers.append(pdk.Layer(
            "PolygonLayer", id="pit", data=[{"polygon": _ring_lonlat(geom, to_wgs, 0.0)}],
            get_polygon="polygon", get_fill_color=[255, 255, 255, 40],
            get_line_color=[255, 255, 255, 200], stroked=True, line_width_min_pixels=1))
    if excavation is not None:
        cands = excavation.candidates
        labels = set(cands.loc[cands["reached"].to_numpy(), "pipe"].tolist())
        band = set(cands.loc[cands["in_hand_dig_band"].to_numpy(), "pipe"].tolist())
        hit = pipes3d[pipes3d.index.isin(list(labels))]
        near = pipes3d[pipes3d.index.isin(list(band - labels))]
        if len(near):
            layers.append(pdk.Layer("PathLayer", id="hand_dig_band",
                                    data=_records(near, to_wgs, ref, vertical_exaggeration, colours,
                                                  colour=_BAND, widen=3.0),
                                    get_path="path", get_color="color", get_width="width_m",
                                    width_units="meters", width_min_pixels=3, opacity=0.4))
        if len(hit):
            layers.append(pdk.Layer("PathLayer", id="reached",
                                    data=_records(hit, to_wgs, ref, vertical_exaggeration, colours,
                                                  colour=_HIGHLIGHT, widen=2.0),
                                    get_path="path", get_color="color", get_width="width_m",
                                    width_units="meters", width_min_pixels=4, opacity=0.5))
    data = _records(pipes3d, to_wgs, ref, vertical_exaggeration, colours)
    layers.append(pdk.Layer("PathLayer", id="pipes", data=data, get_path="path",
                            get_color="color", get_width="width_m", width_units="meters",
                            width_min_pixels=1, pickable=True, auto_highlight=True,
                            cap_rounded=True))
    if ok.any():
        left, bottom, right, top = shapely.total_bounds(geoms[ok])
        lon, lat = to_wgs.transform((left + right) / 2.0, (bottom + top) / 2.0)
        span = max(right - left, top - bottom, 10.0)
    else:
        lon, lat, span = 127.0, 37.5, 1000.0
    zoom = float(np.clip(math.log2(40_000_000 * math.cos(math.radians(lat)) / span) - 8.5, 1, 22))
    view = pdk.ViewState(longitude=float(lon), latitude=float(lat), zoom=zoom, pitch=60,
                         bearing=20)
    deck = pdk.Deck(layers=layers, initial_view_state=view, map_style=map_style,
                    tooltip={"html": "<br/>".join(tooltip_parts),
                             "style": {"backgroundColor": "#222", "color": "#eee"}})
    logger.info("pipes_deck: %s pipes, %s layers", f"{len(data):,}", len(layers))
    return deck


def _ring_lonlat(poly: shapely.Geometry, to_wgs: Transformer, z: float) -> list[list[float]]:
    xy = shapely.get_coordinates(shapely.get_exterior_ring(poly))
    lon, lat = to_wgs.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat, np.full(len(xy), z)]).tolist()
