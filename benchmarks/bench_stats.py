"""Aging statistics end to end: `geo3d stats` file → CSV against the obvious script, and Dask.

Data: a synthetic district from ``geo3d.datasets.underground.make_district`` made a little
larger than ``--segments`` and cut to exactly that many pipe segments, read into the canonical
schema with ``geo3d.read_pipes`` and scaled/translated (EPSG:5186) over Seoul's extent, against
Seoul's 425 행정동 from ../shared/data/seoul (EPSG:4326). The pipes are written once (not
timed) as a GeoParquet file, a GeoPackage, and a folder of 8 Hilbert-ordered GeoParquet
partitions for Dask.

Part 1, end to end, each run a fresh Python process (imports included), interleaved:

* ``geo3d stats --pipes P --areas dongs.geojson --area-id adm_cd2 --year 2025 --out S.csv``
  (it also writes the aged list, lean: ``S_aged.csv`` without geometry);
* the obvious script: read the pipes with geopandas (``read_parquet`` / ``read_file``), read
  and reproject the 행정동, ``geopandas.overlay(..., how="intersection")``, lengths, periods and
  aged lengths, ``groupby(...).sum()``, ``to_csv`` (the statistics table only).

Both CSVs are asserted to hold the same lengths and aged lengths per 행정동 × utility × period
(rel. 1e-6, abs. 1e-6 m), and the aged list is checked against the stated rule (age ≥ the
utility's threshold) and against the table's aged lengths.

Part 2, Dask (LocalCluster of 2 worker processes × 1 thread, started before timing): file to
CSV in one process (``read_statistics_pipes`` + ``aging_statistics`` + ``statistics_to_file``)
against ``aging_statistics_dask`` on the partitioned GeoParquet folder (read on the workers)
+ ``statistics_to_file``, interleaved; tables asserted equal.

Results replace the ``bench_stats`` section of benchmarks/RESULTS.md.

Usage: python benchmarks/bench_stats.py [--segments 1000000] [--reps 2] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from _common import machine, write_section  # noqa: E402  (benchmarks/ is on sys.path as a script)

import geo3d  # noqa: E402
from geo3d.datasets.underground import CENTRE, make_district  # noqa: E402
from geo3d.parallel import aging_statistics_dask  # noqa: E402
from geo3d.stats import DEFAULT_THRESHOLDS, aging_statistics  # noqa: E402
from geo3d.underground import read_pipes  # noqa: E402

SEOUL = REPO / ".." / "shared" / "data" / "seoul" / "seoul_hangjeongdong_2021.geojson"
RESULTS = HERE / "RESULTS.md"
YEAR = 2025
SEGMENTS_PER_KM2 = 720_475 / 21.0**2  # make_district density (measured at size_m = 21 km)
SIDE_M = 29_400.0  # the square the district is stretched over (Seoul is about 37 × 30 km)
KEYS = ["area_id", "utility", "period"]


def seoul_dongs() -> gpd.GeoDataFrame:
    return gpd.read_file(SEOUL).to_crs(5186)


def seoul_pipes(segments: int, dongs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Exactly ``segments`` canonical pipes spread over Seoul's extent (EPSG:5186)."""
    size_km = math.sqrt(segments * 1.04 / SEGMENTS_PER_KM2)  # a little more, then cut
    while True:
        district = make_district(seed=2025, size_m=max(size_km * 1000.0, 300.0))
        if district.n_segments >= segments:
            break
        size_km *= 1.05
    pipes = pd.concat([read_pipes(layer, layers=[name]) for name, layer in district.layers.items()],
                      ignore_index=True)
    pipes = pipes.sample(segments, random_state=1).sort_index().reset_index(drop=True)
    x0, y0, x1, y1 = dongs.total_bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    scale = SIDE_M / (size_km * 1000.0)
    geoms = shapely.transform(np.asarray(pipes.geometry.array), lambda c: np.column_stack(
        [(c[:, 0] - CENTRE[0]) * scale + cx, (c[:, 1] - CENTRE[1]) * scale + cy]))
    return pipes.set_geometry(gpd.GeoSeries(geoms, index=pipes.index, crs=pipes.crs))


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> tuple[float, float, int]:
    """Assert equal lengths and aged lengths per area × utility × period.

    Groups that only one side has (a piece of zero or rounding-noise length) count as 0 there
    and must be below 1e-6 m. Returns the largest relative gap over groups of at least 1 m, the
    largest absolute gap in metres, and the number of groups compared.
    """
    a = ours.set_index(KEYS)[["length_m", "length_over_threshold_m"]]
    a, b = a.align(theirs, join="outer")
    a, b = a.fillna(0.0).to_numpy(), b.fillna(0.0).to_numpy()
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    gap = np.abs(a - b)
    big = np.abs(b) >= 1.0
    rel = float((gap[big] / np.abs(b[big])).max()) if big.any() else 0.0
    return rel, float(gap.max()), len(a)


