"""The same work partitioned on Dask (dask-geopandas, dask.distributed).

Dask is an optional dependency (``pip install 'geo3d[parallel]'``); it is imported only when a
function here runs.
"""

from __future__ import annotations

from .stats import aging_statistics_dask

__all__ = ["aging_statistics_dask"]
