"""Scene definition of the synthetic market hall: boxes, objects, aisles and levels.

Everything here lives in the building's *local* frame: x along the long axis (0 … length),
y across it (0 … width), z is the true elevation (metres, same as EPSG:5186 heights). The
scene is a list of axis-aligned boxes, each tagged with the object it belongs to, so the scanner
(:mod:`geo3d.datasets._scanner`) can label every return. :mod:`geo3d.datasets.market` turns
the result into world coordinates and files.

Private module: the public entry point is :func:`geo3d.datasets.market.make_market`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import shapely

from ._plan import (
    aisle_pieces,
    door_zones,
    floor_plan,
    hall_plan,
    plan_structure,
    stair_void,
    stairs,
    street,
    street_and_furniture_free,
    vacant_furniture,
)

__all__ = ["Layout", "Scene", "build_scene"]

# object class codes (docs/contracts.md)
STRUCTURE, STORE, EXTINGUISHER, HYDRANT, EXIT_SIGN, AED, FIRE_ALARM, CCTV, OTHER = range(9)
KINDS: dict[int, str] = {
    STRUCTURE: "none",
    STORE: "store",
    EXTINGUISHER: "fire_extinguisher",
    HYDRANT: "indoor_hydrant",
    EXIT_SIGN: "exit_sign",
    AED: "aed",
    FIRE_ALARM: "fire_alarm",
    CCTV: "cctv",
    OTHER: "other_facility",
}

SLAB_T = 0.3  # slab thickness (m)
WALL_T = 0.3  # outer wall thickness (m), outside the interior rectangle
DOOR_H = 2.8  # entrance opening height above the slab (m)
STALL_GAP = 0.35  # minimum clear gap between two stalls (m)
ADDRESS_INTERVAL = 20.0  # base interval of the addresses (docs/addresses.md), kept clear of entrances
END_STRIP = 1.2  # clear strip along the end walls, where hydrants and doors are (m)

# material name -> (reflectance 0..1, RGB 0..255)
MATERIALS: dict[str, tuple[float, tuple[int, int, int]]] = {
    "floor": (0.10, (92, 90, 86)),  # dark wet epoxy: weak returns at grazing angles
    "ceiling": (0.65, (215, 214, 208)),
    "wall": (0.50, (196, 186, 165)),
    "column": (0.45, (170, 168, 160)),
    "shutter": (0.55, (168, 174, 180)),
    "table": (0.40, (150, 112, 72)),
    "shelf": (0.35, (120, 96, 70)),
    "partition": (0.50, (205, 200, 190)),
    "extinguisher": (0.35, (200, 22, 28)),
    "hydrant": (0.40, (188, 30, 32)),
    "exit_sign": (0.70, (24, 172, 74)),
    "aed": (0.60, (40, 168, 112)),
    "fire_alarm": (0.40, (212, 32, 30)),
    "cctv": (0.60, (226, 226, 222)),
    "first_aid": (0.60, (236, 236, 230)),
    "awning": (0.45, (128, 128, 128)),
    "frame": (0.30, (92, 96, 100)),
    "goods": (0.35, (128, 128, 128)),
    "street": (0.25, (84, 84, 80)),
}
AWNING_COLOURS = [(40, 90, 170), (230, 130, 40), (200, 180, 50), (60, 120, 110), (150, 60, 60),
                  (90, 90, 160), (220, 220, 210)]
GOODS_COLOURS = [(210, 170, 60), (180, 90, 40), (120, 150, 60), (200, 200, 180), (90, 60, 40),
                 (230, 200, 150), (160, 40, 40), (80, 110, 50), (240, 230, 210), (140, 120, 90),
                 (60, 60, 70), (190, 140, 110)]


@dataclass(frozen=True)
class Layout:
    """Parameters of one market layout (see ``LAYOUTS`` in :mod:`geo3d.datasets.market`).

    Attributes
    ----------
    length, width : float
        Interior size of the hall (m); local x runs along ``length``.
    rotation_deg : float
        Bearing of the long (local x) axis, clockwise from north.
    centre : tuple of float
        EPSG:5186 easting, northing of the hall's centre.
    ground_z : float
        Slab top of the entrance floor (1층), m.
    floors : tuple of int
        Floor numbers (no 0): ``(1, 2)``, ``(-1, 1, 2)`` …
    storey_height : float
        Slab-top to slab-top height (m); slabs are ``SLAB_T`` thick.
    aisle_widths : tuple of float
        Widths of the west–east aisles, south to north; their spacing follows from ``width``.
    cross_aisle_width : float
        Width of a south–north aisle at ``length / 2`` (0 = none).
    l_turn : float
        When > 0, the last aisle turns north at ``x = l_turn * length`` (an L-shaped aisle).
    principal_aisle : int
        Index of the aisle whose west end is the principal entrance.
    skylight_floors, open_floors : tuple of int
        Floors whose roof has an open middle part; floors with no ceiling at all.
    vacancy : tuple of float
        Share of empty lots, per floor in ``floors`` order.
    column_spacing : float
        Spacing of the columns along the aisle edges (m).
    angular_step_deg, station_spacing, thin_voxel_m, min_elevation_deg : float
        Scanner: angular step of each station's grid, spacing of the stations along the
        aisles, voxel of the final thinning (one point per voxel, 0 = none) and lower edge of
        the field of view. Scale ``angular_step_deg`` to make denser or sparser scans.
    range_noise_m, drop_rate, outlier_rate, max_range_m : float
        Range noise (1 σ, along the ray), base share of dropped returns, share of stray
        outliers and the range limit.
    plan, plan_cut : str, tuple of float
        Outline: ``rect``, ``L`` (one corner cut), ``T`` (two southern corners), ``cross``
        (four corners); cut-out lengths as shares of ``length`` (west, east).
    partial_floors, partial_fraction : tuple of int, float
        Upper floors that cover only the west ``partial_fraction`` of the hall (a mezzanine over
        a double-height hall).
    stair_void, street : bool
        A stair opening through every upper slab with a flight under it; a strip of street seen
        through the entrance floor's doors.
    principal_end : int
        Which end (0 = start, 1 = end) of ``principal_aisle`` is the principal entrance.
    floor_rgb : tuple of int, optional
        Colour of the floors (painted epoxy: green, red, blue … ); None: grey.
    furniture : float
        Share of vacant lots holding tables with benches or a hand cart (not stores).
    facility_jitter : float
        Facility sizes vary by up to this share (along their wall and in height).
    gap_share, duplicate_rate, stray_rate : float
        Share of stalls with an occlusion gap across the front, of duplicated points, and of
        stray points spread uniformly over each level's box.
    """

    length: float = 78.0
    width: float = 38.0
    rotation_deg: float = 23.0
    centre: tuple[float, float] = (203489.0, 553350.0)
    ground_z: float = 32.0
    floors: tuple[int, ...] = (1, 2)
    storey_height: float = 4.2
    aisle_widths: tuple[float, ...] = (2.8, 3.6, 3.4, 3.0)
    cross_aisle_width: float = 3.2
    l_turn: float = 0.0
    principal_aisle: int = 1
    skylight_floors: tuple[int, ...] = (2,)
    open_floors: tuple[int, ...] = ()
    vacancy: tuple[float, ...] = (0.0, 0.3, 0.3)
    column_spacing: float = 10.0
    angular_step_deg: float = 1.8
    station_spacing: float = 12.0
    thin_voxel_m: float = 0.06
    min_elevation_deg: float = -60.0
    range_noise_m: float = 0.004
    drop_rate: float = 0.01
    outlier_rate: float = 3e-4
    max_range_m: float = 60.0
    plan: str = "rect"
    plan_cut: tuple[float, float] = (0.3, 0.3)
    partial_floors: tuple[int, ...] = ()
    partial_fraction: float = 0.5
    stair_void: bool = False
    street: bool = False
    principal_end: int = 0
    floor_rgb: tuple[int, int, int] | None = None
    furniture: float = 0.0
    facility_jitter: float = 0.0
    gap_share: float = 0.0
    duplicate_rate: float = 0.0
    stray_rate: float = 0.0


@dataclass
class SceneObject:
    """One true store or facility (local frame)."""

    object_id: int
    object_class: int
    floor: int
    xy: tuple[float, float]  # facility centre, or store entrance midpoint
    z_min: float
    z_max: float
    lot: tuple[float, float, float, float] | None = None  # store footprint x0, y0, x1, y1
    host: int | None = None  # object_id of the store a facility sits in

    @property
    def kind(self) -> str:
        """Kind name (``store``, ``fire_extinguisher`` …)."""
        return KINDS[self.object_class]


@dataclass
class Aisle:
    """A named aisle: centreline (local, start = principal-entrance end) and width."""

    floor: int
    line: np.ndarray  # (n, 2)
    width: float
    name: str = ""


@dataclass
class Scene:
    """Boxes with labels, plus the true objects, aisles, levels and scan stations."""

    layout: Layout
    lo: np.ndarray  # (n, 3)
    hi: np.ndarray  # (n, 3)
    box_class: np.ndarray  # uint8
    box_instance: np.ndarray  # int32, -1 = structure
    box_floor: np.ndarray  # int8
    box_refl: np.ndarray  # float64
    box_rgb: np.ndarray  # (n, 3) float64
    objects: list[SceneObject]
    aisles: list[Aisle]
    levels: list[tuple[int, float, float | None]]  # floor, slab_z, ceiling_z
    stations: list[tuple[int, np.ndarray]]  # floor, origin (3,)
    principal_entrance: tuple[float, float]
    openings: list[tuple[str, float, float, int, float]] = field(default_factory=list)


class _Builder:
    """Collects boxes and objects while the scene is laid out."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.rows: list[tuple[float, ...]] = []
        self.objects: list[SceneObject] = []

    def box(self, x0: float, y0: float, z0: float, x1: float, y1: float, z1: float, *,
            cls: int, inst: int, floor: int, mat: str,
            rgb: tuple[int, int, int] | None = None) -> None:
        refl, base = MATERIALS.get(mat, (0.4, (128, 128, 128)))
        col = np.asarray(rgb if rgb is not None else base, dtype=float)
        col = np.clip(col + self.rng.normal(0.0, 8.0, 3), 0, 255)
        self.rows.append((min(x0, x1), min(y0, y1), min(z0, z1), max(x0, x1), max(y0, y1),
                          max(z0, z1), cls, inst, floor, refl, *col))

    def new_object(self, cls: int, floor: int, xy: tuple[float, float], z0: float, z1: float,
                   **kw: object) -> SceneObject:
        obj = SceneObject(len(self.objects) + 1, cls, floor, (float(xy[0]), float(xy[1])),
                          float(z0), float(z1), **kw)  # type: ignore[arg-type]
        self.objects.append(obj)
        return obj


