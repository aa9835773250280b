"""Tests for the synthetic underground-utility district (geo3d.datasets.underground)."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely

from geo3d.datasets import underground as ug
from geo3d.errors import InputError, OutputExistsError

COMMON = ["ftr_cde", "ftr_idn", "hjd_cde", "bjd_cde", "mng_cde", "ist_ymd", "mop_cde", "pip_len"]
FIELDS = {
    "WTL_PIPE_LM": ["pip_dip", "saa_cde", "low_dep", "hgh_dep"],
    "SWL_PIPE_LM": ["std_dip", "std_hol", "std_vel", "sba_cde", "beg_dep", "end_dep", "pip_slp"],
    "UFL_BPIP_LM": ["std_dip", "std_dep", "vol_cde"],
    "UFL_KPIP_LS": ["std_dip", "std_dep"],
    "UFL_GPIP_LM": ["std_dip", "std_dep", "prs_cde"],
    "UFL_HPIP_LM": ["std_dip", "std_dep"],
}
DEPTH = {"WTL_PIPE_LM": "low_dep", "SWL_PIPE_LM": "beg_dep", "UFL_BPIP_LM": "std_dep",
         "UFL_KPIP_LS": "std_dep", "UFL_GPIP_LM": "std_dep", "UFL_HPIP_LM": "std_dep"}
COVER_RANGE = {"water": (1.0, 1.8), "sewer": (1.5, 4.5), "gas": (0.8, 1.5), "power": (1.0, 1.8),
               "telecom": (0.6, 1.2), "heat": (1.5, 2.5)}


@pytest.fixture(scope="module")
def district() -> ug.District:
    return ug.make_district(seed=2025, size_m=1000.0)


@pytest.fixture(scope="module")
def written(tmp_path_factory, district):
    out = tmp_path_factory.mktemp("ug")
    return ug.write_district(district, out)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_write_is_byte_for_byte_reproducible(tmp_path, written):
    again = ug.write_underground_sample(tmp_path / "again")
    assert [p.name for p in again] == [p.name for p in written]
    for a, b in zip(written, again, strict=True):
        assert _sha(a) == _sha(b), a.name
    assert sum(p.stat().st_size for p in written) <= 4_000_000


def test_gpkg_timestamp_pinned(written):
    with contextlib.closing(sqlite3.connect(written[0])) as con:
        stamps = {r[0] for r in con.execute("SELECT last_change FROM gpkg_contents")}
    assert stamps == {"2025-01-01T00:00:00.000Z"}


def test_write_refuses_to_overwrite(tmp_path, district):
    ug.write_district(district, tmp_path)
    with pytest.raises(OutputExistsError):
        ug.write_district(district, tmp_path)


def test_layers_fields_crs_and_counts(written, district):
    gpkg = written[0]
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(layers) == set(ug.UIS_LAYERS)
    assert set(layers.values()) == {"LineString"}
    total = 0
    for name, extra in FIELDS.items():
        g = gpd.read_file(gpkg, layer=name)
        assert g.crs.to_epsg() == 5186
        assert list(g.columns[:6]) == COMMON[:6]
        assert set(COMMON + extra) <= set(g.columns), name
        assert g["ftr_idn"].is_unique
        assert len(g) > 20
        np.testing.assert_allclose(g["pip_len"], g.length, atol=0.01)
        assert g.geometry.is_valid.all() and (g.length > 0.5).all()
        total += len(g)
    assert 1500 <= total <= 3000
    assert total == district.n_segments


def test_depth_unknown_shares_and_ranges(district):
    for name, g in district.layers.items():
        utility = ug.UIS_LAYERS[name]
        dep = g[DEPTH[name]].to_numpy()
        share = float(np.mean(dep == 0))
        target = 0.30 if utility == "water" else 0.10
        assert abs(share - target) < 0.08, (name, share)
        lo, hi = COVER_RANGE[utility]
        known = dep[dep > 0]
        assert known.min() >= lo - 1e-9 and known.max() <= hi + 1e-9, name
    w = district.layers["WTL_PIPE_LM"]
    assert (w["low_dep"] <= w["hgh_dep"]).all()
    assert ((w["low_dep"] == 0) == (w["hgh_dep"] == 0)).all()


def test_install_dates_and_aging(district):
    mean_year = {}
    for name, g in district.layers.items():
        d = g["ist_ymd"]
        known = d[d != ""]
        assert known.str.fullmatch(r"(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d)").all()
        assert 0 < (d == "").sum() < 0.15 * len(d)
        mean_year[ug.UIS_LAYERS[name]] = known.str[:4].astype(int).mean()
    assert mean_year["sewer"] < mean_year["water"] < mean_year["gas"]
    assert mean_year["sewer"] < min(mean_year.values()) + 1e-9
    # Seoul-like sewer aging as of 2025: about 55 % >= 30 years, 30 % >= 50 years
    sew = district.layers["SWL_PIPE_LM"]["ist_ymd"]
    year = sew[sew != ""].str[:4].astype(int)
    assert 0.45 < (year <= 1995).mean() < 0.65
    assert 0.2 < (year <= 1975).mean() < 0.4


def test_neighbourhoods_tessellate_and_codes_match(district):
    hoods = district.neighbourhoods
    assert 4 <= len(hoods) <= 6
    assert hoods["adm_cd"].str.fullmatch(r"\d{7}").all()
    assert hoods["adm_cd2"].str.fullmatch(r"\d{10}").all()
    assert "서울특별시 동대문구 제기동" in set(hoods["adm_nm"])
    assert hoods.is_valid.all()
    geoms = hoods.geometry.to_numpy()
    overlap = sum(shapely.intersection(geoms[i], geoms[j]).area
                  for i in range(len(geoms)) for j in range(i + 1, len(geoms)))
    assert overlap < 1e-3
    union = shapely.union_all(geoms)
    assert abs(union.area - district.boundary.area) < 1.0
    assert abs(district.boundary.area - 1e6) < 0.05e6
    # Gyeongdong Market (district centre) is in 제기동
    inside = hoods[hoods.contains(shapely.Point(*ug.CENTRE))]
    assert list(inside["adm_nm"]) == ["서울특별시 동대문구 제기동"]
    # each pipe's hjd_cde is the neighbourhood holding most of its length
    for g in district.layers.values():
        inter = gpd.overlay(g[["ftr_idn", "hjd_cde", "geometry"]],
                            hoods[["adm_cd2", "geometry"]], keep_geom_type=True)
        inter["len"] = inter.length
        best = inter.sort_values("len").groupby("ftr_idn").last()
        assert (best["hjd_cde"] == best["adm_cd2"]).all()


def test_pit_is_concave_and_reaches_gas(district):
    pit = district.pit.geometry.iloc[0]
    assert pit.is_valid and pit.geom_type == "Polygon"
    assert pit.area < 0.95 * pit.convex_hull.area          # L-shaped
    assert district.pit["depth_m"].iloc[0] == pytest.approx(2.5)
    hit = {ug.UIS_LAYERS[n] for n, g in district.layers.items() if g.intersects(pit).any()}
    assert "gas" in hit and len(hit) >= 3


def test_section_line_crosses_all_six(district):
    line = district.section_line.geometry.iloc[0]
    for name, g in district.layers.items():
        assert g.intersects(line).any(), name
    road = district.roads[district.roads["road_name"] == district.section_line["road_name"].iloc[0]]
    assert len(road) == 1
    # perpendicular to the street (within a few degrees)
    r = road.geometry.iloc[0]
    p = shapely.intersection(r, line)
    s = r.project(p)
    a = np.subtract(r.interpolate(s + 1).coords[0], r.interpolate(s - 1).coords[0])
    b = np.subtract(line.coords[-1], line.coords[0])
    cos = abs(a @ b) / np.linalg.norm(a) / np.linalg.norm(b)
    assert cos < 0.1


def test_roads(district):
    roads = district.roads
    assert roads["width_m"].between(4, 30).all()
    assert roads["road_name"].is_unique
    assert {"고산자로", "왕산로"} <= set(roads["road_name"])
    assert roads["road_name"].str.endswith(("로", "길")).all()


def test_dem_and_truth(written, district):
    with rasterio.open(written[1]) as src:
        assert src.crs.to_epsg() == 5186
        assert src.nodata is not None
        assert src.profile["compress"].lower() == "deflate"
        assert src.res[0] in (1.0, 2.0)
        z = src.read(1)
        assert "TIFFTAG_DATETIME" not in src.tags()
        left, bottom, right, top = src.bounds
    assert 25 <= z.min() and z.max() <= 45
    bx = district.boundary.bounds
    assert left < bx[0] and bottom < bx[1] and right > bx[2] and top > bx[3]
    # the DEM agrees with the analytic surface; centreline z = DEM - cover - D/2 is derivable
    g = district.layers["UFL_GPIP_LM"]
    g = g[g["std_dep"] > 0]
    mid = g.geometry.interpolate(0.5, normalized=True)
    ground = district.dem.sample(mid.x.to_numpy(), mid.y.to_numpy())
    exact = ug.ground_elevation(mid.x.to_numpy(), mid.y.to_numpy(), seed=2025)
    assert np.nanmax(np.abs(ground - exact)) < 0.05
    centre = ground - g["std_dep"].to_numpy() - g["std_dip"].to_numpy() / 2000.0
    assert np.all(centre < ground - 0.8)


def test_sewers_flow_downhill_and_slope(district):
    s = district.layers["SWL_PIPE_LM"]
    known = s[(s["beg_dep"] > 0)]
    start = shapely.get_point(known.geometry.to_numpy(), 0)
    end = shapely.get_point(known.geometry.to_numpy(), -1)
    g0 = ug.ground_elevation(shapely.get_x(start), shapely.get_y(start), seed=2025)
    g1 = ug.ground_elevation(shapely.get_x(end), shapely.get_y(end), seed=2025)
    height = np.where(known["std_dip"] > 0, known["std_dip"], known["std_vel"]) / 1000.0
    slope = ((g0 - known["beg_dep"] - height) - (g1 - known["end_dep"] - height)) / known["pip_len"]
    np.testing.assert_allclose(slope * 1000, known["pip_slp"], atol=0.2)
    assert (known["pip_slp"] > 0).mean() > 0.85
    box = s[s["mop_cde"] == "BOX"]
    assert len(box) and (box["std_hol"] > 0).all() and (box["std_dip"] == 0).all()


def test_boreholes(district):
    bh = district.boreholes
    assert 15 <= len(bh) <= 30
    np.testing.assert_allclose(bh["gw_elev_m"], bh["ground_z"] - bh["gw_depth_m"], atol=0.011)
    assert bh["measured"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert (bh["measured"] < "2022").sum() >= 2
    assert district.boundary.contains(bh.union_all())


def test_size_scaling_and_bad_input():
    small = ug.make_district(seed=7, size_m=500.0)
    bigger = ug.make_district(seed=7, size_m=2000.0)
    ratio = bigger.n_segments / small.n_segments
    assert 8 < ratio < 25                      # about the area ratio (16)
    assert len(bigger.neighbourhoods) > 5
    union = shapely.union_all(bigger.neighbourhoods.geometry.to_numpy())
    assert abs(union.area - bigger.boundary.area) < 5.0
    assert bigger.neighbourhoods["adm_cd2"].is_unique
    for g in bigger.layers.values():
        assert set(g["hjd_cde"]) <= set(bigger.neighbourhoods["adm_cd2"])
    again = ug.make_district(seed=7, size_m=500.0)
    for name in small.layers:
        assert small.layers[name].equals(again.layers[name])
    with pytest.raises(InputError, match="size_m"):
        ug.make_district(size_m=10.0)
    with pytest.raises(ValueError, match="size_m"):
        ug.make_district(size_m=float("nan"))


@pytest.mark.slow
def test_a_million_segments_quickly():
    import time

    t0 = time.perf_counter()
    d = ug.make_district(seed=1, size_m=25000.0)
    assert d.n_segments > 900_000
    assert time.perf_counter() - t0 < 60
