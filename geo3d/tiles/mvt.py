"""Vector tiles of pipes (one layer per utility) and area statistics: MVT in a PMTiles archive.

Geometries are reprojected to Web Mercator (EPSG:3857, ``always_xy``), simplified once per zoom
level with a tolerance of about one tile pixel (``simplify_px``), indexed with an STRtree and,
tile by tile, clipped with :func:`shapely.clip_by_rect` (vectorised over the tile's features)
and scaled to tile coordinates (``extent`` 4096, y down). Tiles are gzip-compressed MVT
(mapbox-vector-tile) written in tile-id order into a clustered PMTiles v3 archive (pmtiles),
atomically. Empty tiles are not written.

Layers
------
* ``water``, ``sewer``, ``power``, ``telecom``, ``gas``, ``heat`` (those present): one
  feature per pipe with ``source_id``, ``utility``, ``diameter_mm``, ``material``,
  ``install_year``, ``depth_m``, ``agency`` (those present; missing values are left out of a
  feature's properties, as MVT has no null).
* ``areas`` (when ``areas`` are given): the area polygons with their non-geometry fields and,
  when ``stats`` are given, per area ``length_km``, ``density_km_per_km2``,
  ``share_over_threshold`` (all utilities) and ``{utility}_km``, ``{utility}_density``,
  ``{utility}_share`` per utility.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._compat import import_optional
from .._progress import progress
from ..errors import CRSError, EmptyResultError, InputError, SchemaError
from ..io.atomic import atomic_path

__all__ = ["PIPE_ATTRIBUTES", "lonlat_to_tile", "read_tile", "write_tiles"]

logger = logging.getLogger(__name__)

PIPE_ATTRIBUTES: tuple[str, ...] = (
    "source_id", "utility", "diameter_mm", "material", "install_year", "depth_m", "agency",
)
"""Pipe fields kept in the tiles (those the pipes have)."""

_HALF_WORLD = math.pi * 6378137.0  # Web Mercator half circumference in metres


def lonlat_to_tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The (x, y) XYZ tile index holding a longitude/latitude at ``zoom``.

    Examples
    --------
    >>> lonlat_to_tile(127.0395, 37.5797, 14)
    (13973, 6343)
    """
    n = 2 ** zoom
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def _plain(value: Any) -> Any:
    """A property value MVT can hold (None for missing)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.integer | bool | np.bool_):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, int | float | str):
        return value
    return str(value)


def _properties(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """One property dict per row, missing values left out (MVT has no null)."""
    columns = list(frame.columns)
    cols = [frame[c].astype(object).to_numpy() for c in columns]
    return [{k: v for k, v in zip(columns, map(_plain, row), strict=True) if v is not None}
            for row in zip(*cols, strict=True)] if columns else [{} for _ in range(len(frame))]


def _area_layer(areas: gpd.GeoDataFrame, area_id: str, stats: pd.DataFrame | None
                ) -> gpd.GeoDataFrame:
    from ..stats.aging import aggregate_statistics

    out = areas.copy()
    if stats is None:
        return out
    if "area_id" not in stats.columns:
        msg = ("stats have no 'area_id' column; pass a table from geo3d.aging_statistics "
               f"(columns found: {', '.join(map(str, stats.columns))})")
        raise SchemaError(msg)
    key = out[area_id].astype(str)
    per_area = aggregate_statistics(stats, by=["area_id"])
    per_area = per_area.set_index(per_area["area_id"].astype(str))
    out["length_km"] = key.map(per_area["length_m"] / 1000.0).fillna(0.0)
    out["density_km_per_km2"] = key.map(per_area["density_km_per_km2"]).fillna(0.0)
    out["share_over_threshold"] = key.map(per_area["share_over_threshold"])
    per_util = aggregate_statistics(stats, by=["area_id", "utility"])
    per_util["area_id"] = per_util["area_id"].astype(str)
    for utility, rows in per_util.groupby("utility", sort=True):
        rows = rows.set_index("area_id")
        out[f"{utility}_km"] = key.map(rows["length_m"] / 1000.0).fillna(0.0)
        out[f"{utility}_density"] = key.map(rows["density_km_per_km2"]).fillna(0.0)
        out[f"{utility}_share"] = key.map(rows["share_over_threshold"])
    return out


def _tile_range(bounds: np.ndarray, zoom: int) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 (inclusive) XYZ tile indices covering 3857 ``bounds``."""
    n = 2 ** zoom
    size = 2 * _HALF_WORLD / n
    x0 = int(np.floor((bounds[0] + _HALF_WORLD) / size))
    x1 = int(np.floor((bounds[2] + _HALF_WORLD) / size))
    y0 = int(np.floor((_HALF_WORLD - bounds[3]) / size))
    y1 = int(np.floor((_HALF_WORLD - bounds[1]) / size))
    clamp = lambda v: min(max(v, 0), n - 1)  # noqa: E731
    return clamp(x0), clamp(y0), clamp(x1), clamp(y1)


