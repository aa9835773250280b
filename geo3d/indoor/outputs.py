"""Write what the indoor pipeline found: points.laz, objects.gpkg and report.json (CONTRACTS.md)."""

from __future__ import annotations

import json
import logging
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import __version__
from ..io.atomic import atomic_dir
from ..io.las import write_las
from ..pointcloud.cloud import PointCloud
from ..pointcloud.evaluate import CLASS_NAMES
from .scan import ScanSegmentation

__all__ = ["level_footprints", "object_layers", "segmentation_layers", "write_segmentation",
           "write_tiled_segmentation"]

log = logging.getLogger(__name__)

OBJECT_COLUMNS = ["object_id", "kind", "floor", "aisle", "number", "address", "z_min", "z_max", "n_points"]


def level_footprints(cloud: PointCloud, result: ScanSegmentation, *, cell: float = 0.5) -> gpd.GeoSeries:
    """Plan outline of every level: the union of the plan cells its points occupy.

    Returns a GeoSeries aligned to ``result.levels`` (one Polygon/MultiPolygon per level).
    """
    xyz = cloud.xyz
    polys = []
    origin = xyz[:, :2].min(axis=0)
    for floor in result.levels["floor"].to_numpy():
        sel = result.level == floor
        ij = np.unique(np.floor((xyz[sel, :2] - origin) / cell).astype(np.int64), axis=0)
        lo = origin + ij * cell
        boxes = shapely.box(lo[:, 0], lo[:, 1], lo[:, 0] + cell, lo[:, 1] + cell)
        polys.append(shapely.union_all(boxes).simplify(cell / 2) if len(boxes) else shapely.Polygon())
    return gpd.GeoSeries(polys, index=result.levels.index, crs=cloud.crs)


def segmentation_layers(cloud: PointCloud, result: ScanSegmentation) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers of CONTRACTS.md: ``levels``, ``stores``, ``facilities``.

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
            file_points: int | None = None) -> dict[str, Any]:
    counts = _counts(result.objects)
    counts["points_per_class"] = {CLASS_NAMES[int(k)]: int(v) for k, v in
                                  zip(*np.unique(result.object_class, return_counts=True), strict=True)}
    return {
        "source": str(source),
        "points": len(result.level) if file_points is None else file_points,  # the file's, as in points.laz
        "distinct_points": len(result.level),  # after dropping exact duplicates (and NaN points)
        "levels": _levels_records(result.levels),
        "counts": counts,
        "warnings": list(result.warnings) if hasattr(result, "warnings") else [],
        "timings_s": {k: round(v, 3) for k, v in result.timings.items()},
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

    Returns
    -------
    list of Path
    """
    out = Path(out_dir)
    layers = dict(layers) if layers is not None else segmentation_layers(cloud, result)
    source = cloud.source.path if cloud.source is not None else Path("<memory>")
    names = ["points.laz", "objects.gpkg", "report.json"]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        write_las(cloud, tmp / "points.laz", level=result.level, object_id=result.object_id,
                  object_class=result.object_class)
        for name, layer in layers.items():
            layer.to_file(tmp / "objects.gpkg", layer=name, driver="GPKG")
        (tmp / "report.json").write_text(
            json.dumps(_report(result, source, report, cloud.source.point_count if cloud.source else None),
                       ensure_ascii=False, indent=2, default=str),
            encoding="utf-8",
        )
    log.info("write_segmentation: %s (%s)", out, ", ".join(names))
    return [out / n for n in names]
