"""``geo3d map3d``: one offline HTML 3D map of pipes (with pit and section) or of a scanned market."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from .inputs import pipe_input_options, read_pipes_from_options
from .main import claim_outputs, cli, verbosity_options

__all__ = ["map3d_command", "read_point_layers"]

#: UIS layer-name prefixes of point features (manholes, valves …) → utility.
_POINT_PREFIX = {"WTL": "water", "SWL": "sewer", "UFL_B": "power", "UFL_K": "telecom",
                 "UFL_G": "gas", "UFL_H": "heat"}


def read_point_layers(source: Path) -> Any:
    """Every point layer of a pipes source (GeoPackage or folder), with ``source_layer`` and
    ``utility`` (from the UIS name prefix, e.g. ``WTL_MANH_PS`` → water); None when there is none."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    files = sorted(p for p in source.iterdir() if p.suffix.lower() in (".gpkg", ".shp", ".geojson", ".fgb")) \
        if source.is_dir() else [source]
    parts = []
    for path in files:
        for name, geom in pyogrio.list_layers(path):
            if "point" not in str(geom).lower():
                continue
            frame = gpd.read_file(path, layer=name)
            frame.insert(0, "source_layer", str(name))
            up = str(name).upper()
            frame.insert(1, "utility", next((u for p, u in _POINT_PREFIX.items() if up.startswith(p)),
                                            frame["utility"] if "utility" in frame else ""))
            parts.append(frame)
    if not parts:
        return None
    crs = parts[0].crs
    return gpd.GeoDataFrame(pd.concat([p.to_crs(crs) for p in parts], ignore_index=True),
                            geometry="geometry", crs=crs)


@cli.command("map3d")
@verbosity_options
@pipe_input_options
@click.option("--pipes", "pipes_path", type=click.Path(path_type=Path), default=None,
              help="Pipe layers: a GeoPackage or a folder (canonical schema or Korean UIS).")
@click.option("--dem", "dem_path", type=click.Path(path_type=Path), default=None,
              help="Ground elevation GeoTIFF: places the pipes at depth and draws the ground.")
@click.option("--pit", "pit_path", type=click.Path(path_type=Path), default=None,
              help="Excavation pit polygon: drawn as a 3D box, the pipes it reaches outlined.")
@click.option("--depth", type=float, default=None, help="Pit depth below the ground, m (with --pit).")
@click.option("--road-width", type=float, default=None, help="Road width (m) for the gas cover rules.")
@click.option("--line", "line", default=None, metavar="x1,y1,x2,y2[,…]",
              help="A section line, drawn as a vertical plane (the pipes' CRS).")
@click.option("--scan", "scan_dir", type=click.Path(path_type=Path), default=None,
              help="A `geo3d scan` output folder: map the market instead of pipes.")
@click.option("--palette", type=click.Choice(["korean", "apwa"]), default="korean", show_default=True,
              help="Utility colours.")
@click.option("--title", default=None, help="Map title (default: what is mapped).")
@click.option("--out", "out_path", required=True, type=click.Path(path_type=Path),
              help="MAP.html: one self-contained page that works with no network.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
def map3d_command(pipes_path: Path | None, schema: Path | None, dem_path: Path | None,
                  pit_path: Path | None, depth: float | None, road_width: float | None,
                  line: str | None, scan_dir: Path | None, palette: str, title: str | None,
                  out_path: Path, overwrite: bool, crs: str | None = None) -> None:
    """An offline 3D map (HTML): pipes at depth with pit and section, or a scanned market."""
    if (pipes_path is None) == (scan_dir is None):
        msg = "give either --pipes P (underground) or --scan DIR (a geo3d scan output folder)"
        raise InputError(msg)
    if out_path.suffix.lower() not in (".html", ".htm"):
        msg = f"--out {out_path.name} must end in .html (the map is one web page)"
        raise InputError(msg)
    claim_outputs(out_path, overwrite=overwrite)
    if scan_dir is not None:
        if any(v is not None for v in (dem_path, pit_path, line, schema, crs)):
            msg = "--dem, --pit, --line, --schema and --crs go with --pipes, not with --scan"
            raise InputError(msg)
        from ..viz.market3d import market_scene_from_scan

        scene = market_scene_from_scan(scan_dir, title=title)
    else:
        scene = _pipes_scene(pipes_path, schema, crs, dem_path, pit_path, depth, road_width, line, palette, title)
    scene.to_html(out_path, overwrite=overwrite)
    click.echo(f"{out_path}: {scene.subtitle}")


def _pipes_scene(pipes_path: Any, schema: Path | None, crs: str | None, dem_path: Path | None, pit_path: Path | None,
                 depth: float | None, road_width: float | None, line: str | None, palette: str,
                 title: str | None) -> Any:
    from ..io.raster import read_dem
    from ..underground.excavation import excavate
    from ..underground.pit import read_pit
    from ..underground.section import as_line
    from ..viz.underground3d import pipes_in_3d, underground_scene

    if depth is not None and pit_path is None:
        msg = "--depth goes with --pit PIT (the pit it is the depth of)"
        raise InputError(msg)
    for flag, value in (("--dem", dem_path), ("--schema", schema)):
        if value is not None and not Path(value).exists():
            msg = f"{flag} {value} does not exist"
            raise InputError(msg)
    section = as_line(line) if line is not None else None
    pit = read_pit(pit_path) if pit_path is not None else None
    dem = read_dem(dem_path) if dem_path is not None else None
    pipes3d = pipes_in_3d(read_pipes_from_options(Path(pipes_path), schema=schema, crs=crs), dem=dem)
    ex = None
    if pit is not None:
        ex = excavate(pipes3d, pit, depth=depth, dem=dem, road_width=road_width)
        click.echo(f"pit: {len(ex.conflicts)} pipes reached, {ex.verdict}")
    kwargs = {"title": title} if title else {}
    return underground_scene(pipes3d, dem=dem, points=read_point_layers(Path(pipes_path)), excavation=ex,
                             section_line=section, palette=palette, **kwargs)
