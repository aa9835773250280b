"""Classify objects into stores and safety-facility kinds.

The default is a short, ordered table of rules (:data:`DEFAULT_RULES`) on each object's
geometry, mounting height and colour; the first rule that matches wins, and objects no rule
matches get class 0 (clutter, structure left-overs). Every rule is a pandas ``eval`` expression
over the object columns, so the table can be printed, copied and changed:

>>> for rule in DEFAULT_RULES:  # doctest: +NORMALIZE_WHITESPACE
...     print(f"{rule.kind:<18} {rule.min_points:>2} {rule.expr}")
store               0 length >= 1.5 and (width >= 0.4 or (width >= 0.2 and wall >= 0.3)) and 1.2 <= height <= 3.3 and base <= 0.3 and n_points >= 50 and not below_ceiling < 0.3
fire_extinguisher   5 red and base <= 0.25 and 0.2 <= height <= 0.9 and length <= 0.6 and wall <= 0.5
indoor_hydrant      5 red and base <= 1.5 and 0.45 <= length <= 1.3 and 0.4 <= height <= 1.6 and wall <= 0.4
fire_alarm          5 red and 0.7 <= base <= 1.6 and length <= 0.45 and height <= 0.45 and wall <= 0.3
exit_sign           5 green and base >= 1.9 and length <= 0.9 and height >= 0.05
aed                 5 green and 1.0 <= base < 1.9 and length <= 0.8 and height >= 0.1
cctv                5 coloured and not red and not green and base >= 2.0 and length <= 0.45 and width >= 0.08 and height >= 0.08 and (below_ceiling <= 0.6 or wall <= 0.4)
other_facility      5 white and 0.5 <= base < 1.9 and length <= 0.8 and 0.15 <= height <= 1.0 and width >= 0.08 and wall <= 0.3

The middle column is each rule's ``min_points``. ``base`` is the object's height above its
floor slab (``height_above_slab``), ``wall`` its distance to the nearest wall or column
(``wall_distance``; 0 when the objects lack that column, i.e. every object counts as
mounted); ``coloured`` says whether the objects carry RGB at all; ``red``, ``green`` and
``white`` are colour tests on the mean RGB (see :func:`colour_flags`). Facilities are small, coloured, and mounted on walls or
columns (or stand at their foot); stores are stall volumes on the floor. The physical reasons
behind the numbers:

- a stall is a volume standing on the floor (``base <= 0.3``) at least a counter deep
  (``width >= 0.4``), or a closed one seen only through its shutter and its housing — a sheet
  at least 0.2 m deep standing clear of walls and columns (``wall >= 0.3``; stalls keep their
  distance from them). A sheet against a wall or column (within 0.3 m) is the residue of that
  face, a single plane (under 0.2 m) is one partition of a stall, something hanging in the air
  is no stall, and nothing taller than 3.3 m (a storey: a wall reaching the ceiling) is one;
  nor is a volume lower than 1.2 m (``height``): tables stand at 0.72–0.76 m (KS G 6006 /
  ISO 5970 desk heights), benches at 0.45 m and hand carts at about 1 m, while a stall's back
  partition, shelf, awning or shutter housing rises to 1.8 m and more; nor one whose top comes
  within 0.3 m of its level's ceiling (``below_ceiling``, when the level has one): a stall
  stands free under a hall's roof, and what fills a storey to its ceiling is a partition, a
  wall or a built-in cupboard (a room, an office);
- an extinguisher (≤ 0.6 m, under 0.9 m tall) stands on the floor or hangs low; a hydrant
  cabinet (0.45–1.3 m wide, up to 1.6 m tall) stands on the floor against a wall or hangs on
  it, so its base may be anywhere up to 1.5 m;
- a fire alarm call point (bell, lamp and button box, ≤ 0.45 m) hangs at hand height: its
  switch 0.8–1.5 m above the floor (NFTC 203, 자동화재탐지설비의 화재안전기술기준, 2.8.1), so
  its base lies between 0.7 and 1.6 m;
- every facility needs :data:`MIN_FACILITY_POINTS` (5) points: fewer cannot show a body,
  and a few points of wall residue are no equipment (precision first: what fails every
  rule stays an unclassified object, reported as such);
- a CCTV camera is told by its shape and mounting, not its colour (housings are white, grey
  or black): a compact body at most 0.45 m long (bullet cameras 0.2–0.35 m, domes
  Ø 0.1–0.16 m in makers' data sheets) and at least 0.08 m in every direction (a flat patch
  is wall or ceiling residue), 2 m or more above the floor (out of reach), hanging from the
  ceiling (top within 0.6 m of it) or on a wall or column bracket; red and green are the
  other facilities' colours, and a scan without colour (``coloured`` false) gets no camera:
  a compact box under a ceiling is as likely a lamp, a speaker or a detector;
- a first-aid box (``other_facility``) is a white cabinet of 0.15–1.0 m height on a wall at
  hand height whose depth shows (``width >= 0.08``; cabinets are 0.1–0.2 m deep): a flat
  white patch is a piece of a white (tiled, painted) wall. A cabinet seen only from straight
  in front is missed (precision first);
- exit signs are panels hanging near the ceiling (``height >= 0.05``: a flat green patch up
  there is an awning), cameras near the ceiling, AED cabinets at hand height —
  on a wall, a column or a store's own partition, so above the counters (``base >= 1.0``:
  green goods lie on counters at 0.8–1.0 m) rather than necessarily near a wall.

Pass
``rules=`` for a table of your own, ``method=callable`` for any classifier
(``f(objects) -> codes``), or ``method="file"`` with ``point_class=`` to use the
classification codes stored in the scan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError, SchemaError
from .classes import CLASS_CODES, CLASS_NAMES

__all__ = ["CLASS_CODES", "DEFAULT_RULES", "MIN_FACILITY_POINTS", "Rule", "classify_objects", "colour_classes", "colour_flags"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """Objects for which ``expr`` is true, with at least ``min_points`` points, are of ``kind``.

    ``min_points`` is kept apart from the expression so that pieces of one object can be
    classified before they are joined (``dataclasses.replace(rule, min_points=0)``).
    """

    kind: str
    expr: str
    min_points: int = 0

    @property
    def code(self) -> int:
        """The object_class code of ``kind``."""
        return CLASS_CODES[self.kind]


#: Fewest points of a facility: fewer than 5 cannot show a body with three extents (4 points
#: span at most a tetrahedron); they are a fragment (wall residue, a stray return). A count
#: only: how many points a real facility gets depends on the scanner and the range, so the
#: other evidence (size, thickness, mounting, colour) must do the rest.
MIN_FACILITY_POINTS = 5

_N = MIN_FACILITY_POINTS

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("store", "length >= 1.5 and (width >= 0.4 or (width >= 0.2 and wall >= 0.3)) and 1.2 <= height <= 3.3 "
                  "and base <= 0.3 and n_points >= 50 and not below_ceiling < 0.3"),
    Rule("fire_extinguisher", "red and base <= 0.25 and 0.2 <= height <= 0.9 and length <= 0.6 and wall <= 0.5",
         _N),
    Rule("indoor_hydrant",
         "red and base <= 1.5 and 0.45 <= length <= 1.3 and 0.4 <= height <= 1.6 and wall <= 0.4", _N),
    Rule("fire_alarm", "red and 0.7 <= base <= 1.6 and length <= 0.45 and height <= 0.45 and wall <= 0.3", _N),
    Rule("exit_sign", "green and base >= 1.9 and length <= 0.9 and height >= 0.05", _N),
    Rule("aed", "green and 1.0 <= base < 1.9 and length <= 0.8 and height >= 0.1", _N),
    Rule("cctv", "coloured and not red and not green and base >= 2.0 and length <= 0.45 and width >= 0.08 "
                 "and height >= 0.08 and (below_ceiling <= 0.6 or wall <= 0.4)", _N),
    Rule("other_facility", "white and 0.5 <= base < 1.9 and length <= 0.8 and 0.15 <= height <= 1.0 "
                           "and width >= 0.08 and wall <= 0.3", _N),
)


def colour_flags(objects: pd.DataFrame) -> pd.DataFrame:
    """Boolean colour tests on mean RGB (0–255): ``red``, ``green``, ``white``.

    Examples
    --------
    >>> df = pd.DataFrame({"red": [200, 24, 226, 128], "green": [22, 172, 226, 126],
    ...                    "blue": [28, 74, 222, 120]})
    >>> colour_flags(df).to_dict("list")
    {'red': [True, False, False, False], 'green': [False, True, False, False], 'white': [False, False, True, False]}
    """
    if not {"red", "green", "blue"} <= set(objects.columns):
        false = pd.Series(False, index=objects.index)
        return pd.DataFrame({"red": false, "green": false, "white": false})
    r = objects["red"].to_numpy(dtype=float)
    g = objects["green"].to_numpy(dtype=float)
    b = objects["blue"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "red": _red(r, g, b),
            "green": _green(r, g, b),
            "white": _white(r, g, b),
        },
        index=objects.index,
    )


def colour_classes(rgb: Any) -> NDArray[np.uint8]:
    """Per-point colour class: 0 other, 1 red, 2 green, 3 white (the colours of safety equipment).

    Segmenting each colour class on its own keeps a red extinguisher, a green exit sign or a
    white camera apart from the grey column or wall it touches.

    Examples
    --------
    >>> colour_classes(np.array([[200, 22, 28], [24, 172, 74], [128, 126, 120], [220, 222, 218]])).tolist()
    [1, 2, 0, 3]
    """
    c = np.asarray(rgb, dtype=np.float64)
    if c.max(initial=0) > 255:
        c = c / 257.0
    r, g, b = c[:, 0], c[:, 1], c[:, 2]
    return np.select([_red(r, g, b), _green(r, g, b), _white(r, g, b)], [1, 2, 3], 0).astype(np.uint8)


def _white(r: NDArray[np.float64], g: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Bright and unsaturated (camera housings, call points' casings)."""
    hi = np.maximum(np.maximum(r, g), b)
    lo = np.minimum(np.minimum(r, g), b)
    return np.asarray((lo >= 185) & (hi - lo <= 40))


