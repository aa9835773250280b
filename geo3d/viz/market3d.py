"""The market's 3D address map: levels stacked at their real heights, a level switcher, stores
and facilities coloured by class, every object's 3D address on click, and address search.

:func:`market_scene` takes the addressed objects of a scan (``geo3d scan``'s ``objects.gpkg``
layers ``stores`` and ``facilities``, or :func:`~geo3d.address.assign_addresses`' record),
with the aisles and levels, and returns a :class:`~geo3d.viz.page.Scene3D`;
:func:`market_scene_from_scan` reads a ``geo3d scan`` output folder.

Examples
--------
>>> import geopandas as gpd, shapely
>>> objects = gpd.GeoDataFrame(
...     {"object_id": [1, 2], "kind": ["store", "fire_extinguisher"], "floor": [1, 1],
...      "address": ["가시장1통로 1", "가시장1통로 1 소화기"], "z_min": [32.0, 32.1], "z_max": [34.0, 32.5]},
...     geometry=[shapely.box(203405, 553302, 203408, 553305), shapely.Point(203409, 553302)],
...     crs="EPSG:5186")
>>> scene = market_scene(objects)
>>> [e["text"] for e in scene.search]
['가시장1통로 1', '가시장1통로 1 소화기']
>>> [lv["label"] for lv in scene.levels]
['1층']
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import FileFormatError, InputError
from .market_map import FACILITY_COLOURS
from .market_paths import path_layers
from .page import LocalFrame, Scene3D, binary, table_columns

__all__ = ["KIND_LABELS", "STORE_COLOUR", "market_scene", "market_scene_from_scan"]

logger = logging.getLogger(__name__)

#: Store colour (RGB); facilities use :data:`~geo3d.viz.market_map.FACILITY_COLOURS`.
STORE_COLOUR: tuple[int, int, int] = (70, 130, 180)
#: Legend names per object kind.
KIND_LABELS: dict[str, str] = {
    "store": "점포 store", "fire_extinguisher": "소화기 extinguisher", "indoor_hydrant": "옥내소화전 hydrant",
    "exit_sign": "비상구 exit sign", "aed": "AED 자동심장충격기", "fire_alarm": "발신기 fire alarm",
    "cctv": "CCTV", "other_facility": "구급함 first aid / other",
}
_COLUMNS = ("address", "kind", "floor", "level", "aisle", "number", "side", "s_m", "object_id",
            "z_min", "z_max", "height_above_slab", "n_points", "x", "y", "reason")


def _level_label(floor: int) -> str:
    return f"{floor}층" if floor > 0 else f"지하{-floor}층"


def _levels_table(objects: gpd.GeoDataFrame, levels: pd.DataFrame | None) -> pd.DataFrame:
    floors = sorted({int(f) for f in objects["floor"].dropna()})
    table = pd.DataFrame({"floor": floors})
    if levels is not None and len(levels):
        lv = pd.DataFrame(levels.drop(columns="geometry", errors="ignore"))
        table = table.merge(lv, on="floor", how="outer")
    default = table["floor"].map(lambda f: _level_label(int(f)))
    table["label"] = table["label"].astype(object).where(table["label"].notna(), default) \
        if "label" in table else default
    if "slab_z" not in table:
        table["slab_z"] = np.nan
    zmin = objects.groupby("floor")["z_min"].min() if "z_min" in objects else pd.Series(dtype=float)
    table["slab_z"] = table["slab_z"].fillna(table["floor"].map(zmin))
    order = table["floor"].rank(method="first").to_numpy() - 1
    table["slab_z"] = table["slab_z"].fillna(pd.Series(order * 4.0))  # nothing known: 4 m a level
    return table.sort_values("floor").reset_index(drop=True)


def _polygons(geoms: np.ndarray, frame: LocalFrame) -> list[list[list[float]]]:
    polys = [g if g.geom_type == "Polygon" else max(g.geoms, key=lambda p: p.area) for g in geoms]
    rings = shapely.get_exterior_ring(np.asarray(polys, dtype=object))
    xy, part = shapely.get_coordinates(rings, return_index=True)
    x, y = frame.local(xy[:, 0], xy[:, 1])
    pts = np.round(np.column_stack([x, y]), 3)
    cuts = np.flatnonzero(np.diff(part)) + 1
    return [p[:-1].tolist() for p in np.split(pts, cuts)]


def _object_layers(objs: gpd.GeoDataFrame, levels: pd.DataFrame, frame: LocalFrame,
                   z_ref: float) -> list[dict[str, Any]]:
    slab = dict(zip(levels["floor"].astype(int), levels["slab_z"].astype(float), strict=True))
    base = pd.to_numeric(objs.get("z_min"), errors="coerce") if "z_min" in objs else \
        pd.Series(np.nan, index=objs.index)
    base = base.fillna(objs["floor"].map(slab)).to_numpy(dtype=float) - z_ref
    top = pd.to_numeric(objs["z_max"], errors="coerce").to_numpy(dtype=float) - z_ref if "z_max" in objs \
        else base + 2.0
    top = np.where(np.isfinite(top), top, base + 2.0)
    layers: list[dict[str, Any]] = []
    is_poly = objs.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    kinds = objs["kind"].astype(str).to_numpy()
    for floor in levels["floor"].astype(int):
        on = objs["floor"].to_numpy() == floor
        sel = np.flatnonzero(on & is_poly)
        if len(sel):
            layers.append({"type": "polygons", "id": f"stores-{floor}", "group": "store", "level": floor,
                           "table": "objects", "feature": sel.tolist(),
                           "polygons": _polygons(objs.geometry.to_numpy()[sel], frame),
                           "base": base[sel].round(3).tolist(),
                           "height": np.maximum(top[sel] - base[sel], 0.3).round(3).tolist(),
                           "colors": [[*STORE_COLOUR, 230]] * len(sel), "line_color": [20, 40, 60, 255]})
        sel = np.flatnonzero(on & ~is_poly)
        if len(sel):
            xy = shapely.get_coordinates(shapely.centroid(objs.geometry.to_numpy()[sel]))
            x, y = frame.local(xy[:, 0], xy[:, 1])
            z = (base[sel] + top[sel]) / 2
            rgba = np.array([[*FACILITY_COLOURS.get(k, (0, 0, 0)), 255] for k in kinds[sel]], dtype=np.uint8)
            layers.append({"type": "points", "id": f"facilities-{floor}", "group": "facilities", "level": floor,
                           "table": "objects", "positions": binary(np.column_stack([x, y, z])),
                           "color": binary(rgba, "u8"), "feature": binary(sel, "u32"), "radius": 0.35,
                           "min_px": 6})
    return layers


def _structure_layers(levels: pd.DataFrame, level_geoms: dict[int, Any], aisles: gpd.GeoDataFrame | None,
                      frame: LocalFrame, z_ref: float) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    for floor, z in zip(levels["floor"].astype(int), levels["slab_z"].astype(float), strict=True):
        g = level_geoms.get(floor)
        if g is not None and not g.is_empty:
            poly = g if g.geom_type == "Polygon" else (g.convex_hull if g.geom_type != "MultiPolygon"
                                                       else max(g.geoms, key=lambda p: p.area))
            layers.append({"type": "polygons", "id": f"slab-{floor}", "group": "slab", "level": floor,
                           "polygons": _polygons(np.array([poly], dtype=object), frame), "base": [z - z_ref - 0.15],
                           "height": [0.15], "colors": [[200, 200, 200, 90]], "line_color": [110, 110, 110, 200],
                           "depth_write": False})
        if aisles is not None and len(aisles):
            on = aisles[aisles["floor"].astype(int) == floor]
            paths = []
            for line in on.geometry:
                c = shapely.get_coordinates(line)
                x, y = frame.local(c[:, 0], c[:, 1])
                paths.append(np.column_stack([x, y, np.full(len(c), z - z_ref + 0.05)]).round(3).tolist())
            if paths:
                layers.append({"type": "paths", "id": f"aisles-{floor}", "group": "aisle", "level": floor,
                               "paths": paths, "color": [230, 170, 20, 255], "width_px": 3})
                mid = [p[len(p) // 2] for p in paths]
                layers.append({"type": "text", "id": f"aisle-names-{floor}", "group": "aisle", "level": floor,
                               "size": 12, "items": [{"position": m, "text": str(n)}
                                                     for m, n in zip(mid, on["name"], strict=True)]})
    return layers


def market_scene(
    objects: gpd.GeoDataFrame,
    aisles: gpd.GeoDataFrame | None = None,
    levels: gpd.GeoDataFrame | pd.DataFrame | None = None,
    *,
    network: gpd.GeoDataFrame | None = None,
    evacuation: gpd.GeoDataFrame | None = None,
    title: str = "시장 3D 주소 지도 · market 3D address map",
    subtitle: str | None = None,
) -> Scene3D:
    """A 3D map of a scanned market's addressed objects, for :meth:`Scene3D.to_html`.

    Parameters
    ----------
    objects : geopandas.GeoDataFrame
        Stores (footprint polygons) and facilities (points) with ``kind``, ``floor`` and
        ``address``; optional ``z_min``/``z_max`` (else the level's slab and 2 m) and the other
        columns of ``objects.gpkg``, all listed on click.
    aisles : geopandas.GeoDataFrame, optional
        Aisle centrelines with ``name`` and ``floor``.
    levels : GeoDataFrame or DataFrame, optional
        ``floor``, ``label``, ``slab_z`` (and a level outline as geometry): levels are stacked
        at their slab heights; without it, at the objects' lowest ``z_min`` per floor.
    network : GeoDataFrame, optional
        Navigation network edges (``paths.gpkg`` layer ``edges``): thin lines at floor height
        coloured by kind, each with its kind, 3D length and path address on click.
    evacuation : GeoDataFrame, optional
        Evacuation routes (``paths.gpkg`` layer ``evacuation``): coloured by their distance
        against the rule's limit (:mod:`geo3d.viz.market_paths`), the store's address, distance
        and limit on click.
    title, subtitle : str
        Shown on the page.

    Returns
    -------
    Scene3D
    """
    need = {"kind", "floor"} - set(objects.columns)
    if need:
        msg = f"the market objects lack the column(s) {sorted(need)} (geo3d scan writes them)"
        raise InputError(msg)
    objs = objects[~(objects.geometry.isna() | objects.geometry.is_empty)].reset_index(drop=True)
    if not len(objs):
        msg = "there are no market objects to map"
        raise InputError(msg)
    lv = _levels_table(objs, levels)
    left, bottom, right, top = objs.total_bounds
    frame = LocalFrame.around(objs.crs, (left + right) / 2, (bottom + top) / 2)
    z_ref = float(lv["slab_z"].min())
    level_geoms = ({int(f): g for f, g in zip(levels["floor"], levels.geometry, strict=True)}
                   if isinstance(levels, gpd.GeoDataFrame) else {})
    layers = _structure_layers(lv, level_geoms, aisles, frame, z_ref) + _object_layers(objs, lv, frame, z_ref)
    slab = dict(zip(lv["floor"].astype(int), lv["slab_z"].astype(float), strict=True))
    path_lay, path_tables, path_legend = path_layers(network, evacuation, frame=frame, z_ref=z_ref, slab_z=slab)
    layers += path_lay
    table = pd.DataFrame(objs.drop(columns=objs.geometry.name))
    table["level"] = table["floor"].map(dict(zip(lv["floor"], lv["label"], strict=True)))
    cols = [c for c in _COLUMNS if c in table] + [c for c in table.columns if c not in _COLUMNS
                                                 and c not in ("label", "ordinal", "object_class")]
    values = table_columns(table, cols)
    tables = {"objects": {"columns": cols, "values": values, "title_column": "address" if "address" in values else None,
                          "hover": [c for c in ("address", "kind") if c in values]}} | path_tables
    c = shapely.get_coordinates(shapely.centroid(objs.geometry.to_numpy()))
    cx, cy = frame.local(c[:, 0], c[:, 1])
    zc = lv.set_index("floor")["slab_z"].reindex(objs["floor"]).to_numpy(dtype=float) - z_ref
    address = values.get("address", [""] * len(objs))
    search = [{"text": a, "table": "objects", "feature": i, "level": int(f),
               "position": [round(float(x), 2), round(float(y), 2), round(float(z), 2)]}
              for i, (a, f, x, y, z) in enumerate(zip(address, objs["floor"], cx, cy, zc, strict=True)) if a]
    kinds = objs["kind"].astype(str).value_counts()
    legend = [{"label": f"{KIND_LABELS.get(k, k)} ({int(kinds[k])})",
               "color": list(STORE_COLOUR if k == "store" else FACILITY_COLOURS.get(k, (0, 0, 0))),
               "shape": "box" if k == "store" else "dot"} for k in KIND_LABELS if k in kinds.index]
    legend += [{"label": "통로 aisle",
                "color": [230, 170, 20], "shape": "line", "group": "aisle"},
               {"label": "층 바닥 level slab", "color": [200, 200, 200, 160], "shape": "plane", "group": "slab"}, *path_legend]
    n_addr = sum(1 for a in address if a)
    return Scene3D(title=title, subtitle=subtitle or f"{len(objs):,} objects, {n_addr:,} addressed · "
                   f"{len(lv)} levels · {objs.crs.to_string() if objs.crs else ''}",
                   frame=frame, z_ref=z_ref, layers=layers, tables=tables, legend=legend,
                   legend_title="Objects 객체", legend_note="Click an object for its 3D address"
                   + (", a route or path for its distance and path address" if path_lay else "")
                   + "; pick a level above; type an address to fly to it.",
                   levels=[{"floor": int(f), "label": str(lab)} for f, lab in zip(lv["floor"], lv["label"], strict=True)],
                   search=search, bounds=[float(cx.min()), float(cy.min()), 0.0, float(cx.max()), float(cy.max()),
                                          float(lv["slab_z"].max() - z_ref)],
                   view={"pitch": 55.0, "bearing": -20.0}, background=(236, 239, 242))


def market_scene_from_scan(scan_dir: str | os.PathLike[str], *, title: str | None = None) -> Scene3D:
    """:func:`market_scene` of a ``geo3d scan`` output folder (its ``objects.gpkg``, and the
    network and evacuation routes of its ``paths.gpkg`` when present).

    Raises
    ------
    InputError
        The folder or its ``objects.gpkg`` is missing.
    FileFormatError
        ``objects.gpkg`` lacks the ``stores``/``facilities`` layers.
    """
    import pyogrio

    folder = Path(scan_dir)
    gpkg = folder / "objects.gpkg"
    if not gpkg.is_file():
        msg = f"{folder} is not a `geo3d scan` output folder (no objects.gpkg); run geo3d scan first"
        raise InputError(msg)
    names = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    if not {"stores", "facilities"} & names:
        msg = f"{gpkg} has no stores or facilities layer (layers: {sorted(names)})"
        raise FileFormatError(msg)
    parts = [gpd.read_file(gpkg, layer=n) for n in ("stores", "facilities") if n in names]
    objects = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)
    objects["geometry"] = shapely.force_2d(objects.geometry.to_numpy())
    levels = gpd.read_file(gpkg, layer="levels") if "levels" in names else None
    aisles = gpd.read_file(gpkg, layer="aisles") if "aisles" in names else None
    paths = folder / "paths.gpkg"
    path_names = {str(n) for n, _ in pyogrio.list_layers(paths)} if paths.is_file() else set()
    network = gpd.read_file(paths, layer="edges") if "edges" in path_names else None
    evacuation = gpd.read_file(paths, layer="evacuation") if "evacuation" in path_names else None
    return market_scene(objects, aisles, levels, network=network, evacuation=evacuation,
                        title=title or f"{folder.name} · 3D 주소 지도 3D address map")
