"""``geo3d tiles3d``: the contract (one of --pipes/--scan, --out a folder) and exit 2 on bad input.

The tilesets themselves are tested in tests/tiles/test_tiles3d.py (written through this command).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import geo3d.cli.commands  # noqa: F401  (registers the commands)
from geo3d import datasets
from geo3d.cli.main import cli

pytest.importorskip("pygltflib")


def _run(*args):
    return CliRunner().invoke(cli, ["tiles3d", *map(str, args)])


def test_pipes_with_cells_and_geoid_height(tmp_path):
    out = tmp_path / "t"
    res = _run("--pipes", datasets.get_path("utilities"), "--cell", "2000", "--geoid-height",
               "25", "--out", out)
    assert res.exit_code == 0, res.output
    tileset = json.loads((out / "tileset.json").read_text())
    assert [c["content"]["uri"] for c in tileset["root"]["children"]] == ["pipes_0_0.glb"]
    assert tileset["asset"]["extras"]["geo3d"]["geoid_height_m"] == 25
    assert "tileset.json" in res.output
    res = _run("--pipes", datasets.get_path("utilities"), "--out", out)
    assert res.exit_code == 2 and "--overwrite" in res.output


@pytest.mark.parametrize(("args", "message"), [
    ((), "--pipes"),
    (("--pipes", "P", "--scan", "S"), "either"),
    (("--pipes", "none.gpkg"), "does not exist"),
    (("--scan", "nowhere"), "not a folder"),
    (("--scan", "."), "objects.gpkg"),
    (("--pipes", "P", "--points"), "--points"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    args = tuple(str(datasets.get_path("utilities")) if a == "P" else a for a in args)
    res = _run(*args, "--out", tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert not (tmp_path / "out").exists()
