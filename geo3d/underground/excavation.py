"""Virtual excavation (가상굴착): which pipes a planned pit or trench reaches, and what that means.

The model, stated once (every number below follows from it):

**Pit volume.** A floor polygon ``P`` (concave allowed; a trench is its centreline buffered by
half its width, flat ends) at a flat floor elevation ``z_f`` and a top (ground reference)
``z_t = z_f + D``. With a side slope ``s`` (horizontal per vertical) the pit widens upwards: at
height ``u`` above the floor its outline is ``P`` buffered by ``s·min(u, D)``; above the top the
opening continues straight up (the air above the pit). So ``V = {(x, y, z): u = z − z_f ≥ 0 and
d(x, y) ≤ s·min(u, D)}`` with ``d`` the plan distance to ``P`` (0 inside).

**Pipe envelope.** Each pipe is its 3D centreline swept by a horizontal disc of radius
``a = half outer width + accuracy_h`` extended vertically by ``b = half outer height +
accuracy_v`` (box ducts: their width and height; round pipes: the diameter). Accuracies are the
row's ``accuracy_h_m``/``accuracy_v_m``, or ``uncertainty_default`` where a row states none. For
round pipes this is exact horizontally and vertically and conservative (up to 0.41·r closer) on
the diagonal; uncertainties are naturally horizontal/vertical.

**Clearance.** For a centreline point with signed plan distance ``ρ = d_s(x, y) − a`` (``d_s``
negative inside ``P``) and ``h = z − z_f + b``, the envelope around that point meets ``V``
iff ``(ρ, h)`` lies in the convex region ``R = {h ≥ 0, ρ ≤ s·h, ρ ≤ s·D}``; the 3D
distance between that envelope slice and ``V`` is the 2D distance from ``(ρ, h)`` to ``R``
(exact: ``V`` is a union of buffered slices and closed upwards). ``clearance_m`` is the minimum
over the centreline of the *signed* distance: positive = the shortest distance between the pipe
envelope and the pit volume; 0 or negative = reached, ``−clearance`` being how far the envelope
reaches into the pit (for vertical walls the smaller of the horizontal and vertical
penetrations). A pipe is *reached* when its clearance ≤ 0.

**Exposed length.** The 3D length of the pipe's *centreline* inside the pit: where its plan
position lies inside the outline at its height (``d_s ≤ s·clamp(z − z_f, 0, D)``; with vertical
walls simply inside ``P``) and the pipe reaches down to the floor (``h ≥ 0``). The radius and
the uncertainties decide whether a pipe is *reached* (its clearance), not how long it is exposed:
a 300 mm main straight across a 20 m pit is exposed over 20 m, and a pipe that only grazes a
wall with its side is reached (negative clearance) with an exposed length of 0. For a pipe
above the floor and vertical walls this is ``shapely.intersection(centreline, P)`` measured in
3D. The centreline is sampled every ``resolution`` metres plus, exactly, at its closest
approaches in plan to every edge of ``P``; a boundary crossing between two samples is located
by two steps of false position (linear interpolation within the shrinking bracket).

**Depth source.** ``depth_source`` is ``measured`` when the pipe's depth comes from its source
data, ``assumed`` when it was unknown there and the pipe was placed at the default cover of
its utility (:func:`~geo3d.underground.pipes_to_3d`, the ``depth_assumed`` flag): its
``depth_m`` is then the assumed value, and it must be located before digging.

**Hand-dig band.** A pipe with a ``hand_dig_band`` rule (gas: 1.0 m each side) is in the band
when the pit's top outline (``P`` buffered by ``s·D``) comes within the band of the pipe's edge
in plan (``d − a − s·D ≤ band``).

Examples
--------
A 300 mm water main 1.2 m deep (centre 1.35 m below ground at 30 m) across a 4 × 4 m pit dug
2.5 m deep, and a gas pipe 0.5 m outside the wall:

>>> import geopandas as gpd, shapely
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["water", "gas"], "source_id": ["w1", "g1"], "diameter_mm": [300.0, 100.0],
...      "pressure": [None, "low"]},
...     geometry=[shapely.LineString([(-10, 2, 28.65), (10, 2, 28.65)]),
...               shapely.LineString([(4.55, -10, 28.8), (4.55, 10, 28.8)])], crs="EPSG:5186")
>>> pit = shapely.box(0, 0, 4, 4)
>>> ex = excavate(pipes, pit, depth=2.5, ground=30.0)
>>> ex.conflicts[["source_id", "utility", "exposed_length_m", "clearance_m"]]
  source_id utility  exposed_length_m  clearance_m
0        w1   water               4.0         -1.3
>>> ex.verdict
'notify utilities'
>>> bool(ex.candidates.set_index("source_id").loc["g1", "in_hand_dig_band"])
True
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import from_shapely
from numpy.typing import NDArray
from pyproj import CRS

from .._checks import require_metric_crs
from .._numeric import float_column
from ..errors import CRSError, InputError, OptionError, SchemaError
from ..io.raster import Dem, as_dem, check_same_crs, dem_gap_reason, flat_dem, sample_dem
from . import rules as _rules_mod
from .pit import pit_polygon, structures_in_pit
from .vertical import pipes_to_3d

__all__ = [
    "CSV_COLUMNS",
    "DEPTH_SOURCES",
    "Excavation",
    "PipeIndex",
    "PitVolume",
    "build_index",
    "excavate",
    "summary_text",
]

logger = logging.getLogger(__name__)

#: Columns of the conflicts CSV (docs/contracts.md), in order.
CSV_COLUMNS: tuple[str, ...] = (
    "source_layer", "source_id", "utility", "diameter_mm", "depth_m", "exposed_length_m",
    "clearance_m", "in_hand_dig_band", "violations", "depth_source",
)
#: Values of ``depth_source``.
DEPTH_SOURCES: tuple[str, str] = ("measured", "assumed")
SEARCH_METHODS: tuple[str, ...] = ("strtree", "scan")
_EPS = 1e-9


# --------------------------------------------------------------------------------------------
# data classes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PitVolume:
    """The excavated volume (see the module docstring).

    Attributes
    ----------
    floor : shapely.Polygon
        The floor outline ``P`` (2D).
    floor_z, top_z : float
        Floor and top (ground reference) elevations; ``top_z`` is NaN when unknown.
    side_slope : float
        Horizontal widening per metre of height.
    """

    floor: shapely.Polygon
    floor_z: float
    top_z: float
    side_slope: float = 0.0

    @property
    def depth(self) -> float:
        """``top_z − floor_z`` (NaN when the top is unknown)."""
        return self.top_z - self.floor_z

    def outline_at(self, z: float) -> shapely.Geometry:
        """The plan outline at elevation ``z`` (the floor outline below the floor)."""
        u = min(max(z - self.floor_z, 0.0), self.depth if math.isfinite(self.depth) else 0.0)
        return self.floor if self.side_slope == 0 or u == 0 else self.floor.buffer(self.side_slope * u)

    @property
    def top(self) -> shapely.Geometry:
        """The outline at the surface."""
        return self.outline_at(self.top_z) if math.isfinite(self.top_z) else self.floor

    def to_3d(self) -> tuple[shapely.Polygon, shapely.Polygon]:
        """The floor and top outlines as Polygon Z (for viewers)."""
        top_z = self.top_z if math.isfinite(self.top_z) else self.floor_z
        return (shapely.force_3d(self.floor, self.floor_z), shapely.force_3d(self.top, top_z))

    def volume_m3(self) -> float:
        """Excavated volume between floor and top (NaN when the top is unknown)."""
        if not math.isfinite(self.depth):
            return float("nan")
        if self.side_slope == 0:
            return float(self.floor.area * self.depth)
        u = np.linspace(0.0, self.depth, 21)
        areas = shapely.area(shapely.buffer(self.floor, self.side_slope * u))
        return float(np.sum((areas[1:] + areas[:-1]) / 2.0 * np.diff(u)))


@dataclass
class PipeIndex:
    """3D pipes prepared once for many excavation queries (:func:`build_index`).

    Attributes
    ----------
    pipes : geopandas.GeoDataFrame
        The 3D pipes (LineString Z), as given.
    tree : shapely.STRtree
        Over the 2D centrelines.
    xyz : numpy.ndarray
        All vertices ``(n, 3)``; pipe ``k`` owns ``xyz[offsets[k]:offsets[k + 1]]``.
    offsets : numpy.ndarray
        Vertex offsets, ``len(pipes) + 1``.
    half_width, half_height : numpy.ndarray
        Outer half sizes in metres (0 where unknown).
    accuracy_h, accuracy_v : numpy.ndarray
        Stated position uncertainties (NaN where none).
    valid : numpy.ndarray
        Rows with a usable 3D centreline (others are never reported).
    """

    pipes: gpd.GeoDataFrame
    tree: shapely.STRtree
    geoms2d: NDArray[np.object_]
    xyz: NDArray[np.float64]
    offsets: NDArray[np.int64]
    half_width: NDArray[np.float64]
    half_height: NDArray[np.float64]
    accuracy_h: NDArray[np.float64]
    accuracy_v: NDArray[np.float64]
    valid: NDArray[np.bool_]
    seconds: float = 0.0
    geoms3d: NDArray[np.object_] = field(default_factory=lambda: np.empty(0, dtype=object),
                                         repr=False)
    attrs: dict[str, NDArray[Any]] = field(default_factory=dict, repr=False)
    fields: dict[str, NDArray[Any]] = field(default_factory=dict, repr=False)
    text: frozenset[str] = field(default_factory=frozenset, repr=False)
    extent: shapely.Geometry | None = field(default=None, repr=False)
    cover: tuple[Any, NDArray[np.float64], NDArray[np.object_]] | None = field(default=None,
                                                                                 repr=False)
    agreement: dict[str, NDArray[np.bool_]] = field(default_factory=dict, repr=False)
    #: largest envelope radius of the pipes that state an accuracy, and largest half width of
    #: those that do not (:meth:`max_half_width` adds the default uncertainty to the latter)
    max_a: tuple[float, float] = (0.0, 0.0)
    #: ``(left, bottom, right, top)`` of the usable pipes (NaN when there are none)
    bounds: NDArray[np.float64] = field(default_factory=lambda: np.full(4, np.nan), repr=False)
    _series: gpd.GeoSeries | None = field(default=None, repr=False)
    # DEMs whose CRS was checked against the pipes' (weak: a DEM that is collected drops out,
    # so a new object that reuses its id() is checked again)
    _checked: weakref.WeakSet[Dem] = field(default_factory=weakref.WeakSet, repr=False)

    def max_half_width(self, uncertainty_default: float) -> float:
        """Largest horizontal envelope radius with this default uncertainty."""
        stated, nostated = self.max_a
        return max(float(stated), float(nostated) + uncertainty_default)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_checked": None}   # a WeakSet does not pickle

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _checked=weakref.WeakSet())

    def series2d(self) -> gpd.GeoSeries:
        """The 2D centrelines as a GeoSeries (made on first use)."""
        if self._series is None:
            self._series = gpd.GeoSeries(self.geoms2d)
        return self._series

    def __len__(self) -> int:
        return len(self.pipes)

    @property
    def crs(self) -> Any:
        """The pipes' CRS."""
        if "_crs" not in self.__dict__:
            self.__dict__["_crs"] = self.pipes.crs
        return self.__dict__["_crs"]


