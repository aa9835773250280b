"""IMDF (OGC 20-094) archive of a market: export and a structural validator.

Examples
--------
>>> problems = validate_imdf({"manifest": {"version": "1.0.0", "language": "ko"}})
>>> problems[0]
'venue: missing (an archive needs exactly one venue)'
"""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ..io.atomic import atomic_path
from .market import Market
from .validate import AddressError

__all__ = ["AMENITY_CATEGORY", "EXTENSION_CATEGORIES", "imdf_features", "to_imdf", "validate_imdf"]

_NS = uuid.UUID("6f1c2a8e-3b7d-5e4f-9a10-0d3c5b7e9f21")
FEATURE_TYPES = ("venue", "building", "footprint", "level", "unit", "opening", "amenity", "anchor",
                 "occupant", "address")
#: IMDF amenity category per facility kind (docs/addresses.md); hydrants use a declared extension.
AMENITY_CATEGORY = {"fire_extinguisher": "fireextinguisher", "aed": "defibrillator",
                    "fire_alarm": "firealarmpullstation", "other_facility": "firstaid",
                    "indoor_hydrant": "x-geo3d-indoorhydrant", "cctv": "security"}
#: Categories geo3d adds, declared in manifest.json ``extensions``.
EXTENSION_CATEGORIES = {"amenity": ["x-geo3d-indoorhydrant"]}
SPEC_CATEGORIES: dict[str, set[str]] = {
    "venue": {"shoppingcenter", "airport", "businesscampus", "governmentfacility", "hotel", "museum",
              "parkingfacility", "retailstore", "transitstation", "university", "communitycenter"},
    "building": {"unspecified", "parking", "transit"},
    "footprint": {"ground", "aerial", "subterranean"},
    "level": {"unspecified", "parking", "transit", "arrivals", "departures"},
    "unit": {"room", "walkway", "unspecified", "stairs", "elevator", "escalator", "restroom",
             "opentobelow", "nonpublic", "structure", "storage", "retail", "shop", "foodservice"},
    "opening": {"pedestrian", "emergencyexit", "pedestrian.principal", "service", "automobile"},
    "amenity": {"fireextinguisher", "defibrillator", "firealarmpullstation", "firstaid", "security",
                "emergencyexit", "information", "restroom", "atm", "unspecified"},
    "occupant": {"shopping", "unspecified", "restaurant", "cafe", "grocery", "foodservice"},
}
_GEOM: dict[str, set[str | None]] = {"venue": {"Polygon", "MultiPolygon"}, "building": {None}, "footprint": {"Polygon", "MultiPolygon"},
         "level": {"Polygon", "MultiPolygon"}, "unit": {"Polygon", "MultiPolygon"},
         "opening": {"LineString"}, "amenity": {"Point"}, "anchor": {"Point"}, "occupant": {None},
         "address": {None}}
#: references per feature type: property → (feature type it points to, required)
_REFS: dict[str, dict[str, tuple[str, bool]]] = {
    "venue": {"address_id": ("address", True)}, "building": {"address_id": ("address", False)},
    "footprint": {"building_ids": ("building", True)},
    "level": {"building_ids": ("building", True), "address_id": ("address", False)},
    "unit": {"level_id": ("level", True)}, "opening": {"level_id": ("level", True)},
    "amenity": {"unit_ids": ("unit", True), "address_id": ("address", False)},
    "anchor": {"unit_id": ("unit", True), "address_id": ("address", False)},
    "occupant": {"anchor_id": ("anchor", True)}, "address": {}}


def _id(*parts: Any) -> str:
    return str(uuid.uuid5(_NS, "/".join(map(str, parts))))


def _feature(kind: str, fid: str, geom: Any, props: dict[str, Any]) -> dict[str, Any]:
    g = None if geom is None else json.loads(shapely.to_geojson(geom))
    return {"id": fid, "type": "Feature", "feature_type": kind, "geometry": g, "properties": props}


