"""The commands. Each parses its options and calls one library function."""

from __future__ import annotations

import click

from .. import datasets
from . import excavate, map3d, scan, section, segment, stats  # noqa: F401  (register their commands)
from . import paths as path_commands  # noqa: F401  (locate, where, route, evacuation)
from . import tiles3d as _tiles3d  # noqa: F401  (registers geo3d tiles3d)
from .main import cli, verbosity_options

__all__ = ["datasets_command"]


@cli.command("datasets")
@verbosity_options
@click.option("--paths", is_flag=True, help="Print full paths instead of descriptions.")
def datasets_command(paths: bool) -> None:
    """List the sample datasets (geo3d.datasets.get_path names)."""
    root = datasets.sample_data_dir()
    for name in datasets.available():
        ds = datasets.DATASETS[name]
        path = root / ds.path
        mark = "" if path.exists() else "  (missing: run `make sample-data`)"
        if paths:
            click.echo(f"{name}\t{path}{mark}")
        else:
            click.echo(f"{name:<18} {ds.path:<36} {ds.description}{mark}")
