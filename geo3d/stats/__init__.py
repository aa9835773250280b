"""Aging and density statistics of underground pipes per neighbourhood and install period.

:func:`aging_statistics` gives a tidy table (area × utility × period: length, aged share,
density), :func:`aged_segments` the aged pieces with their attributes (:func:`aging_report`
both from one split of the pipes), and
:func:`statistics_to_file` writes CSV or Excel; :func:`read_areas` reads area polygons from
a file. The same work on Dask is
:func:`geo3d.parallel.aging_statistics_dask`.
"""

from __future__ import annotations

from .aging import (
    DEFAULT_THRESHOLDS,
    STATISTICS_COLUMNS,
    aged_segments,
    aggregate_statistics,
    aging_report,
    aging_statistics,
    areas_with_statistics,
    pipe_age,
    read_areas,
    statistics_to_file,
)
from .inputs import STATISTICS_PIPE_COLUMNS, read_statistics_pipes

__all__ = [
    "DEFAULT_THRESHOLDS",
    "STATISTICS_COLUMNS",
    "STATISTICS_PIPE_COLUMNS",
    "aged_segments",
    "aggregate_statistics",
    "aging_report",
    "aging_statistics",
    "areas_with_statistics",
    "pipe_age",
    "read_areas",
    "read_statistics_pipes",
    "statistics_to_file",
]
