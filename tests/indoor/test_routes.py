"""locate / where / route: true positions from true addresses, and route lengths against the
shortest paths of the reference network built from the generator's truth (conftest.py)."""

from __future__ import annotations

import time

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.errors import InputError
from geo3d.indoor.network import network_from_layers
from geo3d.indoor.routes import ScanPaths, locate, open_scan_paths, route, where

from .conftest import reference_graph

pytestmark = pytest.mark.slow


def truth_paths(layers) -> ScanPaths:
    net = network_from_layers(layers["levels"], layers["aisles"], layers["stores"], layers["facilities"],
                              sido="서울특별시", sigungu="동대문구")
    objs = gpd.GeoDataFrame(pd.concat([layers["stores"], layers["facilities"]], ignore_index=True))
    return ScanPaths(net, objs.sort_values("object_id").reset_index(drop=True), layers["levels"],
                     "서울특별시", "동대문구")


@pytest.mark.parametrize("which", ["sample", "l_shaped"])
def test_locate_gives_every_true_position_and_where_gives_the_address_back(which, sample_truth, l_shaped):
    layers = sample_truth if which == "sample" else l_shaped["truth"]
    p = truth_paths(layers)
    objs = p.objects[p.objects["address"].notna()]
    assert len(objs) > 50
    for o in objs.itertuples():
        spaced = o.address.replace(" ", "  ").replace("-", " - ")  # tolerant spacing
        r = locate(p, spaced)
        assert (r["object_id"], r["floor"]) == (o.object_id, o.floor)
        assert (r["x"], r["y"], r["z"]) == pytest.approx((o.x, o.y, o.z), abs=1e-3)
        assert where(p, o.x, o.y, floor=o.floor)["address"] == o.address


def test_locate_without_the_region_and_a_base_number_on_a_road(sample_truth):
    p = truth_paths(sample_truth)
    a = p.objects[p.objects["kind"] == "store"].iloc[0]
    short = a["address"].split(" ", 2)[2]
    assert locate(p, short)["object_id"] == a["object_id"]
    with pytest.raises(InputError, match="names no store"):
        locate(p, "서울특별시 동대문구 없는통로 3")


def test_a_base_number_without_an_object_locates_a_point_on_the_road():
    levels = pd.DataFrame({"floor": [1], "slab_z": [10.0]})
    aisles = gpd.GeoDataFrame({"name": ["시장1통로"], "floor": [1]}, geometry=[shapely.LineString([(0, 0), (90, 0)])])
    none = gpd.GeoDataFrame({"object_id": [], "kind": [], "floor": [], "aisle": [], "address": [], "x": [], "y": [],
                             "z": []}, geometry=[])
    net = network_from_layers(levels, aisles, none, none, sido="서울특별시", sigungu="동대문구", exits=[(1, 0.0, 0.0)])
    p = ScanPaths(net, none, levels, "서울특별시", "동대문구")
    r = locate(p, "시장1통로 6")  # base interval 3 (40–60 m): its middle
    assert (r["kind"], r["object_id"], r["x"], r["y"], r["z"]) == ("path", None, 50.0, 0.0, 10.0)
    assert r["address"] == "서울특별시 동대문구 시장1통로 6"
    assert where(p, 50.0, 1.0)["path_address"] == "서울특별시 동대문구 시장1통로 5"  # left: odd
    assert where(p, 50.0, -1.0)["path_address"] == "서울특별시 동대문구 시장1통로 6"
    with pytest.raises(InputError, match="shorter than"):
        locate(p, "시장1통로 11")


