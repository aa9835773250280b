"""Paths: network build per level, one route query, evacuation of 1,000+ stores (goals: < 1 s per
level, < 5 ms per route, < 1 s for the evacuation).

**Sample** (the committed market, scanned as ``geo3d scan`` does with a stair and a lift given):
``network_from_scan`` and ``walkable_area`` per level, best of ``--reps``; ``geo3d scan`` end to end
(file in → folder out) with and without the path outputs (``write_paths`` swapped for a no-op).

**Route queries** on that scan folder: ``route(address, "nearest:aed")`` (one early-stopping
Dijkstra to a per-kind sink) and ``route(address, address)``, median over 200 seeded queries,
against the obvious alternative for the nearest AED: a networkx shortest path to every AED and
the shortest of them.

**Evacuation**: synthetic markets (floors of parallel 100 m aisles, 3 m stalls on both sides,
exits at the aisle ends of 1층, one stair per aisle between floors) of about 1,000 and 10,000
stores: ``evacuation_routes`` (one ``scipy.sparse.csgraph.dijkstra`` from all exits, routes
rebuilt for all stores at once) against networkx shortest paths per store (the obvious loop),
whose distances are asserted equal; and ``geo3d evacuation --out evac.gpkg`` on the sample folder.

Results replace the ``bench_paths`` section of benchmarks/RESULTS.md.

Usage: python benchmarks/bench_paths.py [--reps 3] [--work DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from _common import machine, write_section  # noqa: E402  (benchmarks/ is on sys.path as a script)

import geo3d  # noqa: E402
from geo3d.indoor.evacuation import evacuation_routes  # noqa: E402
from geo3d.indoor.network import network_from_layers  # noqa: E402
from geo3d.indoor.routes import graph_of, open_scan_paths, route  # noqa: E402

STAIRS = ('\nstructure = "general"\n\n[[connectors]]\nkind = "stairs"\nfloors = [1, 2]\nxy = [203489.0, 553350.0]\n'
          '\n[[connectors]]\nkind = "lift"\nfloors = [1, 2]\nxy = [203500.0, 553372.0]\n')


CPU: dict[str, float] = {}


def best(fn: Any, reps: int, key: str | None = None) -> tuple[float, Any]:
    """Best wall time of ``reps`` runs (and, under ``key`` in :data:`CPU`, the best CPU time)."""
    out, ts, cs = None, [], []
    for _ in range(reps):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        ts.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    if key:
        CPU[key] = min(cs)
    return min(ts), out


def sample(work: Path, reps: int) -> dict[str, Any]:
    """Scan the sample (with and without the path outputs) and time the network per level."""
    import geo3d.address.pipeline as pipeline
    import geo3d.indoor.paths_output as po
    from geo3d.address.market import read_market
    from geo3d.indoor.walkable import walkable_area
    from geo3d.io.las import read_las

    src = geo3d.datasets.get_path("market")
    toml = work / "market.toml"
    text = geo3d.datasets.get_path("market_toml").read_text(encoding="utf-8")
    head, sep, rest = text.partition("\n[[aisles]]\n")
    toml.write_text(head + STAIRS + sep + rest, encoding="utf-8")
    market = read_market(toml)
    t_full, (_, scan) = best(lambda: pipeline.scan_to_addresses(src, market, work / "scan", overwrite=True), reps,
                             "full")
    real = po.write_paths

    class _NoPaths:
        report: ClassVar[dict[str, Any]] = {}

        def exit_doors(self) -> dict[int, tuple[float, float]]:
            return {}

        def write(self, out: Path) -> list[Path]:
            return []

    po.write_paths = lambda *a, **k: _NoPaths()  # type: ignore[assignment]
    try:
        t_without, _ = best(lambda: pipeline.scan_to_addresses(src, market, work / "scan0", overwrite=True), reps,
                            "without")
    finally:
        po.write_paths = real
    levels = gpd.read_file(work / "scan" / "objects.gpkg", layer="levels")
    t_net, net = best(lambda: po.network_from_scan(levels, scan.aisles, scan.addresses, market), reps, "net")
    cloud = read_las(work / "scan" / "points.laz")
    import laspy

    lev = np.asarray(laspy.read(work / "scan" / "points.laz")["level"])
    stores = scan.addresses[scan.addresses["kind"] == "store"]
    t_walk, _ = best(lambda: walkable_area(cloud.xyz, lev, levels, stores=stores), reps, "walk")
    return {"levels": len(levels), "nodes": len(net.nodes), "edges": len(net.edges), "t_net": t_net,
            "t_walk": t_walk, "t_full": t_full, "t_without": t_without, "folder": work / "scan",
            "stores": int((scan.addresses["kind"] == "store").sum())}


def queries(folder: Path) -> dict[str, Any]:
    p = open_scan_paths(folder)
    g = graph_of(p)
    addrs = p.objects[(p.objects["kind"] == "store") & p.objects["address"].notna()]["address"].to_numpy()
    rng = np.random.default_rng(0)
    pick = rng.choice(addrs, size=(200, 2))
    route(p, pick[0, 0], "nearest:aed")  # graphs and sinks built once
    t_near, t_pair, t_loop = [], [], []
    n = p.network.nodes
    aeds = np.flatnonzero(((n["kind"] == "facility") & (n["name"] == "aed")).to_numpy()).tolist()
    for a, b in pick:
        t = time.perf_counter()
        r = route(p, a, "nearest:aed")
        t_near.append(time.perf_counter() - t)
        t = time.perf_counter()
        route(p, a, b)
        t_pair.append(time.perf_counter() - t)
        src = int(np.flatnonzero(((n["object_id"] == p.objects.set_index("address").loc[a, "object_id"])
                                  & (n["kind"] == "store")).to_numpy())[0])
        t = time.perf_counter()
        best_len = min(nx.dijkstra_path_length(g, src, t_, weight="length") for t_ in aeds)
        t_loop.append(time.perf_counter() - t)
        assert abs(best_len - (r.length_m)) < 1e-6, (best_len, r.length_m)
    return {"near": statistics.median(t_near), "pair": statistics.median(t_pair), "loop": statistics.median(t_loop),
            "near_max": max(t_near), "aeds": len(aeds), "nodes": len(n)}


def synthetic(n_aisles: int, floors: int, length: float = 100.0) -> Any:
    """Floors of parallel aisles 8 m apart, 3 m stalls both sides, exits at 1층's aisle ends."""
    lines, names, fl = [], [], []
    for f in range(1, floors + 1):
        for i in range(n_aisles):
            lines.append(shapely.LineString([(0, 8.0 * i), (length, 8.0 * i)]))
            names.append(f"가{f}층{i + 1}통로")
            fl.append(f)
    aisles = gpd.GeoDataFrame({"name": names, "floor": fl}, geometry=lines)
    xs = np.arange(2.0, length - 2.0, 3.2)
    rows = [(f, x, 8.0 * i + side * 1.5) for f in range(1, floors + 1) for i in range(n_aisles)
            for side in (1, -1) for x in xs]
    f_, x_, y_ = (np.array(c) for c in zip(*rows, strict=True))
    boxes = shapely.box(x_ - 1.5, np.where(y_ > 8.0 * np.round(y_ / 8), y_, y_ - 2.5),
                        x_ + 1.5, np.where(y_ > 8.0 * np.round(y_ / 8), y_ + 2.5, y_))
    stores = gpd.GeoDataFrame({"object_id": np.arange(1, len(rows) + 1), "kind": "store", "floor": f_,
                               "aisle": None, "address": None}, geometry=boxes)
    none = gpd.GeoDataFrame({"object_id": [], "kind": [], "floor": [], "aisle": [], "address": []}, geometry=[])
    levels = pd.DataFrame({"floor": range(1, floors + 1), "slab_z": [4.0 * k for k in range(floors)]})
    exits = [(1, 0.0, 8.0 * i) for i in range(n_aisles)] + [(1, length, 8.0 * i) for i in range(n_aisles)]
    conn = [{"kind": "stairs", "floors": list(range(1, floors + 1)), "xy": [length / 2, 8.0 * i]}
            for i in range(n_aisles)]
    return network_from_layers(levels, aisles, stores, none, sido="서울특별시", sigungu="동대문구", exits=exits,
                               connectors=conn)


