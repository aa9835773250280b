"""Scan defects added after the simulated scan: occlusion gaps, duplicates and stray points.

Real registered scans have holes where a person or a cart stood between the scanner and a stall
front, points duplicated where two stations' clouds were merged, and stray returns (dust, glass,
multipath) anywhere in the room. The ray caster gives none of these; this module adds them to
the scan arrays (local frame) in bulk, with the scene's random generator. Private module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["apply_effects"]


def _gaps(scene: Any, cat: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Mask of points kept after cutting a vertical band across the front of some stalls.

    The band is 0.6–1.5 m wide along the front, up to 1 m deep into the stall and reaches from
    the floor to 1.6–2.4 m (a person or a cart in front of the stall while the station scanned).
    """
    lay = scene.layout
    n_obj = len(scene.objects) + 1
    box = np.full((n_obj, 6), np.nan)  # x0, y0, x1, y1, z1 of the band per object id
    for o in scene.objects:
        if o.lot is None or rng.random() >= lay.gap_share:
            continue
        x0, y0, x1, y1 = o.lot
        ex, ey = o.xy
        bw, dd, h = rng.uniform(0.6, 1.5), rng.uniform(0.4, 1.0), rng.uniform(1.6, 2.4)
        if min(abs(ey - y0), abs(ey - y1)) < min(abs(ex - x0), abs(ex - x1)):  # front along x
            c = rng.uniform(x0, x1)
            yy = (y0, y0 + dd) if abs(ey - y0) < abs(ey - y1) else (y1 - dd, y1)
            box[o.object_id] = (c - bw / 2, yy[0], c + bw / 2, yy[1], o.z_min + h, 0.0)
        else:
            c = rng.uniform(y0, y1)
            xx = (x0, x0 + dd) if abs(ex - x0) < abs(ex - x1) else (x1 - dd, x1)
            box[o.object_id] = (xx[0], c - bw / 2, xx[1], c + bw / 2, o.z_min + h, 0.0)
    inst = scene.box_instance[cat["box"]]
    b = box[np.clip(inst, 0, None)]
    p = cat["xyz"]
    with np.errstate(invalid="ignore"):
        cut = ((inst > 0) & (p[:, 0] >= b[:, 0]) & (p[:, 0] <= b[:, 2]) & (p[:, 1] >= b[:, 1])
               & (p[:, 1] <= b[:, 3]) & (p[:, 2] <= b[:, 4]))
    return ~cut


def _strays(scene: Any, cat: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Stray returns spread uniformly over each level's box (slab + 0.2 m up to its top)."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in cat}
    slab = {f: z for f, z, _c in scene.levels}
    for fl, z0 in slab.items():
        sel = cat["lvl"] == fl
        n = int(rng.binomial(int(sel.sum()), scene.layout.stray_rate))
        if n == 0:
            continue
        lo, hi = cat["xyz"][sel].min(axis=0), cat["xyz"][sel].max(axis=0)
        lo[2] = z0 + 0.2
        parts["xyz"].append(rng.uniform(lo, np.maximum(hi, lo + 0.1), (n, 3)))
        parts["box"].append(np.zeros(n, dtype=cat["box"].dtype))
        parts["cos"].append(np.full(n, 0.5))
        parts["t"].append(rng.uniform(2.0, 30.0, n))
        parts["out"].append(np.ones(n, dtype=bool))
        parts["sid"].append(rng.choice(cat["sid"][sel], n))
        parts["time"].append(rng.choice(cat["time"][sel], n) + 1e-4)
        parts["lvl"].append(np.full(n, fl, dtype=cat["lvl"].dtype))
    if not parts["xyz"]:
        return cat
    return {k: np.concatenate([cat[k], *parts[k]]) for k in cat}


def apply_effects(scene: Any, cat: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Occlusion gaps, stray points and duplicates (in that order) per the scene's layout."""
    lay = scene.layout
    if lay.gap_share > 0:
        keep = _gaps(scene, cat, rng)
        cat = {k: v[keep] for k, v in cat.items()}
    if lay.stray_rate > 0:
        cat = _strays(scene, cat, rng)
    if lay.duplicate_rate > 0:  # a copy right after its original, as a merge of two stations gives
        rep = np.where(rng.random(cat["box"].size) < lay.duplicate_rate, 2, 1)
        cat = {k: np.repeat(v, rep, axis=0) for k, v in cat.items()}
        cat["time"] = cat["time"] + np.r_[0.0, (np.diff(cat["time"]) == 0) * 1e-6]
    return cat
