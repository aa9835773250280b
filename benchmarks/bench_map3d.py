"""3D map pages at 100 k pipe segments: geo3d's map3d page vs pydeck's JSON page.

Data: the sample district's pipes placed in 3D over its DEM (``pipes_in_3d``), copied on a grid
(translated by the district's size, so each copy sits beside the last) until there are at least
``--segments`` segments. Both pages are built end to end from the 3D pipes to an HTML file:

- geo3d: ``underground_scene(pipes3d).to_html(...)`` — segments as base64 float32 arrays, one
  instanced tube mesh and line layer per utility, attributes as a column table;
- the obvious alternative: ``pipes_deck(pipes3d)`` written with ``deck_to_html`` — pydeck's
  PathLayer with one JSON record (path, colour, attributes) per pipe, deck.gl bundled.

Reported: build time (best of ``--reps``), page size, and — when Debian's chromium and
playwright are there — the time from opening the page to its first drawn frame in headless
Chromium (software WebGL: a GPU is much faster). Results replace the ``bench_map3d`` section of
benchmarks/RESULTS.md.

Usage: python benchmarks/bench_map3d.py [--segments 100000] [--reps 2] [--no-write]
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine

from geo3d import datasets
from geo3d.io.raster import read_dem
from geo3d.underground import read_pipes
from geo3d.viz.deck import deck_to_html
from geo3d.viz.pipes3d import pipes_deck
from geo3d.viz.underground3d import pipes_in_3d, underground_scene

RESULTS = Path(__file__).with_name("RESULTS.md")


def tiled_pipes(segments: int) -> gpd.GeoDataFrame:
    base = pipes_in_3d(read_pipes(datasets.get_path("utilities")), dem=read_dem(datasets.get_path("dem")))
    per = int(shapely.get_num_coordinates(base.geometry.to_numpy()).sum() - len(base))
    copies = math.ceil(segments / per)
    side = math.ceil(math.sqrt(copies))
    left, bottom, right, top = base.total_bounds
    w, h = right - left + 20, top - bottom + 20
    parts = []
    for k in range(copies):
        dx, dy = (k % side) * w, (k // side) * h
        g = shapely.transform(base.geometry.to_numpy(), lambda c, dx=dx, dy=dy: c + np.array([dx, dy, 0.0]), include_z=True)
        parts.append(base.assign(geometry=g, source_id=base["source_id"].astype(str) + f"-{k}"))
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=base.crs)


def best(fn, reps: int) -> tuple[float, Path]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def first_frame_seconds(path: Path) -> float | None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    try:
        from conftest import CHROMIUM_FLAGS, chromium_path
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    exe = chromium_path()
    if exe is None:
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        t0 = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_function("window.GEO3D && window.GEO3D.ready === true", timeout=300_000)
        seconds = time.perf_counter() - t0
        browser.close()
    return seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--segments", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    pipes3d = tiled_pipes(args.segments)
    n_seg = int(shapely.get_num_coordinates(pipes3d.geometry.to_numpy()).sum() - len(pipes3d))
    tmp = Path(tempfile.mkdtemp(prefix="bench_map3d_"))
    t_geo3d, p_geo3d = best(lambda: underground_scene(pipes3d).to_html(tmp / "geo3d.html", overwrite=True), args.reps)
    t_pydeck, p_pydeck = best(lambda: deck_to_html(pipes_deck(pipes3d), tmp / "pydeck.html", overwrite=True),
                              args.reps)
    s_geo3d, s_pydeck = p_geo3d.stat().st_size / 1e6, p_pydeck.stat().st_size / 1e6
    frame = first_frame_seconds(p_geo3d)
    sample = tiled_pipes(1)
    sample_path = underground_scene(sample).to_html(tmp / "sample.html", overwrite=True)
    frame_sample = first_frame_seconds(sample_path)
    lines = [
        "## 3D map pages: geo3d map3d vs pydeck JSON (`benchmarks/bench_map3d.py`)",
        "",
        f"{len(pipes3d):,} pipes, {n_seg:,} segments (the sample district copied on a grid), 3D over the DEM; "
        f"build = 3D pipes in memory → HTML file, best of {args.reps}. {machine('pydeck', 'playwright')}",
        "",
        "| page | build (s) | size (MB) |",
        "|---|---|---|",
        f"| geo3d `underground_scene(...).to_html` (binary arrays, instanced tubes) | {t_geo3d:.2f} | {s_geo3d:.1f} |",
        f"| pydeck `pipes_deck` + `deck_to_html` (JSON records) | {t_pydeck:.2f} | {s_pydeck:.1f} |",
        f"| ratio pydeck / geo3d | {t_pydeck / t_geo3d:.1f}× | {s_pydeck / s_geo3d:.1f}× |",
        "",
        "First drawn frame in headless Chromium with software WebGL (SwiftShader, 2 shared cores): "
        + (f"sample district ({len(sample):,} pipes) {frame_sample:.1f} s; {n_seg:,} segments {frame:.1f} s."
           if frame is not None and frame_sample is not None else "not measured (no chromium/playwright)."),
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
        pattern = re.compile(r"## 3D map pages.*?(?=\n## |\Z)", re.S)
        new = pattern.sub(text.rstrip() + "\n", old) if pattern.search(old) else old.rstrip() + "\n\n" + text
        RESULTS.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
