"""`geo3d excavate` through click's CliRunner: the contract, and exit 2 on bad input."""

from __future__ import annotations

import csv
import json
import shutil

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner

import geo3d.cli.excavate  # noqa: F401  (registers the command)
from geo3d.cli.main import cli
from geo3d.datasets import get_path

HEADER = ("source_layer,source_id,utility,diameter_mm,depth_m,exposed_length_m,clearance_m,"
          "in_hand_dig_band,violations,depth_source")


def run(args):
    return CliRunner().invoke(cli, ["excavate", *map(str, args)])


@pytest.fixture(scope="module")
def sample():
    return get_path("utilities"), get_path("pit"), get_path("dem")


def test_contract(tmp_path, sample):
    pipes, pit, dem = sample
    out = tmp_path / "conflicts.csv"
    res = run(["--pipes", pipes, "--pit", pit, "--depth", 2.5, "--dem", dem, "--out", out])
    assert res.exit_code == 0, res.output
    assert "verdict:" in res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER
    rows = list(csv.DictReader(lines))
    assert len(rows) >= 5
    assert {r["utility"] for r in rows} >= {"gas", "water"}
    assert all(float(r["clearance_m"]) <= 0 for r in rows)
    # --json, and refusing to overwrite without --overwrite
    res = run(["--pipes", pipes, "--pit", pit, "--dem", dem, "--out", out, "--json"])
    assert res.exit_code == 2 and "exists" in res.output
    res = run(["--pipes", pipes, "--pit", pit, "--dem", dem, "--out", out, "--json",
               "--overwrite", "--road-width", 10])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["reached"] == len(rows)
    assert summary["verdict"] in ("notify utilities", "gas agreement required")


def _layers(src, names):
    return {n: pyogrio.read_dataframe(src, layer=n) for n in names}


@pytest.mark.filterwarnings("ignore:read_pipes:UserWarning")
@pytest.mark.parametrize("case", ["truncated", "missing_field", "empty_layer",
                                  "no_depth", "pit_crs", "no_dem"])
