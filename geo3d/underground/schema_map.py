"""Schema map files (``--schema MAP.toml``): how to read agency data that is not UIS or canonical.

A map lists layers; each says where the layer is, which fields hold what, in which units, and
in which CRS, so that nobody edits a source file (docs/agency-data.md). :func:`read_schema_map` reads
and checks a map file; :func:`schema_map_from_dict` does the same for a dict (e.g. in a
notebook); :func:`geo3d.underground.read_pipes` and :func:`geo3d.underground.read_structures`
take either (``schema=``).

.. code-block:: toml

    [[layer]]
    source = "ky4_pipes.geojson"    # a path (relative to the map) or a layer name in --pipes
    utility = "water"               # or utility_field = "TYPE" and [layer.utility_values]
    crs = "EPSG:3547"               # declares or overrides the layer's CRS
    id = "name"
    diameter = { field = "diameter", unit = "m" }       # mm | cm | m | in | ft
    depth = { field = "depth", unit = "m", reference = "top", kind = "cover" }
    install = { field = "INSTALLATION_DATE" }
    material = { field = "pipetype" }

    [layer.material_values]
    "TTE" = "other"

``depth`` takes one ``field``, or ``start``/``end`` (depths at the two ends), or ``min``/``max``
(shallowest and deepest cover); ``reference`` (top, centre, invert, bottom) and ``kind``
(cover, elevation) are required with it, so a depth always says what it measures. ``agency``,
``pressure`` and ``voltage`` name fields too (``agency = { value = "K-water" }`` for a constant).
Point layers (:func:`~geo3d.underground.read_structures`) also take ``kind = "manhole"`` or
``kind_field`` with ``[layer.kind_values]``. Unknown keys are errors that list the valid ones.

Examples
--------
>>> m = schema_map_from_dict({"layer": [{
...     "source": "mains", "utility": "water", "id": "name",
...     "diameter": {"field": "diameter", "unit": "in"},
...     "depth": {"field": "cover_ft", "unit": "ft", "reference": "top", "kind": "cover"}}]})
>>> lm = m.layers[0]
>>> lm.mapping["fields"], lm.mapping["units"]
({'source_id': 'name', 'size': 'diameter', 'depth_m': 'cover_ft'}, {'diameter': 'in', 'depth': 'ft'})
>>> schema_map_from_dict({"layer": [{"source": "x", "utilty": "water"}]})
Traceback (most recent call last):
...
geo3d.errors.SchemaError: schema map: 2 problem(s)
  - layer 1 (x): unknown key 'utilty'; valid keys: ...
  - layer 1 (x): no utility; give utility = "water" (one of ...) or utility_field = "FIELD"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from ..errors import MissingFileError, SchemaError
from . import schema
from .harmonise import DEPTH_UNITS, DIAMETER_UNITS

__all__ = ["LAYER_KEYS", "STRUCTURE_KINDS", "LayerMap", "SchemaMap", "read_schema_map",
           "schema_map_from_dict"]

#: Keys of a ``[[layer]]`` table.
LAYER_KEYS: tuple[str, ...] = (
    "source", "layer", "utility", "utility_field", "utility_values", "crs", "id", "diameter",
    "depth", "install", "material", "material_values", "agency", "pressure", "voltage", "kind",
    "kind_field", "kind_values",
)
#: Kinds of point structures (``read_structures``).
STRUCTURE_KINDS: tuple[str, ...] = (
    "manhole", "valve", "hydrant", "break", "meter", "pump", "tank", "vault", "junction", "other",
)
_SUB_KEYS: dict[str, tuple[str, ...]] = {
    "diameter": ("field", "unit"),
    "depth": ("field", "start", "end", "min", "max", "unit", "reference", "kind"),
    "install": ("field",),
    "material": ("field",),
    "agency": ("field", "value"),
    "pressure": ("field",),
    "voltage": ("field",),
}
_ROLES = {"install": "install_date", "material": "material", "agency": "agency",
          "pressure": "pressure_code", "voltage": "voltage_code"}


@dataclass(frozen=True)
class LayerMap:
    """One ``[[layer]]`` of a schema map.

    Attributes
    ----------
    source : str
        As written in the map: a layer name, or a path relative to the map.
    path : Path or None
        The file when ``source`` names an existing file (relative to the map's folder).
    layer : str or None
        The layer inside that file (``layer = "..."``).
    crs : str or None
        The CRS that the layer's coordinates are in (declares or overrides the file's).
    mapping : dict
        A layer mapping in the form of :data:`geo3d.underground.schema.LAYER_MAPPINGS`.
    kind, kind_field, kind_values, depth_field, depth_unit
        For point structures.
    """

    source: str
    path: Path | None
    layer: str | None
    crs: str | None
    mapping: dict[str, Any]
    kind: str | None = None
    kind_field: str | None = None
    kind_values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SchemaMap:
    """A checked schema map: its layers, and the file it came from (None for a dict)."""

    layers: tuple[LayerMap, ...]
    path: Path | None = None

    def find(self, name: str) -> LayerMap | None:
        """The layer map whose ``source`` is ``name`` (a layer name; case-insensitive)."""
        key = name.upper()
        return next((lm for lm in self.layers if lm.path is None and lm.source.upper() == key),
                    None)


def read_schema_map(path: str | os.PathLike[str]) -> SchemaMap:
    """Read and check a schema map file (TOML; UTF-8, UTF-8 with a BOM, or CP949).

    Parameters
    ----------
    path : path
        The map file. Relative ``source`` paths are relative to its folder.

    Returns
    -------
    SchemaMap

    Raises
    ------
    MissingFileError
        No such file.
    SchemaError
        Not TOML, or any problem in any layer (all listed at once: unknown keys with the valid
        ones, unknown units, utilities, depth references or kinds, material names).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"schema map {path} does not exist"
        raise MissingFileError(msg, cli=f"--schema {path} does not exist")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp949", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"schema map {path.name} is not valid TOML: {exc}"
        raise SchemaError(msg, cli=f"--schema {path.name} is not valid TOML: {exc}") from exc
    return schema_map_from_dict(data, base=path.parent, name=path.name)


