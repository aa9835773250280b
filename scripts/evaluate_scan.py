#!/usr/bin/env python
"""Score geo3d's indoor segmentation of a scan against per-point ground truth.

    python scripts/evaluate_scan.py SCAN.laz GT.npz [--levels LEVELS.csv] [--entrance-level N]

``GT.npz`` holds per-point ``gt_instance`` and ``gt_class`` (in the scan's point order, as
written by :func:`geo3d.datasets.market.write_market`); ``LEVELS.csv`` the true levels
(``floor,label,slab_z,ceiling_z``). Prints the per-class instance table (precision, recall and
F1 at point IoU >= 0.5), the confusion of kinds on matched pairs, and the level errors — by floor
number and by height order (a scan with a basement needs ``--entrance-level`` for the numbers
to agree). Exits 2 on bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from geo3d.indoor.scan import segment_scan
from geo3d.io.las import read_las
from geo3d.pointcloud.evaluate import score_levels, score_segmentation


def _by_order(levels: pd.DataFrame) -> pd.DataFrame:
    """The same levels numbered 1..n from the lowest (to compare slab heights in order)."""
    out = levels.sort_values("slab_z").reset_index(drop=True)
    return out.assign(floor=np.arange(1, len(out) + 1))


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scan", type=Path, help="the scan (LAS/LAZ)")
    ap.add_argument("gt", type=Path, help="ground truth .npz with gt_instance and gt_class per point")
    ap.add_argument("--levels", type=Path, help="true levels CSV (floor, slab_z, ...)")
    ap.add_argument("--entrance-level", type=int, default=None,
                    help="index from 0 (lowest) of the storey that is 1층 (default: the lowest)")
    ap.add_argument("--method", default="voxel_cc", help="segmentation method (voxel_cc or dbscan)")
    ap.add_argument("--crs", default=None, help="CRS of the scan when its header has none or a wrong one")
    ap.add_argument("-v", "--verbose", action="store_true", help="log each stage")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")

    for p in (args.scan, args.gt, args.levels):
        if p is not None and not p.is_file():
            print(f"error: {p} does not exist", file=sys.stderr)
            return 2
    gt = np.load(args.gt)
    missing = {"gt_instance", "gt_class"} - set(gt.files)
    if missing:
        print(f"error: {args.gt} lacks {sorted(missing)}", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    cloud = read_las(args.scan, crs=args.crs, clean=False)
    if len(cloud) != len(gt["gt_class"]):
        print(f"error: the scan has {len(cloud):,} points but the truth {len(gt['gt_class']):,}; "
              "they must align point by point", file=sys.stderr)
        return 2
    result = segment_scan(cloud, entrance_level=args.entrance_level, method=args.method)
    elapsed = time.perf_counter() - t0

    score = score_segmentation(result.object_id, result.object_class, gt["gt_instance"], gt["gt_class"])
    pd.set_option("display.width", 200)
    print(f"{args.scan}: {len(cloud):,} points, read + segment_scan in {elapsed:.1f} s "
          f"({', '.join(f'{k} {v:.1f}' for k, v in result.timings.items())})")
    print("\nPer class (instances matched at point IoU >= 0.5):")
    print(score.per_class.round(3).to_string())
    print("\nConfusion of kinds on matched pairs (rows: true, columns: predicted):")
    print(score.confusion.to_string())
    print("\nLevels found:")
    print(result.levels[["floor", "label", "slab_z", "ceiling_z"]].to_string(index=False))
    if args.levels is not None:
        truth = pd.read_csv(args.levels)
        by_floor = score_levels(result.levels, truth)
        by_order = score_levels(_by_order(result.levels), _by_order(truth))
        print("\nLevel errors by floor number:")
        print(by_floor.to_string(index=False))
        print("\nLevel errors by height order:")
        print(by_order.to_string(index=False))
        print(f"\nlevels: {len(result.levels)} found, {len(truth)} true; "
              f"slab within 0.15 m: {int(by_floor['ok'].sum())} by number, {int(by_order['ok'].sum())} by order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
