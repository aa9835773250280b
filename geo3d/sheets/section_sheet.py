"""Cross-section sheets (횡단면도): drawing, PDF/PNG/SVG, and multi-page atlases.

:func:`plot_section` draws a :class:`~geo3d.underground.section.Section` into an axes at a fixed
scale: pipes at their true size (circles; rectangles for box ducts; an oblique crossing is as
wide as its cut along the section, ``w / sin(angle)``) at their chainage and elevation, small
pipes over big ones; the ground from the DEM over an earth fill; the water table with its
dates; the pit; uncertainty envelopes (``accuracy_h_m``/``accuracy_v_m``); rule violations in
red; and one label per crossing (utility, size, material, install year, cover, top elevation)
in a row above the ground with leader lines. Labels keep the order of their pipes and are
spread so that none overlaps (:func:`geo3d.sheets.labels.spread_labels`); their boxes are
measured with the renderer, and the font shrinks when a row would not fit.

Scales: the horizontal scale is the largest standard scale (:data:`SCALES`) at which the
section fits; one vertical exaggeration (:data:`EXAGGERATIONS`) for the whole sheet, the
smallest that makes the section at least 40 mm tall on paper when it fits, printed as
``V:H = 1:n`` next to both scales (``H 1:200``, ``V 1:100``) and drawn as scale bars on both
axes.

:func:`section_to_pdf` lays out a whole sheet (A3 landscape by default): the section, the two
scale bars, a legend, a key plan of the section line over the pipes, and a title block
(project, location, author/checker, date, data sources and dates, accuracy disclaimer, sheet n
of N). Hangul is drawn with NanumGothic, embedded in the PDF (TrueType, ``pdf.fonttype = 42``).
:func:`section_atlas` cuts a road every ``step`` metres and writes one multi-page PDF (a key map
first) with one figure reused for every page.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._compat import import_optional
from ..errors import InputError
from ..io.atomic import atomic_path, check_can_write
from ..underground.section import Section, as_line, section_lines, sections_along
from .labels import spread_labels
from .palettes import UNKNOWN_COLOUR, UTILITY_NAMES, get_palette
from .titleblock import (
    PAPER_MM,
    TitleBlock,
    draw_frame,
    draw_title_block,
    paper_axes,
    title_block_layout,
    update_title_block,
)
from .titleblock import wrap_text as _wrap

__all__ = [
    "EXAGGERATIONS",
    "SCALES",
    "choose_scale",
    "plot_section",
    "plot_section_sheet",
    "section_atlas",
    "section_to_pdf",
]

logger = logging.getLogger(__name__)

#: Standard drawing scales (1:n), largest drawing first.
SCALES: tuple[int, ...] = (20, 50, 100, 200, 250, 500, 1000, 2000, 5000)
#: Vertical exaggerations the sheet may use.
EXAGGERATIONS: tuple[int, ...] = (1, 2, 5, 10)

_MM_PER_INCH = 25.4
_MIN_SECTION_MM = 40.0      # aim: the soil section at least this tall on paper
_LABEL_GAP_MM = 12.0        # from the highest ground to the labels' foot
_FORMATS = (".pdf", ".png", ".svg")
_MATERIAL_SHORT = {
    "ductile_iron": "DCIP", "cast_iron": "CIP", "steel": "SP", "stainless_steel": "STS",
    "galvanised_steel": "GSP", "coated_steel": "PLP", "copper": "CU", "pe": "PE", "hdpe": "HDPE",
    "pvc": "PVC", "plastic": "PL", "grp": "GRP", "concrete": "CP", "reinforced_concrete": "RC",
    "clay": "VCP", "asbestos_cement": "ACP", "brick": "BRK", "other": "기타",
}


# --------------------------------------------------------------------------------------------
# matplotlib set-up
# --------------------------------------------------------------------------------------------
def _mpl() -> Any:
    mpl = import_optional("matplotlib", extra="viz")
    from ..viz.fonts import register_hangul_font

    register_hangul_font()   # the rc settings apply only inside _sheet_rc()
    return mpl


def _sheet_rc() -> Any:
    """rc settings for drawing sheets: NanumGothic alone (it has every glyph a sheet uses —
    Hangul, Φ, ×, ∠, °), so texts resolve one font fast and the PDF embeds one font."""
    mpl = _mpl()
    return mpl.rc_context({"font.family": ["NanumGothic"], "pdf.fonttype": 42,
                           "ps.fonttype": 42, "axes.unicode_minus": False})


def _new_figure(size_mm: tuple[float, float], dpi: float = 150.0) -> Any:
    _mpl()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size_mm[0] / _MM_PER_INCH, size_mm[1] / _MM_PER_INCH), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _renderer(fig: Any) -> Any:
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


# --------------------------------------------------------------------------------------------
# scale
# --------------------------------------------------------------------------------------------
def _content(section: Section) -> tuple[float, float, float, float]:
    """(c0, c1, z0, z1): what must be visible, in metres."""
    cr = section.crossings
    c0, c1 = 0.0, section.length_m
    zs: list[float] = []
    if len(section.ground):
        zs += [float(np.nanmin(section.ground["z"])), float(np.nanmax(section.ground["z"]))]
    if len(cr):
        half = np.nan_to_num(cr["draw_width_m"].to_numpy(np.float64)) / 2
        c0 = min(c0, float(np.nanmin(cr["chainage_start_m"] - half)))
        c1 = max(c1, float(np.nanmax(cr["chainage_end_m"] + half)))
        acc = np.nan_to_num(cr["accuracy_v_m"].to_numpy(np.float64))
        bot = cr["centre_z"].to_numpy(np.float64) - np.nan_to_num(
            cr["size_v_m"].to_numpy(np.float64)) / 2 - acc
        top = cr["top_z"].to_numpy(np.float64) + acc
        if np.isfinite(bot).any():
            zs += [float(np.nanmin(bot)), float(np.nanmax(top))]
    if section.groundwater is not None and np.isfinite(section.groundwater.z).any():
        zs += [float(np.nanmin(section.groundwater.z)), float(np.nanmax(section.groundwater.z))]
    if len(section.pit) and np.isfinite(section.pit["bottom_z"]).any():
        zs += [float(np.nanmin(section.pit["bottom_z"]))]
    if len(section.structures) and np.isfinite(section.structures["bottom_z"]).any():
        zs += [float(np.nanmin(section.structures["bottom_z"]))]
    zs = [z for z in zs if math.isfinite(z)]
    if not zs:
        zs = [0.0, 1.0]
    return c0, c1, min(zs) - 0.5, max(zs) + 0.2


def choose_scale(
    section: Section,
    box_mm: tuple[float, float],
    *,
    label_mm: float = 45.0,
    scale: int | None = None,
    exaggeration: int | None = None,
) -> tuple[int, int]:
    """The horizontal scale ``1:n`` and vertical exaggeration for a drawing box.

    The largest standard drawing (smallest ``n`` of :data:`SCALES`) in which the section and the
    label row fit; the smallest exaggeration of :data:`EXAGGERATIONS` that makes the section at
    least 40 mm tall (or the largest that fits).

    Examples
    --------
    >>> import shapely
    >>> sec = Section.empty(shapely.LineString([(0, 0), (30, 0)]))
    >>> choose_scale(sec, (247.0, 235.0))
    (200, 5)
    >>> choose_scale(sec, (247.0, 235.0), scale=500, exaggeration=1)
    (500, 1)
    """
    c0, c1, z0, z1 = _content(section)
    w_mm, h_mm = box_mm
    scales = (scale,) if scale else SCALES
    exs = (exaggeration,) if exaggeration else EXAGGERATIONS
    for s in scales:
        if (c1 - c0) * 1000.0 / s > w_mm * 0.96 and not scale:
            continue
        fits = [e for e in exs if (z1 - z0) * 1000.0 * e / s + label_mm + _LABEL_GAP_MM <= h_mm]
        if not fits:
            if scale or (exaggeration and s == scales[-1]):
                return int(s), int(exs[0])
            continue
        tall = [e for e in fits if (z1 - z0) * 1000.0 * e / s >= _MIN_SECTION_MM]
        return int(s), int(tall[0] if tall else fits[-1])
    return int(scales[-1]), int(exs[0])


def _nice(x: float) -> float:
    """A 1-2-5 number ≤ x."""
    if x <= 0:
        return 1.0
    p = 10 ** math.floor(math.log10(x))
    for m in (5, 2, 1):
        if m * p <= x:
            return float(m * p)
    return float(p)


# --------------------------------------------------------------------------------------------
# the section drawing
# --------------------------------------------------------------------------------------------
def _label_text(row: pd.Series, lang: str) -> str:
    util = str(row["utility"])
    names = UTILITY_NAMES.get(util, (util, util))
    name = names[0] if lang == "ko" else names[1]
    if row["shape"] == "box" and pd.notna(row["width_mm"]):
        size = f"{row['width_mm']:.0f}×{row['height_mm']:.0f}"
    elif pd.notna(row["diameter_mm"]):
        size = f"Φ{row['diameter_mm']:.0f}"
    else:
        size = "Φ?"
    mat = row["material_raw"] if isinstance(row["material_raw"], str) and row["material_raw"] else (
        _MATERIAL_SHORT.get(str(row["material"]), "") if isinstance(row["material"], str) else "")
    year = row["install_year"]
    year_s = ("년도미상" if lang == "ko" else "year ?") if pd.isna(year) else f"{int(year)}"
    star = "*" if bool(row["depth_assumed"]) else ""
    cov = row["cover_m"]
    cover_s = (f"토피 {cov:.2f}m{star}" if lang == "ko" else f"cover {cov:.2f} m{star}"
               ) if pd.notna(cov) else ""
    top = row["top_z"]
    top_s = f"관상단 EL {top:.2f}" if lang == "ko" else f"top EL {top:.2f}"
    if row["kind"] == "along":
        top_s += " (평행)" if lang == "ko" else " (along)"
    elif row["angle_deg"] < 60:
        top_s += f" ∠{row['angle_deg']:.0f}°"
    lines = [f"{name} {size} {mat}".strip(), f"{year_s}  {cover_s}".strip(), top_s]
    if row["violation"]:
        lines.append(_short_violation(str(row["violation"]), lang))
    return "\n".join(lines)


def _short_violation(text: str, lang: str) -> str:
    parts = []
    for v in text.split("; "):
        if v.startswith("cover"):
            nums = v.replace("cover ", "").replace(" m", "").split(" < ")
            parts.append(f"최소토피 {nums[1]} 미달" if lang == "ko" else f"min cover {nums[1]}")
        elif v.startswith("overlaps"):
            parts.append("중첩" if lang == "ko" else "overlap")
        else:
            d = v.split(" m to ")[0]
            parts.append(f"이격 {d} 부족" if lang == "ko" else f"clearance {d}")
    return "! " + ", ".join(dict.fromkeys(parts))


class _Paper:
    """Linear data ↔ paper-millimetre mapping of a drawing axes."""

    def __init__(self, xlim: tuple[float, float], ylim: tuple[float, float], scale: int,
                 exaggeration: int) -> None:
        self.x0, self.y0 = xlim[0], ylim[0]
        self.kx = 1000.0 / scale
        self.ky = 1000.0 * exaggeration / scale

    def mm(self, c: Any, z: Any) -> tuple[Any, Any]:
        return ((np.asarray(c) - self.x0) * self.kx, (np.asarray(z) - self.y0) * self.ky)

    def data(self, xmm: Any, ymm: Any) -> tuple[Any, Any]:
        return (self.x0 + np.asarray(xmm) / self.kx, self.y0 + np.asarray(ymm) / self.ky)


def plot_section(
    section: Section,
    *,
    ax: Any = None,
    exaggeration: int | None = None,
    scale: int | None = None,
    palette: str | Mapping[str, str] = "korean",
    lang: str = "ko",
    fontsize: float = 6.5,
) -> tuple[Any, Any]:
    """Draw a section at a fixed scale into ``ax`` (or a new figure).

    Parameters
    ----------
    section : Section
        From :func:`~geo3d.underground.cross_section`.
    ax : matplotlib Axes, optional
        Where to draw; its size on paper sets the scale. Default: a new 260 × 180 mm figure.
    exaggeration : int, optional
        Vertical exaggeration; default chosen from :data:`EXAGGERATIONS` (see :func:`choose_scale`).
    scale : int, optional
        Horizontal scale ``1:scale``; default the largest standard scale that fits.
    palette : "korean", "apwa" or dict
        Utility colours (:mod:`geo3d.sheets.palettes`).
    lang : {"ko", "en"}
        Language of the labels.
    fontsize : float
        Label font size in points (shrunk when the labels would not fit in one row).

    Returns
    -------
    (Figure, Axes)
        The axes carries ``geo3d_scale = (scale, exaggeration)`` and its label texts have the
        gid ``"geo3d-label"``.

    Examples
    --------
    >>> import shapely
    >>> fig, ax = plot_section(Section.empty(shapely.LineString([(0, 0), (20, 0)])))
    >>> ax.geo3d_scale
    (100, 5)
    """
    if lang not in ("ko", "en"):
        msg = f"lang must be 'ko' or 'en', got {lang!r}"
        raise InputError(msg)
    colours = get_palette(palette)
    with _sheet_rc():
        return _plot_section(section, ax=ax, exaggeration=exaggeration, scale=scale,
                             colours=colours, lang=lang, fontsize=fontsize)


def _plot_section(section: Section, *, ax: Any, exaggeration: int | None, scale: int | None,
                  colours: Mapping[str, str], lang: str, fontsize: float,
                  furniture: bool = True) -> tuple[Any, Any]:
    """Draw into ``ax``; ``furniture=False`` when the axes already has its tick, spine, grid
    and label styling (a sheet reused for the next page of an atlas)."""
    if ax is None:
        fig = _new_figure((260.0, 180.0))
        ax = fig.add_axes((22 / 260, 20 / 180, 230 / 260, 150 / 180))
    fig = ax.figure
    renderer = _renderer(fig)
    pos = ax.get_position()
    fw, fh = fig.get_size_inches() * _MM_PER_INCH
    box = (pos.width * fw, pos.height * fh)
    px_per_mm = fig.dpi / _MM_PER_INCH
    cr = section.crossings

    # labels first: their length sets the band above the ground
    texts = []
    for i in range(len(cr)):  # one label per crossing
        row = cr.iloc[i]
        bad = bool(row["violation"])
        t = ax.text(0, 0, _label_text(row, lang), rotation=90, ha="center", va="bottom",
                    fontsize=fontsize, linespacing=1.15, color="#c00000" if bad else "black",
                    gid="geo3d-label", zorder=40, clip_on=False)
        texts.append(t)
    size = fontsize

    def measure() -> tuple[np.ndarray, np.ndarray]:
        ext = [t.get_window_extent(renderer) for t in texts]
        return (np.array([e.width for e in ext]) / px_per_mm,
                np.array([e.height for e in ext]) / px_per_mm)

    widths, heights = measure() if texts else (np.zeros(0), np.zeros(0))
    while len(texts) and widths.sum() + len(texts) * 1.0 > box[0] - 4 and size > 4.5:
        size -= 0.5
        for t in texts:
            t.set_fontsize(size)
        widths, heights = measure()
    label_mm = float(heights.max()) if len(heights) else 0.0
    s, e = choose_scale(section, box, label_mm=label_mm + 4, scale=scale,
                        exaggeration=exaggeration)
    c0, c1, z0, z1 = _content(section)
    xr = box[0] * s / 1000.0
    xc = (c0 + c1) / 2.0
    xlim = (xc - xr / 2.0, xc + xr / 2.0)
    y_bottom = z0 - 4.0 * s / (1000.0 * e)
    ylim = (y_bottom, y_bottom + box[1] * s / (1000.0 * e))
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("auto")
    ax.geo3d_scale = (s, e)
    paper = _Paper(xlim, ylim, s, e)
    ax.geo3d_top_mm = float(paper.mm(0.0, z1)[1])
    _draw_body(ax, section, colours, paper, lang)

    # label row
    if len(texts):
        gx = section.ground
        ground_top = (float(np.nanmax(gx["z"])) if len(gx) and np.isfinite(gx["z"]).any()
                      else z1)
        top_things = max(ground_top, float(np.nanmax(cr["top_z"])) if np.isfinite(
            cr["top_z"]).any() else ground_top)
        base_mm = paper.mm(0.0, top_things)[1] + _LABEL_GAP_MM
        px_mm, ptop_mm = paper.mm(cr["chainage_m"].to_numpy(np.float64),
                                  cr["top_z"].to_numpy(np.float64))
        ptop_mm = np.where(np.isfinite(ptop_mm), ptop_mm, paper.mm(0.0, ground_top)[1])
        centres = spread_labels(px_mm, widths, lo=1.0, hi=box[0] - 1.0, gap=1.0)
        # leader start points: on each pipe, strictly increasing so no two leaders coincide
        start = px_mm.astype(np.float64).copy()
        half_mm = np.nan_to_num(cr["draw_width_m"].to_numpy(np.float64)) / 2 * paper.kx
        for i in range(1, len(start)):  # crossings in chainage order
            if start[i] < start[i - 1] + 0.8:
                start[i] = min(start[i - 1] + 0.8, px_mm[i] + max(half_mm[i], 0.8))
        elbow = base_mm - 7.0
        foot = base_mm - 1.0
        ax.geo3d_top_mm = float(base_mm + label_mm)
        for i, t in enumerate(texts):  # one label per crossing
            lx, ly = paper.data(centres[i], base_mm + 0.8)
            t.set_position((float(lx), float(ly)))
            xs_mm = [start[i], start[i], centres[i], centres[i]]
            ys_mm = [ptop_mm[i], elbow, foot, base_mm]
            xs, ys = paper.data(xs_mm, ys_mm)
            ax.plot(xs, ys, color="#c00000" if cr["violation"].iloc[i] else "#333333", lw=0.45,
                    zorder=39, solid_capstyle="butt", gid="geo3d-leader", clip_on=False)
    # axes furniture
    if furniture:
        _axis_furniture(ax, lang)
    _axis_ticks(ax, paper)
    return fig, ax


#: Drawn width (m) of a structure shaft whose size is not known (a common manhole, 0.9–1.2 m).
_SHAFT_WIDTH_M = 1.0


def _draw_structures(ax: Any, section: Section, colours: Mapping[str, str], ko: bool) -> None:
    """Point structures near the line: manholes (and any structure with a depth) as shafts
    from the ground down to their depth, the others as a marker at the ground."""
    from matplotlib.patches import Rectangle

    st = section.structures
    for _, r in st.iterrows():  # the few structures within the corridor
        col = colours.get(str(r["utility"]), UNKNOWN_COLOUR)
        c, top, bottom = float(r["chainage_m"]), float(r["ground_z"]), float(r["bottom_z"])
        label = f"{r['kind']} {r['structure_id']}"
        if np.isfinite(top) and np.isfinite(bottom):
            ax.add_artist(Rectangle((c - _SHAFT_WIDTH_M / 2, bottom), _SHAFT_WIDTH_M,
                                    top - bottom, fill=False, ec=col, lw=0.9, hatch="||",
                                    alpha=0.8, zorder=18, gid="geo3d-structure"))
            label += f" ({'바닥' if ko else 'bottom'} EL {bottom:.2f})"
        if np.isfinite(top):
            ax.plot([c], [top], marker="s", ms=3.5, color=col, zorder=32, gid="geo3d-structure")
            ax.annotate(label, (c, top), xytext=(2, -7), textcoords="offset points",
                        fontsize=5.0, color=col, zorder=31)


def _ground_label(mode: str, z: float, ko: bool) -> str:
    """The ground line's label: it says where the ground came from."""
    if mode == "relative":
        return "지표 (상대 기준 0.00, DEM 없음)" if ko else "ground (relative 0.00; no DEM)"
    if mode == "flat":
        return f"지표 EL {z:.2f} (평탄, 입력값)" if ko else f"ground EL {z:.2f} (flat, given)"
    return f"지표 EL {z:.2f}" if ko else f"ground EL {z:.2f}"


