"""Score geo3d's 3D addresses against the generator's true addresses.

For each market layout: (1) the TRUE objects (market_objects.geojson) through
``assign_addresses`` — address logic alone, with the true entrances and with entrance faces
found from the footprints; (2) the segmented scan, objects matched to the truth at point
IoU ≥ 0.5, with aisles given (MARKET.toml) and detected (``aisles_from_cloud``).

Usage::

    python scripts/evaluate_addresses.py [--layouts sample rotated l_shaped] [--work DIR] [--json OUT]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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


def _exact(pred: pd.DataFrame, truth: pd.DataFrame, pairs: pd.DataFrame | None = None) -> dict[str, Any]:
    t = truth.copy()
    if pairs is not None:
        t = t.merge(pairs[["pred", "truth"]], left_on="object_id", right_on="truth")
        m = t.merge(pred[["object_id", "address"]], left_on="pred", right_on="object_id", suffixes=("_t", "_p"))
    else:
        m = t.merge(pred[["object_id", "address"]], on="object_id", suffixes=("_t", "_p"))
    eq = m["address_t"].fillna("").to_numpy() == m["address_p"].fillna("").to_numpy()
    store = (m["kind"] == "store").to_numpy()
    return {"n": len(m), "exact": round(float(eq.mean()), 4) if len(m) else None,
            "stores": round(float(eq[store].mean()), 4) if store.any() else None,
            "facilities": round(float(eq[~store].mean()), 4) if (~store).any() else None}


def evaluate_layout(layout: str, folder: Path) -> dict[str, Any]:
    from geo3d.indoor.scan import segment_scan
    from geo3d.io.las import read_las
    from geo3d.pointcloud.evaluate import match_instances

    market = read_market(folder / "market.toml")
    objs = gpd.read_file(folder / "market_objects.geojson")
    levels = pd.read_csv(folder / "market_levels.csv")
    truth = pd.read_csv(folder / "market_addresses.csv", dtype={"number": str}, keep_default_na=False,
                        na_values=[""])
    st, fa = objs[objs.object_class == 1], objs[objs.object_class > 1]
    res: dict[str, Any] = {"layout": layout}
    a = assign_addresses(st, fa, market.aisles, levels, market, entrances="columns")
    res["true_objects_true_entrances"] = _exact(a, truth)
    a = assign_addresses(st, fa, market.aisles, levels, market, entrances="faces")
    res["true_objects_face_entrances"] = _exact(a, truth)
    res["true_objects_validation_errors"] = validate_addresses(a, market.aisles, market).errors

    t0 = time.perf_counter()
    cloud = read_las(folder / "market.laz")
    if cloud.crs is None and market.crs:
        from pyproj import CRS

        cloud.crs = CRS.from_user_input(market.crs)
    seg = segment_scan(cloud)
    ent = entrance_storey(cloud, seg, market)
    if ent is not None:
        seg = renumber_levels(seg, ent)
    res["segment_s"] = round(time.perf_counter() - t0, 1)
    gt = np.load(folder / "market_gt.npz")
    pairs = match_instances(seg.object_id, gt["gt_instance"])
    res["matched"] = len(pairs)
    res["true_objects"] = len(truth)
    scan = address_segmentation(cloud, seg, market)
    res["segmented_aisles_given"] = _exact(scan.addresses, truth, pairs)
    try:
        nomarket = dataclasses.replace(market, aisles=None)
        scan_d = address_segmentation(cloud, seg, nomarket)
        res["segmented_aisles_detected"] = _exact(scan_d.addresses, truth, pairs)
        res["aisles_detected"] = len(scan_d.aisles)
        res["aisles_true"] = len(market.aisles)
        res["aisle_names_detected"] = scan_d.aisles["name"].tolist()
    except Exception as exc:  # report, keep scoring the other layouts
        res["segmented_aisles_detected"] = f"failed: {type(exc).__name__}: {str(exc)[:300]}"
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layouts", nargs="+", default=["sample", "rotated", "l_shaped"])
    ap.add_argument("--work", type=Path, default=None, help="folder for generated layouts (reused)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    geo3d.options.progress = False
    work = args.work or Path(tempfile.mkdtemp(prefix="geo3d-addr-"))
    out = []
    for layout in args.layouts:
        if layout == "sample":
            folder = geo3d.datasets.get_path("market").parent
        else:
            folder = work / layout
            if not (folder / "market.laz").exists():
                from geo3d.datasets.market import make_market, write_market

                write_market(make_market(layout), folder)
        r = evaluate_layout(layout, folder)
        print(json.dumps(r, ensure_ascii=False), flush=True)
        out.append(r)
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
