"""A terrestrial laser scanner simulated against a scene of axis-aligned boxes.

Rays leave each station on a regular spherical grid (azimuth × elevation); the first box a ray
meets gives the return, so occlusion and the fall of density with range come out of the geometry.
The ray–box test is the slab method in NumPy. To stay fast without a Python loop over rays, the
grid is cut into angular tiles and each tile is tested only against the boxes whose angular
extent, seen from the station, overlaps the tile (a conservative bound computed in bulk for all
boxes). Everything is plain float64 NumPy, so a run is bit-for-bit repeatable.

Private module: used by :mod:`geo3d.datasets.market`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["StationScan", "cast_station"]

_TWO_PI = 2.0 * np.pi


@dataclass
class StationScan:
    """First hits of every ray of one station, in scan order (azimuth column, then elevation)."""

    directions: np.ndarray  # (n, 3) unit vectors
    t: np.ndarray  # (n,) range to the first hit; inf = no hit
    box: np.ndarray  # (n,) index of the box hit; -1 = none
    axis: np.ndarray  # (n,) axis (0, 1, 2) of the face hit, i.e. of its normal


def _angular_extent(lo: np.ndarray, hi: np.ndarray, o: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Conservative azimuth / elevation interval of every box seen from ``o``.

    Returns az_lo, az_hi (radians, az_lo <= az_hi, may leave [0, 2π)), a mask of boxes that
    surround the station in plan (every azimuth), el_lo, el_hi.
    """
    x0, y0 = lo[:, 0] - o[0], lo[:, 1] - o[1]
    x1, y1 = hi[:, 0] - o[0], hi[:, 1] - o[1]
    dx = np.maximum(np.maximum(x0, -x1), 0.0)
    dy = np.maximum(np.maximum(y0, -y1), 0.0)
    dmin = np.hypot(dx, dy)
    cx = np.stack([x0, x1, x0, x1], axis=1)
    cy = np.stack([y0, y0, y1, y1], axis=1)
    dmax = np.hypot(cx, cy).max(axis=1)
    full = dmin < 1e-6
    centre = np.arctan2((y0 + y1) / 2, (x0 + x1) / 2)
    delta = np.arctan2(cy, cx) - centre[:, None]
    delta = (delta + np.pi) % _TWO_PI - np.pi
    az_lo = centre + delta.min(axis=1) - 1e-6
    az_hi = centre + delta.max(axis=1) + 1e-6
    zlo, zhi = lo[:, 2] - o[2], hi[:, 2] - o[2]
    el_hi = np.arctan2(zhi, np.where(zhi > 0, dmin, dmax)) + 1e-6
    el_lo = np.arctan2(zlo, np.where(zlo < 0, dmin, dmax)) - 1e-6
    return az_lo, az_hi, full, el_lo, el_hi


def cast_station(lo: np.ndarray, hi: np.ndarray, origin: np.ndarray, *, step_deg: float,
                 heading: float, el_min_deg: float = -60.0, el_max_deg: float = 90.0,
                 tile_deg: float = 12.0) -> StationScan:
    """Cast a full spherical grid of rays from ``origin`` against boxes ``lo``–``hi``.

    Parameters
    ----------
    lo, hi : ndarray, shape (n, 3)
        Box corners (local frame).
    origin : ndarray, shape (3,)
        The station; it must lie outside every box.
    step_deg : float
        Angular step of the grid, in both azimuth and elevation.
    heading : float
        Azimuth (radians) of the first column; a station-specific offset keeps rays off the
        axes, so no direction component is exactly zero.
    el_min_deg, el_max_deg : float
        Vertical field of view (a tripod hides the cone below ``el_min_deg``).
    tile_deg : float
        Angular size of the culling tiles.

    Returns
    -------
    StationScan
    """
    n_az = max(8, round(360.0 / step_deg))
    n_el = max(2, round((el_max_deg - el_min_deg) / step_deg))
    d_az = _TWO_PI / n_az
    el0 = np.radians(el_min_deg)
    d_el = (np.radians(el_max_deg) - el0) / n_el
    az = heading + (np.arange(n_az) + 0.5) * d_az
    el = el0 + (np.arange(n_el) + 0.5) * d_el
    ce, se = np.cos(el), np.sin(el)
    dirs = np.empty((n_az, n_el, 3))
    dirs[:, :, 0] = np.cos(az)[:, None] * ce[None, :]
    dirs[:, :, 1] = np.sin(az)[:, None] * ce[None, :]
    dirs[:, :, 2] = se[None, :]
    t_out = np.full((n_az, n_el), np.inf)
    box_out = np.full((n_az, n_el), -1, dtype=np.int64)
    axis_out = np.zeros((n_az, n_el), dtype=np.int8)

    az_lo, az_hi, full, el_lo, el_hi = _angular_extent(lo, hi, origin)
    ta_w = max(1, round(tile_deg / step_deg))  # columns per tile
    ta_n = -(-n_az // ta_w)
    te_w = ta_w
    te_n = -(-n_el // te_w)
    # the boxes' azimuth intervals as cyclic column ranges [c0, c0 + span)
    c0 = np.floor((az_lo - heading) / d_az).astype(np.int64) % n_az
    c1 = np.floor((az_hi - heading) / d_az).astype(np.int64)
    span = c1 - np.floor((az_lo - heading) / d_az).astype(np.int64) + 1
    span = np.where(full | (span >= n_az), n_az, span)
    e0 = np.clip(np.floor((el_lo - el0) / (te_w * d_el)), 0, te_n - 1).astype(np.int64)
    e1 = np.clip(np.floor((el_hi - el0) / (te_w * d_el)), 0, te_n - 1).astype(np.int64)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for ta in range(ta_n):
            s0, s1 = ta * ta_w, min(n_az, (ta + 1) * ta_w)
            in_az = (((s0 - c0) % n_az) < span) | (((c0 - s0) % n_az) < s1 - s0)
            if not in_az.any():
                continue
            ia = slice(s0, s1)
            for te in range(te_n):
                idx = np.flatnonzero(in_az & (e0 <= te) & (te <= e1))
                if idx.size == 0:
                    continue
                ie = slice(te * te_w, min(n_el, (te + 1) * te_w))
                d = dirs[ia, ie].reshape(-1, 3)
                inv = 1.0 / d
                t1 = (lo[idx][None, :, :] - origin) * inv[:, None, :]
                t2 = (hi[idx][None, :, :] - origin) * inv[:, None, :]
                tmin = np.fmin(t1, t2)
                tnear = tmin.max(axis=2)
                tfar = np.fmax(t1, t2).min(axis=2)
                tn = np.where((tnear <= tfar) & (tnear > 1e-4), tnear, np.inf)
                j = tn.argmin(axis=1)
                r = np.arange(j.size)
                th = tn[r, j]
                shape = t_out[ia, ie].shape
                t_out[ia, ie] = th.reshape(shape)
                box_out[ia, ie] = np.where(np.isfinite(th), idx[j], -1).reshape(shape)
                axis_out[ia, ie] = tmin[r, j].argmax(axis=1).reshape(shape)
    return StationScan(dirs.reshape(-1, 3), t_out.ravel(), box_out.ravel(), axis_out.ravel())
