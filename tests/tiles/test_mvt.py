import gzip

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d import datasets
from geo3d.errors import CRSError, EmptyResultError, InputError, OutputExistsError, SchemaError
from geo3d.stats import aging_statistics
from geo3d.tiles import lonlat_to_tile, read_tile, write_tiles
from geo3d.underground import read_pipes

pmtiles_reader = pytest.importorskip("pmtiles.reader")
pytest.importorskip("mapbox_vector_tile")


@pytest.fixture(scope="module")
def pipes():
    return read_pipes(datasets.get_path("utilities"))


@pytest.fixture(scope="module")
def areas():
    return gpd.read_file(datasets.get_path("neighbourhoods"))


@pytest.fixture(scope="module")
def archive(tmp_path_factory, pipes, areas):
    stats = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
    path = tmp_path_factory.mktemp("tiles") / "pipes.pmtiles"
    write_tiles(pipes, path, stats=stats, areas=areas, area_id="adm_cd2", minzoom=12, maxzoom=16)
    return path


def all_tiles(path):
    with open(path, "rb") as fh:
        src = pmtiles_reader.MmapSource(fh)
        return [(zxy, bytes(data)) for zxy, data in pmtiles_reader.all_tiles(src)]


def test_header_and_metadata(archive):
    with open(archive, "rb") as fh:
        reader = pmtiles_reader.Reader(pmtiles_reader.MmapSource(fh))
        header, meta = reader.header(), reader.metadata()
    assert header["min_zoom"] == 12 and header["max_zoom"] == 16
    assert header["clustered"]
    ids = {layer["id"] for layer in meta["vector_layers"]}
    assert ids == {"water", "sewer", "power", "telecom", "gas", "heat", "areas"}
    lon0, lat0, lon1, lat1 = meta["bounds"]
    assert lon0 < 127.0395 < lon1 and lat0 < 37.5797 < lat1
    assert meta["statistics"]["reference_year"] == 2025


def test_known_pipe_is_in_the_tile_containing_it(archive, pipes):
    pipe = pipes[pipes["utility"] == "gas"].iloc[10]
    mid = gpd.GeoSeries([pipe.geometry.interpolate(0.5, normalized=True)],
                        crs=pipes.crs).to_crs(4326).iloc[0]
    for z in (12, 14, 16):
        x, y = lonlat_to_tile(mid.x, mid.y, z)
        layers = read_tile(archive, z, x, y)
        found = [f for f in layers["gas"] if f["properties"]["source_id"] == pipe["source_id"]]
        assert found, f"pipe {pipe['source_id']} missing from tile {z}/{x}/{y}"
        props = found[0]["properties"]
        assert props["material"] == pipe["material"]
        assert props["diameter_mm"] == pytest.approx(pipe["diameter_mm"])
        if pd.notna(pipe["install_year"]):
            assert props["install_year"] == pipe["install_year"]
        coords = np.asarray(found[0]["geometry"]["coordinates"], dtype=float).reshape(-1, 2)
        assert ((coords > -200) & (coords < 4096 + 200)).all()


def test_feature_position_in_tile_coordinates(tmp_path):
    # a pipe through Gyeongdong Market; its midpoint must land where Web Mercator puts it
    lon, lat = 127.0395, 37.5797
    pt = gpd.GeoSeries.from_xy([lon], [lat], crs=4326).to_crs(5186).iloc[0]
    line = shapely.LineString([(pt.x - 5, pt.y), (pt.x + 5, pt.y)])
    gdf = gpd.GeoDataFrame({"utility": ["water"], "source_id": ["W1"], "install_year":
                            pd.array([None], dtype="Int64")}, geometry=[line], crs=5186)
    path = write_tiles(gdf, tmp_path / "one.pmtiles", minzoom=16, maxzoom=16)
    z = 16
    x, y = lonlat_to_tile(lon, lat, z)
    feat = read_tile(path, z, x, y)["water"][0]
    assert "install_year" not in feat["properties"]  # missing values are left out
    n = 2 ** z
    fx = ((lon + 180) / 360 * n - x) * 4096
    fy = ((1 - np.arcsinh(np.tan(np.radians(lat))) / np.pi) / 2 * n - y) * 4096
    mid = np.asarray(feat["geometry"]["coordinates"], dtype=float).mean(axis=0)
    assert mid == pytest.approx([fx, fy], abs=2.0)


