"""Number stores and safety facilities along named aisles (docs/addresses.md, "How store numbers are assigned").

The hot path is vectorised: one STRtree query per floor projects every entrance or facility on
its nearest aisle (``shapely.line_locate_point``), numbers come from array arithmetic, and
sub-numbers from one sort plus a grouped cumulative count. Time is linear in the number of
objects (plus an n log n sort).

Examples
--------
The worked example of docs/addresses.md (aisle of 120 m, interval 20 m):

>>> import geopandas as gpd, shapely
>>> from geo3d.address import assign_addresses, market_from_dict
>>> market = market_from_dict({"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구",
...                            "parent_road": "고산자로36길", "parent_number": "3"})
>>> aisles = gpd.GeoDataFrame({"name": ["경동시장1통로"], "floor": [1]},
...                           geometry=[shapely.LineString([(0, 0), (120, 0)])])
>>> stores = gpd.GeoDataFrame({"object_id": [1, 2, 3], "floor": 1,
...     "entrance_x": [7.5, 12.0, 31.0], "entrance_y": [2.0, 2.0, -2.0]},
...     geometry=[shapely.box(6, 2, 9, 5), shapely.box(10.5, 2, 13.5, 5), shapely.box(29.5, -5, 32.5, -2)])
>>> fac = gpd.GeoDataFrame({"object_id": [4, 5], "kind": "fire_extinguisher", "floor": 1},
...                        geometry=[shapely.Point(44, -1.5), shapely.Point(52, -1.5)])
>>> out = assign_addresses(stores, fac, aisles, None, market)
>>> out["address"].tolist()  # doctest: +NORMALIZE_WHITESPACE
['서울특별시 동대문구 경동시장1통로 1', '서울특별시 동대문구 경동시장1통로 1-1',
 '서울특별시 동대문구 경동시장1통로 4', '서울특별시 동대문구 경동시장1통로 6 소화기',
 '서울특별시 동대문구 경동시장1통로 6-1 소화기']
"""

from __future__ import annotations

import json
import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from ..errors import InputError
from ..indoor.entrances import project_on_aisles, store_entrances
from ..pointcloud.classes import CLASS_NAMES
from .format import FACILITY_SUFFIX, check_road_name, floor_label, floor_ordinal
from .market import Market

__all__ = ["ADDRESS_COLUMNS", "assign_addresses", "orient_aisles"]

log = logging.getLogger(__name__)

#: Columns of the output record (docs/addresses.md), in order.
ADDRESS_COLUMNS = [
    "object_id", "object_class", "kind", "floor", "label", "ordinal", "aisle", "s_m", "offset_m",
    "side", "number", "base_number", "sub", "unit", "address", "address_components", "x", "y", "z",
    "entrance_x", "entrance_y", "host_store", "reason", "warnings",
]

_KIND_CODE = {v: k for k, v in CLASS_NAMES.items()}


def orient_aisles(aisles: gpd.GeoDataFrame, *, start: str = "given") -> gpd.GeoDataFrame:
    """Aisles with their numbering start applied.

    ``"given"`` keeps each line's first point as the start (MARKET.toml: numbering runs from the
    first point; detected aisles start at the principal-entrance end). ``"west_south"`` is the
    statutory default: the west end of a west–east road, the south end of a south–north road.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"name": ["가1통로"], "floor": [1]},
    ...                      geometry=[shapely.LineString([(10, 0), (0, 1)])])
    >>> orient_aisles(a, start="west_south").geometry[0].coords[0]
    (0.0, 1.0)
    """
    if start == "given":
        return aisles
    if start != "west_south":
        msg = f"unknown aisle start {start!r}; valid: 'given', 'west_south'"
        raise InputError(msg)
    geoms = np.asarray(aisles.geometry.values, dtype=object)
    first = shapely.get_coordinates(shapely.get_point(geoms, 0))
    last = shapely.get_coordinates(shapely.get_point(geoms, -1))
    dx, dy = last[:, 0] - first[:, 0], last[:, 1] - first[:, 1]
    flip = np.where(np.abs(dx) >= np.abs(dy), dx < 0, dy < 0)
    out = aisles.copy()
    out.loc[flip, out.geometry.name] = shapely.reverse(geoms[flip])
    return out


