"""Deterministic synthetic underground-utility district (Korean UIS form).

No public Korean pipe data exists (Seoul treats its utility GIS as controlled), so geo3d makes
its own: a street network near Gyeongdong Market (EPSG:5186) with the six utility layers laid
along the streets as the Korean source systems (UIS/NGIS) deliver them — UIS layer names,
lower-case UIS field names, code values, cover depths with ``0`` meaning *unknown*, install dates
as ``'YYYYMMDD'`` strings (``''`` = unknown) — plus a DEM, groundwater boreholes, neighbourhood
(행정동) polygons, an excavation pit, a section line and the road centrelines.

Everything is a function of ``seed`` and ``size_m``: the same call gives the same district and
:func:`write_district` writes byte-identical files. Construction is vectorised (loops run over
roads and layers only), so benchmark districts of about a million segments take seconds.

Truth kept for tests
--------------------
* Depth fields are cover depths to the **top** of the pipe (docs/underground.md): the centreline z
  of a pipe is ``DEM − cover − height/2``, with ``height`` the diameter (``pip_dip`` /
  ``std_dip``) or, for box sections, the box height (``std_vel`` for sewers, the second number
  of a ``'W\\H'`` size string for power and telecom ducts). Water pipes carry the shallowest and
  deepest cover along the pipe (``low_dep`` ≤ ``hgh_dep``); sewers the cover at their start and
  end (``beg_dep``, ``end_dep``; sewers are drawn in the flow direction: mains downhill where
  the ground allows, laterals towards the main) and ``pip_slp`` the invert slope in per mille
  (‰) from those covers and the ground; gas, power, telecom and heat a single ``std_dep``.
* The DEM is an analytic surface (:func:`ground_elevation`) sampled at cell centres.
* ``hjd_cde`` is the 10-digit 행정동 code (``adm_cd2``) of the neighbourhood holding the
  larger part of each pipe's length; ``bjd_cde`` is one 법정동 code per 행정동 (a
  simplification: 행정동 and 법정동 do not nest in reality).

Assumptions (documented, not from a standard)
---------------------------------------------
* ``UFL_HPIP_LM`` for district heating: the layer name is our assumption (it appears in public
  web-GIS front-end code as "난방열배관", but no specification is public).
* ``ftr_cde`` values ``SA001`` (water pipe) and ``SB001`` (sewer pipe) follow the Korean
  standard; ``UB001``/``UK001``/``UG001``/``UH001`` for power/telecom/gas/heat are stand-ins.
* ``mng_cde`` agency codes, ``saa_cde``/``sba_cde``/``prs_cde``/``vol_cde`` values and
  ``mop_cde`` material abbreviations are readable stand-ins listed in :data:`CODE_TABLES`.

Examples
--------
>>> d = make_district(seed=1, size_m=400.0)
>>> sorted(d.layers) == sorted(UIS_LAYERS)
True
>>> d.layers["WTL_PIPE_LM"].crs.to_epsg()
5186
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine

from ..errors import InputError
from ..io.atomic import atomic_path

__all__ = [
    "CENTRE",
    "CODE_TABLES",
    "CRS",
    "DEM",
    "UIS_LAYERS",
    "District",
    "ground_elevation",
    "make_district",
    "write_district",
    "write_underground_sample",
]

logger = logging.getLogger(__name__)

CRS = "EPSG:5186"
"""CRS of every output (Korea 2000 / Central Belt 2010)."""

CENTRE = (203489.0, 553350.0)
"""District centre (EPSG:5186), near Gyeongdong Market, 제기동, 동대문구."""

UIS_LAYERS: dict[str, str] = {
    "WTL_PIPE_LM": "water",
    "SWL_PIPE_LM": "sewer",
    "UFL_BPIP_LM": "power",
    "UFL_KPIP_LS": "telecom",
    "UFL_GPIP_LM": "gas",
    "UFL_HPIP_LM": "heat",  # layer name is our assumption (see module docstring)
}
"""UIS layer name → utility (``water, sewer, power, telecom, gas, heat``)."""

_UTILITIES = tuple(UIS_LAYERS.values())
_LAYER_OF = {u: name for name, u in UIS_LAYERS.items()}

CODE_TABLES: dict[str, dict[str, str]] = {
    "ftr_cde": {"SA001": "상수관로", "SB001": "하수관거", "UB001": "전력지중관로",
                "UK001": "통신관로", "UG001": "가스배관", "UH001": "난방열배관"},
    "mng_cde": {"W1123": "서울특별시상수도사업본부 동부수도사업소", "S1123": "동대문구청 치수과",
                "KEPCO": "한국전력공사 서울본부 동대문중랑지사", "KT": "KT", "SKB": "SK브로드밴드",
                "LGU": "LG유플러스", "YESCO": "예스코", "SEC": "서울에너지공사"},
    "saa_cde": {"송수": "conveyance", "배수": "distribution", "급수": "service"},
    "sba_cde": {"오수": "sanitary", "우수": "storm", "합류": "combined"},
    "prs_cde": {"저압": "low", "중압": "medium", "고압": "high"},
    "vol_cde": {"380V": "0.38", "22.9kV": "22.9", "154kV": "154"},
    "mop_cde": {"DIP": "ductile iron", "CIP": "cast iron", "STS": "stainless steel",
                "PE": "polyethylene", "PVC": "PVC", "HP": "concrete (hume) pipe",
                "CP": "concrete pipe", "BOX": "box culvert", "SP": "steel pipe",
                "ELP": "corrugated PE conduit", "STP": "steel conduit", "CONC": "concrete duct"},
}
"""Code values used in the layers → meaning (``vol_cde`` → kV)."""

_FTR = {"water": "SA001", "sewer": "SB001", "power": "UB001", "telecom": "UK001",
        "gas": "UG001", "heat": "UH001"}

# lateral offset from the road centreline as a fraction of the half width (sign flips per road)
_OFFSET = {"water": 0.42, "sewer": 0.04, "power": 0.72, "telecom": -0.72, "gas": -0.42,
           "heat": 0.18}
# probability that a utility runs along a road, by road class (arterial, medium, local)
_PRESENCE = {"water": (1.0, 1.0, 0.93), "sewer": (1.0, 1.0, 0.97), "power": (1.0, 0.9, 0.45),
             "telecom": (1.0, 0.95, 0.6), "gas": (1.0, 1.0, 0.82), "heat": (1.0, 0.55, 0.0)}
# service laterals across the road: one per this many metres of main (water, sewer, gas)
_LATERAL_SPACING = {"water": 45.0, "sewer": 55.0, "gas": 70.0}
# share of rows with depth 0 (unknown) and with empty install date
_UNKNOWN_DEPTH = {"water": 0.30, "sewer": 0.10, "power": 0.10, "telecom": 0.10, "gas": 0.10,
                  "heat": 0.10}
_UNKNOWN_YEAR = {"water": 0.06, "sewer": 0.10, "power": 0.03, "telecom": 0.03, "gas": 0.03,
                 "heat": 0.03}

_ARTERIAL_NAMES = ["고산자로", "왕산로", "천호대로", "무학로", "경희대로", "망우로"]
_MEDIUM_NAMES = ["약령시로", "약령중앙로", "제기로", "홍릉로", "정릉천동로", "약령동로",
                 "약령서로", "회기로", "한빛로", "사가정로", "전농로", "답십리로"]

# (adm_nm, adm_cd, adm_cd2, bjd_cde, seed position relative to the centre in metres per 1 km)
_DONGS = [
    ("서울특별시 동대문구 제기동", "1106082", "1123054500", "1123010300", (-40.0, 60.0)),
    ("서울특별시 동대문구 용신동", "1106081", "1123053600", "1123010200", (-330.0, -300.0)),
    ("서울특별시 동대문구 전농1동", "1106083", "1123056000", "1123010400", (360.0, -170.0)),
    ("서울특별시 동대문구 청량리동", "1106080", "1123070500", "1123010700", (160.0, 380.0)),
    ("서울특별시 동대문구 회기동", "1106071", "1123071000", "1123010800", (430.0, 430.0)),
]


# --------------------------------------------------------------------------------------------
# data classes
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DEM:
    """A ground-elevation raster: ``elevation[row, col]`` (float32, metres), its transform."""

    elevation: np.ndarray
    transform: Affine
    crs: str = CRS
    nodata: float = -9999.0

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) of the raster."""
        h, w = self.elevation.shape
        left, top = self.transform.c, self.transform.f
        return (left, top + h * self.transform.e, left + w * self.transform.a, top)

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Bilinear interpolation of the ground at points ``x, y`` (NaN outside the cells).

        Parameters
        ----------
        x, y : numpy.ndarray
            Coordinates in the DEM's CRS.

        Returns
        -------
        numpy.ndarray
            Ground elevation in metres.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        col = (x - self.transform.c) / self.transform.a - 0.5
        row = (y - self.transform.f) / self.transform.e - 0.5
        h, w = self.elevation.shape
        c0 = np.clip(np.floor(col).astype(np.int64), 0, w - 2)
        r0 = np.clip(np.floor(row).astype(np.int64), 0, h - 2)
        fc, fr = col - c0, row - r0
        z = self.elevation.astype(float)
        out = (z[r0, c0] * (1 - fc) * (1 - fr) + z[r0, c0 + 1] * fc * (1 - fr)
               + z[r0 + 1, c0] * (1 - fc) * fr + z[r0 + 1, c0 + 1] * fc * fr)
        outside = (col < -0.5) | (row < -0.5) | (col > w - 0.5) | (row > h - 0.5)
        return np.where(outside, np.nan, out)


