"""Reading pipes for statistics fast: only the columns the statistics and the aged list use.

``geo3d stats`` on a million segments spends most of its time reading, unless the reader
touches only what it needs. :func:`read_statistics_pipes` reads a canonical GeoParquet file
with column projection (Arrow), or a one-layer canonical GeoPackage/FlatGeobuf/... through
pyogrio with Arrow, keeping :data:`STATISTICS_PIPE_COLUMNS`; any other source (Korean UIS
layers, folders, files that need a schema map) goes through
:func:`geo3d.underground.read_pipes` as usual.

Examples
--------
>>> import geopandas as gpd, pandas as pd, shapely, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "pipes.parquet"
>>> gpd.GeoDataFrame({"utility": ["Gas"], "install_year": [1990], "depth_m": [1.2]},
...                  geometry=[shapely.LineString([(0, 0), (5, 0)])], crs="EPSG:5186").to_parquet(p)
>>> read_statistics_pipes(p)[["utility", "install_year"]].values.tolist()
[['gas', 1990]]
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ..errors import CRSError
from .aging import OLDEST_INSTALL_YEAR

__all__ = ["STATISTICS_PIPE_COLUMNS", "read_statistics_pipes"]

logger = logging.getLogger(__name__)

#: The pipe columns :func:`~geo3d.stats.aging_report` uses (the first two are required).
STATISTICS_PIPE_COLUMNS: tuple[str, ...] = ("utility", "install_year", "source_layer",
                                            "source_id", "agency", "material", "diameter_mm")
_PARQUET = (".parquet", ".geoparquet")


def _canonical_parquet(path: Path) -> list[str] | None:
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    if not {"utility", "install_year"} <= set(names):
        return None
    return [c for c in STATISTICS_PIPE_COLUMNS if c in names]


def _canonical_ogr(path: Path) -> list[str] | None:
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
        if len(layers) != 1:
            return None
        fields = set(pyogrio.read_info(path)["fields"])
    except Exception:  # not an OGR source we can inspect: read_pipes says what is wrong
        return None
    if not {"utility", "install_year"} <= fields:
        return None
    return [c for c in STATISTICS_PIPE_COLUMNS if c in fields]


def read_statistics_pipes(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Pipes for :func:`~geo3d.stats.aging_report`, reading only the columns it uses.

    Parameters
    ----------
    path : path
        A canonical GeoParquet or one-layer vector file (read fast, :data:`STATISTICS_PIPE_COLUMNS`
        only), or anything :func:`geo3d.underground.read_pipes` reads.

    Returns
    -------
    geopandas.GeoDataFrame
        ``utility`` (lower-case text), ``install_year`` (``Int64``; years before 1850 or
        after next year are unknown, with a warning), the other columns present, geometry.

    Raises
    ------
    CRSError
        The file states no CRS, or a geographic one (lengths need metres).
    """
    from .._checks import is_metric
    from ..io.datums import is_bessel
    from ..underground import read_pipes

    path = Path(path)
    columns: list[str] | None = None
    if path.is_file():
        columns = (_canonical_parquet(path) if path.suffix.lower() in _PARQUET
                   else _canonical_ogr(path))
    if columns is None:
        return read_pipes(path)
    if path.suffix.lower() in _PARQUET:
        frame = gpd.read_parquet(path, columns=[*columns, "geometry"])
    else:
        import pyogrio

        frame = pyogrio.read_dataframe(path, columns=columns, use_arrow=True)
    if frame.crs is not None and (not is_metric(frame.crs) or is_bessel(frame.crs)):
        # feet, degrees or a Bessel datum: read_pipes reprojects to metres and says so
        return read_pipes(path)
    if frame.crs is None or not frame.crs.is_projected:
        what = "states no CRS" if frame.crs is None else f"is in {frame.crs.to_string()}"
        msg = (f"the pipes {path.name} {what}; lengths need a projected CRS in metres: "
               "reproject the file (e.g. to EPSG:5186), or read it with read_pipes(..., crs=)")
        raise CRSError(msg, cli=(f"the --pipes file {path.name} {what}; lengths need a "
                                 "projected CRS in metres: give --crs, or reproject the file"))
    frame["utility"] = (frame["utility"].astype("string").str.strip().str.lower()
                        .astype(object).where(frame["utility"].notna(), None).astype("str"))
    years = pd.to_numeric(frame["install_year"], errors="coerce").round().astype("Int64")
    bad = (years < OLDEST_INSTALL_YEAR) | (years > dt.date.today().year + 1)
    n_bad = int(bad.fillna(False).sum())
    if n_bad:
        logger.warning("read_statistics_pipes: %s install year(s) before %d or in the future "
                       "(e.g. 0 for unknown) taken as unknown", f"{n_bad:,}",
                       OLDEST_INSTALL_YEAR)
        years = years.mask(bad.fillna(False).to_numpy(dtype=bool))
    frame["install_year"] = years
    logger.info("read_statistics_pipes: %s segments, %d columns from %s", f"{len(frame):,}",
                len(columns), path.name)
    return frame if isinstance(frame, gpd.GeoDataFrame) else gpd.GeoDataFrame(frame)


