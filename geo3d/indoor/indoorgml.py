"""IndoorGML 2.0 JSON (IndoorJSON2, OGC 22-045 Part 2) of a scan's network: cells and dual graph.

Cells (CellSpace, Solid prisms from the slab up): every store (its footprint), every aisle (its
centreline widened to ``aisle_width``), every exit (a 1 m door cell) and every stair, ramp or lift
(one cell spanning its floors). The dual network has one node per cell (inside it) and one edge
per pair of cells the navigation network links (store door, aisle junction, exit, stair landing),
drawn from node to node through the shared point. One ThematicLayer per agent: ``pedestrian``
(everything) and ``wheelchair`` (no stairs or escalators); InterLayerConnections (EQUALS) pair
the cells both layers share.

Examples
--------
>>> from geo3d.indoor.indoorgml import prism
>>> verts = []
>>> solid = prism([(0, 0), (1, 0), (1, 1), (0, 1)], 0.0, 3.0, verts)
>>> solid["type"], len(solid["boundaries"][0]), len(verts)
('Solid', 6, 8)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely

from .network import PathNetwork

__all__ = ["AGENT_LAYERS", "prism", "to_indoorgml"]

#: Layer name → edge kinds that agent may not use (their cells are left out).
AGENT_LAYERS = {"PedestrianLayer": (), "WheelchairLayer": ("stairs", "escalator")}
_CREATED = "1970-01-01T00:00:00+00:00"  # fixed: same input, same bytes


def prism(ring: Any, z0: float, z1: float, vertices: list[list[float]]) -> dict[str, Any]:
    """A Solid (one shell) extruding a plan ring from ``z0`` to ``z1``; appends its vertices."""
    c = np.asarray(ring, float)[:, :2]
    if len(c) > 1 and np.allclose(c[0], c[-1]):
        c = c[:-1]
    if shapely.LinearRing(c).is_ccw is False:
        c = c[::-1]
    k = len(c)
    base = len(vertices)
    vertices.extend(np.round(np.column_stack([np.r_[c, c], np.r_[np.full(k, z0), np.full(k, z1)]]), 3).tolist())
    bottom = [base + i for i in range(k)][::-1]
    top = [base + k + i for i in range(k)]
    sides = [[base + i, base + (i + 1) % k, base + k + (i + 1) % k, base + k + i] for i in range(k)]
    return {"type": "Solid", "boundaries": [[[bottom], [top], *[[s] for s in sides]]]}


def _outer(geom: Any) -> Any:
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    return np.asarray(geom.exterior.coords)


def _cells(net: PathNetwork, addresses: Any, levels: pd.DataFrame, aisle_width: float) -> pd.DataFrame:
    """One row per cell: id, class, floor(s), name, footprint ring, z0, z1, node xyz, network node ids."""
    n = net.nodes
    slab = dict(zip(levels["floor"].astype(int), levels["slab_z"].astype(float), strict=True))
    top = {f: (c if pd.notna(c) else slab[f] + 3.0) for f, c in zip(levels["floor"].astype(int),
                                                                      levels["ceiling_z"], strict=True)}
    rows: list[dict[str, Any]] = []
    fp = addresses.set_index("object_id").geometry
    xyz = n[["x", "y", "z"]].to_numpy(float)
    st = net.nodes_of("store")
    oids = n["object_id"].to_numpy(np.int64)[st]
    rings = [_outer(g) for g in fp.reindex(oids).to_numpy()]
    for i, oid, ring, f, addr in zip(st.tolist(), oids.tolist(), rings, n["floor"].to_numpy()[st].tolist(),
                                     n["address"].to_numpy()[st].tolist(), strict=True):
        rows.append({"id": f"S{oid}", "cls": "store", "floor": f, "name": addr, "object_id": oid, "ring": ring,
                     "z0": slab[f], "z1": min(slab[f] + 3.0, top[f]), "xyz": xyz[i], "members": [i]})
    aisle_edges = net.edges[net.edges["kind"] == "aisle"]
    for (name, f), grp in aisle_edges.groupby(["aisle", "floor"], sort=True):
        line = shapely.line_merge(shapely.union_all(shapely.force_2d(np.asarray(grp.geometry.values))))
        area = shapely.buffer(line, aisle_width / 2, cap_style="flat")
        mid = line.interpolate(0.5, normalized=True) if line.geom_type == "LineString" else line.representative_point()
        members = np.unique(np.r_[grp["u"].to_numpy(), grp["v"].to_numpy()])
        rows.append({"id": f"A{len(rows)}", "cls": "aisle", "floor": int(f), "name": str(name), "object_id": -1,
                     "ring": _outer(area.buffer(0.05)), "z0": slab[int(f)], "z1": top[int(f)],
                     "xyz": np.array([mid.x, mid.y, slab[int(f)]]), "members": list(members)})
    for i in net.nodes_of("exit").tolist():
        x, y, z = xyz[i]
        rows.append({"id": f"X{i}", "cls": "exit", "floor": int(n["floor"].iat[i]),
                     "name": n["address"].iat[i] if isinstance(n["address"].iat[i], str) else "출입구",
                     "object_id": int(n["object_id"].iat[i]), "ring": np.asarray(shapely.box(x - .5, y - .5, x + .5,
                                                                                           y + .5).exterior.coords),
                     "z0": z, "z1": z + 2.1, "xyz": np.array([x, y, z]), "members": [i]})
    conn = net.nodes_of("connector")
    for name, grp in n.iloc[conn].groupby("name", sort=True):
        x, y = float(grp["x"].mean()), float(grp["y"].mean())
        z0, z1 = float(grp["z"].min()), float(grp["z"].max()) + 2.1
        rows.append({"id": f"V{len(rows)}", "cls": str(grp["address"].iat[0]), "floor": int(grp["floor"].min()),
                     "name": str(name), "object_id": -1,
                     "ring": np.asarray(shapely.box(x - 1.5, y - 1.5, x + 1.5, y + 1.5).exterior.coords),
                     "z0": z0, "z1": z1, "xyz": np.array([x, y, (z0 + z1) / 2]), "members": list(grp.index)})
    return pd.DataFrame(rows)


def _links(net: PathNetwork, cells: pd.DataFrame) -> list[tuple[str, str, np.ndarray, str]]:
    """Cell pairs the network joins, with the shared point and the kind of link."""
    owner: dict[int, list[str]] = {}
    for cid, members in zip(cells["id"], cells["members"], strict=True):
        for m in members:
            owner.setdefault(int(m), []).append(cid)
    n, e = net.nodes, net.edges
    xyz = n[["x", "y", "z"]].to_numpy(float)
    nkind = n["kind"].to_numpy()
    room = (e["kind"] == "room").to_numpy()
    # a door belongs to its store: walk room edges store -> door
    for u, v in zip(e["u"].to_numpy()[room].tolist(), e["v"].to_numpy()[room].tolist(), strict=True):
        for a, b in ((u, v), (v, u)):
            if a in owner and nkind[b] == "door":
                owner.setdefault(b, []).extend(owner[a])
    out: dict[tuple[str, str], tuple[np.ndarray, str]] = {}
    for u, v, kind in zip(e["u"].tolist(), e["v"].tolist(), e["kind"].tolist(), strict=True):
        cu, cv = owner.get(u, []), owner.get(v, [])
        for a in cu:
            for b in cv:
                if a != b:  # the shared point: a node of both cells (a junction), else the foot / landing
                    both = u if a in cv and b in cu else v
                    shared = xyz[u] if (a in cu and b in cu) else xyz[v] if (a in cv and b in cv) else xyz[both]
                    out.setdefault(tuple(sorted((a, b))), (shared, str(kind)))  # type: ignore[arg-type]
    for i, cs in owner.items():  # junctions: aisles sharing a node
        if len(cs) > 1:
            for j, a in enumerate(cs):
                for b in cs[j + 1:]:
                    out.setdefault(tuple(sorted((a, b))), (xyz[i], "junction"))  # type: ignore[arg-type]
    return [(a, b, p, k) for (a, b), (p, k) in sorted(out.items())]


def _layer(cells: pd.DataFrame, links: list[tuple[str, str, np.ndarray, str]], prefix: str, function: str,
           vertices: list[list[float]], geom: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One ThematicLayer: primal cells and the dual nodes and edges."""
    xyz = dict(zip(cells["id"], cells["xyz"], strict=True))
    node_edges: dict[str, list[str]] = {c: [] for c in cells["id"]}
    edges: dict[str, Any] = {}
    for k, (a, b, p, _kind) in enumerate(links):
        eid = f"{prefix}E{k}"
        base = len(vertices)
        pts = [xyz[a], p, xyz[b]]
        vertices.extend([[round(float(v), 3) for v in q] for q in pts])
        w = float(sum(np.linalg.norm(np.asarray(pts[i + 1]) - np.asarray(pts[i])) for i in range(2)))
        edges[eid] = {"type": "Edge", "weight": round(w, 3), "connects": [f"{prefix}N{a}", f"{prefix}N{b}"],
                      "geometry": {"type": "Curve", "boundaries": [base, base + 1, base + 2]}}
        node_edges[a].append(eid)
        node_edges[b].append(eid)
    cell_members, nodes = {}, {}
    for row in cells.to_dict("records"):
        rid = str(row["id"])
        cid, nid = f"{prefix}C{rid}", f"{prefix}N{rid}"
        cell_members[cid] = {"type": "CellSpace", "name": str(row["name"]), "level": str(row["floor"]),
                             "poi": row["cls"] == "store", "duality": nid, "cellSpaceGeom": geom[rid],
                             "attributes": {"class": row["cls"], "object_id": int(row["object_id"])}}
        vertices.append([round(float(v), 3) for v in row["xyz"]])
        nodes[nid] = {"type": "Node", "duality": cid, "geometry": {"type": "Point", "boundaries": len(vertices) - 1},
                      "connects": node_edges[rid]}
    return {"type": "ThematicLayer", "semanticExtension": False, "theme": "Topographic",
            "primalSpace": {"creationDatetime": _CREATED, "function": function, "cellSpaceMember": cell_members},
            "dualSpace": {"creationDatetime": _CREATED, "isLogical": False, "nodeMember": nodes, "edgeMember": edges}}