def schema_map_from_dict(data: Mapping[str, Any], *, base: str | os.PathLike[str] | None = None,
                         name: str | None = None) -> SchemaMap:
    """Check a schema map given as a dict (the parsed TOML); see :func:`read_schema_map`."""
    problems: list[str] = []
    extra = sorted(set(data) - {"layer"})
    if extra:
        problems.append(f"unknown top-level key(s) {', '.join(map(repr, extra))}; a map holds "
                        "[[layer]] tables only")
    tables = data.get("layer", [])
    if not isinstance(tables, list) or not tables:
        problems.append("no [[layer]] table; add one per layer to read")
        tables = []
    root = Path(base) if base is not None else None
    layers = []
    for i, table in enumerate(tables, 1):
        if not isinstance(table, Mapping):
            problems.append(f"layer {i} is not a table")
            continue
        found, lm = _layer_map(table, root, f"layer {i} ({table.get('source', '?')})")
        problems.extend(found)
        if lm is not None:
            layers.append(lm)
    if problems:
        head = f"schema map{' ' + name if name else ''}: {len(problems)} problem(s)"
        raise SchemaError(head, problems, cli=f"--schema{' ' + name if name else ''}: "
                          f"{len(problems)} problem(s)")
    return SchemaMap(tuple(layers), (root / name) if root is not None and name else None)


def _field(value: Any, key: str, where: str, problems: list[str]) -> dict[str, Any]:
    """A sub-table, or a plain string as ``{"field": value}``; unknown keys are problems."""
    if isinstance(value, str):
        return {"field": value}
    if not isinstance(value, Mapping):
        problems.append(f"{where}: {key} must be a field name or a table, not {value!r}")
        return {}
    bad = sorted(set(value) - set(_SUB_KEYS[key]))
    if bad:
        problems.append(f"{where}: unknown key(s) {', '.join(map(repr, bad))} in {key}; valid "
                        f"keys: {', '.join(_SUB_KEYS[key])}")
    return dict(value)


