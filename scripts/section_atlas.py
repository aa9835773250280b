#!/usr/bin/env python
"""Batch cross-section atlases: one multi-page PDF (and CSV) per road.

    python scripts/section_atlas.py --pipes utilities.gpkg --dem dem.tif --roads road.geojson \
        --out atlases/ [--road-name 고산자로 ...] [--step 20] [--length 30] [--groundwater bh.geojson]

Reads the pipes, DEM and boreholes once and calls :func:`geo3d.sheets.section_atlas` for each
road (all roads of the layer unless ``--road-name`` is given), writing ``<out>/<road>.pdf`` and
``<out>/<road>.csv`` (``sheet,station_m,`` then the section columns of docs/contracts.md). Roads whose
atlas fails on bad input are reported and skipped; the exit code is 2 if any failed.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from pathlib import Path

import geopandas as gpd

import geo3d
from geo3d.errors import Geo3DError
from geo3d.io.atomic import atomic_path
from geo3d.io.raster import read_dem
from geo3d.sheets import section_atlas
from geo3d.underground import pipes_to_3d, read_pipes
from geo3d.underground.section import atlas_table


def safe_name(name: str) -> str:
    return re.sub(r"[^\w\-]+", "_", name).strip("_") or "road"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipes", required=True)
    ap.add_argument("--dem", required=True)
    ap.add_argument("--roads", required=True, help="road centrelines with road_name (and width_m)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--road-name", action="append", default=None,
                    help="only these roads (repeatable); default all")
    ap.add_argument("--groundwater", default=None)
    ap.add_argument("--step", type=float, default=20.0)
    ap.add_argument("--length", type=float, default=30.0)
    ap.add_argument("--palette", default="korean", choices=["korean", "apwa"])
    ap.add_argument("--project", default="")
    ap.add_argument("--author", default="")
    ap.add_argument("--checker", default="")
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    geo3d.options.progress = False

    t0 = time.perf_counter()
    dem = read_dem(args.dem)
    pipes = pipes_to_3d(read_pipes(args.pipes), dem, densify=0.5)   # 3D once for all roads
    wells = gpd.read_file(args.groundwater) if args.groundwater else None
    roads = gpd.read_file(args.roads)
    names = args.road_name or sorted(roads["road_name"].astype(str).unique())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for name in names:  # one atlas per road
        pdf = out / f"{safe_name(name)}.pdf"
        try:
            t = time.perf_counter()
            secs = section_atlas(pipes, roads, road_name=name, path=pdf, step=args.step,
                                 length=args.length, ground=dem, groundwater=wells,
                                 palette=args.palette, project=args.project,
                                 location=name, author=args.author, checker=args.checker,
                                 overwrite=args.overwrite)
            with atomic_path(pdf.with_suffix(".csv"), overwrite=True) as tmp:
                if secs:
                    atlas_table(secs).to_csv(tmp, index=False, encoding="utf-8")
                else:
                    tmp.write_text("", encoding="utf-8")
            print(f"{name}: {len(secs)} sheets -> {pdf} ({time.perf_counter() - t:.1f} s)")
        except Geo3DError as exc:
            failed += 1
            print(f"{name}: skipped: {exc}", file=sys.stderr)
    print(f"done in {time.perf_counter() - t0:.1f} s, {len(names) - failed} atlas(es), "
          f"{failed} failed")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
