"""3D Tiles 1.1 of the sample pipes and market: validated (the official 3d-tiles-validator when
installed, else the Khronos glTF validator on every content plus the tileset rules checked here),
and read back: every feature's attributes in its property table, its vertices where the pipe is."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer

import geo3d.cli.commands  # noqa: F401  (registers the commands)
from geo3d import datasets
from geo3d.cli.main import cli
from geo3d.errors import InputError
from geo3d.tiles.gltf import box_mesh, tube_mesh
from geo3d.tiles.tiles3d import pipes_to_tiles3d, scan_to_tiles3d
from geo3d.underground import read_pipes
from geo3d.viz.pipes3d import PALETTES
from geo3d.viz.underground3d import pipes_in_3d

pygltflib = pytest.importorskip("pygltflib")
REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".venv" / "node" / "node_modules"


def _node_modules() -> list[Path]:
    """Where `make test` installs the npm tools (this checkout's .venv, or the running venv's)."""
    import sys

    return [NODE_MODULES, Path(sys.prefix) / "node" / "node_modules"]


def _tool(name: str) -> Path | None:
    for root in _node_modules():
        if (root / name).is_dir():
            return root / name
    return None


def _bin(name: str) -> Path | None:
    for root in _node_modules():
        if (root / ".bin" / name).exists():
            return root / ".bin" / name
    return None


@pytest.fixture(scope="module")
def pipes():
    return read_pipes(datasets.get_path("utilities"))


@pytest.fixture(scope="module")
def pipe_tiles(tmp_path_factory):
    out = tmp_path_factory.mktemp("t3d") / "pipes3d"
    res = CliRunner().invoke(cli, ["tiles3d", "--pipes", str(datasets.get_path("utilities")),
                                   "--dem", str(datasets.get_path("dem")), "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def scan_dir(tmp_path_factory):
    """A `geo3d scan`-shaped folder from the sample market's objects and addresses (and scan)."""
    folder = tmp_path_factory.mktemp("scan")
    objs = gpd.read_file(datasets.get_path("market_objects"))
    addr = pd.read_csv(datasets.get_path("market_addresses"), dtype={"number": str})
    objs = objs.merge(addr[["object_id", "number", "address"]], on="object_id")
    for layer, rows in (("stores", objs[objs["kind"] == "store"]),
                        ("facilities", objs[objs["kind"] != "store"])):
        rows.to_file(folder / "objects.gpkg", layer=layer)
    shutil.copy(datasets.get_path("market"), folder / "points.laz")
    return folder, objs


