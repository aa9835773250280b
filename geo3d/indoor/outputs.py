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

__all__ = ["level_footprints", "segmentation_layers", "write_segmentation"]

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
    levels = gpd.GeoDataFrame(
        result.levels[["floor", "label", "ordinal", "slab_z", "ceiling_z"]].copy(),
        geometry=level_footprints(cloud, result),
        crs=cloud.crs,
    )
    objs = result.objects.reset_index()
    # points per object at full resolution (segment_scan counts on its thinned working cloud)
    ids = objs["object_id"].to_numpy()
    full = np.bincount(result.object_id[result.object_id >= 0], minlength=int(ids.max(initial=0)) + 1)
    objs["n_points"] = full[ids]
    for col in ("aisle", "number", "address"):
        if col not in objs:
            objs[col] = pd.Series([None] * len(objs), dtype="object")
    keep = [c for c in OBJECT_COLUMNS if c in objs] + ["object_class", "height_above_slab", "x", "y"]
    stores = gpd.GeoDataFrame(objs.loc[objs["object_class"] == 1, keep],
                              geometry=objs.loc[objs["object_class"] == 1, "geometry"], crs=cloud.crs)
    fac = objs[objs["object_class"] > 1]
    facilities = gpd.GeoDataFrame(
        fac[keep],
        geometry=gpd.points_from_xy(fac["x"], fac["y"], (fac["z_min"] + fac["z_max"]) / 2),
        crs=cloud.crs,
    )
    return {"levels": levels, "stores": stores, "facilities": facilities}


def _report(result: ScanSegmentation, source: Path, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    import laspy
    import shapely as _shapely

    counts: dict[str, dict[str, int]] = {}
    for floor, group in result.objects.groupby("floor"):
        counts[str(int(floor))] = {str(k): int(v) for k, v in group["kind"].value_counts().sort_index().items()}
    return {
        "source": str(source),
        "points": len(result.level),
        "levels": [
            {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
            for row in result.levels[["floor", "label", "ordinal", "slab_z", "ceiling_z"]].to_dict("records")
        ],
        "counts": {
            "per_level": counts,
            "per_class": {CLASS_NAMES[int(k)]: int(v) for k, v in
                          result.objects["object_class"].value_counts().sort_index().items()},
            "points_per_class": {CLASS_NAMES[int(k)]: int(v) for k, v in
                                 zip(*np.unique(result.object_class, return_counts=True), strict=True)},
        },
        "warnings": list(result.warnings) if hasattr(result, "warnings") else [],
        "timings_s": {k: round(v, 3) for k, v in result.timings.items()},
        "software": {
            "geo3d": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "laspy": laspy.__version__,
            "geopandas": gpd.__version__,
            "shapely": _shapely.__version__,
        },
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
            json.dumps(_report(result, source, report), ensure_ascii=False, indent=2, default=str),
            encoding="utf-8",
        )
    log.info("write_segmentation: %s (%s)", out, ", ".join(names))
    return [out / n for n in names]
