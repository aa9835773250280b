"""The pit of a virtual excavation: its outline, checked once, and the structures it reaches.

:func:`pit_polygon` is the one check of a pit outline, shared by
:func:`~geo3d.underground.excavation.excavate` and
:func:`~geo3d.underground.section.cross_section`, so a pit one refuses the other refuses too.
:func:`structures_in_pit` lists point structures (manholes, valves, hydrants...) inside the
pit's top outline or within a band around it.

Point structures follow the column contract of the point readers: ``utility``, ``kind``,
``structure_id``, ``source_layer``, ``depth_m`` (may be missing) and Point geometries in the
pipes' CRS.

Examples
--------
>>> import geopandas as gpd, shapely
>>> mh = gpd.GeoDataFrame({"utility": ["sewer", "water"], "kind": ["manhole", "valve"],
...                        "structure_id": ["MH1", "V7"], "source_layer": ["SWL_MANH_PS", "WTL_VALV_PS"],
...                        "depth_m": [2.1, None]},
...                       geometry=[shapely.Point(1, 1), shapely.Point(4.5, 2)], crs="EPSG:5186")
>>> structures_in_pit(mh, shapely.box(0, 0, 4, 4), band=1.0)[["structure_id", "distance_m", "inside"]]
  structure_id  distance_m  inside
0          MH1        -1.0    True
1           V7         0.5   False
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ..errors import CRSError, InputError, SchemaError

__all__ = ["STRUCTURE_COLUMNS", "pit_polygon", "read_pit", "structures_from_file", "structures_in_pit"]

#: Columns of a point-structure layer (as the point readers return them).
STRUCTURE_COLUMNS: tuple[str, ...] = ("utility", "kind", "structure_id", "source_layer",
                                      "depth_m")


def read_pit(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read an excavation pit (one or more polygons, or a trench centreline) from a vector file.

    What ``geo3d excavate --pit`` and ``geo3d map3d --pit`` read; the geometry itself is checked
    by :func:`pit_polygon` when it is used.

    Raises
    ------
    MissingFileError, FileFormatError, EmptyResultError
        No such file, a file that is not vector data, or one with no feature.

    Examples
    --------
    >>> from geo3d import datasets
    >>> len(read_pit(datasets.get_path("pit")))
    1
    """
    import pyogrio
    import pyogrio.errors

    from ..errors import EmptyResultError, FileFormatError, MissingFileError

    path = Path(path)
    if not path.exists():
        msg = f"pit file {path} does not exist; pass a GeoJSON/GeoPackage with one polygon"
        raise MissingFileError(msg, cli=f"--pit {path} does not exist; pass a GeoJSON/GeoPackage "
                               "with one polygon")
    try:
        pit = pyogrio.read_dataframe(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError,
            ValueError) as exc:
        msg = f"cannot read the pit {path} ({exc}); check it opens with `ogrinfo`"
        raise FileFormatError(msg) from exc
    if not isinstance(pit, gpd.GeoDataFrame) or len(pit) == 0:
        msg = f"the pit file {path} holds no feature; draw one polygon"
        raise EmptyResultError(msg)
    return pit


def pit_polygon(geom: shapely.Geometry) -> shapely.Polygon:
    """The pit outline as one valid 2D Polygon, or an error saying what is wrong with it.

    :func:`excavate` and :func:`~geo3d.underground.section.cross_section` check their pits
    with this one function, so a pit one of them refuses is refused by the other too.

    Raises
    ------
    InputError
        Not a (one-part) Polygon, self-intersecting (a bow-tie) or otherwise invalid, or
        without area.

    Examples
    --------
    >>> pit_polygon(shapely.box(0, 0, 2, 2)).area
    4.0
    >>> pit_polygon(shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)]))
    Traceback (most recent call last):
    ...
    geo3d.errors.InputError: the pit polygon is invalid (Self-intersection[1 1]): ...
    """
    if geom is None or shapely.is_empty(geom):
        msg = "the pit geometry is empty; draw a polygon (or a trench centreline with trench=WIDTH)"
        raise InputError(msg, cli="the pit geometry in --pit is empty; draw a polygon (or a "
                         "trench centreline with --trench WIDTH)")
    geom = shapely.force_2d(geom)
    if shapely.get_type_id(geom) == 6 and len(shapely.get_parts(geom)) == 1:
        geom = shapely.get_parts(geom)[0]
    if shapely.get_type_id(geom) != 3:
        msg = (f"the pit must be a Polygon, got a {geom.geom_type}; for a trench pass its "
               "centreline and trench=WIDTH, for several pits call excavate once per pit")
        cli = (f"the pit must be a Polygon, got a {geom.geom_type}; for a trench give its "
               "centreline with --trench WIDTH, for several pits run geo3d excavate once per pit")
        raise InputError(msg, cli=cli)
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        what = ("its outline crosses itself (a bow-tie)" if reason.startswith("Self-intersection")
                else "")
        msg = (f"the pit polygon is invalid ({reason}){': ' + what if what else ''}; redraw it, "
               "or repair it with shapely.make_valid(pit)")
        cli = (f"the pit polygon in --pit is invalid ({reason}){': ' + what if what else ''}; "
               "redraw it in your GIS, or repair it with `ogr2ogr -makevalid fixed.geojson "
               "pit.geojson`")
        raise InputError(msg, cli=cli)
    if geom.area <= 0:
        msg = "the pit polygon has no area; draw a real outline"
        raise InputError(msg, cli="the pit polygon in --pit has no area; draw a real outline")
    return geom



