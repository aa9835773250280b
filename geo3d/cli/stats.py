"""``geo3d stats`` and ``geo3d tiles`` (docs/contracts.md): thin shells over geo3d.stats / tiles."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from .inputs import pipe_input_options, read_pipes_from_options
from .main import claim_outputs, cli, echo_warning, verbosity_options

__all__ = ["stats_command", "tiles_command"]

logger = logging.getLogger(__name__)


def _parse_bins(text: str) -> int | list[int]:
    try:
        parts = [int(p) for p in text.replace(" ", "").split(",") if p]
    except ValueError:
        msg = f"--bins takes years per period (10) or edges (1960,1980,2000), not {text!r}"
        raise InputError(msg) from None
    if not parts:
        msg = "--bins is empty"
        raise InputError(msg)
    return parts[0] if len(parts) == 1 else parts


def _to_crs(areas: Any, crs: Any) -> Any:
    """Areas in the pipes' CRS (both CRSs are stated by the files: a conversion, not a guess)."""
    if crs is not None and areas.crs != crs:
        logger.info("areas: %s -> %s", areas.crs.to_string(), crs.to_string())
        areas = areas.to_crs(crs)
    return areas


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Print each distinct data warning once, as one ``Warning: ...`` line on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen: set[str] = set()
            for w in caught:
                text = " ".join(str(w.message).split())
                if issubclass(w.category, UserWarning) and text not in seen:
                    seen.add(text)
                    echo_warning(text)


def _check_map_suffix(path: Path | None) -> None:
    if path is None or path.suffix.lower() in (".html", ".htm"):
        return
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix.lower().lstrip(".") not in formats:
        msg = (f"--map {path.name}: unsupported map format {path.suffix!r}; use .html for an "
               f"interactive map or one of {', '.join('.' + f for f in sorted(formats))}")
        raise InputError(msg)


def _aged_path(out: Path) -> Path:
    return out.with_name(f"{out.stem}_aged{out.suffix}")


@cli.command("stats")
@verbosity_options
@pipe_input_options
@click.option("--pipes", "pipes_path", required=True, type=click.Path(path_type=Path),
              help="Pipe layers: a GeoPackage, GeoParquet or folder (canonical schema or "
                   "Korean UIS).")
@click.option("--areas", "areas_path", required=True, type=click.Path(path_type=Path),
              help="Area polygons (e.g. 행정동 GeoJSON); reprojected to the pipes' CRS.")
@click.option("--area-id", required=True, help="Field of the areas identifying an area.")
@click.option("--year", type=int, default=None,
              help="Reference year of the ages (default: this year).")
