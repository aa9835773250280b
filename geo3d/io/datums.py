"""Datums and metric CRSs: Bessel-datum Korean data shifted to GRS80, lengths in metres.

:func:`bessel_fixed` gives a Bessel CRS that PROJ can only ballpark (a ``.prj`` with no datum and
no ``TOWGS84``) the Korean 1985 datum, so that the standard "Korean 1985 to KGD2002 (1)" shift
applies (the same as pyproj's EPSG:5174 → 5186). :func:`to_metric` reprojects a frame whose
CRS is in feet or degrees, or on a Bessel datum, to :func:`metric_crs_for` (a Korea 2000 belt
inside Korea, else the UTM zone), with a warning that names both CRSs.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer
from pyproj.crs import ProjectedCRS

from .._checks import crs_label, is_metric
from ..errors import CRSError, two_forms

__all__ = ["KOREA_BELTS", "bessel_fixed", "is_bessel", "metric_crs_for", "to_metric"]

logger = logging.getLogger(__name__)

#: Korea 2000 (GRS80) belts by central meridian: the metric CRS for Korean data.
KOREA_BELTS: dict[int, int] = {125: 5185, 127: 5186, 129: 5187, 131: 5188}
#: lon/lat box of South Korea and its waters (for choosing a Korea 2000 belt).
_KOREA_LONLAT = (123.5, 32.5, 132.5, 39.5)
_KOREAN_1985 = 4162  # geographic CRS of the Korean 1985 datum (Bessel 1841)
_KGD2002 = 4737  # geographic CRS of the Korean Geodetic Datum 2002 (GRS80)


def bessel_fixed(crs: Any) -> CRS | None:
    """The CRS on the Korean 1985 datum when ``crs`` is Bessel 1841 with no known datum, else None.

    A ``.prj`` with ``SPHEROID["Bessel_1841", …]`` but no ``TOWGS84`` and no datum PROJ knows
    gets a *ballpark* transformation (no shift: ≈ 350 m off in Seoul). Taking it as Korean 1985
    gives the standard "Korean 1985 to KGD2002 (1)" shift, the same as pyproj's EPSG:5174 → 5186.
    Bessel CRSs whose datum is known (EPSG:5174, Tokyo …) are left alone (None).

    Examples
    --------
    >>> wkt = CRS(5174).to_wkt("WKT1_ESRI").replace("Korean_Datum_1985", "Bessel_1841")
    >>> fixed = bessel_fixed(wkt)
    >>> fixed.geodetic_crs.to_epsg()
    4162
    >>> bessel_fixed("EPSG:5174") is None
    True
    """
    c = CRS.from_user_input(crs)
    if not is_bessel(c):
        return None
    geodetic = c.geodetic_crs
    if geodetic is None:
        return None
    to_kgd2002 = Transformer.from_crs(geodetic, CRS(_KGD2002), always_xy=True)
    if "ballpark" not in to_kgd2002.description.lower():
        return None  # PROJ knows this datum's shift (EPSG:5174, an ESRI "D_Korean_Datum_1985" …)
    if c.is_projected and c.coordinate_operation is not None:
        return ProjectedCRS(c.coordinate_operation, name=c.name,
                            geodetic_crs=CRS(_KOREAN_1985))
    if c.is_geographic:
        return CRS(_KOREAN_1985)
    return None


def is_bessel(crs: CRS) -> bool:
    """True for a CRS on the Bessel 1841 ellipsoid."""
    return crs.ellipsoid is not None and "bessel" in crs.ellipsoid.name.lower()


def metric_crs_for(frame: gpd.GeoDataFrame) -> CRS:
    """A metric GRS80 CRS for ``frame``: the Korea 2000 belt inside Korea, else its UTM zone.

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.Point(127.04, 37.58)], crs=4326)
    >>> metric_crs_for(g).to_epsg()
    5186
    >>> metric_crs_for(g.set_crs(4326).assign(geometry=[shapely.Point(-85.6, 38.0)])).to_epsg()
    32616
    """
    lonlat = frame.geometry.to_crs(4326) if not CRS(frame.crs).equals(CRS(4326)) else frame.geometry
    x0, y0, x1, y1 = lonlat.total_bounds
    if not np.all(np.isfinite([x0, y0, x1, y1])):
        msg = "cannot choose a metric CRS for a layer with no coordinates"
        raise CRSError(msg)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    kx0, ky0, kx1, ky1 = _KOREA_LONLAT
    if kx0 <= cx <= kx1 and ky0 <= cy <= ky1:
        meridian = min(KOREA_BELTS, key=lambda m: abs(m - cx))
        return CRS(KOREA_BELTS[meridian])
    utm = gpd.GeoDataFrame(geometry=lonlat, crs=4326).estimate_utm_crs()
    return CRS(utm)


def to_metric(frame: gpd.GeoDataFrame, *, what: str = "layer") -> gpd.GeoDataFrame:
    """``frame`` in a metric GRS80 CRS: reprojected when its CRS is in feet or degrees, or Bessel.

    A frame already in a metric, non-Bessel CRS is returned as it is. Otherwise it goes to
    :func:`metric_crs_for`, and a warning says from which CRS to which, so that no length is
    ever measured in feet or degrees (a US-feet network is not reported 3.28× too long).

    Examples
    --------
    >>> import shapely
    >>> line = shapely.LineString([(4971350, 3905604), (4971350 + 3280.8333, 3905604)])
    >>> g = gpd.GeoDataFrame(geometry=[line], crs="EPSG:3547")  # Kentucky, US survey feet
    >>> m = to_metric(g, what="ky4")
    >>> m.crs.to_epsg(), round(float(m.length.iloc[0]))
    (32616, 1000)
    """
    if frame.crs is None:
        py, cli = two_forms("{what} has no CRS; {fix}", what=(what, what),
                            fix=("set it with .set_crs(...)", "give it with --crs"))
        raise CRSError(py, cli=cli)
    crs = CRS(frame.crs)
    if is_metric(crs) and not is_bessel(crs):
        return frame
    fixed = bessel_fixed(crs)
    if fixed is not None:  # a Bessel CRS with no datum: Korean 1985 (see bessel_fixed)
        frame, crs = frame.set_crs(fixed, allow_override=True), fixed
    if len(frame) == 0 or frame.geometry.is_empty.all():
        return frame
    target = metric_crs_for(frame)
    if is_bessel(crs):
        why = "is on the Bessel 1841 ellipsoid (Korean 1985 datum); shifted to GRS80"
    elif crs.is_geographic:
        why = "is in degrees, not metres"
    else:
        why = f"is in {crs.axis_info[0].unit_name if crs.axis_info else 'unknown'} units, not metres"
    logger.warning("%s: %s %s; reprojected to %s (%s) so that lengths are metres", what,
                   crs_label(crs), why, crs_label(target), target.name)
    return frame.to_crs(target)