def to_indoorgml(net: PathNetwork, addresses: Any, levels: pd.DataFrame, *, aisle_width: float = 3.0) -> dict[str, Any]:
    """The IndoorJSON2 document (a dict ready for ``json.dumps``) of a network.

    ``addresses`` gives the store footprints (``object_id``, geometry); ``levels`` ``floor``,
    ``slab_z`` and ``ceiling_z``.
    """
    cells = _cells(net, addresses, levels, aisle_width)
    links = _links(net, cells)
    vertices: list[list[float]] = []
    geom = {str(r["id"]): prism(r["ring"], float(r["z0"]), float(r["z1"]), vertices) for r in cells.to_dict("records")}
    layers, kept = {}, {}
    for name, banned in AGENT_LAYERS.items():
        ok = ~cells["cls"].isin(list(banned)).to_numpy()
        ids = set(cells.loc[ok, "id"])
        ln = [lk for lk in links if lk[0] in ids and lk[1] in ids]
        prefix = name[0]
        layers[name] = _layer(cells[ok], ln, prefix, name.removesuffix("Layer").lower(), vertices, geom)
        kept[name] = ids
    a, b = list(AGENT_LAYERS)
    conns = [{"type": "InterLayerConnection", "connectedLayer1": a, "connectedLayer2": b,
              "connectedCell1": f"{a[0]}C{c}", "connectedCell2": f"{b[0]}C{c}",
              "connectedNode1": f"{a[0]}N{c}", "connectedNode2": f"{b[0]}N{c}", "typeOfTopoExpression": "EQUALS"}
             for c in cells["id"] if c in kept[a] and c in kept[b]]
    return {"type": "IndoorJSON2", "version": "0.1", "layers": layers, "layerConnections": conns,
            "vertices": vertices}
