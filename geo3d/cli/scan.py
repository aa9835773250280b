"""``geo3d scan``: a market scan → levels, stores, facilities, 3D addresses, IMDF and a 3D map."""

from __future__ import annotations

from pathlib import Path

import click

from .main import claim_outputs, cli, verbosity_options

__all__ = ["scan_command"]


@cli.command("scan")
@verbosity_options
@click.argument("scan", type=click.Path(path_type=Path))
@click.option("--market", "market", required=True, type=click.Path(path_type=Path),
              help="MARKET.toml: place names, scheme, interval, optional aisles (docs/contracts.md).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output folder (points.laz, objects.gpkg, addresses.csv, imdf.zip, map.html, report.json).")
@click.option("--method", default="voxel_cc", show_default=True,
              type=click.Choice(["voxel_cc", "dbscan"]), help="Segmentation method.")
@click.option("--overwrite", is_flag=True,
              help="Write into an existing output folder: the files above are replaced, other files are kept.")
def scan_command(scan: Path, market: Path, out: Path, method: str, overwrite: bool) -> None:
    """Segment SCAN (LAS/LAZ) and give every store and safety facility its 3D address."""
    from ..address.market import read_market
    from ..address.pipeline import scan_to_addresses
    from ..errors import MissingFileError

    m = read_market(market)  # bad TOML or fields: exit 2 before any work
    claim_outputs(out, overwrite=overwrite, folder=True)
    if not scan.exists():
        msg = f"scan {scan} does not exist; pass a LAS/LAZ file"
        raise MissingFileError(msg)
    files, res = scan_to_addresses(scan, m, out, overwrite=overwrite, method=method)
    a = res.addresses
    if len(a) == 0:
        click.echo("no store and no facility found: the outputs are empty (report.json's warnings and "
                   "market_check say why)")
    click.echo(f"{int(a['address'].notna().sum())} of {len(a)} objects addressed on "
               f"{len(res.aisles)} {res.aisles_source} aisles; {len(res.validation.warnings)} warnings, "
               f"{len(res.validation.unaddressed)} not addressed")
    for f in files:
        click.echo(f"  {f}")