def _compare(scan_dir, truth):
    """Store → nearest exit and store → store routes on the scan against the reference network.

    Both are measured from the stores' doors (the reference knows the true entrances). Returns
    (exit routes: reference length, scan length), (pair routes: same) and the stores compared.
    """
    p = open_scan_paths(scan_dir)
    ref, openings = reference_graph(truth)
    dref = nx.multi_source_dijkstra_path_length(ref, set(openings), weight="length")
    true = truth["stores"].set_index("address")["object_id"]
    e = p.network.arrays["e_length_m"]
    scanned = p.objects[(p.objects["kind"] == "store") & p.objects["address"].isin(true.index)]["address"].tolist()
    exits = []
    for a in scanned:
        r = route(p, a, "nearest:exit")
        exits.append((dref[("obj", int(true[a]))], r.length_m - e[r.edges[0]]))
    pairs = []
    rng = np.random.default_rng(0)
    for i, j in rng.choice(len(scanned), size=(150, 2)):
        a, b = scanned[i], scanned[j]
        try:
            rl = nx.dijkstra_path_length(ref, ("obj", int(true[a])), ("obj", int(true[b])), weight="length")
        except nx.NetworkXNoPath:  # other floor: the generator has no stairs
            continue
        if i != j:
            r = route(p, a, b)
            pairs.append((rl, r.length_m - e[r.edges[0]] - e[r.edges[-1]]))
    return np.asarray(exits), np.asarray(pairs), len(scanned)


@pytest.mark.parametrize("which", ["sample", "l_shaped"])
def test_route_lengths_agree_with_the_true_network(which, sample_truth, sample_scan, l_shaped):
    """Median within 5 %, worst within 10 %: over store-to-store routes, and over store-to-exit
    routes of 15 m or more; a shorter route is dominated by where the scan puts a door (within
    2 m of the true entrance, checked on every route)."""
    scan, truth = (sample_scan, sample_truth) if which == "sample" else (l_shaped["scan"], l_shaped["truth"])
    exits, pairs, n = _compare(scan, truth)
    assert n >= 0.8 * len(truth["stores"])  # most stores found with their true address
    assert np.abs(exits[:, 1] - exits[:, 0]).max() <= 2.0
    for arr in (exits[exits[:, 0] >= 15.0], pairs):
        ref_len, mine = arr[:, 0], arr[:, 1]
        rel = np.abs(mine - ref_len) / ref_len
        assert len(rel) >= 20
        assert np.median(rel) <= 0.05
        assert rel.max() <= 0.10


def test_route_through_floors_names_aisles_and_floors(sample_scan):
    p = open_scan_paths(sample_scan)
    up = p.objects[(p.objects["kind"] == "store") & (p.objects["floor"] == 2) & p.objects["address"].notna()]
    aed = p.objects[(p.objects["kind"] == "aed") & (p.objects["floor"] == 1) & p.objects["address"].notna()]
    r = route(p, up["address"].iloc[0], aed["address"].iloc[0])
    texts = [s["text"] for s in r.steps]
    assert texts[0].startswith("출발: ") and texts[-1].startswith("도착: ")
    assert any(t.startswith("계단으로 1층") for t in texts)
    assert any("통로를 따라" in t for t in texts)
    assert r.to_address == aed["address"].iloc[0]
    c = np.asarray(r.coordinates)
    assert c.shape[1] == 3 and c[0, 2] == pytest.approx(36.2) and c[-1, 2] == pytest.approx(32.0)
    assert r.length_m == pytest.approx(np.linalg.norm(np.diff(c, axis=0), axis=1).sum(), rel=0.15)
    assert r.time_s > r.length_m / 1.5
    w = route(p, up["address"].iloc[0], aed["address"].iloc[0], agent="wheelchair")
    assert any(s["text"].startswith("승강기로 1층") for s in w.steps)
    assert not any(s["kind"] == "stairs" for s in w.steps)


def test_nearest_kind_is_the_nearest_and_a_query_is_fast(sample_scan):
    p = open_scan_paths(sample_scan)
    start = p.objects[(p.objects["kind"] == "store") & p.objects["address"].notna()]["address"].iloc[5]
    r = route(p, start, "nearest:aed")
    aeds = p.objects[(p.objects["kind"] == "aed") & p.objects["address"].notna()]["address"]
    lengths = [route(p, start, a).length_m for a in aeds]
    assert r.length_m == pytest.approx(min(lengths))
    t = time.perf_counter()
    for _ in range(20):
        route(p, start, "nearest:exit")
    assert (time.perf_counter() - t) / 20 < 0.05  # benchmarks/bench_paths.py measures the 5 ms goal
    with pytest.raises(InputError, match="not a known kind"):
        route(p, start, "nearest:unicorn")
    r2 = route(p, "203489.0,553341.0,1", "nearest:exit")
    assert r2.from_address is not None and r2.length_m > 0