def _rect_hit(r: tuple[float, float, float, float], others: list[tuple[float, float, float, float]],
              margin: float) -> bool:
    """Whether rectangle ``r`` comes closer than ``margin`` to any of ``others``."""
    x0, y0, x1, y1 = r
    return any(x0 < b[2] + margin and b[0] < x1 + margin and y0 < b[3] + margin
               and b[1] < y1 + margin for b in others)


def _aisle_lines(lay: Layout) -> list[tuple[np.ndarray, float]]:
    """Centrelines (local) and widths of the aisles of one floor, before naming."""
    L, W = lay.length, lay.width
    widths = lay.aisle_widths
    n = len(widths)
    block = (W - sum(widths)) / (2 * n)  # outer blocks `block`, inner blocks 2 * block
    out: list[tuple[np.ndarray, float]] = []
    y = 0.0
    for i, w in enumerate(widths):
        y += (block if i == 0 else 2 * block) + w / 2
        if lay.l_turn > 0 and i == n - 1:
            xt = round(lay.l_turn * L, 1)
            line = np.array([[0.0, y], [xt, y], [xt, W]])
        else:
            line = np.array([[0.0, y], [L, y]])
        out.append((line, w))
        y += w / 2
    if lay.cross_aisle_width > 0:
        out.append((np.array([[L / 2, 0.0], [L / 2, W]]), lay.cross_aisle_width))
    return out


