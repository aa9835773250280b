"""Cross-sections: crossings, elevations, profiles and rule checks.

The sample-district test recomputes every crossing independently, straight from the raw UIS
layers (plain shapely per feature, the analytic ground surface behind the DEM and the layer's
own cover fields) and checks chainage and elevations to 1 cm.
"""

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from affine import Affine

import geo3d
from geo3d.datasets.underground import ground_elevation
from geo3d.errors import CRSError, Geo3DError, InputError
from geo3d.io.raster import Dem, read_dem
from geo3d.underground import pipes_to_3d, read_pipes
from geo3d.underground.section import (
    CSV_COLUMNS,
    Section,
    as_line,
    cross_section,
    section_lines,
    sections_along,
)

CRS = "EPSG:5186"


@pytest.fixture(scope="module")
def sample():
    pipes = read_pipes(geo3d.datasets.get_path("utilities"))
    dem = read_dem(geo3d.datasets.get_path("dem"))
    line = gpd.read_file(geo3d.datasets.get_path("section_line"))
    roads = gpd.read_file(geo3d.datasets.get_path("road"))
    return pipes, dem, line, roads


def flat_dem(z=30.0, size=40):
    return Dem(np.full((size, size), z), Affine(1, 0, 0, 0, -1, size), CRS)


def pipes_frame(rows, geoms):
    base = {"depth_reference": "top", "depth_kind": "cover"}
    data = {k: [r.get(k, base.get(k)) for r in rows] for k in
            {*base, *(k for r in rows for k in r)}}
    return gpd.GeoDataFrame(data, geometry=geoms, crs=CRS)


# --------------------------------------------------------------------------------------------
# independent computation on the sample district
# --------------------------------------------------------------------------------------------
def _height(layer, row):
    if layer == "SWL_PIPE_LM" and row["std_vel"] and row["std_vel"] > 0:
        return row["std_vel"] / 1000.0
    size = str(row["pip_dip"] if layer == "WTL_PIPE_LM" else row["std_dip"])
    if "\\" in size:
        return float(size.split("\\")[1]) / 1000.0
    return float(size) / 1000.0


def _cover(layer, row, frac):
    if layer == "WTL_PIPE_LM":
        lo, hi = row["low_dep"], row["hgh_dep"]
        if lo == 0 and hi == 0:
            return None
        return (lo + hi) / 2 if lo and hi else (lo or hi)
    if layer == "SWL_PIPE_LM":
        b, e = row["beg_dep"], row["end_dep"]
        if b == 0 and e == 0:
            return None
        b = b or e
        e = e or b
        return b + (e - b) * frac
    return row["std_dep"] or None


def independent_crossings(line):
    path = geo3d.datasets.get_path("utilities")
    out = []
    for layer, _ in pyogrio.list_layers(path):
        raw = pyogrio.read_dataframe(path, layer=layer, bbox=line.buffer(1).bounds)
        for _, row in raw.iterrows():  # plain per-pipe computation
            inter = line.intersection(row.geometry)
            pts = [inter] if inter.geom_type == "Point" else (
                list(inter.geoms) if inter.geom_type == "MultiPoint" else [])
            for pt in pts:
                frac = row.geometry.project(pt) / row.geometry.length
                cover = _cover(layer, row, frac)
                h = _height(layer, row)
                ground = float(ground_elevation(np.array([pt.x]), np.array([pt.y]))[0])
                centre = None if cover is None else ground - cover - h / 2
                out.append({"source_id": str(row["ftr_idn"]), "chainage": line.project(pt),
                            "centre": centre, "cover": cover})
    return out


def test_sample_section_matches_independent_computation(sample):
    pipes, dem, line_gdf, _ = sample
    line = line_gdf.geometry.iloc[0]
    sec = cross_section(pipes, line_gdf, ground=dem)
    truth = independent_crossings(line)
    assert len(truth) >= 6
    cr = sec.crossings
    assert len(cr) == len(truth)
    assert set(cr["utility"]) == {"water", "sewer", "power", "telecom", "gas", "heat"}
    for t in truth:
        row = cr[cr["source_id"] == t["source_id"]]
        assert len(row) == 1
        row = row.iloc[0]
        assert abs(row["chainage_m"] - t["chainage"]) < 0.01
        if t["centre"] is None:
            assert row["depth_assumed"]
            continue
        assert abs(row["centre_z"] - t["centre"]) < 0.01
        assert abs(row["cover_m"] - t["cover"]) < 0.01