@dataclass
class District:
    """A synthetic utility district.

    Attributes
    ----------
    layers : dict[str, geopandas.GeoDataFrame]
        The six utility layers keyed by UIS layer name (:data:`UIS_LAYERS`), UIS fields.
    roads : geopandas.GeoDataFrame
        Road centrelines, one row per road: ``road_name``, ``width_m``, ``road_class``.
    dem : DEM
        Ground elevation.
    boreholes, neighbourhoods, pit, section_line : geopandas.GeoDataFrame
        Groundwater boreholes, 행정동 polygons, one excavation pit (``depth_m``), one section line.
    boundary : shapely.Polygon
        The district outline (the neighbourhoods tessellate it).
    seed, size_m : int, float
        The arguments that made it.
    """

    layers: dict[str, gpd.GeoDataFrame]
    roads: gpd.GeoDataFrame
    dem: DEM
    boreholes: gpd.GeoDataFrame
    neighbourhoods: gpd.GeoDataFrame
    pit: gpd.GeoDataFrame
    section_line: gpd.GeoDataFrame
    boundary: shapely.Polygon
    seed: int = 2025
    size_m: float = 1000.0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_segments(self) -> int:
        """Rows over all six layers."""
        return sum(len(g) for g in self.layers.values())


# --------------------------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Warp:
    """Map local grid coordinates (u, v) to EPSG:5186: a small rotation plus gentle bends."""

    cx: float
    cy: float
    theta: float
    amp: float
    wave: float
    phase: tuple[float, float]

    def __call__(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c, s = math.cos(self.theta), math.sin(self.theta)
        k = 2 * math.pi / self.wave
        du = self.amp * np.sin(k * v + self.phase[0])
        dv = self.amp * np.sin(k * 0.8 * u + self.phase[1])
        uu, vv = u + du, v + dv
        return self.cx + c * uu - s * vv, self.cy + s * uu + c * vv


def _round_mm(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: np.round(c, 3))


def ground_elevation(x: np.ndarray, y: np.ndarray, *, seed: int = 2025) -> np.ndarray:
    """The analytic ground surface behind the DEM (metres above sea level).

    A gentle regional slope, rolling hills and a stream valley (about 25–45 m in the sample
    district); periodic, so it stays in range for large districts.

    Parameters
    ----------
    x, y : numpy.ndarray
        EPSG:5186 coordinates.
    seed : int
        Same seed as :func:`make_district`.

    Returns
    -------
    numpy.ndarray
        Elevation, same shape as ``x``.

    Examples
    --------
    >>> z = ground_elevation(np.array([203489.0]), np.array([553350.0]))
    >>> bool(25.0 < z[0] < 45.0)
    True
    """
    rng = np.random.default_rng([seed, 7])
    p = rng.uniform(0, 2 * math.pi, 5)
    dx = np.asarray(x, dtype=float) - CENTRE[0]
    dy = np.asarray(y, dtype=float) - CENTRE[1]
    slope = 5.0 * np.sin(2 * math.pi * (0.6 * dx + 0.8 * dy) / 9000.0)
    hills = 2.6 * np.sin(2 * math.pi * dx / 1300.0 + p[0]) * np.cos(2 * math.pi * dy / 1700.0 + p[1])
    hills += 1.0 * np.sin(2 * math.pi * (dx - dy) / 600.0 + p[2])
    axis = 140.0 + 160.0 * np.sin(2 * math.pi * dy / 2500.0 + p[3])
    off = np.mod(dx - axis + 1500.0, 3000.0) - 1500.0
    valley = 6.5 * np.exp(-((off / 120.0) ** 2))
    return 36.5 + slope + hills - valley


# --------------------------------------------------------------------------------------------
# street network
# --------------------------------------------------------------------------------------------
@dataclass
class _Network:
    warp: _Warp
    pos: list[np.ndarray]          # grid positions for orientation 0 (N–S roads: u) and 1 (v)
    half: float
    # per road
    r_orient: np.ndarray
    r_index: np.ndarray            # index into pos[orient]
    r_span: np.ndarray             # (n, 2) node index range along the road (in pos[1-orient])
    r_class: np.ndarray            # 0 arterial, 1 medium, 2 local
    r_width: np.ndarray
    r_side: np.ndarray             # ±1: which side water/power go
    r_name: list[str]
    r_fixed: np.ndarray            # the road's grid position (u for N–S roads, v for E–W)
    r_amp: np.ndarray              # each road wanders from its grid line: amp·sin(2π a/wave + φ)
    r_wave: np.ndarray
    r_phase: np.ndarray
    node_u: np.ndarray             # (n N–S roads, n E–W roads) intersection coordinates
    node_v: np.ndarray
    # per edge (a road piece between consecutive nodes)
    e_road: np.ndarray
    e_a0: np.ndarray               # start/end coordinate along the road
    e_a1: np.ndarray


def _grid_positions(rng: np.random.Generator, half: float) -> np.ndarray:
    out = [-half + rng.uniform(30.0, 60.0)]
    while True:
        nxt = out[-1] + rng.uniform(70.0, 150.0)
        if nxt > half - 30.0:
            break
        out.append(nxt)
    return np.asarray(out)


def _make_network(rng: np.random.Generator, size_m: float) -> _Network:
    half = size_m / 2.0
    warp = _Warp(CENTRE[0], CENTRE[1], theta=math.radians(rng.uniform(8.0, 14.0)),
                 amp=rng.uniform(10.0, 15.0), wave=rng.uniform(750.0, 1000.0),
                 phase=(rng.uniform(0, 6.28), rng.uniform(0, 6.28)))
    pos = [_grid_positions(rng, half), _grid_positions(rng, half)]
    orient_l, index_l, span_l, class_l, width_l = [], [], [], [], []
    for o in (0, 1):
        p = pos[o]
        n_other = len(pos[1 - o])
        n = len(p)
        cls = np.full(n, 2)
        # arterials every ~1 km (one near the centre), medium roads every ~350 m
        art_targets = np.arange(-half + 500.0 + (120.0 if o else -80.0), half, 1000.0)
        for t in art_targets:
            cls[int(np.argmin(np.abs(p - t)))] = 0
        if not (cls == 0).any():                       # small districts: one arterial anyway
            cls[int(np.argmin(np.abs(p - (60.0 if o else -40.0))))] = 0
        med_targets = np.arange(-half + 170.0 + 60.0 * o, half, 350.0)
        for t in med_targets:
            k = int(np.argmin(np.abs(p - t)))
            if cls[k] == 2:
                cls[k] = 1
        width = np.where(cls == 0, rng.choice([25.0, 30.0], n),
                         np.where(cls == 1, rng.choice([12.0, 15.0, 18.0, 20.0], n),
                                  rng.choice([4.0, 5.0, 6.0, 8.0, 10.0], n,
                                             p=[0.2, 0.2, 0.25, 0.2, 0.15])))
        # local roads may end at an intersection (dead ends, T-junctions)
        span = np.tile([0, n_other - 1], (n, 1))
        partial = (cls == 2) & (rng.random(n) < 0.4) & (n_other > 3)
        for kp in np.flatnonzero(partial):
            a = int(rng.integers(0, n_other - 2))
            b = int(rng.integers(a + 2, n_other))
            span[kp] = (a, b)
        orient_l.append(np.full(n, o))
        index_l.append(np.arange(n))
        span_l.append(span)
        class_l.append(cls)
        width_l.append(width)
    r_orient = np.concatenate(orient_l)
    r_index = np.concatenate(index_l)
    r_span = np.concatenate(span_l)
    r_class = np.concatenate(class_l)
    r_width = np.concatenate(width_l)
    r_side = rng.choice([-1.0, 1.0], len(r_orient))
    names = _road_names(pos, r_orient, r_index, r_span, r_class)
    n_roads = len(r_orient)
    r_amp = rng.uniform(0.0, 1.0, n_roads) * np.array([2.5, 4.0, 7.0])[r_class]
    r_wave = rng.uniform(350.0, 900.0, n_roads)
    r_phase = rng.uniform(0.0, 2 * math.pi, n_roads)
    r_fixed = np.where(r_orient == 0, pos[0][np.minimum(r_index, len(pos[0]) - 1)],
                       pos[1][np.minimum(r_index, len(pos[1]) - 1)])
    net = _Network(warp=warp, pos=pos, half=half, r_orient=r_orient, r_index=r_index,
                   r_span=r_span, r_class=r_class, r_width=r_width, r_side=r_side, r_name=names,
                   r_fixed=r_fixed, r_amp=r_amp, r_wave=r_wave, r_phase=r_phase,
                   node_u=np.zeros((0, 0)), node_v=np.zeros((0, 0)),
                   e_road=np.zeros(0, dtype=np.int64), e_a0=np.zeros(0), e_a1=np.zeros(0))
    # intersections of the wandering roads: a fixed-point iteration (slopes are < 0.13)
    nv = len(pos[0])
    rv = np.arange(nv)[:, None]                   # N–S roads come first
    rh = nv + np.arange(len(pos[1]))[None, :]
    node_v = np.broadcast_to(r_fixed[rh], (nv, len(pos[1]))).astype(float)
    for _ in range(8):
        node_u = r_fixed[rv] + _shift(net, rv, node_v)[0]
        node_v = r_fixed[rh] + _shift(net, rh, node_u)[0]
    net.node_u, net.node_v = node_u, node_v
    e_road_l, e_a0_l, e_a1_l = [], [], []
    for r in range(len(r_orient)):
        nodes = _road_nodes(net, r)
        e_road_l.append(np.full(len(nodes) - 1, r))
        e_a0_l.append(nodes[:-1])
        e_a1_l.append(nodes[1:])
    net.e_road = np.concatenate(e_road_l)
    net.e_a0 = np.concatenate(e_a0_l)
    net.e_a1 = np.concatenate(e_a1_l)
    return net


def _road_nodes(net: _Network, r: int) -> np.ndarray:
    """Positions along road ``r`` of its ends and intersections (full roads reach the edge)."""
    i = net.r_index[r]
    other = net.node_v[i, :] if net.r_orient[r] == 0 else net.node_u[:, i]
    a, b = net.r_span[r]
    nodes = other[a:b + 1]
    if a == 0:
        nodes = np.concatenate([[-net.half + 0.5], nodes])
    if b == len(other) - 1:
        nodes = np.concatenate([nodes, [net.half - 0.5]])
    return nodes


def _road_names(pos: list[np.ndarray], r_orient: np.ndarray, r_index: np.ndarray,
                r_span: np.ndarray, r_class: np.ndarray) -> list[str]:
    """Arterial/medium roads get real names; a local road is ``{parent}{n}길``.

    ``n`` follows the Korean base-number rule: the number of the parent's 20 m base interval
    at the branch point, odd on the parent's left, even on its right.
    """
    names = [""] * len(r_orient)
    counters = [0, 0]
    for r in np.flatnonzero(r_class < 2):
        pool = _ARTERIAL_NAMES if r_class[r] == 0 else _MEDIUM_NAMES
        k = counters[r_class[r]]
        counters[r_class[r]] += 1
        base = pool[k % len(pool)]
        names[r] = base if k < len(pool) else f"제{k // len(pool) + 1}{base}"
    majors = np.flatnonzero(r_class < 2)
    for r in np.flatnonzero(r_class == 2):
        o = r_orient[r]
        here = pos[o][r_index[r]]                      # the local road's own position
        lo, hi = pos[1 - o][r_span[r][0]], pos[1 - o][r_span[r][1]]
        cand = majors[r_orient[majors] != o]
        if len(cand) == 0:
            names[r] = f"이름없는길{r}"
            continue
        cpos = pos[1 - o][r_index[cand]]
        crosses = (cpos >= lo - 1e-9) & (cpos <= hi + 1e-9)
        key = np.where(crosses, 0.0, 1e9) + np.abs(cpos - lo)   # first major road it meets
        parent = int(cand[np.argmin(key)])
        ppos = pos[1 - o][r_index[parent]]
        pstart = pos[o][r_span[parent][0]]
        dist = max(here - pstart, 0.0)
        # parent runs +u (orient 1) or +v (orient 0); its left is +v resp. −u
        extends_plus = (hi - ppos) >= (ppos - lo)
        left = extends_plus if o == 0 else not extends_plus
        number = 2 * int(dist // 20.0) + (1 if left else 2)
        names[r] = f"{names[parent]}{number}길"
    return names


# --------------------------------------------------------------------------------------------
# pipes
# --------------------------------------------------------------------------------------------
def _uv(net: _Network, road: np.ndarray, along: np.ndarray, cross: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray]:
    """Grid coordinates of a point ``along`` a road at ``cross`` offset from its centreline."""
    o = net.r_orient[road]
    f, fp = _shift(net, road, along)
    norm = np.sqrt(1.0 + fp * fp)
    centre = net.r_fixed[road] + f + cross / norm       # offsets are along the road's normal
    slide = along - cross * fp / norm
    u = np.where(o == 0, centre, slide)
    v = np.where(o == 0, slide, centre)
    return u, v


def _shift(net: _Network, road: np.ndarray, along: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far a road wanders from its grid line at ``along``, and the slope of that."""
    k = 2 * math.pi / net.r_wave[road]
    arg = k * along + net.r_phase[road]
    return net.r_amp[road] * np.sin(arg), net.r_amp[road] * k * np.cos(arg)


def _lines(net: _Network, road: np.ndarray, along: np.ndarray, cross: np.ndarray
           ) -> np.ndarray:
    """LineStrings from (n, m) arrays of along/cross coordinates (road broadcast over m)."""
    n, m = along.shape
    rr = np.repeat(road, m)
    u, v = _uv(net, rr, along.ravel(), cross.ravel())
    x, y = net.warp(u, v)
    coords = np.stack([x, y], axis=1).reshape(n, m, 2)
    return _round_mm(shapely.linestrings(coords))


@dataclass
class _Pipes:
    utility: str
    geometry: np.ndarray
    road: np.ndarray
    lateral: np.ndarray
    run: np.ndarray   # id of the (road, utility) run, for per-run attributes


def _make_pipes(rng: np.random.Generator, net: _Network, utility: str, ui: int) -> _Pipes:
    n_roads = len(net.r_orient)
    p_cls = np.asarray(_PRESENCE[utility])[net.r_class]
    on_road = rng.random(n_roads) < p_cls
    if utility == "heat":
        on_road &= net.r_width >= 12.0
    # each edge of a road that carries the utility (5 % gaps on local roads)
    e_ok = on_road[net.e_road] & ((net.r_class[net.e_road] < 2) | (rng.random(len(net.e_road)) > 0.05))
    edges = np.flatnonzero(e_ok)
    road = net.e_road[edges]
    hw = net.r_width[road] / 2.0
    frac = _OFFSET[utility] + rng.normal(0.0, 0.03, n_roads)[road]
    offset = np.clip(frac * net.r_side[road] * hw, -(hw - 0.4), hw - 0.4)
    # split some runs into 2 or 3 pieces (replaced sections)
    k = rng.choice([1, 2, 3], len(edges), p=[0.6, 0.3, 0.1])
    piece_edge = np.repeat(np.arange(len(edges)), k)
    first = np.repeat(np.cumsum(k) - k, k)
    j = np.arange(len(piece_edge)) - first
    kk = k[piece_edge]
    cut = (j + rng.uniform(0.25, 0.75, len(piece_edge))) / kk      # this piece's end (0..1)
    t1 = np.where(j == kk - 1, 1.0, cut)
    t0 = np.empty_like(t1)
    t0[:] = 0.0
    t0[1:] = np.where(j[1:] == 0, 0.0, t1[:-1])
    a0 = net.e_a0[edges][piece_edge]
    a1 = net.e_a1[edges][piece_edge]
    s = np.linspace(0.0, 1.0, 5)
    tt = t0[:, None] + (t1 - t0)[:, None] * s[None, :]
    along = a0[:, None] + (a1 - a0)[:, None] * tt
    cross = np.broadcast_to(offset[piece_edge][:, None], along.shape)
    geoms = [_lines(net, road[piece_edge], along, cross)]
    roads = [road[piece_edge]]
    lateral = [np.zeros(len(piece_edge), dtype=bool)]
    run = [road[piece_edge]]
    if utility in _LATERAL_SPACING:
        length = np.abs(a1 - a0) * (t1 - t0)
        n_lat = rng.poisson(length / _LATERAL_SPACING[utility] * np.where(
            net.r_class[road[piece_edge]] == 0, 0.4, 1.0))
        lp = np.repeat(np.arange(len(piece_edge)), n_lat)
        tl = rng.uniform(0.1, 0.9, len(lp))
        al = a0[lp] + (a1[lp] - a0[lp]) * (t0[lp] + (t1[lp] - t0[lp]) * tl)
        start = offset[piece_edge][lp]
        side = np.where(np.abs(start) < 0.5, rng.choice([-1.0, 1.0], len(lp)), -np.sign(start))
        end = side * (hw[piece_edge][lp] + 3.0)
        cross_l = np.stack([start, end], axis=1)
        along_l = np.stack([al, al], axis=1)
        lat_road = road[piece_edge][lp]
        geoms.append(_lines(net, lat_road, along_l, cross_l))
        roads.append(lat_road)
        lateral.append(np.ones(len(lp), dtype=bool))
        run.append(lat_road)
    return _Pipes(utility, np.concatenate(geoms), np.concatenate(roads),
                  np.concatenate(lateral), np.concatenate(run) * 8 + ui)


def _dates(rng: np.random.Generator, year: np.ndarray, unknown_share: float) -> np.ndarray:
    n = len(year)
    ymd = year * 10000 + rng.integers(1, 13, n) * 100 + rng.integers(1, 29, n)
    out = ymd.astype("U8")
    out[rng.random(n) < unknown_share] = ""
    return out.astype(object)


def _years(rng: np.random.Generator, n: int, mean: float, sd: float, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.rint(rng.normal(mean, sd, n)), lo, hi).astype(np.int64)


def _pick(rng: np.random.Generator, options: list[Any], n: int, p: list[float] | None = None
          ) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), n, p=p)]


def _cover(rng: np.random.Generator, n: int, lo: float, hi: float) -> np.ndarray:
    return np.round(rng.uniform(lo, hi, n), 2)


def _attributes(rng: np.random.Generator, pipes: _Pipes, net: _Network,
                ground0: np.ndarray, ground1: np.ndarray, length: np.ndarray
                ) -> dict[str, np.ndarray]:
    u = pipes.utility
    n = len(pipes.geometry)
    cls = net.r_class[pipes.road]
    width = net.r_width[pipes.road]
    lat = pipes.lateral
    unknown = rng.random(n) < _UNKNOWN_DEPTH[u]
    cols: dict[str, np.ndarray] = {}
    if u == "water":
        year = _years(rng, n, 1993, 12, 1970, 2024)
        year = np.where(lat, np.maximum(year, _years(rng, n, 2004, 9, 1985, 2024)), year)
        dip = np.where(cls == 0, _pick(rng, [300, 400, 500, 600, 800, 1000], n,
                                       [0.15, 0.2, 0.2, 0.2, 0.15, 0.1]),
                       np.where(cls == 1, _pick(rng, [150, 200, 250, 300], n),
                                _pick(rng, [80, 100, 150, 200], n, [0.2, 0.4, 0.3, 0.1])))
        dip = np.where(lat, _pick(rng, [20, 25, 32, 40, 50], n), dip).astype(np.int64)
        old = year < 1985
        mop = np.where(old, _pick(rng, ["CIP", "DIP"], n, [0.6, 0.4]),
                       _pick(rng, ["DIP", "STS", "PE"], n, [0.75, 0.1, 0.15]))
        mop = np.where(lat, np.where(year >= 1995, "STS", _pick(rng, ["PVC", "PE"], n)), mop)
        mop = np.where((~lat) & (dip >= 400), np.where(old, "CIP", "DIP"), mop)
        saa = np.where(lat, "급수", np.where(dip >= 1000, "송수", "배수"))
        low = np.where(lat, _cover(rng, n, 1.0, 1.4),
                       np.where(dip >= 1000, _cover(rng, n, 1.3, 1.6), _cover(rng, n, 1.0, 1.6)))
        hgh = np.minimum(np.round(low + rng.uniform(0.0, 0.3, n), 2), 1.8)
        cols.update(pip_dip=dip, saa_cde=saa, mop_cde=mop,
                    low_dep=np.where(unknown, 0.0, low), hgh_dep=np.where(unknown, 0.0, hgh))
    elif u == "sewer":
        # Seoul 2023: 55.5 % of sewers >= 30 years old, 30.4 % >= 50 years (UNDERGROUND.md)
        era = rng.choice(3, n, p=[0.30, 0.25, 0.45])
        year = np.choose(era, [rng.integers(1962, 1976, n), rng.integers(1976, 1996, n),
                               rng.integers(1996, 2013, n)]).astype(np.int64)
        box = (~lat) & (cls == 0) & (rng.random(n) < 0.35)
        dip = np.where(cls == 0, _pick(rng, [800, 1000, 1200], n),
                       np.where(cls == 1, _pick(rng, [450, 600, 800], n),
                                _pick(rng, [250, 300, 350, 450], n, [0.2, 0.4, 0.25, 0.15])))
        dip = np.where(lat, _pick(rng, [150, 200], n), dip)
        dip = np.where(box, 0, dip).astype(np.int64)
        hol = np.where(box, _pick(rng, [1500, 2000, 2500], n), 0).astype(np.int64)
        vel = np.where(box, _pick(rng, [1200, 1500, 2000], n), 0).astype(np.int64)
        mop = np.where(year < 1990, _pick(rng, ["HP", "CP"], n, [0.75, 0.25]),
                       _pick(rng, ["HP", "PVC", "PE"], n, [0.5, 0.3, 0.2]))
        mop = np.where((dip > 0) & (dip < 450) & (year >= 1990), "PVC", mop)
        mop = np.where(box, "BOX", np.where((~lat) & (dip >= 800), "HP", mop))
        sba = _pick(rng, ["합류", "오수", "우수"], n, [0.75, 0.15, 0.10])
        beg = np.where(lat, _cover(rng, n, 1.5, 2.0), _cover(rng, n, 1.6, 4.2))
        # the end cover gives a falling invert (2–20 ‰) where the cover range allows
        fall = rng.uniform(0.002, 0.02, n) * length + rng.normal(0.0, 0.03, n)
        end = np.clip(np.round(beg + (ground1 - ground0) + fall, 2), 1.5, 4.5)
        height = np.where(box, vel, dip) / 1000.0
        inv0 = ground0 - beg - height
        inv1 = ground1 - end - height
        slp = np.round((inv0 - inv1) / np.maximum(length, 0.01) * 1000.0, 1)
        cols.update(std_dip=dip, std_hol=hol, std_vel=vel, sba_cde=sba, mop_cde=mop,
                    beg_dep=np.where(unknown, 0.0, beg), end_dep=np.where(unknown, 0.0, end),
                    pip_slp=np.where(unknown, 0.0, slp))
    elif u == "gas":
        year = _years(rng, n, 2005, 9, 1985, 2022)
        prs = np.where((cls == 0) & (rng.random(n) < 0.6), "중압",
                       np.where((cls == 1) & (rng.random(n) < 0.2), "중압", "저압"))
        prs = np.where(lat, "저압", prs)
        dip = np.where(prs == "중압", _pick(rng, [150, 200, 300, 400], n),
                       _pick(rng, [50, 80, 100, 150, 200], n))
        dip = np.where(lat, _pick(rng, [25, 32, 50], n), dip).astype(np.int64)
        mop = np.where(prs == "중압", _pick(rng, ["SP", "PE"], n, [0.8, 0.2]),
                       np.where(year < 1995, "SP", _pick(rng, ["PE", "SP"], n, [0.85, 0.15])))
        min_cover = np.where(width >= 8.0, 1.2, np.where(width >= 4.0, 1.0, 0.8))
        dep: np.ndarray = min_cover + rng.uniform(0.0, 0.3, n)
        short = rng.random(n) < 0.06                     # a few rows violate the cover rule
        dep = np.where(short, min_cover - rng.uniform(0.05, 0.3, n), dep)
        dep = np.where(lat, rng.uniform(0.8, 1.2, n), dep)
        dep = np.round(np.clip(dep, 0.8, 1.5), 2)
        cols.update(std_dip=dip, prs_cde=prs, mop_cde=mop, std_dep=np.where(unknown, 0.0, dep))
    elif u in ("power", "telecom"):
        if u == "power":
            year = _years(rng, n, 2001, 10, 1980, 2022)
            size = np.where(cls == 0, _pick(rng, ["800\\800", "1000\\1200", "500\\600", "200"], n),
                            np.where(cls == 1, _pick(rng, ["500\\600", "600\\600", "200", "175"], n),
                                     _pick(rng, ["100", "125", "150", "175"], n)))
            vol = np.where(cls == 0, _pick(rng, ["154kV", "22.9kV"], n, [0.4, 0.6]),
                           np.where((cls == 2) & (rng.random(n) < 0.3), "380V", "22.9kV"))
            mop = np.where(np.char.find(size.astype(str), "\\") >= 0, "CONC",
                           _pick(rng, ["PVC", "ELP", "STP"], n, [0.4, 0.45, 0.15]))
            dep = _cover(rng, n, 1.0, 1.8)
            cols.update(std_dip=size, vol_cde=vol, mop_cde=mop)
        else:
            year = _years(rng, n, 2000, 10, 1980, 2022)
            size = np.where(cls == 0, _pick(rng, ["600\\400", "300\\300", "100"], n),
                            np.where(cls == 1, _pick(rng, ["300\\300", "100", "80"], n),
                                     _pick(rng, ["100", "80", "50"], n)))
            mop = np.where(np.char.find(size.astype(str), "\\") >= 0, "CONC",
                           _pick(rng, ["PE", "PVC", "STP"], n, [0.5, 0.35, 0.15]))
            dep = _cover(rng, n, 0.6, 1.2)
            cols.update(std_dip=size, mop_cde=mop)
        cols["std_dep"] = np.where(unknown, 0.0, dep)
    else:  # heat
        year = _years(rng, n, 2006, 8, 1990, 2022)
        dip = np.where(cls == 0, _pick(rng, [400, 500, 600, 800], n),
                       _pick(rng, [200, 250, 300, 400], n)).astype(np.int64)
        cols.update(std_dip=dip, mop_cde=np.full(n, "SP", dtype=object),
                    std_dep=np.where(unknown, 0.0, _cover(rng, n, 1.5, 2.5)))
    cols["ist_ymd"] = _dates(rng, year, _UNKNOWN_YEAR[u])
    return cols


def _mng(rng: np.random.Generator, pipes: _Pipes) -> np.ndarray:
    n = len(pipes.geometry)
    fixed = {"water": "W1123", "sewer": "S1123", "power": "KEPCO", "gas": "YESCO", "heat": "SEC"}
    if pipes.utility in fixed:
        return np.full(n, fixed[pipes.utility], dtype=object)
    # telecom: one operator per road run
    runs, inv = np.unique(pipes.run, return_inverse=True)
    return _pick(rng, ["KT", "SKB", "LGU"], len(runs), [0.6, 0.2, 0.2])[inv]


def _majority_area(geoms: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Index of the polygon holding the larger part of each line's length."""
    tree = shapely.STRtree(polys)
    li, pi = tree.query(geoms, predicate="intersects")
    lengths = shapely.length(shapely.intersection(geoms[li], polys[pi]))
    order = np.lexsort((-lengths, li))
    li, pi = li[order], pi[order]
    first = np.ones(len(li), dtype=bool)
    first[1:] = li[1:] != li[:-1]
    out = np.full(len(geoms), -1, dtype=np.int64)
    out[li[first]] = pi[first]
    # a line on no polygon (should not happen) goes to the nearest one
    missing = np.flatnonzero(out < 0)
    if len(missing):
        out[missing] = tree.nearest(geoms[missing])
    return out


def _layer(rng: np.random.Generator, pipes: _Pipes, net: _Network, hoods: gpd.GeoDataFrame,
           id_base: int, seed: int) -> gpd.GeoDataFrame:
    g = pipes.geometry
    n = len(g)
    start = shapely.get_point(g, 0)
    end = shapely.get_point(g, -1)
    x0, y0 = shapely.get_x(start), shapely.get_y(start)
    x1, y1 = shapely.get_x(end), shapely.get_y(end)
    g0 = ground_elevation(x0, y0, seed=seed)
    g1 = ground_elevation(x1, y1, seed=seed)
    if pipes.utility == "sewer":
        # draw sewers in the flow direction: mains downhill, laterals from the building side
        flip = (g0 < g1) | pipes.lateral
        if flip.any():
            g = g.copy()
            g[flip] = shapely.reverse(g[flip])
            g0, g1 = np.where(flip, g1, g0), np.where(flip, g0, g1)
    length = np.round(shapely.length(g), 2)
    area = _majority_area(g, hoods.geometry.to_numpy())
    cols = _attributes(rng, pipes, net, g0, g1, length)
    data: dict[str, Any] = {
        "ftr_cde": np.full(n, _FTR[pipes.utility], dtype=object),
        "ftr_idn": id_base + np.arange(1, n + 1, dtype=np.int64),
        "hjd_cde": hoods["adm_cd2"].to_numpy()[area],
        "bjd_cde": hoods["bjd_cde"].to_numpy()[area],
        "mng_cde": _mng(rng, pipes),
        "ist_ymd": cols.pop("ist_ymd"),
    }
    data.update(cols)
    data["pip_len"] = length
    df = pd.DataFrame(data)
    for c in df.columns:
        if df[c].dtype == object:
            df[c] = df[c].astype(str).astype(object)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(g, crs=CRS), crs=CRS)


# --------------------------------------------------------------------------------------------
# other layers
# --------------------------------------------------------------------------------------------
def _boundary(warp: _Warp, size_m: float) -> shapely.Polygon:
    half = size_m / 2.0
    n = max(int(size_m / 10.0), 4)
    s = np.linspace(-half, half, n, endpoint=False)
    u = np.concatenate([s, np.full(n, half), -s, np.full(n, -half)])
    v = np.concatenate([np.full(n, -half), s, np.full(n, half), -s])
    x, y = warp(u, v)
    ring = np.round(np.stack([x, y], axis=1), 3)
    return shapely.Polygon(ring)


def _neighbourhoods(rng: np.random.Generator, warp: _Warp, boundary: shapely.Polygon,
                    size_m: float) -> gpd.GeoDataFrame:
    if size_m <= 1500.0:
        k = size_m / 1000.0
        uv = np.array([d[4] for d in _DONGS]) * k
        rows = [d[:4] for d in _DONGS]
    else:
        m = math.ceil(size_m / 450.0)
        cell = size_m / m
        gu, gv = np.meshgrid(np.arange(m), np.arange(m), indexing="xy")
        uv = np.stack([(gu.ravel() + 0.5) * cell - size_m / 2, (gv.ravel() + 0.5) * cell - size_m / 2],
                      axis=1)
        uv += rng.uniform(-0.3, 0.3, uv.shape) * cell
        rows = [(d[0], d[1], d[2], d[3]) for d in _DONGS]
        for i in range(len(_DONGS), len(uv)):
            rows.append((f"서울특별시 가상구 가상{i + 1}동", f"119{i + 1:04d}", f"11990{i + 1:05d}",
                         f"11990{i + 1:05d}"))
    x, y = warp(uv[:, 0], uv[:, 1])
    seeds = shapely.points(np.stack([x, y], axis=1))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                       extend_to=boundary))
    # voronoi output order is not the seed order: match each cell to the seed it contains
    owner = shapely.STRtree(cells).query(seeds, predicate="within")
    cell_of_seed = np.empty(len(seeds), dtype=np.int64)
    cell_of_seed[owner[0]] = owner[1]
    polys = shapely.intersection(cells[cell_of_seed], boundary)
    polys = _round_mm(shapely.normalize(polys))
    df = pd.DataFrame(rows[: len(uv)], columns=["adm_nm", "adm_cd", "adm_cd2", "bjd_cde"])
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(polys, crs=CRS), crs=CRS)


