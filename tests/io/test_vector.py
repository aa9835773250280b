"""geo3d.io.vector: encodings, CSV/TopoJSON/GeoParquet, declared CRSs, Bessel datums, metres."""

from __future__ import annotations

import json
import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Transformer

from geo3d.errors import CRSError, FileFormatError, SchemaError
from geo3d.io.vector import (
    bessel_fixed,
    detect_encoding,
    metric_crs_for,
    read_areas,
    read_vector,
    to_metric,
)

NAMES = ["제기동", "용신동", "청량리동"]

# A Korean .prj as government files often have it: Bessel ellipsoid, no datum, no TOWGS84
BESSEL_PRJ = CRS(5174).to_wkt("WKT1_ESRI").replace("Korean_Datum_1985", "Bessel_1841")


def _dongs(crs: str | int = 5186) -> gpd.GeoDataFrame:
    boxes = [shapely.box(200_000 + 500 * i, 550_000, 200_400 + 500 * i, 550_400) for i in range(3)]
    return gpd.GeoDataFrame({"code": ["1", "2", "3"], "name": NAMES}, geometry=boxes,
                            crs=5186).to_crs(crs)


def test_cp949_shapefile_whose_cpg_says_utf8(tmp_path, caplog):
    path = tmp_path / "dongs.shp"
    _dongs().to_file(path, encoding="cp949")
    path.with_suffix(".cpg").write_text("UTF-8")
    with caplog.at_level(logging.WARNING):
        assert detect_encoding(path) == "CP949"
    assert ".cpg says utf-8 but the attributes are CP949" in caplog.text.lower().replace(
        "cp949", "CP949")
    assert read_vector(path)["name"].tolist() == NAMES
    assert read_areas(path, area_id="code")["name"].tolist() == NAMES  # no mojibake


def test_utf8_and_cp949_text_files(tmp_path):
    csv = tmp_path / "wells.csv"
    csv.write_bytes("x,y,name\n200000,550000,제기동\n".encode("cp949"))
    assert detect_encoding(csv) == "CP949"
    assert read_vector(csv, crs=5186)["name"].tolist() == ["제기동"]
    csv.write_bytes("\ufeffx,y,name\n200000,550000,제기동\n".encode())  # UTF-8 with a BOM
    assert detect_encoding(csv) == "UTF-8"
    assert read_vector(csv, crs=5186).columns.tolist() == ["name", "geometry"]


def test_csv_xy_needs_a_crs_and_lonlat_is_wgs84(tmp_path):
    xy = tmp_path / "breaks.csv"
    pd.DataFrame({"X": [200_000.0], "Y": [550_000.0], "id": [1]}).to_csv(xy, index=False)
    with pytest.raises(CRSError) as err:
        read_vector(xy)
    assert "crs='EPSG:5186'" in str(err.value) and "--crs" in err.value.cli_message
    assert read_vector(xy, crs="EPSG:5186").crs.to_epsg() == 5186
    ll = tmp_path / "valves.csv"
    pd.DataFrame({"lon": [127.04], "lat": [37.58]}).to_csv(ll, index=False)
    g = read_vector(ll)
    assert g.crs.to_epsg() == 4326 and g.geometry.iloc[0].equals(shapely.Point(127.04, 37.58))
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n127.0,abc\n")
    with pytest.raises(FileFormatError, match="no numeric lon/lat"):
        read_vector(bad)
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("a,b\n1,2\n")
    with pytest.raises(SchemaError, match="no coordinate columns"):
        read_vector(nothing)


def test_csv_wkt_lines(tmp_path):
    path = tmp_path / "mains.csv"
    pd.DataFrame({"WKT": ["LINESTRING (0 0, 10 0)", "LINESTRING (0 5, 10 5)"],
                  "dia": [300, 150]}).to_csv(path, index=False)
    g = read_vector(path, crs=5186)
    assert g.length.tolist() == [10.0, 10.0] and g.columns.tolist() == ["dia", "geometry"]
    path.write_text("wkt\nLINESTRING (0 0, oops)\n")
    with pytest.raises(FileFormatError, match="not WKT"):
        read_vector(path, crs=5186)


def _topojson(path, lon0=127.0, lat0=37.5):
    topo = {"type": "Topology",
            "transform": {"scale": [0.001, 0.001], "translate": [lon0, lat0]},
            "objects": {"dongs": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0]], "properties": {"adm_cd": "1", "adm_nm": "제기동"}},
                {"type": "Polygon", "arcs": [[1]], "properties": {"adm_cd": "2", "adm_nm": "용신동"}}]}},
            "arcs": [[[0, 0], [10, 0], [0, 10], [-10, 0], [0, -10]],
                     [[10, 0], [10, 0], [0, 10], [-10, 0], [0, -10]]]}
    path.write_text(json.dumps(topo, ensure_ascii=False), encoding="utf-8")
    return path


def test_topojson_is_lonlat(tmp_path):
    path = _topojson(tmp_path / "dongs.topojson")
    areas = read_areas(path, area_id="adm_cd", crs=5186)
    assert areas.crs.to_epsg() == 5186 and areas["adm_nm"].tolist() == ["제기동", "용신동"]
    # 0.01° x 0.01° at 37.5° N: about 1113 m x 884 m
    assert areas.area.iloc[0] == pytest.approx(1113 * 884, rel=0.01)
    far = _topojson(tmp_path / "metres.topojson", lon0=200000.0, lat0=550000.0)
    with pytest.raises(CRSError, match="outside longitude/latitude"):
        read_areas(far)
    assert read_areas(far, source_crs=5186).crs.to_epsg() == 5186


