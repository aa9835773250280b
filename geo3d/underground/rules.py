"""Cover, separation, hand-dig and agreement rules as versioned data, and the checks that use them.

The rules live in ``rules.csv`` beside this module (package data), one row per rule, each citing
its source (law, standard or guideline) and a version. Columns:

``rule_id``
    unique id, e.g. ``KR-GAS-COVER-ROAD8``.
``kind``
    ``min_cover`` (cover to the top of the pipe), ``separation`` (clear distance between outer
    surfaces), ``hand_dig_band`` (band each side of the pipe's outer edge), ``agreement``
    (thresholds that make an excavation need a written agreement), ``tolerance_zone`` and
    ``detection_grade`` (for comparison; not applied automatically).
``utility`` / ``other_utility``
    the utility the rule is about (``*`` = any); ``other_utility`` for separations (``*`` =
    any *other* utility; name the utility itself for rules within one network, e.g.
    power–power cable separations).
``condition``
    empty, or clauses joined by ``&``: ``FIELD OP VALUE`` with ``OP`` one of
    ``>= <= > < = !=``. Fields: ``road_width_m``, ``diameter_mm`` (outer; the larger side of a
    box), ``under_traffic`` (true/false), ``site``, ``pressure`` (ordered ``low < medium <
    high``), ``voltage_kv``, ``voltage_class`` (ordered ``LV`` ≤ 1 kV < ``HV`` ≤ 7 kV <
    ``EHV``, the Korean 저압/고압/특고압). ``other.FIELD`` refers to the other pipe of a
    separation pair.
``value_m``, ``reference``, ``source``, ``version``, ``note``
    the number in metres, what it is measured to, the citation, the table version, remarks.

Load your own table with :func:`load_rules` (every bad row is reported at once).

Examples
--------
>>> rules = load_rules()
>>> row = rules.set_index("rule_id").loc["KR-GAS-COVER-ROAD8"]
>>> float(row["value_m"]), row["condition"], row["source"][:9]
(1.2, 'road_width_m>=8', '도시가스사업법 시')
>>> import geopandas as gpd, shapely
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["gas", "gas", "water", "telecom"], "diameter_mm": [100.0, 100.0, 1200.0, 50.0]},
...     geometry=[shapely.LineString([(0, 0), (1, 0)])] * 4, crs="EPSG:5186")
>>> required_cover(pipes, road_width=[10.0, 5.0, 10.0, 10.0]).tolist()
[1.2, 1.0, 1.5, nan]
"""

from __future__ import annotations

import logging
import operator
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from .._numeric import float_column, float_series
from ..errors import InputError, SchemaError, two_forms
from . import schema

__all__ = [
    "RULE_COLUMNS",
    "RULE_KINDS",
    "check_cover",
    "check_separations",
    "load_rules",
    "pipe_radius_m",
    "required_cover",
    "rule_value",
    "voltage_class",
]

logger = logging.getLogger(__name__)

#: Columns of a rules table, in order.
RULE_COLUMNS: tuple[str, ...] = (
    "rule_id", "kind", "utility", "other_utility", "condition", "value_m", "reference",
    "source", "version", "note",
)
#: Valid rule kinds.
RULE_KINDS: tuple[str, ...] = (
    "min_cover", "separation", "hand_dig_band", "agreement", "tolerance_zone", "detection_grade",
)
#: Fields a condition may test, and their type (``num``, ``bool``, ``str`` or an ordered scale).
CONDITION_FIELDS: dict[str, str | tuple[str, ...]] = {
    "road_width_m": "num",
    "diameter_mm": "num",
    "voltage_kv": "num",
    "under_traffic": "bool",
    "site": "str",
    "pressure": schema.PRESSURES,
    "voltage_class": ("LV", "HV", "EHV"),
}
_OPS = (">=", "<=", "!=", ">", "<", "=")
_CLAUSE = re.compile(r"^\s*((?:other\.)?[a-z_]+)\s*(>=|<=|!=|>|<|=)\s*([^\s].*?)\s*$")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}

_cache: dict[str, pd.DataFrame] = {}


# --------------------------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Clause:
    other: bool
    field: str
    op: str
    value: Any


