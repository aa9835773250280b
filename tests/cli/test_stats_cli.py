import json

import pandas as pd
import pytest
from click.testing import CliRunner

from geo3d import datasets
from geo3d.cli import stats as _stats_commands  # noqa: F401  (registers stats and tiles)
from geo3d.cli.main import cli

HEADER = "area_id,utility,period,length_m,share_over_threshold,density_km_per_km2"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def paths():
    return str(datasets.get_path("utilities")), str(datasets.get_path("neighbourhoods"))


def test_stats_writes_csv_aged_and_map(runner, paths, tmp_path):
    pipes, areas = paths
    out = tmp_path / "STATS.csv"
    res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", areas, "--area-id", "adm_cd2",
                              "--year", "2025", "--bins", "10", "--out", str(out),
                              "--map", str(tmp_path / "MAP.png")])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith(HEADER + ",")
    aged = pd.read_csv(tmp_path / "STATS_aged.csv", dtype={"area_id": str})
    assert {"material", "diameter_mm", "agency", "install_year", "age_years"} <= set(aged.columns)
    assert (tmp_path / "MAP.png").stat().st_size > 10_000
    table = pd.read_csv(out, dtype={"area_id": str})
    assert set(table["area_id"]) == set(pd.read_csv(out, dtype=str)["area_id"])
    assert "unknown" in set(table["period"])
    assert "stats:" in res.output
    # refuses to overwrite, and then does with --overwrite
    res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", areas, "--area-id", "adm_cd2",
                              "--out", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", areas, "--area-id", "adm_cd2",
                              "--out", str(out), "--bins", "1970,1990,2010", "--overwrite",
                              "--map", str(tmp_path / "MAP.html")])
    assert res.exit_code == 0, res.output
    assert "1970-1989" in set(pd.read_csv(out)["period"])
    assert (tmp_path / "MAP.html").exists()


def test_stats_bad_input_exits_2_without_output(runner, paths, tmp_path):
    pipes, areas = paths
    out = tmp_path / "S.csv"
    res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", areas, "--area-id", "dong",
                              "--out", str(out)])
    assert res.exit_code == 2
    assert "'dong'" in res.output and "adm_cd2" in res.output
    res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", areas, "--area-id", "adm_cd2",
                              "--bins", "ten", "--out", str(out)])
    assert res.exit_code == 2
    res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", str(tmp_path / "none.geojson"),
                              "--area-id", "adm_cd2", "--out", str(out)])
    assert res.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_tiles_with_statistics(runner, paths, tmp_path):
    from geo3d.tiles import lonlat_to_tile, read_tile

    pipes, areas = paths
    stats = tmp_path / "STATS.csv"
    assert runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", areas, "--area-id",
                               "adm_cd2", "--year", "2025", "--out", str(stats)]).exit_code == 0
    out = tmp_path / "TILES.pmtiles"
    res = runner.invoke(cli, ["tiles", "--pipes", pipes, "--stats", str(stats), "--areas", areas,
                              "--area-id", "adm_cd2", "--out", str(out), "--minzoom", "13",
                              "--maxzoom", "15"])
    assert res.exit_code == 0, res.output
    x, y = lonlat_to_tile(127.0395, 37.5797, 15)
    layers = read_tile(out, 15, x, y)
    assert "areas" in layers and "water" in layers
    assert "share_over_threshold" in layers["areas"][0]["properties"]
    style = json.loads((tmp_path / "TILES.style.json").read_text(encoding="utf-8"))
    assert {"areas-fill", "water", "gas"} <= {layer["id"] for layer in style["layers"]}
    assert "TILES.pmtiles" in (tmp_path / "TILES.html").read_text(encoding="utf-8")
    res = runner.invoke(cli, ["tiles", "--pipes", pipes, "--stats", str(stats), "--out",
                              str(tmp_path / "T2.pmtiles")])
    assert res.exit_code == 2 and "--area-id" in res.output


def _stats(runner, pipes, areas, out, *extra):
    return runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", str(areas), "--area-id",
                               "adm_cd2", "--year", "2025", "--out", str(out), *extra])


def _error_lines(res):
    return [line for line in res.stderr.splitlines() if line.strip()]


def test_stats_bad_input_messages_are_one_line(runner, paths, tmp_path):
    import warnings

    import geopandas as gpd

    pipes, areas = paths
    out = tmp_path / "S.csv"
    # no id field
    res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", areas, "--area-id", "dong",
                              "--out", str(out)])
    assert res.exit_code == 2 and len(_error_lines(res)) == 1
    assert _error_lines(res)[0].startswith("Error: ") and "available fields" in res.stderr
    # an areas file without a CRS
    nocrs = tmp_path / "in" / "nocrs.shp"
    nocrs.parent.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio: "'crs' was not provided" (on purpose)
        gpd.read_file(areas).set_crs(None, allow_override=True).to_file(nocrs)
    res = _stats(runner, pipes, nocrs, out)
    assert res.exit_code == 2 and len(_error_lines(res)) == 1
    assert "states no CRS" in res.stderr and "ogr2ogr -a_srs" in res.stderr
    # duplicate ids
    dup = gpd.read_file(areas)
    dup.loc[1, "adm_cd2"] = dup.loc[0, "adm_cd2"]
    dup.to_file(tmp_path / "in" / "dup.geojson")
    res = _stats(runner, pipes, tmp_path / "in" / "dup.geojson", out)
    assert res.exit_code == 2 and len(_error_lines(res)) == 1 and "dissolve" in res.stderr
    assert not out.exists() and not (tmp_path / "S_aged.csv").exists()