@dataclass
class Excavation:
    """Result of :func:`excavate`.

    Attributes
    ----------
    conflicts : geopandas.GeoDataFrame
        One row per pipe the pit reaches: the :data:`CSV_COLUMNS` then ``agency``,
        ``width_mm``, ``height_mm``, ``pressure``, ``depth_assumed``, ``top_z_m``, ``pipe``
        (the input index label), 3D centreline geometry. ``violations`` joins rule ids with
        ``;`` (empty when none).
    candidates : geopandas.GeoDataFrame
        The same columns (and ``reached``) for every pipe within reach of the pit, reached or
        not (e.g. gas pipes in the hand-dig band, or just outside the walls).
    pit : PitVolume
        The excavated volume (3D outlines for viewers).
    summary : dict
        Counts, exposed lengths per utility, gas length in the area, agreement rules triggered,
        utilities and agencies to notify, the verdict and notes.
    structures : geopandas.GeoDataFrame or None
        With ``structures=``: the point structures (manholes, valves...) inside the pit's top
        outline or within the hand-dig band of it
        (:func:`~geo3d.underground.pit.structures_in_pit`), nearest first.

    Notes
    -----
    The two tables are built from the per-pipe results on first access (a GeoDataFrame of a
    few rows costs more than the whole query otherwise; see benchmarks/bench_excavation.py).
    """

    pit: PitVolume
    summary: dict[str, Any] = field(default_factory=dict)
    _columns: dict[str, NDArray[Any]] = field(default_factory=dict, repr=False)
    _geoms: NDArray[np.object_] = field(default_factory=lambda: np.empty(0, dtype=object),
                                        repr=False)
    _crs: Any = field(default=None, repr=False)
    _text: frozenset[str] = field(default_factory=frozenset, repr=False)
    structures: gpd.GeoDataFrame | None = None
    _candidates: gpd.GeoDataFrame | None = field(default=None, repr=False)
    _conflicts: gpd.GeoDataFrame | None = field(default=None, repr=False)

    @property
    def conflicts(self) -> gpd.GeoDataFrame:
        """The pipes the pit reaches (built on first use)."""
        if self._conflicts is None:
            sel = self._columns["reached"]
            self._conflicts = _frame({k: v[sel] for k, v in self._columns.items()
                                      if k != "reached"}, self._geoms[sel], self._crs, self._text)
        return self._conflicts

    @property
    def candidates(self) -> gpd.GeoDataFrame:
        """Every pipe within reach of the pit (built on first use)."""
        if self._candidates is None:
            self._candidates = _frame(self._columns, self._geoms, self._crs, self._text)
        return self._candidates

    @property
    def verdict(self) -> str:
        """``"gas agreement required"``, ``"notify utilities"`` or ``"no utilities reached"``."""
        return str(self.summary.get("verdict", ""))

    def to_file(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the reached pipes as a map layer: GeoJSON (``.geojson``/``.json``) or
        GeoPackage (``.gpkg``), with the :data:`CSV_COLUMNS` and the 3D centrelines; a
        GeoPackage also gets a ``structures`` layer when structures were given. Atomic.

        Examples
        --------
        >>> import geopandas as gpd, shapely, tempfile, pathlib
        >>> p = gpd.GeoDataFrame({"utility": ["gas"], "diameter_mm": [100.0]},
        ...     geometry=[shapely.LineString([(-5, 1, 29.0), (9, 1, 29.0)])], crs="EPSG:5186")
        >>> ex = excavate(p, shapely.box(0, 0, 4, 4), depth=2.5, ground=30.0)
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "conflicts.geojson"
        >>> ex.to_file(out)
        >>> gpd.read_file(out)[["utility", "exposed_length_m", "depth_source"]].values.tolist()
        [['gas', 4.0, 'measured']]
        """
        import pyogrio

        from ..io.atomic import atomic_path

        suffix = os.fspath(path).lower().rsplit(".", 1)[-1]
        drivers = {"geojson": "GeoJSON", "json": "GeoJSON", "gpkg": "GPKG"}
        if suffix not in drivers:
            msg = (f"cannot write conflicts as {os.fspath(path)!r}: give a .geojson or .gpkg "
                   "path (or .csv for the table)")
            raise OptionError(msg)
        table = self.conflicts[[*CSV_COLUMNS, "geometry"]].copy()
        table["in_hand_dig_band"] = table["in_hand_dig_band"].astype(bool)
        with atomic_path(path, overwrite=overwrite) as tmp:
            pyogrio.write_dataframe(table, tmp, driver=drivers[suffix], layer="conflicts")
            if drivers[suffix] == "GPKG" and self.structures is not None:
                pyogrio.write_dataframe(self.structures, tmp, driver="GPKG",
                                        layer="structures", append=True)

    def to_csv(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the conflicts in the CSV layout of docs/contracts.md (UTF-8, atomic)."""
        from ..io.atomic import atomic_path

        table = self.conflicts[list(CSV_COLUMNS)].copy()
        with atomic_path(path, overwrite=overwrite) as tmp:
            table.to_csv(tmp, index=False, encoding="utf-8", float_format="%.3f")


# --------------------------------------------------------------------------------------------
# index
# --------------------------------------------------------------------------------------------
_float = float_column  # the shared numeric helper (geo3d._numeric)


def _obj(frame: pd.DataFrame, col: str) -> NDArray[np.object_]:
    if col not in frame:
        return np.full(len(frame), None, dtype=object)
    v = frame[col].astype(object).to_numpy().copy()
    v[pd.isna(v)] = None
    return v


def _check_projected(crs: Any, what: str) -> None:
    require_metric_crs(crs, what=what)


def build_index(pipes3d: gpd.GeoDataFrame) -> PipeIndex:
    """Prepare 3D pipes for many :func:`excavate` queries (one STRtree and vertex arrays).

    Parameters
    ----------
    pipes3d : geopandas.GeoDataFrame
        LineString Z centrelines (from :func:`~geo3d.underground.pipes_to_3d`) in a projected
        CRS; rows with no geometry or NaN z are kept but never reported (logged).

    Returns
    -------
    PipeIndex

    Raises
    ------
    InputError
        Not a GeoDataFrame, or the centrelines have no z (run ``pipes_to_3d(pipes, dem)``).
    CRSError
        No projected CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"utility": ["gas"], "diameter_mm": [100.0]},
    ...                      geometry=[shapely.LineString([(0, 0, 9), (5, 0, 9)])], crs="EPSG:5186")
    >>> idx = build_index(p)
    >>> len(idx), idx.offsets.tolist(), idx.half_width.tolist()
    (1, [0, 2], [0.05])
    """
    t0 = time.perf_counter()
    if not isinstance(pipes3d, gpd.GeoDataFrame):
        msg = f"pipes must be a GeoDataFrame (canonical schema), got {type(pipes3d).__name__}"
        raise InputError(msg)
    _check_projected(pipes3d.crs, "pipes")
    geoms = pipes3d.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms)
    if (present & (types != 1)).any():
        msg = ("pipes must be LineStrings; explode MultiLineStrings first "
               "(validate_pipes does it, or pipes.explode(ignore_index=True))")
        raise SchemaError(msg)
    has_z = present & shapely.has_z(geoms)
    if present.any() and not has_z.any():
        msg = ("the pipes have no z: pass dem= (a GeoTIFF of the ground) to excavate, or run "
               "pipes_to_3d(pipes, dem) first")
        raise InputError(msg)
    counts = shapely.get_num_coordinates(geoms).astype(np.int64)
    counts[~has_z] = 0
    work = np.where(has_z, geoms, None)
    xyz = shapely.get_coordinates(work, include_z=True)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    bad_z = np.zeros(len(geoms), dtype=bool)
    if len(xyz):
        nan_v = np.isnan(xyz[:, 2]).astype(np.int64)
        per = np.add.reduceat(nan_v, np.minimum(offsets[:-1], len(xyz) - 1)) * (counts > 0)
        bad_z = per > 0
    valid = has_z & ~bad_z & (counts >= 2)
    if (present & ~valid).any():
        logger.warning("build_index: %s pipes without a full 3D centreline (no z or NaN z) are "
                       "left out", f"{int((present & ~valid).sum()):,}")
    d = _float(pipes3d, "diameter_mm")
    w = _float(pipes3d, "width_mm")
    h = _float(pipes3d, "height_mm")
    box = ~np.isnan(w) & ~np.isnan(h)
    half_w = np.nan_to_num(np.where(box, w, d), nan=0.0) / 2000.0
    half_h = np.nan_to_num(np.where(box, h, d), nan=0.0) / 2000.0
    g2 = np.full(len(geoms), None, dtype=object)
    g2[valid] = shapely.force_2d(geoms[valid])
    tree = shapely.STRtree(g2)
    index = PipeIndex(
        pipes=pipes3d, tree=tree, geoms2d=g2, xyz=xyz, offsets=offsets,
        half_width=half_w, half_height=half_h,
        accuracy_h=_float(pipes3d, "accuracy_h_m"), accuracy_v=_float(pipes3d, "accuracy_v_m"),
        valid=valid,
    )
    labels = pipes3d.index.to_numpy()
    index.geoms3d = geoms
    index.attrs = {
        "label": labels,
        "source_layer": _obj(pipes3d, "source_layer"),
        "source_id": _obj(pipes3d, "source_id"),
        "agency": _obj(pipes3d, "agency"),
        "pressure": _obj(pipes3d, "pressure"),
        "diameter_mm": d, "width_mm": w, "height_mm": h,
        "depth_assumed": (pipes3d["depth_assumed"].astype(bool).to_numpy()
                          if "depth_assumed" in pipes3d else np.zeros(len(pipes3d), dtype=bool)),
        "stated_cover": _stated_cover(pipes3d),
    }
    index.max_a = (
        float(np.max((half_w + np.nan_to_num(index.accuracy_h))[valid & ~np.isnan(index.accuracy_h)],
                     initial=0.0)),
        float(np.max(half_w[valid & np.isnan(index.accuracy_h)], initial=0.0)))
    index.bounds = (np.asarray(shapely.total_bounds(g2[valid]), dtype=np.float64) if valid.any()
                    else np.full(4, np.nan))
    index.fields = _rules_mod.rule_fields(pipes3d, None, None)
    # minimum cover of every pipe under the shipped rules with excavate's defaults (under
    # traffic, the pipes' own road widths): a query takes its rows
    default_rules = _rules_mod.compile_rules(None)
    f_default = {**index.fields, "under_traffic": np.full(len(pipes3d), 1.0)}
    need_all, ids_all = _rules_mod.cover_from_fields(
        f_default, [r for r in default_rules if r.kind == "min_cover"])
    index.cover = (default_rules, need_all, ids_all)
    # and the pipes each shipped agreement rule is about (utility and conditions)
    index.agreement = {r.rule_id: _rules_mod.utility_mask(f_default["utility"], r.utility)
                       & _rules_mod.condition_mask(f_default, r.clauses)
                       for r in default_rules if r.kind == "agreement"}
    if valid.any():   # the box around all usable pipes, prepared for the "outside" note
        index.extent = shapely.box(*index.bounds)
        shapely.prepare(index.extent)
    # text columns (for the whole index) become pandas str arrays without inference per query
    index.text = _text_columns(pipes3d, {"utility": index.fields["utility"],
                                         **{k: index.attrs[k] for k in _STR_COLS if k in index.attrs}}
                               ) | {"violations", "depth_source"}
    index.seconds = time.perf_counter() - t0
    logger.info("build_index: %s pipes, %s vertices in %.2f s", f"{len(pipes3d):,}",
                f"{len(xyz):,}", index.seconds)
    return index