def imdf_features(addresses: gpd.GeoDataFrame, aisles: gpd.GeoDataFrame, levels: gpd.GeoDataFrame,
                  market: Market, *, aisle_width: float = 3.0, crs: Any = None,
                  exits: Mapping[int, tuple[float, float]] | None = None) -> dict[str, Any]:
    """IMDF feature collections (WGS84) keyed by feature type, plus ``manifest``.

    ``levels`` needs ``floor``, ``label``, ``ordinal`` and a footprint geometry; ``addresses`` is
    the output of :func:`~geo3d.address.assign_addresses`. ``exits`` (exit sign object_id → the
    door's x, y, e.g. the navigation network's exit nodes) places the emergency-exit openings.
    """
    src = crs or addresses.crs or market.crs
    if src is None:
        msg = "to_imdf needs a CRS: set crs in MARKET.toml or on the data"
        raise AddressError(msg)
    tr = pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(src), "EPSG:4326", always_xy=True)

    def wgs(g: Any) -> Any:
        if g is None or shapely.is_empty(g):
            return g
        return shapely.transform(g, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1])))

    name = {"ko": market.name}
    venue_addr = _id("address", "venue")
    feats: dict[str, list[dict[str, Any]]] = {k: [] for k in FEATURE_TYPES}
    feats["address"].append(_feature("address", venue_addr, None, {
        "address": f"{market.parent_road} {market.parent_number}", "unit": None,
        "locality": market.sigungu, "province": market.sido, "country": "KR", "postal_code": None}))
    lv_geoms = [g for g in levels.geometry if g is not None and not g.is_empty]
    outline = shapely.union_all(lv_geoms) if lv_geoms else shapely.convex_hull(
        shapely.union_all(np.asarray(addresses.geometry.values)))
    hull = shapely.convex_hull(outline) if outline.geom_type not in ("Polygon", "MultiPolygon") else outline
    building = _id("building")
    feats["venue"].append(_feature("venue", _id("venue"), wgs(hull), {
        "category": "shoppingcenter", "restriction": None, "name": name, "alt_name": None,
        "hours": None, "website": None, "phone": None, "address_id": venue_addr,
        "display_point": json.loads(shapely.to_geojson(wgs(hull.representative_point())))}))
    feats["building"].append(_feature("building", building, None, {
        "category": "unspecified", "restriction": None, "name": name, "alt_name": None,
        "display_point": None, "address_id": venue_addr}))
    feats["footprint"].append(_feature("footprint", _id("footprint"), wgs(hull), {
        "category": "ground", "name": name, "building_ids": [building]}))
    level_id: dict[int, str] = {}
    for row in levels.itertuples():
        f = int(row.floor)
        level_id[f] = _id("level", f)
        g = row.geometry if row.geometry is not None and not row.geometry.is_empty else hull
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            g = shapely.convex_hull(g)
        feats["level"].append(_feature("level", level_id[f], wgs(g), {
            "category": "unspecified", "restriction": None, "outdoor": False, "ordinal": int(row.ordinal),
            "name": {"ko": str(row.label)}, "short_name": {"ko": str(row.label)},
            "display_point": None, "address_id": None, "building_ids": [building]}))
    # walkways
    unit_of_aisle: dict[str, str] = {}
    for row in aisles.itertuples():
        if int(row.floor) not in level_id:
            continue
        uid = _id("unit", "aisle", row.name)
        unit_of_aisle[str(row.name)] = uid
        width = float(getattr(row, "width_m", aisle_width) or aisle_width)
        poly = row.geometry.buffer(width / 2, cap_style="flat")
        feats["unit"].append(_feature("unit", uid, wgs(poly), {
            "category": "walkway", "restriction": None, "accessibility": None, "name": {"ko": str(row.name)},
            "alt_name": None, "display_point": None, "level_id": level_id[int(row.floor)]}))
    a = addresses.reset_index(drop=True)
    unit_of_store: dict[int, str] = {}
    for row in a[a["kind"] == "store"].itertuples():
        f = int(row.floor)
        if f not in level_id:
            continue
        oid = int(row.object_id)
        uid = _id("unit", "store", oid)
        unit_of_store[oid] = uid
        geom = row.geometry if row.geometry.geom_type in ("Polygon", "MultiPolygon") else row.geometry.buffer(1.0)
        feats["unit"].append(_feature("unit", uid, wgs(geom), {
            "category": "room", "restriction": None, "accessibility": None,
            "name": {"ko": str(row.number) if row.number else f"점포 {oid}"}, "alt_name": None,
            "display_point": None, "level_id": level_id[f]}))
        addr_id = None
        if isinstance(row.address, str):
            addr_id = _id("address", oid)
            feats["address"].append(_feature("address", addr_id, None, {
                "address": f"{row.aisle} {row.number}", "unit": None, "locality": market.sigungu,
                "province": market.sido, "country": "KR", "postal_code": None}))
        ent = shapely.Point(row.entrance_x, row.entrance_y) if np.isfinite(row.entrance_x) else geom.centroid
        anchor = _id("anchor", oid)
        feats["anchor"].append(_feature("anchor", anchor, wgs(ent), {"address_id": addr_id, "unit_id": uid}))
        feats["occupant"].append(_feature("occupant", _id("occupant", oid), None, {
            "name": {"ko": str(row.address) if isinstance(row.address, str) else f"점포 {oid}"},
            "category": "shopping", "anchor_id": anchor, "hours": None, "phone": None, "website": None,
            "validity": None}))
        # entrance opening: a 1 m segment across the entrance point, along the face
        feats["opening"].append(_feature("opening", _id("opening", "store", oid),
                                         wgs(_short_segment(ent, row.geometry)), {
            "category": "pedestrian", "accessibility": None, "access_control": None, "door": None,
            "name": None, "alt_name": None, "display_point": None, "level_id": level_id[f]}))
    fac = a[a["kind"] != "store"]
    for row in fac.itertuples():
        f = int(row.floor)
        if f not in level_id:
            continue
        oid = int(row.object_id)
        pt = shapely.Point(row.x, row.y)
        host = row.host_store
        units = ([unit_of_store[int(host)]] if not pd.isna(host) and int(host) in unit_of_store
                 else ([unit_of_aisle[row.aisle]] if isinstance(row.aisle, str) and row.aisle in unit_of_aisle
                       else []))
        if not units:
            continue
        if row.kind == "exit_sign":
            feats["opening"].append(_feature("opening", _id("opening", "exit", oid),
                                             wgs(_short_segment(shapely.Point((exits or {}).get(oid, (pt.x, pt.y))),
                                                                None)), {
                "category": "emergencyexit", "accessibility": None, "access_control": None, "door": None,
                "name": {"ko": str(row.address)} if isinstance(row.address, str) else None,
                "alt_name": None, "display_point": None, "level_id": level_id[f]}))
            continue
        cat = AMENITY_CATEGORY.get(str(row.kind), "unspecified")
        feats["amenity"].append(_feature("amenity", _id("amenity", oid), wgs(pt), {
            "category": cat, "accessibility": None, "name": {"ko": str(row.address)} if isinstance(
                row.address, str) else None, "alt_name": None, "hours": None, "phone": None,
            "website": None, "unit_ids": units, "address_id": None, "correlation_id": None}))
    out: dict[str, Any] = {k: {"type": "FeatureCollection", "features": v} for k, v in feats.items()}
    out["manifest"] = {"version": "1.0.0", "created": "1970-01-01T00:00:00Z", "generated_by": "geo3d",
                       "language": "ko", "extensions": EXTENSION_CATEGORIES}
    return out