def test_stats_areas_in_another_crs_are_reprojected(runner, paths, tmp_path):
    import geopandas as gpd

    pipes, areas = paths
    wgs84 = tmp_path / "dongs_4326.geojson"
    gpd.read_file(areas).to_crs(4326).to_file(wgs84)
    assert _stats(runner, pipes, areas, tmp_path / "a.csv").exit_code == 0
    res = _stats(runner, pipes, wgs84, tmp_path / "b.csv")
    assert res.exit_code == 0, res.output
    a = pd.read_csv(tmp_path / "a.csv", dtype={"area_id": str})
    b = pd.read_csv(tmp_path / "b.csv", dtype={"area_id": str})
    pd.testing.assert_frame_equal(a[["area_id", "utility", "period"]],
                                  b[["area_id", "utility", "period"]])
    pd.testing.assert_series_equal(a["length_m"], b["length_m"], rtol=1e-6)


def test_stats_overlaps_and_outside_pipes_warn_once_and_are_reported(runner, paths, tmp_path):
    import geopandas as gpd

    pipes, areas = paths
    dongs = gpd.read_file(areas)
    grown = dongs.assign(geometry=dongs.geometry.buffer(30.0))
    grown.to_file(tmp_path / "grown.geojson")
    res = _stats(runner, pipes, tmp_path / "grown.geojson", tmp_path / "g.csv")
    assert res.exit_code == 0, res.output
    warned = [line for line in _error_lines(res) if line.startswith("Warning: areas overlap")]
    assert len(warned) == 1 and " m² in all " in warned[0]  # once, though two functions warn
    assert "INFO" not in res.stderr  # not logged again (that is -v)
    # two of the five dongs: most pipes lie outside both
    dongs.iloc[:2].to_file(tmp_path / "two.geojson")
    res = _stats(runner, pipes, tmp_path / "two.geojson", tmp_path / "t.csv")
    assert res.exit_code == 0, res.output
    warned = [line for line in _error_lines(res) if "outside every area" in line]
    assert len(warned) == 1
    outside_km = float(res.stdout.split("km outside")[0].rsplit("(", 1)[1])
    assert outside_km > 1.0
    aged = pd.read_csv(tmp_path / "t_aged.csv", dtype={"area_id": str})
    assert aged["area_id"].isna().any()  # aged pieces outside both dongs are listed


def test_tiles_bad_stats_file_exits_2(runner, paths, tmp_path):
    pipes, areas = paths
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage\x00")
    res = runner.invoke(cli, ["tiles", "--pipes", pipes, "--stats", str(bad), "--areas", areas,
                              "--area-id", "adm_cd2", "--out", str(tmp_path / "t.pmtiles")])
    assert res.exit_code == 2, res.output
    assert len(_error_lines(res)) == 1
    assert not (tmp_path / "t.pmtiles").exists()


def test_year_range_is_one_plausible_range(runner, paths, tmp_path):
    pipes, areas = paths
    for year in ("1800", "3000"):
        res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", areas, "--area-id",
                                  "adm_cd2", "--year", year, "--out", str(tmp_path / "s.csv")])
        assert res.exit_code == 2, res.output
        assert f"--year {year} is outside the plausible range 1900-" in res.output


def test_empty_areas_file_is_called_empty(runner, paths, tmp_path):
    pipes, _ = paths
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    res = runner.invoke(cli, ["stats", "--pipes", pipes, "--areas", str(empty), "--area-id",
                              "adm_cd2", "--out", str(tmp_path / "s.csv")])
    assert res.exit_code == 2 and "empty" in res.output and "no field" not in res.output


def test_tiles_options_say_what_each_needs(runner, paths, tmp_path):
    pipes, areas = paths
    out = str(tmp_path / "t.pmtiles")
    res = runner.invoke(cli, ["tiles", "--pipes", pipes, "--areas", areas, "--out", out])
    assert res.exit_code == 2 and "--areas needs --area-id" in res.output
    res = runner.invoke(cli, ["tiles", "--pipes", pipes, "--stats", "x.csv", "--out", out])
    assert res.exit_code == 2 and "--stats needs --areas" in res.output


def test_stats_from_geoparquet_with_a_lean_aged_list(runner, paths, tmp_path):
    from geo3d.underground import read_pipes

    pipes, areas = paths
    parquet = tmp_path / "pipes.parquet"
    read_pipes(pipes).to_parquet(parquet)
    base = ["stats", "--areas", areas, "--area-id", "adm_cd2", "--year", "2025"]
    res = runner.invoke(cli, [*base, "--pipes", pipes, "--out", str(tmp_path / "a.csv")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, [*base, "--pipes", str(parquet), "--out", str(tmp_path / "b.csv"),
                              "--aged", str(tmp_path / "b_aged.parquet")])
    assert res.exit_code == 0, res.output
    a = pd.read_csv(tmp_path / "a.csv", dtype={"area_id": str})
    b = pd.read_csv(tmp_path / "b.csv", dtype={"area_id": str})
    pd.testing.assert_frame_equal(a, b)
    lean = pd.read_csv(tmp_path / "a_aged.csv", dtype={"area_id": str})
    assert "geometry_wkt" not in lean.columns and len(lean) > 0
    import geopandas as gpd

    geo = gpd.read_parquet(tmp_path / "b_aged.parquet")
    assert len(geo) == len(lean) and geo.geometry.notna().all()
    assert geo["length_m"].sum() == pytest.approx(lean["length_m"].sum(), rel=1e-9)
