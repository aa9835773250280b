"""Data QA: impossible crossings, Z jumps at shared nodes, duplicates across layers."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo3d.datasets import get_path
from geo3d.errors import InputError
from geo3d.io.raster import read_dem
from geo3d.underground import pipes_to_3d, read_pipes
from geo3d.underground.qa import duplicate_pipes, impossible_crossings, qa_report, z_jumps

CRS = "EPSG:5186"


def gdf(data, geoms):
    return gpd.GeoDataFrame(data, geometry=[shapely.LineString(g) for g in geoms], crs=CRS)


def test_impossible_crossings_exact_threshold():
    pipes = gdf({"utility": ["water", "gas", "gas"], "source_id": ["w", "g1", "g2"],
                 "diameter_mm": [300.0, 200.0, 200.0]},
                [[(0, 0, 10), (10, 0, 10)],
                 [(3, -5, 10.2), (3, 5, 10.2)],      # 0.2 < 0.25: overlap 0.05
                 [(6, -5, 10.3), (6, 5, 10.3)]])     # 0.3 > 0.25: fine
    out = impossible_crossings(pipes)
    assert out["source_id_b"].tolist() == ["g1"]
    assert out["overlap_m"].iloc[0] == pytest.approx(0.05)
    assert out["centre_distance_m"].iloc[0] == pytest.approx(0.2)


def test_connected_pipes_are_not_crossings():
    pipes = gdf({"utility": ["water", "water"], "source_id": ["main", "lateral"],
                 "diameter_mm": [300.0, 50.0]},
                [[(0, 0, 10), (10, 0, 10)], [(5, 0, 10.0), (5, 5, 10.1)]])
    assert len(impossible_crossings(pipes)) == 0


def test_z_jumps_respects_alignment():
    pipes = gdf({"utility": ["sewer"] * 4 + ["gas"], "source_id": list("abcde"),
                 "diameter_mm": [300.0, 600.0, 300.0, 300.0, 100.0]},
                [[(0, 0, 10.0), (5, 0, 10.0)],
                 [(5, 0, 9.85), (9, 0, 9.85)],    # inverts align (9.85 and 9.55 ... crowns 10.15)
                 [(20, 0, 10.0), (25, 0, 10.0)],
                 [(25, 0, 9.0), (29, 0, 9.0)],    # 1 m jump
                 [(25, 0, 5.0), (25, 5, 5.0)]])   # other utility: ignored
    out = z_jumps(pipes, tolerance=0.1)
    assert out[["source_id_a", "source_id_b"]].values.tolist() == [["c", "d"]]
    assert out["jump_m"].iloc[0] == pytest.approx(1.0)
    assert out["x"].iloc[0] == pytest.approx(25.0)


def test_duplicates_across_layers_only():
    pipes = gdf({"utility": ["water", "water", "water"], "source_layer": ["A", "B", "A"],
                 "source_id": ["1", "2", "3"], "agency": ["x", "y", "x"]},
                [[(0, 0), (50, 0)], [(0, 0.3), (50, 0.2)], [(0, 0.1), (50, 0.1)]])
    out = duplicate_pipes(pipes, tolerance=0.5)
    pairs = {tuple(sorted(p)) for p in out[["source_id_a", "source_id_b"]].values.tolist()}
    assert pairs == {("1", "2"), ("2", "3")}     # 1 and 3 come from the same layer


def test_needs_3d_and_runs_on_the_sample():
    pipes = read_pipes(get_path("utilities"))
    with pytest.raises(InputError, match="pipes_to_3d"):
        z_jumps(pipes)
    p3 = pipes_to_3d(pipes, read_dem(get_path("dem")))
    rep = qa_report(p3)
    assert set(rep) == {"impossible_crossings", "z_jumps", "duplicates"}
    for frame in rep.values():
        assert {"pipe_a", "pipe_b", "source_id_a", "source_id_b"} <= set(frame.columns)
    ic = rep["impossible_crossings"]
    assert (ic["centre_distance_m"] <= ic["radii_m"]).all() and (ic["overlap_m"] >= 0).all()