def _with_ids(gdf: gpd.GeoDataFrame | None) -> pd.DataFrame:
    if gdf is None or len(gdf) == 0:
        return pd.DataFrame({"object_id": pd.Series([], dtype="int64")})
    df = gdf if "object_id" in gdf.columns else gdf.rename_axis("object_id").reset_index()
    return df.reset_index(drop=True)


def _xy(df: pd.DataFrame) -> NDArray[np.float64]:
    if "x" in df and "y" in df and df["x"].notna().all():
        return np.column_stack([df["x"].to_numpy(float), df["y"].to_numpy(float)])
    geom = np.asarray(gpd.GeoSeries(df["geometry"]).values, dtype=object)
    return shapely.get_coordinates(shapely.point_on_surface(geom))[:, :2]


def _sub_rank(keys: list[NDArray[Any]], s: NDArray[np.float64], ad: NDArray[np.float64],
              oid: NDArray[np.int64]) -> NDArray[np.int64]:
    """Rank inside groups of equal ``keys`` ordered by (s, |d|, id); vectorised."""
    n = len(oid)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    codes = [pd.factorize(pd.Series(k), use_na_sentinel=False)[0] for k in keys]
    order = np.lexsort((oid, ad, s, *codes[::-1]))
    grp = np.zeros(n, dtype=np.int64)
    if codes:
        stacked = np.column_stack(codes)[order]
        grp[1:] = np.cumsum(np.any(stacked[1:] != stacked[:-1], axis=1))
    starts = np.r_[0, np.flatnonzero(np.diff(grp)) + 1]
    rank_sorted = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_sorted
    return rank


def _levels_table(levels: pd.DataFrame | None, floors: NDArray[np.int64]) -> pd.DataFrame:
    if levels is not None and len(levels):
        lv = pd.DataFrame({"floor": levels["floor"].astype("int64").to_numpy()})
        lv["label"] = levels["label"].to_numpy(dtype=object) if "label" in levels else [
            floor_label(f) for f in lv["floor"]]
        lv["ordinal"] = (levels["ordinal"].astype("int64").to_numpy() if "ordinal" in levels
                         else [floor_ordinal(f) for f in lv["floor"]])
    else:
        u = np.unique(floors[floors != 0])
        lv = pd.DataFrame({"floor": u, "label": [floor_label(f) for f in u],
                           "ordinal": [floor_ordinal(f) for f in u]})
    return lv.drop_duplicates("floor")


