"""Score a segmentation against ground truth.

Instances are matched at point IoU ≥ 0.5 (a match is then unique), per class and overall; kinds
are compared on the matched pairs (a confusion matrix); levels by count and slab height error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError
from .classes import CLASS_NAMES

__all__ = ["CLASS_NAMES", "SegmentationScore", "match_instances", "score_levels", "score_segmentation"]



def match_instances(pred: ArrayLike, truth: ArrayLike, *, iou: float = 0.5) -> pd.DataFrame:
    """Pairs of predicted and true instances whose point IoU is at least ``iou``.

    Parameters
    ----------
    pred, truth : array of int, shape (N,)
        Instance label per point; negative = none.
    iou : float
        Threshold; at ≥ 0.5 every instance has at most one partner.

    Returns
    -------
    DataFrame with columns ``pred``, ``truth``, ``iou``, ``n_pred``, ``n_truth``, ``n_both``.

    Examples
    --------
    >>> match_instances([0, 0, 0, 1, 1, -1], [5, 5, -1, 7, 7, 7])
       pred  truth       iou  n_pred  n_truth  n_both
    0     0      5  0.666667       3        2       2
    1     1      7  0.666667       2        3       2
    """
    p = np.asarray(pred, dtype=np.int64)
    t = np.asarray(truth, dtype=np.int64)
    if p.shape != t.shape:
        raise InputError(f"pred has {p.shape} labels but truth has {t.shape}; they must align per point")
    both = (p >= 0) & (t >= 0)
    pu, pc = np.unique(p[p >= 0], return_counts=True)
    tu, tc = np.unique(t[t >= 0], return_counts=True)
    pairs, n_both = np.unique(np.column_stack([p[both], t[both]]), axis=0, return_counts=True)
    if len(pairs) == 0:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "iou" else int)
                             for c in ("pred", "truth", "iou", "n_pred", "n_truth", "n_both")})
    n_pred = pc[np.searchsorted(pu, pairs[:, 0])]
    n_truth = tc[np.searchsorted(tu, pairs[:, 1])]
    score = n_both / (n_pred + n_truth - n_both)
    keep = score >= iou
    return pd.DataFrame(
        {
            "pred": pairs[keep, 0],
            "truth": pairs[keep, 1],
            "iou": score[keep],
            "n_pred": n_pred[keep],
            "n_truth": n_truth[keep],
            "n_both": n_both[keep],
        }
    ).reset_index(drop=True)


@dataclass
class SegmentationScore:
    """Instance scores: ``per_class`` (precision, recall, f1, counts), ``confusion``, ``matches``."""

    per_class: pd.DataFrame
    confusion: pd.DataFrame
    matches: pd.DataFrame = field(repr=False)

    def summary(self) -> str:
        """One line per class: ``store  P 0.98 R 0.97 F1 0.975 (n=120)``."""
        return "\n".join(
            f"{name:<18} P {r.precision:.3f} R {r.recall:.3f} F1 {r.f1:.3f} "
            f"(true {r.n_true}, predicted {r.n_pred}, matched {r.tp})"
            for name, r in self.per_class.iterrows()
        )


def _instance_class(instance: NDArray[np.int64], cls: NDArray[np.int64]) -> pd.Series:
    """Majority class of each instance's points."""
    sel = instance >= 0
    df = pd.DataFrame({"i": instance[sel], "c": cls[sel]})
    if df.empty:
        return pd.Series(dtype=np.int64)
    counts = df.groupby(["i", "c"]).size().reset_index(name="n")
    best = counts.sort_values(["i", "n", "c"], ascending=[True, False, True]).drop_duplicates("i")
    return pd.Series(best["c"].to_numpy(), index=best["i"].to_numpy())


