import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo3d import datasets
from geo3d.errors import SchemaError
from geo3d.parallel import aging_statistics_dask
from geo3d.stats import aging_statistics
from geo3d.underground import read_pipes

distributed = pytest.importorskip("distributed")
dask_geopandas = pytest.importorskip("dask_geopandas")


@pytest.fixture(scope="module")
def pipes():
    return read_pipes(datasets.get_path("utilities"))


@pytest.fixture(scope="module")
def areas():
    return gpd.read_file(datasets.get_path("neighbourhoods"))


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    keys = ["area_id", "utility", "period"]
    pd.testing.assert_frame_equal(a[keys], b[keys])
    for col in a.columns:
        if col in keys:
            continue
        if pd.api.types.is_float_dtype(a[col]):
            np.testing.assert_allclose(a[col].to_numpy(), b[col].to_numpy(), rtol=1e-12,
                                       atol=1e-9, err_msg=col)
        else:
            pd.testing.assert_series_equal(a[col], b[col])
    assert a.attrs["outside_length_m"] == pytest.approx(b.attrs["outside_length_m"], abs=1e-6)


def test_dask_on_local_cluster_equals_single_process(pipes, areas, client):
    single = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
    parallel = aging_statistics_dask(pipes, areas, area_id="adm_cd2", npartitions=6,
                                     client=client, reference_date=2025)
    assert_same(parallel, single)


def test_dask_without_client_and_with_dask_frame(pipes, areas):
    single = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025, bins=5)
    ddf = dask_geopandas.from_geopandas(pipes, npartitions=3)
    parallel = aging_statistics_dask(ddf, areas, area_id="adm_cd2", reference_date=2025, bins=5,
                                     spatial_shuffle=False)
    assert_same(parallel, single)


def test_dask_reports_outside_and_validates(pipes, areas):
    shifted = pipes.copy()
    shifted["geometry"] = shifted.geometry.translate(800.0, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = aging_statistics(shifted, areas, area_id="adm_cd2", reference_date=2025)
        parallel = aging_statistics_dask(shifted, areas, area_id="adm_cd2", npartitions=4,
                                         reference_date=2025)
    assert single.attrs["outside_length_m"] > 0
    assert_same(parallel, single)
    with pytest.raises(SchemaError, match="adm_code"):
        aging_statistics_dask(pipes, areas, area_id="adm_code")
