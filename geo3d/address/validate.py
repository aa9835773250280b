"""Every validation rule of docs/addresses.md, run on every address result.

Errors (E) raise :class:`AddressError` listing every offending object; warnings (W) are returned
for report.json; unaddressed objects are listed with their reason.

Examples
--------
>>> import geopandas as gpd, shapely
>>> from geo3d.address import assign_addresses, market_from_dict
>>> market = market_from_dict({"name": "가", "sido": "서울특별시", "sigungu": "동대문구",
...                            "parent_road": "고산자로36길", "parent_number": "3"})
>>> aisles = gpd.GeoDataFrame({"name": ["가1통로"], "floor": [1]},
...                           geometry=[shapely.LineString([(0, 0), (40, 0)])])
>>> stores = gpd.GeoDataFrame({"object_id": [1], "floor": [1]}, geometry=[shapely.box(5, 2, 8, 5)])
>>> out = assign_addresses(stores, None, aisles, None, market)
>>> validate_addresses(out, aisles, market).errors
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..errors import Geo3DError
from ..indoor.entrances import project_on_aisles
from .format import ADDRESS_PATTERN, FACILITY_SUFFIX, check_road_name, floor_label, floor_ordinal
from .market import Market

__all__ = ["AddressError", "AddressValidation", "validate_addresses"]

_MUST = ("fire_extinguisher", "indoor_hydrant", "aed", "exit_sign")
_LABEL = re.compile(r"^(?:지하)?[1-9][0-9]*층$")


class AddressError(Geo3DError, ValueError):
    """Addresses break a rule of docs/addresses.md; :attr:`problems` lists every offending object."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


@dataclass
class AddressValidation:
    """Outcome of :func:`validate_addresses`."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unaddressed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for report.json."""
        return {"errors": self.errors, "warnings": self.warnings, "unaddressed": self.unaddressed}


def _ids(df: pd.DataFrame, mask: Any) -> str:
    """Every offending object id (the message lists them all: fix them in one go)."""
    return ", ".join(map(str, df.loc[np.asarray(mask, dtype=bool), "object_id"].astype(int).tolist()))


def _eq(a: pd.Series, b: pd.Series) -> NDArray[np.bool_]:
    """Elementwise equality of two object columns, NA equal to NA."""
    x, y = a.astype(object), b.astype(object)
    both_na = x.isna().to_numpy() & y.isna().to_numpy()
    same = (x.astype(str) == y.astype(str)).to_numpy() & x.notna().to_numpy() & y.notna().to_numpy()
    return np.asarray(both_na | same)


