"""Vector tiles end to end: ``geo3d tiles`` vs the tippecanoe CLI on the same lines.

Data: a synthetic district from ``geo3d.datasets.underground.make_district`` cut to
``--segments`` pipe segments (a seeded random subset, file order kept) and written as the six
UIS layers of one GeoPackage (EPSG:5186). The same pipes, in the canonical schema with the
tiles' attributes, are written once as FlatGeobuf in EPSG:4326 (one file per utility): that is
what a tippecanoe user feeds it.

Compared, each as its own process (wall time, and peak memory of the process tree), zoom 12–16:

* ``geo3d tiles --pipes utilities.gpkg --out a.pmtiles`` — reads the UIS layers, maps them to
  the canonical schema, writes the tiles (with tippecanoe) and the style and viewer beside them;
* ``tippecanoe -o b.pmtiles -Z12 -z16 --drop-smallest-as-needed -L water:water.fgb ...``
  on the prepared FlatGeobuf (its input preparation not counted);
* for reference, the previous in-Python writer of geo3d (shapely clipping + mapbox-vector-tile),
  when ``--old`` points to its ``mvt.py`` (e.g. from an older checkout).

``--reps`` runs of each, interleaved (the machine is shared); the median is reported. Results
replace the ``bench_tiles`` section of benchmarks/RESULTS.md.

Usage: python benchmarks/bench_tiles.py [--segments 18000] [--reps 3] [--old PATH] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from _common import machine, write_section  # noqa: E402

from geo3d.datasets.underground import make_district, write_district  # noqa: E402
from geo3d.tiles import PIPE_ATTRIBUTES, tippecanoe_path  # noqa: E402
from geo3d.underground import read_pipes  # noqa: E402

SEGMENTS_PER_KM2 = 720_475 / 21.0**2  # make_district density (see bench_stats.py)


def district(segments: int, folder: Path) -> Path:
    size_m = (segments * 1.05 / SEGMENTS_PER_KM2) ** 0.5 * 1000.0
    d = make_district(seed=2025, size_m=size_m)
    total = sum(len(layer) for layer in d.layers.values())
    rng = np.random.default_rng(0)
    keep = np.sort(rng.choice(total, size=min(segments, total), replace=False))
    start = 0
    for name, layer in d.layers.items():
        mine = keep[(keep >= start) & (keep < start + len(layer))] - start
        d.layers[name] = layer.iloc[mine].reset_index(drop=True)
        start += len(layer)
    write_district(d, folder, overwrite=True)
    return folder / "utilities.gpkg"


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB: the process and its children, summed, polled)."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    top = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            tree = [top, *top.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.01)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, peak / 2**20


GEO3D = "import sys; from geo3d.cli import main; sys.exit(main())"  # the `geo3d` command
OLD_SCRIPT = """
import importlib.util, sys
from geo3d.underground import read_pipes
spec = importlib.util.spec_from_file_location("geo3d.tiles.old_mvt", sys.argv[1])
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
mod.write_tiles(read_pipes(sys.argv[2]), sys.argv[3], minzoom=12, maxzoom=16)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=18_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--old", type=Path, default=None, help="mvt.py of the old in-Python writer")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory(prefix="bench-tiles-") as tmp_name:
        tmp = Path(tmp_name)
        gpkg = district(args.segments, tmp / "district")
        pipes = read_pipes(gpkg)
        n = len(pipes)
        keep = [c for c in PIPE_ATTRIBUTES if c in pipes.columns]
        web = pipes[[*keep, "geometry"]].to_crs(4326)
        web["install_year"] = web["install_year"].astype("float64")  # as geo3d hands it over
        layers = []
        for utility, rows in web.groupby("utility"):
            path = tmp / f"{utility}.fgb"
            rows.reset_index(drop=True).to_file(path, driver="FlatGeobuf", SPATIAL_INDEX="NO")
            layers += ["-L", f"{utility}:{path}"]
        runs: dict[str, list[tuple[float, float]]] = {"geo3d": [], "tippecanoe": [], "old": []}
        sizes = {}
        for rep in range(args.reps):
            out = tmp / f"g{rep}.pmtiles"
            runs["geo3d"].append(run([sys.executable, "-c", GEO3D, "tiles", "--pipes",
                                      str(gpkg), "--out", str(out), "--minzoom", "12",
                                      "--maxzoom", "16", "-q"], env))
            sizes["geo3d"] = out.stat().st_size
            out = tmp / f"t{rep}.pmtiles"
            runs["tippecanoe"].append(run([str(tippecanoe_path()), "-o", str(out), "-Z12", "-z16",
                                           "-q", "--force", "--drop-smallest-as-needed",
                                           *layers]))
            sizes["tippecanoe"] = out.stat().st_size
            if args.old is not None:
                out = tmp / f"o{rep}.pmtiles"
                runs["old"].append(run([sys.executable, "-c", OLD_SCRIPT, str(args.old),
                                        str(gpkg), str(out)], env))
                sizes["old"] = out.stat().st_size
    med = {k: (statistics.median(w for w, _ in v), statistics.median(m for _, m in v))
           for k, v in runs.items() if v}
    rows = [("`geo3d tiles` (UIS GeoPackage → PMTiles + style + viewer)", "geo3d"),
            ("tippecanoe CLI (prepared FlatGeobuf → PMTiles)", "tippecanoe"),
            ("previous geo3d in-Python writer (GeoPackage → PMTiles)", "old")]
    table = ["| run | wall (s) | peak memory (MiB) | archive (MB) | time vs tippecanoe |",
             "|---|---:|---:|---:|---:|"]
    for label, key in rows:
        if key in med:
            wall, mem = med[key]
            table.append(f"| {label} | {wall:.2f} | {mem:.0f} | {sizes[key] / 1e6:.2f} | "
                         f"{wall / med['tippecanoe'][0]:.2f}× |")
    text = "\n".join([
        "## Vector tiles: `geo3d tiles` vs tippecanoe (bench_tiles.py)", "",
        f"{n:,} pipe segments (synthetic district, six UIS layers in one GeoPackage), zoom 12–16; "
        f"median of {args.reps} interleaved runs, each its own process. geo3d's time includes "
        "Python start-up, reading and mapping the UIS layers, writing the FlatGeobuf it hands to "
        "tippecanoe, re-packing the archive with its metadata, and the style and viewer; "
        "tippecanoe's starts from FlatGeobuf already written (one file per utility, EPSG:4326). Memory: the process and its children (geo3d runs tippecanoe), summed, sampled every 10 ms.", "", *table, "",
        f"Machine: {machine('shapely', 'pyogrio', 'tippecanoe', 'pmtiles')}. The machine is "
        "shared by other jobs; tippecanoe's temporary files go to the system's temporary "
        "folder in both runs."])
    print(text)
    if not args.no_write:
        write_section("bench_tiles", text)


if __name__ == "__main__":
    main()
