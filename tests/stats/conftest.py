"""Fixtures for the statistics tests: sample pipes and dongs, and a reference computation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo3d import datasets
from geo3d.underground import read_pipes


@pytest.fixture(scope="session")
def sample_pipes() -> gpd.GeoDataFrame:
    return read_pipes(datasets.get_path("utilities"))


@pytest.fixture(scope="session")
def sample_areas() -> gpd.GeoDataFrame:
    return gpd.read_file(datasets.get_path("neighbourhoods"))


# primary aging thresholds written out again (not imported from geo3d: an independent check)
_THRESHOLDS = {"water": 30, "sewer": 30, "gas": 20, "heat": 20, "power": 30, "telecom": 30}


def _reference_table(pipes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, area_id: str, *,
                     year: int = 2025) -> pd.DataFrame:
    """Independent per-polygon clipping, a plain loop over the areas with GEOS intersection.

    Returns length and aged length (age >= the utility's primary threshold) per
    (area_id, utility, period) with 10-year periods ``"1980-1989"`` and ``"unknown"``.
    """
    rows = []
    for aid, poly in zip(areas[area_id], areas.geometry, strict=True):
        sub = pipes.iloc[pipes.sindex.query(poly)]
        length = sub.geometry.intersection(poly).length.to_numpy()
        installed = sub["install_year"].to_numpy(dtype="float64", na_value=np.nan)
        period = [f"{int(y) // 10 * 10}-{int(y) // 10 * 10 + 9}" if y == y else "unknown"
                  for y in installed]
        limit = sub["utility"].map(_THRESHOLDS).to_numpy(dtype="float64")
        aged = (year - installed) >= limit  # NaN years compare False: never aged
        frame = pd.DataFrame({"area_id": aid, "utility": sub["utility"].to_numpy(),
                              "period": period, "length_m": length,
                              "length_over_threshold_m": np.where(aged, length, 0.0)})
        rows.append(frame[frame["length_m"] > 0])
    ref = pd.concat(rows, ignore_index=True)
    return ref.groupby(["area_id", "utility", "period"])[
        ["length_m", "length_over_threshold_m"]].sum()


def _reference_lengths(pipes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, area_id: str
                      ) -> pd.Series:
    """Independent per-polygon clipping: length per (area_id, utility)."""
    table = _reference_table(pipes, areas, area_id)
    return table.groupby(level=["area_id", "utility"])["length_m"].sum()


def _assert_matches_reference(df: pd.DataFrame, ref: pd.DataFrame, *, rtol: float = 1e-6
                              ) -> None:
    """Every (area, utility, period) group: same set of groups, lengths equal to ``rtol``.

    Pieces shorter than a micrometre (a pipe grazing a boundary) may be kept by one side and not
    the other; such groups count as 0 where absent.
    """
    got = df.set_index(["area_id", "utility", "period"])[["length_m", "length_over_threshold_m"]]
    got, want = got.align(ref, join="outer")
    only = got["length_m"].isna() | want["length_m"].isna()
    one_sided = (got["length_m"].fillna(0.0) + want["length_m"].fillna(0.0))[only]
    assert (one_sided < 1e-6).all(), f"groups on one side only: {one_sided[one_sided >= 1e-6]}"
    np.testing.assert_allclose(got.fillna(0.0).to_numpy(), want.fillna(0.0).to_numpy(),
                               rtol=rtol, atol=1e-6)
    assert len(got) >= len(ref) > 0


def _random_pipes(bounds: tuple[float, float, float, float], n: int, *, seed: int = 0,
                 crs: str = "EPSG:5186") -> gpd.GeoDataFrame:
    """Random 3-vertex pipes (20–400 m) over ``bounds`` with utilities and years (some unknown)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    start = np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)])
    steps = rng.normal(0, 1, (n, 2, 2))
    steps /= np.linalg.norm(steps, axis=2, keepdims=True)
    steps *= rng.uniform(10, 200, (n, 2, 1))
    coords = np.concatenate([start[:, None, :], start[:, None, :] + np.cumsum(steps, axis=1)],
                            axis=1)
    utilities = np.array(["water", "sewer", "power", "telecom", "gas", "heat"])
    years = pd.array(rng.integers(1950, 2025, n), dtype="Int64")
    years[rng.random(n) < 0.08] = pd.NA
    return gpd.GeoDataFrame({"utility": utilities[rng.integers(0, 6, n)], "install_year": years,
                             "source_id": [f"R{i}" for i in range(n)]},
                            geometry=shapely.linestrings(coords), crs=crs)


@pytest.fixture(scope="session")
def reference_lengths():
    return _reference_lengths


@pytest.fixture(scope="session")
def random_pipes():
    return _random_pipes


@pytest.fixture(scope="session")
def reference_table():
    return _reference_table


@pytest.fixture(scope="session")
def assert_matches_reference():
    return _assert_matches_reference
