#!/usr/bin/env python
"""Nightly aging statistics for several area layers (행정동, 법정동, 구) in one run.

    python scripts/nightly_stats.py --pipes utilities.gpkg --out reports/ \
        --areas dong=dongs.geojson:adm_cd2 --areas gu=gu.geojson:SIG_CD [--year 2025] \
        [--map] [--overwrite]

For each ``NAME=FILE:FIELD`` it writes ``<out>/<NAME>_stats.csv``, ``<out>/<NAME>_stats.xlsx``,
``<out>/<NAME>_aged.csv`` and with ``--map`` ``<out>/<NAME>_map.png`` (aged share, all
utilities), calling the same library functions as ``geo3d stats``. A layer that fails on bad
input is reported and skipped; the exit code is 2 if any failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import geo3d
from geo3d.errors import Geo3DError
from geo3d.io.atomic import check_can_write
from geo3d.stats import aged_segments, aging_statistics, read_areas, statistics_to_file
from geo3d.underground import read_pipes


def parse_layer(text: str) -> tuple[str, Path, str]:
    try:
        name, rest = text.split("=", 1)
        path, field = rest.rsplit(":", 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--areas takes NAME=FILE:FIELD, not {text!r}") from None
    return name, Path(path), field


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipes", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--areas", action="append", type=parse_layer, required=True)
    ap.add_argument("--year", type=int, default=None)
    ap.add_argument("--map", action="store_true", help="also a PNG choropleth per layer")
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    t0 = time.perf_counter()
    try:
        pipes = read_pipes(args.pipes)
    except Geo3DError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for name, path, field in args.areas:
        try:
            outputs = [args.out / f"{name}_{part}" for part in
                       ("stats.csv", "stats.xlsx", "aged.csv", *(["map.png"] if args.map else []))]
            for output in outputs:  # refuse before the work, not half way through the files
                check_can_write(output, overwrite=args.overwrite)
            areas = read_areas(path, area_id=field, crs=pipes.crs)
            stats = aging_statistics(pipes, areas, area_id=field, reference_date=args.year)
            aged = aged_segments(pipes, areas, area_id=field, reference_date=args.year)
            statistics_to_file(stats, outputs[0], overwrite=args.overwrite)
            statistics_to_file(stats, outputs[1], overwrite=args.overwrite)
            statistics_to_file(aged, outputs[2], overwrite=args.overwrite)
            if args.map:
                import matplotlib.pyplot as plt

                from geo3d.viz import plot_statistics, save_map

                fig, _ = plot_statistics(stats, areas, area_id=field)
                save_map(fig, outputs[3], overwrite=args.overwrite)
                plt.close(fig)
            print(f"{name}: {len(stats):,} rows, {len(aged):,} aged pieces")
        except Geo3DError as exc:
            failed += 1
            print(f"{name}: skipped: {exc}", file=sys.stderr)
    print(f"nightly_stats: {len(args.areas) - failed} of {len(args.areas)} layers in "
          f"{time.perf_counter() - t0:.1f} s -> {args.out}")
    return 2 if failed else 0


if __name__ == "__main__":
    geo3d.options.progress = False
    sys.exit(main())
