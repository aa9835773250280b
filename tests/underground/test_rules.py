"""The rules table (data, validation) and the cover / separation checks."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.errors import InputError, SchemaError
from geo3d.underground.rules import (
    RULE_COLUMNS,
    check_cover,
    check_separations,
    load_rules,
    required_cover,
    rule_value,
)

CRS = "EPSG:5186"


def line(*coords):
    return shapely.LineString(coords)


def test_shipped_table_is_complete_and_cited():
    rules = load_rules()
    assert list(rules.columns) == list(RULE_COLUMNS)
    assert rules["rule_id"].is_unique
    assert (rules["source"].str.len() > 5).all()
    assert (rules["version"] != "").all()
    kinds = set(rules["kind"])
    assert {"min_cover", "separation", "hand_dig_band", "agreement"} <= kinds
    v = rules.set_index("rule_id")["value_m"]
    assert v["KR-GAS-COVER-ROAD8"] == 1.2 and v["KR-GAS-COVER-ROAD4"] == 1.0
    assert v["KR-GAS-COVER-ROAD0"] == 0.8 and v["KR-GAS-COVER-APT"] == 0.6
    assert v["KR-WATER-COVER-D900"] == 1.2 and v["KR-WATER-COVER-D1000"] == 1.5
    assert v["KR-POWER-COVER-TRAFFIC"] == 1.2 and v["KR-POWER-COVER-OTHER"] == 0.6
    assert v["KR-GAS-SEP"] == 0.3 and v["KR-POWER-SEP-HV-LV"] == 0.15
    assert rule_value(rules, "hand_dig_band", utility="gas") == 1.0
    assert rule_value(rules, "agreement", utility="gas", reference="exposed_length") == 10.0
    assert v["US-811-TOLERANCE-18"] == pytest.approx(18 * 0.0254, abs=1e-3)
    assert math.isnan(rule_value(rules, "hand_dig_band", utility="telecom"))


def test_load_rules_reports_every_bad_row(tmp_path):
    p = tmp_path / "rules.csv"
    p.write_text(
        "rule_id,kind,utility,other_utility,condition,value_m,reference,source,version\n"
        "A,min_cover,gas,,road_width_m>=8,1.2,top,law,1\n"
        "A,min_cover,gaz,,pressure>=extreme,x,top,law,1\n"
        "C,separation,gas,,colour=red,0.3,surface,,1\n",
        encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        load_rules(p)
    text = "\n".join(info.value.problems)
    for needle in ("duplicate rule_id", "unknown utility 'gaz'", "pressure must be one of",
                   "value_m", "other_utility", "unknown field 'colour'", "source is empty"):
        assert needle in text, needle
    assert all(pr.startswith("row ") for pr in info.value.problems)
    with pytest.raises(InputError, match="does not exist"):
        load_rules(tmp_path / "nope.csv")
    q = tmp_path / "short.csv"
    q.write_text("rule_id,kind\nA,min_cover\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="lacks column"):
        load_rules(q)


def test_user_table_is_used(tmp_path):
    p = tmp_path / "mine.csv"
    p.write_text("rule_id,kind,utility,other_utility,condition,value_m,reference,source,version\n"
                 "X-TEL,min_cover,telecom,,,0.9,top,city spec 2024,1\n", encoding="utf-8")
    df = pd.DataFrame({"utility": ["telecom", "gas"], "diameter_mm": [50.0, 50.0]})
    assert required_cover(df, rules=p).tolist()[0] == 0.9
    assert math.isnan(required_cover(df, rules=p).tolist()[1])


def test_required_cover_rules_and_alignment():
    df = pd.DataFrame(
        {"utility": ["gas", "gas", "gas", "gas", "water", "water", "water", "power", "power",
                     "telecom", "sewer"],
         "diameter_mm": [100, 100, 100, 100, 900, 1000, None, 200, 200, 50, 300],
         "width_mm": [None] * 6 + [1200.0] + [None] * 4,
         "height_mm": [None] * 6 + [1000.0] + [None] * 4},
        index=list("abcdefghijk"))
    widths = pd.Series([8.0, 7.9, 3.0, None, 10, 10, 10, 10, 10, 10, 10], index=list("abcdefghijk"))
    under = pd.Series([True] * 7 + [True, False] + [True] * 2, index=list("abcdefghijk"))
    need = required_cover(df, road_width=widths, under_traffic=under)
    assert need.index.tolist() == list("abcdefghijk")
    expected = [1.2, 1.0, 0.8, np.nan, 1.2, 1.5, 1.5, 1.2, 0.6, np.nan, 1.0]
    np.testing.assert_allclose(need.to_numpy(), expected)
    # a scalar width, or a road_width_m column
    assert required_cover(df.iloc[:1], road_width=5.0).iloc[0] == 1.0
    assert required_cover(df.iloc[:1].assign(road_width_m=2.0)).iloc[0] == 0.8
    # apartment site
    assert required_cover(df.iloc[:1].assign(site="apartment")).iloc[0] == 0.6


def test_check_cover_3d_against_ground():
    # water D200: centre 28.75 -> top 28.85 under ground 30 -> cover 1.15 < 1.2
    pipes = gpd.GeoDataFrame(
        {"utility": ["water", "water"], "source_id": ["low", "ok"], "diameter_mm": [200.0, 200.0]},
        geometry=[line((0, 0, 28.75), (5, 0, 28.75)), line((0, 5, 28.6), (5, 5, 28.6))], crs=CRS)
    out = check_cover(pipes, ground=30.0)
    assert out["source_id"].tolist() == ["low"]
    assert out["cover_m"].iloc[0] == pytest.approx(1.15)
    assert out["shortfall_m"].iloc[0] == pytest.approx(0.05)


def test_check_separations_pairs_and_connections():
    pipes = gpd.GeoDataFrame(
        {"utility": ["gas", "telecom", "water", "water", "power", "power"],
         "source_id": ["g", "t", "w1", "w2", "ehv", "lv"],
         "diameter_mm": [100.0, 100.0, 200.0, 200.0, 100.0, 100.0],
         "voltage_kv": [None, None, None, None, 154.0, 0.38]},
        geometry=[
            line((0, 0, 10.0), (10, 0, 10.0)),
            line((5, -5, 10.3), (5, 5, 10.3)),        # 0.3 centre gap - 0.1 = 0.2 clear < 0.3
            line((20, 0, 10.0), (30, 0, 10.0)),
            line((30, 0, 10.0), (40, 0, 10.0)),      # connected to w1: skipped
            line((50, 0, 10.0), (60, 0, 10.0)),
            line((50, 0.35, 10.0), (60, 0.35, 10.0)),  # 0.25 clear < 0.3 (EHV-LV)
        ], crs=CRS)
    out = check_separations(pipes)
    got = {(a, b): (c, r) for a, b, c, r in
           out[["source_id_a", "source_id_b", "clear_m", "rule_id"]].itertuples(index=False)}
    assert got.keys() == {("g", "t"), ("ehv", "lv")}
    assert got[("g", "t")] == (pytest.approx(0.2), "KR-GAS-SEP")
    assert got[("ehv", "lv")] == (pytest.approx(0.25), "KR-POWER-SEP-EHV-LV")


def test_rank_and_clearance_lookups_match_pandas_map():
    from geo3d.underground.rules import _rank
    from geo3d.underground.section import _clearance_required

    v = np.array(["low", None, pd.NA, np.nan, "high", "x", "medium"], dtype=object)
    want = pd.Series(v, dtype=object).map({"low": 0.0, "medium": 1.0, "high": 2.0})
    np.testing.assert_array_equal(_rank(v, ("low", "medium", "high")),
                                  want.to_numpy(dtype=np.float64))
    ua = np.array(["gas", "water", None, "sewer"], dtype=object)
    ub = np.array(["sewer", pd.NA, "gas", "power"], dtype=object)
    for table in (None, {"gas": 0.5, "sewer": float("nan"), "power": float("inf")}):
        tab = {"gas": 0.3, "water": 0.3} if table is None else table
        ref = np.maximum(pd.Series(ua, dtype=object).map(tab).astype(float).fillna(0.0),
                         pd.Series(ub, dtype=object).map(tab).astype(float).fillna(0.0))
        np.testing.assert_array_equal(_clearance_required(ua, ub, table), ref.to_numpy())
