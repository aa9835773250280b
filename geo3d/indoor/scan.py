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

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..errors import InputError
from ..pointcloud.classify import DEFAULT_RULES, Rule, classify_objects, colour_classes
from ..pointcloud.cloud import PointCloud
from ..pointcloud.evaluate import CLASS_NAMES
from ..pointcloud.filter import voxel_thin
from ..pointcloud.objects import objects_from_segments
from ..pointcloud.segment import Labels, merge_in_plan, segment_points, split_at_gaps
from .levels import levels_from_cloud, levels_of_points
from .structure import VERTICAL, structure_classes

__all__ = ["ScanSegmentation", "segment_scan"]

log = logging.getLogger(__name__)

STORE = 1


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
    """

    levels: pd.DataFrame
    objects: gpd.GeoDataFrame
    level: NDArray[np.int8]
    object_id: NDArray[np.int32]
    object_class: NDArray[np.uint8]
    timings: dict[str, float] = field(default_factory=dict)

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


def _wall_distance(xyz: NDArray[np.float64], labels: Labels, vertical: NDArray[np.bool_],
                   n: int, reach: float = 1.0) -> NDArray[np.float64]:
    """Smallest 3D distance from each segment to a wall or column point (inf beyond ``reach``)."""
    out = np.full(n, np.inf)
    if not vertical.any():
        return out
    tree = cKDTree(xyz[vertical])
    sel = np.flatnonzero(labels >= 0)
    d, _ = tree.query(xyz[sel], k=1, distance_upper_bound=reach, workers=-1)
    np.minimum.at(out, labels[sel], d)
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
    seed: int = 0,
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
        ``entrance_level`` / ``ground_z``.
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
    seed : int
        Seed of the plane search (same input and seed, same output).

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
    if levels is None:
        levels = levels_from_cloud(work, entrance_level=entrance_level, ground_z=ground_z)
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
    for floor in levels["floor"].to_numpy():
        for c in np.unique(colour):
            lab = segment_points(work, method=method, voxel_size=voxel_size, min_points=min_points,
                                 mask=(structure == 0) & (point_level == floor) & (colour == c))
            frag = np.where(lab >= 0, lab + frag.max() + 1, frag)
    timings["segment"] = time.perf_counter() - t

    t = time.perf_counter()
    vertical = structure == VERTICAL
    facility_rules = [r for r in rules if r.kind != "store"]

    def facility_parts(labels: Labels) -> tuple[gpd.GeoDataFrame, pd.Series | None]:
        objs = objects_from_segments(work, labels, levels=levels, point_levels=point_level)
        objs["wall_distance"] = _wall_distance(xyz, labels, vertical, int(labels.max()) + 1)[objs.index]
        found = classify_objects(objs, rules=facility_rules) if classify == "rules" else None
        return objs, found

    parts, part_class = facility_parts(frag)
    if part_class is not None and "rgb" in work.attrs:
        # a red fragment that is no facility may be two standing side by side (an
        # extinguisher beside a hydrant cabinet)
        red = np.unique(frag[(colour == 1) & (frag >= 0)])
        odd = parts.index[(part_class == 0) & parts.index.isin(red) & (parts["length"] > 0.6)]
        if len(odd):
            frag = split_at_gaps(xyz, frag, which=odd.to_numpy())
            parts, part_class = facility_parts(frag)
    keep_ids = part_class.index[part_class > 0] if part_class is not None else pd.Index([])
    keep = np.isin(frag, keep_ids.to_numpy())
    merged = merge_in_plan(xyz, frag, cell=plan_cell, keep=keep, by=point_level)
    groups = objects_from_segments(work, merged, levels=levels, point_levels=point_level)
    kept = np.isin(groups.index, frag_ids_of(merged, keep))
    is_part = (groups["width"].to_numpy() < 0.8) & (groups["area"].to_numpy() > 0) & ~kept
    merged = absorb_parts(groups, merged, is_part=is_part, is_host=~is_part & ~kept)
    objects = objects_from_segments(work, merged, levels=levels, point_levels=point_level)
    objects["wall_distance"] = _wall_distance(xyz, merged, vertical, int(merged.max()) + 1)[objects.index]
    if classify == "file":
        if point_class is None:
            raise InputError("classify='file' needs point_class= (one class code per input point)")
        codes = classify_objects(objects, method="file", labels=merged,
                                 point_class=np.asarray(point_class)[work.index])
    elif classify == "rules":
        codes = classify_objects(objects, rules=rules)
    else:
        codes = classify_objects(objects, method=classify)
    timings["objects"] = time.perf_counter() - t

    # keep classified objects; number them 1..n by floor, class, then position
    objects["object_class"] = codes.astype(np.uint8)
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
    )
    counts = objects["kind"].value_counts()
    log.info("segment_scan: %s points -> %d levels, %d stores, %d facilities (%s) in %.1f s",
             f"{len(cloud):,}", len(levels), int(counts.get("store", 0)),
             int(len(objects) - counts.get("store", 0)),
             ", ".join(f"{n} {k}" for k, n in counts.items() if k != "store"), result.timings["total"])
    return result


def absorb_parts(objects: gpd.GeoDataFrame, labels: Labels, *, is_part: NDArray[np.bool_],
                 is_host: NDArray[np.bool_], reach: float = 1.2, min_overlap: float = 0.6) -> Labels:
    """Merge stall parts (a back shelf, a side partition) into the stall they belong to.

    A part joins the nearest other object within ``reach`` metres in plan (on its floor) whose
    footprint covers at least ``min_overlap`` of the part's length when both are projected on
    the part's long axis — the stall behind whose counter it stands, not the neighbour beside it.
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
    # long axis of each part from its oriented rectangle
    rect = shapely.oriented_envelope(pg)
    coords = shapely.get_coordinates(shapely.get_exterior_ring(rect), return_index=True)
    pts, owner = coords
    first = np.searchsorted(owner, np.arange(len(pg)))
    e1 = pts[first + 1] - pts[first]
    e2 = pts[first + 2] - pts[first + 1]
    axis = np.where((np.hypot(*e1.T) >= np.hypot(*e2.T))[:, None], e1, e2)
    axis = axis / np.maximum(np.hypot(*axis.T), 1e-9)[:, None]

    def extent(geoms: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        c, k = shapely.get_coordinates(geoms, return_index=True)
        proj = np.einsum("ij,ij->i", c, axis[k])
        lo = np.full(len(geoms), np.inf)
        hi_ = np.full(len(geoms), -np.inf)
        np.minimum.at(lo, k, proj)
        np.maximum.at(hi_, k, proj)
        return lo, hi_

    plo, phi = extent(pg)
    hlo, hhi = extent(hg)
    overlap = (np.minimum(phi, hhi) - np.maximum(plo, hlo)) / np.maximum(phi - plo, 1e-9)
    dist = shapely.distance(pg, hg)
    ok = overlap >= min_overlap
    if not ok.any():
        return labels
    cand = pd.DataFrame({"part": part_ids[pi[ok]], "host": host_ids[hi[ok]], "d": dist[ok]})
    best = cand.sort_values(["part", "d", "host"]).drop_duplicates("part")
    lut = np.arange(int(labels.max()) + 1)
    lut[best["part"].to_numpy()] = best["host"].to_numpy()
    return np.where(labels >= 0, lut[np.clip(labels, 0, None)], labels)
