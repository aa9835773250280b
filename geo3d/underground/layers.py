"""Which source layer is what: UIS names, canonical frames, ``column_map`` and schema maps.

The helpers of :func:`geo3d.underground.read_pipes` (and :func:`read_structures`): finding the
layers of a source and of a schema map, and choosing the layer mapping each is read with.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from .._checks import crs_label
from ..errors import CRSError, InputError, SchemaError, two_forms
from ..io.vector import read_vector, to_metric, vector_layers
from . import schema
from .schema_map import SchemaMap

__all__ = ["collect_layers", "drop_flat_z", "generic_mapping", "layer_mappings",
           "layers_in_one_crs", "match_by_fields"]

logger = logging.getLogger(__name__)

Layer = tuple[str, gpd.GeoDataFrame, dict[str, Any] | None]


def collect_layers(
    source: Any,
    *,
    smap: SchemaMap | None,
    layers: Sequence[str] | None,
    source_crs: Any,
    encoding: str | None,
) -> list[Layer]:
    """``(name, frame, schema-map mapping or None)`` for every layer to read.

    Layers of a schema map that name a file are read from it (in the map's ``crs`` when given);
    the others are looked up by name in ``source``. ``source_crs`` declares or overrides the CRS
    of every layer whose map gives none.

    Raises
    ------
    SchemaError
        A map layer that is neither a file nor a layer of ``source`` (the layers are listed).
    InputError
        ``layers`` names a layer that is not there.
    """
    out: list[Layer] = []
    wanted = {w.upper() for w in layers} if layers is not None else None
    done: set[Path] = set()
    if smap is not None:
        for lm in smap.layers:
            if lm.path is not None:
                frame = read_vector(lm.path, layer=lm.layer, crs=lm.crs or source_crs,
                                    encoding=encoding, what="layer")
                out.append((lm.layer or lm.path.stem, frame, lm.mapping))
                done.add(lm.path.resolve())
    found: list[tuple[Path, str]] = []
    if isinstance(source, gpd.GeoDataFrame):
        frame = source if source_crs is None else source.set_crs(source_crs, allow_override=True)
        name = layers[0] if layers else "frame"
        hit = smap.find(name) if smap is not None else None
        out.append((name, frame, hit.mapping if hit is not None else None))
    elif source is not None:
        found = vector_layers(source)
        for path, lname in found:
            if path.resolve() in done or (wanted is not None and lname.upper() not in wanted):
                continue
            hit = smap.find(lname) if smap is not None else None
            crs = (hit.crs if hit is not None else None) or source_crs
            frame = read_vector(path, layer=lname, crs=crs, encoding=encoding, what="layer")
            out.append((lname, frame, hit.mapping if hit is not None else None))
    _check_found(out, found, smap, wanted, source)
    return out


def layers_in_one_crs(plan: list[Layer], target: CRS | None, *, what: str) -> list[Layer]:
    """Every layer in one metric CRS: ``target``, else the first layer's (metric) CRS."""
    no_crs = [n for n, f, _ in plan if len(f) and f.crs is None]
    if no_crs:
        py, cli = two_forms(
            "layer(s) {n} have no CRS; {fix} — geo3d does not guess CRSs",
            n=(", ".join(no_crs),) * 2,
            fix=("pass source_crs='EPSG:5186' (the CRS its coordinates are in), add a .prj, or "
                 "gdf.set_crs(...) for a GeoDataFrame",
                 "give the CRS its coordinates are in with --crs (e.g. --crs EPSG:5186) or "
                 "crs = \"...\" in the --schema map"))
        raise CRSError(py, cli=cli)
    out: list[Layer] = []
    first: CRS | None = target
    for lname, frame, mapping in plan:
        if len(frame):
            frame = frame.to_crs(target) if target is not None else to_metric(
                frame, what=f"layer {lname}")
            if first is None:
                first = CRS(frame.crs)
            elif not CRS(frame.crs).equals(first):
                logger.warning("%s: layer %s reprojected from %s to %s (the first "
                               "layer's CRS)", what, lname, crs_label(frame.crs), crs_label(first))
                frame = frame.to_crs(first)
        out.append((lname, frame, mapping))
    return out


def _check_found(out: list[Layer], found: list[tuple[Path, str]], smap: SchemaMap | None,
                 wanted: set[str] | None, source: Any) -> None:
    names = {n.upper() for n, _, _ in out}
    have = ", ".join(sorted({n for _, n in found})) or "none"
    if smap is not None:
        lost = [lm.source for lm in smap.layers if lm.path is None and lm.source.upper() not in names]
        if lost:
            py, cli = two_forms(
                "the schema map names {what} that {where} does not hold: {lost}; layers there: "
                "{have}. A map's source is a file (relative to the map) or a layer of {src}",
                what=("layers",) * 2, where=(f"{source}",) * 2, lost=(", ".join(lost),) * 2,
                have=(have,) * 2, src=("the pipes source", "--pipes"))
            raise SchemaError(py, cli=cli)
    if wanted is not None:
        missing = wanted - names
        if missing:
            msg = f"layers {sorted(missing)} not found in {source}; layers there: {have}"
            raise InputError(msg)


def layer_mappings(column_map: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Split ``column_map`` into per-layer mappings (by name) and one generic mapping."""
    tables = {k.upper(): dict(v) for k, v in schema.LAYER_MAPPINGS.items()}
    if not column_map:
        return tables, None
    if all(isinstance(v, Mapping) for v in column_map.values()):
        for k, v in column_map.items():
            tables[k.upper()] = dict(v)
        return tables, None
    return tables, {"fields": dict(column_map)}


_CONSTANT_ROLES: dict[str, tuple[str, ...]] = {
    "utility": (*schema.UTILITIES, *schema.OPTIONAL_UTILITIES),
    "depth_reference": schema.DEPTH_REFERENCES,
    "depth_kind": schema.DEPTH_KINDS,
}


def generic_mapping(generic: Mapping[str, Any], cols: set[str], *,
                 units: Mapping[str, str]) -> dict[str, Any]:
    """The flat ``column_map`` as a layer mapping for one layer's columns.

    ``utility``, ``depth_reference`` and ``depth_kind`` may be constants (``"top"``) rather than
    field names; canonical columns the source already has are taken as they are.
    """
    fields = {k: str(v) for k, v in generic["fields"].items()}
    mapping: dict[str, Any] = {k: v for k, v in generic.items() if k != "fields"}
    for role, valid in _CONSTANT_ROLES.items():
        value = fields.get(role)
        if value is not None and value.lower() not in cols and value in valid:
            mapping[role] = fields.pop(role)
    used = {v.lower() for v in fields.values()}
    for c in schema.CANONICAL_COLUMNS:
        if c in cols and c not in fields and c not in used and c != "geometry":
            if not (c == "utility" and mapping.get("utility")):
                fields[c] = c
    mapping["fields"] = fields
    mapping["required"] = list(fields.values())
    mapping["units"] = dict(units)
    return mapping


def match_by_fields(cols: set[str], tables: Mapping[str, Any]) -> str | None:
    """A layer name whose required fields the columns hold — only when exactly one matches."""
    hits = [
        name for name, m in tables.items()
        if m.get("required") and all(f.lower() in cols for f in m["required"])
        and len(m["required"]) >= 4
    ]
    return hits[0] if len(hits) == 1 else None


def drop_flat_z(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Drop a Z dimension that is all 0 or NaN (a 2D layer stored as 3D)."""
    values = geoms.to_numpy()
    has_z = shapely.has_z(values)
    if not has_z.any():
        return geoms
    z = shapely.get_coordinates(values[has_z], include_z=True)[:, 2]
    if np.all((z == 0) | np.isnan(z)):
        return gpd.GeoSeries(shapely.force_2d(values), index=geoms.index, crs=geoms.crs)
    return geoms