def validate_addresses(addresses: gpd.GeoDataFrame, aisles: gpd.GeoDataFrame, market: Market, *,
                       tolerance: float = 0.5, raise_on_error: bool = False) -> AddressValidation:
    """Check an :func:`~geo3d.address.assign_addresses` result against every rule of docs/addresses.md.

    Errors (each lists every offending object): the address form (``시도 시군구 도로명 번호[-부번]
    [, 상세][ 유형]``, its parts agreeing with the record: the market's 시도/시군구, the object's
    aisle, number, sub-number, unit and type suffix) and the road-name rule; parity, recomputed
    from the geometry; the distance band of each number; numbers monotonic along each side and
    sub-numbers increasing with s; uniqueness of (aisle, number) among stores and (aisle, number,
    type) among facilities; floors (no floor 0, ``N층``/``지하N층`` labels, IMDF ordinals); every
    numbered store's entrance within ``max_offset`` of its aisle; every unaddressed object has a
    reason; every extinguisher, hydrant, AED and exit has an address. Warnings: the reversed-
    aisle check (highest store number × I/2 within one interval of the aisle's length) and the
    per-object warnings of the record. Vectorised: time linear in the number of objects.

    Parameters
    ----------
    addresses : GeoDataFrame
        The output record.
    aisles : GeoDataFrame
        The aisles it was numbered on (``market.start`` orients them as numbering did).
    market : Market
        Interval, scheme and place names.
    tolerance : float
        Slack (m) of the distance and offset rules.
    raise_on_error : bool
        Raise :class:`AddressError` listing every error instead of returning them.

    Returns
    -------
    AddressValidation
        ``errors``, ``warnings`` and ``unaddressed`` (object_id, kind, reason of every object
        without an address).
    """
    from .assign import orient_aisles, reversed_aisles

    aisles = orient_aisles(aisles.reset_index(drop=True), start=market.start)  # as numbered
    res = AddressValidation()
    a = addresses.reset_index(drop=True)
    interval = float(market.interval_m)
    detail = market.scheme == "detail"
    has = a["address"].notna().to_numpy()
    kind = a["kind"].astype(str)
    is_store = (kind == "store").to_numpy()
    hosted = a["host_store"].notna().to_numpy() if "host_store" in a else np.zeros(len(a), bool)

    # E: road names
    for name in aisles["name"]:
        res.errors += [f"aisle {name!r}: {p}" for p in check_road_name(name)]
    # E: the address form, and its parts agree with the record
    parts = a["address"].astype(object).where(a["address"].notna(), "").astype(str).str.extract(ADDRESS_PATTERN)
    matched = parts["number"].notna().to_numpy()
    bad = has & ~matched
    if bad.any():
        res.errors.append(f"form: address string does not match '시도 시군구 도로명 번호[-부번][, 상세][ 유형]': "
                          f"objects {_ids(a, bad)}")
    want_suffix = pd.Series(np.where(is_store, None, kind.map(FACILITY_SUFFIX).to_numpy(dtype=object)), dtype=object)
    agree = ((parts["sido"] == market.sido).to_numpy() & (parts["sigungu"] == market.sigungu).to_numpy()
             & _eq(parts["suffix"], want_suffix))
    if detail:
        agree &= (parts["road"] == market.parent_road).to_numpy() & (parts["number"] == market.parent_number).to_numpy()
        agree &= parts["unit"].notna().to_numpy()
    else:
        agree &= _eq(parts["road"], a["aisle"])
        nb = a["base_number"].astype("Int64").astype(object) if "base_number" in a else pd.Series([None] * len(a))
        sb = a["sub"].astype("Int64").astype(object) if "sub" in a else pd.Series([None] * len(a))
        own = _eq(parts["number"], nb) & _eq(parts["sub"], sb) & parts["unit"].isna().to_numpy()
        # a facility inside a store: the store's number, then its unit (``4, 101``)
        text = (parts["number"].astype(str) + np.where(parts["sub"].notna(), "-" + parts["sub"].astype(str), "")
                + ", " + parts["unit"].astype(str))
        inner = _eq(text.where(parts["unit"].notna()), a["number"]) & parts["unit"].notna().to_numpy()
        agree &= np.where(hosted, inner, own)
    bad = has & matched & ~agree
    if bad.any():
        res.errors.append("form: address parts disagree with the record (시도/시군구, aisle, number, sub-number, "
                          f"unit or type suffix): objects {_ids(a, bad)}")

    if not detail:
        numbered = has & a["base_number"].notna().to_numpy()
        num = a["base_number"].fillna(0).to_numpy(dtype=np.int64)
        # parity and distance, recomputed from the geometry
        ex = np.where(is_store, a["entrance_x"].to_numpy(float), a["x"].to_numpy(float))
        ey = np.where(is_store, a["entrance_y"].to_numpy(float), a["y"].to_numpy(float))
        name_row = pd.Series(np.arange(len(aisles)), index=aisles["name"].to_numpy())
        pr = project_on_aisles(np.column_stack([ex, ey]), a["floor"].to_numpy(np.int64), aisles)
        # measure on the aisle the object was numbered on (it may not be the nearest one)
        own_row = a["aisle"].map(name_row).fillna(-2).to_numpy(np.int64)
        same = own_row == pr["aisle_row"].to_numpy()
        s = np.where(same, pr["s"].to_numpy(), a["s_m"].to_numpy(float))
        d = np.where(same, pr["d"].to_numpy(), a["offset_m"].to_numpy(float))
        dist = np.where(same, pr["distance"].to_numpy(), np.abs(a["offset_m"].to_numpy(float)))
        odd = num % 2 == 1
        parity = numbered & (odd != (d >= 0))
        if parity.any():
            res.errors.append(f"parity: odd numbers must be on the left, even on the right: objects {_ids(a, parity)}")
        half = np.ceil(num / 2)
        lo, hi = (half - 1) * interval - tolerance, half * interval + tolerance
        dist_bad = numbered & ((s < lo) | (s >= hi))
        if dist_bad.any():
            res.errors.append(f"distance: number N must lie in [(ceil(N/2)-1)·I, ceil(N/2)·I) along its aisle: "
                              f"objects {_ids(a, dist_bad)}")
        off_bad = numbered & is_store & (dist > float(market.max_offset_m) + tolerance)
        if off_bad.any():
            res.errors.append(f"entrance: a numbered store's entrance must lie within max_offset "
                              f"{market.max_offset_m:g} m of its aisle: objects {_ids(a, off_bad)}")
        # monotonic numbers per aisle/side, sub-numbers increasing with s
        sub = a["sub"].fillna(0).to_numpy(dtype=np.int64)
        typ = np.where(is_store, "store", kind.to_numpy())
        m = pd.DataFrame({"aisle": a["aisle"], "side": num % 2, "typ": typ, "s": s, "num": num, "sub": sub,
                          "row": np.arange(len(a))})[numbered]
        m = m.sort_values(["aisle", "side", "typ", "s", "num", "sub", "row"])
        dec = (m["num"] < m.groupby(["aisle", "side", "typ"])["num"].shift()).to_numpy()
        if dec.any():
            res.errors.append("monotonic: numbers decrease along an aisle side: objects "
                              + _ids(a, np.isin(np.arange(len(a)), m["row"].to_numpy()[dec])))
        sdec = (m["sub"] < m.groupby(["aisle", "side", "typ", "num"])["sub"].shift()).to_numpy()
        if sdec.any():
            res.errors.append("monotonic: sub-numbers decrease along an aisle: objects "
                              + _ids(a, np.isin(np.arange(len(a)), m["row"].to_numpy()[sdec])))
        # W: a reversed or partly used aisle
        sel = numbered & is_store & (own_row >= 0)
        msgs = reversed_aisles(own_row[sel], num[sel], aisles["name"].to_numpy(dtype=object),
                               shapely.length(np.asarray(aisles.geometry.values, dtype=object)), interval)
        res.warnings += [str(w) for w in msgs if w is not None]
    # E: unique
    key = pd.DataFrame({"aisle": a["aisle"], "number": a["number"], "t": np.where(is_store, "", kind.to_numpy())})
    dup = has & (a["address"].duplicated(keep=False).to_numpy() if detail else key.duplicated(keep=False).to_numpy())
    if dup.any():
        res.errors.append(f"unique: (aisle, number[, type]) used twice: objects {_ids(a, dup)}")
    # E: floors
    fl = a["floor"].to_numpy(np.int64)
    z = (fl == 0) & has
    if z.any():
        res.errors.append(f"floors: floor 0 does not exist: objects {_ids(a, z)}")
    nz = fl != 0
    floors = np.unique(fl[nz])
    exp_lab = pd.Series(fl).map(dict(zip(floors, [floor_label(f) for f in floors], strict=True))).to_numpy(dtype=object)
    exp_ord = pd.Series(fl).map(dict(zip(floors, [floor_ordinal(f) for f in floors], strict=True))).to_numpy(float)
    labels = a["label"].astype(object)
    lab_bad = has & ~labels.where(labels.notna(), "").astype(str).str.fullmatch(_LABEL).to_numpy(bool)
    lab_bad |= has & nz & (labels.to_numpy(dtype=object) != exp_lab)
    ordv = a["ordinal"].astype("Float64").fillna(np.nan).to_numpy(float)
    lab_bad |= has & nz & (ordv != exp_ord)
    if lab_bad.any():
        res.errors.append(f"floors: label must be N층 / 지하N층 and ordinal floor−1 / floor: objects {_ids(a, lab_bad)}")
    # E: every store addressed or listed with a reason; essential facilities always addressed
    reason = a["reason"].astype(object)
    silent = ~has & reason.isna().to_numpy()
    if silent.any():
        res.errors.append(f"objects without an address and without a reason: {_ids(a, silent)}")
    must = ~has & kind.isin(_MUST).to_numpy()
    if must.any():
        res.errors.append(f"every extinguisher, hydrant, AED and exit must get an address: objects {_ids(a, must)}")
    un = ~has
    res.unaddressed = [{"object_id": int(i), "kind": str(k), "reason": None if pd.isna(r) else str(r)}
                       for i, k, r in zip(a.loc[un, "object_id"], kind[un], reason[un], strict=True)]
    # W: per-object warnings of the record (deduplicated)
    ws = a["warnings"].dropna()
    res.warnings = sorted(set(res.warnings) | {w for text in ws for w in str(text).split("; ")})
    if raise_on_error and res.errors:
        msg = f"{len(res.errors)} address rule(s) broken (docs/addresses.md, Validation); fix the objects listed"
        raise AddressError(msg, res.errors)
    return res