def test_areas_layer_carries_statistics(archive, areas):
    z = 12
    found = {}
    for (tz, tx, ty), _ in all_tiles(archive):
        if tz == z:
            for f in read_tile(archive, z, tx, ty).get("areas", []):
                found[f["properties"]["adm_cd2"]] = f["properties"]
    assert set(found) == set(areas["adm_cd2"])
    props = next(iter(found.values()))
    for key in ("adm_nm", "length_km", "density_km_per_km2", "share_over_threshold",
                "sewer_share", "water_density", "gas_km"):
        assert key in props
    assert 0 <= props["share_over_threshold"] <= 1


def test_tiles_are_gzip_mvt_and_simplified_by_zoom(archive):
    tiles = all_tiles(archive)
    assert all(data[:2] == b"\x1f\x8b" for _, data in tiles)
    zooms = {z for (z, _, _), _ in tiles}
    assert zooms == {12, 13, 14, 15, 16}
    size = {z: sum(len(gzip.decompress(d)) for (zz, _, _), d in tiles if zz == z) for z in zooms}
    assert size[12] < size[16]


def test_bad_input(tmp_path, pipes, areas, archive):
    with pytest.raises(OutputExistsError):
        write_tiles(pipes, archive)
    with pytest.raises(InputError):
        write_tiles(pipes, tmp_path / "a.pmtiles", minzoom=16, maxzoom=10)
    with pytest.raises(InputError, match="areas"):
        write_tiles(pipes, tmp_path / "a.pmtiles", stats=pd.DataFrame())
    with pytest.raises(SchemaError, match="adm_cd2"):
        write_tiles(pipes, tmp_path / "a.pmtiles", areas=areas, area_id="nope")
    with pytest.raises(CRSError):
        write_tiles(pipes.set_crs(None, allow_override=True), tmp_path / "a.pmtiles")
    with pytest.raises(EmptyResultError):
        write_tiles(pipes.iloc[:0], tmp_path / "a.pmtiles")
    assert not (tmp_path / "a.pmtiles").exists()
    assert list(tmp_path.iterdir()) == []


def _decoded_layers(path, zoom):
    """Every feature of every tile at ``zoom``: {layer: [(x, y, feature), ...]}."""
    out: dict[str, list] = {}
    for (z, x, y), _ in all_tiles(path):
        if z == zoom:
            for name, features in read_tile(path, z, x, y).items():
                out.setdefault(name, []).extend((x, y, f) for f in features)
    return out


def test_every_pipe_decodes_back_with_its_attributes_and_position(archive, pipes):
    zoom = 16
    decoded = _decoded_layers(archive, zoom)
    assert pipes["source_id"].is_unique
    by_id = pipes.set_index("source_id")
    web = pipes.to_crs(3857).set_index("source_id").geometry
    tile_m = 2 * np.pi * 6378137.0 / 2 ** zoom
    half = np.pi * 6378137.0
    px = tile_m / 4096
    for utility, rows in pipes.groupby("utility"):
        features = decoded[utility]
        ids = {f["properties"]["source_id"] for _, _, f in features}
        assert ids == set(rows["source_id"]), utility  # every pipe, nothing else
        for x, y, f in features:
            props = f["properties"]
            pipe = by_id.loc[props["source_id"]]
            assert props["utility"] == utility
            for key in ("material", "agency"):
                assert props.get(key) == (pipe[key] if pd.notna(pipe[key]) else None)
            if pd.notna(pipe["diameter_mm"]):
                assert props["diameter_mm"] == pytest.approx(pipe["diameter_mm"])
            if pd.notna(pipe["install_year"]):
                assert props["install_year"] == int(pipe["install_year"])
            else:
                assert "install_year" not in props
            # tile coordinates back to Web Mercator: every vertex within ~2 px of the pipe
            coords = np.asarray(shapely.get_coordinates(shapely.geometry.shape(f["geometry"])))
            mx = -half + x * tile_m + coords[:, 0] * px
            my = half - y * tile_m - coords[:, 1] * px
            dist = shapely.distance(shapely.points(mx, my), web.loc[props["source_id"]])
            assert dist.max() < 2.5 * px, (props["source_id"], dist.max() / px)