def assert_same(df: pd.DataFrame, single: pd.DataFrame) -> None:
    """The Dask table equals the single-process one (keys exactly, numbers to 1e-12)."""
    assert list(df.columns) == list(single.columns)
    pd.testing.assert_frame_equal(df[KEYS], single[KEYS])
    for col in df.columns:
        if col not in KEYS and pd.api.types.is_float_dtype(df[col]):
            np.testing.assert_allclose(df[col].to_numpy(), single[col].to_numpy(), rtol=1e-12,
                                       atol=1e-9, err_msg=col)
    assert math.isclose(df.attrs["outside_length_m"], single.attrs["outside_length_m"],
                        rel_tol=1e-12, abs_tol=1e-6)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


SCRIPT = r"""
import sys
import geopandas as gpd, numpy as np, pandas as pd
pipes_path, areas_path, out = sys.argv[1:4]
year = 2025
thresholds = {"water": 30, "sewer": 30, "gas": 20, "heat": 20, "power": 30, "telecom": 30}
pipes = (gpd.read_parquet(pipes_path) if pipes_path.endswith(".parquet")
         else gpd.read_file(pipes_path))
dongs = gpd.read_file(areas_path).to_crs(pipes.crs)
ov = gpd.overlay(pipes[["utility", "install_year", "geometry"]], dongs[["adm_cd2", "geometry"]],
                 how="intersection", keep_geom_type=True)
ov["length_m"] = ov.length
start = ((ov["install_year"] // 10) * 10).astype("Int64")   # read back as float from files
ov["period"] = (start.astype("string") + "-" + (start + 9).astype("string")).fillna("unknown")
aged = ((year - ov["install_year"]) >= ov["utility"].map(thresholds)).fillna(False)
ov["length_over_threshold_m"] = np.where(aged.to_numpy(dtype=bool), ov["length_m"], 0.0)
table = ov.groupby(["adm_cd2", "utility", "period"])[["length_m", "length_over_threshold_m"]].sum()
table.reset_index().rename(columns={"adm_cd2": "area_id"}).to_csv(out, index=False)
"""


