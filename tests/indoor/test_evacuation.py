"""Evacuation: nearest exits by one multi-source Dijkstra, rules that cite the law, stores over the limit."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.errors import InputError
from geo3d.indoor.evacuation import evacuation_routes, read_evacuation_rules
from geo3d.indoor.network import network_from_layers


def two_floors(stairs_x: float):
    """A 100 m aisle on two floors; exits only at the west end of 1층; stairs at ``stairs_x``."""
    levels = pd.DataFrame({"floor": [1, 2], "slab_z": [0.0, 4.0]})
    line = shapely.LineString([(0, 0), (100, 0)])
    aisles = gpd.GeoDataFrame({"name": ["시장1통로", "시장2통로"], "floor": [1, 2]}, geometry=[line, line])
    xs = np.arange(5.0, 100.0, 10.0)
    boxes = [shapely.box(x - 2, 2, x + 2, 5) for x in xs]
    stores = gpd.GeoDataFrame({"object_id": np.arange(1, 2 * len(xs) + 1), "kind": "store",
                               "floor": [1] * len(xs) + [2] * len(xs), "aisle": None,
                               "address": [f"서울특별시 동대문구 시장{f}통로 {i}" for f in (1, 2) for i in range(len(xs))]},
                              geometry=boxes + boxes)
    none = gpd.GeoDataFrame({"object_id": [], "kind": [], "floor": [], "aisle": [], "address": []}, geometry=[])
    return network_from_layers(levels, aisles, stores, none, sido="서울특별시", sigungu="동대문구",
                               exits=[(1, 0.0, 0.0)],
                               connectors=[{"kind": "stairs", "floors": [1, 2], "xy": [stairs_x, 0.0]}])


def test_rule_table_cites_the_articles_it_applies():
    r = read_evacuation_rules().set_index("rule_id")
    assert r.loc["KR-BA-34-1", "max_walk_m"] == 30 and "건축법 시행령 제34조제1항" in r.loc["KR-BA-34-1", "source"]
    assert r.loc["KR-BA-34-1-FR", "max_walk_m"] == 50
    assert "제11조제1항" in r.loc["KR-EXIT-11-1", "source"] and r.loc["KR-EXIT-11-1", "max_walk_m"] == 60
    assert r.loc["KR-EXIT-11-1-FR", "max_walk_m"] == 100
    assert r["condition"].str.len().min() > 20


def test_distances_are_the_shortest_paths_and_far_stores_are_listed():
    net = two_floors(stairs_x=10.0)
    ev = evacuation_routes(net)
    r = ev.routes.set_index("object_id")
    g = nx.Graph()
    e = net.edges[~net.edges["kind"].isin(["lift", "escalator"])]
    g.add_weighted_edges_from(zip(e["u"], e["v"], e["length_m"], strict=True))
    d = nx.multi_source_dijkstra_path_length(g, set(net.nodes_of("exit").tolist()))
    stores = net.nodes.iloc[net.nodes_of("store")]
    for i, oid in zip(stores.index, stores["object_id"], strict=True):
        assert r.loc[oid, "distance_m"] == pytest.approx(d[i], abs=0.01)
    # 1층 is the 피난층: limit 60 m to the exit; 2층: 30 m to the stairs at x = 10
    f1, f2 = r[r["floor"] == 1], r[r["floor"] == 2]
    assert set(f1["rule_id"]) == {"KR-EXIT-11-1"} and set(f2["rule_id"]) == {"KR-BA-34-1"}
    assert f1["over_limit"].to_numpy().tolist() == (f1["rule_distance_m"] > 60).tolist()
    assert f1["over_limit"].sum() == 5  # stores from x = 55 m on (door 2 m off the aisle, 2.8 m deep)
    assert f2["over_limit"].sum() == 7
    assert ev.over_limit["object_id"].tolist() == sorted(ev.over_limit["object_id"].tolist())
    # the route runs from the store to its exit in 3D, through the stairs for 2층
    line = r.loc[f2.index[0], "geometry"]
    z = shapely.get_coordinates(line, include_z=True)[:, 2]
    assert z[0] == 4.0 and z[-1] == 0.0
    fr = evacuation_routes(net, structure="fire_resistant").routes
    assert fr["over_limit"].sum() < r["over_limit"].sum()
    s = ev.to_dict()
    assert s["stores"] == 20 and len(s["over_limit"]) == 12 and s["warnings"]


def test_a_network_without_exits_is_refused():
    net = two_floors(stairs_x=10.0)
    net.nodes.loc[net.nodes["kind"] == "exit", "kind"] = "junction"
    with pytest.raises(InputError, match="no exit"):
        evacuation_routes(net)