def _short_segment(pt: shapely.Point, poly: Any) -> shapely.LineString:
    if poly is not None and poly.geom_type == "Polygon":
        ring = poly.exterior
        s = ring.project(pt)
        a = ring.interpolate(s - 0.5)
        b = ring.interpolate(s + 0.5)
        if a.distance(b) > 0.1:
            return shapely.LineString([a, b])
    return shapely.LineString([(pt.x - 0.5, pt.y), (pt.x + 0.5, pt.y)])


def validate_imdf(archive: str | os.PathLike[str] | Mapping[str, Any]) -> list[str]:
    """Problems of an IMDF archive (path to a .zip or the dict of :func:`imdf_features`).

    Checks the structure (``manifest.json`` with version and language; one ``<type>.geojson``
    FeatureCollection per feature type and no other file; every feature a ``Feature`` with a
    UUID ``id``, its ``feature_type`` and a ``properties`` object); exactly one venue, with an
    address; ids unique; every reference present where IMDF requires it, resolving to a feature
    of the right type; geometry types fitting the feature type, and valid; levels carrying
    ordinal (integer), short_name, outdoor (boolean) and building_ids; categories in the spec or
    declared in the manifest's ``extensions``; coordinates WGS84 longitude/latitude.

    Examples
    --------
    >>> validate_imdf({"manifest": {"version": "1.0.0", "language": "ko"}})[0]
    'venue: missing (an archive needs exactly one venue)'
    """
    data: dict[str, Any]
    problems: list[str] = []
    if isinstance(archive, Mapping):
        data = dict(archive)
    else:
        data = {}
        with zipfile.ZipFile(archive) as z:
            for nm in z.namelist():
                stem, _, ext_ = nm.rpartition(".")
                want = "json" if stem == "manifest" else "geojson"
                if stem not in (*FEATURE_TYPES, "manifest") or ext_ != want:
                    problems.append(f"archive: {nm} is not an IMDF file (<feature type>.geojson or manifest.json)")
                    continue
                try:
                    data[stem] = json.loads(z.read(nm).decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    problems.append(f"archive: {nm} is not UTF-8 JSON ({exc})")
    manifest = data.get("manifest")
    if not isinstance(manifest, dict) or "version" not in manifest or "language" not in manifest:
        problems.append("manifest: missing or lacks version/language")
        manifest = manifest if isinstance(manifest, dict) else {}
    ext = manifest.get("extensions", {}) or {}
    feats: dict[str, list[dict[str, Any]]] = {}
    for kind in FEATURE_TYPES:
        fc = data.get(kind)
        if fc is None:
            feats[kind] = []
            continue
        if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection" or not isinstance(
                fc.get("features"), list):
            problems.append(f"{kind}: not a GeoJSON FeatureCollection with a features list")
            feats[kind] = []
            continue
        feats[kind] = [f for f in fc["features"] if isinstance(f, dict)]
        if len(feats[kind]) != len(fc["features"]):
            problems.append(f"{kind}: features must be JSON objects")
    if len(feats["venue"]) != 1:
        problems.insert(0, "venue: missing (an archive needs exactly one venue)" if not feats["venue"]
                        else "venue: more than one venue")
    if not feats["address"]:
        problems.append("address: missing (the venue needs an address)")
    ids: dict[str, str] = {}
    for kind, fs in feats.items():
        for f in fs:
            fid = f.get("id")
            try:
                uuid.UUID(str(fid))
            except ValueError:
                problems.append(f"{kind}: id {fid!r} is not a UUID")
            if str(fid) in ids:
                problems.append(f"{kind}: id {fid} is used twice")
            ids[str(fid)] = kind
            if f.get("type") != "Feature":
                problems.append(f"{kind} {fid}: type is {f.get('type')!r}, not 'Feature'")
            if f.get("feature_type") != kind:
                problems.append(f"{kind} {fid}: feature_type is {f.get('feature_type')!r}")
            if not isinstance(f.get("properties"), dict):
                problems.append(f"{kind} {fid}: properties must be an object")
            g = f.get("geometry")
            gt = g.get("type") if isinstance(g, dict) else None
            if gt not in _GEOM[kind]:
                problems.append(f"{kind} {fid}: geometry {gt} does not fit (allowed: {sorted(map(str, _GEOM[kind]))})")
            elif g is not None:
                try:
                    geom = shapely.from_geojson(json.dumps(g))
                except Exception:  # GEOS says what is wrong; the validator only reports it
                    problems.append(f"{kind} {fid}: geometry is not valid GeoJSON")
                    geom = None
                if geom is not None:
                    c = shapely.get_coordinates(geom)
                    if len(c) and ((np.abs(c[:, 0]) > 180).any() or (np.abs(c[:, 1]) > 90).any()):
                        problems.append(f"{kind} {fid}: coordinates are not WGS84 longitude/latitude")
                    if not shapely.is_valid(geom):
                        problems.append(f"{kind} {fid}: geometry is invalid ({shapely.is_valid_reason(geom)})")
            p: dict[str, Any] = f["properties"] if isinstance(f.get("properties"), dict) else {}
            if kind in SPEC_CATEGORIES:
                cat = p.get("category")
                if cat not in SPEC_CATEGORIES[kind] and cat not in ext.get(kind, []):
                    problems.append(f"{kind} {fid}: category {cat!r} is neither in the spec nor a declared extension")
            if kind == "level":
                for key in ("ordinal", "short_name", "outdoor", "building_ids"):
                    if p.get(key) is None:
                        problems.append(f"level {fid}: {key} is missing")
                if p.get("ordinal") is not None and (not isinstance(p["ordinal"], int) or isinstance(p["ordinal"], bool)):
                    problems.append(f"level {fid}: ordinal must be an integer")
                if p.get("outdoor") is not None and not isinstance(p["outdoor"], bool):
                    problems.append(f"level {fid}: outdoor must be true or false")
    for kind, fs in feats.items():
        for f in fs:
            p = f["properties"] if isinstance(f.get("properties"), dict) else {}
            for ref, (target, required) in _REFS[kind].items():
                v = p.get(ref)
                refs = v if isinstance(v, list) else ([] if v is None else [v])
                if required and not refs:
                    problems.append(f"{kind} {f.get('id')}: {ref} is missing (a {kind} needs its {target})")
                for r in refs:
                    if str(r) not in ids:
                        problems.append(f"{kind} {f.get('id')}: {ref} {r} does not resolve")
                    elif ids[str(r)] != target:
                        problems.append(f"{kind} {f.get('id')}: {ref} {r} is of type {ids[str(r)]!r}; it must be {target!r}")
    return problems


def to_imdf(addresses: gpd.GeoDataFrame, aisles: gpd.GeoDataFrame, levels: gpd.GeoDataFrame,
            market: Market, path: str | os.PathLike[str], *, overwrite: bool = False,
            exits: Mapping[int, tuple[float, float]] | None = None) -> Path:
    """Write ``imdf.zip`` atomically after validating it (:class:`AddressError` on problems)."""
    data = imdf_features(addresses, aisles, levels, market, exits=exits)
    problems = validate_imdf(data)
    if problems:
        msg = f"IMDF export has {len(problems)} problem(s)"
        raise AddressError(msg, problems)
    out = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for key in (*FEATURE_TYPES, "manifest"):
            info = zipfile.ZipInfo(f"{key}.{'json' if key == 'manifest' else 'geojson'}", (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, json.dumps(data[key], ensure_ascii=False))
    with atomic_path(out, overwrite=overwrite) as tmp:
        tmp.write_bytes(buf.getvalue())
    return out
