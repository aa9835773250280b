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


def test_each_thread_gets_its_own_prepared_copy_of_the_areas(pipes, areas):
    import threading

    from geo3d.parallel import stats as pstats
    from geo3d.stats.aging import _partial_statistics, _setup

    prepared, params = _setup(pipes, areas, "adm_cd2", 2025, 10, None, "utility")
    copies, results = {}, {}

    def work(name):
        results[name] = pstats._partial_in_thread(pipes, prepared, params)
        copies[name] = pstats._local.areas[id(prepared)][1]

    threads = [threading.Thread(target=work, args=(k,)) for k in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert copies["a"] is not copies["b"]
    assert copies["a"] is not prepared and copies["b"] is not prepared
    assert copies["a"].geoms[0] is not prepared.geoms[0]  # not the same GEOS objects
    want = _partial_statistics(pipes, prepared, params).table
    for name in ("a", "b"):
        pd.testing.assert_frame_equal(results[name].table, want)


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")  # another job's dashboard
def test_dask_on_worker_processes_equals_single_process(pipes, areas):
    single = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster, \
            distributed.Client(cluster) as c:
        parallel = aging_statistics_dask(pipes, areas, area_id="adm_cd2", npartitions=4,
                                         client=c, reference_date=2025)
    assert_same(parallel, single)


def test_dask_frame_made_from_delayed_parts_and_frames_without_geometry(pipes, areas, client):
    import dask
    import dask.dataframe as dd

    from geo3d.errors import InputError

    single = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
    halves = [pipes.iloc[: len(pipes) // 2], pipes.iloc[len(pipes) // 2:]]
    ddf = dd.from_delayed([dask.delayed(h) for h in halves], meta=pipes.iloc[:0],
                          verify_meta=False)
    parallel = aging_statistics_dask(ddf, areas, area_id="adm_cd2", client=client,
                                     spatial_shuffle=False, reference_date=2025)
    assert_same(parallel, single)
    plain = dd.from_pandas(pd.DataFrame({"utility": ["gas"], "install_year": [2000]}),
                           npartitions=1)
    with pytest.raises(InputError, match="dask_geopandas"):
        aging_statistics_dask(plain, areas, area_id="adm_cd2")


@pytest.mark.shared_data
def test_dask_on_seoul_dongs_equals_single_process(shared_data, client):
    import shapely

    dongs = gpd.read_file(shared_data / "seoul" / "seoul_hangjeongdong_2021.geojson").to_crs(5186)
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = dongs.total_bounds
    start = np.column_stack([rng.uniform(x0, x1, 8000), rng.uniform(y0, y1, 8000)])
    end = start + rng.normal(0, 150, (8000, 2))
    pipes = gpd.GeoDataFrame(
        {"utility": rng.choice(["water", "sewer", "gas"], 8000),
         "install_year": pd.array(rng.integers(1950, 2025, 8000), dtype="Int64")},
        geometry=shapely.linestrings(np.stack([start, end], axis=1)), crs=5186)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pipes beyond Seoul's border
        single = aging_statistics(pipes, dongs, area_id="adm_cd2", reference_date=2025)
        parallel = aging_statistics_dask(pipes, dongs, area_id="adm_cd2", npartitions=8,
                                         client=client, reference_date=2025)
    assert single.attrs["outside_length_m"] > 0 and single["area_id"].nunique() > 400
    assert_same(parallel, single)


def test_partitioned_geoparquet_is_read_on_the_workers(pipes, areas, client, tmp_path):
    """A folder of GeoParquet partitions: the workers read them (no geometry from the client);
    the same table as one process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = aging_statistics(pipes, areas, area_id="adm_cd2", reference_date=2025)
        order = np.argsort(pipes.geometry.hilbert_distance().to_numpy(), kind="stable")
        folder = tmp_path / "pipes"
        dask_geopandas.from_geopandas(pipes.iloc[order], npartitions=4).to_parquet(folder)
        df = aging_statistics_dask(folder, areas, area_id="adm_cd2", client=client,
                                   spatial_shuffle=False, reference_date=2025)
    assert len(list(folder.glob("*.parquet"))) == 4
    assert_same(df, single)
    with pytest.raises(Exception, match="do not exist"):
        aging_statistics_dask(tmp_path / "nope", areas, area_id="adm_cd2", client=client)
