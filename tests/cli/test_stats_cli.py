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
    res = runner.invoke(cli, ["tiles", "--pipes", pipes, "--stats", str(stats), "--out",
                              str(tmp_path / "T2.pmtiles")])
    assert res.exit_code == 2 and "--area-id" in res.output
