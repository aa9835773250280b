"""Maps: static choropleths for reports (matplotlib), pydeck maps for notebooks, and offline 3D
map pages (:func:`underground_scene`, :func:`market_scene` → :class:`Scene3D`).

matplotlib, koreanize-matplotlib and pydeck are optional (``pip install 'geo3d[viz]'``);
importing this package does not import them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import InputError
from .deck import (
    UTILITY_COLOURS,
    areas_layer,
    deck_to_html,
    offline_view,
    pipes_layer,
    statistics_deck,
    value_colours,
)
from .fonts import use_hangul_font
from .market3d import market_scene, market_scene_from_scan
from .page import Scene3D
from .plot import figure_to_file, plot_statistics
from .underground3d import pipes_in_3d, underground_scene

__all__ = [
    "UTILITY_COLOURS",
    "Scene3D",
    "areas_layer",
    "deck_to_html",
    "figure_to_file",
    "market_scene",
    "market_scene_from_scan",
    "offline_view",
    "pipes_in_3d",
    "pipes_layer",
    "plot_statistics",
    "save_map",
    "statistics_deck",
    "underground_scene",
    "use_hangul_font",
    "value_colours",
]


def save_map(obj: Any, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Save a map atomically: a pydeck ``Deck`` as ``.html``, a matplotlib figure as an image.

    Parameters
    ----------
    obj : pydeck.Deck or matplotlib.figure.Figure
        What to save (a ``(fig, ax)`` tuple from :func:`plot_statistics` works too).
    path : str or Path
        ``.html`` for a Deck; ``.png``, ``.pdf``, ``.svg`` … for a figure.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
    """
    if isinstance(obj, tuple):
        obj = obj[0]
    if type(obj).__name__ == "Deck":
        return deck_to_html(obj, path, overwrite=overwrite)
    if hasattr(obj, "savefig"):
        if Path(path).suffix.lower() in (".html", ".htm"):
            msg = "a matplotlib figure is saved as .png/.pdf/.svg; use statistics_deck for HTML"
            raise InputError(msg)
        return figure_to_file(obj, path, overwrite=overwrite)
    msg = f"cannot save a {type(obj).__name__} as a map; pass a pydeck.Deck or a figure"
    raise InputError(msg)
