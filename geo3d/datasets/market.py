"""Deterministic synthetic LiDAR scan of a traditional market hall, with ground truth.

A market hall near Gyeongdong Market (경동시장, Seoul) is laid out from a few parameters
(:data:`LAYOUTS`), scanned by a simulated terrestrial laser scanner, and written with its
ground truth: per-point class / instance / level, the true stores and facilities, the aisles,
the levels and the true 3D addresses (docs/addresses.md, computed here from the scene definition and
independent of :mod:`geo3d.address`).

The scene
---------
The hall is a rectangle of ``length`` × ``width`` metres (local frame: x along the long axis,
y across, z = true elevation), rotated by ``rotation_deg`` (bearing of the long axis, clockwise
from north) about ``centre`` in EPSG:5186. Per level: floor slab, ceiling (the next slab or a
roof, with an open skylight on some levels, none on "open" levels), outer walls with an entrance
opening wherever an aisle meets a wall, columns along the aisle edges, named aisles 2.5–4 m wide
and stalls on both sides of every aisle: 2–4 m frontage, 2–3 m deep, display platforms at
counter height (0.8 m, over most of a produce stall), goods piles, shelves, awnings, shutter
housings and some closed shutters. The platforms make a strong second peak in each level's
height histogram, next to the floor's (at the sample density about a seventh of it: the floor
around each station is sampled far more densely than table tops seen at grazing angles).
Safety facilities sit on column faces, walls and over exits: extinguishers, hydrant cabinets,
exit signs, AEDs (one inside a store on 1층), fire alarm call points, CCTV and first-aid boxes
(one inside a store on the top floor).

**Separability.** Neighbouring stalls are always at least ``STALL_GAP`` = 0.35 m apart (nothing
joins them, not even an awning), and stalls keep 0.3 m clear of columns and walls. A voxel
grid of 10–15 cm therefore never connects two stalls through their own points: a segmentation
at that resolution can separate them (noise and stray outliers aside). Facilities, by contrast,
touch their column, wall or (inside a store) the store's back partition within 1–2 cm, as
real ones do: structure removal, or a class-aware split, must come first.

The scanner
-----------
Stations stand on the aisle centrelines about every ``station_spacing`` metres, 1.55 m above the
slab. Each casts rays on a regular spherical grid (``angular_step_deg``, elevation from
``min_elevation_deg`` to the zenith) against the scene's boxes (:mod:`geo3d.datasets._scanner`,
slab method in NumPy); the first hit gives the point, so occlusion and the fall of density with
range come out naturally. Range noise along the ray, dropped returns (dark or grazing surfaces,
range limit) and a few stray outliers come from one seeded :class:`numpy.random.Generator`,
so a given ``(layout, seed)`` gives the same bytes on every run. The registered cloud is then
thinned to one point per ``thin_voxel_m`` voxel (first in scan order), as delivered clouds are,
so the floor right around each station does not swallow the point budget. In sparse layouts a
few small facilities may get no point at all (``n_points`` = 0 in the objects table).

Examples
--------
>>> from geo3d.datasets.market import make_market
>>> scene = make_market("sample", angular_step_deg=6.0)
>>> int((scene.objects["kind"] == "store").sum()) >= 100
True
>>> scene.levels["label"].tolist()
['1층', '2층']
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import itertools
import json
import logging
import math
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import InputError
from ..io.atomic import atomic_path
from ._effects import apply_effects
from ._scanner import cast_station
from ._scene import (
    AED,
    CCTV,
    EXIT_SIGN,
    EXTINGUISHER,
    FIRE_ALARM,
    HYDRANT,
    OTHER,
    STORE,
    Layout,
    Scene,
    SceneObject,
    build_scene,
)

__all__ = [
    "FILES",
    "LAYOUTS",
    "Layout",
    "MarketScene",
    "make_market",
    "write_market",
    "write_market_sample",
]

logger = logging.getLogger(__name__)

#: Named layouts: the committed sample and the benchmark variants (same code, other parameters).
LAYOUTS: dict[str, Layout] = {
    "sample": Layout(),
    "rotated": Layout(length=98.0, width=48.0, rotation_deg=-35.0,
                      aisle_widths=(3.2, 2.6, 4.0, 3.0, 3.4), cross_aisle_width=3.0,
                      principal_aisle=2, skylight_floors=(), vacancy=(0.1, 0.2)),
    "l_shaped": Layout(length=70.0, width=45.0, floors=(1,), aisle_widths=(3.0, 3.5, 3.4),
                       cross_aisle_width=0.0, l_turn=0.6, principal_aisle=1,
                       skylight_floors=(1,), vacancy=(0.0,)),
    "three_levels": Layout(floors=(-1, 1, 2), open_floors=(2,), skylight_floors=(),
                           vacancy=(0.2, 0.0, 0.3)),
    "sparse_noisy": Layout(angular_step_deg=2.6, station_spacing=24.0, range_noise_m=0.02,
                           drop_rate=0.06, outlier_rate=3e-3),
}

#: Files written by :func:`write_market`, in this order.
FILES = ("market.laz", "market_gt.npz", "market_objects.geojson", "market_aisles.geojson",
         "market_levels.csv", "market_addresses.csv", "market.toml")

MARKET_NAME = "경동시장"
SIDO = "서울특별시"
SIGUNGU = "동대문구"
INTERVAL_M = 20.0
MAX_OFFSET_M = 6.0
SUFFIX = {EXTINGUISHER: "소화기", HYDRANT: "옥내소화전", EXIT_SIGN: "비상구", AED: "자동심장충격기",
          FIRE_ALARM: "발신기", OTHER: "구급함"}
_ZIP_DATE = (2025, 1, 1, 0, 0, 0)
_CREATION_DATE = datetime.date(2025, 1, 1)
_SOFTWARE = "geo3d.datasets.market"
_GPS_T0 = 4.2e8  # adjusted standard GPS time of the first station (s)
_STATION_SECONDS = 120.0  # duration of one station's scan


@dataclass
class MarketScene:
    """A generated market scan with its ground truth (what :func:`write_market` writes).

    Attributes
    ----------
    layout : Layout
        The parameters used.
    seed : int
    points : dict of str to ndarray
        LAS dimensions in scan order: ``x``, ``y``, ``z`` (EPSG:5186, rounded to mm),
        ``intensity``, ``red``, ``green``, ``blue`` (uint16), ``return_number``,
        ``number_of_returns``, ``point_source_id`` (station id), ``gps_time``.
    gt : dict of str to ndarray
        ``gt_class`` (uint8), ``gt_instance`` (int32, -1 = structure or noise), ``gt_level``
        (int8 floor number, 0 = none), aligned with ``points``.
    objects, aisles : geopandas.GeoDataFrame
        True stores and facilities; aisle centrelines (start = principal-entrance end).
    levels, addresses : pandas.DataFrame
        True levels; true addresses (docs/contracts.md ``addresses.csv`` columns).
    market : dict
        Content of ``market.toml``.
    """

    layout: Layout
    seed: int
    points: dict[str, np.ndarray]
    gt: dict[str, np.ndarray]
    objects: gpd.GeoDataFrame
    aisles: gpd.GeoDataFrame
    levels: pd.DataFrame
    addresses: pd.DataFrame
    market: dict[str, Any]

    @property
    def n_points(self) -> int:
        """Number of points in the scan."""
        return int(self.points["x"].size)


# --------------------------------------------------------------------------------------------
# public API


def make_market(layout: str = "sample", *, seed: int = 2025, **overrides: Any) -> MarketScene:
    """Generate a market scan with ground truth.

    Parameters
    ----------
    layout : str
        One of :data:`LAYOUTS`: ``"sample"`` (two levels, straight aisles and a cross aisle),
        ``"rotated"`` (other rotation and size), ``"l_shaped"`` (one level, an L-shaped aisle),
        ``"three_levels"`` (지하1층, 1층, 2층; 2층 without ceiling), ``"sparse_noisy"``
        (fewer stations and points, more noise, drops and outliers).
    seed : int
        Seed of the only random generator used; same layout and seed, same output.
    **overrides
        Any :class:`Layout` field, e.g. ``angular_step_deg=3.0`` for a quick, sparse scan.

    Returns
    -------
    MarketScene

    Raises
    ------
    InputError
        For an unknown layout name or override.
    """
    if layout not in LAYOUTS:
        msg = f"unknown market layout {layout!r}; valid names: {', '.join(LAYOUTS)}"
        raise InputError(msg)
    names = {f.name for f in dataclasses.fields(Layout)}
    bad = sorted(set(overrides) - names)
    if bad:
        msg = f"unknown layout parameter(s) {', '.join(bad)}; valid: {', '.join(sorted(names))}"
        raise InputError(msg)
    lay = dataclasses.replace(LAYOUTS[layout], **overrides)
    if lay.angular_step_deg <= 0:
        msg = f"angular_step_deg must be > 0, got {lay.angular_step_deg}"
        raise InputError(msg)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    scene = build_scene(lay, int(rng.integers(2**31)))
    local, gt, station_ids = _scan(scene, rng)
    points = _to_las_dims(scene, local, station_ids)
    points.update(_colours(scene, local, gt, rng))
    gt_arrays = {"gt_class": gt["cls"], "gt_instance": gt["inst"], "gt_level": gt["level"]}
    _name_aisles(scene)
    addresses = _addresses(scene)
    counts = np.bincount(np.maximum(gt["inst"], 0), minlength=len(scene.objects) + 1)
    objects = _objects_frame(scene, addresses, counts)
    aisles = _aisles_frame(scene)
    levels = pd.DataFrame({"floor": [lv[0] for lv in scene.levels],
                           "label": [_floor_label(lv[0]) for lv in scene.levels],
                           "slab_z": [lv[1] for lv in scene.levels],
                           "ceiling_z": [lv[2] for lv in scene.levels]})
    market = _market_dict(scene)
    logger.info("make_market(%s): %s points, %d objects (%d stores) in %.1f s", layout,
                f"{points['x'].size:,}", len(objects), int((objects["kind"] == "store").sum()),
                time.perf_counter() - t0)
    return MarketScene(lay, seed, points, gt_arrays, objects, aisles, levels, addresses, market)


def write_market(scene: MarketScene, out_dir: str | Path, *, overwrite: bool = True) -> list[Path]:
    """Write a :class:`MarketScene` to ``out_dir`` (the file names in :data:`FILES`).

    Every file is written atomically and byte-for-byte reproducibly (fixed dates, sorted
    content, rounded coordinates).

    Parameters
    ----------
    scene : MarketScene
    out_dir : str or Path
        Created when missing.
    overwrite : bool
        Replace existing files (default); ``False`` refuses with
        :class:`~geo3d.errors.OutputExistsError`.

    Returns
    -------
    list of Path
        The files written, in :data:`FILES` order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writers = [_write_las, _write_gt, _write_objects, _write_aisles, _write_levels,
               _write_addresses, _write_toml]
    paths = []
    for name, writer in zip(FILES, writers, strict=True):
        path = out / name
        with atomic_path(path, overwrite=overwrite) as tmp:
            writer(scene, tmp)
        paths.append(path)
    return paths


