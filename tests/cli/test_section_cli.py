import csv

import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner

import geo3d
import geo3d.cli.section
from geo3d.cli.main import cli

HEADER = "chainage_m,utility,source_id,diameter_mm,centre_z,top_z,cover_m,material,install_year"
D = geo3d.datasets.get_path


@pytest.fixture(scope="module")
def line():
    import geopandas as gpd
    import shapely

    g = gpd.read_file(D("section_line")).geometry.iloc[0]
    return ",".join(f"{v:.3f}" for v in shapely.get_coordinates(g).ravel())


def run(args):
    return CliRunner().invoke(cli, ["section", *args])


def base(out):
    return ["--pipes", str(D("utilities")), "--dem", str(D("dem")), "--out", str(out)]


def test_single_sheet_and_csv(tmp_path, line):
    out = tmp_path / "sheet.pdf"
    res = run([*base(out), "--line", line, "--groundwater", str(D("boreholes")),
               "--project", "제기동", "--road-width", "25"])
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"%PDF")
    text = (tmp_path / "sheet.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == HEADER
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) >= 6
    assert {r["utility"] for r in rows} >= {"water", "sewer", "gas", "power", "telecom", "heat"}
    # refuses to overwrite without --overwrite, then does with it
    res = run([*base(out), "--line", line])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert run([*base(out), "--line", line, "--overwrite"]).exit_code == 0


@pytest.mark.parametrize("bad,msg", [
    ("1,2,3", "even number"),
    ("a,b,c,d", "numbers"),
    ("203450,553280,203450,553280", "zero length"),
    ("0,0,10,10", "outside the pipes"),
])
def test_bad_line_exit_2_no_files(tmp_path, bad, msg):
    out = tmp_path / "s.pdf"
    res = run([*base(out), "--line", bad])
    assert res.exit_code == 2
    assert msg in res.output
    assert list(tmp_path.iterdir()) == []


def test_dem_without_coverage(tmp_path, line):
    dem = tmp_path / "far.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       crs="EPSG:5186", transform=Affine(1, 0, 0, 0, -1, 4)) as d:
        d.write(np.full((4, 4), 30.0, dtype="float32"), 1)
    out = tmp_path / "o" / "s.pdf"
    res = run(["--pipes", str(D("utilities")), "--dem", str(dem), "--out", str(out),
               "--line", line])
    assert res.exit_code == 2
    assert "does not cover" in res.output
    assert not out.exists() and not out.with_suffix(".csv").exists()


def test_missing_inputs(tmp_path, line):
    res = run([*base(tmp_path / "s.pdf"), "--line", line, "--groundwater", "nope.geojson"])
    assert res.exit_code == 2 and "--groundwater nope.geojson does not exist" in res.output
    assert list(tmp_path.iterdir()) == []


def test_needs_line_or_atlas(tmp_path):
    assert run(base(tmp_path / "s.pdf")).exit_code == 2
    res = run([*base(tmp_path / "s.pdf"), "--atlas-step", "20"])
    assert res.exit_code == 2 and "--road" in res.output


@pytest.mark.slow
def test_atlas(tmp_path):
    out = tmp_path / "atlas.pdf"
    res = run([*base(out), "--road", str(D("road")), "--road-name", "고산자로",
               "--atlas-step", "150"])
    assert res.exit_code == 0, res.output
    head = (tmp_path / "atlas.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head == "sheet,station_m," + HEADER
    res = run([*base(tmp_path / "b.pdf"), "--road", str(D("road")), "--atlas-step", "150"])
    assert res.exit_code == 2 and "--road-name" in res.output


def test_section_without_dem_and_with_flat_ground(tmp_path, line):
    pipes = ["--pipes", str(D("utilities")), "--line", line]
    res = run([*pipes, "--out", str(tmp_path / "rel.pdf")])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((tmp_path / "rel.csv").read_text(encoding="utf-8").splitlines()))
    assert rows and all(float(r["top_z"]) == pytest.approx(-float(r["cover_m"]), abs=2e-3)
                        for r in rows if r["cover_m"])
    res = run([*pipes, "--ground", "31.5", "--out", str(tmp_path / "flat.pdf")])
    assert res.exit_code == 0, res.output
    flat = list(csv.DictReader((tmp_path / "flat.csv").read_text(encoding="utf-8").splitlines()))
    assert [r["cover_m"] for r in flat] == [r["cover_m"] for r in rows]
    res = run([*pipes, "--ground", "31.5", "--dem", str(D("dem")), "--out",
               str(tmp_path / "both.pdf")])
    assert res.exit_code == 2 and "not both" in res.output
    res = run([*pipes, "--ground", "nan", "--out", str(tmp_path / "nan.pdf")])
    assert res.exit_code == 2 and "--ground must be a finite" in res.output
    assert "pipes_to_3d" not in res.output


def test_groundwater_fields_named_on_the_command_line(tmp_path, line):
    import geopandas as gpd

    wells = gpd.read_file(D("boreholes"))
    renamed = wells.rename(columns={"gw_elev_m": "수위값", "gw_depth_m": "깊이값",
                                    "measured": "검측"})
    path = tmp_path / "wells.gpkg"
    renamed.to_file(path)
    args = [*base(tmp_path / "s.pdf"), "--line", line, "--groundwater", str(path)]
    res = run(args)
    assert res.exit_code == 2 and "--gw-elev" in res.output
    res = run([*args, "--gw-depth", "깊이값", "--gw-date", "검측"])
    assert res.exit_code == 0, res.output