def evacuation(reps: int) -> list[dict[str, Any]]:
    out = []
    for n_aisles, floors in ((9, 2), (40, 4)):
        net = synthetic(n_aisles, floors)
        n_st = len(net.nodes_of("store"))
        t_ev, ev = best(lambda net=net: evacuation_routes(net), reps)
        g = nx.Graph()
        e = net.edges[~net.edges["kind"].isin(["lift", "escalator"])]
        g.add_weighted_edges_from(zip(e["u"], e["v"], e["length_m"], strict=True))
        exits = set(net.nodes_of("exit").tolist())
        stores = net.nodes_of("store")
        sample_n = min(len(stores), 1000)
        t = time.perf_counter()
        d_loop = {}
        for s in stores[:sample_n].tolist():
            dist, paths = nx.single_source_dijkstra(g, s, weight="weight")
            ex = min(exits, key=lambda x: dist.get(x, np.inf))
            d_loop[s] = (dist[ex], paths[ex])
        t_loop = (time.perf_counter() - t) * len(stores) / sample_n
        r = ev.routes.set_index("object_id")
        oid = net.nodes["object_id"].to_numpy()
        for s, (d, _) in d_loop.items():
            assert abs(r.loc[oid[s], "distance_m"] - d) < 0.01
        out.append({"stores": n_st, "floors": floors, "nodes": len(net.nodes), "t_ev": t_ev, "t_loop": t_loop,
                    "extrapolated": sample_n < len(stores), "over": int(ev.routes["over_limit"].sum())})
    return out


