"""The underground 3D map: pipes as true-size tubes at depth, the ground, a pit and a section.

:func:`underground_scene` turns canonical pipes (3D, or 2D placed with the DEM by
:func:`pipes_in_3d`) into a :class:`~geo3d.viz.page.Scene3D`: each pipe segment is a cylinder
of the pipe's outer diameter (a box of ``width_mm`` × ``height_mm`` for ducts) along its
centreline, in the Korean utility palette, with a line of at least two pixels along it so the
network reads at district scale too; the DEM is a translucent ground surface over them; points
(manholes, valves …) are markers; an :class:`~geo3d.underground.excavation.Excavation` adds the
pit as a 3D box and outlines the pipes it reaches with their clearance; a section line adds a
vertical plane. Clicking a pipe lists every attribute, with where its depth came from.
Everything is numpy on the segments: 100 k segments build in a few seconds.

Examples
--------
>>> import geopandas as gpd, shapely
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["gas", "water"], "source_id": ["g1", "w1"], "diameter_mm": [100.0, 300.0]},
...     geometry=[shapely.LineString([(200000, 550000, 28.8), (200020, 550000, 28.8)]),
...               shapely.LineString([(200010, 549990, 28.5), (200010, 550010, 28.5)])],
...     crs="EPSG:5186")
>>> scene = underground_scene(pipes, title="two pipes")
>>> [layer["id"] for layer in scene.layers]
['pipes-gas-round', 'pipes-water-round']
>>> scene.tables["pipes"]["values"]["utility"]
['gas', 'water']
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
from affine import Affine
from numpy.typing import NDArray

from ..errors import CRSError, InputError
from ..io.raster import Dem, as_dem, sample_dem
from .page import LocalFrame, Scene3D, binary, table_columns
from .pipes3d import PALETTES

__all__ = ["UTILITY_LABELS", "pipes_in_3d", "underground_scene"]

logger = logging.getLogger(__name__)

#: Legend names of the utilities (Korean and English).
UTILITY_LABELS: dict[str, str] = {
    "water": "상수 water", "sewer": "하수 sewer", "power": "전력 power", "telecom": "통신 telecom",
    "gas": "가스 gas", "heat": "난방 heat", "oil": "송유 oil", "lpg": "LPG",
}
_OTHER = (120, 120, 120)
_ATTRS = ("utility", "source_layer", "source_id", "agency", "diameter_mm", "width_mm", "height_mm",
          "material", "material_raw", "install_year", "depth_m", "depth_start_m", "depth_end_m",
          "depth_reference", "depth_kind", "depth_source", "centre_z_min_m", "centre_z_max_m",
          "pressure", "voltage_kv", "accuracy_h_m", "accuracy_v_m", "quality_level")
_PIT_ATTRS = ("pit_reached", "pit_clearance_m", "pit_exposed_length_m", "pit_in_hand_dig_band",
              "pit_violations")


def pipes_in_3d(pipes: gpd.GeoDataFrame, *, dem: Any = None,
                default_cover: float | Mapping[str, float] | None = None) -> gpd.GeoDataFrame:
    """Pipes as LineString Z (each part of a multi-line a row), ready for :func:`underground_scene`.

    Pipes that already have Z are kept as they are; others are placed with
    :func:`~geo3d.underground.pipes_to_3d` over ``dem``, or over flat ground at 0 m when there
    is no DEM (then every elevation is relative to the ground). The index is reset.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"utility": ["gas"], "diameter_mm": [100.0], "depth_m": [1.0],
    ...     "depth_reference": ["top"], "depth_kind": ["cover"]},
    ...     geometry=[shapely.LineString([(0, 0), (10, 0)])], crs="EPSG:5186")
    >>> shapely.get_coordinates(pipes_in_3d(p).geometry, include_z=True)[:, 2].tolist()
    [-1.05, -1.05]
    """
    from ..underground import pipes_to_3d

    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"pipes must be a GeoDataFrame, got {type(pipes).__name__}"
        raise InputError(msg)
    if pipes.crs is None or not pipes.crs.is_projected:
        msg = "the pipes need a projected CRS in metres (read_pipes(..., crs='EPSG:5186'))"
        raise CRSError(msg)
    frame = pipes[~(pipes.geometry.isna() | pipes.geometry.is_empty)]
    frame = frame.explode(index_parts=False).reset_index(drop=True)
    if len(frame) and bool(shapely.has_z(frame.geometry.to_numpy()).all()):
        return frame
    ground = as_dem(dem) if dem is not None else _flat_ground(frame)
    return pipes_to_3d(frame, ground, default_cover=default_cover)


def _flat_ground(frame: gpd.GeoDataFrame) -> Dem:
    left, bottom, right, top = frame.total_bounds if len(frame) else (0.0, 0.0, 1.0, 1.0)
    cell = max(right - left, top - bottom, 1.0) / 4 + 1.0
    return Dem(np.zeros((6, 6)), Affine(cell, 0, left - cell, 0, -cell, top + cell), frame.crs)


def _segments(pipes3d: gpd.GeoDataFrame, frame: LocalFrame, z_ref: float) -> dict[str, NDArray[Any]]:
    """Every centreline segment: ends ``a``, ``b`` (local metres) and its pipe row."""
    xyz, row = shapely.get_coordinates(pipes3d.geometry.to_numpy(), include_z=True, return_index=True)
    x, y = frame.local(xyz[:, 0], xyz[:, 1])
    pts = np.column_stack([x, y, xyz[:, 2] - z_ref])
    same = row[:-1] == row[1:]
    a, b, feat = pts[:-1][same], pts[1:][same], row[:-1][same]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if (~ok).any():
        logger.warning("map: %d pipe segments have no elevation (off the DEM?) and are not drawn",
                       int((~ok).sum()))
    return {"a": a[ok], "b": b[ok], "feature": feat[ok]}


def _sizes(pipes: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    def num(c: str) -> NDArray[np.float64]:
        if c not in pipes:
            return np.full(len(pipes), np.nan)
        return np.asarray(pd.to_numeric(pipes[c], errors="coerce"), dtype=np.float64)

    d, w, h = num("diameter_mm"), num("width_mm"), num("height_mm")
    box = np.isfinite(w) & np.isfinite(h) & ~np.isfinite(d)
    width = np.where(box, w, d) / 1000.0
    height = np.where(box, h, d) / 1000.0
    unknown = ~np.isfinite(width)
    return np.where(unknown, 0.1, width), np.where(unknown, 0.1, height), box


def _colours(utility: NDArray[Any], palette: Mapping[str, tuple[int, int, int]]) -> NDArray[np.uint8]:
    names, inv = np.unique(utility.astype(str), return_inverse=True)
    table = np.array([palette.get(str(u), _OTHER) for u in names], dtype=np.uint8).reshape(-1, 3)
    return np.column_stack([table[inv], np.full(len(utility), 255, dtype=np.uint8)])


def _pipe_table(pipes3d: gpd.GeoDataFrame, excavation: Any) -> dict[str, Any]:
    frame = pd.DataFrame(pipes3d.drop(columns=pipes3d.geometry.name))
    z = shapely.get_coordinates(pipes3d.geometry.to_numpy(), include_z=True)[:, 2]
    _, row = shapely.get_coordinates(pipes3d.geometry.to_numpy(), return_index=True)
    zs = pd.Series(z).groupby(row)
    frame["centre_z_min_m"] = zs.min().reindex(range(len(frame))).to_numpy()
    frame["centre_z_max_m"] = zs.max().reindex(range(len(frame))).to_numpy()
    assumed = frame["depth_assumed"].fillna(False).astype(bool) if "depth_assumed" in frame else \
        pd.Series(False, index=frame.index)
    frame["depth_source"] = np.where(assumed, "assumed (default cover: depth unknown in the source)",
                                     "measured (from the source)")
    if excavation is not None:
        cand = excavation.candidates.set_index("pipe")
        yes_no = {True: "yes", False: "no"}
        frame["pit_reached"] = cand["reached"].astype(bool).map(yes_no).reindex(frame.index)
        frame["pit_clearance_m"] = cand["clearance_m"].reindex(frame.index)
        frame["pit_exposed_length_m"] = cand["exposed_length_m"].reindex(frame.index)
        frame["pit_in_hand_dig_band"] = cand["in_hand_dig_band"].astype(bool).map(yes_no).reindex(frame.index)
        frame["pit_violations"] = cand["violations"].reindex(frame.index)
    first = [c for c in (*_ATTRS, *_PIT_ATTRS) if c in frame]
    rest = [c for c in frame.columns if c not in first and c not in ("depth_assumed", "depth_unknown")
            and not str(c).startswith("_")]
    columns = first + rest
    values = table_columns(frame, columns)
    values["label"] = [f"{u} {s}".strip() for u, s in zip(values.get("utility", [""] * len(frame)),
                                                           values.get("source_id", [""] * len(frame)),
                                                           strict=True)]
    return {"columns": columns, "values": values, "title_column": "label",
            "hover": [c for c in ("utility", "source_id", "diameter_mm", "material", "depth_m")
                      if c in values]}


def _tube_layers(seg: dict[str, NDArray[Any]], pipes3d: gpd.GeoDataFrame,
                 palette: Mapping[str, tuple[int, int, int]]) -> list[dict[str, Any]]:
    width, height, box = _sizes(pipes3d)
    util = pipes3d["utility"].astype(str).to_numpy() if "utility" in pipes3d else \
        np.full(len(pipes3d), "")
    rgba = _colours(util, palette)
    layers = []
    seg_util = util[seg["feature"]]
    for u in np.unique(seg_util):  # one layer per utility and shape: the legend shows/hides each
        for shape, mask in (("round", ~box[seg["feature"]]), ("box", box[seg["feature"]])):
            mask = mask & (seg_util == u)
            if not mask.any():
                continue
            f = seg["feature"][mask]
            layers.append({"type": "tubes", "id": f"pipes-{u}-{shape}", "group": f"utility-{u}",
                           "table": "pipes", "shape": "box" if shape == "box" else "cylinder",
                           "a": binary(seg["a"][mask]), "b": binary(seg["b"][mask]),
                           "w": binary(width[f]), "h": binary(height[f]), "color": binary(rgba[f], "u8"),
                           "feature": binary(f, "u32"), "line_px": 2})
    return layers


def _ground_layer(dem: Dem, frame: LocalFrame, z_ref: float, bounds: tuple[float, float, float, float],
                  *, max_cells: int = 100) -> dict[str, Any] | None:
    """The DEM over ``bounds`` (data CRS) as a translucent triangle mesh."""
    left, bottom, right, top = bounds
    step = max(right - left, top - bottom) / max_cells
    step = max(step, abs(dem.transform.a))
    xs = np.arange(left, right + step, step)
    ys = np.arange(bottom, top + step, step)
    gx, gy = np.meshgrid(xs, ys)
    gz = sample_dem(dem, gx, gy) - z_ref
    if not np.isfinite(gz).any():
        return None
    lx, ly = frame.local(gx.ravel(), gy.ravel())
    ny, nx = gx.shape
    dzdy, dzdx = np.gradient(np.nan_to_num(gz, nan=float(np.nanmean(gz))), step)
    normals = np.column_stack([-dzdx.ravel(), -dzdy.ravel(), np.ones(gz.size)])
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    k = (np.arange(ny - 1)[:, None] * nx + np.arange(nx - 1)[None, :]).ravel()
    tri = np.concatenate([np.column_stack([k, k + 1, k + nx]), np.column_stack([k + 1, k + nx + 1, k + nx])])
    z = gz.ravel()
    tri = tri[np.isfinite(z[tri]).all(axis=1)]
    pos = np.column_stack([lx, ly, np.nan_to_num(z)])
    return {"type": "mesh", "id": "ground", "group": "ground", "positions": binary(pos),
            "normals": binary(normals), "indices": binary(tri, "u32"), "color": [150, 135, 115, 255],
            "opacity": 0.15, "depth_write": False}


def _points_layer(points: gpd.GeoDataFrame, frame: LocalFrame, z_ref: float, dem: Dem | None,
                  palette: Mapping[str, tuple[int, int, int]]) -> tuple[dict[str, Any], dict[str, Any]]:
    pts = points[~(points.geometry.isna() | points.geometry.is_empty)].explode(index_parts=False)
    pts = pts.to_crs(frame.crs).reset_index(drop=True)
    xyz = shapely.get_coordinates(pts.geometry.to_numpy(), include_z=True)
    z = xyz[:, 2]
    if dem is not None:
        z = np.where(np.isfinite(z), z, sample_dem(dem, xyz[:, 0], xyz[:, 1]))
    z = np.nan_to_num(z - z_ref, nan=0.0) + 0.05
    x, y = frame.local(xyz[:, 0], xyz[:, 1])
    util = pts["utility"].astype(str).to_numpy() if "utility" in pts else np.full(len(pts), "")
    layer = {"type": "points", "id": "points", "group": "points", "table": "points",
             "positions": binary(np.column_stack([x, y, z])), "color": binary(_colours(util, palette), "u8"),
             "feature": binary(np.arange(len(pts)), "u32"), "radius": 0.6, "min_px": 5}
    cols = [c for c in pts.columns if c != pts.geometry.name]
    values = table_columns(pd.DataFrame(pts[cols]), cols)
    title = "source_layer" if "source_layer" in values else (cols[0] if cols else None)
    return layer, {"columns": cols, "values": values, "title_column": title, "hover": cols[:3]}


def _section_layers(line: shapely.LineString, frame: LocalFrame, z_ref: float, dem: Dem | None,
                    z_low: float) -> list[dict[str, Any]]:
    c = shapely.get_coordinates(line.segmentize(2.0))
    ground = sample_dem(dem, c[:, 0], c[:, 1]) - z_ref if dem is not None else np.zeros(len(c))
    top = np.nan_to_num(ground, nan=0.0) + 0.5
    x, y = frame.local(c[:, 0], c[:, 1])
    n = len(c)
    pos = np.concatenate([np.column_stack([x, y, top]), np.column_stack([x, y, np.full(n, z_low)])])
    k = np.arange(n - 1)
    tri = np.concatenate([np.column_stack([k, k + 1, k + n]), np.column_stack([k + 1, k + n + 1, k + n])])
    d = np.diff(np.column_stack([x, y]), axis=0)
    nrm = np.column_stack([-d[:, 1], d[:, 0], np.zeros(n - 1)])
    nrm = np.vstack([nrm, nrm[-1:]]) / np.maximum(np.linalg.norm(np.vstack([nrm, nrm[-1:]]), axis=1), 1e-9)[:, None]
    edge = np.column_stack([x, y, top]).tolist()
    return [{"type": "mesh", "id": "section", "group": "section", "positions": binary(pos),
             "normals": binary(np.vstack([nrm, nrm])), "indices": binary(tri, "u32"),
             "color": [40, 40, 40, 255], "opacity": 0.18, "depth_write": False},
            {"type": "paths", "id": "section-edge", "group": "section", "paths": [edge],
             "color": [30, 30, 30, 255], "width_px": 2},
            {"type": "text", "id": "section-labels", "group": "section", "size": 15,
             "items": [{"position": edge[0], "text": "A"}, {"position": edge[-1], "text": "A'"}]}]


def _pit_layers(excavation: Any, seg: dict[str, NDArray[Any]], pipes3d: gpd.GeoDataFrame,
                frame: LocalFrame, z_ref: float) -> list[dict[str, Any]]:
    vol = excavation.pit
    ring = shapely.get_coordinates(shapely.get_exterior_ring(vol.floor))[:-1]
    x, y = frame.local(ring[:, 0], ring[:, 1])
    depth = vol.depth if math.isfinite(vol.depth) else 1.0
    layers: list[dict[str, Any]] = [
        {"type": "polygons", "id": "pit", "group": "pit", "polygons": [np.column_stack([x, y]).tolist()],
         "base": [vol.floor_z - z_ref], "height": [depth], "colors": [[255, 255, 255, 110]],
         "line_color": [10, 10, 10, 255], "line_px": 2, "depth_write": False}]
    hit = excavation.conflicts
    if not len(hit):
        return layers
    mask = np.isin(seg["feature"], pipes3d.index.get_indexer(hit["pipe"]))  # labels → rows
    if mask.any():  # a black band under the reached pipes' lines (drawn first, under everything)
        n = int(mask.sum())
        layers.append({"type": "tubes", "id": "reached", "group": "pit", "table": "pipes", "mesh": False,
                       "a": binary(seg["a"][mask]), "b": binary(seg["b"][mask]),
                       "w": binary(np.zeros(n)), "h": binary(np.zeros(n)),
                       "color": binary(np.tile([0, 0, 0, 255], (n, 1)), "u8"),
                       "feature": binary(seg["feature"][mask], "u32"), "line_px": 8, "halo": True})
    centre = vol.floor.centroid
    near = shapely.line_interpolate_point(
        hit.geometry.to_numpy(), shapely.line_locate_point(hit.geometry.to_numpy(), centre))
    xyz = shapely.get_coordinates(near, include_z=True)
    lx, ly = frame.local(xyz[:, 0], xyz[:, 1])
    items = [{"position": [float(a), float(b), float(c - z_ref)], "text": str(i + 1)}
             for i, (a, b, c) in enumerate(zip(lx, ly, xyz[:, 2], strict=True))]
    layers.append({"type": "text", "id": "reached-labels", "group": "pit", "items": items, "size": 14})
    return layers


def underground_scene(
    pipes3d: gpd.GeoDataFrame,
    *,
    dem: Any = None,
    points: gpd.GeoDataFrame | None = None,
    excavation: Any = None,
    section_line: Any = None,
    palette: str | Mapping[str, tuple[int, int, int]] = "korean",
    title: str = "지하시설물 3D 지도 · underground utilities",
    subtitle: str | None = None,
) -> Scene3D:
    """A 3D map of pipes at depth (and ground, points, pit, section), for :meth:`Scene3D.to_html`.

    Parameters
    ----------
    pipes3d : geopandas.GeoDataFrame
        Canonical pipes as LineString Z (:func:`pipes_in_3d`), projected CRS.
    dem : Dem or raster path, optional
        Ground elevation: drawn as a translucent surface over the pipes.
    points : geopandas.GeoDataFrame, optional
        Point features (manholes, valves …) drawn as markers; a ``utility`` column colours them.
    excavation : Excavation, optional
        From :func:`~geo3d.underground.excavation.excavate` **on** ``pipes3d``: the pit is drawn
        as a 3D box and the pipes it reaches are outlined and labelled with their clearance.
    section_line : LineString or coordinates, optional
        Drawn as a vertical plane from above the ground to below the deepest pipe.
    palette : {"korean", "apwa"} or mapping
        Utility colours (:data:`~geo3d.viz.pipes3d.PALETTES`).
    title, subtitle : str
        Shown on the page.

    Returns
    -------
    Scene3D
    """
    if not isinstance(pipes3d, gpd.GeoDataFrame) or pipes3d.crs is None:
        msg = "underground_scene needs a GeoDataFrame of pipes with a CRS (see pipes_in_3d)"
        raise InputError(msg)
    if not len(pipes3d):
        msg = "there are no pipes to map; check the --pipes source and its layers"
        raise InputError(msg)
    if not bool(shapely.has_z(pipes3d.geometry.to_numpy()).all()):
        msg = "underground_scene needs 3D pipes; place them with pipes_in_3d(pipes, dem=...)"
        raise InputError(msg)
    colours = PALETTES[palette] if isinstance(palette, str) and palette in PALETTES else \
        {**PALETTES["korean"], **(palette if isinstance(palette, Mapping) else {})}
    if isinstance(palette, str) and palette not in PALETTES:
        msg = f"unknown palette {palette!r}; valid: {', '.join(PALETTES)}"
        raise InputError(msg)
    pipes3d = pipes3d.reset_index(drop=True) if excavation is None else pipes3d
    ground = as_dem(dem) if dem is not None else None
    left, bottom, right, top = pipes3d.total_bounds
    frame = LocalFrame.around(pipes3d.crs, (left + right) / 2, (bottom + top) / 2)
    z_ref = 0.0
    if ground is not None:
        g = sample_dem(ground, np.linspace(left, right, 9), np.linspace(bottom, top, 9)[:, None])
        z_ref = float(np.round(np.nanmedian(g), 1)) if np.isfinite(g).any() else 0.0
    seg = _segments(pipes3d, frame, z_ref)
    layers = _tube_layers(seg, pipes3d, colours)
    tables = {"pipes": _pipe_table(pipes3d, excavation)}
    legend = _legend(pipes3d, colours)
    pts = np.concatenate([seg["a"], seg["b"]]) if len(seg["a"]) else np.zeros((1, 3))
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if points is not None and len(points):
        layer, tables["points"] = _points_layer(points, frame, z_ref, ground, colours)
        layers.append(layer)
        legend.append({"label": f"points ({len(tables['points']['values'][tables['points']['columns'][0]])})"
                       if tables["points"]["columns"] else "points", "color": [90, 90, 90], "shape": "dot",
                       "group": "points"})
    if excavation is not None:
        pit_layers = _pit_layers(excavation, seg, pipes3d, frame, z_ref)
        layers = [lay for lay in pit_layers if lay.get("halo")] + layers + \
            [lay for lay in pit_layers if not lay.get("halo")]
        n_hit = len(excavation.conflicts)
        legend += [{"label": f"pit, floor {excavation.pit.floor_z:.2f} m", "color": [255, 255, 255, 160],
                    "shape": "box", "group": "pit"},
                   {"label": f"reached by the pit ({n_hit}): {excavation.verdict}", "color": [10, 10, 10],
                    "shape": "outline"}]
    if section_line is not None:
        from ..underground.section import as_line

        layers += _section_layers(as_line(section_line), frame, z_ref, ground, float(lo[2]) - 1.0)
        legend.append({"label": "section A–A'", "color": [40, 40, 40, 90], "shape": "plane", "group": "section"})
    if ground is not None:
        mesh = _ground_layer(ground, frame, z_ref, (left - 5, bottom - 5, right + 5, top + 5))
        if mesh is not None:
            layers.append(mesh)
            legend.append({"label": "ground surface (DEM)", "color": [160, 140, 110, 110], "shape": "plane",
                           "group": "ground"})
    assumed = int(pipes3d["depth_assumed"].fillna(False).astype(bool).sum()) if "depth_assumed" in pipes3d else 0
    note = (f"{len(pipes3d):,} pipes, {len(seg['a']):,} segments at true diameter. "
            f"Depth: {len(pipes3d) - assumed:,} measured, {assumed:,} assumed at the default cover. "
            f"Elevations relative to {z_ref:g} m" + ("" if ground is not None else " (no DEM: flat ground at 0)")
            + ". Click a pipe for its attributes.")
    search: list[dict[str, Any]] = []  # the page adds one entry per pipe (search_features)
    lists = [_reached_list(excavation, pipes3d, colours)] if excavation is not None and len(excavation.conflicts) else []
    if excavation is not None:
        c = excavation.pit.floor.centroid
        cx, cy = frame.local(np.array([c.x]), np.array([c.y]))
        search.insert(0, {"text": "pit 굴착", "table": None, "feature": None,
                          "position": [float(cx[0]), float(cy[0]), float(excavation.pit.floor_z - z_ref)]})
    return Scene3D(title=title, subtitle=subtitle or _subtitle(pipes3d), frame=frame, z_ref=z_ref,
                   layers=layers, tables=tables, legend=legend, legend_title="Utilities 시설물",
                   legend_note=note, bounds=[*map(float, lo), *map(float, hi)],
                   view={"pitch": 50.0, "bearing": -20.0}, exaggerations=[1, 2, 5, 10],
                   search=search, lists=lists, search_features="pipes")


def _reached_list(excavation: Any, pipes3d: gpd.GeoDataFrame,
                  colours: Mapping[str, tuple[int, int, int]]) -> dict[str, Any]:
    hit = excavation.conflicts
    rows_of = pipes3d.index.get_indexer(hit["pipe"])
    d = pd.to_numeric(hit["diameter_mm"], errors="coerce").to_numpy(dtype=float)
    rows = [{"key": str(i + 1), "table": "pipes", "feature": int(p), "color": list(colours.get(str(u), _OTHER)),
             "text": f"{u} {f'D{dm:g}' if np.isfinite(dm) and dm > 0 else 'D?'} · {s} · clearance {cl:.2f} m"
                     + (" · hand-dig band" if band else "") + (" · rule broken" if v else "")}
            for i, (p, u, dm, s, cl, band, v) in enumerate(zip(
                rows_of, hit["utility"].astype(str), d, hit["source_id"].astype(str),
                hit["clearance_m"].astype(float), hit["in_hand_dig_band"].astype(bool),
                hit["violations"].fillna("").astype(str), strict=True))]
    return {"title": f"Reached by the pit: {len(hit)} · {excavation.verdict}", "rows": rows}


def _legend(pipes3d: gpd.GeoDataFrame, colours: Mapping[str, tuple[int, int, int]]) -> list[dict[str, Any]]:
    counts = pipes3d["utility"].astype(str).value_counts() if "utility" in pipes3d else pd.Series(dtype=int)
    order = [u for u in UTILITY_LABELS if u in counts.index] + sorted(set(counts.index) - set(UTILITY_LABELS))
    return [{"label": f"{UTILITY_LABELS.get(u, u)} ({int(counts[u]):,})", "color": list(colours.get(u, _OTHER)),
             "shape": "line", "group": f"utility-{u}"} for u in order]


def _subtitle(pipes3d: gpd.GeoDataFrame) -> str:
    crs = pipes3d.crs.to_string() if pipes3d.crs is not None else ""
    return f"{len(pipes3d):,} pipes · {crs} · true diameters · drag: pan, right-drag: tilt"