def _corridors(aisles: list[tuple[np.ndarray, float]]) -> list[tuple[float, float, float, float]]:
    """Floor rectangles of the aisle segments (each grown by half the width at both ends)."""
    rects = []
    for line, w in aisles:
        h = w / 2
        for p, q in itertools.pairwise(line):
            rects.append((float(min(p[0], q[0]) - h), float(min(p[1], q[1]) - h),
                          float(max(p[0], q[0]) + h), float(max(p[1], q[1]) + h)))
    return rects


def build_scene(lay: Layout, seed: int) -> Scene:
    """Lay out the whole market for ``lay``; deterministic for a given ``seed``."""
    rng = np.random.default_rng(seed)
    b = _Builder(rng)
    W = lay.width
    floors = sorted(lay.floors)
    i1 = floors.index(1)
    slab_z = {f: lay.ground_z + lay.storey_height * (i - i1) for i, f in enumerate(floors)}
    lines = _aisle_lines(lay)
    corridors = _corridors(lines)
    levels: list[tuple[int, float, float | None]] = []
    aisles: list[Aisle] = []
    stations: list[tuple[int, np.ndarray]] = []
    openings: list[tuple[str, float, float, int, float]] = []
    if not street_and_furniture_free(lay):
        return _build_plan_scene(lay, b, floors, slab_z, lines)
    p_line = lines[lay.principal_aisle][0]
    principal = (float(p_line[0, 0]), float(p_line[0, 1]))

    for fi, fl in enumerate(floors):
        z0 = slab_z[fl]
        ceil = z0 + lay.storey_height - SLAB_T
        top = fl == floors[-1]
        levels.append((fl, round(z0, 3), None if fl in lay.open_floors else round(ceil, 3)))
        for line, w in lines:
            aisles.append(Aisle(fl, line.copy(), w))
        _structure(b, lay, fl, z0, ceil, top, lines, openings)
        columns = _columns(b, lay, fl, z0, ceil, lines, corridors)
        reserved = [(c[0] - 0.3, c[1] - 0.3, c[2] + 0.3, c[3] + 0.3) for c, _, _ in columns]
        for line, w in lines:  # keep clear the wall beside doors on the long walls (hydrants)
            for x, y in (line[0], line[-1]):
                if y <= 0.0 or y >= W:
                    y0 = -1.0 if y <= 0.0 else W - 0.8
                    reserved.append((x - w / 2 - 1.0, y0, x + w / 2 + 1.0, y0 + 1.8))
        lots = _stalls(b, lay, fl, z0, lines, corridors, reserved,
                       lay.vacancy[fi] if fi < len(lay.vacancy) else 0.0,
                       in_store=(AED if fl == 1 else OTHER if fi == len(floors) - 1 else None))
        _facilities(b, lay, fl, z0, ceil, lines, columns, openings, fi)
        del lots
        _stations(stations, lay, fl, z0, lines, rng)
    return _scene(b, lay, aisles, levels, stations, principal, openings)


