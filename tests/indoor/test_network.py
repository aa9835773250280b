"""The navigation network: reachability, no orphan node, 3D lengths, path addresses, layers per agent."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from geo3d.errors import InputError
from geo3d.indoor.connectors import connectors_from_market
from geo3d.indoor.network import network_from_layers

CONNECTORS = [{"kind": "stairs", "floors": [1, 2], "xy": [203489.0, 553350.0], "name": "중앙계단"},
              {"kind": "lift", "floors": [1, 2], "xy": [203500.0, 553372.0], "name": "승강기1"}]


def build(layers, **kw):
    return network_from_layers(layers["levels"], layers["aisles"], layers["stores"], layers["facilities"],
                               sido="서울특별시", sigungu="동대문구", **kw)


def graph(net, drop=()):
    e = net.edges[~net.edges["kind"].isin(drop)]
    g = nx.Graph()
    g.add_nodes_from(range(len(net.nodes)))
    g.add_weighted_edges_from(zip(e["u"], e["v"], e["length_m"], strict=True), weight="length")
    return g


def test_every_store_and_facility_reaches_an_exit_and_no_node_is_orphan(sample_truth, l_shaped):
    for layers in (sample_truth, l_shaped["truth"]):
        net = build(layers)
        g = graph(net)
        assert min(dict(g.degree).values()) >= 1  # no orphan node
        dist = nx.multi_source_dijkstra_path_length(g, set(net.nodes_of("exit").tolist()), weight="length")
        objs = net.nodes[net.nodes["kind"].isin(["store", "facility"])]
        assert len(objs) == len(layers["stores"]) + (layers["facilities"]["kind"] != "exit_sign").sum()
        assert all(i in dist for i in objs.index)
        assert net.warnings == []


def test_edges_carry_3d_length_kind_and_the_address_of_their_way(sample_truth):
    net = build(sample_truth, connectors=CONNECTORS)
    e = net.edges
    assert set(e["kind"]) == {"aisle", "access", "room", "exit", "stairs", "lift"}
    flat = ~e["kind"].isin(["stairs", "lift"])
    np.testing.assert_allclose(e.loc[flat, "length_m"], shapely.length(np.asarray(e.geometry[flat].values)), atol=1e-6)
    assert e.loc[e["kind"] == "lift", "length_m"].iloc[0] == pytest.approx(36.2 - 32.0)
    z = shapely.get_coordinates(np.asarray(e.geometry.values), include_z=True)[:, 2]
    assert set(np.round(z, 3)) == {32.0, 36.2}  # flat edges on their slab, vertical edges between
    stairs = e[e["kind"] == "stairs"].iloc[0]
    rise = 36.2 - 32.0
    assert stairs["length_m"] == pytest.approx(math.hypot(rise, rise / math.tan(math.radians(35))))
    a = e[e["kind"] == "aisle"]
    assert (a["s_to"] >= a["s_from"]).all()
    k0 = np.floor(a["s_from"] / 20.0).astype(int)
    np.testing.assert_array_equal(a["base_from"].astype(int), 2 * k0 + 1)
    assert all(p == f"서울특별시 동대문구 {n} {f}~{t}" for p, n, f, t in
               zip(a["path_address"], a["aisle"], a["base_from"], a["base_to"], strict=True))
    # every aisle is covered end to end by its edges
    for name, grp in a.groupby("aisle"):
        line = sample_truth["aisles"].set_index("name").geometry[name]
        assert grp["length_m"].sum() == pytest.approx(line.length, abs=0.01)


def test_wheelchair_layer_goes_by_lift_and_the_pedestrian_by_stairs(sample_truth):
    net = build(sample_truth, connectors=CONNECTORS)
    up = net.nodes_of("store", floor=2)[0]
    down = net.nodes_of("store", floor=1)[0]
    walk = nx.dijkstra_path(graph(net), up, down, weight="length")
    wheel = nx.dijkstra_path(graph(net, drop=("stairs",)), up, down, weight="length")
    kinds = lambda p: set(net.nodes["address"].iloc[[i for i in p if net.nodes["kind"].iat[i] == "connector"]])  # noqa: E731
    assert kinds(wheel) == {"lift"}
    assert "stairs" in kinds(walk) or kinds(walk) == {"lift"}


def test_scipy_and_networkx_agree_on_distances(sample_truth):
    from geo3d.indoor.evacuation import network_adjacency

    net = build(sample_truth, connectors=CONNECTORS)
    ex = net.nodes_of("exit")
    d_sp = dijkstra(network_adjacency(net, ()), directed=False, indices=ex, min_only=True)
    d_nx = nx.multi_source_dijkstra_path_length(graph(net), set(ex.tolist()), weight="length")
    np.testing.assert_allclose(d_sp, [d_nx[i] for i in range(len(net.nodes))], atol=1e-6)


def test_a_t_junction_that_stops_short_is_joined_and_far_objects_are_warned():
    levels = pd.DataFrame({"floor": [1], "slab_z": [0.0]})
    aisles = gpd.GeoDataFrame({"name": ["시장1통로", "시장2통로"], "floor": [1, 1]},
                              geometry=[shapely.LineString([(0, 0), (50, 0)]), shapely.LineString([(20, 2), (20, 30)])])
    stores = gpd.GeoDataFrame({"object_id": [1], "kind": ["store"], "floor": [1], "aisle": [None], "address": [None]},
                              geometry=[shapely.box(30, 20, 33, 23)])
    fac = gpd.GeoDataFrame({"object_id": [2], "kind": ["exit_sign"], "floor": [1], "aisle": [None], "address": [None]},
                           geometry=[shapely.Point(0, 0)])
    net = network_from_layers(levels, aisles, stores, fac, sido="서울특별시", sigungu="동대문구", max_offset_m=2.0)
    assert nx.is_connected(graph(net))
    assert any("more than 2 m away" in w for w in net.warnings)


def test_connectors_are_validated():
    from geo3d.address import market_from_dict

    m = market_from_dict({"name": "경동시장", "sido": "서울특별시", "sigungu": "동대문구", "parent_road": "고산자로36길",
                          "parent_number": "3", "connectors": [{"kind": "teleport", "floors": [1, 2], "xy": [0, 0]},
                                                               {"kind": "stairs", "floors": [1], "xy": [0, 0]}]})
    with pytest.raises(InputError, match="'kind' must be one of") as e:
        connectors_from_market(m)
    assert "'floors' must list at least two" in str(e.value)
