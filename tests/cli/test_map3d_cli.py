"""`geo3d map3d` through click's CliRunner: the page it writes, and exit 2 on bad input."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

import geo3d.cli.map3d  # noqa: F401  (registers the command)
from geo3d.cli.main import cli
from geo3d.datasets import get_path
from geo3d.viz.page import decode_column


def run(args):
    return CliRunner().invoke(cli, ["map3d", *map(str, args)])


def scene_of(path):
    text = path.read_text(encoding="utf-8")
    start = text.index("window.GEO3D_SCENE = ") + len("window.GEO3D_SCENE = ")
    return json.JSONDecoder().raw_decode(text[start:])[0]


def test_pipes_pit_and_line(tmp_path):
    out = tmp_path / "m.html"
    line = gpd.read_file(get_path("section_line")).geometry.iloc[0]
    arg = ",".join(f"{v:.2f}" for v in shapely.get_coordinates(line).ravel())
    res = run(["--pipes", get_path("utilities"), "--dem", get_path("dem"), "--pit", get_path("pit"),
               "--depth", 2.5, "--road-width", 25, "--line", arg, "--out", out])
    assert res.exit_code == 0, res.output
    assert "pit: " in res.output and "pipes reached" in res.output
    scene = scene_of(out)
    ids = {layer["id"] for layer in scene["layers"]}
    assert {"pipes-water-round", "pipes-gas-round", "ground", "pit", "reached", "section"} <= ids
    values = {c: decode_column(v) for c, v in scene["tables"]["pipes"]["values"].items()}
    assert isinstance(scene["tables"]["pipes"]["values"]["utility"], dict)  # dictionary-coded
    assert set(values["depth_source"]) == {"measured (from the source)",
                                           "assumed (default cover: depth unknown in the source)"}
    reached = [i for i, v in enumerate(values["pit_reached"]) if v == "yes"]
    assert len(reached) == len(scene["lists"][0]["rows"]) > 0
    assert all(isinstance(values["pit_clearance_m"][i], (int, float)) for i in reached)
    # refuses to replace it without --overwrite
    res = run(["--pipes", get_path("utilities"), "--out", out])
    assert res.exit_code == 2 and "exists" in res.output


def test_without_dem_the_ground_is_flat(tmp_path):
    out = tmp_path / "flat.html"
    res = run(["--pipes", get_path("utilities"), "--out", out])
    assert res.exit_code == 0, res.output
    scene = scene_of(out)
    assert scene["z_ref"] == 0 and "no DEM" in scene["legend_note"]
    assert not any(layer["id"] == "ground" for layer in scene["layers"])


@pytest.mark.parametrize("args, words", [
    ([], "either --pipes"),
    (["--pipes", "P", "--scan", "S"], "either --pipes"),
    (["--pipes", "{pipes}", "--out", "{tmp}/m.png"], ".html"),
    (["--pipes", "{tmp}/missing.gpkg"], "does not exist"),
    (["--pipes", "{pipes}", "--depth", "2"], "--depth goes with --pit"),
    (["--pipes", "{pipes}", "--line", "1,2,3"], "line"),
    (["--scan", "{tmp}"], "not a `geo3d scan` output folder"),
    (["--scan", "{tmp}", "--dem", "{pipes}"], "go with --pipes"),
])
def test_bad_input_exit_2_and_no_output(tmp_path, args, words):
    args = [a.format(pipes=get_path("utilities"), tmp=tmp_path) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "m.html")]
    res = run(args)
    assert res.exit_code == 2, res.output
    assert words in res.output
    assert not (tmp_path / "m.html").exists()
