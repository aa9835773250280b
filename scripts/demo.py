#!/usr/bin/env python
"""What `make demo` runs: geo3d's main jobs on the sample data, outputs under --out.

    python scripts/demo.py --out out

Each stage calls the same library functions a notebook or the `geo3d` command would, and the
script ends by listing every output it wrote.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import geo3d
from geo3d import datasets
from geo3d.io.atomic import atomic_path


def market_summary(out: Path) -> dict[str, object]:
    """Read the sample scan (streamed) and describe it."""
    from geo3d.io.las import read_las

    t0 = time.perf_counter()
    cloud = read_las(datasets.get_path("market"))
    (xmin, ymin, zmin), (xmax, ymax, zmax) = cloud.bounds
    return {
        "file": str(datasets.get_path("market")),
        "points": len(cloud),
        "crs": cloud.crs.to_string() if cloud.crs is not None else None,
        "bbox": [round(v, 3) for v in (xmin, ymin, xmax, ymax)],
        "z_range": [round(zmin, 3), round(zmax, 3)],
        "seconds": round(time.perf_counter() - t0, 2),
    }


def underground_summary(out: Path) -> dict[str, object]:
    """Read the six sample utility layers into the canonical schema and describe them."""
    from geo3d.underground import read_pipes

    t0 = time.perf_counter()
    pipes = read_pipes(datasets.get_path("utilities"))
    length = pipes.geometry.length.groupby(pipes["utility"]).sum() / 1000.0
    unknown = pipes["depth_unknown"].groupby(pipes["utility"]).mean()
    return {
        "file": str(datasets.get_path("utilities")),
        "segments": len(pipes),
        "crs": pipes.crs.to_string(),
        "km_per_utility": {k: round(float(v), 3) for k, v in length.items()},
        "depth_unknown_share": {k: round(float(v), 3) for k, v in unknown.items()},
        "seconds": round(time.perf_counter() - t0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run geo3d's main jobs on sample_data/.")
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    geo3d.options.progress = False
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    outputs: list[Path] = []
    summary = {"geo3d": geo3d.__version__}
    print(f"geo3d {geo3d.__version__} demo on {datasets.sample_data_dir()}")
    summary["market"] = market_summary(out)
    m = summary["market"]
    print(f"  market scan: {m['points']:,} points, {m['crs']}, read in {m['seconds']} s")
    summary["underground"] = underground_summary(out)
    u = summary["underground"]
    km = ", ".join(f"{k} {v:.1f} km" for k, v in u["km_per_utility"].items())
    print(f"  utilities: {u['segments']:,} segments ({km})")

    path = out / "summary.json"
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    outputs.append(path)
    print("outputs:")
    for p in outputs:
        print(f"  {p.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
