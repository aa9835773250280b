"""Input checks shared by every reader and command (one place, like OSMnx's ``_validate.py``).

Each check raises a :class:`~geo3d.errors.Geo3DError` whose message has a Python form and a
command-line form (:func:`geo3d.errors.two_forms`), so the same check reads right in a notebook
and on the command line.

Examples
--------
>>> require_metric_crs("EPSG:5186", what="pipes").to_epsg()
5186
>>> require_metric_crs("EPSG:3547", what="pipes")
Traceback (most recent call last):
...
geo3d.errors.CRSError: pipes are in EPSG:3547, whose unit is the US survey foot, not the metre; ...
>>> is_metric("EPSG:4326"), is_metric("EPSG:32616")
(False, True)
"""

from __future__ import annotations

from typing import Any

from pyproj import CRS

from .errors import CRSError, two_forms

__all__ = ["crs_label", "is_metric", "require_metric_crs", "require_same_crs"]


def crs_label(crs: Any) -> str:
    """``EPSG:nnnn`` when the CRS has a code, else its name; ``no CRS`` for None.

    Examples
    --------
    >>> crs_label(4326), crs_label(None)
    ('EPSG:4326', 'no CRS')
    """
    if crs is None:
        return "no CRS"
    c = CRS.from_user_input(crs)
    epsg = c.to_epsg()
    return f"EPSG:{epsg}" if epsg else c.name


def is_metric(crs: Any) -> bool:
    """True for a projected CRS whose horizontal unit is the metre."""
    if crs is None:
        return False
    c = CRS.from_user_input(crs)
    if not c.is_projected or not c.axis_info:
        return False
    return abs(c.axis_info[0].unit_conversion_factor - 1.0) < 1e-12


def require_metric_crs(crs: Any, *, what: str, name: str | None = None) -> CRS:
    """The CRS as a :class:`pyproj.CRS`, or a :class:`CRSError` when lengths would not be metres.

    Parameters
    ----------
    crs : CRS-like or None
        The CRS to check (e.g. ``frame.crs``).
    what : str
        What it belongs to, for the message (``"pipes"``, ``"areas"``, ``"the pit"``).
    name : str, optional
        The Python variable to show in the fix (default: ``what``'s first word).

    Raises
    ------
    CRSError
        No CRS, a geographic CRS, or a projected CRS in feet (or any unit other than metres).
    """
    var = name or what.split()[-1]
    if crs is None:
        problem = f"{what} have no CRS"
    else:
        c = CRS.from_user_input(crs)
        if is_metric(c):
            return c
        if not c.is_projected:
            problem = f"{what} are in a geographic CRS ({crs_label(c)}, degrees), not metres"
        else:
            unit = c.axis_info[0].unit_name if c.axis_info else "unknown unit"
            problem = f"{what} are in {crs_label(c)}, whose unit is the {unit}, not the metre"
    py, cli = two_forms(
        "{p}; lengths need metres: {fix}",
        p=(problem, problem),
        fix=(f"{var}.to_crs('EPSG:5186') (or the local UTM zone) first, or set the CRS the "
             f"data are really in with {var}.set_crs(..., allow_override=True)",
             "give the CRS the file's coordinates are in with --crs (e.g. --crs EPSG:5186); "
             "geo3d reprojects non-metric CRSs to metres"),
    )
    raise CRSError(py, cli=cli)


def require_same_crs(a: Any, b: Any, *, what_a: str, what_b: str) -> None:
    """A :class:`CRSError` when two frames' CRSs differ (both must be stated).

    Examples
    --------
    >>> require_same_crs("EPSG:5186", "EPSG:5186", what_a="pipes", what_b="pit")
    >>> require_same_crs("EPSG:5186", "EPSG:5179", what_a="pipes", what_b="pit")
    Traceback (most recent call last):
    ...
    geo3d.errors.CRSError: pipes (EPSG:5186) and pit (EPSG:5179) are in different CRSs; ...
    """
    ca, cb = CRS.from_user_input(a), CRS.from_user_input(b)
    if ca.equals(cb):
        return
    head = f"{what_a} ({crs_label(ca)}) and {what_b} ({crs_label(cb)}) are in different CRSs"
    py, cli = two_forms("{h}; {fix}", h=(head, head),
                        fix=(f"reproject one: {what_b}.to_crs({what_a}.crs)",
                             f"save the {what_b} file in {crs_label(ca)}, or state its real CRS "
                             "in the file"))
    raise CRSError(py, cli=cli)
