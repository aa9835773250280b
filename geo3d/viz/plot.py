"""Static choropleth maps of statistics for reports (matplotlib, Hangul labels).

Examples
--------
>>> import geopandas as gpd, pandas as pd, shapely
>>> from geo3d.stats import aging_statistics
>>> areas = gpd.GeoDataFrame({"id": ["A", "B"], "adm_nm": ["서울 동대문구 제기동", "서울 동대문구 용신동"]},
...     geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
...     crs="EPSG:5186")
>>> pipes = gpd.GeoDataFrame({"utility": ["water"], "install_year": pd.array([1980])},
...     geometry=[shapely.LineString([(0, 5), (1500, 5)])], crs="EPSG:5186")
>>> stats = aging_statistics(pipes, areas, area_id="id", reference_date=2025)
>>> fig, ax = plot_statistics(stats, areas, area_id="id")
>>> sorted(t.get_text() for t in ax.texts if t.get_text().endswith("동"))
['용신동', '제기동']
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._compat import import_optional
from ..errors import InputError
from ..io.atomic import atomic_path
from ..stats.aging import areas_with_statistics
from .fonts import FONT_NAME, with_hangul_font

__all__ = ["COLUMN_LABELS", "figure_to_file", "plot_statistics"]

logger = logging.getLogger(__name__)

COLUMN_LABELS: dict[str, str] = {
    "share_over_threshold": "노후관 비율 (share over threshold)",
    "density_km_per_km2": "관로 밀도 km/km² (density)",
    "length_m": "관로 연장 m (length)",
}
"""Legend titles of the usual columns (Korean and English)."""

_UTILITY_KO = {"water": "상수", "sewer": "하수", "power": "전력", "telecom": "통신",
               "gas": "가스", "heat": "난방"}


def _short_name(name: Any) -> str:
    """The last word of a full 행정동 name (``서울특별시 동대문구 제기동`` → ``제기동``)."""
    text = str(name)
    return text.split()[-1] if text.split() else text


def _nice_length(width_m: float) -> float:
    """A round scale-bar length of about a fifth of ``width_m`` (1, 2 or 5 × 10^k)."""
    target = max(width_m / 5.0, 1e-9)
    k = 10 ** math.floor(math.log10(target))
    return float(max(m * k for m in (1, 2, 5) if m * k <= target))


def _scale_bar(ax: Any, crs: Any) -> None:
    if crs is None or crs.is_geographic:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 0.015 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=8)


def _north_arrow(ax: Any) -> None:
    ax.annotate("N", xy=(0.95, 0.95), xytext=(0.95, 0.84), xycoords="axes fraction",
                ha="center", va="center", fontsize=10, fontweight="bold",
                arrowprops={"facecolor": "black", "width": 3, "headwidth": 9, "headlength": 8})


@with_hangul_font
def plot_statistics(
    stats: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str,
    utility: str | None = None,
    column: str = "share_over_threshold",
    ax: Any = None,
    label: str | None = None,
    labels: bool | None = None,
    cmap: str = "YlOrRd",
    title: str | None = None,
    north_arrow: bool = True,
    scale_bar: bool = True,
) -> tuple[Any, Any]:
    """Choropleth of one statistic per area, with Hangul area names, legend and scale bar.

    Parameters
    ----------
    stats : pandas.DataFrame
        From :func:`geo3d.aging_statistics`; rows are summed over periods
        (:func:`geo3d.stats.areas_with_statistics`).
    areas : geopandas.GeoDataFrame
        The area polygons (projected CRS for a scale bar).
    area_id : str
        Field of ``areas`` matching ``stats["area_id"]``.
    utility : str, optional
        One utility; default all utilities pooled.
    column : str
        ``share_over_threshold`` (default), ``density_km_per_km2``, ``length_m`` or a
        ``share_over_{t}y`` column.
    ax : matplotlib.axes.Axes, optional
        Draw here; default a new figure.
    label : str, optional
        Field of ``areas`` with names to print (its last word is used, so full 행정동 names
        print as ``제기동``); default ``adm_nm`` when present, else ``area_id``.
    labels : bool, optional
        Print names; default only when there are at most 60 areas.
    cmap : str
        Matplotlib colour map.
    title : str, optional
        Default: the utility and the column.
    north_arrow, scale_bar : bool
        Draw a north arrow / a scale bar.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
    """
    import_optional("matplotlib", extra="viz")
    import matplotlib.pyplot as plt

    font = FONT_NAME
    joined = areas_with_statistics(stats, areas, area_id=area_id, utility=utility)
    if column not in joined.columns:
        options = ["length_m", "density_km_per_km2"] + [c for c in joined.columns
                                                         if str(c).startswith("share_over_")]
        msg = f"column {column!r} is not a statistic; choose one of {', '.join(options)}"
        raise InputError(msg)
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 8))
    else:
        fig = ax.figure
    legend_label = COLUMN_LABELS.get(column, column)
    values = joined[column]
    share = column.startswith("share_over_")
    joined.plot(column=column, ax=ax, cmap=cmap, legend=True, edgecolor="0.3", linewidth=0.4,
                vmin=0.0 if share else None, vmax=1.0 if share else None,
                legend_kwds={"label": legend_label, "shrink": 0.6},
                missing_kwds={"color": "0.85", "edgecolor": "0.5", "hatch": "///",
                              "label": "no data"})
    if labels is None:
        labels = len(joined) <= 60
    if labels:
        field = label or ("adm_nm" if "adm_nm" in joined.columns else area_id)
        points = joined.geometry.representative_point()
        for (x, y), name in zip(np.column_stack([points.x, points.y]), joined[field],
                                strict=True):
            ax.text(x, y, _short_name(name), ha="center", va="center", fontsize=8,
                    color="0.1", bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                                       "ec": "none", "alpha": 0.6})
    what = "전체 관로 (all utilities)" if utility is None else \
        f"{_UTILITY_KO.get(utility, utility)} ({utility})"
    year = stats.attrs.get("reference_year")
    # the title Text exists since the axes were made, maybe before the Hangul font was set
    ax.set_title(title or f"{what} — {legend_label}" + (f", {year}" if year and share else ""),
                 fontfamily=[font, "DejaVu Sans"])
    ax.set_axis_off()
    ax.set_aspect("equal")
    if scale_bar:
        _scale_bar(ax, areas.crs)
    if north_arrow:
        _north_arrow(ax)
    logger.info("plot_statistics: %d areas, %s of %s (%d without data)", len(joined), column,
                utility or "all utilities", int(values.isna().sum()))
    return fig, ax


@with_hangul_font
def figure_to_file(fig: Any, path: str | os.PathLike[str], *, overwrite: bool = False,
                   dpi: int = 150) -> Path:
    """Save a matplotlib figure atomically (format from the suffix: .png, .pdf, .svg …).

    Hangul is embedded in PDFs as TrueType (:data:`geo3d.viz.fonts.HANGUL_RC`, applied only
    while saving).

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile, pathlib
    >>> fig, ax = plt.subplots()
    >>> figure_to_file(fig, pathlib.Path(tempfile.mkdtemp()) / "map.png").suffix
    '.png'
    """
    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".").lower())
    logger.info("figure_to_file: %s", path)
    return path