def _stations(stations: list[tuple[int, np.ndarray]], lay: Layout, fl: int, z0: float,
              lines: list[tuple[np.ndarray, float]], rng: np.random.Generator) -> None:
    """Scan stations along every aisle segment of one floor."""
    for line, _w in lines:
        for p, q in itertools.pairwise(line):
            seg = float(np.hypot(*(q - p)))
            # one station 2.5 m inside each end (entrances), the rest evenly between
            k = max(1, int(np.ceil((seg - 5.0) / lay.station_spacing)))
            for j in range(k + 1):
                xy = p + (q - p) * (2.5 + (seg - 5.0) * j / k) / seg
                xy = xy + rng.normal(0.0, 0.15, 2)
                stations.append((fl, np.array([xy[0], xy[1], z0 + 1.55])))


def _build_plan_scene(lay: Layout, b: _Builder, floors: list[int], slab_z: dict[int, float],
                      lines: list[tuple[np.ndarray, float]]) -> Scene:
    """The general path: any outline, partial floors, stair voids, street, furniture."""
    rng = b.rng
    aisle_y = [float(line[0, 1]) for line, _w in lines if line[0, 1] == line[1, 1]]
    plan = hall_plan(lay, aisle_y)
    void = stair_void(lay, plan, aisle_y) if lay.stair_void else None
    levels: list[tuple[int, float, float | None]] = []
    aisles: list[Aisle] = []
    stations: list[tuple[int, np.ndarray]] = []
    openings: list[tuple[str, float, float, int, float]] = []
    f_lines = {fl: aisle_pieces(lines, floor_plan(lay, plan, fl)) for fl in floors}
    ends = [(line[e], i) for i, (line, _w) in enumerate(f_lines[1])
            for e in ((0, -1) if lay.principal_end == 0 else (-1, 0))]
    on_wall = [(e, i) for e, i in ends if plan.exterior.distance(shapely.Point(e)) < 1e-6]
    pick = [e for e, i in on_wall if i == lay.principal_aisle % len(f_lines[1])] or [e for e, _i in on_wall]
    principal = (float(pick[0][0]), float(pick[0][1]))
    for fi, fl in enumerate(floors):
        z0 = slab_z[fl]
        ceil = z0 + lay.storey_height - SLAB_T
        fplan = floor_plan(lay, plan, fl)
        flines = f_lines[fl]
        nxt = floors[fi + 1] if fi + 1 < len(floors) else None
        levels.append((fl, round(z0, 3), None if fl in lay.open_floors else round(ceil, 3)))
        aisles.extend(Aisle(fl, line.copy(), w) for line, w in flines)
        plan_structure(b, lay, fl, z0, ceil, plan=plan, fplan=fplan, lines=flines,
                       roof=nxt is None and fl not in lay.open_floors,
                       next_plan=floor_plan(lay, plan, nxt) if nxt is not None else None,
                       next_ceil=ceil + lay.storey_height, void=void if fi > 0 else None,
                       openings=openings, floor_rgb=lay.floor_rgb)
        if void is not None and fi > 0:
            stairs(b, void, slab_z[floors[fi - 1]], z0, floors[fi - 1], fl)
        corridors = _corridors(flines)
        columns = _columns(b, lay, fl, z0, ceil, flines, corridors, plan=fplan)
        reserved = [(c[0] - 0.3, c[1] - 0.3, c[2] + 0.3, c[3] + 0.3) for c, _, _ in columns]
        reserved += door_zones(fplan, flines)
        if void is not None:
            reserved.append((void[0] - 0.6, void[1] - 0.6, void[2] + 0.6, void[3] + 0.6))
        _stalls(b, lay, fl, z0, flines, corridors, reserved,
                lay.vacancy[fi] if fi < len(lay.vacancy) else 0.0,
                in_store=(AED if fl == 1 else OTHER if fi == len(floors) - 1 else None), plan=fplan)
        _facilities(b, lay, fl, z0, ceil, flines, columns, openings, fi)
        if lay.street and fl == 1:
            street(b, openings, fl, z0, rng)
        _stations(stations, lay, fl, z0, flines, rng)
    return _scene(b, lay, aisles, levels, stations, principal, openings)