def _draw_body(ax: Any, section: Section, colours: Mapping[str, str], paper: _Paper,
               lang: str) -> None:
    from matplotlib.patches import Ellipse, Polygon, Rectangle

    # the limits are set: patches go in with add_artist (add_patch would update data limits)
    ko = lang == "ko"
    ylim = ax.get_ylim()
    if section.ground_mode == "relative":   # levels are depths below a ground line at 0
        ax.set_ylabel("지표 기준 높이 (m, DEM 없음)" if ko else "Level to ground (m, no DEM)",
                      fontsize=6, labelpad=1)
    g = section.ground
    if len(g):
        ch = g["chainage_m"].to_numpy()
        z = g["z"].to_numpy()
        ax.fill_between(ch, z, ylim[0], color="#efe4cf", lw=0, zorder=1)
        ax.plot(ch, z, color="black", lw=1.3, zorder=30, label="_ground")
        ok = np.isfinite(z)
        if ok.any():
            k = int(np.flatnonzero(ok)[0])
            ax.annotate(_ground_label(section.ground_mode, float(z[k]), ko), (ch[k], z[k]),
                        xytext=(2, 3), textcoords="offset points", fontsize=5.5, zorder=31,
                        gid="geo3d-ground-label")
    elif section.ground_mode == "none":
        ax.text(0.01, 0.98, "지표 없음 (DEM 없음): 관로 표고만" if ko
                else "no ground (no DEM): pipes at their elevations", transform=ax.transAxes,
                fontsize=5.5, va="top", gid="geo3d-ground-label")
    gw = section.groundwater
    if gw is not None and np.isfinite(gw.z).any():
        ax.plot(gw.chainage_m, gw.z, color="#1565c0", lw=0.9, ls=(0, (6, 2)), zorder=25)
        ok = np.flatnonzero(np.isfinite(gw.z))
        k = int(ok[len(ok) // 6])
        dates = gw.dates
        when = "" if dates is None else (dates[0] if dates[0] == dates[1]
                                         else f"{dates[0]}~{dates[1]}")
        ax.plot([gw.chainage_m[k]], [gw.z[k] + 0.02 * paper.kx / paper.ky * 10], marker="v",
                color="#1565c0", ms=5, zorder=26)
        el = "" if section.ground_mode == "relative" else "EL "
        ax.annotate((f"지하수위 {el}{gw.z[k]:.2f} (측정 {when})" if ko
                     else f"groundwater {el}{gw.z[k]:.2f} ({when})"),
                    (gw.chainage_m[k], gw.z[k]), xytext=(6, -8), textcoords="offset points",
                    fontsize=5.5, color="#1565c0", zorder=31, gid="geo3d-groundwater",
                    bbox={"fc": "#efe4cf", "ec": "none", "pad": 0.6})
    for _, p in section.pit.iterrows():  # a pit or two
        if not (np.isfinite(p["bottom_z"]) and np.isfinite(p["top_z"])):
            continue
        ax.add_artist(Rectangle((p["chainage_start_m"], p["bottom_z"]),
                                p["chainage_end_m"] - p["chainage_start_m"],
                                p["top_z"] - p["bottom_z"] + 0.3, fill=False, ec="#c00000",
                                lw=1.0, ls="-.", hatch="xx", alpha=0.6, zorder=20))
        ax.annotate((f"굴착 {p['name']} 바닥 EL {p['bottom_z']:.2f}" if ko
                     else f"pit {p['name']} bottom EL {p['bottom_z']:.2f}"),
                    (p["chainage_start_m"], p["bottom_z"]), xytext=(2, -9),
                    textcoords="offset points", fontsize=5.5, color="#c00000", zorder=31)
    _draw_structures(ax, section, colours, ko)
    cr = section.crossings
    if not len(cr):
        return
    size = np.nan_to_num(cr["size_h_m"].to_numpy(np.float64) * cr["size_v_m"].to_numpy(np.float64))
    order = np.argsort(-size, kind="stable")   # big first, small drawn on top
    for rank, i in enumerate(order):  # one patch per crossing
        r = cr.iloc[i]
        col = colours.get(str(r["utility"]), UNKNOWN_COLOUR)
        bad = bool(r["violation"])
        ec = "#c00000" if bad else "#222222"
        lw = 1.3 if bad else 0.5
        ls = (0, (2, 1)) if bool(r["depth_assumed"]) else "-"
        hatch = "////" if bool(r["depth_assumed"]) else None
        zo = 10 + rank * 0.01
        pc, pz = float(r["chainage_m"]), float(r["centre_z"])
        if not np.isfinite(pz):
            continue
        w = float(r["draw_width_m"]) if np.isfinite(r["draw_width_m"]) else math.nan
        h = float(r["size_v_m"]) if np.isfinite(r["size_v_m"]) else math.nan
        kw: dict[str, Any] = {"fc": col, "ec": ec, "lw": lw, "ls": ls, "hatch": hatch,
                              "zorder": zo, "gid": "geo3d-pipe"}
        if r["kind"] == "along":
            hh = h if np.isfinite(h) else 0.05
            pts = [(r["chainage_start_m"], r["centre_z_start"] - hh / 2),
                   (r["chainage_end_m"], r["centre_z_end"] - hh / 2),
                   (r["chainage_end_m"], r["centre_z_end"] + hh / 2),
                   (r["chainage_start_m"], r["centre_z_start"] + hh / 2)]
            ax.add_artist(Polygon(pts, closed=True, alpha=0.9, **kw))
        elif not np.isfinite(w) or not np.isfinite(h) or w <= 0:
            ax.plot([pc], [pz], marker="o", ms=4, mfc=col, mec=ec, zorder=zo)
        elif r["shape"] == "box":
            ax.add_artist(Rectangle((pc - w / 2, pz - h / 2), w, h, **kw))
        else:
            ax.add_artist(Ellipse((pc, pz), w, h, **kw))
        ah, av = r["accuracy_h_m"], r["accuracy_v_m"]
        if (pd.notna(ah) and ah > 0) or (pd.notna(av) and av > 0):
            ah = float(ah) if pd.notna(ah) else 0.0
            av = float(av) if pd.notna(av) else 0.0
            sin = math.sin(math.radians(max(float(r["angle_deg"]), 15.0)))
            ww = (w if np.isfinite(w) else 0.0) + 2 * ah / sin
            hh = (h if np.isfinite(h) else 0.0) + 2 * av
            ax.add_artist(Rectangle((pc - ww / 2, pz - hh / 2), ww, hh, fill=False, ec=col,
                                    lw=0.6, ls=(0, (1, 1)), zorder=9, gid="geo3d-envelope"))
        if "cover" in str(r["violation"]) and np.isfinite(r["ground_z"]):
            ax.plot([pc, pc], [r["top_z"], r["ground_z"]], color="#c00000", lw=0.9, zorder=35,
                    marker="_", ms=4)
    # clearance violations: a red dimension between the two pipes
    for _, v in section.violations.iterrows():  # a few violations
        if v["kind"] not in ("clearance", "overlap"):
            continue
        a, b = cr.iloc[int(v["a"])], cr.iloc[int(v["b"])]
        ax.plot([a["chainage_m"], b["chainage_m"]], [a["centre_z"], b["centre_z"]],
                color="#c00000", lw=0.8, ls=":", zorder=36)


def _tick_label(v: float, _pos: Any = None) -> str:
    return f"{v:g}"


def _axis_ticks(ax: Any, paper: _Paper) -> None:
    """Tick spacing for this drawing's scale (a tick about every 12 mm across, 10 mm up)."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    ax.xaxis.set_major_locator(MultipleLocator(_nice(12.0 / paper.kx)))
    ax.yaxis.set_major_locator(MultipleLocator(_nice(10.0 / paper.ky)))
    ax.xaxis.set_major_formatter(FuncFormatter(_tick_label))
    ax.yaxis.set_major_formatter(FuncFormatter(_tick_label))


def _axis_furniture(ax: Any, lang: str) -> None:
    """Tick, spine, grid and axis-label styling of a section drawing (the same on every page)."""
    ko = lang == "ko"
    ax.tick_params(labelsize=5.5, length=2, width=0.4, pad=1.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_linewidth(0.5)
    ax.grid(True, color="#cccccc", lw=0.25, zorder=0)
    ax.set_axisbelow(True)
    ax.set_xlabel("측점 Chainage (m)" if ko else "Chainage (m)", fontsize=6, labelpad=1)
    ax.set_ylabel("표고 EL (m)" if ko else "Elevation (m)", fontsize=6, labelpad=1)


# --------------------------------------------------------------------------------------------
# the sheet
# --------------------------------------------------------------------------------------------
def _layout(paper_size: tuple[float, float]) -> dict[str, tuple[float, float, float, float]]:
    """Rectangles (x, y, w, h) in mm, scaled from the A3 design."""
    w, h = paper_size
    kx, ky = w / 420.0, h / 297.0
    right_w = 125.0 * kx
    rx = w - 10.0 - right_w
    tb_h = 92.0 * ky
    leg_h = 52.0 * ky
    return {
        "title": (rx, 10.0, right_w, tb_h),
        "legend": (rx, 10.0 + tb_h, right_w, leg_h),
        "key": (rx + 2.0, 10.0 + tb_h + leg_h + 2.0, right_w - 4.0, h - 20.0 - tb_h - leg_h - 4.0),
        "main": (10.0 + 24.0, 10.0 + 76.0 * ky, rx - 10.0 - 24.0 - 8.0,
                 h - 20.0 - 76.0 * ky - 18.0),
        "table": (10.0 + 4.0, 10.0 + 4.0, rx - 10.0 - 4.0 - 6.0, 40.0 * ky),
        "header": (10.0, h - 10.0 - 14.0, rx - 10.0, 14.0),
    }


def _rect_frac(rect: tuple[float, float, float, float],
               size: tuple[float, float]) -> tuple[float, float, float, float]:
    x, y, w, h = rect
    return (x / size[0], y / size[1], w / size[0], h / size[1])


def _scale_bars(paper_ax: Any, main: tuple[float, float, float, float], s: int, e: int,
                lang: str) -> None:
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    x, y = main[0], main[1]
    ko = lang == "ko"
    n = 5
    fill = ["black" if k % 2 == 0 else "white" for k in range(n)]
    # horizontal: about 50 mm
    length_m = _nice(50.0 * s / 1000.0)
    bar_mm = length_m * 1000.0 / s
    by = y - 22.0
    # vertical: about 30 mm
    sv = s / e
    vlen = _nice(30.0 * sv / 1000.0)
    v_mm = vlen * 1000.0 / sv
    vx = x - 20.0
    cells = ([Rectangle((x + k * bar_mm / n, by), bar_mm / n, 1.6) for k in range(n)]
             + [Rectangle((vx, y + k * v_mm / n), 1.6, v_mm / n) for k in range(n)])
    paper_ax.add_collection(PatchCollection(cells, facecolors=fill + fill, edgecolors="black",
                                            linewidths=0.4, zorder=1), autolim=False)
    for k in (0, n):
        paper_ax.text(x + k * bar_mm / n, by - 1.2, f"{k * length_m / n:g}", fontsize=5.5,
                      ha="center", va="top")
    paper_ax.text(x + bar_mm + 3, by + 0.8, f"{'수평' if ko else 'H'} 1:{s}  (m)", fontsize=6.5,
                  va="center", gid="geo3d-hscale")
    for k in (0, n):
        paper_ax.text(vx - 1.0, y + k * v_mm / n, f"{k * vlen / n:g}", fontsize=5.5, ha="right",
                      va="center")
    paper_ax.text(vx + 0.8, y + v_mm + 2.5, f"{'수직' if ko else 'V'} 1:{sv:g}", fontsize=6.5,
                  ha="left", va="bottom", gid="geo3d-vscale")


def _legend(fig: Any, rect_frac: tuple[float, float, float, float],
            colours: Mapping[str, str], present: Sequence[str], lang: str) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ko = lang == "ko"
    ax = fig.add_axes(rect_frac)
    ax.set_axis_off()
    handles: list[Any] = []
    order = ["water", "sewer", "power", "telecom", "gas", "heat"]
    order += [u for u in present if u not in order]
    for u in order:
        name = UTILITY_NAMES.get(u, (u, u))
        handles.append(Patch(fc=colours.get(u, UNKNOWN_COLOUR), ec="#222222", lw=0.5,
                             label=f"{name[0]} {name[1]}" if ko else name[1]))
    handles += [
        Line2D([], [], color="black", lw=1.3, label="지표 Ground" if ko else "Ground"),
        Line2D([], [], color="#1565c0", lw=0.9, ls=(0, (6, 2)),
               label="지하수위 Groundwater" if ko else "Groundwater"),
        Patch(fc="none", ec="#c00000", ls="-.", hatch="xx", label="굴착 Pit" if ko else "Pit"),
        Patch(fc="none", ec="#555555", ls=(0, (1, 1)),
              label="위치오차 Uncertainty" if ko else "Uncertainty"),
        Patch(fc="#dddddd", ec="#222222", hatch="////", ls=(0, (2, 1)),
              label="* 심도미상(기준토피 가정)" if ko else "* depth assumed"),
        Patch(fc="none", ec="#c00000", lw=1.3, label="기준 위반 Violation" if ko else "Violation"),
    ]
    ax.legend(handles=handles, loc="upper left", ncol=2, fontsize=6, frameon=True,
              title="범례 Legend" if ko else "Legend", title_fontsize=7, handlelength=2.2,
              borderaxespad=0.4, columnspacing=1.0, fancybox=False, edgecolor="black")


def _key_plan_axes(fig: Any, rect_frac: tuple[float, float, float, float], lang: str) -> Any:
    """The key-plan inset with what every page shares (title, north arrow, no ticks)."""
    ax = fig.add_axes(rect_frac)
    ax.set_gid("geo3d-keyplan")
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("위치도 Key plan" if lang == "ko" else "Key plan", fontsize=7, pad=2)
    ax.annotate("N", xy=(0.07, 0.93), xytext=(0.07, 0.8), xycoords="axes fraction",
                ha="center", fontsize=7, weight="bold",
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 0.8})
    return ax


def _key_plan(ax: Any, section: Section, colours: Mapping[str, str], *, road: Any = None) -> None:
    """The section line over the pipes near it, a scale bar, and the view around it."""
    near = section.nearby
    if len(near):
        cols = [colours.get(u, UNKNOWN_COLOUR) for u in near["utility"].astype(str)]
        ax.add_collection(_line_collection(near.geometry.to_numpy(), cols, lw=0.8),
                          autolim=False)
    if road is not None:
        ax.add_collection(_line_collection(np.array([road], dtype=object), ["#999999"], lw=3,
                                           alpha=0.4, zorder=0), autolim=False)
    xy = shapely.get_coordinates(section.line)
    cx, cy = section.line.centroid.x, section.line.centroid.y
    r = max(section.length_m * 0.9, 25.0)
    ax.set_xlim(cx - r, cx + r)
    ax.set_ylim(cy - r, cy + r)
    ax.plot(xy[:, 0], xy[:, 1], color="#c00000", lw=1.8, zorder=5)
    a, b = _end_names(section.name)
    ax.annotate(a, xy[0], fontsize=8, weight="bold", color="#c00000", ha="center", va="center",
                xytext=(-7, 0), textcoords="offset points")
    ax.annotate(b, xy[-1], fontsize=8, weight="bold", color="#c00000", ha="center",
                va="center", xytext=(7, 0), textcoords="offset points")
    bar = _nice(r * 0.5)
    x0, y0 = cx + r * 0.35, cy - r * 0.9
    ax.plot([x0, x0 + bar], [y0, y0], color="black", lw=2, solid_capstyle="butt")
    ax.text(x0 + bar / 2, y0 + r * 0.03, f"{bar:g} m", fontsize=5.5, ha="center", va="bottom")


def _line_collection(geoms: Any, colours: Sequence[str], **kwargs: Any) -> Any:
    """One LineCollection for many (multi)lines, coloured per geometry (no GeoPandas plot,
    which redraws the whole figure)."""
    from matplotlib.collections import LineCollection

    parts, gi = shapely.get_parts(np.asarray(geoms, dtype=object), return_index=True)
    coords, pi = shapely.get_coordinates(parts, return_index=True)
    segs = np.split(coords, np.flatnonzero(np.diff(pi)) + 1) if len(coords) else []
    return LineCollection(segs, colors=[colours[int(i)] for i in gi], **kwargs)


def _end_names(name: str) -> tuple[str, str]:
    """End marks from a section name: "A-A'" → ("A", "A'"), else ("S", "E")."""
    token = name.split()[-1] if name else ""
    if "-" in token:
        a, b = token.split("-", 1)
        if a and b.rstrip("'") == a:
            return a, b
    return ("S", "E")


def plot_section_sheet(
    section: Section,
    *,
    fig: Any = None,
    title: str | None = None,
    project: str = "",
    location: str = "",
    author: str = "",
    checker: str = "",
    date: str | _dt.date | None = None,
    sources: Mapping[str, str] | None = None,
    sheet: tuple[int, int] = (1, 1),
    paper: str = "A3",
    palette: str | Mapping[str, str] = "korean",
    exaggeration: int | None = None,
    scale: int | None = None,
    lang: str = "ko",
    road: Any = None,
) -> tuple[Any, Any]:
    """Lay out a whole sheet (section, scale bars, legend, key plan, title block).

    Parameters are those of :func:`section_to_pdf`; ``fig`` reuses a figure: one that holds a
    sheet from this function keeps its axes, legend, frame and title block and gets the new
    page's content (as in an atlas); any other figure is cleared first.

    Returns
    -------
    (Figure, Axes)
        The figure and the section's axes.
    """
    if paper not in PAPER_MM:
        msg = f"unknown paper {paper!r}; valid: {', '.join(PAPER_MM)}"
        raise InputError(msg)
    with _sheet_rc():
        return _plot_section_sheet(section, fig=fig, title=title, project=project,
                                   location=location, author=author, checker=checker, date=date,
                                   sources=sources, sheet=sheet, paper=paper, palette=palette,
                                   exaggeration=exaggeration, scale=scale, lang=lang, road=road)


_STANDARD_UTILITIES = ("water", "sewer", "power", "telecom", "gas", "heat")


def _artists(ax: Any) -> list[Any]:
    """Everything drawn into an axes (not its own spines, axes and title)."""
    return [*ax.lines, *ax.patches, *ax.texts, *ax.collections, *ax.images, *ax.artists,
            *ax.tables]


class _Sheet:
    """A sheet figure's axes and the artists every page shares, kept on the figure between
    pages (an atlas reuses one figure: its axes, ticks, legend, key-plan furniture, frame and
    title block are made once and only the page's own content is drawn anew)."""

    def __init__(self, fig: Any, paper: str, colours: Mapping[str, str], lang: str,
                 extra: tuple[str, ...]) -> None:
        size = PAPER_MM[paper]
        fig.clear()
        fig.set_size_inches(size[0] / _MM_PER_INCH, size[1] / _MM_PER_INCH)
        self.key = self._key(fig, paper, colours, lang, extra)
        self.size = size
        self.lay = _layout(size)
        self.pax = paper_axes(fig, size)
        draw_frame(self.pax, size)
        self.ax = fig.add_axes(_rect_frac(self.lay["main"], size))
        self.ax.set_gid("geo3d-section")
        _axis_furniture(self.ax, lang)
        _legend(fig, _rect_frac(self.lay["legend"], size), colours,
                [*_STANDARD_UTILITIES, *extra], lang)
        self.kax = _key_plan_axes(fig, _rect_frac(self.lay["key"], size), lang)
        self.static = {id(a) for ax in (self.pax, self.kax) for a in _artists(ax)}
        self.title_block: TitleBlock | None = None
        self.axes = list(fig.axes)

    @staticmethod
    def _key(fig: Any, paper: str, colours: Mapping[str, str], lang: str,
             extra: tuple[str, ...]) -> tuple[Any, ...]:
        return (paper, tuple(sorted(colours.items())), lang, extra, float(fig.dpi))

    @classmethod
    def on(cls, fig: Any, paper: str, colours: Mapping[str, str], lang: str,
           extra: tuple[str, ...]) -> _Sheet:
        """The figure's sheet, ready for a new page (made anew when the figure was changed
        since, or for another paper, palette, language or legend)."""
        sheet = getattr(fig, "_geo3d_sheet", None)
        if (isinstance(sheet, _Sheet) and sheet.key == cls._key(fig, paper, colours, lang, extra)
                and fig.axes == sheet.axes):
            sheet.new_page()
            return sheet
        sheet = cls(fig, paper, colours, lang, extra)
        fig._geo3d_sheet = sheet
        return sheet

    def new_page(self) -> None:
        """Take off what the last page drew (the section, its tables, notes, key-plan line)."""
        keep = self.static | {id(a) for a in (self.title_block.artists if self.title_block
                                              else ())}
        for ax in (self.pax, self.kax):
            for a in _artists(ax):
                if id(a) not in keep:
                    a.remove()
        for a in _artists(self.ax):
            a.remove()
        self.ax.set_position(_rect_frac(self.lay["main"], self.size))

    def draw_title_block(self, rows: Sequence[tuple[str, str]], *, title: str,
                         sheet: tuple[int, int]) -> None:
        """The title block: its values updated in place when its layout is the last page's."""
        rect = self.lay["title"]
        tb = self.title_block
        if tb is not None and tb.layout == title_block_layout(rect, rows):
            update_title_block(tb, rows, title=title, sheet=sheet)
            return
        if tb is not None:
            for a in tb.artists:
                a.remove()
        self.title_block = draw_title_block(self.pax, rect, rows, title=title, sheet=sheet)


def _plot_section_sheet(section: Section, *, fig: Any, title: str | None, project: str,
                        location: str, author: str, checker: str,
                        date: str | _dt.date | None, sources: Mapping[str, str] | None,
                        sheet: tuple[int, int], paper: str, palette: str | Mapping[str, str],
                        exaggeration: int | None, scale: int | None, lang: str,
                        road: Any) -> tuple[Any, Any]:
    size = PAPER_MM[paper]
    colours = get_palette(palette)
    if fig is None:
        fig = _new_figure(size)
    present = sorted(set(section.crossings["utility"].astype(str))) if len(section.crossings) else []
    extra = tuple(u for u in present if u not in _STANDARD_UTILITIES)
    page = _Sheet.on(fig, paper, colours, lang, extra)
    lay, pax, ax = page.lay, page.pax, page.ax
    _plot_section(section, ax=ax, exaggeration=exaggeration, scale=scale, colours=colours,
                  lang=lang, fontsize=6.5, furniture=False)
    s, e = ax.geo3d_scale
    # trim the drawing to what it holds (same scale), at the top of the main box; the scale
    # bars and the crossing table follow right under it
    mx, my, mw, mh = lay["main"]
    need = min(mh, max(ax.geo3d_top_mm + 6.0, 60.0))
    y0 = ax.get_ylim()[0]
    ax.set_ylim(y0, y0 + need * s / (1000.0 * e))
    main = (mx, my + mh - need, mw, need)
    tx, ty, tw, th = lay["table"]
    table_rect = (tx, max(ty, main[1] - 30.0 - th), tw, th)
    ax.set_position(_rect_frac(main, size))
    ko = lang == "ko"
    name = section.name or ("횡단면" if ko else "Section")
    hx, hy, _, hh = lay["header"]
    pax.text(hx + 4, hy + hh / 2, f"{'횡단면도' if ko else 'Cross-section'}  {name}", fontsize=13,
             weight="bold", va="center")
    pax.text(lay["main"][0] + lay["main"][2], hy + hh / 2,
             f"{'수평' if ko else 'H'} 1:{s}   {'수직' if ko else 'V'} 1:{s / e:g}   V:H = 1:{e}",
             fontsize=9, va="center", ha="right", gid="geo3d-exaggeration")
    _scale_bars(pax, main, s, e, lang)
    _key_plan(page.kax, section, colours, road=road)
    # notes under the section: violations and counts
    notes = _wrap(_notes(section, lang), int((main[2] - 90.0) / 1.2))
    notes = "\n".join(notes.splitlines()[:3])
    pax.text(main[0] + 90, main[1] - 21.0, notes, fontsize=5.8, va="center",
             ha="left", color="#c00000" if len(section.violations) else "#333333",
             gid="geo3d-notes")
    _crossing_table(pax, table_rect, section, lang)
    when = date if isinstance(date, str) else (date or _dt.date.today()).isoformat()
    src = dict(section.sources)
    if sources:
        src.update(sources)
    src_text = "\n".join(_wrap(f"{k}: {v}", 62) for k, v in list(src.items())[:3]) or "-"
    rows = [
        ("사업명 Project" if ko else "Project", project or "-"),
        ("위치 Location" if ko else "Location", location or "-"),
        ("작성 / 검토" if ko else "Drawn / checked", f"{author or '-'} / {checker or '-'}"),
        ("날짜 Date" if ko else "Date", when),
        ("축척 Scale" if ko else "Scale", f"H 1:{s}  V 1:{s / e:g}  (A{paper[-1]})"),
        ("자료 Sources" if ko else "Sources", src_text),
    ]
    page.draw_title_block(rows, title=title or f"{'횡단면도' if ko else 'Section'} {name}",
                          sheet=sheet)
    return fig, ax


def _crossing_table(paper_ax: Any, rect: tuple[float, float, float, float], section: Section,
                    lang: str) -> None:
    """The crossings as a table under the drawing: the numbers of the CSV, column per pipe."""
    from matplotlib.collections import LineCollection

    ko = lang == "ko"
    x, y, w, h = rect
    cr = section.crossings
    heads = (["측점 STA (m)", "관종 Utility", "규격 Size (mm)", "재질 Material", "설치 Year",
              "토피 Cover (m)", "관상단 EL top", "관중심 EL centre"] if ko else
             ["STA (m)", "Utility", "Size (mm)", "Material", "Year", "Cover (m)", "Top EL",
              "Centre EL"])
    n_rows = len(heads)
    row_h = h / n_rows
    head_w = 26.0
    max_cols = max(int((w - head_w) / 11.0), 1)
    show = cr.iloc[:max_cols]
    ncol = max(len(show), 1)
    col_w = min((w - head_w) / ncol, 24.0)
    fs = 5.5 if col_w >= 14 else 4.8
    right = x + head_w + col_w * len(show)
    # the grid: one collection of rules (thick outer, thin inner)
    segs, widths = [], []
    for k in range(n_rows + 1):  # grid rows
        yy = y + h - k * row_h
        segs.append([(x, yy), (max(right, x + head_w), yy)])
        widths.append(0.6 if k in (0, n_rows) else 0.3)
    for j in range(len(show) + 1):  # grid columns
        xx = x + head_w + j * col_w
        segs.append([(xx, y), (xx, y + h)])
        widths.append(0.3)
    segs.append([(x, y), (x, y + h)])
    widths.append(0.6)
    paper_ax.add_collection(LineCollection(segs, colors="black", linewidths=widths,
                                           capstyle="projecting", joinstyle="round"),
                            autolim=False)
    for k, head in enumerate(heads):
        paper_ax.text(x + 1.2, y + h - (k + 0.5) * row_h, head, fontsize=5.2, va="center",
                      ha="left")
    for j in range(len(show)):  # one column per crossing
        r = show.iloc[j]
        util = UTILITY_NAMES.get(str(r["utility"]), (str(r["utility"]),) * 2)
        if r["shape"] == "box" and pd.notna(r["width_mm"]):
            size_s = f"{r['width_mm']:.0f}×{r['height_mm']:.0f}"
        else:
            size_s = f"{r['diameter_mm']:.0f}" if pd.notna(r["diameter_mm"]) else "?"
        mat = (r["material_raw"] if isinstance(r["material_raw"], str) and r["material_raw"]
               else _MATERIAL_SHORT.get(str(r["material"]), "-"))
        star = "*" if bool(r["depth_assumed"]) else ""
        vals = [f"{r['chainage_m']:.2f}", util[0] if ko else util[1], size_s, mat,
                "-" if pd.isna(r["install_year"]) else f"{int(r['install_year'])}",
                "-" if pd.isna(r["cover_m"]) else f"{r['cover_m']:.2f}{star}",
                f"{r['top_z']:.2f}", f"{r['centre_z']:.2f}"]
        bad = bool(r["violation"])
        for k, v in enumerate(vals):
            paper_ax.text(x + head_w + (j + 0.5) * col_w, y + h - (k + 0.5) * row_h, v,
                          fontsize=fs, va="center", ha="center",
                          color="#c00000" if bad and k == 5 and "cover" in r["violation"]
                          else "black", gid="geo3d-table")
    if len(cr) > len(show):
        paper_ax.text(right + 1.5, y + h / 2, f"+{len(cr) - len(show)}", fontsize=6,
                      va="center")


def _notes(section: Section, lang: str) -> str:
    ko = lang == "ko"
    n = len(section.crossings)
    head = (f"횡단 관로 {n}개 · 연장 {section.length_m:.1f} m" if ko
            else f"{n} crossings · length {section.length_m:.1f} m")
    if not len(section.violations):
        return head + (" · 기준 위반 없음" if ko else " · no rule violations")
    msgs = "; ".join(section.violations["message"].astype(str).tolist()[:4])
    more = len(section.violations) - 4
    return head + f" · {'위반' if ko else 'violations'}: {msgs}" + (f" (+{more})" if more > 0 else "")


def _suffix(path: Path) -> str:
    suf = path.suffix.lower()
    if suf not in _FORMATS:
        msg = f"unsupported sheet format {path.suffix!r}; use one of {', '.join(_FORMATS)}"
        raise InputError(msg)
    return suf


def section_to_pdf(
    section: Section,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    project: str = "",
    location: str = "",
    author: str = "",
    checker: str = "",
    date: str | _dt.date | None = None,
    sources: Mapping[str, str] | None = None,
    sheet: tuple[int, int] = (1, 1),
    paper: str = "A3",
    palette: str | Mapping[str, str] = "korean",
    exaggeration: int | None = None,
    scale: int | None = None,
    lang: str = "ko",
    dpi: float = 200.0,
    overwrite: bool = False,
) -> Path:
    """Write a section sheet as PDF (or PNG/SVG by the path's suffix), atomically.

    Parameters
    ----------
    section : Section
        From :func:`~geo3d.underground.cross_section`.
    path : path
        ``.pdf``, ``.png`` or ``.svg``.
    title, project, location, author, checker, date : str
        Title block fields (``date`` default today).
    sources : mapping, optional
        Extra "data source: description and date" lines (over ``section.sources``).
    sheet : (n, N)
        Sheet number.
    paper : {"A3", "A4", "A2", "A1"}
        Landscape paper size.
    palette, exaggeration, scale, lang
        See :func:`plot_section`.
    dpi : float
        Resolution of PNG output.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    suf = _suffix(path)
    check_can_write(path, overwrite=overwrite)
    with _sheet_rc():
        fig, _ = plot_section_sheet(section, title=title, project=project, location=location,
                                    author=author, checker=checker, date=date, sources=sources,
                                    sheet=sheet, paper=paper, palette=palette,
                                    exaggeration=exaggeration, scale=scale, lang=lang)
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format=suf[1:], dpi=dpi if suf == ".png" else None,
                        metadata=_metadata(suf, title or section.name, author))
    logger.info("section_to_pdf: %s (%d crossings)", path, len(section.crossings))
    return path


def _metadata(suf: str, title: str, author: str) -> dict[str, Any] | None:
    if suf == ".pdf":
        # fixed dates keep repeated runs byte-identical
        return {"Title": title, "Author": author or None, "Creator": "geo3d",
                "CreationDate": None, "ModDate": None}
    if suf == ".svg":
        return {"Date": None}
    return None


# --------------------------------------------------------------------------------------------
# atlas
# --------------------------------------------------------------------------------------------
def _road_line(road: Any, road_name: str | None) -> tuple[shapely.LineString, str, float | None]:
    width = None
    name = ""
    if isinstance(road, str | os.PathLike):
        road = gpd.read_file(road)
    if isinstance(road, gpd.GeoDataFrame):
        if road_name is not None:
            if "road_name" not in road:
                msg = "the road layer has no road_name column to select from"
                raise InputError(msg, cli="the --road layer has no road_name column for "
                                 "--road-name to select from")
            road = road[road["road_name"].astype(str) == road_name]
            if road.empty:
                msg = f"no road named {road_name!r} in the road layer"
                raise InputError(msg, cli=f"no road named {road_name!r} (--road-name) in the "
                                 "--road layer")
        if len(road) != 1:
            names = (", ".join(road["road_name"].astype(str).head(12)) if "road_name" in road
                     else "")
            listed = f": {names}" if names else ""
            msg = f"the road layer has {len(road)} lines; choose one with road_name=…{listed}"
            raise InputError(msg, cli=(f"the --road layer has {len(road)} lines; choose one "
                                       f"with --road-name NAME{listed}"))
        if "width_m" in road:
            width = float(road["width_m"].iloc[0])
        if "road_name" in road:
            name = str(road["road_name"].iloc[0])
        geom = road.geometry.iloc[0]
        if isinstance(geom, shapely.MultiLineString):
            geom = shapely.line_merge(geom)
        return as_line(geom), name, width
    return as_line(road), name, width


def section_atlas(
    pipes: gpd.GeoDataFrame,
    road: Any,
    *,
    path: str | os.PathLike[str],
    step: float = 20.0,
    length: float = 30.0,
    ground: Any = None,
    groundwater: Any = None,
    road_name: str | None = None,
    road_width: float | None = None,
    pit: Any = None,
    width: float = 2.0,
    default_cover: float | Mapping[str, float] | None = None,
    project: str = "",
    location: str = "",
    author: str = "",
    checker: str = "",
    date: str | _dt.date | None = None,
    paper: str = "A3",
    palette: str | Mapping[str, str] = "korean",
    exaggeration: int | None = None,
    scale: int | None = None,
    lang: str = "ko",
    overwrite: bool = False,
    structures: Any = None,
    groundwater_fields: Mapping[str, str] | None = None,
) -> list[Section]:
    """Sections every ``step`` m along a road, as one multi-page PDF with a key map first.

    The pipes near the road are placed in 3D once (:func:`~geo3d.underground.section.sections_along`);
    one figure is reused for every page and the PDF is written atomically.

    Parameters
    ----------
    pipes : GeoDataFrame
        Canonical pipes (2D with depths, or 3D).
    road : LineString, GeoDataFrame or path
        The road centreline; a layer with several roads needs ``road_name``. Its ``width_m``
        (when present) feeds the minimum-cover rules unless ``road_width`` is given.
    path : path
        The ``.pdf`` to write.
    step, length : float
        Distance between cuts and length of each cut (m).
    ground, groundwater, pit, width, default_cover, structures, groundwater_fields
        See :func:`~geo3d.underground.cross_section`.
    project, location, author, checker, date, paper, palette, exaggeration, scale, lang
        See :func:`section_to_pdf`; a fixed ``scale``/``exaggeration`` makes the pages
        comparable.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    list of Section
        The sections, in page order (page 1 is the key map).
    """
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        msg = f"an atlas is a multi-page PDF; give a .pdf path, not {path.name!r}"
        raise InputError(msg)
    check_can_write(path, overwrite=overwrite)
    line, rname, rwidth = _road_line(road, road_name)
    cuts = section_lines(line, step=step, length=length)
    cuts.crs = pipes.crs
    label = rname or "road"
    cuts["name"] = [f"{label} {n}" for n in cuts["name"]]
    sections = sections_along(pipes, cuts, ground=ground, groundwater=groundwater, pit=pit,
                              width=width, default_cover=default_cover,
                              road_width=road_width if road_width is not None else rwidth,
                              structures=structures, groundwater_fields=groundwater_fields)
    _mpl()
    from matplotlib.backends.backend_pdf import PdfPages

    from .._progress import progress

    n_pages = len(sections) + 1
    with _sheet_rc(), atomic_path(path, overwrite=overwrite) as tmp:
        size = PAPER_MM.get(paper, PAPER_MM["A3"])
        fig = _new_figure(size)
        with PdfPages(tmp, metadata={"Title": f"횡단면도 atlas {label}", "Creator": "geo3d",
                                     "CreationDate": None, "ModDate": None}) as pdf:
            _atlas_key_map(fig, line, cuts, sections, pipes, palette=palette, paper=paper,
                           title=f"{'횡단면 색인도' if lang == 'ko' else 'Key map'} {label}",
                           project=project, location=location, author=author,
                           checker=checker, date=date, n_pages=n_pages, lang=lang)
            pdf.savefig(fig)
            for k, sec in enumerate(progress(sections, total=len(sections), desc="sheets",
                                             unit="sheet")):
                station = float(cuts["station_m"].iloc[k])
                plot_section_sheet(sec, fig=fig, project=project, location=location,
                                   author=author, checker=checker, date=date,
                                   sheet=(k + 2, n_pages), paper=paper, palette=palette,
                                   exaggeration=exaggeration, scale=scale, lang=lang,
                                   road=line,
                                   title=f"{sec.name} (STA {station:.1f} m)")
                pdf.savefig(fig)
    logger.info("section_atlas: %s, %d sections every %.1f m along %s", path, len(sections),
                step, label)
    return sections


def _atlas_key_map(fig: Any, line: shapely.LineString, cuts: gpd.GeoDataFrame,
                   sections: Sequence[Section], pipes: gpd.GeoDataFrame, *,
                   palette: str | Mapping[str, str], paper: str, title: str, project: str,
                   location: str, author: str, checker: str, date: str | _dt.date | None,
                   n_pages: int, lang: str) -> None:
    size = PAPER_MM.get(paper, PAPER_MM["A3"])
    colours = get_palette(palette)
    fig.clear()
    fig.set_size_inches(size[0] / _MM_PER_INCH, size[1] / _MM_PER_INCH)
    lay = _layout(size)
    pax = paper_axes(fig, size)
    draw_frame(pax, size)
    mx, my, mw, mh = lay["main"]
    ax = fig.add_axes(_rect_frac((mx - 14, my - 20, mw + 14, mh + 4), size))
    ax.set_gid("geo3d-keymap")
    region = line.buffer(60.0)
    near = pipes.iloc[np.sort(pipes.sindex.query(region, predicate="intersects"))]
    if len(near):
        cols = [colours.get(u, UNKNOWN_COLOUR) for u in near["utility"].astype(str)]
        geoms = shapely.simplify(shapely.force_2d(near.geometry.to_numpy()), 0.01)
        ax.add_collection(_line_collection(geoms, cols, lw=0.6))
    xy = shapely.get_coordinates(line)
    ax.plot(xy[:, 0], xy[:, 1], color="#888888", lw=6, alpha=0.35, zorder=1)
    for k, g in enumerate(cuts.geometry):  # one per cut
        c = shapely.get_coordinates(g)
        bad = k < len(sections) and len(sections[k].violations) > 0
        ax.plot(c[:, 0], c[:, 1], color="#c00000" if bad else "black", lw=0.9, zorder=5)
        ax.annotate(str(k + 2), c[0], fontsize=5.5, ha="center", va="center",
                    xytext=(0, 4), textcoords="offset points", zorder=6)
    ax.set_aspect("equal", adjustable="datalim")
    ax.tick_params(labelsize=5)
    ax.set_title(title, fontsize=10)
    n_bad = sum(len(s.violations) > 0 for s in sections)
    note = (f"단면 {len(sections)}개 (도면 2–{n_pages}), 간격 "
            f"{(cuts['station_m'].diff().median() if len(cuts) > 1 else 0):.0f} m; "
            f"기준 위반 단면 {n_bad}개 (적색)" if lang == "ko"
            else f"{len(sections)} sections (sheets 2–{n_pages}); {n_bad} with violations (red)")
    hx, hy, _, hh = lay["header"]
    pax.text(hx + 4, hy + hh / 2, note, fontsize=8, va="center")
    present = sorted(set(near["utility"].astype(str))) if len(near) else []
    _legend(fig, _rect_frac(lay["legend"], size), colours, present, lang)
    when = date if isinstance(date, str) else (date or _dt.date.today()).isoformat()
    rows = [("사업명 Project", project or "-"), ("위치 Location", location or "-"),
            ("작성 / 검토", f"{author or '-'} / {checker or '-'}"), ("날짜 Date", when),
            ("축척 Scale", "-"), ("자료 Sources", ", ".join(sorted(
                {str(v) for v in near.get("source_layer", pd.Series(dtype=str)).dropna()}))[:60]
                or "-")]
    draw_title_block(pax, lay["title"], rows, title=title, sheet=(1, n_pages))
