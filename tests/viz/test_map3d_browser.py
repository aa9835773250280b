"""The 3D maps geo3d writes, in headless Chromium with no network: they load, draw the data in
its colours, show attributes on click, and the market's address search finds a store."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner

import geo3d.cli.commands  # noqa: F401  (registers the commands)
from geo3d.cli.main import cli
from geo3d.datasets import get_path

pytestmark = pytest.mark.browser


def _section_arg() -> str:
    line = gpd.read_file(get_path("section_line")).geometry.iloc[0]
    return ",".join(f"{v:.2f}" for v in shapely.get_coordinates(line).ravel())


@pytest.fixture(scope="module")
def underground_html(tmp_path_factory):
    out = tmp_path_factory.mktemp("map3d") / "underground.html"
    res = CliRunner().invoke(cli, ["map3d", "--pipes", str(get_path("utilities")), "--dem",
                                   str(get_path("dem")), "--pit", str(get_path("pit")), "--depth", "2.5",
                                   "--road-width", "25", "--line", _section_arg(), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def _open(page, path):
    page.set_viewport_size({"width": 960, "height": 600})  # software WebGL: fewer pixels, faster
    page.goto(path.as_uri())
    page.wait_for_function("window.GEO3D && window.GEO3D.ready === true", timeout=60_000)
    assert page.evaluate("window.GEO3D.error || null") is None
    return page


def _pixel(page, x, y):
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"), dtype=int)
    return np.median(img[y - 2:y + 3, x - 2:x + 3].reshape(-1, 3), axis=0)


def _segment_of(page, utility: str):
    """Midpoint of the longest segment of a pipe of ``utility`` (local metres) and its feature."""
    return page.evaluate("""(u) => {
        const S = GEO3D.scene, L = S.layers.find((l) => l.id === 'pipes-' + u + '-round'), util = S.tables.pipes.values.utility;
        let best = -1, len = 0;
        for (let i = 0; i < L.feature.length; i++) {
            if (util[L.feature[i]] !== u) continue;
            const d = Math.hypot(L.b[3*i] - L.a[3*i], L.b[3*i+1] - L.a[3*i+1]);
            if (d > len) { len = d; best = i; }
        }
        const m = [0, 1, 2].map((k) => (L.a[3*best+k] + L.b[3*best+k]) / 2);
        return {position: m, feature: L.feature[best]};
    }""", utility)


def _frames(page, n=3):
    """Wait for ``n`` animation frames (deck.gl redraws on the next one after a change)."""
    page.evaluate("(n) => new Promise((r) => { const f = (k) => k ? requestAnimationFrame(() => f(k - 1)) : r(); f(n); })", n)


def _look_down_at(page, position):
    page.evaluate("(p) => GEO3D.flyTo(p, 3, {pitch: 0, bearing: 0, duration: 0})", position)
    _frames(page)


def test_underground_map_offline_colours_and_attributes(offline_page, underground_html):
    page = _open(offline_page, underground_html)
    assert page.title().startswith("지하시설물 3D 지도")
    legend = page.inner_text("#g3-legend")
    assert "water" in legend and "gas" in legend and "pit" in legend and "section" in legend
    assert "Reached by the pit" in page.inner_text("#g3-list")
    assert page.inner_text("#g3-scale-label").endswith("m")
    w, h = page.viewport_size["width"], page.viewport_size["height"]
    cx, cy = w // 2, h // 2
    page.evaluate("GEO3D.setHidden(['ground', 'pit', 'section'], true)")  # nothing over the pipes
    for utility in ("water", "gas"):
        seg = _segment_of(page, utility)
        _look_down_at(page, seg["position"])
        px = _pixel(page, cx, cy)
        # lit tubes: the hue of the palette colour, not its exact value
        if utility == "water":
            assert px[2] > px[0] + 60 and px[2] > px[1] + 20, (utility, px)
        else:
            assert px[0] > 120 and px[1] > 100 and px[2] < px[1] - 60, (utility, px)
        page.mouse.click(cx, cy)
        page.wait_for_selector("#g3-info", state="visible")
        info = page.inner_text("#g3-info")
        values = page.evaluate("GEO3D.scene.tables.pipes.values")
        f = seg["feature"]
        assert values["utility"][f] == utility and values["source_id"][f] in info
        for column in ("source_layer", "agency", "diameter_mm", "material", "install_year", "depth_source"):
            assert column in info, column
        assert page.evaluate("GEO3D.selected.attributes.utility") == utility
    # the search box finds a pipe by "utility source_id", and the pit
    label = page.evaluate("(f) => GEO3D.scene.tables.pipes.values.label[f]", seg["feature"])
    page.fill("#g3-search-input", label)
    page.press("#g3-search-input", "Enter")
    page.wait_for_function("(l) => document.getElementById('g3-info-title').textContent === l", arg=label)
    assert page.evaluate("GEO3D.scene.search[0].text") == "pit 굴착"
    assert page.blocked_requests == []


def test_market_map_offline_search_and_click(offline_page, tmp_path):
    from geo3d.address import assign_addresses, market_from_dict
    from geo3d.viz.market_map import market_map_to_html

    x0, y0 = 203400.0, 553300.0
    m = market_from_dict({"name": "가", "sido": "서울특별시", "sigungu": "동대문구", "parent_road": "고산자로36길",
                          "parent_number": "3", "crs": "EPSG:5186"})
    aisles = gpd.GeoDataFrame({"name": ["가1통로", "가2통로"], "floor": [1, 2]},
                              geometry=[shapely.LineString([(x0, y0), (x0 + 40, y0)])] * 2, crs="EPSG:5186")
    boxes = [shapely.box(x0 + 2 + 5 * i, y0 + 2, x0 + 6 + 5 * i, y0 + 6) for i in range(6)]
    stores = gpd.GeoDataFrame({"object_id": range(1, 13), "floor": [1] * 6 + [2] * 6},
                              geometry=boxes * 2, crs="EPSG:5186")
    fac = gpd.GeoDataFrame({"object_id": [20], "kind": ["fire_extinguisher"], "floor": [1]},
                           geometry=[shapely.Point(x0 + 20, y0 - 1.4)], crs="EPSG:5186")
    a = assign_addresses(stores, fac, aisles, None, m)
    levels = gpd.GeoDataFrame({"floor": [1, 2], "label": ["1층", "2층"], "slab_z": [32.0, 36.2]},
                              geometry=[shapely.box(x0 - 2, y0 - 4, x0 + 42, y0 + 8)] * 2, crs="EPSG:5186")
    path = market_map_to_html(a, tmp_path / "map.html", aisles=aisles, levels=levels, title="가 시장 3D")
    page = _open(offline_page, path)
    assert page.title() == "가 시장 3D"
    assert "store" in page.inner_text("#g3-legend") and "extinguisher" in page.inner_text("#g3-legend")
    # search a store of 2층 by its address: the level switches, the view flies, its record shows
    target = a[(a["kind"] == "store") & (a["floor"] == 2)]["address"].iloc[3]
    page.fill("#g3-search-input", target)
    page.press("#g3-search-input", "Enter")
    page.wait_for_selector("#g3-info", state="visible")
    assert page.inner_text("#g3-info-title") == target
    assert page.evaluate("GEO3D.state.level") == 2
    assert "2층" in page.inner_text("#g3-info")
    page.wait_for_timeout(1200)  # the flight
    # clicking the store at its screen position shows its 3D address too; stores are blue
    page.click("#g3-info-close")
    xy = page.evaluate("""(address) => {
        const S = GEO3D.scene, f = S.tables.objects.values.address.indexOf(address);
        const e = S.search.find((s) => s.feature === f);
        return GEO3D.project(e.position[0], e.position[1], e.position[2] + 2.0);
    }""", target)
    px = _pixel(page, int(xy[0]), int(xy[1]))
    assert px[2] > px[0] + 40, px  # steel blue roof
    page.mouse.click(int(xy[0]), int(xy[1]))
    page.wait_for_selector("#g3-info", state="visible")
    assert page.inner_text("#g3-info-title") == target
    assert page.blocked_requests == []


def test_stats_html_map_offline_with_title_and_legend(offline_page, tmp_path):
    out = tmp_path / "stats.csv"
    html = tmp_path / "stats_map.html"
    res = CliRunner().invoke(cli, ["stats", "--pipes", str(get_path("utilities")), "--areas",
                                   str(get_path("neighbourhoods")), "--area-id", "adm_cd2", "--year", "2025",
                                   "--utility", "water", "--out", str(out), "--map", str(html)])
    assert res.exit_code == 0, res.output
    page = offline_page
    page.goto(html.as_uri())
    page.wait_for_selector("#deck-container canvas", timeout=60_000)
    page.wait_for_timeout(2500)
    assert page.title() == "노후 비율 aged share · water"
    assert "share_over_threshold" in page.inner_text("#geo3d-legend")
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"), dtype=int)
    r, b = img[..., 0], img[..., 2]
    ramp = (r > 200) & (b < 160) & (r - b > 60)  # yellow→red fills of the areas
    assert ramp.mean() > 0.05, ramp.mean()
    assert page.blocked_requests == []


def test_notebook_outputs_render_offline(offline_page, tmp_path):
    """A notebook that displays a 3D map (``Scene3D``, as notebook 01) and a pydeck map through
    ``offline_view`` (as notebook 03) is executed in a Jupyter kernel; its ``text/html`` outputs,
    what JupyterLab puts in the page, draw in Chromium with no network."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    code = [
        "import geopandas as gpd, shapely\n"
        "from geo3d.viz.market3d import market_scene\n"
        "objs = gpd.GeoDataFrame({'kind': ['store', 'aed'], 'floor': [1, 1], 'address': ['가1통로 1', None]},\n"
        "    geometry=[shapely.box(203400, 553300, 203404, 553304), shapely.Point(203406, 553300)], crs=5186)\n"
        "market_scene(objs, title='nb market')",
        "import pandas as pd\n"
        "from geo3d.stats import aging_statistics\n"
        "from geo3d.viz import offline_view, statistics_deck\n"
        "areas = gpd.GeoDataFrame({'id': ['A', 'B']}, geometry=[shapely.box(203000, 553000, 203500, 554000),\n"
        "    shapely.box(203500, 553000, 204000, 554000)], crs=5186)\n"
        "pipes = gpd.GeoDataFrame({'utility': ['water'] * 4, 'install_year': pd.array([1970, 2020, 1970, 2020])},\n"
        "    geometry=[shapely.LineString([(x, 553500), (x + 200, 553500)]) for x in (203050, 203250, 203550, 203700)],\n"
        "    crs=5186)  # half the length in each area is aged: orange fills\n"
        "stats = aging_statistics(pipes, areas, area_id='id', reference_date=2025)\n"
        "offline_view(statistics_deck(stats, areas, area_id='id', utility='water'), height=500)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = [o["data"]["text/html"] for c in nb.cells for o in c.outputs if "text/html" in o.get("data", {})]
    assert len(outputs) == 2 and all(o.startswith("<iframe") for o in outputs)
    page = offline_page
    page.set_viewport_size({"width": 900, "height": 1300})
    doc = tmp_path / "notebook_output.html"
    doc.write_text("<html><body>" + "".join(f"<div>{o}</div>" for o in outputs) + "</body></html>",
                   encoding="utf-8")
    page.goto(doc.as_uri())
    market, stats = page.frames[1], page.frames[2]
    market.wait_for_function("window.GEO3D && window.GEO3D.ready === true", timeout=60_000)
    assert market.title() == "nb market"
    stats.wait_for_selector("#deck-container canvas", timeout=60_000)
    page.wait_for_timeout(2500)
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"), dtype=int)
    r, b = img[..., 0], img[..., 2]
    blue = (b > r + 40) & (b > 120)            # the store (steel blue) in the 3D map
    ramp = (r > 200) & (b < 160) & (r - b > 60)  # the areas' yellow→red fills
    assert blue[:620].mean() > 0.002 and ramp[620:].mean() > 0.03, (blue[:620].mean(), ramp[620:].mean())
    assert page.blocked_requests == []