def _parse_condition(text: str) -> list[_Clause]:
    """Parse ``"road_width_m>=4 & road_width_m<8"``; raise ValueError with the reason."""
    clauses: list[_Clause] = []
    if not text or not text.strip():
        return clauses
    for part in text.split("&"):
        m = _CLAUSE.match(part)
        if m is None:
            msg = f"cannot parse {part.strip()!r} (expected FIELD OP VALUE, OP one of {' '.join(_OPS)})"
            raise ValueError(msg)
        name, op, raw = m.groups()
        other = name.startswith("other.")
        name = name.removeprefix("other.")
        kind = CONDITION_FIELDS.get(name)
        if kind is None:
            msg = f"unknown field {name!r}; valid: {', '.join(CONDITION_FIELDS)}"
            raise ValueError(msg)
        value: Any
        if kind == "num":
            try:
                value = float(raw)
            except ValueError:
                msg = f"{name} needs a number, got {raw!r}"
                raise ValueError(msg) from None
        elif kind == "bool":
            low = raw.lower()
            if low not in _TRUE | _FALSE or op not in ("=", "!="):
                msg = f"{name} takes = or != with true/false, got {op}{raw}"
                raise ValueError(msg)
            value = 1.0 if low in _TRUE else 0.0
        elif kind == "str":
            if op not in ("=", "!="):
                msg = f"{name} takes = or !=, got {op}"
                raise ValueError(msg)
            value = raw
        else:
            assert isinstance(kind, tuple)
            if raw not in kind:
                msg = f"{name} must be one of {', '.join(kind)}, got {raw!r}"
                raise ValueError(msg)
            value = float(kind.index(raw))
        clauses.append(_Clause(other, name, op, value))
    return clauses