def test_area_features_carry_the_statistics_values(archive, pipes, areas):
    from geo3d.stats import aggregate_statistics, areas_with_statistics

    stats = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
    want = areas_with_statistics(stats, areas, area_id="adm_cd2").set_index("adm_cd2")
    per_util = aggregate_statistics(stats, by=["area_id", "utility"]).set_index(
        ["area_id", "utility"])
    decoded = _decoded_layers(archive, 14)
    seen = set()
    for _, _, f in decoded["areas"]:
        props = f["properties"]
        code = props["adm_cd2"]
        seen.add(code)
        assert props["adm_nm"] == want.loc[code, "adm_nm"]
        assert props["length_km"] == pytest.approx(want.loc[code, "length_m"] / 1000, rel=1e-6)
        assert props["density_km_per_km2"] == pytest.approx(
            want.loc[code, "density_km_per_km2"], rel=1e-6)
        assert props["share_over_threshold"] == pytest.approx(
            want.loc[code, "share_over_threshold"], rel=1e-6)
        sewer = per_util.loc[(code, "sewer")]
        assert props["sewer_km"] == pytest.approx(sewer["length_m"] / 1000, rel=1e-6)
        assert props["sewer_share"] == pytest.approx(sewer["share_over_threshold"], rel=1e-6)
    assert seen == set(areas["adm_cd2"])


def test_same_input_gives_the_same_bytes(tmp_path, archive, pipes, areas):
    stats = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
    again = write_tiles(pipes, tmp_path / "again.pmtiles", stats=stats, areas=areas,
                        area_id="adm_cd2", minzoom=12, maxzoom=16)
    assert again.read_bytes() == archive.read_bytes()
    with open(again, "rb") as fh:
        meta = pmtiles_reader.Reader(pmtiles_reader.MmapSource(fh)).metadata()
    assert "tippecanoe" in meta["generator"] and str(tmp_path) not in str(meta)


def test_full_tiles_drop_their_smallest_features_at_low_zoom(tmp_path):
    # 3,000 short service pipes and 20 long mains in one small square: at zoom 12 the whole
    # square is one tile over the limit, at zoom 16 every tile holds few pipes
    rng = np.random.default_rng(0)
    x0, y0 = 203_000.0, 553_000.0
    starts = rng.uniform(0, 1000, size=(3000, 2))
    short = [shapely.LineString([(x0 + sx, y0 + sy), (x0 + sx + 3, y0 + sy + 1)])
             for sx, sy in starts]
    long_ = [shapely.LineString([(x0, y0 + 50 * i), (x0 + 1000, y0 + 50 * i + 1)])
             for i in range(20)]
    gdf = gpd.GeoDataFrame({"utility": "water", "source_id": [f"s{i}" for i in range(3000)]
                            + [f"main{i}" for i in range(20)]},
                           geometry=short + long_, crs=5186)
    path = write_tiles(gdf, tmp_path / "d.pmtiles", minzoom=12, maxzoom=16,
                       max_tile_bytes=20_000)
    low = {f["properties"]["source_id"] for _, _, f in _decoded_layers(path, 12)["water"]}
    high = {f["properties"]["source_id"] for _, _, f in _decoded_layers(path, 16)["water"]}
    assert high == set(gdf["source_id"])  # nothing lost at the top zoom
    assert {f"main{i}" for i in range(20)} <= low  # the mains survive
    assert len(low) < 0.8 * len(high)  # short pipes dropped
    assert all(len(data) <= 20_000 for (z, _, _), data in all_tiles(path) if z == 12)


def test_without_tippecanoe_the_python_writer_makes_the_same_layers(tmp_path, pipes, monkeypatch):
    import geo3d.tiles.mvt as mvt_module
    from geo3d.errors import MissingDependencyError

    def missing():
        raise MissingDependencyError("tippecanoe is not installed")

    monkeypatch.setattr(mvt_module, "tippecanoe_path", missing)
    with pytest.warns(UserWarning, match="in-Python writer"):
        path = write_tiles(pipes, tmp_path / "py.pmtiles", minzoom=15, maxzoom=16)
    decoded = _decoded_layers(path, 16)
    for utility, rows in pipes.groupby("utility"):
        assert {f["properties"]["source_id"] for _, _, f in decoded[utility]} == set(
            rows["source_id"])
    with open(path, "rb") as fh:
        meta = pmtiles_reader.Reader(pmtiles_reader.MmapSource(fh)).metadata()
    assert {layer["id"] for layer in meta["vector_layers"]} == set(pipes["utility"])
