"""``geo3d section``: a cross-section sheet (PDF/PNG/SVG) or a multi-page atlas, and its CSV.

A thin shell over :func:`geo3d.underground.cross_section`, :func:`geo3d.sheets.section_to_pdf`
and :func:`geo3d.sheets.section_atlas`. Beside the sheet it writes ``SHEET.csv`` with the numbers
drawn on it (docs/contracts.md); for an atlas the CSV starts with ``sheet,station_m`` (page and
station along the road) before the same columns. Every check runs before anything is written,
and both files are written atomically.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from .inputs import pipe_input_options
from .main import claim_outputs, cli, verbosity_options

__all__ = ["run_section", "section_command"]

logger = logging.getLogger(__name__)


def run_section(
    *,
    pipes: str | Path,
    out: str | Path,
    line: str | None = None,
    dem: str | Path | None = None,
    ground: float | None = None,
    groundwater: str | Path | None = None,
    gw_elev: str | None = None,
    gw_depth: str | None = None,
    gw_date: str | None = None,
    structures: str | Path | None = None,
    pit: str | Path | None = None,
    road: str | Path | None = None,
    road_name: str | None = None,
    atlas_step: float | None = None,
    length: float = 30.0,
    width: float = 2.0,
    road_width: float | None = None,
    palette: str = "korean",
    paper: str = "A3",
    title: str | None = None,
    project: str = "",
    location: str = "",
    author: str = "",
    checker: str = "",
    date: str | None = None,
    overwrite: bool = False,
    schema: str | Path | None = None,
    crs: str | None = None,
) -> tuple[Path, Path, int]:
    """What ``geo3d section`` does, callable from Python and batch scripts.

    Returns
    -------
    (sheet path, csv path, number of sections)
    """

    from ..io.atomic import atomic_path, check_can_write
    from ..io.raster import read_dem
    from ..io.vector import read_vector
    from ..sheets import section_atlas, section_to_pdf
    from ..underground import read_pipes
    from ..underground.pit import structures_from_file
    from ..underground.section import as_line, atlas_table, cross_section

    out = Path(out)
    csv = out.with_suffix(".csv")
    if out.suffix.lower() not in (".pdf", ".png", ".svg"):
        msg = f"--out must end in .pdf, .png or .svg, got {out.name!r}"
        raise InputError(msg)
    if (atlas_step is None) == (line is None):
        msg = "give either --line x1,y1,x2,y2[,…] for one section, or --atlas-step with --road"
        raise InputError(msg)
    if dem is not None and ground is not None:
        msg = "give either --dem (a ground raster) or --ground Z (flat ground), not both"
        raise InputError(msg)
    if atlas_step is not None and road is None:
        msg = "--atlas-step needs --road ROAD.geojson (the road centreline to cut along)"
        raise InputError(msg)
    check_can_write(out, overwrite=overwrite)
    check_can_write(csv, overwrite=overwrite)
    for flag, value in (("--pipes", pipes), ("--dem", dem), ("--groundwater", groundwater),
                        ("--pit", pit), ("--road", road), ("--structures", structures)):
        if value is not None and not Path(value).exists():
            msg = f"{flag} {value} does not exist"
            raise InputError(msg)
    section_line = as_line(line) if line is not None else None  # malformed --line fails here
    frame = read_pipes(pipes, schema=schema, source_crs=crs)
    ground_src: Any = read_dem(dem) if dem is not None else ground
    wells = (read_vector(groundwater, what="groundwater file")  # UTF-8/CP949, CSV, TopoJSON
             if groundwater is not None else None)
    points = structures_from_file(structures) if structures is not None else None
    common: dict[str, Any] = {
        "ground": ground_src, "groundwater": wells, "width": width, "pit": pit,
        "structures": points,
        "groundwater_fields": {"elevation": gw_elev, "depth": gw_depth, "date": gw_date}}
    sources = {"ground": Path(dem).name} if dem is not None else {}
    if section_line is not None:
        sec = cross_section(frame, section_line, road_width=road_width, name="A-A'", **common)
        sec.sources.update(sources)
        table = sec.table()
        with atomic_path(out, overwrite=overwrite) as tmp_out, \
                atomic_path(csv, overwrite=overwrite) as tmp_csv:
            section_to_pdf(sec, tmp_out, title=title, project=project, location=location,
                           author=author, checker=checker, date=date, paper=paper,
                           palette=palette, overwrite=True)
            table.to_csv(tmp_csv, index=False, encoding="utf-8")
        return out, csv, 1
    assert atlas_step is not None
    with contextlib.ExitStack() as stack:
        tmp_csv = stack.enter_context(atomic_path(csv, overwrite=overwrite))
        secs = section_atlas(frame, road, path=out, step=atlas_step, length=length,
                             road_name=road_name, road_width=road_width, project=project,
                             location=location, author=author, checker=checker, date=date,
                             paper=paper, palette=palette, overwrite=overwrite, **common)
        if secs:
            atlas_table(secs).to_csv(tmp_csv, index=False, encoding="utf-8")
        else:
            tmp_csv.write_text("", encoding="utf-8")
    return out, csv, len(secs)


@cli.command("section")
@verbosity_options
@pipe_input_options
@click.option("--pipes", "pipes", required=True, type=click.Path(dir_okay=True),
              help="Pipe layers: a GeoPackage or folder (canonical schema or Korean UIS layers).")
@click.option("--line", "line", default=None, metavar="x1,y1,x2,y2[,…]",
              help="The section line in the pipes' CRS (chainage from the first point).")
@click.option("--dem", "dem", default=None, type=click.Path(),
              help="Ground elevation GeoTIFF (optional: see --ground).")
@click.option("--ground", "ground", type=float, default=None,
              help="Flat ground at this elevation (m) instead of a DEM. With neither, levels "
                   "are drawn below a relative ground line (0) from the cover depths.")
@click.option("--groundwater", "groundwater", default=None, type=click.Path(),
              help="Boreholes/wells: points with a water-table elevation or depth and a date "
                   "(gw_elev_m, wt_elev_m, gw_depth_m, wt_depth_m, ground_z, survey_date ...).")
@click.option("--gw-elev", "gw_elev", default=None, metavar="FIELD",
              help="Field of --groundwater holding the water-table elevation.")
@click.option("--gw-depth", "gw_depth", default=None, metavar="FIELD",
              help="Field of --groundwater holding the depth to water below ground.")
@click.option("--gw-date", "gw_date", default=None, metavar="FIELD",
              help="Field of --groundwater holding the measurement date.")
@click.option("--structures", "structures", default=None, type=click.Path(),
              help="Point structures (manholes, valves...) drawn where they are near the line.")
@click.option("--pit", "pit", default=None, type=click.Path(),
              help="Excavation pit polygon(s) with depth_m, drawn in section.")
@click.option("--out", "out", required=True, type=click.Path(),
              help="SHEET.pdf (or .png/.svg); SHEET.csv is written beside it.")
@click.option("--atlas-step", "atlas_step", type=float, default=None,
              help="Cut every N m along --road and write a multi-page PDF atlas.")
@click.option("--road", "road", default=None, type=click.Path(),
              help="Road centreline (GeoJSON/GPKG) for --atlas-step.")
@click.option("--road-name", "road_name", default=None,
              help="Which road of a multi-road layer (its road_name).")
@click.option("--length", "length", type=float, default=30.0, show_default=True,
              help="Length of each atlas cut (m).")
@click.option("--width", "width", type=float, default=2.0, show_default=True,
              help="Corridor half-width for pipes running along the section (m).")
@click.option("--road-width", "road_width", type=float, default=None,
              help="Road width (m) for the minimum-cover rules.")
@click.option("--palette", type=click.Choice(["korean", "apwa"]), default="korean",
              show_default=True)
@click.option("--paper", type=click.Choice(["A4", "A3", "A2", "A1"]), default="A3",
              show_default=True)
@click.option("--title", default=None, help="Drawing title.")
@click.option("--project", default="", help="Project name for the title block.")
@click.option("--location", default="", help="Location for the title block.")
@click.option("--author", default="", help="Drawn by.")
@click.option("--checker", default="", help="Checked by.")
@click.option("--date", "date", default=None, help="Date on the sheet (default today).")
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
def section_command(**kwargs: Any) -> None:
    """Draw a cross-section sheet (횡단면도) along --line, or an atlas along --road."""
    claim_outputs(kwargs["out"], Path(kwargs["out"]).with_suffix(".csv"), overwrite=kwargs["overwrite"])
    out, csv, n = run_section(**kwargs)
    click.echo(f"wrote {out} ({n} section{'s' if n != 1 else ''}) and {csv}")
