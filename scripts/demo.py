#!/usr/bin/env python
"""What `make demo` runs: geo3d's main jobs on the sample data, outputs under --out.

    python scripts/demo.py --out out

Each job is a `geo3d` command of docs/contracts.md, run in this process exactly as a batch user
would type it (the line is printed first), so the demo exercises the same library functions as
the notebooks and the command line:

1. ``geo3d segment``  market scan → levels, stores, safety facilities (no addresses)
2. ``geo3d scan``     the same scan with 3D addresses, IMDF and the 3D map
3. ``geo3d excavate`` the sample pit against the six utility layers → conflicts.csv, verdict
4. ``geo3d section``  a cross-section sheet (A3 PDF, Hangul) along the sample line
5. ``geo3d stats``    aging statistics per 행정동 → CSV and a choropleth map
6. ``geo3d tiles``    pipes and area statistics as vector tiles (PMTiles) with a style and an
   offline viewer; ``geo3d tiles3d`` the pipes and the market as 3D Tiles for CesiumJS
7. ``geo3d map3d``    the underground 3D map (sample pit and section line) and the market 3D map,
   each one HTML page that works offline

The script ends by listing every output it wrote.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import geopandas as gpd
import shapely

import geo3d
from geo3d import datasets
from geo3d.cli import commands  # noqa: F401  (registers the commands)
from geo3d.cli.main import cli

D = datasets.get_path


def run(args: list[str]) -> float:
    """Run one `geo3d` command in this process; stop the demo on failure."""
    shown = " ".join(shlex.quote(str(a)) for a in args)
    print(f"\n$ geo3d {shown}", flush=True)
    t0 = time.perf_counter()
    try:
        cli.main(args=[str(a) for a in args], prog_name="geo3d", standalone_mode=False)
    except SystemExit as exc:  # a command that exits non-zero
        if exc.code:
            raise
    seconds = time.perf_counter() - t0
    print(f"  ({seconds:.1f} s)")
    return seconds


def section_line_arg() -> str:
    """The sample section line as docs/contracts.md's ``x1,y1,x2,y2[,…]``."""
    line = gpd.read_file(D("section_line")).geometry.iloc[0]
    return ",".join(f"{v:.2f}" for v in shapely.get_coordinates(line).ravel())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run geo3d's main jobs on sample_data/.")
    parser.add_argument("--out", type=Path, default=Path("out"))
    args = parser.parse_args(argv)
    geo3d.options.progress = False
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    market, under = out / "market", out / "underground"
    under.mkdir(exist_ok=True)
    print(f"geo3d {geo3d.__version__} demo on {datasets.sample_data_dir()}")

    run(["segment", D("market"), "--out", out / "market_segment", "--overwrite"])
    run(["scan", D("market"), "--market", D("market_toml"), "--out", market, "--overwrite"])
    run(["excavate", "--pipes", D("utilities"), "--pit", D("pit"), "--depth", 2.5,
         "--dem", D("dem"), "--road-width", 25, "--out", under / "conflicts.csv", "--overwrite"])
    run(["section", "--pipes", D("utilities"), "--line", section_line_arg(), "--dem", D("dem"),
         "--groundwater", D("boreholes"), "--road-width", 25, "--title", "횡단면도 A-A'",
         "--project", "제기동 관로 정비", "--location", "서울특별시 동대문구 고산자로",
         "--out", under / "section_A.pdf", "--overwrite"])
    run(["stats", "--pipes", D("utilities"), "--areas", D("neighbourhoods"), "--area-id",
         "adm_cd2", "--year", 2025, "--out", under / "stats.csv", "--map",
         under / "stats_map.png", "--overwrite"])
    run(["tiles", "--pipes", D("utilities"), "--stats", under / "stats.csv", "--areas",
         D("neighbourhoods"), "--area-id", "adm_cd2", "--out", under / "pipes.pmtiles",
         "--minzoom", 12, "--maxzoom", 16, "--overwrite"])
    run(["tiles3d", "--pipes", D("utilities"), "--dem", D("dem"), "--out", under / "pipes3d",
         "--overwrite"])
    run(["tiles3d", "--scan", market, "--out", out / "market3d", "--overwrite"])

    run(["map3d", "--pipes", D("utilities"), "--dem", D("dem"), "--pit", D("pit"), "--depth", 2.5,
         "--road-width", 25, "--line", section_line_arg(), "--out", under / "map3d.html", "--overwrite"])
    run(["map3d", "--scan", market, "--out", out / "market_map3d.html", "--overwrite"])

    print("\noutputs:")
    for p in sorted(q for q in out.rglob("*") if q.is_file()):
        print(f"  {p.resolve()}  ({p.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
