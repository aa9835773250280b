"""read_pipes and validate_pipes (geo3d.underground.pipes)."""

from __future__ import annotations

import logging
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo3d.errors import (
    CRSError,
    EmptyResultError,
    FileFormatError,
    InputError,
    MissingFileError,
    SchemaError,
)
from geo3d.underground import read_pipes, validate_pipes
from geo3d.underground.pipes import parse_install_year, parse_size

CRS = "EPSG:5186"


def _lines(n, y0=0.0, length=10.0):
    return [shapely.LineString([(200_000.0, 550_000.0 + y0 + i), (200_000.0 + length, 550_000.0 + y0 + i)])
            for i in range(n)]


def uis_layers() -> dict[str, gpd.GeoDataFrame]:
    """Small layers with the generator's UIS field names and code values."""
    common = lambda n, base: {  # noqa: E731
        "ftr_cde": ["X"] * n, "ftr_idn": list(range(base, base + n)),
        "hjd_cde": ["1123054500"] * n, "bjd_cde": ["1123010300"] * n,
    }
    wtl = gpd.GeoDataFrame({
        **common(4, 100), "mng_cde": ["W1123"] * 4,
        "ist_ymd": ["19950312", "", "20010101", "19780505"],
        "pip_dip": [300, 150, 100, 1000], "saa_cde": ["배수"] * 4,
        "mop_cde": ["DIP", "CIP", "PE", "DIP"],
        "low_dep": [1.2, 0.0, 1.0, 0.0], "hgh_dep": [1.4, 0.0, 0.0, 0.0],
        "pip_len": [10.0] * 4,
    }, geometry=_lines(4), crs=CRS)
    swl = gpd.GeoDataFrame({
        **common(3, 200), "mng_cde": ["S1123"] * 3, "ist_ymd": ["19820101", "19900202", ""],
        "std_dip": [600, 0, 300], "std_hol": [0, 2000, 0], "std_vel": [0, 1500, 0],
        "sba_cde": ["합류"] * 3, "mop_cde": ["HP", "BOX", "PVC"],
        "beg_dep": [2.0, 3.0, 0.0], "end_dep": [2.5, 3.2, 0.0], "pip_slp": [5.0, 2.0, 0.0],
        "pip_len": [10.0] * 3,
    }, geometry=_lines(3, 10), crs=CRS)
    bpip = gpd.GeoDataFrame({
        **common(3, 300), "mng_cde": ["KEPCO"] * 3, "ist_ymd": ["20050101"] * 3,
        "std_dip": ["500\\600", "200", "1000x1200"], "vol_cde": ["22.9kV", "154kV", "380V"],
        "mop_cde": ["CONC", "PVC", "CONC"], "std_dep": [1.5, 0.0, 1.8], "pip_len": [10.0] * 3,
    }, geometry=_lines(3, 20), crs=CRS)
    kpip = gpd.GeoDataFrame({
        **common(2, 400), "mng_cde": ["KT", "SKB"], "ist_ymd": ["20000101", "20100101"],
        "std_dip": ["300\\300", "100"], "mop_cde": ["CONC", "PE"], "std_dep": [0.8, 1.0],
        "pip_len": [10.0] * 2,
    }, geometry=_lines(2, 30), crs=CRS)
    gpip = gpd.GeoDataFrame({
        **common(2, 500), "mng_cde": ["YESCO"] * 2, "ist_ymd": ["20030101", "19990101"],
        "std_dip": [200, 50], "prs_cde": ["중압", "저압"], "mop_cde": ["SP", "PE"],
        "std_dep": [1.2, 0.0], "pip_len": [10.0] * 2,
    }, geometry=_lines(2, 40), crs=CRS)
    hpip = gpd.GeoDataFrame({
        **common(1, 600), "mng_cde": ["SEC"], "ist_ymd": ["20060101"], "std_dip": [500],
        "mop_cde": ["SP"], "std_dep": [2.0], "pip_len": [10.0],
    }, geometry=_lines(1, 50), crs=CRS)
    return {"WTL_PIPE_LM": wtl, "SWL_PIPE_LM": swl, "UFL_BPIP_LM": bpip, "UFL_KPIP_LS": kpip,
            "UFL_GPIP_LM": gpip, "UFL_HPIP_LM": hpip}


