"""Hangul text in matplotlib: NanumGothic (shipped by koreanize-matplotlib), embedded in PDFs.

:func:`register_hangul_font` registers the font file with matplotlib's font manager (without
importing ``koreanize_matplotlib`` itself, which changes global settings on import) and changes
no setting: geo3d's own drawings apply :data:`HANGUL_RC` inside ``matplotlib.rc_context``.
:func:`use_hangul_font` is for *your* figures: it registers the font and sets, for the whole
session, ``font.family``, ``axes.unicode_minus = False`` (the Unicode minus is missing from
the font) and ``pdf.fonttype = ps.fonttype = 42`` (TrueType embedded, so PDFs show and search
Hangul).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .._compat import import_optional
from ..errors import MissingDependencyError

__all__ = ["FONT_NAME", "HANGUL_RC", "hangul_font_path", "register_hangul_font",
           "use_hangul_font", "with_hangul_font"]

logger = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])

FONT_NAME = "NanumGothic"
"""Family name of the Hangul font geo3d uses."""

#: rc settings for drawing Hangul (give them to ``matplotlib.rc_context``).
HANGUL_RC: dict[str, object] = {"font.family": [FONT_NAME, "DejaVu Sans"],
                                "axes.unicode_minus": False, "pdf.fonttype": 42,
                                "ps.fonttype": 42}

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


def register_hangul_font() -> str:
    """Make NanumGothic known to matplotlib, changing no rc setting; returns its family name.

    Examples
    --------
    >>> import matplotlib
    >>> before = dict(matplotlib.rcParams)
    >>> register_hangul_font()
    'NanumGothic'
    >>> dict(matplotlib.rcParams) == before
    True
    """
    global _done
    import_optional("matplotlib", extra="viz")
    if not _done:
        from matplotlib import font_manager

        for ttf in sorted(hangul_font_path().parent.glob("*.ttf")):
            font_manager.fontManager.addfont(str(ttf))
        _done = True
        logger.debug("register_hangul_font: registered %s", hangul_font_path().parent)
        # embedding NanumGothic makes fontTools log harmless "TSI* NOT subset" lines
        logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    return FONT_NAME


def use_hangul_font() -> str:
    """Make matplotlib draw Hangul with NanumGothic and embed it in PDF/PS output.

    This changes the session's rcParams (for your own figures); geo3d's functions do not call
    it. Safe to call repeatedly. Returns the font family name.

    Examples
    --------
    >>> use_hangul_font()
    'NanumGothic'
    >>> import matplotlib
    >>> matplotlib.rcParams["pdf.fonttype"]
    42
    """
    mpl = import_optional("matplotlib", extra="viz")
    register_hangul_font()
    family = mpl.rcParams["font.family"]
    if not (isinstance(family, list) and family and family[0] == FONT_NAME):
        mpl.rcParams["font.family"] = [FONT_NAME, "DejaVu Sans"]
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["pdf.fonttype"] = 42
    mpl.rcParams["ps.fonttype"] = 42
    return FONT_NAME


def with_hangul_font(func: _F) -> _F:
    """Run ``func`` with :data:`HANGUL_RC` inside ``matplotlib.rc_context`` (a decorator for
    geo3d's drawing functions): texts it creates get the Hangul font, and the session's own
    rcParams are the same afterwards.

    Examples
    --------
    >>> import matplotlib
    >>> @with_hangul_font
    ... def family():
    ...     return matplotlib.rcParams["font.family"][0]
    >>> with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
    ...     print(family(), "/", matplotlib.rcParams["font.family"][0])
    NanumGothic / DejaVu Sans
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        mpl = import_optional("matplotlib", extra="viz")
        register_hangul_font()
        with mpl.rc_context(HANGUL_RC):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