def _roads(net: _Network) -> gpd.GeoDataFrame:
    geoms = []
    for r in range(len(net.r_orient)):
        other = _road_nodes(net, r)
        # densify so the bends show (every ~20 m)
        along = np.interp(np.linspace(0, len(other) - 1, (len(other) - 1) * 6 + 1),
                          np.arange(len(other)), other)
        geoms.append(_lines(net, np.array([r]), along[None, :], np.zeros((1, len(along))))[0])
    cls_name = np.array(["arterial", "medium", "local"], dtype=object)[net.r_class]
    df = pd.DataFrame({"road_name": net.r_name, "width_m": net.r_width, "road_class": cls_name})
    df["road_class"] = df["road_class"].astype(str)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(np.asarray(geoms), crs=CRS), crs=CRS)


def _dem(seed: int, boundary: shapely.Polygon, size_m: float, cell_m: float | None) -> DEM:
    left, bottom, right, top = boundary.bounds
    margin = 50.0
    if cell_m is None:
        cell_m = max(2.0, float(np.ceil((size_m + 2 * margin) * 1.3 / 2000.0)))
    left = math.floor((left - margin) / cell_m) * cell_m
    bottom = math.floor((bottom - margin) / cell_m) * cell_m
    right = math.ceil((right + margin) / cell_m) * cell_m
    top = math.ceil((top + margin) / cell_m) * cell_m
    w = round((right - left) / cell_m)
    h = round((top - bottom) / cell_m)
    xs = left + (np.arange(w) + 0.5) * cell_m
    ys = top - (np.arange(h) + 0.5) * cell_m
    z = ground_elevation(xs[None, :], ys[:, None], seed=seed)
    z = np.round(z, 2).astype(np.float32)     # centimetres: plenty, and compresses well
    return DEM(z, Affine(cell_m, 0.0, left, 0.0, -cell_m, top))


