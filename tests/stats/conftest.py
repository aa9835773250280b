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


def _reference_lengths(pipes: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, area_id: str
                      ) -> pd.Series:
    """Independent per-polygon clipping: length per (area_id, utility), a plain loop."""
    rows = []
    for aid, poly in zip(areas[area_id], areas.geometry, strict=True):
        idx = pipes.sindex.query(poly)
        sub = pipes.iloc[idx]
        length = sub.geometry.intersection(poly).length
        frame = pd.DataFrame({"area_id": aid, "utility": sub["utility"].to_numpy(),
                              "length_m": length.to_numpy()})
        rows.append(frame[frame["length_m"] > 0])
    ref = pd.concat(rows, ignore_index=True)
    return ref.groupby(["area_id", "utility"])["length_m"].sum()


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
