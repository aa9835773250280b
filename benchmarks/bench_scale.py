"""Scale: time and peak memory of the indoor pipeline from 1 M to 100 M points.

Two ways to get from a LAZ scan to objects plus a LAZ with ``level``/``object_id``/
``object_class`` per point:

* **in memory**: ``read_las`` -> ``segment_scan`` -> ``write_las`` (the whole cloud in RAM);
* **streamed**: ``geo3d.indoor.tiled.segment_file`` (streamed in chunks, segmented tile by tile,
  per-point results in memory-mapped arrays, output streamed).

Inputs are made by ``scripts/make_big_scan.py``: copies of the sample market scan side by side
(1 M, 5 M, 10 M, 20 M points; and 100 M for the end-to-end run of ``segment_file`` only). Each
run is a fresh subprocess that reports its own wall time and peak RSS
(VmHWM, the process's own high-water mark), so runs do not share memory or caches of
Python objects. Results replace the ``bench_scale`` section of benchmarks/RESULTS.md.

Usage::

    python benchmarks/bench_scale.py [--sizes 1e6 5e6 1e7 2e7] [--big 1e8] [--data DIR]
                                     [--in-memory-max 2e7] [--no-write] [--reuse]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from _common import machine, peak_rss_mb, write_section  # noqa: E402


# ------------------------------------------------------------------------------------------
# child: one run, reported as one JSON line on stdout
# ------------------------------------------------------------------------------------------
def child(mode: str, src: str, out: str, tile_size: float, chunk_size: int) -> None:
    import logging

    import laspy

    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("geo3d.indoor.tiled").setLevel(logging.INFO)
    t0 = time.perf_counter()
    info: dict[str, object] = {"mode": mode}
    if mode == "memory":
        from geo3d.indoor.scan import segment_scan
        from geo3d.io.las import read_las, write_las

        cloud = read_las(src)
        t1 = time.perf_counter()
        seg = segment_scan(cloud)
        t2 = time.perf_counter()
        write_las(
            cloud,
            out,
            level=seg.level,
            object_id=seg.object_id,
            object_class=seg.object_class,
            overwrite=True,
        )
        info.update(
            n_points=len(cloud),
            n_objects=len(seg.objects),
            n_stores=int((seg.objects["object_class"] == 1).sum()),
            read_s=t1 - t0,
            segment_s=t2 - t1,
            write_s=time.perf_counter() - t2,
        )
    else:
        from geo3d.indoor.tiled import segment_file

        res = segment_file(src, out, tile_size=tile_size, chunk_size=chunk_size, overwrite=True)
        info.update(
            n_points=res.n_points,
            n_objects=len(res.objects),
            n_stores=int((res.objects["object_class"] == 1).sum()),
            n_tiles=res.n_tiles,
            largest_tile=res.largest_tile,
            **{f"{k}_s": v for k, v in res.timings.items()},
        )
    info["wall_s"] = time.perf_counter() - t0
    info["peak_rss_mb"] = peak_rss_mb()
    with laspy.open(out) as r:  # the output holds every point
        info["out_points"] = int(r.header.point_count)
        info["out_dims"] = [d for d in r.header.point_format.extra_dimension_names]
    os.remove(out)
    print(json.dumps(info), flush=True)


def run_child(mode: str, src: Path, out: Path, tile_size: float, chunk_size: int) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        mode,
        str(src),
        str(out),
        str(tile_size),
        str(chunk_size),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {
            "mode": mode,
            "error": proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"exit {proc.returncode}",
        }
    sys.stderr.write(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------
# parent
# ------------------------------------------------------------------------------------------
def ensure_scan(data: Path, n: int) -> Path:
    path = data / f"market_{n}.laz"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "make_big_scan.py"),
                "--points",
                str(n),
                "--out",
                str(path),
            ],
            check=True,
        )
    return path


def fmt_row(size: int, r: dict) -> str:
    if "error" in r:
        return f"| {size:,} | {r['mode']} | failed: {r['error']} | | | | |"
    rate = r["n_points"] / r["wall_s"] / 1e6
    extra = (
        f"{r['n_tiles']} tiles, largest {r['largest_tile']:,} pts"
        if r["mode"] == "streamed"
        else "whole cloud"
    )
    return (
        f"| {size:,} | {r['mode']} | {r['wall_s']:.0f} | {rate:.3f} | {r['peak_rss_mb']:,.0f} | "
        f"{r['n_objects']:,} ({r['n_stores']:,} stores) | {extra} |"
    )


def write_results(rows: list[str], notes: list[str]) -> None:
    write_section("bench_scale", "\n".join([
        *notes, "", "| points | mode | wall s | Mpts/s | peak RSS MB | objects | tiling |",
        "|---|---|---|---|---|---|---|", *rows]))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(argv[1], argv[2], argv[3], float(argv[4]), int(argv[5]))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    num = lambda s: int(float(s))  # noqa: E731
    p.add_argument(
        "--sizes", type=num, nargs="*", default=[1_000_000, 5_000_000, 10_000_000, 20_000_000]
    )
    p.add_argument(
        "--big", type=num, default=100_000_000, help="end-to-end size for segment_file (0: skip)"
    )
    p.add_argument(
        "--in-memory-max", type=num, default=20_000_000, help="largest size run in memory"
    )
    p.add_argument("--data", type=Path, default=Path("/tmp/geo3d_scale"))
    p.add_argument("--tile-size", type=float, default=40.0)
    p.add_argument("--chunk-size", type=num, default=5_000_000)
    p.add_argument("--no-write", action="store_true")
    p.add_argument(
        "--reuse", action="store_true", help="reuse results saved in --data by an earlier run"
    )
    args = p.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    rows, results = [], []
    started = dt.datetime.now(dt.UTC)
    plan = [
        (n, mode)
        for n in args.sizes
        for mode in ("memory", "streamed")
        if mode == "streamed" or n <= args.in_memory_max
    ]
    if args.big:
        plan.append((args.big, "streamed"))
    for n, mode in plan:
        saved = args.data / f"result_{mode}_{n}.json"
        if args.reuse and saved.exists():
            r = json.loads(saved.read_text())
        else:
            src = ensure_scan(args.data, n)
            r = run_child(
                mode, src, args.data / f"out_{mode}_{n}.laz", args.tile_size, args.chunk_size
            )
            r["size"] = n
            saved.write_text(json.dumps(r))
        results.append(r)
        rows.append(fmt_row(n, r))
        print(rows[-1], flush=True)
    (args.data / "bench_scale.json").write_text(json.dumps(results, indent=1))
    if not args.no_write:
        notes = [
            "## Scale: in memory vs streamed tile by tile (`benchmarks/bench_scale.py`)",
            "",
            f"Run {started:%Y-%m-%d %H:%M} UTC on {machine('laspy', 'lazrs')}. "
            "The machine is shared: other jobs were running, so times are indicative.",
            "",
            "Input: copies of the sample market scan (843 k points, 2 levels) side by side "
            "(`scripts/make_big_scan.py`), LAZ. Each run is one fresh process, end to end: read -> "
            "levels, stores, facilities -> LAZ with `level`/`object_id`/`object_class`. "
            "*memory* = `read_las` + `segment_scan` + `write_las`; *streamed* = "
            f"`segment_file(tile_size={args.tile_size:g}, margin=2, chunk_size={args.chunk_size:,})`. "
            "Peak RSS = the run's process's own high-water mark (VmHWM).",
        ]
        write_results(rows, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
