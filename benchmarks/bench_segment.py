"""Indoor segmentation: accuracy on the generated markets, speed and memory against Open3D.

Three parts, results in the ``bench_segment`` section of benchmarks/RESULTS.md:

(a) **Accuracy** of :func:`geo3d.indoor.scan.segment_scan` on the committed sample market and on
    the four other layouts of :func:`geo3d.datasets.market.make_market` (generated in memory,
    default seed): levels (count, largest slab error, matched in height order), store F1, and
    precision / recall of each facility kind at point IoU >= 0.5.
(b) **Speed and peak memory** on the sample scan, each measurement in its own subprocess:
    (1) geo3d ``segment_points`` (voxel_cc) + ``objects_from_segments`` against Open3D's
    ``cluster_dbscan`` alone, on the same points (the non-structure points of the working cloud,
    the whole file, the file tiled 2 × 2) and the same eps (voxel_size·√3, as segment.py's
    "dbscan" method). Memory is what each call needs on top of the loaded points: the child's
    VmHWM is reset just before the call (``/proc/self/clear_refs``) and read after it (where
    that is not possible, the peak above an idle child importing the same modules). (2) The
    whole read → objects pipeline with ``method="voxel_cc"`` and ``method="dbscan"``, with the
    F1 each reaches and the process's peak RSS.
(c) **Scaling**: the sample scan tiled side by side (copies translated in x and y) from ~1 M to
    20 M points, whole pipeline in a subprocess per size, until the time budget is spent.
(e) **The I/O floor** (issue 11): ``geo3d segment`` end to end (read, segment, write the three
    files) against plain laspy reading the same LAZ, adding ``level``/``object_id``/
    ``object_class`` and writing it back, on the sample and on a 2.5 M-point tiling of it
    (scripts/make_big_scan.py); time and peak-memory ratios, each run in a fresh process.
    Section ``bench_segment_io`` of RESULTS.md; ``--io-floor-only`` runs just this part.

Usage: python benchmarks/bench_segment.py [--budget 600] [--max-points 20e6] [--no-write] [--io-floor-only]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from _common import machine, peak_rss_mb, reset_peak_rss, write_section  # noqa: E402  (benchmarks/ is on sys.path as a script)

from geo3d import datasets  # noqa: E402

RESULTS = HERE / "RESULTS.md"
START, END = "<!-- bench_segment -->", "<!-- /bench_segment -->"
LAYOUTS = ("sample", "rotated", "l_shaped", "three_levels", "sparse_noisy")
KINDS = ("fire_extinguisher", "indoor_hydrant", "exit_sign", "aed", "fire_alarm", "cctv", "other_facility")
VOXEL = 0.15  # segment_scan's default linking distance
MIN_POINTS = 10  # true instances with fewer points are also scored as ignored (ScanNet-style)
LIDAR = REPO.parent / "shared" / "data" / "lidar"  # real files (CI has them; a user's clone may not)
# (file, CRS to give when the file's own is wrong or missing, expected floor / ceiling z)
REAL = (("room_scan1.las", None, (-1.27, 1.67)), ("autzen_trim.laz", None, None),
        ("test_data_77050_627755_LA93_IGN69.laz", None, None), ("lone-star.copc.laz", "EPSG:26912", None))


# ----------------------------------------------------------------------------- children


def child(kind: str, arg: str) -> dict[str, Any]:
    """Work run in a fresh interpreter; returns what the parent prints."""
    out: dict[str, Any] = {}
    if kind == "idle":  # the imports alone
        from geo3d.indoor.scan import segment_scan
        from geo3d.io.las import read_las
        if arg == "open3d":
            from geo3d._compat import import_open3d

            import_open3d()
    elif kind == "geo3d_segment":
        from geo3d.pointcloud.objects import objects_from_segments
        from geo3d.pointcloud.segment import segment_points

        xyz = np.load(arg)
        base = reset_peak_rss()
        t = time.perf_counter()
        labels = segment_points(xyz, voxel_size=VOXEL, min_points=3)
        t_seg = time.perf_counter() - t
        if base is not None:
            out["segment_mb"] = peak_rss_mb() - base
        objs = objects_from_segments(xyz, labels)
        out.update(seconds=time.perf_counter() - t, segment_seconds=t_seg, segments=int(labels.max()) + 1,
                   objects=len(objs))
        if base is not None:
            out["call_mb"] = peak_rss_mb() - base
    elif kind == "open3d_dbscan":
        from geo3d._compat import import_open3d

        o3d = import_open3d()
        xyz = np.load(arg)
        base = reset_peak_rss()
        t = time.perf_counter()
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(xyz))
        labels = np.asarray(pcd.cluster_dbscan(eps=VOXEL * np.sqrt(3), min_points=4))
        out.update(seconds=time.perf_counter() - t, segments=int(labels.max()) + 1)
        if base is not None:
            out["segment_mb"] = out["call_mb"] = peak_rss_mb() - base
    elif kind in ("pipeline_voxel_cc", "pipeline_dbscan"):
        from geo3d.indoor.scan import segment_scan
        from geo3d.io.las import read_las
        from geo3d.pointcloud.evaluate import score_segmentation

        path = Path(arg)
        t = time.perf_counter()
        cloud = read_las(path, clean=False)
        r = segment_scan(cloud, method=kind.removeprefix("pipeline_"))
        out["seconds"] = time.perf_counter() - t
        out["timings"] = r.timings
        gt = np.load(str(path).replace("market.laz", "market_gt.npz"))
        table = score_segmentation(r.object_id, r.object_class, gt["gt_instance"], gt["gt_class"]).per_class
        out["store_f1"] = float(table.loc["store", "f1"])
        fac = table.drop(index="store")
        tp, n_true, n_pred = fac["tp"].sum(), fac["n_true"].sum(), fac["n_pred"].sum()
        p, rc = tp / max(n_pred, 1), tp / max(n_true, 1)
        out["facility_f1"] = float(2 * p * rc / (p + rc)) if p + rc else 0.0
    elif kind == "tiled":
        from geo3d.indoor.scan import segment_scan
        from geo3d.io.las import read_las
        from geo3d.pointcloud.cloud import PointCloud

        copies = int(arg)
        base = read_las(datasets.get_path("market"), clean=False)
        side = int(np.ceil(np.sqrt(copies)))
        span = np.ptp(base.xyz[:, :2], axis=0) + 5.0
        shift = np.array([[(k % side) * span[0], (k // side) * span[1], 0.0] for k in range(copies)])
        t = time.perf_counter()
        xyz = (base.xyz[None, :, :] + shift[:, None, :]).reshape(-1, 3)
        rgb = np.tile(base.attrs["rgb"], (copies, 1))
        cloud = PointCloud(xyz, attrs={"rgb": rgb}, crs=base.crs)
        del base
        t_build = time.perf_counter() - t
        t = time.perf_counter()
        r = segment_scan(cloud)
        out.update(seconds=time.perf_counter() - t, build_seconds=t_build, points=len(cloud),
                   objects=len(r.objects), timings=r.timings)
    elif kind == "io_floor":  # plain laspy: read the file, add the three dimensions, write LAZ
        import laspy

        src, dst = arg.split("|")
        t = time.perf_counter()
        las = laspy.read(src)
        n = len(las.points)
        las.add_extra_dims([laspy.ExtraBytesParams("level", np.int8), laspy.ExtraBytesParams("object_id", np.int32),
                            laspy.ExtraBytesParams("object_class", np.uint8)])
        las.level = np.zeros(n, np.int8)
        las.object_id = np.full(n, -1, np.int32)
        las.object_class = np.zeros(n, np.uint8)
        las.write(dst)
        out.update(seconds=time.perf_counter() - t, points=n)
    elif kind == "geo3d_segment_cli":  # `geo3d segment SRC --out DST`, in process (the CLI's own code)
        from click.testing import CliRunner

        from geo3d.cli import commands  # noqa: F401  (registers the commands)
        from geo3d.cli.main import cli

        # the command's own lazy imports happen before the clock, as laspy's does for the floor
        from geo3d.indoor import outputs, scan  # noqa: F401
        from geo3d.io import las

        src, dst = arg.split("|")
        t = time.perf_counter()
        res = CliRunner().invoke(cli, ["segment", src, "--out", dst, "--overwrite", "--crs", "EPSG:5186"])
        if res.exit_code != 0:
            raise SystemExit(res.output)
        out["seconds"] = time.perf_counter() - t
        out["timings"] = json.loads((Path(dst) / "report.json").read_text())["timings_s"]
    else:
        raise SystemExit(f"unknown child {kind}")
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def run_child(kind: str, arg: str = "", timeout: float = 1800) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and parse its JSON line."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run([sys.executable, __file__, "--child", kind, arg], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"child {kind} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- parts


def accuracy(layouts: tuple[str, ...]) -> pd.DataFrame:
    """Part (a): one row per layout."""
    from geo3d.datasets.market import make_market
    from geo3d.indoor.scan import segment_scan
    from geo3d.io.las import read_las
    from geo3d.pointcloud.cloud import PointCloud
    from geo3d.pointcloud.evaluate import score_segmentation

    rows = []
    for name in layouts:
        t = time.perf_counter()
        if name == "sample":
            path = datasets.get_path("market")
            cloud = read_las(path, clean=False)
            gt = dict(np.load(str(path).replace("market.laz", "market_gt.npz")))
            truth = pd.read_csv(str(path).replace("market.laz", "market_levels.csv"))
        else:
            scene = make_market(name)
            p = scene.points
            cloud = PointCloud(np.column_stack([p["x"], p["y"], p["z"]]),
                               attrs={"rgb": np.column_stack([p["red"], p["green"], p["blue"]]),
                                      "intensity": p["intensity"]})
            gt, truth = scene.gt, scene.levels
        t_gen = time.perf_counter() - t
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = segment_scan(cloud)
        t_seg = time.perf_counter() - t
        found = np.sort(r.levels["slab_z"].to_numpy())
        true = np.sort(truth["slab_z"].to_numpy(dtype=float))
        err = np.abs(found - true).max() if len(found) == len(true) else np.nan
        for ignore in (0, MIN_POINTS):
            table = score_segmentation(r.object_id, r.object_class, gt["gt_instance"], gt["gt_class"],
                                       min_points=ignore).per_class
            row: dict[str, Any] = {"layout": name, "ignore": ignore, "points": len(cloud),
                                   "levels": f"{len(found)}/{len(true)}", "max_slab_err_m": err,
                                   "store_p": table.loc["store", "precision"],
                                   "store_r": table.loc["store", "recall"], "store_f1": table.loc["store", "f1"]}
            for k in KINDS:
                if k in table.index:
                    row[f"{k}_p"], row[f"{k}_r"] = table.loc[k, "precision"], table.loc[k, "recall"]
                    row[f"{k}_n"] = int(table.loc[k, "n_true"])
                    row[f"{k}_ignored"] = int(table.loc[k, "n_ignored"])
            row["seconds"] = t_seg
            rows.append(row)
        print(f"  {name}: {len(cloud):,} points (made in {t_gen:.0f} s), segment_scan {t_seg:.1f} s, "
              f"store F1 {row['store_f1']:.3f}", flush=True)
    return pd.DataFrame(rows)


def speed(tmp: Path) -> dict[str, Any]:
    """Part (b)."""
    from geo3d.indoor.levels import levels_from_cloud, levels_of_points
    from geo3d.indoor.structure import structure_classes
    from geo3d.io.las import read_las
    from geo3d.pointcloud.filter import voxel_thin

    path = datasets.get_path("market")
    cloud = read_las(path, clean=False)
    work, _ = voxel_thin(cloud, 0.04)
    levels = levels_from_cloud(work)
    floors = levels_of_points(work, levels)
    free = (structure_classes(work, levels, point_levels=floors) == 0) & (floors != 0)
    npy = tmp / "free.npy"
    np.save(npy, work.xyz[free])
    inputs = {"non-structure points of the working cloud (what `segment_scan` segments)": npy}
    np.save(tmp / "full.npy", cloud.xyz)
    inputs["every point of the file"] = tmp / "full.npy"
    span = np.ptp(cloud.xyz[:, :2], axis=0) + 5.0
    shifts = [np.array([dx, dy, 0.0]) for dx in (0, span[0]) for dy in (0, span[1])]
    np.save(tmp / "full4.npy", np.concatenate([cloud.xyz + d for d in shifts]))
    inputs["the file tiled 2 × 2"] = tmp / "full4.npy"
    res: dict[str, Any] = {"file_points": len(cloud), "work_points": len(work), "free_points": int(free.sum())}
    # the same file next to its truth, for the pipeline children
    market = tmp / "market"
    market.mkdir(exist_ok=True)
    for f in ("market.laz", "market_gt.npz"):
        (market / f).write_bytes((Path(path).parent / f).read_bytes())
    res["idle_geo3d"] = run_child("idle")
    res["idle_open3d"] = run_child("idle", "open3d")
    res["inputs"] = []
    for what, path_ in inputs.items():
        n = len(np.load(path_, mmap_mode="r"))
        # interleaved: geo3d, Open3D, geo3d, Open3D, geo3d; the best run of each
        runs: dict[str, list[dict[str, Any]]] = {"geo3d": [], "open3d": []}
        for k in range(5):
            who = "geo3d" if k % 2 == 0 else "open3d"
            runs[who].append(run_child("geo3d_segment" if who == "geo3d" else "open3d_dbscan", str(path_)))
        best = {w: min(r, key=lambda d: d["seconds"]) for w, r in runs.items()}
        res["inputs"].append({"what": what, "points": n, **best})
        print(f"  {what}: {n:,} points; geo3d {best['geo3d']['segment_seconds']:.3f} s "
              f"(+ objects {best['geo3d']['seconds']:.3f} s), Open3D {best['open3d']['seconds']:.3f} s", flush=True)
    res["geo3d"], res["open3d"] = res["inputs"][0]["geo3d"], res["inputs"][0]["open3d"]
    res["pipe_voxel_cc"] = run_child("pipeline_voxel_cc", str(market / "market.laz"))
    res["pipe_dbscan"] = run_child("pipeline_dbscan", str(market / "market.laz"))
    for k in ("pipe_voxel_cc", "pipe_dbscan"):
        print(f"  {k}: {res[k]['seconds']:.2f} s, peak {res[k]['peak_rss_mb']:.0f} MB", flush=True)
    return res


def scaling(budget: float, max_points: float) -> list[dict[str, Any]]:
    """Part (c): tiles of the sample until the budget (seconds) is spent."""
    n_base = 843_293
    rows: list[dict[str, Any]] = []
    spent = 0.0
    last_rate = None
    for copies in (1, 2, 6, 12, 24):
        if copies * n_base > max_points * 1.02:
            break
        if last_rate is not None and spent + copies * n_base / last_rate * 1.3 > budget:
            rows.append({"copies": copies, "points": copies * n_base, "skipped": True})
            break
        t = time.perf_counter()
        r = run_child("tiled", str(copies), timeout=max(60.0, budget - spent + 120))
        spent += time.perf_counter() - t
        last_rate = r["points"] / r["seconds"]
        r["copies"] = copies
        rows.append(r)
        print(f"  {copies} copies, {r['points']:,} points: {r['seconds']:.1f} s, peak {r['peak_rss_mb']:.0f} MB",
              flush=True)
    return rows


def real_data() -> list[dict[str, Any]]:
    """Part (d): the real files of ../shared/data/lidar through segment_scan (as `geo3d segment`)."""
    from geo3d.indoor.scan import segment_scan
    from geo3d.io.las import read_las

    rows: list[dict[str, Any]] = []
    if not LIDAR.is_dir():
        print(f"  {LIDAR} not found: part (d) skipped", flush=True)
        return rows
    for name, crs, expected in REAL:
        t = time.perf_counter()
        cloud = read_las(LIDAR / name, crs=crs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = segment_scan(cloud)
        counts = r.objects["kind"].value_counts().to_dict()
        rows.append({"file": name, "points": len(cloud), "crs": crs, "seconds": time.perf_counter() - t,
                     "levels": len(r.levels), "slab_z": float(r.levels["slab_z"].iloc[0]),
                     "ceiling_z": float(r.levels["ceiling_z"].iloc[0]), "expected": expected,
                     "ground_fallback": any("falling back" in str(w.message) for w in caught),
                     "objects": len(r.objects), "stores": int(counts.get("store", 0)),
                     "facilities": int(len(r.objects) - counts.get("store", 0))})
        print(f"  {name}: {rows[-1]['objects']} objects, {rows[-1]['seconds']:.1f} s", flush=True)
    return rows



def _num(x: Any, d: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{d}f}"


def real_report(real: list[dict[str, Any]]) -> list[str]:
    """Part (d) as Markdown lines."""
    lines = ["", "### (d) Real files (`../shared/data/lidar`, provenance in its PROVENANCE.md), `segment_scan` "
             "defaults as `geo3d segment` runs it", "",
             "The room scan is indoors: its floor and ceiling are expected at −1.27 m and +1.67 m (target: "
             "within 0.1 m). The outdoor tiles have no storey: the ground becomes the one level (a warning "
             "says so) and, as they do not look like a market (report.json's `market_check`), no object "
             "may become a store. The COPC file's own CRS is wrong; it is read with `crs=\"EPSG:26912\"`.", "",
             "| file | points | CRS given | levels | floor z | ceiling z | expected floor / ceiling | "
             "ground fallback | objects | stores | facilities | s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in real:
        exp = f"{r['expected'][0]:+.2f} / {r['expected'][1]:+.2f}" if r["expected"] else "–"
        lines.append(f"| {r['file']} | {r['points']:,} | {r['crs'] or '(the file’s)'} | {r['levels']} | "
                     f"{r['slab_z']:+.2f} | {_num(r['ceiling_z'])} | {exp} | {'yes' if r['ground_fallback'] else 'no'} | "
                     f"{r['objects']:,} | {r['stores']:,} | {r['facilities']:,} | {r['seconds']:.1f} |")
    return lines

def io_floor(tmp: Path, big_points: int) -> list[dict[str, Any]]:
    """Part (e): `geo3d segment` end to end against plain laspy read + 3 dims + write (I/O floor)."""
    big = tmp / f"market_{big_points // 1000}k.laz"
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_big_scan.py"), "--points", str(big_points),
                    "--out", str(big)], check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    rows = []
    for name, path in (("sample market", datasets.get_path("market")), (f"tiled sample, {big_points:,} pts", big)):
        floor = run_child("io_floor", f"{path}|{tmp / 'floor.laz'}")
        seg = run_child("geo3d_segment_cli", f"{path}|{tmp / 'seg'}")
        rows.append({"scan": name, "points": floor["points"], "floor_s": floor["seconds"],
                     "floor_mb": floor["peak_rss_mb"], "segment_s": seg["seconds"], "segment_mb": seg["peak_rss_mb"],
                     "timings": seg["timings"]})
        print(f"  {name}: segment {seg['seconds']:.1f} s / floor {floor['seconds']:.1f} s = "
              f"{seg['seconds'] / floor['seconds']:.2f}x; memory {seg['peak_rss_mb']:.0f} / "
              f"{floor['peak_rss_mb']:.0f} MiB = {seg['peak_rss_mb'] / floor['peak_rss_mb']:.2f}x", flush=True)
    return rows


def io_floor_report(rows: list[dict[str, Any]], header: str) -> str:
    """The part (e) table (Markdown)."""
    lines = ["### (e) `geo3d segment` against the I/O floor (plain laspy read + 3 extra dims + LAZ write)",
             "", header, "",
             "Each in a fresh process; peak RSS of the process. Target (issue 11): ≤ 1.5× time, ≤ 2× memory. "
             f"Load average when measured: {os.getloadavg()[0]:.1f} (the machine is shared; ratios under load "
             "are not those of a quiet machine).", "",
             "| scan | points | floor s | segment s | time ratio | floor MiB | segment MiB | memory ratio | "
             "slowest stages (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        t = {k: v for k, v in r["timings"].items() if k not in ("total", "segment_scan")}
        top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(t.items(), key=lambda kv: -kv[1])[:4])
        lines.append(f"| {r['scan']} | {r['points']:,} | {r['floor_s']:.1f} | {r['segment_s']:.1f} | "
                     f"{r['segment_s'] / r['floor_s']:.2f}× | {r['floor_mb']:.0f} | {r['segment_mb']:.0f} | "
                     f"{r['segment_mb'] / r['floor_mb']:.2f}× | {top} |")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- report




def report(acc: pd.DataFrame, sp: dict[str, Any], sc: list[dict[str, Any]], header: str, wall: float,
           real: list[dict[str, Any]] | None = None) -> str:
    f = _num

    lines = ["## Indoor segmentation: accuracy, and speed / memory against Open3D DBSCAN (`benchmarks/bench_segment.py`)",
             "", f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {header}; {wall / 60:.1f} min in all.",
             "The machine is shared with other jobs, so times are noisy (each speed figure is the best of 2–3 runs).",
             "", "### (a) Accuracy (`segment_scan` defaults; instances at point IoU ≥ 0.5)", "",
             "Levels are matched in height order (the basement of `three_levels` is numbered 1층 unless "
             "`entrance_level=1` is given). Facility cells are P/R (number of true objects). "
             "Targets: every level with slab error ≤ 0.15 m, store F1 ≥ 0.95, each facility kind P and R ≥ 0.9.", ""]
    for ignore in (0, MIN_POINTS):
        sub = acc[acc["ignore"] == ignore]
        if ignore:
            ign = {k: int(sub[f"{k}_ignored"].fillna(0).sum()) for k in KINDS if f"{k}_ignored" in sub}
            lines += ["", f"True instances with at least {ignore} points (those with fewer are ignored, as "
                      "ScanNet's instance benchmark ignores regions under 100 points; ignored in all layouts: "
                      + ", ".join(f"{k} {v}" for k, v in ign.items() if v) + "):", ""]
        else:
            lines += ["Every true instance with at least one point:", ""]
        lines += ["| layout | points | levels | max slab err m | store P | store R | store F1 | "
                  + " | ".join(k.replace("fire_", "").replace("indoor_", "") for k in KINDS) + " | s |",
                  "|---|---|---|---|---|---|---|" + "---|" * len(KINDS) + "---|"]
        for r in sub.to_dict("records"):
            cells = [f"{f(r.get(k + '_p'))}/{f(r.get(k + '_r'))} ({r.get(k + '_n', 0)})" for k in KINDS]
            lines.append(f"| {r['layout']} | {r['points']:,} | {r['levels']} | {f(r['max_slab_err_m'], 3)} | "
                         f"{f(r['store_p'])} | {f(r['store_r'])} | **{f(r['store_f1'], 3)}** | " + " | ".join(cells)
                         + f" | {r['seconds']:.0f} |")
    ig, io = sp["idle_geo3d"]["peak_rss_mb"], sp["idle_open3d"]["peak_rss_mb"]
    per_call = all("call_mb" in row[w] for row in sp["inputs"] for w in ("geo3d", "open3d"))
    pv, pd_ = sp["pipe_voxel_cc"], sp["pipe_dbscan"]
    lines += ["", "### (b) Speed and peak memory (each run in its own subprocess)", "",
              f"Sample: {sp['file_points']:,} points in the file, {sp['work_points']:,} after 4 cm thinning, "
              f"{sp['free_points']:,} non-structure points. Linking distance: voxel {VOXEL} m for geo3d's "
              f"`voxel_cc`, eps = {VOXEL}·√3 m (the reach of a 26-connected voxel step) and min_points = 4 "
              "for Open3D's `cluster_dbscan` (its time includes building its PointCloud from the array). "
              + ("Memory is what the call needed on top of what the process held when it began (the points "
                 "loaded): its VmHWM, reset just before the call (`/proc/self/clear_refs`), minus the RSS at the "
                 "reset; for geo3d, after `segment_points` and after `objects_from_segments`. "
                 if per_call else
                 "Peak memory is the process's VmHWM above a child that only imports the same modules "
                 f"(geo3d: {ig:.0f} MB; geo3d + open3d: {io:.0f} MB). ")
              + "Best run of 3 (geo3d) and of 2 (Open3D), interleaved (geo3d, Open3D, geo3d …).", "",
              "| points segmented | n | geo3d `segment_points` s | + `objects_from_segments` s | Open3D `cluster_dbscan` s "
              "| speed-up: segmentation | speed-up: with objects | geo3d MB: segmentation | geo3d MB: with objects "
              "| Open3D MB | memory ratio: segmentation | memory ratio: with objects |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in sp["inputs"]:
        g, o = row["geo3d"], row["open3d"]
        if per_call:
            gs, gm, om = g["segment_mb"], g["call_mb"], o["call_mb"]
        else:
            gs, gm, om = g["peak_rss_mb"] - ig, g["peak_rss_mb"] - ig, o["peak_rss_mb"] - io
        lines.append(f"| {row['what']} | {row['points']:,} | {g['segment_seconds']:.3f} | {g['seconds']:.3f} | "
                     f"{o['seconds']:.3f} | **{o['seconds'] / g['segment_seconds']:.1f}×** | "
                     f"{o['seconds'] / g['seconds']:.1f}× | {gs:.0f} | {gm:.0f} | {om:.0f} | "
                     f"**{gs / max(om, 1e-9):.2f}** | {gm / max(om, 1e-9):.2f} |")
    lines += ["", "Targets: ≥ 10× faster, ≤ 1/3 of the memory. `segment_points` returns the same labels a "
              "26-connected flood fill of occupied voxels gives; `objects_from_segments` adds footprints, heights, "
              "colour per segment (DBSCAN gives labels only).", "",
              "| whole pipeline: read → objects (`segment_scan`) | seconds | peak RSS MB | store F1 | facility F1 (pooled) |",
              "|---|---|---|---|---|",
              f"| method=\"voxel_cc\" | {pv['seconds']:.1f} | {pv['peak_rss_mb']:.0f} | {pv['store_f1']:.3f} | "
              f"{pv['facility_f1']:.3f} |",
              f"| method=\"dbscan\" (Open3D) | {pd_['seconds']:.1f} | {pd_['peak_rss_mb']:.0f} | {pd_['store_f1']:.3f} | "
              f"{pd_['facility_f1']:.3f} |", "",
              "Stage seconds (voxel_cc): " + ", ".join(f"{k} {v:.1f}" for k, v in pv["timings"].items()) + "; (dbscan): "
              + ", ".join(f"{k} {v:.1f}" for k, v in pd_["timings"].items()) + ".",
              "", "### (c) Scaling: the sample tiled side by side (in memory), whole `segment_scan`", "",
              "| copies | points | seconds | M points/s | peak RSS MB | objects |", "|---|---|---|---|---|---|"]
    for r in sc:
        if r.get("skipped"):
            lines.append(f"| {r['copies']} | {r['points']:,} | not run (over the time budget) | | | |")
        else:
            lines.append(f"| {r['copies']} | {r['points']:,} | {r['seconds']:.1f} | {r['points'] / r['seconds'] / 1e6:.2f} | "
                         f"{r['peak_rss_mb']:.0f} | {r['objects']:,} |")
    if real:
        lines += real_report(real)
    return "\n".join(lines) + "\n"




def main() -> None:
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        warnings.simplefilter("ignore")
        print(json.dumps(child(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=600.0, help="seconds for part (c)")
    ap.add_argument("--max-points", type=float, default=20e6)
    ap.add_argument("--layouts", default=",".join(LAYOUTS))
    ap.add_argument("--no-write", action="store_true", help="print only; do not update RESULTS.md")
    ap.add_argument("--io-floor-only", action="store_true",
                    help="run part (e) only (its own section bench_segment_io of RESULTS.md)")
    ap.add_argument("--real-only", action="store_true",
                    help="run part (d) only (its own section bench_segment_real of RESULTS.md)")
    ap.add_argument("--big-points", type=int, default=2_500_000, help="points of the large scan of part (e)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    header = machine('open3d', 'scipy')
    if args.real_only:
        print("(d) real files", flush=True)
        text = "\n".join(["## Segmentation of the real files (`benchmarks/bench_segment.py --real-only`)", "",
                           header, *real_report(real_data())]) + "\n"
        print(text)
        if not args.no_write:
            write_section("bench_segment_real", text)
        return
    print("(e) against the I/O floor", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        floor_text = io_floor_report(io_floor(Path(tmp), args.big_points), header)
    print(floor_text)
    if not args.no_write:
        write_section("bench_segment_io", floor_text)
    if args.io_floor_only:
        return
    print("(a) accuracy", flush=True)
    acc = accuracy(tuple(args.layouts.split(",")))
    print("(b) speed and memory", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        sp = speed(Path(tmp))
    print("(c) scaling", flush=True)
    sc = scaling(args.budget, args.max_points)
    print("(d) real files", flush=True)
    real = real_data()
    text = report(acc, sp, sc, header, time.perf_counter() - t0, real)
    print(text)
    if not args.no_write:
        write_section("bench_segment", text)
        print(f"updated {RESULTS}")


if __name__ == "__main__":
    main()