def load_rules(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read and validate a rules table (default: the table shipped with geo3d).

    Parameters
    ----------
    path : path, optional
        A CSV (UTF-8) with the columns of :data:`RULE_COLUMNS` (``note`` optional).

    Returns
    -------
    pandas.DataFrame
        One row per rule; ``value_m`` float, text columns ``str`` (empty text is ``""``).

    Raises
    ------
    SchemaError
        Missing columns, or bad rows (unknown kind, unparsable condition, missing or negative
        value, missing source, duplicate id) — every problem is listed, with its row number.
    InputError
        The file does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("rule_id,kind,utility,other_utility,condition,value_m,reference,source,version\\n"
    ...                  "A,min_cover,gas,,road_width_m>>8,1.2,top,law,1\\nB,cover,gas,,,,top,,1\\n")
    >>> try:
    ...     load_rules(p)
    ... except SchemaError as exc:
    ...     print("\\n".join(exc.problems))
    row 2 (A): condition: road_width_m needs a number, got '>8'
    row 3 (B): unknown kind 'cover'; valid: min_cover, separation, ...
    row 3 (B): value_m is missing or not a number >= 0 ('')
    row 3 (B): source is empty; cite the law or standard
    """
    key = str(path) if path is not None else "<default>"
    if path is None and key in _cache:
        return _cache[key].copy()
    if path is None:
        with resources.as_file(resources.files("geo3d.underground") / "rules.csv") as p:
            raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
        where = "geo3d/underground/rules.csv"
    else:
        p = Path(path)
        if not p.exists():
            msg = f"rules file {p} does not exist; pass a CSV with columns {', '.join(RULE_COLUMNS)}"
            raise InputError(msg)
        try:
            raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            py, cli = two_forms("{what} {p} is not a readable rules CSV ({e}); it needs a header "
                                "row with {cols} and one rule per line, in UTF-8",
                                what=("rules file", "--rules"), p=(str(p),) * 2, e=(str(exc),) * 2,
                                cols=(", ".join(RULE_COLUMNS),) * 2)
            raise SchemaError(py, cli=cli) from exc
        where = str(p)
    raw.columns = [c.strip() for c in raw.columns]
    missing = [c for c in RULE_COLUMNS if c not in raw.columns and c != "note"]
    if missing:
        msg = f"rules table {where} lacks column(s) {', '.join(missing)}; see geo3d.underground.rules"
        raise SchemaError(msg)
    if "note" not in raw.columns:
        raw["note"] = ""
    table = raw[list(RULE_COLUMNS)].apply(lambda s: s.str.strip()).astype("str")
    values = pd.to_numeric(table["value_m"], errors="coerce")
    problems: list[str] = []
    dup = table["rule_id"].duplicated(keep=False)
    valid_utils = {"*", *schema.UTILITIES, *schema.OPTIONAL_UTILITIES}
    # rows are few (tens): a readable loop over rules, never over pipes
    for i, row in enumerate(table.itertuples(index=False)):
        tag = f"row {i + 2} ({row.rule_id or '?'})"
        if not row.rule_id:
            problems.append(f"{tag}: rule_id is empty")
        elif dup.iloc[i]:
            problems.append(f"{tag}: duplicate rule_id")
        if row.kind not in RULE_KINDS:
            problems.append(f"{tag}: unknown kind {row.kind!r}; valid: {', '.join(RULE_KINDS)}")
        if row.utility not in valid_utils:
            problems.append(f"{tag}: unknown utility {row.utility!r}; valid: * or "
                            + ", ".join(schema.UTILITIES))
        if row.kind == "separation" and row.other_utility not in valid_utils:
            problems.append(f"{tag}: a separation needs other_utility (* or a utility)")
        try:
            clauses = _parse_condition(row.condition)
            if row.kind != "separation" and any(c.other for c in clauses):
                problems.append(f"{tag}: condition: other.FIELD only applies to separations")
        except ValueError as exc:
            problems.append(f"{tag}: condition: {exc}")
        v = values.iloc[i]
        if not np.isfinite(v) or v < 0:
            problems.append(f"{tag}: value_m is missing or not a number >= 0 ({row.value_m!r})")
        if not row.source:
            problems.append(f"{tag}: source is empty; cite the law or standard")
    if problems:
        msg = f"rules table {where} has {len(problems)} problem(s); fix these rows:"
        raise SchemaError(msg, problems)
    table["value_m"] = values.astype(float)
    if path is None:
        _cache[key] = table
    return table.copy()


def _rules(rules: pd.DataFrame | str | os.PathLike[str] | None) -> pd.DataFrame:
    if rules is None or isinstance(rules, str | os.PathLike):
        return load_rules(rules)
    if not isinstance(rules, pd.DataFrame):
        msg = f"rules must be a DataFrame from load_rules() or a CSV path, got {type(rules).__name__}"
        raise InputError(msg)
    return rules


@dataclass(frozen=True)
class CompiledRule:
    """One row of a rules table, parsed: its conditions as clauses (:func:`compile_rules`)."""

    rule_id: str
    kind: str
    utility: str
    other_utility: str
    clauses: tuple[_Clause, ...]
    value_m: float
    reference: str


_Rule = CompiledRule  # the former private name
_compiled: dict[int, tuple[pd.DataFrame, list[_Rule]]] = {}


def compile_rules(rules: pd.DataFrame | str | os.PathLike[str] | None) -> list[CompiledRule]:
    """Parsed rules (cached per table object; the default table is parsed once).

    ``rules`` is a table from :func:`load_rules`, a CSV path, or None for the shipped table.
    Excavation, sections and QA evaluate the result with :func:`rule_fields`,
    :func:`utility_mask`, :func:`condition_mask` and :func:`cover_from_fields`.

    Examples
    --------
    >>> r = [r for r in compile_rules(None) if r.rule_id == "KR-GAS-COVER-ROAD8"][0]
    >>> r.kind, r.utility, r.value_m
    ('min_cover', 'gas', 1.2)
    """
    if rules is None:   # the cached default table itself, so one compiled list from the start
        if "<default>" not in _cache:
            load_rules()
        rules = _cache["<default>"]
    table = _rules(rules)
    hit = _compiled.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1]
    records: list[dict[Any, Any]] = table.to_dict("records")
    out = [_Rule(str(r["rule_id"]), str(r["kind"]), str(r["utility"]), str(r["other_utility"]),
                 tuple(_parse_condition(str(r["condition"]))), float(r["value_m"]),
                 str(r["reference"]))
           for r in records]
    if len(_compiled) > 64:
        _compiled.clear()
    _compiled[id(table)] = (table, out)
    return out


_compile = compile_rules  # the former private name


def rule_value(rules: pd.DataFrame | str | os.PathLike[str] | None, kind: str, *,
               utility: str = "*", reference: str | None = None) -> float:
    """The value of the first rule of ``kind`` for ``utility`` (and ``reference``); NaN if none.

    Examples
    --------
    >>> rule_value(None, "hand_dig_band", utility="gas")
    1.0
    >>> rule_value(None, "agreement", utility="gas", reference="length_in_area")
    100.0
    """
    for r in _compile(rules):
        if (r.kind == kind and r.utility in (utility, "*")
                and (reference is None or r.reference == reference)):
            return r.value_m
    return float("nan")


# --------------------------------------------------------------------------------------------
# per-pipe fields used by conditions
# --------------------------------------------------------------------------------------------
_num = float_column  # the shared numeric helper (geo3d._numeric)


def voltage_class(voltage_kv: ArrayLike) -> NDArray[np.object_]:
    """Korean voltage classes: ``LV`` (저압, ≤ 1 kV), ``HV`` (고압, ≤ 7 kV), ``EHV`` (특고압).

    Examples
    --------
    >>> voltage_class([0.38, 6.6, 22.9, float("nan")]).tolist()
    ['LV', 'HV', 'EHV', None]
    """
    v = np.asarray(voltage_kv, dtype=np.float64)
    out = np.select([v <= 1.0, v <= 7.0, v > 7.0], ["LV", "HV", "EHV"], default="")
    res = out.astype(object)
    res[out == ""] = None
    return res


def pipe_radius_m(pipes: pd.DataFrame, *, box: str = "max") -> NDArray[np.float64]:
    """Half the outer size in metres: ``diameter_mm``/2, or for box ducts half the larger
    (``box="max"``) or smaller (``box="min"``) side; 0 where unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"diameter_mm": [300.0, None, None], "width_mm": [None, 600.0, None],
    ...                    "height_mm": [None, 400.0, None]})
    >>> pipe_radius_m(df).tolist(), pipe_radius_m(df, box="min").tolist()
    ([0.15, 0.3, 0.0], [0.15, 0.2, 0.0])
    """
    d = _num(pipes, "diameter_mm")
    w = _num(pipes, "width_mm")
    h = _num(pipes, "height_mm")
    side = np.fmax(w, h) if box == "max" else np.fmin(w, h)
    size = np.where(np.isnan(d), side, d)
    return np.nan_to_num(size, nan=0.0) / 2000.0


def no_na(values: Any) -> NDArray[np.object_]:
    """An object array with every missing value (None, NaN, pd.NA) as None, so that ``==``
    gives plain booleans (pd.NA does not).

    Examples
    --------
    >>> import pandas as pd
    >>> no_na(["gas", pd.NA, float("nan")]).tolist()
    ['gas', None, None]
    """
    out = np.array(values, dtype=object)
    out[pd.isna(out)] = None
    return out


_no_na = no_na  # the former private name


def _rank(values: NDArray[Any], order: Sequence[str]) -> NDArray[np.float64]:
    """Position of each value in ``order`` (NaN for anything else), a pass per category."""
    out = np.full(len(values), np.nan)
    clean = _no_na(values)
    for i, name in enumerate(order):  # a few categories
        out[clean == name] = float(i)
    return out


def rule_fields(pipes: pd.DataFrame, road_width: Any = None, under_traffic: Any = True
                ) -> dict[str, NDArray[Any]]:
    """Per pipe, the values that rule conditions test (``road_width_m``, ``diameter_mm``,
    ``under_traffic``, ``site``, ``pressure`` and ``voltage_class`` as ranks, ``voltage_kv``,
    ``utility``), one array per field; give them to :func:`condition_mask`."""
    n = len(pipes)
    idx = pipes.index
    d = _num(pipes, "diameter_mm")
    side = np.fmax(_num(pipes, "width_mm"), _num(pipes, "height_mm"))
    if road_width is None:
        rw = _num(pipes, "road_width_m")
    elif isinstance(road_width, pd.Series):
        rw = float_series(road_width.reindex(idx))
    else:
        rw = np.broadcast_to(np.asarray(road_width, dtype=np.float64), (n,)).astype(np.float64)
    if isinstance(under_traffic, pd.Series):
        ut_s = under_traffic.reindex(idx).astype("boolean")
        ut = ut_s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    elif "under_traffic" in pipes and under_traffic is None:
        ut = pipes["under_traffic"].astype("boolean").astype("Float64").to_numpy(
            dtype=np.float64, na_value=np.nan)
    elif under_traffic is None:
        ut = np.full(n, np.nan)
    else:
        ut = np.broadcast_to(np.asarray(under_traffic, dtype=np.float64), (n,)).astype(np.float64)
    pressure = (pipes["pressure"].astype(object).to_numpy() if "pressure" in pipes
                else np.full(n, None, dtype=object))
    prank = _rank(pressure, schema.PRESSURES)
    vkv = _num(pipes, "voltage_kv")
    vrank = _rank(voltage_class(vkv), ("LV", "HV", "EHV"))
    site = (pipes["site"].astype(object).to_numpy() if "site" in pipes
            else np.full(n, None, dtype=object))
    return {
        "road_width_m": rw,
        "diameter_mm": np.where(np.isnan(d), side, d),
        "voltage_kv": vkv,
        "under_traffic": ut,
        "site": site,
        "pressure": prank,
        "voltage_class": vrank,
        "utility": pipes["utility"].astype(object).to_numpy(),
    }


_fields = rule_fields  # the former private name


_OP_FUNCS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
    "=": operator.eq, "!=": operator.ne,
}


def _compare(values: NDArray[Any], op: str, value: Any) -> NDArray[np.bool_]:
    if values.dtype == object:
        eq = values == value
        return np.asarray(eq if op == "=" else ~eq & pd.notna(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        out = _OP_FUNCS[op](values, value)
    return np.asarray(out & ~np.isnan(values), dtype=bool)


def condition_mask(fields: dict[str, NDArray[Any]], clauses: Sequence[_Clause], *,
                   other: dict[str, NDArray[Any]] | None = None) -> NDArray[np.bool_]:
    """Pipes (rows of :func:`rule_fields`) that meet every clause of a rule's condition;
    ``other`` holds the fields of the other pipe of a separation pair."""
    n = len(fields["utility"])
    out = np.ones(n, dtype=bool)
    for c in clauses:
        src = other if c.other and other is not None else fields
        out &= _compare(src[c.field], c.op, c.value)
    return out


def utility_mask(utilities: NDArray[Any], want: str) -> NDArray[np.bool_]:
    """Pipes of utility ``want`` (``*``: every pipe)."""
    return np.ones(len(utilities), dtype=bool) if want == "*" else np.asarray(utilities == want)


_mask = condition_mask  # the former private names
_util_mask = utility_mask


# --------------------------------------------------------------------------------------------
# cover
# --------------------------------------------------------------------------------------------
def _required_cover_ids(pipes: pd.DataFrame, *, road_width: Any, under_traffic: Any,
                        rules: Any) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    return _cover_from_fields(_fields(pipes, road_width, under_traffic), _compile(rules))


def cover_from_fields(f: dict[str, NDArray[Any]], compiled: Sequence[CompiledRule]
                      ) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """Minimum cover per pipe and the id of the rule that sets it (the largest that applies;
    NaN / None where no rule does), from :func:`rule_fields` and :func:`compile_rules`."""
    n = len(f["utility"])
    need = np.full(n, np.nan)
    ids = np.full(n, None, dtype=object)
    for row in compiled:  # loop over rules (tens), not pipes
        if row.kind != "min_cover":
            continue
        m = _util_mask(f["utility"], row.utility) & _mask(f, row.clauses)
        better = m & ~(need >= row.value_m)
        need = np.where(better, row.value_m, need)
        ids[better] = row.rule_id
    return need, ids


_cover_from_fields = cover_from_fields  # the former private name


def required_cover(
    pipes: pd.DataFrame,
    *,
    road_width: float | ArrayLike | pd.Series | None = None,
    under_traffic: bool | pd.Series | None = True,
    rules: pd.DataFrame | str | os.PathLike[str] | None = None,
) -> pd.Series:
    """Minimum cover (m, ground to the top of the pipe) each pipe must have; NaN where no rule applies.

    When several ``min_cover`` rules apply to a row the largest value is required.

    Parameters
    ----------
    pipes : DataFrame
        Canonical pipes (``utility``, ``diameter_mm``/``width_mm``/``height_mm``, ``pressure``,
        ``voltage_kv``; optional ``road_width_m``, ``under_traffic``, ``site`` columns).
    road_width : float, array or Series, optional
        Width of the road above each pipe (m); default the ``road_width_m`` column. Gas rules
        need it: without a width no gas rule applies (NaN).
    under_traffic : bool or Series, optional
        Whether the pipe lies under traffic (power rules). ``None`` reads an
        ``under_traffic`` column.
    rules : DataFrame or path, optional
        A table from :func:`load_rules`; default the shipped table.

    Returns
    -------
    pandas.Series
        float, aligned to ``pipes.index``, named ``required_cover_m``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"utility": ["power", "power", "sewer"], "diameter_mm": [200.0] * 3})
    >>> required_cover(df, under_traffic=pd.Series([True, False, True])).tolist()
    [1.2, 0.6, 1.0]
    """
    need, _ = _required_cover_ids(pipes, road_width=road_width, under_traffic=under_traffic,
                                  rules=rules)
    return pd.Series(need, index=pipes.index, name="required_cover_m", dtype=float)


def _ground_at(ground: Any, x: NDArray[np.float64], y: NDArray[np.float64],
               crs: Any) -> NDArray[np.float64]:
    from ..io.raster import as_dem, check_same_crs, sample_dem

    if ground is None:
        return np.full(len(x), np.nan)
    if isinstance(ground, int | float | np.floating | np.integer):
        return np.full(len(x), float(ground))
    d = as_dem(ground)
    check_same_crs(d, crs, what="the pipes")
    return sample_dem(d, x, y)


def check_cover(
    pipes: gpd.GeoDataFrame,
    *,
    ground: Any = None,
    road_width: float | ArrayLike | pd.Series | None = None,
    under_traffic: bool | pd.Series | None = True,
    rules: pd.DataFrame | str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Pipes whose cover is less than the rules require.

    The cover of a 3D pipe (LineString Z centrelines from
    :func:`~geo3d.underground.pipes_to_3d`) is ``ground − (centre z + h/2)`` at its shallowest
    vertex, with the ground from ``ground`` (a DEM, a raster path or one elevation). Without
    ``ground`` (or for 2D pipes) the stated top-of-pipe cover depths are used
    (``depth_m``/``depth_start_m``/``depth_end_m`` with ``depth_reference="top"``,
    ``depth_kind="cover"``; the smallest).

    Returns
    -------
    pandas.DataFrame
        One row per violation: ``pipe`` (index label), ``source_layer``, ``source_id``,
        ``utility``, ``rule_id``, ``required_m``, ``cover_m``, ``shortfall_m``,
        ``depth_assumed``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pipes = gpd.GeoDataFrame(
    ...     {"utility": ["water", "water"], "source_id": ["a", "b"], "diameter_mm": [200.0, 200.0],
    ...      "depth_m": [1.0, 1.3], "depth_reference": ["top", "top"], "depth_kind": ["cover", "cover"]},
    ...     geometry=[shapely.LineString([(0, 0), (1, 0)])] * 2, crs="EPSG:5186")
    >>> check_cover(pipes)[["source_id", "rule_id", "cover_m", "shortfall_m"]]
      source_id              rule_id  cover_m  shortfall_m
    0         a  KR-WATER-COVER-D900      1.0          0.2
    """
    from .vertical import pipe_height_m

    need, ids = _required_cover_ids(pipes, road_width=road_width, under_traffic=under_traffic,
                                    rules=rules)
    n = len(pipes)
    cover = np.full(n, np.nan)
    geoms = pipes.geometry.to_numpy()
    has_z = ~shapely.is_missing(geoms) & shapely.has_z(geoms)
    if ground is not None and has_z.any():
        xyz, part = shapely.get_coordinates(geoms[has_z], include_z=True, return_index=True)
        h = np.nan_to_num(pipe_height_m(pipes).to_numpy(dtype=np.float64, na_value=np.nan))
        rows = np.flatnonzero(has_z)[part]
        c = _ground_at(ground, xyz[:, 0], xyz[:, 1], pipes.crs) - (xyz[:, 2] + h[rows] / 2.0)
        per = pd.Series(c).groupby(rows).min()
        cover[per.index.to_numpy()] = per.to_numpy()
    stated = np.fmin(np.fmin(_num(pipes, "depth_m"), _num(pipes, "depth_start_m")),
                     _num(pipes, "depth_end_m"))
    if "depth_reference" in pipes and "depth_kind" in pipes:
        ok = ((pipes["depth_reference"].astype(object).to_numpy() == "top")
              & (pipes["depth_kind"].astype(object).to_numpy() == "cover"))
        stated = np.where(ok, stated, np.nan)
    cover = np.where(np.isnan(cover), stated, cover)
    with np.errstate(invalid="ignore"):
        bad = (cover < need - 1e-9) & ~np.isnan(need)
    assumed = (pipes["depth_assumed"].astype(bool).to_numpy() if "depth_assumed" in pipes
               else np.zeros(n, dtype=bool))
    out = pd.DataFrame({
        "pipe": pipes.index.to_numpy()[bad],
        "source_layer": _text(pipes, "source_layer")[bad],
        "source_id": _text(pipes, "source_id")[bad],
        "utility": pipes["utility"].astype(object).to_numpy()[bad],
        "rule_id": ids[bad],
        "required_m": need[bad],
        "cover_m": np.round(cover[bad], 4),
        "shortfall_m": np.round(need[bad] - cover[bad], 4),
        "depth_assumed": assumed[bad],
    })
    for c in ("source_layer", "source_id", "utility", "rule_id"):
        out[c] = out[c].astype("str")
    logger.info("check_cover: %s pipes -> %s below the minimum cover", f"{n:,}", f"{len(out):,}")
    return out


