"""Aging statistics on Dask: pipes partitioned spatially, the same per-partition function.

Each partition of pipes (dask-geopandas, spatially shuffled along a Hilbert curve so a
partition covers a compact region) runs the very function the single-process path runs
(:func:`geo3d.stats.aging.partial_statistics`); the partial tables are summed, and shares and
densities are recomputed from the sums by the same code as in
:func:`geo3d.stats.aging_statistics`. Results equal the single-process ones up to the order of
floating-point additions (relative differences ~1e-15).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pickle
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._compat import import_optional
from ..errors import InputError
from ..stats.aging import PreparedAreas as _Areas
from ..stats.aging import combine_partials as _combine
from ..stats.aging import interior_grid as _make_grid
from ..stats.aging import partial_statistics as _partial_statistics
from ..stats.aging import prepare_statistics as _setup
from ..stats.aging import report_outside as _report_outside

__all__ = ["aging_statistics_dask"]

logger = logging.getLogger(__name__)


_local = threading.local()


def _partial_in_thread(pipes: gpd.GeoDataFrame, areas: _Areas, params: Any) -> Any:
    """:func:`_partial_statistics` on this thread's own copy of the areas.

    GEOS prepared geometries are not thread-safe (libgeos/geos#825): their indexes are built
    lazily on first use, and two threads building one crash the process. Threads of a Dask
    worker (or of the threaded scheduler) receive the same ``areas`` object, so each thread
    unpickles a private copy once (which prepares its geometries) and reuses it.
    """
    cache: dict[int, tuple[_Areas, _Areas]] = getattr(_local, "areas", None) or {}
    _local.areas = cache
    hit = cache.get(id(areas))
    if hit is None or hit[0] is not areas:
        # keep the original beside its copy so its id cannot be reused while cached
        hit = (areas, pickle.loads(pickle.dumps(areas, protocol=pickle.HIGHEST_PROTOCOL)))
        cache.clear()
        cache[id(areas)] = hit
    return _partial_statistics(pipes, hit[1], params)


def _chunks(pipes: gpd.GeoDataFrame, npartitions: int | None, client: Any,
            spatial_shuffle: bool) -> list[gpd.GeoDataFrame]:
    """Split an in-memory GeoDataFrame into compact partitions (sorted along a Hilbert curve)."""
    if npartitions is None:
        workers = len(client.scheduler_info().get("workers", {})) if client is not None else 2
        npartitions = 4 * max(workers, 1)
    if not isinstance(npartitions, int) or npartitions < 1:
        msg = f"npartitions must be a positive integer, not {npartitions!r}"
        raise InputError(msg)
    npartitions = max(1, min(npartitions, len(pipes)))
    if spatial_shuffle and npartitions > 1 and len(pipes):
        valid = ~(pipes.geometry.is_empty | pipes.geometry.isna())
        distance = np.zeros(len(pipes), dtype=np.int64)
        if valid.any():
            geoms = pipes.geometry[valid]
            distance[valid.to_numpy()] = geoms.hilbert_distance(
                total_bounds=geoms.total_bounds).to_numpy()
        order = np.argsort(distance, kind="stable")
    else:
        order = np.arange(len(pipes))
    return [pipes.iloc[chunk] for chunk in np.array_split(order, npartitions)]


def _read_partitioned(path: str | os.PathLike[str], dask_geopandas: Any) -> Any:
    """A dask-geopandas frame over a (partitioned) GeoParquet dataset: each worker reads its
    own partitions, and only the columns the statistics use."""
    import pyarrow.parquet as pq

    from ..errors import MissingFileError

    path = Path(path)
    if not path.exists():
        msg = f"pipes {path} do not exist; give a GeoParquet file or a folder of them"
        raise MissingFileError(msg)
    first = (path if path.is_file()
             else next((p for p in sorted(path.rglob("*.parquet"))), None))
    if first is None:
        msg = f"{path} holds no .parquet file; write the pipes with GeoDataFrame.to_parquet"
        raise InputError(msg)
    names = pq.read_schema(first).names
    geometry = next((c for c in ("geometry", "geom", "wkb_geometry") if c in names), None)
    columns = [c for c in ("utility", "install_year") if c in names]
    if geometry is None:
        msg = f"{first} has no geometry column (a GeoParquet file is needed)"
        raise InputError(msg)
    return dask_geopandas.read_parquet(path, columns=[*columns, geometry])


def aging_statistics_dask(
    pipes: gpd.GeoDataFrame | str | os.PathLike[str] | Any,
    areas: gpd.GeoDataFrame,
    *,
    area_id: str,
    npartitions: int | None = None,
    client: Any = None,
    spatial_shuffle: bool = True,
    reference_date: int | str | dt.date | None = None,
    bins: int | Sequence[int] = 10,
    thresholds: int | Mapping[str, int | Sequence[int]] | None = None,
    by: str | None = "utility",
) -> pd.DataFrame:
    """:func:`geo3d.stats.aging_statistics` computed per partition of the pipes on Dask.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame, dask_geopandas.GeoDataFrame or path
        Pipes in the canonical schema. A GeoDataFrame is split into ``npartitions``; a Dask
        frame (dask-geopandas, or any Dask DataFrame whose partitions are GeoDataFrames) is
        used as partitioned. Only ``utility``, ``install_year`` and the geometry are sent to
        the workers. A path to a GeoParquet file or a folder of them (a partitioned dataset,
        e.g. from ``dask_geopandas.to_parquet``) is read *on the workers*, one partition per
        file (only those three columns): no geometry travels from the client. Write the
        partitions spatially compact (e.g. sorted along a Hilbert curve) and pass
        ``spatial_shuffle=False``.
    areas : geopandas.GeoDataFrame
        Area polygons (small: sent whole to every worker).
    area_id : str
        Field of ``areas`` identifying an area.
    npartitions : int, optional
        Partitions for an in-memory ``pipes`` (default: 4 per worker of ``client``, else 8).
    client : dask.distributed.Client, optional
        Run on this cluster; default the current Dask scheduler (threads if none).
    spatial_shuffle : bool
        Order pipes along a Hilbert curve before partitioning (compact partitions). For an
        in-memory GeoDataFrame this is a local sort; for a dask-geopandas frame it is a full
        ``spatial_shuffle`` — pass False when the frame is already spatially partitioned.
    reference_date, bins, thresholds, by
        As for :func:`geo3d.stats.aging_statistics`.

    Returns
    -------
    pandas.DataFrame
        The same table as :func:`geo3d.stats.aging_statistics`.

    Raises
    ------
    InputError
        A Dask frame without geometries, or a bad ``npartitions``; and everything
        :func:`geo3d.stats.aging_statistics` raises.

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> areas = gpd.GeoDataFrame({"id": ["A", "B"]},
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs="EPSG:5186")
    >>> pipes = gpd.GeoDataFrame({"utility": ["gas"] * 4,
    ...     "install_year": pd.array([1990, 2000, 2010, None], dtype="Int64")},
    ...     geometry=[shapely.LineString([(1, i + 1), (15, i + 1)]) for i in range(4)],
    ...     crs="EPSG:5186")
    >>> df = aging_statistics_dask(pipes, areas, area_id="id", npartitions=2,
    ...                            reference_date=2025)
    >>> df[["area_id", "period", "length_m"]].head(3)
      area_id     period  length_m
    0       A  1990-1999       9.0
    1       A  2000-2009       9.0
    2       A  2010-2019       9.0
    """
    dask = import_optional("dask", extra="parallel")
    dask_geopandas = import_optional("dask_geopandas", extra="parallel")
    t0 = time.perf_counter()
    dd = import_optional("dask.dataframe", extra="parallel")
    if isinstance(pipes, str | os.PathLike):
        pipes = _read_partitioned(pipes, dask_geopandas)
    is_dask = isinstance(pipes, dd.DataFrame)
    if is_dask and not isinstance(pipes._meta, gpd.GeoDataFrame):
        msg = ("the Dask frame of pipes has no geometry column (its partitions are not "
               "GeoDataFrames); build it with dask_geopandas (read_parquet, from_geopandas, or "
               "from_dask_dataframe(ddf, geometry=...))")
        raise InputError(msg)
    if is_dask and not isinstance(pipes, dask_geopandas.GeoDataFrame):
        # e.g. dd.from_delayed(...) of GeoDataFrames before dask_geopandas was imported
        pipes = dask_geopandas.from_dask_dataframe(pipes)
    sample = pipes._meta if is_dask else pipes
    if is_dask and sample.crs is None and getattr(pipes, "crs", None) is not None:
        sample = sample.set_crs(pipes.crs)
    prepared, params = _setup(sample, areas, area_id, reference_date, bins, thresholds, by)
    # ship only what the per-partition function reads (the canonical schema has ~20 columns)
    needed = [c for c in ("utility", "install_year") if c in sample.columns]
    needed.append(sample.geometry.name)
    if list(sample.columns) != needed:
        pipes = pipes[needed]
    # prepare geometries and build the interior grid once, before the areas are shipped
    prepared.prepared()
    prepared.grid = _make_grid(prepared, 1_000_000 if is_dask else len(pipes))
    if is_dask:
        if spatial_shuffle and pipes.npartitions > 1:
            pipes = pipes.spatial_shuffle(by="hilbert")
        parts: list[Any] = list(pipes.to_delayed())
    else:
        parts = _chunks(pipes, npartitions, client, spatial_shuffle)
    # hash=False / pure=False: dask would otherwise tokenize every geometry of every partition
    # to name the data (about 10 s per 250,000 lines), more than the work itself
    if client is not None:
        area_ref = client.scatter(prepared, broadcast=True, hash=False)
        if not is_dask:
            parts = client.scatter(parts, hash=False)
            futures = [client.submit(_partial_in_thread, part, area_ref, params, pure=False)
                       for part in parts]
        else:
            futures = client.compute([dask.delayed(_partial_in_thread, pure=False)(
                part, area_ref, params) for part in parts])
        partials = client.gather(futures)
    else:
        area_ref = dask.delayed(prepared, name=f"geo3d-areas-{uuid.uuid4().hex}", pure=False)
        partials = list(dask.compute(*[dask.delayed(_partial_in_thread, pure=False)(
            part, area_ref, params) for part in parts]))
    n_pipes = None if is_dask else len(pipes)
    df = _combine(partials, prepared, params)
    total = sum(p.n_pipes for p in partials) if n_pipes is None else n_pipes
    _report_outside(df, total)
    logger.info("aging_statistics_dask: %s segments in %d partitions x %s areas -> %s rows "
                "in %.2f s", f"{total:,}", len(partials), f"{len(prepared.ids):,}",
                f"{len(df):,}", time.perf_counter() - t0)
    return df
