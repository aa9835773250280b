"""The whole ``geo3d scan``: segmentation → aisles → addresses → validated files (docs/contracts.md).

Examples
--------
>>> import geo3d, tempfile, pathlib
>>> from geo3d.address.pipeline import scan_to_addresses
>>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> files = scan_to_addresses(geo3d.datasets.get_path("market"),
...                           geo3d.datasets.get_path("market_toml"), out)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from ..errors import Geo3DError, InputError
from ..io.atomic import atomic_dir, check_can_write
from ..pointcloud.cloud import PointCloud
from .assign import assign_addresses, orient_aisles
from .format import floor_label, floor_ordinal
from .imdf import to_imdf
from .market import Market, read_market
from .osm import to_osm_geojson, write_addresses_csv
from .validate import AddressValidation, validate_addresses

__all__ = ["AISLE_TOLERANCE_M", "ScanAddresses", "address_segmentation", "check_aisles_near", "entrance_storey", "renumber_levels", "scan_layers", "scan_to_addresses", "write_scan"]

log = logging.getLogger(__name__)


@dataclass
class ScanAddresses:
    """Addresses of a segmented scan: the output record, the aisles used, the validation."""

    addresses: gpd.GeoDataFrame
    aisles: gpd.GeoDataFrame
    validation: AddressValidation
    aisles_source: str
    timings: dict[str, float] = field(default_factory=dict)


def entrance_storey(cloud: PointCloud, result: Any, market: Market) -> int | None:
    """Index (height order from 0) of the street-entrance storey, or None when unknown.

    From MARKET.toml's aisles when they name one floor per detected storey; else the storey with
    an opening in its wall at ``principal_entrance`` (fewest points 0.5–2 m above its slab
    within 1 m of it).
    """
    lv = result.levels.sort_values("slab_z").reset_index(drop=True)
    n = len(lv)
    ef = market.entrance_floor if market.entrance_floor is not None else 1
    if market.aisles is not None:
        floors = sorted({int(f) for f in market.aisles["floor"]})
        if len(floors) == n and ef in floors:
            return floors.index(ef)
    if market.principal_entrance is None or n < 2:
        return None
    xyz = cloud.xyz
    pe = np.asarray(market.principal_entrance)
    near = np.hypot(xyz[:, 0] - pe[0], xyz[:, 1] - pe[1]) < 1.0
    counts = []
    for z in lv["slab_z"].to_numpy(float):
        h = xyz[near, 2] - z
        counts.append(int(((h > 0.5) & (h < 2.0)).sum()))
    srt = sorted(counts)
    if srt[0] >= 0.5 * srt[1]:  # not decisive: every storey has an opening there (or none has)
        return None
    return int(np.argmin(counts))


def renumber_levels(result: Any, entrance_index: int) -> Any:
    """A copy of a ``segment_scan`` result whose floors make storey ``entrance_index`` 1층."""
    lv = result.levels.copy()
    order = np.argsort(lv["slab_z"].to_numpy(float), kind="stable")
    idx = np.empty(len(lv), dtype=np.int64)
    idx[order] = np.arange(len(lv)) - entrance_index
    new = np.where(idx >= 0, idx + 1, idx)
    old = lv["floor"].to_numpy(np.int64)
    if np.array_equal(old, new):
        return result
    mapping = dict(zip(old.tolist(), new.tolist(), strict=True))
    lv["floor"] = new
    lv["label"] = [floor_label(int(f)) for f in new]
    lv["ordinal"] = [floor_ordinal(int(f)) for f in new]
    objects = result.objects.copy()
    objects["floor"] = objects["floor"].map(lambda f: mapping.get(int(f), int(f))).astype(objects["floor"].dtype)
    lut_keys = np.array(list(mapping), dtype=np.int64)
    level = result.level.copy()
    src = result.level.astype(np.int64)
    for k in lut_keys:
        level[src == k] = mapping[int(k)]
    log.info("renumber_levels: storey %d is 1층 (floors %s -> %s)", entrance_index, old.tolist(), new.tolist())
    return dataclasses.replace(result, levels=lv, objects=objects, level=level)


def address_segmentation(cloud: PointCloud, result: Any, market: Market, *,
                         aisles: gpd.GeoDataFrame | None = None) -> ScanAddresses:
    """Aisles (given or detected), entrances, numbers and validation for a ``segment_scan`` result.

    Raises :class:`~geo3d.address.AddressError` when a rule of docs/addresses.md is broken.
    """
    t0 = time.perf_counter()
    crs = cloud.crs if cloud.crs is not None else market.crs
    source = "given"
    if aisles is None:
        aisles = market.aisles
        if aisles is not None:
            check_aisles_near(aisles, cloud)
    if aisles is None and len(result.stores) == 0 and len(result.facilities) == 0:
        # nothing to address (a pump room, an outdoor tile): no aisles to detect either
        aisles = gpd.GeoDataFrame({"name": pd.Series([], dtype=object),
                                   "floor": pd.Series([], dtype="int64")},
                                  geometry=gpd.GeoSeries([], crs=crs))
        source = "none (nothing to address)"
    if aisles is None:
        from ..indoor.aisles import aisles_from_cloud

        aisles = aisles_from_cloud(cloud, result, entrance=market.principal_entrance, name=market.name)
        source = "detected"
    aisles = aisles.set_crs(crs, allow_override=True) if crs is not None else aisles
    aisles = orient_aisles(aisles, start=market.start)  # the layers and the map show the numbering direction
    t1 = time.perf_counter()
    stores = result.stores
    facilities = result.facilities
    if crs is not None:
        stores = stores.set_crs(crs, allow_override=True)
        facilities = facilities.set_crs(crs, allow_override=True)
    addresses = assign_addresses(stores, facilities, aisles, result.levels, market, entrances="faces")
    t2 = time.perf_counter()
    validation = validate_addresses(addresses, aisles, market, raise_on_error=True)
    t3 = time.perf_counter()
    return ScanAddresses(addresses, aisles, validation, source,
                         {"aisles": t1 - t0, "assign_addresses": t2 - t1, "validate_addresses": t3 - t2})


#: how far beyond the scan's plan extent a given aisle may lie (m); aisles run inside the building
AISLE_TOLERANCE_M = 10.0


def check_aisles_near(aisles: gpd.GeoDataFrame, cloud: PointCloud) -> None:
    """Refuse aisles (from MARKET.toml) that lie beyond the scan, e.g. in another CRS or mistyped.

    An aisle must come within :data:`AISLE_TOLERANCE_M` of the scan's plan extent; otherwise
    every object would be addressed onto an aisle far away.

    Raises
    ------
    InputError
    """
    if len(cloud) == 0 or len(aisles) == 0:
        return
    import shapely

    xmin, ymin, _, xmax, ymax, _ = cloud.bounds
    extent = shapely.box(xmin, ymin, xmax, ymax)
    far = [(str(n), float(extent.distance(g))) for n, g in zip(aisles["name"], aisles.geometry, strict=True)
           if extent.distance(g) > AISLE_TOLERANCE_M]
    if far:
        listed = "; ".join(f"{n!r} lies {d:,.0f} m from it" for n, d in far)
        msg = (f"MARKET.toml: {len(far)} of {len(aisles)} aisles lie outside the scan "
               f"(x {xmin:,.1f}..{xmax:,.1f}, y {ymin:,.1f}..{ymax:,.1f}): {listed}. Aisle lines are in the "
               "scan's coordinates (metres, its CRS): check their numbers, or leave [[aisles]] out to "
               "detect them")
        raise InputError(msg)


def scan_layers(cloud: PointCloud, result: Any, scan: ScanAddresses) -> dict[str, gpd.GeoDataFrame]:
    """GeoPackage layers levels, aisles, stores, facilities (with aisle, number, address)."""
    from ..indoor.outputs import segmentation_layers

    layers = segmentation_layers(cloud, result)
    a = scan.addresses.set_index("object_id")
    for key in ("stores", "facilities"):
        lay = layers[key].copy()
        ids = lay["object_id"].to_numpy()
        for col in ("aisle", "number", "address"):
            lay[col] = a[col].reindex(ids).to_numpy(dtype=object)
        for col in ("s_m", "side", "label", "ordinal", "reason"):
            lay[col] = a[col].reindex(ids).to_numpy(dtype=object if col in ("side", "label", "reason") else None)
        lay["ordinal"] = pd.array(lay["ordinal"], dtype="Int64")
        lay["s_m"] = lay["s_m"].astype(float)
        layers[key] = lay
    aisles = scan.aisles[["name", "floor", "geometry"]].copy()
    layers["aisles"] = gpd.GeoDataFrame(aisles, geometry="geometry", crs=layers["levels"].crs or scan.aisles.crs)
    return {k: layers[k] for k in ("levels", "aisles", "stores", "facilities")}


def write_scan(cloud: PointCloud, result: Any, scan: ScanAddresses, market: Market,
               out_dir: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
    """Write points.laz, objects.gpkg, addresses.csv, imdf.zip, objects.osm.geojson, map.html and
    report.json into ``out_dir``, all or nothing."""
    from ..indoor.outputs import write_segmentation
    from ..indoor.paths_output import write_paths
    from ..viz.market_map import market_map_to_html

    out = Path(out_dir)
    layers = scan_layers(cloud, result, scan)
    a = scan.addresses
    report = {"addresses": {
        "scheme": market.scheme, "interval_m": market.interval_m, "aisles_source": scan.aisles_source,
        "aisles": [{"name": str(n), "floor": int(f), "length_m": round(float(g.length), 2)}
                   for n, f, g in zip(scan.aisles["name"], scan.aisles["floor"], scan.aisles.geometry, strict=True)],
        "addressed": int(a["address"].notna().sum()),
        "not_addressed": int(a["address"].isna().sum()),
        "per_kind": {str(k): int(v) for k, v in a.loc[a["address"].notna(), "kind"].value_counts().sort_index().items()},
        **scan.validation.to_dict(),
        "timings_s": {k: round(v, 3) for k, v in scan.timings.items()},
    }}
    names = ["points.laz", "objects.gpkg", "addresses.csv", "imdf.zip", "objects.osm.geojson", "map.html",
             "report.json", "paths.gpkg", "indoorgml.json"]
    try:
        paths: Any = write_paths(cloud, result, scan, market, layers["levels"])  # paths.gpkg, indoorgml.json
        paths_report = paths.report
    except Geo3DError as exc:  # e.g. no exit known: the places are still addressed, say why no paths
        paths, paths_report = None, {"written": False, "reason": str(exc)}
        names = [n for n in names if n not in ("paths.gpkg", "indoorgml.json")]
        warnings.warn(f"write_scan: paths.gpkg and indoorgml.json not written: {exc}", UserWarning,
                      stacklevel=2)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        write_segmentation(cloud, result, tmp, layers=layers, report=report | {"paths": paths_report}, overwrite=True)
        if paths is not None:
            paths.write(tmp)
        write_addresses_csv(a, tmp / "addresses.csv")
        to_imdf(a, scan.aisles, layers["levels"], market, tmp / "imdf.zip",
                exits=paths.exit_doors() if paths is not None else None)
        to_osm_geojson(a, tmp / "objects.osm.geojson", crs=a.crs or market.crs)
        if len(a) == 0:  # nothing to draw: say so rather than write an empty map
            names = [n for n in names if n != "map.html"]
            log.warning("write_scan: no store and no facility: map.html not written")
        else:
            market_map_to_html(a, tmp / "map.html", aisles=scan.aisles, levels=layers["levels"],
                               title=f"{market.name} 3D 주소 지도 · 3D address map",
                               network=paths.network.edges if paths is not None else None,
                               evacuation=paths.evacuation.routes if paths is not None else None)
    log.info("write_scan: %s", out)
    return [out / n for n in names]


def scan_to_addresses(scan_path: str | os.PathLike[str], market_path: str | os.PathLike[str] | Market,
                      out_dir: str | os.PathLike[str], *, overwrite: bool = False,
                      method: str = "voxel_cc") -> tuple[list[Path], ScanAddresses]:
    """Read, segment, address and write a market scan (what ``geo3d scan`` does)."""
    from ..indoor.scan import segment_scan
    from ..io.las import crs_for_bounds, read_las

    market = market_path if isinstance(market_path, Market) else read_market(market_path)
    check_can_write(out_dir, overwrite=overwrite)
    cloud = read_las(scan_path)
    if cloud.crs is None and market.crs is not None and len(cloud):  # refused as a file's CRS would be
        cloud.crs = crs_for_bounds(CRS.from_user_input(market.crs), cloud.bounds, what="MARKET.toml crs")
    if market.aisles is not None:
        check_aisles_near(market.aisles, cloud)  # before the segmentation
    result = segment_scan(cloud, method=method)
    ent = entrance_storey(cloud, result, market)
    if ent is not None:
        result = renumber_levels(result, ent)
    scan = address_segmentation(cloud, result, market)
    files = write_scan(cloud, result, scan, market, out_dir, overwrite=overwrite)
    return files, scan
