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
within 3 m), and, for the scan, where each wrong address comes from: its sub-number shifted by a
stall the segmentation split or added before it in the same interval, or one it missed or
merged ("segmentation"), or anything else (aisle, side, interval, order: "address").

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

import geo3d
from geo3d.address import assign_addresses, read_market, validate_addresses
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
    """Exact-match rate of address strings (an object both leave unaddressed counts as a match)."""
    m = _merged(pred, truth, pairs)
    eq = m["address_t"].fillna("").to_numpy() == m["address_p"].fillna("").to_numpy()
    store = (m["kind"] == "store").to_numpy()

    def rate(sel: np.ndarray) -> float | None:
        return round(float(eq[sel].mean()), 4) if sel.any() else None

    return {"n": len(m), "exact": rate(np.ones(len(m), bool)), "stores": rate(store), "facilities": rate(~store),
            "wrong": int((~eq).sum())}


def _merged(pred: pd.DataFrame, truth: pd.DataFrame, pairs: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["object_id", "address", "aisle", "number", "s_m"]
    if pairs is None:
        return truth.merge(pred[cols], on="object_id", suffixes=("_t", "_p"))
    t = truth.merge(pairs[["pred", "truth"]], left_on="object_id", right_on="truth")
    return t.merge(pred[cols].rename(columns={"object_id": "pred"}), on="pred", suffixes=("_t", "_p"))


def _base(number: Any) -> int | None:
    m = re.match(r"(\d+)", number) if isinstance(number, str) else None
    return int(m.group(1)) if m else None


def attribute_errors(pred: pd.DataFrame, truth: pd.DataFrame, pairs: pd.DataFrame) -> dict[str, int]:
    """Where the wrong addresses of a segmented scan come from.

    ``segmentation``: same aisle and base number as the truth, but an unmatched predicted object
    of its kind (a stall split in two, a fragment taken for a stall) or an unmatched true one (a
    stall missed or merged into its neighbour) lies before it in that interval, so the sub-number
    shifts; ``address``: any other difference (aisle, side, interval, order).
    """
    m = _merged(pred, truth, pairs)
    wrong = m[m["address_t"].fillna("") != m["address_p"].fillna("")]
    p = pred.assign(base=pred["number"].map(_base), matched=pred["object_id"].isin(pairs["pred"]))
    t = truth.assign(base=truth["number"].map(_base), matched=truth["object_id"].isin(pairs["truth"]))
    out = {"segmentation": 0, "address": 0}
    for r in wrong.itertuples():  # the wrong ones only (tens)
        bt, bp = _base(r.number_t), _base(r.number_p)
        if r.aisle_t != r.aisle_p or bt is None or bt != bp:
            out["address"] += 1
            continue
        same_kind_p = (p["kind"] == r.kind) & (p["aisle"] == r.aisle_p) & (p["base"] == bp)
        same_kind_t = (t["kind"] == r.kind) & (t["aisle"] == r.aisle_t) & (t["base"] == bt)
        extra = (same_kind_p & ~p["matched"] & (p["s_m"] <= r.s_m_p)).any()
        missed = (same_kind_t & ~t["matched"] & (t["s_m"] <= r.s_m_t)).any()
        out["segmentation" if extra or missed else "address"] += 1
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
        score["wrong_from"] = attribute_errors(scan.addresses, truth, pairs)
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