@pytest.mark.slow
def test_atlas_cuts_match_independent_computation(sample):
    pipes, dem, _, roads = sample
    road = roads[roads["road_name"] == "고산자로"]
    cuts = section_lines(road, step=60.0, length=30.0)
    secs = sections_along(pipes, cuts, ground=dem)
    n = 0
    for cut, sec in zip(cuts.geometry, secs, strict=True):
        truth = independent_crossings(cut)
        cr = sec.crossings[sec.crossings["kind"] == "cross"]
        for t in truth:
            row = cr[(cr["source_id"] == t["source_id"])
                     & ((cr["chainage_m"] - t["chainage"]).abs() < 0.01)]
            if row.empty:   # a near-parallel lateral shown as a band instead
                continue
            n += 1
            if t["centre"] is not None:
                assert abs(row["centre_z"].iloc[0] - t["centre"]) < 0.01
    assert n > 50


def test_sections_along_equals_one_cross_section_per_line(sample):
    """The shared work of sections_along (3D once, wells read once, key-plan geometry once)
    changes no number: each section equals cross_section on the same line."""
    pipes, dem, _, roads = sample
    road = roads[roads["road_name"] == "고산자로"]
    cuts = section_lines(road, step=150.0, length=30.0)
    wells = geo3d.datasets.get_path("boreholes")
    secs = sections_along(pipes, cuts, ground=dem, groundwater=wells)
    p3 = pipes_to_3d(pipes, dem, densify=0.5)
    for cut, sec in zip(cuts.geometry, secs, strict=True):
        one = cross_section(p3, cut, ground=dem, groundwater=wells)
        pd.testing.assert_frame_equal(sec.crossings, one.crossings)
        pd.testing.assert_frame_equal(sec.violations, one.violations)
        assert sorted(sec.nearby["utility"]) == sorted(one.nearby["utility"])
        np.testing.assert_array_equal(sec.groundwater.z, one.groundwater.z)
        assert sec.sources == one.sources
    assert sum(len(s.crossings) for s in secs) > 10


def test_table_has_the_csv_columns(sample):
    pipes, dem, line, _ = sample
    t = cross_section(pipes, line, ground=dem).table()
    assert tuple(t.columns) == CSV_COLUMNS
    assert t["chainage_m"].is_monotonic_increasing


def test_precomputed_3d_gives_the_same_numbers(sample):
    pipes, dem, line, _ = sample
    a = cross_section(pipes, line, ground=dem)
    p3 = pipes_to_3d(pipes, dem, densify=0.5)
    b = cross_section(p3, line, ground=dem)
    np.testing.assert_allclose(a.crossings["centre_z"], b.crossings["centre_z"], atol=1e-6)


# --------------------------------------------------------------------------------------------
# small inline cases
# --------------------------------------------------------------------------------------------
def test_right_angle_crossing_numbers():
    p = pipes_frame([{"utility": "water", "diameter_mm": 300.0, "depth_m": 1.2,
                      "material": "ductile_iron", "install_year": 1999, "source_id": "w1"}],
                    [shapely.LineString([(5, 0), (5, 40)])])
    sec = cross_section(p, "1,10,15,10", ground=flat_dem())
    r = sec.crossings.iloc[0]
    assert r["chainage_m"] == pytest.approx(4.0)
    assert r["centre_z"] == pytest.approx(28.65)
    assert r["top_z"] == pytest.approx(28.8)
    assert r["invert_z"] == pytest.approx(28.5)
    assert r["cover_m"] == pytest.approx(1.2)
    assert r["angle_deg"] == pytest.approx(90.0)
    assert r["draw_width_m"] == pytest.approx(0.3)
    assert len(sec.ground) >= 2 * 14
    assert np.diff(sec.ground["chainage_m"]).max() <= 0.5


def test_oblique_crossing_is_wider_along_the_section():
    # a pipe at 30° to the section line cuts it in an ellipse D / sin(30°) = 2 D wide
    d = 30.0
    p = pipes_frame([{"utility": "gas", "diameter_mm": 200.0, "depth_m": 1.2}],
                    [shapely.LineString([(0, 5), (30 * math.cos(math.radians(d)),
                                                  5 + 30 * math.sin(math.radians(d)))])])
    sec = cross_section(p, [(0, 10), (39, 10)], ground=flat_dem(), min_angle=15)
    r = sec.crossings.iloc[0]
    assert r["angle_deg"] == pytest.approx(30.0, abs=0.01)
    assert r["draw_width_m"] == pytest.approx(0.4, abs=1e-3)
    assert r["size_h_m"] == pytest.approx(0.2)