def assign_addresses(
    stores: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    aisles: gpd.GeoDataFrame,
    levels: pd.DataFrame | None,
    market: Market,
    *,
    entrances: str = "auto",
    max_offset: float | None = None,
    host_margin: float = 0.1,
    host_depth: float = 0.5,
) -> gpd.GeoDataFrame:
    """3D addresses (입체주소) for stores and safety facilities.

    Parameters
    ----------
    stores : GeoDataFrame
        Store footprints with ``object_id`` (column or index) and ``floor``; ``entrance_x`` /
        ``entrance_y`` are used when present and ``entrances="auto"``.
    facilities : GeoDataFrame
        Facilities with ``object_id``, ``floor`` and ``kind`` (or ``object_class``); position from
        ``x``/``y`` when present, else the geometry.
    aisles : GeoDataFrame
        Named centrelines (``name``, ``floor``, LineString start → end).
    levels : DataFrame or None
        ``floor``, ``label``, ``ordinal`` per level (derived from the floors when None).
    market : Market
        From :func:`geo3d.address.read_market` (place, scheme, interval, ...).
    entrances : {"auto", "faces", "columns"}
        Where store entrances come from: the ``entrance_x/y`` columns (``"columns"``), the
        footprint face nearest an aisle (``"faces"``, :func:`geo3d.indoor.entrances.store_entrances`),
        or the columns when present (``"auto"``).
    max_offset : float, optional
        Largest entrance/facility distance from an aisle (default ``market.max_offset_m``, 6 m).
    host_margin, host_depth : float
        A facility is inside a store when it lies in the footprint shrunk by ``host_margin`` (m)
        and at least ``host_depth`` (m) farther from the store's aisle than the store's entrance,
        i.e. behind its front (an extinguisher on a column at the stall front, which a scanned
        footprint may take in, stays on the aisle). It then gets the store's number and a unit
        number (``…1통로 4, 101 자동심장충격기``).

    Returns
    -------
    GeoDataFrame
        One row per store and facility (sorted by object_id), with the columns of
        :data:`ADDRESS_COLUMNS` and the footprint (stores) or point (facilities) geometry.
        Objects that cannot be addressed keep ``address`` None and say why in ``reason``.
        Run :func:`geo3d.address.validate_addresses` on it (``geo3d scan`` always does).
    """
    if entrances not in ("auto", "faces", "columns"):
        msg = f"unknown entrances={entrances!r}; valid: 'auto', 'faces', 'columns'"
        raise InputError(msg)
    max_off = float(market.max_offset_m if max_offset is None else max_offset)
    interval = float(market.interval_m)
    bad = [p for n in aisles["name"] for p in check_road_name(n)]
    if bad:
        raise InputError("aisle names break the road-name rule:\n  - " + "\n  - ".join(bad))
    aisles = orient_aisles(aisles.reset_index(drop=True), start=market.start)
    a_names = aisles["name"].to_numpy(dtype=object)
    a_len = shapely.length(np.asarray(aisles.geometry.values, dtype=object))
    a_order = {n: i for i, n in enumerate(a_names)}

    st = _with_ids(stores)
    fa = _with_ids(facilities)
    ns, nf = len(st), len(fa)
    crs = getattr(stores, "crs", None) or getattr(facilities, "crs", None) or aisles.crs

    # --- stores: entrance points
    s_floor = st["floor"].to_numpy(dtype=np.int64) if ns else np.zeros(0, np.int64)
    use_cols = entrances == "columns" or (
        entrances == "auto" and ns and {"entrance_x", "entrance_y"} <= set(st.columns)
        and st["entrance_x"].notna().all())
    if entrances == "columns" and ns and not {"entrance_x", "entrance_y"} <= set(st.columns):
        msg = "entrances='columns' needs entrance_x and entrance_y columns on the stores"
        raise InputError(msg)
    if ns and use_cols:
        s_ent = np.column_stack([st["entrance_x"].to_numpy(float), st["entrance_y"].to_numpy(float)])
    elif ns:
        faces = store_entrances(gpd.GeoDataFrame(st, geometry="geometry", crs=crs), aisles,
                                max_offset=max_off)
        s_ent = faces[["entrance_x", "entrance_y"]].to_numpy(float)
    else:
        s_ent = np.zeros((0, 2))
    s_kind = np.full(ns, "store", dtype=object)
    s_cls = np.ones(ns, dtype=np.int64)

    # --- facilities: kinds and positions
    if nf:
        if "kind" in fa:
            f_kind = fa["kind"].to_numpy(dtype=object)
        else:
            f_kind = _lookup(fa["object_class"].astype("int64"), CLASS_NAMES, "other_facility")
        f_cls = (fa["object_class"].to_numpy(dtype=np.int64) if "object_class" in fa
                 else _lookup(f_kind, _KIND_CODE, 8).astype(np.int64))
        f_xy = _xy(fa)
        f_floor = fa["floor"].to_numpy(dtype=np.int64)
    else:
        f_kind = np.zeros(0, dtype=object)
        f_cls = np.zeros(0, dtype=np.int64)
        f_xy = np.zeros((0, 2))
        f_floor = np.zeros(0, dtype=np.int64)

    n = ns + nf
    is_store = np.r_[np.ones(ns, bool), np.zeros(nf, bool)]
    oid = np.r_[st["object_id"].to_numpy(np.int64) if ns else np.zeros(0, np.int64),
                fa["object_id"].to_numpy(np.int64) if nf else np.zeros(0, np.int64)]
    kind = np.r_[s_kind, f_kind].astype(object)
    cls = np.r_[s_cls, f_cls]
    floor = np.r_[s_floor, f_floor]
    pos = np.vstack([s_ent, f_xy]) if n else np.zeros((0, 2))
    reason = np.full(n, None, dtype=object)
    warn: list[NDArray[Any]] = []  # one array per kind of warning (None where it does not apply)

    proj = project_on_aisles(pos, floor, aisles)
    s_proj = proj.iloc[:ns]
    a_row = proj["aisle_row"].to_numpy()
    s = proj["s"].to_numpy().copy()
    d = proj["d"].to_numpy().copy()
    dist = proj["distance"].to_numpy()
    has_aisle = a_row >= 0
    far = has_aisle & (dist > max_off)
    suffix = _lookup(kind, FACILITY_SUFFIX)
    addressable = is_store | (suffix != None)  # noqa: E711  (elementwise)

    # facilities inside a store take the store's number + a unit number
    host = np.full(n, -1, dtype=np.int64)
    if nf and ns:
        # inside = within the footprint shrunk by ``host_margin`` (wall-mounted things at a stall
        # front stay on the aisle); exit signs mark exits and are never inside a store
        footprints = np.asarray(st["geometry"].values, dtype=object)
        f_pts = shapely.points(f_xy)
        fi, si = shapely.STRtree(footprints).query(f_pts, predicate="within")
        same = (f_floor[fi] == s_floor[si]) & (f_kind[fi] != "exit_sign")
        fi, si = fi[same], si[same]
        # at least host_margin inside the outline (the candidate pairs only: no buffering)
        inside = shapely.distance(f_pts[fi], shapely.boundary(footprints[si])) >= host_margin
        fi, si = fi[inside], si[inside]
        # behind the store's front: farther from the store's aisle than its entrance
        s_row = s_proj["aisle_row"].to_numpy()[si]
        lines = np.asarray(aisles.geometry.values, dtype=object)
        has_row = s_row >= 0
        behind = np.zeros(len(fi), dtype=bool)
        behind[has_row] = (shapely.distance(f_pts[fi[has_row]], lines[s_row[has_row]])
                           >= s_proj["distance"].to_numpy()[si[has_row]] + host_depth)
        fi, si = fi[behind], si[behind]
        order = np.lexsort((st["object_id"].to_numpy()[si], fi))
        fi, si = fi[order], si[order]
        first = np.ones(len(fi), dtype=bool)
        first[1:] = fi[1:] != fi[:-1]
        host[ns + fi[first]] = si[first]

    zero = floor == 0
    reason[zero] = "floor 0 (no level): the object is not on a detected level"
    no_aisle = ~has_aisle & ~zero
    reason[no_aisle & addressable] = "no aisle on its floor"
    store_far = is_store & far & ~zero
    metres = _fmt1(dist)
    reason = np.where(store_far, "entrance " + metres + f" m from the nearest aisle (max_offset {max_off:g} m)",
                      reason)
    warn.append(_pick(~is_store & far & addressable & (host < 0),
                      metres + f" m from the nearest aisle (more than max_offset {max_off:g} m)"))
    not_addr = ~addressable & ~zero
    reason = np.where(not_addr, kind.astype(str).astype(object) + " is not addressed (docs/addresses.md)", reason)

    side = np.where(d >= 0, "left", "right").astype(object)
    side[~has_aisle] = None
    k = np.floor(np.where(has_aisle, s, 0.0) / interval).astype(np.int64)
    base = np.where(d >= 0, 2 * k + 1, 2 * k + 2)

    names_of_rows = a_names[np.maximum(a_row, 0)] if len(a_names) else np.full(n, None, dtype=object)
    aisle_name: NDArray[Any] = np.where(has_aisle, names_of_rows, np.full(n, None, dtype=object))
    ok = addressable & has_aisle & ~zero & (reason == None)  # noqa: E711
    hosted = ~is_store & (host >= 0) & ok
    # hosted facilities need an addressed host; otherwise they fall back to the aisle
    sub = np.full(n, -1, dtype=np.int64)
    first_sub = int(market.first_sub)

    # stores: sub-numbers per (aisle, number)
    sel = np.flatnonzero(is_store & ok)
    r = _sub_rank([aisle_name[sel], base[sel]], s[sel], np.abs(d[sel]), oid[sel])
    sub[sel] = np.where(r > 0, first_sub + r - 1, -1)
    host_ok = np.zeros(n, bool)
    host_ok[hosted] = ok[host[hosted]]
    warn.append(_pick(hosted & ~host_ok, "inside a store that has no address: numbered on the aisle instead"))
    on_aisle_fac = ~is_store & ok & ~host_ok
    sel = np.flatnonzero(on_aisle_fac)
    r = _sub_rank([aisle_name[sel], base[sel], suffix[sel]], s[sel], np.abs(d[sel]), oid[sel])
    sub[sel] = np.where(r > 0, first_sub + r - 1, -1)

    number = np.full(n, None, dtype=object)
    num_ok = np.flatnonzero(ok & ~host_ok)
    number[num_ok] = _numbers(base[num_ok], sub[num_ok])

    # hosted facilities: unit = floor digit + sequence inside the host, ordered (s, |d|, id)
    unit = np.full(n, None, dtype=object)
    hsel = np.flatnonzero(host_ok)
    hr = _sub_rank([host[hsel]], s[hsel], np.abs(d[hsel]), oid[hsel])
    unit[hsel] = _units(floor[hsel], hr + 1, market.basement_prefix)

    # hosted facilities sit at their store's entrance: its aisle, position and number
    hidx = host[hsel]
    aisle_name[hsel] = aisle_name[hidx]
    s[hsel], d[hsel], side[hsel] = s[hidx], d[hidx], side[hidx]
    number[hsel] = number[hidx] + ", " + unit[hsel]

    sido, sigungu = market.sido, market.sigungu
    address = np.full(n, None, dtype=object)
    if market.scheme == "detail":
        address, number, unit = _detail(market, is_store, ok, floor, aisle_name, s, d, oid, suffix,
                                        a_order, address, number, unit)
    else:
        sel = np.flatnonzero(ok)
        tail = np.where(is_store[sel], "", " " + suffix[sel].astype(str))
        address[sel] = (pd.Series(aisle_name[sel], dtype=object).astype(str).radd(f"{sido} {sigungu} ")
                        + " " + pd.Series(number[sel], dtype=object).astype(str) + tail).to_numpy(dtype=object)
    comps = _components(market, address, aisle_name, base, sub, unit, suffix, host, host_ok)

    # levels
    lv = _levels_table(levels, floor)
    label = _lookup(floor, dict(zip(lv["floor"], lv["label"], strict=True)))
    ordinal = pd.array(_lookup(floor, dict(zip(lv["floor"], lv["ordinal"], strict=True))), dtype="Int64")

    # reversed-aisle warning: the highest number × I/2 should reach the aisle's end
    numbered_store = is_store & (address != None) & has_aisle & (market.scheme != "detail")  # noqa: E711
    msgs = reversed_aisles(a_row[numbered_store], base[numbered_store], a_names, a_len, interval)
    warn.append(_pick(numbered_store, msgs[np.maximum(a_row, 0)]) if len(msgs) else _pick(numbered_store, None))

    geoms = np.r_[np.asarray(st["geometry"].values, dtype=object) if ns else np.zeros(0, object),
                  shapely.points(f_xy) if nf else np.zeros(0, object)]
    z = np.r_[_z(st, store=True), _z(fa, store=False)]
    s_round = np.where(has_aisle, np.round(s, 3), np.nan)
    d_round = np.where(has_aisle, np.round(d, 3), np.nan)
    xy_obj = np.vstack([_xy(st) if ns else np.zeros((0, 2)), f_xy])
    out = pd.DataFrame({
        "object_id": oid, "object_class": cls, "kind": kind, "floor": floor, "label": label,
        "ordinal": ordinal, "aisle": aisle_name, "s_m": s_round, "offset_m": d_round, "side": side,
        "number": number, "base_number": pd.array(np.where(ok & ~host_ok, base, -1), dtype="Int64"),
        "sub": pd.array(np.where((sub >= 0) & ok & ~host_ok, sub, -1), dtype="Int64"),
        "unit": unit, "address": address, "address_components": comps,
        "x": xy_obj[:, 0], "y": xy_obj[:, 1], "z": z,
        "entrance_x": np.where(is_store, pos[:, 0], np.nan),
        "entrance_y": np.where(is_store, pos[:, 1], np.nan),
        "host_store": pd.array(np.where(host_ok, oid[np.maximum(host, 0)], -1), dtype="Int64"),
        "reason": reason,
        "warnings": _join_warnings(warn, n),
    })
    for col in ("base_number", "sub", "host_store"):
        out.loc[out[col] < 0, col] = pd.NA
    gdf = gpd.GeoDataFrame(out, geometry=geoms, crs=crs)
    gdf = gdf.sort_values("object_id", kind="stable").reset_index(drop=True)
    log.info("assign_addresses: %d objects -> %d addressed, %d not addressed",
             n, int(gdf["address"].notna().sum()), int(gdf["address"].isna().sum()))
    return gdf


