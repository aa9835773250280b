#!/usr/bin/env python
"""Batch vector tiles: pipes (a layer per utility) and per-area aging statistics in PMTiles.

    python scripts/make_tiles.py --pipes utilities.gpkg --out tiles/pipes.pmtiles \
        [--areas dongs.geojson --area-id adm_cd2] [--year 2025] [--minzoom 10] [--maxzoom 16] \
        [--overwrite]

Reads the pipes once, computes the statistics when areas are given
(:func:`geo3d.stats.aging_statistics`; areas read with :func:`geo3d.stats.read_areas`,
reprojected to the pipes' CRS), writes the tiles
with :func:`geo3d.tiles.write_tiles` and, beside them, ``<out stem>_stats.csv``. The same work
as ``geo3d stats`` followed by ``geo3d tiles``, in one process for cron jobs. Exit code 2 on bad
input (the message says what to fix), 1 on an internal error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import traceback
from pathlib import Path

import geo3d
from geo3d.errors import Geo3DError, InputError
from geo3d.io.atomic import check_can_write
from geo3d.stats import aging_statistics, read_areas, statistics_to_file
from geo3d.tiles import write_tiles
from geo3d.underground import read_pipes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipes", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path, help="output .pmtiles")
    ap.add_argument("--areas", type=Path, help="area polygons for the statistics layer")
    ap.add_argument("--area-id", help="field of the areas identifying an area")
    ap.add_argument("--year", type=int, default=None, help="reference year (default: this year)")
    ap.add_argument("--minzoom", type=int, default=10)
    ap.add_argument("--maxzoom", type=int, default=16)
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    geo3d.options.progress = "auto"
    t0 = time.perf_counter()
    try:
        if (args.areas is None) != (args.area_id is None):
            msg = "--areas and --area-id go together: pass both, or neither"
            raise InputError(msg)
        stats_path = args.out.with_name(f"{args.out.stem}_stats.csv")
        check_can_write(args.out, overwrite=args.overwrite)
        pipes = read_pipes(args.pipes)
        stats = areas = None
        if args.areas is not None:
            check_can_write(stats_path, overwrite=args.overwrite)
            areas = read_areas(args.areas, area_id=args.area_id, crs=pipes.crs)
            stats = aging_statistics(pipes, areas, area_id=args.area_id,
                                     reference_date=args.year)
        write_tiles(pipes, args.out, stats=stats, areas=areas, area_id=args.area_id,
                    minzoom=args.minzoom, maxzoom=args.maxzoom, overwrite=args.overwrite)
        if stats is not None:
            statistics_to_file(stats, stats_path, overwrite=args.overwrite)
    except Geo3DError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # an internal error: exit 1, as documented
        if args.verbose:
            traceback.print_exc()
        print(f"Internal error ({type(exc).__name__}): {exc}. Re-run with -v for the traceback "
              "and report it.", file=sys.stderr)
        return 1
    print(f"make_tiles: {len(pipes):,} pipes -> {args.out} "
          f"({args.out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