def test_box_duct_and_unknown_depth():
    p = pipes_frame([{"utility": "power", "width_mm": 500.0, "height_mm": 600.0, "depth_m": 1.0},
                     {"utility": "telecom", "diameter_mm": 100.0, "depth_m": None}],
                    [shapely.LineString([(5, 0), (5, 40)]), shapely.LineString([(8, 0), (8, 40)])])
    sec = cross_section(p, [(1, 10), (15, 10)], ground=flat_dem(), default_cover={"telecom": 0.9})
    box, tel = sec.crossings.iloc[0], sec.crossings.iloc[1]
    assert box["shape"] == "box" and box["centre_z"] == pytest.approx(28.7)
    assert tel["depth_assumed"] and tel["cover_m"] == pytest.approx(0.9)


def test_parallel_pipe_in_corridor_is_a_band():
    p = pipes_frame([{"utility": "water", "diameter_mm": 100.0, "depth_m": 1.0}],
                    [shapely.LineString([(3, 10.5), (9, 10.5)])])
    sec = cross_section(p, [(1, 10), (15, 10)], ground=flat_dem(), width=1.0)
    r = sec.crossings.iloc[0]
    assert r["kind"] == "along"
    assert r["chainage_start_m"] == pytest.approx(2.0)
    assert r["chainage_end_m"] == pytest.approx(8.0)
    assert r["offset_m"] == pytest.approx(0.5)
    # outside the corridor: not shown
    p2 = pipes_frame([{"utility": "water", "diameter_mm": 100.0, "depth_m": 1.0},
                      {"utility": "gas", "diameter_mm": 100.0, "depth_m": 1.0}],
                     [shapely.LineString([(3, 10.5), (9, 10.5)]),
                      shapely.LineString([(12, 0), (12, 40)])])
    sec2 = cross_section(p2, [(1, 10), (15, 10)], ground=flat_dem(), width=0.2)
    assert sec2.crossings["utility"].tolist() == ["gas"]


def test_cover_violation_uses_rules():
    p = pipes_frame([{"utility": "gas", "diameter_mm": 200.0, "depth_m": 0.6}],
                    [shapely.LineString([(5, 0), (5, 40)])])
    sec = cross_section(p, [(1, 10), (15, 10)], ground=flat_dem(), road_width=10.0)
    r = sec.crossings.iloc[0]
    assert r["required_cover_m"] == pytest.approx(1.2)
    assert "cover 0.60 m < 1.20 m" in r["violation"]
    assert list(sec.violations["kind"]) == ["cover"]


def test_clearance_violation_between_crossings():
    # gas and water 0.1 m apart surface to surface: below the 0.3 m separation
    p = pipes_frame([{"utility": "gas", "diameter_mm": 200.0, "depth_m": 1.3},
                     {"utility": "water", "diameter_mm": 200.0, "depth_m": 1.3},
                     {"utility": "telecom", "diameter_mm": 100.0, "depth_m": 1.0}],
                    [shapely.LineString([(5, 0), (5, 40)]), shapely.LineString([(5.3, 0), (5.3, 40)]),
                     shapely.LineString([(12, 0), (12, 40)])])
    sec = cross_section(p, [(1, 10), (15, 10)], ground=flat_dem(), road_width=10.0)
    v = sec.violations
    assert list(v["kind"]) == ["clearance"]
    assert v["value_m"].iloc[0] == pytest.approx(0.1, abs=2e-3)
    assert v["required_m"].iloc[0] == pytest.approx(0.3)
    assert sec.crossings["violation"].iloc[2] == ""
    # a user value
    assert cross_section(p, [(1, 10), (15, 10)], ground=flat_dem(), road_width=10.0,
                         clearance=0.05).violations.empty


def test_pit_in_section():
    p = pipes_frame([{"utility": "water", "diameter_mm": 300.0, "depth_m": 1.2}],
                    [shapely.LineString([(5, 0), (5, 40)])])
    pit = gpd.GeoDataFrame({"pit_id": ["P1"], "depth_m": [2.5]},
                           geometry=[shapely.box(3, 8, 7, 12)], crs=CRS)
    sec = cross_section(p, [(1, 10), (15, 10)], ground=flat_dem(), pit=pit)
    r = sec.pit.iloc[0]
    assert (r["chainage_start_m"], r["chainage_end_m"]) == pytest.approx((2.0, 6.0))
    assert r["bottom_z"] == pytest.approx(27.5)
    assert r["name"] == "P1"


