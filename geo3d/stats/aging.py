"""Aging and density statistics of pipes per neighbourhood, utility and install period.

Pipes are split *exactly* at area boundaries: a pipe inside one area keeps its whole length
(a prepared ``covers`` test, no clipping), and only pipes that cross a boundary are clipped
with :func:`shapely.intersection`. Lengths are then summed per area × utility × period.

Definitions (stated once, used everywhere in this module)
---------------------------------------------------------
* **Reference year** — ``reference_date`` as a year (an ``int``, a ``datetime.date``, an ISO
  date string, or today when ``None``).
* **Age** — ``reference year − install_year`` in whole years; unknown when ``install_year``
  is ``<NA>``.
* **Aged** — age ≥ the utility's threshold (defaults, docs/guide-statistics.md: water 30 y, sewer 30 y
  and 50 y, gas 20 y, heat 20 y, power and telecom 30 y). A utility with no threshold (e.g.
  ``oil``, or a missing utility) is never counted as aged: its ``threshold_years`` and
  ``share_over_threshold`` are unknown, with a warning. The first threshold of a utility is
  its *primary* threshold (``threshold_years``, ``share_over_threshold``).
* **Period** — the install period: ``"1980-1989"`` for 10-year bins (bins aligned on
  multiples of the bin width), or ``"<1960"``, ``"1960-1979"`` … ``">=2020"`` for explicit
  edges; ``"unknown"`` for pipes without an install year (never dropped).
* **Share** — aged length / length of the row. Pipes of unknown age are never counted as aged;
  the ``"unknown"`` period's shares are NaN, and in :func:`aggregate_statistics` shares are
  over the length of *known* age.
* **Density** — km of pipe per km² of the area (the row's length, so densities of the periods
  of an area add up to the area's density).
* **Outside** — pipe length outside every area is not dropped silently: it is reported in
  ``df.attrs["outside_length_m"]`` and ``df.attrs["outside_segments"]`` with a warning, and
  :func:`aged_segments` lists aged pieces outside all areas with ``area_id`` ``<NA>``.

Examples
--------
>>> import geopandas as gpd, pandas as pd, shapely
>>> areas = gpd.GeoDataFrame({"code": ["A", "B"]},
...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
...     crs="EPSG:5186")
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["water", "water", "sewer"],
...      "install_year": pd.array([1980, None, 2010], dtype="Int64")},
...     geometry=[shapely.LineString([(500, 500), (1500, 500)]),
...               shapely.LineString([(100, 100), (100, 300)]),
...               shapely.LineString([(1200, 100), (1200, 600)])], crs="EPSG:5186")
>>> df = aging_statistics(pipes, areas, area_id="code", reference_date=2025)
>>> df[["area_id", "utility", "period", "length_m", "share_over_threshold"]]
  area_id utility     period  length_m  share_over_threshold
0       A   water  1980-1989     500.0                   1.0
1       A   water    unknown     200.0                   NaN
2       B   sewer  2010-2019     500.0                   0.0
3       B   water  1980-1989     500.0                   1.0
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._checks import require_metric_crs, require_same_crs
from .._compat import import_optional
from .._warnings import warn_at_caller
from ..errors import InputError, SchemaError
from ..io.atomic import atomic_path
from ..io.vector import read_areas  # moved there; kept here as geo3d.stats.read_areas

__all__ = [
    "DEFAULT_THRESHOLDS",
    "OLDEST_INSTALL_YEAR",
    "STATISTICS_COLUMNS",
    "aged_segments",
    "aggregate_statistics",
    "aging_report",
    "aging_statistics",
    "areas_with_statistics",
    "install_years",
    "pipe_age",
    "read_areas",
    "reference_year_range",
    "statistics_to_file",
]

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLDS: dict[str, tuple[int, ...]] = {
    "water": (30,),
    "sewer": (30, 50),
    "gas": (20,),
    "heat": (20,),
    "power": (30,),
    "telecom": (30,),
}
"""Aging thresholds in years per utility; the first is the primary one (docs/guide-statistics.md)."""

STATISTICS_COLUMNS: tuple[str, ...] = (
    "area_id",
    "utility",
    "period",
    "length_m",
    "share_over_threshold",
    "density_km_per_km2",
)
"""The leading columns of :func:`aging_statistics` (docs/contracts.md), in this order."""

UNKNOWN_PERIOD = "unknown"
"""Period label of pipes whose install year is unknown."""

_REL_TOL = 1e-9  # relative length below which a remainder outside the areas is rounding noise


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
def _reference_year(reference_date: int | str | dt.date | None) -> int:
    """The reference year of ``reference_date`` (today's year when ``None``)."""
    if reference_date is None:
        return dt.date.today().year
    if isinstance(reference_date, bool):
        msg = f"reference_date must be a year, a date or None, not {reference_date!r}"
        raise InputError(msg)
    if isinstance(reference_date, int | np.integer):
        year = int(reference_date)
    elif isinstance(reference_date, dt.date):  # also datetime and pandas.Timestamp
        year = reference_date.year
    elif isinstance(reference_date, str):
        try:
            year = int(reference_date) if reference_date.strip().isdigit() else \
                dt.date.fromisoformat(reference_date.strip()[:10]).year
        except ValueError:
            msg = f"reference_date {reference_date!r} is not a year or an ISO date (YYYY-MM-DD)"
            raise InputError(msg) from None
    else:
        msg = f"reference_date must be a year, a date or None, not {reference_date!r}"
        raise InputError(msg)
    lo, hi = reference_year_range()
    if not lo <= year <= hi:
        msg = (f"reference year {year} is outside the plausible range {lo}-{hi}; pass a year "
               f"such as {dt.date.today().year}")
        raise InputError(msg, cli=(f"--year {year} is outside the plausible range {lo}-{hi}; "
                                   f"give a year such as {dt.date.today().year}"))
    return year


def reference_year_range() -> tuple[int, int]:
    """The reference years accepted: from 1900 (before it no network had records of
    installation) to 100 years from now (a planning horizon).

    Examples
    --------
    >>> lo, hi = reference_year_range()
    >>> lo, hi - dt.date.today().year
    (1900, 100)
    """
    return 1900, dt.date.today().year + 100


def _thresholds(thresholds: int | Mapping[str, int | Sequence[int]] | None
                ) -> dict[str, tuple[int, ...]]:
    """Merge user thresholds over :data:`DEFAULT_THRESHOLDS` (an int applies to every utility)."""
    out = dict(DEFAULT_THRESHOLDS)
    if thresholds is None:
        return out
    if isinstance(thresholds, int | np.integer) and not isinstance(thresholds, bool):
        return {u: (int(thresholds),) for u in [*out, "*"]}   # "*": any other utility
    if not isinstance(thresholds, Mapping):
        msg = ("thresholds must be None, an int (years, for every utility) or a mapping "
               f"{{utility: years or [years, ...]}}, not {thresholds!r}")
        raise InputError(msg)
    for utility, value in thresholds.items():
        values = (value,) if isinstance(value, int | np.integer) else tuple(value)
        if not values or any(isinstance(v, bool) or not isinstance(v, int | np.integer) or v <= 0
                             for v in values):
            msg = f"thresholds[{utility!r}] must be positive whole years, not {value!r}"
            raise InputError(msg)
        out[str(utility)] = tuple(int(v) for v in values)
    return out


def _all_thresholds(thresholds: Mapping[str, tuple[int, ...]]) -> list[int]:
    return sorted({t for ts in thresholds.values() for t in ts})


def _period_labels(years: pd.Series, bins: int | Sequence[int]) -> np.ndarray:
    """Install-period label per row (``"unknown"`` for missing years)."""
    values = years.to_numpy(dtype="float64", na_value=np.nan)
    known = ~np.isnan(values)
    labels = np.full(len(values), UNKNOWN_PERIOD, dtype=object)
    if not known.any():
        return labels
    y = values[known].astype(np.int64)
    if isinstance(bins, int | np.integer) and not isinstance(bins, bool):
        width = int(bins)
        if width <= 0:
            msg = f"bins must be a positive number of years or a list of edges, not {bins!r}"
            raise InputError(msg)
        start = (y // width) * width
        uniq, inv = np.unique(start, return_inverse=True)
        names = np.array([f"{s}-{s + width - 1}" if width > 1 else f"{s}" for s in uniq],
                         dtype=object)
        labels[known] = names[inv]
        return labels
    edge_list = [int(b) for b in bins] if not isinstance(bins, bool) else []
    edges = np.asarray(edge_list, dtype=np.int64)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        msg = f"bin edges must be at least two increasing years, not {edge_list!r}"
        raise InputError(msg)
    slot = np.searchsorted(edges, y, side="right")  # 0: before the first edge
    texts = [f"<{edges[0]}"]
    texts += [f"{lo}-{hi - 1}" for lo, hi in itertools.pairwise(edge_list)]
    texts += [f">={edges[-1]}"]
    labels[known] = np.asarray(texts, dtype=object)[slot]
    return labels


def _period_sort_key(period: pd.Series) -> pd.Series:
    """Sort periods chronologically, ``"unknown"`` (and ``"all"``) last."""
    text = period.astype("string")
    first = text.str.extract(r"(-?\d+)", expand=False).astype("Float64")
    first = first.where(~text.str.startswith("<"), first - 0.5)
    first = first.where(~text.str.startswith(">="), first + 0.5)
    return first.fillna(np.inf).astype("float64")


#: Install years before this are unknown (0 is a common "unknown" in agency files).
OLDEST_INSTALL_YEAR = 1850


def install_years(pipes: pd.DataFrame) -> pd.Series:
    """``install_year`` as nullable integers, years before :data:`OLDEST_INSTALL_YEAR` (such
    as 0, a common code for "unknown") taken as unknown: they never get an age or a period.

    Examples
    --------
    >>> import pandas as pd
    >>> install_years(pd.DataFrame({"install_year": [0, 1990, None]})).tolist()
    [<NA>, 1990, <NA>]
    """
    years = pd.to_numeric(pipes["install_year"], errors="coerce").round().astype("Int64")
    return years.mask((years < OLDEST_INSTALL_YEAR).fillna(False).to_numpy(dtype=bool))


def pipe_age(pipes: pd.DataFrame, *, reference_date: int | str | dt.date | None = None
             ) -> pd.Series:
    """Age of each pipe in whole years (``reference year − install_year``).

    Parameters
    ----------
    pipes : pandas.DataFrame
        With an ``install_year`` column (nullable integer; ``<NA>`` = unknown).
    reference_date : int, str, datetime.date, optional
        Year or date of reference; default today.

    Returns
    -------
    pandas.Series
        Nullable ``Int64`` aligned to ``pipes.index``; ``<NA>`` where the year is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"install_year": pd.array([1990, None], dtype="Int64")})
    >>> pipe_age(p, reference_date=2025).tolist()
    [35, <NA>]
    """
    if "install_year" not in pipes.columns:
        msg = f"pipes have no 'install_year' column; available: {', '.join(map(str, pipes.columns))}"
        raise SchemaError(msg)
    year = _reference_year(reference_date)
    years = install_years(pipes)
    return (year - years).rename("age_years")


def _warn(msg: str) -> None:
    """Report a data problem once: a :class:`UserWarning` at the user's call (the log gets it
    at INFO level)."""
    logger.info("aging_statistics: %s", msg)
    warn_at_caller(msg, UserWarning)


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
@dataclass
class PreparedAreas:
    """Validated areas: ids, geometries (prepared), areas in km² (:func:`prepare_statistics`)."""

    ids: pd.Index
    geoms: np.ndarray
    area_km2: np.ndarray
    crs: Any
    total_km2: float = 0.0
    notes: list[str] = field(default_factory=list)
    overlapping: bool = False
    grid: _Grid | None = None  # built on first use (for many lines)

    def prepared(self) -> np.ndarray:
        shapely.prepare(self.geoms)
        return self.geoms

    def __setstate__(self, state: dict[str, Any]) -> None:
        # unpickled on a Dask worker: prepare once, before threads share the geometries
        self.__dict__.update(state)
        shapely.prepare(self.geoms)


_Areas = PreparedAreas  # the former private name


@dataclass
class _Grid:
    """A regular grid over the areas: per cell, the one area holding it in its interior.

    ``label[i, j]`` is the position of the area whose interior contains cell (i, j) while no
    other area touches the cell, -2 for a cell outside every area, else -1. A line whose
    bounding box lies in cells that all carry the same area label lies in that area's interior
    and in no other area, so its whole length is that area's: an exact shortcut decided with
    numpy alone (summed-area tables; no geometry predicate per line).
    """

    x0: float
    y0: float
    size: float
    label: np.ndarray
    _sums: tuple[np.ndarray, np.ndarray] | None = None

    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        if self._sums is None:
            shifted = self.label.astype(np.int64) + 3  # 2 undecided, 1 outside, >= 3 an area
            s1 = np.zeros((shifted.shape[0] + 1, shifted.shape[1] + 1), dtype=np.int64)
            s2 = np.zeros_like(s1)
            s1[1:, 1:] = shifted.cumsum(0).cumsum(1)
            s2[1:, 1:] = (shifted * shifted).cumsum(0).cumsum(1)
            self._sums = (s1.ravel(), s2.ravel())
        return self._sums

    def whole(self, bounds: np.ndarray) -> np.ndarray:
        """Per line (bbox rows minx, miny, maxx, maxy): the area holding every cell its bbox
        meets, -2 when those cells are all outside every area, -1 when undecided."""
        nx, ny = self.label.shape
        with np.errstate(invalid="ignore"):
            f = np.floor((bounds - np.array([self.x0, self.y0, self.x0, self.y0]))
                         / self.size)
        ok = (np.isfinite(f).all(axis=1) & (f[:, 0] >= 0) & (f[:, 1] >= 0) & (f[:, 2] < nx)
              & (f[:, 3] < ny))
        out = np.full(len(bounds), -1, dtype=np.int64)
        k = np.flatnonzero(ok)
        fi = f[k].astype(np.int64)
        a0, b0, a1, b1 = fi[:, 0], fi[:, 1], fi[:, 2] + 1, fi[:, 3] + 1  # table corners
        s1, s2 = self._tables()
        w = ny + 1
        i00, i01, i10, i11 = a0 * w + b0, a0 * w + b1, a1 * w + b0, a1 * w + b1
        n = (a1 - a0) * (b1 - b0)
        lab = self.label.ravel().take(a0 * ny + b0).astype(np.int64) + 3
        sum1 = s1.take(i11) - s1.take(i01) - s1.take(i10) + s1.take(i00)
        sum2 = s2.take(i11) - s2.take(i01) - s2.take(i10) + s2.take(i00)
        # all cells equal lab  <=>  sum == n * lab and sum of squares == n * lab² (variance 0)
        same = (lab != 2) & (sum1 == n * lab) & (sum2 == n * lab * lab)  # 2: undecided
        out[k[same]] = lab[same] - 3
        return out


def _boundary_edges(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start points and vectors of every boundary edge of (multi)polygons."""
    rings, _ = _rings(geoms)
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    first = np.flatnonzero(idx[1:] == idx[:-1])
    return coords[first], coords[first + 1] - coords[first]


def interior_grid(areas: PreparedAreas, n_lines: int) -> _Grid | None:
    """Label a grid of about ``n_lines`` cells (at most 1,000,000); None for small inputs.

    Cells that a boundary edge may touch are left unlabelled (-1, conservative); every other
    cell lies wholly inside the areas that contain its centre: labelled with the area when
    exactly one does, -2 when none does (outside every area).
    """
    n_cells = min(1_000_000, n_lines)
    if n_cells < 5_000:
        return None
    geoms = areas.prepared()
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    size = max(math.sqrt(max((x1 - x0) * (y1 - y0), 1e-9) / n_cells), 1e-6)
    nx = max(math.ceil((x1 - x0) / size), 1)
    ny = max(math.ceil((y1 - y0) / size), 1)
    touched = np.zeros((nx, ny), dtype=bool)
    # sample every boundary edge at spacing <= size / 2: each point of an edge is then within
    # size / 2 of a sample, so marking the cells meeting [sample ± size / 2] (a 2 × 2 block)
    # marks every cell the edge touches (and a few more: conservative, still exact)
    q, v = _boundary_edges(geoms)
    n_samples = np.ceil(np.hypot(v[:, 0], v[:, 1]) / (size / 2)).astype(np.int64) + 1
    edge = np.repeat(np.arange(len(q)), n_samples)
    step = np.arange(int(n_samples.sum())) - np.repeat(np.cumsum(n_samples) - n_samples,
                                                          n_samples)
    frac = step / np.maximum(n_samples[edge] - 1, 1)
    sx = q[edge, 0] + v[edge, 0] * frac
    sy = q[edge, 1] + v[edge, 1] * frac
    half = size / 2
    for dx in (-half, half):
        for dy in (-half, half):
            ii = np.clip(np.floor((sx + dx - x0) / size).astype(np.int64), 0, nx - 1)
            jj = np.clip(np.floor((sy + dy - y0) / size).astype(np.int64), 0, ny - 1)
            touched[ii, jj] = True
    # untouched cells that share a side lie in the same areas: one test per component
    from scipy import ndimage

    comp, n_comp = ndimage.label(~touched)
    flat = comp.ravel()
    cells = np.flatnonzero(flat)
    _, first = np.unique(flat[cells], return_index=True)  # one cell per component 1..n
    rep = cells[first]
    cx = x0 + (rep // ny + 0.5) * size
    cy = y0 + (rep % ny + 0.5) * size
    pi, ai = shapely.STRtree(geoms).query(shapely.points(cx, cy))
    inside = shapely.intersects_xy(geoms[ai], cx[pi], cy[pi])
    pi, ai = pi[inside], ai[inside]
    hits = np.bincount(pi, minlength=n_comp)
    comp_label = np.full(n_comp + 1, -1, dtype=np.int64)  # index 0: touched cells
    comp_label[1:][hits == 0] = -2  # outside every area
    once = hits[pi] == 1
    comp_label[1:][pi[once]] = ai[once]
    label = comp_label[flat]
    return _Grid(x0=float(x0), y0=float(y0), size=float(size), label=label.reshape(nx, ny))


def _check_crs(pipes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> None:
    require_metric_crs(pipes.crs, what="pipes")
    require_metric_crs(areas.crs, what="areas")
    require_same_crs(pipes.crs, areas.crs, what_a="pipes", what_b="areas")


def _validate_pipes(pipes: gpd.GeoDataFrame, by: str | None) -> None:
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"pipes must be a GeoDataFrame (geo3d.read_pipes), not {type(pipes).__name__}"
        raise InputError(msg)
    needed = ["install_year"] + (["utility"] if by == "utility" else [])
    missing = [c for c in needed if c not in pipes.columns]
    if missing:
        msg = (f"pipes lack column(s) {', '.join(map(repr, missing))}; available: "
               f"{', '.join(map(str, pipes.columns))}. Read them with geo3d.read_pipes")
        raise SchemaError(msg)
    if by not in ("utility", None):
        msg = f"by must be 'utility' or None (all utilities pooled), not {by!r}"
        raise InputError(msg)
    type_ids = np.unique(shapely.get_type_id(np.asarray(pipes.geometry.array, dtype=object)))
    bad = sorted(set(type_ids.tolist()) - {-1, 1, 2, 5})  # missing, lines and multilines
    if bad:
        names = {0: "Point", 3: "Polygon", 4: "MultiPoint", 6: "MultiPolygon",
                 7: "GeometryCollection"}
        msg = (f"pipes must be lines, found {', '.join(names.get(b, str(b)) for b in bad)}; "
               "drop or convert those rows first")
        raise SchemaError(msg)


def _validate_areas(areas: gpd.GeoDataFrame, area_id: str) -> _Areas:
    if not isinstance(areas, gpd.GeoDataFrame):
        msg = f"areas must be a GeoDataFrame of polygons, not {type(areas).__name__}"
        raise InputError(msg)
    if len(areas) == 0:
        msg = "areas are empty (no feature); pass at least one polygon"
        raise InputError(msg, cli="the --areas file is empty (no feature); give a file with "
                         "at least one polygon")
    if area_id not in areas.columns:
        available = [str(c) for c in areas.columns if c != areas.geometry.name]
        msg = (f"areas have no field {area_id!r} for area_id; available fields: "
               f"{', '.join(available) or '(none)'}")
        raise SchemaError(msg, cli=msg.replace("for area_id", "for --area-id"))
    problems = []
    ids = areas[area_id]
    if ids.isna().any():
        problems.append(f"{int(ids.isna().sum())} area(s) have no {area_id!r} value; "
                        "fill or drop them")
    dup = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dup):
        problems.append(f"{area_id!r} is not unique ({', '.join(map(str, dup.unique()[:5]))}); "
                        f"dissolve first: areas.dissolve(by={area_id!r}).reset_index()")
    types = set(areas.geom_type.dropna().unique())
    if types - {"Polygon", "MultiPolygon"} or areas.geometry.isna().any():
        problems.append(f"areas must all be polygons, found {sorted(types)} "
                        f"and {int(areas.geometry.isna().sum())} empty geometries")
    if len(problems) == 1:  # one line (the CLI prints it as is)
        raise SchemaError(f"areas cannot be used: {problems[0]}")
    if problems:
        raise SchemaError("areas cannot be used:", problems=problems)
    geoms = np.asarray(areas.geometry.array, dtype=object).copy()
    notes = []
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        # keep the polygonal part of what make_valid returns
        fixed = np.array([shapely.union_all([p for p in shapely.get_parts(g)
                                             if p.geom_type in ("Polygon", "MultiPolygon")])
                          for g in fixed], dtype=object)
        geoms[invalid] = fixed
        bad_ids = ", ".join(map(str, ids[invalid].head(5)))
        notes.append(f"{int(invalid.sum())} invalid area polygon(s) repaired with make_valid "
                     f"({bad_ids}); to keep this out of reports, repair the file once: "
                     "areas.geometry = areas.geometry.make_valid()")
        _warn(notes[-1])
    area_km2 = shapely.area(geoms) / 1e6
    out = _Areas(ids=pd.Index(ids.to_numpy(), name="area_id"), geoms=geoms, area_km2=area_km2,
                 crs=areas.crs, total_km2=float(area_km2.sum()), notes=notes)
    _warn_overlaps(out)
    return out


def _warn_overlaps(areas: _Areas) -> None:
    tree = shapely.STRtree(areas.geoms)
    i, j = tree.query(areas.geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    if len(i):  # only pairs whose interiors meet can overlap (cheaper than intersecting all)
        meet = shapely.relate_pattern(areas.geoms[i], areas.geoms[j], "2********")
        i, j = i[meet], j[meet]
    if not len(i):
        return
    overlap = shapely.area(shapely.intersection(areas.geoms[i], areas.geoms[j]))
    big = overlap > 1e-6 * np.minimum(areas.area_km2[i], areas.area_km2[j]) * 1e6
    if not big.any():
        return
    areas.overlapping = True
    total = float(overlap[big].sum())
    order = np.argsort(-overlap[big])[:5]
    pairs = ", ".join(f"{areas.ids[a]}/{areas.ids[b]} {o:,.0f} m²" for a, b, o in
                      zip(i[big][order], j[big][order], overlap[big][order], strict=True))
    msg = (f"areas overlap: {int(big.sum())} pair(s), {total:,.0f} m² in all "
           f"({100 * total / (areas.total_km2 * 1e6):.3f} % of the area), e.g. {pairs}; "
           "pipes there are counted in each area")
    areas.notes.append(msg)
    _warn(msg)


# --------------------------------------------------------------------------------------------
# the exact split of pipes at area boundaries
# --------------------------------------------------------------------------------------------
@dataclass
class _Split:
    """Pieces of pipes in areas: pipe position, area position, length (and the clipped piece)."""

    pipe_pos: np.ndarray
    area_pos: np.ndarray
    length: np.ndarray
    outside: np.ndarray  # per pipe: length outside every area
    clipped: np.ndarray  # per piece: True when it was clipped (False: whole pipe inside)
    pieces: np.ndarray | None = None  # per piece geometry (only when asked for)


def _split(geoms: np.ndarray, areas: _Areas, *, keep_pieces: bool = False) -> _Split:
    """Split lines exactly at area boundaries (vectorised; clipping only where needed).

    Pipes covered by one area keep their length (a prepared ``covers`` test). Pipes that
    cross a boundary are clipped: with ``keep_pieces`` by :func:`shapely.intersection` (the
    pieces are returned); otherwise by :func:`_crossing_lengths`, which computes the same
    lengths from segment × boundary-edge intersections without building geometries. The
    length of each pipe outside every area always comes from :func:`_crossing_lengths`
    (counted once where areas overlap).
    """
    area_geoms = areas.prepared()
    n = len(geoms)
    lengths = shapely.length(geoms)
    lengths = np.where(np.isnan(lengths), 0.0, lengths)
    if areas.grid is None:
        areas.grid = _make_grid(areas, n)
    # 1. lines in the interior of one area, decided on a grid (numpy only)
    grid_area = (areas.grid.whole(shapely.bounds(geoms)) if areas.grid is not None
                 else np.full(n, -1, dtype=np.int64))
    in_grid = np.flatnonzero(grid_area >= 0)
    others = np.flatnonzero(grid_area == -1)  # -2: outside every area, nothing to do
    # 2. the others: envelope candidates, prepared covers, then clipping where needed
    tree = shapely.STRtree(area_geoms)
    pi, ai = tree.query(geoms[others])
    pi = others[pi]
    cov = shapely.covers(area_geoms[ai], geoms[pi])  # prepared: whole pipe inside, no clipping
    rest = np.flatnonzero(~cov)
    hit = shapely.intersects(area_geoms[ai[rest]], geoms[pi[rest]])
    rest = rest[hit]
    # grid-whole pipes join the covered pairs
    pi = np.concatenate([in_grid, pi])
    ai = np.concatenate([grid_area[in_grid], ai])
    cov = np.concatenate([np.ones(len(in_grid), dtype=bool), cov])
    rest = rest + len(in_grid)
    # pipes crossing some boundary; their length outside every area comes from the segments
    # (not "length - sum of pieces", which is wrong where areas overlap)
    crossing = np.zeros(n, dtype=bool)
    crossing[pi[rest]] = True
    c_pos = np.flatnonzero(crossing)
    local = np.full(n, -1, dtype=np.int64)
    local[c_pos] = np.arange(len(c_pos))
    cand = np.concatenate([np.flatnonzero(cov & crossing[pi]), rest])  # areas they meet
    c_pipe, c_area, c_len, c_out = _crossing_lengths(geoms[c_pos], area_geoms,
                                                     local[pi[cand]], ai[cand])
    outside = lengths.copy()  # pipes meeting no area lie wholly outside
    outside[pi[cov]] = 0.0
    outside[c_pos] = c_out
    if keep_pieces:
        keep = np.zeros(len(pi), dtype=bool)
        keep[cov] = True
        keep[rest] = True
        piece_len = np.zeros(len(pi))
        piece_len[cov] = lengths[pi[cov]]
        clipped_geoms = shapely.intersection(geoms[pi[rest]], area_geoms[ai[rest]])
        piece_len[rest] = shapely.length(clipped_geoms)
        keep &= piece_len > 0
        clipped = np.zeros(len(pi), dtype=bool)
        clipped[rest] = True
        pieces = np.empty(len(pi), dtype=object)
        pieces[cov] = geoms[pi[cov]]
        pieces[rest] = _lines_only(clipped_geoms)
        out_pipe, out_area, out_len = pi[keep], ai[keep], piece_len[keep]
        out_clipped, out_pieces = clipped[keep], pieces[keep]
    else:
        # every pair of a pipe that crosses some boundary is recomputed from its segments
        whole = cov & ~crossing[pi]
        out_pipe = np.concatenate([pi[whole], c_pos[c_pipe]])
        out_area = np.concatenate([ai[whole], c_area])
        out_len = np.concatenate([lengths[pi[whole]], c_len])
        out_clipped = np.r_[np.zeros(int(whole.sum()), dtype=bool), np.ones(len(c_len), bool)]
        out_pieces = None
    outside[outside <= _REL_TOL * np.maximum(lengths, 1.0)] = 0.0
    return _Split(pipe_pos=out_pipe, area_pos=out_area, length=out_len, outside=outside,
                  clipped=out_clipped, pieces=out_pieces)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])


def _crossing_lengths(geoms: np.ndarray, area_geoms: np.ndarray, cand_line: np.ndarray,
                      cand_area: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Length of each line inside each area, from its straight segments (all numpy).

    Each segment is cut where it crosses a boundary edge of a candidate area (parametric
    segment–segment intersection on candidate pairs from an STRtree); each sub-segment belongs
    to the candidate area(s) its midpoint intersects (on a shared boundary, or where areas
    overlap: to each, as with :func:`shapely.intersection` per area), and lies outside every
    area when its midpoint is in none. ``cand_line``/``cand_area`` list every area each line
    intersects. Returns (line position, area position, length) per line × area with a positive
    length, and per line the length outside every area (counted once, however many areas
    overlap elsewhere on the line).
    """
    empty = np.zeros(0, dtype=np.int64)
    if not len(geoms) or not len(cand_line):
        return empty, empty, np.zeros(0), shapely.length(geoms)
    if np.any(shapely.get_type_id(geoms) == 5):  # multi-part lines: one row per part
        parts, part_line = shapely.get_parts(geoms, return_index=True)
    else:  # (get_parts would copy every line)
        parts, part_line = geoms, np.arange(len(geoms))
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    first = np.flatnonzero(cidx[1:] == cidx[:-1])  # segment k: coords[first[k]] -> next
    p = coords[first]
    r = coords[first + 1] - p
    seg_line = part_line[cidx[first]]  # sorted: segments of a line are contiguous
    seg_len = np.hypot(r[:, 0], r[:, 1])
    n_lines = len(geoms)
    seg_count = np.bincount(seg_line, minlength=n_lines)
    seg_first = np.cumsum(seg_count) - seg_count
    # boundary edges of the candidate areas; (line, edge) pairs by envelope, then every
    # segment of the line against the edge, kept when their envelopes meet
    q, v = _boundary_edges(area_geoms[np.unique(cand_area)])
    edge_tree = shapely.STRtree(shapely.linestrings(np.stack([q, q + v], axis=1)))
    li, le = edge_tree.query(geoms)
    per_pair = seg_count[li]
    rep = np.repeat(np.arange(len(li)), per_pair)
    si = seg_first[li][rep] + (np.arange(int(per_pair.sum()))
                               - np.repeat(np.cumsum(per_pair) - per_pair, per_pair))
    ei = le[rep]
    seg_lo, seg_hi = np.minimum(p[si], p[si] + r[si]), np.maximum(p[si], p[si] + r[si])
    e_lo, e_hi = np.minimum(q[ei], q[ei] + v[ei]), np.maximum(q[ei], q[ei] + v[ei])
    meet = ((seg_lo <= e_hi) & (e_lo <= seg_hi)).all(axis=1)
    si, ei = si[meet], ei[meet]
    rr, vv = r[si], v[ei]
    qp = q[ei] - p[si]
    denom = _cross(rr, vv)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _cross(qp, vv) / denom
        u = _cross(qp, rr) / denom
    ok = (denom != 0) & (t > 0) & (t < 1) & (u >= 0) & (u <= 1)
    # a segment running along a boundary edge (parallel, on its line, overlapping it) is a
    # degenerate case where midpoint tests are not robust: such lines are clipped by GEOS
    norm_r = np.hypot(rr[:, 0], rr[:, 1])
    norm_v = np.hypot(vv[:, 0], vv[:, 1])
    parallel = np.abs(denom) <= 1e-12 * norm_r * norm_v
    on_line = np.abs(_cross(qp, rr)) <= 1e-9 * norm_r * (norm_r + np.hypot(qp[:, 0], qp[:, 1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        t0 = (qp * rr).sum(axis=1) / (norm_r * norm_r)
        t1 = ((qp + vv) * rr).sum(axis=1) / (norm_r * norm_r)
    along = parallel & on_line & (np.maximum(t0, t1) > 1e-12) & (np.minimum(t0, t1) < 1 - 1e-12)
    degenerate = np.zeros(len(geoms), dtype=bool)
    degenerate[seg_line[si[along]]] = True
    nseg = len(p)
    seg_ids = np.concatenate([si[ok], np.arange(nseg), np.arange(nseg)])
    ts = np.concatenate([t[ok], np.zeros(nseg), np.ones(nseg)])
    order = np.lexsort((ts, seg_ids))
    seg_ids, ts = seg_ids[order], ts[order]
    a, b, sid = ts[:-1], ts[1:], seg_ids[:-1]
    valid = (seg_ids[1:] == sid) & (b > a)
    a, b, sid = a[valid], b[valid], sid[valid]
    mid = p[sid] + r[sid] * ((a + b) / 2.0)[:, None]
    sub_len = (b - a) * seg_len[sid]
    sub_line = seg_line[sid]
    # each sub-segment against its line's candidate areas (prepared point-in-polygon)
    order = np.argsort(cand_line, kind="stable")
    cand_line, cand_area = cand_line[order], cand_area[order]
    counts = np.bincount(cand_line, minlength=n_lines)
    offsets = np.cumsum(counts) - counts
    per_sub = counts[sub_line]
    rep = np.repeat(np.arange(len(sub_line)), per_sub)
    local = np.arange(int(per_sub.sum())) - np.repeat(np.cumsum(per_sub) - per_sub, per_sub)
    area = cand_area[offsets[sub_line[rep]] + local]
    inside = shapely.intersects_xy(area_geoms[area], mid[rep, 0], mid[rep, 1])
    rep, area = rep[inside], area[inside]
    in_none = np.bincount(rep, minlength=len(sub_line)) == 0
    outside = np.bincount(sub_line[in_none], weights=sub_len[in_none], minlength=n_lines)
    key = sub_line[rep].astype(np.int64) * len(area_geoms) + area
    uniq, inv = np.unique(key, return_inverse=True)
    total = np.bincount(inv, weights=sub_len[rep], minlength=len(uniq))
    line_of, area_of = uniq // len(area_geoms), uniq % len(area_geoms)
    keep = (total > 0) & ~degenerate[line_of]
    line_of, area_of, total = line_of[keep], area_of[keep], total[keep]
    if degenerate.any():  # exact GEOS clipping for lines lying along a boundary
        sel = degenerate[cand_line]
        d_line, d_area = cand_line[sel], cand_area[sel]
        d_len = shapely.length(shapely.intersection(geoms[d_line], area_geoms[d_area]))
        pos = d_len > 0
        line_of = np.concatenate([line_of, d_line[pos]])
        area_of = np.concatenate([area_of, d_area[pos]])
        total = np.concatenate([total, d_len[pos]])
        d_pos = np.flatnonzero(degenerate)
        union = shapely.union_all(area_geoms[np.unique(d_area)])
        outside[d_pos] = shapely.length(shapely.difference(geoms[d_pos], union))
    return line_of, area_of, total, outside


def _rings(polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exterior and interior rings of (multi)polygons as LinearRings, with the polygon index."""
    parts, part_of = shapely.get_parts(polygons, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    return rings, part_of[ring_of]


def _lines_only(geoms: np.ndarray) -> np.ndarray:
    """Drop points from geometry collections that an intersection may return."""
    out = np.asarray(geoms, dtype=object).copy()
    mixed = np.flatnonzero(shapely.get_type_id(out) == 7)
    if len(mixed):
        parts, idx = shapely.get_parts(out[mixed], return_index=True)
        line = np.isin(shapely.get_type_id(parts), [1, 2])
        merged = shapely.multilinestrings(parts[line], indices=idx[line])
        fixed = np.full(len(mixed), None, dtype=object)
        fixed[np.unique(idx[line])] = merged
        out[mixed] = fixed
    return out


# --------------------------------------------------------------------------------------------
# per-partition sums and the final table (shared by the single-process and Dask paths)
# --------------------------------------------------------------------------------------------
@dataclass
class StatisticsParams:
    """Checked options of :func:`aging_statistics` (:func:`prepare_statistics`)."""

    reference_year: int
    bins: int | list[int]
    thresholds: dict[str, tuple[int, ...]]
    by: str | None

    @property
    def levels(self) -> list[int]:
        return _all_thresholds(self.thresholds)


_Params = StatisticsParams  # the former private name


@dataclass
class PartialStatistics:
    """Summed lengths of one partition of pipes (:func:`partial_statistics`)."""

    table: pd.DataFrame
    outside_length_m: float
    outside_segments: int
    n_pipes: int
    n_pieces: int
    n_clipped: int


def _primary(params: _Params, utility: str) -> float:
    """The primary aging threshold of a utility, NaN when none is stated (such pipes are never
    counted as aged: no hidden default)."""
    t = params.thresholds.get(utility) or params.thresholds.get("*")
    return float(t[0]) if t else float("nan")


def _warn_early_years(pipes: gpd.GeoDataFrame) -> None:
    """Say how many install years are taken as unknown (before OLDEST_INSTALL_YEAR)."""
    if "install_year" not in pipes.columns or not len(pipes):
        return
    years = pd.to_numeric(pipes["install_year"], errors="coerce")
    early = int((years < OLDEST_INSTALL_YEAR).sum())
    if early:
        _warn(f"{early:,} install year(s) before {OLDEST_INSTALL_YEAR} (e.g. 0 for unknown) "
              "taken as unknown: no age, period 'unknown', never aged")


def _warn_unthresholded(pipes: gpd.GeoDataFrame, params: _Params) -> None:
    """Say which utilities have no aging threshold (their pipes are not counted as aged)."""
    if "utility" not in pipes.columns or "*" in params.thresholds:
        return
    counts = pipes["utility"].astype("string").fillna("<NA>").value_counts()
    missing = {str(u): int(n) for u, n in counts.items() if str(u) not in params.thresholds}
    if missing:
        listed = ", ".join(f"{u!r} ({n:,} segments)" for u, n in sorted(missing.items()))
        _warn(f"no aging threshold for {listed}: never counted as aged; give one with "
              "thresholds={utility: years}")


def _period_codes(years: pd.Series, bins: int | list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Period code per row and the label of each code (labels computed once per period)."""
    year_codes, uniq_years = pd.factorize(years, use_na_sentinel=True)
    unknown = year_codes < 0
    labels = _period_labels(pd.Series(pd.array(np.asarray(uniq_years, dtype=object),
                                               dtype="Int64")), bins)
    labels = np.append(labels, UNKNOWN_PERIOD)  # code of the missing years
    label_codes, names = pd.factorize(labels)
    codes = label_codes[np.where(unknown, len(labels) - 1, year_codes)]
    return codes.astype(np.int64), np.asarray(names, dtype=object)


def partial_statistics(pipes: gpd.GeoDataFrame, areas: PreparedAreas, params: StatisticsParams,
                       split: _Split | None = None) -> PartialStatistics:
    """Sums for one partition of pipes (the unit of work on Dask); add partitions up with
    :func:`combine_partials`.

    Pieces are grouped by one integer key (area × utility × period) with ``numpy.unique`` and
    summed with ``numpy.bincount``: no per-piece Python objects. ``split``: the pipes already
    split at the area boundaries (:func:`aging_report` shares it with the aged list).
    """
    if split is None:
        split = _split(np.asarray(pipes.geometry.array, dtype=object), areas)
    pos = split.pipe_pos
    own = (pipes["utility"].astype("string").to_numpy(dtype=object, na_value="<NA>")
           if "utility" in pipes.columns else np.full(len(pipes), "", dtype=object))
    own_codes, own_names = pd.factorize(own)
    per_utility = np.array([_primary(params, u) for u in own_names], dtype=float)
    thr = per_utility[own_codes] if len(own_names) else np.zeros(len(pipes))
    if params.by == "utility":
        u_codes, u_names = own_codes.astype(np.int64), np.asarray(own_names, dtype=object)
    else:
        u_codes, u_names = np.zeros(len(pipes), dtype=np.int64), np.array(["all"], dtype=object)
    years = install_years(pipes)
    p_codes, p_names = _period_codes(years, params.bins)
    age = params.reference_year - years.to_numpy(dtype="float64", na_value=np.nan)
    n_u, n_p = max(len(u_names), 1), max(len(p_names), 1)
    key = (split.area_pos.astype(np.int64) * n_u + u_codes[pos]) * n_p + p_codes[pos]
    uniq, inv = np.unique(key, return_inverse=True)
    length = split.length
    age_pos = age[pos]
    sums: dict[str, Any] = {
        "area_pos": uniq // (n_u * n_p),
        "utility": u_names[(uniq // n_p) % n_u] if len(u_names) else np.zeros(0, dtype=object),
        "period": p_names[uniq % n_p] if len(p_names) else np.zeros(0, dtype=object),
        "length_m": np.bincount(inv, weights=length, minlength=len(uniq)),
        "length_over_threshold_m": np.bincount(
            inv, weights=np.where(age_pos >= thr[pos], length, 0.0), minlength=len(uniq)),
    }
    for t in params.levels:
        sums[f"length_over_{t}y_m"] = np.bincount(
            inv, weights=np.where(age_pos >= t, length, 0.0), minlength=len(uniq))
    sums["n_segments"] = np.bincount(inv, minlength=len(uniq)).astype(np.int64)
    return _Partial(
        table=pd.DataFrame(sums),
        outside_length_m=float(split.outside.sum()),
        outside_segments=int(np.count_nonzero(split.outside)),
        n_pipes=len(pipes),
        n_pieces=len(split.length),
        n_clipped=int(split.clipped.sum()),
    )


def _sum_columns(levels: Sequence[int]) -> list[str]:
    return (["length_m", "length_over_threshold_m"] + [f"length_over_{t}y_m" for t in levels]
            + ["n_segments"])


def _shares(df: pd.DataFrame, levels: Sequence[int], known: pd.Series) -> pd.DataFrame:
    """Recompute shares from summed lengths (``known``: length of known age per row)."""
    denom = known.where(known > 0)
    df["share_over_threshold"] = (df["length_over_threshold_m"] / denom).astype("float64")
    for t in levels:
        df[f"share_over_{t}y"] = (df[f"length_over_{t}y_m"] / denom).astype("float64")
    return df


def combine_partials(partials: Sequence[PartialStatistics], areas: PreparedAreas,
                     params: StatisticsParams) -> pd.DataFrame:
    """Sum partial tables and compute shares and densities: the final tidy table."""
    levels = params.levels
    cols = _sum_columns(levels)
    tables = [p.table for p in partials if len(p.table)]
    if tables:
        merged = pd.concat(tables, ignore_index=True)
        sums = merged.groupby(["area_pos", "utility", "period"], sort=False,
                              observed=True)[cols].sum().reset_index()
    else:
        sums = pd.DataFrame({c: pd.Series(dtype="float64") for c in
                             ["area_pos", "utility", "period", *cols]})
    area_pos = sums["area_pos"].to_numpy(dtype=np.int64)
    df = pd.DataFrame({
        "area_id": areas.ids.to_numpy()[area_pos],
        "utility": sums["utility"].astype(str),
        "period": sums["period"].astype(str),
        "length_m": sums["length_m"].astype("float64"),
    })
    df["area_km2"] = areas.area_km2[area_pos]
    df["density_km_per_km2"] = df["length_m"] / 1000.0 / df["area_km2"]
    df["n_segments"] = sums["n_segments"].astype("int64")
    if params.by == "utility":
        df["threshold_years"] = pd.array(
            [None if math.isnan(t := _primary(params, u)) else int(t) for u in df["utility"]],
            dtype="Int64")
    else:
        df["threshold_years"] = pd.array([pd.NA] * len(df), dtype="Int64")
    for c in ["length_over_threshold_m", *[f"length_over_{t}y_m" for t in levels]]:
        df[c] = sums[c].astype("float64")
    known = df["length_m"].where(df["period"] != UNKNOWN_PERIOD, 0.0)
    df = _shares(df, levels, known)
    if params.by == "utility":   # no threshold for the utility: its aged share is unknown
        df.loc[df["threshold_years"].isna().to_numpy(), "share_over_threshold"] = np.nan
    df = _order(df, levels)
    df = df.sort_values(["area_id", "utility", "period"],
                        key=lambda s: _period_sort_key(s) if s.name == "period" else s,
                        kind="stable").reset_index(drop=True)
    df.attrs.update({
        "reference_year": params.reference_year,
        "bins": params.bins,
        "thresholds": {u: list(t) for u, t in params.thresholds.items()},
        "total_area_km2": areas.total_km2,
        "n_areas": len(areas.ids),
        "outside_length_m": float(sum(p.outside_length_m for p in partials)),
        "outside_segments": int(sum(p.outside_segments for p in partials)),
        "notes": list(areas.notes),
    })
    return df


def _order(df: pd.DataFrame, levels: Sequence[int]) -> pd.DataFrame:
    extras = ["area_km2", "n_segments", "threshold_years", "length_over_threshold_m"]
    extras += [f"length_over_{t}y_m" for t in levels] + [f"share_over_{t}y" for t in levels]
    rest = [c for c in df.columns if c not in STATISTICS_COLUMNS and c not in extras]
    return df[[*STATISTICS_COLUMNS, *extras, *rest]]


def report_outside(df: pd.DataFrame, n_pipes: int) -> None:
    """Note and warn about pipe length outside every area (``df.attrs["outside_length_m"]``)."""
    out = df.attrs.get("outside_length_m", 0.0)
    if out > 0:
        msg = (f"{df.attrs['outside_segments']:,} of {n_pipes:,} pipe segments lie wholly or "
               f"partly outside every area: {out:,.1f} m not counted in any area "
               "(df.attrs['outside_length_m']; aged_segments lists aged ones with area_id <NA>)")
        df.attrs["notes"].append(msg)
        _warn(msg)


def prepare_statistics(pipes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, area_id: str,
                       reference_date: int | str | dt.date | None, bins: int | Sequence[int],
                       thresholds: int | Mapping[str, int | Sequence[int]] | None,
                       by: str | None) -> tuple[PreparedAreas, StatisticsParams]:
    """Check the inputs and options of :func:`aging_statistics` once, for every partition.

    The per-partition API (what :func:`geo3d.parallel.aging_statistics_dask` runs):
    ``areas, params = prepare_statistics(...)``, ``areas.grid = interior_grid(areas, n)``,
    then :func:`partial_statistics` per partition of pipes, :func:`combine_partials` on the
    list, and :func:`report_outside`.
    """
    _validate_pipes(pipes, by)
    if not isinstance(areas, gpd.GeoDataFrame):
        msg = f"areas must be a GeoDataFrame of polygons, not {type(areas).__name__}"
        raise InputError(msg)
    _check_crs(pipes, areas)
    prepared = _validate_areas(areas, area_id)
    checked_bins: int | list[int]
    if isinstance(bins, bool):
        msg = f"bins must be years per period or a list of edges, not {bins!r}"
        raise InputError(msg)
    if isinstance(bins, int | np.integer):
        checked_bins = int(bins)
    else:
        checked_bins = [int(b) for b in bins]
    params = _Params(reference_year=_reference_year(reference_date), bins=checked_bins,
                     thresholds=_thresholds(thresholds), by=by)
    _warn_unthresholded(pipes, params)
    _warn_early_years(pipes)
    _period_labels(pd.Series([2000], dtype="Int64"), params.bins)  # validate bins early
    return prepared, params


# the former private names
_Partial = PartialStatistics
_make_grid = interior_grid
_partial_statistics = partial_statistics
_combine = combine_partials
_report_outside = report_outside
_setup = prepare_statistics


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def aging_statistics(
    pipes: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str,
    reference_date: int | str | dt.date | None = None,
    bins: int | Sequence[int] = 10,
    thresholds: int | Mapping[str, int | Sequence[int]] | None = None,
    by: str | None = "utility",
) -> pd.DataFrame:
    """Pipe length, aged share and density per area × utility × install period.

    Pipes that cross an area boundary are split exactly at it; pipes wholly inside an area are
    not clipped (a prepared ``covers`` test), which is what makes this fast.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Pipes in the canonical schema (:func:`geo3d.read_pipes`): ``utility``,
        ``install_year`` (nullable int, ``<NA>`` = unknown) and line geometries in a projected
        CRS (metres).
    areas : geopandas.GeoDataFrame
        Neighbourhood polygons (행정동, 법정동, 구 …) in the same CRS as ``pipes``.
    area_id : str
        Field of ``areas`` that identifies an area (unique), e.g. ``"adm_cd2"``.
    reference_date : int, str or datetime.date, optional
        Year (or date; its year is used) the ages refer to. Default: today.
    bins : int or sequence of int
        Years per install period (aligned on multiples, e.g. ``"1980-1989"``), or increasing
        edges ``[1960, 1980, 2000]`` (periods ``"<1960"``, ``"1960-1979"``, ``"1980-1999"``,
        ``">=2000"``).
    thresholds : int or mapping, optional
        Aging thresholds in years: ``{utility: years or [years, ...]}`` replacing the defaults
        of :data:`DEFAULT_THRESHOLDS` for the named utilities, or one int for all.
    by : {"utility", None}
        Group by utility (default) or pool every utility (``utility == "all"``; each pipe is
        still aged by its own utility's threshold).

    Returns
    -------
    pandas.DataFrame
        One row per area × utility × period with pipe length (a tidy table, no totals), in
        this column order:

        - ``area_id``, ``utility``, ``period``, ``length_m``, ``share_over_threshold``,
          ``density_km_per_km2`` (docs/contracts.md),
        - ``area_km2``, ``n_segments`` (pieces of pipe in the row), ``threshold_years`` (the
          primary threshold), ``length_over_threshold_m``,
        - ``length_over_{t}y_m`` and ``share_over_{t}y`` for every threshold ``t`` in use
          (with the defaults: 20, 30 and 50 — so sewer's 50-year share is
          ``share_over_50y``), computed for every utility.

        ``attrs`` hold ``reference_year``, ``bins``, ``thresholds``, ``total_area_km2``,
        ``n_areas``, ``outside_length_m`` / ``outside_segments`` (pipe length outside every
        area) and ``notes``. Sum rows with :func:`aggregate_statistics`.

    Raises
    ------
    SchemaError
        ``area_id`` is not a field of ``areas`` (the message lists the fields), ids are missing
        or not unique, areas are not polygons, pipes lack ``install_year``/``utility``.
    CRSError
        Missing, geographic or different CRSs (the message says how to ``to_crs``).
    InputError
        Bad ``bins``, ``thresholds``, ``reference_date`` or ``by``.

    Warns
    -----
    UserWarning
        Areas overlap (how much and which ids), or pipe length lies outside every area.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> areas = gpd.GeoDataFrame({"dong": ["가", "나"]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
    ...     crs="EPSG:5186")
    >>> pipes = gpd.GeoDataFrame(
    ...     {"utility": ["sewer", "sewer"], "install_year": pd.array([1970, 2000], dtype="Int64")},
    ...     geometry=[shapely.LineString([(0, 500), (2000, 500)]),
    ...               shapely.LineString([(100, 100), (100, 600)])], crs="EPSG:5186")
    >>> df = aging_statistics(pipes, areas, area_id="dong", reference_date=2025)
    >>> df[["area_id", "period", "length_m", "share_over_threshold", "share_over_50y"]]
      area_id     period  length_m  share_over_threshold  share_over_50y
    0       가  1970-1979    1000.0                   1.0             1.0
    1       가  2000-2009     500.0                   0.0             0.0
    2       나  1970-1979    1000.0                   1.0             1.0
    >>> float(df["density_km_per_km2"].iloc[0])
    1.0
    """
    t0 = time.perf_counter()
    prepared, params = _setup(pipes, areas, area_id, reference_date, bins, thresholds, by)
    part = _partial_statistics(pipes, prepared, params)
    df = _combine([part], prepared, params)
    _report_outside(df, len(pipes))
    logger.info(
        "aging_statistics: %s segments x %s areas -> %s pieces (%s clipped), %.1f km inside, "
        "%.1f km outside; %s rows in %.2f s", f"{part.n_pipes:,}", f"{len(prepared.ids):,}",
        f"{part.n_pieces:,}", f"{part.n_clipped:,}", df["length_m"].sum() / 1000,
        part.outside_length_m / 1000, f"{len(df):,}", time.perf_counter() - t0)
    return df


def aggregate_statistics(stats: pd.DataFrame, *, by: Sequence[str] = ("area_id", "utility")
                         ) -> pd.DataFrame:
    """Sum :func:`aging_statistics` rows over the other keys; recompute shares and densities.

    Shares are over the length of known install year; densities over the area of the group
    (the whole study area, ``stats.attrs["total_area_km2"]``, when ``area_id`` is not in
    ``by``). The summed-over key columns read ``"all"``.

    Parameters
    ----------
    stats : pandas.DataFrame
        A table from :func:`aging_statistics` (or read back from its CSV).
    by : sequence of str
        Keys to keep, among ``area_id``, ``utility``, ``period``.

    Returns
    -------
    pandas.DataFrame
        Same columns as ``stats``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> areas = gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.box(0, 0, 1000, 1000)],
    ...                          crs="EPSG:5186")
    >>> pipes = gpd.GeoDataFrame(
    ...     {"utility": ["gas", "gas", "gas"],
    ...      "install_year": pd.array([1990, 2020, None], dtype="Int64")},
    ...     geometry=[shapely.LineString([(0, 1), (300, 1)]), shapely.LineString([(0, 2), (100, 2)]),
    ...               shapely.LineString([(0, 3), (600, 3)])], crs="EPSG:5186")
    >>> stats = aging_statistics(pipes, areas, area_id="id", reference_date=2025)
    >>> agg = aggregate_statistics(stats)
    >>> agg[["area_id", "utility", "period", "length_m", "share_over_threshold"]]
       area_id utility period  length_m  share_over_threshold
    0        1     gas    all    1000.0                  0.75
    """
    by = list(by)
    keys = ["area_id", "utility", "period"]
    bad = [b for b in by if b not in keys]
    if bad:
        msg = f"by must name columns among {keys}, not {bad}"
        raise InputError(msg)
    missing = [c for c in ["length_m", "length_over_threshold_m", *keys] if c not in stats.columns]
    if missing:
        msg = f"stats lack column(s) {missing}; pass a table from aging_statistics"
        raise SchemaError(msg)
    levels = sorted(int(c[len("length_over_"):-len("y_m")]) for c in stats.columns
                    if c.startswith("length_over_") and c.endswith("y_m"))
    cols = [c for c in _sum_columns(levels) if c in stats.columns]
    known_len = stats["length_m"].where(stats["period"] != UNKNOWN_PERIOD, 0.0)
    work = stats.assign(_known=known_len)
    if by:
        sums = work.groupby(by, sort=True, observed=True)[[*cols, "_known"]].sum().reset_index()
    else:
        sums = work[[*cols, "_known"]].sum().to_frame().T
    for k in keys:
        if k not in by:
            sums[k] = "all"
    if "area_id" in by and "area_km2" in stats.columns:
        area = stats.drop_duplicates("area_id").set_index("area_id")["area_km2"]
        sums["area_km2"] = sums["area_id"].map(area).astype("float64")
    else:
        sums["area_km2"] = float(stats.attrs.get("total_area_km2", np.nan))
    sums["density_km_per_km2"] = sums["length_m"] / 1000.0 / sums["area_km2"]
    if "threshold_years" in stats.columns and "utility" in by:
        thr = stats.drop_duplicates("utility").set_index("utility")["threshold_years"]
        sums["threshold_years"] = sums["utility"].map(thr).astype("Int64")
    elif "threshold_years" in stats.columns:
        sums["threshold_years"] = pd.array([pd.NA] * len(sums), dtype="Int64")
    sums = _shares(sums, levels, sums["_known"]).drop(columns="_known")
    if "period" in by:
        unknown = sums["period"] == UNKNOWN_PERIOD
        share_cols = [c for c in sums.columns if c.startswith("share_over_")]
        sums.loc[unknown, share_cols] = np.nan
    ordered = [c for c in stats.columns if c in sums.columns]
    out = sums[ordered + [c for c in sums.columns if c not in ordered]].reset_index(drop=True)
    out.attrs = dict(stats.attrs)
    return out


def _aged(pipes: gpd.GeoDataFrame, params: _Params) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """Per pipe: aged (age ≥ its utility's primary threshold; unknown age is never aged), the
    age and the threshold."""
    age = pipe_age(pipes, reference_date=params.reference_year)
    own = pipes["utility"].astype("string").to_numpy(dtype=object, na_value="<NA>")
    codes, names = pd.factorize(own)
    per = np.array([_primary(params, u) for u in names], dtype=np.float64)
    thr = pd.Series(pd.array(per[codes] if len(names) else np.zeros(0), dtype="Float64"
                             ).astype("Int64"), index=pipes.index, name="threshold_years")
    aged = (age >= thr).fillna(False).to_numpy(dtype=bool)
    return aged, age, thr


_AGED_ATTRS = ("utility", "source_layer", "source_id", "agency", "material", "diameter_mm",
               "install_year")


def _aged_table(pipes: gpd.GeoDataFrame, areas: _Areas, params: _Params,
                split: _Split | None, *, geometry: bool) -> pd.DataFrame:
    """The aged list (see :func:`aged_segments`). Without ``geometry`` its rows come from
    ``split`` (the split of all pipes, shared with the statistics); with it the aged pipes are
    clipped again, keeping their pieces."""
    aged_mask, age, thr = _aged(pipes, params)
    if geometry or split is None:
        sub_pos = np.flatnonzero(aged_mask)
        geoms = np.asarray(pipes.geometry.array, dtype=object)[sub_pos]
        part = _split(geoms, areas, keep_pieces=geometry)
        pipe_pos, area_pos, length = sub_pos[part.pipe_pos], part.area_pos, part.length
        outside = np.zeros(len(pipes))
        outside[sub_pos] = part.outside
        pieces = part.pieces
    else:
        keep = aged_mask[split.pipe_pos]
        pipe_pos, area_pos, length = (split.pipe_pos[keep], split.area_pos[keep],
                                      split.length[keep])
        outside = np.where(aged_mask, split.outside, 0.0)
        pieces = None
    out_pos = np.flatnonzero(outside > 0)
    pos = np.concatenate([pipe_pos, out_pos])
    attrs = [c for c in _AGED_ATTRS if c in pipes.columns]
    out = pd.DataFrame(pipes[attrs].iloc[pos])
    ids = areas.ids.to_numpy()
    id_dtype: Any = "string" if areas.ids.inferred_type == "string" else object
    area_ids = pd.array(np.concatenate([ids[area_pos], np.full(len(out_pos), None)]),
                        dtype=id_dtype)
    out.insert(0, "area_id", pd.Series(area_ids, index=out.index))
    out["age_years"] = age.to_numpy()[pos]
    out["threshold_years"] = thr.to_numpy()[pos]
    out["length_m"] = np.concatenate([length, outside[out_pos]])
    if geometry:
        geoms_all = np.asarray(pipes.geometry.array, dtype=object)
        rest = (_lines_only(shapely.difference(geoms_all[out_pos],
                                               shapely.union_all(areas.geoms)))
                if len(out_pos) else np.empty(0, dtype=object))
        assert pieces is not None
        out = gpd.GeoDataFrame(out, geometry=np.concatenate([pieces, rest]), crs=pipes.crs)
        out["length_m"] = np.concatenate([length, shapely.length(rest)])
    order = np.lexsort((-out["length_m"].to_numpy(dtype=np.float64),
                        -out["age_years"].to_numpy(dtype=np.float64, na_value=np.nan)))
    return out.iloc[order]


def aged_segments(
    pipes: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str,
    reference_date: int | str | dt.date | None = None,
    thresholds: int | Mapping[str, int | Sequence[int]] | None = None,
    geometry: bool = True,
) -> pd.DataFrame:
    """Pieces of aged pipes (age ≥ the utility's primary threshold), per area.

    A pipe crossing a boundary gives one piece per area (clipped exactly, as in
    :func:`aging_statistics`, so piece lengths add up to the aged lengths there); the part of an
    aged pipe outside every area is listed with ``area_id`` ``<NA>``.

    Parameters
    ----------
    pipes, areas, area_id, reference_date, thresholds
        As for :func:`aging_statistics`.
    geometry : bool
        Return the pieces' geometries (a GeoDataFrame); False gives the same rows and numbers
        as a plain DataFrame without clipping any geometry (much faster for long lists).

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        Columns ``area_id, utility, source_layer, source_id, agency, material, diameter_mm,
        install_year, age_years, threshold_years, length_m`` (those of the first eight that
        the pipes have) and the ``geometry``, oldest first (then longest); index: the pipe's
        index in ``pipes``.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> areas = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(0, 0, 100, 100)],
    ...                          crs="EPSG:5186")
    >>> pipes = gpd.GeoDataFrame(
    ...     {"utility": ["gas", "gas"], "material": ["steel", "pe"],
    ...      "install_year": pd.array([1995, 2015], dtype="Int64")},
    ...     geometry=[shapely.LineString([(50, 50), (150, 50)]),
    ...               shapely.LineString([(10, 10), (20, 10)])], crs="EPSG:5186")
    >>> aged = aged_segments(pipes, areas, area_id="id", reference_date=2025)
    >>> aged[["area_id", "material", "age_years", "length_m"]]
      area_id material  age_years  length_m
    0       A    steel         30      50.0
    0    <NA>    steel         30      50.0
    """
    t0 = time.perf_counter()
    prepared, params = _setup(pipes, areas, area_id, reference_date, 10, thresholds, "utility")
    result = _aged_table(pipes, prepared, params, None, geometry=geometry)
    logger.info("aged_segments: %s segments as of %d -> %s aged pieces in %.2f s",
                f"{len(pipes):,}", params.reference_year, f"{len(result):,}",
                time.perf_counter() - t0)
    return result


def aging_report(
    pipes: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str,
    reference_date: int | str | dt.date | None = None,
    bins: int | Sequence[int] = 10,
    thresholds: int | Mapping[str, int | Sequence[int]] | None = None,
    by: str | None = "utility",
    aged_geometry: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`aging_statistics` and :func:`aged_segments` from one split of the pipes.

    The pipes are split at the area boundaries once; the statistics and the aged list are both
    read from that split (what ``geo3d stats`` writes). Same numbers as the two functions.

    Returns
    -------
    (statistics, aged)
        The tables of :func:`aging_statistics` and of :func:`aged_segments` (with
        ``geometry=aged_geometry``).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> areas = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(0, 0, 100, 100)],
    ...                          crs="EPSG:5186")
    >>> pipes = gpd.GeoDataFrame({"utility": ["gas"], "install_year": pd.array([1995])},
    ...     geometry=[shapely.LineString([(50, 50), (150, 50)])], crs="EPSG:5186")
    >>> stats, aged = aging_report(pipes, areas, area_id="id", reference_date=2025)
    >>> float(stats["length_over_threshold_m"].sum()), aged["length_m"].tolist()
    (50.0, [50.0, 50.0])
    """
    t0 = time.perf_counter()
    prepared, params = _setup(pipes, areas, area_id, reference_date, bins, thresholds, by)
    split = _split(np.asarray(pipes.geometry.array, dtype=object), prepared)
    part = _partial_statistics(pipes, prepared, params, split)
    df = _combine([part], prepared, params)
    _report_outside(df, len(pipes))
    aged = _aged_table(pipes, prepared, params, None if aged_geometry else split,
                       geometry=aged_geometry)
    logger.info("aging_report: %s segments x %s areas -> %s rows, %s aged pieces in %.2f s",
                f"{len(pipes):,}", f"{len(prepared.ids):,}", f"{len(df):,}", f"{len(aged):,}",
                time.perf_counter() - t0)
    return df, aged


def _write_csv(table: pd.DataFrame, path: Path, *, index: bool) -> None:
    """UTF-8 CSV through Arrow's writer (pandas' writer is ~25x slower on nullable columns):
    the header as plain names, text values quoted, missing values empty."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    frame = table.reset_index() if index else table
    frame = frame.rename(columns=str)
    data = {}
    for c in frame.columns:
        col = frame[c]
        if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object:
            col = col.astype("string")
        data[c] = col
    arrow = pa.Table.from_pandas(pd.DataFrame(data), preserve_index=False)
    header = ",".join(f'"{c}"' if any(ch in c for ch in ',"\n') else c for c in frame.columns)
    with open(path, "wb") as fh:
        fh.write((header + "\n").encode("utf-8"))
        pacsv.write_csv(arrow, fh, pacsv.WriteOptions(include_header=False,
                                                      quoting_style="needed"))


def statistics_to_file(stats: pd.DataFrame, path: str | Path, *, overwrite: bool = False,
                       index: bool = False) -> Path:
    """Write a statistics table to CSV, Excel or Parquet (chosen by suffix), atomically.

    ``.csv`` is plain UTF-8 without a byte-order mark (Excel users: open it through *Data →
    From Text/CSV*, or write ``.xlsx``); ``.xlsx`` (openpyxl) holds the table in a sheet
    ``statistics`` and ``attrs`` (reference year, thresholds, outside length, notes) in a sheet
    ``about``; ``.parquet`` keeps the column types, and a GeoDataFrame becomes GeoParquet (its
    geometry as WKB). In CSV and Excel a GeoDataFrame's geometry is written as WKT
    (``geometry_wkt``).

    Parameters
    ----------
    stats : pandas.DataFrame
        A table, e.g. from :func:`aging_statistics` or :func:`aged_segments`.
    path : str or Path
        Output file ending in ``.csv``, ``.xlsx`` or ``.parquet``.
    overwrite : bool
        Replace an existing file.
    index : bool
        Also write the index.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.csv"
    >>> _ = statistics_to_file(pd.DataFrame({"area_id": ["제기동"], "length_m": [1.5]}), p)
    >>> pd.read_csv(p).values.tolist()
    [['제기동', 1.5]]
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".parquet"):
        msg = f"statistics are written to .csv, .xlsx or .parquet, not {path.name!r}"
        raise InputError(msg)
    table = pd.DataFrame(stats)
    if isinstance(stats, gpd.GeoDataFrame) and suffix != ".parquet":
        geom = stats.geometry.name
        table = pd.DataFrame(stats.drop(columns=geom)).assign(
            geometry_wkt=shapely.to_wkt(np.asarray(stats.geometry.array, dtype=object),
                                        rounding_precision=3))
    with atomic_path(path, overwrite=overwrite) as tmp:
        if suffix == ".csv":
            _write_csv(table, tmp, index=index)
        elif suffix == ".parquet":
            stats.to_parquet(tmp, index=index)
        else:
            import_optional("openpyxl", extra="excel")
            about = pd.DataFrame({"key": list(stats.attrs), "value": [
                "; ".join(map(str, v)) if isinstance(v, list) else str(v)
                for v in stats.attrs.values()]})
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                table.to_excel(writer, sheet_name="statistics", index=index)
                about.to_excel(writer, sheet_name="about", index=False)
    logger.info("statistics_to_file: %s rows -> %s", f"{len(table):,}", path)
    return path


def areas_with_statistics(
    stats: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str,
    utility: str | None = None,
) -> gpd.GeoDataFrame:
    """The areas with their statistics summed over periods (for maps).

    Parameters
    ----------
    stats : pandas.DataFrame
        From :func:`aging_statistics` (or its CSV read back).
    areas : geopandas.GeoDataFrame
        The area polygons.
    area_id : str
        Field of ``areas`` matching ``stats["area_id"]`` (compared as text).
    utility : str, optional
        One utility; default all utilities pooled.

    Returns
    -------
    geopandas.GeoDataFrame
        ``areas`` (copied) plus ``length_m``, ``density_km_per_km2`` (0 where no pipe),
        ``share_over_threshold`` and the ``share_over_{t}y`` columns (NaN where unknown).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> areas = gpd.GeoDataFrame({"id": [1, 2]},
    ...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
    ...     crs="EPSG:5186")
    >>> pipes = gpd.GeoDataFrame({"utility": ["gas"], "install_year": pd.array([1990])},
    ...     geometry=[shapely.LineString([(0, 5), (500, 5)])], crs="EPSG:5186")
    >>> s = aging_statistics(pipes, areas, area_id="id", reference_date=2025)
    >>> areas_with_statistics(s, areas, area_id="id")[["id", "length_m", "share_over_threshold"]]
       id  length_m  share_over_threshold
    0   1     500.0                   1.0
    1   2       0.0                   NaN
    """
    if area_id not in areas.columns:
        fields = ", ".join(str(c) for c in areas.columns if c != areas.geometry.name)
        msg = f"areas have no field {area_id!r}; available fields: {fields}"
        raise SchemaError(msg)
    rows = stats
    if utility is not None:
        known = sorted(map(str, pd.unique(stats["utility"])))
        if utility not in known:
            msg = f"no statistics for utility {utility!r}; the table has {', '.join(known)}"
            raise InputError(msg)
        rows = stats[stats["utility"] == utility]
        rows.attrs = dict(stats.attrs)
    per_area = aggregate_statistics(rows, by=["area_id"])
    per_area = per_area.set_index(per_area["area_id"].astype(str))
    key = areas[area_id].astype(str)
    out = areas.copy()
    out["length_m"] = key.map(per_area["length_m"]).fillna(0.0).astype("float64")
    out["density_km_per_km2"] = key.map(per_area["density_km_per_km2"]).fillna(0.0)
    for c in per_area.columns:
        if c.startswith("share_over_"):
            out[c] = key.map(per_area[c]).astype("float64")
    return out
