"""Point structures of a utility network: manholes, valves, hydrants, break records.

:func:`read_structures` reads point layers into one GeoDataFrame with the columns
``utility, kind, structure_id, source_layer, depth_m, geometry``: the Korean UIS point layers
of :data:`UIS_POINT_LAYERS` by name, a layer that already has ``utility`` and ``kind``
columns, or any point layer through a schema map (``kind = "valve"`` or ``kind_field`` with
``[layer.kind_values]``; :mod:`geo3d.underground.schema_map`). Like pipes, structures are
reprojected to one metric CRS and their depths follow the same rules: a depth of 0 or below is
unknown (NaN), with a warning for negative ones.

Examples
--------
>>> import geopandas as gpd, shapely
>>> manholes = gpd.GeoDataFrame({"ftr_idn": [11, 12], "dep": [2.4, 0.0]},
...     geometry=[shapely.Point(0, 0), shapely.Point(5, 0)], crs="EPSG:5186")
>>> read_structures(manholes, layers=["SWL_MANH_PS"])
  utility     kind structure_id source_layer  depth_m     geometry
0   sewer  manhole           11  SWL_MANH_PS      2.4  POINT (0 0)
1   sewer  manhole           12  SWL_MANH_PS      NaN  POINT (5 0)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import SchemaError, two_forms
from . import schema
from .harmonise import DEPTH_UNITS, unit_factor
from .layers import collect_layers, layers_in_one_crs
from .schema_map import STRUCTURE_KINDS, SchemaMap, read_schema_map

__all__ = ["DEPTH_FIELDS", "STRUCTURE_COLUMNS", "UIS_POINT_LAYERS", "read_structures"]

logger = logging.getLogger(__name__)

#: Korean UIS point layers → (utility, kind). Names from the UIS/NGIS layer catalogue.
UIS_POINT_LAYERS: dict[str, tuple[str, str]] = {
    "WTL_MANH_PS": ("water", "manhole"), "WTL_VALV_PS": ("water", "valve"),
    "WTL_FIRE_PS": ("water", "hydrant"), "WTL_META_PS": ("water", "meter"),
    "WTL_PRES_PS": ("water", "pump"), "SWL_MANH_PS": ("sewer", "manhole"),
    "SWL_PUMP_PS": ("sewer", "pump"), "UFL_GVAL_PS": ("gas", "valve"),
    "UFL_GMAN_PS": ("gas", "manhole"), "UFL_BMAN_PS": ("power", "manhole"),
    "UFL_KMAN_PS": ("telecom", "manhole"), "UFL_HMAN_PS": ("heat", "manhole"),
}
#: Field names read as a structure's depth (m) when no map names one, first match wins.
#: (The UIS depth field of point layers is not public; these are common spellings.)
DEPTH_FIELDS: tuple[str, ...] = ("depth_m", "dep", "std_dep", "man_dep", "mhs_dep", "hgt_dep",
                                 "depth")
#: The columns of :func:`read_structures`' result.
STRUCTURE_COLUMNS: tuple[str, ...] = ("utility", "kind", "structure_id", "source_layer",
                                      "depth_m", "geometry")


def read_structures(
    path: str | os.PathLike[str] | gpd.GeoDataFrame | None,
    *,
    schema: str | os.PathLike[str] | SchemaMap | None = None,
    crs: Any = None,
    layers: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read point structures (manholes, valves, hydrants, breaks …) into one GeoDataFrame.

    Parameters
    ----------
    path : path or GeoDataFrame
        A file or folder of point layers (any format of :func:`geo3d.io.vector.read_vector`:
        GeoPackage, Shapefile, GeoJSON, CSV with x/y or lon/lat …), or a GeoDataFrame (its
        layer name from ``layers[0]``). Line and polygon layers are skipped. May be None when
        every layer of ``schema`` names a file.
    schema : path or SchemaMap, optional
        A schema map: per layer ``utility``/``utility_field``, ``kind``/``kind_field`` with
        ``[layer.kind_values]``, ``id``, ``depth`` and ``crs``.
    crs : CRS-like, optional
        The CRS of the coordinates (declares or overrides the files'; a map's ``crs`` wins).
    layers : sequence of str, optional
        Read only these layers.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`STRUCTURE_COLUMNS`, Points in one metric CRS; ``depth_m`` NaN when unknown.

    Raises
    ------
    SchemaError
        No point layer could be recognised, or a layer lacks a mapped field.
    """
    smap = read_schema_map(schema) if isinstance(schema, str | os.PathLike) else schema
    frames = collect_layers(path, smap=smap, layers=layers, source_crs=crs, encoding=None)
    plan = []
    skipped: list[str] = []
    problems: list[str] = []
    for lname, frame, mapping in frames:
        frame = frame.rename(columns={c: c.lower() for c in frame.columns if isinstance(c, str)})
        kinds = set(frame.geom_type.dropna())
        if not kinds or not kinds <= {"Point", "MultiPoint"}:
            skipped.append(lname)
            continue
        rule = _rule(lname, frame, mapping)
        if rule is None:
            skipped.append(lname)
            continue
        missing = [f for f in rule["need"] if f not in frame.columns]
        if missing:
            have = ", ".join(c for c in frame.columns if c != frame.geometry.name)
            problems.append(f"layer {lname}: missing field(s) {', '.join(missing)}; its fields: "
                            f"{have}")
        plan.append((lname, frame.explode(index_parts=False), rule))
    if problems:
        raise SchemaError("read_structures: the layers lack mapped fields", problems)
    if not plan:
        py, cli = two_forms(
            "no point layer recognised as structures (layers: {s}); expected UIS point layers "
            "({u}), 'utility' and 'kind' columns, or {fix}", s=(", ".join(skipped) or "none",) * 2,
            u=(", ".join(UIS_POINT_LAYERS),) * 2,
            fix=("schema='MAP.toml' with utility and kind per layer",
                 "a --schema map with utility and kind per layer"))
        raise SchemaError(py, cli=cli)
    crs_plan = layers_in_one_crs([(n, f, None) for n, f, _ in plan], None, what="read_structures")
    parts = [_structures(n, f, rule) for (n, f, _), (_, _, rule) in zip(crs_plan, plan,
                                                                         strict=True)]
    out = pd.concat(parts, ignore_index=True)
    result = gpd.GeoDataFrame(out, geometry="geometry", crs=crs_plan[0][1].crs)
    logger.info("read_structures: %s structures from %d layer(s)", f"{len(result):,}",
                len(parts))
    return result