# --------------------------------------------------------------------------------------------
# the pit
# --------------------------------------------------------------------------------------------
def _pit_geometry(pit: Any, crs: Any, trench: float | None) -> tuple[shapely.Geometry,
                                                                    float | None]:
    """(geometry, depth attribute or None) from a shapely geometry, GeoSeries or GeoDataFrame."""
    depth_attr: float | None = None
    if isinstance(pit, gpd.GeoDataFrame | gpd.GeoSeries):
        if len(pit) != 1:
            msg = (f"pass one pit, got {len(pit)} features; select one "
                   "(pits.iloc[[k]]) or union them (pits.union_all())")
            cli = (f"the --pit file holds {len(pit)} features; give a file with one pit "
                   "polygon (run geo3d excavate once per pit)")
            raise InputError(msg, cli=cli)
        if pit.crs is not None and crs is not None and CRS.from_user_input(pit.crs) != CRS.from_user_input(crs):
            msg = (f"the pit is in {CRS.from_user_input(pit.crs).to_string()} but the pipes are in "
                   f"{CRS.from_user_input(crs).to_string()}; reproject it: pit.to_crs(pipes.crs)")
            cli = (f"the --pit file is in {CRS.from_user_input(pit.crs).to_string()} but the "
                   f"pipes are in {CRS.from_user_input(crs).to_string()}; reproject the pit "
                   f"(ogr2ogr -t_srs {CRS.from_user_input(crs).to_string()} pit2.geojson "
                   "pit.geojson)")
            raise CRSError(msg, cli=cli)
        if isinstance(pit, gpd.GeoDataFrame) and "depth_m" in pit:
            v = pd.to_numeric(pit["depth_m"], errors="coerce").iloc[0]
            depth_attr = float(v) if pd.notna(v) else None
        geom = pit.geometry.iloc[0] if isinstance(pit, gpd.GeoDataFrame) else pit.iloc[0]
    elif isinstance(pit, shapely.Geometry):
        geom = pit
    else:
        msg = f"pit must be a shapely Polygon, a GeoSeries or a GeoDataFrame, got {type(pit).__name__}"
        raise InputError(msg)
    if geom is None or shapely.is_empty(geom):
        return pit_polygon(geom), depth_attr   # raises: empty
    geom = shapely.force_2d(geom)
    if trench is not None:
        if not (isinstance(trench, int | float) and math.isfinite(trench) and trench > 0):
            msg = f"trench must be the trench width in metres (> 0), got {trench!r}"
            raise InputError(msg, cli=f"--trench must be the trench width in metres (> 0), "
                             f"got {trench!r}")
        if shapely.get_type_id(geom) != 1:
            msg = (f"with trench=WIDTH the pit must be the trench centreline (a LineString), got "
                   f"a {geom.geom_type}")
            raise InputError(msg, cli=msg.replace("trench=WIDTH", "--trench WIDTH").replace(
                "the pit", "--pit"))
        geom = shapely.buffer(geom, trench / 2.0, cap_style="flat", join_style="mitre")
    return pit_polygon(geom), depth_attr


def _outline_points(floor: shapely.Polygon) -> NDArray[np.float64]:
    """Where the ground reference is sampled: the floor outline every metre."""
    return shapely.get_coordinates(shapely.segmentize(floor.exterior, 1.0))


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _gap(dem: Dem, pts: NDArray[np.float64]) -> str:
    return ("nodata cells there" if dem_gap_reason(dem, pts[:, 0], pts[:, 1]) == "nodata"
            else "the pit is off the raster")