def _scene(b: _Builder, lay: Layout, aisles: list[Aisle], levels: list[tuple[int, float, float | None]],
           stations: list[tuple[int, np.ndarray]], principal: tuple[float, float],
           openings: list[tuple[str, float, float, int, float]]) -> Scene:
    arr = np.array(b.rows, dtype=np.float64)
    return Scene(
        layout=lay, lo=arr[:, 0:3].copy(), hi=arr[:, 3:6].copy(),
        box_class=arr[:, 6].astype(np.uint8), box_instance=arr[:, 7].astype(np.int32),
        box_floor=arr[:, 8].astype(np.int8), box_refl=arr[:, 9].copy(), box_rgb=arr[:, 10:13].copy(),
        objects=b.objects, aisles=aisles, levels=levels, stations=stations,
        principal_entrance=principal, openings=openings,
    )


def _structure(b: _Builder, lay: Layout, fl: int, z0: float, ceil: float, top: bool,
               lines: list[tuple[np.ndarray, float]], openings: list[tuple[str, float, float, int, float]]) -> None:
    """Slab, ceiling/roof, and outer walls with entrance openings for one floor."""
    L, W = lay.length, lay.width
    T = WALL_T
    b.box(-T, -T, z0 - SLAB_T, L + T, W + T, z0, cls=STRUCTURE, inst=-1, floor=fl, mat="floor")
    if top and fl not in lay.open_floors:  # roof slab (lower floors get the next floor's slab)
        if fl in lay.skylight_floors:  # open middle third: a skylight without glazing
            hx0, hx1, hy0, hy1 = L * 0.35, L * 0.65, W * 0.3, W * 0.7
            for x0, y0, x1, y1 in [(-T, -T, L + T, hy0), (-T, hy1, L + T, W + T),
                                   (-T, hy0, hx0, hy1), (hx1, hy0, L + T, hy1)]:
                b.box(x0, y0, ceil, x1, y1, ceil + SLAB_T, cls=STRUCTURE, inst=-1, floor=fl, mat="ceiling")
        else:
            b.box(-T, -T, ceil, L + T, W + T, ceil + SLAB_T, cls=STRUCTURE, inst=-1, floor=fl, mat="ceiling")
    # door openings where an aisle meets a wall: (wall, position along wall, width)
    doors: dict[str, list[tuple[float, float]]] = {"w": [], "e": [], "s": [], "n": []}
    for line, w in lines:
        for p in (line[0], line[-1]):
            if p[0] <= 0.0:
                doors["w"].append((p[1], w))
            elif p[0] >= L:
                doors["e"].append((p[1], w))
            elif p[1] <= 0.0:
                doors["s"].append((p[0], w))
            elif p[1] >= W:
                doors["n"].append((p[0], w))
    for wall, span in (("w", W), ("e", W), ("s", L), ("n", L)):
        cuts = sorted((c - w / 2 + 0.5, c + w / 2 - 0.5) for c, w in doors[wall])
        pieces, a = [], -T
        for c0, c1 in cuts:
            pieces.append((a, c0))
            a = c1
            openings.append((wall, (c0 + c1) / 2, c1 - c0, fl, {"w": 0.0, "e": L, "s": 0.0, "n": W}[wall]))
        pieces.append((a, span + T))
        for a0, a1 in pieces:
            _wall_box(b, wall, a0, a1, z0, ceil, L, W, fl)
        for c0, c1 in cuts:  # lintel over the door
            _wall_box(b, wall, c0, c1, z0 + DOOR_H, ceil, L, W, fl)


def _wall_box(b: _Builder, wall: str, a0: float, a1: float, z0: float, z1: float,
              L: float, W: float, fl: int) -> None:
    T = WALL_T
    if a1 - a0 <= 1e-6:
        return
    if wall == "w":
        b.box(-T, a0, z0, 0.0, a1, z1, cls=STRUCTURE, inst=-1, floor=fl, mat="wall")
    elif wall == "e":
        b.box(L, a0, z0, L + T, a1, z1, cls=STRUCTURE, inst=-1, floor=fl, mat="wall")
    elif wall == "s":
        b.box(a0, -T, z0, a1, 0.0, z1, cls=STRUCTURE, inst=-1, floor=fl, mat="wall")
    else:
        b.box(a0, W, z0, a1, W + T, z1, cls=STRUCTURE, inst=-1, floor=fl, mat="wall")


