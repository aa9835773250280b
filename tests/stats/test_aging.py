import datetime as dt
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.errors import CRSError, InputError, OutputExistsError, SchemaError
from geo3d.stats import (
    STATISTICS_COLUMNS,
    aged_segments,
    aggregate_statistics,
    aging_statistics,
    areas_with_statistics,
    pipe_age,
    statistics_to_file,
)


def boxes(ids=("A", "B"), crs="EPSG:5186"):
    geoms = [shapely.box(1000 * i, 0, 1000 * (i + 1), 1000) for i in range(len(ids))]
    return gpd.GeoDataFrame({"code": list(ids)}, geometry=geoms, crs=crs)


def lines(coords, utilities, years, crs="EPSG:5186"):
    return gpd.GeoDataFrame({"utility": utilities, "install_year": pd.array(years, dtype="Int64")},
                            geometry=[shapely.LineString(c) for c in coords], crs=crs)


def test_columns_come_first_in_contract_order(sample_pipes, sample_areas):
    df = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    assert tuple(df.columns[:6]) == STATISTICS_COLUMNS
    for extra in ["area_km2", "n_segments", "threshold_years", "length_over_threshold_m",
                  "share_over_30y", "share_over_50y", "length_over_50y_m"]:
        assert extra in df.columns


def test_sample_lengths_equal_per_polygon_clipping(sample_pipes, sample_areas, reference_table,
                                                   assert_matches_reference):
    df = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    ref = reference_table(sample_pipes, sample_areas, "adm_cd2", year=2025)
    assert ref["length_over_threshold_m"].sum() > 0 and (ref["length_m"] > 0).sum() > 100
    assert_matches_reference(df, ref)  # per area x utility x period, length and aged length
    # every metre is somewhere: inside + outside == total
    total = sample_pipes.length.sum()
    assert df["length_m"].sum() + df.attrs["outside_length_m"] == pytest.approx(total, rel=1e-9)


def test_unknown_year_is_its_own_period(sample_pipes, sample_areas):
    df = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    unknown = df[df["period"] == "unknown"]
    assert len(unknown) > 0
    assert unknown["share_over_threshold"].isna().all()
    mask = sample_pipes["install_year"].isna()
    unknown_len = sample_pipes.loc[mask].length.sum()
    assert unknown["length_m"].sum() == pytest.approx(unknown_len, rel=1e-9)


def test_split_and_shares_on_a_tiny_case():
    areas = boxes()
    pipes = lines([[(500, 500), (1500, 500)], [(100, 100), (100, 300)], [(1200, 100), (1200, 600)]],
                  ["water", "water", "sewer"], [1980, None, 1960])
    df = aging_statistics(pipes, areas, area_id="code", reference_date=2025)
    row = df[(df.area_id == "B") & (df.utility == "sewer")].iloc[0]
    assert row["length_m"] == 500.0
    assert row["share_over_threshold"] == 1.0 and row["share_over_50y"] == 1.0
    assert row["threshold_years"] == 30
    assert row["density_km_per_km2"] == pytest.approx(0.5)
    water_a = df[(df.area_id == "A") & (df.utility == "water")]
    assert water_a["length_m"].sum() == 700.0
    assert set(water_a["period"]) == {"1980-1989", "unknown"}


def test_pipe_fully_inside_is_not_clipped_but_exact():
    areas = boxes()
    wiggle = [(10 + 3 * i, 500 + (i % 2) * 7.3) for i in range(200)]
    pipes = lines([wiggle], ["gas"], [2000])
    df = aging_statistics(pipes, areas, area_id="code", reference_date=2025)
    assert df["length_m"].iloc[0] == pytest.approx(pipes.length.iloc[0], rel=1e-12)