@pytest.fixture(scope="module")
def market_tiles(tmp_path_factory, scan_dir):
    out = tmp_path_factory.mktemp("t3dm") / "market3d"
    res = CliRunner().invoke(cli, ["tiles3d", "--scan", str(scan_dir[0]), "--points",
                                   "--max-points", "20000", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def _gltf_issues(glbs: list[Path], validator: Path) -> dict:
    """The Khronos glTF validator's issues of each file (one node process for all)."""
    script = ("const v = require(process.argv[1]); const fs = require('fs');"
              "Promise.all(process.argv.slice(2).map((f) => v.validateBytes("
              "new Uint8Array(fs.readFileSync(f))).then((r) => [f, r.issues])))"
              ".then((all) => console.log(JSON.stringify(Object.fromEntries(all))))"
              ".catch((e) => { console.error(e); process.exit(1); });")
    done = subprocess.run(["node", "-e", script, str(validator), *map(str, glbs)],
                          capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout)


def _check_tileset_rules(tileset: dict, folder: Path) -> None:
    """What the 3D Tiles 1.1 spec requires of our tileset.json (the validator's tileset checks)."""
    assert tileset["asset"]["version"] == "1.1"
    root = tileset["root"]
    assert tileset["geometricError"] >= root["geometricError"] >= 0
    m = np.asarray(root["transform"], dtype=float).reshape(4, 4).T
    assert m.shape == (4, 4) and np.allclose(m[3], [0, 0, 0, 1])
    assert np.allclose(m[:3, :3].T @ m[:3, :3], np.eye(3), atol=1e-9)  # a rotation (ENU axes)
    assert root["refine"] in ("ADD", "REPLACE")
    for child in root["children"]:
        assert 0 <= child["geometricError"] <= root["geometricError"]
        assert len(child["boundingVolume"]["box"]) == 12
        assert (folder / child["content"]["uri"]).is_file()


def _validate(folder: Path) -> None:
    official = _bin("3d-tiles-validator")
    if official is not None and shutil.which("node"):
        report = folder.parent / f"{folder.name}-report.json"
        subprocess.run([str(official), "--tilesetFile", str(folder / "tileset.json"),
                        "--reportFile", str(report)], check=False, timeout=300)
        result = json.loads(report.read_text())
        assert result["numErrors"] == 0, json.dumps(result["issues"], indent=1)[:4000]
    gltf_validator = _tool("gltf-validator")
    if gltf_validator is None or shutil.which("node") is None:
        pytest.skip("node and the npm package gltf-validator are absent (`make test` installs "
                    "them into .venv/node when node/npm exist)")
    tileset = json.loads((folder / "tileset.json").read_text())
    _check_tileset_rules(tileset, folder)
    glbs = sorted(folder.glob("*.glb"))
    assert glbs
    for glb, issues in zip(glbs, _gltf_issues(glbs, gltf_validator).values(), strict=True):
        assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, (glb.name, issues)
        unsupported = {m["message"].split("'")[1] for m in issues["messages"]
                       if m["code"] == "UNSUPPORTED_EXTENSION"}
        assert unsupported <= {"EXT_mesh_features", "EXT_structural_metadata"}


def _read_glb(path: Path):
    """Positions (glTF axes), feature ids and the property table, decoded independently."""
    doc = pygltflib.GLTF2.load(str(path))
    blob = doc.binary_blob()

    def view(i):
        bv = doc.bufferViews[i]
        return blob[bv.byteOffset:bv.byteOffset + bv.byteLength]

    def accessor(i, dtype, width):
        acc = doc.accessors[i]
        return np.frombuffer(view(acc.bufferView), dtype=dtype).reshape(-1, width)[:acc.count]

    prim = doc.meshes[0].primitives[0]
    pos = accessor(prim.attributes.POSITION, "<f4", 3).astype(float)
    feat = accessor(prim.attributes._FEATURE_ID_0, "<f4", 1).ravel().astype(int)
    ext = doc.extensions["EXT_structural_metadata"]
    table = ext["propertyTables"][0]
    classes = ext["schema"]["classes"][table["class"]]["properties"]
    assert prim.extensions["EXT_mesh_features"]["featureIds"][0]["featureCount"] == table["count"]
    cols = {}
    for name, spec in table["properties"].items():
        kind = classes[name]
        # EXT_structural_metadata: property table buffer views start on 8-byte boundaries
        for key in ("values", "stringOffsets"):
            if key in spec:
                assert doc.bufferViews[spec[key]].byteOffset % 8 == 0
        if kind["type"] == "STRING":
            offsets = np.frombuffer(view(spec["stringOffsets"]), "<u4")
            data = view(spec["values"])
            assert len(offsets) == table["count"] + 1 and offsets[0] == 0
            assert (np.diff(offsets.astype(int)) >= 0).all() and offsets[-1] == len(data)
            cols[name] = [data[a:b].decode() for a, b in itertools.pairwise(offsets)]
        else:
            dtype = {"FLOAT32": "<f4", "INT16": "<i2", "INT32": "<i4"}[kind["componentType"]]
            vals = np.frombuffer(view(spec["values"]), dtype).astype(float)
            assert len(vals) == table["count"]
            cols[name] = np.where(vals == kind["noData"], np.nan, vals)
    return pos, feat, pd.DataFrame(cols), doc


def _to_crs(pos, tileset, crs):
    """glTF positions (y up) → the data CRS (x, y) and ellipsoidal height, via the root transform."""
    m = np.asarray(tileset["root"]["transform"], dtype=float).reshape(4, 4).T
    enu = np.column_stack([pos[:, 0], -pos[:, 2], pos[:, 1], np.ones(len(pos))])
    ecef = (m @ enu.T).T[:, :3]
    lon, lat, h = Transformer.from_crs(4978, 4979, always_xy=True).transform(*ecef.T)
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    return np.asarray(x), np.asarray(y), np.asarray(h)


def test_pipe_tiles_pass_the_validators(pipe_tiles):
    _validate(pipe_tiles)


def test_pipe_features_carry_attributes_and_sit_where_the_pipes_are(pipe_tiles, pipes):
    tileset = json.loads((pipe_tiles / "tileset.json").read_text())
    assert len(tileset["root"]["children"]) > 1  # cut into 500 m cells
    p3 = pipes_in_3d(pipes, dem=datasets.get_path("dem")).set_index("source_id")
    by_id = pipes.set_index("source_id")
    contents = [_read_glb(pipe_tiles / c["content"]["uri"]) for c in tileset["root"]["children"]]
    seen = set().union(*(set(table["source_id"]) for _, _, table, _ in contents))
    assert seen == set(pipes["source_id"])  # every pipe, nothing else
    checked = {"water": 0, "gas": 0, "sewer": 0}
    for pos, feat, table, doc in contents:
        assert doc.accessors[doc.meshes[0].primitives[0].attributes.COLOR_0].normalized
        for i in range(0, len(table), 97):
            row, src = table.iloc[i], by_id.loc[table["source_id"].iloc[i]]
            assert row["utility"] == src["utility"]
            assert row["material"] == src["material"] and row["agency"] == src["agency"]
            assert row["source_layer"] == src["source_layer"]
            if pd.notna(src["diameter_mm"]):
                assert row["diameter_mm"] == pytest.approx(src["diameter_mm"])
            if pd.notna(src["install_year"]):
                assert row["install_year"] == src["install_year"]
            if pd.notna(src["depth_m"]):
                assert row["depth_m"] == pytest.approx(src["depth_m"], abs=1e-4)
            assert row["depth_source"] == ("assumed" if p3.loc[row["source_id"], "depth_assumed"]
                                           else "measured")
            if row["utility"] not in checked or pd.isna(src["diameter_mm"]):
                continue
            checked[row["utility"]] += 1
            # its vertices lie on a tube of its diameter around its modelled centreline
            x, y, h = _to_crs(pos[feat == i], tileset, pipes.crs)
            line = p3.loc[row["source_id"]].geometry
            radius = src["diameter_mm"] / 2000
            d = shapely.distance(shapely.points(x, y), shapely.force_2d(line))
            assert d.max() < radius + 0.01
            assert np.median(d) > radius * 0.5
            zs = shapely.get_coordinates(line, include_z=True)[:, 2]
            assert zs.min() - radius - 0.01 < h.min() and h.max() < zs.max() + radius + 0.01
    assert min(checked.values()) >= 1, checked


def test_market_tiles_pass_the_validators(market_tiles):
    _validate(market_tiles)


def test_market_features_carry_the_3d_address(market_tiles, scan_dir):
    _, objs = scan_dir
    tileset = json.loads((market_tiles / "tileset.json").read_text())
    pos, feat, table, _ = _read_glb(market_tiles / "objects.glb")
    assert len(table) == len(objs)
    store = objs[objs["kind"] == "store"].iloc[5]
    i = int(np.flatnonzero(table["object_id"] == store["object_id"])[0])
    assert table.loc[i, "address"] == store["address"]
    assert table.loc[i, "kind"] == "store" and table.loc[i, "floor"] == store["floor"]
    assert table.loc[i, "level"] == f"{store['floor']}층"
    x, y, h = _to_crs(pos[feat == i], tileset, objs.crs)
    assert h.min() == pytest.approx(store["z_min"], abs=0.01)
    assert h.max() == pytest.approx(store["z_max"], abs=0.01)
    rect = shapely.oriented_envelope(store.geometry).buffer(0.01)
    assert shapely.contains_xy(rect, x, y).all()
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))
    assert hull.area == pytest.approx(rect.area, rel=0.05)
    pts, _, ptable, _ = _read_glb(market_tiles / "points.glb")
    assert len(pts) == 20000 and ptable.loc[0, "kind"] == "none"


