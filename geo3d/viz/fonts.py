"""Hangul text in matplotlib: NanumGothic (shipped by koreanize-matplotlib), embedded in PDFs.

:func:`use_hangul_font` registers the font file with matplotlib's font manager (without
importing ``koreanize_matplotlib`` itself, which changes global settings on import) and sets
``font.family``, ``axes.unicode_minus = False`` (the Unicode minus is missing from the font)
and ``pdf.fonttype = ps.fonttype = 42`` (TrueType embedded, so PDFs show and search Hangul).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from .._compat import import_optional
from ..errors import MissingDependencyError

__all__ = ["FONT_NAME", "hangul_font_path", "use_hangul_font"]

logger = logging.getLogger(__name__)

FONT_NAME = "NanumGothic"
"""Family name of the Hangul font geo3d uses."""

_done = False


def hangul_font_path() -> Path:
    """Path of ``NanumGothic.ttf`` inside the koreanize-matplotlib package.

    Examples
    --------
    >>> hangul_font_path().name
    'NanumGothic.ttf'
    """
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        msg = ("the Hangul font comes from koreanize-matplotlib; install it with "
               "pip install 'geo3d[viz]' (or pip install koreanize-matplotlib)")
        raise MissingDependencyError(msg)
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / "NanumGothic.ttf"
    if not path.exists():
        msg = f"{path} is missing; reinstall koreanize-matplotlib"
        raise MissingDependencyError(msg)
    return path


def use_hangul_font() -> str:
    """Make matplotlib draw Hangul with NanumGothic and embed it in PDF/PS output.

    Safe to call repeatedly. Returns the font family name.

    Examples
    --------
    >>> use_hangul_font()
    'NanumGothic'
    >>> import matplotlib
    >>> matplotlib.rcParams["pdf.fonttype"]
    42
    """
    global _done
    mpl = import_optional("matplotlib", extra="viz")
    if not _done:
        from matplotlib import font_manager

        for ttf in sorted(hangul_font_path().parent.glob("*.ttf")):
            font_manager.fontManager.addfont(str(ttf))
        _done = True
        logger.debug("use_hangul_font: registered %s", hangul_font_path().parent)
    family = mpl.rcParams["font.family"]
    if not (isinstance(family, list) and family and family[0] == FONT_NAME):
        mpl.rcParams["font.family"] = [FONT_NAME, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["pdf.fonttype"] = 42
    mpl.rcParams["ps.fonttype"] = 42
    # embedding NanumGothic makes fontTools log harmless "TSI* NOT subset" lines
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    return FONT_NAME
