"""OSM-tagged GeoJSON (Simple Indoor Tagging + ``addr:*``) and the addresses CSV.

Examples
--------
>>> osm_tags("fire_extinguisher")
{'emergency': 'fire_extinguisher'}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ..io.atomic import atomic_path

__all__ = ["CSV_COLUMNS", "OSM_TAGS", "osm_tags", "to_osm_geojson", "write_addresses_csv"]

#: addresses.csv header (docs/contracts.md)
CSV_COLUMNS = ["object_id", "object_class", "kind", "floor", "aisle", "s_m", "side", "number", "address",
               "x", "y", "z"]

#: OSM tags per kind (docs/addresses.md's table)
OSM_TAGS: dict[str, dict[str, str]] = {
    "store": {"indoor": "room", "shop": "yes"},
    "fire_extinguisher": {"emergency": "fire_extinguisher"},
    "indoor_hydrant": {"emergency": "fire_hydrant", "fire_hydrant:type": "wall"},
    "aed": {"emergency": "defibrillator"},
    "fire_alarm": {"emergency": "fire_alarm_box"},
    "exit_sign": {"entrance": "emergency"},
    "other_facility": {"emergency": "first_aid_kit"},
    "cctv": {"man_made": "surveillance"},
}


def osm_tags(kind: str) -> dict[str, str]:
    """The OSM tags of an object kind (a copy)."""
    return dict(OSM_TAGS.get(kind, {}))


def _fmt(v: pd.Series, nd: int = 3) -> pd.Series:
    out = v.astype(float).map(lambda x: "" if not np.isfinite(x) else f"{x:.{nd}f}")
    return out


def write_addresses_csv(addresses: pd.DataFrame, path: str | os.PathLike[str], *,
                        overwrite: bool = False) -> Path:
    """Write ``addresses.csv`` (UTF-8, header of docs/contracts.md) atomically."""
    a = addresses.sort_values("object_id")
    df = pd.DataFrame({
        "object_id": a["object_id"].astype(int).to_numpy(),
        "object_class": a["object_class"].astype(int).to_numpy(),
        "kind": a["kind"].astype(str).to_numpy(),
        "floor": a["floor"].astype(int).to_numpy(),
        "aisle": a["aisle"].to_numpy(dtype=object),
        "s_m": _fmt(a["s_m"]).to_numpy(),
        "side": a["side"].to_numpy(dtype=object),
        "number": a["number"].to_numpy(dtype=object),
        "address": a["address"].to_numpy(dtype=object),
        "x": _fmt(a["x"]).to_numpy(), "y": _fmt(a["y"]).to_numpy(), "z": _fmt(a["z"]).to_numpy(),
    })
    out = Path(path)
    with atomic_path(out, overwrite=overwrite) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return out


def to_osm_geojson(addresses: gpd.GeoDataFrame, path: str | os.PathLike[str] | None = None, *,
                   crs: Any = None, overwrite: bool = False) -> dict[str, Any]:
    """OSM-tagged GeoJSON (WGS84) of stores and facilities; written atomically when ``path`` is given.

    Each feature carries the kind's tags, ``level`` (IMDF ordinal, OSM convention), ``level:ref``
    (the Korean floor label), ``addr:street`` / ``addr:housenumber`` / ``addr:full`` and ``ref``.
    """
    src = crs or addresses.crs
    g = np.asarray(addresses.geometry.values, dtype=object)
    if src is not None:
        tr = pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(src), "EPSG:4326", always_xy=True)
        g = shapely.transform(g, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))
    feats = []
    for row, geom in zip(addresses.itertuples(), g, strict=True):
        tags: dict[str, Any] = osm_tags(str(row.kind))
        tags["level"] = str(row.ordinal) if not pd.isna(row.ordinal) else None
        tags["level:ref"] = row.label if isinstance(row.label, str) else None
        if isinstance(row.address, str):
            tags["addr:street"] = row.aisle
            tags["addr:housenumber"] = row.number
            tags["addr:full"] = row.address
            tags["ref"] = row.number
        tags["geo3d:object_id"] = int(row.object_id)
        feats.append({"type": "Feature", "properties": {k: v for k, v in tags.items() if v is not None},
                      "geometry": json.loads(shapely.to_geojson(geom))})
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": feats}
    if path is not None:
        with atomic_path(Path(path), overwrite=overwrite) as tmp:
            tmp.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return fc