def test_meshes_are_true_size(tmp_path):
    a, b = np.array([[0.0, 0, -1], [0, 0, -1]]), np.array([[10.0, 0, -1], [0, 5, -1]])
    m = tube_mesh(a, b, np.array([0.3, 0.6]), np.array([0.3, 0.4]), np.array([False, True]))
    round_ring = m.positions[:16]
    assert np.hypot(round_ring[:, 1], round_ring[:, 2] + 1) == pytest.approx(0.15)
    duct = m.positions[16:]
    assert np.ptp(duct[:, 0]) == pytest.approx(0.6) and np.ptp(duct[:, 2]) == pytest.approx(0.4)
    box = box_mesh(np.array([[[0, 0], [0, 2], [3, 2], [3, 0]]], float), np.array([1.0]),
                   np.array([4.0]))
    assert np.ptp(box.positions, axis=0) == pytest.approx([3, 2, 3])
    # outward normals: each face's normal points away from the box centre
    centre = box.positions.mean(axis=0)
    assert (((box.positions - centre) * box.normals).sum(axis=1) > 0).all()


def test_palette_colours_and_bad_input(tmp_path, pipes):
    few = pipes[pipes["utility"].isin(["gas", "water"])].groupby("utility").head(10)
    out = pipes_to_tiles3d(few, tmp_path / "p", palette="korean")
    _, feat, table, doc = _read_glb(next(out.glob("*.glb")))
    acc = doc.accessors[doc.meshes[0].primitives[0].attributes.COLOR_0]
    bv = doc.bufferViews[acc.bufferView]
    rgba = np.frombuffer(doc.binary_blob()[bv.byteOffset:bv.byteOffset + bv.byteLength], "u1")
    rgba = rgba.reshape(-1, 4)[:, :3]
    for utility in ("gas", "water"):
        rows = np.flatnonzero(table["utility"].to_numpy() == utility)
        assert len(rows)
        assert {tuple(c) for c in rgba[np.isin(feat, rows)]} == {PALETTES["korean"][utility]}
    again = pipes_to_tiles3d(few, tmp_path / "again", palette="korean")  # deterministic
    assert {f.name: f.read_bytes() for f in out.iterdir()} == {
        f.name: f.read_bytes() for f in again.iterdir()}
    with pytest.raises(InputError):
        pipes_to_tiles3d(few, tmp_path / "q", sides=2)
    with pytest.raises(InputError):
        pipes_to_tiles3d(few, tmp_path / "q", cell_m=0)
    with pytest.raises(InputError, match=r"objects\.gpkg"):
        scan_to_tiles3d(tmp_path, tmp_path / "r")