def _columns(b: _Builder, lay: Layout, fl: int, z0: float, ceil: float,
             lines: list[tuple[np.ndarray, float]], corridors: list[tuple[float, float, float, float]],
             plan: shapely.Polygon | None = None) -> list[tuple[tuple[float, float, float, float], int, int]]:
    """Columns on the left edge of every west–east aisle segment: (rect, aisle index, k)."""
    out = []
    L = lay.length
    cross = [r for r in corridors if r[3] - r[1] > r[2] - r[0]]  # south–north corridors
    for ai, (line, w) in enumerate(lines):
        p, q = line[0], line[1]
        if p[1] != q[1]:
            continue  # only along west–east segments
        y = p[1] + w / 2
        x_end = min(q[0], L) - 3.0
        k = 0
        x = max(p[0], 0.0) + lay.column_spacing + 1.5  # off the 10 m marks (no facility on a boundary)
        while x <= x_end:
            rect = (x - 0.25, y - 0.25, x + 0.25, y + 0.25)
            if not _rect_hit(rect, cross, 1.0) and (plan is None or plan.contains(shapely.box(*rect).buffer(0.3))):
                b.box(*rect[:2], z0, *rect[2:], ceil, cls=STRUCTURE, inst=-1, floor=fl, mat="column")
                out.append((rect, ai, k))
                k += 1
            x += lay.column_spacing
    return out


def _stalls(b: _Builder, lay: Layout, fl: int, z0: float, lines: list[tuple[np.ndarray, float]],
            corridors: list[tuple[float, float, float, float]],
            reserved: list[tuple[float, float, float, float]], vacancy: float,
            in_store: int | None, plan: shapely.Polygon | None = None) -> list[tuple[float, float, float, float]]:
    """Fill both sides of every aisle segment with stalls; returns their lots."""
    rng = b.rng
    L, W = lay.length, lay.width
    lots: list[tuple[float, float, float, float]] = []
    placed_special = in_store is None
    inner = plan.buffer(-0.3, join_style="mitre") if plan is not None else None
    for line, w in lines:
        total = float(np.hypot(*np.diff(line, axis=0).T).sum())
        s_start = 0.0
        for p, q in itertools.pairwise(line):
            u = (q - p) / np.hypot(*(q - p))
            v = np.array([-u[1], u[0]])  # left normal
            seg = float(np.hypot(*(q - p)))
            for sgn in (1.0, -1.0):
                a = 0.4
                while a < seg:
                    f = float(rng.uniform(2.0, 4.0))
                    d = float(rng.uniform(2.0, 3.0))
                    # keep every entrance >= 0.1 m off an address-interval boundary, whichever
                    # end the aisle is numbered from, so the true number is never a coin toss
                    for s_e in (s_start + a + f / 2, total - s_start - a - f / 2):
                        if abs(s_e - ADDRESS_INTERVAL * round(s_e / ADDRESS_INTERVAL)) < 0.1:
                            f -= 0.3
                    vacant = rng.random() < vacancy
                    a0, a1 = a, a + f
                    c0 = p + u * a0 + v * sgn * (w / 2 + 0.05)
                    c1 = p + u * a1 + v * sgn * (w / 2 + 0.05 + d)
                    lot = (float(min(c0[0], c1[0])), float(min(c0[1], c1[1])),
                           float(max(c0[0], c1[0])), float(max(c0[1], c1[1])))
                    if plan is None:
                        inside = (lot[0] >= END_STRIP and lot[2] <= L - END_STRIP
                                  and lot[1] >= 0.3 and lot[3] <= W - 0.3)
                    else:
                        inside = bool(inner is not None and inner.contains(shapely.box(*lot)))
                    if (not inside or _rect_hit(lot, lots, STALL_GAP)
                            or _rect_hit(lot, reserved, 0.0)
                            or _rect_hit((lot[0] + 0.01, lot[1] + 0.01, lot[2] - 0.01, lot[3] - 0.01),
                                         corridors, 0.0)):
                        a += 0.5
                        continue
                    lots.append(lot)
                    a = a1 + float(rng.uniform(STALL_GAP + 0.02, 0.7))
                    if vacant:
                        if lay.furniture > 0 and rng.random() < lay.furniture:
                            vacant_furniture(b, fl, z0, lot)
                        continue
                    kind = "office" if not placed_special and len(lots) > 12 else None
                    _stall(b, fl, z0, p, u, v * sgn, a0, a1, w / 2 + 0.05, d, lot, kind, in_store)
                    placed_special = placed_special or kind == "office"
            s_start += seg
    return lots


