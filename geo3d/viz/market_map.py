"""A 3D pydeck map of a scanned market: levels stacked, stores extruded, facilities as markers.

Examples
--------
>>> import geopandas as gpd, shapely
>>> from geo3d.address import assign_addresses, market_from_dict
>>> m = market_from_dict({"name": "가", "sido": "서울특별시", "sigungu": "동대문구",
...                       "parent_road": "고산자로36길", "parent_number": "3", "crs": "EPSG:5186"})
>>> aisles = gpd.GeoDataFrame({"name": ["가1통로"], "floor": [1]},
...     geometry=[shapely.LineString([(203400, 553300), (203440, 553300)])], crs="EPSG:5186")
>>> stores = gpd.GeoDataFrame({"object_id": [1], "floor": [1]},
...     geometry=[shapely.box(203405, 553302, 203408, 553305)], crs="EPSG:5186")
>>> a = assign_addresses(stores, None, aisles, None, m)
>>> deck = market_deck(a, aisles)
>>> [layer.type for layer in deck.layers]
['PathLayer', 'PolygonLayer', 'ScatterplotLayer']
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from .._compat import import_optional
from ..errors import InputError

__all__ = ["FACILITY_COLOURS", "market_deck", "market_map_to_html"]

log = logging.getLogger(__name__)

#: Marker colour per facility kind (RGB).
FACILITY_COLOURS: dict[str, tuple[int, int, int]] = {
    "fire_extinguisher": (220, 30, 30), "indoor_hydrant": (150, 0, 0), "exit_sign": (0, 170, 60),
    "aed": (250, 160, 0), "fire_alarm": (255, 90, 160), "cctv": (90, 90, 90),
    "other_facility": (30, 120, 220),
}
_STORE = (70, 130, 180)


def market_deck(addresses: gpd.GeoDataFrame, aisles: gpd.GeoDataFrame | None = None,
                levels: gpd.GeoDataFrame | None = None, *, level_spacing: float = 8.0,
                crs: Any = None) -> Any:
    """A :class:`pydeck.Deck` of the addressed objects (tooltips show the address).

    Levels are stacked ``level_spacing`` metres apart by IMDF ordinal; stores are extruded
    polygons, facilities coloured points, aisles paths, level outlines translucent slabs.
    """
    pdk = import_optional("pydeck", extra="viz")
    src = crs or addresses.crs
    if src is None:
        msg = "market_deck needs a CRS on the addresses (set crs in MARKET.toml)"
        raise InputError(msg)
    tr = pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(src), "EPSG:4326", always_xy=True)
    ordinal = {int(f): int(o) for f, o in zip(addresses["floor"], addresses["ordinal"].fillna(0), strict=True)}
    if levels is not None:
        ordinal.update({int(f): int(o) for f, o in zip(levels["floor"], levels["ordinal"], strict=True)})

    def ring(geom: Any, z: float) -> list[list[float]]:
        c = shapely.get_coordinates(geom.exterior if geom.geom_type == "Polygon" else geom.convex_hull.exterior)
        lon, lat = tr.transform(c[:, 0], c[:, 1])
        return [[float(x), float(y), z] for x, y in zip(lon, lat, strict=True)]

    layers = []
    if levels is not None and len(levels):
        slab = [{"polygon": ring(g if g.geom_type == "Polygon" else g.convex_hull, o * level_spacing),
                 "label": str(lab)} for g, o, lab in zip(levels.geometry, levels["ordinal"], levels["label"],
                                                         strict=True) if g is not None and not g.is_empty]
        layers.append(pdk.Layer("PolygonLayer", slab, get_polygon="polygon", filled=True, stroked=True,
                                get_fill_color=[200, 200, 200, 40], get_line_color=[120, 120, 120],
                                pickable=False))
    if aisles is not None and len(aisles):
        paths = []
        for name, f, g in zip(aisles["name"], aisles["floor"], aisles.geometry, strict=True):
            c = shapely.get_coordinates(g)
            lon, lat = tr.transform(c[:, 0], c[:, 1])
            z = ordinal.get(int(f), 0) * level_spacing + 0.1
            paths.append({"path": [[float(x), float(y), z] for x, y in zip(lon, lat, strict=True)],
                          "address": str(name), "kind": "aisle"})
        layers.append(pdk.Layer("PathLayer", paths, get_path="path", get_color=[240, 200, 60],
                                width_min_pixels=3, pickable=True))
    a = addresses.reset_index(drop=True)
    st = a[a["kind"] == "store"]
    polys = []
    for row in st.itertuples():
        g = row.geometry
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            continue
        g = g if g.geom_type == "Polygon" else max(g.geoms, key=lambda p: p.area)
        z = ordinal.get(int(row.floor), 0) * level_spacing
        polys.append({"polygon": ring(g, z), "address": row.address if isinstance(row.address, str)
                      else f"(not addressed: {row.reason})", "kind": "store", "label": row.label})
    layers.append(pdk.Layer("PolygonLayer", polys, get_polygon="polygon", extruded=True, get_elevation=2.5,
                            get_fill_color=[*_STORE, 160], get_line_color=[30, 30, 30], pickable=True))
    fac = a[a["kind"] != "store"]
    pts = []
    if len(fac):
        lon, lat = tr.transform(fac["x"].to_numpy(float), fac["y"].to_numpy(float))
        for row, x, y in zip(fac.itertuples(), lon, lat, strict=True):
            z = ordinal.get(int(row.floor), 0) * level_spacing + 1.5
            pts.append({"position": [float(x), float(y), z], "color": [*FACILITY_COLOURS.get(row.kind, (0, 0, 0)), 230],
                        "address": row.address if isinstance(row.address, str) else "(not addressed)",
                        "kind": row.kind, "label": row.label})
    layers.append(pdk.Layer("ScatterplotLayer", pts, get_position="position", get_fill_color="color",
                            get_radius=0.6, radius_min_pixels=4, pickable=True))
    allc = shapely.get_coordinates(np.asarray(a.geometry.values, dtype=object)) if len(a) else np.zeros((1, 2))
    cx, cy = tr.transform(float(np.mean(allc[:, 0])), float(np.mean(allc[:, 1])))
    view = pdk.ViewState(longitude=cx, latitude=cy, zoom=18, pitch=55, bearing=-20)
    tooltip = {"html": "<b>{address}</b><br/>{kind} {label}", "style": {"fontSize": "12px"}}
    return pdk.Deck(layers=[lay for lay in layers if lay is not None], initial_view_state=view,
                    map_style=None, tooltip=tooltip)


def market_map_to_html(addresses: gpd.GeoDataFrame, path: str | os.PathLike[str], *,
                       aisles: gpd.GeoDataFrame | None = None, levels: gpd.GeoDataFrame | None = None,
                       overwrite: bool = False, offline: bool = True) -> Path:
    """Write the :func:`market_deck` map as self-contained HTML (deck.gl bundled when ``offline``)."""
    from .deck import deck_to_html

    deck = market_deck(addresses, aisles, levels)
    return deck_to_html(deck, path, overwrite=overwrite, offline=offline)