def _mean_ground(z: NDArray[np.float64], reason: str = "off the raster or nodata") -> float:
    nan = np.isnan(z)
    if nan.all():
        msg = f"the DEM has no ground under the pit ({reason}); pass ground=ELEVATION"
        raise InputError(msg, cli=f"the --dem has no ground under the pit ({reason}); give a "
                         "DEM that covers it, or --ground ELEVATION")
    return float(np.nanmean(z) if nan.any() else np.mean(z))


def _ground_ref(floor: shapely.Polygon, dem: Dem | None, ground: float | None) -> float:
    """The ground reference of the pit: ``ground``, or the mean DEM along the outline."""
    if ground is not None:
        return float(ground)
    if dem is None:
        return float("nan")
    pts = _outline_points(floor)
    z = sample_dem(dem, pts[:, 0], pts[:, 1])
    return _mean_ground(z, _gap(dem, pts) if np.isnan(z).all() else "")


def _volume(floor: shapely.Polygon, ref: float, *, depth: float | None,
            bottom_elevation: float | None, side_slope: float) -> PitVolume:
    """The pit volume from its ground reference and its depth or bottom elevation."""
    if bottom_elevation is not None:
        floor_z = float(bottom_elevation)
        if math.isfinite(ref) and floor_z >= ref:
            msg = f"bottom_elevation {floor_z} is not below the ground at the pit ({ref:.2f})"
            raise InputError(msg, cli=msg.replace("bottom_elevation", "--bottom-elevation"))
    else:
        assert depth is not None
        if not math.isfinite(ref):
            msg = ("depth needs the ground at the pit: pass dem= or ground=ELEVATION, "
                   "or give bottom_elevation=Z instead")
            raise InputError(msg, cli="--depth needs the ground at the pit: give --dem DEM.tif "
                             "or --ground ELEVATION, or --bottom-elevation Z instead")
        floor_z = ref - float(depth)
    if side_slope > 0 and not math.isfinite(ref):
        msg = "side_slope needs the ground at the pit: pass dem= or ground="
        raise InputError(msg, cli="--side-slope needs the ground at the pit: give --dem or "
                         "--ground")
    return PitVolume(floor, floor_z, ref, float(side_slope))


# --------------------------------------------------------------------------------------------
# geometry kernels (vectorised)
# --------------------------------------------------------------------------------------------
def _edges(poly: shapely.Polygon) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Start and end points of every edge of the polygon's rings (exterior, then holes)."""
    if not poly.interiors:
        c = shapely.get_coordinates(poly.exterior)
        return c[:-1], c[1:]
    rings = [poly.exterior, *poly.interiors]
    e0, e1 = [], []
    for r in rings:  # a polygon has one ring plus its holes
        c = np.asarray(r.coords)[:, :2]
        e0.append(c[:-1])
        e1.append(c[1:])
    return np.vstack(e0), np.vstack(e1)