def object_column(frame: pd.DataFrame, col: str) -> NDArray[np.object_]:
    """Column ``col`` as an object array (all None when the column is absent)."""
    if col not in frame:
        return np.full(len(frame), None, dtype=object)
    return frame[col].astype(object).to_numpy()


_text = object_column  # the former private name


# --------------------------------------------------------------------------------------------
# 3D segment geometry (shared with qa.py and excavation.py)
# --------------------------------------------------------------------------------------------
def _segments(geoms: NDArray[np.object_]) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                   NDArray[np.int64], NDArray[np.bool_],
                                                   NDArray[np.bool_]]:
    """3D segments of LineStrings: start, end (n×3), owner row, is-first, is-last."""
    xyz, part = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    if not len(xyz):
        e3 = np.empty((0, 3))
        ei = np.empty(0, dtype=np.int64)
        eb = np.empty(0, dtype=bool)
        return e3, e3, ei, eb, eb
    same = part[1:] == part[:-1]
    p0 = xyz[:-1][same]
    p1 = xyz[1:][same]
    owner = part[:-1][same]
    starts = np.r_[True, part[1:] != part[:-1]]
    ends = np.r_[part[1:] != part[:-1], True]
    first = starts[:-1][same]
    last = ends[1:][same]
    return p0, p1, owner.astype(np.int64), first, last