def _boreholes(rng: np.random.Generator, seed: int, boundary: shapely.Polygon,
               size_m: float) -> gpd.GeoDataFrame:
    n = int(np.clip(round(22 * (size_m / 1000.0) ** 2), 15, 2000))
    left, bottom, right, top = boundary.bounds
    pts: list[np.ndarray] = []
    while sum(len(p) for p in pts) < n:
        cand = np.stack([rng.uniform(left, right, 4 * n), rng.uniform(bottom, top, 4 * n)], axis=1)
        inside = shapely.contains_xy(shapely.buffer(boundary, -20.0), cand[:, 0], cand[:, 1])
        pts.append(cand[inside])
    xy = np.round(np.concatenate(pts)[:n], 3)
    gz = np.round(ground_elevation(xy[:, 0], xy[:, 1], seed=seed), 2)
    # the water table follows the ground subdued: shallow in the valley, deeper on the hills
    zmin = 27.0
    depth = np.clip(1.8 + 0.45 * (gz - zmin) + rng.normal(0.0, 0.6, n), 1.2, 15.0)
    depth = np.round(depth, 2)
    old = rng.random(n) < 0.2
    year = np.where(old, rng.integers(2016, 2022, n), rng.integers(2024, 2026, n))
    month = np.where(year == 2025, rng.integers(1, 10, n), rng.integers(1, 13, n))
    day = rng.integers(1, 29, n)
    dates = [f"{a:04d}-{b:02d}-{c:02d}" for a, b, c in zip(year, month, day, strict=True)]
    df = pd.DataFrame({
        "bh_id": [f"BH-{i + 1:03d}" for i in range(n)],
        "ground_z": gz,
        "gw_depth_m": depth,
        "gw_elev_m": np.round(gz - depth, 2),
        "measured": dates,
    })
    for c in ("bh_id", "measured"):
        df[c] = df[c].astype(object)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(shapely.points(xy), crs=CRS), crs=CRS)