@click.option("--bins", default="10", show_default=True,
              help="Years per install period, or comma-separated edges (1960,1980,2000).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="STATS.csv (or .xlsx); aged segments go to STATS_aged.csv beside it.")
@click.option("--aged", "aged_path", type=click.Path(path_type=Path), default=None,
              help="The aged list: .csv (default STATS_aged.csv) or .parquet (GeoParquet with "
                   "each piece's geometry as WKB).")
@click.option("--aged-geometry", is_flag=True,
              help="Also write each aged piece's geometry in the CSV (as WKT; slower).")
@click.option("--map", "map_path", type=click.Path(path_type=Path), default=None,
              help="Also write a choropleth of the aged share: MAP.png/.pdf/.svg or MAP.html.")
@click.option("--utility", default=None, help="Utility for the map (default: all pooled).")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
def stats_command(pipes_path: Path, areas_path: Path, area_id: str, year: int | None,
                  bins: str, out: Path, aged_path: Path | None, aged_geometry: bool,
                  map_path: Path | None, utility: str | None, overwrite: bool,
                  schema: Path | None = None, crs: str | None = None) -> None:
    """Aging and density statistics per area × utility × install period (tidy CSV)."""
    from ..stats import aging_report, read_areas, read_statistics_pipes, statistics_to_file

    if out.suffix.lower() not in (".csv", ".xlsx"):
        msg = f"--out must end in .csv or .xlsx, not {out.name!r}"
        raise InputError(msg)
    aged_out = aged_path if aged_path is not None else _aged_path(out)
    if aged_out.suffix.lower() not in (".csv", ".xlsx", ".parquet"):
        msg = f"--aged must end in .csv, .xlsx or .parquet, not {aged_out.name!r}"
        raise InputError(msg)
    _check_map_suffix(map_path)
    claim_outputs(out, aged_out, overwrite=overwrite)
    claim_outputs(map_path, overwrite=overwrite, option="--map")
    parsed_bins = _parse_bins(bins)
    areas = read_areas(areas_path, area_id=area_id)  # bad areas fail before the pipes are read
    if schema is not None or crs is not None:
        pipes = read_pipes_from_options(pipes_path, schema=schema, crs=crs)
    else:  # only the columns used, Arrow when it can; anything else goes through read_pipes
        pipes = read_statistics_pipes(pipes_path)
    areas = _to_crs(areas, pipes.crs)
    figure: Any = None
    with _warnings_as_lines():
        table, aged = aging_report(
            pipes, areas, area_id=area_id, reference_date=year, bins=parsed_bins,
            aged_geometry=aged_geometry or aged_out.suffix.lower() == ".parquet")
        if map_path is not None:
            if map_path.suffix.lower() in (".html", ".htm"):
                from ..viz import statistics_deck

                figure = statistics_deck(table, areas, area_id=area_id, utility=utility)
            else:
                from ..viz import plot_statistics

                figure = plot_statistics(table, areas, area_id=area_id, utility=utility)[0]
    written: list[Path] = []
    try:
        written.append(statistics_to_file(table, out, overwrite=overwrite))
        written.append(statistics_to_file(aged, aged_out, overwrite=overwrite))
        if map_path is not None:
            from ..viz import save_map

            written.append(save_map(figure, map_path, overwrite=overwrite))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    outside = table.attrs.get("outside_length_m", 0.0)
    click.echo(f"stats: {len(table):,} rows, {table['length_m'].sum() / 1000:,.1f} km of pipe "
               f"in {table.attrs.get('n_areas', 0):,} areas ({outside / 1000:,.1f} km outside), "
               f"{len(aged):,} aged pieces as of {table.attrs.get('reference_year')} -> "
               + ", ".join(str(p) for p in written))


@cli.command("tiles")
@verbosity_options
@pipe_input_options
@click.option("--pipes", "pipes_path", required=True, type=click.Path(path_type=Path),
              help="Pipe layers: a GeoPackage or folder (canonical schema or Korean UIS).")
@click.option("--stats", "stats_path", type=click.Path(path_type=Path), default=None,
              help="STATS.csv from `geo3d stats` for an `areas` layer (needs --areas).")
@click.option("--areas", "areas_path", type=click.Path(path_type=Path), default=None,
              help="Area polygons for the `areas` layer.")
@click.option("--area-id", default=None, help="Field of the areas matching STATS.csv area_id.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output TILES.pmtiles.")
@click.option("--minzoom", type=click.IntRange(0, 22), default=10, show_default=True)
@click.option("--maxzoom", type=click.IntRange(0, 22), default=16, show_default=True)
@click.option("--title", default=None, help="Title of the viewer page (default: the archive's).")
@click.option("--palette", type=click.Choice(["korean", "apwa"]), default="korean",
              show_default=True, help="Utility colours of the style and viewer.")
@click.option("--overwrite", is_flag=True, help="Replace an existing archive.")
def tiles_command(pipes_path: Path, stats_path: Path | None, areas_path: Path | None,
                  area_id: str | None, out: Path, minzoom: int, maxzoom: int,
                  title: str | None, palette: str, overwrite: bool, schema: Path | None = None,
                  crs: str | None = None) -> None:
    """Vector tiles (MVT in PMTiles, built by tippecanoe): a layer per utility, and area
    statistics; beside TILES.pmtiles a MapLibre style TILES.style.json and an offline viewer
    TILES.html (serve the folder, e.g. `python -m http.server`, or open the page and drop the
    archive on it)."""
    import pandas as pd

    from ..errors import FileFormatError, MissingFileError
    from ..stats import read_areas
    from ..tiles import write_tiles, write_viewer

    if out.suffix.lower() != ".pmtiles":
        msg = f"--out must end in .pmtiles, not {out.name!r}"
        raise InputError(msg)
    if stats_path and not areas_path:
        msg = "--stats needs --areas (the polygons its rows belong to) and --area-id"
        raise InputError(msg)
    if areas_path and not area_id:
        msg = "--areas needs --area-id (the field of the areas matching STATS.csv area_id)"
        raise InputError(msg)
    claim_outputs(out, out.with_name(f"{out.stem}.style.json"), out.with_suffix(".html"),
                  overwrite=overwrite)
    table = None
    if stats_path is not None:
        if not stats_path.exists():
            msg = f"statistics file {stats_path} does not exist"
            raise MissingFileError(msg)
        try:
            table = pd.read_csv(stats_path, dtype={"area_id": str, "utility": str,
                                                   "period": str})
        except (ValueError, UnicodeDecodeError) as exc:  # pandas' parser errors are ValueErrors
            msg = f"cannot read {stats_path} as a CSV from `geo3d stats`: {exc}"
            raise FileFormatError(msg) from exc
    areas = read_areas(areas_path, area_id=area_id) if areas_path and area_id else None
    pipes = read_pipes_from_options(pipes_path, schema=schema, crs=crs)
    if areas is not None:
        areas = _to_crs(areas, pipes.crs)
    path = write_tiles(pipes, out, stats=table, areas=areas, area_id=area_id, minzoom=minzoom,
                       maxzoom=maxzoom, overwrite=overwrite)
    try:
        style, page = write_viewer(path, title=title, palette=palette, overwrite=overwrite)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    click.echo(f"tiles: {len(pipes):,} pipes, zoom {minzoom}-{maxzoom} -> {path} "
               f"({path.stat().st_size / 1e6:,.1f} MB), {style.name}, {page.name}")
