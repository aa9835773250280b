"""Address strings of docs/addresses.md: floor labels, numbers, road names, formatting and parsing.

Examples
--------
>>> from geo3d.address.format import format_address, floor_label, parse_address
>>> format_address("서울특별시", "동대문구", "경동시장1통로", "6-1", suffix="소화기")
'서울특별시 동대문구 경동시장1통로 6-1 소화기'
>>> floor_label(-1), floor_ordinal(-1), floor_label(2), floor_ordinal(2)
('지하1층', -1, '2층', 1)
>>> parse_address("서울특별시 동대문구 경동시장2통로 5-4, 101 자동심장충격기")["unit"]
'101'
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InputError
from ..pointcloud.classes import FACILITY_SUFFIX as _VOCABULARY_SUFFIX

__all__ = [
    "ADDRESS_PATTERN",
    "FACILITY_SUFFIX",
    "ROAD_NAME_PATTERN",
    "check_road_name",
    "floor_label",
    "floor_ordinal",
    "format_address",
    "format_number",
    "parse_address",
    "unit_number",
]

#: Korean type name appended to a facility's object address (docs/addresses.md); CCTV is not addressed.
#: (the vocabulary lives in :mod:`geo3d.pointcloud.classes`)
FACILITY_SUFFIX: dict[str, str] = dict(_VOCABULARY_SUFFIX)

#: Road names: Hangul syllables, digits and '.', no spaces.
ROAD_NAME_PATTERN = re.compile(r"^[가-힣0-9.]+$")

_SUFFIXES = "|".join(FACILITY_SUFFIX.values())
#: ``시도 시군구 도로명 번호[-부번][, 상세][ 유형]``
ADDRESS_PATTERN = re.compile(
    r"^(?P<sido>\S+) (?P<sigungu>\S+) (?P<road>[가-힣0-9.]+) "
    r"(?P<number>[1-9][0-9]*)(?:-(?P<sub>[1-9][0-9]*))?"
    r"(?:, (?P<unit>(?:지하|B)?[1-9][0-9]*호?))?"
    rf"(?: (?P<suffix>{_SUFFIXES}))?$"
)


def check_road_name(name: object) -> list[str]:
    """Problems with a road (aisle) name; empty when it obeys the naming rule.

    Examples
    --------
    >>> check_road_name("경동시장1통로")
    []
    >>> check_road_name("경동시장 1통로")
    ["road name '경동시장 1통로' may hold only Hangul, digits and '.', without spaces"]
    """
    if not isinstance(name, str) or not name:
        return [f"road name {name!r} must be a non-empty string"]
    if not ROAD_NAME_PATTERN.match(name):
        return [f"road name {name!r} may hold only Hangul, digits and '.', without spaces"]
    return []


def floor_label(floor: int) -> str:
    """``1층`` upward, ``지하1층`` downward; floor 0 does not exist.

    Examples
    --------
    >>> floor_label(1), floor_label(-2)
    ('1층', '지하2층')
    """
    f = int(floor)
    if f == 0:
        msg = "floor 0 does not exist (1층 upward, 지하1층 downward); renumber the levels"
        raise InputError(msg)
    return f"{f}층" if f > 0 else f"지하{-f}층"


def floor_ordinal(floor: int) -> int:
    """IMDF ordinal: floor − 1 above ground, floor below (1층 → 0, 지하1층 → −1).

    Examples
    --------
    >>> floor_ordinal(1), floor_ordinal(3), floor_ordinal(-1)
    (0, 2, -1)
    """
    f = int(floor)
    if f == 0:
        msg = "floor 0 does not exist (1층 upward, 지하1층 downward); renumber the levels"
        raise InputError(msg)
    return f - 1 if f > 0 else f


def format_number(number: int, sub: int | None = None) -> str:
    """``7`` or ``7-1``.

    Examples
    --------
    >>> format_number(7), format_number(7, 2)
    ('7', '7-2')
    """
    return f"{int(number)}" if sub is None else f"{int(number)}-{int(sub)}"


def unit_number(floor: int, seq: int, *, basement_prefix: str = "지하", ho: bool = False) -> str:
    """A unit (호) or in-building object number that starts with the floor digit.

    Examples
    --------
    >>> unit_number(1, 1), unit_number(2, 12, ho=True), unit_number(-1, 3)
    ('101', '212호', '지하103')
    """
    f = int(floor)
    if f == 0:
        msg = "floor 0 does not exist; unit numbers start with the floor digit"
        raise InputError(msg)
    text = f"{abs(f)}{int(seq):02d}"
    if f < 0:
        text = basement_prefix + text
    return text + ("호" if ho else "")


def format_address(sido: str, sigungu: str, road: str, number: str | int, *,
                   unit: str | None = None, suffix: str | None = None) -> str:
    """``{시도} {시군구} {도로명} {번호}[, {unit}][ {suffix}]``.

    Examples
    --------
    >>> format_address("서울특별시", "동대문구", "경동시장1통로", "4", unit="101", suffix="자동심장충격기")
    '서울특별시 동대문구 경동시장1통로 4, 101 자동심장충격기'
    """
    text = f"{sido} {sigungu} {road} {number}"
    if unit:
        text += f", {unit}"
    if suffix:
        text += f" {suffix}"
    return text


def parse_address(text: str) -> dict[str, Any]:
    """Split an address string into its components (raises :class:`InputError` if malformed).

    Examples
    --------
    >>> parse_address("서울특별시 동대문구 경동시장1통로 6-1 소화기")["sub"]
    1
    """
    m = ADDRESS_PATTERN.match(text) if isinstance(text, str) else None
    if m is None:
        msg = f"{text!r} is not an address of the form '시도 시군구 도로명 번호[-부번][, 상세][ 유형]'"
        raise InputError(msg)
    d: dict[str, Any] = m.groupdict()
    d["number"] = int(d["number"])
    d["sub"] = int(d["sub"]) if d["sub"] else None
    return d