def _utilities_hit(geom: shapely.Geometry, layers: dict[str, gpd.GeoDataFrame]) -> set[str]:
    hit = set()
    for name, g in layers.items():
        idx = g.sindex.query(geom, predicate="intersects")
        if len(idx):
            hit.add(UIS_LAYERS[name])
    return hit


def _pit(net: _Network, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """An L-shaped pit at a busy intersection that reaches gas and at least three utilities."""
    # candidate intersections: two major roads crossing, nearest the centre first
    majors = np.flatnonzero(net.r_class < 2)
    vs = [r for r in majors if net.r_orient[r] == 0]
    hs = [r for r in majors if net.r_orient[r] == 1]
    cands = []
    for rv in vs:
        for rh in hs:
            u = net.node_u[net.r_index[rv], net.r_index[rh]]
            v = net.node_v[net.r_index[rv], net.r_index[rh]]
            cands.append((u * u + v * v, int(rv), int(rh), u, v))
    cands.sort()
    best: tuple[int, shapely.Polygon] | None = None
    for _, cv, ch, u, v in cands[:12]:
        hv, hh = net.r_width[cv] / 2.0, net.r_width[ch] / 2.0
        for su in (-1.0, 1.0):
            for sv in (-1.0, 1.0):
                # arm along the N–S road just beyond the crossing, and an arm into the crossing
                p = np.array([[0.0, 0.0], [hv + 2.0, 0.0], [hv + 2.0, 4.0], [4.0, 4.0],
                              [4.0, 14.0], [0.0, 14.0]])
                pu = u + su * (p[:, 0] - 3.0)
                pv = v + sv * (hh + 3.0 - p[:, 1])
                x, y = net.warp(pu, pv)
                poly = shapely.Polygon(np.round(np.stack([x, y], axis=1), 3))
                poly = shapely.normalize(poly)
                hit = _utilities_hit(poly, layers)
                if "gas" in hit and len(hit) >= 3:
                    score = len(hit)
                    if best is None or score > best[0]:
                        best = (score, poly)
            if best is not None and best[0] >= 5:
                break
        if best is not None and best[0] >= 5:
            break
    if best is None:
        msg = "no intersection with gas and three utilities for the pit; try another seed"
        raise InputError(msg)
    return gpd.GeoDataFrame({"pit_id": ["PIT-1"], "depth_m": [2.5]},
                            geometry=gpd.GeoSeries([best[1]], crs=CRS), crs=CRS)


def _section_line(net: _Network, layers: dict[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """A line across a busy street, perpendicular to it, crossing all six utilities."""
    arterials = np.flatnonzero(net.r_class == 0)
    cand = np.flatnonzero(np.isin(net.e_road, arterials))
    mid = (net.e_a0[cand] + net.e_a1[cand]) / 2.0
    fixed = np.array([net.pos[net.r_orient[r]][net.r_index[r]] for r in net.e_road[cand]])
    order = np.argsort(mid ** 2 + fixed ** 2, kind="stable")
    best: tuple[int, int, shapely.LineString] | None = None
    for e in cand[order][:200]:
        r = int(net.e_road[e])
        for t in (0.5, 0.35, 0.65, 0.2, 0.8):
            a = net.e_a0[e] + t * (net.e_a1[e] - net.e_a0[e])
            hw = net.r_width[r] / 2.0
            line = _lines(net, np.array([r]), np.array([[a, a]]), np.array([[-hw - 6.0, hw + 6.0]]))[0]
            n_hit = len(_utilities_hit(line, layers))
            if best is None or n_hit > best[0]:
                best = (n_hit, r, line)
            if n_hit == len(UIS_LAYERS):
                break
        if best is not None and best[0] == len(UIS_LAYERS):
            break
    if best is None:
        msg = "the district has no arterial road for the section line; use a larger size_m"
        raise InputError(msg)
    if best[0] < len(UIS_LAYERS):
        logger.warning("section line crosses only %d of the six utilities", best[0])
    r = best[1]
    return gpd.GeoDataFrame({"name": [f"{net.r_name[r]} 횡단면 A-A'"], "road_name": [net.r_name[r]]},
                            geometry=gpd.GeoSeries([best[2]], crs=CRS), crs=CRS)


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def make_district(*, seed: int = 2025, size_m: float = 1000.0,
                  dem_cell_m: float | None = None) -> District:
    """Make a synthetic underground-utility district.

    Parameters
    ----------
    seed : int
        Random seed; the same arguments always give the same district.
    size_m : float
        Side of the (slightly rotated and bent) square district in metres; 1000 gives about
        2,000 pipe segments, 20,000 about 900,000 (scales with the area).
    dem_cell_m : float, optional
        DEM cell size; default 2 m, coarser for large districts (at most ~2,000 cells a side).

    Returns
    -------
    District

    Raises
    ------
    InputError
        ``size_m`` below 300 m or not finite.

    Examples
    --------
    >>> d = make_district(seed=3, size_m=500.0)
    >>> d.n_segments > 100
    True
    """
    if not (isinstance(size_m, int | float) and math.isfinite(size_m) and size_m >= 300.0):
        msg = f"size_m must be a number >= 300 (metres), got {size_m!r}"
        raise InputError(msg)
    if dem_cell_m is not None and not (dem_cell_m > 0):
        msg = f"dem_cell_m must be positive, got {dem_cell_m!r}"
        raise InputError(msg)
    t0 = time.perf_counter()
    seed = int(seed)
    size_m = float(size_m)
    net = _make_network(np.random.default_rng([seed, 1]), size_m)
    boundary = _boundary(net.warp, size_m)
    hoods = _neighbourhoods(np.random.default_rng([seed, 2]), net.warp, boundary, size_m)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for ui, (name, utility) in enumerate(UIS_LAYERS.items()):
        rng = np.random.default_rng([seed, 100 + ui])
        pipes = _make_pipes(rng, net, utility, ui)
        layers[name] = _layer(rng, pipes, net, hoods, id_base=(ui + 1) * 10_000_000,
                              seed=seed)
    district = District(
        layers=layers,
        roads=_roads(net),
        dem=_dem(seed, boundary, size_m, dem_cell_m),
        boreholes=_boreholes(np.random.default_rng([seed, 3]), seed, boundary, size_m),
        neighbourhoods=hoods,
        pit=_pit(net, layers),
        section_line=_section_line(net, layers),
        boundary=boundary,
        seed=seed,
        size_m=size_m,
    )
    district.info["seconds"] = time.perf_counter() - t0
    logger.info("make_district: %.0f m -> %s segments in %.1f s", size_m,
                f"{district.n_segments:,}", district.info["seconds"])
    return district


@contextlib.contextmanager
def _gdal_config(**options: str | None) -> Iterator[None]:
    import pyogrio

    old = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def _geojson_bytes(gdf: gpd.GeoDataFrame, name: str) -> bytes:
    """A deterministic GeoJSON FeatureCollection (EPSG:5186 named, coordinates in mm)."""
    geoms = _round_mm(gdf.geometry.to_numpy())
    props = gdf.drop(columns=gdf.geometry.name)
    features = []
    for i, geom_json in enumerate(shapely.to_geojson(geoms)):
        row = {}
        for c in props.columns:
            val = props[c].iloc[i]
            if isinstance(val, np.generic):
                val = val.item()
            if isinstance(val, float):
                val = round(val, 3)
            row[c] = val
        features.append({"type": "Feature", "properties": row,
                         "geometry": json.loads(geom_json)})
    fc = {"type": "FeatureCollection", "name": name,
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::5186"}},
          "features": features}
    text = json.dumps(fc, ensure_ascii=False, separators=(",", ":"))
    # one feature per line keeps diffs readable
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
    return (text + "\n").encode("utf-8")


def write_district(district: District, out_dir: str | os.PathLike[str], *,
                   overwrite: bool = False) -> list[Path]:
    """Write a district: ``utilities.gpkg`` (six UIS layers), ``dem.tif`` and GeoJSON files.

    Files are byte-for-byte reproducible: the GeoPackage timestamp is pinned through GDAL's
    ``OGR_CURRENT_DATE``, the GeoTIFF carries no date tag and the GeoJSON is serialised by
    hand with coordinates in millimetres.

    Parameters
    ----------
    district : District
        From :func:`make_district`.
    out_dir : path
        Folder to write into (created when missing).
    overwrite : bool
        Replace existing files.

    Returns
    -------
    list of pathlib.Path
        ``utilities.gpkg, dem.tif, boreholes.geojson, neighbourhoods.geojson, pit.geojson,
        section_line.geojson, road.geojson``.
    """
    import pyogrio
    import rasterio

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    path = out / "utilities.gpkg"
    with atomic_path(path, overwrite=overwrite) as tmp, _gdal_config(
        OGR_CURRENT_DATE="2025-01-01T00:00:00.000Z", OGR_SQLITE_JOURNAL="OFF"
    ):
        for i, (name, gdf) in enumerate(district.layers.items()):
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG", append=i > 0,
                                    geometry_type="LineString", promote_to_multi=False,
                                    layer_options={"SPATIAL_INDEX": "YES"})
    written.append(path)

    path = out / "dem.tif"
    dem = district.dem
    h, w = dem.elevation.shape
    profile = {"driver": "GTiff", "width": w, "height": h, "count": 1, "dtype": "float32",
               "crs": CRS, "transform": dem.transform, "nodata": dem.nodata,
               "compress": "deflate", "predictor": 3, "zlevel": 9, "tiled": True,
               "blockxsize": 256, "blockysize": 256}
    with atomic_path(path, overwrite=overwrite) as tmp:
        with rasterio.Env(GDAL_NUM_THREADS="1"), rasterio.open(tmp, "w", **profile) as dst:
            dst.write(dem.elevation, 1)
            dst.update_tags(AREA_OR_POINT="Area")
            dst.set_band_description(1, "ground elevation (m)")
    written.append(path)

    for fname, gdf in (("boreholes", district.boreholes),
                       ("neighbourhoods", district.neighbourhoods),
                       ("pit", district.pit), ("section_line", district.section_line),
                       ("road", district.roads)):
        path = out / f"{fname}.geojson"
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.write_bytes(_geojson_bytes(gdf, fname))
        written.append(path)
    return written


def write_underground_sample(out_dir: str | os.PathLike[str], *, seed: int = 2025,
                             overwrite: bool = True) -> list[Path]:
    """Make the 1 km² sample district and write it to ``out_dir`` (``sample_data/underground``).

    Parameters
    ----------
    out_dir : path
        Target folder.
    seed : int
        Random seed (2025 for the shipped sample).
    overwrite : bool
        Replace existing files (default true: regenerating the sample replaces it).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    district = make_district(seed=seed, size_m=1000.0)
    return write_district(district, out_dir, overwrite=overwrite)
