"""``geo3d segment``: a market scan → levels, stores and safety facilities."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .main import claim_outputs, cli, verbosity_options

__all__ = ["STREAM_ABOVE", "segment_command"]

#: scans with more points are segmented tile by tile unless --tile-size says otherwise
STREAM_ABOVE = 30_000_000


@cli.command("segment")
@verbosity_options
@click.argument("scan", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output folder (points.laz, objects.gpkg, report.json).")
@click.option("--crs", default=None, help="CRS of the scan when the file has none (e.g. EPSG:5186).")
@click.option("--method", default="voxel_cc", show_default=True,
              type=click.Choice(["voxel_cc", "dbscan"]), help="Segmentation method.")
@click.option("--tile-size", type=float, default=None,
              help="Stream the scan tile by tile (plan tiles of this side, m) with bounded memory. "
                   f"Default: only for scans of more than {STREAM_ABOVE:,} points (40 m tiles).")
@click.option("--overwrite", is_flag=True,
              help="Write into an existing output folder: the files above are replaced, other files are kept.")
def segment_command(scan: Path, out: Path, crs: str | None, method: str, tile_size: float | None,
                    overwrite: bool) -> None:
    """Find levels, stores and safety facilities in SCAN (LAS/LAZ/COPC)."""
    from ..indoor.evidence import WarningLog
    from ..indoor.outputs import write_segmentation, write_tiled_segmentation
    from ..indoor.scan import segment_scan
    from ..io.las import open_las, read_las

    claim_outputs(out, overwrite=overwrite, folder=True)
    if tile_size is None:
        with open_las(scan, crs=crs) as reader:  # a bad file fails here, before any work
            if reader.count > STREAM_ABOVE:
                tile_size = 40.0
    if tile_size is not None:
        files, res = write_tiled_segmentation(scan, out, tile_size=tile_size, crs=crs, method=method,
                                              overwrite=overwrite)
        kinds = res.objects["kind"].value_counts()
        click.echo(f"{res.n_points:,} points streamed in {res.n_tiles} tiles of {res.tile_size:g} m: "
                   f"{len(res.levels)} levels; {int(kinds.get('store', 0))} stores, "
                   f"{int(len(res.objects) - kinds.get('store', 0))} facilities")
        for f in files:
            click.echo(f"  {f}")
        return
    t0 = time.perf_counter()
    with WarningLog() as record:  # report.json carries the reader's warnings too
        cloud = read_las(scan, crs=crs)
    read_s = time.perf_counter() - t0
    result = segment_scan(cloud, method=method)
    result.warnings[:0] = [m for m in record.messages if m not in result.warnings]
    files = write_segmentation(cloud, result, out, overwrite=overwrite, timings={"read": read_s})
    kinds = result.objects["kind"].value_counts()
    levels = ", ".join(f"{r.label} {r.slab_z:.2f} m" for r in result.levels.itertuples())
    n_file = cloud.source.point_count if cloud.source is not None else len(cloud)
    distinct = f" ({len(cloud):,} distinct)" if n_file != len(cloud) else ""
    click.echo(f"{n_file:,} points{distinct}: {len(result.levels)} levels ({levels}); "
               f"{int(kinds.get('store', 0))} stores, {int(len(result.objects) - kinds.get('store', 0))} facilities")
    for f in files:
        click.echo(f"  {f}")