def test_bins_edges_thresholds_and_reference_dates():
    areas = boxes()
    pipes = lines([[(0, 1), (100, 1)], [(0, 2), (50, 2)], [(0, 3), (10, 3)]],
                  ["water", "water", "water"], [1955, 1985, 2021])
    df = aging_statistics(pipes, areas, area_id="code", reference_date=dt.date(2025, 6, 1),
                          bins=[1960, 1990, 2020], thresholds={"water": [40, 60]})
    assert list(df["period"]) == ["<1960", "1960-1989", ">=2020"]
    assert list(df["threshold_years"]) == [40, 40, 40]
    assert list(df["share_over_60y"]) == [1.0, 0.0, 0.0]
    assert list(df["share_over_threshold"]) == [1.0, 1.0, 0.0]  # 1985: 40 y >= 40
    same = aging_statistics(pipes, areas, area_id="code", reference_date="2025-06-01",
                            bins=[1960, 1990, 2020], thresholds={"water": [40, 60]})
    pd.testing.assert_frame_equal(df, same)
    with pytest.raises(InputError):
        aging_statistics(pipes, areas, area_id="code", bins=[2000, 1990])
    with pytest.raises(InputError):
        aging_statistics(pipes, areas, area_id="code", thresholds={"water": -3})
    with pytest.raises(InputError):
        aging_statistics(pipes, areas, area_id="code", reference_date="last year")


def test_default_reference_year_is_this_year():
    pipes = lines([[(0, 1), (100, 1)]], ["water"], [2000])
    df = aging_statistics(pipes, boxes(), area_id="code")
    assert df.attrs["reference_year"] == dt.date.today().year


def test_pooled_statistics_use_each_utilitys_threshold():
    pipes = lines([[(0, 1), (100, 1)], [(0, 2), (100, 2)]], ["gas", "water"], [2000, 2000])
    df = aging_statistics(pipes, boxes(), area_id="code", reference_date=2025, by=None)
    assert list(df["utility"]) == ["all"]
    assert df["share_over_threshold"].iloc[0] == 0.5  # gas 25 y >= 20, water 25 y < 30


def test_missing_area_id_names_field_and_available_ones(sample_pipes, sample_areas):
    with pytest.raises(SchemaError, match=r"'adm_code'.*adm_nm, adm_cd, adm_cd2"):
        aging_statistics(sample_pipes, sample_areas, area_id="adm_code")


def test_duplicate_ids_and_non_polygons_are_schema_errors():
    areas = boxes(("A", "A"))
    pipes = lines([[(0, 1), (100, 1)]], ["gas"], [2000])
    with pytest.raises(SchemaError, match="dissolve"):
        aging_statistics(pipes, areas, area_id="code")
    pts = gpd.GeoDataFrame({"code": ["P"]}, geometry=[shapely.Point(0, 0)], crs="EPSG:5186")
    with pytest.raises(SchemaError, match="polygons"):
        aging_statistics(pipes, pts, area_id="code")


def test_crs_problems():
    pipes = lines([[(0, 1), (100, 1)]], ["gas"], [2000])
    with pytest.raises(CRSError, match="to_crs"):
        aging_statistics(pipes, boxes(crs="EPSG:5179"), area_id="code")
    geo = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(127, 37, 127.1, 37.1)],
                           crs="EPSG:4326")
    with pytest.raises(CRSError, match="geographic"):
        aging_statistics(pipes.to_crs(4326), geo, area_id="code")
    with pytest.raises(CRSError, match="no CRS"):
        aging_statistics(pipes.set_crs(None, allow_override=True), boxes(), area_id="code")


def test_overlapping_areas_warn_with_amount_and_ids():
    areas = gpd.GeoDataFrame({"code": ["A", "B"]},
                             geometry=[shapely.box(0, 0, 100, 100), shapely.box(50, 0, 150, 100)],
                             crs="EPSG:5186")
    pipes = lines([[(0, 50), (150, 50)]], ["gas"], [2000])
    with pytest.warns(UserWarning, match=r"overlap.*5,000 m².*A/B"):
        df = aging_statistics(pipes, areas, area_id="code", reference_date=2025)
    assert df["length_m"].sum() == pytest.approx(200.0)  # counted in each area


