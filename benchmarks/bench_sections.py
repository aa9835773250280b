"""Section sheets: one-process atlas vs one process per sheet; time per sheet vs network size.

1. **Atlas.** 100 cross-section sheets along one road of the sample district (고산자로, a cut
   every ~10 m) rendered by ``geo3d.sheets.section_atlas`` in one process (data read once, the
   pipes near the road placed in 3D once, one figure reused, one multi-page PDF) against the
   obvious batch alternative: one ``python`` process per sheet that imports geo3d, reads the
   pipes, DEM and boreholes, cuts one section and writes one PDF. The per-process time is
   measured on ``--per-process`` sheets (default 12; ``--per-process 100`` runs them all) and
   scaled to 100 sheets. Ratio target ≥ 5×.
2. **Scaling.** Synthetic districts of about 10 k, 100 k and 1 M pipe segments
   (``geo3d.datasets.underground.make_district``): median time of ``cross_section`` and of one
   rendered A3 PDF sheet on ``--cuts`` cuts of an arterial near the centre. The spatial index
   keeps it flat; the one-off index build is listed apart.

Results replace the ``bench_sections`` section of benchmarks/RESULTS.md.

Usage: python benchmarks/bench_sections.py [--per-process 12] [--sizes 2500,8000,25000]
       [--cuts 10] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from matplotlib.backends.backend_pdf import PdfPages

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from _common import machine, write_section  # noqa: E402  (benchmarks/ is on sys.path as a script)

import geo3d  # noqa: E402
from geo3d.datasets.underground import UIS_LAYERS, make_district  # noqa: E402
from geo3d.io.raster import as_dem, read_dem  # noqa: E402
from geo3d.sheets import plot_section_sheet, section_atlas  # noqa: E402
from geo3d.underground import read_pipes  # noqa: E402
from geo3d.underground.section import cross_section, section_lines  # noqa: E402

RESULTS = HERE / "RESULTS.md"
START, END = "<!-- bench_sections -->", "<!-- /bench_sections -->"
ROAD = "고산자로"

ONE_SHEET = r"""
import sys, geopandas as gpd, shapely
import geo3d
from geo3d.io.raster import read_dem
from geo3d.underground import read_pipes
from geo3d.underground.section import cross_section
from geo3d.sheets import section_to_pdf
geo3d.options.progress = False
D = geo3d.datasets.get_path
coords = [float(v) for v in sys.argv[1].split(",")]
pipes = read_pipes(D("utilities"))
dem = read_dem(D("dem"))
wells = gpd.read_file(D("boreholes"))
line = shapely.LineString([(coords[0], coords[1]), (coords[2], coords[3])])
sec = cross_section(pipes, line, ground=dem, groundwater=wells, name=sys.argv[3])
section_to_pdf(sec, sys.argv[2], overwrite=True)
"""


def atlas_bench(n_sheets: int, per_process: int, tmp: Path) -> dict:
    D = geo3d.datasets.get_path
    roads = gpd.read_file(D("road"))
    road = roads[roads["road_name"] == ROAD]
    length = float(road.geometry.iloc[0].length)
    step = length / n_sheets
    cuts = section_lines(road, step=step, length=30.0)
    cuts = cuts.iloc[:n_sheets]
    # one process: everything from reading the files to the PDF
    t0 = time.perf_counter()
    pipes = read_pipes(D("utilities"))
    dem = read_dem(D("dem"))
    wells = gpd.read_file(D("boreholes"))
    secs = section_atlas(pipes, road, path=tmp / "atlas.pdf", step=step, length=30.0,
                         ground=dem, groundwater=wells, overwrite=True)
    one = time.perf_counter() - t0
    n = len(secs)
    # one process per sheet (a sample of the same cuts)
    pick = np.unique(np.linspace(0, n - 1, min(per_process, n)).round().astype(int))
    times = []
    for k in pick:  # one subprocess per sheet
        c = shapely.get_coordinates(cuts.geometry.iloc[k]).ravel()
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", ONE_SHEET, ",".join(f"{v:.3f}" for v in c),
                        str(tmp / f"sheet_{k:03d}.pdf"), f"S-{k + 1:03d}"], check=True,
                       cwd=REPO)
        times.append(time.perf_counter() - t)
    per = statistics.mean(times)
    return {"n": n, "one_s": one, "one_per_sheet": one / n, "pp_mean": per,
            "pp_median": statistics.median(times), "pp_n": len(times), "pp_total": per * n,
            "ratio": per * n / one, "pdf_mb": (tmp / "atlas.pdf").stat().st_size / 1e6}


def district_pipes(size_m: float) -> tuple[gpd.GeoDataFrame, object, gpd.GeoDataFrame, float]:
    t = time.perf_counter()
    d = make_district(seed=2025, size_m=size_m)
    frames = [read_pipes(d.layers[name], layers=[name]) for name in UIS_LAYERS]
    pipes = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    return pipes, as_dem(d.dem), d.roads, time.perf_counter() - t


def scaling_bench(sizes: list[float], n_cuts: int) -> list[dict]:
    rows = []
    for size in sizes:
        pipes, dem, roads, t_make = district_pipes(size)
        # an arterial road near the centre
        art = roads[roads["road_class"] == "arterial"]
        cx, cy = geo3d.datasets.underground.CENTRE
        dist = shapely.distance(art.geometry.to_numpy(), shapely.Point(cx, cy))
        road = art.geometry.iloc[int(np.argmin(dist))]
        centre = road.project(shapely.Point(cx, cy))
        sub = shapely.ops.substring(road, max(centre - 150, 0), min(centre + 150, road.length))
        cuts = section_lines(sub, step=300.0 / n_cuts, length=30.0)
        t = time.perf_counter()
        _ = pipes.sindex  # the one-off index build
        t_index = time.perf_counter() - t
        t_sec, t_sheet, n_cross = [], [], []
        fig = None
        with PdfPages(io.BytesIO()) as pdf:  # as in an atlas: fonts embedded once at close
            for g in cuts.geometry:  # a few cuts
                t = time.perf_counter()
                sec = cross_section(pipes, g, ground=dem)
                t_sec.append(time.perf_counter() - t)
                t = time.perf_counter()
                fig, _ = plot_section_sheet(sec, fig=fig)
                pdf.savefig(fig)
                t_sheet.append(time.perf_counter() - t)
                n_cross.append(len(sec.crossings))
        rows.append({"size_m": size, "segments": len(pipes), "make_s": t_make,
                     "index_s": t_index, "section_ms": 1000 * statistics.median(t_sec),
                     "sheet_ms": 1000 * statistics.median(t_sheet),
                     "crossings": statistics.median(n_cross)})
        print(f"  {len(pipes):>9,} segments: index {t_index:.2f} s, section "
              f"{rows[-1]['section_ms']:.0f} ms, sheet {rows[-1]['sheet_ms']:.0f} ms", flush=True)
        del pipes
    return rows




def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sheets", type=int, default=100)
    ap.add_argument("--per-process", type=int, default=12,
                    help="sheets rendered one process each (scaled to --sheets)")
    ap.add_argument("--sizes", default="2500,8000,25000",
                    help="district sides in m (~10 k, ~100 k, ~1 M segments)")
    ap.add_argument("--cuts", type=int, default=10)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    geo3d.options.progress = False
    print("atlas ...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        a = atlas_bench(args.sheets, args.per_process, Path(tmp))
    print(f"  one process: {a['one_s']:.1f} s for {a['n']} sheets; per process "
          f"{a['pp_mean']:.2f} s/sheet -> ratio {a['ratio']:.1f}x", flush=True)
    print("scaling ...", flush=True)
    rows = scaling_bench([float(s) for s in args.sizes.split(",")], args.cuts)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Cross-section sheets: one-process atlas vs a process per sheet "
        "(`benchmarks/bench_sections.py`)",
        "",
        f"Run {now} on {machine('shapely', 'geopandas', 'matplotlib')}.",
        "",
        f"**Atlas.** {a['n']} A3 sheets along {ROAD} (a 30 m cut every "
        f"{1000 / a['n']:.0f} m or so, ground from the DEM, water table from the boreholes) "
        "plus a key-map page. One process: read the data once, place the pipes near the road "
        "in 3D and read the wells once, reuse one figure (its axes, ticks, legend, frame and "
        "title block stay from page to page; each page draws its own section, tables, key-plan "
        "line and title-block values), write one multi-page PDF (time from reading the files to "
        "the closed PDF). Per process: `python -c` that imports geo3d, reads pipes + DEM + "
        f"boreholes, cuts one section and writes one PDF, measured on {a['pp_n']} of the same "
        f"cuts and scaled to {a['n']}.",
        "",
        "| method | sheets | total s | s / sheet |",
        "|---|---|---|---|",
        f"| geo3d `section_atlas` (one process) | {a['n']} | {a['one_s']:.1f} | "
        f"{a['one_per_sheet']:.3f} |",
        f"| one process per sheet | {a['n']} (scaled from {a['pp_n']}) | {a['pp_total']:.0f} | "
        f"{a['pp_mean']:.2f} (median {a['pp_median']:.2f}) |",
        "",
        f"Ratio: **{a['ratio']:.1f}×** (target ≥ 5×). Atlas PDF: {a['pdf_mb']:.1f} MB.",
        "",
        "**Scaling.** Median over "
        f"{args.cuts} cuts of an arterial near the centre of synthetic districts; `section` is "
        "`cross_section` (STRtree query, intersections, 3D of the candidates only, ground, "
        "rules), `sheet` is laying out one A3 sheet and adding it as a page to a PDF in memory "
        "(as in an atlas; the fonts are embedded once when the PDF closes). The spatial "
        "index is built once per network (listed apart).",
        "",
        "| segments | district side m | index build s | section ms | sheet ms | crossings |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['segments']:,} | {r['size_m']:.0f} | {r['index_s']:.2f} | "
                     f"{r['section_ms']:.0f} | {r['sheet_ms']:.0f} | {r['crossings']:.0f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        write_section("bench_sections", text)
        print(f"updated {RESULTS}")


if __name__ == "__main__":
    main()
