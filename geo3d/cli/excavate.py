"""``geo3d excavate``: a thin shell over :func:`geo3d.underground.excavation.excavate`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import InputError
from .inputs import pipe_input_options, read_pipes_from_options
from .main import claim_outputs, cli, verbosity_options

__all__ = ["excavate_command"]


@cli.command("excavate")
@verbosity_options
@pipe_input_options
@click.option("--pipes", "pipes_path", required=True, type=click.Path(path_type=Path),
              help="Pipe layers: a GeoPackage or a folder (canonical schema or Korean UIS).")
@click.option("--pit", "pit_path", required=True, type=click.Path(path_type=Path),
              help="Pit polygon (or trench centreline with --trench), in the pipes' CRS.")
@click.option("--depth", type=float, default=None,
              help="Pit depth below the ground, m (default: the pit's depth_m attribute).")
@click.option("--bottom-elevation", type=float, default=None,
              help="Absolute floor elevation instead of --depth.")
@click.option("--dem", "dem_path", type=click.Path(path_type=Path), default=None,
              help="Ground elevation GeoTIFF (needed for cover depths and --depth).")
@click.option("--ground", type=float, default=None, help="One ground elevation at the pit.")
@click.option("--trench", type=float, default=None, help="Trench width, m (--pit is its centreline).")
@click.option("--side-slope", type=float, default=0.0, show_default=True,
              help="Horizontal widening per metre of height.")
@click.option("--uncertainty", type=float, default=0.0, show_default=True,
              help="Position uncertainty (m) for pipes that state none (US 811: 0.457).")
@click.option("--road-width", type=float, default=None, help="Road width (m) for the gas cover rules.")
@click.option("--rules", "rules_path", type=click.Path(path_type=Path), default=None,
              help="Your own rules CSV (default: the table shipped with geo3d).")
@click.option("--structures", "structures_path", type=click.Path(path_type=Path), default=None,
              help="Point structures (manholes, valves...): those in or near the pit are listed.")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="conflicts.csv (one row per pipe the pit reaches), or conflicts.geojson / "
                   ".gpkg for the same rows with their 3D centrelines, to map them.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
def excavate_command(pipes_path: Path, pit_path: Path, depth: float | None,
                     bottom_elevation: float | None, dem_path: Path | None,
                     ground: float | None, trench: float | None, side_slope: float,
                     uncertainty: float, road_width: float | None, rules_path: Path | None,
                     structures_path: Path | None, out_path: Path, as_json: bool,
                     overwrite: bool, schema: Path | None = None,
                     crs: str | None = None) -> None:
    """Virtual excavation: which pipes a pit reaches, and the verdict (docs/contracts.md)."""
    from ..io.raster import read_dem
    from ..underground.excavation import excavate, summary_text
    from ..underground.pit import read_pit, structures_from_file
    from ..underground.rules import load_rules

    if out_path.suffix.lower() not in (".csv", ".geojson", ".json", ".gpkg"):
        msg = f"--out must end in .csv, .geojson or .gpkg, not {out_path.name!r}"
        raise InputError(msg)
    claim_outputs(out_path, overwrite=overwrite)
    rules = load_rules(rules_path) if rules_path is not None else None
    structures = (structures_from_file(structures_path) if structures_path is not None
                  else None)
    pipes = read_pipes_from_options(pipes_path, schema=schema, crs=crs)
    pit = read_pit(pit_path)
    dem = read_dem(dem_path) if dem_path is not None else None
    ex = excavate(pipes, pit, depth=depth, bottom_elevation=bottom_elevation, dem=dem,
                  ground=ground, trench=trench, side_slope=side_slope,
                  uncertainty_default=uncertainty, road_width=road_width, rules=rules,
                  structures=structures)
    if out_path.suffix.lower() == ".csv":
        ex.to_csv(out_path, overwrite=overwrite)
    else:
        ex.to_file(out_path, overwrite=overwrite)
    if as_json:
        click.echo(json.dumps(ex.summary, ensure_ascii=False, indent=2))
    else:
        click.echo(summary_text(ex.summary))
