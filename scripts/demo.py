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


def market_job(out: Path) -> tuple[dict[str, object], list[Path]]:
    """Scan → levels, stores and safety facilities (what `geo3d segment` does)."""
    from geo3d.indoor.outputs import write_segmentation
    from geo3d.indoor.scan import segment_scan
    from geo3d.io.las import read_las

    t0 = time.perf_counter()
    cloud = read_las(datasets.get_path("market"))
    result = segment_scan(cloud)
    files = write_segmentation(cloud, result, out / "market", overwrite=True)
    kinds = result.objects["kind"].value_counts()
    return {
        "points": len(cloud),
        "crs": cloud.crs.to_string() if cloud.crs is not None else None,
        "levels": [f"{r.label} {r.slab_z:.2f} m" for r in result.levels.itertuples()],
        "objects": {str(k): int(v) for k, v in kinds.items()},
        "seconds": round(time.perf_counter() - t0, 2),
    }, files


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
    summary: dict[str, object] = {"geo3d": geo3d.__version__}
    print(f"geo3d {geo3d.__version__} demo on {datasets.sample_data_dir()}")
    summary["market"], files = market_job(out)
    outputs += files
    m = summary["market"]
    found = ", ".join(f"{v} {k}" for k, v in m["objects"].items())
    print(f"  market scan: {m['points']:,} points, {m['crs']}; levels {', '.join(m['levels'])}")
    print(f"    found {found} in {m['seconds']} s")
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
