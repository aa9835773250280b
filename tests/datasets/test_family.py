"""Tests of the scene family (geo3d.datasets.family): conditions, truth, determinism."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from geo3d.datasets.family import CONDITIONS, FamilyScene, market_scene, sample_conditions
from geo3d.errors import InputError

SMALL = {"density": "sparse", "length": 40.0, "aisles": 2, "cross_aisle": False}


def _digest(scene: FamilyScene) -> str:
    return hashlib.sha256(scene.points["x"].tobytes() + scene.points["z"].tobytes()
                          + scene.gt["gt_instance"].tobytes()).hexdigest()


@pytest.fixture(scope="module")
def basement_l() -> FamilyScene:
    """An L-shaped hall with a basement below the street, a stair void and scan defects."""
    return market_scene(3, plan="L", floors=(-1, 1), stair_void=True, partial_top=False, open_top=False,
                        duplicate_rate=0.01, stray_rate=1e-3, gap_share=0.4, **SMALL)


def test_conditions_are_seeded_and_complete() -> None:
    c = sample_conditions(5)
    assert set(c) == set(CONDITIONS)
    assert c == sample_conditions(5)
    plans = {sample_conditions(s)["plan"] for s in range(40)}
    assert plans == {"rect", "L", "T", "cross"}
    floors = [sample_conditions(s)["floors"] for s in range(40)]
    assert any(min(f) < 0 for f in floors) and any(len(f) >= 3 for f in floors)


def test_bad_conditions_are_refused() -> None:
    with pytest.raises(InputError, match="unknown condition"):
        market_scene(1, plann="L")
    with pytest.raises(InputError, match="plan must be"):
        market_scene(1, plan="O", **SMALL)
    with pytest.raises(InputError, match="floors must hold 1"):
        market_scene(1, floors=(-1, 2), **SMALL)


def test_basement_is_below_the_street_level(basement_l: FamilyScene) -> None:
    lv = basement_l.levels
    assert lv["floor"].tolist() == [-1, 1]
    assert lv["label"].tolist() == ["지하1층", "1층"]
    assert lv["slab_z"].iloc[0] < lv["slab_z"].iloc[1] - 3.0
    # the street seen through the 1층 doors: level 0 (not scored), near the 1층 slab
    z = basement_l.points["z"][(basement_l.gt["gt_level"] == 0) & (basement_l.gt["gt_class"] == 0)]
    assert (np.abs(z - lv["slab_z"].iloc[1]) < 0.5).sum() > 100
    assert basement_l.market["entrance_floor"] == 1


def test_truth_tables_have_the_sample_shapes(basement_l: FamilyScene) -> None:
    objs, addr, aisles = basement_l.objects, basement_l.addresses, basement_l.aisles
    assert {"object_id", "object_class", "kind", "floor", "aisle", "n_points"} <= set(objs.columns)
    assert (objs["kind"] == "store").sum() >= 20
    kinds = set(objs["kind"])
    assert {"fire_extinguisher", "indoor_hydrant", "exit_sign", "fire_alarm", "cctv"} <= kinds
    assert list(addr.columns)[:9] == ["object_id", "object_class", "kind", "floor", "aisle", "s_m", "side",
                                      "number", "address"]
    stores = addr[addr["kind"] == "store"]
    assert (stores["address"].str.startswith("서울특별시 동대문구 경동시장")).mean() > 0.9
    assert set(aisles["floor"]) == {-1, 1}
    # every truth instance id is an object, and the per-point classes agree with it
    inst = basement_l.gt["gt_instance"]
    ids = set(np.unique(inst[inst > 0]).tolist())
    assert ids <= set(objs["object_id"])
    cls = dict(zip(objs["object_id"], objs["object_class"], strict=True))
    sel = inst > 0
    assert (basement_l.gt["gt_class"][sel] == np.vectorize(cls.get)(inst[sel])).all()


def test_scan_defects_are_present(basement_l: FamilyScene) -> None:
    xyz = np.column_stack([basement_l.points[k] for k in ("x", "y", "z")])
    n_unique = len(np.unique(xyz, axis=0))
    assert n_unique < len(xyz)  # duplicated points
    assert 20 < basement_l.density < 2500


def test_same_seed_same_scene_and_plans_differ() -> None:
    a = market_scene(11, plan="T", floors=(1,), **SMALL)
    b = market_scene(11, plan="T", floors=(1,), **SMALL)
    assert _digest(a) == _digest(b)
    c = market_scene(11, plan="rect", floors=(1,), **SMALL)
    # the T's cut corners shorten the southern aisle
    assert a.aisles.geometry.length.min() < c.aisles.geometry.length.min() - 5.0


def test_partial_top_floor_covers_part_of_the_hall() -> None:
    s = market_scene(4, plan="rect", floors=(1, 2), partial_top=True, open_top=True, stair_void=False, **SMALL)
    lv = s.levels.set_index("floor")
    assert np.isnan(lv.loc[2, "ceiling_z"]) or lv.loc[2, "ceiling_z"] is None
    up = s.aisles[s.aisles["floor"] == 2].geometry.length.max()
    down = s.aisles[s.aisles["floor"] == 1].geometry.length.max()
    assert up < 0.7 * down
