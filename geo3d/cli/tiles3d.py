"""``geo3d tiles3d``: pipes or a scanned market as 3D Tiles 1.1 (``DIR/tileset.json``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError
from .inputs import pipe_input_options, read_pipes_from_options
from .main import claim_outputs, cli, verbosity_options

__all__ = ["tiles3d_command"]


@cli.command("tiles3d")
@verbosity_options
@pipe_input_options
@click.option("--pipes", "pipes_path", type=click.Path(path_type=Path), default=None,
              help="Pipe layers: a GeoPackage or a folder (canonical schema or Korean UIS).")
@click.option("--dem", "dem_path", type=click.Path(path_type=Path), default=None,
              help="Ground elevation GeoTIFF that places 2D pipes at their depth.")
@click.option("--scan", "scan_dir", type=click.Path(path_type=Path), default=None,
              help="A `geo3d scan` output folder: export the market's objects instead of pipes.")
@click.option("--points", is_flag=True, help="With --scan: also export the scan points.")
@click.option("--max-points", type=click.IntRange(1), default=2_000_000, show_default=True,
              help="With --points: at most this many points (a seeded random subset).")
@click.option("--palette", type=click.Choice(["korean", "apwa"]), default="korean",
              show_default=True, help="Utility colours.")
@click.option("--cell", "cell_m", type=click.FloatRange(min=1.0), default=500.0,
              show_default=True, help="With --pipes: side (m) of the grid cells, one tile each.")
@click.option("--geoid-height", type=float, default=0.0, show_default=True,
              help="Geoid undulation (m) added to elevations for ellipsoidal heights "
                   "(about 25 around Seoul).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Output folder: tileset.json and its .glb contents.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
def tiles3d_command(pipes_path: Path | None, schema: Path | None, dem_path: Path | None,
                    scan_dir: Path | None, points: bool, max_points: int, palette: str,
                    cell_m: float, geoid_height: float, out_dir: Path, overwrite: bool,
                    crs: str | None = None) -> None:
    """3D Tiles 1.1 for CesiumJS: pipes as tubes at depth, or a market's stores and
    facilities, each feature with its attributes (EXT_structural_metadata)."""
    from ..tiles.tiles3d import pipes_to_tiles3d, scan_to_tiles3d

    if (pipes_path is None) == (scan_dir is None):
        msg = "give either --pipes P (underground) or --scan DIR (a geo3d scan output folder)"
        raise InputError(msg)
    if out_dir.suffix.lower() == ".json":
        msg = f"--out is a folder (tileset.json is written inside it), not {out_dir.name!r}"
        raise InputError(msg)
    claim_outputs(out_dir, overwrite=overwrite, folder=True)
    if scan_dir is not None:
        if dem_path is not None or schema is not None or crs is not None:
            msg = "--dem, --schema and --crs go with --pipes, not with --scan"
            raise InputError(msg)
        if not scan_dir.is_dir():
            msg = f"--scan {scan_dir} is not a folder; pass a `geo3d scan` output folder"
            raise InputError(msg)
        out = scan_to_tiles3d(scan_dir, out_dir, points=points, max_points=max_points,
                              geoid_height=geoid_height, overwrite=overwrite)
    else:
        if points:
            msg = "--points goes with --scan (the scan's points)"
            raise InputError(msg)
        from ..io.raster import read_dem

        if dem_path is not None and not dem_path.exists():
            msg = f"--dem {dem_path} does not exist"
            raise InputError(msg)
        pipes = read_pipes_from_options(pipes_path, schema=schema, crs=crs)
        dem = read_dem(dem_path) if dem_path is not None else None
        out = pipes_to_tiles3d(pipes, out_dir, dem=dem, palette=palette, cell_m=cell_m,
                               geoid_height=geoid_height, overwrite=overwrite)
    files = sorted(p.name for p in out.iterdir())
    click.echo(f"tiles3d: {out / 'tileset.json'} ({len(files) - 1} contents: "
               f"{', '.join(f for f in files if f != 'tileset.json')})")
