"""Virtual excavation: pipes at exactly known positions, bad inputs, and the sample district
against a plain brute-force computation."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.datasets import get_path
from geo3d.errors import CRSError, Geo3DError, InputError
from geo3d.io.raster import read_dem
from geo3d.underground import pipes_to_3d, read_pipes
from geo3d.underground.excavation import (
    _STR_COLS,
    CSV_COLUMNS,
    _clip_to_box,
    _closest_param,
    _edges,
    _EdgeSet,
    _frame,
    build_index,
    excavate,
)
from geo3d.underground.rules import _segment_distance

CRS = "EPSG:5186"
GROUND = 30.0
PIT = shapely.box(0, 0, 4, 4)          # floor at 27.5 with depth 2.5


def frame(rows):
    """rows: (id, utility, diameter_mm, coords3d, extra dict)."""
    data = {"source_id": [r[0] for r in rows], "utility": [r[1] for r in rows],
            "diameter_mm": [r[2] for r in rows], "source_layer": ["T"] * len(rows)}
    extra_cols = sorted({k for r in rows for k in (r[4] if len(r) > 4 else {})})
    for c in extra_cols:
        data[c] = [(r[4] if len(r) > 4 else {}).get(c) for r in rows]
    return gpd.GeoDataFrame(data, geometry=[shapely.LineString(r[3]) for r in rows], crs=CRS)


def by_id(ex):
    return ex.candidates.set_index("source_id")


def test_surface_just_inside_and_just_outside():
    pipes = frame([
        ("in", "water", 200.0, [(4.09, -10, 29.0), (4.09, 10, 29.0)]),   # surface 0.01 inside
        ("out", "water", 200.0, [(4.12, -10, 29.0), (4.12, 10, 29.0)]),  # surface 0.02 outside
    ])
    ex = excavate(pipes, PIT, depth=2.5, ground=GROUND)
    c = by_id(ex)
    assert c.loc["in", "reached"] and not c.loc["out", "reached"]
    assert c.loc["in", "clearance_m"] == pytest.approx(-0.01, abs=1e-6)
    assert c.loc["out", "clearance_m"] == pytest.approx(0.02, abs=1e-6)
    # reached by its side only: the centreline stays outside the pit
    assert c.loc["in", "exposed_length_m"] == 0
    assert c.loc["out", "exposed_length_m"] == 0
    assert ex.conflicts["source_id"].tolist() == ["in"]
    assert list(ex.conflicts.columns[: len(CSV_COLUMNS)]) == list(CSV_COLUMNS)


def test_below_floor_vertical_gap_and_diagonal():
    pipes = frame([
        ("below", "sewer", 400.0, [(-5, 1, 27.0), (5, 1, 27.0)]),        # top 27.2, floor 27.5
        ("diag", "sewer", 400.0, [(5.2, -5, 27.0), (5.2, 5, 27.0)]),     # 1.0 m beyond the wall
    ])
    c = by_id(excavate(pipes, PIT, depth=2.5, ground=GROUND))
    assert c.loc["below", "clearance_m"] == pytest.approx(0.3, abs=1e-6)
    assert not c.loc["below", "reached"]
    assert c.loc["diag", "clearance_m"] == pytest.approx(math.hypot(1.0, 0.3), abs=1e-3)


def test_touching_the_floor_is_reached_with_zero_clearance():
    pipes = frame([("touch", "gas", 100.0, [(-5, 1, 27.45), (5, 1, 27.45)])])
    c = by_id(excavate(pipes, PIT, depth=2.5, ground=GROUND))
    assert c.loc["touch", "reached"]
    assert c.loc["touch", "clearance_m"] == pytest.approx(0.0, abs=1e-6)


def test_pipe_along_the_wall_and_ending_inside():
    pipes = frame([
        ("wall", "telecom", 100.0, [(4.0, -10, 29.0), (4.0, 10, 29.0)]),
        ("end", "power", 100.0, [(2.0, -10, 29.0), (2.0, 2.0, 29.0)]),
    ])
    c = by_id(excavate(pipes, PIT, depth=2.5, ground=GROUND))
    assert c.loc["wall", "clearance_m"] == pytest.approx(-0.05, abs=1e-6)
    assert c.loc["wall", "exposed_length_m"] == pytest.approx(4.0, abs=2e-3)
    assert c.loc["end", "reached"]
    assert c.loc["end", "exposed_length_m"] == pytest.approx(2.0, abs=2e-3)


def test_concave_pit_notch_is_not_reached():
    ell = shapely.Polygon([(0, 0), (6, 0), (6, 2), (2, 2), (2, 6), (0, 6)])
    line = [(2.5, 5.0, 29.0), (5.0, 2.5, 29.0)]
    assert shapely.convex_hull(ell).intersects(shapely.LineString(line))  # a hull would hit it
    pipes = frame([("notch", "water", 200.0, line),
                   ("arm", "water", 200.0, [(1.0, -3, 29.0), (1.0, 9, 29.0)])])
    c = by_id(excavate(pipes, ell, depth=2.5, ground=GROUND))
    assert not c.loc["notch", "reached"]
    expected = shapely.distance(shapely.LineString([p[:2] for p in line]), ell) - 0.1
    assert c.loc["notch", "clearance_m"] == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.4)
    assert c.loc["arm", "reached"]
    assert c.loc["arm", "exposed_length_m"] == pytest.approx(6.0, abs=2e-3)


def test_trench_with_side_slope():
    # 20 m trench, 1 m wide, 2 m deep (floor 28), walls 1:0.5 → half width 0.5 + 0.5 u
    line = shapely.LineString([(0, 0), (20, 0)])
    pipes = frame([
        ("near", "gas", 100.0, [(-5, 1.2, 29.0), (25, 1.2, 29.0)], {"pressure": "low"}),
        ("hit", "gas", 100.0, [(-5, 1.0, 29.0), (25, 1.0, 29.0)], {"pressure": "low"}),
    ])
    ex = excavate(pipes, line, trench=1.0, depth=2.0, ground=GROUND, side_slope=0.5)
    c = by_id(ex)
    # (rho, h) = (0.65, 1.05) against the slope rho = 0.5 h
    assert c.loc["near", "clearance_m"] == pytest.approx((0.65 - 0.525) / math.sqrt(1.25), abs=1e-3)
    assert not c.loc["near", "reached"]
    assert c.loc["hit", "reached"]
    # the centreline (centre 1 m above the floor) is inside the outline at its height
    # (half width 0.5 + 0.5 * 1) over the trench's 20 m
    assert c.loc["hit", "exposed_length_m"] == pytest.approx(20.0, abs=5e-3)
    # both are within 1 m of the top outline (half width 0.5 + 0.5 * 2 = 1.5)
    assert c["in_hand_dig_band"].all()
    assert ex.pit.volume_m3() == pytest.approx(
        np.trapezoid([shapely.buffer(shapely.buffer(line, 0.5, cap_style="flat"), 0.5 * u).area
                      for u in np.linspace(0, 2, 201)], dx=0.01), rel=1e-3)
    # vertical walls: the same pipe is then far outside
    c0 = by_id(excavate(pipes, line, trench=1.0, depth=2.0, ground=GROUND))
    assert c0.loc["hit", "clearance_m"] == pytest.approx(0.45, abs=1e-3)


def test_depth_unknown_pipes_use_default_cover_and_are_flagged():
    pipes = gpd.GeoDataFrame(
        {"utility": ["water", "water"], "source_id": ["known", "unknown"],
         "source_layer": ["WTL_PIPE_LM"] * 2, "diameter_mm": [200.0, 200.0],
         "depth_m": [1.0, None], "depth_reference": ["top", "top"], "depth_kind": ["cover", "cover"]},
        geometry=[shapely.LineString([(-5, 1), (5, 1)]),
                  shapely.LineString([(-5, 3), (5, 3)])], crs=CRS)
    ex = excavate(pipes, PIT, depth=2.5, ground=GROUND)
    c = ex.conflicts.set_index("source_id")
    assert bool(c.loc["unknown", "depth_assumed"]) and not bool(c.loc["known", "depth_assumed"])
    assert c.loc["unknown", "depth_m"] == pytest.approx(1.2, abs=1e-6)   # water default cover
    assert c.loc["known", "depth_m"] == pytest.approx(1.0, abs=1e-6)
    assert c.loc["known", "violations"] == "KR-WATER-COVER-D900"          # 1.0 < 1.2 m
    assert c.loc["unknown", "violations"] == ""
    assert ex.summary["depth_assumed"] == 1
    assert any("default cover" in n for n in ex.summary["notes"])


def test_uncertainty_grows_the_envelope():
    pipes = frame([("p", "gas", 100.0, [(4.35, -5, 29.0), (4.35, 5, 29.0)])])   # 0.3 m outside
    assert not by_id(excavate(pipes, PIT, depth=2.5, ground=GROUND)).loc["p", "reached"]
    c = by_id(excavate(pipes, PIT, depth=2.5, ground=GROUND, uncertainty_default=0.457))
    assert c.loc["p", "reached"]
    assert c.loc["p", "clearance_m"] == pytest.approx(0.3 - 0.457, abs=1e-6)
    stated = pipes.assign(accuracy_h_m=0.1)      # a stated accuracy wins over the default
    c = by_id(excavate(stated, PIT, depth=2.5, ground=GROUND, uncertainty_default=0.457))
    assert c.loc["p", "clearance_m"] == pytest.approx(0.2, abs=1e-6)


def test_box_duct_uses_width_and_height():
    pipes = frame([("box", "power", None, [(4.3, -5, 29.0), (4.3, 5, 29.0)],
                    {"width_mm": 800.0, "height_mm": 400.0})])
    c = by_id(excavate(pipes, PIT, depth=2.5, ground=GROUND))
    assert c.loc["box", "clearance_m"] == pytest.approx(-0.1, abs=1e-6)


def test_gas_agreement_verdict():
    gas = frame([("mp", "gas", 200.0, [(-5, 0.5, 29.0), (30, 0.5, 29.0)], {"pressure": "medium"})])
    ex = excavate(gas, shapely.box(0, 0, 12, 1), depth=2.0, ground=GROUND)
    assert ex.verdict == "gas agreement required"
    assert ex.summary["gas_medium_high_exposed_m"] >= 12.0
    assert any("KR-GAS-AGREE-EXPOSED" in a for a in ex.summary["agreements"])
    low = gas.assign(pressure="low")
    ex = excavate(low, shapely.box(0, 0, 12, 1), depth=2.0, ground=GROUND)
    assert ex.verdict == "notify utilities"
    assert ex.summary["utilities_to_notify"] == ["gas"]


def test_bottom_elevation_equals_depth_and_index_reuse():
    pipes = frame([("a", "water", 200.0, [(-5, 1, 27.65), (5, 1, 27.65)])])
    a = excavate(pipes, PIT, depth=2.5, ground=GROUND)
    b = excavate(build_index(pipes), PIT, bottom_elevation=27.5)
    assert a.conflicts["clearance_m"].tolist() == b.conflicts["clearance_m"].tolist()


def test_pit_outside_the_pipes_says_so():
    pipes = frame([("a", "water", 200.0, [(-5, 1, 28.0), (5, 1, 28.0)])])
    ex = excavate(pipes, shapely.box(1000, 1000, 1004, 1004), depth=2.0, ground=GROUND)
    assert len(ex.conflicts) == 0
    assert ex.verdict == "no utilities reached"
    assert any("outside the pipes' extent" in n for n in ex.summary["notes"])


@pytest.mark.parametrize("pit, kwargs, match", [
    (shapely.Point(0, 0), {"depth": 2.0}, "must be a Polygon"),
    (shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]), {"depth": 2.0}, "invalid"),
    (shapely.Polygon(), {"depth": 2.0}, "empty"),
    (PIT, {"depth": 0.0}, "positive"),
    (PIT, {"depth": -1.0}, "positive"),
    (PIT, {}, "needs a depth"),
    (PIT, {"depth": 2.0, "bottom_elevation": 25.0}, "not both"),
    (shapely.LineString([(0, 0), (5, 0)]), {"depth": 2.0, "trench": 0.0}, "trench"),
])
def test_bad_pits(pit, kwargs, match):
    pipes = frame([("a", "water", 200.0, [(-5, 1, 28.0), (5, 1, 28.0)])])
    with pytest.raises(InputError, match=match) as info:
        excavate(pipes, pit, ground=GROUND, **kwargs)
    assert isinstance(info.value, Geo3DError)
    assert "\n" not in str(info.value)


def test_crs_mismatch_and_no_z():
    pipes = frame([("a", "water", 200.0, [(-5, 1, 28.0), (5, 1, 28.0)])])
    pit = gpd.GeoDataFrame(geometry=[PIT], crs="EPSG:5174")
    with pytest.raises(CRSError, match="reproject"):
        excavate(pipes, pit, depth=2.0, ground=GROUND)
    flat = pipes.set_geometry(shapely.force_2d(pipes.geometry.to_numpy())).set_crs(CRS,
                                                                                   allow_override=True)
    with pytest.raises(InputError, match="no z"):
        excavate(flat, PIT, depth=2.0)
    with pytest.raises(InputError, match="ground"):
        excavate(pipes, PIT, depth=2.0)   # 3D pipes, but no ground for the depth


def test_inputs_not_mutated():
    pipes = frame([("a", "water", 200.0, [(-5, 1, 28.0), (5, 1, 28.0)])])
    before = pipes.copy()
    excavate(pipes, PIT, depth=2.5, ground=GROUND)
    pd.testing.assert_frame_equal(pipes, before)


# ---------------------------------------------------------------------------------------------
# the sample district against a plain brute-force computation
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def district():
    pipes = read_pipes(get_path("utilities"))
    dem = read_dem(get_path("dem"))
    return pipes_to_3d(pipes, dem), dem, gpd.read_file(get_path("pit"))


def brute_force(pipes3d, floor, floor_z, step=0.01):
    """Per pipe: sample the centreline every `step` m; a sample reaches the pit when it lies
    within the floor polygon buffered by the half width (shapely buffer) and the top of the
    pipe is above the floor; it is exposed when the centreline itself lies in the floor polygon
    with the top of the pipe above the floor. Exposed = length between consecutive exposed
    samples; clearance (outside) = min sqrt(plan gap^2 + vertical gap^2)."""
    out = {}
    d = pipes3d["diameter_mm"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    w = pipes3d["width_mm"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    h = pipes3d["height_mm"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    box = ~np.isnan(w) & ~np.isnan(h)
    a_all = np.nan_to_num(np.where(box, w, d)) / 2000
    b_all = np.nan_to_num(np.where(box, h, d)) / 2000
    near = np.flatnonzero(pipes3d.distance(floor).to_numpy() < 3.0)
    for k in near:   # plain per-pipe loop: this is the reference, not the implementation
        line = pipes3d.geometry.iloc[k]
        dense = shapely.segmentize(line, step)
        xyz = np.asarray(dense.coords)
        a, b = a_all[k], b_all[k]
        grown = floor.buffer(a, quad_segs=256)
        inside_plan = shapely.contains_xy(grown, xyz[:, 0], xyz[:, 1]) | (
            shapely.distance(shapely.points(xyz[:, :2]), grown) < 1e-9)
        above = xyz[:, 2] + b >= floor_z
        inside = inside_plan & above
        centre_in = (shapely.contains_xy(floor, xyz[:, 0], xyz[:, 1])
                     | (shapely.distance(shapely.points(xyz[:, :2]), floor) < 1e-9)) & above
        seg = np.linalg.norm(np.diff(xyz, axis=0), axis=1)
        exposed = float(seg[centre_in[1:] & centre_in[:-1]].sum())
        plan_gap = np.maximum(shapely.distance(shapely.points(xyz[:, :2]), floor) - a, 0)
        vert_gap = np.maximum(floor_z - (xyz[:, 2] + b), 0)
        clearance = float(np.min(np.hypot(plan_gap, vert_gap)))
        out[pipes3d["source_id"].iloc[k]] = (bool(inside.any()), exposed, clearance)
    return out


def test_sample_district_matches_brute_force(district):
    pipes3d, dem, pit = district
    ex = excavate(pipes3d, pit, dem=dem)
    floor = pit.geometry.iloc[0]
    ref = brute_force(pipes3d, floor, ex.pit.floor_z)
    reached = {k for k, v in ref.items() if v[0]}
    assert set(ex.conflicts["source_id"]) == reached
    assert len(reached) >= 5
    c = ex.candidates.set_index("source_id")
    for sid, (_, exposed, clearance) in ref.items():
        if sid not in c.index:
            assert clearance > 1.0
            continue
        assert c.loc[sid, "exposed_length_m"] == pytest.approx(exposed, abs=0.03), sid
        if clearance > 0:
            assert c.loc[sid, "clearance_m"] == pytest.approx(clearance, abs=0.005), sid
        else:
            assert c.loc[sid, "clearance_m"] <= 1e-6
    assert ex.summary["reached_by_utility"].get("gas", 0) >= 1


def test_strtree_and_scan_agree(district):
    pipes3d, dem, pit = district
    index = build_index(pipes3d)
    a = excavate(index, pit, dem=dem)
    b = excavate(index, pit, dem=dem, search="scan")
    pd.testing.assert_frame_equal(a.candidates.drop(columns="geometry"),
                                  b.candidates.drop(columns="geometry"))
    # a 2D frame + DEM gives the same answer as the 3D frame
    c = excavate(read_pipes(get_path("utilities")), pit, dem=dem)
    pd.testing.assert_frame_equal(a.conflicts.drop(columns="geometry"),
                                  c.conflicts.drop(columns="geometry"))


# ---------------------------------------------------------------------------------------------
# the fast kernels and tables against their plain definitions
# ---------------------------------------------------------------------------------------------
def test_edge_set_distance_matches_shapely():
    rng = np.random.default_rng(3)
    # projected coordinates far from the origin (as in EPSG:5186), a concave outline, a hole
    x0, y0 = 203431.77, 553228.34
    ring = [(0, 0), (8, 0), (8, 3), (3, 3), (3, 8.5), (0, 8)]
    poly = shapely.Polygon([(x0 + a, y0 + b) for a, b in ring],
                           [[(x0 + 1, y0 + 1), (x0 + 2, y0 + 1), (x0 + 2, y0 + 2), (x0 + 1, y0 + 2)]])
    x, y = x0 + rng.uniform(-3, 11, 2000), y0 + rng.uniform(-3, 11, 2000)
    # rays through vertices, points on the boundary and a hair inside and outside it
    vy = y0 + np.array([0, 3, 8, 8.5, 1, 2], dtype=float)
    bx = x0 + np.array([4.0, 8.0, 3.0, 5.5, 1.5, 0.0])
    by = y0 + np.array([0.0, 1.5, 5.0, 3.0, 1.0, 4.0])
    x = np.concatenate([x, x0 + rng.uniform(-3, 11, 6), bx, bx, bx, bx + 1e-6, bx - 1e-6])
    y = np.concatenate([y, vy, by, by + 1e-9, by - 1e-9, by, by])
    e0, e1 = _edges(poly)
    edges = _EdgeSet(poly, e0, e1)
    got = edges.signed_distance(x, y)
    pts = shapely.points(x, y)
    inside = shapely.contains(poly, pts)
    want = shapely.distance(pts, poly.boundary) * np.where(inside, -1, 1)
    np.testing.assert_allclose(got, want, atol=1e-9)
    np.testing.assert_array_equal(got < 0, inside)   # the sign exactly as GEOS
    few = slice(len(x) - 12, len(x))   # a handful of points take another path
    np.testing.assert_array_equal(edges.signed_distance(x[few], y[few]), got[few])
    assert inside.sum() > 300


def test_clip_to_box_and_closest_param():
    p0 = np.array([[-5.0, 1.0, 0], [1.0, -5.0, 0], [1.0, 20.0, 0], [20.0, 1.0, 0], [0.5, 0.5, 0]])
    p1 = np.array([[5.0, 1.0, 0], [1.0, 5.0, 0], [1.0, 30.0, 0], [30.0, 9.0, 0], [3.5, 2.5, 0]])
    t0, t1 = _clip_to_box(p0, p1, (0.0, 0.0, 4.0, 4.0))
    np.testing.assert_allclose(t0[[0, 1, 4]], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(t1[[0, 1, 4]], [0.9, 0.9, 1.0])
    assert (t1[[2, 3]] < t0[[2, 3]]).all()   # the two that miss the box
    rng = np.random.default_rng(5)
    a, b, c, d = (rng.uniform(-5, 5, (300, 2)) for _ in range(4))
    a[:10] = b[:10]   # degenerate segments (points)
    c[10:20] = d[10:20]
    si, ei = np.repeat(np.arange(300), 40), np.tile(np.arange(40), 300)
    _, s_ref, _ = _segment_distance(a[si], b[si], c[ei], d[ei])
    np.testing.assert_array_equal(_closest_param(a, b - a, c[:40], d[:40] - c[:40]).ravel(),
                                  s_ref)


def test_tables_keep_dtypes_of_pandas_inference():
    cols = {"source_layer": np.array(["A", None, "C"], dtype=object),
            "source_id": np.array(["1", "2", None], dtype=object),
            "utility": np.array(["water", "gas", "sewer"], dtype=object),
            "violations": np.array(["", "X", ""], dtype=object),
            "agency": np.array([None, None, None], dtype=object),
            "pressure": np.array([None, "low", pd.NA], dtype=object),
            "depth_source": np.array(["measured", "assumed", "measured"], dtype=object),
            "diameter_mm": np.array([100.0, np.nan, 2.0])}
    geoms = np.array([shapely.LineString([(0, 0, 1), (1, 1, 1)])] * 3, dtype=object)
    fast = _frame(cols, geoms, CRS, frozenset(_STR_COLS))
    plain = _frame(cols, geoms, CRS)
    pd.testing.assert_frame_equal(fast, plain)
    assert all(str(fast[c].dtype) == "str" for c in _STR_COLS)
    mixed = dict(cols, source_id=np.array([1, "2", None], dtype=object))   # not text: inferred
    pd.testing.assert_frame_equal(_frame(mixed, geoms, CRS, frozenset(_STR_COLS) - {"source_id"}),
                                  _frame(mixed, geoms, CRS))


def test_conflicts_are_the_reached_candidates(district):
    pipes3d, dem, pit = district
    ex = excavate(build_index(pipes3d), pit, dem=dem)
    cand = ex.candidates
    want = cand[cand["reached"]].drop(columns="reached").reset_index(drop=True)
    pd.testing.assert_frame_equal(ex.conflicts, want)
    assert ex.summary["reached"] == len(ex.conflicts) >= 5


def test_cover_rules_taken_with_the_index_match_the_rules_applied_per_query(district):
    """The default minimum covers are worked out for every pipe by build_index; a query with
    another rules table (here the shipped one, loaded anew) or options applies them itself."""
    from geo3d.underground.rules import _compile, load_rules

    pipes3d, dem, pit = district
    index = build_index(pipes3d)
    assert index.cover is not None and index.cover[0] is _compile(None)   # queries take it
    fast = excavate(index, pit, dem=dem)
    slow = excavate(index, pit, dem=dem, rules=load_rules().copy())
    pd.testing.assert_frame_equal(fast.candidates, slow.candidates)
    # a gas main 1.1 m under the road: too shallow for a wide road (1.2 m), enough for a
    # 4-8 m one (1.0 m); the option changes the answer of the same index
    gas = frame([("g", "gas", 200.0, [(-5, 2, GROUND - 1.1 - 0.1), (10, 2, GROUND - 1.1 - 0.1)])])
    gas["road_width_m"] = 20.0
    idx = build_index(gas)
    wide = excavate(idx, PIT, depth=2.5, ground=GROUND)
    narrow = excavate(idx, PIT, depth=2.5, ground=GROUND, road_width=5.0)
    assert wide.conflicts["violations"].iloc[0] != ""
    assert narrow.conflicts["violations"].iloc[0] == ""
    assert wide.conflicts["depth_m"].iloc[0] == pytest.approx(1.1)


# ---------------------------------------------------------------------------------------------
# exposed length = centreline inside the pit, against shapely (issue 16)
# ---------------------------------------------------------------------------------------------
def length_3d(geom):
    """3D length of a (Multi)LineString Z from its coordinates (shapely.length is 2D)."""
    total = 0.0
    for part in shapely.get_parts(geom):
        xyz = shapely.get_coordinates(part, include_z=True)
        total += float(np.linalg.norm(np.diff(xyz, axis=0), axis=1).sum())
    return total


def inside_length(line3d, poly):
    """The independent check: shapely's intersection of the centreline with the pit outline,
    its z interpolated by GEOS, measured in 3D."""
    return length_3d(shapely.intersection(line3d, poly))


def test_issue_cases_exposed_is_the_centreline_inside():
    ell = shapely.Polygon([(0, 0), (10, 0), (10, 4), (3, 4), (3, 10), (0, 10)])
    pipes = frame([
        ("main300", "water", 300.0, [(-5, 1.0, 28.35), (25, 1.0, 28.35)]),      # across 20 m pit
        ("main150", "water", 150.0, [(-2, 7.0, 28.7), (5.0, 7.0, 28.7)]),        # L pit
        ("heat850", "heat", 850.0, [(1.0, -3, 27.9), (1.0, 3.0, 27.9)]),         # ends inside
    ])
    c20 = by_id(excavate(pipes, shapely.box(0, -1, 20, 3), depth=2.5, ground=GROUND))
    assert c20.loc["main300", "exposed_length_m"] == pytest.approx(20.0, abs=1e-3)
    assert c20.loc["heat850", "exposed_length_m"] == pytest.approx(4.0, abs=1e-3)
    # a straight main through the L's two arms and its notch: 3 m in the upright arm only
    cl = by_id(excavate(pipes, ell, depth=2.5, ground=GROUND))
    assert cl.loc["main150", "exposed_length_m"] == pytest.approx(3.0, abs=1e-3)
    # a 850 mm main 6.0 m inside a rectangle (centre below the floor, top above it)
    heat = frame([("h", "heat", 850.0, [(-4, 2.0, 27.2), (6.0, 2.0, 27.2)])])
    ch = by_id(excavate(heat, shapely.box(0, 0, 8, 4), depth=2.5, ground=GROUND))
    assert ch.loc["h", "reached"]
    assert ch.loc["h", "exposed_length_m"] == pytest.approx(6.0, abs=1e-3)


def test_barely_reached_pipe_has_a_reach_and_no_exposed_length():
    # 300 mm main whose centreline runs 0.149 m outside the wall: its side reaches 1 mm in
    pipes = frame([("graze", "water", 300.0, [(4.149, -10, 28.8), (4.149, 10, 28.8)]),
                   ("miss", "water", 300.0, [(4.151, -10, 28.8), (4.151, 10, 28.8)])])
    ex = excavate(pipes, PIT, depth=2.5, ground=GROUND)
    c = by_id(ex)
    assert c.loc["graze", "reached"] and not c.loc["miss", "reached"]
    assert c.loc["graze", "clearance_m"] == pytest.approx(-0.001, abs=1e-6)
    assert c.loc["miss", "clearance_m"] == pytest.approx(0.001, abs=1e-6)
    assert c.loc["graze", "exposed_length_m"] == 0
    assert ex.conflicts["source_id"].tolist() == ["graze"]


def test_depth_source_says_measured_or_assumed(tmp_path):
    pipes = gpd.GeoDataFrame(
        {"source_id": ["known", "unknown"], "utility": ["water", "water"],
         "diameter_mm": [200.0, 200.0], "depth_m": [1.0, np.nan],
         "depth_reference": ["top", "top"], "depth_kind": ["cover", "cover"]},
        geometry=[shapely.LineString([(-5, 1), (9, 1)]), shapely.LineString([(-5, 3), (9, 3)])],
        crs=CRS)
    ex = excavate(pipes, PIT, depth=2.5, ground=GROUND)
    c = ex.conflicts.set_index("source_id")
    assert c.loc["known", "depth_source"] == "measured"
    assert c.loc["unknown", "depth_source"] == "assumed"
    assert c.loc["known", "depth_m"] == pytest.approx(1.0)
    ex.to_csv(tmp_path / "c.csv")
    table = pd.read_csv(tmp_path / "c.csv")
    assert list(table.columns) == list(CSV_COLUMNS)
    assert table.set_index("source_id").loc["unknown", "depth_source"] == "assumed"


def star_polygon(radii, phase):
    ang = phase + np.linspace(0, 2 * np.pi, len(radii), endpoint=False)
    return shapely.Polygon(np.column_stack([5 + np.asarray(radii) * np.cos(ang),
                                            5 + np.asarray(radii) * np.sin(ang)]))


@pytest.mark.parametrize("seed", range(2))
def test_exposed_matches_shapely_on_concave_pits_at_angles(seed):
    """Random star-shaped (mostly concave) pits, straight and bent pipes at random angles and
    slopes, all above the floor: exposed length = 3D length of shapely.intersection."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=30, deadline=None, derandomize=True, database=None)
    @given(radii=st.lists(st.floats(1.0, 6.0), min_size=5, max_size=12),
           phase=st.floats(0, 6.28), angle=st.floats(0, 3.14159), offset=st.floats(-5, 5),
           bend=st.floats(-3, 3), z0=st.floats(28.0, 29.5), z1=st.floats(28.0, 29.5),
           dia=st.sampled_from([50.0, 150.0, 300.0, 850.0]))
    def check(radii, phase, angle, offset, bend, z0, z1, dia):
        poly = star_polygon(radii, phase + seed)
        if not poly.is_valid:
            return
        d = np.array([np.cos(angle), np.sin(angle)])
        n = np.array([-d[1], d[0]])
        c = np.array([5.0, 5.0]) + offset * n
        pts = [(*(c - 12 * d), z0), (*(c + bend * n), (z0 + z1) / 2), (*(c + 12 * d), z1)]
        pipes = frame([("p", "water", dia, pts)])
        line = shapely.LineString(pts)
        ex = excavate(pipes, poly, depth=2.5, ground=GROUND)
        want = inside_length(line, poly)
        cand = by_id(ex)
        got = float(cand.loc["p", "exposed_length_m"]) if "p" in cand.index else 0.0
        assert got == pytest.approx(want, abs=2e-3)
        if want > 0:
            assert bool(cand.loc["p", "reached"])

    check()


