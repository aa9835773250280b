"""Write what the indoor pipeline found: points.laz, objects.gpkg and report.json (docs/contracts.md)."""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from .. import __version__
from ..io.atomic import atomic_dir
from ..io.e57 import original_path
from ..io.las import write_las
from ..pointcloud.classes import CLASS_NAMES
from ..pointcloud.cloud import PointCloud
from .evidence import WarningLog
from .scan import ScanSegmentation

__all__ = [
    "level_footprints",
    "object_layers",
    "plan_spacing",
    "segmentation_layers",
    "write_segmentation",
    "write_tiled_segmentation",
]

log = logging.getLogger(__name__)

OBJECT_COLUMNS = ["object_id", "kind", "floor", "aisle", "number", "address", "z_min", "z_max", "n_points"]


#: largest occupancy raster of one level (cells); beyond it the cell grows (memory stays bounded)
_MAX_FOOTPRINT_CELLS = 25_000_000


def plan_spacing(xy: NDArray[np.float64], *, sample: int = 20_000) -> float:
    """Median distance from a point to its nearest neighbour in plan (m), on a strided sample.

    Examples
    --------
    >>> xy = np.array([[x, y] for x in range(10) for y in range(10)], dtype=float)
    >>> plan_spacing(xy)
    1.0
    """
    from scipy.spatial import cKDTree

    xy = np.asarray(xy, dtype=np.float64)
    if len(xy) < 2:
        return 0.0
    probe = xy[:: max(1, len(xy) // sample)]
    d, _ = cKDTree(probe).query(probe, k=2, workers=-1)
    # the strided sample is sparser than the cloud: scale back by the square root of the stride
    return float(np.median(d[:, 1]) / np.sqrt(max(1, len(xy) // sample)))


def level_footprints(cloud: PointCloud, result: ScanSegmentation, *, cell: float = 0.5) -> gpd.GeoSeries:
    """Plan outline of every level: the union of the plan cells its points occupy.

    The points are binned once into an occupancy raster per level (time linear in the points),
    which :func:`rasterio.features.shapes` turns into polygons (one per connected patch, holes
    kept); the outline is then simplified by half a cell. The cell is at least twice the plan
    point spacing (:func:`plan_spacing`), so a sparse cloud (an airborne tile) gives one
    outline rather than a polygon per point. A level spanning more than
    ``_MAX_FOOTPRINT_CELLS`` cells at ``cell`` is outlined on a coarser grid (logged).

    Returns a GeoSeries aligned to ``result.levels`` (one Polygon/MultiPolygon per level).

    Examples
    --------
    >>> import pandas as pd
    >>> from geo3d.pointcloud.cloud import PointCloud
    >>> xy = np.array([[x, y] for x in np.arange(0, 10, 0.2) for y in np.arange(0, 4, 0.2)])
    >>> cloud = PointCloud(np.column_stack([xy, np.zeros(len(xy))]))
    >>> res = type("R", (), {"levels": pd.DataFrame({"floor": [1]}), "level": np.ones(len(xy), np.int8)})()
    >>> float(round(level_footprints(cloud, res).area.iloc[0], 1))
    40.0
    """
    from rasterio import features
    from rasterio.transform import Affine

    xyz = cloud.xyz
    polys = []
    for floor in result.levels["floor"].to_numpy():
        sel = np.flatnonzero(result.level == floor)
        if len(sel) == 0:
            polys.append(shapely.Polygon())
            continue
        x, y = xyz[sel, 0], xyz[sel, 1]
        x0, y0 = float(x.min()), float(y.min())
        span = max(float(x.max()) - x0, 1e-9) * max(float(y.max()) - y0, 1e-9)
        # a cell smaller than twice the plan point spacing leaves holes between the points
        size = max(cell, 2 * plan_spacing(np.column_stack([x, y])), float(np.sqrt(span / _MAX_FOOTPRINT_CELLS)))
        if size > cell:
            log.info("level_footprints: floor %s outlined on %.2f m cells (%.0f m² at %.2f m is too many cells)",
                     floor, size, span, cell)
        i = ((x - x0) / size).astype(np.int64)
        j = ((y - y0) / size).astype(np.int64)
        nx, ny = int(i.max()) + 1, int(j.max()) + 1
        grid = np.zeros((ny, nx), dtype=np.uint8)
        grid[j, i] = 1
        # raster rows run along +y here: the transform maps (col, row) to (x0 + col·s, y0 + row·s)
        # 4-connected patches are disjoint (at most touching at a corner): a valid MultiPolygon
        # without any union
        shapes = features.shapes(grid, mask=grid.astype(bool), connectivity=4,
                                 transform=Affine(size, 0, x0, 0, size, y0))
        parts = [shapely.geometry.shape(g) for g, _ in shapes]
        outline = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
        polys.append(outline.simplify(size / 2))
    return gpd.GeoSeries(polys, index=result.levels.index, crs=cloud.crs)


def segmentation_layers(cloud: PointCloud, result: ScanSegmentation) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers of docs/contracts.md: ``levels``, ``stores``, ``facilities``.

    Stores carry their footprint Polygon, facilities a Point at their centre; ``aisle``,
    ``number`` and ``address`` stay empty until addresses are assigned.
    """
    objs = result.objects.reset_index()
    # points per object at full resolution (segment_scan counts on its thinned working cloud)
    ids = objs["object_id"].to_numpy()
    full = np.bincount(result.object_id[result.object_id >= 0], minlength=int(ids.max(initial=0)) + 1)
    objs["n_points"] = full[ids]
    return object_layers(result.levels, level_footprints(cloud, result).to_numpy(), objs, crs=cloud.crs)


def object_layers(levels: pd.DataFrame, outlines: Any, objects: pd.DataFrame, *,
                  crs: Any) -> dict[str, gpd.GeoDataFrame]:
    """``levels``, ``stores`` and ``facilities`` layers from a levels table and an objects table.

    ``outlines`` is one plan outline per level (row order of ``levels``); ``objects`` has a
    column ``object_id`` (see :func:`segmentation_layers`, which builds both from a scan).
    """
    layer = gpd.GeoDataFrame(levels[["floor", "label", "ordinal", "slab_z", "ceiling_z"]].copy(),
                             geometry=list(outlines), crs=crs)
    objs = objects.copy()
    for col in ("aisle", "number", "address"):
        if col not in objs:
            objs[col] = pd.Series([None] * len(objs), dtype="object", index=objs.index)
    keep = [c for c in OBJECT_COLUMNS if c in objs] + ["object_class", "height_above_slab", "x", "y"]
    is_store = objs["object_class"] == 1
    stores = gpd.GeoDataFrame(objs.loc[is_store, keep], geometry=objs.loc[is_store, "geometry"], crs=crs)
    fac = objs[objs["object_class"] > 1]
    facilities = gpd.GeoDataFrame(
        fac[keep],
        geometry=gpd.points_from_xy(fac["x"], fac["y"], (fac["z_min"] + fac["z_max"]) / 2),
        crs=crs,
    )
    return {"levels": layer, "stores": stores, "facilities": facilities}


def write_tiled_segmentation(
    scan: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    tile_size: float = 40.0,
    crs: Any = None,
    overwrite: bool = False,
    **segment_kwargs: Any,
) -> tuple[list[Path], Any]:
    """``geo3d segment`` for scans too big for memory: streamed tile by tile.

    The same three files as :func:`write_segmentation` (``points.laz``, ``objects.gpkg``,
    ``report.json``), made by :func:`geo3d.indoor.tiled.segment_file` with memory bounded by a
    chunk and the largest tile. A level's outline is the convex hull of its objects' footprints
    (the points are never all in memory to outline the floor itself).

    Returns
    -------
    (list of Path, TiledSegmentation)
    """
    from ..io.atomic import check_can_write
    from .tiled import segment_file

    out = check_can_write(out_dir, overwrite=overwrite)
    names = ["points.laz", "objects.gpkg", "report.json"]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        with WarningLog() as record:
            res = segment_file(scan, tmp / "points.laz", tile_size=tile_size, crs=crs, **segment_kwargs)
        objs = res.objects.reset_index()
        hull = objs.groupby("floor").geometry.agg(lambda g: shapely.convex_hull(shapely.union_all(g.to_numpy())))
        outlines = [hull.get(f, shapely.Polygon()) for f in res.levels["floor"]]
        layers = object_layers(res.levels, outlines, objs, crs=res.objects.crs)
        for name, layer in layers.items():
            layer.to_file(tmp / "objects.gpkg", layer=name, driver="GPKG")
        report = {
            "source": str(scan), "points": res.n_points, "streamed": True,
            "tiles": {"n": res.n_tiles, "size_m": res.tile_size, "margin_m": res.margin,
                      "largest_tile_points": res.largest_tile},
            "levels": _levels_records(res.levels), "counts": _counts(res.objects),
            "warnings": record.messages,
            "timings_s": {k: round(v, 3) for k, v in res.timings.items()},
            "peak_rss_mb": None if res.peak_rss is None else round(res.peak_rss / 2**20, 1),
            "software": _software(),
        }
        (tmp / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2, default=str),
                                         encoding="utf-8")
    log.info("write_tiled_segmentation: %s (%s)", out, ", ".join(names))
    return [out / n for n in names], res


def _levels_records(levels: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for row in levels[["floor", "label", "ordinal", "slab_z", "ceiling_z"]].to_dict("records")]


def _counts(objects: Any) -> dict[str, Any]:
    per_level: dict[str, dict[str, int]] = {}
    for floor, group in objects.groupby("floor"):
        per_level[str(int(floor))] = {str(k): int(v) for k, v in group["kind"].value_counts().sort_index().items()}
    return {"per_level": per_level,
            "per_class": {CLASS_NAMES[int(k)]: int(v) for k, v in
                          objects["object_class"].value_counts().sort_index().items()}}


def _software() -> dict[str, str]:
    import laspy

    return {"geo3d": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "laspy": laspy.__version__, "geopandas": gpd.__version__, "shapely": shapely.__version__}


def _report(result: ScanSegmentation, source: Path, extra: Mapping[str, Any] | None,
            timings: Mapping[str, float], file_points: int | None = None) -> dict[str, Any]:
    counts = _counts(result.objects)
    counts["unclassified_objects"] = 0 if result.unclassified is None else len(result.unclassified)
    counts["points_per_class"] = {CLASS_NAMES[int(k)]: int(v) for k, v in
                                  zip(*np.unique(result.object_class, return_counts=True), strict=True)}
    return {
        "source": str(source),
        "points": len(result.level) if file_points is None else file_points,  # the file's, as in points.laz
        "distinct_points": len(result.level),  # after dropping exact duplicates (and NaN points)
        "levels": _levels_records(result.levels),
        "counts": counts,
        "market_check": dict(result.market_check),
        "parameters": dict(result.parameters),
        "warnings": list(result.warnings),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "software": _software(),
        **(dict(extra) if extra else {}),
    }


def write_segmentation(
    cloud: PointCloud,
    result: ScanSegmentation,
    out_dir: str | os.PathLike[str],
    *,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    report: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    timings: Mapping[str, float] | None = None,
) -> list[Path]:
    """Write ``points.laz``, ``objects.gpkg`` and ``report.json`` into ``out_dir``, atomically.

    Parameters
    ----------
    cloud : PointCloud
        The scan as read by :func:`geo3d.io.las.read_las` (its source file is copied point for
        point into ``points.laz`` with the extra dimensions).
    result : ScanSegmentation
        From :func:`~geo3d.indoor.scan.segment_scan`.
    out_dir : path
        Output folder; built aside and swapped in, so a failure leaves nothing behind.
    layers : mapping, optional
        GeoPackage layers to write instead of :func:`segmentation_layers` (``geo3d scan`` adds
        aisles and addresses).
    report : mapping, optional
        Extra entries for report.json.
    overwrite : bool
        Replace an existing ``out_dir``.
    timings : mapping, optional
        Seconds of steps before segmentation (e.g. ``{"read": 1.2}``). report.json's
        ``timings_s`` holds them, every stage of ``result.timings`` (its ``total`` renamed
        ``segment_scan``), the outlines and layers (``layers``), the writing of each file, and
        ``total``: the sum, i.e. the whole run as far as this process could time it.

    Returns
    -------
    list of Path
    """
    out = Path(out_dir)
    t0 = time.perf_counter()
    layers = dict(layers) if layers is not None else segmentation_layers(cloud, result)
    steps = {**(dict(timings) if timings else {}),
             **{("segment_scan" if k == "total" else k): v for k, v in result.timings.items()},
             "layers": time.perf_counter() - t0}
    source = original_path(cloud.source.path) if cloud.source is not None else Path("<memory>")
    names = ["points.laz", "objects.gpkg", "report.json"]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        t = time.perf_counter()
        write_las(cloud, tmp / "points.laz", level=result.level, object_id=result.object_id,
                  object_class=result.object_class)
        steps["write_points"] = time.perf_counter() - t
        t = time.perf_counter()
        for name, layer in layers.items():
            layer.to_file(tmp / "objects.gpkg", layer=name, driver="GPKG")
        steps["write_objects"] = time.perf_counter() - t
        inner = set(result.timings) - {"total"}  # stages inside segment_scan's own total
        steps["total"] = sum(v for k, v in steps.items() if k not in inner)
        (tmp / "report.json").write_text(
            json.dumps(_report(result, source, report, steps,
                               cloud.source.point_count if cloud.source else None),
                       ensure_ascii=False, indent=2, default=str),
            encoding="utf-8",
        )
    log.info("write_segmentation: %s (%s)", out, ", ".join(names))
    return [out / n for n in names]