def write_gpkg(path, layers: dict[str, gpd.GeoDataFrame]):
    for i, (name, gdf) in enumerate(layers.items()):
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", append=i > 0)
    return path


@pytest.fixture
def uis_gpkg(tmp_path):
    return write_gpkg(tmp_path / "utilities.gpkg", uis_layers())


# ------------------------------------------------------------------------------------------
# parsers
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("300", (300.0, None, None)),
        ("300.0", (300.0, None, None)),
        ("Φ300", (300.0, None, None)),
        (" 500\\600 ", (None, 500.0, 600.0)),
        ("500x600", (None, 500.0, 600.0)),
        ("500X600", (None, 500.0, 600.0)),
        ("500×600", (None, 500.0, 600.0)),
        ("500*600", (None, 500.0, 600.0)),
        ("500 mm x 600 mm", (None, 500.0, 600.0)),
        ("", (None, None, None)),
        ("0", (None, None, None)),
        ("abc", (None, None, None)),
        (None, (None, None, None)),
    ],
)
def test_parse_size(raw, expected):
    row = parse_size([raw]).iloc[0]
    got = tuple(None if pd.isna(v) else float(v) for v in row)
    assert got == expected


def test_parse_size_numeric_and_units():
    out = parse_size(pd.Series([8.0, 0.0, np.nan]), unit="in")
    assert out["diameter_mm"].tolist()[0] == pytest.approx(203.2)
    assert out["diameter_mm"].isna().tolist() == [False, True, True]
    with pytest.raises(InputError, match="valid units"):
        parse_size(["1"], unit="furlong")


def test_parse_install_year():
    years = parse_install_year(["19950312", "", "0", "00000000", "1999-01-02", None])
    assert years.dtype == "Int64"
    assert years.tolist()[0] == 1995
    assert years.isna().tolist() == [False, True, True, True, False, True]


# ------------------------------------------------------------------------------------------
# UIS layers
# ------------------------------------------------------------------------------------------
def test_uis_layers_to_canonical(uis_gpkg, caplog):
    with caplog.at_level(logging.INFO, logger="geo3d.underground.pipes"):
        p = read_pipes(uis_gpkg)
    assert len(p) == 15
    assert p.crs.to_epsg() == 5186
    assert isinstance(p.index, pd.RangeIndex)
    assert list(p.columns[:21]) == [c for c in
                                    __import__("geo3d.underground.schema", fromlist=["x"]).CANONICAL_COLUMNS
                                    if c != "geometry"]
    assert p.geometry.name == "geometry" and p.columns[-1] == "geometry"
    assert p.groupby("utility").size().to_dict() == {
        "water": 4, "sewer": 3, "power": 3, "telecom": 2, "gas": 2, "heat": 1}
    # lineage
    w = p[p.source_layer == "WTL_PIPE_LM"].reset_index(drop=True)
    assert w.source_id.tolist() == ["100", "101", "102", "103"]
    assert w.material_raw.tolist() == ["DIP", "CIP", "PE", "DIP"]
    assert w.material.tolist() == ["ductile_iron", "cast_iron", "pe", "ductile_iron"]
    # install year: '' -> <NA>, never 0
    assert w.install_year.dtype == "Int64"
    assert w.install_year.isna().tolist() == [False, True, False, False]
    assert w.install_year[0] == 1995
    # water depth: mean of low/high; 0 = unknown; one known side is used alone
    assert w.depth_m[0] == pytest.approx(1.3)
    assert pd.isna(w.depth_m[1])
    assert w.depth_m[2] == pytest.approx(1.0)
    assert w.depth_unknown.tolist() == [False, True, False, True]
    assert set(p.depth_reference) == {"top"} and set(p.depth_kind) == {"cover"}
    # sewer: start/end, box from std_hol/std_vel
    s = p[p.utility == "sewer"].reset_index(drop=True)
    assert s.depth_start_m.tolist()[:2] == [2.0, 3.0]
    assert s.depth_end_m.tolist()[:2] == [2.5, 3.2]
    assert pd.isna(s.diameter_mm[1]) and s.width_mm[1] == 2000 and s.height_mm[1] == 1500
    assert s.diameter_mm[0] == 600 and pd.isna(s.width_mm[0])
    # power: size strings and voltages
    b = p[p.utility == "power"].reset_index(drop=True)
    assert (b.width_mm[0], b.height_mm[0]) == (500, 600)
    assert b.diameter_mm[1] == 200
    assert (b.width_mm[2], b.height_mm[2]) == (1000, 1200)
    assert b.voltage_kv.tolist() == pytest.approx([22.9, 154.0, 0.38])
    g = p[p.utility == "gas"]
    assert g.pressure.tolist() == ["medium", "low"]
    # one summary line per layer
    assert "read_pipes: WTL_PIPE_LM 4 segments, 2 depth unknown (50 %)" in caplog.text
    assert "read_pipes: SWL_PIPE_LM 3 segments, 1 depth unknown (33 %)" in caplog.text
    result = validate_pipes(p)
    assert result.problems == [] and result.warnings == []