def _rule(lname: str, frame: gpd.GeoDataFrame, mapping: dict[str, Any] | None
          ) -> dict[str, Any] | None:
    """How to read one point layer (None: not a structures layer)."""
    cols = set(frame.columns)
    depth = next((c for c in DEPTH_FIELDS if c in cols), None)
    if mapping is not None:
        fields = {k: str(v).lower() for k, v in mapping.get("fields", {}).items()}
        return {"utility": mapping.get("utility"), "utility_field": fields.get("utility"),
                "utility_values": mapping.get("utility_values", {}),
                "kind": mapping.get("kind") or "other", "kind_field": (mapping.get("kind_field")
                                                                       or "").lower() or None,
                "kind_values": mapping.get("kind_values", {}), "id": fields.get("source_id"),
                "depth": fields.get("depth_m", depth if not fields else None),
                "unit": mapping.get("units", {}).get("depth", "m"),
                "need": [f for f in (*fields.values(), (mapping.get("kind_field") or "").lower())
                         if f]}
    if lname.upper() in UIS_POINT_LAYERS:
        utility, kind = UIS_POINT_LAYERS[lname.upper()]
        return {"utility": utility, "kind": kind, "id": "ftr_idn" if "ftr_idn" in cols else None,
                "depth": depth, "unit": "m", "need": []}
    if {"utility", "kind"} <= cols:
        ident = "structure_id" if "structure_id" in cols else None
        return {"utility_field": "utility", "kind_field": "kind", "id": ident, "depth": depth,
                "unit": "m", "need": []}
    return None


def _structures(lname: str, frame: gpd.GeoDataFrame, rule: dict[str, Any]) -> pd.DataFrame:
    idx = frame.index
    util = _coded(frame, rule.get("utility_field"), rule.get("utility"),
                  {**schema.UTILITY_ALIASES, **{u: u for u in (*schema.UTILITIES,
                                                               *schema.OPTIONAL_UTILITIES)},
                   **rule.get("utility_values", {})})
    kind = _coded(frame, rule.get("kind_field"), rule.get("kind"),
                  {**{k: k for k in STRUCTURE_KINDS}, **rule.get("kind_values", {})})
    valid = (*schema.UTILITIES, *schema.OPTIONAL_UTILITIES)
    bad = util.notna() & ~util.isin(valid) | util.isna()
    if bad.any():
        py, cli = two_forms("layer {n}: unknown utility value(s) {v}; {fix}", n=(lname,) * 2,
                            v=(", ".join(map(repr, sorted(set(util[bad].astype(str))))),) * 2,
                            fix=("map them in schema= [layer.utility_values]",
                                 "map them in the --schema map's [layer.utility_values]"))
        raise SchemaError(py, cli=cli)
    ids = frame[rule["id"]] if rule.get("id") else pd.Series(np.arange(len(frame)), index=idx)
    depth = pd.Series(np.nan, index=idx)
    if rule.get("depth"):
        depth = pd.to_numeric(frame[rule["depth"]], errors="coerce") * unit_factor(
            rule["unit"], DEPTH_UNITS, "depth")
        neg = int((depth < 0).sum())
        if neg:
            logger.warning("read_structures: layer %s: %d negative depth(s) set to unknown",
                           lname, neg)
        depth = depth.where(depth > 0)  # 0 and below: unknown (the depth-0 rule)
    return pd.DataFrame({
        "utility": util.to_numpy(dtype=object), "kind": kind.fillna("other").to_numpy(dtype=object),
        "structure_id": ids.astype(object).where(ids.notna(), None).astype(str).to_numpy(),
        "source_layer": lname, "depth_m": depth.to_numpy(dtype=np.float64),
        "geometry": frame.geometry.to_numpy()})


def _coded(frame: gpd.GeoDataFrame, field: str | None, constant: str | None,
           table: dict[str, str]) -> pd.Series:
    if field is None or field not in frame.columns:
        return pd.Series(constant, index=frame.index, dtype=object)
    key = frame[field].astype(object).where(frame[field].notna(), None).astype(str)
    lower = {str(k).strip().lower(): v for k, v in table.items()}
    return key.str.strip().str.lower().map(lower)