def cli_evacuation(folder: Path, work: Path, reps: int) -> float:
    from click.testing import CliRunner

    from geo3d.cli import commands  # noqa: F401
    from geo3d.cli.main import cli

    def run() -> None:
        r = CliRunner().invoke(cli, ["evacuation", "--scan", str(folder), "--out", str(work / "evac.gpkg"),
                                     "--overwrite"])
        assert r.exit_code == 0, r.output

    return best(run, reps)[0]


def report(s: dict[str, Any], q: dict[str, Any], ev: list[dict[str, Any]], t_cli: float, reps: int) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = ["## Paths: network, routes, evacuation (`benchmarks/bench_paths.py`)", "",
             f"Run {now} on {machine('networkx', 'scipy', 'shapely', 'geopandas')}; load average at the end "
             f"{load:.1f} (shared machine: best of {reps} runs, medians of 200 queries).", "",
             "**Sample** (committed market, 2 levels, a stair and a lift given in MARKET.toml), goal < 1 s per level:", "",
             "| levels | stores | nodes | edges | network s (per level) | walkable space s (per level) | `geo3d scan` s with paths | without | added |",
             "|---|---|---|---|---|---|---|---|---|",
             f"| {s['levels']} | {s['stores']} | {s['nodes']:,} | {s['edges']:,} | {s['t_net']:.3f} "
             f"(**{s['t_net'] / s['levels']:.3f}**) | {s['t_walk']:.3f} ({s['t_walk'] / s['levels']:.3f}) | "
             f"{s['t_full']:.2f} | {s['t_without']:.2f} | {s['t_full'] - s['t_without']:+.2f} |",
             f"| CPU s | | | | {CPU['net']:.3f} ({CPU['net'] / s['levels']:.3f}) | {CPU['walk']:.3f} "
             f"({CPU['walk'] / s['levels']:.3f}) | {CPU['full']:.2f} | {CPU['without']:.2f} | "
             f"{CPU['full'] - CPU['without']:+.2f} ({(CPU['full'] - CPU['without']) / CPU['without']:+.0%}) |", "",
             "Wall times on a loaded machine swing by seconds between runs; the CPU row is the fairer "
             "measure of what the path outputs add to `geo3d scan` (network, walkable space, evacuation, "
             "IndoorGML and the GeoPackage writes).", "",
             f"**Route queries** on the sample folder ({q['nodes']:,} nodes, {q['aeds']} AEDs), goal < 5 ms:", "",
             "| query | median ms | worst ms |", "|---|---|---|",
             f"| `route(address, 'nearest:aed')` (early-stopping Dijkstra to a per-kind sink) | **{q['near'] * 1e3:.2f}** "
             f"| {q['near_max'] * 1e3:.2f} |",
             f"| `route(address, address)` | {q['pair'] * 1e3:.2f} | |",
             f"| alternative: networkx shortest path to every AED, shortest kept (lengths asserted equal) | "
             f"{q['loop'] * 1e3:.2f} | |", "",
             f"Ratio alternative / geo3d for the nearest AED: **{q['loop'] / q['near']:.1f}×** (geo3d's figure includes "
             "the address look-up, the 3D line and the Korean steps).", "",
             "**Evacuation** (synthetic floors of 100 m aisles, 3 m stalls both sides, exits at 1층's aisle ends, a stair per "
             "aisle), goal < 1 s for 1,000 stores:", "",
             "| stores | floors | nodes | `evacuation_routes` s | networkx per store s | ratio | over the limit |",
             "|---|---|---|---|---|---|---|"]
    for e in ev:
        star = " (extrapolated from 1,000)" if e["extrapolated"] else ""
        lines.append(f"| {e['stores']:,} | {e['floors']} | {e['nodes']:,} | **{e['t_ev']:.3f}** | {e['t_loop']:.2f}{star} "
                     f"| **{e['t_loop'] / e['t_ev']:.0f}×** | {e['over']:,} |")
    lines += ["", f"`geo3d evacuation --scan SAMPLE --out evac.gpkg` end to end (read the folder, route every store, "
              f"write the GeoPackage): {t_cli:.2f} s.", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_paths_"))
    work.mkdir(parents=True, exist_ok=True)
    with geo3d.options.context(progress=False):
        s = sample(work, args.reps)
        q = queries(s["folder"])
        ev = evacuation(args.reps)
        t_cli = cli_evacuation(s["folder"], work, args.reps)
    text = report(s, q, ev, t_cli, args.reps)
    print(text)
    if not args.no_write:
        write_section("bench_paths", text)


if __name__ == "__main__":
    main()
