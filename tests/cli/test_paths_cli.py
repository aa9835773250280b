"""``geo3d locate / where / route / evacuation`` on a scan folder: JSON fields, text, exit codes.

The folder is made from the sample's true layers (objects.gpkg only, no paths.gpkg: the
commands then build the network themselves, as for folders written before paths existed).
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

import geo3d
from geo3d.cli.main import cli

SAMPLE_DIR = geo3d.datasets.get_path("market").parent


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from geo3d.cli import commands  # noqa: F401  (registers every command)

    d = tmp_path_factory.mktemp("scan")
    objs = gpd.read_file(SAMPLE_DIR / "market_objects.geojson")
    addr = pd.read_csv(SAMPLE_DIR / "market_addresses.csv", dtype={"number": str, "address": str})
    objs = objs.merge(addr[["object_id", "number", "address", "x", "y", "z"]], on="object_id")
    levels = pd.read_csv(SAMPLE_DIR / "market_levels.csv")
    levels = gpd.GeoDataFrame(levels, geometry=[None] * len(levels), crs="EPSG:5186")
    gp = d / "objects.gpkg"
    levels.to_file(gp, layer="levels")
    gpd.read_file(SAMPLE_DIR / "market_aisles.geojson").to_file(gp, layer="aisles")
    objs[objs["kind"] == "store"].to_file(gp, layer="stores")
    fac = objs[objs["kind"] != "store"]
    fac.set_geometry(gpd.points_from_xy(fac["x"], fac["y"]), crs="EPSG:5186").to_file(gp, layer="facilities")
    (d / "report.json").write_text(json.dumps({"addresses": {"interval_m": 20.0}}), encoding="utf-8")
    return d


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_locate_and_where_print_one_json_object(folder):
    r = run("locate", "--scan", str(folder), "--json", "서울특별시 동대문구  경동시장1통로 4")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert {"address", "object_id", "floor", "x", "y", "z"} <= set(rec)
    w = run("where", "--scan", str(folder), "--json", str(rec["x"]), str(rec["y"]), "--floor", str(rec["floor"]))
    assert w.exit_code == 0, w.output
    assert json.loads(w.output)["address"] == rec["address"]
    t = run("where", "--scan", str(folder), str(rec["x"]), str(rec["y"]))
    assert rec["address"] in t.output and "path:" in t.output


def test_route_to_the_nearest_aed_and_evacuation(folder, tmp_path):
    r = run("route", "--scan", str(folder), "--json", "--from", "서울특별시 동대문구 경동시장2통로 7",
            "--to", "nearest:aed")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert {"length_m", "coordinates", "to_address", "steps", "time_s"} <= set(rec)
    assert rec["to_address"].endswith("자동심장충격기") and len(rec["coordinates"][0]) == 3
    text = run("route", "--scan", str(folder), "--from", "서울특별시 동대문구 경동시장2통로 7", "--to", "nearest:exit")
    assert "경동시장2통로를 따라" in text.output and "분" in text.output
    out = tmp_path / "ev.gpkg"
    e = run("evacuation", "--scan", str(folder), "--json", "--out", str(out))
    assert e.exit_code == 0, e.output
    s = json.loads(e.output)
    assert s["stores"] == s["reachable"] > 100 and out.is_file()
    assert len(gpd.read_file(out)) == s["stores"]
    again = run("evacuation", "--scan", str(folder), "--out", str(out))
    assert again.exit_code == 2 and "--overwrite" in again.output


@pytest.mark.parametrize("args, message", [
    (["locate", "--scan", "{f}", "서울특별시 동대문구 없는통로 1"], "names no store"),
    (["route", "--scan", "{f}", "--from", "경동시장2통로 7", "--to", "nearest:unicorn"], "not a known kind"),
    (["where", "--scan", "{f}", "0", "0", "--floor", "7"], "--floor 7 is not a level"),
    (["locate", "--scan", "{nowhere}", "경동시장2통로 7"], "not a `geo3d scan` output folder"),
    (["evacuation", "--scan", "{f}", "--out", "{tmp}/x.txt"], "--out"),
])
def test_bad_input_exits_2_with_a_message(folder, tmp_path, args, message):
    a = [s.format(f=folder, nowhere=tmp_path / "nope", tmp=tmp_path) for s in args]
    r = run(*a)
    assert r.exit_code == 2 and message in r.output, r.output
