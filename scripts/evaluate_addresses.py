"""Score geo3d's 3D addresses against the generator's true addresses.

The truth (``market_addresses.csv``) is computed by :mod:`geo3d.datasets.market` from the scene
definition, independently of :mod:`geo3d.address`. For each market layout (the committed sample
and any of ``geo3d.datasets.market.LAYOUTS``, generated into ``--work`` when missing):

1. **address logic alone** — the TRUE stores and facilities (``market_objects.geojson``) through
   ``assign_addresses``: with the true entrances and with entrance faces found from the
   footprints, on the given aisles (MARKET.toml) and on the aisles detected from the scan;
2. **the whole scan** — the segmented scan (objects matched to the truth at point IoU ≥ 0.5),
   addressed on the given aisles and on the detected ones, exactly as ``geo3d scan`` does
   (validation included: a broken rule is reported as a failure).

Reported per case: exact-match rate of the address strings (all, stores, facilities), the
number of detected vs true aisles (and how many true aisles have a detected one of the same name
within 3 m), and, for the scan, where each wrong address comes from (:func:`attribute_errors`):
the segmented footprint, position or kind of the object or of one before it ("geometry"), an
object the segmentation split off or added ("extra"), one it missed or merged ("missed"), or
the address code ("address").

Usage::

    python scripts/evaluate_addresses.py [--layouts sample rotated l_shaped three_levels]
                                         [--work DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geo3d
from geo3d.address import assign_addresses, read_market, validate_addresses
from geo3d.address.evaluate import address_exact_match, paired_addresses
from geo3d.address.pipeline import address_segmentation, entrance_storey, renumber_levels

LAYOUTS = ("sample", "rotated", "l_shaped", "three_levels", "sparse_noisy")


def layout_folder(layout: str, work: Path) -> Path:
    """Folder holding the layout's scan and truth (the sample is committed; others generated)."""
    if layout == "sample":
        return geo3d.datasets.get_path("market").parent
    folder = work / layout
    if not (folder / "market_addresses.csv").exists():
        from geo3d.datasets.market import make_market, write_market

        write_market(make_market(layout), folder)
    return folder


def read_truth(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "market_addresses.csv", dtype={"number": str}, keep_default_na=False,
                       na_values=[""])


def exact(pred: pd.DataFrame, truth: pd.DataFrame, pairs: pd.DataFrame | None = None) -> dict[str, Any]:
    """Exact-match rate of address strings (:func:`geo3d.address.evaluate.address_exact_match`)."""
    return address_exact_match(pred, truth, pairs)


def _merged(pred: pd.DataFrame, truth: pd.DataFrame, pairs: pd.DataFrame | None) -> pd.DataFrame:
    return paired_addresses(pred, truth, pairs)


def _base(number: Any) -> int | None:
    m = re.match(r"(\d+)", number) if isinstance(number, str) else None
    return int(m.group(1)) if m else None


