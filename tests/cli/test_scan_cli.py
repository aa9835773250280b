"""`geo3d segment` and `geo3d scan` on wrong scans and markets (issue 12): no exit 0 with a wrong
answer, and the cause named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import laspy
import numpy as np
import pytest
from click.testing import CliRunner

from geo3d import datasets
from geo3d.cli import commands  # noqa: F401  (registers the commands)
from geo3d.cli.main import cli


def _scan(path: Path, xyz) -> Path:
    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([200_000.0, 550_000.0, 0.0])
    las = laspy.LasData(header)
    xyz = np.asarray(xyz, dtype=float).reshape(-1, 3)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    las.write(path)
    return path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_identical_points_are_counted_as_in_the_file(runner, tmp_path):
    scan = _scan(tmp_path / "same.las", np.tile([200_010.0, 550_010.0, 1.0], (5000, 1)))
    out = tmp_path / "out"
    res = runner.invoke(cli, ["segment", str(scan), "--crs", "EPSG:5186", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("5,000 points (1 distinct)")
    report = json.loads((out / "report.json").read_text())
    assert report["points"] == 5000 and report["distinct_points"] == 1
    assert laspy.read(out / "points.laz").header.point_count == 5000


def test_crs_given_on_the_command_line_is_written_into_points_laz(runner, tmp_path):
    """Streamed tile by tile (the whole-scan path is write_las(cloud): tests/io/test_las.py)."""
    las = laspy.read(datasets.get_path("market"))  # a tenth of the sample scan, its CRS removed
    las.points = las.points[np.arange(0, len(las.points), 10)]
    for name in ("WktCoordinateSystemVlr", "GeoKeyDirectoryVlr", "GeoAsciiParamsVlr", "GeoDoubleParamsVlr"):
        while las.header.vlrs.get(name):
            las.header.vlrs.extract(name)
    las.header.global_encoding.wkt = False
    scan = tmp_path / "s.laz"
    las.write(scan)
    assert laspy.read(scan).header.parse_crs() is None
    res = runner.invoke(cli, ["segment", str(scan), "--crs", "EPSG:5186", "--tile-size", "40",
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert laspy.read(tmp_path / "out" / "points.laz").header.parse_crs().to_epsg() == 5186


def test_crs_that_cannot_fit_is_refused_like_the_files(runner, tmp_path):
    scan = _scan(tmp_path / "s.las", [[200_000, 550_000, 0], [200_010, 550_010, 3]])
    res = runner.invoke(cli, ["segment", str(scan), "--crs", "EPSG:4326", "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert re.search(r"^Error: .*crs=EPSG:4326.*cannot be right.*not longitudes", res.stderr)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("crs", [[], ["--crs", "EPSG:5186"]])
def test_zero_point_file_says_it_has_no_points(runner, tmp_path, crs):
    scan = _scan(tmp_path / "zero.las", np.zeros((0, 3)))
    res = runner.invoke(cli, ["segment", str(scan), *crs, "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    first = res.stderr.splitlines()[0]
    assert first.startswith("Error: ") and "has no points" in first and "crs" not in first.lower()


def _market(tmp_path: Path, *, shift: float = 0.0, crs: str | None = None) -> Path:
    text = datasets.get_path("market_toml").read_text(encoding="utf-8")
    if crs is not None:
        text = text.replace('crs = "EPSG:5186"', f'crs = "{crs}"')
    if shift:
        text = re.sub(r"\[\[([\d.]+), ([\d.]+)\], \[([\d.]+), ([\d.]+)\]\]",
                      lambda m: "[[{}, {}], [{}, {}]]".format(*(float(v) + shift for v in m.groups())), text)
    path = tmp_path / "MARKET.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_aisles_far_from_the_scan_are_refused_before_the_work(runner, tmp_path):
    market = _market(tmp_path, shift=10_000.0)
    rng = np.random.default_rng(1)  # a small scan over the sample market's plan extent
    xyz = np.c_[rng.uniform(203_456, 203_522, 2000), rng.uniform(553_306, 553_394, 2000), rng.uniform(30, 40, 2000)]
    scan = _scan(tmp_path / "s.las", xyz)
    res = runner.invoke(cli, ["scan", str(scan), "--market", str(market), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert re.search(r"^Error: MARKET.toml: 10 of 10 aisles lie outside the scan.*lies 14,0\d\d m from it",
                     res.stderr)
    assert not (tmp_path / "out").exists()


def test_market_crs_that_cannot_fit_is_refused(runner, tmp_path):
    scan = _scan(tmp_path / "s.las", [[200_000, 550_000, 0], [200_010, 550_010, 3]])  # no CRS in the file
    market = _market(tmp_path, crs="EPSG:4326")
    text = market.read_text(encoding="utf-8")
    market.write_text(text[: text.index("[[aisles]]")], encoding="utf-8")
    res = runner.invoke(cli, ["scan", str(scan), "--market", str(market), "--out", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert re.search(r"^Error: MARKET.toml crs EPSG:4326 .*cannot be right", res.stderr)
