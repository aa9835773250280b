"""Every validation rule of ADDRESS.md, run on every address result.

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

from ..errors import Geo3DError
from ..indoor.entrances import project_on_aisles
from .format import ADDRESS_PATTERN, check_road_name, floor_label, floor_ordinal
from .market import Market

__all__ = ["AddressError", "AddressValidation", "validate_addresses"]

_MUST = ("fire_extinguisher", "indoor_hydrant", "aed", "exit_sign")
_LABEL = re.compile(r"^(?:지하)?[1-9][0-9]*층$")


class AddressError(Geo3DError, ValueError):
    """Addresses break a rule of ADDRESS.md; :attr:`problems` lists every offending object."""

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
    ids = df.loc[mask, "object_id"].astype(int).tolist()
    more = f" … (+{len(ids) - 20})" if len(ids) > 20 else ""
    return ", ".join(map(str, ids[:20])) + more


def validate_addresses(addresses: gpd.GeoDataFrame, aisles: gpd.GeoDataFrame, market: Market, *,
                       tolerance: float = 0.5, raise_on_error: bool = False) -> AddressValidation:
    """Check an :func:`~geo3d.address.assign_addresses` result against every rule of ADDRESS.md.

    Parameters
    ----------
    addresses : GeoDataFrame
        The output record.
    aisles : GeoDataFrame
        The aisles it was numbered on (oriented as numbered).
    market : Market
        Interval, scheme and place names.
    tolerance : float
        Slack (m) of the distance rule.
    raise_on_error : bool
        Raise :class:`AddressError` listing every error instead of returning them.
    """
    res = AddressValidation()
    a = addresses.reset_index(drop=True)
    interval = float(market.interval_m)
    has = a["address"].notna().to_numpy()
    is_store = (a["kind"] == "store").to_numpy()

    # road names
    for name in aisles["name"]:
        res.errors += [f"aisle {name!r}: {p}" for p in check_road_name(name)]
    # address form
    form_ok = a["address"].map(lambda t: bool(ADDRESS_PATTERN.match(t)) if isinstance(t, str) else True)
    bad = ~form_ok.to_numpy(dtype=bool)
    if bad.any():
        res.errors.append(f"address string does not match the form of ADDRESS.md: objects {_ids(a, bad)}")

    if market.scheme != "detail":
        numbered = has & a["base_number"].notna().to_numpy()
        num = a["base_number"].fillna(0).to_numpy(dtype=np.int64)
        # parity, recomputed from the geometry
        ex = np.where(is_store, a["entrance_x"].to_numpy(float), a["x"].to_numpy(float))
        ey = np.where(is_store, a["entrance_y"].to_numpy(float), a["y"].to_numpy(float))
        name_row = {n: i for i, n in enumerate(aisles["name"])}
        pr = project_on_aisles(np.column_stack([ex, ey]), a["floor"].to_numpy(np.int64), aisles)
        # measure on the aisle the object was numbered on (it may not be the nearest one)
        s = pr["s"].to_numpy()
        d = pr["d"].to_numpy()
        same = np.array([name_row.get(n, -2) == r for n, r in zip(a["aisle"], pr["aisle_row"], strict=True)])
        s = np.where(same, s, a["s_m"].to_numpy(float))
        d = np.where(same, d, a["offset_m"].to_numpy(float))
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
        # monotonic numbers per aisle/side, sub-numbers increasing with s
        sub = a["sub"].fillna(0).to_numpy(dtype=np.int64)
        typ = np.where(is_store, "store", a["kind"].astype(str).to_numpy())
        m = pd.DataFrame({"aisle": a["aisle"], "side": num % 2, "typ": typ, "s": s, "num": num, "sub": sub,
                          "oid": a["object_id"]})[numbered]
        m = m.sort_values(["aisle", "side", "typ", "s", "num", "sub", "oid"])
        prev = m.groupby(["aisle", "side", "typ"])["num"].shift()
        dec = m["num"] < prev
        if dec.any():
            res.errors.append("monotonic: numbers decrease along an aisle: objects "
                              + ", ".join(map(str, m.loc[dec, "oid"].astype(int).tolist()[:20])))
        prev_sub = m.groupby(["aisle", "side", "typ", "num"])["sub"].shift()
        sdec = m["sub"] < prev_sub
        if sdec.any():
            res.errors.append("monotonic: sub-numbers decrease along an aisle: objects "
                              + ", ".join(map(str, m.loc[sdec, "oid"].astype(int).tolist()[:20])))
    # unique
    key = pd.DataFrame({"aisle": a["aisle"], "number": a["number"], "t": np.where(is_store, "", a["kind"].astype(str))})
    dup = has & key.duplicated(keep=False).to_numpy() if market.scheme != "detail" else (
        has & a["address"].duplicated(keep=False).to_numpy())
    if dup.any():
        res.errors.append(f"unique: (aisle, number[, type]) used twice: objects {_ids(a, dup)}")
    # floors
    fl = a["floor"].to_numpy(np.int64)
    z = (fl == 0) & has
    if z.any():
        res.errors.append(f"floors: floor 0 does not exist: objects {_ids(a, z)}")
    lab_bad = has & ~a["label"].map(lambda t: isinstance(t, str) and bool(_LABEL.match(t))).to_numpy(bool)
    nz = fl != 0
    exp_lab = np.array([floor_label(f) if f else "" for f in fl], dtype=object)
    exp_ord = np.array([floor_ordinal(f) if f else 0 for f in fl])
    lab_bad |= has & nz & (a["label"].to_numpy(dtype=object) != exp_lab)
    ordv = a["ordinal"].astype("Float64").fillna(np.nan).to_numpy(float)
    lab_bad |= has & nz & (ordv != exp_ord)
    if lab_bad.any():
        res.errors.append(f"floors: label must be N층 / 지하N층 and ordinal floor−1 / floor: objects {_ids(a, lab_bad)}")
    # every store addressed or listed with a reason; essential facilities always addressed
    silent = ~has & a["reason"].isna().to_numpy() & (is_store | a["kind"].isin(_MUST).to_numpy())
    if silent.any():
        res.errors.append(f"objects without an address and without a reason: {_ids(a, silent)}")
    must = ~has & a["kind"].isin(_MUST).to_numpy()
    if must.any():
        res.errors.append(f"every extinguisher, hydrant, AED and exit must get an address: objects {_ids(a, must)}")
    un = ~has & a["reason"].notna().to_numpy() & (a["kind"] != "cctv").to_numpy()
    res.unaddressed = [{"object_id": int(i), "kind": str(k), "reason": str(r)}
                       for i, k, r in zip(a.loc[un, "object_id"], a.loc[un, "kind"], a.loc[un, "reason"], strict=True)]
    # warnings (per object, deduplicated)
    ws = a["warnings"].dropna()
    res.warnings = sorted({w for text in ws for w in str(text).split("; ")})
    if raise_on_error and res.errors:
        msg = f"{len(res.errors)} address rule(s) broken (ADDRESS.md, Validation)"
        raise AddressError(msg, res.errors)
    return res