def run_process(args: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of a fresh Python process (imports included); raises when it fails.
    CPU time (user + system of the child) depends less on the other jobs on the machine."""
    import resource

    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore")
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    t = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed ({res.returncode}): {res.stderr[-2000:]}")
    return t, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def geo3d_cli(pipes: Path, areas: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", "from geo3d.cli import main; main()", "stats", "-q",
            "--pipes", str(pipes),
            "--areas", str(areas), "--area-id", "adm_cd2", "--year", str(YEAR), "--out",
            str(out), "--overwrite"]


def check_outputs(ours_csv: Path, theirs_csv: Path) -> tuple[float, float, int, int, float]:
    """Same numbers in both CSVs; the aged list obeys the rule and adds up to the table.
    Returns (max rel. gap, max abs. gap m, groups, aged rows, km in 행정동)."""
    ours = pd.read_csv(ours_csv, dtype={"area_id": str})
    theirs = pd.read_csv(theirs_csv, dtype={"area_id": str}).set_index(KEYS)
    rel, gap, groups = compare(ours, theirs)
    aged = pd.read_csv(ours_csv.with_name(ours_csv.stem + "_aged.csv"), dtype={"area_id": str})
    limit = aged["utility"].map({u: t[0] for u, t in DEFAULT_THRESHOLDS.items()})
    assert ((YEAR - aged["install_year"]) >= limit).all(), "aged rows outside the rule"
    inside = aged.dropna(subset=["area_id"]).groupby(["area_id", "utility"])["length_m"].sum()
    table = ours.groupby(["area_id", "utility"])["length_over_threshold_m"].sum()
    inside, table = inside.align(table, join="outer")
    np.testing.assert_allclose(inside.fillna(0), table.fillna(0), rtol=1e-9, atol=1e-6)
    return rel, gap, groups, len(aged), float(ours["length_m"].sum()) / 1000


def dask_runs(parquet: Path, parts: Path, areas: Path, out: Path, reps: int
              ) -> tuple[dict[str, list[float]], float]:
    """One process file → CSV against Dask on the partitioned GeoParquet, interleaved."""
    from distributed import Client, LocalCluster

    from geo3d.stats import read_areas, read_statistics_pipes, statistics_to_file

    times: dict[str, list[float]] = {"single": [], "dask": []}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def single() -> pd.DataFrame:
            pipes = read_statistics_pipes(parquet)
            dongs = read_areas(areas, area_id="adm_cd2", crs=pipes.crs)
            df = aging_statistics(pipes, dongs, area_id="adm_cd2", reference_date=YEAR)
            statistics_to_file(df, out, overwrite=True)
            return df

        def on_dask() -> pd.DataFrame:
            dongs = read_areas(areas, area_id="adm_cd2", crs=5186)
            df = aging_statistics_dask(parts, dongs, area_id="adm_cd2", client=client,
                                       spatial_shuffle=False, reference_date=YEAR)
            statistics_to_file(df, out, overwrite=True)
            return df

        client.run(lambda: __import__("geo3d.stats"))   # warm the workers' imports
        load = os.getloadavg()[0]
        for _ in range(reps):
            t, ref = timed(single)
            times["single"].append(t)
            t, df = timed(on_dask)
            times["dask"].append(t)
            assert_same(df, ref)
    return times, load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segments", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="print only; keep RESULTS.md")
    args = ap.parse_args()
    geo3d.options.progress = False
    if not SEOUL.exists():
        sys.exit(f"{SEOUL} is missing (../shared/data beside the repository)")
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = os.getloadavg()[0]
    dongs = seoul_dongs()
    t0 = time.perf_counter()
    pipes = seoul_pipes(args.segments, dongs)
    n = len(pipes)
    work = Path(tempfile.mkdtemp(prefix="bench_stats_"))
    parquet, gpkg, parts = work / "pipes.parquet", work / "pipes.gpkg", work / "parts"
    pipes.to_parquet(parquet)
    import pyogrio

    pyogrio.write_dataframe(pipes, gpkg, layer="pipes", use_arrow=True)
    order = np.argsort(pipes.geometry.hilbert_distance().to_numpy(), kind="stable")
    import dask_geopandas

    dask_geopandas.from_geopandas(pipes.iloc[order].reset_index(drop=True),
                                  npartitions=8).to_parquet(parts)
    sizes_mb = {p.name: p.stat().st_size / 1e6 for p in (parquet, gpkg)}
    make_s = time.perf_counter() - t0
    del pipes
    print(f"{n:,} segments made and written in {make_s:.1f} s to {work}", flush=True)
    rows = []
    for label, path, reps in (("GeoParquet", parquet, args.reps), ("GeoPackage", gpkg, 1)):
        ours_t, theirs_t, ours_c, theirs_c = [], [], [], []
        ours_csv, theirs_csv = work / "S.csv", work / "script.csv"
        for _ in range(reps):  # interleaved: the machine is shared
            t, c = run_process(geo3d_cli(path, SEOUL, ours_csv))
            ours_t.append(t)
            ours_c.append(c)
            t, c = run_process([sys.executable, "-c", SCRIPT, str(path), str(SEOUL),
                                str(theirs_csv)])
            theirs_t.append(t)
            theirs_c.append(c)
        rel, gap, groups, aged_rows, km = check_outputs(ours_csv, theirs_csv)
        rows.append({"label": label, "ours": min(ours_t), "theirs": min(theirs_t),
                     "ours_cpu": min(ours_c), "theirs_cpu": min(theirs_c),
                     "reps": reps, "rel": rel, "gap": gap, "groups": groups,
                     "aged_rows": aged_rows, "km": km,
                     "mb": sizes_mb[path.name]})
        print(f"{label}: geo3d stats {min(ours_t):.1f} s, script {min(theirs_t):.1f} s "
              f"({min(theirs_t) / min(ours_t):.1f}x); rel. gap {rel:.1e}", flush=True)
    dask_reps = max(1, args.reps)
    dask_t, dask_load = dask_runs(parquet, parts, SEOUL, work / "dask.csv", dask_reps)
    best = {k: min(v) for k, v in dask_t.items()}
    print(f"dask: one process {best['single']:.1f} s, 2 workers {best['dask']:.1f} s",
          flush=True)
    load_after = os.getloadavg()[0]
    shutil.rmtree(work, ignore_errors=True)
    lines = [
        "## Aging statistics end to end: `geo3d stats` file → CSV vs the obvious script "
        "(`benchmarks/bench_stats.py`)",
        "",
        f"Run {when} on {machine('shapely', 'geopandas', 'pandas', 'pyarrow', 'dask')}; "
        f"1-minute load average {load_before:.1f} at the start and {load_after:.1f} at the end "
        "(the 2 cores are shared with other jobs: absolute times are inflated, the runs are "
        "interleaved so the ratios compare like with like).",
        "",
        f"Pipes: `make_district` (seed 2025) cut to {n:,} segments in the canonical schema, "
        "stretched over Seoul (a 29.4 km square on EPSG:5186), written once as GeoParquet "
        f"({sizes_mb['pipes.parquet']:.0f} MB) and GeoPackage ({sizes_mb['pipes.gpkg']:.0f} MB); "
        "areas: Seoul's 425 행정동 (GeoJSON, EPSG:4326). Each run is a fresh process, imports "
        "included. geo3d: `geo3d stats --pipes P --areas dongs.geojson --area-id adm_cd2 "
        "--year 2025 --out S.csv`, which also writes the aged list (lean: no geometry). Script: "
        "read with geopandas, `geopandas.overlay(..., how='intersection')`, lengths, periods, "
        "aged lengths, `groupby().sum()`, `to_csv` (the table only). Both tables asserted equal "
        "per 행정동 × utility × 10-year period (rel. 1e-6, abs. 1e-6 m); every aged-list row "
        "checked against the rule (age ≥ the utility's threshold) and the list's lengths "
        "against the table's aged lengths.",
        "",
        "| input | geo3d stats s | script s | speed-up | CPU s geo3d / script | CPU ratio "
        "| runs | max rel. gap | max abs. gap m | groups | aged rows | km in 행정동 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['label']} | {r['ours']:.1f} | {r['theirs']:.1f} | "
                     f"**{r['theirs'] / r['ours']:.1f}×** | {r['ours_cpu']:.1f} / "
                     f"{r['theirs_cpu']:.1f} | {r['theirs_cpu'] / r['ours_cpu']:.1f}× | "
                     f"{r['reps']} | {r['rel']:.1e} | "
                     f"{r['gap']:.1e} | {r['groups']:,} | {r['aged_rows']:,} | {r['km']:,.0f} |")
    ratio = rows[0]["theirs"] / rows[0]["ours"]
    lines += [
        "",
        f"On GeoParquet, {n:,} segments: **{ratio:.1f}×** the script end to end (target ≥ 5×: "
        f"{'met' if ratio >= 5 else 'NOT met'}); best of the runs. CPU s: user + system "
        "time of the process (geo3d's Arrow readers use more than one thread).",
        "",
        "**Dask**, file to CSV (LocalCluster of 2 worker processes × 1 thread, started "
        "before timing; the workers read the 8 GeoParquet partitions themselves, no geometry "
        f"is sent from the client), best of {dask_reps} runs interleaved; tables asserted "
        "equal:",
        "",
        "| path | wall s | vs one process |",
        "|---|---|---|",
        f"| one process: read_statistics_pipes + aging_statistics + CSV | {best['single']:.1f} "
        "| 1.00× |",
        f"| Dask, 2 workers: aging_statistics_dask(partition folder) + CSV | "
        f"{best['dask']:.1f} | {best['single'] / best['dask']:.2f}× |",
        "",
        f"The 1-minute load average was {dask_load:.1f} when the cluster was up: two workers "
        "run side by side only when two cores are free.",
        "",
        f"Making and writing the data took {make_s:.0f} s (not timed above).",
    ]
    text = "\n".join(lines)
    print()
    print(text)
    if not args.no_write:
        write_section("bench_stats", text)
        print(f"\nwrote the bench_stats section of {RESULTS}")


if __name__ == "__main__":
    main()