def write_tiles(
    pipes: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    stats: pd.DataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    area_id: str | None = None,
    minzoom: int = 10,
    maxzoom: int = 16,
    overwrite: bool = False,
    attributes: Sequence[str] | None = None,
    extent: int = 4096,
    buffer: int = 64,
    simplify_px: float = 1.0,
    name: str = "geo3d underground utilities",
) -> Path:
    """Write pipes (and area statistics) as MVT vector tiles into a PMTiles archive.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Pipes in the canonical schema (``utility`` column; any CRS with a definition).
    path : str or Path
        Output ``.pmtiles`` file (written atomically).
    stats : pandas.DataFrame, optional
        A table from :func:`geo3d.aging_statistics` (or its CSV read back); needs ``areas``.
    areas : geopandas.GeoDataFrame, optional
        Area polygons for the ``areas`` layer; needs ``area_id``.
    area_id : str, optional
        Field of ``areas`` matching ``stats["area_id"]``.
    minzoom, maxzoom : int
        Zoom levels to write (0–22).
    overwrite : bool
        Replace an existing file.
    attributes : sequence of str, optional
        Pipe fields to keep; default :data:`PIPE_ATTRIBUTES` (those present).
    extent : int
        Tile coordinate extent (MVT default 4096).
    buffer : int
        Clip buffer around each tile in tile units (avoids seams at tile edges).
    simplify_px : float
        Simplification tolerance in tile pixels (``extent`` units) per zoom; 0 disables.
    name : str
        Archive name in the metadata.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    CRSError
        Pipes or areas without a CRS.
    SchemaError
        Pipes without ``utility``; areas without ``area_id``; bad stats.
    InputError
        Bad zoom levels, or ``stats`` without ``areas``.
    EmptyResultError
        Nothing to tile (no geometry at all).

    Examples
    --------
    >>> import geopandas as gpd, shapely, tempfile, pathlib
    >>> pipes = gpd.GeoDataFrame({"utility": ["gas"], "source_id": ["G1"]},
    ...     geometry=[shapely.LineString([(203400, 553300), (203500, 553320)])], crs="EPSG:5186")
    >>> out = write_tiles(pipes, pathlib.Path(tempfile.mkdtemp()) / "t.pmtiles",
    ...                   minzoom=12, maxzoom=14)
    >>> x, y = lonlat_to_tile(127.0395, 37.5797, 14)  # the tile holding the pipe
    >>> read_tile(out, 14, x, y)["gas"][0]["properties"]
    {'source_id': 'G1', 'utility': 'gas'}
    """
    mvt = import_optional("mapbox_vector_tile", extra="tiles")
    pm_writer = import_optional("pmtiles.writer", extra="tiles")
    pm_tile = import_optional("pmtiles.tile", extra="tiles")
    t0 = time.perf_counter()
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"pipes must be a GeoDataFrame, not {type(pipes).__name__}"
        raise InputError(msg)
    if not (isinstance(minzoom, int) and isinstance(maxzoom, int)
            and 0 <= minzoom <= maxzoom <= 22):
        msg = f"need 0 <= minzoom <= maxzoom <= 22, got minzoom={minzoom!r}, maxzoom={maxzoom!r}"
        raise InputError(msg)
    if "utility" not in pipes.columns:
        msg = f"pipes have no 'utility' column; available: {', '.join(map(str, pipes.columns))}"
        raise SchemaError(msg)
    if stats is not None and areas is None:
        msg = "stats need the area polygons: pass areas=... and area_id=..."
        raise InputError(msg)
    for label, frame in (("pipes", pipes), ("areas", areas)):
        if frame is not None and frame.crs is None:
            msg = f"{label} have no CRS; set it with {label}.set_crs('EPSG:5186') (or theirs)"
            raise CRSError(msg)
    if areas is not None and (area_id is None or area_id not in areas.columns):
        fields = ", ".join(str(c) for c in areas.columns if c != areas.geometry.name)
        msg = f"areas need area_id naming one of their fields ({fields}), got {area_id!r}"
        raise SchemaError(msg)

    keep = [c for c in (attributes or PIPE_ATTRIBUTES) if c in pipes.columns]
    web = pipes.to_crs(3857)
    layer_geoms: list[np.ndarray] = []
    layer_names: list[np.ndarray] = []
    props: list[dict[str, Any]] = []
    vector_layers: list[dict[str, Any]] = []
    utilities = web["utility"].astype(str)
    for utility in sorted(utilities.unique()):
        rows = web.loc[(utilities == utility).to_numpy()]
        layer_geoms.append(np.asarray(rows.geometry.array, dtype=object))
        layer_names.append(np.full(len(rows), utility, dtype=object))
        props += _properties(pd.DataFrame(rows[keep]))
        vector_layers.append({"id": utility, "minzoom": minzoom, "maxzoom": maxzoom,
                              "fields": {c: _field_type(rows[c]) for c in keep}})
    if areas is not None:
        assert area_id is not None
        layer = _area_layer(areas, area_id, stats).to_crs(3857)
        area_fields = [c for c in layer.columns if c != layer.geometry.name]
        layer_geoms.append(np.asarray(layer.geometry.array, dtype=object))
        layer_names.append(np.full(len(layer), "areas", dtype=object))
        props += _properties(pd.DataFrame(layer[area_fields]))
        vector_layers.append({"id": "areas", "minzoom": minzoom, "maxzoom": maxzoom,
                              "fields": {c: _field_type(layer[c]) for c in area_fields}})
    geoms = np.concatenate(layer_geoms) if layer_geoms else np.empty(0, dtype=object)
    names = np.concatenate(layer_names) if layer_names else np.empty(0, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        msg = "nothing to tile: the pipes (and areas) have no geometry"
        raise EmptyResultError(msg)
    bounds = shapely.total_bounds(geoms[present])
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])

    tiles: list[tuple[int, bytes]] = []
    n_features = 0
    for zoom in progress(range(minzoom, maxzoom + 1), total=maxzoom - minzoom + 1,
                         desc="tiles: zoom levels"):
        tile_m = 2 * _HALF_WORLD / 2 ** zoom
        px = tile_m / extent
        simple = geoms.copy()
        if simplify_px > 0:
            tol = simplify_px * px
            simple[~polygonal] = shapely.simplify(geoms[~polygonal], tol, preserve_topology=False)
            simple[polygonal] = shapely.simplify(geoms[polygonal], tol, preserve_topology=True)
        tree = shapely.STRtree(simple)
        x0, y0, x1, y1 = _tile_range(bounds, zoom)
        grid_x, grid_y = np.meshgrid(np.arange(x0, x1 + 1), np.arange(y0, y1 + 1),
                                     indexing="ij")
        xs, ys = grid_x.ravel(), grid_y.ravel()
        minx = -_HALF_WORLD + xs * tile_m
        maxy = _HALF_WORLD - ys * tile_m
        pad = buffer * px
        boxes = shapely.box(minx - pad, maxy - tile_m - pad, minx + tile_m + pad, maxy + pad)
        ti, gi = tree.query(boxes)
        order = np.lexsort((gi, ti))
        ti, gi = ti[order], gi[order]
        starts = np.flatnonzero(np.r_[True, ti[1:] != ti[:-1]]) if len(ti) else np.zeros(0, int)
        ends = np.r_[starts[1:], len(ti)] if len(ti) else np.zeros(0, int)
        for s, e in zip(starts, ends, strict=True):
            t = ti[s]
            idx = gi[s:e]
            clipped = shapely.clip_by_rect(simple[idx], minx[t] - pad, maxy[t] - tile_m - pad,
                                           minx[t] + tile_m + pad, maxy[t] + pad)
            ok = ~shapely.is_empty(clipped)
            if not ok.any():
                continue
            idx, clipped = idx[ok], clipped[ok]
            ox, oy, scale = minx[t], maxy[t], extent / tile_m
            local = shapely.transform(
                clipped, lambda c, ox=ox, oy=oy, scale=scale: np.column_stack(
                    ((c[:, 0] - ox) * scale, (oy - c[:, 1]) * scale)))
            data = _encode(mvt, local, idx, names, props, extent)
            n_features += len(idx)
            tiles.append((pm_tile.zxy_to_tileid(zoom, int(xs[t]), int(ys[t])),
                          gzip.compress(data, mtime=0)))
    if not tiles:
        msg = "no tile holds any feature"
        raise EmptyResultError(msg)
    tiles.sort(key=lambda item: item[0])
    lon_lat = gpd.GeoSeries(shapely.box(*bounds), crs=3857).to_crs(4326).total_bounds
    header = {
        "tile_type": pm_tile.TileType.MVT,
        "tile_compression": pm_tile.Compression.GZIP,
        "min_zoom": minzoom,
        "max_zoom": maxzoom,
        "min_lon_e7": int(lon_lat[0] * 1e7),
        "min_lat_e7": int(lon_lat[1] * 1e7),
        "max_lon_e7": int(lon_lat[2] * 1e7),
        "max_lat_e7": int(lon_lat[3] * 1e7),
        "center_zoom": (minzoom + maxzoom) // 2,
        "center_lon_e7": int((lon_lat[0] + lon_lat[2]) / 2 * 1e7),
        "center_lat_e7": int((lon_lat[1] + lon_lat[3]) / 2 * 1e7),
    }
    metadata = {
        "name": name,
        "format": "pbf",
        "type": "overlay",
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": [float(v) for v in lon_lat],
        "vector_layers": vector_layers,
        "generator": "geo3d",
    }
    if stats is not None and getattr(stats, "attrs", None):
        metadata["statistics"] = json.loads(json.dumps(
            {k: v for k, v in stats.attrs.items() if k != "notes"}, default=str))
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as fh:
        writer = pm_writer.Writer(fh)
        for tile_id, data in tiles:
            writer.write_tile(tile_id, data)
        writer.finalize(header, metadata)
    logger.info("write_tiles: %s pipes, %d layers, zoom %d-%d -> %s tiles (%s features) in "
                "%.1f s -> %s", f"{len(pipes):,}", len(vector_layers), minzoom, maxzoom,
                f"{len(tiles):,}", f"{n_features:,}", time.perf_counter() - t0, path)
    return Path(path)


