"""``geo3d scan`` end to end on the committed sample market: every output, warnings in
report.json, unaddressed objects with their reason, and a broken rule stopping the run with
every offending object listed and nothing written.

The sample is segmented once per module; the command runs with ``segment_scan`` answering from
that result (segmentation has its own tests), so each case costs only reading, addressing and
writing.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import laspy
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import geo3d
from geo3d.address.imdf import validate_imdf
from geo3d.address.osm import CSV_COLUMNS
from geo3d.cli.main import cli

pytestmark = pytest.mark.slow

SAMPLE = geo3d.datasets.get_path("market")
TOML = geo3d.datasets.get_path("market_toml")


@pytest.fixture(scope="module")
def segmented():
    from geo3d.indoor.scan import segment_scan
    from geo3d.io.las import read_las

    with geo3d.options.context(progress=False):
        return segment_scan(read_las(SAMPLE))


@pytest.fixture
def run(segmented, monkeypatch):
    """Run ``geo3d scan`` (segmentation answered from the module's result)."""
    import geo3d.indoor.scan as scan_module
    from geo3d.cli import commands  # noqa: F401  (registers every command)

    monkeypatch.setattr(scan_module, "segment_scan", lambda cloud, **kw: segmented)
    monkeypatch.setattr(geo3d.options, "progress", False)

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["scan", str(SAMPLE), *args], catch_exceptions=False)

    return invoke


def market_toml(tmp_path: Path, *, drop_floor: int | None = None, **extra: object) -> Path:
    """The sample MARKET.toml, optionally without the aisles of one floor and with extra keys."""
    text = TOML.read_text(encoding="utf-8")
    head, *blocks = text.split("\n[[aisles]]\n")
    keep = [b for b in blocks if drop_floor is None or f"floor = {drop_floor}\n" not in b]
    head += "".join(f"{k} = {json.dumps(v)}\n" for k, v in extra.items())
    p = tmp_path / "market.toml"
    p.write_text(head + "".join("\n[[aisles]]\n" + b for b in keep), encoding="utf-8")
    return p


def test_scan_writes_every_output(run, tmp_path):
    out = tmp_path / "o"
    res = run("--market", str(TOML), "--out", str(out))
    assert res.exit_code == 0, res.output
    names = {"points.laz", "objects.gpkg", "addresses.csv", "imdf.zip", "objects.osm.geojson", "map.html",
             "report.json", "paths.gpkg", "indoorgml.json"}
    assert {p.name for p in out.iterdir()} == names
    # points.laz: exactly the input points, in input order, with the three extra dimensions
    src, pts = laspy.read(SAMPLE), laspy.read(out / "points.laz")
    assert len(pts.points) == len(src.points)
    np.testing.assert_array_equal(pts.x, src.x)
    assert {"level", "object_id", "object_class"} <= set(pts.point_format.extra_dimension_names)
    # addresses.csv: the contract header, one row per store and facility
    csv = pd.read_csv(out / "addresses.csv", dtype={"number": str})
    assert list(csv.columns) == CSV_COLUMNS
    layers = {n: gpd.read_file(out / "objects.gpkg", layer=n) for n in ("levels", "aisles", "stores", "facilities")}
    assert len(csv) == len(layers["stores"]) + len(layers["facilities"])
    assert layers["aisles"]["name"].tolist()[:2] == ["경동시장1통로", "경동시장2통로"]
    # report.json: validation outcome, every unaddressed object with its reason
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))["addresses"]
    assert report["errors"] == [] and report["aisles_source"] == "given"
    assert report["addressed"] + report["not_addressed"] == len(csv)
    assert len(report["unaddressed"]) == report["not_addressed"]
    assert all(u["reason"] for u in report["unaddressed"])
    assert csv["address"].notna().sum() == report["addressed"]
    # imdf.zip passes geo3d's validator
    assert validate_imdf(out / "imdf.zip") == []
    with zipfile.ZipFile(out / "imdf.zip") as z:
        assert {"venue.geojson", "level.geojson", "unit.geojson", "amenity.geojson", "manifest.json"} <= set(z.namelist())
    # map.html: one self-contained page (deck.gl inlined, no network) holding the addresses
    html = (out / "map.html").read_text(encoding="utf-8")
    skeleton = re.sub(r"<script>.*?</script>", "", html, flags=re.S)  # the page's own tags
    assert not re.search(r'<(script|link)[^>]+(src|href)="?https?://', skeleton)
    start = html.index("window.GEO3D_SCENE = ") + len("window.GEO3D_SCENE = ")
    scene, _ = json.JSONDecoder().raw_decode(html[start:])
    shown = set(scene["tables"]["objects"]["values"]["address"])
    assert set(csv["address"].dropna()) <= shown
    # ... and the network and evacuation routes of paths.gpkg, one record per edge and route
    edges = gpd.read_file(out / "paths.gpkg", layer="edges")
    routes = gpd.read_file(out / "paths.gpkg", layer="evacuation")
    from geo3d.viz.page import decode_column

    assert decode_column(scene["tables"]["network"]["values"]["kind"]) == edges["kind"].tolist()
    assert decode_column(scene["tables"]["evacuation"]["values"]["address"]) == routes["address"].tolist()


def test_warnings_and_unaddressed_objects_go_to_report_json(run, tmp_path):
    # with a 1.2 m max_offset most store entrances are too far from the centrelines (they stand
    # 1.4-1.9 m off it): they are listed with the reason; far facilities still get an address,
    # with a warning
    out = tmp_path / "o"
    res = run("--market", str(market_toml(tmp_path, max_offset_m=1.2)), "--out", str(out))
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))["addresses"]
    far = [u for u in report["unaddressed"] if u["kind"] == "store"]
    assert len(far) > 50 and all("max_offset 1.2 m" in u["reason"] for u in far)
    assert any("more than max_offset 1.2 m" in w for w in report["warnings"])
    csv = pd.read_csv(out / "addresses.csv")
    assert set(csv.loc[csv["address"].isna(), "object_id"]) == {u["object_id"] for u in report["unaddressed"]}


def test_a_broken_rule_stops_the_run_listing_every_offending_object(run, segmented, tmp_path):
    # no aisles on 2층: its extinguishers, hydrants, AEDs and exit signs cannot get an address
    out = tmp_path / "o"
    res = run("--market", str(market_toml(tmp_path, drop_floor=2)), "--out", str(out))
    assert res.exit_code == 2
    assert not out.exists()
    fac = segmented.objects
    must = fac[(fac["floor"] == 2) & fac["kind"].isin(["fire_extinguisher", "indoor_hydrant", "aed", "exit_sign"])]
    assert len(must) > 10
    line = next(x for x in res.output.splitlines() if "must get an address" in x)
    listed = {int(i) for i in line.split("objects ", 1)[1].split(", ")}
    assert listed == set(must.index)


def test_scan_addresses_facilities_inside_stores_in_the_comma_form(run, tmp_path):
    """The sample's AED hangs inside a store on 1층: the scan finds it and addresses it as
    ``…통로 {store number}, {floor digit + sequence} 자동심장충격기`` (ADDRESS.md), as the truth has it."""
    out = tmp_path / "o"
    assert run("--market", str(TOML), "--out", str(out)).exit_code == 0
    csv = pd.read_csv(out / "addresses.csv", dtype={"number": str})
    truth = pd.read_csv(geo3d.datasets.get_path("market_addresses"), dtype={"number": str})
    inside = truth[(truth["kind"] == "aed") & truth["number"].str.contains(",", na=False)]
    assert len(inside) == 1
    assert inside["address"].iloc[0] in set(csv["address"].dropna())