def test_outside_pipes_are_reported_not_dropped():
    pipes = lines([[(500, 500), (500, 1500)], [(5000, 5000), (5100, 5000)]], ["gas", "gas"],
                  [1990, 1990])
    with pytest.warns(UserWarning, match=r"outside every area: 600.0 m"):
        df = aging_statistics(pipes, boxes(), area_id="code", reference_date=2025)
    assert df.attrs["outside_length_m"] == pytest.approx(600.0)
    assert df.attrs["outside_segments"] == 2
    aged = aged_segments(pipes, boxes(), area_id="code", reference_date=2025)
    assert aged["area_id"].isna().sum() == 2
    assert aged["length_m"].sum() == pytest.approx(1100.0)


def test_inputs_are_not_mutated(sample_pipes, sample_areas):
    pipes, areas = sample_pipes.copy(), sample_areas.copy()
    aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
    aged_segments(pipes, areas, area_id="adm_cd2", reference_date=2025)
    pd.testing.assert_frame_equal(pipes, sample_pipes)
    pd.testing.assert_frame_equal(areas, sample_areas)


def test_aged_segments_add_up_to_aged_lengths(sample_pipes, sample_areas):
    df = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    aged = aged_segments(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    assert {"material", "diameter_mm", "agency", "install_year", "age_years",
            "area_id"} <= set(aged.columns)
    assert (aged["age_years"] >= aged["threshold_years"]).all()
    got = aged.groupby(["area_id", "utility"])["length_m"].sum()
    want = df.groupby(["area_id", "utility"])["length_over_threshold_m"].sum()
    want = want[want > 0]
    got, want = got.align(want)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)
    assert aged.crs == sample_pipes.crs


def test_aggregate_and_areas_with_statistics(sample_pipes, sample_areas):
    df = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    per_util = aggregate_statistics(df, by=["utility"])
    assert per_util["length_m"].sum() == pytest.approx(df["length_m"].sum())
    sewer = per_util.set_index("utility").loc["sewer"]
    known = df[(df.utility == "sewer") & (df.period != "unknown")]
    assert sewer["share_over_50y"] == pytest.approx(
        known["length_over_50y_m"].sum() / known["length_m"].sum())
    assert sewer["density_km_per_km2"] == pytest.approx(
        sewer["length_m"] / 1000 / df.attrs["total_area_km2"])
    joined = areas_with_statistics(df, sample_areas, area_id="adm_cd2", utility="gas")
    assert len(joined) == len(sample_areas)
    assert joined["share_over_threshold"].between(0, 1).all()
    with pytest.raises(InputError, match="no statistics for utility"):
        areas_with_statistics(df, sample_areas, area_id="adm_cd2", utility="oil")


def test_pipe_age():
    p = pd.DataFrame({"install_year": pd.array([1990, None], dtype="Int64")})
    assert pipe_age(p, reference_date=2025).tolist() == [35, pd.NA]