def test_bad_input_exit_2_and_no_output(tmp_path, sample, case):
    pipes, pit, dem = sample
    args = {"--pit": pit, "--depth": 2.5, "--dem": dem}
    bad = tmp_path / "pipes.gpkg"
    if case == "truncated":
        data = pipes.read_bytes()
        bad.write_bytes(data[: len(data) // 3])
    elif case in ("missing_field", "mixed_crs", "empty_layer", "no_dem"):
        layers = _layers(pipes, ["WTL_PIPE_LM", "UFL_GPIP_LM"])
        if case == "missing_field":
            layers["WTL_PIPE_LM"] = layers["WTL_PIPE_LM"].drop(columns=["low_dep"])
        if case == "mixed_crs":
            layers["UFL_GPIP_LM"] = layers["UFL_GPIP_LM"].to_crs("EPSG:5174")
        if case == "empty_layer":
            layers = {"WTL_PIPE_LM": layers["WTL_PIPE_LM"].iloc[:0]}
        for name, g in layers.items():
            g.to_file(bad, layer=name, driver="GPKG")
        if case == "no_dem":
            args.pop("--dem")
    else:
        shutil.copy(pipes, bad)
        if case == "no_depth":
            args.pop("--depth")
            p = gpd.read_file(pit).drop(columns="depth_m")
            args["--pit"] = tmp_path / "pit.geojson"
            p.to_file(args["--pit"])
        if case == "pit_crs":
            p = gpd.read_file(pit).to_crs("EPSG:5174")
            args["--pit"] = tmp_path / "pit.geojson"
            p.to_file(args["--pit"])
    out = tmp_path / "conflicts.csv"
    argv = ["--pipes", bad, "--out", out]
    for k, v in args.items():
        argv += [k, v]
    res = run(argv)
    assert res.exit_code == 2, (case, res.output)
    message = res.output.strip().splitlines()
    assert message[0].startswith("Error: ")
    assert len(message) <= 3, res.output
    assert not out.exists()
    assert not list(tmp_path.glob(".conflicts*"))
    expected = {"truncated": "truncated", "missing_field": "low_dep", "mixed_crs": "EPSG:5174",
                "empty_layer": "empty", "no_depth": "depth", "pit_crs": "reproject",
                "no_dem": "DEM"}[case]
    assert expected.lower() in res.output.lower()


def test_cli_messages_name_cli_options(tmp_path, sample):
    import geopandas as gpd
    import shapely

    pipes, pit, dem = sample
    out = tmp_path / "c.csv"
    res = run(["--pipes", pipes, "--pit", pit, "--depth", 2.5, "--ground", "nan", "--out", out])
    assert res.exit_code == 2 and "--ground must be a finite elevation" in res.output
    # a pit in another CRS: the fix in command-line words, not pit.to_crs(...)
    other = tmp_path / "pit4326.geojson"
    gpd.read_file(pit).to_crs(4326).to_file(other)
    res = run(["--pipes", pipes, "--pit", other, "--depth", 2.5, "--dem", dem, "--out", out])
    assert res.exit_code == 2 and "ogr2ogr -t_srs" in res.output
    assert "to_crs" not in res.output
    # a bow-tie pit
    bow = tmp_path / "bow.geojson"
    g = gpd.read_file(pit)
    x0, y0, x1, y1 = g.total_bounds
    gpd.GeoDataFrame(geometry=[shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])],
                     crs=g.crs).to_file(bow)
    res = run(["--pipes", pipes, "--pit", bow, "--depth", 2.5, "--dem", dem, "--out", out])
    assert res.exit_code == 2 and "bow-tie" in res.output and "make_valid(" not in res.output
    # an existing output
    out.write_text("x")
    res = run(["--pipes", pipes, "--pit", pit, "--depth", 2.5, "--dem", dem, "--out", out])
    assert res.exit_code == 2 and "--overwrite" in res.output and "overwrite=True" not in res.output


def test_conflicts_as_a_map_layer_with_structures(tmp_path, sample):
    import geopandas as gpd
    import pandas as pd

    pipes, pit, dem = sample
    csv_out = tmp_path / "c.csv"
    assert run(["--pipes", pipes, "--pit", pit, "--depth", 2.5, "--dem", dem,
                "--out", csv_out]).exit_code == 0
    table = pd.read_csv(csv_out, dtype={"source_id": str})
    centre = gpd.read_file(pit).geometry.iloc[0].representative_point()
    st = gpd.GeoDataFrame({"utility": ["sewer"], "kind": ["manhole"], "structure_id": ["MH9"],
                           "source_layer": ["SWL_MANH_PS"], "depth_m": [2.0]},
                          geometry=[centre], crs=gpd.read_file(pit).crs)
    st_path = tmp_path / "mh.geojson"
    st.to_file(st_path)
    for name in ("c.geojson", "c.gpkg"):
        out = tmp_path / name
        res = run(["--pipes", pipes, "--pit", pit, "--depth", 2.5, "--dem", dem,
                   "--structures", st_path, "--out", out, "--json"])
        assert res.exit_code == 0, res.output
        layer = gpd.read_file(out, layer="conflicts")
        assert list(layer.columns) == [*HEADER.split(","), "geometry"]
        assert layer["source_id"].astype(str).tolist() == table["source_id"].tolist()
        assert layer["exposed_length_m"].tolist() == pytest.approx(
            table["exposed_length_m"].tolist(), abs=1e-3)
        assert layer.geometry.has_z.all()
        assert '"structure_id": "MH9"' in res.output
    assert gpd.read_file(tmp_path / "c.gpkg", layer="structures")["structure_id"].tolist() == ["MH9"]
    res = run(["--pipes", pipes, "--pit", pit, "--depth", 2.5, "--dem", dem,
               "--out", tmp_path / "c.shp"])
    assert res.exit_code == 2 and ".geojson" in res.output
