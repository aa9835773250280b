"""Read pipe layers into the canonical schema (docs/underground.md), whatever their source.

:func:`read_pipes` reads a GeoPackage, a folder of files or any OGR source (also CSV, TopoJSON,
GeoParquet) holding the canonical schema or Korean UIS layers (``WTL_PIPE_LM``, ``SWL_PIPE_LM``,
``UFL_BPIP_LM``, ``UFL_KPIP_LS``, ``UFL_GPIP_LM``, ``UFL_HPIP_LM``), or any other line layer
through a schema map (``schema=``, :mod:`geo3d.underground.schema_map`) or a ``column_map``,
and returns **one** GeoDataFrame in **one** metric CRS, checked by :func:`validate_pipes`.

Examples
--------
A UIS water layer built inline (depth 0 means unknown):

>>> import geopandas as gpd, shapely
>>> wtl = gpd.GeoDataFrame(
...     {"ftr_idn": [1, 2], "pip_dip": [300, 150], "mop_cde": ["DIP", "CIP"],
...      "ist_ymd": ["19950312", ""], "low_dep": [1.2, 0.0], "hgh_dep": [1.4, 0.0],
...      "mng_cde": ["W1123", "W1123"]},
...     geometry=[shapely.LineString([(0, 0), (10, 0)]), shapely.LineString([(0, 5), (10, 5)])],
...     crs="EPSG:5186")
>>> pipes = read_pipes(wtl, layers=["WTL_PIPE_LM"])
>>> pipes[["utility", "source_id", "diameter_mm", "material", "install_year", "depth_m"]]
  utility source_id  diameter_mm     material  install_year  depth_m
0   water         1        300.0 ductile_iron          1995      1.3
1   water         2        150.0    cast_iron          <NA>     <NA>
>>> result = validate_pipes(pipes)
>>> result.problems, len(result.pipes)
([], 2)
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._checks import crs_label, require_metric_crs
from ..errors import EmptyResultError, InputError, SchemaError, two_forms
from . import schema as _schema
from .harmonise import (
    DEPTH_UNITS,
    DIAMETER_UNITS,
    conform_pipes,
    harmonise_layer,
    parse_install_year,
    parse_size,
    unit_factor,
)
from .layers import (
    collect_layers,
    drop_flat_z,
    generic_mapping,
    layer_mappings,
    layers_in_one_crs,
    match_by_fields,
)
from .schema_map import SchemaMap, read_schema_map
from .validation import LENGTH_COLUMNS, PipeValidation, validate_pipes

__all__ = [
    "DEPTH_UNITS",
    "DIAMETER_UNITS",
    "LENGTH_COLUMNS",
    "PipeValidation",
    "conform_pipes",
    "parse_install_year",
    "parse_size",
    "read_pipes",
    "validate_pipes",
]

logger = logging.getLogger(__name__)

Plan = list[tuple[str, gpd.GeoDataFrame, dict[str, Any] | None]]


def read_pipes(
    source: str | os.PathLike[str] | gpd.GeoDataFrame | None = None,
    *,
    schema: str | os.PathLike[str] | SchemaMap | None = None,
    layers: Sequence[str] | None = None,
    column_map: Mapping[str, Any] | None = None,
    crs: Any = None,
    source_crs: Any = None,
    utility: str | None = None,
    units: str | Mapping[str, str] | None = None,
    materials: Mapping[str, str] | None = None,
    encoding: str | None = None,
    keep_extra: bool = False,
    validate: bool = True,
) -> gpd.GeoDataFrame:
    """Read pipe layers into one canonical GeoDataFrame (the schema of docs/underground.md).

    Each layer is recognised by its name and fields: a Korean UIS layer of
    :data:`~geo3d.underground.schema.LAYER_MAPPINGS` (``WTL_PIPE_LM`` …; also an unknown name
    whose fields match exactly one UIS layer), a layer already in the canonical schema (it has
    a ``utility`` column), or any other layer through ``column_map``. Other layers are skipped
    with a log line. Lineage is kept: ``source_layer``, ``source_id`` (``ftr_idn`` for UIS)
    and ``material_raw``. UIS depth 0 means unknown: such depths are ``<NA>``, the row has
    ``depth_unknown=True`` and each layer logs one line
    ``read_pipes: WTL_PIPE_LM 412 segments, 124 depth unknown (30 %)``. UIS depths are cover
    depths to the top of the pipe (``depth_reference="top"``, ``depth_kind="cover"``); water's
    ``low_dep``/``hgh_dep`` (shallowest/deepest cover along the pipe) become ``depth_m`` = their
    mean (the one known value when the other is 0).

    Agency data that is none of these is described by a schema map (``schema=``, a
    ``MAP.toml`` path, see :mod:`geo3d.underground.schema_map`): fields, units, value maps and
    CRS per layer. Lengths are always metres: a layer in feet or degrees, or on a Bessel datum,
    is reprojected to a metric GRS80 CRS (:func:`geo3d.io.vector.to_metric`) with a warning;
    layers in different CRSs are reprojected to the first one's. The result is checked by
    :func:`validate_pipes` (``validate=True``): impossible values become unknown with a
    warning, and what cannot be read right is refused, every problem listed at once.

    Parameters
    ----------
    source : path or GeoDataFrame, optional
        A GeoPackage, shapefile, GeoJSON, TopoJSON, FlatGeobuf, CSV (x/y, lon/lat or WKT
        columns), GeoParquet, File GDB, a folder of such files, or an in-memory GeoDataFrame
        (its layer name is taken from ``layers[0]`` when given). May be None when every layer
        of ``schema`` names a file.
    schema : path or SchemaMap, optional
        A schema map file (``MAP.toml``) or :func:`~geo3d.underground.read_schema_map` result:
        how to read each layer that is not UIS or canonical.
    layers : sequence of str, optional
        Read only these layers (names as in the source, case-insensitive). Default: all.
    column_map : mapping, optional
        For layers that are neither UIS nor canonical: ``{role: source_field}`` where a role is
        a canonical column (``source_id``, ``agency``, ``diameter_mm``, ``material_raw``,
        ``depth_m``, ``depth_start_m``, ``accuracy_h_m`` …) or a parsed role (``size``,
        ``material``, ``install_date``, ``depth_min``/``depth_max``, ``pressure_code``,
        ``voltage_code``; see :mod:`geo3d.underground.schema`). ``utility``,
        ``depth_reference`` and ``depth_kind`` may be constants instead of field names
        (``{"depth_m": "cover", "depth_reference": "top", "depth_kind": "cover"}``); columns
        already named canonically are taken as they are. Alternatively
        ``{layer_name: layer_mapping}`` adds or replaces whole layer mappings for this call
        (a layer mapping may carry ``"units": {"diameter": "in", "depth": "ft"}``).
    crs : CRS-like, optional
        Target projected CRS in metres; every layer is reprojected to it.
    source_crs : CRS-like, optional
        The CRS the source's coordinates are in: declares it for layers that state none and
        overrides (with a warning) the one they state; a schema map's ``crs`` wins. The
        command line's ``--crs``.
    utility : str, optional
        The utility of ``column_map`` layers (when no field holds it).
    units : str or mapping, optional
        Units of ``column_map`` sizes: a key of :data:`DIAMETER_UNITS` (``"in"``, ``"m"`` …)
        or ``{"diameter": "in", "depth": "ft"}``. Default millimetres and metres.
    materials : mapping, optional
        Extra raw material spellings → normalised names, on top of the schema tables.
    encoding : str, optional
        Attribute encoding; default: UTF-8 when the bytes are UTF-8, else CP949 (Korean
        government files), whatever a ``.cpg`` says (:func:`geo3d.io.vector.detect_encoding`).
    keep_extra : bool
        Keep the source's unmapped columns after the canonical ones (default false).
    validate : bool
        Run :func:`validate_pipes` (strict, with repairs) on the result (default true).

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical columns in :data:`~geo3d.underground.schema.CANONICAL_COLUMNS` order, a
        fresh RangeIndex, one metric CRS.

    Raises
    ------
    InputError
        ``source`` does not exist, or a bad ``utility``/``units``.
    FileFormatError
        A file is truncated, corrupt or not a vector dataset.
    SchemaError
        Required fields are missing (every missing field of every layer is listed, with the
        fields it has), no layer could be recognised, a bad schema map, or the values fail
        :func:`validate_pipes`.
    CRSError
        A layer has no CRS (and none was given), or ``crs`` is not metric.
    EmptyResultError
        Every layer is empty (an empty layer among others only warns).

    Examples
    --------
    Any line layer through a ``column_map`` (here diameters in inches):

    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(
    ...     {"pipetype": ["TJDCI", "PLASTIC BLUE BRUTE"], "diameter": [8.0, 6.0], "id": [7, 8]},
    ...     geometry=[shapely.LineString([(0, 0), (50, 0)]), shapely.LineString([(0, 0), (0, 9)])],
    ...     crs="EPSG:32610")
    >>> p = read_pipes(g, column_map={"material": "pipetype", "diameter_mm": "diameter",
    ...                               "source_id": "id"}, utility="water", units="in")
    >>> p[["utility", "source_id", "diameter_mm", "material", "material_raw"]]
      utility source_id  diameter_mm      material        material_raw
    0   water         7        203.2  ductile_iron               TJDCI
    1   water         8        152.4           pvc  PLASTIC BLUE BRUTE
    """
    valid = (*_schema.UTILITIES, *_schema.OPTIONAL_UTILITIES)
    if utility is not None and utility not in valid:
        msg = f"unknown utility {utility!r}; valid: {', '.join(valid)}"
        raise InputError(msg)
    smap = read_schema_map(schema) if isinstance(schema, str | os.PathLike) else schema
    if source is None and (smap is None or any(lm.path is None for lm in smap.layers)):
        py, cli = two_forms("no pipes to read: give {s}", s=("source", "--pipes"))
        raise InputError(py, cli=cli)
    target = require_metric_crs(crs, what="crs=", name="pipes") if crs is not None else None
    unit_map = _units(units)
    tables, generic = layer_mappings(column_map)
    if generic is not None and utility is not None:
        generic["utility"] = utility
    frames = collect_layers(source, smap=smap, layers=layers, source_crs=source_crs,
                            encoding=encoding)
    plan = layers_in_one_crs(_recognise(frames, tables, generic, unit_map), target,
                             what="read_pipes")
    parts = [_harmonised(lname, frame, mapping, materials, keep_extra)
             for lname, frame, mapping in plan if len(frame)]
    for lname, frame, _ in plan:
        if not len(frame):
            warnings.warn(f"read_pipes: layer {lname} is empty; skipped", stacklevel=2)
    if not parts:
        msg = "read_pipes: every pipe layer is empty; nothing to read"
        raise EmptyResultError(msg)
    out = pd.concat(parts, ignore_index=True)
    order = [c for c in out.columns if c != "geometry"] + ["geometry"]
    result = gpd.GeoDataFrame(out[order], geometry="geometry", crs=parts[0].crs)
    logger.info("read_pipes: %s segments from %d layer(s), %s", f"{len(result):,}", len(parts),
                crs_label(result.crs))
    if validate:
        result = validate_pipes(result, duplicates=False).pipes.reset_index(drop=True)
    return result


def _units(units: str | Mapping[str, str] | None) -> dict[str, str]:
    given = {"diameter": units or "mm"} if isinstance(units, str) or units is None else units
    unknown_keys = set(given) - {"diameter", "depth"}
    if unknown_keys:
        msg = f"units keys must be 'diameter' and/or 'depth', got {sorted(unknown_keys)}"
        raise InputError(msg)
    out = {"diameter": given.get("diameter", "mm"), "depth": given.get("depth", "m")}
    unit_factor(out["diameter"], DIAMETER_UNITS, "diameter")
    unit_factor(out["depth"], DEPTH_UNITS, "depth")
    return out


def _recognise(frames: Plan, tables: Mapping[str, Any], generic: dict[str, Any] | None,
               unit_map: Mapping[str, str]) -> Plan:
    """Each layer with the mapping it is read with (None: canonical); all problems at once."""
    plan: Plan = []
    problems: list[str] = []
    skipped: list[str] = []
    points: list[str] = []
    for lname, frame, given in frames:
        frame = frame.rename(columns={c: c.lower() for c in frame.columns if isinstance(c, str)})
        if frame.geometry.name != "geometry" and "geometry" not in frame.columns:
            frame = frame.rename_geometry("geometry")
        cols = set(frame.columns)
        kinds = set(frame.geom_type.dropna())
        if kinds and kinds <= {"Point", "MultiPoint"}:
            points.append(lname)  # manholes, valves, breaks: read_structures reads them
            continue
        mapping: dict[str, Any] | None = given or tables.get(lname.upper())
        if mapping is None and generic is not None:
            mapping = generic_mapping(generic, cols, units=unit_map)
        elif mapping is None and "utility" not in cols:
            guess = match_by_fields(cols, tables)
            if guess is None:
                skipped.append(lname)
                continue
            logger.info("read_pipes: layer %s read as %s (matched by its fields)", lname, guess)
            mapping = tables[guess]
        if mapping is not None:
            problems.extend(_field_problems(lname, mapping, cols, frame.geometry.name))
        plan.append((lname, frame, mapping))
    if skipped:
        logger.info("read_pipes: skipped layers not recognised as pipes: %s", ", ".join(skipped))
    if problems:
        raise SchemaError("read_pipes: the source layers lack required fields", problems,
                          cli="--pipes: the layers lack required fields")
    if points:
        logger.info("read_pipes: point layers left to read_structures: %s", ", ".join(points))
    if not plan and points:
        py, cli = two_forms(
            "the pipes source holds only point layers ({p}): pipes are lines, and {what}",
            p=(", ".join(points),) * 2,
            what=("lengths, excavations and sections need line layers; read points (manholes, "
                  "valves, breaks) with read_structures(...)",
                  "--pipes needs line layers (pipe centrelines); points such as manholes, "
                  "valves or break records are structures, not pipes"))
        raise SchemaError(py, cli=cli)
    if not plan:
        py, cli = two_forms(
            "read_pipes: no pipe layer recognised (layers: {s}); expected Korean UIS layer "
            "names ({u}), a 'utility' column, or {fix}", s=(", ".join(skipped) or "none",) * 2,
            u=(", ".join(_schema.LAYER_MAPPINGS),) * 2,
            fix=("a schema map: schema='MAP.toml' (or column_map={...} and utility=...)",
                 "a schema map: --schema MAP.toml"))
        raise SchemaError(py, cli=cli)
    return plan


def _field_problems(lname: str, mapping: Mapping[str, Any], cols: set[str], geom: str
                    ) -> list[str]:
    out = []
    need = [str(f).lower() for f in mapping.get("required", [])]
    miss = [f for f in need if f not in cols]
    if miss:
        have = ", ".join(sorted(c for c in cols if c != geom))
        out.append(f"layer {lname}: missing field(s) {', '.join(miss)}; its fields: {have}")
    if not mapping.get("utility") and "utility" not in mapping.get("fields", {}):
        out.append(f"layer {lname}: no utility; say which in a schema map (utility = "
                   "\"water\") or pass utility='water' / column_map={'utility': FIELD}")
    return out


def _harmonised(lname: str, frame: gpd.GeoDataFrame, mapping: dict[str, Any] | None,
                materials: Mapping[str, str] | None, keep_extra: bool) -> gpd.GeoDataFrame:
    frame = frame.set_geometry(drop_flat_z(frame.geometry))
    unparsed = 0
    if mapping is None:
        part = conform_pipes(frame, keep_extra=keep_extra)
        if part["source_layer"].isna().all():
            part["source_layer"] = lname
        if part["source_id"].isna().all():
            part["source_id"] = pd.Series(np.arange(len(part)).astype(str), index=part.index,
                                          dtype="str")
    else:
        units = mapping.get("units", {})
        part, unparsed = harmonise_layer(
            frame, mapping, layer=lname, materials=materials,
            diameter_unit=units.get("diameter", "mm"), depth_unit=units.get("depth", "m"),
            keep_extra=keep_extra)
    n = len(part)
    unknown = int(part["depth_unknown"].sum())
    extra = f", {unparsed} size strings not understood" if unparsed else ""
    logger.info("read_pipes: %s %s segments, %s depth unknown (%.0f %%)%s", lname, f"{n:,}",
                f"{unknown:,}", 100.0 * unknown / max(n, 1), extra)
    return part
