"""Building structure in an indoor scan: slabs, ceilings, walls, columns, lintels.

Per level, points within a thin band over the floor slab or under the ceiling are slab or
ceiling. The rest is gridded in plan; a plan cell is *structure* when its points stand like a
wall or column — they fill nearly the whole storey height — or hang from the ceiling for at
least ``hanging`` metres (the wall over a door, a beam). Stalls, goods and facilities stop short
of the ceiling, and wall-mounted facilities stand in cells of their own in front of the wall,
so they survive and can be segmented.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .levels import levels_of_points

__all__ = ["structure_mask"]

log = logging.getLogger(__name__)


def structure_mask(
    cloud: Any,
    levels: pd.DataFrame,
    *,
    point_levels: NDArray[np.int8] | None = None,
    cell: float = 0.05,
    z_step: float = 0.1,
    slab_band: float = 0.08,
    ceiling_band: float = 0.08,
    full_height: float = 0.9,
    hanging: float = 1.0,
) -> NDArray[np.bool_]:
    """True for points of the building's structure (and for points outside every level).

    Parameters
    ----------
    cloud : PointCloud or array of shape (N, 3)
    levels : DataFrame
        From :func:`~geo3d.indoor.levels.levels_from_cloud`.
    point_levels : array of int8, optional
        Floor number per point, when already computed.
    cell : float
        Plan cell size (m); smaller than the gap between a wall and what hangs on it.
    z_step : float
        Height resolution of the occupancy test.
    slab_band, ceiling_band : float
        Thickness of the floor and ceiling bands.
    full_height : float
        A cell filled over at least this share of the storey height is a wall or column.
    hanging : float
        A cell filled continuously for at least this many metres down from the ceiling is
        structure (lintels over doors, beams).

    Returns
    -------
    ndarray of bool, shape (N,)

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> floor = np.column_stack([rng.uniform(0, 10, 2000), rng.uniform(0, 10, 2000), np.zeros(2000)])
    >>> wall = np.column_stack([np.zeros(40000), rng.uniform(0, 10, 40000), rng.uniform(0, 4, 40000)])
    >>> box = np.column_stack([rng.uniform(4, 5, 500), rng.uniform(4, 5, 500), rng.uniform(0, 1, 500)])
    >>> levels = pd.DataFrame({"floor": [1], "slab_z": [0.0], "ceiling_z": [4.0], "z_max": [4.1]})
    >>> m = structure_mask(np.vstack([floor, wall, box]), levels)
    >>> bool(m[:42000].mean() > 0.95), bool(m[42000:].mean() < 0.05)
    (True, False)
    """
    xyz = np.asarray(getattr(cloud, "xyz", cloud), dtype=np.float64)
    floors = levels_of_points(xyz, levels) if point_levels is None else np.asarray(point_levels)
    mask = floors == 0
    origin = xyz[:, :2].min(axis=0) if len(xyz) else np.zeros(2)
    ceilings = levels["ceiling_z"] if "ceiling_z" in levels else pd.Series(np.nan, index=levels.index)
    for floor, slab, ceiling, z_max in zip(
        levels["floor"].to_numpy(dtype=int),
        levels["slab_z"].to_numpy(dtype=float),
        ceilings.to_numpy(dtype=float),
        levels["z_max"].to_numpy(dtype=float),
        strict=True,
    ):
        idx = np.flatnonzero(floors == floor)
        if len(idx) == 0:
            continue
        z = xyz[idx, 2] - slab
        top = (ceiling if np.isfinite(ceiling) else z_max) - slab
        band = z < slab_band
        if np.isfinite(ceiling):
            band |= z > top - ceiling_band
        mask[idx[band]] = True
        rest = idx[~band]
        if len(rest) == 0:
            continue
        ij = np.floor((xyz[rest, :2] - origin) / cell).astype(np.int64)
        ncol = int(ij[:, 1].max()) + 1
        cell_id = ij[:, 0] * ncol + ij[:, 1]
        k = np.clip(np.floor((z[~band]) / z_step).astype(np.int64), 0, None)
        nk = int(np.ceil(top / z_step)) + 1
        ucell, inv = np.unique(cell_id, return_inverse=True)
        occ = np.unique(inv * nk + k)
        occ_cell, occ_k = occ // nk, occ % nk
        filled = np.bincount(occ_cell, minlength=len(ucell)) * z_step
        usable = top - (ceiling_band if np.isfinite(ceiling) else 0.0) - slab_band
        wall = filled >= full_height * usable
        # continuous fill down from the top: count occupied steps in the top window
        top_k = int(np.floor((top - (ceiling_band if np.isfinite(ceiling) else 0.0)) / z_step)) - 1
        win = max(1, round(hanging / z_step))
        in_win = occ_k >= top_k - win + 1
        top_fill = np.bincount(occ_cell[in_win], minlength=len(ucell))
        hang = top_fill >= win - 1
        structure = wall | hang
        mask[rest[structure[inv]]] = True
    log.info("structure_mask: %s of %s points are structure (%.0f %%)",
             f"{int(mask.sum()):,}", f"{len(mask):,}", 100.0 * mask.mean() if len(mask) else 0.0)
    return mask
