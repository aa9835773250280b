"""Score addresses against true ones: exact-match rate of the address strings.

Used by ``scripts/evaluate_addresses.py`` and ``benchmarks/bench_generalisation.py``.

Examples
--------
>>> import pandas as pd
>>> truth = pd.DataFrame({"object_id": [1, 2, 3], "kind": ["store", "store", "aed"],
...                       "address": ["가 1", "가 2", None]})
>>> pred = pd.DataFrame({"object_id": [1, 2, 3], "address": ["가 1", "가 4", None]})
>>> address_exact_match(pred, truth)
{'n': 3, 'exact': 0.6667, 'stores': 0.5, 'facilities': 1.0, 'wrong': 1}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["address_exact_match", "paired_addresses"]


def paired_addresses(pred: pd.DataFrame, truth: pd.DataFrame, pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """True and predicted rows side by side (suffixes ``_t`` and ``_p``).

    Without ``pairs`` the rows are joined on ``object_id`` (the same objects on both sides);
    with ``pairs`` (columns ``pred``, ``truth``: matched instances, e.g. from
    :func:`geo3d.pointcloud.evaluate.match_instances`) each true object is joined to the
    predicted object it matched; unmatched true objects are left out.
    """
    cols = [c for c in ("object_id", "address", "aisle", "number", "s_m") if c in pred.columns]
    if pairs is None:
        return truth.merge(pred[cols], on="object_id", suffixes=("_t", "_p"))
    t = truth.merge(pairs[["pred", "truth"]], left_on="object_id", right_on="truth")
    return t.merge(pred[cols].rename(columns={"object_id": "pred"}), on="pred", suffixes=("_t", "_p"))


def address_exact_match(pred: pd.DataFrame, truth: pd.DataFrame,
                        pairs: pd.DataFrame | None = None) -> dict[str, Any]:
    """Exact-match rate of address strings, overall, for stores and for facilities.

    An object that both sides leave unaddressed (a CCTV) counts as a match. With ``pairs``, only
    matched objects are scored (see :func:`paired_addresses`).

    Returns
    -------
    dict
        ``n`` (rows scored), ``exact``, ``stores``, ``facilities`` (rates rounded to 4 decimals,
        None when there is no such row) and ``wrong`` (count).
    """
    m = paired_addresses(pred, truth, pairs)
    eq = m["address_t"].fillna("").to_numpy() == m["address_p"].fillna("").to_numpy()
    store = (m["kind"] == "store").to_numpy()

    def rate(sel: np.ndarray) -> float | None:
        return round(float(eq[sel].mean()), 4) if sel.any() else None

    return {"n": len(m), "exact": rate(np.ones(len(m), bool)), "stores": rate(store),
            "facilities": rate(~store), "wrong": int((~eq).sum())}