def test_field_names_are_case_insensitive(tmp_path):
    layers = uis_layers()
    upper = {"WTL_PIPE_LM": layers["WTL_PIPE_LM"].rename(columns=str.upper).set_geometry("GEOMETRY")}
    p = read_pipes(write_gpkg(tmp_path / "u.gpkg", upper))
    assert p.source_id.tolist() == ["100", "101", "102", "103"]


def test_layers_selection_and_unknown_layer(uis_gpkg):
    p = read_pipes(uis_gpkg, layers=["ufl_gpip_lm"])
    assert set(p.utility) == {"gas"}
    with pytest.raises(InputError, match="not found"):
        read_pipes(uis_gpkg, layers=["NOPE"])


def test_unknown_layer_name_matched_by_fields(tmp_path):
    path = write_gpkg(tmp_path / "u.gpkg", {"water_mains": uis_layers()["WTL_PIPE_LM"]})
    p = read_pipes(path)
    assert set(p.utility) == {"water"} and set(p.source_layer) == {"water_mains"}


def test_missing_fields_all_listed(tmp_path):
    layers = uis_layers()
    layers["WTL_PIPE_LM"] = layers["WTL_PIPE_LM"].drop(columns=["low_dep"])
    layers["SWL_PIPE_LM"] = layers["SWL_PIPE_LM"].drop(columns=["beg_dep", "end_dep"])
    layers["UFL_GPIP_LM"] = layers["UFL_GPIP_LM"].drop(columns=["prs_cde"])
    with pytest.raises(SchemaError) as err:
        read_pipes(write_gpkg(tmp_path / "u.gpkg", layers))
    problems = err.value.problems
    assert len(problems) == 3
    text = str(err.value)
    for needle in ("WTL_PIPE_LM", "low_dep", "SWL_PIPE_LM", "beg_dep", "end_dep", "UFL_GPIP_LM",
                   "prs_cde"):
        assert needle in text


def test_mixed_crs_are_reprojected_to_one(tmp_path):
    layers = uis_layers()
    layers["SWL_PIPE_LM"] = layers["SWL_PIPE_LM"].to_crs("EPSG:5174")  # Bessel: shifted
    path = write_gpkg(tmp_path / "u.gpkg", layers)
    p = read_pipes(path)
    assert p.crs.to_epsg() == 5186
    sewer = p[p.utility == "sewer"].geometry.to_numpy()
    expected = layers["SWL_PIPE_LM"].to_crs(CRS).geometry.to_numpy()
    assert shapely.hausdorff_distance(sewer, expected).max() < 1e-3
    assert read_pipes(path, crs="EPSG:5179").crs.to_epsg() == 5179


def test_geographic_crs_is_reprojected_to_metres(tmp_path, caplog):
    path = write_gpkg(tmp_path / "u.gpkg", {"WTL_PIPE_LM": uis_layers()["WTL_PIPE_LM"].to_crs(4326)})
    with caplog.at_level(logging.WARNING):
        p = read_pipes(path)
    assert p.crs.to_epsg() == 5186  # a Korea 2000 belt inside Korea
    assert "reprojected to EPSG:5186" in caplog.text
    assert p.geometry.length.round(3).tolist() == [10.0] * 4
    with pytest.raises(CRSError, match="crs="):
        read_pipes(path, crs=4326)


def test_layer_without_crs_is_an_error():
    g = uis_layers()["WTL_PIPE_LM"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="no CRS"):
        read_pipes(g, layers=["WTL_PIPE_LM"])