def test_groundwater_on_section(sample):
    pipes, dem, line, _ = sample
    sec = cross_section(pipes, line, ground=dem,
                        groundwater=geo3d.datasets.get_path("boreholes"))
    gw = sec.groundwater
    assert gw is not None and np.isfinite(gw.z).all()
    assert len(gw.chainage_m) == len(sec.ground)
    assert gw.dates is not None
    assert "groundwater" in sec.sources


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["1,2,3", "a,b,c,d", "1,1,1,1", [(0, 0)], "1,2,3,4,5"])
def test_bad_lines(bad):
    with pytest.raises(InputError):
        as_line(bad)


def test_line_outside_the_data(sample):
    pipes, dem, _, _ = sample
    with pytest.raises(InputError, match="outside the pipes"):
        cross_section(pipes, "0,0,10,10", ground=dem)


def test_no_dem_coverage(sample):
    pipes, _, line, _ = sample
    far = Dem(np.full((10, 10), 30.0), Affine(1, 0, 0, 0, -1, 10), CRS)
    with pytest.raises(InputError, match="does not cover"):
        cross_section(pipes, line, ground=far)


def test_crs_mismatch(sample):
    pipes, dem, line, _ = sample
    with pytest.raises(CRSError):
        cross_section(pipes, line.to_crs("EPSG:5179"), ground=dem)
    with pytest.raises(Geo3DError):
        cross_section(pipes.to_crs("EPSG:4326"), line, ground=dem)


def test_empty_section_template():
    sec = Section.empty(shapely.LineString([(0, 0), (3, 4)]))
    assert sec.length_m == 5.0
    assert sec.table().empty


def test_section_lines_are_perpendicular():
    cuts = section_lines(shapely.LineString([(0, 0), (0, 100)]), step=25, length=20)
    assert cuts["station_m"].tolist() == [12.5, 37.5, 62.5, 87.5]
    c = shapely.get_coordinates(cuts.geometry.iloc[0])
    assert c.tolist() == [[-10.0, 12.5], [10.0, 12.5]]
    with pytest.raises(InputError):
        section_lines(shapely.LineString([(0, 0), (0, 100)]), step=0)


# --------------------------------------------------------------------------------------------
# sections without a DEM, groundwater column names, structures (issue 16)
# --------------------------------------------------------------------------------------------
def _two_pipes():
    return pipes_frame(
        [{"utility": "water", "diameter_mm": 300.0, "depth_m": 1.2, "source_id": "w"},
         {"utility": "gas", "diameter_mm": 100.0, "depth_m": 0.9, "source_id": "g"}],
        [shapely.LineString([(5, 0), (5, 20)]), shapely.LineString([(9, 0), (9, 20)])])


def test_section_without_dem_is_relative_to_the_ground():
    sec = cross_section(_two_pipes(), [(1, 10), (15, 10)])
    assert sec.ground_mode == "relative"
    assert "relative" in sec.sources["ground"] and "no DEM" in sec.sources["ground"]
    t = sec.table().set_index("source_id")
    assert t.loc["w", "top_z"] == pytest.approx(-1.2) and t.loc["w", "cover_m"] == pytest.approx(1.2)
    assert t.loc["w", "centre_z"] == pytest.approx(-1.35)
    assert t.loc["g", "cover_m"] == pytest.approx(0.9)
    assert np.allclose(sec.ground["z"], 0.0) and len(sec.ground)


def test_section_on_flat_ground_at_a_given_elevation():
    sec = cross_section(_two_pipes(), [(1, 10), (15, 10)], ground=31.5)
    assert sec.ground_mode == "flat" and "flat at EL 31.50" in sec.sources["ground"]
    t = sec.table().set_index("source_id")
    assert t.loc["w", "centre_z"] == pytest.approx(31.5 - 1.2 - 0.15)
    assert t.loc["w", "cover_m"] == pytest.approx(1.2)
    # the same numbers as a DEM of that flat ground
    ref = cross_section(_two_pipes(), [(1, 10), (15, 10)], ground=flat_dem(31.5)).table()
    pd.testing.assert_frame_equal(sec.table(), ref)
    with pytest.raises(InputError, match="finite"):
        cross_section(_two_pipes(), [(1, 10), (15, 10)], ground=float("nan"))