def _lookup(values: Any, table: dict[Any, Any], default: Any = None) -> NDArray[Any]:
    """``table[v]`` for every value (``default`` where it has none); vectorised (pandas map)."""
    out = pd.Series(np.asarray(values, dtype=object)).map(table)
    arr = out.to_numpy(dtype=object)
    arr[out.isna().to_numpy()] = default
    return arr


def _fmt1(values: NDArray[np.float64]) -> NDArray[Any]:
    """Numbers with one decimal as an object array of strings (NaN → "nan")."""
    v = np.asarray(values, dtype=float)
    return np.asarray(np.char.mod("%.1f", v), dtype=object) if len(v) else np.zeros(0, dtype=object)


def _pick(mask: NDArray[np.bool_], value: Any) -> NDArray[Any]:
    """Object array holding ``value`` (scalar or aligned array) where ``mask``, else None."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = value[mask] if isinstance(value, np.ndarray) else value
    return out


def _units(floor: NDArray[np.int64], seq: NDArray[np.int64], prefix: str, ho: str = "") -> NDArray[Any]:
    """Unit / object numbers that start with the floor digit (``101``, ``지하101``); vectorised."""
    f = np.asarray(floor, dtype=np.int64)
    head = np.where(f < 0, prefix, "").astype(object)
    digits = pd.Series(np.asarray(seq, dtype=np.int64).astype(str)).str.zfill(2).to_numpy(dtype=object)
    return np.asarray(head + np.abs(f).astype(str).astype(object) + digits + ho, dtype=object)


def _join_warnings(parts: list[NDArray[Any]], n: int) -> NDArray[Any]:
    """Per-object ``"; "``-joined warnings (None where there is none); vectorised per kind."""
    out = np.full(n, "", dtype=object)
    for w in parts:  # a handful of warning kinds, not objects
        has = w != None  # noqa: E711
        sep = np.where(out != "", "; ", "")
        out = np.where(has, out + sep + np.where(has, w, "").astype(object), out)
    return _pick(out != "", out)


def reversed_aisles(aisle_row: NDArray[np.int64], number: NDArray[np.int64], names: NDArray[Any],
                    lengths: NDArray[np.float64], interval: float) -> NDArray[Any]:
    """Warning per aisle (None when fine): its highest store number × I/2 is more than one
    interval from its length (docs/addresses.md, W: catches a reversed or partly used aisle).

    Examples
    --------
    >>> reversed_aisles(np.array([0, 0, 1]), np.array([7, 8, 1]), np.array(["가1통로", "가2통로"]),
    ...                 np.array([80.0, 80.0]), 20.0).tolist()  # doctest: +ELLIPSIS
    [None, 'aisle 가2통로: highest store number 1 × 20/2 m is more than one interval from its length 80.0 m ...']
    """
    top = np.full(len(names), -1, dtype=np.int64)
    np.maximum.at(top, np.asarray(aisle_row, dtype=np.int64), np.asarray(number, dtype=np.int64))
    bad = (top > 0) & (np.abs(top * interval / 2 - lengths) > interval)
    out = np.full(len(names), None, dtype=object)
    for j in np.flatnonzero(bad):  # aisles, not objects
        out[j] = (f"aisle {names[j]}: highest store number {top[j]} × {interval:g}/2 m is more than one "
                  f"interval from its length {lengths[j]:.1f} m (reversed or partly used aisle?)")
    return out


def _numbers(base: NDArray[np.int64], sub: NDArray[np.int64]) -> NDArray[Any]:
    """``"7"`` or ``"7-1"`` for arrays of base numbers and sub-numbers (−1 = none); vectorised."""
    b = base.astype(str).astype(object)
    tail = np.where(sub >= 0, "-" + sub.astype(str), "").astype(object)
    return np.asarray(b + tail, dtype=object)


def _components(market: Market, address: NDArray[Any], aisle: NDArray[Any], base: NDArray[np.int64],
                sub: NDArray[np.int64], unit: NDArray[Any], suffix: NDArray[Any], host: NDArray[np.int64],
                host_ok: NDArray[np.bool_]) -> NDArray[Any]:
    """JSON components of each address (None where there is no address); vectorised."""
    n = len(address)
    out = np.full(n, None, dtype=object)
    sel = np.flatnonzero(address != None)  # noqa: E711
    if not len(sel):
        return out
    b = np.where(host_ok, base[np.maximum(host, 0)], base)[sel]
    u = np.where(host_ok, sub[np.maximum(host, 0)], sub)[sel]

    def q(v: NDArray[Any]) -> list[str]:
        na = pd.isna(pd.Series(v, dtype=object)).to_numpy()
        return ["null" if m else f'"{x}"' for x, m in zip(v, na, strict=True)]

    detail = market.scheme == "detail"
    road = np.full(len(sel), market.parent_road, dtype=object) if detail else aisle[sel]
    num = [json.dumps(market.parent_number)] * len(sel) if detail else b.astype(str).tolist()
    subs = np.where((u >= 0) & ~detail, u.astype(str), "null").tolist()
    head = json.dumps({"sido": market.sido, "sigungu": market.sigungu}, ensure_ascii=False)[:-1]
    tail = f', "scheme": "{market.scheme}"}}'
    # one string per address (a comprehension: object-array "+" makes ten arrays of strings)
    text = [f'{head}, "road": {r}, "number": {n_}, "sub": {s_}, "unit": {u_}, "type": {t_}{tail}'
            for r, n_, s_, u_, t_ in zip(q(road), num, subs, q(unit[sel]), q(suffix[sel]), strict=True)]
    out[sel] = text
    return out


def _z(df: pd.DataFrame, *, store: bool) -> NDArray[np.float64]:
    if len(df) == 0:
        return np.zeros(0)
    if "z_min" in df and "z_max" in df:
        lo = df["z_min"].to_numpy(float)
        return lo if store else (lo + df["z_max"].to_numpy(float)) / 2
    return np.full(len(df), np.nan)


def _detail(market: Market, is_store: NDArray[np.bool_], ok: NDArray[np.bool_], floor: NDArray[np.int64],
            aisle: NDArray[Any], s: NDArray[np.float64], d: NDArray[np.float64], oid: NDArray[np.int64],
            suffix: NDArray[Any], a_order: dict[Any, int], address: NDArray[Any], number: NDArray[Any],
            unit: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """``detail`` scheme: ``{시도} {시군구} {parent road} {parent no}, {호}``.

    Units are numbered per floor along the walking path: aisle by aisle (table order, i.e. from
    the entrance), then by (s, |d|, id); facilities likewise per (floor, type).
    """
    head = f"{market.sido} {market.sigungu} {market.parent_road} {market.parent_number}"
    aord = _lookup(aisle, a_order, -1).astype(np.int64)
    prefix = market.basement_prefix
    for store_pass in (True, False):
        sel = np.flatnonzero(ok & (is_store == store_pass))
        if not len(sel):
            continue
        keys = [floor[sel]] if store_pass else [floor[sel], suffix[sel]]
        codes = [pd.factorize(pd.Series(k))[0] for k in keys]
        order = np.lexsort((oid[sel], np.abs(d[sel]), s[sel], aord[sel], *codes[::-1]))
        rank = np.empty(len(sel), dtype=np.int64)
        grp = np.column_stack(codes)[order]
        new = np.r_[True, np.any(grp[1:] != grp[:-1], axis=1)]
        starts = np.flatnonzero(new)
        rank[order] = np.arange(len(sel)) - np.repeat(starts, np.diff(np.r_[starts, len(sel)]))
        unit[sel] = _units(floor[sel], rank + 1, prefix, "호" if store_pass else "")
        number[sel] = f"{market.parent_number}, " + unit[sel]
        address[sel] = f"{head}, " + unit[sel] + ("" if store_pass else " " + suffix[sel].astype(str).astype(object))
    return address, number, unit