def test_geoparquet(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "dongs.parquet"
    _dongs().to_parquet(path)
    g = read_vector(path)
    assert g.crs.to_epsg() == 5186 and g["name"].tolist() == NAMES


def test_bessel_shift_matches_pyproj_5174_to_5186():
    # known points: Seoul City Hall, Gyeongdong Market, a point near Suwon (lon/lat)
    lonlat = np.array([[126.9780, 37.5665], [127.0395, 37.5797], [127.0286, 37.2636]])
    to5174 = Transformer.from_crs(4326, 5174, always_xy=True)
    x, y = to5174.transform(lonlat[:, 0], lonlat[:, 1])
    expected = np.column_stack(Transformer.from_crs(5174, 5186, always_xy=True).transform(x, y))
    pts = gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=BESSEL_PRJ)
    naive = shapely.get_coordinates(pts.to_crs(5186).geometry)
    assert np.hypot(*(naive - expected).T).min() > 300  # no shift: hundreds of metres off
    fixed = pts.set_crs(bessel_fixed(pts.crs), allow_override=True).to_crs(5186)
    assert np.abs(shapely.get_coordinates(fixed.geometry) - expected).max() < 1e-3
    moved = to_metric(pts, what="points")
    assert moved.crs.to_epsg() == 5186
    assert np.abs(shapely.get_coordinates(moved.geometry) - expected).max() < 1e-3
    assert bessel_fixed("EPSG:5174") is None and bessel_fixed("EPSG:5186") is None


def test_bessel_prj_shapefile_read_and_warned(tmp_path, caplog):
    path = tmp_path / "dongs.shp"
    _dongs(5174).to_file(path, encoding="utf-8")
    path.with_suffix(".prj").write_text(BESSEL_PRJ)
    with caplog.at_level(logging.WARNING):
        areas = read_areas(path, area_id="code", crs=5186)
    assert "Bessel 1841" in caplog.text and "KGD2002" in caplog.text
    truth = _dongs()
    assert np.abs(areas.area.to_numpy() - truth.area.to_numpy()).max() < 1.0
    assert shapely.hausdorff_distance(areas.geometry.to_numpy(),
                                      truth.geometry.to_numpy()).max() < 0.01


def test_declared_crs_overrides_with_a_warning(tmp_path, caplog):
    path = tmp_path / "d.geojson"
    _dongs().set_crs(5179, allow_override=True).to_file(path)
    with caplog.at_level(logging.WARNING):
        g = read_vector(path, crs=5186)
    assert g.crs.to_epsg() == 5186 and "using the CRS given, EPSG:5186" in caplog.text


def test_metric_crs_and_feet(tmp_path):
    assert metric_crs_for(_dongs(4326)).to_epsg() == 5186
    line = shapely.LineString([(4_971_350, 3_905_604), (4_971_350 + 3280.8333, 3_905_604)])
    feet = gpd.GeoDataFrame(geometry=[line], crs=3547)
    m = to_metric(feet)
    assert m.crs.to_epsg() == 32616
    assert m.length.iloc[0] == pytest.approx(1000.0, rel=1e-3)
    same = _dongs()
    assert to_metric(same) is same


@pytest.mark.shared_data
@pytest.mark.filterwarnings("ignore:areas overlap", "ignore:.*outside every area")
def test_seoul_gu_in_bessel_give_the_same_statistics(shared_data, tmp_path):
    """The 25 구 in a Bessel .prj without TOWGS84 = the same 구 in EPSG:5186 (within 1 m²)."""
    from geo3d.stats import aging_statistics

    gu = gpd.read_file(shared_data / "seoul" / "seoul_gu.geojson")
    gu["geometry"] = gu.geometry.make_valid()
    bessel_gu = gu.to_crs(5174)
    truth = bessel_gu.to_crs(5186)  # pyproj's EPSG:5174 -> 5186: the same boundaries in GRS80
    path = tmp_path / "gu_bessel.shp"
    bessel_gu.to_file(path, encoding="cp949")
    path.with_suffix(".prj").write_text(BESSEL_PRJ)
    bessel = read_areas(path, area_id="SIG_CD", crs=5186)
    assert bessel["SIG_KOR_NM"].tolist() == truth["SIG_KOR_NM"].tolist()
    assert np.abs(bessel.area.to_numpy() - truth.area.to_numpy()).max() < 1.0
    rng = np.random.default_rng(16)
    x0, y0, x1, y1 = truth.total_bounds
    a = rng.uniform([x0, y0], [x1, y1], size=(400, 2))
    b = a + rng.normal(0, 800, size=(400, 2))
    pipes = gpd.GeoDataFrame({"utility": "water", "install_year": rng.integers(1960, 2020, 400)},
                             geometry=shapely.linestrings(np.stack([a, b], axis=1)), crs=5186)
    pipes["install_year"] = pipes["install_year"].astype("Int64")
    s1 = aging_statistics(pipes, truth.assign(SIG_CD=truth["SIG_CD"].astype("string")),
                          area_id="SIG_CD", reference_date=2025)
    s2 = aging_statistics(pipes, bessel, area_id="SIG_CD", reference_date=2025)
    pd.testing.assert_series_equal(s1["length_m"], s2["length_m"], atol=0.001, rtol=0)
    dens = np.abs(s1["density_km_per_km2"].to_numpy() - s2["density_km_per_km2"].to_numpy())
    assert dens.max() < 1e-6