def _wrong(pred: pd.DataFrame, truth: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    m = _merged(pred, truth, pairs)
    return m[m["address_t"].fillna("").to_numpy() != m["address_p"].fillna("").to_numpy()]


def attribute_errors(seg: Any, scan: Any, truth: pd.DataFrame, pairs: pd.DataFrame, objects: gpd.GeoDataFrame,
                     market: Any) -> dict[str, int]:
    """Where the wrong addresses of a segmented scan come from, by counterfactual runs.

    The scan's objects are addressed again (same aisles) (1) with every matched object given its
    true footprint or position and kind, and (2) with, in addition, the unmatched predicted
    objects left out. A wrong address that (1) puts right is due to the segmented geometry or
    kind ("geometry": a footprint cut short moves the entrance, and with it the number and the
    sub-numbers after it); one that only (2) puts right to objects the segmentation split off or
    added ("extra"); one still wrong after (2) to a true object missed or merged before it in
    its interval ("missed"), or else to the address code ("address").
    """
    wrong0 = set(_wrong(scan.addresses, truth, pairs)["pred"])
    if not wrong0:
        return {"geometry": 0, "extra": 0, "missed": 0, "address": 0}
    true_of = dict(zip(pairs["pred"], pairs["truth"], strict=True))
    obj = objects.set_index("object_id")
    pred = seg.objects.reset_index()
    ids = pred["object_id"].to_numpy()
    t_ids = np.array([true_of.get(i, -1) for i in ids])
    matched = t_ids >= 0
    geom = np.asarray(pred.geometry.values, dtype=object).copy()
    fac = pred["object_class"].to_numpy() > 1  # facilities stand at their centre (x, y), as in geo3d scan
    geom[fac] = shapely.points(pred.loc[fac, ["x", "y"]].to_numpy(float))
    kind = pred["kind"].to_numpy(dtype=object).copy()
    cls = pred["object_class"].to_numpy().copy()
    geom[matched] = obj.geometry.reindex(t_ids[matched]).to_numpy()
    kind[matched] = obj["kind"].reindex(t_ids[matched]).to_numpy()
    cls[matched] = obj["object_class"].reindex(t_ids[matched]).to_numpy()
    fixed = gpd.GeoDataFrame({"object_id": ids, "floor": pred["floor"].to_numpy(), "kind": kind,
                              "object_class": cls}, geometry=geom, crs=scan.addresses.crs)
    is_store = fixed["object_class"].to_numpy() == 1

    def rerun(keep: np.ndarray) -> set[int]:
        f = fixed[keep]
        st, fa = f[is_store[keep]], f[~is_store[keep]].drop(columns="object_class")
        a = assign_addresses(st, fa, scan.aisles, seg.levels, market, entrances="faces")
        return set(_wrong(a, truth, pairs)["pred"])

    wrong1 = rerun(np.ones(len(fixed), bool)) & wrong0
    wrong2 = rerun(matched) & wrong1
    out = {"geometry": len(wrong0 - wrong1), "extra": len(wrong1 - wrong2), "missed": 0, "address": 0}
    t = truth.assign(base=truth["number"].map(_base), matched=truth["object_id"].isin(pairs["truth"]))
    for r in _wrong(scan.addresses, truth, pairs).itertuples():  # the wrong ones only (tens)
        if r.pred not in wrong2:
            continue
        bt = _base(r.number_t)
        before = ((t["kind"] == r.kind) & (t["aisle"] == r.aisle_t) & (t["base"] == bt) & ~t["matched"]
                  & (t["s_m"] <= r.s_m_t)).any()
        out["missed" if before else "address"] += 1
    return out


def aisle_match(detected: gpd.GeoDataFrame, true: gpd.GeoDataFrame, *, tol: float = 3.0) -> int:
    """True aisles with a detected aisle of the same name and floor within ``tol`` metres (Hausdorff)."""
    det = detected.set_index("name")
    n = 0
    for name, floor, g in zip(true["name"], true["floor"], true.geometry, strict=True):
        if name in det.index and int(det.loc[name, "floor"]) == int(floor):
            n += int(det.loc[name].geometry.hausdorff_distance(g) <= tol)
    return n


def evaluate_layout(layout: str, folder: Path) -> dict[str, Any]:
    """Every score of one layout (see the module docstring)."""
    from pyproj import CRS

    from geo3d.indoor.aisles import aisles_from_cloud
    from geo3d.indoor.scan import segment_scan
    from geo3d.io.las import read_las
    from geo3d.pointcloud.evaluate import match_instances

    market = read_market(folder / "market.toml")
    objs = gpd.read_file(folder / "market_objects.geojson")
    levels = pd.read_csv(folder / "market_levels.csv")
    truth = read_truth(folder)
    st, fa = objs[objs.object_class == 1], objs[objs.object_class > 1]
    res: dict[str, Any] = {"layout": layout, "true_objects": len(truth), "aisles_true": len(market.aisles)}

    t0 = time.perf_counter()
    cloud = read_las(folder / "market.laz")
    if cloud.crs is None and market.crs:
        cloud.crs = CRS.from_user_input(market.crs)
    seg = segment_scan(cloud)
    ent = entrance_storey(cloud, seg, market)
    if ent is not None:
        seg = renumber_levels(seg, ent)
    res["segment_s"] = round(time.perf_counter() - t0, 1)
    detected = aisles_from_cloud(cloud, seg, entrance=market.principal_entrance, name=market.name)
    res["aisles_detected"] = len(detected)
    res["aisles_detected_matching"] = aisle_match(detected, market.aisles)

    logic: dict[str, Any] = {}
    for aisles_name, aisles in (("given", market.aisles), ("detected", detected)):
        for ent_mode in ("columns", "faces"):
            a = assign_addresses(st, fa, aisles, levels, market, entrances=ent_mode)
            score = exact(a, truth)
            score["validation_errors"] = validate_addresses(a, aisles, market).errors
            logic[f"{'true' if ent_mode == 'columns' else 'face'}_entrances_{aisles_name}_aisles"] = score
    res["true_objects_scores"] = logic

    gt = np.load(folder / "market_gt.npz")
    pairs = match_instances(seg.object_id, gt["gt_instance"])
    res["matched"] = len(pairs)
    for name, mk in (("given", market), ("detected", dataclasses.replace(market, aisles=None))):
        try:
            scan = address_segmentation(cloud, seg, mk)
        except Exception as exc:  # report it and keep scoring the other cases
            res[f"scan_aisles_{name}"] = {"failed": f"{type(exc).__name__}: {str(exc)[:300]}"}
            continue
        score = exact(scan.addresses, truth, pairs)
        score["wrong_from"] = attribute_errors(seg, scan, truth, pairs, objs, mk)
        score["aisles"] = len(scan.aisles)
        score["warnings"] = len(scan.validation.warnings)
        res[f"scan_aisles_{name}"] = score
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layouts", nargs="+", default=list(LAYOUTS[:4]), choices=LAYOUTS)
    ap.add_argument("--work", type=Path, default=None, help="folder for generated layouts (reused)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    geo3d.options.progress = False
    work = args.work or Path(tempfile.mkdtemp(prefix="geo3d-addr-"))
    out = []
    for layout in args.layouts:
        r = evaluate_layout(layout, layout_folder(layout, work))
        print(json.dumps(r, ensure_ascii=False), flush=True)
        out.append(r)
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