def _first_segment(page, prefix: str):
    """Midpoint (local metres), level, feature and colour of the first segment of the first
    layer whose id starts with ``prefix``."""
    return page.evaluate("""(prefix) => {
        const L = GEO3D.scene.layers.find((l) => l.id.startsWith(prefix));
        const m = [0, 1, 2].map((k) => (L.a[k] + L.b[k]) / 2);
        return {position: m, level: L.level, feature: L.feature[0], color: Array.from(L.color.slice(0, 3))};
    }""", prefix)


def test_market_map_routes_and_path_addresses(offline_page, sample_scan, tmp_path):
    from geo3d.viz.market3d import market_scene_from_scan

    path = market_scene_from_scan(sample_scan, title="경동시장 routes").to_html(tmp_path / "routes.html")
    page = _open(offline_page, path)
    legend = page.inner_text("#g3-legend")
    assert "evacuation route" in legend and "access" in legend and "stairs" in legend
    groups = page.evaluate("GEO3D.scene.legend.filter((e) => e.group).map((e) => e.group)")
    w, h = page.viewport_size["width"], page.viewport_size["height"]
    cx, cy = w // 2, h // 2
    # a store's route: its first segment (from the store into its door) is that store's alone;
    # stores and the network hidden so that nothing covers it
    seg = _first_segment(page, "evacuation-ok-")
    page.evaluate("(g) => GEO3D.setHidden(g, true)", [g for g in groups if not g.startswith("evacuation")] + ["store"])
    page.evaluate("(l) => GEO3D.setLevel(l)", seg["level"])
    _look_down_at(page, seg["position"])
    px = _pixel(page, cx, cy)
    assert seg["color"] == [30, 170, 70] and px[1] > px[0] + 60 and px[1] > px[2] + 40, px  # green: within limit
    page.mouse.click(cx, cy)
    page.wait_for_selector("#g3-info", state="visible")
    address = page.evaluate("(f) => GEO3D.scene.tables.evacuation.values.address[f]", seg["feature"])
    assert page.inner_text("#g3-info-title") == address
    info = page.inner_text("#g3-info")
    assert "distance_m" in info and "limit_m" in info and "within limit" in info
    # hiding the routes' check box clears them from the pixel
    page.click('input[data-group="evacuation-ok"]')
    _frames(page)
    px = _pixel(page, cx, cy)
    assert not (px[1] > px[0] + 60 and px[1] > px[2] + 40), px
    # an aisle edge of the network: its path address on click
    page.click("#g3-info-close")
    seg = _first_segment(page, "network-aisle-")
    page.evaluate("GEO3D.setHidden('network-aisle', false)")
    page.evaluate("(l) => GEO3D.setLevel(l)", seg["level"])
    _look_down_at(page, seg["position"])
    page.mouse.click(cx, cy)
    page.wait_for_selector("#g3-info", state="visible")
    want = page.evaluate("(f) => GEO3D.scene.tables.network.values.path_address[f]", seg["feature"])
    assert want and page.inner_text("#g3-info-title") == want and "length_m" in page.inner_text("#g3-info")
    assert page.blocked_requests == []
