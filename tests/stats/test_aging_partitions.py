"""The per-partition API of aging statistics (what geo3d.parallel runs on Dask), in public
names: prepare once, sum each partition, combine — the same table as aging_statistics."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from geo3d.stats.aging import (
    aging_statistics,
    combine_partials,
    interior_grid,
    partial_statistics,
    prepare_statistics,
    report_outside,
)


def test_partitions_combine_to_the_single_process_table(sample_pipes, sample_areas):
    whole = aging_statistics(sample_pipes, sample_areas, area_id="adm_cd2",
                             reference_date=2025)
    areas, params = prepare_statistics(sample_pipes, sample_areas, "adm_cd2", 2025, 10, None,
                                       "utility")
    areas.grid = interior_grid(areas, len(sample_pipes))
    chunks = np.array_split(np.arange(len(sample_pipes)), 3)
    partials = [partial_statistics(sample_pipes.iloc[c], areas, params) for c in chunks]
    assert sum(p.n_pipes for p in partials) == len(sample_pipes)
    df = combine_partials(partials, areas, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report_outside(df, len(sample_pipes))
    pd.testing.assert_frame_equal(df, whole, check_exact=False, rtol=1e-12)
    assert df.attrs["outside_length_m"] == whole.attrs["outside_length_m"]
