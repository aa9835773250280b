"""Tests of the synthetic market-scan generator (geo3d.datasets.market)."""

from __future__ import annotations

import hashlib
import math
import re
import tomllib

import geopandas as gpd
import laspy
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d.datasets import market
from geo3d.datasets._scanner import cast_station
from geo3d.errors import InputError

TINY = {"angular_step_deg": 6.0}  # a quick, very sparse scan
FACILITY_KINDS = {"fire_extinguisher", "indoor_hydrant", "exit_sign", "aed", "fire_alarm", "cctv",
                  "other_facility"}
CODES = {"store": 1, "fire_extinguisher": 2, "indoor_hydrant": 3, "exit_sign": 4, "aed": 5,
         "fire_alarm": 6, "cctv": 7, "other_facility": 8}


def _digests(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The committed sample scene at full density, written once."""
    scene = market.make_market("sample")
    out = tmp_path_factory.mktemp("market")
    paths = market.write_market(scene, out)
    return scene, out, paths


# ------------------------------------------------------------------------------ API and errors

def test_unknown_layout_lists_valid_names():
    with pytest.raises(InputError, match=r"sample.*rotated.*l_shaped.*three_levels.*sparse_noisy"):
        market.make_market("square")


def test_unknown_override_is_refused():
    with pytest.raises(InputError, match="angular_stepp"):
        market.make_market("sample", angular_stepp=2.0)


def test_layout_names():
    assert set(market.LAYOUTS) == {"sample", "rotated", "l_shaped", "three_levels", "sparse_noisy"}


# ------------------------------------------------------------------------------ determinism

def test_same_bytes_on_every_run(tmp_path):
    a = market.write_market(market.make_market("sample", **TINY), tmp_path / "a")
    b = market.write_market(market.make_market("sample", **TINY), tmp_path / "b")
    assert [p.name for p in a] == list(market.FILES)
    assert _digests(a) == _digests(b)
    c = market.write_market(market.make_market("sample", seed=7, **TINY), tmp_path / "c")
    assert _digests(a)["market.laz"] != _digests(c)["market.laz"]


def test_write_refuses_to_overwrite_when_asked(tmp_path):
    scene = market.make_market("l_shaped", **TINY)
    market.write_market(scene, tmp_path)
    with pytest.raises(FileExistsError):
        market.write_market(scene, tmp_path, overwrite=False)


# ------------------------------------------------------------------------------ the ray caster

def test_tiled_ray_casting_matches_brute_force():
    rng = np.random.default_rng(0)
    lo = rng.uniform(-10, 10, (300, 3))
    hi = lo + rng.uniform(0.05, 2.0, (300, 3))
    origin = np.array([0.3, -0.2, 0.1])
    inside = np.all((lo < origin) & (origin < hi), axis=1)
    lo, hi = lo[~inside], hi[~inside]
    res = cast_station(lo, hi, origin, step_deg=3.0, heading=0.01, el_min_deg=-80.0,
                       tile_deg=10.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / res.directions
        t1 = (lo[None] - origin) * inv[:, None]
        t2 = (hi[None] - origin) * inv[:, None]
        tn = np.fmin(t1, t2).max(axis=2)
        tf = np.fmax(t1, t2).min(axis=2)
    t = np.where((tn <= tf) & (tn > 1e-4), tn, np.inf).min(axis=1)
    np.testing.assert_array_equal(np.isfinite(t), res.box >= 0)
    np.testing.assert_allclose(t[np.isfinite(t)], res.t[res.box >= 0])


# ------------------------------------------------------------------------------ the sample scene

def test_sample_targets(sample):
    scene, out, _ = sample
    assert 600_000 <= scene.n_points <= 1_000_000
    assert (out / "market.laz").stat().st_size <= 9 * 2**20


def test_las_header_and_alignment(sample):
    scene, out, _ = sample
    las = laspy.read(out / "market.laz")
    assert las.header.point_format.id == 7
    assert str(las.header.version) == "1.4"
    assert las.header.parse_crs().to_epsg() == 5186
    assert list(las.header.scales) == [0.001, 0.001, 0.001]
    assert "gt_class" not in las.point_format.dimension_names
    gt = np.load(out / "market_gt.npz")
    assert sorted(gt.files) == ["gt_class", "gt_instance", "gt_level"]
    assert gt["gt_class"].dtype == np.uint8 and gt["gt_instance"].dtype == np.int32
    assert gt["gt_level"].dtype == np.int8
    n = len(las.points)
    assert all(gt[k].size == n for k in gt.files)
    np.testing.assert_allclose(las.x, scene.points["x"], atol=5e-4)
    np.testing.assert_array_equal(las.point_source_id, scene.points["point_source_id"])
    assert np.all(np.diff(np.asarray(las.gps_time)) > 0)
    assert np.all(las.return_number == 1) and np.all(las.number_of_returns == 1)


def test_every_object_has_points_of_its_class(sample):
    scene, _, _ = sample
    objs = scene.objects
    cls, inst = scene.gt["gt_class"], scene.gt["gt_instance"]
    assert np.all(cls[inst < 0] == 0)
    counts = np.bincount(inst[inst >= 0], minlength=int(objs["object_id"].max()) + 1)
    assert (objs["n_points"].to_numpy() == counts[objs["object_id"].to_numpy()]).all()
    assert (objs["n_points"] > 0).all()
    code = dict(zip(objs["object_id"], objs["object_class"], strict=True))
    ids = inst[inst >= 0]
    assert np.all(cls[inst >= 0] == np.vectorize(code.get)(ids))
    assert objs["kind"].map(CODES).equals(objs["object_class"])


def test_sample_contents(sample):
    scene, _, _ = sample
    objs = scene.objects
    assert (objs["kind"] == "store").sum() >= 100
    assert set(objs["kind"]) == FACILITY_KINDS | {"store"}
    for floor in (1, 2):
        kinds = objs.loc[objs["floor"] == floor, "kind"].value_counts()
        assert (kinds.reindex(sorted(FACILITY_KINDS - {"other_facility"}), fill_value=0) >= 2).all()
    stores = objs[objs["kind"] == "store"]
    assert stores.geom_type.eq("Polygon").all()
    assert objs.loc[objs["kind"] != "store"].geom_type.eq("Point").all()
    # at least one AED inside a store's footprint
    aed = objs[(objs["kind"] == "aed") & objs["host_store"].notna()]
    assert len(aed) >= 1
    host = stores.set_index("object_id").loc[int(aed.iloc[0]["host_store"]), "geometry"]
    assert host.contains(aed.iloc[0].geometry)
    # stalls separable at 10–15 cm: footprints at least 0.3 m apart
    geoms = stores.geometry.to_numpy()
    for floor in (1, 2):
        sel = (stores["floor"] == floor).to_numpy()
        g = geoms[sel]
        tree = shapely.STRtree(g)
        i, j = tree.query(g, predicate="dwithin", distance=0.3)
        assert np.all(i == j)


def test_levels_consistent_with_points(sample):
    scene, out, _ = sample
    levels = pd.read_csv(out / "market_levels.csv")
    assert levels["label"].tolist() == ["1층", "2층"]
    z, lvl = scene.points["z"], scene.gt["gt_level"]
    for row in levels.itertuples():
        zs = z[lvl == row.floor]
        lower = zs[zs < row.slab_z + 2.0]
        hist, edges = np.histogram(lower, bins=np.arange(row.slab_z - 1.0, row.slab_z + 2.0, 0.05))
        peak = edges[hist.argmax()] + 0.025
        assert abs(peak - row.slab_z) <= 0.15
        assert zs.min() > row.slab_z - 0.5
        assert zs.max() < row.ceiling_z + 0.5


def test_files_read_back(sample):
    _, out, _ = sample
    objs = gpd.read_file(out / "market_objects.geojson")
    assert objs.crs.to_epsg() == 5186
    aisles = gpd.read_file(out / "market_aisles.geojson")
    assert aisles["name"].is_unique
    toml = tomllib.loads((out / "market.toml").read_text(encoding="utf-8"))
    assert toml["name"] == "경동시장" and toml["scheme"] == "internal_road"
    assert toml["interval_m"] == 20.0 and toml["entrance_floor"] == 1
    assert [a["name"] for a in toml["aisles"]] == aisles["name"].tolist()
    pe = np.array(toml["principal_entrance"])
    first = next(a for a in toml["aisles"] if a["name"] == "경동시장1통로")
    assert np.hypot(*(np.array(first["line"][0]) - pe)) < 0.01
    for a in toml["aisles"]:  # every aisle starts at its end nearer the principal entrance
        line = np.array(a["line"])
        assert np.hypot(*(line[0] - pe)) <= np.hypot(*(line[-1] - pe))


def _base(number: str) -> int:
    return int(re.match(r"\d+", number).group())


def test_addresses_follow_the_rules(sample):
    _, out, _ = sample
    ad = pd.read_csv(out / "market_addresses.csv", dtype={"number": str}, keep_default_na=False)
    assert list(ad.columns) == ["object_id", "object_class", "kind", "floor", "aisle", "s_m",
                                "side", "number", "address", "x", "y", "z"]
    cctv = ad["kind"] == "cctv"
    assert (ad.loc[cctv, "address"] == "").all()
    assert (ad.loc[~cctv, "address"] != "").all()  # every store and other facility is addressed
    suffix = {"fire_extinguisher": "소화기", "indoor_hydrant": "옥내소화전", "exit_sign": "비상구",
              "aed": "자동심장충격기", "fire_alarm": "발신기", "other_facility": "구급함"}
    in_store = ad["address"].str.contains(",")
    road = r"서울특별시 동대문구 경동시장\d+통로 \d+(-\d+)?"
    for r in ad[~cctv].itertuples():
        if r.kind == "store":
            assert re.fullmatch(road, r.address), r.address
        elif "," in r.address:
            assert re.fullmatch(road + r", [1-9]\d{2} " + suffix[r.kind], r.address), r.address
        else:
            assert re.fullmatch(road + " " + suffix[r.kind], r.address), r.address
        assert r.address.split()[2] == r.aisle
        n = _base(r.number)
        s = float(r.s_m)
        assert (n % 2 == 1) == (r.side == "left")  # odd left, even right
        assert math.ceil(n / 2) - 1 == math.floor(s / 20.0)  # in its 20 m interval
        assert s < 1.0 or abs(s - 20.0 * round(s / 20.0)) > 0.04  # none on an interval boundary
    assert in_store.sum() >= 1
    road_rows = ad[~cctv & ~in_store].copy()
    road_rows["sub"] = road_rows["number"].map(lambda v: int(v.split("-")[1]) if "-" in v else 0)
    road_rows["base"] = road_rows["number"].map(_base)
    stores = road_rows[road_rows["kind"] == "store"]
    assert not stores.duplicated(["aisle", "number"]).any()
    facs = road_rows[road_rows["kind"] != "store"]
    assert not facs.duplicated(["aisle", "number", "kind"]).any()
    # sub-numbers run 0, 1, 2 … in order of s within a group
    for _, g in road_rows.groupby(["aisle", "base", road_rows["kind"] == "store", "kind"]):
        g = g.sort_values(["s_m", "object_id"])
        assert g["sub"].tolist() == list(range(len(g)))
    # a tie-breaking case: two extinguishers in one interval on one side of one aisle
    ext = facs[facs["kind"] == "fire_extinguisher"]
    assert ext.groupby(["aisle", "base"]).size().max() >= 2
    # aisle names unique across floors
    assert ad.groupby("aisle")["floor"].nunique().max() == 1


# ------------------------------------------------------------------------------ other layouts

@pytest.mark.parametrize("name", ["rotated", "l_shaped", "three_levels", "sparse_noisy"])
def test_other_layouts_build(name):
    scene = market.make_market(name, **TINY)
    assert scene.n_points > 1000
    assert (scene.objects["kind"] == "store").sum() >= 20
    assert scene.addresses.loc[scene.addresses["kind"] != "cctv", "address"].ne("").all()
    if name == "three_levels":
        assert scene.levels["label"].tolist() == ["지하1층", "1층", "2층"]
        assert scene.levels["ceiling_z"].isna().tolist() == [False, False, True]
        assert set(np.unique(scene.gt["gt_level"])) <= {0, -1, 1, 2}
    if name == "l_shaped":
        assert max(len(g.coords) for g in scene.aisles.geometry) == 3


@pytest.mark.parametrize("name", list(market.LAYOUTS))
def test_aisle_numbering_has_no_ties(name):
    """Aisles are numbered by distance from the principal entrance: no two are near-equal."""
    scene = market.make_market(name, angular_step_deg=20.0)
    pe = shapely.Point(scene.market["principal_entrance"])
    for _, g in scene.aisles.groupby("floor"):
        g = g.assign(n=g["name"].str.extract(r"(\d+)").astype(int)[0]).sort_values("n")
        dist = g.geometry.distance(pe).to_numpy()
        assert np.all(np.diff(dist) > 0.1), (name, dist)
