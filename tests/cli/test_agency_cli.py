"""Real agency files (../shared/data/pipes) through stats, excavate, section and tiles with
``--schema MAP.toml`` and ``--crs``: lengths in metres, never feet (CONTRACTS.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from geo3d.cli import commands as _commands  # noqa: F401  (registers the commands)
from geo3d.cli.main import cli

pytestmark = pytest.mark.shared_data

KY4_MAP = """
[[layer]]
source = "{path}"
utility = "water"
id = "name"
diameter = {{ field = "diameter", unit = "m" }}
"""

ARCS_MAP = """
[[layer]]
source = "{path}"
utility = "water"
id = "linknwid"
diameter = {{ field = "diameter", unit = "in" }}
material = "pipetype"

[layer.material_values]
TTE = "other"
"""


def run(args: list[object]):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def ky4(shared_data: Path, tmp_path_factory) -> dict[str, Path]:
    """KY4 (EPSG:3547, US survey feet), its map, one area around it, a pit and a flat DEM."""
    d = tmp_path_factory.mktemp("ky4")
    src = shared_data / "pipes" / "ky4_pipes.geojson"
    (d / "map.toml").write_text(KY4_MAP.format(path=src.as_posix()), encoding="utf-8")
    lonlat = gpd.read_file(src).to_crs(4326)
    gpd.GeoDataFrame({"id": ["ky4"]}, geometry=[shapely.box(*lonlat.total_bounds).buffer(0.01)],
                     crs=4326).to_file(d / "areas.geojson")
    utm = lonlat.to_crs(32616)
    mid = utm.geometry.iloc[0].interpolate(0.5, normalized=True)
    gpd.GeoDataFrame({"depth_m": [2.5]}, geometry=[mid.buffer(5, cap_style="square")],
                     crs=32616).to_file(d / "pit.geojson")
    _flat_dem(d / "dem.tif", utm.total_bounds, 200.0)
    with_utility = lonlat.assign(utility="water").to_crs(3547)  # the 853.6 km file
    with_utility.to_file(d / "ky4_utility.geojson")
    return {"src": src, "map": d / "map.toml", "areas": d / "areas.geojson",
            "pit": d / "pit.geojson", "dem": d / "dem.tif", "mid": mid,
            "utility": d / "ky4_utility.geojson", "dir": d}


def _flat_dem(path: Path, bounds: np.ndarray, z: float) -> None:
    """Flat ground over the whole network (20 m cells)."""
    import rasterio
    from rasterio.transform import from_origin

    x0, y0, x1, y1 = bounds
    w, h = int((x1 - x0) // 20) + 3, int((y1 - y0) // 20) + 3
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
                       crs="EPSG:32616", transform=from_origin(x0 - 20, y1 + 20, 20, 20)) as dst:
        dst.write(np.full((h, w), z, dtype="float32"), 1)


def _total_km(path: Path) -> float:
    with path.open(encoding="utf-8") as fh:
        return sum(float(r["length_m"]) for r in csv.DictReader(fh)) / 1000


def test_ky4_stats_with_a_map_is_260_km(ky4, tmp_path):
    out = tmp_path / "st.csv"
    res = run(["stats", "--pipes", ky4["src"], "--schema", ky4["map"], "--areas", ky4["areas"],
               "--area-id", "id", "--out", out])
    assert res.exit_code == 0, res.output
    assert "260.1 km of pipe" in res.stdout
    assert _total_km(out) == pytest.approx(260.14, abs=0.01)  # not 853.6 (the feet)
    assert "reprojected to EPSG:32616" in res.stderr  # the output says so


def test_ky4_feet_without_a_map_is_reprojected_or_refused(ky4, tmp_path):
    out = tmp_path / "st.csv"
    refused = run(["stats", "--pipes", ky4["src"], "--areas", ky4["areas"], "--area-id", "id",
                   "--out", out])
    assert refused.exit_code == 2 and "--schema MAP.toml" in refused.stderr
    assert not out.exists()
    res = run(["stats", "--pipes", ky4["utility"], "--areas", ky4["areas"], "--area-id", "id",
               "--out", out])
    assert res.exit_code == 0, res.output
    assert "260.1 km" in res.stdout and "853.6" not in res.stdout
    assert _total_km(out) == pytest.approx(260.14, abs=0.01)


def test_ky4_crs_option_declares_a_missing_crs(ky4, tmp_path):
    nocrs = tmp_path / "ky4_nocrs.csv"
    g = gpd.read_file(ky4["utility"])
    g.assign(wkt=shapely.to_wkt(g.geometry.to_numpy())).drop(columns="geometry").to_csv(
        nocrs, index=False)
    out = tmp_path / "st.csv"
    res = run(["stats", "--pipes", nocrs, "--areas", ky4["areas"], "--area-id", "id",
               "--out", out])
    assert res.exit_code == 2 and "--crs" in res.stderr and "crs=" not in res.stderr
    res = run(["stats", "--pipes", nocrs, "--crs", "EPSG:3547", "--areas", ky4["areas"],
               "--area-id", "id", "--out", out])
    assert res.exit_code == 0, res.output
    assert _total_km(out) == pytest.approx(260.14, abs=0.01)


def test_ky4_excavate_section_tiles_with_a_map(ky4, tmp_path):
    pytest.importorskip("matplotlib")
    conflicts = tmp_path / "c.csv"
    res = run(["excavate", "--pipes", ky4["src"], "--schema", ky4["map"], "--pit", ky4["pit"],
               "--depth", 2.5, "--dem", ky4["dem"], "--out", conflicts])
    assert res.exit_code == 0, res.output
    with conflicts.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and rows[0]["source_id"] == "P-1" and float(rows[0]["diameter_mm"]) == 152.4
    mid = ky4["mid"]
    sheet = tmp_path / "s.pdf"
    line = f"{mid.x - 8},{mid.y - 8},{mid.x + 8},{mid.y + 8}"
    res = run(["section", "--pipes", ky4["src"], "--schema", ky4["map"], "--line", line,
               "--dem", ky4["dem"], "--out", sheet])
    assert res.exit_code == 0, res.output
    assert "P-1" in sheet.with_suffix(".csv").read_text(encoding="utf-8")
    pytest.importorskip("pmtiles")
    pytest.importorskip("mapbox_vector_tile")
    tiles = tmp_path / "t.pmtiles"
    res = run(["tiles", "--pipes", ky4["src"], "--schema", ky4["map"], "--out", tiles,
               "--minzoom", 10, "--maxzoom", 12])
    assert res.exit_code == 0, res.output
    assert "1,156 pipes" in res.stdout and tiles.stat().st_size > 0


def test_refactored_water_arcs_stats_with_a_map(shared_data, tmp_path):
    src = shared_data / "pipes" / "RefactoredWaterArcs.shp"
    smap = tmp_path / "map.toml"
    smap.write_text(ARCS_MAP.format(path=src.as_posix()), encoding="utf-8")
    lonlat = gpd.read_file(src)
    areas = tmp_path / "areas.geojson"
    gpd.GeoDataFrame({"id": ["seaside"]}, geometry=[shapely.box(*lonlat.total_bounds).buffer(0.01)],
                     crs=4326).to_file(areas)
    out = tmp_path / "st.csv"
    res = run(["stats", "--pipes", src, "--schema", smap, "--areas", areas, "--area-id", "id",
               "--out", out])
    assert res.exit_code == 0, res.output
    truth = lonlat.to_crs(lonlat.estimate_utm_crs()).length.sum() / 1000
    assert _total_km(out) == pytest.approx(truth, rel=1e-6)


def test_bad_schema_map_lists_every_problem(ky4, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[layer]]\nsource = "x"\nutilty = "water"\n'
                   'diameter = { field = "d", unit = "furlong" }\n', encoding="utf-8")
    res = run(["stats", "--pipes", ky4["src"], "--schema", bad, "--areas", ky4["areas"],
               "--area-id", "id", "--out", tmp_path / "st.csv"])
    assert res.exit_code == 2
    err = res.stderr
    assert err.startswith("Error: --schema bad.toml: 3 problem(s)")
    assert "unknown key 'utilty'; valid keys: source, layer, utility" in err
    assert "unknown unit 'furlong'; valid units: mm, cm, m, in, ft" in err
    assert "no utility" in err