def test_truncated_gpkg(uis_gpkg, tmp_path):
    data = uis_gpkg.read_bytes()
    bad = tmp_path / "truncated.gpkg"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(FileFormatError):
        read_pipes(bad)
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"this is not a geopackage" * 10)
    with pytest.raises(FileFormatError, match=r"junk\.gpkg"):
        read_pipes(junk)


def test_missing_source(tmp_path):
    with pytest.raises(MissingFileError, match="does not exist"):
        read_pipes(tmp_path / "nope.gpkg")


def test_empty_layers(tmp_path):
    layers = uis_layers()
    layers["UFL_HPIP_LM"] = layers["UFL_HPIP_LM"].iloc[:0]
    path = write_gpkg(tmp_path / "u.gpkg", layers)
    with pytest.warns(UserWarning, match="UFL_HPIP_LM is empty"):
        p = read_pipes(path)
    assert "heat" not in set(p.utility)
    only_empty = write_gpkg(tmp_path / "e.gpkg", {"UFL_HPIP_LM": layers["UFL_HPIP_LM"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(EmptyResultError):
            read_pipes(only_empty)


def test_nothing_recognised(tmp_path):
    g = gpd.GeoDataFrame({"foo": [1]}, geometry=_lines(1), crs=CRS)
    path = tmp_path / "other.gpkg"
    g.to_file(path, layer="roads")
    with pytest.raises(SchemaError, match="column_map"):
        read_pipes(path)


def test_cp949_shapefile(tmp_path):
    g = uis_layers()["WTL_PIPE_LM"].copy()
    g["mng_cde"] = ["서울특별시상수도사업본부", "동부수도사업소", "중랑", "제기동"]
    g["mop_cde"] = ["덕타일주철관", "주철관", "폴리에틸렌관", "DIP"]
    folder = tmp_path / "shp"
    folder.mkdir()
    path = folder / "WTL_PIPE_LM.shp"
    pyogrio.write_dataframe(g, path, encoding="CP949")
    # the bytes really are CP949
    assert "서울특별시".encode("cp949") in path.with_suffix(".dbf").read_bytes()
    p1 = read_pipes(path)
    assert p1.agency.tolist()[0] == "서울특별시상수도사업본부"
    # without the .cpg: detected (UTF-8 fails, CP949 decodes)
    path.with_suffix(".cpg").unlink(missing_ok=True)
    p2 = read_pipes(folder)
    assert p2.agency.tolist() == g["mng_cde"].tolist()
    assert p2.material.tolist() == ["ductile_iron", "cast_iron", "pe", "ductile_iron"]
    assert p2.source_layer.tolist() == ["WTL_PIPE_LM"] * 4


def test_folder_of_files(tmp_path):
    layers = uis_layers()
    for name in ("WTL_PIPE_LM", "UFL_GPIP_LM"):
        pyogrio.write_dataframe(layers[name], tmp_path / f"{name}.shp", encoding="UTF-8")
    pyogrio.write_dataframe(layers["UFL_HPIP_LM"], tmp_path / "UFL_HPIP_LM.geojson")
    p = read_pipes(tmp_path)
    assert p.groupby("utility").size().to_dict() == {"water": 4, "gas": 2, "heat": 1}


def test_canonical_round_trip(uis_gpkg, tmp_path):
    p = read_pipes(uis_gpkg)
    out = tmp_path / "canonical.gpkg"
    p.to_file(out, layer="pipes")
    q = read_pipes(out)
    assert len(q) == len(p)
    pd.testing.assert_series_equal(q.install_year, p.install_year)
    pd.testing.assert_series_equal(q.depth_m, p.depth_m)
    assert q.source_layer.tolist() == p.source_layer.tolist()
    assert q.depth_unknown.tolist() == p.depth_unknown.tolist()


def test_column_map_layer_mapping(tmp_path):
    """A whole layer mapping passed for one call (no code)."""
    g = gpd.GeoDataFrame({"gid": [1, 2], "dia": ["100", "200"], "cov": [1.0, 0.0]},
                         geometry=_lines(2), crs=CRS)
    mapping = {"MY_GAS": {"utility": "gas", "fields": {"source_id": "gid", "size": "dia",
                                                       "depth_m": "cov"},
                          "required": ["gid", "dia"], "depth_reference": "top",
                          "depth_kind": "cover", "zero_is_unknown": True}}
    path = tmp_path / "g.gpkg"
    g.to_file(path, layer="MY_GAS")
    p = read_pipes(path, column_map=mapping)
    assert p.utility.tolist() == ["gas", "gas"]
    assert p.diameter_mm.tolist() == [100.0, 200.0]
    assert p.depth_unknown.tolist() == [False, True]


def test_does_not_mutate_input():
    g = uis_layers()["WTL_PIPE_LM"]
    before = g.copy()
    read_pipes(g, layers=["WTL_PIPE_LM"])
    pd.testing.assert_frame_equal(g, before)


# ------------------------------------------------------------------------------------------
# generated sample district
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def district(tmp_path_factory):
    und = pytest.importorskip("geo3d.datasets.underground")
    d = und.make_district(seed=11, size_m=400.0)
    out = tmp_path_factory.mktemp("district")
    und.write_district(d, out)
    return d, out


def test_generated_district_reads_and_validates(district):
    d, out = district
    p = read_pipes(out / "utilities.gpkg")
    counts = p.groupby("source_layer").size().to_dict()
    assert counts == {name: len(g) for name, g in d.layers.items() if len(g)}
    for name, g in d.layers.items():
        part = p[p.source_layer == name]
        assert part.source_id.tolist() == g["ftr_idn"].astype(str).tolist()
        assert part.install_year.isna().sum() == (g["ist_ymd"] == "").sum()
        dep = [c for c in ("low_dep", "hgh_dep", "beg_dep", "end_dep", "std_dep") if c in g]
        assert part.depth_unknown.sum() == (g[dep] == 0).all(axis=1).sum()
    assert p.material.notna().all()
    assert p[["diameter_mm", "height_mm"]].notna().any(axis=1).all()
    result = validate_pipes(p)
    assert result.problems == []


def test_committed_sample(repo):
    path = repo / "sample_data" / "underground" / "utilities.gpkg"
    if not path.exists():
        pytest.skip("sample_data/underground/utilities.gpkg not generated yet")
    p = read_pipes(path)
    assert set(p.utility) == {"water", "sewer", "power", "telecom", "gas", "heat"}
    assert validate_pipes(p).problems == []


# ------------------------------------------------------------------------------------------
# validate_pipes
# ------------------------------------------------------------------------------------------
def _canon(**cols):
    n = len(next(iter(cols.values())))
    base = {"utility": ["water"] * n, "depth_reference": ["top"] * n, "depth_kind": ["cover"] * n}
    base.update(cols)
    geoms = base.pop("geometry", _lines(n))
    return gpd.GeoDataFrame(base, geometry=geoms, crs=base.pop("crs", CRS))


def test_validate_reports_every_problem_at_once():
    g = _canon(
        utility=["water", "steam", "gas", "sewer", "power"],
        material_raw=["DIP", "DIP", "WOOD?", "HP", "PVC"],
        depth_m=[1.0, -0.5, 45.0, 1.0, 1.0],
        install_year=[1990, 1750, 2990, 2000, 2000],
        diameter_mm=[300.0, 300.0, 300.0, 0.0, 300.0],
        geometry=[*_lines(3), shapely.Point(0, 0), shapely.LineString()],
    )
    before = g.copy()
    with pytest.raises(SchemaError) as err:
        validate_pipes(g)
    text = "\n".join(err.value.problems)
    for needle in ("unknown utility: 'steam'", "implausible cover", "must be LineString",
                   "empty geometry"):
        assert needle in text, needle
    pd.testing.assert_frame_equal(g, before)  # input untouched
    notes = "\n".join(validate_pipes(g, strict=False).warnings)
    for needle in ("WOOD?", "negative cover depth", "before 1800", "install_year after",
                   "non-positive diameter_mm"):
        assert needle in notes, needle
    unrepaired = "\n".join(validate_pipes(g, strict=False, repair=False).problems)
    assert "negative cover depth" in unrepaired and "non-positive" in unrepaired


def test_validate_repairs_and_warns():
    multi = shapely.MultiLineString([[(0, 0), (1, 0)], [(2, 0), (3, 0)]])
    g = _canon(utility=["gas", "gas"], source_id=["a", "b"], geometry=[multi, _lines(1)[0]])
    r = validate_pipes(g)
    assert r.ok and len(r.pipes) == 3
    assert any("MultiLineString" in w for w in r.warnings)
    assert set(r.pipes.geom_type) == {"LineString"}
    assert r.pipes.source_id.tolist() == ["a", "a", "b"]
    assert len(g) == 2 and g.geom_type.tolist()[0] == "MultiLineString"
    assert "install_year" in r.pipes and "install_year" not in g


def test_validate_missing_columns_and_crs():
    g = gpd.GeoDataFrame({"x": [1]}, geometry=_lines(1))
    r = validate_pipes(g, strict=False)
    assert any("missing required column(s): utility" in p for p in r.problems)
    assert any("no CRS" in p for p in r.problems)
    geo = _canon(utility=["water"]).to_crs(4326)
    assert any("geographic CRS" in p for p in validate_pipes(geo, strict=False).problems)


def test_validate_depth_without_reference():
    g = _canon(depth_m=[1.0], depth_reference=[None])
    assert any("depth_reference missing" in p for p in validate_pipes(g, strict=False).problems)


def test_validate_sizes_in_metres():
    g = _canon(utility=["water"] * 4, diameter_mm=[0.15, 0.2, 0.3, 0.1])
    assert any("look like metres or inches" in p for p in validate_pipes(g, strict=False).problems)


def test_validate_length_in_feet():
    g = _canon(utility=["water"] * 3)
    g["length"] = g.geometry.length / 0.3048
    problems = validate_pipes(g, strict=False).problems
    assert any("'length' looks like feet" in p for p in problems)
    g["length"] = g.geometry.length
    assert validate_pipes(g).problems == []


# ------------------------------------------------------------------------------------------
# real networks (../shared/data/pipes)
# ------------------------------------------------------------------------------------------
KY4_MAP = {"diameter_mm": "diameter", "source_id": "name"}
ARCS_MAP = {"material": "pipetype", "diameter_mm": "diameter", "source_id": "linknwid"}


@pytest.mark.shared_data
def test_ky4_feet_length_quirk(shared_data):
    path = shared_data / "pipes" / "ky4_pipes.geojson"
    p = read_pipes(path, column_map=KY4_MAP, utility="water", units="m", keep_extra=True)
    assert len(p) == 1156 and p.crs.to_epsg() == 32616  # feet are never measured: UTM 16N
    assert p.diameter_mm.min() == pytest.approx(76.2)
    assert p.geometry.length.sum() / 1000 == pytest.approx(260.1, abs=0.05)  # not 853.6
    feet = p.to_crs(3547)  # had the feet been kept, the length column would betray them
    quirk = [x for x in validate_pipes(feet, strict=False).problems if "'length'" in x]
    assert quirk and "foot/metre factor" in quirk[0]
    # in metres, the length attribute agrees with the geometry
    m = read_pipes(path, column_map=KY4_MAP, utility="water", units="m", keep_extra=True,
                   crs="EPSG:32616")
    assert validate_pipes(m).problems == []
    ratio = m["length"].sum() / m.geometry.length.sum()
    assert ratio == pytest.approx(1.0, abs=0.002)


@pytest.mark.shared_data
def test_refactored_water_arcs_messy_materials(shared_data):
    path = shared_data / "pipes" / "RefactoredWaterArcs.shp"
    assert read_pipes(path, column_map=ARCS_MAP, utility="water", units="in").crs.to_epsg() == 32610
    p = read_pipes(path, column_map=ARCS_MAP, utility="water", units="in", crs="EPSG:32610")
    assert len(p) == 533 and p.crs.to_epsg() == 32610  # 532 rows, one MultiLineString of 2
    assert not p.geometry.has_z.any()  # the all-zero Z is dropped
    pairs = dict(zip(p.material_raw, p.material, strict=True))
    assert pairs["TJDCI"] == "ductile_iron"
    assert pairs["CIP"] == "cast_iron"
    assert pairs["STEEL ID"] == "steel"
    assert pairs["TRANSITE"] == "asbestos_cement"
    assert pairs["PLASTIC BLUE BRUTE"] == "pvc"
    assert p.material_raw.notna().sum() == 520  # 519 rows + the second part of the multi-line
    assert p.diameter_mm.median() == pytest.approx(8 * 25.4)
    r = validate_pipes(p, strict=False)
    assert r.problems == []
    assert any("unknown material code(s): 'TTE' (1): material left unknown" in w
               for w in r.warnings)
    assert len(r.pipes) == 533  # exploded by read_pipes already
    q = read_pipes(path, column_map=ARCS_MAP, utility="water", units="in", crs="EPSG:32610",
                   materials={"TTE": "other"})
    assert validate_pipes(q).ok


def test_column_map_constants_and_units():
    g = gpd.GeoDataFrame({"fid_": [1, 2], "dia_in": [8.0, 12.0], "cover_ft": [4.0, 0.0],
                          "year": [1975, 0], "utility": ["water", "sewer"]},
                         geometry=_lines(2), crs=CRS)
    p = read_pipes(g, column_map={"source_id": "fid_", "diameter_mm": "dia_in",
                                  "depth_m": "cover_ft", "install_date": "year",
                                  "depth_reference": "top", "depth_kind": "cover"},
                   units={"diameter": "in", "depth": "ft"})
    assert p.utility.tolist() == ["water", "sewer"]   # canonical column taken as is
    assert p.diameter_mm.tolist() == pytest.approx([203.2, 304.8])
    assert p.depth_m.tolist()[0] == pytest.approx(1.2192)
    assert pd.isna(p.depth_m.tolist()[1])  # a cover depth of 0 is unknown (one rule for all)
    assert p.depth_unknown.tolist() == [False, True]
    assert p.install_year.isna().tolist() == [False, True]
    assert p.depth_reference.tolist() == ["top", "top"]
    with pytest.raises(InputError, match="units keys"):
        read_pipes(g, column_map={"source_id": "fid_"}, units={"diam": "in"})
    with pytest.raises(SchemaError, match="missing field"):
        read_pipes(g, column_map={"source_id": "nope"}, utility="water")


def test_unparseable_sizes_are_logged(caplog):
    g = uis_layers()["UFL_KPIP_LS"].copy()
    g["std_dip"] = ["2@100", "100"]
    with caplog.at_level(logging.INFO, logger="geo3d.underground.pipes"):
        p = read_pipes(g, layers=["UFL_KPIP_LS"])
    assert p.diameter_mm.isna().tolist() == [True, False]
    assert "1 size value(s) not understood" in caplog.text and "'2@100'" in caplog.text


def test_degenerate_line_is_a_problem():
    g = _canon(utility=["water"], geometry=[shapely.LineString([(0, 0), (0, 0)])])
    problems = validate_pipes(g, strict=False).problems
    assert any("zero-length line" in p for p in problems)


def test_sample_folder(repo):
    folder = repo / "sample_data" / "underground"
    if not (folder / "utilities.gpkg").exists():
        pytest.skip("sample_data/underground not generated yet")
    p = read_pipes(folder)  # boreholes, pit, road … are skipped: not pipe layers
    assert set(p.source_layer) == {"WTL_PIPE_LM", "SWL_PIPE_LM", "UFL_BPIP_LM", "UFL_KPIP_LS",
                                   "UFL_GPIP_LM", "UFL_HPIP_LM"}


def test_utility_field_aliases():
    g = gpd.GeoDataFrame({"kind": ["Water", "상수도", "Electricity", "steam"]}, geometry=_lines(4),
                         crs=CRS)
    with pytest.raises(SchemaError, match="'steam'"):
        read_pipes(g, column_map={"utility": "kind"})
    p = read_pipes(g, column_map={"utility": "kind"}, validate=False)
    assert p.utility.tolist() == ["water", "water", "power", "steam"]
    assert any("'steam'" in x for x in validate_pipes(p, strict=False).problems)


def test_parse_size_property():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.given(w=st.integers(1, 9999), h=st.integers(1, 9999),
                      sep=st.sampled_from(["\\", "x", "X", "×", "*", " x ", " \\ "]))
    @hypothesis.settings(max_examples=200, deadline=None)
    def check(w, h, sep):
        row = parse_size([f"{w}{sep}{h}", str(w)])
        assert row["width_mm"].tolist()[0] == w and row["height_mm"].tolist()[0] == h
        assert pd.isna(row["diameter_mm"].tolist()[0])
        assert row["diameter_mm"].tolist()[1] == w

    check()