class _EdgeSet:
    """The edges of a pit polygon, prepared once per query for many distance evaluations.

    Arrays are laid out edges × points, so the minimum over the edges runs along the long
    axis (a reduction over a handful of edges per point, row by row, is ~30x slower).

    Inside or outside comes from the even-odd crossing count over the same edge arrays. It is
    exact away from the boundary: the coordinate differences are exact (Sterbenz) and the
    crossing abscissa is off by far less than a nanometre, while the point is at least its
    distance ``d`` from it; points within :attr:`NEAR` of the boundary are asked of GEOS."""

    NEAR = 1e-7

    def __init__(self, poly: shapely.Polygon, e0: NDArray[np.float64],
                 e1: NDArray[np.float64]) -> None:
        self.poly = poly
        d = e1 - e0
        dd = np.einsum("ij,ij->i", d, d)
        self.x0, self.y0 = e0[:, 0, None], e0[:, 1, None]
        self.y1 = e1[:, 1, None]
        self.dx, self.dy = d[:, 0, None], d[:, 1, None]
        self.dd = np.where(dd > 0, dd, 1.0)[:, None]
        flat = d[:, 1] == 0   # never crossed by a horizontal ray
        self.slope = (np.where(flat, 0.0, d[:, 0]) / np.where(flat, 1.0, d[:, 1]))[:, None]
        self.chunk = max(1, 1_000_000 // max(len(e0), 1))

    def signed_distance(self, x: NDArray[np.float64], y: NDArray[np.float64]
                        ) -> NDArray[np.float64]:
        """Signed plan distance of points to the polygon (negative inside)."""
        if len(x) <= 16:   # a few points (the boundary refinement): GEOS answers at once
            return self._distance(x, y) * np.where(shapely.contains_xy(self.poly, x, y), -1.0, 1.0)
        out = np.empty(len(x))
        inside = np.empty(len(x), dtype=bool)
        for s in range(0, len(x), self.chunk):  # chunks of points (one for a pit query)
            xs, ys = x[s:s + self.chunk], y[s:s + self.chunk]
            px = xs - self.x0
            py = ys - self.y0
            crosses = (self.y0 > ys) != (self.y1 > ys)
            crosses &= px < py * self.slope
            np.logical_xor.reduce(crosses, axis=0, out=inside[s:s + self.chunk])
            self._nearest(px, py, out=out[s:s + self.chunk])
        near = np.flatnonzero(out <= self.NEAR)
        if len(near):   # on or next to the boundary: GEOS decides (the boundary is outside)
            inside[near] = shapely.contains_xy(self.poly, x[near], y[near])
        out[inside] *= -1.0
        return out

    def _distance(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Unsigned plan distance of a few points to the polygon's edges."""
        return self._nearest(x - self.x0, y - self.y0, out=np.empty(len(x)))

    def _nearest(self, px: NDArray[np.float64], py: NDArray[np.float64], *,
                 out: NDArray[np.float64]) -> NDArray[np.float64]:
        """Distance to the nearest edge from offsets ``px``, ``py`` (edges × points) to the
        edges' start points, into ``out``; ``px`` and ``py`` are overwritten."""
        t = px * self.dx
        t += py * self.dy
        t /= self.dd
        np.maximum(t, 0.0, out=t)   # the sign of a zero t does not reach the distance
        np.minimum(t, 1.0, out=t)
        px -= t * self.dx
        py -= t * self.dy
        px *= px
        py *= py
        px += py
        return np.sqrt(np.min(px, axis=0), out=out)


def _region_signed(rho: NDArray[np.float64], h: NDArray[np.float64], s: float,
                   depth: float) -> NDArray[np.float64]:
    """Signed 2D distance from ``(rho, h)`` to ``R = {h ≥ 0, rho ≤ s·h, rho ≤ s·D}``."""
    big = depth if math.isfinite(depth) else 1e6
    sd_ = s * big
    norm = math.sqrt(1.0 + s * s)
    inside = (h >= 0) & (rho <= s * np.minimum(h, big))
    sd_in = np.maximum(np.maximum(-h, (rho - s * h) / norm), rho - sd_)
    d_floor = np.hypot(np.maximum(rho, 0.0), h)   # |h| where rho <= 0 (hypot(0, h) = |h|)
    ll = sd_ * sd_ + big * big
    t = np.minimum(np.maximum((rho * sd_ + h * big) / ll, 0.0), 1.0)
    d_slope = np.hypot(rho - t * sd_, h - t * big)
    d_top = np.hypot(rho - sd_, np.maximum(big - h, 0.0))
    sd_out = np.minimum(np.minimum(d_floor, d_slope), d_top)
    return np.where(inside, np.minimum(sd_in, 0.0), sd_out)


def _clip_to_box(p0: NDArray[np.float64], p1: NDArray[np.float64],
                 box: tuple[float, float, float, float]
                 ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Liang–Barsky: the parameter range [t0, t1] of each 2D segment inside ``box``
    (``t0 > t1`` for segments that miss it). Both axes at once."""
    lo = np.array(box[:2])
    hi = np.array(box[2:])
    a = p0[:, :2]
    dx = p1[:, :2] - a
    flat = np.abs(dx) < 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = (lo - a) / dx
        tb = (hi - a) / dx
    enter = np.where(flat, 0.0, np.minimum(ta, tb))
    leave = np.where(flat, 1.0, np.maximum(ta, tb))
    # (two columns: elementwise, a reduction along short rows is slow)
    t0 = np.maximum(np.maximum(enter[:, 0], enter[:, 1]), 0.0)
    t1 = np.minimum(np.minimum(leave[:, 0], leave[:, 1]), 1.0)
    # a segment parallel to an axis and outside the box on that axis misses it
    off = flat & ((a < lo) | (a > hi))
    miss = off[:, 0] | off[:, 1]
    return np.where(miss, 2.0, t0), np.where(miss, -1.0, t1)


def _closest_param(p0: NDArray[np.float64], d1: NDArray[np.float64],
                   q0: NDArray[np.float64], d2: NDArray[np.float64]) -> NDArray[np.float64]:
    """For every segment ``p0 + s·d1`` (rows) and every segment ``q0 + t·d2`` (columns), the
    ``s`` of the closest point (2D): the ``s`` of
    :func:`geo3d.underground.rules._segment_distance` (Ericson, Real-Time Collision Detection
    5.1.9), as a (segments × edges) array without the distances."""
    eps = 1e-12
    d1x, d1y = d1[:, 0, None], d1[:, 1, None]
    d2x, d2y = d2[None, :, 0], d2[None, :, 1]
    rx = p0[:, 0, None] - q0[None, :, 0]
    ry = p0[:, 1, None] - q0[None, :, 1]
    a = d1x * d1x + d1y * d1y
    e = d2x * d2x + d2y * d2y
    f = d2x * rx + d2y * ry
    c = d1x * rx + d1y * ry
    b = d1x * d2x + d1y * d2y
    denom = a * e - b * b
    a_ok = a > eps
    e_ok = e > eps
    a_safe = np.where(a_ok, a, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(denom > eps * np.maximum(a * e, 1.0), np.clip((b * f - c * e) / denom, 0, 1), 0.0)
        t = np.where(e_ok, (b * s + f) / np.where(e_ok, e, 1.0), 0.0)
        s_t0 = np.where(a_ok, np.clip(-c / a_safe, 0, 1), 0.0)
        s_t1 = np.where(a_ok, np.clip((b - c) / a_safe, 0, 1), 0.0)
    s = np.where(t < 0, s_t0, np.where(t > 1, s_t1, s))
    s = np.where(a_ok, s, 0.0)
    return np.where(~e_ok & a_ok, s_t0, s)


@dataclass
class _Measured:
    rows: NDArray[np.int64]          # pipe positions measured
    clearance: NDArray[np.float64]
    exposed: NDArray[np.float64]
    band_gap: NDArray[np.float64]    # min plan gap between the pipe edge and the top outline
    cover: NDArray[np.float64]       # min cover to the top of the pipe where reached
    top_z: NDArray[np.float64]       # highest top of pipe where reached


@dataclass
class _Samples:
    """Points along the candidates' centrelines near the pit (they do not depend on the
    pit's floor elevation)."""

    cand: NDArray[np.int64]          # pipe positions, sorted
    pts: NDArray[np.float64]         # (m, 3) sample points
    prow: NDArray[np.int64]          # candidate (0..n-1) of each sample
    seg: NDArray[np.int64]           # segment of each sample (consecutive on a segment)
    e0: NDArray[np.float64]          # pit floor edges
    e1: NDArray[np.float64]


def _samples(index: PipeIndex, cand: NDArray[np.int64], floor: shapely.Polygon, *,
             reach: float, resolution: float) -> _Samples:
    """The centreline samples of the candidate pipes in the window around the pit: every
    ``resolution`` m plus the closest approaches in plan to each floor edge (vectorised)."""
    # one query's candidates are distinct (STRtree or scan): sorting puts them in index order
    cand = np.sort(cand[index.valid[cand]])
    n = len(cand)
    e0, e1 = _edges(floor)
    if n == 0:
        return _Samples(cand, np.zeros((0, 3)), np.zeros(0, dtype=np.int64),
                        np.zeros(0, dtype=np.int64), e0, e1)
    # the segments of the candidates (a valid pipe has >= 2 vertices): start vertex ids
    starts = index.offsets[cand]
    nseg = index.offsets[cand + 1] - starts - 1
    owner = np.repeat(np.arange(n), nseg)
    vid = np.arange(len(owner)) + np.repeat(starts - (np.cumsum(nseg) - nseg), nseg)
    p0, p1 = index.xyz[vid], index.xyz[vid + 1]
    # keep the part of each segment inside the window around the pit
    left, bottom, right, top = floor.bounds
    box = (left - reach, bottom - reach, right + reach, top + reach)
    t0, t1 = _clip_to_box(p0, p1, box)
    keep = t1 >= t0
    p0, p1, owner, t0, t1 = p0[keep], p1[keep], owner[keep], t0[keep], t1[keep]
    ns = len(p0)
    seg = np.arange(ns)
    dp = p1 - p0
    len2d = np.hypot(dp[:, 0], dp[:, 1])
    # samples: a regular grid on [t0, t1] ...
    span = t1 - t0
    k = np.maximum(np.ceil(span * len2d / resolution).astype(np.int64), 1)
    g_seg = np.repeat(seg, k + 1)
    g_j = np.arange(len(g_seg)) - np.repeat(np.cumsum(k + 1) - (k + 1), k + 1)
    g_t = t0[g_seg] + span[g_seg] * g_j / k[g_seg]
    # ... plus the exact closest approaches in plan to every edge of the floor polygon
    s_par = _closest_param(p0, dp, e0, e1 - e0)
    ok = (s_par >= t0[:, None]) & (s_par <= t1[:, None])
    all_seg = np.concatenate((g_seg, np.nonzero(ok)[0]))
    all_t = np.concatenate((g_t, s_par[ok]))
    order = np.lexsort((all_t, all_seg))
    all_seg, all_t = all_seg[order], all_t[order]
    pts = p0[all_seg] + dp[all_seg] * all_t[:, None]
    return _Samples(cand, pts, owner[all_seg], all_seg, e0, e1)


def _length_where(pts: NDArray[np.float64], prow: NDArray[np.int64], seg: NDArray[np.int64],
                  val: NDArray[np.float64], n: int, fn: Any) -> NDArray[np.float64]:
    """3D length, per candidate, of the sampled centrelines where ``val <= 0``.

    ``val`` holds a continuous function at the samples ``pts`` (ordered along each segment
    ``seg``); ``fn(q, k)`` evaluates it at points ``q`` lying between samples ``k`` and
    ``k + 1``. Where the sign changes between two samples of one segment, the boundary is
    found by false position (linear interpolation within the shrinking bracket), twice."""
    if len(pts) < 2:
        return np.zeros(n)
    same_seg = seg[1:] == seg[:-1]
    s0, s1 = val[:-1], val[1:]
    inside0, inside1 = s0 <= 0, s1 <= 0
    frac = (inside0 & inside1).astype(np.float64)
    cross = np.flatnonzero(same_seg & (inside0 != inside1))
    if len(cross):
        lo = np.zeros(len(cross))          # fraction of the interval, from its inside end
        hi = np.ones(len(cross))
        first_in = inside0[cross]
        s_lo = np.where(first_in, s0[cross], s1[cross])    # <= 0
        s_hi = np.where(first_in, s1[cross], s0[cross])    # > 0
        fi = first_in[:, None]
        q_in = np.where(fi, pts[cross], pts[cross + 1])
        dq = np.where(fi, pts[cross + 1], pts[cross]) - q_in
        for _ in range(2):   # false position, twice
            w = hi - lo
            mid = lo + w * (-s_lo) / np.maximum(s_hi - s_lo, 1e-300)
            mid = np.minimum(np.maximum(mid, lo + w * 1e-3), hi - w * 1e-3)
            v = fn(q_in + dq * mid[:, None], cross)
            inn = v <= 0
            lo, s_lo = np.where(inn, mid, lo), np.where(inn, v, s_lo)
            hi, s_hi = np.where(inn, hi, mid), np.where(inn, s_hi, v)
        frac[cross] = lo + (hi - lo) * (-s_lo) / np.maximum(s_hi - s_lo, 1e-300)
    dd = pts[1:] - pts[:-1]
    seglen = np.sqrt(dd[:, 0] * dd[:, 0] + dd[:, 1] * dd[:, 1] + dd[:, 2] * dd[:, 2])
    contrib = np.where(same_seg, frac * seglen, 0.0)
    return np.asarray(np.bincount(prow[:-1], weights=contrib, minlength=n), dtype=np.float64)


def _measure(index: PipeIndex, smp: _Samples, pit: PitVolume, *, uncertainty_default: float,
             ground_at: Any) -> _Measured:
    """Clearance, exposed length and band gap of the candidate pipes (all vectorised);
    ``ground_at(k)`` is the ground elevation at samples ``k``."""
    cand, pts, prow, all_seg = smp.cand, smp.pts, smp.prow, smp.seg
    n = len(cand)
    if n == 0:
        nan = np.full(n, np.nan)
        return _Measured(cand, nan, nan, nan, nan, nan)
    e0, e1 = smp.e0, smp.e1
    acc_h = index.accuracy_h[cand]
    acc_v = index.accuracy_v[cand]
    half_h = index.half_height[cand]
    a = index.half_width[cand] + np.where(np.isnan(acc_h), uncertainty_default, acc_h)
    b = half_h + np.where(np.isnan(acc_v), uncertainty_default, acc_v)
    edges = _EdgeSet(pit.floor, e0, e1)
    floor_z, slope, depth = pit.floor_z, pit.side_slope, pit.depth

    big = depth if math.isfinite(depth) else 1e6

    def signed(q: NDArray[np.float64], a_q: NDArray[np.float64], b_q: NDArray[np.float64]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(envelope's signed distance to V, rho, centreline's exposure function)."""
        ds = edges.signed_distance(q[:, 0], q[:, 1])
        rho_ = ds - a_q
        h_ = q[:, 2] - floor_z + b_q
        u_ = np.clip(q[:, 2] - floor_z, 0.0, big)
        return _region_signed(rho_, h_, slope, depth), rho_, np.maximum(ds - slope * u_, -h_)

    sd, rho, inside_c = signed(pts, a[prow], b[prow])
    clearance = np.full(n, np.inf)
    np.minimum.at(clearance, prow, sd)
    a_p, b_p = a[prow], b[prow]
    exposed = _length_where(pts, prow, all_seg, inside_c, n,
                            lambda q, k: signed(q, a_p[k], b_p[k])[2])
    # hand-dig band gap (plan, to the top outline)
    top_w = slope * (depth if math.isfinite(depth) else 0.0)
    band_gap = np.full(n, np.inf)
    np.minimum.at(band_gap, prow, np.maximum(rho - top_w, 0.0))
    # cover and top elevation where the envelope reaches the pit
    cover = np.full(n, np.nan)
    top_z = np.full(n, np.nan)
    hit = np.flatnonzero(sd <= _EPS)
    if len(hit):
        ph = prow[hit]
        tz = pts[hit, 2] + half_h[ph]
        np.fmax.at(top_z, ph, tz)
        c = ground_at(hit) - tz
        cover_min = np.full(n, np.inf)
        np.fmin.at(cover_min, ph, c)
        cover = np.where(np.isfinite(cover_min), cover_min, np.nan)
    clearance[~np.isfinite(clearance)] = np.nan
    band_gap[~np.isfinite(band_gap)] = np.nan
    return _Measured(cand, clearance, exposed, band_gap, cover, top_z)


# --------------------------------------------------------------------------------------------
# excavate
# --------------------------------------------------------------------------------------------
def _stated_cover(frame: pd.DataFrame) -> NDArray[np.float64]:
    stated = np.fmin(np.fmin(_float(frame, "depth_m"), _float(frame, "depth_start_m")),
                     _float(frame, "depth_end_m"))
    if "depth_reference" in frame and "depth_kind" in frame:
        ok = ((frame["depth_reference"].astype(object).to_numpy() == "top")
              & (frame["depth_kind"].astype(object).to_numpy() == "cover"))
        stated = np.where(ok, stated, np.nan)
    return stated


def excavate(
    pipes: gpd.GeoDataFrame | PipeIndex,
    pit: Any,
    *,
    depth: float | None = None,
    bottom_elevation: float | None = None,
    dem: Any = None,
    ground: float | None = None,
    trench: float | None = None,
    side_slope: float = 0.0,
    uncertainty_default: float = 0.0,
    hand_dig_band: float | None = None,
    road_width: float | pd.Series | None = None,
    under_traffic: bool = True,
    rules: pd.DataFrame | str | os.PathLike[str] | None = None,
    resolution: float = 0.05,
    search: str = "strtree",
    structures: gpd.GeoDataFrame | None = None,
) -> Excavation:
    """Which pipes a pit (or trench) reaches, by how much, and what it takes to dig it.

    See the module docstring for the exact model of the pit volume, the pipe envelopes,
    ``clearance_m``, ``exposed_length_m`` and the hand-dig band.

    Parameters
    ----------
    pipes : GeoDataFrame or PipeIndex
        Canonical pipes: 3D centrelines (LineString Z, from
        :func:`~geo3d.underground.pipes_to_3d`), or 2D ones with ``dem=`` (placed in 3D here;
        depth-unknown pipes at the default cover, flagged ``depth_assumed``), or a
        :class:`PipeIndex` from :func:`build_index` to answer many queries fast.
    pit : Polygon, GeoSeries or GeoDataFrame
        The floor outline (concave allowed), in the pipes' CRS; with ``trench=WIDTH`` the
        trench centreline. A GeoDataFrame's ``depth_m`` is used when ``depth`` is not given.
    depth : float, optional
        Depth of the floor below the ground at the pit (the mean of the ground along the
        outline every 1 m; or ``ground``).
    bottom_elevation : float, optional
        Absolute floor elevation instead of ``depth``.
    dem : Dem or raster path, optional
        Ground elevation: places 2D pipes in 3D, gives the ground at the pit and the covers.
    ground : float, optional
        One ground elevation at the pit (overrides the DEM for the pit; flat ground for
        covers and for 2D pipes when there is no DEM).
    trench : float, optional
        Trench width (m): ``pit`` is then the trench centreline (flat ends).
    side_slope : float
        Horizontal widening per metre of height (0 = vertical walls; 0.5 = 1:0.5).
    uncertainty_default : float
        Position uncertainty (m, horizontal and vertical) for rows that state none; e.g.
        0.457 for the US 811 18-inch tolerance zone.
    hand_dig_band : float, optional
        Override the rules' hand-dig band (m each side of the pipe edge).
    road_width, under_traffic
        Passed to :func:`~geo3d.underground.rules.required_cover` for the cover check.
    rules : DataFrame or path, optional
        Rules table (:func:`~geo3d.underground.rules.load_rules`); default the shipped one.
    resolution : float
        Sampling step along the centrelines (m).
    search : {"strtree", "scan"}
        How candidates are found: the STRtree of the index, or a plain scan
        (``pipes.intersects(pit buffered by the reach)``, for checking and benchmarks).
    structures : GeoDataFrame, optional
        Point structures (manholes, valves, hydrants; columns ``utility, kind, structure_id,
        source_layer, depth_m``) in the pipes' CRS: those inside the pit or within the
        hand-dig band of it are listed in ``Excavation.structures`` and the summary.

    Returns
    -------
    Excavation
        ``conflicts`` holds one row per reached pipe with the CSV contract columns:
        ``depth_m`` is the smallest cover (ground − top of pipe) where the pipe meets the pit
        (ground from ``dem``/``ground``; the stated top-of-pipe cover when there is neither),
        ``exposed_length_m``/``clearance_m`` as defined in the module docstring,
        ``in_hand_dig_band``, and ``violations`` (ids of the rules broken, ``;``-joined, e.g.
        ``KR-WATER-COVER-D900`` when the cover is below the minimum); ``depth_assumed`` flags
        pipes placed at the default cover because their depth is unknown.

    Raises
    ------
    InputError
        Bad pit geometry (not a polygon, invalid, empty), ``depth`` ≤ 0, neither or both of
        ``depth``/``bottom_elevation``, no ground for ``depth``, pipes without z and no DEM.
    CRSError
        The pit, the DEM and the pipes are not in one projected CRS.

    Examples
    --------
    A pipe below the floor: clearance is the vertical gap (floor at 27.5; top of pipe 27.2):

    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"utility": ["sewer"], "diameter_mm": [400.0]},
    ...                      geometry=[shapely.LineString([(-5, 1, 27.0), (5, 1, 27.0)])],
    ...                      crs="EPSG:5186")
    >>> ex = excavate(p, shapely.box(0, 0, 2, 2), depth=2.5, ground=30.0)
    >>> len(ex.conflicts), round(float(ex.candidates["clearance_m"].iloc[0]), 3)
    (0, 0.3)
    """
    t_start = time.perf_counter()
    if search not in SEARCH_METHODS:
        msg = f"unknown search {search!r}; valid: {', '.join(SEARCH_METHODS)}"
        raise OptionError(msg)
    if not (math.isfinite(side_slope) and side_slope >= 0):
        msg = f"side_slope must be >= 0 (horizontal per vertical), got {side_slope!r}"
        raise InputError(msg, cli=msg.replace("side_slope", "--side-slope"))
    if not (math.isfinite(uncertainty_default) and uncertainty_default >= 0):
        msg = f"uncertainty_default must be >= 0 metres, got {uncertainty_default!r}"
        raise InputError(msg, cli=msg.replace("uncertainty_default", "--uncertainty"))
    if not resolution > 0:
        msg = f"resolution must be > 0 metres, got {resolution!r}"
        raise InputError(msg)
    if ground is not None and not _finite(ground):
        msg = f"ground must be a finite elevation in metres, got {ground!r}"
        raise InputError(msg, cli=f"--ground must be a finite elevation in metres, got {ground!r}")
    if bottom_elevation is not None and not _finite(bottom_elevation):
        msg = f"bottom_elevation must be a finite elevation in metres, got {bottom_elevation!r}"
        raise InputError(msg, cli=msg.replace("bottom_elevation", "--bottom-elevation"))
    crs = pipes.crs if isinstance(pipes, PipeIndex | gpd.GeoDataFrame) else None
    floor, depth_attr = _pit_geometry(pit, crs, trench)
    if depth is None and bottom_elevation is None:
        depth = depth_attr
    if depth is not None and bottom_elevation is not None:
        msg = "pass either depth or bottom_elevation, not both"
        raise InputError(msg, cli="give either --depth or --bottom-elevation, not both")
    if depth is None and bottom_elevation is None:
        msg = ("the pit needs a depth: pass depth=METRES or "
               "bottom_elevation=Z, or give the pit a depth_m attribute")
        raise InputError(msg, cli="the pit needs a depth: give --depth METRES or "
                         "--bottom-elevation Z, or a depth_m attribute in the --pit file")
    if depth is not None and not (math.isfinite(float(depth)) and float(depth) > 0):
        msg = f"depth must be a positive number of metres, got {depth!r}"
        raise InputError(msg, cli=f"--depth must be a positive number of metres, got {depth!r}")
    dem_obj: Dem | None = None
    if dem is not None:
        dem_obj = as_dem(dem)
        checked: weakref.WeakSet[Dem] = (pipes._checked if isinstance(pipes, PipeIndex)
                                          else weakref.WeakSet())
        if crs is not None and dem_obj not in checked:
            check_same_crs(dem_obj, crs, what="the pipes")
            checked.add(dem_obj)
    # pipes → 3D index
    if isinstance(pipes, PipeIndex):
        index = pipes
    elif isinstance(pipes, gpd.GeoDataFrame):
        _check_projected(pipes.crs, "pipes")
        g = pipes.geometry.to_numpy()
        present = ~(shapely.is_missing(g) | shapely.is_empty(g))
        if present.any() and not shapely.has_z(g[present]).all():
            source = dem_obj
            if source is None and ground is not None:
                source = flat_dem(float(ground), tuple(pipes.total_bounds), pipes.crs)
            if source is None:
                msg = ("the pipes have no z and no DEM was given: pass dem= (a GeoTIFF of the "
                       "ground) or ground=ELEVATION, or run pipes_to_3d(pipes, dem) first")
                raise InputError(msg, cli="the pipes have no elevations and no ground was "
                                 "given: give --dem DEM.tif, or --ground ELEVATION for flat "
                                 "ground")
            pipes = pipes_to_3d(pipes, source)
        index = build_index(pipes)
    else:
        msg = f"pipes must be a GeoDataFrame or a PipeIndex, got {type(pipes).__name__}"
        raise InputError(msg)
    compiled = _rules_mod.compile_rules(rules)
    band = (float(hand_dig_band) if hand_dig_band is not None
            else _rules_mod.rule_value(rules, "hand_dig_band", utility="gas"))
    band_rules = [r for r in compiled if r.kind == "hand_dig_band"]
    max_band = max([band if math.isfinite(band) else 0.0]
                   + [r.value_m for r in band_rules if hand_dig_band is None])
    # the ground at the pit: with vertical walls the reach does not depend on it, and the DEM
    # is sampled once, along the outline and at the centreline samples together
    joint = dem_obj is not None and ground is None and side_slope == 0
    if joint:
        top_w = 0.0
    else:
        vol = _volume(floor, _ground_ref(floor, dem_obj, ground), depth=depth,
                      bottom_elevation=bottom_elevation, side_slope=side_slope)
        top_w = side_slope * (vol.depth if math.isfinite(vol.depth) else 0.0)
    reach = index.max_half_width(uncertainty_default) + top_w + max_band + 0.5
    # candidates
    if search == "strtree":
        cand = index.tree.query(floor, predicate="dwithin", distance=reach)
    else:
        zone = shapely.buffer(floor, reach)
        cand = np.flatnonzero(index.series2d().intersects(zone).to_numpy())
    cand = np.asarray(cand, dtype=np.int64)
    smp = _samples(index, cand, floor, reach=reach, resolution=resolution)
    ground_at: Any
    if joint:
        assert dem_obj is not None
        outline = _outline_points(floor)
        # a sample can reach the pit only within the widest envelope of its outline
        grow = index.max_half_width(uncertainty_default) + 1e-6
        left, bottom, right, top = floor.bounds
        near = np.flatnonzero((smp.pts[:, 0] >= left - grow) & (smp.pts[:, 0] <= right + grow)
                              & (smp.pts[:, 1] >= bottom - grow) & (smp.pts[:, 1] <= top + grow))
        z = sample_dem(dem_obj, np.concatenate((outline[:, 0], smp.pts[near, 0])),
                       np.concatenate((outline[:, 1], smp.pts[near, 1])))
        zo = z[:len(outline)]
        vol = _volume(floor, _mean_ground(zo, _gap(dem_obj, outline) if np.isnan(zo).all()
                                          else ""), depth=depth,
                      bottom_elevation=bottom_elevation, side_slope=side_slope)
        z_pts = np.full(len(smp.pts), np.nan)
        z_pts[near] = z[len(outline):]

        def ground_at(k: NDArray[np.int64]) -> NDArray[np.float64]:
            return z_pts[k]
    elif dem_obj is not None and ground is None:
        d_ = dem_obj

        def ground_at(k: NDArray[np.int64]) -> NDArray[np.float64]:
            return sample_dem(d_, smp.pts[k, 0], smp.pts[k, 1])
    else:
        gval = float(ground) if ground is not None else float("nan")

        def ground_at(k: NDArray[np.int64]) -> NDArray[np.float64]:
            return np.full(len(k), gval)
    m = _measure(index, smp, vol, uncertainty_default=uncertainty_default, ground_at=ground_at)
    # the rows in output order (by clearance, then source id), gathered once
    order = np.lexsort((index.attrs["source_id"][m.rows].astype(str), np.round(m.clearance, 3)))
    rows = m.rows[order]
    at = {k: v[rows] for k, v in index.attrs.items()}
    f = {k: v[rows] for k, v in index.fields.items()}
    if road_width is not None:
        if isinstance(road_width, pd.Series):
            f["road_width_m"] = pd.to_numeric(road_width.reindex(at["label"]), errors="coerce"
                                              ).to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            f["road_width_m"] = np.full(len(rows), float(road_width))
    if under_traffic is not None:
        f["under_traffic"] = np.full(len(rows), 1.0 if under_traffic else 0.0)
    util = f["utility"]
    clearance, band_gap = m.clearance[order], m.band_gap[order]
    reached = np.asarray(clearance <= _EPS)
    band_per = np.full(len(rows), np.nan)
    for r in band_rules:  # loop over rules, not pipes
        hit = _rules_mod.utility_mask(util, r.utility)
        val = band if hand_dig_band is not None else r.value_m
        band_per = np.where(hit & np.isnan(band_per), val, band_per)
    in_band = np.asarray(band_gap <= band_per + _EPS) & ~np.isnan(band_per)
    m_cover = m.cover[order]
    cover = np.where(np.isnan(m_cover), at["stated_cover"], m_cover)
    # the shipped rules with the default options: worked out for every pipe by build_index
    defaults = (index.cover is not None and compiled is index.cover[0] and road_width is None
                and under_traffic is not None and bool(under_traffic))
    if defaults:
        assert index.cover is not None
        need, ids = index.cover[1][rows], index.cover[2][rows]
    else:   # only the cover rules of the utilities at hand (the others match no row)
        present = set(util.tolist())
        need, ids = _rules_mod.cover_from_fields(
            f, [r for r in compiled
                if r.kind == "min_cover" and (r.utility == "*" or r.utility in present)])
    with np.errstate(invalid="ignore"):
        short = reached & (cover < need - 1e-6)
    violations = np.where(short, ids, "").astype(object)
    cols: dict[str, Any] = {
        "source_layer": at["source_layer"],
        "source_id": at["source_id"],
        "utility": util,
        "diameter_mm": at["diameter_mm"],
        "depth_m": np.round(cover, 3),
        "exposed_length_m": np.round(m.exposed[order], 3),
        "clearance_m": np.round(clearance, 3),
        "in_hand_dig_band": in_band,
        "violations": violations,
        "depth_source": np.where(at["depth_assumed"], DEPTH_SOURCES[1],
                                 DEPTH_SOURCES[0]).astype(object),
        "agency": at["agency"],
        "width_mm": at["width_mm"],
        "height_mm": at["height_mm"],
        "pressure": at["pressure"],
        "depth_assumed": at["depth_assumed"],
        "top_z_m": np.round(m.top_z[order], 3),
        "reached": reached,
        "pipe": at["label"],
    }
    geoms = index.geoms3d[rows]
    exposed_sorted = cols["exposed_length_m"]
    agree = ({k: v[rows] for k, v in index.agreement.items()} if defaults else None)
    summary = _summary(index, cols, vol, compiled, f,
                       index.geoms2d[rows], t_start, search=search, n_candidates=len(cand),
                       exposed=exposed_sorted, agreement=agree)
    listed = None
    if structures is not None:
        listed = structures_in_pit(structures, vol.top, band=max_band, crs=index.crs)
        _structures_summary(listed, summary)
    ex = Excavation(pit=vol, summary=summary, structures=listed, _columns=cols, _geoms=geoms,
                    _crs=index.crs, _text=index.text)
    if logger.isEnabledFor(logging.INFO):
        logger.info("excavate: %s pipes -> %s reached (%s gas, %.1f m exposed); verdict: %s",
                    f"{len(index):,}", f"{summary['reached']:,}",
                    summary["reached_by_utility"].get("gas", 0), summary["exposed_length_m"],
                    summary["verdict"])
    return ex


def _structures_summary(listed: gpd.GeoDataFrame, summary: dict[str, Any]) -> None:
    """Add the structures in and near the pit to the summary (counts, list, a note)."""
    inside = listed["inside"].to_numpy(dtype=bool)
    kinds = listed.loc[inside, "kind"].astype(str).value_counts().sort_index()
    by_kind = {str(k): int(v) for k, v in kinds.items()}
    summary["structures"] = {
        "inside": int(inside.sum()), "near": int((~inside).sum()), "inside_by_kind": by_kind,
        "listed": [{"structure_id": str(i), "kind": str(k), "utility": str(u),
                    "distance_m": float(d)}
                   for i, k, u, d in zip(listed["structure_id"], listed["kind"],
                                         listed["utility"], listed["distance_m"], strict=True)]}
    if inside.any():
        summary["notes"].append(f"{int(inside.sum())} structure(s) in the pit: "
                                + ", ".join(f"{v} {k}" for k, v in by_kind.items()))


_STR_COLS = ("source_layer", "source_id", "utility", "violations", "agency", "pressure",
             "depth_source")


def _text_columns(frame: pd.DataFrame, values: Mapping[str, NDArray[Any]]) -> frozenset[str]:
    """Names of the columns holding nothing but text and missing values (a pandas string
    column, or object values that pandas would infer as text)."""
    return frozenset(
        k for k, v in values.items()
        if (k in frame and isinstance(frame[k].dtype, pd.StringDtype))
        or pd.api.types.infer_dtype(v, skipna=True) in ("string", "empty"))


@functools.cache
def _str_dtype() -> Any:
    return pd.array(np.empty(0, dtype=object), dtype="str").dtype


def _str_array(values: NDArray[Any]) -> Any:
    """pandas' ``str`` array of text-or-missing values: what ``pd.DataFrame`` infers from them,
    built straight from Arrow (a query's frame is a few rows; inference dominated its cost)."""
    dtype = _str_dtype()
    if getattr(dtype, "storage", None) == "pyarrow":
        import pyarrow as pa

        try:
            return pd.arrays.ArrowStringArray(  # type: ignore[call-arg]
                pa.array(values, type=pa.large_string(), from_pandas=True), dtype=dtype)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            pass   # values pyarrow does not take as text (or another pandas): infer as usual
    return pd.array(values, dtype="str")


def _frame(cols: Mapping[str, NDArray[Any]], geoms: NDArray[np.object_],
           crs: Any, text: frozenset[str] = frozenset()) -> gpd.GeoDataFrame:
    """The result table. ``text`` names the columns known to hold only text or missing values
    (for the whole index): they become pandas ``str`` arrays directly. Other text columns are
    left to pandas' inference, except all-missing ones (and empty frames), converted explicitly
    so the dtype never depends on the data."""
    data: dict[str, Any] = {
        k: (_str_array(v) if k in _STR_COLS and (k in text or pd.isna(v).all()) else v)
        for k, v in cols.items()}
    data["geometry"] = from_shapely(geoms, crs=crs)
    return gpd.GeoDataFrame(data, geometry="geometry", copy=False)


def _summary(index: PipeIndex, cols: Mapping[str, NDArray[Any]], vol: PitVolume,
             compiled: list[Any], f: Mapping[str, NDArray[Any]], geoms2d: NDArray[np.object_],
             t_start: float, *, search: str, n_candidates: int,
             exposed: NDArray[np.float64],
             agreement: Mapping[str, NDArray[np.bool_]] | None = None) -> dict[str, Any]:
    """The query's summary; ``agreement`` holds the rows each agreement rule is about when
    they were worked out with the index (the default rules)."""
    notes: list[str] = []
    util = cols["utility"]
    reached = cols["reached"]
    top = vol.top
    inside = np.full(len(geoms2d), np.nan)   # plan length of a candidate in the top outline

    def length_in_area(mask: NDArray[np.bool_]) -> float:
        if not mask.any():
            return 0.0
        todo = mask & np.isnan(inside)   # each candidate's intersection is computed once
        if todo.any():
            inside[todo] = shapely.length(shapely.intersection(geoms2d[todo], top))
        return float(inside[mask].sum())

    gas_len = length_in_area(util == "gas")
    agreements: list[str] = []
    for r in compiled:  # loop over rules, not pipes
        if r.kind != "agreement":
            continue
        about = (agreement[r.rule_id] if agreement is not None
                 else _rules_mod.utility_mask(util, r.utility) & _rules_mod.condition_mask(dict(f), r.clauses))
        if r.reference == "length_in_area":
            amount = length_in_area(about)
        else:  # exposed_length
            amount = float(exposed[about & reached].sum())
        if amount >= r.value_m - 1e-9:
            agreements.append(f"{r.rule_id} ({r.reference} {amount:.1f} m >= {r.value_m:g} m)")
    mp = ((cols["pressure"] == "medium") | (cols["pressure"] == "high")) & reached
    notify = reached | cols["in_hand_dig_band"]
    n_reached = int(reached.sum())
    if agreements:
        verdict = "gas agreement required"
    elif notify.any():
        verdict = "notify utilities"
    else:
        verdict = "no utilities reached"
    if index.extent is None:
        notes.append("there are no pipes with a usable 3D centreline")
    else:
        if not shapely.intersects(index.extent, top):
            notes.append("the pit lies outside the pipes' extent: nothing to reach (check the "
                         "CRS and the coordinates)")
        elif n_reached == 0:
            notes.append("no pipe reaches the pit volume")
    n_assumed = int((cols["depth_assumed"] & reached).sum())
    if n_assumed:
        notes.append(f"{n_assumed} reached pipe(s) have no recorded depth: placed at the default "
                     "cover (depth_assumed); locate them before digging")
    names = util[reached].astype(str)
    ru = sorted(set(names.tolist()))   # the utilities reached (a few), as np.unique orders them
    inv = np.searchsorted(np.array(ru, dtype=names.dtype), names)
    counts = np.bincount(inv, minlength=len(ru))
    sums = np.bincount(inv, weights=exposed[reached], minlength=len(ru))
    agencies = {str(a) for a in cols["agency"][notify] if a is not None}
    return {
        "verdict": verdict,
        "pipes": len(index),
        "candidates": int(n_candidates),
        "reached": n_reached,
        "reached_by_utility": {str(k): int(v) for k, v in zip(ru, counts, strict=True)},
        "exposed_length_m": round(float(exposed[reached].sum()), 3),
        "exposed_length_by_utility_m": {str(k): round(float(v), 3)
                                        for k, v in zip(ru, sums, strict=True)},
        "gas_length_in_area_m": round(gas_len, 3),
        "gas_medium_high_exposed_m": round(float(exposed[mp].sum()), 3),
        "in_hand_dig_band": int(cols["in_hand_dig_band"].sum()),
        "agreements": agreements,
        "utilities_to_notify": sorted({str(u) for u in util[notify] if u is not None}),
        "agencies_to_notify": sorted(agencies),
        "violations": int((cols["violations"][reached] != "").sum()),
        "depth_assumed": n_assumed,
        "pit": {
            "area_m2": round(float(vol.floor.area), 3),
            "floor_z": round(vol.floor_z, 3),
            "top_z": round(vol.top_z, 3) if math.isfinite(vol.top_z) else None,
            "depth_m": round(vol.depth, 3) if math.isfinite(vol.depth) else None,
            "side_slope": vol.side_slope,
            "volume_m3": round(vol.volume_m3(), 2) if math.isfinite(vol.depth) else None,
        },
        "notes": notes,
        "search": search,
        "seconds": round(time.perf_counter() - t_start, 4),
    }


def summary_text(summary: Mapping[str, Any]) -> str:
    """A short human-readable summary of :attr:`Excavation.summary` (the CLI prints it)."""
    lines = [f"verdict: {summary['verdict']}",
             f"pipes reached: {summary['reached']} of {summary['pipes']:,} "
             f"({', '.join(f'{k} {v}' for k, v in summary['reached_by_utility'].items()) or 'none'})",
             f"exposed length: {summary['exposed_length_m']:.1f} m; gas in the area: "
             f"{summary['gas_length_in_area_m']:.1f} m; medium/high-pressure gas exposed: "
             f"{summary['gas_medium_high_exposed_m']:.1f} m"]
    if summary["agreements"]:
        lines.append("agreement: " + "; ".join(summary["agreements"]))
    if summary["utilities_to_notify"]:
        lines.append("notify: " + ", ".join(summary["utilities_to_notify"])
                     + (f" ({', '.join(summary['agencies_to_notify'])})"
                        if summary["agencies_to_notify"] else ""))
    lines.extend(f"note: {n}" for n in summary["notes"])
    return "\n".join(lines)


_summary_text = summary_text  # the former private name
