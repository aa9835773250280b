"""Utility colour palettes for sheets: ``apwa``, ``korean`` and user-defined.

``apwa``
    APWA Uniform Color Code (US one-call marking): electric red, gas/oil/steam yellow,
    communications orange, potable water blue, sewer green, reclaimed water purple. APWA
    gives steam the gas yellow; district heat gets a darker amber here so that the two can be
    told apart on one sheet (our choice).
``korean``
    Colours common on Korean utility maps: power (전력) orange, telecom (통신) purple, gas
    (가스) yellow, water (상수) blue, sewer (하수) green; district heat (지역난방) its own
    brown-red.

A user palette is a dict ``{utility: colour}`` laid over ``korean`` (missing utilities keep
their Korean colour); unknown utilities are grey.

Examples
--------
>>> get_palette("apwa")["power"]
'#e4002b'
>>> get_palette({"gas": "gold"})["gas"], get_palette({"gas": "gold"})["water"]
('gold', '#1f6fd1')
>>> get_palette("kr")
Traceback (most recent call last):
...
geo3d.errors.InputError: unknown palette 'kr'; valid: apwa, korean (or a dict {utility: colour})
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import InputError

__all__ = ["PALETTES", "UNKNOWN_COLOUR", "UTILITY_NAMES", "get_palette"]

#: Colour of a utility that a palette does not name.
UNKNOWN_COLOUR = "#7f7f7f"

PALETTES: dict[str, dict[str, str]] = {
    "apwa": {"power": "#e4002b", "gas": "#ffd100", "telecom": "#ff8200", "water": "#0072ce",
             "sewer": "#00a650", "reclaimed": "#8246af", "heat": "#c98a00", "oil": "#ffd100",
             "lpg": "#ffd100"},
    "korean": {"power": "#f28c00", "telecom": "#8e44ad", "gas": "#f2c500", "water": "#1f6fd1",
               "sewer": "#2e9b3e", "heat": "#a0522d", "oil": "#b8860b", "lpg": "#d4ac0d"},
}
"""Named palettes: utility → colour."""

#: Sheet names of the utilities (Korean, English).
UTILITY_NAMES: dict[str, tuple[str, str]] = {
    "water": ("상수", "Water"), "sewer": ("하수", "Sewer"), "power": ("전력", "Power"),
    "telecom": ("통신", "Telecom"), "gas": ("가스", "Gas"), "heat": ("난방", "Heat"),
    "oil": ("송유", "Oil"), "lpg": ("LPG", "LPG"), "reclaimed": ("재이용수", "Reclaimed"),
}


def get_palette(palette: str | Mapping[str, str] = "korean") -> dict[str, str]:
    """Resolve a palette name or dict to ``{utility: colour}``.

    Raises
    ------
    InputError
        For an unknown palette name (the message lists the valid ones).
    """
    if isinstance(palette, Mapping):
        out = dict(PALETTES["korean"])
        out.update({str(k): str(v) for k, v in palette.items()})
        return out
    if palette not in PALETTES:
        msg = (f"unknown palette {palette!r}; valid: {', '.join(sorted(PALETTES))} "
               "(or a dict {utility: colour})")
        raise InputError(msg)
    return dict(PALETTES[palette])