def test_relative_section_refuses_absolute_elevations_and_3d_has_no_ground():
    pipes = _two_pipes()
    pipes.loc[1, "depth_kind"] = "elevation"
    pipes.loc[1, "depth_reference"] = "centre"
    pipes.loc[1, "depth_m"] = 28.0
    with pytest.raises(InputError, match="absolute elevations"):
        cross_section(pipes, [(1, 10), (15, 10)])
    p3 = pipes_to_3d(_two_pipes(), flat_dem(30.0))
    sec = cross_section(p3, [(1, 10), (15, 10)])
    assert sec.ground_mode == "none" and not len(sec.ground)
    assert sec.table()["cover_m"].isna().all()


def test_all_nodata_along_the_line_is_called_nodata():
    z = np.full((40, 40), 30.0)
    z[5:15, :] = np.nan          # rows 5..14: y from 35 down to 25
    dem = Dem(z, Affine(1, 0, 0, 0, -1, 40), CRS)
    with pytest.raises(InputError, match="only nodata cells along the section line"):
        cross_section(_two_pipes(), [(1, 30), (15, 30)], ground=dem)
    with pytest.raises(InputError, match="does not cover"):
        cross_section(_two_pipes(), [(1, 50), (15, 50)], ground=dem, nearby=100)


@pytest.mark.parametrize("cols", [
    {"wt_elev_m": [29.0, 28.0], "survey_date": ["2024-05-01", "2024-06-01"]},
    {"wt_depth_m": [1.0, 2.0], "ground_z": [30.0, 30.0], "survey_date": ["2024-05-01",
                                                                         "2024-06-01"]},
    {"WL Elev": [29.0, 28.0], "측정일": ["2024-05-01", "2024-06-01"]},
])
def test_groundwater_column_names_are_recognised(cols):
    wells = gpd.GeoDataFrame(cols, geometry=[shapely.Point(1, 12), shapely.Point(15, 12)],
                             crs=CRS)
    sec = cross_section(_two_pipes(), [(1, 10), (15, 10)], ground=30.0, groundwater=wells,
                        groundwater_method="linear")
    assert sec.groundwater.z[0] == pytest.approx(29.0)
    assert sec.groundwater.z[-1] == pytest.approx(28.0)
    assert sec.groundwater.dates == ("2024-05-01", "2024-06-01")


def test_groundwater_columns_named_and_relative():
    wells = gpd.GeoDataFrame({"lvl": [1.5, 2.5], "when": ["2023-01-02", "2023-01-03"]},
                             geometry=[shapely.Point(1, 12), shapely.Point(15, 12)], crs=CRS)
    from geo3d.errors import SchemaError

    with pytest.raises(SchemaError, match="--gw-elev FIELD"):
        cross_section(_two_pipes(), [(1, 10), (15, 10)], ground=30.0, groundwater=wells)
    with pytest.raises(SchemaError, match="no column 'nope'"):
        cross_section(_two_pipes(), [(1, 10), (15, 10)], ground=30.0, groundwater=wells,
                      groundwater_fields={"depth": "nope"})
    sec = cross_section(_two_pipes(), [(1, 10), (15, 10)], groundwater=wells,
                        groundwater_fields={"depth": "lvl", "date": "when"},
                        groundwater_method="linear")
    assert sec.ground_mode == "relative"
    assert sec.groundwater.z[0] == pytest.approx(-1.5)
    assert sec.groundwater.dates == ("2023-01-02", "2023-01-03")


def test_structures_are_drawn_in_section(tmp_path):
    from geo3d.sheets import section_to_pdf

    st = gpd.GeoDataFrame(
        {"utility": ["sewer", "water"], "kind": ["manhole", "valve"], "structure_id": ["MH1", "V1"],
         "source_layer": ["SWL_MANH_PS", "WTL_VALV_PS"], "depth_m": [2.5, None]},
        geometry=[shapely.Point(7, 10.5), shapely.Point(7, 18)], crs=CRS)
    sec = cross_section(_two_pipes(), [(1, 10), (15, 10)], ground=30.0, structures=st)
    s = sec.structures
    assert s["structure_id"].tolist() == ["MH1"]          # V1 is 8 m off the line
    assert s.loc[0, "chainage_m"] == pytest.approx(6.0)
    assert s.loc[0, "bottom_z"] == pytest.approx(27.5)
    out = tmp_path / "s.svg"
    section_to_pdf(sec, out)
    assert "geo3d-structure" in out.read_text(encoding="utf-8")
