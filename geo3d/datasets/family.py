"""A seeded family of synthetic market scans, for testing on scans the pipeline was not tuned on.

:func:`market_scene` draws the conditions of one hall from its seed (:func:`sample_conditions`)
— any of them can be fixed by keyword — lays the hall out and scans it with the simulated
terrestrial scanner of :mod:`geo3d.datasets.market`. The ground truth comes with it, in the same
shapes as the committed sample's (``objects``, ``aisles``, ``levels``, ``addresses``,
per-point ``gt``), and :func:`geo3d.datasets.market.write_market` writes it to files.

What varies (see :data:`CONDITIONS`):

- **plan**: rectangle, L, T or cross; any rotation; 2–4 west–east aisles, with or without a
  crossing aisle; the principal entrance at either end of any aisle, so on any wall;
- **levels**: 1–4, with basements below the street (``floors`` such as ``(-2, -1, 1)``), a
  partial top floor (a mezzanine over a double-height hall), a top floor without a scanned
  ceiling, stair voids through the slabs with a flight under them, and the street seen through
  the entrance floor's doors;
- **scanner**: density (angular step, station spacing and delivered voxel: roughly 80 to
  2,000 points/m² near a station, falling with range), range noise 3–25 mm, dropout, occlusion
  gaps across stall fronts, duplicated points and stray returns;
- **contents**: open stalls and closed shops, vacant lots with tables, benches or hand carts
  (not stores), coloured floors (green, red, blue epoxy …) and facilities whose sizes vary by up
  to a quarter around their usual size.

The family is generated on demand (a small hall takes a few seconds); nothing big is committed.

Examples
--------
>>> from geo3d.datasets.family import market_scene, sample_conditions
>>> sample_conditions(7)["plan"] in {"rect", "L", "T", "cross"}
True
>>> scene = market_scene(7, density="sparse", floors=(1,), plan="rect")  # doctest: +SKIP
>>> scene.levels["label"].tolist()  # doctest: +SKIP
['1층']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ._scene import Layout
from .market import MarketScene, make_market

__all__ = ["CONDITIONS", "DENSITIES", "FamilyScene", "market_scene", "sample_conditions"]

#: Scanner settings per density class: (angular step in degrees, station spacing in m, delivered
#: voxel in m). The measured density of each scene is in ``FamilyScene.density``.
DENSITIES: dict[str, tuple[float, float, float]] = {
    "sparse": (2.6, 16.0, 0.07),
    "medium": (1.8, 12.0, 0.05),
    "dense": (1.1, 10.0, 0.03),
}

#: The conditions a scene is drawn with, and what each means.
CONDITIONS: dict[str, str] = {
    "plan": "outline: rect, L, T or cross",
    "rotation_deg": "bearing of the hall's long axis (any angle)",
    "length": "interior length of the hall (m)",
    "aisles": "number of west-east aisles (2-4)",
    "cross_aisle": "a crossing south-north aisle at mid-length",
    "floors": "floor numbers, e.g. (-1, 1, 2); basements are below the street (1층)",
    "partial_top": "the top floor covers only part of the hall (mezzanine)",
    "open_top": "the top floor has no scanned ceiling",
    "stair_void": "a stair opening through every upper slab, a flight under it",
    "principal": "(aisle index, end): where the principal entrance is",
    "density": "sparse, medium or dense (see DENSITIES)",
    "noise_m": "range noise, 1 sigma (m)",
    "dropout": "share of returns dropped at random",
    "gap_share": "share of stalls with an occlusion gap across the front",
    "duplicate_rate": "share of points duplicated",
    "stray_rate": "share of stray points spread over each level",
    "floor_colour": "grey, green, red, blue or tan floor paint",
    "vacancy": "share of empty lots",
    "furniture": "share of empty lots with tables and benches or a hand cart",
}

_FLOOR_RGB = {"grey": None, "green": (58, 122, 84), "red": (150, 62, 52), "blue": (64, 96, 150),
              "tan": (176, 150, 112)}
_FLOOR_SETS = [(1,), (1, 2), (-1, 1), (-1, 1, 2), (1, 2, 3), (-2, -1, 1), (-1, 1, 2, 3)]


@dataclass
class FamilyScene(MarketScene):
    """A :class:`~geo3d.datasets.market.MarketScene` with the conditions it was drawn with.

    Attributes
    ----------
    conditions : dict
        The values of :data:`CONDITIONS` used.
    density : float
        Median number of points per m² over the scene's surfaces (points within 0.1 m of a
        sample of points, divided by the disc area), as measured on the scan.
    """

    conditions: dict[str, Any] = dataclasses.field(default_factory=dict)
    density: float = float("nan")


def sample_conditions(seed: int) -> dict[str, Any]:
    """The conditions of scene ``seed`` (deterministic; see :data:`CONDITIONS`).

    Examples
    --------
    >>> c = sample_conditions(3)
    >>> sorted(c) == sorted(CONDITIONS)
    True
    >>> sample_conditions(3) == c
    True
    """
    rng = np.random.default_rng([seed, 11])
    plan = str(rng.choice(["rect", "L", "T", "cross"]))
    n_aisles = int(rng.integers(3 if plan == "cross" else 2, 5))
    floors = _FLOOR_SETS[int(rng.integers(len(_FLOOR_SETS)))]
    upper = max(floors) >= 2
    cross = bool(rng.random() < 0.6)
    return {
        "plan": plan,
        "rotation_deg": round(float(rng.uniform(-180.0, 180.0)), 1),
        "length": round(float(rng.uniform(40.0, 64.0)), 1),
        "aisles": n_aisles,
        "cross_aisle": cross,
        "floors": floors,
        "partial_top": bool(upper and rng.random() < 0.4),
        "open_top": bool(rng.random() < 0.4),
        "stair_void": bool(len(floors) > 1 and rng.random() < 0.6),
        "principal": (int(rng.integers(n_aisles + int(cross))), int(rng.integers(2))),
        "density": str(rng.choice(list(DENSITIES), p=[0.4, 0.4, 0.2])),
        "noise_m": round(float(rng.uniform(0.003, 0.025)), 4),
        "dropout": round(float(rng.uniform(0.0, 0.15)), 3),
        "gap_share": round(float(rng.uniform(0.0, 0.4)), 2),
        "duplicate_rate": round(float(rng.choice([0.0, 0.005, 0.01])), 3),
        "stray_rate": round(float(rng.choice([0.0, 3e-4, 1e-3])), 4),
        "floor_colour": str(rng.choice(list(_FLOOR_RGB))),
        "vacancy": round(float(rng.uniform(0.05, 0.25)), 2),
        "furniture": round(float(rng.uniform(0.0, 0.7)), 2),
    }


def _layout(c: dict[str, Any], rng: np.random.Generator) -> Layout:
    """The :class:`Layout` of a set of conditions (aisle widths and blocks drawn from ``rng``)."""
    if c["plan"] not in ("rect", "L", "T", "cross"):
        raise InputError(f"plan must be rect, L, T or cross, got {c['plan']!r}")
    if c["density"] not in DENSITIES:
        raise InputError(f"density must be one of {', '.join(DENSITIES)}, got {c['density']!r}")
    floors = tuple(sorted(int(f) for f in c["floors"]))
    if 1 not in floors or 0 in floors or len(floors) > 4:
        raise InputError(f"floors must hold 1 (the street level), no 0, at most 4 floors; got {floors}")
    n = int(c["aisles"])
    if not 2 <= n <= 4 or (c["plan"] == "cross" and n < 3):
        raise InputError(f"aisles must be 2-4 (3-4 for a cross plan), got {n}")
    widths = tuple(round(float(w), 1) for w in rng.uniform(2.6, 3.8, n))
    block = float(rng.uniform(2.7, 3.2))  # stall depth 2-3 m plus clearance
    width = round(sum(widths) + 2 * n * block, 1)
    step, spacing, voxel = DENSITIES[c["density"]]
    top = floors[-1]
    c0, c1 = (round(float(x), 2) for x in rng.uniform(0.22, 0.32, 2))
    return Layout(
        length=float(c["length"]), width=width, rotation_deg=float(c["rotation_deg"]),
        floors=floors, aisle_widths=widths, cross_aisle_width=3.0 if c["cross_aisle"] else 0.0,
        principal_aisle=int(c["principal"][0]), principal_end=int(c["principal"][1]),
        skylight_floors=(), open_floors=(top,) if c["open_top"] else (),
        vacancy=(float(c["vacancy"]),) * len(floors), column_spacing=float(rng.uniform(8.0, 11.0)),
        angular_step_deg=step, station_spacing=spacing, thin_voxel_m=voxel,
        range_noise_m=float(c["noise_m"]), drop_rate=float(c["dropout"]), outlier_rate=1e-4,
        plan=c["plan"], plan_cut=(c0, c1),
        partial_floors=(top,) if c["partial_top"] and top >= 2 else (),
        partial_fraction=float(rng.uniform(0.5, 0.65)), stair_void=bool(c["stair_void"]), street=True,
        floor_rgb=_FLOOR_RGB[c["floor_colour"]], furniture=float(c["furniture"]), facility_jitter=0.25,
        gap_share=float(c["gap_share"]), duplicate_rate=float(c["duplicate_rate"]),
        stray_rate=float(c["stray_rate"]),
    )


def _measured_density(points: dict[str, np.ndarray], *, radius: float = 0.1, n: int = 4000) -> float:
    """Median points per m² around a sample of points (a 0.1 m disc on the local surface)."""
    from scipy.spatial import cKDTree

    xyz = np.column_stack([points["x"], points["y"], points["z"]])
    probe = xyz[:: max(1, len(xyz) // n)]
    counts = cKDTree(xyz).query_ball_point(probe, radius, return_length=True, workers=1)
    return float(np.median(counts) / (np.pi * radius**2))


def market_scene(seed: int, **conditions: Any) -> FamilyScene:
    """Generate scene ``seed`` of the family, with its ground truth.

    Parameters
    ----------
    seed : int
        Draws the conditions (:func:`sample_conditions`) and the scene; same seed and
        conditions, same output.
    **conditions
        Any key of :data:`CONDITIONS`, fixing it instead of drawing it.

    Returns
    -------
    FamilyScene

    Raises
    ------
    InputError
        For an unknown condition or a value out of range.
    """
    bad = sorted(set(conditions) - set(CONDITIONS))
    if bad:
        raise InputError(f"unknown condition(s) {', '.join(bad)}; valid: {', '.join(CONDITIONS)}")
    c = {**sample_conditions(seed), **conditions}
    if c["partial_top"] and max(c["floors"]) < 2:
        c["partial_top"] = False
    rng = np.random.default_rng([seed, 12])
    lay = _layout(c, rng)
    scene = make_market("sample", seed=int(rng.integers(2**31)), **{
        f.name: getattr(lay, f.name) for f in dataclasses.fields(Layout)})
    fields = {f.name: getattr(scene, f.name) for f in dataclasses.fields(MarketScene)}
    return FamilyScene(**fields, conditions=c, density=_measured_density(scene.points))
