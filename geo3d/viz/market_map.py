"""Pictures of a scanned market: a 3D pydeck map (levels stacked, stores extruded, facilities as
markers, tooltips with the address), a plan of one level's points by class and the height
profile with the detected floor slabs (matplotlib, for notebooks and reports).

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
from ..pointcloud.classes import CLASS_LABELS

__all__ = ["CLASS_COLOURS", "FACILITY_COLOURS", "market_deck", "market_map_to_html", "plot_level_profile",
           "plot_scan_plan"]

log = logging.getLogger(__name__)

#: Marker colour per facility kind (RGB).
FACILITY_COLOURS: dict[str, tuple[int, int, int]] = {
    "fire_extinguisher": (220, 30, 30), "indoor_hydrant": (150, 0, 0), "exit_sign": (0, 170, 60),
    "aed": (250, 160, 0), "fire_alarm": (255, 90, 160), "cctv": (90, 90, 90),
    "other_facility": (30, 120, 220),
}
_STORE = (70, 130, 180)
#: Point colour per object_class code (docs/contracts.md): structure grey, stores blue, facilities
#: as in :data:`FACILITY_COLOURS`.
CLASS_COLOURS: dict[int, tuple[int, int, int]] = {
    0: (185, 185, 185), 1: _STORE, 2: FACILITY_COLOURS["fire_extinguisher"], 3: FACILITY_COLOURS["indoor_hydrant"],
    4: FACILITY_COLOURS["exit_sign"], 5: FACILITY_COLOURS["aed"], 6: FACILITY_COLOURS["fire_alarm"],
    7: FACILITY_COLOURS["cctv"], 8: FACILITY_COLOURS["other_facility"],
}
_CLASS_LABEL = CLASS_LABELS


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
                       overwrite: bool = False, offline: bool = True, title: str | None = None,
                       network: gpd.GeoDataFrame | None = None, evacuation: gpd.GeoDataFrame | None = None) -> Path:
    """Write the market's 3D address map as one self-contained HTML page (no network needed).

    The page is :func:`~geo3d.viz.market3d.market_scene`'s: levels stacked with a level
    switcher, stores and facilities coloured by class with a legend, the 3D address on click and
    an address search; with ``network`` and ``evacuation`` (``paths.gpkg``'s ``edges`` and
    ``evacuation``), the network's edges and each store's evacuation route too. ``offline`` is
    kept for compatibility: the page is always self-contained.
    """
    from .market3d import market_scene

    kwargs = {"title": title} if title else {}
    scene = market_scene(addresses, aisles, levels, network=network, evacuation=evacuation, **kwargs)
    return scene.to_html(path, overwrite=overwrite)


def _axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    import_optional("matplotlib", extra="viz")
    import matplotlib.pyplot as plt

    from .fonts import use_hangul_font

    family = use_hangul_font()
    if ax is None:
        _fig, ax = plt.subplots(figsize=figsize)
    else:  # axes made before the font was set keep their title font: give them Hangul
        for text in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label):
            text.set_fontfamily([family, "DejaVu Sans"])
    return ax.figure, ax


def plot_scan_plan(cloud: Any, result: Any, *, floor: int = 1, aisles: gpd.GeoDataFrame | None = None,
                   addresses: gpd.GeoDataFrame | None = None, ax: Any = None, max_points: int = 150_000,
                   legend: bool = True) -> tuple[Any, Any]:
    """Top view of one level's points coloured by object class, with the aisles and facilities.

    Parameters
    ----------
    cloud : PointCloud
        The scan.
    result : ScanSegmentation
        From :func:`geo3d.indoor.scan.segment_scan` (per-point ``level`` and ``object_class``).
    floor : int
        The level to draw (``1`` = 1층, ``-1`` = 지하1층).
    aisles : GeoDataFrame, optional
        Centrelines to draw (with an arrow at the numbering start and the name).
    addresses : GeoDataFrame, optional
        The :func:`~geo3d.address.assign_addresses` record: facilities are marked on top.
    ax : matplotlib Axes, optional
        Drawn into when given.
    max_points : int
        At most this many points are drawn (every k-th point of the level: deterministic).
    legend : bool
        Add a legend of the classes drawn.

    Returns
    -------
    (Figure, Axes)

    Examples
    --------
    >>> import numpy as np, types, pandas as pd
    >>> from geo3d.pointcloud.cloud import PointCloud
    >>> cloud = PointCloud(np.array([[0.0, 0, 0], [1, 1, 0], [2, 0, 0]]))
    >>> res = types.SimpleNamespace(level=np.array([1, 1, 2], np.int8),
    ...                             object_class=np.array([0, 1, 2], np.uint8))
    >>> fig, ax = plot_scan_plan(cloud, res, floor=1)
    >>> len(ax.collections[0].get_offsets())
    2
    """
    fig, ax = _axes(ax, (11, 7))
    idx = np.flatnonzero(np.asarray(result.level) == floor)
    if len(idx) > max_points:
        idx = idx[:: int(np.ceil(len(idx) / max_points))]
    xyz = np.asarray(cloud.xyz)[idx]
    cls = np.asarray(result.object_class)[idx].astype(np.int64)
    lut = np.array([CLASS_COLOURS.get(k, (0, 0, 0)) for k in range(max(CLASS_COLOURS) + 1)], dtype=float) / 255
    ax.scatter(xyz[:, 0], xyz[:, 1], c=lut[np.clip(cls, 0, len(lut) - 1)], s=0.4, linewidths=0, rasterized=True)
    if aisles is not None and len(aisles):
        on = aisles[aisles["floor"] == floor]
        for name, g in zip(on["name"], on.geometry, strict=True):
            c = shapely.get_coordinates(g)
            ax.plot(c[:, 0], c[:, 1], color=(0.95, 0.7, 0.1), lw=2)
            d = c[1] - c[0]
            ax.annotate("", xy=c[0] + 4 * d / (np.hypot(*d) or 1), xytext=c[0],
                        arrowprops={"arrowstyle": "->", "color": (0.8, 0.45, 0.0), "lw": 2})
            mid = shapely.get_coordinates(shapely.line_interpolate_point(g, 0.3, normalized=True))[0]
            ax.text(mid[0], mid[1], str(name), fontsize=8, ha="center", va="center",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})
    if addresses is not None and len(addresses):
        fac = addresses[(addresses["kind"] != "store") & (addresses["floor"] == floor)]
        col = np.array([FACILITY_COLOURS.get(k, (0, 0, 0)) for k in fac["kind"]], dtype=float).reshape(-1, 3) / 255
        ax.scatter(fac["x"], fac["y"], c=col, s=22, edgecolors="black", linewidths=0.5, zorder=3)
    if legend:
        from matplotlib.lines import Line2D

        from ..pointcloud.classes import CLASS_NAMES

        code = {v: k for k, v in CLASS_NAMES.items()}
        marked = set() if addresses is None else {code.get(k, -1) for k in fac["kind"]}
        drawn = sorted(set(np.unique(cls).tolist()) | marked)
        def rgb(k: int) -> tuple[float, float, float]:
            r, g, b = CLASS_COLOURS[k]
            return (r / 255, g / 255, b / 255)

        handles = [Line2D([], [], marker="o", ls="", color=rgb(k), label=_CLASS_LABEL[k])
                   for k in drawn if k in CLASS_COLOURS]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.set_aspect("equal")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("easting (m)")
    ax.set_ylabel("northing (m)")
    label = f"{floor}층" if floor > 0 else f"지하{-floor}층"
    ax.set_title(f"{label}: points by class ({len(idx):,} drawn)")
    return fig, ax


def plot_level_profile(cloud: Any, levels: Any, *, ax: Any = None, bin_m: float = 0.05,
                       points: Any = None) -> tuple[Any, Any]:
    """Height profile of a scan (points per ``bin_m`` slice of z, log scale) with the detected
    floor slabs (solid, labelled ``1층`` …) and ceilings (dashed).

    ``levels`` is the levels table of :func:`geo3d.indoor.levels.levels_from_cloud` /
    ``segment_scan`` (``floor``, ``label``, ``slab_z``, ``ceiling_z``). ``points`` optionally
    restricts the histogram (a boolean mask or indices, e.g. points with near-vertical normals).

    Returns
    -------
    (Figure, Axes)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from geo3d.pointcloud.cloud import PointCloud
    >>> z = np.r_[np.full(500, 32.0), np.full(500, 36.2), np.linspace(32, 40, 200)]
    >>> cloud = PointCloud(np.column_stack([np.zeros_like(z), np.zeros_like(z), z]))
    >>> lv = pd.DataFrame({"floor": [1, 2], "label": ["1층", "2층"], "slab_z": [32.0, 36.2],
    ...                    "ceiling_z": [35.9, None]})
    >>> fig, ax = plot_level_profile(cloud, lv)
    >>> [t.get_text() for t in ax.texts]
    ['1층 slab 32.00 m', '2층 slab 36.20 m']
    """
    fig, ax = _axes(ax, (6, 6))
    z = np.asarray(cloud.xyz)[:, 2] if points is None else np.asarray(cloud.xyz)[points, 2]
    edges = np.arange(np.floor(z.min() / bin_m) * bin_m, z.max() + 2 * bin_m, bin_m)
    counts, edges = np.histogram(z, bins=edges)
    ax.barh(edges[:-1], np.maximum(counts, 0.8), height=bin_m, align="edge", color=(0.45, 0.55, 0.7), log=True)
    for row in levels.itertuples():
        ax.axhline(float(row.slab_z), color=(0.8, 0.2, 0.1), lw=1.5)
        ax.text(1.0, float(row.slab_z) + bin_m, f"{row.label} slab {float(row.slab_z):.2f} m", ha="left",
                va="bottom", color=(0.8, 0.2, 0.1), fontsize=9,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
        cz = getattr(row, "ceiling_z", None)
        if cz is not None and np.isfinite(cz):
            ax.axhline(float(cz), color=(0.3, 0.3, 0.3), lw=1, ls="--")
    ax.set_xlabel(f"points per {bin_m * 100:g} cm of height (log)")
    ax.set_ylabel("z (m)")
    ax.set_title("height profile: floor slabs (solid), ceilings (dashed)")
    return fig, ax