def test_bow_tie_pit_is_refused_by_excavate_and_section_alike():
    from geo3d.errors import cli_text
    from geo3d.underground.section import cross_section

    bow = shapely.Polygon([(0, 0), (4, 4), (4, 0), (0, 4)])
    pipes = gpd.GeoDataFrame(
        {"utility": ["water"], "diameter_mm": [200.0], "depth_m": [1.0],
         "depth_reference": ["top"], "depth_kind": ["cover"]},
        geometry=[shapely.LineString([(-5, 2), (9, 2)])], crs=CRS)
    with pytest.raises(InputError, match="bow-tie") as e1:
        excavate(pipes, bow, depth=2.0, ground=GROUND)
    with pytest.raises(InputError, match="bow-tie") as e2:
        cross_section(pipes, [(2, -3), (2, 8)], pit=bow, pit_depth=2.0, ground=GROUND)
    assert str(e1.value) == str(e2.value)
    assert "--pit" in cli_text(e1.value) and "make_valid" not in cli_text(e1.value)


def test_structures_in_and_near_the_pit_are_listed():
    pipes = frame([("w", "water", 200.0, [(-5, 1, 29.0), (9, 1, 29.0)])])
    st = gpd.GeoDataFrame(
        {"utility": ["sewer", "water", "gas", "water"], "kind": ["manhole", "valve", "valve", "hydrant"],
         "structure_id": ["MH1", "V1", "G1", "H1"],
         "source_layer": ["SWL_MANH_PS", "WTL_VALV_PS", "UFL_GVAL_PS", "WTL_FIRE_PS"],
         "depth_m": [2.4, 1.1, None, None]},
        geometry=[shapely.Point(2, 2), shapely.Point(3.5, 0.5), shapely.Point(4.6, 2),
                  shapely.Point(20, 20)], crs=CRS)
    ex = excavate(pipes, PIT, depth=2.5, ground=GROUND, structures=st)
    s = ex.structures
    assert s["structure_id"].tolist() == ["MH1", "V1", "G1"]   # nearest first; H1 far away
    assert s["inside"].tolist() == [True, True, False]
    assert s["distance_m"].tolist() == pytest.approx([-2.0, -0.5, 0.6])
    summ = ex.summary["structures"]
    assert (summ["inside"], summ["near"], summ["inside_by_kind"]) == (
        2, 1, {"manhole": 1, "valve": 1})
    assert [r["structure_id"] for r in summ["listed"]] == ["MH1", "V1", "G1"]
    assert any("2 structure(s) in the pit" in n for n in ex.summary["notes"])
    with pytest.raises(CRSError):
        excavate(pipes, PIT, depth=2.5, ground=GROUND, structures=st.set_crs(3857, allow_override=True))