def _stall(b: _Builder, fl: int, z0: float, p: np.ndarray, u: np.ndarray, v: np.ndarray,
           a0: float, a1: float, n0: float, depth: float, lot: tuple[float, float, float, float],
           kind: str | None, in_store: int | None) -> None:
    """One stall: boxes in a (along, depth-from-front) frame; every box is the store's."""
    rng = b.rng
    entrance = p + u * (a0 + a1) / 2 + v * n0
    store = b.new_object(STORE, fl, (entrance[0], entrance[1]), z0, z0 + 3.0, lot=lot)
    f = a1 - a0

    def part(s0: float, s1: float, q0: float, q1: float, h0: float, h1: float, mat: str,
             rgb: tuple[int, int, int] | None = None, cls: int = STORE, inst: int = store.object_id
             ) -> None:
        c0 = p + u * (a0 + s0) + v * (n0 + q0)
        c1 = p + u * (a0 + s1) + v * (n0 + q1)
        b.box(c0[0], c0[1], z0 + h0, c1[0], c1[1], z0 + h1, cls=cls, inst=inst, floor=fl, mat=mat,
              rgb=rgb)

    def goods() -> tuple[int, int, int]:
        return GOODS_COLOURS[int(rng.integers(len(GOODS_COLOURS)))]

    if kind is None:
        kind = ["produce", "produce", "produce", "produce", "shop", "closed"][int(rng.integers(6))]
    part(0.0, f, 0.0, 0.3, 2.7, 3.0, "shutter")  # shutter housing over the front
    # the stall's frame: side partitions (to the neighbours), back posts and side rails tie
    # the parts into one volume, as in the halls of Seoul's markets
    side_h = float(rng.uniform(1.3, 2.0))
    for s0 in (0.0, f - 0.04):
        part(s0, s0 + 0.04, 0.3, depth, 0.0, side_h, "partition")
        part(s0, s0 + 0.06, depth - 0.06, depth, 0.0, 2.7, "frame")
        part(s0, s0 + 0.06, 0.3, depth, 2.6, 2.7, "frame")
    if kind == "closed":
        part(0.0, f, 0.3, 0.36, 0.0, 2.7, "shutter")
        part(0.1, f - 0.1, depth - 0.5, depth - 0.05, 0.0, float(rng.uniform(1.4, 2.0)), "shelf")
        return
    awning = AWNING_COLOURS[int(rng.integers(len(AWNING_COLOURS)))]
    part(0.0, f, 0.0, 0.9, 2.35, 2.4, "awning", awning)
    if kind == "office":  # a small office with an AED (or first-aid box) on its back partition
        part(0.1, f - 0.1, depth - 0.15, depth - 0.05, 0.0, 2.2, "partition")
        part(0.1, 0.9, 0.8, 1.6, 0.0, 0.75, "table")
        if in_store is not None:
            mid = f / 2 + 0.3
            obj_xy = p + u * (a0 + mid) + v * (n0 + depth - 0.23)
            fac = b.new_object(in_store, fl, (obj_xy[0], obj_xy[1]), z0 + 1.2, z0 + 1.6,
                               host=store.object_id)
            part(mid - 0.2, mid + 0.2, depth - 0.31, depth - 0.16, 1.2, 1.6,
                 "aed" if in_store == AED else "first_aid", cls=in_store, inst=fac.object_id)
        return
    if kind == "produce":
        td = depth - 0.7  # display platform at counter height, over most of the lot
        part(0.1, f - 0.1, 0.15, 0.15 + td, 0.0, 0.8, "table")
        for _ in range(int(rng.integers(2, 6))):
            sx, sq = float(rng.uniform(0.3, 0.8)), float(rng.uniform(0.3, 0.7))
            s = float(rng.uniform(0.15, max(0.2, f - 0.15 - sx)))
            q = float(rng.uniform(0.2, max(0.25, 0.1 + td - sq)))
            part(s, min(s + sx, f - 0.12), q, min(q + sq, 0.13 + td), 0.8,
                 0.8 + float(rng.uniform(0.08, 0.45)), "goods", goods())
        part(0.1, f - 0.1, depth - 0.5, depth - 0.05, 0.0, float(rng.uniform(1.4, 2.0)), "shelf")
        if rng.random() < 0.5:  # crates on the floor beside the table
            part(0.15, 0.75, 0.25 + td, min(0.85 + td, depth - 0.55), 0.0,
                 float(rng.uniform(0.3, 0.6)), "goods", goods())
    else:  # shop: counter, shelves at the back and on one side
        part(0.1, 0.6 * f, 0.2, 0.8, 0.0, 0.9, "table")
        part(0.1, f - 0.1, depth - 0.5, depth - 0.05, 0.0, 2.2, "shelf")
        part(f - 0.5, f - 0.1, 1.0, depth - 0.6, 0.0, 1.8, "shelf")
        for _ in range(int(rng.integers(1, 4))):
            s = float(rng.uniform(0.15, f - 0.8))
            part(s, s + 0.5, depth - 0.75, depth - 0.5, 0.0, float(rng.uniform(0.4, 1.2)),
                 "goods", goods())