def write_market_sample(out_dir: str | Path, *, layout: str = "sample", seed: int = 2025) -> list[Path]:
    """Generate the sample market and write its files to ``out_dir``.

    Used by ``scripts/make_sample_data.py`` for ``sample_data/market/``; existing files are
    replaced.

    Parameters
    ----------
    out_dir : str or Path
        Target folder, created when missing.
    layout : str
        A name from :data:`LAYOUTS` (default ``"sample"``, the committed scene).
    seed : int
        Random seed (default 2025, the committed scene).

    Returns
    -------
    list of Path
        The files written, in :data:`FILES` order.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_market_sample(tempfile.mkdtemp())  # doctest: +SKIP
    >>> [p.name for p in paths][:2]  # doctest: +SKIP
    ['market.laz', 'market_gt.npz']
    """
    return write_market(make_market(layout, seed=seed), out_dir)


# --------------------------------------------------------------------------------------------
# scanning


def _scan(scene: Scene, rng: np.random.Generator
          ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Scan from every station; local coordinates, labels and hit attributes in scan order."""
    lay = scene.layout
    slab = {f: z for f, z, _ in scene.levels}
    parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                          ("xyz", "box", "cos", "t", "out", "sid", "time", "lvl")}
    for sid, (fl, origin) in enumerate(scene.stations, start=1):
        z0 = slab[fl]
        near = np.flatnonzero((scene.hi[:, 2] > z0 - 0.25)
                              & (scene.lo[:, 2] < z0 + lay.storey_height - 0.05))
        heading = float(rng.uniform(0.0, 2 * np.pi))
        res = cast_station(scene.lo[near], scene.hi[near], origin, step_deg=lay.angular_step_deg,
                           heading=heading, el_min_deg=lay.min_elevation_deg)
        ray = np.flatnonzero(res.box >= 0)
        n = ray.size
        d = res.directions[ray]
        box = near[res.box[ray]]
        t = res.t[ray] + rng.normal(0.0, lay.range_noise_m, n)
        stray = rng.random(n) < lay.outlier_rate
        t = np.where(stray, t * rng.uniform(0.25, 0.9, n), t)
        cos = np.abs(np.take_along_axis(d, res.axis[ray].astype(np.int64)[:, None], axis=1)[:, 0])
        dark = np.clip((0.08 - scene.box_refl[box] * cos) / 0.08, 0.0, 1.0)
        p_drop = lay.drop_rate + 0.6 * dark + (t > lay.max_range_m)
        keep = rng.random(n) >= p_drop
        parts["xyz"].append((origin + t[:, None] * d)[keep])
        parts["box"].append(box[keep])
        parts["cos"].append(cos[keep])
        parts["t"].append(t[keep])
        parts["out"].append(stray[keep])
        parts["sid"].append(np.full(int(keep.sum()), sid, dtype=np.uint16))
        n_rays = res.t.size
        tt = _GPS_T0 + (sid - 1) * (_STATION_SECONDS + 60.0) + ray[keep] * (_STATION_SECONDS / n_rays)
        parts["time"].append(tt)
        parts["lvl"].append(np.full(int(keep.sum()), fl, dtype=np.int8))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    if lay.thin_voxel_m > 0:  # a delivered cloud: registered, then one point per voxel
        key = np.floor(cat["xyz"] / lay.thin_voxel_m).astype(np.int64)
        key -= key.min(axis=0)
        span = key.max(axis=0) + 1
        flat = (key[:, 0] * span[1] + key[:, 1]) * span[2] + key[:, 2]
        first = np.sort(np.unique(flat, return_index=True)[1])
        cat = {k: v[first] for k, v in cat.items()}
    if lay.gap_share > 0 or lay.stray_rate > 0 or lay.duplicate_rate > 0:
        cat = apply_effects(scene, cat, rng)
    box, out = cat["box"], cat["out"]
    gt: dict[str, np.ndarray] = {
        "cls": np.where(out, 0, scene.box_class[box]).astype(np.uint8),
        "inst": np.where(out, -1, scene.box_instance[box]).astype(np.int32),
        "level": np.where(out | (scene.box_floor[box] == 0), 0, cat["lvl"]).astype(np.int8),
    }
    local = {"xyz": cat["xyz"], "box": box, "cos": cat["cos"], "t": cat["t"], "out": out,
             "time": cat["time"]}
    logger.debug("scan: %d stations, %d points", len(scene.stations), box.size)
    return local, gt, cat["sid"]


def _world_xy(lay: Layout, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local (x along the long axis, y across) → EPSG:5186 easting, northing."""
    b = math.radians(lay.rotation_deg)
    ex, ey = math.sin(b), math.cos(b)  # long axis
    nx, ny = -ey, ex  # left of it
    xc, yc = x - lay.length / 2, y - lay.width / 2
    return lay.centre[0] + xc * ex + yc * nx, lay.centre[1] + xc * ey + yc * ny


def _to_las_dims(scene: Scene, local: dict[str, np.ndarray], sid: np.ndarray) -> dict[str, np.ndarray]:
    xyz = local["xyz"]
    wx, wy = _world_xy(scene.layout, xyz[:, 0], xyz[:, 1])
    n = xyz.shape[0]
    return {
        "x": np.round(wx, 3), "y": np.round(wy, 3), "z": np.round(xyz[:, 2], 3),
        "return_number": np.ones(n, dtype=np.uint8),
        "number_of_returns": np.ones(n, dtype=np.uint8),
        "point_source_id": sid,
        "gps_time": np.round(local["time"], 6),
    }


def _colours(scene: Scene, local: dict[str, np.ndarray], gt: dict[str, np.ndarray],
             rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Intensity from reflectance × incidence × range; 16-bit RGB from the box colour."""
    box, cos, t, out = local["box"], local["cos"], local["t"], local["out"]
    n = box.size
    refl = np.where(out, 0.2, scene.box_refl[box])
    inten = 60000.0 * refl * (0.3 + 0.7 * cos) / (1.0 + (t / 25.0) ** 2)
    inten = np.clip(inten + rng.normal(0.0, 80.0, n), 0, 65535)
    shade = 0.8 + 0.2 * cos
    rgb = scene.box_rgb[box] * shade[:, None] + rng.normal(0.0, 2.0, (n, 3))
    rgb = np.where(out[:, None], 110.0, rgb)
    rgb16 = (np.clip(np.round(rgb), 0, 255) * 257).astype(np.uint16)
    return {"intensity": np.round(inten).astype(np.uint16), "red": rgb16[:, 0],
            "green": rgb16[:, 1], "blue": rgb16[:, 2]}


# --------------------------------------------------------------------------------------------
# aisles and addresses (docs/addresses.md, internal_road scheme), from the scene definition only


def _floor_label(floor: int) -> str:
    return f"{floor}층" if floor > 0 else f"지하{-floor}층"


def _floor_rank(floor: int) -> tuple[int, int]:
    """Entrance floor first, then upper floors upward, then basements downward."""
    return (0, floor) if floor > 0 else (1, -floor)


def _project(pt: np.ndarray, line: np.ndarray) -> tuple[float, float, float]:
    """Arc length s, signed offset d (left > 0) and distance of ``pt`` to a polyline."""
    best = (math.inf, 0.0, 0.0)
    s0 = 0.0
    for p, q in itertools.pairwise(line):
        seg = q - p
        ln = float(np.hypot(*seg))
        u = seg / ln
        r = pt - p
        a = min(max(float(r @ u), 0.0), ln)
        foot = p + u * a
        dist = float(np.hypot(*(pt - foot)))
        side = float(u[0] * r[1] - u[1] * r[0])
        if dist < best[0] - 1e-9:
            best = (dist, s0 + a, math.copysign(dist, side) if dist > 0 else side)
        s0 += ln
    return best[1], best[2], best[0]


def _name_aisles(scene: Scene) -> None:
    """Orient every aisle from its principal-entrance end and name it ``경동시장{n}통로``.

    n counts over the entrance floor first, then the upper floors upward, then the basements
    downward (names stay unique across floors); within a floor, by plan distance from the
    principal entrance to the centreline (the layouts keep these distances > 0.1 m apart).
    """
    pe = np.asarray(scene.principal_entrance)
    keyed = []
    for i, a in enumerate(scene.aisles):
        if np.hypot(*(a.line[-1] - pe)) < np.hypot(*(a.line[0] - pe)) - 1e-9:
            a.line = a.line[::-1].copy()
        dist = _project(pe, a.line)[2]
        keyed.append((_floor_rank(a.floor), round(dist, 6), float(a.line[0][0]), float(a.line[0][1]), i))
    for n, key in enumerate(sorted(keyed), start=1):
        scene.aisles[key[-1]].name = f"{MARKET_NAME}{n}통로"


def _addresses(scene: Scene) -> pd.DataFrame:
    """True addresses of every store and facility (one row each, object_id order)."""
    by_floor: dict[int, list[int]] = {}
    for i, a in enumerate(scene.aisles):
        by_floor.setdefault(a.floor, []).append(i)
    slab = {f: z for f, z, _ in scene.levels}
    rows: dict[int, dict[str, Any]] = {}
    for obj in scene.objects:
        pt = np.asarray(obj.xy)
        best = None
        for i in by_floor.get(obj.floor, []):
            s, d, dist = _project(pt, scene.aisles[i].line)
            if best is None or dist < best[3] - 1e-9:
                best = (i, s, d, dist)
        wx, wy = _world_xy(scene.layout, np.array(obj.xy[0]), np.array(obj.xy[1]))
        z = slab[obj.floor] if obj.object_class == STORE else (obj.z_min + obj.z_max) / 2
        row: dict[str, Any] = {"object_id": obj.object_id, "object_class": obj.object_class,
                               "kind": obj.kind, "floor": obj.floor, "aisle": "", "s_m": None,
                               "side": "", "number": "", "address": "", "x": float(wx),
                               "y": float(wy), "z": float(z), "_d": 0.0}
        if best is not None and best[3] <= MAX_OFFSET_M:
            i, s, d, _ = best
            k = math.floor(s / INTERVAL_M)
            row.update(aisle=scene.aisles[i].name, s_m=s, _d=d,
                       side="left" if d > 0 else "right",
                       _base=2 * k + 1 if d > 0 else 2 * k + 2)
        rows[obj.object_id] = row

    def number(group: list[SceneObject]) -> None:
        """Bare number for the first of a group, then -1, -2 … ordered by (s, |d|, id)."""
        group.sort(key=lambda o: (rows[o.object_id]["s_m"], abs(rows[o.object_id]["_d"]), o.object_id))
        for j, o in enumerate(group):
            base = rows[o.object_id]["_base"]
            rows[o.object_id]["number"] = f"{base}" if j == 0 else f"{base}-{j}"

    groups: dict[tuple[Any, ...], list[SceneObject]] = {}
    for obj in scene.objects:
        r = rows[obj.object_id]
        if not r["aisle"] or obj.host is not None or obj.object_class == CCTV:
            continue
        key = (r["aisle"], r["_base"], obj.object_class if obj.object_class != STORE else 0)
        groups.setdefault(key, []).append(obj)
    for group in groups.values():
        number(group)
    head = f"{SIDO} {SIGUNGU}"
    for obj in scene.objects:
        r = rows[obj.object_id]
        if not r["number"]:
            continue
        if obj.object_class == STORE:
            r["address"] = f"{head} {r['aisle']} {r['number']}"
        else:
            r["address"] = f"{head} {r['aisle']} {r['number']} {SUFFIX[obj.object_class]}"
    # facilities inside a store: "<store address>, <floor digit><seq> <type>"
    seq: dict[int, int] = {}
    for obj in scene.objects:
        if obj.host is None:
            continue
        store = rows[obj.host]
        seq[obj.host] = seq.get(obj.host, 0) + 1
        prefix = f"{obj.floor}" if obj.floor > 0 else f"지하{-obj.floor}"
        unit = f"{prefix}{seq[obj.host]:02d}"
        r = rows[obj.object_id]
        r.update(aisle=store["aisle"], s_m=store["s_m"], side=store["side"],
                 number=f"{store['number']}, {unit}" if store["number"] else "",
                 address=f"{store['address']}, {unit} {SUFFIX[obj.object_class]}"
                 if store["address"] else "")
    df = pd.DataFrame([rows[o.object_id] for o in scene.objects])
    return df[["object_id", "object_class", "kind", "floor", "aisle", "s_m", "side", "number",
               "address", "x", "y", "z"]]


def _objects_frame(scene: Scene, addresses: pd.DataFrame, counts: np.ndarray) -> gpd.GeoDataFrame:
    lay = scene.layout
    geoms = []
    ent_x: list[float | None] = []
    ent_y: list[float | None] = []
    for obj in scene.objects:
        if obj.lot is not None:
            x0, y0, x1, y1 = obj.lot
            wx, wy = _world_xy(lay, np.array([x0, x1, x1, x0, x0]), np.array([y0, y0, y1, y1, y0]))
            geoms.append(shapely.Polygon(np.column_stack([np.round(wx, 3), np.round(wy, 3)])))
            ex, ey = _world_xy(lay, np.array(obj.xy[0]), np.array(obj.xy[1]))
            ent_x.append(round(float(ex), 3))
            ent_y.append(round(float(ey), 3))
        else:
            wx, wy = _world_xy(lay, np.array(obj.xy[0]), np.array(obj.xy[1]))
            geoms.append(shapely.Point(round(float(wx), 3), round(float(wy), 3)))
            ent_x.append(None)
            ent_y.append(None)
    df = pd.DataFrame({
        "object_id": [o.object_id for o in scene.objects],
        "object_class": [o.object_class for o in scene.objects],
        "kind": [o.kind for o in scene.objects],
        "floor": [o.floor for o in scene.objects],
        "aisle": addresses["aisle"].to_numpy(),
        "z_min": [round(o.z_min, 3) for o in scene.objects],
        "z_max": [round(o.z_max, 3) for o in scene.objects],
        "n_points": [int(counts[o.object_id]) for o in scene.objects],
        "entrance_x": ent_x, "entrance_y": ent_y,
        "host_store": pd.array([o.host for o in scene.objects], dtype="Int64"),
    })
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:5186")


def _aisles_frame(scene: Scene) -> gpd.GeoDataFrame:
    lay = scene.layout
    rows = sorted(scene.aisles, key=lambda a: int(a.name[len(MARKET_NAME):-2]))
    geoms = []
    for a in rows:
        wx, wy = _world_xy(lay, a.line[:, 0], a.line[:, 1])
        geoms.append(shapely.LineString(np.column_stack([np.round(wx, 3), np.round(wy, 3)])))
    return gpd.GeoDataFrame({"name": [a.name for a in rows], "floor": [a.floor for a in rows],
                             "width_m": [a.width for a in rows]}, geometry=geoms, crs="EPSG:5186")


def _market_dict(scene: Scene) -> dict[str, Any]:
    lay = scene.layout
    px, py = _world_xy(lay, np.array(scene.principal_entrance[0]), np.array(scene.principal_entrance[1]))
    aisles = _aisles_frame(scene)
    return {
        "name": MARKET_NAME, "sido": SIDO, "sigungu": SIGUNGU, "parent_road": "고산자로36길",
        "parent_number": "3", "crs": "EPSG:5186", "scheme": "internal_road",
        "interval_m": INTERVAL_M, "principal_entrance": [round(float(px), 3), round(float(py), 3)],
        "entrance_floor": 1,
        "aisles": [{"name": r.name, "floor": int(r.floor),
                    "line": [[float(x), float(y)] for x, y in r.geometry.coords]}
                   for r in aisles.itertuples()],
    }


# --------------------------------------------------------------------------------------------
# writers (deterministic bytes)


def _write_las(scene: MarketScene, path: Path) -> None:
    import laspy
    import pyproj

    p = scene.points
    header = laspy.LasHeader(point_format=7, version="1.4")
    header.scales = np.array([0.001, 0.001, 0.001])
    header.offsets = np.array([math.floor(p["x"].min() / 1000) * 1000.0,
                               math.floor(p["y"].min() / 1000) * 1000.0, 0.0])
    header.add_crs(pyproj.CRS.from_epsg(5186))
    header.global_encoding.gps_time_type = laspy.header.GpsTimeType.STANDARD  # adjusted standard
    header.creation_date = _CREATION_DATE
    header.generating_software = _SOFTWARE
    header.system_identifier = "geo3d synthetic TLS"
    las = laspy.LasData(header)
    las.x, las.y, las.z = p["x"], p["y"], p["z"]
    for name in ("intensity", "red", "green", "blue", "return_number", "number_of_returns",
                 "point_source_id", "gps_time"):
        las[name] = p[name]
    with open(path, "wb") as fh:
        las.write(fh, do_compress=True)


def _write_gt(scene: MarketScene, path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in ("gt_class", "gt_instance", "gt_level"):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(scene.gt[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path, name: str) -> None:
    lines = ['{"type": "FeatureCollection", "name": ' + json.dumps(name) + ",",
             '"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5186"}},',
             '"features": [']
    cols = [c for c in gdf.columns if c != "geometry"]
    feats = []
    for rec, geom in zip(gdf[cols].itertuples(index=False), gdf.geometry, strict=True):
        props = {c: _json_value(v) for c, v in zip(cols, rec, strict=True)}
        gj = json.loads(shapely.to_geojson(geom))
        feats.append(json.dumps({"type": "Feature", "properties": props, "geometry": gj},
                                ensure_ascii=False))
    lines.append(",\n".join(feats))
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_objects(scene: MarketScene, path: Path) -> None:
    _write_geojson(scene.objects, path, "market_objects")


def _write_aisles(scene: MarketScene, path: Path) -> None:
    _write_geojson(scene.aisles, path, "market_aisles")


def _fmt(v: Any, nd: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float | np.floating):
        return f"{float(v):.{nd}f}"
    return str(v)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _write_levels(scene: MarketScene, path: Path) -> None:
    df = scene.levels
    _write_csv(path, list(df.columns), [[_fmt(v) for v in r] for r in df.itertuples(index=False)])


def _write_addresses(scene: MarketScene, path: Path) -> None:
    df = scene.addresses
    _write_csv(path, list(df.columns), [[_fmt(v) for v in r] for r in df.itertuples(index=False)])


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    msg = f"cannot write {type(v).__name__} to TOML"
    raise TypeError(msg)


def _write_toml(scene: MarketScene, path: Path) -> None:
    m = scene.market
    out = ["# MARKET.toml for the synthetic sample market (CONTRACTS.md); generated by "
           "geo3d.datasets.market"]
    out += [f"{k} = {_toml_value(v)}" for k, v in m.items() if k != "aisles"]
    for a in m["aisles"]:
        out += ["", "[[aisles]]"] + [f"{k} = {_toml_value(v)}" for k, v in a.items()]
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
