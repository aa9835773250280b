import json
import logging
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from geo3d.indoor.evidence import MIN_MARKET_STORES, WarningLog, market_evidence
from geo3d.indoor.scan import segment_scan
from geo3d.io.las import read_las


def test_market_evidence_verdicts():
    levels = pd.DataFrame({"floor": [1, 2], "ceiling_z": [4.0, np.nan]})
    stores = pd.Series(["store"] * MIN_MARKET_STORES + ["aed"])
    ok = market_evidence(levels, stores, indoor=True)
    assert ok["looks_like_market"] and ok["reasons"] == [] and ok["stores"] == MIN_MARKET_STORES
    assert ok["facilities"] == 1 and ok["indoor_storeys"] == 2 and ok["levels_with_ceiling"] == 1
    few = market_evidence(levels, stores.iloc[:2], indoor=True)
    assert not few["looks_like_market"] and "2 store-sized" in few["reasons"][0]
    out = market_evidence(levels.iloc[:1], stores, indoor=False)
    assert not out["looks_like_market"] and out["indoor_storeys"] == 0
    assert out["reasons"][0].startswith("no indoor storey")
    roofless = market_evidence(pd.DataFrame({"floor": [1], "ceiling_z": [np.nan]}), stores, indoor=True)
    assert "no level has a ceiling" in roofless["reasons"][0]


def test_warning_log_records_warnings_and_log_records_once():
    with warnings.catch_warnings(record=True), WarningLog() as record:
        warnings.warn("first", UserWarning, stacklevel=1)
        logging.getLogger("geo3d.somewhere").warning("second")
        logging.getLogger("geo3d.somewhere").warning("first")  # the same text twice: kept once
        logging.getLogger("other").warning("not ours")
    assert record.messages == ["first", "second"]
    with warnings.catch_warnings(record=True), WarningLog() as again:
        warnings.warn("first", UserWarning, stacklevel=1)  # seen before: still recorded
    assert again.messages == ["first"]


@pytest.fixture(scope="module")
def room(shared_data):
    return segment_scan(read_las(shared_data / "lidar" / "room_scan1.las"))


def test_a_room_is_not_a_market(room):
    # one real room (PCL's room_scan1): floor ≈ −1.27 m, ceiling ≈ +1.67 m, no stores
    lv = room.levels.iloc[0]
    assert len(room.levels) == 1
    assert abs(lv["slab_z"] + 1.27) <= 0.1 and abs(lv["ceiling_z"] - 1.67) <= 0.1
    assert (room.objects["kind"] == "store").sum() == 0
    assert not room.market_check["looks_like_market"]
    assert any("does not look like a market" in w for w in room.warnings)
    assert room.unclassified is not None and len(room.unclassified) > 0


def test_an_outdoor_tile_has_no_stores(shared_data, tmp_path):
    from geo3d.cli import commands  # noqa: F401
    from geo3d.cli.main import cli

    out = tmp_path / "seg"
    res = CliRunner().invoke(cli, ["segment", str(shared_data / "lidar" / "autzen_trim.laz"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["per_class"].get("store", 0) == 0
    assert report["market_check"]["looks_like_market"] is False
    assert report["market_check"]["indoor_storeys"] == 0
    text = " ".join(report["warnings"])
    assert "no storey found" in text and "does not look like a market" in text
    t = report["timings_s"]
    assert {"read", "segment_scan", "layers", "write_points", "write_objects", "total"} <= set(t)
    assert t["total"] >= t["segment_scan"] + t["layers"]


def test_scan_with_no_object_ends_cleanly(shared_data, tmp_path, repo):
    # regression (issue 11, a pump room): `geo3d scan` exited 1 with a zip() error
    from geo3d.cli import commands  # noqa: F401
    from geo3d.cli.main import cli

    out = tmp_path / "scan"
    market = tmp_path / "market.toml"  # the sample's aisles lie 500 km from this file: none given
    market.write_text('name = "펌프실"\nsido = "서울특별시"\nsigungu = "동대문구"\n'
                      'parent_road = "고산자로36길"\nparent_number = "3"\ncrs = "EPSG:5186"\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["scan", str(shared_data / "lidar" / "simple.las"), "--market", str(market),
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "no store and no facility found" in res.output
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["per_class"] == {} and report["market_check"]["looks_like_market"] is False
    assert (out / "addresses.csv").read_text(encoding="utf-8").count("\n") == 1  # the header only