# --------------------------------------------------------------------------------------------
# CesiumJS itself (its Build/Cesium from npm, served from 127.0.0.1) loads both tilesets offline
# --------------------------------------------------------------------------------------------
CESIUM_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="cesium/Cesium.js"></script>
<style>html, body, #c { margin: 0; width: 100%; height: 100%; }</style></head>
<body><div id="c"></div><script>
window.result = null;
(async () => {
  try {
    const viewer = new Cesium.Viewer("c", {baseLayer: false, baseLayerPicker: false,
      geocoder: false, timeline: false, animation: false, homeButton: false,
      sceneModePicker: false, navigationHelpButton: false, fullscreenButton: false,
      infoBox: false, selectionIndicator: false, skyBox: false, skyAtmosphere: false,
      terrainProvider: new Cesium.EllipsoidTerrainProvider()});
    viewer.scene.globe.show = false;
    const result = {};
    for (const name of location.search.slice(1).split(",")) {
      const tileset = await Cesium.Cesium3DTileset.fromUrl(name + "/tileset.json");
      viewer.scene.primitives.add(tileset);
      const centre = Cesium.Cartographic.fromCartesian(tileset.boundingSphere.center);
      await viewer.zoomTo(tileset);
      // every child tile loaded (all are in view after zoomTo)
      while (!(tileset.tilesLoaded && tileset.root.children.every((t) => t.contentReady))) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const features = [];
      for (const child of tileset.root.children) {
        const c = child.content;
        for (let i = 0; i < c.featuresLength; i++) {
          const f = c.getFeature(i), props = {};
          for (const k of f.getPropertyIds()) props[k] = f.getProperty(k);
          features.push(props);
        }
      }
      result[name] = {features, lon: Cesium.Math.toDegrees(centre.longitude),
                      lat: Cesium.Math.toDegrees(centre.latitude)};
    }
    window.result = result;
  } catch (e) { window.result = {error: String(e)}; }
})();
</script></body></html>
"""


def _cesium_dir() -> Path | None:
    for root in _node_modules():
        if (root.parent / "cesium" / "Cesium.js").is_file():
            return root.parent / "cesium"
    return None


@pytest.mark.browser
def test_cesiumjs_loads_both_tilesets_with_their_attributes(offline_page, tmp_path, pipe_tiles,
                                                           market_tiles, pipes, scan_dir):
    import functools
    import http.server
    import threading

    cesium = _cesium_dir()
    if cesium is None:
        pytest.skip("CesiumJS's Build/Cesium is absent (`make test` puts it in .venv/node/cesium "
                    "with npm pack when npm exists)")
    site = tmp_path / "site"
    site.mkdir()
    (site / "cesium").symlink_to(cesium, target_is_directory=True)
    (site / "pipes3d").symlink_to(pipe_tiles, target_is_directory=True)
    (site / "market3d").symlink_to(market_tiles, target_is_directory=True)
    (site / "index.html").write_text(CESIUM_PAGE, encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    page = offline_page
    page.set_viewport_size({"width": 480, "height": 320})
    try:
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/index.html?pipes3d,market3d")
        page.wait_for_function("window.result !== null", timeout=120_000)
        results = page.evaluate("window.result")
        assert "error" not in results, results
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert page.blocked_requests == []
    assert page.console_errors == []
    got = pd.DataFrame(results["pipes3d"]["features"]).drop_duplicates("source_id")
    assert set(got["source_id"]) == set(pipes["source_id"])
    want = pipes.set_index("source_id")
    row = got.set_index("source_id").loc[want.index[100]]
    assert row["material"] == want.iloc[100]["material"]
    assert row["diameter_mm"] == pytest.approx(want.iloc[100]["diameter_mm"])
    assert results["pipes3d"]["lon"] == pytest.approx(127.039, abs=0.01)
    assert results["pipes3d"]["lat"] == pytest.approx(37.58, abs=0.01)
    objs = scan_dir[1]
    market = pd.DataFrame(results["market3d"]["features"])
    market = market[market["kind"] != "none"].drop_duplicates("object_id")
    assert len(market) == len(objs)
    store = objs[objs["kind"] == "store"].iloc[3]
    assert market.set_index("object_id").loc[store["object_id"], "address"] == store["address"]
