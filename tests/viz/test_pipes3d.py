"""The 3D pydeck view of pipes, a pit and an excavation."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

pytest.importorskip("pydeck")

from geo3d.datasets import get_path
from geo3d.errors import InputError, OutputExistsError
from geo3d.io.raster import read_dem
from geo3d.underground import pipes_to_3d, read_pipes
from geo3d.underground.excavation import excavate
from geo3d.viz.deck import deck_to_html as to_html
from geo3d.viz.pipes3d import PALETTES, pipes_deck


@pytest.fixture(scope="module")
def scene():
    pipes = pipes_to_3d(read_pipes(get_path("utilities")), read_dem(get_path("dem")))
    pit = gpd.read_file(get_path("pit"))
    ex = excavate(pipes, pit, dem=read_dem(get_path("dem")))
    return pipes, pit, ex


def test_pipes_true_width_colours_wgs84(scene):
    pipes, _, ex = scene
    deck = pipes_deck(pipes, excavation=ex)
    ids = [layer.id for layer in deck.layers]
    assert ids[0] == "pit" and ids[-1] == "pipes" and "reached" in ids
    data = deck.layers[-1].data
    assert len(data) == len(pipes)
    first = data[0]
    lon, lat, z = first["path"][0]
    assert 126.5 < lon < 127.5 and 37.0 < lat < 38.0           # Seoul, WGS84, x = lon
    assert z < 0                                                # below the pit's top (ground)
    row = pipes.iloc[0]
    size = row["diameter_mm"] if row["diameter_mm"] == row["diameter_mm"] else row["width_mm"]
    assert first["width_m"] == pytest.approx(float(size) / 1000.0)
    assert first["color"][:3] == list(PALETTES["korean"][row["utility"]])
    reached = next(layer for layer in deck.layers if layer.id == "reached")
    assert len(reached.data) == len(ex.conflicts)
    pit = deck.layers[0].data[0]
    assert pit["depth"] == pytest.approx(ex.pit.depth)
    assert pit["polygon"][0][2] == pytest.approx(-ex.pit.depth)   # floor below the top


def test_apwa_and_custom_palettes(scene):
    pipes, pit, _ = scene
    gas = pipes[pipes["utility"] == "gas"].iloc[:3]
    d = pipes_deck(gas, pit=pit, palette="apwa")
    assert d.layers[-1].data[0]["color"][:3] == [255, 255, 0]
    d = pipes_deck(gas, palette={"gas": (1, 2, 3)})
    assert d.layers[-1].data[0]["color"][:3] == [1, 2, 3]
    with pytest.raises(InputError, match="palette"):
        pipes_deck(gas, palette="neon")


def test_to_html_atomic(scene, tmp_path):
    pipes, pit, _ = scene
    deck = pipes_deck(pipes.iloc[:50], pit=pit)
    out = to_html(deck, tmp_path / "view.html")
    text = out.read_text(encoding="utf-8")
    assert "PathLayer" in text and "deck" in text.lower()
    with pytest.raises(OutputExistsError):
        to_html(deck, out)
    with pytest.raises(InputError, match="html"):
        to_html(deck, tmp_path / "view.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["view.html"]


def test_flat_pipes_and_no_crs():
    p = gpd.GeoDataFrame({"utility": ["water"], "diameter_mm": [200.0]},
                         geometry=[shapely.LineString([(200000, 550000), (200010, 550000)])],
                         crs="EPSG:5186")
    assert pipes_deck(p).layers[-1].data[0]["path"][0][2] == 0.0
    with pytest.raises(Exception, match="CRS"):
        pipes_deck(p.set_crs(None, allow_override=True))
