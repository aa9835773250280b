"""``geo3d segment``: a market scan → levels, stores and safety facilities."""

from __future__ import annotations

from pathlib import Path

import click

from .main import cli, verbosity_options

__all__ = ["segment_command"]


@cli.command("segment")
@verbosity_options
@click.argument("scan", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output folder (points.laz, objects.gpkg, report.json).")
@click.option("--crs", default=None, help="CRS of the scan when the file has none (e.g. EPSG:5186).")
@click.option("--method", default="voxel_cc", show_default=True,
              type=click.Choice(["voxel_cc", "dbscan"]), help="Segmentation method.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output folder.")
def segment_command(scan: Path, out: Path, crs: str | None, method: str, overwrite: bool) -> None:
    """Find levels, stores and safety facilities in SCAN (LAS/LAZ/COPC)."""
    from ..indoor.outputs import write_segmentation
    from ..indoor.scan import segment_scan
    from ..io.atomic import check_can_write
    from ..io.las import read_las

    check_can_write(out, overwrite=overwrite)
    cloud = read_las(scan, crs=crs)
    result = segment_scan(cloud, method=method)
    files = write_segmentation(cloud, result, out, overwrite=overwrite)
    kinds = result.objects["kind"].value_counts()
    levels = ", ".join(f"{r.label} {r.slab_z:.2f} m" for r in result.levels.itertuples())
    click.echo(f"{len(cloud):,} points: {len(result.levels)} levels ({levels}); "
               f"{int(kinds.get('store', 0))} stores, {int(len(result.objects) - kinds.get('store', 0))} facilities")
    for f in files:
        click.echo(f"  {f}")