def structures_in_pit(structures: gpd.GeoDataFrame, outline: shapely.Geometry, *,
                      band: float = 0.0, crs: Any = None) -> gpd.GeoDataFrame:
    """The point structures inside ``outline`` or within ``band`` metres of it.

    Parameters
    ----------
    structures : geopandas.GeoDataFrame
        Points with :data:`STRUCTURE_COLUMNS` (missing optional columns are filled with NA;
        ``structure_id`` defaults to the row label).
    outline : shapely.Polygon
        The pit's top outline (where the digging is).
    band : float
        Also list structures within this plan distance outside the outline (e.g. the hand-dig
        band).
    crs : CRS-like, optional
        The pit's (pipes') CRS; the structures must be in it.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`STRUCTURE_COLUMNS`, ``distance_m`` (plan distance to the outline, negative
        inside), ``inside`` and the points, nearest first.

    Raises
    ------
    SchemaError
        Geometries that are not points.
    CRSError
        Structures in another CRS than the pit.
    """
    if not isinstance(structures, gpd.GeoDataFrame):
        msg = f"structures must be a GeoDataFrame of points, got {type(structures).__name__}"
        raise InputError(msg)
    if (crs is not None and structures.crs is not None
            and CRS.from_user_input(structures.crs) != CRS.from_user_input(crs)):
        msg = (f"the structures are in {CRS.from_user_input(structures.crs).to_string()} but the "
               f"pipes are in {CRS.from_user_input(crs).to_string()}; reproject them "
               "(structures.to_crs(pipes.crs))")
        raise CRSError(msg, cli=msg.split(";")[0] + "; give --structures in the pipes' CRS")
    geoms = structures.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    types = shapely.get_type_id(geoms)
    if (present & (types != 0)).any():
        msg = "structures must be Points (manholes, valves, hydrants...)"
        raise SchemaError(msg, [f"{int((present & (types != 0)).sum())} rows are not points"])
    dist = np.full(len(geoms), np.inf)
    if present.any():
        g = geoms[present]
        d = shapely.distance(g, shapely.boundary(outline))
        inside = shapely.contains_xy(outline, shapely.get_x(g), shapely.get_y(g))
        dist[present] = np.where(inside, -d, d)
    keep = np.flatnonzero(dist <= band + 1e-9)
    keep = keep[np.argsort(dist[keep], kind="stable")]
    sub = structures.iloc[keep]
    data: dict[str, Any] = {}
    for c in STRUCTURE_COLUMNS:
        if c in sub:
            data[c] = sub[c].to_numpy()
        elif c == "structure_id":
            data[c] = sub.index.astype(str).to_numpy()
        else:
            data[c] = np.full(len(sub), pd.NA, dtype=object)
    data["depth_m"] = pd.to_numeric(pd.Series(data["depth_m"]), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    data["distance_m"] = np.round(dist[keep], 3)
    data["inside"] = dist[keep] <= 0
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms[keep], crs=structures.crs),
                            crs=structures.crs)


def structures_from_file(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Point structures from a file, for ``--structures`` on the command line: the package's
    point-layer reader :func:`geo3d.underground.structures.read_structures` (UIS point layers,
    CSV, any vector file)."""
    from .structures import read_structures

    return read_structures(path)
