"""The indoor pipeline: a market scan becomes levels, stores and safety facilities.

``segment_scan`` runs, on one :class:`~geo3d.pointcloud.PointCloud`:

1. thinning to a voxel grid (labels are spread back to every input point at the end);
2. :func:`~geo3d.indoor.levels.levels_from_cloud` and the floor of every point;
3. :func:`~geo3d.indoor.structure.structure_classes` (slabs, ceilings, walls, columns);
4. :func:`~geo3d.pointcloud.segment.segment_points` per level on what is left (fragments);
5. facilities among the fragments (small, coloured, mounted — :mod:`geo3d.pointcloud.classify`);
6. the other fragments merged in plan (:func:`~geo3d.pointcloud.segment.merge_in_plan`) into
   stall volumes, then classified; what no rule takes is clutter (object_id −1).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..errors import EmptyResultError, InputError
from ..pointcloud.classes import CLASS_CODES, CLASS_NAMES, STORE
from ..pointcloud.classify import DEFAULT_RULES, Rule, classify_objects, colour_classes
from ..pointcloud.cloud import PointCloud
from ..pointcloud.filter import voxel_thin
from ..pointcloud.objects import objects_from_segments
from ..pointcloud.segment import (
    Labels,
    merge_in_plan,
    segment_points,
    split_at_gaps,
    voxel_components,
)
from .evidence import WarningLog, market_evidence
from .levels import ground_level, levels_from_cloud, levels_of_points
from .structure import VERTICAL, structure_classes

__all__ = ["ScanSegmentation", "absorb_parts", "attach_trim", "into_hosts", "join_fragments", "join_pieces",
           "segment_scan"]

log = logging.getLogger(__name__)


@dataclass
class ScanSegmentation:
    """What :func:`segment_scan` found.

    Attributes
    ----------
    levels : DataFrame
        One row per level (floor, label, ordinal, slab_z, ceiling_z, ...).
    objects : GeoDataFrame
        One row per store or facility, indexed by ``object_id`` (1..n): ``object_class``,
        ``kind``, ``floor``, footprint geometry, heights, size, colour, ``wall_distance``.
    level : ndarray of int8
        Floor number of every input point (0 = none).
    object_id : ndarray of int32
        Object of every input point (−1 = none).
    object_class : ndarray of uint8
        Class code of every input point (0 = structure or clutter).
    timings : dict
        Seconds per stage.
    warnings : list of str
        Every warning issued or logged during the run (report.json carries them).
    market_check : dict
        :func:`~geo3d.indoor.evidence.market_evidence`: whether the scan looks like a market,
        and why not.
    unclassified : GeoDataFrame or None
        Objects no rule took (class 0; their points keep object_id −1).
    """

    levels: pd.DataFrame
    objects: gpd.GeoDataFrame
    level: NDArray[np.int8]
    object_id: NDArray[np.int32]
    object_class: NDArray[np.uint8]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    market_check: dict[str, Any] = field(default_factory=dict)
    unclassified: gpd.GeoDataFrame | None = None

    @property
    def stores(self) -> gpd.GeoDataFrame:
        """The store objects."""
        return self.objects[self.objects["object_class"] == STORE]

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facility objects (every class but stores)."""
        return self.objects[self.objects["object_class"] > STORE]