def _red(r: NDArray[np.float64], g: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Safety red (KS/ISO 7010 red, as on extinguishers, hydrant cabinets, call points)."""
    return np.asarray((r >= 120) & (r >= 2.5 * g) & (r >= 2.5 * b))


def _green(r: NDArray[np.float64], g: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Safety green (exit signs, AED cabinets)."""
    return np.asarray((g >= 100) & (g >= 1.6 * r) & (g >= 1.3 * b))


def classify_objects(
    objects: gpd.GeoDataFrame,
    *,
    method: str | Callable[[gpd.GeoDataFrame], ArrayLike] = "rules",
    rules: Sequence[Rule] = DEFAULT_RULES,
    labels: ArrayLike | None = None,
    point_class: ArrayLike | None = None,
) -> pd.Series:
    """Object class code of every object (a Series aligned to ``objects``).

    Parameters
    ----------
    objects : GeoDataFrame
        From :func:`~geo3d.pointcloud.objects.objects_from_segments` (with ``levels=``).
    method : {"rules", "file"} or callable
        ``"rules"``: the first matching rule of ``rules``. ``"file"``: each object's most common
        ``point_class`` among its points (needs ``labels`` and ``point_class``). A callable gets
        ``objects`` and returns one code per row.
    rules : sequence of Rule
        Ordered rules for ``method="rules"``.
    labels, point_class : array of int, optional
        Segment label and class code per point, for ``method="file"``.

    Returns
    -------
    pandas.Series of uint8 named ``object_class`` (codes of docs/contracts.md: 1 store,
    2 fire_extinguisher, …, 0 unclassified).

    Examples
    --------
    >>> objs = pd.DataFrame({"n_points": [5000, 300], "length": [3.0, 0.2], "width": [2.0, 0.2],
    ...     "height": [2.5, 0.5], "height_above_slab": [0.0, 0.05],
    ...     "red": [120, 200], "green": [110, 20], "blue": [100, 25]})
    >>> classify_objects(objs).tolist()
    [1, 2]
    """
    if callable(method):
        codes = np.asarray(method(objects))
        if codes.shape != (len(objects),):
            raise InputError(f"the classifier returned {codes.shape} codes for {len(objects)} objects")
        out = pd.Series(codes.astype(np.uint8), index=objects.index, name="object_class")
    elif method == "rules":
        out = _apply_rules(objects, rules)
    elif method == "file":
        out = _from_file(objects, labels, point_class)
    else:
        raise InputError(f"unknown method {method!r}; valid: 'rules', 'file', or a callable")
    counts = out.map(CLASS_NAMES).value_counts()
    log.info("classify_objects: %d objects -> %s", len(out),
             ", ".join(f"{n} {k}" for k, n in counts.items()))
    return out


def _apply_rules(objects: pd.DataFrame, rules: Sequence[Rule]) -> pd.Series:
    need = {"n_points", "length", "height", "height_above_slab"}
    missing = need - set(objects.columns)
    if missing:
        msg = "objects lack columns needed by the classification rules"
        raise SchemaError(msg, [f"missing {c!r}: build objects with objects_from_segments(..., levels=levels)"
                                for c in sorted(missing)])
    frame = pd.DataFrame(
        {
            "n_points": objects["n_points"].to_numpy(),
            "length": objects["length"].to_numpy(dtype=float),
            "width": objects["width"].to_numpy(dtype=float) if "width" in objects else 0.0,
            "height": objects["height"].to_numpy(dtype=float),
            "base": objects["height_above_slab"].to_numpy(dtype=float),
            "below_ceiling": (objects["below_ceiling"].to_numpy(dtype=float)
                              if "below_ceiling" in objects else np.nan),
            "wall": (objects["wall_distance"].to_numpy(dtype=float)
                     if "wall_distance" in objects else 0.0),
        },
        index=objects.index,
    ).join(colour_flags(objects))
    frame["coloured"] = {"red", "green", "blue"} <= set(objects.columns)
    codes = np.zeros(len(frame), dtype=np.uint8)
    done = np.zeros(len(frame), dtype=bool)
    for rule in rules:
        if rule.kind not in CLASS_CODES:
            raise InputError(f"rule kind {rule.kind!r} is not one of {sorted(CLASS_CODES)}")
        try:
            hit = np.array(frame.eval(rule.expr), dtype=bool)
        except Exception as exc:
            raise InputError(f"cannot evaluate rule {rule.kind!r}: {rule.expr!r} ({exc})") from exc
        hit &= frame["n_points"].to_numpy() >= rule.min_points
        new = hit & ~done
        codes[new] = rule.code
        done |= hit
    return pd.Series(codes, index=objects.index, name="object_class")


def _from_file(objects: pd.DataFrame, labels: ArrayLike | None, point_class: ArrayLike | None) -> pd.Series:
    if labels is None or point_class is None:
        raise InputError("method='file' needs labels= (segment per point) and point_class= (class per point)")
    lab = np.asarray(labels, dtype=np.int64)
    cls = np.asarray(point_class, dtype=np.int64)
    sel = lab >= 0
    df = pd.DataFrame({"o": lab[sel], "c": cls[sel]})
    mode = df.groupby("o")["c"].agg(lambda s: s.value_counts().index[0])
    codes: Any = mode.reindex(objects.index).fillna(0).astype(np.uint8)
    return pd.Series(codes.to_numpy(), index=objects.index, name="object_class")
