"""The canonical pipe schema, its code tables, and the source-layer mappings — all as data.

Everything a reader needs to turn a source layer into the canonical schema of docs/underground.md
lives here as plain dicts, so a user can add a layer or a material spelling without code::

    from geo3d.underground import schema
    schema.MATERIAL_LOOKUP["TTE"] = "other"                  # a new messy spelling
    schema.LAYER_MAPPINGS["WTL_PIPE_LS"] = {**schema.LAYER_MAPPINGS["WTL_PIPE_LM"]}

or pass the same structures to :func:`geo3d.underground.read_pipes` (``column_map=``,
``materials=``) for one call only.

A *layer mapping* is a dict with the keys

``utility``
    one of :data:`UTILITIES` (or :data:`OPTIONAL_UTILITIES`).
``fields``
    ``{role: source_field}``. A role is a canonical column name (``source_id``, ``agency``,
    ``diameter_mm``, ``depth_start_m`` …) or one of the *parsed roles* of :data:`PARSED_ROLES`:
    ``size`` (a size string, ``"300"`` → diameter, ``"500\\600"`` → width × height box),
    ``width``/``height`` (box sides), ``material`` (raw code → ``material_raw`` and normalised
    ``material``), ``install_date`` (``YYYYMMDD``, ``YYYY-MM-DD``, a year or a date →
    ``install_year``), ``depth_min``/``depth_max`` (shallowest and deepest cover along the
    pipe → ``depth_m`` = their mean), ``pressure_code`` and ``voltage_code``.
``required``
    the source fields that must exist (checked for every layer at once).
``depth_reference`` / ``depth_kind``
    what the depths measure (``top``/``centre``/``invert``/``bottom``; ``cover``/``elevation``).
``zero_is_unknown``
    whether a depth or size of 0 means "unknown" (true for the Korean UIS layers).
``units`` (optional)
    ``{"diameter": "mm", "depth": "m"}`` — the units of the source's sizes and depths.

Examples
--------
>>> normalise_material(["DIP", " steel id ", "PLASTIC BLUE BRUTE", "덕타일주철관", None, "??"]).tolist()
['ductile_iron', 'steel', 'pvc', 'ductile_iron', nan, nan]
>>> LAYER_MAPPINGS["SWL_PIPE_LM"]["utility"]
'sewer'
>>> sorted(UTILITIES)
['gas', 'heat', 'power', 'sewer', 'telecom', 'water']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CANONICAL_COLUMNS",
    "DEFAULT_COVER_M",
    "DEPTH_KINDS",
    "DEPTH_REFERENCES",
    "LAYER_MAPPINGS",
    "MATERIALS",
    "MATERIAL_CODES",
    "MATERIAL_LOOKUP",
    "OPTIONAL_UTILITIES",
    "PARSED_ROLES",
    "PRESSURES",
    "PRESSURE_CODES",
    "REQUIRED_COLUMNS",
    "UTILITIES",
    "UTILITY_ALIASES",
    "VOLTAGE_CODES",
    "material_table",
    "normalise_material",
    "normalise_material_key",
]

#: The six utilities of a Korean city's underground network.
UTILITIES: tuple[str, ...] = ("water", "sewer", "power", "telecom", "gas", "heat")
#: Accepted extra utilities (pipelines some cities also hold).
OPTIONAL_UTILITIES: tuple[str, ...] = ("oil", "lpg")

#: What a depth is measured to.
DEPTH_REFERENCES: tuple[str, ...] = ("top", "centre", "invert", "bottom")
#: ``cover``: a depth below the ground surface; ``elevation``: an absolute height (vertical datum).
DEPTH_KINDS: tuple[str, ...] = ("cover", "elevation")

#: Other spellings of utility names → canonical name (applied when ``utility`` comes from a
#: source field through a ``column_map``; case-insensitive).
UTILITY_ALIASES: dict[str, str] = {
    "상수": "water", "상수도": "water", "하수": "sewer", "하수도": "sewer", "전력": "power",
    "통신": "telecom", "가스": "gas", "도시가스": "gas", "난방": "heat", "지역난방": "heat",
    "electric": "power", "electricity": "power", "communication": "telecom",
    "communications": "telecom", "heating": "heat", "district_heating": "heat",
    "wastewater": "sewer", "sanitary": "sewer", "drinking_water": "water",
}

#: Gas pressure classes.
PRESSURES: tuple[str, ...] = ("low", "medium", "high")

#: Canonical columns and their pandas dtypes, in output order (``geometry`` last).
#: Strings use pandas' default ``str`` dtype (missing = NaN); numbers use nullable dtypes so that
#: "unknown" is ``<NA>``, never 0.
CANONICAL_COLUMNS: dict[str, str] = {
    "utility": "str",
    "source_layer": "str",
    "source_id": "str",
    "agency": "str",
    "diameter_mm": "Float64",
    "width_mm": "Float64",
    "height_mm": "Float64",
    "material": "str",
    "material_raw": "str",
    "install_year": "Int64",
    "depth_m": "Float64",
    "depth_start_m": "Float64",
    "depth_end_m": "Float64",
    "depth_reference": "str",
    "depth_kind": "str",
    "depth_unknown": "bool",
    "accuracy_h_m": "Float64",
    "accuracy_v_m": "Float64",
    "quality_level": "str",
    "pressure": "str",
    "voltage_kv": "Float64",
    "geometry": "geometry",
}

#: Columns a frame must hold to be validated; the others are added (all unknown) when absent.
REQUIRED_COLUMNS: tuple[str, ...] = ("utility", "geometry")

#: Roles of a layer mapping's ``fields`` that are parsed rather than copied (see module doc).
PARSED_ROLES: tuple[str, ...] = (
    "size", "width", "height", "material", "install_date", "depth_min", "depth_max",
    "pressure_code", "voltage_code",
)

#: Normalised material names (the values of ``material``).
MATERIALS: tuple[str, ...] = (
    "ductile_iron", "cast_iron", "steel", "stainless_steel", "galvanised_steel", "coated_steel",
    "copper", "pe", "hdpe", "pvc", "plastic", "grp", "concrete", "reinforced_concrete", "clay",
    "asbestos_cement", "brick", "other",
)

#: Korean source-system material codes (관재질, ``mop_cde``) → normalised name.
MATERIAL_CODES: dict[str, str] = {
    "DIP": "ductile_iron",          # 덕타일주철관
    "DCIP": "ductile_iron",
    "CIP": "cast_iron",             # 주철관
    "SP": "steel",                  # 강관
    "STP": "steel",
    "STS": "stainless_steel",       # 스테인리스강관
    "SSP": "stainless_steel",
    "GSP": "galvanised_steel",      # 아연도강관
    "PLP": "coated_steel",          # 폴리에틸렌피복강관
    "PFP": "coated_steel",          # 분말융착식 폴리에틸렌피복강관
    "CU": "copper",
    "PE": "pe",                     # 폴리에틸렌관
    "PEP": "pe",
    "HDPE": "hdpe",                 # 고밀도폴리에틸렌관
    "PVC": "pvc",                   # 경질염화비닐관
    "HI3P": "pvc",                  # 내충격수도용 PVC
    "VP": "pvc",
    "ELP": "pe",                    # 파형 폴리에틸렌 전선관 (corrugated PE conduit)
    "FRP": "grp",                   # 유리섬유강화플라스틱관
    "GRP": "grp",
    "HP": "reinforced_concrete",    # 흄관 (centrifugally cast reinforced concrete)
    "RCP": "reinforced_concrete",
    "CP": "concrete",               # 콘크리트관
    "BOX": "reinforced_concrete",   # 박스 암거
    "VCP": "clay",                  # 도관
    "ACP": "asbestos_cement",       # 석면시멘트관
    "BRK": "brick",
    "ETC": "other",
}

#: Messy real-world spellings (upper-cased, single-spaced; see :func:`normalise_material_key`)
#: → normalised name. Seeded from RefactoredWaterArcs.shp (pyincore; Seaside, Oregon) and
#: Korean names. Add entries freely.
MATERIAL_LOOKUP: dict[str, str] = {
    # cast and ductile iron: joint prefixes TJ (Tyton), MJ (mechanical joint), bell & hub
    "CI": "cast_iron", "CAST IRON": "cast_iron", "TJCI": "cast_iron", "MJCI": "cast_iron",
    "TJCP": "cast_iron",  # Tyton-joint cast iron pipe, as spelt in RefactoredWaterArcs
    "BELL & HUB": "cast_iron", "BELL AND HUB": "cast_iron",
    "DI": "ductile_iron", "DCI": "ductile_iron", "TJDCI": "ductile_iron", "MJDCI": "ductile_iron",
    "DUCTILE IRON": "ductile_iron", "DUCTILE": "ductile_iron",
    # steel: ID/OD say whether the nominal size is the inner or outer diameter
    "STEEL": "steel", "STEEL ID": "steel", "ID STEEL": "steel", "STEEL OD": "steel",
    "OD STEEL": "steel", "ID": "steel", "STL": "steel",
    "STAINLESS": "stainless_steel", "STAINLESS STEEL": "stainless_steel",
    "GALVANIZED": "galvanised_steel", "GALVANISED": "galvanised_steel",
    "COPPER": "copper",
    # plastics (Blue Brute is a PVC pressure-pipe brand)
    "PLASTIC BLUE BRUTE": "pvc", "BLUE BRUTE": "pvc", "C900": "pvc", "C-900": "pvc",
    "POLYETHYLENE": "pe", "PLASTIC": "plastic", "POLY": "pe",
    # cement and concrete (Transite is an asbestos-cement brand)
    "TRANSITE": "asbestos_cement", "AC": "asbestos_cement", "ASBESTOS CEMENT": "asbestos_cement",
    "TRANSITE & PLASTIC": "other",
    "CONC": "concrete", "CONCRETE": "concrete", "RC": "reinforced_concrete",
    "CLAY": "clay", "VITRIFIED CLAY": "clay",
    # Korean names
    "덕타일주철관": "ductile_iron", "주철관": "cast_iron", "강관": "steel",
    "스테인리스강관": "stainless_steel", "아연도강관": "galvanised_steel",
    "폴리에틸렌관": "pe", "고밀도폴리에틸렌관": "hdpe", "경질염화비닐관": "pvc",
    "흄관": "reinforced_concrete", "콘크리트관": "concrete", "도관": "clay",
    "석면시멘트관": "asbestos_cement", "파형관": "pe", "기타": "other",
}

#: Gas pressure codes (``prs_cde``) → ``low``/``medium``/``high``.
PRESSURE_CODES: dict[str, str] = {
    "LOW": "low", "L": "low", "저압": "low", "PRS001": "low",
    "MEDIUM": "medium", "MID": "medium", "M": "medium", "중압": "medium", "PRS002": "medium",
    "HIGH": "high", "H": "high", "고압": "high", "PRS003": "high",
}

#: Power voltage codes (``vol_cde``) → kV. Numeric strings (``"22.9"``, ``"22.9kV"``) parse too.
VOLTAGE_CODES: dict[str, float] = {
    "LV": 0.38, "저압": 0.38, "HV": 22.9, "고압": 22.9, "특고압": 154.0, "EHV": 154.0,
}

#: Default cover (m, to the top of the pipe) used by :func:`geo3d.underground.pipes_to_3d` when
#: a row has no depth. Legal minimums from docs/underground.md's rule table where one exists (water
#: D ≤ 900 mm 1.2 m; gas under roads ≥ 8 m wide 1.2 m; power under traffic 1.2 m); sewer,
#: telecom and heat use common Korean design covers (our assumption; override per project).
DEFAULT_COVER_M: dict[str, float] = {
    "water": 1.2, "sewer": 1.0, "power": 1.2, "telecom": 1.0, "gas": 1.2, "heat": 1.2,
}

_UIS_COMMON = {"source_id": "ftr_idn", "agency": "mng_cde", "install_date": "ist_ymd"}

#: Source layer name → layer mapping (see the module docstring). Korean UIS/NGIS layers; field
#: names are matched case-insensitively. The heating layer name is an assumption.
LAYER_MAPPINGS: dict[str, dict[str, Any]] = {
    "WTL_PIPE_LM": {
        "utility": "water",
        "fields": {**_UIS_COMMON, "size": "pip_dip", "material": "mop_cde",
                   "depth_min": "low_dep", "depth_max": "hgh_dep"},
        "required": ["ftr_idn", "pip_dip", "mop_cde", "low_dep", "hgh_dep"],
        "depth_reference": "top", "depth_kind": "cover", "zero_is_unknown": True,
    },
    "SWL_PIPE_LM": {
        "utility": "sewer",
        "fields": {**_UIS_COMMON, "size": "std_dip", "width": "std_hol", "height": "std_vel",
                   "material": "mop_cde", "depth_start_m": "beg_dep", "depth_end_m": "end_dep"},
        "required": ["ftr_idn", "std_dip", "mop_cde", "beg_dep", "end_dep"],
        "depth_reference": "top", "depth_kind": "cover", "zero_is_unknown": True,
    },
    "UFL_BPIP_LM": {
        "utility": "power",
        "fields": {**_UIS_COMMON, "size": "std_dip", "material": "mop_cde", "depth_m": "std_dep",
                   "voltage_code": "vol_cde"},
        "required": ["ftr_idn", "std_dip", "std_dep"],
        "depth_reference": "top", "depth_kind": "cover", "zero_is_unknown": True,
    },
    "UFL_KPIP_LS": {
        "utility": "telecom",
        "fields": {**_UIS_COMMON, "size": "std_dip", "material": "mop_cde", "depth_m": "std_dep"},
        "required": ["ftr_idn", "std_dip", "std_dep"],
        "depth_reference": "top", "depth_kind": "cover", "zero_is_unknown": True,
    },
    "UFL_GPIP_LM": {
        "utility": "gas",
        "fields": {**_UIS_COMMON, "size": "std_dip", "material": "mop_cde", "depth_m": "std_dep",
                   "pressure_code": "prs_cde"},
        "required": ["ftr_idn", "std_dip", "std_dep", "prs_cde"],
        "depth_reference": "top", "depth_kind": "cover", "zero_is_unknown": True,
    },
    "UFL_HPIP_LM": {
        "utility": "heat",
        "fields": {**_UIS_COMMON, "size": "std_dip", "material": "mop_cde", "depth_m": "std_dep"},
        "required": ["ftr_idn", "std_dip", "std_dep"],
        "depth_reference": "top", "depth_kind": "cover", "zero_is_unknown": True,
    },
}

_SPACES = re.compile(r"\s+")


def normalise_material_key(raw: object) -> str | None:
    """The lookup key of a raw material string: stripped, upper-cased, single-spaced.

    Examples
    --------
    >>> normalise_material_key("  plastic   blue brute ")
    'PLASTIC BLUE BRUTE'
    >>> normalise_material_key(float("nan")) is None
    True
    """
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    key = _SPACES.sub(" ", str(raw).strip().upper())
    return key or None


def material_table(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The merged look-up table: normalised names, :data:`MATERIAL_CODES`, :data:`MATERIAL_LOOKUP`, ``extra``.

    Keys are normalised with :func:`normalise_material_key`.
    """
    table: dict[str, str] = {m.upper(): m for m in MATERIALS}
    table.update(MATERIAL_CODES)
    table.update(MATERIAL_LOOKUP)
    if extra:
        table.update({k2: v for k, v in extra.items() if (k2 := normalise_material_key(k))})
    return table


def normalise_material(
    raw: Iterable[object], *, extra: Mapping[str, str] | None = None
) -> pd.Series:
    """Normalised material names for raw codes or strings; missing where unknown or absent.

    Looks up :data:`MATERIAL_CODES`, :data:`MATERIAL_LOOKUP` and then ``extra`` (which wins;
    keys are normalised like the others). Values already normalised (``"pvc"``) map to
    themselves. Returns a ``str`` Series, aligned to ``raw`` when it is a Series.

    Examples
    --------
    >>> normalise_material(["TJDCI", "HP", "pvc", "TTE"], extra={"tte": "other"}).tolist()
    ['ductile_iron', 'reinforced_concrete', 'pvc', 'other']
    """
    series = raw if isinstance(raw, pd.Series) else pd.Series(list(raw), dtype=object)
    codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    table = material_table(extra)
    # one look-up per *distinct* value (codes repeat heavily); -1 (missing) picks the last None
    names = [table.get(normalise_material_key(u)) or None for u in uniques]  # type: ignore[arg-type]
    mapped = np.array([*names, None], dtype=object)[codes]
    return pd.Series(mapped, index=series.index, dtype="str")
