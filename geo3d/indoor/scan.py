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
from ..pointcloud import join, pieces
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
)
from .evidence import WarningLog, market_evidence
from .levels import ground_level, levels_from_cloud, levels_of_points
from .structure import VERTICAL, structure_classes

__all__ = ["ScanSegmentation", "segment_scan"]

#: names that moved to geo3d.pointcloud (issue 11); importing them from here still works, with a
#: DeprecationWarning, until the next minor release
_MOVED = {
    "join_pieces": ("pieces", "join_pieces"), "attach_trim": ("pieces", "attach_trim"),
    "into_hosts": ("pieces", "into_hosts"), "frag_ids_of": ("pieces", "labels_of"),
    "join_fragments": ("join", "join_fragments"), "absorb_parts": ("join", "absorb_parts"),
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        module, new = _MOVED[name]
        warnings.warn(f"geo3d.indoor.scan.{name} moved to geo3d.pointcloud.{module}.{new}",
                      DeprecationWarning, stacklevel=2)
        return getattr(pieces if module == "pieces" else join, new)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
    parameters : dict
        What was measured on the scan and used: ``point_spacing_median_m`` and
        ``point_spacing_p90_m`` (nearest-neighbour distances of the non-structure points) and
        ``voxel_size_m``, the linking distance: ``voxel_size`` or the spacing, whichever is
        larger (the 90th percentile for an outdoor tile, the median indoors).
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
    parameters: dict[str, float] = field(default_factory=dict)

    @property
    def stores(self) -> gpd.GeoDataFrame:
        """The store objects."""
        return self.objects[self.objects["object_class"] == STORE]

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facility objects (every class but stores)."""
        return self.objects[self.objects["object_class"] > STORE]


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
        level on the ground, and no object is a store.
    method : {"voxel_cc", "dbscan"} or callable
        Segmentation of the non-structure points (see :func:`segment_points`).
    voxel_size : float
        Linking distance of the segmentation. Stalls closer than 2 × ``voxel_size`` may join.
        Raised to the scan's point spacing when the scan is sparser than that (see
        ``parameters`` of the result).
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


def _point_spacing(xyz: NDArray[np.float64], *, sample: int = 50_000) -> tuple[float, float]:
    """Median and 90th percentile of nearest-neighbour distances (m) on an evenly strided subset.

    (0, 0) when there are too few points.

    The stride makes the subset sparser than the cloud: its distances are scaled back by the
    cube root of the stride (points on surfaces and in volumes fall between 1/2 and 1/3).
    """
    if len(xyz) <= 10:
        return 0.0, 0.0
    stride = max(1, len(xyz) // sample)
    probe = xyz[::stride]
    nn, _ = cKDTree(probe).query(probe, k=2, workers=-1)
    q50, q90 = np.percentile(nn[:, 1], [50, 90]) / stride ** (1 / 3)
    return float(q50), float(q90)


def _keep_facility_kinds(codes: pd.Series, objects: pd.DataFrame, kinds: pd.Series,
                         rules: Sequence[Rule]) -> pd.Series:
    """Codes where each facility object keeps the kind its coloured piece was given (``kinds``).

    The whole object (the piece and its trim) still needs the rule's ``min_points``.
    """
    ids = kinds.index.intersection(codes.index)
    kind = kinds.reindex(ids)
    need = {r.code: r.min_points for r in rules if r.kind in CLASS_CODES}
    enough = objects.loc[ids, "n_points"].to_numpy() >= kind.map(need).fillna(0).to_numpy()
    ok = ids[(kind.to_numpy() > 0) & enough]
    out = codes.copy()
    out.loc[ok] = kind.loc[ok].to_numpy().astype(np.uint8)
    return out


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
    median, p90 = _point_spacing(xyz[free])
    # a scan sparser than the linking distance falls apart at it: an airborne or street tile
    # links at the spacing of its sparser parts (90th percentile), an indoor scan only when it is
    # sparse throughout (median): a hall's far corners are sparse, its stalls must not merge
    spacing = p90 if outdoor else median
    if spacing > voxel_size:
        log.info("segment_scan: linking distance %.3f m -> %.3f m (the point spacing)", voxel_size, spacing)
        voxel_size = spacing
    parameters = {"point_spacing_median_m": round(median, 4), "point_spacing_p90_m": round(p90, 4),
                  "voxel_size_m": round(voxel_size, 4)}
    for floor in levels["floor"].to_numpy():
        for c in np.unique(colour):
            lab = segment_points(work, method=method, voxel_size=voxel_size, min_points=min_points,
                                 mask=(structure == 0) & (point_level == floor) & (colour == c))
            frag = np.where(lab >= 0, lab + frag.max() + 1, frag)
    timings["segment"] = time.perf_counter() - t

    t = time.perf_counter()
    wall_d = pieces.point_wall_distance(xyz, structure == VERTICAL, structure == 0)
    # pieces are classified before they are joined: the point count is checked on the whole
    facility_rules = [dataclasses.replace(r, min_points=0) for r in rules if r.kind != "store"]

    def facility_parts(labels: Labels) -> tuple[gpd.GeoDataFrame, pd.Series | None]:
        objs = objects_from_segments(work, labels, levels=levels, point_levels=point_level)
        objs["wall_distance"] = pieces.segment_wall_distance(wall_d, labels, int(labels.max()) + 1)[objs.index]
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
        frag = pieces.join_pieces(xyz, frag, part_class, reach=join_facilities, by=point_level)
        parts, part_class = classified_parts(frag)
        # the shaded side of a camera or a cabinet fails the colour test and forms a tiny
        # fragment of its own, touching the facility: it is part of it
        # (only pieces that failed every colour test: a white panel is a thing of its own)
        hue = np.zeros(int(frag.max()) + 1, dtype=np.uint8)
        hue[frag[frag >= 0]] = colour[frag >= 0]  # one colour class per piece (segmented per class)
        trim = part_class.index[(part_class == 0) & (parts["length"] <= 0.5) & (parts["height"] <= 0.5)
                                & (parts["n_points"] <= 60) & (hue[part_class.index.to_numpy()] == 0)]
        frag = pieces.attach_trim(xyz, frag, facilities=part_class.index[part_class > 0].to_numpy(),
                                   trim=trim.to_numpy(), reach=voxel_size, by=point_level)
        found = part_class[part_class > 0]
        piece_points = parts["n_points"].reindex(found.index)
        parts, part_class = classified_parts(frag)
        # trim adds a shaded side or a label to a facility: while the coloured piece holds most
        # of the points, it does not change the kind (the mean colour could: a green cabinet
        # with a white panel); a piece that is the smaller part yields to the whole
        same = found.index.intersection(part_class.index)
        same = same[piece_points.loc[same].to_numpy() * 2 >= parts.loc[same, "n_points"].to_numpy()]
        part_class.loc[same] = found.loc[same]
    keep_ids = part_class.index[part_class > 0] if part_class is not None else pd.Index([])
    keep = np.isin(frag, keep_ids.to_numpy())
    merged = merge_in_plan(xyz, frag, cell=plan_cell, keep=keep, by=point_level)
    groups = objects_from_segments(work, merged, levels=levels, point_levels=point_level, footprint="hull")
    kept = np.isin(groups.index, pieces.labels_of(merged, keep))
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
        merged = pieces.into_hosts(groups, merged, movers=groups.index[kept & groups.index.isin(gk.index[gk.isin(hanging)])],
                            hosts=groups.index[big])
        groups = objects_from_segments(work, merged, levels=levels, point_levels=point_level, footprint="hull")
        # goods moved into their stall are no longer facilities (nor is the stall)
        keep = keep & (merged == before)
        kept = np.isin(groups.index, pieces.labels_of(merged, keep))
    is_part = (groups["width"].to_numpy() < 0.8) & (groups["area"].to_numpy() > 0) & ~kept
    merged = join.absorb_parts(groups, merged, is_part=is_part, is_host=~is_part & ~kept)
    if join_gap > 0:
        hulls = objects_from_segments(work, merged, levels=levels, point_levels=point_level,
                                      footprint="hull")
        if max_store_size is not None:
            # a stall-like segment larger than any stall is two stalls that a voxel step linked
            # across the gap between them (a 26-connected step reaches up to 2·√3 voxels):
            # link its points again at half the voxel, and let the join below put it together
            too_big = ((hulls["length"] > max_store_size[0]) | (hulls["width"] > max_store_size[1])) & (
                hulls["height_above_slab"] <= join.FLOOR_STANDING) if "height_above_slab" in hulls else hulls["length"] < 0
            too_big &= ~np.isin(hulls.index, pieces.labels_of(merged, keep))
            if too_big.any():
                merged = pieces.relink(xyz, merged, hulls.index[too_big.to_numpy()].to_numpy(), voxel=voxel_size / 2)
                hulls = objects_from_segments(work, merged, levels=levels, point_levels=point_level,
                                              footprint="hull")
        # a stall far from every station is sampled so thinly that its parts fall apart at the
        # linking distance: pieces closer in plan than stalls ever stand are one stall
        wall = pieces.segment_wall_distance(wall_d, merged, int(merged.max()) + 1)[hulls.index]
        facility = np.isin(hulls.index, pieces.labels_of(merged, keep))
        merged = join.join_fragments(hulls, merged, gap=join_gap, max_size=max_store_size, across=join_across,
                                eligible=~facility & (wall >= join.RESIDUE_WALL_DISTANCE))
    objects = objects_from_segments(work, merged, levels=levels, point_levels=point_level)
    objects["wall_distance"] = pieces.segment_wall_distance(wall_d, merged, int(merged.max()) + 1)[objects.index]
    if classify == "file":
        if point_class is None:
            raise InputError("classify='file' needs point_class= (one class code per input point)")
        codes = classify_objects(objects, method="file", labels=merged,
                                 point_class=np.asarray(point_class)[work.index])
    elif classify == "rules":
        codes = classify_objects(objects, rules=rules)
        if part_class is not None and keep.any():
            # merged labels were renumbered: each kept facility's kind comes from its piece
            pair = pd.DataFrame({"m": merged[keep], "f": frag[keep]}).drop_duplicates("m")
            kinds = pd.Series(part_class.reindex(pair["f"].to_numpy()).fillna(0).to_numpy(),
                              index=pair["m"].to_numpy())
            codes = _keep_facility_kinds(codes, objects, kinds, rules)
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
        parameters=parameters,
    )
    counts = objects["kind"].value_counts()
    log.info("segment_scan: %s points -> %d levels, %d stores, %d facilities (%s) in %.1f s",
             f"{len(cloud):,}", len(levels), int(counts.get("store", 0)),
             int(len(objects) - counts.get("store", 0)),
             ", ".join(f"{n} {k}" for k, n in counts.items() if k != "store"), result.timings["total"])
    return result, not outdoor