def score_segmentation(
    pred_instance: ArrayLike,
    pred_class: ArrayLike,
    true_instance: ArrayLike,
    true_class: ArrayLike,
    *,
    iou: float = 0.5,
    min_points: int = 0,
) -> SegmentationScore:
    """Instance precision, recall and F1 per class at point IoU ≥ ``iou``, and kind confusion.

    A true instance counts as found for its class when a predicted instance overlaps it at
    IoU ≥ ``iou`` *and* was given the same class. ``confusion`` counts matched pairs by
    (true class, predicted class), whatever the class.

    ``min_points`` > 0 ignores true instances with fewer points (as ScanNet's instance
    benchmark ignores regions under 100 points): they count neither as missed nor, when a
    prediction matches one, as a false detection. ``per_class["n_ignored"]`` says how many.

    Examples
    --------
    >>> s = score_segmentation([0, 0, 1, 1], [1, 1, 2, 2], [4, 4, 5, 5], [1, 1, 2, 2])
    >>> s.per_class.loc["store", ["precision", "recall", "f1"]].tolist()
    [1.0, 1.0, 1.0]
    >>> s = score_segmentation([0, 0, -1], [1, 1, 0], [4, 4, 5], [1, 1, 5], min_points=2)
    >>> s.per_class[["n_true", "tp", "n_ignored"]].to_dict("index")
    {'store': {'n_true': 1, 'tp': 1, 'n_ignored': 0}, 'aed': {'n_true': 0, 'tp': 0, 'n_ignored': 1}}
    """
    pi = np.asarray(pred_instance, dtype=np.int64)
    ti = np.asarray(true_instance, dtype=np.int64)
    pc = _instance_class(pi, np.asarray(pred_class, dtype=np.int64))
    tc = _instance_class(ti, np.asarray(true_class, dtype=np.int64))
    m = match_instances(pi, ti, iou=iou)
    m["pred_class"] = pc.reindex(m["pred"]).to_numpy()
    m["true_class"] = tc.reindex(m["truth"]).to_numpy()
    ignored_tc = tc.iloc[:0]
    if min_points > 0:
        tu, tn = np.unique(ti[ti >= 0], return_counts=True)
        small = tu[tn < min_points]
        ignored_tc = tc[tc.index.isin(small)]
        tc = tc[~tc.index.isin(small)]
        pc = pc[~pc.index.isin(m.loc[m["truth"].isin(small), "pred"])]
        m = m[~m["truth"].isin(small)].reset_index(drop=True)
    rows = {}
    for code, name in CLASS_NAMES.items():
        if code == 0:
            continue
        n_true = int((tc == code).sum())
        n_pred = int((pc == code).sum())
        if n_true == 0 and n_pred == 0 and not (ignored_tc == code).any():
            continue
        tp = int(((m["pred_class"] == code) & (m["true_class"] == code)).sum())
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_true if n_true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows[name] = {"precision": precision, "recall": recall, "f1": f1,
                      "n_true": n_true, "n_pred": n_pred, "tp": tp,
                      "n_ignored": int((ignored_tc == code).sum())}
    per_class = pd.DataFrame.from_dict(rows, orient="index")
    per_class.index.name = "class"
    confusion = pd.crosstab(
        m["true_class"].map(CLASS_NAMES).rename("true"),
        m["pred_class"].map(CLASS_NAMES).rename("predicted"),
    )
    return SegmentationScore(per_class=per_class, confusion=confusion, matches=m)


def score_levels(found: pd.DataFrame, truth: pd.DataFrame, *, tolerance: float = 0.15) -> pd.DataFrame:
    """Compare detected levels with true ones, matched by floor number.

    Returns one row per true level: ``floor``, ``true_slab_z``, ``slab_z``, ``error_m`` and
    ``ok`` (found, with |error| ≤ ``tolerance``).

    Examples
    --------
    >>> truth = pd.DataFrame({"floor": [1, 2], "slab_z": [0.0, 4.5]})
    >>> found = pd.DataFrame({"floor": [1, 2], "slab_z": [0.02, 4.71]})
    >>> score_levels(found, truth)["ok"].tolist()
    [True, False]
    """
    t = truth[["floor", "slab_z"]].rename(columns={"slab_z": "true_slab_z"})
    out = t.merge(found[["floor", "slab_z"]], on="floor", how="left")
    out["error_m"] = out["slab_z"] - out["true_slab_z"]
    out["ok"] = out["error_m"].abs() <= tolerance
    return out
