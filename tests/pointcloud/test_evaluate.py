import numpy as np
import pandas as pd

from geo3d.pointcloud.evaluate import match_instances, score_levels, score_segmentation


def scene():
    # three true objects: store (0) 100 pts, extinguisher (1) 20 pts, store (2) 50 pts, 30 structure
    ti = np.r_[np.zeros(100), np.ones(20), np.full(50, 2), np.full(30, -1)].astype(int)
    tc = np.r_[np.ones(100), np.full(20, 2), np.ones(50), np.zeros(30)].astype(int)
    return ti, tc


def test_perfect_prediction_scores_one():
    ti, tc = scene()
    s = score_segmentation(ti + 10 * (ti >= 0), tc, ti, tc)
    assert (s.per_class[["precision", "recall", "f1"]] == 1.0).all().all()
    assert s.confusion.loc["store", "store"] == 2


def test_split_object_is_a_miss_and_a_false_positive():
    ti, tc = scene()
    pi = ti.copy()
    pi[:100] = np.r_[np.full(40, 8), np.zeros(30), np.full(30, 7)]  # store 0 in three parts: IoU <= 0.4
    s = score_segmentation(pi, tc, ti, tc)
    store = s.per_class.loc["store"]
    assert store.n_true == 2 and store.tp == 1
    assert store.recall == 0.5
    assert store.n_pred == 4 and store.precision == 0.25


def test_wrong_kind_goes_to_confusion():
    ti, tc = scene()
    pc = tc.copy()
    pc[100:120] = 3  # extinguisher called a hydrant
    s = score_segmentation(ti, pc, ti, tc)
    assert s.per_class.loc["fire_extinguisher", "recall"] == 0.0
    assert s.confusion.loc["fire_extinguisher", "indoor_hydrant"] == 1
    assert "store" in s.summary()


def test_iou_is_exact():
    m = match_instances([1, 1, 1, 1, -1], [2, 2, 2, -1, 2])
    assert m.loc[0, "iou"] == 3 / 5


def test_score_levels_missing_level():
    truth = pd.DataFrame({"floor": [-1, 1, 2], "slab_z": [-4.0, 0.0, 4.5]})
    found = pd.DataFrame({"floor": [1, 2], "slab_z": [0.05, 4.4]})
    res = score_levels(found, truth)
    assert res["ok"].tolist() == [False, True, True]


def test_small_true_instances_can_be_ignored():
    from geo3d.pointcloud.evaluate import score_segmentation

    # truth: a store (4 points), an extinguisher of 2 points; prediction finds the store and
    # the extinguisher, plus a false extinguisher elsewhere
    ti = [0, 0, 0, 0, 1, 1, -1, -1]
    tc = [1, 1, 1, 1, 2, 2, 0, 0]
    pi = [0, 0, 0, 0, 1, 1, 2, 2]
    pc = [1, 1, 1, 1, 2, 2, 2, 2]
    full = score_segmentation(pi, pc, ti, tc).per_class
    assert full.loc["fire_extinguisher", ["n_true", "n_pred", "tp"]].tolist() == [1, 2, 1]
    small = score_segmentation(pi, pc, ti, tc, min_points=3).per_class
    # the 2-point extinguisher and its matched prediction leave the count; the false one stays
    assert small.loc["fire_extinguisher", ["n_true", "n_pred", "tp", "n_ignored"]].tolist() == [0, 1, 0, 1]
    assert small.loc["store", "f1"] == 1.0