def _layer_map(t: Mapping[str, Any], root: Path | None, where: str
               ) -> tuple[list[str], LayerMap | None]:
    problems: list[str] = []
    for key in sorted(set(t) - set(LAYER_KEYS)):
        problems.append(f"{where}: unknown key {key!r}; valid keys: {', '.join(LAYER_KEYS)}")
    source = t.get("source")
    if not isinstance(source, str) or not source:
        problems.append(f"{where}: source = \"FILE or LAYER\" is required")
        source = ""
    fields: dict[str, str] = {}
    mapping: dict[str, Any] = {"zero_is_unknown": True}
    _utility(t, where, fields, mapping, problems)
    if "id" in t:
        fields["source_id"] = str(t["id"])
    units = {"diameter": "mm", "depth": "m"}
    if "diameter" in t:
        d = _field(t["diameter"], "diameter", where, problems)
        if "field" in d:
            fields["size"] = str(d["field"])
        units["diameter"] = _unit(d.get("unit", "mm"), DIAMETER_UNITS, f"{where}: diameter",
                                  problems)
    if "depth" in t:
        units["depth"] = _depth(_field(t["depth"], "depth", where, problems), where, fields,
                                mapping, problems)
    for key, role in _ROLES.items():
        if key in t:
            sub = _field(t[key], key, where, problems)
            if "field" in sub:
                fields[role] = str(sub["field"])
            elif "value" in sub:
                mapping["agency_value"] = str(sub["value"])
    mats = {str(k): str(v) for k, v in dict(t.get("material_values", {})).items()}
    wrong = sorted({v for v in mats.values() if v not in schema.MATERIALS})
    if wrong:
        problems.append(f"{where}: material_values map to unknown material(s) "
                        f"{', '.join(map(repr, wrong))}; valid: {', '.join(schema.MATERIALS)}")
    mapping.update(fields=fields, units=units, required=list(fields.values()),
                   material_values=mats)
    crs = t.get("crs")
    if crs is not None:
        try:
            CRS.from_user_input(crs)
        except PyprojCRSError as exc:
            problems.append(f"{where}: crs {crs!r} is not a CRS pyproj knows ({exc})")
    kind, kind_field, kind_values = _kind(t, where, problems)
    path = (root / source) if root is not None and source else Path(source) if source else None
    if path is not None and not path.is_file() and not (path.is_dir() and path.suffix == ".gdb"):
        path = None
    mapping.update(kind=kind, kind_field=kind_field, kind_values=kind_values)
    lm = LayerMap(source, path, t.get("layer"), None if crs is None else str(crs), mapping,
                  kind, kind_field, kind_values)
    return problems, lm


def _utility(t: Mapping[str, Any], where: str, fields: dict[str, str], mapping: dict[str, Any],
             problems: list[str]) -> None:
    valid = (*schema.UTILITIES, *schema.OPTIONAL_UTILITIES)
    if "utility" in t and "utility_field" in t:
        problems.append(f"{where}: give utility or utility_field, not both")
    if "utility" in t:
        if t["utility"] not in valid:
            problems.append(f"{where}: utility {t['utility']!r} is not one of {', '.join(valid)}")
        mapping["utility"] = str(t["utility"])
    elif "utility_field" in t:
        fields["utility"] = str(t["utility_field"])
    else:
        problems.append(f"{where}: no utility; give utility = \"water\" (one of "
                        f"{', '.join(valid)}) or utility_field = \"FIELD\"")
    values = {str(k): str(v) for k, v in dict(t.get("utility_values", {})).items()}
    wrong = sorted({v for v in values.values() if v not in valid})
    if wrong:
        problems.append(f"{where}: utility_values map to unknown utilities "
                        f"{', '.join(map(repr, wrong))}; valid: {', '.join(valid)}")
    mapping["utility_values"] = values


def _unit(unit: Any, table: Mapping[str, float], where: str, problems: list[str]) -> str:
    if unit not in table:
        problems.append(f"{where}: unknown unit {unit!r}; valid units: {', '.join(table)}")
        return next(iter(table))
    return str(unit)


def _depth(d: dict[str, Any], where: str, fields: dict[str, str], mapping: dict[str, Any],
           problems: list[str]) -> str:
    pairs = {"field": ("depth_m",), "start": ("depth_start_m",), "end": ("depth_end_m",),
             "min": ("depth_min",), "max": ("depth_max",)}
    given = [k for k in pairs if k in d]
    if not given:
        problems.append(f"{where}: depth needs field = \"FIELD\" (or start/end, or min/max)")
    for k in given:
        fields[pairs[k][0]] = str(d[k])
    for key, valid in (("reference", schema.DEPTH_REFERENCES), ("kind", schema.DEPTH_KINDS)):
        value = d.get(key)
        if value not in valid:
            problems.append(f"{where}: depth needs {key} = one of {', '.join(valid)} (what the "
                            f"depth measures), not {value!r}")
        mapping[f"depth_{key}"] = value
    return _unit(d.get("unit", "m"), DEPTH_UNITS, f"{where}: depth", problems)


def _kind(t: Mapping[str, Any], where: str, problems: list[str]
          ) -> tuple[str | None, str | None, dict[str, str]]:
    kind = t.get("kind")
    if kind is not None and kind not in STRUCTURE_KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(STRUCTURE_KINDS)}")
    values = {str(k): str(v) for k, v in dict(t.get("kind_values", {})).items()}
    wrong = sorted({v for v in values.values() if v not in STRUCTURE_KINDS})
    if wrong:
        problems.append(f"{where}: kind_values map to unknown kinds {', '.join(map(repr, wrong))};"
                        f" valid: {', '.join(STRUCTURE_KINDS)}")
    field_ = t.get("kind_field")
    return (None if kind is None else str(kind), None if field_ is None else str(field_), values)
