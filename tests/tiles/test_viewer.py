"""The style and offline viewer written beside a tiles archive: style content, and the page in
headless Chromium with no network (served from 127.0.0.1, and opened from file:// with the
archive picked by the user): it loads, draws each utility in its colour where its pipes are, and
a click shows the pipe's attributes."""

from __future__ import annotations

import functools
import http.server
import io
import json
import threading

import geopandas as gpd
import numpy as np
import pytest

from geo3d import datasets
from geo3d.errors import MissingFileError, OutputExistsError
from geo3d.tiles import tiles_style, write_tiles, write_viewer
from geo3d.underground import read_pipes
from geo3d.viz.pipes3d import PALETTES

pytest.importorskip("pmtiles.reader")


@pytest.fixture(scope="module")
def pipes():
    return read_pipes(datasets.get_path("utilities"))


@pytest.fixture(scope="module")
def site(tmp_path_factory, pipes):
    folder = tmp_path_factory.mktemp("viewer")
    archive = write_tiles(pipes, folder / "pipes.pmtiles", minzoom=12, maxzoom=16)
    style, page = write_viewer(archive, title="지하시설물 벡터 타일")
    return archive, style, page


def test_style_colours_each_utility_from_the_palette(site):
    _, style_path, _ = site
    style = json.loads(style_path.read_text(encoding="utf-8"))
    assert style["version"] == 8
    assert style["sources"]["geo3d"]["url"] == "pmtiles://pipes.pmtiles"
    lines = {layer["id"]: layer for layer in style["layers"] if layer["type"] == "line"}
    assert set(lines) == {"water", "sewer", "power", "telecom", "gas", "heat"}
    for utility, layer in lines.items():
        r, g, b = PALETTES["korean"][utility]
        assert layer["paint"]["line-color"] == f"#{r:02x}{g:02x}{b:02x}"
        assert layer["source-layer"] == utility
    apwa = tiles_style(["power"], palette="apwa")["layers"][-1]["paint"]["line-color"]
    assert apwa == "#ff0000"


def test_page_is_self_contained(site):
    _, _, page = site
    text = page.read_text(encoding="utf-8")
    assert "maplibregl" in text and "pmtiles" in text
    assert "//unpkg" not in text and "//cdn" not in text and "sourceMappingURL" not in text
    assert "<title>지하시설물 벡터 타일</title>" in text


def test_bad_input(tmp_path, site):
    archive, _, _ = site
    with pytest.raises(OutputExistsError):
        write_viewer(archive)
    with pytest.raises(MissingFileError):
        write_viewer(tmp_path / "none.pmtiles")


@pytest.fixture
def server(site):
    folder = site[0].parent
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


SMALL = {"width": 640, "height": 420}  # software WebGL: fewer pixels, faster frames


class _QuietHandler(http.server.SimpleHTTPRequestHandler):  # what `python -m http.server` runs
    def log_message(self, *args):
        pass


def _longest(pipes, utility):
    rows = pipes[pipes["utility"] == utility]
    pipe = rows.loc[rows.length.idxmax()]
    mid = gpd.GeoSeries([pipe.geometry.interpolate(0.5, normalized=True)],
                        crs=pipes.crs).to_crs(4326).iloc[0]
    return pipe, (mid.x, mid.y)


def _colour_near_centre(page, rgb, radius=3):
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"), dtype=int)
    h, w = img.shape[:2]
    patch = img[h // 2 - radius:h // 2 + radius + 1, w // 2 - radius:w // 2 + radius + 1]
    return np.abs(patch - np.asarray(rgb)).max(axis=2).min()


def _check_pipes(page, pipes, utilities=("water", "gas")):
    for utility in utilities:
        pipe, (lon, lat) = _longest(pipes, utility)
        page.evaluate("([lon, lat]) => new Promise((done) => { const m = geo3dViewer.map; "
                      "m.jumpTo({center: [lon, lat], zoom: 20}); m.once('idle', done); })",
                      [lon, lat])
        assert _colour_near_centre(page, PALETTES["korean"][utility]) < 40, utility
        box = page.locator("#map canvas").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector("#info", state="visible")
        info = page.inner_text("#info")
        assert pipe["source_id"] in info, (utility, info)
        assert pipe["material"] in info and "diameter_mm" in info


@pytest.mark.browser
def test_viewer_served_from_localhost(offline_page, server, site, pipes):
    page = offline_page
    page.set_viewport_size(SMALL)
    page.goto(f"{server}/pipes.html")
    page.wait_for_function("document.body.dataset.state === 'ready'", timeout=60_000)
    assert page.title() == "지하시설물 벡터 타일"
    legend = page.inner_text("#legend")
    for label in ("상수 Water", "하수 Sewer", "가스 Gas", "전력 Power", "통신 Telecom"):
        assert label in legend
    _check_pipes(page, pipes)
    assert page.blocked_requests == []
    assert page.console_errors == []


@pytest.mark.browser
def test_viewer_from_a_file_with_the_archive_picked(offline_page, site, pipes):
    archive, _, html = site
    page = offline_page
    page.set_viewport_size(SMALL)
    page.goto(html.as_uri())
    page.wait_for_function("document.body.dataset.state === 'waiting'", timeout=60_000)
    assert "pipes.pmtiles" in page.inner_text("#open")
    page.set_input_files("#file", str(archive))
    page.wait_for_function("document.body.dataset.state === 'ready'", timeout=60_000)
    _check_pipes(page, pipes, ("sewer",))
    assert page.blocked_requests == []
    assert page.console_errors == []