def _segment_distance(p0: NDArray[np.float64], p1: NDArray[np.float64],
                      q0: NDArray[np.float64], q1: NDArray[np.float64]
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Closest distance between segments p0p1 and q0q1 (row-wise, any dimension) and the
    parameters ``s``, ``t`` of the closest points (Ericson, Real-Time Collision Detection 5.1.9).
    """
    eps = 1e-12
    d1 = p1 - p0
    d2 = q1 - q0
    r = p0 - q0
    a = np.einsum("ij,ij->i", d1, d1)
    e = np.einsum("ij,ij->i", d2, d2)
    f = np.einsum("ij,ij->i", d2, r)
    c = np.einsum("ij,ij->i", d1, r)
    b = np.einsum("ij,ij->i", d1, d2)
    denom = a * e - b * b
    a_ok = a > eps
    e_ok = e > eps
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(denom > eps * np.maximum(a * e, 1.0), np.clip((b * f - c * e) / denom, 0, 1), 0.0)
        t = np.where(e_ok, (b * s + f) / np.where(e_ok, e, 1.0), 0.0)
        s_t0 = np.where(a_ok, np.clip(-c / np.where(a_ok, a, 1.0), 0, 1), 0.0)
        s_t1 = np.where(a_ok, np.clip((b - c) / np.where(a_ok, a, 1.0), 0, 1), 0.0)
    s = np.where(t < 0, s_t0, np.where(t > 1, s_t1, s))
    t = np.clip(t, 0, 1)
    # degenerate first segment: a point
    t_pt = np.where(e_ok, np.clip(f / np.where(e_ok, e, 1.0), 0, 1), 0.0)
    s = np.where(a_ok, s, 0.0)
    t = np.where(a_ok, t, t_pt)
    # degenerate second segment
    s = np.where(~e_ok & a_ok, s_t0, s)
    t = np.where(~e_ok, 0.0, t)
    cp = p0 + d1 * s[:, None]
    cq = q0 + d2 * t[:, None]
    return np.linalg.norm(cp - cq, axis=1), s, t


def pair_distances(geoms: NDArray[np.object_], reach: float, *,
                   xy_tol: float = 0.01) -> pd.DataFrame:
    """Pairs of pipes (i < j, row positions) within ``reach`` in 2D: minimum 3D centreline
    distance, and whether an endpoint of one lies on the other in 2D (a network connection)."""
    p0, p1, owner, first, last = _segments(geoms)
    cols = ["i", "j", "dist3d", "touch2d"]
    if not len(p0):
        return pd.DataFrame({c: [] for c in cols})
    segs = shapely.linestrings(np.stack([p0[:, :2], p1[:, :2]], axis=1))
    tree = shapely.STRtree(segs)
    si, sj = tree.query(segs, predicate="dwithin", distance=reach)
    keep = owner[si] < owner[sj]
    si, sj = si[keep], sj[keep]
    d3, _, _ = _segment_distance(p0[si], p1[si], p0[sj], p1[sj])
    # 2D: endpoints of one pipe on the other pipe's segment
    touch = np.zeros(len(si), dtype=bool)
    for pts, flag, seg in ((p0[si], first[si], sj), (p1[si], last[si], sj),
                           (p0[sj], first[sj], si), (p1[sj], last[sj], si)):
        d2, _, _ = _segment_distance(pts[:, :2], pts[:, :2], p0[seg][:, :2], p1[seg][:, :2])
        touch |= flag & (d2 <= xy_tol)
    df = pd.DataFrame({"i": owner[si], "j": owner[sj], "dist3d": d3, "touch2d": touch})
    return df.groupby(["i", "j"], as_index=False).agg(dist3d=("dist3d", "min"),
                                                       touch2d=("touch2d", "any"))


_pair_distances = pair_distances  # the former private name


# --------------------------------------------------------------------------------------------
# separations
# --------------------------------------------------------------------------------------------
def check_separations(
    pipes3d: gpd.GeoDataFrame,
    *,
    rules: pd.DataFrame | str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Pairs of pipes closer in 3D than a ``separation`` rule allows.

    Candidate pairs come from an STRtree of the 2D segments (within the largest rule distance
    plus both sizes), then the exact 3D distance between the centreline segments (vectorised)
    minus both outer radii (:func:`pipe_radius_m`, the larger side of a box — conservative) is
    the clear distance. A rule applies when one pipe matches ``utility`` and its condition and
    the other matches ``other_utility`` and its ``other.`` clauses (either way round); the
    largest applicable value is required. Pipes of one utility that touch in plan at an end
    (network connections) are skipped.

    Returns
    -------
    pandas.DataFrame
        ``pipe_a``, ``pipe_b`` (index labels), ``source_id_a``, ``source_id_b``, ``utility_a``,
        ``utility_b``, ``clear_m``, ``required_m``, ``rule_id``.

    Examples
    --------
    A gas pipe 0.2 m (surface to surface) below a water main:

    >>> import geopandas as gpd, shapely
    >>> pipes = gpd.GeoDataFrame(
    ...     {"utility": ["water", "gas"], "source_id": ["w", "g"], "diameter_mm": [200.0, 100.0]},
    ...     geometry=[shapely.LineString([(0, 0, 10), (10, 0, 10)]),
    ...               shapely.LineString([(5, -5, 9.65), (5, 5, 9.65)])], crs="EPSG:5186")
    >>> check_separations(pipes)[["utility_a", "utility_b", "clear_m", "required_m", "rule_id"]]
      utility_a utility_b  clear_m  required_m     rule_id
    0     water       gas      0.2         0.3  KR-GAS-SEP
    """
    table = _rules(rules)
    table = table[table["kind"] == "separation"]
    cols = ["pipe_a", "pipe_b", "source_id_a", "source_id_b", "utility_a", "utility_b",
            "clear_m", "required_m", "rule_id"]
    if not len(table) or not len(pipes3d):
        return pd.DataFrame({c: [] for c in cols})
    radius = pipe_radius_m(pipes3d)
    reach = float(table["value_m"].max()) + 2.0 * float(radius.max(initial=0.0))
    pairs = _pair_distances(pipes3d.geometry.to_numpy(), reach)
    i = pairs["i"].to_numpy(dtype=np.int64)
    j = pairs["j"].to_numpy(dtype=np.int64)
    f = _fields(pipes3d, None, None)
    util = f["utility"]
    clear = pairs["dist3d"].to_numpy() - radius[i] - radius[j]
    connected = pairs["touch2d"].to_numpy(dtype=bool) & (util[i] == util[j])
    fi = {k: v[i] for k, v in f.items()}
    fj = {k: v[j] for k, v in f.items()}
    need = np.full(len(i), np.nan)
    ids = np.full(len(i), None, dtype=object)
    for row in _compile(rules):  # loop over rules, not pipes
        if row.kind != "separation":
            continue
        clauses = row.clauses
        m = np.zeros(len(i), dtype=bool)
        for a, b in ((fi, fj), (fj, fi)):
            other_ok = (a["utility"] != b["utility"] if row.other_utility == "*"
                        else _util_mask(b["utility"], row.other_utility))
            m |= (_util_mask(a["utility"], row.utility) & other_ok & _mask(a, clauses, other=b))
        better = m & ~(need >= row.value_m)
        need = np.where(better, row.value_m, need)
        ids[better] = row.rule_id
    with np.errstate(invalid="ignore"):
        bad = (clear < need - 1e-9) & ~connected
    labels = pipes3d.index.to_numpy()
    sid = _text(pipes3d, "source_id")
    out = pd.DataFrame({
        "pipe_a": labels[i[bad]], "pipe_b": labels[j[bad]],
        "source_id_a": sid[i[bad]], "source_id_b": sid[j[bad]],
        "utility_a": util[i[bad]], "utility_b": util[j[bad]],
        "clear_m": np.round(clear[bad], 4), "required_m": need[bad], "rule_id": ids[bad],
    })
    for c in ("source_id_a", "source_id_b", "utility_a", "utility_b", "rule_id"):
        out[c] = out[c].astype("str")
    logger.info("check_separations: %s pipes, %s close pairs -> %s violations",
                f"{len(pipes3d):,}", f"{len(i):,}", f"{len(out):,}")
    return out.sort_values(["clear_m", "pipe_a", "pipe_b"], ignore_index=True)