def _facilities(b: _Builder, lay: Layout, fl: int, z0: float, ceil: float,
                lines: list[tuple[np.ndarray, float]],
                columns: list[tuple[tuple[float, float, float, float], int, int]],
                openings: list[tuple[str, float, float, int, float]], fi: int) -> None:
    """Safety facilities on columns, walls and over exits of one floor."""

    def fac(cls: int, x0: float, y0: float, x1: float, y1: float, h0: float, h1: float,
            mat: str) -> None:
        if lay.facility_jitter > 0:  # sizes vary along the wall and in height, not in depth
            fx, fz = b.rng.uniform(1 - lay.facility_jitter, 1 + lay.facility_jitter, 2)
            if x1 - x0 >= y1 - y0:
                x0, x1 = (x0 + x1) / 2 - (x1 - x0) / 2 * fx, (x0 + x1) / 2 + (x1 - x0) / 2 * fx
            else:
                y0, y1 = (y0 + y1) / 2 - (y1 - y0) / 2 * fx, (y0 + y1) / 2 + (y1 - y0) / 2 * fx
            hc, hh = (h0 + h1) / 2, (h1 - h0) / 2 * fz
            h0, h1 = (0.0, h1 * fz) if h0 == 0 else (hc - hh, min(hc + hh, ch - 0.05))
        obj = b.new_object(cls, fl, ((x0 + x1) / 2, (y0 + y1) / 2), z0 + h0, z0 + h1)
        b.box(x0, y0, z0 + h0, x1, y1, z0 + h1, cls=cls, inst=obj.object_id, floor=fl, mat=mat)

    ch = ceil - z0
    for (x0, y0, x1, y1), ai, k in columns:
        yf = y0  # the column's face towards its aisle (the aisle lies south of it)
        xc = (x0 + x1) / 2
        if ai == lay.principal_aisle or (k + fi) % 2 == 0:  # extinguisher at the column's foot
            fac(EXTINGUISHER, xc - 0.09, yf - 0.2, xc + 0.09, yf - 0.02, 0.0, 0.5, "extinguisher")
        m = (k + ai + fi) % 4
        if m == 1:
            fac(FIRE_ALARM, xc - 0.15, yf - 0.1, xc + 0.15, yf - 0.01, 1.15, 1.55, "fire_alarm")
        elif m == 3:
            fac(AED, xc - 0.2, yf - 0.2, xc + 0.2, yf - 0.01, 1.2, 1.65, "aed")
        if (k + ai) % 3 == 0:
            fac(CCTV, xc - 0.1, yf - 0.25, xc + 0.1, yf - 0.03, ch - 0.55, ch - 0.3, "cctv")
        if (k + ai + fi) % 5 == 2:
            fac(OTHER, x1 + 0.01, y0 - 0.05, x1 + 0.15, y1 - 0.1, 1.3, 1.7, "first_aid")
    for wall, c, w, _f, at in [o for o in openings if o[3] == fl]:
        side = 1.0 if int(c * 10) % 2 == 0 else -1.0
        sx = c + side * 0.45  # exit sign a little off the door's centre, over the door
        if wall == "w":
            fac(EXIT_SIGN, at + 0.02, sx - 0.2, at + 0.08, sx + 0.2, DOOR_H + 0.15, DOOR_H + 0.35, "exit_sign")
            y = c + w / 2 + 0.05  # w: the door's width, 1 m narrower than the aisle
            fac(HYDRANT, at, y, at + 0.2, y + 0.75, 0.5, 1.5, "hydrant")
            fac(EXTINGUISHER, at + 0.02, y - 0.4, at + 0.2, y - 0.22, 0.0, 0.5, "extinguisher")
        elif wall == "e":
            fac(EXIT_SIGN, at - 0.08, sx - 0.2, at - 0.02, sx + 0.2, DOOR_H + 0.15, DOOR_H + 0.35,
                "exit_sign")
            y = c - w / 2 - 0.15
            fac(FIRE_ALARM, at - 0.09, y - 0.25, at, y, 1.2, 1.5, "fire_alarm")
            fac(CCTV, at - 0.25, y - 0.2, at - 0.02, y, ch - 0.55, ch - 0.3, "cctv")
        elif wall == "s":
            fac(EXIT_SIGN, sx - 0.2, at + 0.02, sx + 0.2, at + 0.08, DOOR_H + 0.15, DOOR_H + 0.35, "exit_sign")
            x = c + w / 2 + 0.15
            fac(HYDRANT, x, at, x + 0.75, at + 0.2, 0.5, 1.5, "hydrant")
        else:
            fac(EXIT_SIGN, sx - 0.2, at - 0.08, sx + 0.2, at - 0.02, DOOR_H + 0.15, DOOR_H + 0.35,
                "exit_sign")
            x = c - w / 2 - 0.15
            fac(FIRE_ALARM, x - 0.25, at - 0.09, x, at, 1.2, 1.5, "fire_alarm")