def _field_type(values: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return "Number"
    return "String"


def _encode(mvt: Any, local: np.ndarray, idx: np.ndarray, names: np.ndarray,
            props: list[dict[str, Any]], extent: int) -> bytes:
    """Encode one tile's features (tile coordinates, y down) grouped by layer."""
    layers = []
    layer_of = names[idx]
    for layer in pd.unique(layer_of):
        sel = np.flatnonzero(layer_of == layer)
        layers.append({"name": str(layer), "features": [
            {"geometry": local[k], "properties": props[idx[k]]} for k in sel]})
    data: bytes = mvt.encode(layers, default_options={"y_coord_down": True, "extents": extent})
    return data


def read_tile(path: str | os.PathLike[str], z: int, x: int, y: int) -> dict[str, list[dict[str, Any]]]:
    """Decode one tile of a PMTiles archive: ``{layer: [feature, ...]}`` (empty when absent).

    Features are GeoJSON-like dicts in tile coordinates (y down, 0..extent).

    Examples
    --------
    See :func:`write_tiles`.
    """
    mvt = import_optional("mapbox_vector_tile", extra="tiles")
    reader_mod = import_optional("pmtiles.reader", extra="tiles")
    with open(path, "rb") as fh:
        reader = reader_mod.Reader(reader_mod.MmapSource(fh))
        data = reader.get(z, x, y)
    if data is None:
        return {}
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    decoded = mvt.decode(data, default_options={"y_coord_down": True})
    return {name: layer["features"] for name, layer in decoded.items()}