def frag_ids_of(labels: Labels, keep: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Labels of the kept (facility) points."""
    return np.unique(labels[keep & (labels >= 0)])


def _point_wall_distance(xyz: NDArray[np.float64], vertical: NDArray[np.bool_], candidates: NDArray[np.bool_],
                         reach: float = 1.0) -> NDArray[np.float64]:
    """3D distance from each ``candidates`` point to the nearest wall or column point.

    ``inf`` beyond ``reach``, for points that are not candidates, or when there is no wall.
    Computed once per scan: segments change as they are split and joined, their points do not.
    """
    out = np.full(len(xyz), np.inf)
    if not vertical.any():
        return out
    sel = np.flatnonzero(candidates)
    d, _ = cKDTree(xyz[vertical]).query(xyz[sel], k=1, distance_upper_bound=reach, workers=-1)
    out[sel] = d
    return out


def _wall_distance(point_distance: NDArray[np.float64], labels: Labels, n: int) -> NDArray[np.float64]:
    """Smallest distance from each segment 0..n−1 to a wall or column (per-point distances in)."""
    out = np.full(n, np.inf)
    sel = np.flatnonzero(labels >= 0)
    np.minimum.at(out, labels[sel], point_distance[sel])
    return out


def segment_scan(
    cloud: PointCloud,
    *,
    thin: float | None = 0.04,
    levels: pd.DataFrame | None = None,
    entrance_level: int | None = None,
    ground_z: float | None = None,
    method: str | Callable[..., Labels] = "voxel_cc",
    voxel_size: float = 0.15,
    min_points: int = 3,
    plan_cell: float = 0.15,
    classify: str | Callable[[gpd.GeoDataFrame], Any] = "rules",
    rules: Sequence[Rule] = DEFAULT_RULES,
    point_class: NDArray[Any] | None = None,
    join_facilities: float = 0.25,
    join_gap: float = 0.75,
    join_across: float = 2.5,
    max_store_size: tuple[float, float] | None = (4.2, 3.2),
    seed: int = 0,
    check_market: bool = True,
) -> ScanSegmentation:
    """Levels, stores and safety facilities of an indoor scan.

    Parameters
    ----------
    cloud : PointCloud
        The scan (from :func:`geo3d.io.las.read_las`), in metres.
    thin : float or None
        Voxel size of the working cloud (None: use every point).
    levels : DataFrame, optional
        Known levels (skips detection); else :func:`levels_from_cloud` with
        ``entrance_level`` / ``ground_z``. When no storey is found (an outdoor tile) a
        :class:`UserWarning` is issued, :func:`~geo3d.indoor.levels.ground_level` gives one
        level on the ground, and ``voxel_size`` is raised to the tile's point spacing.
    method : {"voxel_cc", "dbscan"} or callable
        Segmentation of the non-structure points (see :func:`segment_points`).
    voxel_size : float
        Linking distance of the segmentation. Stalls closer than 2 × ``voxel_size`` may join.
    min_points : int
        Smallest fragment kept (on the working cloud).
    plan_cell : float
        Plan cell of the merge of fragments into stall volumes.
    classify : "rules", "file" or callable
        How objects get their class (see :func:`classify_objects`); ``"file"`` uses
        ``point_class`` (e.g. the scan's own classification codes, one per input point).
    rules : sequence of Rule
        The rule table for ``classify="rules"``.
    point_class : array of int, optional
        Class code per input point, for ``classify="file"``.
    join_facilities : float
        Pieces of one facility kind closer than this (m) are joined into one object (0: off).
    join_gap : float
        Non-facility pieces whose plan outlines (convex hulls) come closer than this (m) join
        into one object while the joined outline stays within ``max_store_size``: parts of a
        thinly sampled stall (0: off). See :func:`join_fragments`.
    join_across : float
        A counter-like and a shelf-like piece facing each other up to this far apart (m) join
        too, when nothing stands between them: an open stall seen only by its front and back
        (0 or ≤ ``join_gap``: off). See ``across`` in :func:`join_fragments`.
    max_store_size : (float, float) or None
        Largest store, (length, width) of its oriented rectangle in m: 2–4 m frontage and 2–3 m
        deep in Seoul's market halls, with a margin. A floor-standing segment larger than this
        is segmented again at half ``voxel_size`` (two stalls linked across their gap), and
        joined pieces never exceed it.
    seed : int
        Seed of the plane search (same input and seed, same output).
    check_market : bool
        Weigh whether the scan looks like a market (:func:`~geo3d.indoor.evidence.market_evidence`)
        and warn when it does not (off for the tiles of a larger scan). Without an indoor storey
        no object is a store, whatever this says.

    Returns
    -------
    ScanSegmentation

    Examples
    --------
    >>> from geo3d import datasets
    >>> from geo3d.io.las import read_las
    >>> result = segment_scan(read_las(datasets.get_path("market")))  # doctest: +SKIP
    >>> result.objects["kind"].value_counts()  # doctest: +SKIP
    """
    args = {k: v for k, v in locals().items() if k not in ("cloud", "check_market")}
    with WarningLog() as record:
        result, indoor = _segment_scan(cloud, **args)
        result.market_check = market_evidence(result.levels, result.objects["kind"], indoor=indoor)
        check = result.market_check
        if len(result.objects) == 0 and check_market:
            _warn("segment_scan: no store and no facility found; the outputs are empty")
        if not check["looks_like_market"] and check_market:
            _warn("segment_scan: this scan does not look like a market: " + "; ".join(check["reasons"]))
    result.warnings = record.messages
    return result


def _warn(msg: str) -> None:
    warnings.warn(msg, stacklevel=3)
    log.warning(msg)


def _segment_scan(cloud: PointCloud, *, thin: float | None, levels: pd.DataFrame | None,
                  entrance_level: int | None, ground_z: float | None, method: str | Callable[..., Labels],
                  voxel_size: float, min_points: int, plan_cell: float,
                  classify: str | Callable[[gpd.GeoDataFrame], Any], rules: Sequence[Rule],
                  point_class: NDArray[Any] | None, join_facilities: float, join_gap: float,
                  join_across: float, max_store_size: tuple[float, float] | None,
                  seed: int) -> tuple[ScanSegmentation, bool]:
    """The body of :func:`segment_scan`; also says whether a storey was found (indoor)."""
    if not isinstance(cloud, PointCloud):
        raise InputError(f"segment_scan needs a PointCloud (geo3d.io.las.read_las), not {type(cloud).__name__}")
    if len(cloud) == 0:
        raise InputError("the scan has no points")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if thin:
        work, inverse = voxel_thin(cloud, thin)
    else:
        work, inverse = cloud, np.arange(len(cloud))
    timings["thin"] = time.perf_counter() - t0

    t = time.perf_counter()
    outdoor = False
    if levels is None:
        try:
            levels = levels_from_cloud(work, entrance_level=entrance_level, ground_z=ground_z)
        except EmptyResultError as exc:
            # no storey (an outdoor tile, a facade): one level on the ground, no ceiling
            msg = (f"segment_scan: {exc}; falling back to one level on the ground (ground class "
                   "or low percentile of z) — pass levels= if the scan has storeys")
            _warn(msg)
            levels = ground_level(work)
            outdoor = True
    point_level = levels_of_points(work, levels)
    timings["levels"] = time.perf_counter() - t

    t = time.perf_counter()
    structure = structure_classes(work, levels, point_levels=point_level, seed=seed)
    timings["structure"] = time.perf_counter() - t

    t = time.perf_counter()
    xyz = work.xyz
    frag = np.full(len(work), -1, dtype=np.int64)
    colour = (colour_classes(work.attrs["rgb"]) if "rgb" in work.attrs
              else np.zeros(len(work), dtype=np.uint8))
    # safety red and green are paint on equipment, not on walls and columns: a flat cabinet
    # (an AED, a call point) lies within the plane tolerance of the column it hangs on
    structure = np.where((structure == VERTICAL) & ((colour == 1) | (colour == 2)), 0, structure)
    free = np.flatnonzero(structure == 0)
    if outdoor and len(free) > 10:
        # an airborne or street tile is far sparser than an indoor scan: link at its point
        # spacing (90th percentile of nearest-neighbour distances, on an evenly strided subset)
        probe = xyz[free[:: max(1, len(free) // 50_000)]]
        nn, _ = cKDTree(probe).query(probe, k=2, workers=-1)
        voxel_size = max(voxel_size, float(np.percentile(nn[:, 1], 90)))
    for floor in levels["floor"].to_numpy():
        for c in np.unique(colour):
            lab = segment_points(work, method=method, voxel_size=voxel_size, min_points=min_points,
                                 mask=(structure == 0) & (point_level == floor) & (colour == c))
            frag = np.where(lab >= 0, lab + frag.max() + 1, frag)
    timings["segment"] = time.perf_counter() - t

    t = time.perf_counter()
    wall_d = _point_wall_distance(xyz, structure == VERTICAL, structure == 0)
    # pieces are classified before they are joined: the point count is checked on the whole
    facility_rules = [dataclasses.replace(r, min_points=0) for r in rules if r.kind != "store"]

    def facility_parts(labels: Labels) -> tuple[gpd.GeoDataFrame, pd.Series | None]:
        objs = objects_from_segments(work, labels, levels=levels, point_levels=point_level)
        objs["wall_distance"] = _wall_distance(wall_d, labels, int(labels.max()) + 1)[objs.index]
        found = classify_objects(objs, rules=facility_rules) if classify == "rules" else None
        return objs, found

    def classified_parts(labels: Labels) -> tuple[gpd.GeoDataFrame, pd.Series]:
        objs, found = facility_parts(labels)
        assert found is not None  # only called with classify == "rules"
        return objs, found

    parts, part_class = facility_parts(frag)
    if part_class is not None and "rgb" in work.attrs:
        # a long red fragment that is no facility, or a hydrant cabinet, may be two standing
        # side by side (an extinguisher beside a hydrant cabinet)
        red = np.unique(frag[(colour == 1) & (frag >= 0)])
        hydrant = CLASS_CODES["indoor_hydrant"]
        part_class_before = part_class
        odd = parts.index[part_class.isin([0, hydrant]) & parts.index.isin(red) & (parts["length"] > 0.6)]
        if len(odd):
            cabinets = odd[part_class.reindex(odd).to_numpy() == hydrant].to_numpy()
            split = split_at_gaps(xyz, frag, which=odd.difference(cabinets).to_numpy())
            split = split_at_gaps(xyz, split, which=cabinets, largest_only=True)
            parts, part_class = classified_parts(split)
            # a cabinet keeps its split only when every piece is a facility (an extinguisher
            # and a cabinet); a sparse cabinet cut into strips at its scan-line gaps stays whole
            pairs = pd.DataFrame({"parent": frag, "piece": split})[frag >= 0].drop_duplicates()
            pairs["ok"] = part_class.reindex(pairs["piece"]).to_numpy() > 0
            was_cabinet = pairs["parent"].isin(odd[part_class_before.reindex(odd).to_numpy() == hydrant])
            all_ok = pairs.loc[was_cabinet].groupby("parent")["ok"].all()
            undo = all_ok.index[~all_ok.to_numpy()].to_numpy()
            frag = np.where(np.isin(frag, undo), frag, split)
            if len(undo):
                parts, part_class = classified_parts(frag)
        # one facility seen as two pieces (an AED on a column corner shows two faces): pieces
        # of the same kind within ``join_facilities`` of each other are one object
        frag = join_pieces(xyz, frag, part_class, reach=join_facilities, by=point_level)
        parts, part_class = classified_parts(frag)
        # the shaded side of a camera or a cabinet fails the colour test and forms a tiny
        # fragment of its own, touching the facility: it is part of it
        trim = part_class.index[(part_class == 0) & (parts["length"] <= 0.5) & (parts["height"] <= 0.5)
                                & (parts["n_points"] <= 60)]
        frag = attach_trim(xyz, frag, facilities=part_class.index[part_class > 0].to_numpy(),
                           trim=trim.to_numpy(), reach=voxel_size, by=point_level)
        parts, part_class = facility_parts(frag)
    keep_ids = part_class.index[part_class > 0] if part_class is not None else pd.Index([])
    keep = np.isin(frag, keep_ids.to_numpy())
    merged = merge_in_plan(xyz, frag, cell=plan_cell, keep=keep, by=point_level)
    groups = objects_from_segments(work, merged, levels=levels, point_levels=point_level, footprint="hull")
    kept = np.isin(groups.index, frag_ids_of(merged, keep))
    if part_class is not None and kept.any():
        # green and white things inside a stall's outline and no higher than it are goods or
        # awnings, not exit signs, cameras or first-aid boxes (those hang on walls, columns,
        # over aisles); an AED may hang inside a store (its rule keeps it above the counters)
        hanging = [CLASS_CODES[k] for k in ("exit_sign", "cctv", "other_facility")]
        kind_of = pd.Series(part_class.reindex(np.unique(frag[keep])).to_numpy(),
                            index=np.unique(frag[keep]))
        first = pd.DataFrame({"m": merged[keep], "f": frag[keep]}).drop_duplicates("m").set_index("m")["f"]
        gk = pd.Series(kind_of.reindex(first.to_numpy()).to_numpy(), index=first.index)
        big = ~kept & (groups["width"].to_numpy() >= 0.8)
        before = merged
        merged = into_hosts(groups, merged, movers=groups.index[kept & groups.index.isin(gk.index[gk.isin(hanging)])],
                            hosts=groups.index[big])
        groups = objects_from_segments(work, merged, levels=levels, point_levels=point_level, footprint="hull")
        # goods moved into their stall are no longer facilities (nor is the stall)
        keep = keep & (merged == before)
        kept = np.isin(groups.index, frag_ids_of(merged, keep))
    is_part = (groups["width"].to_numpy() < 0.8) & (groups["area"].to_numpy() > 0) & ~kept
    merged = absorb_parts(groups, merged, is_part=is_part, is_host=~is_part & ~kept)
    if join_gap > 0:
        hulls = objects_from_segments(work, merged, levels=levels, point_levels=point_level,
                                      footprint="hull")
        if max_store_size is not None:
            # a stall-like segment larger than any stall is two stalls that a voxel step linked
            # across the gap between them (a 26-connected step reaches up to 2·√3 voxels):
            # link its points again at half the voxel, and let the join below put it together
            too_big = ((hulls["length"] > max_store_size[0]) | (hulls["width"] > max_store_size[1])) & (
                hulls["height_above_slab"] <= _FLOOR_STANDING) if "height_above_slab" in hulls else hulls["length"] < 0
            too_big &= ~np.isin(hulls.index, frag_ids_of(merged, keep))
            if too_big.any():
                merged = _relink(xyz, merged, hulls.index[too_big.to_numpy()].to_numpy(), voxel_size / 2)
                hulls = objects_from_segments(work, merged, levels=levels, point_levels=point_level,
                                              footprint="hull")
        # a stall far from every station is sampled so thinly that its parts fall apart at the
        # linking distance: pieces closer in plan than stalls ever stand are one stall
        wall = _wall_distance(wall_d, merged, int(merged.max()) + 1)[hulls.index]
        facility = np.isin(hulls.index, frag_ids_of(merged, keep))
        merged = join_fragments(hulls, merged, gap=join_gap, max_size=max_store_size, across=join_across,
                                eligible=~facility & (wall >= _RESIDUE_WALL_DISTANCE))
    objects = objects_from_segments(work, merged, levels=levels, point_levels=point_level)
    objects["wall_distance"] = _wall_distance(wall_d, merged, int(merged.max()) + 1)[objects.index]
    if classify == "file":
        if point_class is None:
            raise InputError("classify='file' needs point_class= (one class code per input point)")
        codes = classify_objects(objects, method="file", labels=merged,
                                 point_class=np.asarray(point_class)[work.index])
    elif classify == "rules":
        codes = classify_objects(objects, rules=rules)
    else:
        codes = classify_objects(objects, method=classify)
    if outdoor and (codes == STORE).any():
        # no storey, no market: what stands on the ground is a car, a tree or a shed
        _warn(f"segment_scan: {int((codes == STORE).sum())} store-sized volumes left unclassified: "
              "the scan has no indoor storey (pass levels= if it is a market)")
        codes = codes.where(codes != STORE, 0)
    timings["objects"] = time.perf_counter() - t

    # keep classified objects; number them 1..n by floor, class, then position
    objects["object_class"] = codes.astype(np.uint8)
    unclassified = objects[objects["object_class"] == 0].drop(columns="object_class")
    objects = objects[objects["object_class"] > 0].copy()
    objects = objects.sort_values(["floor", "object_class", "x", "y"], kind="stable")
    new_id = pd.Series(np.arange(1, len(objects) + 1, dtype=np.int32), index=objects.index)
    lut = np.full(int(merged.max()) + 2, -1, dtype=np.int32)
    lut[new_id.index.to_numpy()] = new_id.to_numpy()
    work_id = np.where(merged >= 0, lut[merged], -1).astype(np.int32)
    cls_lut = np.zeros(int(merged.max()) + 2, dtype=np.uint8)
    cls_lut[objects.index.to_numpy()] = objects["object_class"].to_numpy()
    work_class = np.where(merged >= 0, cls_lut[merged], 0).astype(np.uint8)
    objects.index = pd.Index(new_id.to_numpy(), name="object_id")
    objects.insert(0, "kind", objects["object_class"].map(CLASS_NAMES).astype(str))
    objects.insert(0, "object_class", objects.pop("object_class"))

    result = ScanSegmentation(
        levels=levels,
        objects=objects,
        level=point_level[inverse].astype(np.int8),
        object_id=work_id[inverse],
        object_class=work_class[inverse],
        timings={**timings, "total": time.perf_counter() - t0},
        unclassified=unclassified,
    )
    counts = objects["kind"].value_counts()
    log.info("segment_scan: %s points -> %d levels, %d stores, %d facilities (%s) in %.1f s",
             f"{len(cloud):,}", len(levels), int(counts.get("store", 0)),
             int(len(objects) - counts.get("store", 0)),
             ", ".join(f"{n} {k}" for k, n in counts.items() if k != "store"), result.timings["total"])
    return result, not outdoor


def join_pieces(xyz: NDArray[np.float64], labels: Labels, kinds: pd.Series, *, reach: float = 0.25,
                by: NDArray[np.integer[Any]] | None = None) -> Labels:
    """Join segments of the same facility kind whose points come within about ``reach``.

    Two facilities of one kind are never mounted a hand's width apart, so two such pieces are
    one object broken by an occlusion or by the edge of the column it wraps around.

    Parameters
    ----------
    xyz : ndarray of shape (N, 3)
    labels : ndarray of int, shape (N,)
        Segment per point (−1 none).
    kinds : Series
        Class code per segment (index = label); segments with code 0 are left alone.
    reach : float
        Linking distance (m; voxel size of the join).
    by : ndarray of int, shape (N,), optional
        Group per point (the floor): pieces of different groups never join.

    Returns
    -------
    ndarray of int64: labels with joined pieces sharing the smallest label of their group.

    Examples
    --------
    >>> xyz = np.array([[0, 0, 1.0], [0.2, 0, 1.0], [3, 0, 1.0]])
    >>> join_pieces(xyz, np.array([0, 1, 2]), pd.Series([5, 5, 5])).tolist()
    [0, 0, 2]
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(kinds) == 0 or reach <= 0:
        return labels
    lut = np.zeros(int(labels.max()) + 2, dtype=np.int64)
    lut[kinds.index.to_numpy()] = kinds.to_numpy()
    code = np.where(labels >= 0, lut[np.clip(labels, 0, None)], 0)
    idx = np.flatnonzero(code > 0)
    if len(idx) < 2:
        return labels
    group = code[idx].astype(np.float64) + (0.0 if by is None else np.asarray(by)[idx] * 100.0)
    # kinds and floors on layers far apart in a 4th coordinate folded into x
    span = float(np.ptp(xyz[idx, 0])) + 10 * reach
    pts = xyz[idx].copy()
    pts[:, 0] += (group - group.min()) * span
    comp, _ = voxel_components(pts, reach)
    seg_u, seg_inv = np.unique(labels[idx], return_inverse=True)
    # the smallest label of each component
    first = np.full(int(comp.max()) + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, comp, labels[idx])
    seg_new = np.full(len(seg_u), np.iinfo(np.int64).max)
    np.minimum.at(seg_new, seg_inv, first[comp])
    out = labels.copy()
    out[idx] = seg_new[seg_inv]
    return out


def attach_trim(xyz: NDArray[np.float64], labels: Labels, *, facilities: NDArray[np.int64],
                trim: NDArray[np.int64], reach: float = 0.15,
                by: NDArray[np.integer[Any]] | None = None) -> Labels:
    """Give each ``trim`` segment touching a ``facilities`` segment (within ``reach``) to it.

    Parameters
    ----------
    xyz : ndarray of shape (N, 3)
    labels : ndarray of int, shape (N,)
    facilities, trim : ndarray of int
        Labels of the facility segments and of the small unclassified ones that may belong to
        one.
    reach : float
        Linking distance (voxel size, m).
    by : ndarray of int, shape (N,), optional
        Group per point (the floor): segments of different groups never join.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> xyz = np.array([[0, 0, 3.0], [0.1, 0, 3.0], [2, 0, 3.0]])
    >>> attach_trim(xyz, np.array([0, 1, 2]), facilities=np.array([0]), trim=np.array([1, 2])).tolist()
    [0, 0, 2]
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(facilities) == 0 or len(trim) == 0:
        return labels
    is_fac = np.isin(labels, facilities)
    idx = np.flatnonzero(is_fac | np.isin(labels, trim))
    pts = xyz[idx].copy()
    if by is not None:
        g = np.asarray(by)[idx].astype(np.float64)
        pts[:, 0] += (g - g.min()) * (float(np.ptp(pts[:, 0])) + 10 * reach)
    comp, _ = voxel_components(pts, reach)
    big = np.iinfo(np.int64).max
    target = np.full(int(comp.max()) + 1, big)
    np.minimum.at(target, comp[is_fac[idx]], labels[idx][is_fac[idx]])
    frame = pd.DataFrame({"seg": labels[idx], "to": target[comp]})[~is_fac[idx]]
    to = frame.groupby("seg")["to"].min()
    to = to[to < big]
    if to.empty:
        return labels
    lut = np.arange(int(labels.max()) + 1)
    lut[to.index.to_numpy()] = to.to_numpy()
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)


def into_hosts(objects: gpd.GeoDataFrame, labels: Labels, *, movers: pd.Index, hosts: pd.Index,
               headroom: float = 0.2) -> Labels:
    """Merge each mover into the host whose footprint holds its centroid (same floor).

    A mover joins only a host at least as tall as it (its top at most ``headroom`` above the
    host's top): goods on a stall's shelf, not a sign hanging over the aisle beside it.

    Examples
    --------
    >>> import shapely
    >>> objs = gpd.GeoDataFrame({"x": [1.0, 1.0], "y": [1.0, 5.0], "z_max": [2.9, 1.5], "floor": [1, 1]},
    ...     geometry=[shapely.box(0, 0, 3, 2), shapely.box(0.9, 4.9, 1.1, 5.1)])
    >>> into_hosts(objs, np.array([0, 1]), movers=pd.Index([1]), hosts=pd.Index([0])).tolist()
    [0, 1]
    """
    import shapely

    if len(movers) == 0 or len(hosts) == 0:
        return labels
    h = objects.loc[hosts]
    m = objects.loc[movers]
    tree = shapely.STRtree(h.geometry.to_numpy())
    mi, hi = tree.query(shapely.points(m["x"].to_numpy(), m["y"].to_numpy()), predicate="within")
    ok = ((m["floor"].to_numpy()[mi] == h["floor"].to_numpy()[hi])
          & (m["z_max"].to_numpy()[mi] <= h["z_max"].to_numpy()[hi] + headroom))
    if not ok.any():
        return labels
    pairs = pd.DataFrame({"m": movers.to_numpy()[mi[ok]], "h": hosts.to_numpy()[hi[ok]]}).drop_duplicates("m")
    lut = np.arange(int(labels.max()) + 1)
    lut[pairs["m"].to_numpy()] = pairs["h"].to_numpy()
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)


def _relink(xyz: NDArray[np.float64], labels: Labels, which: NDArray[np.int64], voxel: float) -> Labels:
    """Segment the points of the segments ``which`` again at a finer ``voxel`` (new labels)."""
    out = labels.copy()
    base = int(labels.max()) + 1
    for seg in which:  # a loop over a few oversized segments, each labelled in one call
        idx = np.flatnonzero(labels == seg)
        sub, _ = voxel_components(xyz[idx], voxel)
        out[idx] = np.where(sub >= 0, base + sub, -1)
        base += int(sub.max()) + 1
    return out


# segments closer than this to a wall or column are residue of its face, not part of a stall
_RESIDUE_WALL_DISTANCE = 0.2
_FLOOR_STANDING = 0.3  # base above the slab (m) of what stands on the floor (the store rule's)


def join_fragments(objects: gpd.GeoDataFrame, labels: Labels, *, gap: float = 0.6,
                   max_size: tuple[float, float] | None = (4.2, 3.2),
                   eligible: NDArray[np.bool_] | None = None, across: float = 0.0,
                   min_length: float = 1.0, max_thin: float = 0.6) -> Labels:
    """Join pieces of one object: outlines within ``gap`` whose union stays object-sized.

    A stall far from every station is sampled so thinly that it falls apart at the linking
    distance into pieces (its frame, a counter, a shelf). Pieces whose plan outlines (the
    objects' footprints: convex hulls, which never reach beyond the points) come within
    ``gap`` are joined, nearest first, as long as the joined outline's oriented rectangle is no
    larger than ``max_size`` = (length, width): two neighbouring stalls side by side are longer
    than any one stall, the pieces of one are not. Ties break on the labels (deterministic).

    An open stall seen from afar may show only its front counter and its back shelf, with
    nothing between them. With ``across`` > ``gap``, two pieces up to ``across`` apart join
    too when they face each other the way a counter and a shelf do: both at least
    ``min_length`` long, the thinner at most ``max_thin`` wide, both standing on the floor
    (base ≤ 0.3 m above the slab, when ``height_above_slab`` is known), their long axes within
    15° and overlapping over most (60 %) of the shorter one, and no other piece of some size
    (30 points) standing in the joined outline (that would be a stall between them).

    Parameters
    ----------
    objects : GeoDataFrame
        From :func:`objects_from_segments` (``footprint="hull"``), indexed by label, with
        ``floor`` when the scan has levels.
    labels : ndarray of int, shape (N,)
    gap : float
        Largest distance between two outlines that may still join (m).
    max_size : (float, float) or None
        Largest (length, width) of a joined object's oriented rectangle, m (None: no limit).
    eligible : ndarray of bool, optional
        Per row of ``objects``: which segments may join (default all).
    across : float
        Largest distance between a counter-like and a shelf-like piece facing each other that
        may still join (m; 0: off). Needs ``length``, ``width`` and ``n_points`` columns.
    min_length, max_thin : float
        The pieces that may join ``across``: at least ``min_length`` long, the thinner one at
        most ``max_thin`` wide (m).

    Returns
    -------
    ndarray of int64: joined pieces share their smallest label.

    Examples
    --------
    >>> import shapely
    >>> objs = gpd.GeoDataFrame({"floor": [1, 1, 1]}, index=[0, 1, 2],
    ...     geometry=[shapely.box(0, 0, 1, 2), shapely.box(1.2, 0, 2, 2), shapely.box(2.5, 0, 4.5, 2)])
    >>> join_fragments(objs, np.array([0, 1, 2, -1])).tolist()  # 2 would make it 4.5 m long
    [0, 0, 2, -1]
    >>> join_fragments(objs, np.array([0, 1, 2, -1]), max_size=None).tolist()
    [0, 0, 0, -1]
    """
    import shapely

    labels = np.asarray(labels, dtype=np.int64)
    ok = np.ones(len(objects), dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    ok &= ~(objects.geometry.isna().to_numpy() | objects.geometry.is_empty.to_numpy())
    ids = objects.index.to_numpy()[ok]
    if len(ids) < 2 or gap <= 0:
        return labels
    geoms = objects.geometry.to_numpy()[ok]
    tree = shapely.STRtree(geoms)
    floor = objects["floor"].to_numpy()[ok] if "floor" in objects.columns else None

    def pairs_within(which: NDArray[np.int64], distance: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        sub = tree if len(which) == len(geoms) else shapely.STRtree(geoms[which])
        pa, pb = sub.query(geoms[which], predicate="dwithin", distance=distance)
        pa, pb = which[pa], which[pb]
        keep = pa < pb
        if floor is not None:
            keep &= floor[pa] == floor[pb]
        return pa[keep], pb[keep]

    a, b = pairs_within(np.arange(len(geoms)), gap)
    far = np.zeros(len(a), dtype=bool)
    if across > gap:
        # only pieces long enough to be a counter or a shelf may join across (see _facing)
        long_ = np.flatnonzero(objects["length"].to_numpy(dtype=float)[ok] >= min_length)
        fa, fb = pairs_within(long_, across)
        beyond = shapely.distance(geoms[fa], geoms[fb]) > gap  # the nearer ones are in (a, b)
        fa, fb = fa[beyond], fb[beyond]
        facing = _facing(objects[ok], fa, fb, min_length=min_length, max_thin=max_thin)
        a, b = np.r_[a, fa[facing]], np.r_[b, fb[facing]]
        far = np.r_[far, np.ones(int(facing.sum()), dtype=bool)]
    if len(a) == 0:
        return labels
    d = shapely.distance(geoms[a], geoms[b])
    order = np.lexsort((ids[b], ids[a], d))
    # union-find over the candidate pairs, nearest first; each union checked for its size. The
    # joined outline is only built when the two bounding boxes together could exceed the size
    # (their diagonal is longer than the smaller side allowed): most pairs are small pieces
    root = np.arange(len(ids))
    box = shapely.bounds(geoms)
    outline: list[Any] = list(geoms)  # the convex hull of each group's pieces; None: not built yet
    members: dict[int, list[int]] = {}
    sizable = objects["n_points"].to_numpy()[ok] >= 30 if across > gap and "n_points" in objects else None
    small = min(max_size) if max_size is not None else np.inf

    def find(k: int) -> int:
        while root[k] != k:
            root[k] = root[root[k]]
            k = int(root[k])
        return k

    def hull(r: int) -> Any:
        if outline[r] is None:
            outline[r] = shapely.convex_hull(shapely.union_all(geoms[members[r]]))
        return outline[r]

    for k in order:  # a loop over candidate pairs, never over points
        ra, rb = find(int(a[k])), find(int(b[k]))
        if ra == rb:
            continue
        x0, y0 = min(box[ra, 0], box[rb, 0]), min(box[ra, 1], box[rb, 1])
        x1, y1 = max(box[ra, 2], box[rb, 2]), max(box[ra, 3], box[rb, 3])
        joined = None
        if max_size is not None and math.hypot(x1 - x0, y1 - y0) > small:
            # a rectangle holding the pieces has a diagonal at least their extent along x or y
            if max(x1 - x0, y1 - y0) > math.hypot(*max_size):
                continue
            joined = shapely.convex_hull(shapely.union(hull(ra), hull(rb)))
            ln, wd = _rect_sides(joined)
            if ln > max_size[0] or wd > max_size[1]:
                continue
        if far[k] and sizable is not None:
            # nothing of some size between a counter and a shelf (it would be a stall there)
            if joined is None:
                joined = shapely.convex_hull(shapely.union(hull(ra), hull(rb)))
            inside = tree.query(joined, predicate="intersects")
            inside = inside[sizable[inside] & (floor[inside] == floor[ra])] if floor is not None else inside[
                sizable[inside]]
            own = set(members.get(ra, [ra])) | set(members.get(rb, [rb]))
            if any(i not in own for i in inside.tolist()):
                continue
        keep_root, gone = (ra, rb) if ids[ra] < ids[rb] else (rb, ra)
        root[gone] = keep_root
        outline[keep_root] = joined
        members[keep_root] = members.pop(ra, [ra]) + members.pop(rb, [rb])
        box[keep_root] = (x0, y0, x1, y1)
    comp = np.array([find(k) for k in range(len(ids))])
    lut = np.arange(int(labels.max()) + 1)
    lut[ids] = ids[comp]
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)


def _facing(objects: gpd.GeoDataFrame, a: NDArray[np.int64], b: NDArray[np.int64], *, min_length: float,
            max_thin: float) -> NDArray[np.bool_]:
    """Which pairs (rows a, b of ``objects``) face each other like a stall's counter and shelf."""
    length = objects["length"].to_numpy(dtype=float)
    width = objects["width"].to_numpy(dtype=float)
    ok = (np.minimum(length[a], length[b]) >= min_length) & (np.minimum(width[a], width[b]) <= max_thin)
    if "height_above_slab" in objects:  # counters and shelves stand on the floor (a sign hangs)
        base = objects["height_above_slab"].to_numpy(dtype=float)
        ok &= (base[a] <= _FLOOR_STANDING) & (base[b] <= _FLOOR_STANDING)
    if not ok.any():
        return ok
    geoms = objects.geometry.to_numpy()
    short = np.where(length[a] <= length[b], a, b)
    other = np.where(short == a, b, a)
    axis = _long_axis(geoms[short])
    parallel = np.abs(np.einsum("ij,ij->i", axis, _long_axis(geoms[other]))) >= np.cos(np.radians(15))
    # overlap along the shorter piece's axis, as a share of its length
    return ok & parallel & (_overlap_along(geoms[short], geoms[other], axis) >= 0.6)


def _long_axis(geoms: NDArray[Any]) -> NDArray[np.float64]:
    """Unit vector along the long side of each geometry's oriented rectangle (0 for a point)."""
    import shapely

    coords, owner = shapely.get_coordinates(shapely.boundary(shapely.oriented_envelope(geoms)),
                                            return_index=True)
    first = np.searchsorted(owner, np.arange(len(geoms)))
    count = np.r_[first[1:], len(owner)] - first  # 5 for a rectangle, 2 for a line, 0 for a point
    e1 = np.zeros((len(geoms), 2))
    e2 = np.zeros((len(geoms), 2))
    i = np.flatnonzero(count >= 2)
    e1[i] = coords[first[i] + 1] - coords[first[i]]
    i = np.flatnonzero(count >= 3)
    e2[i] = coords[first[i] + 2] - coords[first[i] + 1]
    axis = np.where((np.hypot(*e1.T) >= np.hypot(*e2.T))[:, None], e1, e2)
    return np.asarray(axis / np.maximum(np.hypot(*axis.T), 1e-9)[:, None])


def _overlap_along(these: NDArray[Any], those: NDArray[Any], axis: NDArray[np.float64]) -> NDArray[np.float64]:
    """Share of each of ``these``' extent along ``axis`` that the matching one of ``those`` covers."""
    import shapely

    def extent(geoms: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        c, k = shapely.get_coordinates(geoms, return_index=True)
        proj = np.einsum("ij,ij->i", c, axis[k])
        lo = np.full(len(geoms), np.inf)
        hi = np.full(len(geoms), -np.inf)
        np.minimum.at(lo, k, proj)  # per pair (hundreds), not per point
        np.maximum.at(hi, k, proj)
        return lo, hi

    alo, ahi = extent(these)
    blo, bhi = extent(those)
    return np.asarray((np.minimum(ahi, bhi) - np.maximum(alo, blo)) / np.maximum(ahi - alo, 1e-9))


def _rect_sides(geom: Any) -> tuple[float, float]:
    """Length and width (length ≥ width) of a geometry's minimum rotated rectangle."""
    import shapely

    c = shapely.get_coordinates(shapely.oriented_envelope(geom))
    if len(c) < 4:
        return (float(np.ptp(c[:, 0]) + np.ptp(c[:, 1])), 0.0) if len(c) else (0.0, 0.0)
    e1, e2 = np.hypot(*(c[1] - c[0])), np.hypot(*(c[2] - c[1]))
    return float(max(e1, e2)), float(min(e1, e2))


def absorb_parts(objects: gpd.GeoDataFrame, labels: Labels, *, is_part: NDArray[np.bool_],
                 is_host: NDArray[np.bool_], reach: float = 0.3, min_overlap: float = 0.6) -> Labels:
    """Merge stall parts (a back shelf, a side partition) into the stall they belong to.

    A part joins the nearest other object within ``reach`` metres in plan (on its floor) whose
    footprint covers at least ``min_overlap`` of the part's length when both are projected on
    the part's long axis — the stall behind whose counter it stands, not the neighbour beside it.
    ``reach`` stays below the gap between two stalls (0.35 m in the generated markets): a side
    partition lies as well "behind" the neighbour's counter as its own, so only nearness tells.
    """
    import shapely

    ids = objects.index.to_numpy()
    part_ids = ids[is_part]
    host_ids = ids[is_host]
    if len(part_ids) == 0 or len(host_ids) == 0:
        return labels
    hosts = objects.loc[host_ids]
    parts = objects.loc[part_ids]
    tree = shapely.STRtree(hosts.geometry.to_numpy())
    pi, hi = tree.query(parts.geometry.to_numpy(), predicate="dwithin", distance=reach)
    if len(pi) == 0:
        return labels
    same_floor = parts["floor"].to_numpy()[pi] == hosts["floor"].to_numpy()[hi]
    pi, hi = pi[same_floor], hi[same_floor]
    polygon = shapely.get_type_id(hosts.geometry.to_numpy()[hi]) == 3
    pi, hi = pi[polygon], hi[polygon]
    pg = parts.geometry.to_numpy()[pi]
    hg = hosts.geometry.to_numpy()[hi]
    # overlap along each part's long axis (from its oriented rectangle)
    overlap = _overlap_along(pg, hg, _long_axis(pg))
    dist = shapely.distance(pg, hg)
    ok = overlap >= min_overlap
    if not ok.any():
        return labels
    cand = pd.DataFrame({"part": part_ids[pi[ok]], "host": host_ids[hi[ok]], "d": dist[ok]})
    best = cand.sort_values(["part", "d", "host"]).drop_duplicates("part")
    lut = np.arange(int(labels.max()) + 1)
    lut[best["part"].to_numpy()] = best["host"].to_numpy()
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)