def test_statistics_to_file_csv_and_excel(tmp_path, sample_pipes, sample_areas):
    df = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    csv = statistics_to_file(df, tmp_path / "s.csv")
    assert csv.read_text(encoding="utf-8").startswith(
        "area_id,utility,period,length_m,share_over_threshold,density_km_per_km2,")
    back = pd.read_csv(csv, dtype={"area_id": str})
    np.testing.assert_allclose(back["length_m"], df["length_m"])
    with pytest.raises(OutputExistsError):
        statistics_to_file(df, csv)
    xlsx = statistics_to_file(df, tmp_path / "s.xlsx")
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert set(sheets) == {"statistics", "about"}
    assert len(sheets["statistics"]) == len(df)
    aged = aged_segments(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    out = statistics_to_file(aged, tmp_path / "aged.csv")
    assert "geometry_wkt" in pd.read_csv(out).columns
    with pytest.raises(InputError):
        statistics_to_file(df, tmp_path / "s.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aged.csv", "s.csv", "s.xlsx"]


@pytest.mark.shared_data
def test_seoul_dongs_with_random_pipes_match_per_polygon_clipping(shared_data, reference_table,
                                                                  assert_matches_reference,
                                                                  random_pipes):
    dongs = gpd.read_file(shared_data / "seoul" / "seoul_hangjeongdong_2021.geojson").to_crs(5186)
    assert len(dongs) == 425
    pipes = random_pipes(tuple(dongs.total_bounds), 30_000, seed=7)  # > 5,000: the grid is used
    with pytest.warns(UserWarning, match="outside every area"):  # beyond Seoul's border
        df = aging_statistics(pipes, dongs, area_id="adm_cd2", reference_date=2025)
    ref = reference_table(pipes, dongs, "adm_cd2", year=2025)
    assert_matches_reference(df, ref)
    outside = pipes.length.sum() - ref["length_m"].sum()
    assert df.attrs["outside_length_m"] == pytest.approx(outside, rel=1e-6)
    assert df["area_id"].nunique() == 425


@pytest.mark.shared_data
def test_seoul_dongs_with_a_generated_district_match_per_polygon_clipping(
        shared_data, reference_table, assert_matches_reference):
    # street-like pipes in the canonical schema (multi-vertex, many along the same streets)
    from geo3d.datasets.underground import CENTRE, make_district
    from geo3d.underground import read_pipes

    dongs = gpd.read_file(shared_data / "seoul" / "seoul_hangjeongdong_2021.geojson").to_crs(5186)
    district = make_district(seed=11, size_m=2500.0)
    pipes = pd.concat([read_pipes(layer, layers=[name]) for name, layer in district.layers.items()],
                      ignore_index=True)
    # stretch the 2.5 km district over the dense dongs around 종로/중구 (about 7.5 km)
    centre = dongs[dongs["adm_nm"].str.contains("종로구")].union_all().centroid
    geoms = shapely.transform(np.asarray(pipes.geometry.array), lambda c: np.column_stack(
        [(c[:, 0] - CENTRE[0]) * 3 + centre.x, (c[:, 1] - CENTRE[1]) * 3 + centre.y]))
    pipes = pipes.set_geometry(gpd.GeoSeries(geoms, index=pipes.index, crs=pipes.crs))
    assert len(pipes) > 5_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing outside, no overlaps: no warning at all
        df = aging_statistics(pipes, dongs, area_id="adm_cd2", reference_date=2025)
    ref = reference_table(pipes, dongs, "adm_cd2", year=2025)
    assert ref.index.get_level_values("area_id").nunique() > 20
    assert_matches_reference(df, ref)
    assert df.attrs["outside_length_m"] == 0.0


@pytest.mark.shared_data
def test_seoul_gu_invalid_polygon_is_repaired(shared_data, random_pipes):
    gu = gpd.read_file(shared_data / "seoul" / "seoul_gu.geojson").to_crs(5186)
    assert not gu.is_valid.all()
    pipes = random_pipes(tuple(gu.total_bounds), 2_000, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = aging_statistics(pipes, gu, area_id="SIG_CD", reference_date=2025)
    assert any("make_valid" in n for n in df.attrs["notes"])
    assert df["area_id"].nunique() == 25


def test_exact_on_hard_cases_with_grid_multilines_overlaps_and_shared_edges(
        reference_table, assert_matches_reference, random_pipes):
    # Voronoi cells (irregular shared boundaries), one overlapping disc, a hole
    rng = np.random.default_rng(11)
    seeds = shapely.multipoints(rng.uniform(0, 3000, (12, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=shapely.box(0, 0, 3000, 3000)))
    cells = shapely.intersection(cells, shapely.box(0, 0, 3000, 3000))
    cells[0] = shapely.difference(cells[0], shapely.centroid(cells[0]).buffer(50))
    geoms = [*cells, shapely.Point(1500, 1500).buffer(400)]
    areas = gpd.GeoDataFrame({"code": [f"c{i}" for i in range(len(geoms))]}, geometry=geoms,
                             crs="EPSG:5186")
    pipes = random_pipes((-200, -200, 3200, 3200), 12_000, seed=5)  # > 5,000: grid is used
    # multi-part lines, and lines lying exactly on shared cell boundaries
    multi = shapely.multilinestrings([pipes.geometry.iloc[0], pipes.geometry.iloc[1]])
    edge = shapely.LineString(shapely.get_coordinates(shapely.boundary(cells[1]))[:3])
    extra = gpd.GeoDataFrame({"utility": ["gas", "water"], "install_year": pd.array([1990, 2000]),
                              "source_id": ["M", "E"]}, geometry=[multi, edge], crs="EPSG:5186")
    pipes = pd.concat([pipes, extra], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = aging_statistics(pipes, areas, area_id="code", reference_date=2025)
        aged = aged_segments(pipes, areas, area_id="code", reference_date=2025)
    assert_matches_reference(df, reference_table(pipes, areas, "code", year=2025))
    # the GEOS-clipped pieces of aged_segments agree with the fast lengths
    per_area = aged.dropna(subset=["area_id"]).groupby("area_id")["length_m"].sum()
    want = df.groupby("area_id")["length_over_threshold_m"].sum()
    np.testing.assert_allclose(per_area.reindex(want.index, fill_value=0.0), want, rtol=1e-7)


def test_single_area_problem_is_one_line_several_are_listed():
    pipes = lines([[(0, 1), (100, 1)]], ["gas"], [2000])
    with pytest.raises(SchemaError) as one:
        aging_statistics(pipes, boxes(("A", "A")), area_id="code")
    assert "\n" not in str(one.value) and "dissolve" in str(one.value)
    areas = boxes(("A", "A", None))
    with pytest.raises(SchemaError) as two:
        aging_statistics(pipes, areas, area_id="code")
    assert len(two.value.problems) == 2 and "fill or drop" in str(two.value)


def test_data_warnings_are_reported_once_not_logged_as_warnings(caplog):
    import logging

    areas = gpd.GeoDataFrame({"code": ["A", "B"]},
                             geometry=[shapely.box(0, 0, 100, 100), shapely.box(50, 0, 150, 100)],
                             crs="EPSG:5186")
    pipes = lines([[(0, 50), (300, 50)]], ["gas"], [2000])
    with caplog.at_level(logging.INFO, logger="geo3d"), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df = aging_statistics(pipes, areas, area_id="code", reference_date=2025)
    messages = [str(x.message) for x in w]
    assert sum("areas overlap" in m for m in messages) == 1
    assert sum("outside every area: 150.0 m" in m for m in messages) == 1
    assert all(x.filename == __file__ for x in w)  # points at the caller's line
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(df.attrs["notes"]) == 2
    # overlaps count a metre in each area, but the part outside every area only once
    assert df["length_m"].sum() == pytest.approx(200.0)
    assert df.attrs["outside_length_m"] == pytest.approx(150.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        aged = aged_segments(pipes, areas, area_id="code", reference_date=2025)
    assert aged.loc[aged["area_id"].isna(), "length_m"].sum() == pytest.approx(150.0)
    assert aged["length_m"].sum() == pytest.approx(350.0)


def test_read_areas(tmp_path, sample_areas):
    from geo3d.errors import FileFormatError, MissingFileError
    from geo3d.stats import read_areas

    path = tmp_path / "dongs.gpkg"
    with_missing = sample_areas.copy()
    with_missing.loc[2, "adm_cd2"] = None
    with_missing.to_file(path)
    areas = read_areas(path, area_id="adm_cd2", crs="EPSG:4326")
    assert areas.crs.to_epsg() == 4326
    assert areas["adm_cd2"].iloc[0] == "1123054500" and areas["adm_cd2"].isna().sum() == 1
    with pytest.raises(SchemaError, match=r"no field 'dong'.*adm_nm, adm_cd, adm_cd2"):
        read_areas(path, area_id="dong")
    with pytest.raises(MissingFileError, match="does not exist"):
        read_areas(tmp_path / "nope.geojson")
    (tmp_path / "bad.geojson").write_text("{not json", encoding="utf-8")
    with pytest.raises(FileFormatError, match="cannot read areas"):
        read_areas(tmp_path / "bad.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio: "'crs' was not provided" (on purpose)
        sample_areas.set_crs(None, allow_override=True).to_file(tmp_path / "nocrs.shp")
    with pytest.raises(CRSError, match=r"states no CRS.*source_crs="):
        read_areas(tmp_path / "nocrs.shp", area_id="adm_cd2")
    # a missing id read as text stays missing, so the statistics refuse it
    with pytest.raises(SchemaError, match=r"1 area.*no 'adm_cd2' value"):
        aging_statistics(lines([[(0, 1), (100, 1)]], ["gas"], [2000]), areas.to_crs(5186),
                         area_id="adm_cd2")


def test_areas_in_another_crs_reprojected_by_read_areas_give_the_same_numbers(
        tmp_path, sample_pipes, sample_areas):
    from geo3d.stats import read_areas

    sample_areas.to_crs(4326).to_file(tmp_path / "dongs_4326.geojson")
    with pytest.raises(CRSError, match=r"different CRSs.*to_crs"):
        aging_statistics(sample_pipes, sample_areas.to_crs(4326).to_crs(5179),
                         area_id="adm_cd2")
    areas = read_areas(tmp_path / "dongs_4326.geojson", area_id="adm_cd2", crs=sample_pipes.crs)
    a = aging_statistics(sample_pipes, areas, area_id="adm_cd2", reference_date=2025)
    b = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
    pd.testing.assert_frame_equal(a[["area_id", "utility", "period"]],
                                  b[["area_id", "utility", "period"]].astype({"area_id": object}),
                                  check_dtype=False)
    np.testing.assert_allclose(a["length_m"], b["length_m"], rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# one split for statistics and aged list; lean aged list; no hidden threshold (issue 16)
# ---------------------------------------------------------------------------------------------
def test_aging_report_equals_the_two_functions(sample_pipes, sample_areas):
    from geo3d.stats import aging_report

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats, aged = aging_report(sample_pipes, sample_areas, area_id="adm_cd2",
                                   reference_date=2025)
        ref_stats = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2",
                                     reference_date=2025)
        ref_aged = aged_segments(sample_pipes, sample_areas, area_id="adm_cd2",
                                 reference_date=2025)
    pd.testing.assert_frame_equal(stats, ref_stats)
    assert not isinstance(aged, gpd.GeoDataFrame)          # lean: no geometry
    lean = aged.reset_index(drop=True)
    full = pd.DataFrame(ref_aged.drop(columns="geometry")).reset_index(drop=True)
    assert len(lean) == len(full) > 0
    assert lean.drop(columns="length_m").equals(full.drop(columns="length_m"))
    np.testing.assert_allclose(lean["length_m"], full["length_m"], rtol=1e-9, atol=1e-6)
    # the stated rule, with the thresholds written out again (UNDERGROUND.md)
    thr = lean["utility"].map({"water": 30, "sewer": 30, "gas": 20, "heat": 20, "power": 30,
                               "telecom": 30})
    assert ((2025 - lean["install_year"]) >= thr).all()


def test_utility_without_threshold_is_never_aged():
    from geo3d.stats import aging_report

    areas = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(0, 0, 100, 100)],
                             crs="EPSG:5186")
    pipes = gpd.GeoDataFrame(
        {"utility": ["oil", "gas"], "install_year": pd.array([1950, 1950], dtype="Int64")},
        geometry=[shapely.LineString([(10, 10), (20, 10)]), shapely.LineString([(10, 20), (30, 20)])],
        crs="EPSG:5186")
    with pytest.warns(UserWarning, match="no aging threshold for 'oil'"):
        stats, aged = aging_report(pipes, areas, area_id="id", reference_date=2025)
    assert aged["utility"].tolist() == ["gas"]
    oil = stats.set_index("utility").loc["oil"]
    assert pd.isna(oil["threshold_years"]) and np.isnan(oil["share_over_threshold"])
    stats, aged = aging_report(pipes, areas, area_id="id", reference_date=2025, thresholds=40)
    assert sorted(aged["utility"]) == ["gas", "oil"]


def test_csv_writer_round_trips_text_and_missing_values(tmp_path):
    table = pd.DataFrame({"area_id": pd.array(["제기동", "a,b", None], dtype="string"),
                          "n": pd.array([1, None, 3], dtype="Int64"),
                          "x": [0.1 + 0.2, np.nan, 2.0], "s": ['say "hi"', "x", None]})
    path = statistics_to_file(table, tmp_path / "t.csv")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "area_id,n,x,s"
    back = pd.read_csv(path, dtype={"area_id": "string", "s": "string"})
    assert back["area_id"].tolist()[:2] == ["제기동", "a,b"] and pd.isna(back["area_id"][2])
    assert back["s"].tolist()[:2] == ['say "hi"', "x"]
    assert back["n"].astype("Int64").tolist()[0] == 1 and pd.isna(back["n"][1])
    assert back["x"].tolist()[0] == 0.1 + 0.2 and back["x"].tolist()[2] == 2.0


def test_read_statistics_pipes_reads_only_what_it_needs(tmp_path, sample_pipes, sample_areas):
    from geo3d.stats import aging_report, read_statistics_pipes

    parquet = tmp_path / "p.parquet"
    sample_pipes.to_parquet(parquet)
    gpkg = tmp_path / "p.gpkg"
    sample_pipes.to_file(gpkg, layer="pipes")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2", reference_date=2025)
        for path in (parquet, gpkg):
            fast = read_statistics_pipes(path)
            assert "depth_m" not in fast.columns and "install_year" in fast.columns
            got, _ = aging_report(fast, sample_areas, area_id="adm_cd2", reference_date=2025)
            pd.testing.assert_frame_equal(got[["area_id", "utility", "period"]],
                                          ref[["area_id", "utility", "period"]])
            np.testing.assert_allclose(got["length_m"], ref["length_m"], rtol=1e-12)
    # a year of 0 is unknown, not 2025 years old
    zero = sample_pipes.iloc[:3].copy()
    zero["install_year"] = pd.array([0, 1990, None], dtype="Int64")
    zero.to_parquet(tmp_path / "z.parquet")
    assert read_statistics_pipes(tmp_path / "z.parquet")["install_year"].isna().tolist() == [
        True, False, True]


def test_install_year_zero_is_unknown_not_aged():
    from geo3d.stats import aging_report

    areas = gpd.GeoDataFrame({"id": ["A"]}, geometry=[shapely.box(0, 0, 100, 100)],
                             crs="EPSG:5186")
    pipes = gpd.GeoDataFrame(
        {"utility": ["water", "water"], "install_year": pd.array([0, 1980], dtype="Int64")},
        geometry=[shapely.LineString([(10, 10), (20, 10)]), shapely.LineString([(10, 20), (30, 20)])],
        crs="EPSG:5186")
    with pytest.warns(UserWarning, match="before 1850"):
        stats, aged = aging_report(pipes, areas, area_id="id", reference_date=2025)
    assert sorted(stats["period"]) == ["1980-1989", "unknown"]
    assert aged["install_year"].tolist() == [1980]
    assert pipe_age(pipes, reference_date=2025).tolist() == [pd.NA, 45]
