"""Sheets: cross-section drawings (횡단면도) as PDF/PNG/SVG, single sheets and atlases.

:func:`plot_section` draws a :class:`~geo3d.underground.section.Section` into an axes at a fixed
scale; :func:`section_to_pdf` writes a whole A3 sheet (title block, legend, key plan, scale
bars); :func:`section_atlas` writes a multi-page PDF of sections along a road. matplotlib is
imported only when a sheet is drawn.
"""

from __future__ import annotations

from .palettes import PALETTES, get_palette
from .section_sheet import (
    EXAGGERATIONS,
    SCALES,
    choose_scale,
    plot_section,
    plot_section_sheet,
    section_atlas,
    section_to_pdf,
)

__all__ = [
    "EXAGGERATIONS",
    "PALETTES",
    "SCALES",
    "choose_scale",
    "get_palette",
    "plot_section",
    "plot_section_sheet",
    "section_atlas",
    "section_to_pdf",
]
